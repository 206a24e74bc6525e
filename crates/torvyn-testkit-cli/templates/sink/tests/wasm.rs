//! Builds this crate to a `wasm32-wasip2` component and runs it on the
//! testkit's reference host (the Torvyn 0.1 contract, as the runtime calls it):
//! `init` with a config, `push` element by element, `complete`.

use torvyn_testkit::{Component, ProcessError, Role, Signal, TestElement};

/// The component, built once per test binary (and cached on disk).
fn sink() -> Component {
    Component::build(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or_else(|err| panic!("building the component failed:\n{err}"))
}

#[test]
fn counts_pauses_every_n_and_logs_the_totals() {
    let component = sink();
    assert_eq!(component.role(), Role::Sink);
    let mut sink = component.instantiate(r#"{"pause_every": 2}"#).unwrap();
    let signals: Vec<Signal> = (0..3)
        .map(|seq| sink.push(TestElement::text("abc").sequence(seq)).unwrap())
        .collect();
    assert_eq!(signals, [Signal::Ready, Signal::Pause, Signal::Ready]);
    assert!(sink.logs().is_empty());
    sink.complete().unwrap();
    let logs = sink.logs();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].level, "info");
    assert_eq!(
        logs[0].message,
        format!("{}: 3 elements, 9 bytes", env!("CARGO_PKG_NAME"))
    );
    // Sizes come from the buffer, not from copying the payload.
    let stats = sink.stats();
    assert_eq!((stats.reads, stats.payload_bytes_read), (0, 0));
}

#[test]
fn the_default_config_never_pauses() {
    let mut sink = sink().instantiate("").unwrap();
    for seq in 0..10 {
        assert_eq!(
            sink.push(TestElement::bytes(vec![1]).sequence(seq))
                .unwrap(),
            Signal::Ready
        );
    }
}

#[test]
fn bad_configs_fail_init_with_invalid_input() {
    let err = sink().instantiate(r#"{"pause_every": "x"}"#).unwrap_err();
    assert_eq!(err.call(), Some("init"));
    assert_eq!(
        err.process_error(),
        Some(&ProcessError::InvalidInput(
            "invalid config for `Config` (field `pause_every`): invalid type: string \"x\", \
             expected u64 at line 1 column 19"
                .into()
        ))
    );
}
