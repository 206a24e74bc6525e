//! Support for the code the attribute macros generate. Not a public API: names
//! here change without notice.

pub use std;
pub use wit_bindgen;

/// The wasm32 bindings and export glue (`bindings`, `glue`); nothing natively
/// (hence the allow: the glob is empty there).
#[allow(unused_imports, unreachable_pub)]
pub use crate::backend::exports::*;

pub use crate::handler::*;
pub use crate::state::{Missing, StateCell};

use std::marker::PhantomData;

use crate::{Backpressure, Element, Output, Result, Route};

/// The lifecycle part every generated component implements.
pub trait Lifecycle {
    /// `lifecycle.init`.
    fn init(config: &str) -> Result<()>;
    /// `lifecycle.teardown`.
    fn teardown();
}

/// `torvyn:filtering/filter`.
pub trait Filter: Lifecycle {
    /// `evaluate`.
    fn evaluate(element: &Element<'_>) -> Result<bool>;
}
/// `torvyn:streaming/processor`.
pub trait Processor: Lifecycle {
    /// `process`.
    fn process(element: &Element<'_>) -> Result<Option<Output>>;
}
/// `torvyn:filtering/router`.
pub trait Router: Lifecycle {
    /// `route`.
    fn route(element: &Element<'_>) -> Result<Route>;
}
/// `torvyn:aggregation/aggregator`.
pub trait Aggregator: Lifecycle {
    /// `ingest`.
    fn ingest(element: &Element<'_>) -> Result<Option<Output>>;
    /// `flush`.
    fn flush() -> Result<Vec<Output>>;
}
/// `torvyn:streaming/source`.
pub trait Source: Lifecycle {
    /// `pull`.
    fn pull() -> Result<Option<Output>>;
    /// `notify-backpressure`.
    fn notify_backpressure(signal: Backpressure);
}
/// `torvyn:streaming/sink`.
pub trait Sink: Lifecycle {
    /// `push`.
    fn push(element: &Element<'_>) -> Result<Backpressure>;
    /// `complete`.
    fn complete() -> Result<()>;
}

/// Chooses `parse_or_default` when `C: Default` and `parse` otherwise, by
/// autoref specialisation on a concrete type in the generated code.
pub struct ConfigParser<C>(PhantomData<C>);

impl<C> ConfigParser<C> {
    /// The parser for `C`.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<C> Default for ConfigParser<C> {
    fn default() -> Self {
        Self::new()
    }
}

/// Picked when the config type implements `Default`.
pub trait WithDefault<C> {
    /// `Some(C::default)`.
    fn default_fn(&self) -> Option<fn() -> C>;
}
impl<C: Default> WithDefault<C> for ConfigParser<C> {
    fn default_fn(&self) -> Option<fn() -> C> {
        Some(C::default)
    }
}

/// Picked when the config type has no `Default`.
pub trait WithoutDefault<C> {
    /// `None`.
    fn default_fn(&self) -> Option<fn() -> C>;
}
impl<C> WithoutDefault<C> for &ConfigParser<C> {
    fn default_fn(&self) -> Option<fn() -> C> {
        None
    }
}

/// Parse the config string into `C`; an empty string gives `default()` when
/// there is one.
///
/// # Errors
/// See [`crate::config::parse`].
pub fn parse_config<C: Config>(config: &str, default: Option<fn() -> C>) -> Result<C> {
    match default {
        Some(default) if crate::config::is_blank(config) => Ok(default()),
        _ => crate::config::parse(config),
    }
}

/// `init` of a component without an `init` handler: accepts any config, and
/// in builds with debug assertions (the testkit's builds) logs a warning when a
/// non-empty one is ignored.
///
/// Infallible, and in release builds neither formats nor allocates: a component
/// whose handlers cannot fail then links no error conversion, `core::fmt` or
/// std's panic machinery, so a trivial filter stays the size of hand-written
/// glue (BENCHMARKS.md).
pub fn init_without_handler(config: &str) {
    if cfg!(debug_assertions) && !crate::config::is_blank(config) {
        crate::log::write(
            crate::log::Level::Warn,
            format_args!("this component has no `init`; its config is ignored"),
        );
    }
}

/// The state of a component without `init`.
pub fn default_state<T: DefaultState>() -> T {
    T::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Default, Debug, PartialEq)]
    struct HasDefault {
        n: u8,
    }
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct NoDefault {
        n: u8,
    }

    #[test]
    fn config_without_init_is_ignored_with_a_warning() {
        crate::testing::take_logs();
        init_without_handler(" \n\t");
        assert!(crate::testing::take_logs().is_empty());
        init_without_handler(r#"{"max": 3}"#);
        assert_eq!(
            crate::testing::take_logs(),
            ["[warn] this component has no `init`; its config is ignored"]
        );
    }

    #[test]
    // The borrow is what makes the autoref choice work for both cases.
    #[allow(clippy::needless_borrow)]
    fn autoref_picks_default_only_when_available() {
        let a: HasDefault =
            parse_config("", (&ConfigParser::<HasDefault>::new()).default_fn()).unwrap();
        assert_eq!(a, HasDefault::default());
        let b = parse_config("", (&ConfigParser::<NoDefault>::new()).default_fn());
        assert!(b.unwrap_err().message().contains("has no `Default`"));
        let c = parse_config(
            r#"{"n":3}"#,
            (&ConfigParser::<NoDefault>::new()).default_fn(),
        );
        assert_eq!(c.unwrap(), NoDefault { n: 3 });
    }
}
