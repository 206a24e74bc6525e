//! `torvyn-testkit`: run, trace, benchmark and inspect Torvyn components and
//! flows on the reference host.
//!
//! ```text
//! torvyn-testkit run [FLOW] [--manifest Torvyn.toml] [--flow F] [--input in.jsonl]
//!                    [--output out.jsonl [--output-format jsonl|raw]] [--format json]
//!                    [--quiet | --prefix-nodes] [--expect golden.jsonl [--bless]]
//! torvyn-testkit trace [FLOW] [--manifest Torvyn.toml] [--input in.jsonl] [--format json]
//! torvyn-testkit bench [FLOW] [--manifest Torvyn.toml] [--input in.jsonl]
//!                      [--duration 5s | --iterations N] [--warmup 1s] [--format json]
//! torvyn-testkit inspect <component.wasm|crate-dir> [--format json]
//! torvyn-testkit check [FLOW] [--manifest Torvyn.toml] [--flow F] [--no-init]
//! torvyn-testkit test <crate-dir|component.wasm> (--text TEXT ... | --json JSON ... | --file in.jsonl)
//!                     [--config JSON] [--role ROLE] [--max-elements N] [--format json]
//! ```
//!
//! `test` runs one component without a manifest (like Fluvio's `smdk test`):
//! it builds the crate (or loads the `.wasm`), calls `init` with `--config`,
//! gives it each element in turn (sequence numbers from 0, timestamps 1 ms
//! apart, as a flow's source would), and prints per element what it did:
//! `passed`/`dropped` (filter), `emitted <payload>`/`dropped` (processor),
//! `routed to <ports>`/`dropped` (router), `absorbed` and what it emitted, then
//! its `flush` output (aggregator), `delivered (ready|pause)`, then `complete`
//! (sink), or the error (`failed: ...`); after a trap or `fatal` the rest are
//! `not-called`. A source takes no input: `test` pulls it until it ends or
//! `--max-elements` elements (default 100). The role comes from the
//! component's exports (`--role` checks it). `--file` reads the JSON-lines
//! format of `run --input`, and each result names its line. `--format json`
//! prints one object: `{"component", "wasm", "name", "role", "results": [{"sequence",
//! "line"?, "input"?, "outcome", "output"?, "ports"?, "signal"?, "error"?}],
//! "counts", "logs", "stdout", "teardown_error", "exhausted"?}`. A failed call
//! exits with 1 after the report; a missing or wrong input is a usage error
//! (exit 2).
//!
//! Torvyn's own command lines work unchanged: the flow is positional,
//! `flow.main` or `main` (the same as `--flow main`; both at once is a usage
//! error), `--limit N` stops the sources after N elements, and `bench
//! --iterations N` runs the flow N times instead of for `--duration`.
//!
//! `check` validates the manifest, type-checks each distinct component file
//! (building crates) against the contract and each node's declared interface,
//! and calls each node's `init` with its config (a rejected config is named
//! with the line and column of its `config` key; `--no-init` skips this),
//! without pulling any element; it lists every problem and exits with 1 when
//! there is one.
//!
//! `--input -` (and `test --file -`) reads the JSON lines from stdin;
//! `--output -` writes the payloads on stdout, and then the report on stderr
//! (the components' own lines are not passed through: `--format json` keeps
//! them in the report). `run | head` ends quietly when `head` has read enough.
//!
//! `inspect` (of a `.wasm`, or of a crate directory, which it builds first)
//! type-checks the component's imports and exports against the
//! Torvyn 0.1 contract and tries to link it; it lists every mismatch and exits
//! with 1 when there is one.
//!
//! `run`, `trace` and `bench` also take `--max-elements N`, `--limit N`,
//! `--timeout DURATION` (default 60 s), `--clock virtual|real`,
//! `--random-seed N` and `--on-error fail-flow|skip|dead-letter|retry=N` (what
//! a node does when a call on an element fails; it replaces the flow's
//! `on_error` in `Torvyn.toml`, and a node's own `on_error` still wins). When a
//! call stops the flow, the error names the element's sequence number and,
//! with `--input`, its line: `at element #1 (line 2 of in.jsonl)`.
//! `--limit` and `--max-elements` both stop pulling the
//! sources after N elements and run what is in the flow to the end; a run cut
//! off by `--limit` exits with 0, one cut off by `--max-elements` with 1.
//!
//! While `run` runs, each line a component writes to stdout is printed on
//! stdout and each line it writes to stderr on stderr, as written and
//! unchanged (`--prefix-nodes` starts them with `[node] `, `--quiet` hides
//! them); with `--format json` they go into the report instead, per node and
//! capped at 64 KiB per stream (`"component_output"`). Under the text
//! report, a summary line gives the duration, the copies made and the peak
//! queue depth, followed by each queue's depth and peak.
//!
//! `run --format json` prints one object, stable across versions (keys are
//! only ever added): `{"flow", "elements", "aggregated", "nodes": {name:
//! {"role", "in", "out", "dropped", "absorbed", "delivered", "failed",
//! "dead_lettered", "discarded", "failed_calls", "retries", "pauses"}},
//! "sinks": {name: delivered}, "dead_letters": count, "counts": {...},
//! "edges": [{"from", "port", "to", "depth", "peak"}], "peak_queue_depth"}`
//! (`RunResult::summary_json`), with `"duration_seconds"` and
//! `"component_output": {"cap_bytes", "nodes": {name: {"stdout", "stderr",
//! "stdout_omitted_bytes", "stderr_omitted_bytes"}}}` added. `--output`
//! streams every element a sink receives to a file as it arrives, with the
//! payload's bytes exactly as received: `--output-format jsonl` (the default)
//! writes `{"sink", "sequence", "timestamp_ns", "content_type", "payload"}` per
//! line, `payload` being the payload's text as a JSON string, or
//! `"payload_base64"` instead when it is not UTF-8; `raw` writes each
//! payload's bytes and a newline, nothing else. On any failure the exit code
//! is 1 and stderr says what failed; when a flow stops, `run` and `trace`
//! still print the report (or trace) of everything until then on stdout
//! (usage errors exit with 2). The JSON also has `"teardown_errors": {name:
//! message}`; a failed teardown is a warning on stderr.
//!
//! Keys of upstream Torvyn's `Torvyn.toml` that the reference host accepts
//! but does not use (`observability`, `registry`, `runtime.worker_threads`,
//! node `priority`, ...) are listed once on stderr (`note: accepted, not used
//! by the reference host: ...`) and, by `run --format json`, as
//! `"accepted_not_used": [key]`.
//!
//! After a trap, stderr shows the error with the component's symbolised
//! frames (function and `file:line`); `-v` (or `TORVYN_BACKTRACE=full`) adds
//! wasmtime's raw wasm backtrace as a `caused by:` line.
//!
//! On a terminal, stderr shows progress: the crate being built, then a count
//! of the elements delivered (the runs, for `bench`); when stderr is not a
//! terminal nothing of it is written.

