//! Builds this crate to a `wasm32-wasip2` component and runs it on the
//! testkit's reference host (the Torvyn 0.1 contract, as the runtime calls it):
//! `init` with a config, `pull` until exhausted, `notify-backpressure`.

use torvyn_testkit::{Component, Pipeline, ProcessError, Role, Signal};

/// The component, built once per test binary (and cached on disk).
fn source() -> Component {
    Component::build(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or_else(|err| panic!("building the component failed:\n{err}"))
}

#[test]
fn emits_count_json_records_then_ends() {
    let component = source();
    assert_eq!(component.role(), Role::Source);
    let mut source = component
        .instantiate(r#"{"count": 2, "label": "x"}"#)
        .unwrap();
    let outputs = source.pull_all().unwrap();
    let texts: Vec<&str> = outputs.iter().map(|o| o.text().unwrap()).collect();
    assert_eq!(texts, [r#"{"n":0,"label":"x"}"#, r#"{"n":1,"label":"x"}"#]);
    let sequences: Vec<u64> = outputs.iter().map(|o| o.meta.sequence).collect();
    assert_eq!(sequences, [0, 1]);
    assert!(
        outputs
            .iter()
            .all(|o| o.content_type == "application/json" && o.meta.content_type == o.content_type)
    );
    assert_eq!(source.pull().unwrap(), None, "stays exhausted");

    // One allocation per record, of exactly its size.
    let stats = source.stats();
    assert_eq!((stats.allocations, stats.bytes_allocated), (2, 38));
}

#[test]
fn hears_backpressure() {
    let mut source = source().instantiate(r#"{"count": 1}"#).unwrap();
    source.notify_backpressure(Signal::Pause).unwrap();
    source.pull().unwrap().unwrap();
    source.notify_backpressure(Signal::Ready).unwrap();
    let logs: Vec<(String, String)> = source
        .logs()
        .into_iter()
        .map(|line| (line.level, line.message))
        .collect();
    let name = env!("CARGO_PKG_NAME");
    assert_eq!(
        logs,
        [
            ("debug".into(), format!("{name}: Pause after 0 records")),
            ("debug".into(), format!("{name}: Ready after 1 records")),
        ]
    );
}

#[test]
fn a_refused_allocation_is_unavailable() {
    let mut source = source().instantiate("").unwrap();
    source.fail_next_allocation();
    let err = source.pull().unwrap_err();
    assert_eq!(err.call(), Some("pull"));
    assert!(
        matches!(err.process_error(), Some(ProcessError::Unavailable(_))),
        "{err}"
    );
}

#[test]
fn runs_in_a_pipeline_into_a_collector() {
    let run = Pipeline::new("main")
        .component("records", &source(), r#"{"count": 3, "label": "tick"}"#)
        .collector("out")
        .edge("records", "out")
        .run()
        .unwrap_or_else(|err| panic!("{err}"));
    let n: Vec<u64> = run
        .received("out")
        .iter()
        .map(|o| {
            o.json::<serde_json::Value>().unwrap()["n"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(n, [0, 1, 2]);
    assert_eq!(run.node("records").emitted, 3);
    assert!(run.unaccounted().is_empty());
}

#[test]
fn bad_configs_fail_init_with_invalid_input() {
    let err = source().instantiate(r#"{"count": -1}"#).unwrap_err();
    assert_eq!(err.call(), Some("init"));
    assert_eq!(
        err.process_error(),
        Some(&ProcessError::InvalidInput(
            "invalid config for `Config` (field `count`): invalid value: integer `-1`, \
             expected u64 at line 1 column 12"
                .into()
        ))
    );
}
