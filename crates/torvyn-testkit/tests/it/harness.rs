//! The single-component harness on real components: every role, config, state,
//! copy accounting, allocation, logs, capabilities and fault injection.

use std::path::Path;

use torvyn_testkit::{Component, ErrorKind, ProcessError, Role, TestElement};

use crate::support::{example, fixture, scratch};

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
fn init_order_config_errors_and_wrong_role_calls() {
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
fn loading_garbage_is_a_clear_error() {
    let dir = scratch("garbage");
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

/// The bench's trivial SDK filter has no `init`: its config is ignored, with a
/// warning in the testkit's (debug) build, and the component still works.
#[test]
fn a_component_without_init_ignores_its_config_with_a_warning() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../torvyn-bench/components/sdk-filter");
    let filter = Component::build(dir).unwrap_or_else(|err| panic!("{err}"));

    let mut quiet = filter.instantiate(" \n").unwrap();
    assert!(quiet.logs().is_empty(), "{:?}", quiet.logs());

    let mut configured = filter.instantiate(r#"{"min": 8}"#).unwrap();
    let logs = configured.logs();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(
        (logs[0].level.as_str(), logs[0].message.as_str()),
        (
            "warn",
            "this component has no `init`; its config is ignored"
        )
    );
    assert!(configured.evaluate(TestElement::text("four")).unwrap());
    assert!(!configured.evaluate(TestElement::text("abc")).unwrap());
    assert!(quiet.evaluate(TestElement::text("four")).unwrap());
}
