//! The single-component harness on real components: every role, config, state,
//! copy accounting, allocation, logs, capabilities and fault injection.

use std::path::{Path, PathBuf};

use torvyn_testkit::{Component, ErrorKind, ProcessError, Processed, Role, Signal, TestElement};

fn example(name: &str) -> Component {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    Component::build(dir).unwrap_or_else(|err| panic!("{err}"))
}

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn fixture(name: &str) -> Component {
    Component::build(fixture_path(name)).unwrap_or_else(|err| panic!("{err}"))
}

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";

#[test]
fn roles_are_detected_from_exports() {
    let cases = [
        ("rate-limiter", Role::Filter),
        ("json-enricher", Role::Processor),
        ("content-router", Role::Router),
        ("window-counter", Role::Aggregator),
        ("line-source", Role::Source),
        ("counting-sink", Role::Sink),
    ];
    for (name, role) in cases {
        let component = example(name);
        assert_eq!(component.role(), role, "{name}");
        assert_eq!(component.name(), name);
        assert!(component.inspection().lifecycle, "{name} exports lifecycle");
        assert!(
            component
                .inspection()
                .imports
                .contains(&"torvyn:streaming/types@0.1.0".to_string()),
            "{name}: {:?}",
            component.inspection().imports
        );
    }
    let raw = fixture("raw-filter");
    assert_eq!(raw.role(), Role::Filter);
    assert_eq!(raw.name(), "raw-filter");
}

#[test]
fn filter_with_typed_config_state_and_no_payload_reads() {
    let limiter = example("rate-limiter");

    // Before `init`, a handler answers `internal` with a message.
    let mut early = limiter.options().skip_init().instantiate().unwrap();
    let err = early.evaluate(TestElement::text("x")).unwrap_err();
    match err.process_error() {
        Some(ProcessError::Internal(message)) => {
            assert!(message.contains("before `init`"), "{message}")
        }
        other => panic!("expected internal, got {other:?}: {err}"),
    }

    // A bad config fails init with invalid-input naming the field.
    let err = limiter
        .instantiate(r#"{"max_per_second": "x"}"#)
        .unwrap_err();
    assert_eq!(err.call(), Some("init"));
    match err.process_error() {
        Some(ProcessError::InvalidInput(message)) => {
            assert!(message.contains("field `max_per_second`"), "{message}")
        }
        other => panic!("expected invalid-input, got {other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with("node `rate-limiter` (filter) returned invalid-input"),
        "{err}"
    );

    let mut filter = limiter
        .instantiate_with(&serde_json::json!({"max_per_second": 2, "window_ms": 100}))
        .unwrap();
    let decisions: Vec<bool> = [1u64, 2, 3, 150]
        .into_iter()
        .enumerate()
        .map(|(seq, ms)| {
            let element = TestElement::text("payload")
                .sequence(seq as u64)
                .timestamp_ns(ms * 1_000_000);
            filter.evaluate(element).unwrap()
        })
        .collect();
    assert_eq!(decisions, [true, true, false, true]);
    let stats = filter.stats();
    assert_eq!(
        stats.payload_bytes_read, 0,
        "a metadata-only filter copies nothing"
    );
    assert_eq!(stats.reads, 0);
    assert_eq!(stats.allocations, 0);
    assert_eq!(stats.calls, 5, "init + 4 evaluate");
    filter.teardown().unwrap();

    // The wrong call for the role is a clear error, not a trap.
    let mut filter = limiter.instantiate("").unwrap();
    let err = filter.push(TestElement::text("x")).unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::WrongRole {
            expected: Role::Sink
        }
    ));
    assert_eq!(
        err.to_string(),
        "node `rate-limiter` (filter) has no `push`: that is a sink call, and this component is a filter"
    );
}

