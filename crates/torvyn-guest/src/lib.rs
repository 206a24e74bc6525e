//! Safe, typed Rust SDK for writing Torvyn streaming components.
//!
//! A component is one attribute on a function (stateless) or on an `impl` block
//! (stateful). The attribute generates the WebAssembly glue for the matching
//! world of the Torvyn 0.1 contract; the handler stays ordinary Rust that unit
//! tests call directly on the host target.
//!
//! ```
//! use torvyn_guest::prelude::*;
//!
//! /// Passes JSON elements, drops everything else; reads no payload.
//! #[torvyn::filter]
//! fn only_json(element: &Element) -> bool {
//!     element.content_type() == "application/json"
//! }
//!
//! # fn main() {
//! let json = torvyn_guest::testing::ElementBuilder::new().json(&1).build();
//! assert!(only_json(&json));
//! # }
//! ```
//!
//! # The six roles
//!
//! | attribute | handler(s) (stateful form: `&mut self` first) | world |
//! | --- | --- | --- |
//! | `#[torvyn::filter]` | `evaluate(&Element) -> bool` | `torvyn:filtering/content-filter` |
//! | `#[torvyn::processor]` | `process(&Element) -> Option<Output>` | `torvyn:streaming/managed-transform` |
//! | `#[torvyn::router]` | `route(&Element) -> impl Into<Route>` | `torvyn:filtering/content-router` |
//! | `#[torvyn::aggregator]` | `ingest(&Element) -> Option<Output>`, `flush() -> Vec<Output>` | `torvyn:aggregation/stream-aggregator` |
//! | `#[torvyn::source]` | `pull() -> Option<Output>`, optional `notify_backpressure(Backpressure)` | `torvyn:streaming/data-source` |
//! | `#[torvyn::sink]` | `push(&Element) -> Backpressure`, optional `complete()` | `torvyn:streaming/data-sink` |
//!
//! Every handler may also return a [`Result`] of its type; the accepted forms
//! are listed in [`handler`]. Filters, processors, routers and sinks have a
//! stateless form (the attribute on a `fn`); aggregators and sources keep state
//! and are always written on an `impl` block.
//!
//! # Stateful components, configuration and lifecycle
//!
//! Put the attribute on an inherent `impl` block. Its optional
//! `fn init(config: C) -> Result<Self>` receives the node's config string parsed
//! as JSON into any `serde::Deserialize` type `C` (an empty string gives
//! `C::default()` when `C: Default`; a parse error becomes `invalid-input`
//! naming the field, line and column). Without `init` the type must implement
//! `Default`. An optional `fn teardown(&mut self)` runs at the end. The state
//! lives in a [`std::thread_local!`] cell provided by the SDK: no `static mut`,
//! no `unsafe`; a handler called before a required `init` returns `internal`
//! with a message, and re-entrant use traps with a message.
//!
//! ```
//! use torvyn_guest::prelude::*;
//!
//! #[derive(serde::Deserialize)]
//! struct Config { every: u64 }
//!
//! struct EveryNth { every: u64 }
//!
//! #[torvyn::filter]
//! impl EveryNth {
//!     fn init(config: Config) -> Result<Self> {
//!         if config.every == 0 {
//!             return Err(Error::invalid_input("`every` must be at least 1"));
//!         }
//!         Ok(Self { every: config.every })
//!     }
//!
//!     fn evaluate(&mut self, element: &Element) -> bool {
//!         element.sequence() % self.every == 0
//!     }
//! }
//! # fn main() {}
//! ```
//!
//! # How `torvyn::` resolves
//!
//! The attributes are re-exported from this crate (`torvyn_guest::filter`, ...),
//! and [`prelude`] contains `torvyn` as an alias of this crate, so after
//! `cargo add torvyn-guest` and `use torvyn_guest::prelude::*;` the attributes
//! are written `#[torvyn::filter]`. `#[torvyn_guest::filter]` works without the
//! prelude, and so does renaming the dependency
//! (`torvyn = { package = "torvyn-guest", ... }` in `Cargo.toml`).
//!
//! The generated code names this crate by an absolute path. The macros find it
//! by reading the component crate's `Cargo.toml` (so a renamed dependency
//! works), and `#[torvyn::filter(crate = path::to::torvyn_guest)]` overrides
//! the path when the SDK is re-exported by another crate.
//!
//! # Native tests and wasm glue
//!
//! The wasm export glue is compiled only for `target_arch = "wasm32"`; on the
//! host target, [`Element`] and [`Output`] use an in-memory backend, so a
//! component crate's `cargo test` runs its handlers natively with
//! [`testing::ElementBuilder`], the in-memory allocator and captured logs.
//! Build the component with `cargo build --target wasm32-wasip2`; a component
//! crate has `crate-type = ["cdylib", "rlib"]`.
//!
//! # Payload copies
//!
//! Each read of a host buffer copies bytes into the component, and the host
//! counts those copies. [`Payload`] reads nothing until asked and caches what it
//! read; [`Payload::read_stats`] tells how much was copied. A filter that looks
//! only at [`Element::meta`] copies nothing.

