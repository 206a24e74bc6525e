//! Builds this crate to a `wasm32-wasip2` component and runs it on the
//! testkit's reference host (the Torvyn 0.1 contract, as the runtime calls it):
//! `init` with a config, `evaluate` element by element, `teardown`.

use torvyn_testkit::{Component, ProcessError, Role, TestElement};

/// The component, built once per test binary (and cached on disk).
fn filter() -> Component {
    Component::build(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or_else(|err| panic!("building the component failed:\n{err}"))
}

#[test]
fn passes_allowed_types_up_to_the_size_limit_without_reading_payloads() {
    let component = filter();
    assert_eq!(component.role(), Role::Filter);
    let mut filter = component
        .instantiate(r#"{"allow": ["application/json"], "max_bytes": 8}"#)
        .unwrap();
    let decisions: Vec<bool> = [
        TestElement::json(serde_json::json!([1, 2])),
        TestElement::json(serde_json::json!([1, 2]))
            .content_type("application/json; charset=utf-8"),
        TestElement::json(serde_json::json!("a long string")),
        TestElement::text("hi"),
    ]
    .into_iter()
    .map(|element| filter.evaluate(element).unwrap())
    .collect();
    assert_eq!(decisions, [true, true, false, false]);

    // The filter looks at metadata and sizes only: no payload byte is copied
    // into the component, and it allocates nothing.
    let stats = filter.stats();
    assert_eq!(
        (stats.reads, stats.payload_bytes_read, stats.allocations),
        (0, 0, 0)
    );

    assert!(filter.logs().is_empty(), "{:?}", filter.logs());
    filter.teardown().unwrap();
    let logs = filter.logs();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].level, "info");
    assert_eq!(
        logs[0].message,
        format!("{}: 2 passed, 2 dropped", env!("CARGO_PKG_NAME"))
    );
}

#[test]
fn an_empty_config_passes_everything() {
    let mut filter = filter().instantiate("").unwrap();
    let png = TestElement::bytes(vec![0; 3]).content_type("image/png");
    assert!(filter.evaluate(png).unwrap());
}

#[test]
fn bad_configs_fail_init_with_invalid_input() {
    let err = filter().instantiate(r#"{"max_bytes": "ten"}"#).unwrap_err();
    assert_eq!(err.call(), Some("init"));
    assert_eq!(
        err.process_error(),
        Some(&ProcessError::InvalidInput(
            "invalid config for `Config` (field `max_bytes`): invalid type: string \"ten\", \
             expected u64 at line 1 column 19"
                .into()
        ))
    );

    let err = filter()
        .options()
        .config_json(&serde_json::json!({"allow": [" "]}))
        .unwrap()
        .instantiate()
        .unwrap_err();
    assert_eq!(err.call(), Some("init"));
    assert_eq!(
        err.process_error(),
        Some(&ProcessError::InvalidInput(
            "`allow` contains an empty content type".into()
        ))
    );
}
