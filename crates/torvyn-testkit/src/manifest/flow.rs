//! Validation of one flow: its nodes, its edges, and its graph (checked by
//! the one graph model, `crate::graph`, that the pipeline builder uses too).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use super::error::Problem;
use super::raw::{RawEndpoint, RawFlow};
use super::validate::{fuel, list, ok, on_error, queue_depth, segment};
use super::{ComponentDecl, ComponentRef, Edge, Endpoint, Flow, Node};
use crate::graph::{Fault, FlowGraph};
use crate::role::Role;

fn endpoint(key: &str, raw: Option<RawEndpoint>, port: &str) -> Result<Endpoint, Problem> {
    let example = format!("{{ node = \"<node>\", port = \"{port}\" }}");
    let raw = raw.ok_or_else(|| Problem::missing(key, "the edge", &example))?;
    let node = raw.node.ok_or_else(|| {
        Problem::missing(&format!("{key}.node"), &format!("`{key}`"), "\"<node>\"")
    })?;
    let port = raw.port.ok_or_else(|| {
        Problem::missing(
            &format!("{key}.port"),
            &format!("`{key}`"),
            &format!("{port:?}"),
        )
    })?;
    Ok(Endpoint { node, port })
}

/// The flow, with every problem of it added to `problems`. The graph is
/// checked only when every node and edge is valid, so a typo in a node is not
/// also reported as, say, a node without input.
pub(super) fn validate_flow(
    flow_name: &str,
    raw: RawFlow,
    components: &[ComponentDecl],
    base_dir: &Path,
    problems: &mut Vec<Problem>,
) -> Flow {
    let before = problems.len();
    let key = format!("flow.{}", segment(flow_name));
    let flow_depth = ok(
        queue_depth(
            format!("{key}.default_queue_depth"),
            raw.default_queue_depth,
        ),
        problems,
    )
    .flatten();
    let backpressure_depth = ok(
        queue_depth(
            format!("{key}.backpressure.default_queue_depth"),
            raw.backpressure.default_queue_depth,
        ),
        problems,
    )
    .flatten();
    let mut flow = Flow {
        name: flow_name.to_string(),
        description: raw.description,
        default_queue_depth: flow_depth.or(backpressure_depth),
        backpressure_policy: raw.backpressure.backpressure_policy,
        on_error: ok(on_error(format!("{key}.on_error"), raw.on_error), problems).flatten(),
        nodes: BTreeMap::new(),
        edges: Vec::new(),
    };
    if raw.nodes.is_empty() {
        problems.push(Problem::graph(
            key.clone(),
            format!(
                "the flow has no nodes; add [{key}.nodes.<name>] tables with component and interface"
            ),
        ));
        return flow;
    }

    let declared: HashMap<&str, &ComponentDecl> =
        components.iter().map(|c| (c.name.as_str(), c)).collect();
    // Nodes with a problem of their own: edges to them are not errors too.
    let mut broken = BTreeSet::new();
    for (name, node) in raw.nodes {
        let node_key = format!("{key}.nodes.{}", segment(&name));
        let table = format!("[{node_key}]");
        let count = problems.len();
        let interface = match node.interface {
            None => {
                problems.push(Problem::missing(
                    &format!("{node_key}.interface"),
                    &table,
                    "\"torvyn:streaming/processor\"",
                ));
                None
            }
            Some(text) => ok(
                Role::from_interface(&text).ok_or_else(|| {
                    Problem::invalid(
                        format!("{node_key}.interface"),
                        format!(
                            "{text:?} is not a Torvyn 0.1 interface; use one of {}",
                            Role::ALL.map(Role::interface).join(", ")
                        ),
                    )
                }),
                problems,
            ),
        };
        let component = match node.component {
            None => {
                problems.push(Problem::missing(
                    &format!("{node_key}.component"),
                    &table,
                    "\"file://my.wasm\"",
                ));
                None
            }
            Some(text) => ok(
                component_ref(&node_key, &text, &declared, components, base_dir),
                problems,
            ),
        };
        let max_memory = node
            .max_memory
            .as_ref()
            .and_then(|size| ok(size.bytes(&format!("{node_key}.max_memory")), problems));
        let fuel_budget = ok(
            fuel(&format!("{node_key}.fuel_budget"), node.fuel_budget),
            problems,
        )
        .flatten();
        let node_on_error = ok(
            on_error(format!("{node_key}.on_error"), node.on_error),
            problems,
        )
        .flatten();
        match (interface, component) {
            (Some(interface), Some(component)) if problems.len() == count => {
                flow.nodes.insert(
                    name.clone(),
                    Node {
                        name,
                        component,
                        interface,
                        config: node.config,
                        fuel_budget,
                        max_memory,
                        on_error: node_on_error,
                    },
                );
            }
            _ => {
                broken.insert(name);
            }
        }
    }

    let names = list(
        flow.nodes
            .keys()
            .chain(&broken)
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
    );
    let mut graph = FlowGraph::new(
        flow.nodes
            .iter()
            .map(|(name, node)| (name.as_str(), node.interface)),
    );
    for (index, raw_edge) in raw.edges.into_iter().enumerate() {
        let edge_key = format!("{key}.edges[{index}]");
        let from = ok(
            endpoint(&format!("{edge_key}.from"), raw_edge.from, "output"),
            problems,
        );
        let to = ok(
            endpoint(&format!("{edge_key}.to"), raw_edge.to, "input"),
            problems,
        );
        let depth = ok(
            queue_depth(format!("{edge_key}.queue_depth"), raw_edge.queue_depth),
            problems,
        )
        .flatten();
        let backpressure_depth = ok(
            queue_depth(
                format!("{edge_key}.backpressure.default_queue_depth"),
                raw_edge.backpressure.default_queue_depth,
            ),
            problems,
        )
        .flatten();
        let (Some(from), Some(to)) = (from, to) else {
            continue;
        };
        let queue_depth = depth.or(backpressure_depth);
        // A depth of 0 was reported above, with its key.
        if graph
            .edge(index, &from.node, &to.node, queue_depth.unwrap_or(1))
            .is_some()
        {
            flow.edges.push(Edge {
                from,
                to,
                queue_depth,
                backpressure_policy: raw_edge.backpressure.backpressure_policy,
            });
        }
    }
    // With a problem elsewhere in the flow, only the edges' own faults are
    // news: the rest may follow from it.
    let clean = problems.len() == before;
    for fault in graph.check() {
        if !clean && !fault.of_an_edge() {
            continue;
        }
        if let Some(problem) = graph_problem(&key, flow_name, &names, &graph, &broken, fault) {
            problems.push(problem);
        }
    }
    flow
}

