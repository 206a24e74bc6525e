//! The testkit's pipeline runner against upstream's `FlowDriver`: generated
//! flows, a corpus of cases, and the documented differences pinned.
//!
//! `DIFFERENTIAL_CASES` (default 1000) sets how many flows the property test
//! generates, `DIFFERENTIAL_SEED` (default 26) its seed.

use std::sync::atomic::{AtomicU64, Ordering};

use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use torvyn_differential::*;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

#[test]
fn generated_flows_agree() {
    let cases = env("DIFFERENTIAL_CASES", 1000);
    let seed = env("DIFFERENTIAL_SEED", 26);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases: cases as u32,
        failure_persistence: None,
        max_shrink_iters: 2048,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
    // How many flows were compared on every field, on some, on none.
    let classes = [(); 3].map(|()| AtomicU64::new(0));
    let outcome = runner.run(&generate::flow(), |flow| {
        let class = match Field::compared(&flow).len() {
            6 => 0,
            0 => 2,
            _ => 1,
        };
        classes[class].fetch_add(1, Ordering::Relaxed);
        match disagreement(&flow) {
            Some(found) => Err(TestCaseError::fail(found.to_string())),
            None => Ok(()),
        }
    });
    match outcome {
        Ok(()) => {
            let [all, some, none] = classes.map(AtomicU64::into_inner);
            eprintln!(
                "seed {seed}: {cases} flows agree: {all} on every field, {some} (a pause in \
                 a chain) on the ending, deliveries and counts, {none} (a pause with \
                 several sources or under fail-flow) not compared"
            );
        }
        Err(TestError::Fail(_, flow)) => {
            let found = disagreement(&flow).expect("the shrunk flow still disagrees");
            panic!(
                "seed {seed}: the smallest disagreeing flow, as a test that fails while \
                 it stands:\n\n{}",
                case(&flow, &found)
            );
        }
        Err(error) => panic!("seed {seed}: {error}"),
    }
}

/// A disagreement is printed as a test: the flow as the builder code below,
/// and `assert_agree`, which fails while the hosts disagree.
#[test]
fn a_case_prints_as_the_code_that_builds_it() {
    let flow = Flow::new(OnError::Skip, BackpressurePolicy::DropOldest)
        .source(2)
        .filter(&[(0, Step::Drop), (1, Step::Fail)])
        .sink(&[(1, Step::Pause)])
        .edge(0, 1, 1)
        .edge(1, 2, 3);
    let code = "Flow::new(OnError::Skip, BackpressurePolicy::DropOldest)
        .source(2)
        .filter(&[(0, Step::Drop), (1, Step::Fail)])
        .sink(&[(1, Step::Pause)])
        .edge(0, 1, 1)
        .edge(1, 2, 3)";
    assert_eq!(flow.to_rust(), code);
    let disagreement = Disagreement {
        fields: vec![(Field::Ending, "Completed".into(), "Failed(None)".into())],
    };
    let case = case(&flow, &disagreement);
    assert!(
        case.contains(&format!("let flow = {code};\n    assert_agree(&flow);")),
        "{case}"
    );
    assert!(
        case.starts_with("// upstream and the testkit disagree:\n// Ending:"),
        "{case}"
    );
}

// ---- The corpus: cases worth keeping, each agreeing on every compared field.

#[test]
fn linear_chain() {
    assert_agree(
        &Flow::new(OnError::FailFlow, BackpressurePolicy::BlockProducer)
            .source(5)
            .processor(&[])
            .filter(&[(1, Step::Drop), (3, Step::Drop)])
            .sink(&[])
            .edge(0, 1, 1)
            .edge(1, 2, 2)
            .edge(2, 3, 3),
    );
}

#[test]
fn empty_source() {
    assert_agree(
        &Flow::new(OnError::FailFlow, BackpressurePolicy::BlockProducer)
            .source(0)
            .sink(&[])
            .edge(0, 1, 1),
    );
}

#[test]
fn fan_in_of_two_sources_is_pulled_last_source_first() {
    assert_agree(
        &Flow::new(OnError::FailFlow, BackpressurePolicy::BlockProducer)
            .source(3)
            .source(2)
            .processor(&[(0, Step::Drop)])
            .sink(&[])
            .edge(0, 2, 1)
            .edge(1, 2, 2)
            .edge(2, 3, 1),
    );
}

