//! Misbehaving components never hang a test: traps, loops, memory exhaustion,
//! contract violations, unknown ports and failed inits are clear errors that
//! name the node and the call.

use std::time::{Duration, Instant};

use torvyn_testkit::{ErrorKind, Limits, ProcessError, Processed, Role, TestElement};
use torvyn_testkit::{ErrorPolicy, Event, NodeSpec, Pipeline};

use crate::support::{fixture, wall_clock};

#[test]
fn a_panic_is_a_trap_with_the_panic_message() {
    let mut filter = fixture("raw-panic-filter").instantiate("").unwrap();
    assert!(filter.evaluate(TestElement::text("a").sequence(1)).unwrap());
    let err = filter
        .evaluate(TestElement::text("b").sequence(2))
        .unwrap_err();
    assert!(err.is_trap(), "{err:?}");
    assert_eq!(err.call(), Some("evaluate"));
    let message = err.to_string();
    assert!(
        message.starts_with("node `raw-panic-filter` (filter) trapped in `evaluate`: the component panicked: boom: element 2 is cursed (at "),
        "{message}"
    );
    assert!(message.contains("src/lib.rs:"), "{message}");
    // The instance is spent: later calls are refused, not undefined.
    let again = filter.evaluate(TestElement::text("c")).unwrap_err();
    assert!(
        matches!(again.kind(), ErrorKind::Terminated { .. }),
        "{again}"
    );
    assert!(
        again
            .to_string()
            .contains("it failed earlier in `evaluate` (trap)"),
        "{again}"
    );
}

#[test]
fn an_infinite_loop_hits_the_per_call_time_limit() {
    let _wall_clock = wall_clock();
    let component = fixture("raw-loop-processor");
    let mut processor = component
        .options()
        .limits(Limits::default().call_timeout(Duration::from_millis(200)))
        .instantiate()
        .unwrap();
    // The limit is per call: many quick calls never add up to it.
    for _ in 0..50 {
        assert!(matches!(
            processor.process(TestElement::text("ok")).unwrap(),
            Processed::Emit(_)
        ));
    }
    let started = Instant::now();
    let err = processor
        .process(TestElement::text("spin").content_type("loop"))
        .unwrap_err();
    let waited = started.elapsed();
    assert!(err.is_timeout(), "{err}");
    assert!(waited >= Duration::from_millis(200), "{waited:?}");
    assert!(
        waited < Duration::from_secs(20),
        "the loop was interrupted, not waited out: {waited:?}"
    );
    assert!(
        err.to_string().starts_with("node `raw-loop-processor` (processor) did not return from `process` within the 200ms per-call time limit"),
        "{err}"
    );
}

#[test]
fn fuel_is_refilled_per_call() {
    let component = fixture("raw-loop-processor");
    let mut processor = component
        .options()
        .limits(Limits::default().fuel(Some(5_000_000)))
        .instantiate()
        .unwrap();
    for _ in 0..100 {
        processor.process(TestElement::text("ok")).unwrap();
    }
    let err = processor
        .process(TestElement::text("spin").content_type("loop"))
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::OutOfFuel { budget: 5_000_000 }),
        "{err}"
    );
}

#[test]
fn memory_exhaustion_is_reported_as_such() {
    let component = fixture("raw-oom-processor");
    let mut processor = component
        .options()
        .limits(Limits::default().memory(8 << 20))
        .instantiate()
        .unwrap();
    let err = processor.process(TestElement::text("x")).unwrap_err();
    assert!(err.is_out_of_memory(), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("ran out of memory in `process`"),
        "{message}"
    );
    assert!(message.contains("the limit is 8 MiB"), "{message}");
}

#[test]
fn using_a_frozen_buffer_traps_with_the_contract_rule() {
    let mut processor = fixture("raw-freeze-twice").instantiate("").unwrap();
    let err = processor.process(TestElement::text("x")).unwrap_err();
    assert!(err.is_trap(), "{err}");
    assert!(
        err.to_string().contains("mutable-buffer.append called after freeze(): the contract spends a mutable-buffer when it is frozen"),
        "{err}"
    );
}