// `unsafe` is allowed in one place only: the wit-bindgen import bindings in
// `backend/wasm.rs` (marked there with `#[allow(unsafe_code)]` and `SAFETY:`).
#![deny(unsafe_code)]

// Lets the attributes' `::torvyn_guest::...` paths resolve inside this crate too.
extern crate self as torvyn_guest;

mod backend;
pub mod capabilities;
pub mod config;
mod element;
mod error;
pub mod handler;
pub mod log;
mod output;
mod route;
mod state;
pub mod testing;

/// The README's code blocks, compiled and run as doc-tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use element::{Element, ElementMeta, FlowContext, Payload, ReadStats};
pub use error::{BufferError, Error, ErrorKind, Result};
pub use output::{APPLICATION_JSON, OCTET_STREAM, Output, OutputBuilder, TEXT_PLAIN};
pub use route::{Backpressure, Route};

/// Turns a function or an `impl` block into a `torvyn:filtering/filter` component.
///
/// Stateless: `fn(&Element) -> bool` (or `Result<bool>`). Stateful: on an `impl`
/// with `fn evaluate(&mut self, element: &Element) -> bool` and the optional
/// `init`/`teardown` (see the crate docs). Argument: `crate = path`.
///
/// ```
/// use torvyn_guest::prelude::*;
///
/// /// Passes JSON elements; reads no payload bytes.
/// #[torvyn::filter]
/// fn only_json(element: &Element) -> bool {
///     element.content_type() == "application/json"
/// }
///
/// # fn main() {
/// use torvyn_guest::testing::ElementBuilder;
/// let json = ElementBuilder::new().json(&[1, 2]).build();
/// assert!(only_json(&json));
/// assert!(!only_json(&ElementBuilder::new().text("x").build()));
/// assert_eq!(json.payload().read_stats().reads, 0);
/// # }
/// ```
pub use torvyn_macros::filter;

/// Turns a function or an `impl` block into a `torvyn:streaming/processor` component.
///
/// Handler: `process(&Element) -> Option<Output>` (or `Output`, or a `Result`
/// of either; `None` drops the element). Argument: `crate = path`.
///
/// ```
/// use serde::Deserialize;
/// use torvyn_guest::prelude::*;
///
/// #[derive(Deserialize)]
/// struct Config { prefix: String }
///
/// struct Prefix { prefix: String }
///
/// #[torvyn::processor]
/// impl Prefix {
///     fn init(config: Config) -> Result<Self> {
///         Ok(Self { prefix: config.prefix })
///     }
///
///     /// Empty elements are dropped; the rest get the prefix.
///     fn process(&mut self, element: &Element) -> Result<Option<Output>> {
///         let text = element.text()?;
///         if text.is_empty() {
///             return Ok(None);
///         }
///         Ok(Some(Output::text(format!("{}{text}", self.prefix))?.with_sequence(element.sequence())))
///     }
/// }
///
/// # fn main() {
/// use torvyn_guest::testing::ElementBuilder;
/// let mut p = Prefix::init(torvyn_guest::config::parse(r#"{"prefix": "> "}"#).unwrap()).unwrap();
/// let out = p.process(&ElementBuilder::new().text("hi").build()).unwrap().unwrap();
/// assert_eq!(out.to_text().unwrap(), "> hi");
/// assert!(p.process(&ElementBuilder::new().text("").build()).unwrap().is_none());
/// # }
/// ```
pub use torvyn_macros::processor;

/// Turns a function or an `impl` block into a `torvyn:filtering/router` component.
///
/// Handler: `route(&Element) -> R` where `R` is port names (see
/// [`handler::RouteReturn`]): one port, several (fan-out) or none (drop).
///
/// ```
/// use torvyn_guest::prelude::*;
///
/// #[torvyn::router]
/// fn by_size(element: &Element) -> Vec<&'static str> {
///     match element.payload().size() {
///         0 => vec![],                      // dropped
///         1..=1024 => vec!["small"],
///         _ => vec!["large", "audit"],      // fan-out: both get the same buffer
///     }
/// }
///
/// # fn main() {
/// use torvyn_guest::testing::ElementBuilder;
/// assert_eq!(by_size(&ElementBuilder::new().text("abc").build()), ["small"]);
/// assert_eq!(by_size(&ElementBuilder::new().bytes(vec![0; 2000]).build()), ["large", "audit"]);
/// assert!(by_size(&ElementBuilder::new().build()).is_empty());
/// # }
/// ```
pub use torvyn_macros::router;

