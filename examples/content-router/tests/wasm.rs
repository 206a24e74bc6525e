//! The content-type router built to a component and run on the testkit's reference host.

use torvyn_testkit::{Component, TestElement};

#[test]
fn routes_by_content_type_with_audit_fan_out_and_reads_nothing() {
    let router = Component::build(env!("CARGO_MANIFEST_DIR")).unwrap_or_else(|err| panic!("{err}"));
    let mut router = router.instantiate(r#"{"audit": ["application/json"]}"#).unwrap();
    let ports: Vec<Vec<String>> = [
        TestElement::json(serde_json::json!({})),
        TestElement::text("hi").content_type("text/plain"),
        TestElement::bytes(vec![0xff]),
        TestElement::text("").content_type("text/plain"),
    ]
    .into_iter()
    .map(|element| router.route(element).unwrap())
    .collect();
    assert_eq!(ports, [vec!["json", "audit"], vec!["text"], vec!["other"], vec![]]);
    assert_eq!(router.stats().payload_bytes_read, 0);
}
