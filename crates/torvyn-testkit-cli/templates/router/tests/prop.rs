//! A property test of the compiled component: generated elements, a fresh
//! instance per case. `torvyn_testkit::prop` also checks that the component
//! never traps, never hits its limits and never returns `fatal`; a failure is
//! shrunk to the smallest element and printed as a test to paste.
//! `PROPTEST_CASES=1000 cargo test --test prop` runs more cases.

use torvyn_testkit::prop::{self, PropTest};
use torvyn_testkit::{Answer, Component};

#[test]
fn routes_by_size_and_audits_json() {
    let component = Component::build(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or_else(|err| panic!("building the component failed:\n{err}"));
    PropTest::new(&component)
        .config(r#"{"large_bytes": 8, "audit": ["application/json"]}"#)
        .cases(24)
        .assert(prop::element(), |element, outcome| {
            let size = element.payload().len();
            let mut expected = Vec::new();
            if size > 0 {
                expected.push(if size >= 8 { "large" } else { "small" });
                if element.content_type_str() == "application/json" {
                    expected.push("audit");
                }
            }
            let ports = match outcome {
                Answer::Routed(ports) => ports.iter().map(String::as_str).collect(),
                _ => Vec::new(),
            };
            prop::ensure(
                ports == expected,
                format!("expected {expected:?}, got {outcome:?}"),
            )
        });
}
