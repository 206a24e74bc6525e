//! The generated native adapter of a stateful sink whose state is `Default`
//! and whose config type is `Default`: empty config uses `Default`, handlers
//! work without `init`, re-entrant use traps with a message.
//!
//! A test binary of its own on purpose: a crate is one component (the
//! macros reject a second role attribute in a crate, and the generated
//! `__TorvynComponent` is one per crate), so each generated adapter needs a
//! crate of its own. It links `torvyn-guest` only, not the testkit or wasmtime.

use torvyn_guest::__private::{Lifecycle, Sink};
use torvyn_guest::prelude::*;
use torvyn_guest::testing::ElementBuilder;

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Config {
    pause_every: u64,
}

#[derive(Default)]
struct Count {
    pause_every: u64,
    n: u64,
}

#[torvyn::sink]
impl Count {
    fn init(config: Config) -> Self {
        Self {
            pause_every: config.pause_every,
            n: 0,
        }
    }

    fn push(&mut self, element: &Element) -> Backpressure {
        self.n += 1;
        if element.content_type() == "reenter" {
            // A handler that calls back into the component: a clean trap.
            let _ = __TorvynComponent::push(&ElementBuilder::new().build());
        }
        if self.pause_every != 0 && self.n.is_multiple_of(self.pause_every) {
            Backpressure::Pause
        } else {
            Backpressure::Ready
        }
    }
}

type C = __TorvynComponent;

#[test]
fn empty_config_uses_default() {
    C::init("").unwrap();
    let element = ElementBuilder::new().build();
    assert_eq!(C::push(&element).unwrap(), Backpressure::Ready);
    C::complete().unwrap();
}

#[test]
fn config_drives_pauses() {
    C::init(r#"{"pause_every": 2}"#).unwrap();
    let element = ElementBuilder::new().build();
    let signals: Vec<_> = (0..4).map(|_| C::push(&element).unwrap()).collect();
    use Backpressure::{Pause, Ready};
    assert_eq!(signals, [Ready, Pause, Ready, Pause]);
}

#[test]
#[should_panic(expected = "re-entrant call to `push`")]
fn reentrant_call_traps_with_a_message() {
    C::init("").unwrap();
    let element = ElementBuilder::new().content_type("reenter").build();
    let _ = C::push(&element);
}
