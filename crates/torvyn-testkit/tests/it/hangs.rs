//! Nothing hangs: sleeps, clock polls and stdin reads never outlive a call's
//! limit, time and randomness are deterministic, a source that never ends is
//! stopped by a run limit, and a failing teardown is reported.
//!
//! The subjects are raw wit-bindgen fixtures: `raw-wait-processor` (sleeps,
//! polls, reads stdin, reads clocks and random; its config picks a failing
//! teardown) and `raw-endless-source` (never answers `none`).

use std::time::{Duration, Instant};

use torvyn_testkit::ClockMode;
use torvyn_testkit::{Component, ErrorKind, Instance, Limits, Processed, TestElement};
use torvyn_testkit::{FlowError, Interrupt, Pipeline, RunLimit, Timestamps};

use crate::support::{fixture, wall_clock};

fn waiter() -> Component {
    fixture("raw-wait-processor")
}

fn short_limit() -> Limits {
    Limits::default().call_timeout(Duration::from_millis(300))
}

/// The text the processor emitted for `command`.
fn run(instance: &mut Instance, command: &str) -> String {
    match instance.process(TestElement::text(command)) {
        Ok(Processed::Emit(output)) => output.text().unwrap().to_string(),
        other => panic!("`{command}`: {other:?}"),
    }
}

#[test]
fn a_sleep_of_an_hour_returns_at_once_on_the_virtual_clock() {
    let _wall_clock = wall_clock();
    let mut instance = waiter().instantiate("").unwrap();
    let started = Instant::now();
    assert_eq!(
        run(&mut instance, "sleep 3600000"),
        "slept 3600000 ms; the clock moved 3600000000000 ns"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(instance.virtual_time(), Duration::from_secs(3600));
    // The test can let time pass between calls too.
    instance.advance_virtual_time(Duration::from_secs(60));
    assert_eq!(instance.virtual_time(), Duration::from_secs(3660));
}

#[test]
fn with_real_time_a_sleep_is_cut_off_at_the_call_limit() {
    let _wall_clock = wall_clock();
    let mut instance = waiter()
        .options()
        .clock_mode(ClockMode::Real)
        .limits(short_limit())
        .instantiate()
        .unwrap();
    // A short sleep really sleeps, and is within the limit.
    let started = Instant::now();
    assert!(run(&mut instance, "sleep 30").starts_with("slept 30 ms; the clock moved "));
    assert!(started.elapsed() >= Duration::from_millis(30));

    let started = Instant::now();
    let err = instance
        .process(TestElement::text("sleep 3600000"))
        .unwrap_err();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    let ErrorKind::Blocked {
        limit,
        waiting_in,
        clock,
    } = err.kind()
    else {
        panic!("not blocked: {err:?}");
    };
    assert_eq!(*limit, Duration::from_millis(300));
    assert_eq!(*clock, ClockMode::Real);
    assert!(waiting_in.starts_with("wasi:io/poll"), "{waiting_in}");
    assert!(err.is_timeout());
    assert_eq!(err.call(), Some("process"));
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "node `raw-wait-processor` (processor) was blocked in `process`: it was still \
             waiting in `{waiting_in}` when the 300ms per-call time limit ran out (real time \
             is on, so a sleep or a clock wait really waits)"
        )),
        "{message}"
    );
    // The instance is spent, as after any limit, and cannot be entered for a
    // teardown either (which is not a teardown failure).
    let again = instance.process(TestElement::text("x")).unwrap_err();
    assert!(
        matches!(again.kind(), ErrorKind::Terminated { .. }),
        "{again}"
    );
    assert!(instance.teardown().is_ok());
}

#[test]
fn a_poll_on_clock_subscriptions_advances_virtual_time_to_the_earliest() {
    let mut instance = waiter().instantiate("").unwrap();
    assert_eq!(
        run(&mut instance, "poll 10,3600000"),
        "ready [0] after 10000000 ns"
    );
    assert_eq!(
        run(&mut instance, "poll 3600000,5000,5000"),
        "ready [1, 2] after 5000000000 ns"
    );
    assert_eq!(instance.virtual_time(), Duration::from_millis(5010));
}

#[test]
fn with_real_time_a_clock_poll_is_cut_off_at_the_call_limit() {
    let _wall_clock = wall_clock();
    let mut instance = waiter()
        .options()
        .clock_mode(ClockMode::Real)
        .limits(short_limit())
        .instantiate()
        .unwrap();
    assert!(run(&mut instance, "poll 3600000,20").starts_with("ready [1] after "));
    let started = Instant::now();
    let err = instance
        .process(TestElement::text("poll 3600000"))
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        matches!(err.kind(), ErrorKind::Blocked { waiting_in, .. } if waiting_in == "wasi:io/poll.poll"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("node `raw-wait-processor` (processor) was blocked in `process`: it was still waiting in `wasi:io/poll.poll` when the 300ms per-call time limit ran out"),
        "{err}"
    );
}

