//! Generated flows (proptest): shapes, sizes, queue depths, policies and
//! scripts, within what both hosts define the same way.
//!
//! Shapes: 1 to 2 sources of 0 to 6 elements, 0 to 3 filters or processors
//! and 1 to 2 sinks, in a fixed order; each source, filter and processor
//! has one outgoing edge to a later node (fan-in, chains, several sinks),
//! and nodes no source reaches are removed. Fan-out is left out (upstream
//! sends a node's output to its first edge only: a documented difference,
//! pinned by the corpus). Depths 1 to 3. Scripts: up to 3 steps per node on
//! the flow's sequence numbers, weighted to passing. `fatal` only under
//! `FailFlow` and `pause` only under `block-producer` (the other two are
//! documented differences, pinned by the corpus).

use proptest::prelude::*;

use crate::flow::{BackpressurePolicy, Edge, Flow, Node, OnError, Role, Step};

/// The most elements a generated flow has (2 sources of 6).
pub const MAX_ELEMENTS: u64 = 12;

fn step(sink: bool) -> impl Strategy<Value = Step> {
    // Fewer pauses than drops: a flow with a pause is compared on fewer
    // fields (`Field::compared`).
    let odd = if sink {
        (1, Step::Pause)
    } else {
        (3, Step::Drop)
    };
    prop_oneof![
        odd.0 => Just(odd.1),
        2 => Just(Step::Fail),
        1 => Just(Step::Fatal),
        1 => Just(Step::Pass),
    ]
}

fn script(sink: bool) -> impl Strategy<Value = Vec<(u64, Step)>> {
    prop::collection::vec((0..MAX_ELEMENTS, step(sink)), 0..=3)
}

/// A generated flow.
pub fn flow() -> impl Strategy<Value = Flow> {
    (1usize..=2, 0usize..=3, 1usize..=2)
        .prop_flat_map(|(sources, middle, sinks)| {
            let total = sources + middle + sinks;
            let nodes: Vec<BoxedStrategy<Node>> = (0..total)
                .map(|n| {
                    if n < sources {
                        (0u64..=6)
                            .prop_map(|count| Node {
                                role: Role::Source { count },
                                script: Default::default(),
                            })
                            .boxed()
                    } else if n < sources + middle {
                        (any::<bool>(), script(false))
                            .prop_map(|(filter, script)| Node {
                                role: if filter {
                                    Role::Filter
                                } else {
                                    Role::Processor
                                },
                                script: script.into_iter().collect(),
                            })
                            .boxed()
                    } else {
                        script(true)
                            .prop_map(|script| Node {
                                role: Role::Sink,
                                script: script.into_iter().collect(),
                            })
                            .boxed()
                    }
                })
                .collect();
            // Each non-sink's one successor, later in the order (a source
            // skips the other sources), and its depth.
            let edges: Vec<BoxedStrategy<Edge>> = (0..sources + middle)
                .map(|n| {
                    let first = (n + 1).max(sources);
                    (first..total, 1usize..=3)
                        .prop_map(move |(to, depth)| Edge { from: n, to, depth })
                        .boxed()
                })
                .collect();
            let on_error = prop_oneof![Just(OnError::FailFlow), Just(OnError::Skip)];
            let backpressure = prop_oneof![
                3 => Just(BackpressurePolicy::BlockProducer),
                1 => Just(BackpressurePolicy::DropOldest),
                1 => Just(BackpressurePolicy::DropNewest),
                1 => Just(BackpressurePolicy::Error),
            ];
            (nodes, edges, on_error, backpressure)
        })
        .prop_map(|(nodes, edges, on_error, backpressure)| {
            let mut flow = Flow {
                nodes,
                edges,
                on_error,
                backpressure,
            };
            for node in &mut flow.nodes {
                for step in node.script.values_mut() {
                    if *step == Step::Fatal && on_error != OnError::FailFlow {
                        *step = Step::Fail;
                    }
                    if *step == Step::Pause && backpressure != BackpressurePolicy::BlockProducer {
                        *step = Step::Pass;
                    }
                }
            }
            flow.pruned()
        })
}