#[test]
fn processor_reads_once_allocates_exactly_and_emits() {
    let enricher = example("json-enricher");
    let mut processor = enricher
        .instantiate(r#"{"fields": {"region": "eu"}, "add_sequence": true, "add_trace_id": true}"#)
        .unwrap();
    let input = TestElement::json(serde_json::json!({"user": "ada"}))
        .sequence(7)
        .trace_id(TRACE);
    let input_len = input.payload().len() as u64;
    let Processed::Emit(output) = processor.process(input).unwrap() else {
        panic!("expected emit")
    };
    assert_eq!(
        output.json::<serde_json::Value>().unwrap(),
        serde_json::json!({"user": "ada", "region": "eu", "sequence": 7, "trace_id": TRACE})
    );
    assert_eq!(output.content_type, "application/json");
    assert_eq!(output.meta.content_type, "application/json");
    assert_eq!(output.meta.sequence, 7);
    let stats = processor.stats();
    assert_eq!(
        stats.payload_bytes_read, input_len,
        "the payload is read once"
    );
    assert_eq!(stats.reads, 1);
    assert_eq!(stats.allocations, 1);
    assert_eq!(
        stats.bytes_allocated,
        output.bytes().len() as u64,
        "exact capacity hint"
    );

    // invalid-input is an error value, and the instance keeps working.
    let err = processor
        .process(TestElement::json(serde_json::json!([1])))
        .unwrap_err();
    assert!(
        matches!(err.process_error(), Some(ProcessError::InvalidInput(m)) if m.contains("an array")),
        "{err}"
    );
    assert!(
        processor
            .process(TestElement::json(serde_json::json!({})))
            .is_ok()
    );
}

#[test]
fn allocation_failure_injection_reaches_the_component() {
    let mut processor = example("json-enricher").instantiate("").unwrap();
    processor.fail_next_allocation();
    let err = processor
        .process(TestElement::json(serde_json::json!({"a": 1})))
        .unwrap_err();
    let message = err
        .process_error()
        .map(ProcessError::message)
        .unwrap_or_default();
    assert!(message.contains("injected by the test"), "{err}");
    assert_eq!(processor.stats().failed_allocations, 1);
    // Only the next one failed.
    assert!(
        processor
            .process(TestElement::json(serde_json::json!({"a": 1})))
            .is_ok()
    );
}

#[test]
fn nth_call_failure_injection() {
    let mut filter = example("rate-limiter").instantiate("").unwrap();
    filter.fail_call(2, ProcessError::Unavailable("injected outage".into()));
    assert!(filter.evaluate(TestElement::text("a")).is_ok());
    let err = filter.evaluate(TestElement::text("b")).unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::Process { injected: true, .. }
    ));
    assert_eq!(
        err.process_error(),
        Some(&ProcessError::Unavailable("injected outage".into()))
    );
    assert!(filter.evaluate(TestElement::text("c")).is_ok());
    assert_eq!(
        filter.stats().calls,
        3,
        "init + 2 calls reached the component"
    );
}

#[test]
fn router_fans_out_by_port_name() {
    let mut router = example("content-router")
        .instantiate(r#"{"audit": ["application/json"]}"#)
        .unwrap();
    let ports: Vec<Vec<String>> = [
        TestElement::json(serde_json::json!({})),
        TestElement::text("hi").content_type("text/plain"),
        TestElement::text("").content_type("text/plain"),
    ]
    .into_iter()
    .map(|element| router.route(element).unwrap())
    .collect();
    assert_eq!(ports, [vec!["json", "audit"], vec!["text"], vec![]]);
    assert_eq!(router.stats().payload_bytes_read, 0);
}

#[test]
fn aggregator_emits_on_ingest_and_flush() {
    let mut aggregator = example("window-counter")
        .instantiate(r#"{"window": 2}"#)
        .unwrap();
    let mut emitted = Vec::new();
    for seq in 0..3 {
        let element = TestElement::text("x")
            .content_type("text/plain")
            .sequence(seq);
        emitted.push(
            aggregator
                .ingest(element)
                .unwrap()
                .map(|o| o.text().unwrap().to_string()),
        );
    }
    assert_eq!(
        emitted,
        [
            None,
            Some(r#"{"window":0,"count":2,"by_content_type":{"text/plain":2}}"#.to_string()),
            None
        ]
    );
    let rest: Vec<String> = aggregator
        .flush()
        .unwrap()
        .iter()
        .map(|o| o.text().unwrap().to_string())
        .collect();
    assert_eq!(
        rest,
        [r#"{"window":1,"count":1,"by_content_type":{"text/plain":1}}"#]
    );
}

#[test]
fn source_is_pulled_until_exhausted() {
    let mut source = example("line-source")
        .instantiate(r#"{"text": "a\n\nbc"}"#)
        .unwrap();
    source.notify_backpressure(Signal::Pause).unwrap();
    let lines = source.pull_all().unwrap();
    let texts: Vec<&str> = lines.iter().map(|o| o.text().unwrap()).collect();
    assert_eq!(texts, ["a", "bc"]);
    assert!(
        lines
            .iter()
            .all(|o| o.meta.content_type == "text/plain; charset=utf-8")
    );
    assert_eq!(source.stats().allocations, 2);
    assert_eq!(source.stats().bytes_allocated, 3);
    assert_eq!(source.pull().unwrap(), None, "stays exhausted");
}

#[test]
fn sink_pauses_completes_and_logs() {
    let mut sink = example("counting-sink")
        .instantiate(r#"{"pause_every": 2}"#)
        .unwrap();
    let signals: Vec<Signal> = (0..4)
        .map(|seq| sink.push(TestElement::text("abc").sequence(seq)).unwrap())
        .collect();
    assert_eq!(
        signals,
        [Signal::Ready, Signal::Pause, Signal::Ready, Signal::Pause]
    );
    sink.complete().unwrap();
    assert_eq!(sink.stats().payload_bytes_read, 0);
    let logs = sink.logs();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].level, "info");
    assert_eq!(logs[0].message, "counting sink: 4 elements, 12 bytes");
}

#[test]
fn loading_garbage_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("torvyn-testkit-garbage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("not_a_component.wasm");
    std::fs::write(&path, b"\0asm\x01\0\0\0").unwrap();
    let err = Component::from_file(&path).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("not-a-component"), "{message}");
    assert!(
        message.contains("not a valid WebAssembly component"),
        "{message}"
    );

    let err = Component::from_file(dir.join("missing.wasm")).unwrap_err();
    assert!(
        err.to_string().contains("build the component first"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
