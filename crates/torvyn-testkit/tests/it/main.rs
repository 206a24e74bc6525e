//! The testkit's integration tests: one test binary, one module per area (as
//! cargo's `tests/testsuite/main.rs`), so the testkit and wasmtime are linked
//! once, not once per area. Run one area with
//! `cargo test -p torvyn-testkit --test it manifest::`.
//!
//! The areas share one process: a test must not set environment variables,
//! change the current directory or rely on process-wide state being its own.
//! Scratch files go to [`support::scratch`] under a name of the area's own;
//! the wall-clock tests and the test that loads every core take
//! [`support::wall_clock`] and [`support::busy_machine`].

mod support;

mod accounting;
mod build_component;
mod build_progress;
mod cargo_component;
mod contract;
mod cost;
mod faults;
mod graph_rules;
mod hangs;
mod harness;
mod manifest;
mod memory;
mod pictures;
mod pipeline;
mod same_name;
mod superpowers;
mod trace_view;
mod unversioned;
mod unwrap_output;
mod upstream_manifest;
