//! The flow as a graph: nodes with role and component, edges with port and
//! queue depth, and after a run the counts of each node and the peak of each
//! queue; written as Mermaid (GitHub and most docs render it as is) or DOT
//! (Graphviz, and the HTML report's layout).

use std::fmt::Write as _;

use crate::manifest::{ComponentRef, Manifest};
use crate::pipeline::{DEFAULT_QUEUE_DEPTH, NodeReport, Pipeline, RunResult};
use crate::role::Role;

/// A flow's graph, ready to be written as Mermaid ([`to_mermaid`](Self::to_mermaid))
/// or DOT ([`to_dot`](Self::to_dot)).
///
/// Made from a manifest ([`Manifest::diagram`]), a pipeline
/// ([`Pipeline::diagram`]) or a run alone ([`FlowDiagram::from_run`]);
/// [`with_run`](Self::with_run) adds a run's counts.
///
/// ```
/// use torvyn_testkit::TestElement;
/// use torvyn_testkit::Pipeline;
///
/// let pipeline = Pipeline::new("demo")
///     .source("in", [TestElement::text("a")])
///     .collector("out")
///     .edge("in", "out");
/// let run = pipeline.clone().run()?;
/// let diagram = pipeline.diagram().with_run(&run);
/// assert!(diagram.to_mermaid().contains(r#"n0 -->|"output · peak 1 of 64"| n1"#));
/// assert!(diagram.to_dot().contains(r#""in" -> "out""#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowDiagram {
    /// The flow's name.
    pub flow: String,
    /// The nodes: a pipeline's in the order they were added, a manifest's in
    /// flow order (sources first, ties by name).
    pub nodes: Vec<DiagramNode>,
    /// The edges, in the order of the flow's definition.
    pub edges: Vec<DiagramEdge>,
}

/// A node of a [`FlowDiagram`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiagramNode {
    /// The node's name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// What runs it: the component's name, or a host-side node's kind
    /// (`host source`, `collector`, `scripted`).
    pub component: String,
    /// After a run: its counts, `(name, value)`: `in`, `out` and `dropped`
    /// always (a source's `out`, a sink's `in`), the others when not 0;
    /// empty before a run.
    pub counts: Vec<(String, u64)>,
}

/// An edge of a [`FlowDiagram`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiagramEdge {
    /// The node it leaves.
    pub from: String,
    /// The port of `from` it leaves by (`output`, or a router's port).
    pub port: String,
    /// The node it enters.
    pub to: String,
    /// Its queue's depth.
    pub depth: usize,
    /// After a run: the most elements its queue held at once.
    pub peak: Option<usize>,
}

impl FlowDiagram {
    /// The graph of a finished (or stopped) run alone: roles and queues from
    /// the run, no component names (the nodes say `?`), with the run's counts.
    pub fn from_run(run: &RunResult) -> FlowDiagram {
        let diagram = FlowDiagram {
            flow: run.flow.clone(),
            nodes: run
                .nodes
                .iter()
                .map(|(name, report)| DiagramNode {
                    name: name.clone(),
                    role: report.role.unwrap_or(Role::Processor),
                    component: "?".to_string(),
                    counts: Vec::new(),
                })
                .collect(),
            edges: run
                .edges
                .iter()
                .map(|edge| DiagramEdge {
                    from: edge.from.clone(),
                    port: edge.port.clone(),
                    to: edge.to.clone(),
                    depth: edge.depth,
                    peak: None,
                })
                .collect(),
        };
        diagram.with_run(run)
    }

    /// The same graph annotated with a run's counts (per node) and peak
    /// queue lengths (per edge). Nodes and edges the run does not know keep
    /// no counts.
    pub fn with_run(mut self, run: &RunResult) -> FlowDiagram {
        for node in &mut self.nodes {
            if let Some((_, report)) = run.nodes.iter().find(|(name, _)| *name == node.name) {
                node.counts = counts(report);
            }
        }
        for edge in &mut self.edges {
            edge.peak = run
                .edges
                .iter()
                .find(|e| e.from == edge.from && e.to == edge.to && e.port == edge.port)
                .map(|e| e.peak);
        }
        self
    }

