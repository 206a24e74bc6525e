//! The counting sink built to a component and run on the testkit's reference host.

use torvyn_testkit::{Component, Signal, TestElement};

#[test]
fn pauses_every_n_completes_and_logs_totals() {
    let sink = Component::build(env!("CARGO_MANIFEST_DIR")).unwrap_or_else(|err| panic!("{err}"));
    let mut sink = sink.instantiate(r#"{"pause_every": 2}"#).unwrap();
    let signals: Vec<Signal> =
        (0..4).map(|seq| sink.push(TestElement::text("abc").sequence(seq)).unwrap()).collect();
    assert_eq!(signals, [Signal::Ready, Signal::Pause, Signal::Ready, Signal::Pause]);
    sink.complete().unwrap();
    assert_eq!(sink.stats().payload_bytes_read, 0, "sizes come from metadata, not reads");
    let logs = sink.logs();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(
        (logs[0].level.as_str(), logs[0].message.as_str()),
        ("info", "counting sink: 4 elements, 12 bytes")
    );
}
