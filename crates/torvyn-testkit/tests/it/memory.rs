//! Memory stays bounded: host buffers count against a component's budget and
//! its flow's, and a run keeps a bounded number of received elements, trace
//! entries and latencies however long it is.

use torvyn_testkit::{DEFAULT_RETAINED, Event, NodeSpec, Pipeline, RunResult, Scripted};
use torvyn_testkit::{ErrorKind, Limits, ProcessError, TestElement};

use crate::support::{fixture, numbers};

const MIB: u64 = 1 << 20;

/// A hoarder: 16 MiB of linear memory, so a 16 MiB host-buffer budget by
/// default; each call keeps four 1 MiB host buffers (a few bytes of handles
/// in its own memory).
fn hoarder(config: &str) -> torvyn_testkit::Instance {
    fixture("raw-hoard-processor")
        .options()
        .name("hoard")
        .config(config)
        .limits(Limits::default().memory(16 * MIB))
        .instantiate()
        .unwrap()
}

/// Call `hoard` until a call fails; the calls that succeeded, and the error.
fn hoard_until_refused(hoard: &mut torvyn_testkit::Instance) -> (u32, torvyn_testkit::Error) {
    let mut calls = 0;
    loop {
        match hoard.process(TestElement::text("x")) {
            Ok(_) => calls += 1,
            Err(err) => break (calls, err),
        }
        assert!(calls < 100, "the host held {calls} x 4 MiB without a limit");
    }
}

#[test]
fn an_allocation_over_the_budget_is_refused_to_the_component_which_may_handle_it() {
    let mut hoard = hoarder("keep");
    let (calls, err) = hoard_until_refused(&mut hoard);
    assert_eq!(calls, 4, "16 buffers of 1 MiB fit, the 17th does not");
    // The contract's answer, `buffer-error::allocation-failed(reason)`, which
    // this component reports as its own `unavailable` error: no trap.
    let ErrorKind::Process {
        error: ProcessError::Unavailable(reported),
        injected: false,
    } = err.kind()
    else {
        panic!(
            "expected the component's own error, got {:?}: {err}",
            err.kind()
        );
    };
    for needle in [
        "AllocationFailed(",
        "host-buffer budget exceeded: this component holds 16 MiB of host buffers",
        "asked for 1 MiB more, over its budget of 16 MiB",
        "`Limits::host_buffers`",
    ] {
        assert!(reported.contains(needle), "{needle:?} not in: {reported}");
    }
    // The budget still holds, and the refusal is counted.
    assert_eq!(hoard.stats().host_buffer_bytes_peak, 16 * MIB);
    assert_eq!(hoard.stats().allocations, 16);
    assert_eq!(hoard.stats().failed_allocations, 1);
    // The instance is not spent: it is called again, and refused again.
    let again = hoard.process(TestElement::text("y")).unwrap_err();
    assert!(
        matches!(
            again.kind(),
            ErrorKind::Process {
                error: ProcessError::Unavailable(_),
                ..
            }
        ),
        "{again}"
    );
    assert_eq!(hoard.stats().failed_allocations, 2);
    assert_eq!(hoard.stats().host_buffer_bytes_peak, 16 * MIB);
}

#[test]
fn a_component_that_traps_on_the_refusal_is_told_which_budget_it_hit() {
    let mut hoard = hoarder("keep-or-trap");
    let (calls, err) = hoard_until_refused(&mut hoard);
    assert_eq!(calls, 4);
    match err.kind() {
        ErrorKind::HostBuffers {
            budget,
            held,
            requested,
            flow,
        } => assert_eq!(
            (*budget, *held, *requested, *flow),
            (16 * MIB, 16 * MIB, MIB, false)
        ),
        other => panic!("expected HostBuffers, got {other:?}: {err}"),
    }
    assert_eq!(err.node(), "hoard");
    assert_eq!(err.call(), Some("process"));
    let message = err.to_string();
    for needle in [
        "node `hoard` (processor) exceeded its host-buffer budget in `process`",
        "holds 16 MiB of host buffers",
        "asked for 1 MiB more, over its budget of 16 MiB",
        "`Limits::host_buffers`",
    ] {
        assert!(message.contains(needle), "{needle:?} not in: {message}");
    }
    // A trapped instance is spent, like after any limit.
    let again = hoard.process(TestElement::text("y")).unwrap_err();
    assert!(
        matches!(again.kind(), ErrorKind::Terminated { .. }),
        "{again}"
    );
}

#[test]
fn in_a_flow_the_refusal_fails_the_element_and_a_raised_budget_lets_it_run() {
    let hoard = fixture("raw-hoard-processor");
    let flow = |limits: Limits| {
        Pipeline::new("hoarding")
            .source("input", numbers(10))
            .node("hoard", NodeSpec::component(&hoard, "keep").limits(limits))
            .collector("out")
            .edge("input", "hoard")
            .edge("hoard", "out")
    };
    let err = flow(Limits::default().memory(16 * MIB)).run().unwrap_err();
    assert_eq!(err.error.node(), "hoard");
    assert!(
        matches!(err.error.kind(), ErrorKind::Process { error: ProcessError::Unavailable(m), .. }
            if m.contains("host-buffer budget exceeded")),
        "{err}"
    );
    let report = err.report.node("hoard");
    assert_eq!(report.stats.host_buffer_bytes_peak, 16 * MIB);
    assert_eq!(report.stats.failed_allocations, 1);
    assert_eq!((report.received, report.dropped, report.failed), (5, 4, 1));
    err.report.check_accounting().unwrap();

    // 40 MiB of buffers for 10 elements: within a raised budget.
    let run = flow(Limits::default().memory(16 * MIB).host_buffers(64 * MIB))
        .run()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(run.node("hoard").dropped, 10);
    assert_eq!(run.node("hoard").stats.host_buffer_bytes_peak, 40 * MIB);
}