/// Turns an `impl` block into a `torvyn:aggregation/aggregator` component.
///
/// Handlers: `ingest(&mut self, &Element) -> Option<Output>` (may emit at once)
/// and `flush(&mut self) -> Vec<Output>` (emits the rest once upstream is done).
///
/// ```
/// use torvyn_guest::prelude::*;
///
/// /// Joins every two text elements into one.
/// #[derive(Default)]
/// struct Pairs { pending: Option<String> }
///
/// #[torvyn::aggregator]
/// impl Pairs {
///     fn ingest(&mut self, element: &Element) -> Result<Option<Output>> {
///         let text = element.text()?.to_owned();
///         match self.pending.take() {
///             Some(first) => Ok(Some(Output::text(format!("{first} {text}"))?)),
///             None => {
///                 self.pending = Some(text);
///                 Ok(None)
///             }
///         }
///     }
///
///     fn flush(&mut self) -> Result<Vec<Output>> {
///         self.pending.take().map(Output::text).into_iter().collect()
///     }
/// }
///
/// # fn main() {
/// use torvyn_guest::testing::ElementBuilder;
/// let mut pairs = Pairs::default();
/// let text = |t: &str| ElementBuilder::new().text(t).build();
/// assert!(pairs.ingest(&text("a")).unwrap().is_none());
/// assert_eq!(pairs.ingest(&text("b")).unwrap().unwrap().to_text().unwrap(), "a b");
/// pairs.ingest(&text("c")).unwrap();
/// assert_eq!(pairs.flush().unwrap()[0].to_text().unwrap(), "c");
/// # }
/// ```
pub use torvyn_macros::aggregator;

/// Turns an `impl` block into a `torvyn:streaming/source` component.
///
/// Handlers: `pull(&mut self) -> Option<Output>` (`None` = exhausted) and the
/// optional `notify_backpressure(&mut self, signal: Backpressure)`.
///
/// ```
/// use torvyn_guest::prelude::*;
///
/// /// Emits "3", "2", "1", then is exhausted.
/// struct Countdown { next: u32 }
///
/// impl Default for Countdown {
///     fn default() -> Self { Self { next: 3 } }
/// }
///
/// #[torvyn::source]
/// impl Countdown {
///     fn pull(&mut self) -> Result<Option<Output>> {
///         if self.next == 0 {
///             return Ok(None);
///         }
///         self.next -= 1;
///         Ok(Some(Output::text((self.next + 1).to_string())?))
///     }
/// }
///
/// # fn main() {
/// let mut c = Countdown::default();
/// let texts: Vec<String> =
///     std::iter::from_fn(|| c.pull().unwrap()).map(|o| o.to_text().unwrap()).collect();
/// assert_eq!(texts, ["3", "2", "1"]);
/// # }
/// ```
pub use torvyn_macros::source;

/// Turns a function or an `impl` block into a `torvyn:streaming/sink` component.
///
/// Handlers: `push(&Element) -> Backpressure` (or `()`, or a `Result`) and, on
/// an `impl`, the optional `complete(&mut self) -> Result<()>`.
///
/// ```
/// use torvyn_guest::prelude::*;
///
/// /// Counts bytes; asks the producer to pause every 100 elements.
/// #[derive(Default)]
/// struct Tally { elements: u64, bytes: u64 }
///
/// #[torvyn::sink]
/// impl Tally {
///     fn push(&mut self, element: &Element) -> Backpressure {
///         self.elements += 1;
///         self.bytes += element.payload().size();
///         if self.elements % 100 == 0 { Backpressure::Pause } else { Backpressure::Ready }
///     }
///
///     fn complete(&mut self) -> Result<()> {
///         info!("{} elements, {} bytes", self.elements, self.bytes);
///         Ok(())
///     }
/// }
///
/// # fn main() {
/// use torvyn_guest::testing::{self, ElementBuilder};
/// let mut t = Tally::default();
/// assert_eq!(t.push(&ElementBuilder::new().text("abc").build()), Backpressure::Ready);
/// t.complete().unwrap();
/// assert_eq!(testing::take_logs(), ["[info] 1 elements, 3 bytes"]);
/// # }
/// ```
pub use torvyn_macros::sink;

/// Everything a component author needs: `use torvyn_guest::prelude::*;`.
pub mod prelude {
    /// This crate under the name the attributes are written with: `#[torvyn::filter]`.
    pub use crate as torvyn;
    pub use crate::log::{debug, error, info, warn};
    pub use crate::{Backpressure, Element, Error, ErrorKind, Output, Result, Route};
}