/// A fault of a flow's graph as a problem naming its key; `None` for an edge
/// to a node that has a problem of its own (already reported).
fn graph_problem(
    key: &str,
    flow_name: &str,
    names: &str,
    graph: &FlowGraph<'_>,
    broken: &BTreeSet<String>,
    fault: Fault,
) -> Option<Problem> {
    let edge_key = |edge: usize| format!("{key}.edges[{edge}]");
    let node_key = |n: usize| format!("{key}.nodes.{}", segment(graph.name(n)));
    Some(match fault {
        Fault::NoNodes => Problem::graph(
            key,
            format!(
                "the flow has no nodes; add [{key}.nodes.<name>] tables with component and interface"
            ),
        ),
        Fault::DuplicateNode(n) => Problem::graph(
            node_key(n),
            "a second node of this name; node names must be unique",
        ),
        Fault::UnknownNode { name, .. } if broken.contains(&name) => return None,
        Fault::UnknownNode { edge, end, name } => Problem::graph(
            format!("{}.{}.node", edge_key(edge), end.key()),
            format!("no node named {name:?} in flow {flow_name:?} (nodes: {names})"),
        ),
        Fault::IntoSource { edge, to } => Problem::graph(
            format!("{}.to.node", edge_key(edge)),
            format!(
                "{:?} is a source, and a source takes no input; an edge can only lead \
                 into a processor, filter, router, aggregator or sink",
                graph.name(to)
            ),
        ),
        Fault::OutOfSink { edge, from } => Problem::graph(
            format!("{}.from.node", edge_key(edge)),
            format!(
                "{:?} is a sink, and a sink has no output; an edge can only come out \
                 of a source, processor, filter, router or aggregator",
                graph.name(from)
            ),
        ),
        Fault::ZeroDepth { edge } => {
            return queue_depth(format!("{}.queue_depth", edge_key(edge)), Some(0)).err();
        }
        Fault::NoSource => Problem::graph(
            format!("{key}.nodes"),
            format!(
                "the flow has no source (nodes: {names}); add a node with interface = \"{}\"",
                Role::Source.interface()
            ),
        ),
        Fault::NoInput(n) => Problem::graph(
            node_key(n),
            format!(
                "the {} has no incoming edge, so it would never get an element; add a \
                 [[{key}.edges]] entry with to = {{ node = {:?}, port = \"input\" }}",
                graph.role(n),
                graph.name(n)
            ),
        ),
        Fault::NoOutput(n) => Problem::graph(
            node_key(n),
            format!(
                "the {} has no outgoing edge, so its output would be lost; add a \
                 [[{key}.edges]] entry with from = {{ node = {:?}, port = \"output\" }} \
                 leading on to a sink",
                graph.role(n),
                graph.name(n)
            ),
        ),
        Fault::Cycle { edge, path } => Problem::graph(
            edge_key(edge),
            format!(
                "this edge closes the cycle {}; a flow must be acyclic, so remove one of \
                 the edges on it",
                crate::graph::path(&graph.names_of(&path))
            ),
        ),
    })
}

/// What a node's `component` names: a `file://` path or a declared crate.
fn component_ref(
    node_key: &str,
    text: &str,
    declared: &HashMap<&str, &ComponentDecl>,
    components: &[ComponentDecl],
    base_dir: &Path,
) -> Result<ComponentRef, Problem> {
    if let Some(file) = text.strip_prefix("file://") {
        if file.is_empty() {
            return Err(Problem::invalid(
                format!("{node_key}.component"),
                "\"file://\" names no file; write \"file://path/to/component.wasm\"",
            ));
        }
        Ok(ComponentRef::File(base_dir.join(file)))
    } else if let Some(decl) = declared.get(text) {
        Ok(ComponentRef::Crate {
            name: decl.name.clone(),
            path: base_dir.join(&decl.path),
            config: decl.config.clone(),
        })
    } else {
        Err(Problem::invalid(
            format!("{node_key}.component"),
            format!(
                "{text:?} is neither a \"file://...\" path nor a declared [[component]] name \
                 (declared: {})",
                list(components.iter().map(|c| c.name.as_str()))
            ),
        ))
    }
}
