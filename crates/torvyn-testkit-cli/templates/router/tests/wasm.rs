//! Builds this crate to a `wasm32-wasip2` component and runs it on the
//! testkit's reference host (the Torvyn 0.1 contract, as the runtime calls it):
//! `init` with a config, then `route` element by element.

use torvyn_testkit::{Component, Pipeline, ProcessError, Role, TestElement};

/// The component, built once per test binary (and cached on disk).
fn router() -> Component {
    Component::build(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or_else(|err| panic!("building the component failed:\n{err}"))
}

#[test]
fn routes_by_size_fans_out_to_audit_and_reads_nothing() {
    let component = router();
    assert_eq!(component.role(), Role::Router);
    let mut router = component
        .instantiate(r#"{"large_bytes": 4, "audit": ["application/json"]}"#)
        .unwrap();
    let ports: Vec<Vec<String>> = [
        TestElement::text("abc"),
        TestElement::text("abcd"),
        TestElement::json(serde_json::json!([1, 2, 3])),
        TestElement::bytes(Vec::new()),
    ]
    .into_iter()
    .map(|element| router.route(element).unwrap())
    .collect();
    assert_eq!(
        ports,
        [vec!["small"], vec!["large"], vec!["large", "audit"], vec![]]
    );
    let stats = router.stats();
    assert_eq!(
        (stats.reads, stats.payload_bytes_read, stats.allocations),
        (0, 0, 0)
    );
}

#[test]
fn fan_out_delivers_the_same_element_to_both_ports() {
    let run = Pipeline::new("main")
        .source(
            "input",
            [
                TestElement::text("hi"),
                TestElement::json(serde_json::json!({"big": true})),
                TestElement::text(""),
            ],
        )
        .component(
            "route",
            &router(),
            r#"{"large_bytes": 8, "audit": ["application/json"]}"#,
        )
        .collector("small")
        .collector("large")
        .collector("audit")
        .edge("input", "route")
        .edge_from_port("route", "small", "small")
        .edge_from_port("route", "large", "large")
        .edge_from_port("route", "audit", "audit")
        .run()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(run.received_text("small"), ["hi"]);
    assert_eq!(run.received_text("large"), [r#"{"big":true}"#]);
    assert_eq!(run.received_text("audit"), [r#"{"big":true}"#]);
    assert_eq!(run.received("audit")[0].meta.sequence, 1);
    let route = run.node("route");
    assert_eq!((route.received, route.emitted, route.dropped), (3, 2, 1));
    assert!(run.unaccounted().is_empty());
}

#[test]
fn a_zero_threshold_fails_init_with_invalid_input() {
    let err = router().instantiate(r#"{"large_bytes": 0}"#).unwrap_err();
    assert_eq!(err.call(), Some("init"));
    assert_eq!(
        err.process_error(),
        Some(&ProcessError::InvalidInput(
            "`large_bytes` must be at least 1".into()
        ))
    );
}
