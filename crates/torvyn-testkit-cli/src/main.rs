//! `torvyn-testkit`: run, trace, benchmark and inspect Torvyn components and
//! flows on the reference host.
//!
//! ```text
//! torvyn-testkit run [FLOW] [--manifest Torvyn.toml] [--flow F] [--input in.jsonl]
//!                    [--output out.jsonl [--output-format jsonl|raw]] [--format json]
//!                    [--quiet | --prefix-nodes] [--expect golden.jsonl [--bless]]
//!                    [--graph mermaid|dot] [--report r.html]
//! torvyn-testkit trace [FLOW] [--manifest Torvyn.toml] [--input in.jsonl] [--format json]
//!                      [--trace-format text|chrome [--output-trace trace.json]] [--report r.html]
//! torvyn-testkit bench [FLOW] [--manifest Torvyn.toml] [--input in.jsonl]
//!                      [--duration 5s | --iterations N] [--format json] [--report r.html]
//! torvyn-testkit inspect component.wasm [--format json]
//! torvyn-testkit check [FLOW] [--manifest Torvyn.toml] [--flow F] [--graph mermaid|dot]
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
//! `check` validates the manifest and type-checks every node's component
//! (building crates) against the contract and its declared interface, without
//! running anything; it lists every problem and exits with 1 when there is one.
//!
//! Pictures (the guide's "Looking at a flow"): `check --graph mermaid|dot`
//! prints each flow's graph from the manifest alone (nothing is built);
//! `run --graph mermaid|dot` prints it annotated with the run's counts and
//! queue peaks instead of the text report; `trace --trace-format chrome`
//! writes the run's timeline in the Chrome trace event format (to
//! `--output-trace FILE`, else stdout) for Perfetto; `--report FILE` (`run`,
//! `trace`, `bench`) writes one self-contained HTML report.
//!
//! `inspect` type-checks the component's imports and exports against the
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
//! On a terminal, stderr shows progress: the crate being built, then a count
//! of the elements delivered (the runs, for `bench`); when stderr is not a
//! terminal nothing of it is written.

mod args;
mod bench;
mod check;
mod flow;
mod output;
mod pictures;
mod policy;
mod progress;
mod report;
mod test_verb;

use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use clap::Parser;
use torvyn_testkit::golden::{self, Golden, GoldenOutcome};
use torvyn_testkit::picture::Failure;

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

fn main() -> ExitCode {
    if Progress::wanted() && std::env::var_os("TORVYN_BUILD_QUIET").is_none() {
        // SAFETY: the first thing the process does, before any thread exists.
        unsafe { std::env::set_var("TORVYN_BUILD_QUIET", "1") };
    }
    let cli = Cli::parse();
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
            graph,
            report,
        } => {
            let progress = Progress::new();
            // Nothing is retained unless a golden file compares it: counts are
            // enough, and `--output` streams.
            let retain = if expect.is_some() { usize::MAX } else { 0 };
            let mut pipeline = load(&flow, &progress)?
                .retain(retain)
                .trace_capacity(0)
                .record_timeline(report.is_some());
            let show = match (quiet, flow.format) {
                (true, _) => Show::Quiet,
                (false, Format::Json) => Show::Report,
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
            let failure = report.as_ref().and(run.as_ref().err()).map(Failure::from);
            let (result, error) = outcome(run, flow.limit)?;
            if let Some(writer) = writer {
                lock(&writer).finish()?;
            }
            if let Some(path) = &report {
                let flow_name = flow.flow();
                pictures::write_report(
                    path,
                    &flow.manifest,
                    flow_name.as_deref(),
                    &result,
                    failure.as_ref(),
                    &[],
                )?;
            }
            match flow.format {
                _ if graph.is_some() => {
                    let format = graph.unwrap_or(pictures::GraphFormat::Mermaid);
                    let flow_name = flow.flow();
                    pictures::print_run_graph(
                        &flow.manifest,
                        flow_name.as_deref(),
                        &result,
                        format,
                    );
                }
                Format::Json => {
                    let mut summary = result.summary_json();
                    summary["duration_seconds"] = elapsed.as_secs_f64().into();
                    if show == Show::Report {
                        summary["component_output"] = lock(&console).report();
                    }
                    println!("{summary}");
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
        Command::Trace {
            flow,
            trace_format,
            output_trace,
            report,
        } => {
            let progress = Progress::new();
            let chrome = trace_format == pictures::TraceFormat::Chrome;
            let pipeline = load(&flow, &progress)?.record_timeline(chrome || report.is_some());
            progress.step(format!("tracing flow{}", flow_label(&flow)));
            let run = pipeline.run();
            progress.clear();
            let failure = report.as_ref().and(run.as_ref().err()).map(Failure::from);
            let (result, error) = outcome(run, flow.limit)?;
            if let Some(path) = &report {
                let flow_name = flow.flow();
                pictures::write_report(
                    path,
                    &flow.manifest,
                    flow_name.as_deref(),
                    &result,
                    failure.as_ref(),
                    &[],
                )?;
            }
            match flow.format {
                _ if chrome => pictures::write_chrome_trace(&result, output_trace.as_deref())?,
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
            report,
        } => bench(&flow, duration, iterations, report.as_deref()),
        Command::Check { check: args } => check(&args),
        Command::Test { test } => test_verb::run(&test),
        Command::Inspect { component, format } => {
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