#[test]
fn a_failed_init_names_the_node_and_the_error() {
    let err = fixture("raw-failing-init")
        .instantiate(r#"{"limit": 3}"#)
        .unwrap_err();
    assert_eq!(err.call(), Some("init"));
    assert_eq!(
        err.to_string(),
        r#"node `raw-failing-init` (filter) returned invalid-input: missing key `threshold` in "{\"limit\": 3}" from `init`"#
    );
}

#[test]
fn fatal_is_terminal_and_tears_the_component_down() {
    let mut processor = fixture("raw-fatal-processor").instantiate("").unwrap();
    assert!(
        processor
            .process(TestElement::text("fine").sequence(0))
            .is_ok()
    );
    let err = processor
        .process(TestElement::text("fine").sequence(1))
        .unwrap_err();
    assert_eq!(
        err.process_error(),
        Some(&ProcessError::Fatal("disk on fire".into()))
    );
    let refused = processor
        .process(TestElement::text("fine").sequence(2))
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("it returned fatal: disk on fire from `process`"),
        "{refused}"
    );
}

#[test]
fn capabilities_are_granted_per_instance() {
    let component = fixture("raw-capability-filter");
    let mut plain = component.instantiate("").unwrap();
    assert!(!plain.evaluate(TestElement::text("x")).unwrap());
    let mut granted = component
        .options()
        .grant("wasi-random")
        .instantiate()
        .unwrap();
    assert!(granted.evaluate(TestElement::text("x")).unwrap());
}

#[test]
fn stdout_and_stderr_are_captured_per_instance() {
    let component = fixture("raw-stdout-sink");
    let mut first = component.instantiate("").unwrap();
    let mut second = component.instantiate("").unwrap();
    first.push(TestElement::text("a").sequence(3)).unwrap();
    second.push(TestElement::text("b").sequence(9)).unwrap();
    first.complete().unwrap();
    assert_eq!(first.stdout(), "got 3\ndone\n");
    assert_eq!(first.stderr(), "err 3\n");
    assert_eq!(second.stdout(), "got 9\n");
}

#[test]
fn on_output_streams_each_line_as_written_in_order() {
    use std::sync::{Arc, Mutex};
    use torvyn_testkit::StdStream;

    type Seen = Vec<(String, StdStream, String)>;
    let sink = fixture("raw-stdout-sink");
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let lines = Arc::clone(&seen);
    let run = Pipeline::new("printing")
        .source("numbers", [TestElement::text("a"), TestElement::text("b")])
        .component("out", &sink, "")
        .edge("numbers", "out")
        .on_output(move |node, stream, line| {
            let line = String::from_utf8(line.to_vec()).unwrap();
            lines.lock().unwrap().push((node.to_string(), stream, line));
        })
        .run()
        .unwrap();
    let seen = seen.lock().unwrap();
    let got: Vec<(&str, StdStream, &str)> = seen
        .iter()
        .map(|(node, stream, line)| (node.as_str(), *stream, line.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("out", StdStream::Stdout, "got 0"),
            ("out", StdStream::Stderr, "err 0"),
            ("out", StdStream::Stdout, "got 1"),
            ("out", StdStream::Stderr, "err 1"),
            ("out", StdStream::Stdout, "done"),
        ]
    );
    // Still captured, too.
    assert_eq!(run.node("out").stdout, "got 0\ngot 1\ndone\n");
    assert_eq!(run.edges.len(), 1);
    assert_eq!(
        (run.edges[0].from.as_str(), run.edges[0].to.as_str()),
        ("numbers", "out")
    );
    // Each element reaches the sink before the next pull: no backpressure, so
    // the queue never holds more than one.
    assert_eq!(run.edges[0].peak, 1);
}

