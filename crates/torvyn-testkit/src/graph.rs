//! The one graph model of a flow, shared by the manifest check
//! ([`crate::manifest`]) and the pipeline runner: nodes with their roles,
//! edges between them, and every rule a flow's graph must follow, checked in
//! one place ([`FlowGraph::check`]) so the two can never disagree. Each caller
//! words the [`Fault`]s its own way (a manifest names keys, the builder names
//! nodes and edges). Also: cycle detection in one depth-first pass
//! (O(nodes + edges)), a topological order, and short renderings of long node
//! lists and cycle paths for error messages.
//!
//! The rules, in the order they are checked:
//! 1. a flow has nodes, and node names are unique;
//! 2. every edge names existing nodes, leads into no source, comes out of no
//!    sink, and has a queue depth of at least 1;
//! 3. (only when 1 and 2 hold) there is a source;
//! 4. every node but a source has an incoming edge, and every node but a sink
//!    an outgoing edge (its output would otherwise be lost);
//! 5. there is no cycle.
//!
//! Reachability follows: in an acyclic graph where every node but a source has
//! an incoming edge, every node is reached from a source; and where every node
//! but a sink has an outgoing edge, every node reaches a sink (so there is one).

use std::collections::{HashMap, VecDeque};

use crate::role::Role;

/// How many names a list or a cycle path shows at each end before eliding the middle.
const SHOWN: usize = 5;

/// A directed graph over nodes `0..n`, as outgoing edges in the order added:
/// `(edge id, target)`.
pub(crate) struct Graph {
    outgoing: Vec<Vec<(usize, usize)>>,
}

impl Graph {
    /// A graph of `nodes` nodes and no edges.
    pub(crate) fn new(nodes: usize) -> Self {
        Graph {
            outgoing: vec![Vec::new(); nodes],
        }
    }

    /// Add edge `id` from `from` to `to`.
    pub(crate) fn edge(&mut self, id: usize, from: usize, to: usize) {
        self.outgoing[from].push((id, to));
    }

    /// A cycle, if there is one: the id of the edge that closes it and the
    /// nodes along it, the first repeated at the end. The search is depth-first
    /// from each node of `starts` in turn (then from any node not reached),
    /// trying each node's edges in the order they were added, so the answer
    /// is the same every time. One pass: every node and edge is visited once.
    pub(crate) fn find_cycle(
        &self,
        starts: impl IntoIterator<Item = usize>,
    ) -> Option<(usize, Vec<usize>)> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            OnPath,
            Done,
        }
        let n = self.outgoing.len();
        let mut marks = vec![Mark::New; n];
        // Where each node on the current path sits in `path`.
        let mut position = vec![0usize; n];
        for start in starts.into_iter().chain(0..n) {
            if marks[start] != Mark::New {
                continue;
            }
            // The path from `start`: each node with the index of its next edge to try.
            let mut path: Vec<(usize, usize)> = vec![(start, 0)];
            marks[start] = Mark::OnPath;
            while let Some(&mut (node, ref mut next)) = path.last_mut() {
                let Some(&(id, target)) = self.outgoing[node].get(*next) else {
                    marks[node] = Mark::Done;
                    path.pop();
                    continue;
                };
                *next += 1;
                match marks[target] {
                    Mark::OnPath => {
                        let mut cycle: Vec<usize> =
                            path[position[target]..].iter().map(|&(n, _)| n).collect();
                        cycle.push(target);
                        return Some((id, cycle));
                    }
                    Mark::New => {
                        marks[target] = Mark::OnPath;
                        position[target] = path.len();
                        path.push((target, 0));
                    }
                    Mark::Done => {}
                }
            }
        }
        None
    }
}

/// Which end of an edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// The node the edge comes out of.
    From,
    /// The node the edge leads into.
    To,
}

impl End {
    /// The end's key in a manifest edge: `from` or `to`.
    pub(crate) fn key(self) -> &'static str {
        match self {
            End::From => "from",
            End::To => "to",
        }
    }
}

/// A broken rule of a flow's graph. Edges are named by the id their caller
/// gave them ([`FlowGraph::edge`]), nodes by their index in the order added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// The flow has no nodes.
    NoNodes,
    /// A second node of this name (the index of the second).
    DuplicateNode(usize),
    /// Edge `edge`'s `end` names no node.
    UnknownNode { edge: usize, end: End, name: String },
    /// Edge `edge` leads into source `to`.
    IntoSource { edge: usize, to: usize },
    /// Edge `edge` comes out of sink `from`.
    OutOfSink { edge: usize, from: usize },
    /// Edge `edge` has a queue depth of 0.
    ZeroDepth { edge: usize },
    /// No node is a source.
    NoSource,
    /// A node other than a source with no incoming edge.
    NoInput(usize),
    /// A node other than a sink with no outgoing edge.
    NoOutput(usize),
    /// A cycle: the edge closing it and the nodes along it, the first
    /// repeated at the end.
    Cycle { edge: usize, path: Vec<usize> },
}

