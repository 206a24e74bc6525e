//! A property test of the compiled component: generated ASCII text elements, a
//! fresh instance per case. `torvyn_testkit::prop` also checks that the
//! component never traps, never hits its limits and never returns `fatal`; a
//! failure is shrunk to the smallest element and printed as a test to paste.
//! `PROPTEST_CASES=1000 cargo test --test prop` runs more cases.

use torvyn_testkit::Component;
use torvyn_testkit::prop::{self, PropTest};

#[test]
fn emits_the_prefixed_uppercase_text_and_drops_empty_input() {
    let component = Component::build(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or_else(|err| panic!("building the component failed:\n{err}"));
    PropTest::new(&component)
        .config(r#"{"prefix": "> ", "uppercase": true}"#)
        .cases(24)
        .assert(prop::text_from("[a-z0-9 ]{0,24}"), |element, outcome| {
            let input = std::str::from_utf8(element.payload().as_bytes()).unwrap_or_default();
            let expected = (!input.is_empty()).then(|| format!("> {}", input.to_uppercase()));
            let got = outcome.output().and_then(|output| output.text());
            prop::ensure(
                got == expected.as_deref(),
                format!("expected {expected:?}, got {outcome:?}"),
            )
        });
}
