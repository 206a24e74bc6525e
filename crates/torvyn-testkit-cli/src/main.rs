//! `torvyn-testkit`: run, trace, benchmark, check, link, test and inspect
//! Torvyn components and flows on the reference host, with upstream Torvyn's
//! command line (and `init`, `doctor`, `completions`).
//!
//! What each verb does, its flags, exit codes and the JSON it prints are in
//! the guide, `docs/guide.md`, section "The `torvyn-testkit` command line"
//! (and `torvyn-testkit <verb> --help`); that is the one place they are
//! written down.
//!
//! The code: `cli.rs` (the top-level parser), `commands/` (one module per
//! verb: its arguments and `exec`; `commands/mod.rs` lists them),
//! `command_prelude.rs` (the arguments verbs share), and what the verbs use:
//! `flow.rs` (a flow from the manifest and the command line), `overrides.rs`
//! (`--config`), `log_level.rs` (`--log-level`), `interrupt.rs` (Ctrl+C),
//! `output.rs` (what components write, what sinks receive), `report.rs` and
//! `progress.rs`, `policy.rs` (`--on-error`), `pictures.rs` (graphs, traces,
//! the HTML report), `otlp.rs` (`trace --trace-format otlp`) and
//! `bench_report.rs` (`bench`'s baselines and reports).

mod bench_report;
mod cli;
mod command_prelude;
mod commands;
mod flow;
mod interrupt;
mod log_level;
mod otlp;
mod output;
mod overrides;
mod pictures;
mod policy;
mod progress;
mod report;

use std::process::ExitCode;
use std::sync::{Mutex, MutexGuard};

use commands::Command;
use progress::Progress;

/// Lock a mutex whose holder may have panicked (its data is still usable).
fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `run | head`: when the reader of stdout is gone, end quietly, as a Unix
/// tool killed by `SIGPIPE` does, instead of panicking with `failed printing
/// to stdout: Broken pipe`. Every other panic keeps the default report.
fn end_quietly_on_broken_pipe() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info.payload_as_str().unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        report(info);
    }));
}

fn main() -> ExitCode {
    end_quietly_on_broken_pipe();
    let cli = cli::parse();
    let global = cli.global;
    // `-q`: no progress, and no cargo lines from the guest builds.
    if global.quiet {
        progress::set_quiet();
    }
    let quiet_builds =
        (global.quiet || Progress::wanted()) && std::env::var_os("TORVYN_BUILD_QUIET").is_none();
    let raw_backtrace = global.verbose && std::env::var_os("TORVYN_BACKTRACE").is_none();
    // `bench` measures what a user ships: release builds.
    let release_builds = matches!(cli.command, Command::Bench(_))
        && std::env::var_os("TORVYN_BUILD_PROFILE").is_none();
    if quiet_builds || raw_backtrace || release_builds {
        // SAFETY: the first thing the process does after parsing its command
        // line (which starts no thread), before any thread exists.
        unsafe {
            if quiet_builds {
                std::env::set_var("TORVYN_BUILD_QUIET", "1");
            }
            if raw_backtrace {
                std::env::set_var("TORVYN_BACKTRACE", "full");
            }
            if release_builds {
                std::env::set_var("TORVYN_BUILD_PROFILE", "release");
            }
        }
    }
    let result = cli.command.exec(&global);
    if let Err(message) = &result {
        eprintln!("torvyn-testkit: {message}");
    }
    match result {
        _ if interrupt::requested() => ExitCode::from(interrupt::EXIT_CODE),
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}
