//! Every element is accounted for, also when a flow stops: per-node and
//! flow-level invariants, checked on hand-made flows and, with proptest, on
//! random DAGs of scripted host-side nodes with random drops, failures,
//! pauses, error policies, backpressure policies and a random fatal.

use proptest::prelude::*;
use torvyn_testkit::ErrorKind;
use torvyn_testkit::{
    BackpressurePolicy, ErrorPolicy, Event, FlowError, NodeSpec, Pipeline, RunResult, Scripted,
};

use crate::support::numbers;

#[test]
fn a_stopped_flow_discards_queued_elements_where_they_were_queued() {
    // The sink pauses after every element, so the queues fill: `out`'s (depth
    // 2) with 1 and 2, then `proc`'s with 3..9. Once nothing else can move
    // the sink is resumed and takes 1, and the processor fails on its 4th
    // call, on 3 (fatal): fail-flow stops the flow. 2, still queued for
    // `out`, and 4..9, still queued for `proc`, are discarded there, never
    // failed.
    let err = Pipeline::new("stops")
        .source("input", numbers(10))
        .node(
            "proc",
            NodeSpec::scripted(Scripted::processor(1).fatal_at(4)),
        )
        .node("out", NodeSpec::scripted(Scripted::sink(1).pauses(1.0)))
        .edge("input", "proc")
        .edge("proc", "out")
        .edge_depth(2)
        .run()
        .unwrap_err();
    assert!(
        matches!(err.error.kind(), ErrorKind::Process { error, .. } if error.is_fatal()),
        "{err}"
    );
    let report = &err.report;
    let proc = report.node("proc");
    assert_eq!(
        (proc.received, proc.emitted, proc.failed, proc.discarded),
        (4, 3, 1, 6)
    );
    let out = report.node("out");
    assert_eq!((out.received, out.failed, out.discarded), (2, 0, 1));
    assert!(out.failed <= out.received, "no node fails more than it got");
    assert_eq!(report.elements, 10);
    for sequence in [2, 4, 9] {
        assert!(matches!(
            &report.trace.of(sequence).last().unwrap().event,
            Event::Discarded { reason } if reason.starts_with("the flow stopped: node `proc`")
        ));
    }
    assert!(report.unaccounted().is_empty(), "{}", report.trace);
    report.check_accounting().unwrap();
    let json = report.summary_json();
    assert_eq!(json["nodes"]["out"]["discarded"], 1);
    assert_eq!(json["counts"]["discarded"], 7);
    assert_eq!(json["counts"]["entered"], 10);
}

#[test]
fn aggregators_absorb_their_inputs_and_their_aggregates_are_counted_apart() {
    let run = Pipeline::new("windows")
        .source("input", numbers(7))
        .node("window", NodeSpec::scripted(Scripted::aggregator(1, 3)))
        .collector("out")
        .edge("input", "window")
        .edge("window", "out")
        .run()
        .unwrap();
    let window = run.node("window");
    // 7 in, all absorbed; 2 aggregates at ingest (after 3 and 6), 1 at flush.
    assert_eq!(
        (window.received, window.absorbed, window.emitted),
        (7, 7, 3)
    );
    assert_eq!(run.elements, 7, "elements entering the flow");
    assert_eq!(run.aggregated, 3);
    assert_eq!(run.node("out").delivered, 3);
    assert_eq!(
        run.received_text("out"),
        ["aggregate of 3", "aggregate of 3", "aggregate of 1"]
    );
    let json = run.summary_json();
    assert_eq!(json["elements"], 7);
    assert_eq!(json["aggregated"], 3);
    assert_eq!(json["nodes"]["window"]["absorbed"], 7);
    run.check_accounting().unwrap();
}

#[test]
fn fan_out_copies_and_queue_drops_balance_the_flow() {
    // A node with two outgoing edges sends each element on both; one of the
    // queues drops its newest elements when full.
    let run = Pipeline::new("fan")
        .source("input", numbers(20))
        .node("pass", NodeSpec::scripted(Scripted::filter(3)))
        .node("slow", NodeSpec::scripted(Scripted::sink(3).pauses(0.5)))
        .collector("fast")
        .edge("input", "pass")
        .edge_depth(64)
        .edge("pass", "slow")
        .edge("pass", "fast")
        .queue_depth(2)
        .backpressure_policy(BackpressurePolicy::DropNewest)
        .run()
        .unwrap();
    assert_eq!(run.copies, 20, "every element copied once");
    let counts = run.counts();
    assert_eq!(counts.entered, 20);
    assert!(run.queue_drops > 0, "{counts:?}");
    assert_eq!(counts.delivered + counts.queue_dropped, 40, "{counts:?}");
    run.check_accounting().unwrap();
}

#[test]
fn failed_calls_without_an_element_are_counted_apart() {
    let run = Pipeline::new("complete")
        .source("input", numbers(3))
        .node(
            "sink",
            NodeSpec::scripted(Scripted::sink(1).fails_complete()).policy(ErrorPolicy::Skip),
        )
        .edge("input", "sink")
        .run()
        .unwrap();
    let sink = run.node("sink");
    assert_eq!(
        (
            sink.received,
            sink.delivered,
            sink.failed,
            sink.failed_calls
        ),
        (3, 3, 0, 1)
    );
    run.check_accounting().unwrap();
}

