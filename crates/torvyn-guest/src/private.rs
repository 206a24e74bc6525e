//! Support for the code the attribute macros generate. Not a public API: names
//! here change without notice.

pub use std;
pub use wit_bindgen;

#[cfg(target_arch = "wasm32")]
pub use crate::host::bindings;

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

/// The export side (wasm32 only): adapters from the host's types to the SDK's.
#[cfg(target_arch = "wasm32")]
pub mod glue {
    use super::*;
    use crate::host::bindings::torvyn::streaming::types as wit;

    type Res<T> = core::result::Result<T, wit::ProcessError>;

    /// `lifecycle.init`.
    pub fn init<C: Lifecycle>(config: String) -> Res<()> {
        C::init(&config).map_err(Into::into)
    }
    /// `lifecycle.teardown`.
    pub fn teardown<C: Lifecycle>() {
        C::teardown();
    }
    /// `filter.evaluate`.
    pub fn evaluate<C: Filter>(element: wit::StreamElement<'_>) -> Res<bool> {
        C::evaluate(&crate::host::element(element)).map_err(Into::into)
    }
    /// `processor.process`.
    pub fn process<C: Processor>(element: wit::StreamElement<'_>) -> Res<wit::ProcessResult> {
        match C::process(&crate::host::element(element)) {
            Ok(Some(output)) => Ok(wit::ProcessResult::Emit(output.into_host())),
            Ok(None) => Ok(wit::ProcessResult::Drop),
            Err(err) => Err(err.into()),
        }
    }
    /// `router.route`.
    pub fn route<C: Router>(element: wit::StreamElement<'_>) -> Res<Vec<String>> {
        C::route(&crate::host::element(element))
            .map(crate::host::ports)
            .map_err(Into::into)
    }
    /// `aggregator.ingest`.
    pub fn ingest<C: Aggregator>(
        element: wit::StreamElement<'_>,
    ) -> Res<Option<wit::OutputElement>> {
        C::ingest(&crate::host::element(element))
            .map(|o| o.map(Output::into_host))
            .map_err(Into::into)
    }
    /// `aggregator.flush`.
    pub fn flush<C: Aggregator>() -> Res<Vec<wit::OutputElement>> {
        C::flush()
            .map(|outputs| outputs.into_iter().map(Output::into_host).collect())
            .map_err(Into::into)
    }
    /// `source.pull`.
    pub fn pull<C: Source>() -> Res<Option<wit::OutputElement>> {
        C::pull()
            .map(|o| o.map(Output::into_host))
            .map_err(Into::into)
    }
    /// `source.notify-backpressure`.
    pub fn notify_backpressure<C: Source>(signal: wit::BackpressureSignal) {
        C::notify_backpressure(crate::host::signal_in(signal));
    }
    /// `sink.push`.
    pub fn push<C: Sink>(element: wit::StreamElement<'_>) -> Res<wit::BackpressureSignal> {
        C::push(&crate::host::element(element))
            .map(crate::host::signal_out)
            .map_err(Into::into)
    }
    /// `sink.complete`.
    pub fn complete<C: Sink>() -> Res<()> {
        C::complete().map_err(Into::into)
    }
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