impl Fault {
    /// Whether the fault is one of a single edge (rule 2), found whatever the
    /// rest of the flow is like.
    pub(crate) fn of_an_edge(&self) -> bool {
        matches!(
            self,
            Fault::UnknownNode { .. }
                | Fault::IntoSource { .. }
                | Fault::OutOfSink { .. }
                | Fault::ZeroDepth { .. }
        )
    }
}

/// A flow's graph: named nodes with roles, and edges between them.
pub(crate) struct FlowGraph<'a> {
    names: Vec<&'a str>,
    roles: Vec<Role>,
    index: HashMap<&'a str, usize>,
    duplicates: Vec<usize>,
    /// Resolved edges: (caller's id, from, to).
    edges: Vec<(usize, usize, usize)>,
    /// Faults found while adding edges, in the order added.
    edge_faults: Vec<Fault>,
}

impl<'a> FlowGraph<'a> {
    /// The graph of these nodes, in order, and no edges yet.
    pub(crate) fn new(nodes: impl IntoIterator<Item = (&'a str, Role)>) -> Self {
        let mut graph = FlowGraph {
            names: Vec::new(),
            roles: Vec::new(),
            index: HashMap::new(),
            duplicates: Vec::new(),
            edges: Vec::new(),
            edge_faults: Vec::new(),
        };
        for (n, (name, role)) in nodes.into_iter().enumerate() {
            // The first node of a name keeps it; a second is a fault.
            match graph.index.entry(name) {
                std::collections::hash_map::Entry::Occupied(_) => graph.duplicates.push(n),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(n);
                }
            }
            graph.names.push(name);
            graph.roles.push(role);
        }
        graph
    }

    /// The index of node `name`, if there is one.
    pub(crate) fn node(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// The nodes' names, in the order added.
    pub(crate) fn names(&self) -> &[&'a str] {
        &self.names
    }

    /// Node `n`'s name.
    pub(crate) fn name(&self, n: usize) -> &'a str {
        self.names[n]
    }

    /// Node `n`'s role.
    pub(crate) fn role(&self, n: usize) -> Role {
        self.roles[n]
    }

    /// Add edge `id` from node `from` to node `to` with queue `depth`:
    /// `(from, to)` as node indices when both exist. Every fault of the edge
    /// itself is kept for [`check`](Self::check).
    pub(crate) fn edge(
        &mut self,
        id: usize,
        from: &str,
        to: &str,
        depth: usize,
    ) -> Option<(usize, usize)> {
        let (f, t) = (self.node(from), self.node(to));
        let (Some(f), Some(t)) = (f, t) else {
            for (end, name, found) in [(End::From, from, f), (End::To, to, t)] {
                if found.is_none() {
                    self.edge_faults.push(Fault::UnknownNode {
                        edge: id,
                        end,
                        name: name.to_string(),
                    });
                }
            }
            return None;
        };
        if self.roles[t] == Role::Source {
            self.edge_faults.push(Fault::IntoSource { edge: id, to: t });
        }
        if self.roles[f] == Role::Sink {
            self.edge_faults
                .push(Fault::OutOfSink { edge: id, from: f });
        }
        if depth == 0 {
            self.edge_faults.push(Fault::ZeroDepth { edge: id });
        }
        self.edges.push((id, f, t));
        Some((f, t))
    }

    /// Every broken rule (see the module's list), in rule order; empty for a
    /// good flow. Rules 3 to 5 are checked only when 1 and 2 hold, and 4 and
    /// 5 only when there is a source, so one mistake is not reported again
    /// as its consequences.
    pub(crate) fn check(&self) -> Vec<Fault> {
        if self.names.is_empty() {
            return vec![Fault::NoNodes];
        }
        let mut faults: Vec<Fault> = self
            .duplicates
            .iter()
            .map(|&n| Fault::DuplicateNode(n))
            .collect();
        faults.extend(self.edge_faults.iter().cloned());
        if !faults.is_empty() {
            return faults;
        }
        if !self.roles.contains(&Role::Source) {
            return vec![Fault::NoSource];
        }
        let n = self.names.len();
        let (mut inputs, mut outputs) = (vec![0usize; n], vec![0usize; n]);
        for &(_, from, to) in &self.edges {
            outputs[from] += 1;
            inputs[to] += 1;
        }
        for node in 0..n {
            if self.roles[node] != Role::Source && inputs[node] == 0 {
                faults.push(Fault::NoInput(node));
            }
            if self.roles[node] != Role::Sink && outputs[node] == 0 {
                faults.push(Fault::NoOutput(node));
            }
        }
        if let Some((edge, path)) = self.find_cycle() {
            faults.push(Fault::Cycle { edge, path });
        }
        faults
    }

