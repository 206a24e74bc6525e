//! A property test of the compiled component: generated streams of elements,
//! each pushed in order to a fresh instance (then `complete`).
//! `torvyn_testkit::prop` also checks that the component never traps, never
//! hits its limits and never returns `fatal`; a failure is shrunk to the
//! shortest stream and printed as a test to paste.
//! `PROPTEST_CASES=1000 cargo test --test prop` runs more cases.

use torvyn_testkit::prop::{self, PropTest};
use torvyn_testkit::{Answer, Component, Signal};

#[test]
fn pauses_after_every_third_element() {
    let component = Component::build(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or_else(|err| panic!("building the component failed:\n{err}"));
    PropTest::new(&component)
        .config(r#"{"pause_every": 3}"#)
        .cases(16)
        .assert_sequence(prop::sequence(prop::element(), 0..10), |_, outcomes| {
            for (index, outcome) in outcomes.iter().enumerate() {
                let expected = if (index + 1) % 3 == 0 {
                    Signal::Pause
                } else {
                    Signal::Ready
                };
                if *outcome != Answer::Pushed(expected) {
                    return Err(format!(
                        "element {index}: expected {expected:?}, got {outcome:?}"
                    ));
                }
            }
            Ok(())
        });
}
