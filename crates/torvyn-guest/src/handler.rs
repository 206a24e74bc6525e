//! What handlers may return, per role.
//!
//! The attribute macros accept several return types for each handler (plain or
//! in a `Result`), checked through these traits. A wrong return type is reported
//! on the handler's return type with the accepted forms.

use crate::{Backpressure, Error, Output, Result, Route};

/// A filter's `evaluate` result: `bool` or `Result<bool, E>`.
///
/// ```
/// use torvyn_guest::handler::FilterReturn;
/// use torvyn_guest::Error;
/// assert!(true.into_result()?);
/// let failed: Result<bool, Error> = Err(Error::invalid_input("no id"));
/// assert!(failed.into_result().is_err());
/// # Ok::<(), torvyn_guest::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`#[torvyn::filter]` handlers return `bool` or `Result<bool>`, not `{Self}`",
    label = "expected `bool` or `Result<bool>`"
)]
pub trait FilterReturn {
    /// Normalise to `Result<bool>`.
    fn into_result(self) -> Result<bool>;
}
impl FilterReturn for bool {
    fn into_result(self) -> Result<bool> {
        Ok(self)
    }
}
impl<E: Into<Error>> FilterReturn for core::result::Result<bool, E> {
    fn into_result(self) -> Result<bool> {
        self.map_err(Into::into)
    }
}

/// An optional output: what `process`, `ingest` and `pull` return:
/// `Output`, `Option<Output>`, or either in a `Result`.
///
/// ```
/// use torvyn_guest::handler::MaybeOutput;
/// use torvyn_guest::Output;
/// assert!(Output::text("x")?.into_result()?.is_some()); // an `Output` is emitted
/// assert!(None::<Output>.into_result()?.is_none());      // `None` drops the element
/// # Ok::<(), torvyn_guest::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`process`, `ingest` and `pull` handlers return `Output`, `Option<Output>` or a `Result` of either, not `{Self}`",
    label = "expected `Option<Output>`, `Output` or a `Result` of them"
)]
pub trait MaybeOutput {
    /// Normalise to `Result<Option<Output>>`.
    fn into_result(self) -> Result<Option<Output>>;
}
impl MaybeOutput for Output {
    fn into_result(self) -> Result<Option<Output>> {
        Ok(Some(self))
    }
}
impl MaybeOutput for Option<Output> {
    fn into_result(self) -> Result<Option<Output>> {
        Ok(self)
    }
}
impl<E: Into<Error>> MaybeOutput for core::result::Result<Output, E> {
    fn into_result(self) -> Result<Option<Output>> {
        self.map(Some).map_err(Into::into)
    }
}
impl<E: Into<Error>> MaybeOutput for core::result::Result<Option<Output>, E> {
    fn into_result(self) -> Result<Option<Output>> {
        self.map_err(Into::into)
    }
}

/// An aggregator's `flush` result: `Vec<Output>`, `Option<Output>` or a `Result` of either.
///
/// ```
/// use torvyn_guest::handler::FlushReturn;
/// use torvyn_guest::Output;
/// assert_eq!(vec![Output::text("a")?, Output::text("b")?].into_result()?.len(), 2);
/// assert!(None::<Output>.into_result()?.is_empty());
/// # Ok::<(), torvyn_guest::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`flush` returns `Vec<Output>`, `Option<Output>` or a `Result` of either, not `{Self}`",
    label = "expected `Vec<Output>` or `Result<Vec<Output>>`"
)]
pub trait FlushReturn {
    /// Normalise to `Result<Vec<Output>>`.
    fn into_result(self) -> Result<Vec<Output>>;
}
impl FlushReturn for Vec<Output> {
    fn into_result(self) -> Result<Vec<Output>> {
        Ok(self)
    }
}
impl FlushReturn for Option<Output> {
    fn into_result(self) -> Result<Vec<Output>> {
        Ok(self.into_iter().collect())
    }
}
impl<E: Into<Error>> FlushReturn for core::result::Result<Vec<Output>, E> {
    fn into_result(self) -> Result<Vec<Output>> {
        self.map_err(Into::into)
    }
}
impl<E: Into<Error>> FlushReturn for core::result::Result<Option<Output>, E> {
    fn into_result(self) -> Result<Vec<Output>> {
        self.map(|o| o.into_iter().collect()).map_err(Into::into)
    }
}

