//! Build, run and test Torvyn components and pipelines from `cargo test`.
//!
//! `torvyn-testkit` is the reference host of the Torvyn 0.1 contract. It embeds
//! wasmtime with the component model, builds an author's crate into a
//! `wasm32-wasip2` component from inside a test ([`build`]), and runs it element by
//! element or as part of a pipeline.

pub mod backtrace;
pub mod build;
pub mod component;
mod contract;
mod diagnose;
pub mod element;
pub mod error;
pub mod golden;
mod graph;
pub mod host;
pub mod inspect;
pub mod manifest;
pub mod pipeline;
#[cfg(feature = "prop")]
pub mod prop;
pub mod role;

pub use component::{Component, Instance, InstanceOptions, LogLine};
pub use element::{Meta, Output, Payload, ProcessError, Processed, Signal, TestElement};
pub use error::{Error, ErrorKind};
pub use host::{Limits, Stats};
pub use role::Role;