    /// A cycle, if any: the id of the edge that closes it (the first found by
    /// a depth-first search from the sources, in node and edge order, so a
    /// cycle is reported in the direction elements flow) and the nodes along
    /// it, the first repeated at the end.
    fn find_cycle(&self) -> Option<(usize, Vec<usize>)> {
        let mut graph = Graph::new(self.names.len());
        for &(id, from, to) in &self.edges {
            graph.edge(id, from, to);
        }
        let sources = (0..self.names.len()).filter(|&n| self.roles[n] == Role::Source);
        graph.find_cycle(sources)
    }

    /// The nodes in a topological order (Kahn's algorithm: the nodes without
    /// input first, in the order added), or `None` when there is a cycle.
    pub(crate) fn order(&self) -> Option<Vec<usize>> {
        let n = self.names.len();
        let mut outgoing: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut indegree = vec![0usize; n];
        for &(_, from, to) in &self.edges {
            outgoing[from].push(to);
            indegree[to] += 1;
        }
        let mut ready: VecDeque<usize> = (0..n).filter(|&n| indegree[n] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(node) = ready.pop_front() {
            order.push(node);
            for &to in &outgoing[node] {
                indegree[to] -= 1;
                if indegree[to] == 0 {
                    ready.push_back(to);
                }
            }
        }
        (order.len() == n).then_some(order)
    }

    /// The names along a cycle path, for [`path`].
    pub(crate) fn names_of(&self, nodes: &[usize]) -> Vec<&'a str> {
        nodes.iter().map(|&n| self.names[n]).collect()
    }
}

/// `a -> b -> c -> a`, or for a long path its first and last few nodes with
/// the number left out between them.
pub(crate) fn path(names: &[&str]) -> String {
    elide(names, " -> ", |left| format!("({left} more nodes)"))
}

/// `a, b, c`, or for a long list its first and last few names with the
/// number left out; `none` when empty.
pub(crate) fn list(names: &[&str]) -> String {
    if names.is_empty() {
        return "none".to_string();
    }
    elide(names, ", ", |left| format!("... {left} more ..."))
}

fn elide(names: &[&str], separator: &str, gap: impl Fn(usize) -> String) -> String {
    if names.len() <= 2 * SHOWN + 1 {
        return names.join(separator);
    }
    let left = names.len() - 2 * SHOWN;
    let mut parts: Vec<String> = names[..SHOWN].iter().map(|n| n.to_string()).collect();
    parts.push(gap(left));
    parts.extend(names[names.len() - SHOWN..].iter().map(|n| n.to_string()));
    parts.join(separator)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cycle_and_the_edge_closing_it() {
        // 0 -> 1 -> 2 -> 3 -> 1, and 0 -> 3
        let mut graph = Graph::new(4);
        for (id, (from, to)) in [(0, 1), (1, 2), (2, 3), (3, 1), (0, 3)]
            .into_iter()
            .enumerate()
        {
            graph.edge(id, from, to);
        }
        assert_eq!(graph.find_cycle([0]), Some((3, vec![1, 2, 3, 1])));
        let mut dag = Graph::new(3);
        dag.edge(0, 0, 1);
        dag.edge(1, 0, 2);
        dag.edge(2, 1, 2);
        assert_eq!(dag.find_cycle([0]), None);
    }

    #[test]
    fn a_long_chain_is_searched_without_recursion() {
        let n = 200_000;
        let mut graph = Graph::new(n);
        for i in 0..n - 1 {
            graph.edge(i, i, i + 1);
        }
        assert_eq!(graph.find_cycle([0]), None);
        graph.edge(n - 1, n - 1, 0);
        let (edge, cycle) = graph.find_cycle([0]).expect("a cycle");
        assert_eq!(edge, n - 1);
        assert_eq!(cycle.len(), n + 1);
    }

    #[test]
    fn long_paths_and_lists_are_elided() {
        let names: Vec<String> = (0..20).map(|i| format!("n{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(
            path(&names),
            "n0 -> n1 -> n2 -> n3 -> n4 -> (10 more nodes) -> n15 -> n16 -> n17 -> n18 -> n19"
        );
        assert_eq!(
            list(&names),
            "n0, n1, n2, n3, n4, ... 10 more ..., n15, n16, n17, n18, n19"
        );
        assert_eq!(path(&["a", "b", "a"]), "a -> b -> a");
        assert_eq!(list(&[]), "none");
    }
}
