//! The rate limiter built to a component and run on the testkit's reference host.

use torvyn_testkit::{Component, ProcessError, TestElement};

fn limiter() -> Component {
    Component::build(env!("CARGO_MANIFEST_DIR")).unwrap_or_else(|err| panic!("{err}"))
}

#[test]
fn passes_at_most_max_per_window_without_reading_payloads() {
    let mut filter = limiter().instantiate(r#"{"max_per_second": 2, "window_ms": 100}"#).unwrap();
    let decisions: Vec<bool> = [1u64, 2, 3, 150]
        .into_iter()
        .enumerate()
        .map(|(seq, ms)| {
            let element =
                TestElement::text("payload").sequence(seq as u64).timestamp_ns(ms * 1_000_000);
            filter.evaluate(element).unwrap()
        })
        .collect();
    assert_eq!(decisions, [true, true, false, true]);
    let stats = filter.stats();
    assert_eq!((stats.payload_bytes_read, stats.reads, stats.allocations), (0, 0, 0));
    filter.teardown().unwrap();
}

#[test]
fn teardown_logs_the_totals() {
    let mut filter = limiter().instantiate(r#"{"max_per_second": 1}"#).unwrap();
    for _ in 0..3 {
        filter.evaluate(TestElement::text("x")).unwrap();
    }
    assert!(filter.logs().is_empty());
    filter.teardown().unwrap();
    let logs = filter.logs();
    assert_eq!(logs.len(), 1);
    assert_eq!(
        (logs[0].level.as_str(), logs[0].message.as_str()),
        ("info", "rate limiter: 1 passed, 2 dropped")
    );
    let err = filter.evaluate(TestElement::text("late")).unwrap_err();
    assert!(err.to_string().contains("torn down"), "{err}");
}

#[test]
fn bad_config_is_invalid_input_naming_the_field() {
    let err = limiter().instantiate(r#"{"max_per_second": "x"}"#).unwrap_err();
    assert_eq!(err.call(), Some("init"));
    match err.process_error() {
        Some(ProcessError::InvalidInput(message)) => {
            assert!(
                message.contains("field `max_per_second`") && message.contains("line 1 column"),
                "{message}"
            )
        }
        other => panic!("expected invalid-input, got {other:?}"),
    }
    let err = limiter().instantiate(r#"{"max_per_second": 0}"#).unwrap_err();
    assert!(err.to_string().contains("`max_per_second` must be greater than 0"), "{err}");
}