    /// The node's label lines: name, role and component, counts.
    fn node_lines(node: &DiagramNode) -> Vec<String> {
        let mut lines = vec![
            node.name.clone(),
            format!("{} · {}", node.role, node.component),
        ];
        if !node.counts.is_empty() {
            lines.push(
                node.counts
                    .iter()
                    .map(|(name, value)| format!("{name} {value}"))
                    .collect::<Vec<_>>()
                    .join(" · "),
            );
        }
        lines
    }

    /// The edge's label: port and depth, or port and peak of depth.
    fn edge_label(edge: &DiagramEdge) -> String {
        match edge.peak {
            Some(peak) => format!("{} · peak {peak} of {}", edge.port, edge.depth),
            None => format!("{} · depth {}", edge.port, edge.depth),
        }
    }

    /// The graph as a Mermaid flowchart, left to right: one box per node
    /// (name; role and component; counts after a run), sources and sinks
    /// rounded, one arrow per edge labelled with its port and queue depth (or
    /// peak of depth after a run). Node ids are `n0`, `n1`, ... in node order;
    /// labels are quoted, with `"` written `#quot;`.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        for (index, node) in self.nodes.iter().enumerate() {
            let label = Self::node_lines(node)
                .iter()
                .map(|line| mermaid_text(line))
                .collect::<Vec<_>>()
                .join("<br/>");
            let (open, close) = match node.role {
                Role::Source | Role::Sink => ("([", "])"),
                Role::Router => ("{{", "}}"),
                _ => ("[", "]"),
            };
            let _ = writeln!(out, "    n{index}{open}\"{label}\"{close}");
        }
        for edge in &self.edges {
            let (Some(from), Some(to)) = (self.index(&edge.from), self.index(&edge.to)) else {
                continue;
            };
            let _ = writeln!(
                out,
                "    n{from} -->|\"{}\"| n{to}",
                mermaid_text(&Self::edge_label(edge))
            );
        }
        out
    }

    /// The graph in Graphviz's DOT language, left to right: one box per
    /// node, named by the node's name, labelled as in
    /// [`to_mermaid`](Self::to_mermaid); strings are quoted and escaped.
    pub fn to_dot(&self) -> String {
        let mut out = format!("digraph {} {{\n", dot_string(&self.flow));
        out.push_str("    rankdir=LR;\n");
        out.push_str("    node [shape=box, fontname=\"sans-serif\"];\n");
        out.push_str("    edge [fontname=\"sans-serif\"];\n");
        for node in &self.nodes {
            let label = Self::node_lines(node).join("\n");
            let style = match node.role {
                Role::Source | Role::Sink => ", style=rounded",
                _ => "",
            };
            let _ = writeln!(
                out,
                "    {} [label={}{style}];",
                dot_string(&node.name),
                dot_string(&label)
            );
        }
        for edge in &self.edges {
            let _ = writeln!(
                out,
                "    {} -> {} [label={}];",
                dot_string(&edge.from),
                dot_string(&edge.to),
                dot_string(&Self::edge_label(edge))
            );
        }
        out.push_str("}\n");
        out
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|node| node.name == name)
    }
}

/// A node's counts for the diagram: `in`, `out`, `dropped` (a source's
/// `out`, a sink's `in`), then the others that are not 0.
fn counts(report: &NodeReport) -> Vec<(String, u64)> {
    let mut counts = match report.role {
        Some(Role::Source) => vec![("out", report.emitted)],
        Some(Role::Sink) => vec![("in", report.received)],
        _ => vec![
            ("in", report.received),
            ("out", report.emitted),
            ("dropped", report.dropped),
        ],
    };
    for (name, value) in [
        ("absorbed", report.absorbed),
        ("delivered", report.delivered),
        ("failed", report.failed),
        ("dead-lettered", report.dead_lettered),
        ("discarded", report.discarded),
        ("retries", report.retries),
        ("pauses", report.pauses),
    ] {
        if value > 0 {
            counts.push((name, value));
        }
    }
    counts
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect()
}

