//! The per-element timeline a person reads (`RunResult::trace_view`, the
//! text of `torvyn-testkit trace`) and the flow in one line
//! (`RunResult::flow_line`), on host-only flows and the virtual clock.

use torvyn_testkit::picture::TraceView;
use torvyn_testkit::{Event, Pipeline, TestElement};

use crate::pictures::{busy_flow, snapshot};

fn busy_view() -> TraceView {
    busy_flow()
        .record_timeline(true)
        .timeline_payload_bytes(2)
        .run()
        .unwrap()
        .trace_view()
        .with_backpressure(true)
        .with_buffers(true)
}

#[test]
fn the_busy_flows_timeline_is_pinned_and_the_same_on_every_virtual_run() {
    let text = busy_view().to_string();
    assert_eq!(
        text,
        busy_view().to_string(),
        "two virtual-clock runs differ"
    );
    snapshot("busy-trace.txt", &text);
    // The flow's line heads it, fan-out in braces.
    assert!(
        text.starts_with("flow `busy`: numbers -> evens -> split -> {slow, audit}\n"),
        "{text}"
    );
}

#[test]
fn each_stage_carries_its_call_its_wait_its_payload_and_its_reason() {
    let view = busy_view();
    assert_eq!(view.elements.len(), 12);
    let mut dropped = 0;
    for element in &view.elements {
        let first = &element.stages[0];
        assert_eq!(
            (first.node.as_str(), first.function),
            ("numbers", Some("pull"))
        );
        assert_eq!(first.wait_ns, None, "a source's stage has no queue wait");
        let expected = format!("n{}", element.sequence);
        assert_eq!(first.bytes, Some(expected.len() as u64));
        // Two bytes kept: the whole payload only for `n0`..`n9`.
        assert_eq!(first.payload.as_deref(), Some(&expected[..2]));
        assert_eq!(first.payload_complete, expected.len() <= 2);
        for stage in &element.stages[1..] {
            assert!(stage.took_ns().is_some_and(|ns| ns > 0), "{stage:?}");
            assert!(stage.wait_ns.is_some(), "{stage:?}");
            assert!(stage.queued.is_some(), "{stage:?}");
        }
        if let Some(stage) = element.stages.iter().find(|s| s.event == Event::Dropped) {
            dropped += 1;
            assert_eq!(stage.node, "evens");
            assert_eq!(stage.outcome(), "dropped (the filter answered false)");
        }
        let (start, end) = (
            element
                .stages
                .iter()
                .filter_map(|s| s.start_ns)
                .min()
                .unwrap(),
            element
                .stages
                .iter()
                .filter_map(|s| s.end_ns)
                .max()
                .unwrap(),
        );
        assert_eq!(element.total_ns, Some(end - start));
    }
    assert!(dropped > 0, "the filter drops some");
    // The pausing sink's pauses are the backpressure events.
    assert!(
        view.backpressure
            .iter()
            .any(|event| event.node == "slow" && event.what == "pause")
    );
    // An element waits in `slow`'s queue while `slow` is paused.
    assert!(
        view.elements
            .iter()
            .flat_map(|element| &element.stages)
            .any(|stage| stage.node == "slow" && stage.wait_ns > Some(0)),
        "no queue wait at the paused sink"
    );
}

#[test]
fn a_failure_shows_its_error_and_a_run_without_a_timeline_shows_no_times() {
    let run = Pipeline::new("plain")
        .source("in", [TestElement::text("a")])
        .collector("out")
        .edge("in", "out")
        .run()
        .unwrap();
    let text = run.trace_view().to_string();
    assert!(text.contains("no timeline recorded"), "{text}");
    assert!(text.contains("elem-0  ┬─ in   -"), "{text}");
    assert!(text.contains("└─ out  -"), "{text}");
}

#[test]
fn the_flow_line_shows_fan_out_and_fan_in() {
    let run = Pipeline::new("joins")
        .source("a", [TestElement::text("x")])
        .source("b", [TestElement::text("y")])
        .collector("merge")
        .edge("a", "merge")
        .edge("b", "merge")
        .run()
        .unwrap();
    assert_eq!(run.flow_line(), "a -> merge; b -> merge");
    let run = busy_flow().run().unwrap();
    assert_eq!(
        run.flow_line(),
        "numbers -> evens -> split -> {slow, audit}"
    );
}
