//! The generated native adapter of a stateful filter with a required `init`:
//! typed config, config errors, handler before `init`, teardown. (The wasm
//! export glue forwards to exactly these functions.)
//!
//! A test binary of its own on purpose: a crate is one component (the
//! macros reject a second role attribute in a crate, and the generated
//! `__TorvynComponent` is one per crate), so each generated adapter needs a
//! crate of its own. It links `torvyn-guest` only, not the testkit or wasmtime.

use torvyn_guest::__private::{Filter, Lifecycle};
use torvyn_guest::prelude::*;
use torvyn_guest::testing::ElementBuilder;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    max: u64,
}

struct Limit {
    max: u64,
    seen: u64,
}

#[torvyn::filter]
impl Limit {
    fn init(config: Config) -> Result<Self> {
        if config.max == 0 {
            return Err(Error::invalid_input("`max` must be positive"));
        }
        Ok(Self {
            max: config.max,
            seen: 0,
        })
    }

    fn evaluate(&mut self, _element: &Element) -> bool {
        self.seen += 1;
        self.seen <= self.max
    }

    fn teardown(&mut self) {
        info!("saw {}", self.seen);
    }
}

type C = __TorvynComponent;

fn element() -> Element<'static> {
    ElementBuilder::new().build()
}

#[test]
fn handler_before_init_is_internal() {
    let err = C::evaluate(&element()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal);
    assert!(
        err.message()
            .contains("`evaluate` was called before `init`"),
        "{err}"
    );
}

#[test]
fn init_parses_typed_config_and_state_persists() {
    C::init(r#"{"max": 2}"#).unwrap();
    let decisions: Vec<bool> = (0..3).map(|_| C::evaluate(&element()).unwrap()).collect();
    assert_eq!(decisions, [true, true, false]);
    torvyn_guest::testing::take_logs();
    C::teardown();
    assert_eq!(torvyn_guest::testing::take_logs(), ["[info] saw 3"]);
    let err = C::evaluate(&element()).unwrap_err();
    assert!(err.message().contains("after `teardown`"), "{err}");
}

#[test]
fn config_errors_are_invalid_input_naming_field_line_and_column() {
    let err = C::init("{\n  \"max\": \"lots\"\n}").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let text = err.message();
    assert!(text.contains("field `max`"), "{text}");
    assert!(text.contains("line 2 column"), "{text}");
    let err = C::init(r#"{"max": 1, "min": 0}"#).unwrap_err();
    assert!(err.message().contains("unknown field `min`"), "{err}");
}

#[test]
fn empty_config_without_default_is_a_clear_error() {
    let err = C::init("").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("has no `Default`"), "{err}");
}

#[test]
fn init_errors_are_returned() {
    let err = C::init(r#"{"max": 0}"#).unwrap_err();
    assert_eq!(err.to_string(), "invalid input: `max` must be positive");
}
