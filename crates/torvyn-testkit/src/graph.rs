//! Graph helpers shared by the manifest check and the pipeline runner: cycle
//! detection in one depth-first pass (O(nodes + edges)), and short renderings
//! of long node lists and cycle paths for error messages.

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
