//! Build, run and test Torvyn components and pipelines from `cargo test`.
//!
//! `torvyn-testkit` is the reference host of the Torvyn 0.1 contract. It embeds
//! wasmtime with the component model, builds an author's crate into a
//! `wasm32-wasip2` component from inside a test ([`build_component`]), and runs it element by
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
//! use torvyn_testkit::{Pipeline, TestElement};
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

//! Everything is at the crate root, one path per item, except two
//! namespaces: [`manifest`], the parsed model of a `Torvyn.toml` (whose
//! `Flow`, `Node` and `Edge` would read as the pipeline's at the root), and
//! [`prop`], property-based testing and its strategies (the `prop` feature,
//! on by default).
#![deny(unsafe_code)]

// Every module but `manifest` and `prop` is private: its public items are
// re-exported below. The modules form layers, each importing only the ones
// below it: `layers.rs` holds the order and its test (ARCHITECTURE.md,
// "Architecture invariants").
mod backtrace;
mod build;
mod component;
mod contract;
mod diagnose;
mod element;
mod error;
mod golden;
mod graph;
mod host;
#[cfg(test)]
mod layers;
pub mod manifest;
mod pipeline;
#[cfg(feature = "prop")]
pub mod prop;
mod role;
mod settings;
mod units;
mod unversioned;

pub use self::backtrace::Frame;
pub use self::build::{
    BuildError, BuildErrorKind, ComponentBuild, DEFAULT_BUILD_TIMEOUT, Profile, Toolchain,
    WASM_TARGET, build_component, configure_cargo, platform_cache_dir,
};
pub use self::component::{
    Component, Inspection, Instance, InstanceOptions, LIFECYCLE_INTERFACE, LogLine, inspect,
};
pub use self::contract::{Direction, Mismatch, contract_functions};
pub use self::element::{
    Answer, MAX_BUFFER_BYTES, Meta, Output, Payload, ProcessError, Processed, Signal, TestElement,
};
pub use self::error::{Error, ErrorKind, RunLimit};
pub use self::golden::{Golden, GoldenError, GoldenOutcome, bless_requested};
pub use self::host::{Limits, Stats, StdStream};
pub use self::pipeline::picture;
pub use self::pipeline::{
    DEFAULT_FLOW_BUFFER_BUDGET, DEFAULT_LATENCY_SAMPLES, DEFAULT_QUEUE_DEPTH, DEFAULT_RETAINED,
    DEFAULT_RUN_TIMEOUT, DEFAULT_TRACE_CAPACITY, DeadLetter, EdgeReport, Event, FlowCounts,
    FlowError, Interrupt, NodeReport, NodeSpec, Pipeline, RunResult, Scripted, Step, Timestamps,
    Trace, TraceEntry, read_jsonl,
};
pub use self::role::Role;
pub use self::settings::{
    ALL_CAPABILITIES, BackpressurePolicy, ClockMode, DEFAULT_RANDOM_SEED, ErrorPolicy,
};
