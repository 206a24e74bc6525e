//! A property test of the compiled component: generated streams of text
//! elements, each fed in order to a fresh instance (then `flush`).
//! `torvyn_testkit::prop` also checks that the component never traps, never
//! hits its limits and never returns `fatal`; a failure is shrunk to the
//! shortest stream and printed as a test to paste.
//! `PROPTEST_CASES=1000 cargo test --test prop` runs more cases.

use torvyn_testkit::Component;
use torvyn_testkit::prop::{self, PropTest};

#[test]
fn emits_one_batch_per_full_window() {
    let component = Component::build(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or_else(|err| panic!("building the component failed:\n{err}"));
    PropTest::new(&component)
        .config(r#"{"batch": 3}"#)
        .cases(16)
        .assert_sequence(
            prop::sequence(prop::text_from("[a-z]{0,6}"), 0..12),
            |input, outcomes| {
                let batches = outcomes.iter().filter(|o| o.output().is_some()).count();
                prop::ensure(
                    batches == input.len() / 3,
                    format!("{} elements gave {batches} batches", input.len()),
                )
            },
        );
}
