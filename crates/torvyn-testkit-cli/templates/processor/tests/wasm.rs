//! Builds this crate to a `wasm32-wasip2` component and runs it on the
//! testkit's reference host (the Torvyn 0.1 contract, as the runtime calls it):
//! `init` with a config, then `process` element by element.

use torvyn_testkit::{Component, ProcessError, Processed, Role, TestElement};

/// The component, built once per test binary (and cached on disk).
fn processor() -> Component {
    Component::build(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or_else(|err| panic!("building the component failed:\n{err}"))
}

#[test]
fn prefixes_and_uppercases_with_one_read_and_one_allocation() {
    let component = processor();
    assert_eq!(component.role(), Role::Processor);
    let mut processor = component
        .options()
        .config_json(&serde_json::json!({"prefix": "> ", "uppercase": true}))
        .unwrap()
        .instantiate()
        .unwrap();
    let Processed::Emit(output) = processor
        .process(TestElement::text("hello").sequence(3))
        .unwrap()
    else {
        panic!("expected an output")
    };
    assert_eq!(output.text(), Some("> HELLO"));
    assert_eq!(output.content_type, "text/plain; charset=utf-8");
    assert_eq!(output.meta.content_type, "text/plain; charset=utf-8");
    assert_eq!(output.meta.sequence, 3);

    // One copy of the 5 input bytes into the component, one 7-byte output buffer.
    let stats = processor.stats();
    assert_eq!((stats.reads, stats.payload_bytes_read), (1, 5));
    assert_eq!((stats.allocations, stats.bytes_allocated), (1, 7));
}

#[test]
fn drops_empty_input_and_rejects_binary_input() {
    let mut processor = processor().instantiate("").unwrap();
    assert_eq!(
        processor.process(TestElement::text("")).unwrap(),
        Processed::Drop
    );
    let err = processor
        .process(TestElement::bytes(vec![0xff, 0xfe]))
        .unwrap_err();
    assert_eq!(err.call(), Some("process"));
    assert_eq!(
        err.process_error(),
        Some(&ProcessError::InvalidInput(
            "payload is not UTF-8: invalid utf-8 sequence of 1 bytes from index 0".into()
        ))
    );
    // `invalid-input` is not fatal: the instance takes the next element.
    let output = processor.process(TestElement::text("ok")).unwrap().output();
    assert_eq!(output.unwrap().text(), Some("ok"));
}

#[test]
fn a_refused_allocation_is_unavailable() {
    let mut processor = processor().instantiate("").unwrap();
    processor.fail_next_allocation();
    let err = processor.process(TestElement::text("x")).unwrap_err();
    assert!(
        matches!(err.process_error(), Some(ProcessError::Unavailable(_))),
        "{err}"
    );
    assert_eq!(processor.stats().failed_allocations, 1);
    let output = processor.process(TestElement::text("x")).unwrap().output();
    assert_eq!(output.unwrap().text(), Some("x"));
}

#[test]
fn bad_configs_fail_init_with_invalid_input() {
    let err = processor().instantiate(r#"{"prefx": "> "}"#).unwrap_err();
    assert_eq!(err.call(), Some("init"));
    assert_eq!(
        err.process_error(),
        Some(&ProcessError::InvalidInput(
            "invalid config for `Config` (field `prefx`): unknown field `prefx`, expected \
             `prefix` or `uppercase` at line 1 column 8"
                .into()
        ))
    );
}