mod args;
mod bench;
mod check;
mod flow;
mod output;
mod policy;
mod progress;
mod report;
mod test_verb;

use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use clap::Parser;
use torvyn_testkit::golden::{self, Golden, GoldenOutcome};

use args::{Cli, Command, Format};
use bench::bench;
use check::check;
use flow::{describe, flow_label, load, outcome, warn_teardown};
use output::{ComponentOutput, PayloadWriter, Show};
use progress::Progress;
use report::{print_counts, print_summary};

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
    let cli = Cli::parse();
    let quiet_builds = Progress::wanted() && std::env::var_os("TORVYN_BUILD_QUIET").is_none();
    let raw_backtrace = cli.verbose && std::env::var_os("TORVYN_BACKTRACE").is_none();
    // `bench` measures what a user ships: release builds.
    let release_builds = matches!(cli.command, Command::Bench { .. })
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
    match execute(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("torvyn-testkit: {message}");
            ExitCode::FAILURE
        }
    }
}

fn execute(command: Command) -> Result<(), String> {
    match command {
        Command::Run {
            flow,
            output,
            output_format,
            expect,
            bless,
            quiet,
            prefix_nodes,
        } => {
            let progress = Progress::new();
            // Nothing is retained unless a golden file compares it: counts are
            // enough, and `--output` streams.
            let retain = if expect.is_some() { usize::MAX } else { 0 };
            let mut pipeline = load(&flow, &progress)?.retain(retain).trace_capacity(0);
            // `--output -`: stdout carries the payloads; the report goes to
            // stderr and the components' lines are not passed through.
            let payloads_on_stdout = output.as_deref() == Some(std::path::Path::new("-"));
            if payloads_on_stdout {
                report::report_on_stderr();
            }
            let show = match (quiet, flow.format) {
                (true, _) => Show::Quiet,
                (false, Format::Json) => Show::Report,
                (false, Format::Text) if payloads_on_stdout => Show::Quiet,
                (false, Format::Text) => Show::Pass {
                    prefix: prefix_nodes,
                },
            };
            let console = ComponentOutput::new(show, progress.clone());
            if show != Show::Quiet {
                let console = Arc::clone(&console);
                pipeline = pipeline.on_output(move |node, stream, line| {
                    lock(&console).line(node, stream, line);
                });
            }
            let writer = match &output {
                Some(path) => Some(PayloadWriter::create(path, output_format)?),
                None => None,
            };
            if writer.is_some() || progress.is_active() {
                let (sink, counter) = (writer.clone(), progress.clone());
                pipeline = pipeline.on_delivered(move |name, element| {
                    counter.delivered();
                    if let Some(writer) = &sink {
                        lock(writer).write(name, element);
                    }
                });
            }
            progress.running(flow.flow().as_deref());
            let started = Instant::now();
            let run = pipeline.run();
            let elapsed = started.elapsed();
            progress.clear();
            let (result, error) = outcome(run, flow.limit)?;
            if let Some(writer) = writer {
                lock(&writer).finish()?;
            }
            match flow.format {
                Format::Json => {
                    let mut summary = result.summary_json();
                    summary["duration_seconds"] = elapsed.as_secs_f64().into();
                    if show == Show::Report {
                        summary["component_output"] = lock(&console).report();
                    }
                    if payloads_on_stdout {
                        eprintln!("{summary}");
                    } else {
                        println!("{summary}");
                    }
                }
                Format::Text => {
                    print_counts(&result);
                    print_summary(&result, elapsed);
                    policy::print_dead_letters(&result);
                }
            }
            warn_teardown(&result);
            if let Some(error) = error {
                return Err(error);
            }
            if let Some(path) = expect {
                let golden = Golden::new(&path).bless(bless || golden::bless_requested());
                if golden.check(&result).map_err(|err| err.to_string())? == GoldenOutcome::Blessed {
                    eprintln!("torvyn-testkit: wrote golden file {}", path.display());
                }
            }
            Ok(())
        }
        Command::Trace { flow } => {
            let progress = Progress::new();
            let pipeline = load(&flow, &progress)?;
            progress.step(format!("tracing flow{}", flow_label(&flow)));
            let run = pipeline.run();
            progress.clear();
            let (result, error) = outcome(run, flow.limit)?;
            match flow.format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string(&result.trace).map_err(|err| err.to_string())?
                ),
                Format::Text => print!("{}", result.trace),
            }
            if result.trace_dropped > 0 {
                eprintln!(
                    "torvyn-testkit: the trace keeps the last {} entries; {} older ones are not shown",
                    result.trace.0.len(),
                    result.trace_dropped
                );
            }
            warn_teardown(&result);
            error.map_or(Ok(()), Err)
        }
        Command::Bench {
            flow,
            duration,
            iterations,
            warmup,
        } => bench(&flow, duration, iterations, warmup),
        Command::Check { check: args } => check(&args),
        Command::Test { test } => test_verb::run(&test),
        Command::Inspect { component, format } => {
            // A crate directory is built first, as `test` does.
            let component = if component.is_dir() {
                torvyn_testkit::build::build_component(&component)
                    .map_err(|err| format!("{} did not build: {err}", component.display()))?
            } else {
                component
            };
            let inspection =
                torvyn_testkit::inspect::inspect(&component).map_err(|err| describe(&err))?;
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&inspection).map_err(|err| err.to_string())?
                ),
                Format::Text => {
                    println!("component: {}", component.display());
                    println!(
                        "role:      {} ({})",
                        inspection.role,
                        inspection.role.versioned_interface()
                    );
                    println!(
                        "lifecycle: {}",
                        if inspection.lifecycle { "yes" } else { "no" }
                    );
                    println!("exports:");
                    for name in &inspection.exports {
                        println!("  {name}");
                    }
                    println!("imports:");
                    for name in &inspection.imports {
                        println!("  {name}");
                    }
                    for note in &inspection.notes {
                        println!("note: {note}");
                    }
                    if inspection.is_valid() {
                        println!("contract:  matches Torvyn 0.1 and links on this host");
                    } else {
                        println!("contract:  {} mismatches", inspection.mismatches.len());
                        for mismatch in &inspection.mismatches {
                            println!("  - {} {mismatch}", mismatch.direction);
                        }
                    }
                }
            }
            if inspection.is_valid() {
                Ok(())
            } else {
                Err(format!(
                    "{} does not match the Torvyn 0.1 contract ({} mismatches, listed above)",
                    component.display(),
                    inspection.mismatches.len()
                ))
            }
        }
    }
}
