//! The builder's graph check: a pipeline's nodes and edges checked by the
//! one graph model the manifest check uses too (`crate::graph`), each fault
//! worded by node and edge names.

use super::{EdgeSpec, Pipeline};
use crate::graph::{Fault, FlowGraph};

/// A pipeline whose graph follows every rule.
pub(super) struct Checked {
    /// The nodes (indices into `Pipeline::nodes`) in a topological order.
    pub(super) order: Vec<usize>,
    /// Each edge's (from, to) node indices, in `Pipeline::edges` order.
    pub(super) edges: Vec<(usize, usize)>,
}

/// The pipeline's graph checked: the first fault, as a message, if any.
pub(super) fn check(pipeline: &Pipeline) -> Result<Checked, String> {
    let mut graph = FlowGraph::new(
        pipeline
            .nodes
            .iter()
            .map(|(name, spec)| (name.as_str(), spec.role())),
    );
    let mut edges = Vec::with_capacity(pipeline.edges.len());
    for (id, edge) in pipeline.edges.iter().enumerate() {
        let depth = edge.depth.unwrap_or(pipeline.queue_depth);
        if let Some(ends) = graph.edge(id, &edge.from, &edge.to, depth) {
            edges.push(ends);
        }
    }
    if let Some(fault) = graph.check().into_iter().next() {
        return Err(fault_message(
            &pipeline.flow,
            &graph,
            &pipeline.edges,
            fault,
        ));
    }
    // No fault: every edge's nodes exist and there is no cycle.
    let order = graph.order().unwrap_or_default();
    Ok(Checked { order, edges })
}

/// A graph fault as the builder words it: by node and edge names.
fn fault_message(flow: &str, graph: &FlowGraph<'_>, edges: &[EdgeSpec], fault: Fault) -> String {
    let describe = |id: usize| format!("edge `{}` -> `{}`", edges[id].from, edges[id].to);
    match fault {
        Fault::NoNodes => format!("flow `{flow}` has no nodes"),
        Fault::DuplicateNode(n) => format!(
            "two nodes are named `{}`; node names must be unique",
            graph.name(n)
        ),
        Fault::UnknownNode { edge, end: _, name } => format!(
            "{}: there is no node `{name}` (nodes: {})",
            describe(edge),
            crate::graph::list(graph.names())
        ),
        Fault::IntoSource { edge, to } => format!(
            "{}: `{}` is a source, and sources take no input",
            describe(edge),
            graph.name(to)
        ),
        Fault::OutOfSink { edge, from } => format!(
            "{}: `{}` is a sink, and sinks have no output",
            describe(edge),
            graph.name(from)
        ),
        Fault::ZeroDepth { edge } => {
            format!("{}: a queue depth must be at least 1", describe(edge))
        }
        Fault::NoSource => format!("flow `{flow}` has no source node"),
        Fault::NoInput(n) => format!(
            "node `{}` ({}) has no incoming edge, so it would never get an element; \
             add an edge to it or remove it",
            graph.name(n),
            graph.role(n)
        ),
        Fault::NoOutput(n) => format!(
            "node `{}` ({}) has no outgoing edge, so its output would be lost; \
             add an edge from it to a sink",
            graph.name(n),
            graph.role(n)
        ),
        Fault::Cycle { path, .. } => format!(
            "flow `{flow}` has a cycle: {}; a flow must be a DAG, so remove an edge on it",
            crate::graph::path(&graph.names_of(&path))
        ),
    }
}
