//! Build, run and test Torvyn components and pipelines from `cargo test`.
//!
//! `torvyn-testkit` is the reference host of the Torvyn 0.1 contract. It embeds
//! wasmtime with the component model, builds an author's crate into a
//! `wasm32-wasip2` component from inside a test ([`build`]), and runs it element by
//! element or as part of a pipeline.
//!
//! A component crate's `tests/wasm.rs` (this needs the `wasm32-wasip2`
//! target, hence `no_run` here):
//!
//! ```no_run
//! use torvyn_testkit::{Component, TestElement};
//!
//! let filter = Component::build(env!("CARGO_MANIFEST_DIR"))?; // a real wasm32-wasip2 component
//! let mut filter = filter.instantiate(r#"{"min_len": 3}"#)?;  // `init` with this config
//! assert!(filter.evaluate(TestElement::text("hello"))?);
//! assert_eq!(filter.stats().payload_bytes_read, 0);           // what it copied from the host
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Pipelines mix built components with host-side sources and collectors; this
//! one has only host-side nodes, so it runs anywhere:
//!
//! ```
//! use torvyn_testkit::TestElement;
//! use torvyn_testkit::pipeline::Pipeline;
//!
//! let run = Pipeline::new("demo")
//!     .source("lines", [TestElement::text("a"), TestElement::text("b")])
//!     .collector("out")
//!     .edge("lines", "out")
//!     .run()?;
//! assert_eq!(run.received_text("out"), ["a", "b"]);
//! assert!(run.unaccounted().is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(unsafe_code)]

pub mod backtrace;
pub mod build;
mod cargo_component;
pub mod component;
mod contract;
mod diagnose;
pub mod element;
pub mod error;
pub mod golden;
mod graph;
pub mod host;
pub mod manifest;
pub mod picture;
pub mod pipeline;
#[cfg(feature = "prop")]
pub mod prop;
pub mod role;
mod unversioned;

pub use component::inspect;
pub use component::{Component, Instance, InstanceOptions, LogLine};
pub use element::{Meta, Output, Payload, ProcessError, Processed, Signal, TestElement};
pub use error::{Error, ErrorKind};
pub use host::{Limits, Stats};
pub use role::Role;