#[test]
fn two_sinks() {
    assert_agree(
        &Flow::new(OnError::Skip, BackpressurePolicy::BlockProducer)
            .source(3)
            .source(3)
            .sink(&[(4, Step::Fail)])
            .sink(&[(0, Step::Fail)])
            .edge(0, 3, 1)
            .edge(1, 2, 2),
    );
}

#[test]
fn failing_processor_stops_the_flow() {
    assert_agree(
        &Flow::new(OnError::FailFlow, BackpressurePolicy::BlockProducer)
            .source(5)
            .processor(&[(2, Step::Fail)])
            .sink(&[])
            .edge(0, 1, 2)
            .edge(1, 2, 2),
    );
}

#[test]
fn fatal_sink_stops_the_flow() {
    assert_agree(
        &Flow::new(OnError::FailFlow, BackpressurePolicy::BlockProducer)
            .source(4)
            .sink(&[(1, Step::Fatal)])
            .edge(0, 1, 1),
    );
}

#[test]
fn skipped_failures() {
    assert_agree(
        &Flow::new(OnError::Skip, BackpressurePolicy::BlockProducer)
            .source(6)
            .filter(&[(0, Step::Fail), (5, Step::Drop)])
            .processor(&[(1, Step::Fail), (2, Step::Drop)])
            .sink(&[(3, Step::Fail)])
            .edge(0, 1, 1)
            .edge(1, 2, 1)
            .edge(2, 3, 1),
    );
}

#[test]
fn a_pause_in_a_chain_changes_no_delivery_count_or_ending() {
    let flow = Flow::new(OnError::Skip, BackpressurePolicy::BlockProducer)
        .source(6)
        .processor(&[])
        .sink(&[(1, Step::Pause), (2, Step::Pause)])
        .edge(0, 1, 2)
        .edge(1, 2, 2);
    assert_eq!(
        Field::compared(&flow),
        [Field::Ending, Field::Delivered, Field::Counts]
    );
    assert_agree(&flow);
}

// ---- Documented differences ("Differences from upstream Torvyn" in the
// guide), each pinned: the test fails once the difference is gone or grows.

/// Upstream's `execute_push` drops the sink's answer: a `pause` changes
/// nothing there, while the testkit holds the sink until nothing else can
/// move, so queues fill and the source is held back.
#[test]
fn difference_a_sink_pause_is_ignored_upstream() {
    let found = assert_differs(
        &Flow::new(OnError::FailFlow, BackpressurePolicy::BlockProducer)
            .source(5)
            .sink(&[(1, Step::Pause)])
            .edge(0, 1, 2),
        &[Field::Order, Field::Peaks, Field::Pauses],
    );
    assert!(
        found
            .to_string()
            .contains("Peaks:\n  upstream: [1]\n  testkit:  [2]"),
        "{found}"
    );
}

/// Upstream sends a node's output to its first outgoing stream only; the
/// testkit sends a copy along every edge.
#[test]
fn difference_fan_out_feeds_only_the_first_edge_upstream() {
    let found = assert_differs(
        &Flow::new(OnError::FailFlow, BackpressurePolicy::BlockProducer)
            .source(2)
            .sink(&[])
            .sink(&[])
            .edge(0, 1, 1)
            .edge(0, 2, 1),
        &[Field::Delivered, Field::Counts, Field::Order, Field::Peaks],
    );
    assert!(
        found.to_string().contains("upstream: {1: [0, 1], 2: []}"),
        "{found}"
    );
}

/// Upstream's invoker keeps calling a component that returned `fatal`
/// (under `SkipElement` the flow goes on with it); the testkit ends the node,
/// so every later element fails there.
#[test]
fn difference_fatal_ends_the_node_only_in_the_testkit() {
    let found = assert_differs(
        &Flow::new(OnError::Skip, BackpressurePolicy::BlockProducer)
            .source(3)
            .processor(&[(0, Step::Fatal)])
            .sink(&[])
            .edge(0, 1, 1)
            .edge(1, 2, 1),
        &[Field::Delivered, Field::Counts, Field::Order, Field::Peaks],
    );
    assert!(
        found.to_string().contains("upstream: {2: [1, 2]}"),
        "{found}"
    );
}