#[test]
fn check_accounting_names_a_node_whose_counts_do_not_add_up() {
    let mut run = Pipeline::new("ok")
        .source("input", numbers(2))
        .node("f", NodeSpec::scripted(Scripted::filter(1)))
        .collector("out")
        .edge("input", "f")
        .edge("f", "out")
        .run()
        .unwrap();
    run.check_accounting().unwrap();
    run.nodes[1].1.failed += 1;
    let message = run.check_accounting().unwrap_err();
    assert!(
        message.starts_with("node `f` does not balance (in = out + dropped + failed"),
        "{message}"
    );
}

/// A small deterministic generator for the shape of a random flow.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn rate(&mut self, max: f64) -> f64 {
        (self.below(1000) as f64 / 1000.0) * max
    }
    fn policy(&mut self) -> ErrorPolicy {
        match self.below(4) {
            0 => ErrorPolicy::FailFlow,
            1 => ErrorPolicy::Skip,
            2 => ErrorPolicy::DeadLetter,
            _ => ErrorPolicy::Retry(self.below(3) as u32),
        }
    }
}

/// A random DAG: `sources` host sources, `middle` scripted filters,
/// processors, routers and aggregators, `sinks` scripted sinks and
/// collectors; every node after the sources takes input from earlier ones,
/// and every node before the sinks has an outgoing edge. One node may be
/// given a fatal call.
fn random_flow(seed: u64, sources: usize, middle: usize, sinks: usize) -> Pipeline {
    let mut rng = Rng(seed);
    let mut pipeline = Pipeline::new("random")
        .queue_depth(1 + rng.below(4) as usize)
        .backpressure_policy(match rng.below(6) {
            0 => BackpressurePolicy::DropOldest,
            1 => BackpressurePolicy::DropNewest,
            2 => BackpressurePolicy::Error,
            _ => BackpressurePolicy::BlockProducer,
        })
        .trace_capacity(usize::MAX);
    let total = sources + middle + sinks;
    let fatal_node = rng.below(total as u64 * 2) as usize;
    let mut names = Vec::new();
    let mut routers = Vec::new();
    for i in 0..total {
        let name = format!("n{i}");
        let node_seed = rng.next();
        let fatal = (i == fatal_node).then(|| 1 + rng.below(8));
        let spec = if i < sources {
            NodeSpec::source(numbers(rng.below(25)))
        } else if i < sources + middle {
            let mut script = match rng.below(4) {
                0 => Scripted::filter(node_seed),
                1 => Scripted::processor(node_seed),
                2 => {
                    routers.push(i);
                    Scripted::router(node_seed)
                }
                _ => Scripted::aggregator(node_seed, 1 + rng.below(4)),
            }
            .drops(rng.rate(0.4))
            .fails(rng.rate(0.3));
            if let Some(nth) = fatal {
                script = script.fatal_at(nth);
            }
            if rng.below(8) == 0 {
                script = script.fails_complete();
            }
            NodeSpec::scripted(script).policy(rng.policy())
        } else if rng.below(4) == 0 {
            NodeSpec::collector()
        } else {
            let mut script = Scripted::sink(node_seed)
                .pauses(rng.rate(0.6))
                .fails(rng.rate(0.2));
            if let Some(nth) = fatal {
                script = script.fatal_at(nth);
            }
            NodeSpec::scripted(script).policy(rng.policy())
        };
        pipeline = pipeline.node(name.clone(), spec);
        names.push(name);
    }
    let mut has_output = vec![false; total];
    let mut edges: Vec<(usize, usize)> = Vec::new();
    for to in sources..total {
        // Inputs from earlier non-sink nodes: at least one.
        let candidates: Vec<usize> = (0..to.min(sources + middle)).collect();
        let first = candidates[rng.below(candidates.len() as u64) as usize];
        edges.push((first, to));
        for &from in &candidates {
            if from != first && rng.below(4) == 0 {
                edges.push((from, to));
            }
        }
    }
    for &(from, _) in &edges {
        has_output[from] = true;
    }
    for (from, has) in has_output.iter().enumerate().take(sources + middle) {
        if !has {
            let start = (from + 1).max(sources);
            let to = start + rng.below((total - start) as u64) as usize;
            edges.push((from, to));
        }
    }
    for (k, (from, to)) in edges.into_iter().enumerate() {
        pipeline = if routers.contains(&from) {
            let port = format!("p{}", k % 3);
            pipeline.edge_from_port(names[from].clone(), port, names[to].clone())
        } else {
            pipeline.edge(names[from].clone(), names[to].clone())
        };
    }
    pipeline
}

fn check(report: &RunResult) -> Result<(), TestCaseError> {
    report.check_accounting().map_err(TestCaseError::fail)?;
    prop_assert!(
        report.unaccounted().is_empty(),
        "unaccounted {:?}\n{}",
        report.unaccounted(),
        report.trace
    );
    for (name, node) in &report.nodes {
        prop_assert!(
            node.failed <= node.received,
            "node `{name}` failed more than it received: {node:?}"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn every_element_is_accounted_for_in_random_flows(
        seed in any::<u64>(),
        sources in 1usize..=2,
        middle in 0usize..=6,
        sinks in 1usize..=2,
    ) {
        match random_flow(seed, sources, middle, sinks).run() {
            Ok(run) => check(&run)?,
            Err(FlowError { error, report }) => {
                let message = error.to_string();
                prop_assert!(
                    !message.contains("bug in the testkit's scheduler"),
                    "{message}"
                );
                prop_assert!(
                    matches!(
                        error.kind(),
                        ErrorKind::Process { .. } | ErrorKind::Terminated { .. } | ErrorKind::Pipeline(_)
                    ),
                    "{message}"
                );
                check(&report)?;
            }
        }
    }
}
