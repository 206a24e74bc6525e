//! The generated native adapter of a stateless processor: any config is
//! accepted (a non-empty one is logged as ignored) and errors pass through.
//!
//! A test binary of its own on purpose: a crate is one component (the
//! macros reject a second role attribute in a crate, and the generated
//! `__TorvynComponent` is one per crate), so each generated adapter needs a
//! crate of its own. It links `torvyn-guest` only, not the testkit or wasmtime.

use torvyn_guest::__private::{Lifecycle, Processor};
use torvyn_guest::prelude::*;
use torvyn_guest::testing::{self, ElementBuilder};

#[torvyn::processor]
fn upper(element: &Element) -> Result<Output> {
    Output::text(element.text()?.to_uppercase())
}

#[test]
fn processes_and_converts_errors() {
    let out = __TorvynComponent::process(&ElementBuilder::new().text("abc").build())
        .unwrap()
        .unwrap();
    assert_eq!(out.to_text().unwrap(), "ABC");
    let bad = ElementBuilder::new().bytes(vec![0xff]).build();
    let err = __TorvynComponent::process(&bad).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn init_accepts_and_logs_ignored_config() {
    testing::take_logs();
    __TorvynComponent::init("").unwrap();
    assert!(testing::take_logs().is_empty());
    __TorvynComponent::init(r#"{"x": 1}"#).unwrap();
    let logs = testing::take_logs();
    assert_eq!(logs.len(), 1);
    assert!(logs[0].starts_with("[warn] "), "{logs:?}");
}
