//! The windowed counter built to a component and run on the testkit's reference host.

use torvyn_testkit::{Component, TestElement};

#[test]
fn emits_a_summary_per_window_and_the_rest_on_flush() {
    let counter =
        Component::build(env!("CARGO_MANIFEST_DIR")).unwrap_or_else(|err| panic!("{err}"));
    let mut aggregator = counter.instantiate(r#"{"window": 2}"#).unwrap();
    let mut emitted = Vec::new();
    for seq in 0..3 {
        let element = TestElement::text("x").content_type("text/plain").sequence(seq);
        emitted.push(aggregator.ingest(element).unwrap().map(|o| o.text().unwrap().to_string()));
    }
    let window0 = r#"{"window":0,"count":2,"by_content_type":{"text/plain":2}}"#;
    assert_eq!(emitted, [None, Some(window0.to_string()), None]);
    let rest: Vec<String> =
        aggregator.flush().unwrap().iter().map(|o| o.text().unwrap().to_string()).collect();
    assert_eq!(rest, [r#"{"window":1,"count":1,"by_content_type":{"text/plain":1}}"#]);
    assert!(aggregator.flush().unwrap().is_empty(), "nothing left after a flush");
}