/// Text inside a quoted Mermaid label: `"` and the characters Mermaid reads
/// as markup become entity codes.
fn mermaid_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A DOT quoted string: `"` and `\` escaped, a newline written `\n`.
fn dot_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Manifest {
    /// The graph of flow `flow` (the only flow when `None`), as the manifest
    /// defines it: each node's role and component, each edge's port and
    /// queue depth (its own, else the flow's, else `[runtime.backpressure]`'s,
    /// else [`DEFAULT_QUEUE_DEPTH`]). `None` when there is no such flow.
    pub fn diagram(&self, flow: Option<&str>) -> Option<FlowDiagram> {
        let flow = self.flow(flow).ok()?;
        let default_depth = flow
            .default_queue_depth
            .or(self.runtime.backpressure.default_queue_depth)
            .unwrap_or(DEFAULT_QUEUE_DEPTH);
        Some(FlowDiagram {
            flow: flow.name.clone(),
            nodes: flow_order(flow)
                .into_iter()
                .map(|node| DiagramNode {
                    name: node.name.clone(),
                    role: node.interface,
                    component: match &node.component {
                        ComponentRef::Crate { name, .. } => name.clone(),
                        ComponentRef::File(path) => path.file_name().map_or_else(
                            || path.display().to_string(),
                            |name| name.to_string_lossy().into_owned(),
                        ),
                    },
                    counts: Vec::new(),
                })
                .collect(),
            edges: flow
                .edges
                .iter()
                .map(|edge| DiagramEdge {
                    from: edge.from.node.clone(),
                    port: edge.from.port.clone(),
                    to: edge.to.node.clone(),
                    depth: edge.queue_depth.unwrap_or(default_depth),
                    peak: None,
                })
                .collect(),
        })
    }
}

/// A flow's nodes in flow order: sources first, each node after the nodes
/// feeding it, ties by name (the manifest keeps nodes by name). Nodes on a
/// cycle (which the manifest check rejects) come last, by name.
fn flow_order(flow: &crate::manifest::Flow) -> Vec<&crate::manifest::Node> {
    let mut feeding: std::collections::BTreeMap<&str, usize> =
        flow.nodes.keys().map(|name| (name.as_str(), 0)).collect();
    for edge in &flow.edges {
        if let Some(count) = feeding.get_mut(edge.to.node.as_str()) {
            *count += 1;
        }
    }
    let mut order = Vec::with_capacity(flow.nodes.len());
    let mut placed = std::collections::BTreeSet::new();
    while order.len() < flow.nodes.len() {
        let next = feeding
            .iter()
            .find(|(name, count)| **count == 0 && !placed.contains(*name))
            .map(|(name, _)| *name)
            .or_else(|| {
                flow.nodes
                    .keys()
                    .map(String::as_str)
                    .find(|n| !placed.contains(n))
            });
        let Some(name) = next else {
            break;
        };
        placed.insert(name);
        for edge in flow.edges.iter().filter(|edge| edge.from.node == name) {
            if let Some(count) = feeding.get_mut(edge.to.node.as_str()) {
                *count = count.saturating_sub(1);
            }
        }
        if let Some(node) = flow.nodes.get(name) {
            order.push(node);
        }
    }
    order
}

impl Pipeline {
    /// The pipeline's graph: each node's role and component (a host-side
    /// node says what it is), each edge's port and queue depth. Add a run's
    /// counts with [`FlowDiagram::with_run`].
    pub fn diagram(&self) -> FlowDiagram {
        use crate::pipeline::NodeKind;
        FlowDiagram {
            flow: self.flow.clone(),
            nodes: self
                .nodes
                .iter()
                .map(|(name, spec)| DiagramNode {
                    name: name.clone(),
                    role: spec.role(),
                    component: match &spec.kind {
                        NodeKind::Component { component, .. } => component.name().to_string(),
                        NodeKind::Source(..) => "host source".to_string(),
                        NodeKind::Collector => "collector".to_string(),
                        NodeKind::Scripted(_) => "scripted".to_string(),
                    },
                    counts: Vec::new(),
                })
                .collect(),
            edges: self
                .edges
                .iter()
                .map(|edge| DiagramEdge {
                    from: edge.from.clone(),
                    port: edge.port.clone(),
                    to: edge.to.clone(),
                    depth: edge.depth.unwrap_or(self.queue_depth),
                    peak: None,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        assert_eq!(mermaid_text(r#"a"b<c>#"#), "a#quot;b#lt;c#gt;#35;");
        assert_eq!(dot_string("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
    }
}