#[test]
fn a_processor_without_lifecycle_runs_and_refuses_config() {
    let component = fixture("raw-passthrough");
    assert_eq!(component.role(), Role::Processor);
    assert!(!component.inspection().lifecycle);
    let mut processor = component.instantiate("").unwrap();
    let output = processor
        .process(TestElement::text("same"))
        .unwrap()
        .output()
        .unwrap();
    assert_eq!(output.text(), Some("same"));
    let err = component.instantiate(r#"{"x": 1}"#).unwrap_err();
    assert!(
        err.to_string()
            .contains("exports no `lifecycle`, so it cannot receive a config"),
        "{err}"
    );
}

#[test]
fn pipeline_faults_name_the_node() {
    // An unknown router port stops the flow, whatever the policy.
    let err = Pipeline::new("ports")
        .source("input", vec![TestElement::text("x")])
        .node(
            "route",
            NodeSpec::component(&fixture("raw-bad-router"), "").policy(ErrorPolicy::Skip),
        )
        .collector("a")
        .edge_from_port("route", "a", "a")
        .edge("input", "route")
        .run()
        .unwrap_err();
    assert_eq!(
        err.error.to_string(),
        "node `route` (router) routed an element to port `nowhere` in `route`, but it has no edge from that port (its ports: a); add an edge from port `nowhere` or fix the router\n  at element #0"
    );
    assert_eq!(err.error.sequence(), Some(0));
    assert!(err.report.unaccounted().is_empty());

    // A trap in a skip node fails that element and every later one for it, and
    // the flow still completes with everything accounted for.
    let run = Pipeline::new("traps")
        .source("input", (0..4).map(|i| TestElement::text(format!("e{i}"))))
        .node(
            "panicky",
            NodeSpec::component(&fixture("raw-panic-filter"), "").policy(ErrorPolicy::Skip),
        )
        .collector("out")
        .edge("input", "panicky")
        .edge("panicky", "out")
        .run()
        .unwrap();
    assert_eq!(run.received_text("out"), ["e0", "e1"]);
    assert_eq!(run.node("panicky").failed, 2);
    assert!(
        matches!(&run.trace.of(2)[1].event, Event::Failed { error } if error.contains("boom: element 2 is cursed"))
    );
    assert!(
        matches!(&run.trace.of(3)[1].event, Event::Failed { error } if error.contains("failed earlier"))
    );
    assert!(
        run.node("panicky").stderr.contains("boom"),
        "{}",
        run.node("panicky").stderr
    );

    // An infinite loop in a flow is stopped by the node's time limit.
    let err = Pipeline::new("loops")
        .source("input", vec![TestElement::text("x").content_type("loop")])
        .node(
            "spin",
            NodeSpec::component(&fixture("raw-loop-processor"), "")
                .limits(Limits::default().call_timeout(Duration::from_millis(100))),
        )
        .collector("out")
        .edge("input", "spin")
        .edge("spin", "out")
        .run()
        .unwrap_err();
    assert!(err.error.is_timeout());
    assert_eq!(err.error.node(), "spin");

    // An allocation fault reaches the component through buffer-allocator.
    let err = Pipeline::new("alloc")
        .source("input", vec![TestElement::text("x")])
        .node(
            "copy",
            NodeSpec::component(&fixture("raw-passthrough"), "").fail_allocations(1),
        )
        .collector("out")
        .edge("input", "copy")
        .edge("copy", "out")
        .run()
        .unwrap_err();
    assert!(err.to_string().contains("injected by the test"), "{err}");
}

#[test]
fn the_host_assigns_sequence_timestamp_trace_and_deadline() {
    use torvyn_testkit::Timestamps;
    let echo = fixture("raw-context-echo");

    // Element by element, the test's values arrive as given.
    let mut instance = echo.options().flow_id("unit").instantiate().unwrap();
    let element = TestElement::text("x")
        .sequence(4)
        .timestamp_ns(99)
        .trace_id("0af7651916cd43dd8448eb211c80319c")
        .span_id("b7ad6b7169203331")
        .deadline(Duration::from_micros(250));
    let output = instance.process(element).unwrap().output().unwrap();
    assert_eq!(
        output.text(),
        Some(
            "seq=4 ts=99 trace=0af7651916cd43dd8448eb211c80319c span=b7ad6b7169203331 deadline=250000 flow=unit"
        )
    );

    // In a flow, the host assigns them: sequences from 0, the clock's
    // timestamps, one trace id per element, the flow's deadline and id.
    let run = Pipeline::new("ctx")
        .source(
            "input",
            vec![TestElement::text("a").sequence(77), TestElement::text("b")],
        )
        .component("echo", &echo, "")
        .collector("out")
        .edge("input", "echo")
        .edge("echo", "out")
        .timestamps(Timestamps::new(
            Duration::from_secs(10),
            Duration::from_millis(5),
        ))
        .deadline(Duration::from_millis(5))
        .run()
        .unwrap();
    let lines = run.received_text("out");
    assert_eq!(lines.len(), 2);
    let fields: Vec<Vec<&str>> = lines.iter().map(|l| l.split(' ').collect()).collect();
    assert_eq!(fields[0][0..2], ["seq=0", "ts=10000000000"]);
    assert_eq!(fields[1][0..2], ["seq=1", "ts=10005000000"]);
    assert_eq!(fields[0][4..], ["deadline=5000000", "flow=ctx"]);
    let trace0 = fields[0][2].strip_prefix("trace=").unwrap();
    let trace1 = fields[1][2].strip_prefix("trace=").unwrap();
    assert_eq!((trace0.len(), trace1.len()), (32, 32));
    assert!(trace0.chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(trace0, trace1, "one trace id per element");
}

#[test]
fn fault_switches_in_the_options_apply_from_init() {
    let component = fixture("raw-init-allocator");
    // Without faults, `init` allocates and succeeds.
    component.instantiate("").unwrap();

    // Switched on in the options, the refusal reaches the allocation in `init`.
    let err = component
        .options()
        .fail_allocations(1)
        .instantiate()
        .unwrap_err();
    assert_eq!(err.call(), Some("init"), "{err}");
    assert_eq!(
        err.process_error().map(ProcessError::kind),
        Some("unavailable"),
        "{err}"
    );
    assert!(err.to_string().contains("injected by the test"), "{err}");

    // A pipeline's `fail_allocations` is passed the same way: the node's
    // first allocation is the one in `init`.
    let err = Pipeline::new("init-alloc")
        .source("input", [TestElement::text("a")])
        .node(
            "alloc",
            NodeSpec::component(&component, "").fail_allocations(1),
        )
        .collector("out")
        .edge("input", "alloc")
        .edge("alloc", "out")
        .run()
        .unwrap_err();
    assert!(err.to_string().contains("init could not allocate"), "{err}");

    // `fail_call` in the options counts element calls from the first one.
    let mut passthrough = fixture("raw-passthrough")
        .options()
        .fail_call(1, ProcessError::Unavailable("flaky".into()))
        .instantiate()
        .unwrap();
    let err = passthrough.process(TestElement::text("x")).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Process { injected: true, .. }),
        "{err}"
    );
    assert!(passthrough.process(TestElement::text("y")).is_ok());
}

#[test]
fn an_output_becomes_the_same_element_in_a_flow_and_by_hand() {
    // The echo sets its buffer's content type to `text/plain` and copies the
    // input's metadata (`application/json`): the metadata's goes downstream,
    // by hand and in a flow, as upstream Torvyn's flow driver passes it on.
    let echo = fixture("raw-context-echo");
    let output = echo
        .instantiate("")
        .unwrap()
        .process(TestElement::json(serde_json::json!({"n": 1})))
        .unwrap()
        .output()
        .unwrap();
    assert_eq!(output.meta.content_type, "application/json");
    assert_eq!(output.content_type, "text/plain");
    let by_hand = TestElement::from(output);
    assert_eq!(by_hand.content_type_str(), "application/json");

    let run = Pipeline::new("content-type")
        .source("input", [TestElement::json(serde_json::json!({"n": 1}))])
        .component("echo", &echo, "")
        .collector("out")
        .edge("input", "echo")
        .edge("echo", "out")
        .run()
        .unwrap();
    let received = run.received("out");
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].content_type, by_hand.content_type_str());
    assert_eq!(received[0].meta.content_type, by_hand.content_type_str());
}
