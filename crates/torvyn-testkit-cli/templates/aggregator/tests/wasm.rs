//! Builds this crate to a `wasm32-wasip2` component and runs it on the
//! testkit's reference host (the Torvyn 0.1 contract, as the runtime calls it):
//! `init` with a config, `ingest` element by element, then `flush`.

use torvyn_testkit::{Component, ProcessError, Role, TestElement};

/// The component, built once per test binary (and cached on disk).
fn aggregator() -> Component {
    Component::build(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or_else(|err| panic!("building the component failed:\n{err}"))
}

#[test]
fn emits_full_batches_and_flushes_the_rest() {
    let component = aggregator();
    assert_eq!(component.role(), Role::Aggregator);
    let mut aggregator = component.instantiate(r#"{"batch": 2}"#).unwrap();
    let emitted: Vec<Option<String>> = ["a", "b", "c"]
        .into_iter()
        .enumerate()
        .map(|(seq, text)| {
            let element = TestElement::text(text).sequence(seq as u64);
            let output = aggregator.ingest(element).unwrap();
            output.map(|o| o.text().unwrap().to_string())
        })
        .collect();
    assert_eq!(emitted, [None, Some(r#"["a","b"]"#.to_string()), None]);

    let rest = aggregator.flush().unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].json::<Vec<String>>().unwrap(), ["c"]);
    assert_eq!(rest[0].content_type, "application/json");
    assert!(aggregator.flush().unwrap().is_empty(), "nothing left");

    // Each text is read once (3 bytes in all); one buffer per batch.
    let stats = aggregator.stats();
    assert_eq!((stats.reads, stats.payload_bytes_read), (3, 3));
    assert_eq!((stats.allocations, stats.bytes_allocated), (2, 14));
}

#[test]
fn binary_input_is_invalid_input() {
    let mut aggregator = aggregator().instantiate("").unwrap();
    let err = aggregator
        .ingest(TestElement::bytes(vec![0xff]))
        .unwrap_err();
    assert_eq!(err.call(), Some("ingest"));
    assert_eq!(
        err.process_error(),
        Some(&ProcessError::InvalidInput(
            "payload is not UTF-8: invalid utf-8 sequence of 1 bytes from index 0".into()
        ))
    );
    // The instance goes on with the next element.
    assert_eq!(aggregator.ingest(TestElement::text("ok")).unwrap(), None);
    let rest = aggregator.flush().unwrap();
    assert_eq!(rest[0].text(), Some(r#"["ok"]"#));
}

#[test]
fn a_zero_batch_fails_init_with_invalid_input() {
    let err = aggregator().instantiate(r#"{"batch": 0}"#).unwrap_err();
    assert_eq!(err.call(), Some("init"));
    assert_eq!(
        err.process_error(),
        Some(&ProcessError::InvalidInput(
            "`batch` must be at least 1".into()
        ))
    );
}
