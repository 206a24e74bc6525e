//! A property test of the compiled component: generated elements (bytes, text
//! and JSON with assorted content types), a fresh instance per case, and the
//! property checked on every one. `torvyn_testkit::prop` also checks that the
//! component never traps, never hits its limits and never returns `fatal`; a
//! failure is shrunk to the smallest element and printed as a test to paste.
//! `PROPTEST_CASES=1000 cargo test --test prop` runs more cases.

use torvyn_testkit::Component;
use torvyn_testkit::prop::{self, PropTest};

#[test]
fn passes_exactly_the_allowed_types_up_to_the_size_limit() {
    let component = Component::build(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or_else(|err| panic!("building the component failed:\n{err}"));
    PropTest::new(&component)
        .config(r#"{"allow": ["application/json", "text/plain"], "max_bytes": 16}"#)
        .cases(24)
        .assert(prop::element(), |element, outcome| {
            let essence = element.content_type_str().split(';').next().unwrap_or("");
            let allowed = matches!(essence.trim(), "application/json" | "text/plain");
            let expected = allowed && element.payload().len() <= 16;
            prop::ensure(
                outcome.passed() == Some(expected),
                format!("expected pass = {expected}, got {outcome:?}"),
            )
        });
}