/// A router's `route` result: anything that converts into a [`Route`] (a port
/// name, an `Option`, `Vec` or array of port names), or a `Result` of one.
///
/// ```
/// use torvyn_guest::handler::RouteReturn;
/// assert_eq!("json".into_result()?.ports(), ["json"]);
/// assert_eq!(vec!["a", "b"].into_result()?.ports(), ["a", "b"]);
/// assert!(None::<&str>.into_result()?.ports().is_empty());
/// # Ok::<(), torvyn_guest::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`#[torvyn::router]` handlers return port names (`&str`, `String`, `Vec<_>`, `Option<_>`, `Route`) or a `Result` of them, not `{Self}`",
    label = "expected port names or a `Route`"
)]
pub trait RouteReturn {
    /// Normalise to `Result<Route>`.
    fn into_result(self) -> Result<Route>;
}
macro_rules! route_return {
    ($($ty:ty),* $(,)?) => {$(
        impl RouteReturn for $ty {
            fn into_result(self) -> Result<Route> { Ok(Route::from(self)) }
        }
        impl<E: Into<Error>> RouteReturn for core::result::Result<$ty, E> {
            fn into_result(self) -> Result<Route> { self.map(Route::from).map_err(Into::into) }
        }
    )*};
}
route_return!(
    Route,
    &str,
    String,
    Option<&str>,
    Option<String>,
    Vec<&str>,
    Vec<String>
);
impl<const N: usize> RouteReturn for [&str; N] {
    fn into_result(self) -> Result<Route> {
        Ok(Route::from(self))
    }
}
impl<E: Into<Error>, const N: usize> RouteReturn for core::result::Result<[&str; N], E> {
    fn into_result(self) -> Result<Route> {
        self.map(Route::from).map_err(Into::into)
    }
}

/// A sink's `push` result: `()`, [`Backpressure`] or a `Result` of either.
///
/// ```
/// use torvyn_guest::Backpressure;
/// use torvyn_guest::handler::PushReturn;
/// assert_eq!(().into_result()?, Backpressure::Ready);
/// assert_eq!(Backpressure::Pause.into_result()?, Backpressure::Pause);
/// # Ok::<(), torvyn_guest::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`#[torvyn::sink]` handlers return `()`, `Backpressure` or a `Result` of either, not `{Self}`",
    label = "expected `Backpressure` or `Result<Backpressure>`"
)]
pub trait PushReturn {
    /// Normalise to `Result<Backpressure>`.
    fn into_result(self) -> Result<Backpressure>;
}
impl PushReturn for () {
    fn into_result(self) -> Result<Backpressure> {
        Ok(Backpressure::Ready)
    }
}
impl PushReturn for Backpressure {
    fn into_result(self) -> Result<Backpressure> {
        Ok(self)
    }
}
impl<E: Into<Error>> PushReturn for core::result::Result<(), E> {
    fn into_result(self) -> Result<Backpressure> {
        self.map(|()| Backpressure::Ready).map_err(Into::into)
    }
}
impl<E: Into<Error>> PushReturn for core::result::Result<Backpressure, E> {
    fn into_result(self) -> Result<Backpressure> {
        self.map_err(Into::into)
    }
}

/// `complete` and other unit-like handlers: `()` or `Result<()>`.
#[diagnostic::on_unimplemented(
    message = "`complete` returns `()` or `Result<()>`, not `{Self}`",
    label = "expected `()` or `Result<()>`"
)]
pub trait UnitReturn {
    /// Normalise to `Result<()>`.
    fn into_result(self) -> Result<()>;
}
impl UnitReturn for () {
    fn into_result(self) -> Result<()> {
        Ok(())
    }
}
impl<E: Into<Error>> UnitReturn for core::result::Result<(), E> {
    fn into_result(self) -> Result<()> {
        self.map_err(Into::into)
    }
}

/// What `init` returns: the state (`Self`) or `Result<Self>`.
#[diagnostic::on_unimplemented(
    message = "`init` returns `Self` or `Result<Self>`, not `{Self}`",
    label = "expected `Self` or `Result<Self>`"
)]
pub trait InitReturn<S> {
    /// Normalise to `Result<S>`.
    fn into_result(self) -> Result<S>;
}
impl<S> InitReturn<S> for S {
    fn into_result(self) -> Result<S> {
        Ok(self)
    }
}
impl<S, E: Into<Error>> InitReturn<S> for core::result::Result<S, E> {
    fn into_result(self) -> Result<S> {
        self.map_err(Into::into)
    }
}

/// A configuration type for `init`: any `serde::de::DeserializeOwned`.
#[diagnostic::on_unimplemented(
    message = "the config type `{Self}` of `init` must implement `serde::Deserialize`",
    label = "add `#[derive(serde::Deserialize)]` to this type",
    note = "the config string of the node is parsed as JSON into this type"
)]
pub trait Config: serde::de::DeserializeOwned {}
impl<T: serde::de::DeserializeOwned> Config for T {}

/// A stateful component without `init` starts from `Default`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no `init` and does not implement `Default`",
    label = "add `fn init(config: YourConfig) -> Result<Self>` to this `impl`, or `#[derive(Default)]` to the type",
    note = "a stateful component's state is made by `init`, or by `Default` when it has no `init`"
)]
pub trait DefaultState: Default {}
impl<T: Default> DefaultState for T {}
