//! `torvyn-testkit`: run, trace, benchmark, check, test and inspect Torvyn
//! components and flows on the reference host.
//!
//! What each verb does, its flags, exit codes and the JSON it prints are in
//! the guide, `docs/guide.md`, section "The `torvyn-testkit` command line"
//! (and `torvyn-testkit <verb> --help`); that is the one place they are
//! written down.
//!
//! The code: `cli.rs` (the top-level parser), `commands/` (one module per
//! verb: its arguments and `exec`; `commands/mod.rs` lists them),
//! `command_prelude.rs` (the arguments verbs share), and what the verbs use:
//! `flow.rs` (a flow from the manifest and the command line), `output.rs`
//! (what components write, what sinks receive), `report.rs`, `progress.rs`
//! and `policy.rs` (`--on-error`).

mod cli;
mod command_prelude;
mod commands;
mod flow;
mod output;
mod policy;
mod progress;
mod report;

use std::process::ExitCode;
use std::sync::{Mutex, MutexGuard};

use clap::Parser;

use cli::Cli;
use progress::Progress;

/// Lock a mutex whose holder may have panicked (its data is still usable).
fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn main() -> ExitCode {
    if Progress::wanted() && std::env::var_os("TORVYN_BUILD_QUIET").is_none() {
        // SAFETY: the first thing the process does, before any thread exists.
        unsafe { std::env::set_var("TORVYN_BUILD_QUIET", "1") };
    }
    let cli = Cli::parse();
    match cli.command.exec() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("torvyn-testkit: {message}");
            ExitCode::FAILURE
        }
    }
}
