//! Property-based tests of compiled components and pipelines, built on
//! [`proptest`](mod@proptest).
//!
//! Strategies generate [`TestElement`]s (bytes, UTF-8 text, JSON from a
//! strategy of your own or a schema-less generator, content types,
//! timestamps, numbered sequences); [`PropTest`] feeds them to a compiled
//! component, a fresh instance per case, and [`PipelineProp`] feeds generated
//! input streams to a [`Pipeline`]. Besides the author's property, every case
//! checks the built-in ones:
//!
//! - the component never traps (panics, `unreachable`, contract violations);
//! - it never exceeds its limits (time, memory, fuel: [`Limits`]);
//! - it never returns `fatal`, unless [`allow_fatal`](PropTest::allow_fatal);
//! - every element is accounted for (one answer per element; in a pipeline,
//!   every element delivered, dropped, failed or dead-lettered).
//!
//! On a failure proptest shrinks the input to the smallest one that still
//! fails, and the panic message shows the component's error (with its panic
//! message and backtrace) and the input as a ready-to-paste regression test,
//! which fails as long as the component does: it runs the case again
//! ([`PropTest::run_case`]) and, when the author's property failed, asserts
//! that the component no longer gives the answers it failed on. Failing cases
//! are persisted beside the test file, with the extension
//! `.proptest-regressions` (`tests/prop.rs` gets
//! `tests/prop.proptest-regressions`; commit it), and replayed first on the
//! next run. `PROPTEST_CASES` overrides the number of cases.
//!
//! ```no_run
//! use torvyn_testkit::prop::{self, PropTest};
//! use torvyn_testkit::Component;
//!
//! let component = Component::build(env!("CARGO_MANIFEST_DIR")).unwrap();
//! PropTest::new(&component)
//!     .config(r#"{"min_len": 3}"#)
//!     .cases(32)
//!     .assert(prop::text(0..16), |element, outcome| {
//!         // the author's property: long enough texts pass, short ones are dropped
//!         let long = element.payload().len() >= 3;
//!         prop::ensure(outcome.passed() == Some(long), "passes exactly the long ones")
//!     });
//! ```
//!
//! [`Pipeline`]: crate::Pipeline
//! [`Limits`]: crate::Limits

// proptest's `TestError` carries the failing case (a `TestElement`, or a whole
// input stream) by value: the large `Err` is proptest's design, not ours.
#![allow(clippy::result_large_err)]

mod pipeline_prop;
mod prop_test;
mod settings;
mod strategy;
mod to_code;

use std::fmt;

pub use proptest;

pub use pipeline_prop::PipelineProp;
pub use prop_test::PropTest;
pub use strategy::{
    bytes, content_type, element, json, json_of, json_value, sequence, text, text_from,
    timestamp_ns,
};

use crate::element::TestElement;

/// The cases a property runs when neither [`PropTest::cases`] nor
/// `PROPTEST_CASES` says otherwise: few, so that it stays quick in CI.
pub const DEFAULT_CASES: u32 = 32;

/// A property's verdict: `Ok(())` or the reason it does not hold.
pub type Verdict = Result<(), String>;

/// `Ok(())` when `condition` holds, otherwise `Err(message)`: the usual last
/// line of a property.
pub fn ensure(condition: bool, message: impl fmt::Display) -> Verdict {
    if condition {
        Ok(())
    } else {
        Err(message.to_string())
    }
}

/// A property that failed: the minimal input proptest shrank it to, why it
/// fails, and that input as a regression test. The `Display` shows all three.
#[derive(Clone, Debug)]
pub struct PropFailure {
    /// The smallest failing input (one element for single-element properties).
    pub input: Vec<TestElement>,
    /// Why it fails: the component's error (panic message, backtrace) or the
    /// property's message.
    pub reason: String,
    /// The input as a ready-to-paste `#[test]`, which fails as long as the
    /// component fails the property on it (see [`PropTest::run_case`]).
    pub regression: String,
}

impl fmt::Display for PropFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "property failed: {}", self.reason)?;
        let count = self.input.len();
        writeln!(
            f,
            "\nminimal failing input ({count} element{}), as a regression test:\n",
            if count == 1 { "" } else { "s" }
        )?;
        f.write_str(&self.regression)
    }
}

impl std::error::Error for PropFailure {}
