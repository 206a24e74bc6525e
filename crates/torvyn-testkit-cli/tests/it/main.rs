//! The command line's integration tests: one test binary, one module per area
//! (as cargo's `tests/testsuite/main.rs`), so the testkit and wasmtime are
//! linked once, not once per area. Run one area with
//! `cargo test -p torvyn-testkit-cli --test it policy::`.
//!
//! The areas share one process: a test runs the `torvyn-testkit` binary with
//! a [`support::Cli`] (its environment is the command's, never this
//! process's), and writes scratch files with [`support::temp`], which gives
//! every test a directory of its own.

mod support;

mod bench_baseline;
mod bench_rounds;
mod check_init;
mod cli;
mod cli_link;
mod diagnostics;
mod golden;
mod hangs;
mod help;
mod interrupt;
mod manifest_note;
mod pictures;
mod policy;
mod raw_backtrace;
mod readme_demo;
mod run_overrides;
mod target_dir;
mod test_verb;
mod torvyn_forms;
mod trace_view;
mod unix;
mod upstream_cli;