#[test]
fn buffers_handed_out_count_against_the_flow_budget_while_queued() {
    // Each element becomes a 1 MiB output; the sink pauses after its first
    // element, so with a deep queue the processor runs ahead of it, and the
    // flow's budget of 8 MiB stops it.
    let hoard = fixture("raw-hoard-processor");
    let err = Pipeline::new("handing-out")
        .source("input", numbers(20))
        .component("hoard", &hoard, "emit")
        .node("out", NodeSpec::scripted(Scripted::sink(1).pauses(1.0)))
        .edge("input", "hoard")
        .edge("hoard", "out")
        .queue_depth(64)
        .host_buffer_budget(8 * MIB)
        .run()
        .unwrap_err();
    // Eight queued outputs fill the budget exactly (no input is left
    // queued: each is processed as soon as it is pulled), so a ninth 1 MiB
    // is refused; the component reports the refusal as its own error.
    let ErrorKind::Process {
        error: ProcessError::Unavailable(reported),
        ..
    } = err.error.kind()
    else {
        panic!("expected the component's own error, got {}", err.error);
    };
    assert!(
        reported.contains(
            "the flow holds 8 MiB of host buffers and this component asked for 1 MiB more, \
             over the flow's budget of 8 MiB (`Pipeline::host_buffer_budget`)"
        ),
        "{reported}"
    );
    // Eight outputs were queued for `out` when the flow stopped.
    assert_eq!(err.report.node("out").discarded, 8);
    err.report.check_accounting().unwrap();

    // The default budget (256 MiB) holds the default queue of 64 such outputs.
    let run = Pipeline::new("handing-out")
        .source("input", numbers(100))
        .component("hoard", &hoard, "emit")
        .collector("out")
        .edge("input", "hoard")
        .edge("hoard", "out")
        .retain(0)
        .run()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(run.node("out").delivered, 100);
}

fn collect(count: u64, configure: impl FnOnce(Pipeline) -> Pipeline) -> RunResult {
    configure(
        Pipeline::new("long")
            .source("input", numbers(count))
            .node("pass", NodeSpec::scripted(Scripted::processor(1)))
            .collector("out")
            .edge("input", "pass")
            .edge("pass", "out"),
    )
    .run()
    .unwrap_or_else(|err| panic!("{err}"))
}

#[test]
fn sinks_keep_the_first_elements_up_to_the_retention_cap() {
    let count = DEFAULT_RETAINED as u64 + 2_500;
    let run = collect(count, |p| p);
    assert_eq!(run.received("out").len(), DEFAULT_RETAINED);
    assert_eq!(run.received("out")[0].meta.sequence, 0);
    assert_eq!(run.node("out").delivered, count);
    assert_eq!(run.summary_json()["sinks"]["out"], count);

    let run = collect(100, |p| p.retain(usize::MAX));
    assert_eq!(run.received("out").len(), 100);
    let run = collect(100, |p| p.retain(3));
    assert_eq!(run.received_text("out"), ["0", "1", "2"]);
    let run = collect(100, |p| p.retain(0));
    assert!(run.received("out").is_empty());
    assert_eq!(run.node("out").delivered, 100);
}

#[test]
fn the_trace_keeps_its_last_entries_or_nothing() {
    // Three entries per element: pulled, emitted, delivered.
    let run = collect(100, |p| p.trace_capacity(30));
    assert_eq!(run.trace.0.len(), 30);
    assert_eq!(run.trace_dropped, 270);
    let last = run.trace.0.last().unwrap();
    assert_eq!((last.sequence, &last.event), (99, &Event::Delivered));
    assert!(
        run.trace.0.iter().all(|entry| entry.sequence >= 50),
        "only the latest entries: {}",
        run.trace
    );
    assert!(run.unaccounted().is_empty());

    let run = collect(100, |p| p.trace_capacity(0));
    assert!(run.trace.0.is_empty());
    assert_eq!(run.trace_dropped, 300);
    let run = collect(100, |p| p.record(false));
    assert!(run.trace.0.is_empty() && run.received("out").is_empty());
}

#[test]
fn latencies_are_a_bounded_sample_of_all_deliveries() {
    let run = collect(1_000, |p| p.measure_latency(true).latency_samples(100));
    assert_eq!(run.latencies_ns.len(), 100);
    assert_eq!(run.latency_count, 1_000);
    let run = collect(50, |p| p.measure_latency(true).latency_samples(100));
    assert_eq!(run.latencies_ns.len(), 50, "all of them below the cap");
}
