//! Differential tests of the testkit's pipeline runner against upstream
//! Torvyn's own reactor (`torvyn-reactor` 0.1.1's `FlowDriver`).
//!
//! A [`Flow`] (sources, filters, processors, sinks, edges with queue depths,
//! an error and a backpressure policy, and per node a script by sequence
//! number: pass, drop, fail, `fatal`, `pause`) runs twice:
//!
//! - on upstream's `FlowDriver`, through a `ComponentInvoker` that plays the
//!   script ([`upstream::run`]), on a current-thread runtime (the driver is
//!   one task: deterministic);
//! - on the testkit's [`Pipeline`](torvyn_testkit::Pipeline), with
//!   a host source and scripted nodes ([`ours::run`]).
//!
//! Each run gives an [`Observation`]: how the flow ended (and which node
//! failed), per sink the sequence numbers accepted in order, per node its
//! counts (upstream's `ComponentMetrics`), the stage executions in order,
//! the peak depth of each queue and the backpressure pauses.
//! [`disagreement`] compares the fields [`Field::compared`] names for the
//! flow. The tests (`tests/differential.rs`) generate flows with proptest,
//! keep a corpus of cases, and pin every documented difference with
//! [`assert_differs`].
//!
//! A dev-only crate (`publish = false`): nothing a component author compiles
//! depends on it.

#![deny(unsafe_code)]

pub mod flow;
pub mod generate;
pub mod observe;
pub mod ours;
pub mod upstream;

pub use flow::{BackpressurePolicy, Flow, OnError, Role, Step};
pub use observe::{Disagreement, Field, Observation, compare};

/// Run `flow` on both hosts and compare what [`Field::compared`] names:
/// `None` when they agree.
pub fn disagreement(flow: &Flow) -> Option<Disagreement> {
    let upstream = upstream::run(flow);
    let ours = ours::run(flow);
    compare(&upstream, &ours, &Field::compared(flow))
}

/// The ready-to-run test that reproduces a disagreement: it fails while the
/// two hosts disagree on `flow`.
pub fn case(flow: &Flow, disagreement: &Disagreement) -> String {
    let found: String = disagreement
        .to_string()
        .lines()
        .map(|line| format!("// {line}\n"))
        .collect();
    format!(
        "// upstream and the testkit disagree:\n{found}#[test]\nfn disagreement() {{\n    \
         use torvyn_differential::*;\n    let flow = {};\n    assert_agree(&flow);\n}}\n",
        flow.to_rust()
    )
}

/// Assert that upstream and the testkit agree on `flow`.
///
/// # Panics
///
/// When they disagree, with the fields that differ and the case as a test.
pub fn assert_agree(flow: &Flow) {
    if let Some(disagreement) = disagreement(flow) {
        panic!(
            "upstream and the testkit disagree:\n{disagreement}\n{}",
            case(flow, &disagreement)
        );
    }
}

/// Assert that upstream and the testkit differ on `flow` in exactly
/// `fields` (of every field, not only those [`Field::compared`] names):
/// pins a documented difference, and fails once it is gone or grows.
///
/// # Panics
///
/// When the differing fields are not `fields`.
pub fn assert_differs(flow: &Flow, fields: &[Field]) -> Disagreement {
    let upstream = upstream::run(flow);
    let ours = ours::run(flow);
    let found = compare(&upstream, &ours, &Field::ALL);
    let differing: Vec<Field> = found
        .iter()
        .flat_map(|d| d.fields.iter().map(|(field, ..)| *field))
        .collect();
    assert_eq!(
        differing,
        fields,
        "the documented difference changed on\n{}\n{}",
        flow.to_rust(),
        found.as_ref().map(ToString::to_string).unwrap_or_default()
    );
    found.expect("a difference")
}