/// Upstream queues with a plain `push`, whatever the stream's policy, and
/// never fills a queue (a sink's pause is ignored); the testkit drops from
/// a full queue under `drop-newest`.
#[test]
fn difference_the_queue_policy_is_not_applied_upstream() {
    let found = assert_differs(
        &Flow::new(OnError::FailFlow, BackpressurePolicy::DropNewest)
            .source(4)
            .sink(&[(0, Step::Pause)])
            .edge(0, 1, 1),
        &[Field::Delivered, Field::Counts, Field::Order, Field::Pauses],
    );
    assert!(
        found.to_string().contains("upstream: {1: [0, 1, 2, 3]}"),
        "{found}"
    );
}

/// Upstream counts a backpressure event each time a queue reaches its
/// capacity after a step: on a depth-1 queue, every element, though its
/// consumer takes it at the next step. The testkit counts a source held
/// back. (`Observation::pauses` therefore leaves upstream's depth-1 queues
/// out.)
#[test]
fn difference_upstream_counts_every_element_through_a_depth_1_queue() {
    let flow = Flow::new(OnError::FailFlow, BackpressurePolicy::BlockProducer)
        .source(3)
        .processor(&[(1, Step::Drop)])
        .sink(&[])
        .edge(0, 1, 1)
        .edge(1, 2, 2);
    assert_eq!(upstream::backpressure_events(&flow), [3, 0]);
    assert_eq!(ours::run(&flow).pauses, 0);
    assert_agree(&flow);
}

/// A non-sink node without an outgoing edge: upstream's topology accepts it
/// (its output is lost); the testkit rejects the flow before it runs.
#[test]
fn difference_a_node_without_output_is_rejected_by_the_testkit() {
    let found = assert_differs(
        &Flow::new(OnError::FailFlow, BackpressurePolicy::BlockProducer)
            .source(2)
            .processor(&[])
            .source(1)
            .sink(&[])
            .edge(0, 1, 1)
            .edge(2, 3, 1),
        &[
            Field::Ending,
            Field::Delivered,
            Field::Counts,
            Field::Order,
            Field::Peaks,
        ],
    );
    assert!(
        found.to_string().contains("testkit:  Failed(None)"),
        "{found}"
    );
}

/// Upstream gives every stage's output the flow's next sequence number, so
/// a sink behind a processor sees other numbers than the source's; the
/// testkit keeps an element's sequence number through the flow (the
/// observations compare elements by their pull order, which both keep).
#[test]
fn difference_upstream_numbers_each_stage_output_anew() {
    let flow = Flow::new(OnError::FailFlow, BackpressurePolicy::BlockProducer)
        .source(3)
        .processor(&[])
        .sink(&[])
        .edge(0, 1, 1)
        .edge(1, 2, 1);
    assert_eq!(upstream::sink_sequences(&flow)[&2], [1, 3, 5]);
    assert_eq!(ours::run(&flow).delivered[&2], [0, 1, 2]);
    assert_agree(&flow);
}

/// A pause with several sources: the testkit's held sink lets the other
/// source be pulled, and the resumed sink takes its first input edge's
/// element first (the smallest disagreement the property test found, with
/// `Field::compared` not yet knowing it).
#[test]
fn difference_a_pause_reorders_a_fan_in() {
    let flow = Flow::new(OnError::FailFlow, BackpressurePolicy::BlockProducer)
        .source(1)
        .source(2)
        .sink(&[(0, Step::Pause)])
        .edge(0, 2, 1)
        .edge(1, 2, 1);
    assert!(Field::compared(&flow).is_empty());
    let found = assert_differs(&flow, &[Field::Delivered, Field::Order, Field::Pauses]);
    assert!(
        found.to_string().contains("testkit:  {2: [0, 2, 1]}"),
        "{found}"
    );
}

/// A pause under fail-flow: what the held sink had queued when the flow
/// stopped is discarded in the testkit, delivered upstream.
#[test]
fn difference_a_pause_under_fail_flow_discards_what_was_queued() {
    let flow = Flow::new(OnError::FailFlow, BackpressurePolicy::BlockProducer)
        .source(4)
        .processor(&[(2, Step::Fail)])
        .sink(&[(0, Step::Pause)])
        .edge(0, 1, 2)
        .edge(1, 2, 2);
    assert!(Field::compared(&flow).is_empty());
    let found = assert_differs(
        &flow,
        &[Field::Delivered, Field::Counts, Field::Order, Field::Pauses],
    );
    assert!(
        found.to_string().contains("upstream: {2: [0, 1]}"),
        "{found}"
    );
}
