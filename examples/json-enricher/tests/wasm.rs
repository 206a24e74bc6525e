//! The JSON enricher built to a component and run on the testkit's reference host.

use serde_json::json;
use torvyn_testkit::{Component, ProcessError, Processed, TestElement};

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";

fn enricher() -> Component {
    Component::build(env!("CARGO_MANIFEST_DIR")).unwrap_or_else(|err| panic!("{err}"))
}

#[test]
fn reads_once_allocates_exactly_and_emits() {
    let mut processor = enricher()
        .instantiate_with(
            &json!({"fields": {"region": "eu"}, "add_sequence": true, "add_trace_id": true}),
        )
        .unwrap();
    let input = TestElement::json(json!({"user": "ada"})).sequence(7).trace_id(TRACE);
    let input_len = input.payload().len() as u64;
    let Processed::Emit(output) = processor.process(input).unwrap() else {
        panic!("expected emit")
    };
    assert_eq!(
        output.json::<serde_json::Value>().unwrap(),
        json!({"user": "ada", "region": "eu", "sequence": 7, "trace_id": TRACE})
    );
    assert_eq!(
        (output.content_type.as_str(), output.meta.content_type.as_str()),
        ("application/json", "application/json")
    );
    assert_eq!(output.meta.sequence, 7);
    let stats = processor.stats();
    assert_eq!((stats.reads, stats.payload_bytes_read), (1, input_len), "the payload is read once");
    assert_eq!(
        (stats.allocations, stats.bytes_allocated),
        (1, output.bytes().len() as u64),
        "exact capacity hint"
    );
}

#[test]
fn non_objects_are_invalid_input_and_the_instance_goes_on() {
    let mut processor = enricher().instantiate("").unwrap();
    let err = processor.process(TestElement::json(json!([1]))).unwrap_err();
    assert!(
        matches!(err.process_error(), Some(ProcessError::InvalidInput(m)) if m.contains("an array")),
        "{err}"
    );
    assert!(processor.process(TestElement::json(json!({}))).is_ok());
}
