//! The line source built to a component and run on the testkit's reference host.

use torvyn_testkit::{Component, Signal};

#[test]
fn pulls_one_line_per_element_until_exhausted() {
    let source = Component::build(env!("CARGO_MANIFEST_DIR")).unwrap_or_else(|err| panic!("{err}"));
    let mut source = source.instantiate(r#"{"text": "a\n\nbc"}"#).unwrap();
    source.notify_backpressure(Signal::Pause).unwrap();
    let lines = source.pull_all().unwrap();
    let texts: Vec<&str> = lines.iter().map(|o| o.text().unwrap()).collect();
    assert_eq!(texts, ["a", "bc"]);
    assert!(lines.iter().all(|o| o.meta.content_type == "text/plain; charset=utf-8"));
    assert_eq!(
        (source.stats().allocations, source.stats().bytes_allocated),
        (2, 3),
        "exact allocations"
    );
    assert_eq!(source.pull().unwrap(), None, "stays exhausted");
}

#[test]
fn a_config_without_text_is_rejected() {
    let source = Component::build(env!("CARGO_MANIFEST_DIR")).unwrap_or_else(|err| panic!("{err}"));
    let err = source.instantiate("{}").unwrap_err();
    assert!(err.to_string().contains("missing field `text`"), "{err}");
}
