//! The flow description both runners play: nodes with their scripts, edges
//! with their queue depths, the flow's error and backpressure policies.

use std::collections::BTreeMap;
use std::fmt::Write as _;

pub use torvyn_testkit::BackpressurePolicy;
pub use torvyn_testkit::Step;

/// A node's role. Upstream's reactor schedules filters and processors alike
/// (`invoke_process`); routers and aggregators are left out (upstream's
/// driver has no flush, and maps a router's outputs to streams by index).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Produces `count` elements, then ends.
    Source {
        /// How many elements it produces.
        count: u64,
    },
    /// Passes or drops each element.
    Filter,
    /// Emits or drops each element.
    Processor,
    /// Receives each element and answers `ready` or `pause`.
    Sink,
}

/// One node: its role and its script, by flow sequence number (the
/// element's pull order, from 0, across all sources): what the node does
/// with that element. Elements not in the script pass ([`Step::Pass`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// The node's role.
    pub role: Role,
    /// What it does with the element of each listed sequence number.
    pub script: BTreeMap<u64, Step>,
}

impl Node {
    /// What the node does with element `sequence`.
    pub fn step(&self, sequence: u64) -> Step {
        self.script.get(&sequence).copied().unwrap_or(Step::Pass)
    }
}

/// An edge: a bounded queue from one node to another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    /// The producing node (an index into [`Flow::nodes`]).
    pub from: usize,
    /// The consuming node.
    pub to: usize,
    /// The queue's depth (at least 1).
    pub depth: usize,
}

/// What a failed call does, for every node of the flow (upstream's
/// `ErrorPolicy` is per flow).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnError {
    /// Stop the flow (upstream `FailFast`, the testkit's `FailFlow`).
    FailFlow,
    /// Count the element as failed and go on (upstream `SkipElement`).
    Skip,
}

/// A flow: nodes, edges and policies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    /// The nodes, named `n0`, `n1`, ... by their index.
    pub nodes: Vec<Node>,
    /// The edges, in order (upstream's stream ids are their indices).
    pub edges: Vec<Edge>,
    /// The error policy of every node.
    pub on_error: OnError,
    /// What a full queue does.
    pub backpressure: BackpressurePolicy,
}

impl Flow {
    /// An empty flow with these policies; add nodes and edges with the
    /// builder methods, which a printed case uses.
    pub fn new(on_error: OnError, backpressure: BackpressurePolicy) -> Self {
        Flow {
            nodes: Vec::new(),
            edges: Vec::new(),
            on_error,
            backpressure,
        }
    }

    fn push(mut self, role: Role, script: &[(u64, Step)]) -> Self {
        self.nodes.push(Node {
            role,
            script: script.iter().copied().collect(),
        });
        self
    }

    /// Add a source of `count` elements.
    pub fn source(self, count: u64) -> Self {
        self.push(Role::Source { count }, &[])
    }

    /// Add a filter with its script.
    pub fn filter(self, script: &[(u64, Step)]) -> Self {
        self.push(Role::Filter, script)
    }

    /// Add a processor with its script.
    pub fn processor(self, script: &[(u64, Step)]) -> Self {
        self.push(Role::Processor, script)
    }

    /// Add a sink with its script.
    pub fn sink(self, script: &[(u64, Step)]) -> Self {
        self.push(Role::Sink, script)
    }

    /// Add an edge from node `from` to node `to` with queue depth `depth`.
    pub fn edge(mut self, from: usize, to: usize, depth: usize) -> Self {
        self.edges.push(Edge { from, to, depth });
        self
    }

    /// The node's name in both runs.
    pub fn name(index: usize) -> String {
        format!("n{index}")
    }

    /// Whether any sink's script answers `pause`.
    pub fn has_pause(&self) -> bool {
        self.nodes
            .iter()
            .any(|node| node.role == Role::Sink && node.script.values().any(|s| *s == Step::Pause))
    }

    /// Whether any node has more than one outgoing edge.
    pub fn has_fan_out(&self) -> bool {
        (0..self.nodes.len()).any(|n| self.edges.iter().filter(|e| e.from == n).count() > 1)
    }

    /// Keep only the nodes reachable from a source (and their edges),
    /// renumbered in order: what a generated shape becomes a valid flow by.
    pub fn pruned(mut self) -> Self {
        let n = self.nodes.len();
        let mut reachable: Vec<bool> = self
            .nodes
            .iter()
            .map(|node| matches!(node.role, Role::Source { .. }))
            .collect();
        let mut changed = true;
        while changed {
            changed = false;
            for edge in &self.edges {
                if reachable[edge.from] && !reachable[edge.to] {
                    reachable[edge.to] = true;
                    changed = true;
                }
            }
        }
        let mut new_index = vec![usize::MAX; n];
        let mut nodes = Vec::new();
        for (i, node) in self.nodes.into_iter().enumerate() {
            if reachable[i] {
                new_index[i] = nodes.len();
                nodes.push(node);
            }
        }
        self.nodes = nodes;
        self.edges = self
            .edges
            .into_iter()
            .filter(|e| reachable[e.from] && reachable[e.to])
            .map(|e| Edge {
                from: new_index[e.from],
                to: new_index[e.to],
                depth: e.depth,
            })
            .collect();
        self
    }

    /// The flow as Rust code building it, for a printed case.
    pub fn to_rust(&self) -> String {
        let mut code = format!(
            "Flow::new(OnError::{:?}, BackpressurePolicy::{:?})",
            self.on_error, self.backpressure
        );
        for node in &self.nodes {
            let script: Vec<String> = node
                .script
                .iter()
                .map(|(seq, step)| format!("({seq}, Step::{step:?})"))
                .collect();
            let script = script.join(", ");
            match node.role {
                Role::Source { count } => write!(code, "\n        .source({count})"),
                Role::Filter => write!(code, "\n        .filter(&[{script}])"),
                Role::Processor => write!(code, "\n        .processor(&[{script}])"),
                Role::Sink => write!(code, "\n        .sink(&[{script}])"),
            }
            .expect("writing to a String");
        }
        for edge in &self.edges {
            write!(
                code,
                "\n        .edge({}, {}, {})",
                edge.from, edge.to, edge.depth
            )
            .expect("writing to a String");
        }
        code
    }
}