#[test]
fn stdin_is_empty_and_reads_end_at_once() {
    let _wall_clock = wall_clock();
    for mode in [ClockMode::Virtual, ClockMode::Real] {
        let mut instance = waiter()
            .options()
            .clock_mode(mode)
            .limits(short_limit())
            .instantiate()
            .unwrap();
        let started = Instant::now();
        assert_eq!(run(&mut instance, "stdin"), "stdin: 0 bytes", "{mode}");
        assert!(started.elapsed() < Duration::from_millis(300), "{mode}");
    }
}

/// The `clock` lines of a three-element flow.
fn clock_lines(seed: Option<u64>) -> Vec<String> {
    let mut pipeline = Pipeline::new("time")
        .source("in", (0..3).map(|_| TestElement::text("clock")))
        .component("wait", &waiter(), "")
        .collector("out")
        .edge("in", "wait")
        .edge("wait", "out")
        .timestamps(Timestamps::new(
            Duration::from_secs(1_700_000_000),
            Duration::from_millis(1),
        ));
    if let Some(seed) = seed {
        pipeline = pipeline.random_seed(seed);
    }
    let run = pipeline.run().unwrap();
    let lines = run.received_text("out");
    assert_eq!(run.node("wait").stdout, format!("{}\n", lines.join("\n")));
    lines
}

#[test]
fn clocks_and_random_are_deterministic_from_run_to_run() {
    let first = clock_lines(None);
    assert_eq!(first, clock_lines(None));
    // The clocks read the flow's virtual time: element n's timestamp.
    for (n, line) in first.iter().enumerate() {
        let ns = 1_700_000_000_000_000_000u64 + n as u64 * 1_000_000;
        let expected = format!(
            "monotonic {ns} wall {}.{:09} std-wall {ns} random ",
            ns / 1_000_000_000,
            ns % 1_000_000_000
        );
        assert!(line.starts_with(&expected), "{line}\nexpected {expected}");
    }
    // Each call gets fresh bytes; another seed, other bytes, the same again.
    let random = |line: &String| line.split(" random ").nth(1).unwrap().to_string();
    assert_ne!(random(&first[0]), random(&first[1]));
    let seeded = clock_lines(Some(42));
    assert_ne!(random(&first[0]), random(&seeded[0]));
    assert_eq!(seeded, clock_lines(Some(42)));

    // The same seed (and name) gives an instance the same bytes as well.
    let bytes = |seed: u64| {
        let mut instance = waiter().options().random_seed(seed).instantiate().unwrap();
        random(&run(&mut instance, "clock"))
    };
    assert_eq!(bytes(7), bytes(7));
    assert_ne!(bytes(7), bytes(8));
}

fn endless(pipeline: Pipeline) -> (FlowError, Duration) {
    let (source, copy) = (fixture("raw-endless-source"), waiter());
    let started = Instant::now();
    let err = pipeline
        .component("numbers", &source, "")
        .component("copy", &copy, "")
        .collector("out")
        .edge("numbers", "copy")
        .edge("copy", "out")
        .run()
        .unwrap_err();
    (err, started.elapsed())
}

#[test]
fn a_source_that_never_ends_stops_at_the_element_limit() {
    let _wall_clock = wall_clock();
    let (err, took) = endless(Pipeline::new("endless").max_elements(100));
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(
        matches!(
            err.error.kind(),
            ErrorKind::Stopped {
                limit: RunLimit::Elements(100)
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "flow `endless` failed: stopped at its element limit: its sources produced 100 \
         elements and were not pulled again; raise the limit (`Pipeline::max_elements`, \
         `--max-elements`) to run longer"
    );
    // What was in the flow ran to the end: the partial report is complete.
    let report = &err.report;
    assert_eq!(report.elements, 100);
    assert_eq!(report.node("numbers").emitted, 100);
    assert_eq!(report.node("copy").emitted, 100);
    assert_eq!(report.received_text("out").len(), 100);
    assert_eq!(report.received_text("out")[99], "99");
    assert!(report.unaccounted().is_empty());
}

#[test]
fn an_interrupt_stops_pulling_runs_what_is_in_flight_and_tears_down() {
    // Thrown by the sink's observer at its 40th element: deterministic, as a
    // Ctrl+C in the middle of a run.
    let interrupt = Interrupt::new();
    let (thrower, mut delivered) = (interrupt.clone(), 0);
    // `copy`'s teardown panics on purpose: its error shows it was called.
    let (source, copy) = (fixture("raw-endless-source"), waiter());
    let started = Instant::now();
    let err = Pipeline::new("endless")
        .interrupt_with(&interrupt)
        .queue_depth(4)
        .on_delivered(move |_, _| {
            delivered += 1;
            if delivered == 40 {
                thrower.interrupt();
            }
        })
        .component("numbers", &source, "")
        .component("copy", &copy, "panic")
        .collector("out")
        .edge("numbers", "copy")
        .edge("copy", "out")
        .run()
        .unwrap_err();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(
        matches!(
            err.error.kind(),
            ErrorKind::Stopped {
                limit: RunLimit::Interrupted
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "flow `endless` failed: was interrupted: its sources were not pulled again, and the \
         elements already in the flow were run to the end"
    );
    // Nothing in flight was lost: every element the source made reached the
    // sink, in order, and each node's counts add up.
    let report = &err.report;
    assert!(report.elements >= 40, "{}", report.elements);
    let received = report.received_text("out");
    assert_eq!(received.len() as u64, report.elements);
    assert_eq!(
        received.last().map(String::as_str),
        Some(&*(report.elements - 1).to_string())
    );
    assert!(report.unaccounted().is_empty());
    report.check_accounting().unwrap();
    // Every node was torn down.
    let teardowns = report.teardown_errors();
    assert_eq!(teardowns.len(), 1, "{teardowns:?}");
    assert_eq!(teardowns[0].0, "copy");
}

#[test]
fn a_source_that_never_ends_stops_at_the_time_limits() {
    let _wall_clock = wall_clock();
    let (err, took) = endless(Pipeline::new("endless").timeout(Duration::from_millis(300)));
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert!(
        matches!(
            err.error.kind(),
            ErrorKind::Stopped {
                limit: RunLimit::WallTime(limit)
            } if *limit == Duration::from_millis(300)
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains(
            "stopped at its time limit of 300ms (wall time) before it finished; raise the \
             limit (`Pipeline::timeout`, `--timeout`)"
        ),
        "{err}"
    );
    assert!(err.report.elements > 0);
    assert!(err.report.node("out").received > 0);

    // The flow's virtual clock moves 1 ms per element (the default `Clock`).
    let (err, _) = endless(Pipeline::new("endless").max_virtual_time(Duration::from_secs(1)));
    assert!(
        matches!(
            err.error.kind(),
            ErrorKind::Stopped {
                limit: RunLimit::VirtualTime(_)
            }
        ),
        "{err}"
    );
    // Element 1001 (at 1.001 s) moved it past the limit, checked before the
    // next pull; each element reached the sink before that pull, so every
    // copied element was received.
    let copied = err.report.node("copy").emitted;
    assert!((1001..1100).contains(&copied), "{copied}");
    assert_eq!(err.report.node("out").received, copied);
}

#[test]
fn a_teardown_that_loops_traps_or_blocks_is_an_error_naming_the_call() {
    let _wall_clock = wall_clock();
    let limited = |config: &str, mode: ClockMode| {
        waiter()
            .options()
            .config(config)
            .clock_mode(mode)
            .limits(short_limit())
            .instantiate()
            .unwrap()
    };
    let started = Instant::now();
    let err = limited("loop", ClockMode::Virtual).teardown().unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(matches!(err.kind(), ErrorKind::Timeout { .. }), "{err:?}");
    assert_eq!(err.call(), Some("teardown"));
    assert!(
        err.to_string().starts_with(
            "node `raw-wait-processor` (processor) did not return from `teardown` within the \
             300ms per-call time limit"
        ),
        "{err}"
    );

    let err = limited("panic", ClockMode::Virtual).teardown().unwrap_err();
    assert!(err.is_trap(), "{err:?}");
    assert!(
        err.to_string().starts_with(
            "node `raw-wait-processor` (processor) trapped in `teardown`: the component \
             panicked: teardown failed on purpose"
        ),
        "{err}"
    );

    // A virtual sleep in teardown is fine; a real one is cut off.
    assert!(limited("sleep", ClockMode::Virtual).teardown().is_ok());
    let err = limited("sleep", ClockMode::Real).teardown().unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Blocked { .. }), "{err:?}");
    assert_eq!(err.call(), Some("teardown"));

    // After `fatal` the host tears the node down at once; its failure is kept
    // for `teardown()`.
    let mut instance = limited("panic", ClockMode::Virtual);
    let fatal = instance.process(TestElement::text("fatal")).unwrap_err();
    assert!(fatal.to_string().contains("returned fatal"), "{fatal}");
    let err = instance.teardown().unwrap_err();
    assert!(
        err.to_string()
            .contains("trapped in `teardown`: the component panicked: teardown failed on purpose"),
        "{err}"
    );
    assert!(instance.teardown().is_ok(), "reported once");
}

#[test]
fn a_failed_teardown_is_in_the_run_report() {
    let run = Pipeline::new("main")
        .source("in", [TestElement::text("a")])
        .component("wait", &waiter(), "panic")
        .collector("out")
        .edge("in", "wait")
        .edge("wait", "out")
        .run()
        .unwrap();
    assert_eq!(run.received_text("out"), ["a"]);
    let error = run.node("wait").teardown_error.clone().unwrap();
    assert!(
        error.starts_with(
            "node `wait` (processor) trapped in `teardown`: the component panicked: teardown \
             failed on purpose"
        ),
        "{error}"
    );
    assert_eq!(run.teardown_errors(), [("wait", error.as_str())]);
    assert_eq!(
        run.summary_json()["teardown_errors"]["wait"],
        error.as_str()
    );
    assert_eq!(run.node("out").teardown_error, None);
}
