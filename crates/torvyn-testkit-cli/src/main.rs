//! `torvyn-testkit`: run, trace, benchmark and inspect Torvyn components and
//! flows on the reference host.
//!
//! ```text
//! torvyn-testkit run [FLOW] [--manifest Torvyn.toml] [--flow F] [--input in.jsonl]
//!                    [--output out.jsonl [--output-format jsonl|raw]] [--format json]
//!                    [--quiet | --prefix-nodes] [--expect golden.jsonl [--bless]]
//! torvyn-testkit trace [FLOW] [--manifest Torvyn.toml] [--input in.jsonl] [--format json]
//! torvyn-testkit bench [FLOW] [--manifest Torvyn.toml] [--input in.jsonl]
//!                      [--duration 5s | --iterations N] [--format json]
//! torvyn-testkit inspect component.wasm [--format json]
//! torvyn-testkit check [FLOW] [--manifest Torvyn.toml] [--flow F]
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

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand, ValueEnum};
use torvyn_testkit::ErrorKind;
use torvyn_testkit::golden::{self, Golden, GoldenOutcome};
use torvyn_testkit::host::ClockMode;
use torvyn_testkit::pipeline::{ErrorPolicy, FlowError, NodeSpec, Pipeline, RunLimit, RunResult};

mod output;
mod progress;

use output::{ComponentOutput, PayloadFormat, PayloadWriter, Show};
use progress::Progress;

mod policy;
mod test_verb;

#[derive(Parser)]
#[command(
    name = "torvyn-testkit",
    version,
    about = "Run Torvyn components and flows on the reference host",
    after_help = cache_help()
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Execute a flow and print per-node counts.
    Run {
        #[command(flatten)]
        flow: FlowArgs,
        /// Write every element the sinks receive to this file, as they
        /// arrive, with its payload's bytes exactly as received (see
        /// `--output-format`).
        #[arg(long)]
        output: Option<PathBuf>,
        /// How `--output` writes each element; both keep the payload's bytes
        /// exactly (`raw` is what a sink printing its elements shows).
        #[arg(long, value_enum, value_name = "FORMAT", default_value_t = PayloadFormat::Jsonl, requires = "output")]
        output_format: PayloadFormat,
        /// Hide what the components write to stdout and stderr (shown as the
        /// flow runs by default, or kept in the report with `--format json`).
        #[arg(long, short = 'q', conflicts_with = "prefix_nodes")]
        quiet: bool,
        /// Start each line a component writes with `[node] ` (lines are passed
        /// through unchanged by default).
        #[arg(long)]
        prefix_nodes: bool,
        /// Compare what the sinks received with this golden JSON-lines file;
        /// on a difference print it and exit with 1.
        #[arg(long)]
        expect: Option<PathBuf>,
        /// With --expect: rewrite the golden file from this run (also
        /// `TORVYN_BLESS=1`).
        #[arg(long, requires = "expect")]
        bless: bool,
    },
    /// Execute a flow and print what happened to every element.
    Trace {
        #[command(flatten)]
        flow: FlowArgs,
    },
    /// Execute a flow repeatedly and print throughput and latency.
    Bench {
        #[command(flatten)]
        flow: FlowArgs,
        /// How long to run, e.g. `5s`, `500ms`.
        #[arg(long, default_value = "5s", value_parser = parse_duration)]
        duration: Duration,
        /// Run the flow exactly N times instead of for `--duration`.
        #[arg(long, value_name = "N", conflicts_with = "duration",
              value_parser = clap::value_parser!(u64).range(1..))]
        iterations: Option<u64>,
    },
    /// Validate the manifest and type-check every node's component against the
    /// contract and its declared interface, without running (exit code 1 on
    /// any problem).
    Check {
        #[command(flatten)]
        check: CheckArgs,
    },
    /// Run one component (a crate directory or a `.wasm`) on elements given on
    /// the command line, without a manifest, and print what it did with each.
    Test {
        #[command(flatten)]
        test: test_verb::TestArgs,
    },
    /// Print a component's role, imports and exports, and type-check them
    /// against the Torvyn 0.1 contract (exit code 1 on any mismatch).
    Inspect {
        /// The `.wasm` component.
        component: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Args)]
struct CheckArgs {
    /// Check only this flow, written `flow.main` or `main` (the same as `--flow`).
    #[arg(value_name = "FLOW", conflicts_with = "flow")]
    flow_name: Option<String>,
    /// The project's `Torvyn.toml`.
    #[arg(long, default_value = "Torvyn.toml")]
    manifest: PathBuf,
    /// Check only this flow (default: every flow).
    #[arg(long)]
    flow: Option<String>,
}

impl CheckArgs {
    fn flow(&self) -> Option<String> {
        flow_name(self.flow.as_deref().or(self.flow_name.as_deref()))
    }
}

#[derive(Args)]
struct FlowArgs {
    /// The flow, as Torvyn writes it: `flow.main` or `main` (the same as
    /// `--flow`; default: the only flow).
    #[arg(value_name = "FLOW", conflicts_with = "flow")]
    flow_name: Option<String>,
    /// The project's `Torvyn.toml`.
    #[arg(long, default_value = "Torvyn.toml")]
    manifest: PathBuf,
    /// The flow to run (default: the only flow).
    #[arg(long)]
    flow: Option<String>,
    /// Feed these JSON lines (one element per line) instead of the flow's source.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Stop pulling the sources after N elements (for a source that never
    /// ends); the run then reports that it stopped and exits with 1.
    #[arg(long, value_name = "N")]
    max_elements: Option<u64>,
    /// Torvyn's `--limit`: stop pulling the sources after N elements, run
    /// those to the end, and exit with 0 (`--max-elements` exits with 1).
    #[arg(long, value_name = "N", conflicts_with = "max_elements")]
    limit: Option<u64>,
    /// Stop the run after this much wall time, e.g. `30s`, `500ms` (default 60s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// The clocks components read: `virtual` (the default; sleeps return at
    /// once) or `real`. Overrides `[testkit] clock` in the manifest.
    #[arg(long, value_name = "MODE")]
    clock: Option<ClockMode>,
    /// The seed of the components' `wasi:random` (default 0, or `[testkit]
    /// random_seed`).
    #[arg(long, value_name = "N")]
    random_seed: Option<u64>,
    /// What a node does when a call on an element fails: `fail-flow`, `skip`,
    /// `dead-letter` or `retry=N`. Replaces the flow's `on_error` for the
    /// nodes that set none of their own.
    #[arg(long, value_name = "POLICY")]
    on_error: Option<ErrorPolicy>,
}

impl FlowArgs {
    /// The flow named by `--flow` or the positional argument, if any.
    fn flow(&self) -> Option<String> {
        flow_name(self.flow.as_deref().or(self.flow_name.as_deref()))
    }
}

/// A flow's name as Torvyn's command lines write it: `flow.main` is `main`.
fn flow_name(name: Option<&str>) -> Option<String> {
    name.map(|name| name.strip_prefix("flow.").unwrap_or(name).to_string())
}

/// Lock a mutex whose holder may have panicked (its data is still usable).
fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Where builds and caches go, for `--help`.
fn cache_help() -> String {
    let cache = torvyn_testkit::build::platform_cache_dir().map_or_else(
        || "the platform cache directory (none on this system)".to_string(),
        |dir| dir.display().to_string(),
    );
    format!(
        "Builds and caches: components are built into the project's cargo target directory, \
         target/torvyn-wasm/ (where that cannot be created: {cache}/torvyn-wasm/), and \
         compiled code is cached in {cache}/compiled/; nothing is written next to an installed \
         torvyn-testkit (a build run from a cargo target directory uses that directory's \
         torvyn-wasm/). TORVYN_WASM_TARGET_DIR=<dir> puts both in <dir>."
    )
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((text, "s"), |at| text.split_at(at));
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; write e.g. `5s` or `500ms`"))?;
    let seconds = match unit {
        "s" => value,
        "ms" => value / 1e3,
        "m" => value * 60.0,
        _ => {
            return Err(format!(
                "unknown unit `{unit}` in `{text}`; use `ms`, `s` or `m`"
            ));
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|err| format!("`{text}`: {err}"))
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
        } => {
            let progress = Progress::new();
            // Nothing is retained unless a golden file compares it: counts are
            // enough, and `--output` streams.
            let retain = if expect.is_some() { usize::MAX } else { 0 };
            let mut pipeline = load(&flow, &progress)?.retain(retain).trace_capacity(0);
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
        } => bench(&flow, duration, iterations),
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

/// A run's report, and its error if it stopped; a flow that could not start
/// (a manifest or graph error) has no report to print. A stop at `--limit`
/// (`limit`) is what was asked for, not an error.
fn outcome(
    run: Result<RunResult, FlowError>,
    limit: Option<u64>,
) -> Result<(RunResult, Option<String>), String> {
    match run {
        Ok(result) => Ok((result, None)),
        Err(err) if err.report.nodes.is_empty() => Err(describe(&err)),
        Err(err)
            if limit.is_some()
                && matches!(
                    err.error.kind(),
                    ErrorKind::Stopped {
                        limit: RunLimit::Elements(_)
                    }
                ) =>
        {
            eprintln!(
                "torvyn-testkit: --limit {}: the sources were not pulled again after {} elements",
                limit.unwrap_or(0),
                err.report.elements
            );
            Ok((*err.report, None))
        }
        Err(err) => {
            let message = describe(&err);
            Ok((*err.report, Some(message)))
        }
    }
}

/// A teardown that failed is a warning, never silent.
fn warn_teardown(result: &RunResult) {
    for (node, error) in result.teardown_errors() {
        eprintln!("torvyn-testkit: warning: the teardown of node `{node}` failed: {error}");
    }
}

/// `check`: every problem of the manifest and its components, without running.
fn check(args: &CheckArgs) -> Result<(), String> {
    use torvyn_testkit::manifest::{ComponentRef, Manifest};
    let manifest = Manifest::from_path(&args.manifest).map_err(|err| err.to_string())?;
    note_unused_keys(manifest.accepted_unused_keys());
    let progress = Progress::new();
    let flows: Vec<String> = match args.flow() {
        Some(flow) => vec![flow],
        None => manifest.flows.keys().cloned().collect(),
    };
    let mut problems = Vec::new();
    for name in flows {
        let flow = match manifest.flow(Some(&name)) {
            Ok(flow) => flow,
            Err(err) => {
                problems.push(err.to_string());
                continue;
            }
        };
        for (node, spec) in &flow.nodes {
            let key = format!("flow.{name}.nodes.{node}");
            let wasm = match &spec.component {
                ComponentRef::File(path) => path.clone(),
                ComponentRef::Crate {
                    name: krate, path, ..
                } => {
                    progress.step(format!("building {krate} ({})", path.display()));
                    match torvyn_testkit::build::build_component(path) {
                        Ok(wasm) => wasm,
                        Err(err) => {
                            problems.push(format!("{key}: did not build: {err}"));
                            continue;
                        }
                    }
                }
            };
            progress.step(format!("checking {key}"));
            let inspection = match torvyn_testkit::inspect::inspect(&wasm) {
                Ok(inspection) => inspection,
                Err(err) => {
                    problems.push(format!("{key}: {}", describe(&err)));
                    continue;
                }
            };
            let before = problems.len();
            if inspection.role != spec.interface {
                problems.push(format!(
                    "{key}: `interface` is `{}`, but {} is a {} (it exports `{}`)",
                    spec.interface.interface(),
                    wasm.display(),
                    inspection.role,
                    inspection.role.versioned_interface()
                ));
            }
            for mismatch in &inspection.mismatches {
                problems.push(format!(
                    "{key}: {} does not match the contract: {} {mismatch}",
                    wasm.display(),
                    mismatch.direction
                ));
            }
            if problems.len() == before {
                progress.suspend(|| {
                    println!("ok  {key}: {} ({})", inspection.role, wasm.display());
                });
            }
        }
    }
    progress.clear();
    if problems.is_empty() {
        println!("{}: no problems", args.manifest.display());
        return Ok(());
    }
    for problem in &problems {
        eprintln!("error: {problem}");
    }
    Err(format!(
        "{}: {} problems, listed above",
        args.manifest.display(),
        problems.len()
    ))
}

/// An error's message followed by every cause in its chain that the message
/// does not already include (wasmtime's link error, a trap's wasm backtrace).
fn describe(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str("\ncaused by: ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The flow of the manifest, with `--input` replacing its source; on a
/// terminal, `progress` names each crate as it builds.
fn load(args: &FlowArgs, progress: &Progress) -> Result<Pipeline, String> {
    if !args.manifest.is_file() {
        return Err(format!(
            "{}: no such file; pass the project's manifest with `--manifest path/to/Torvyn.toml`",
            args.manifest.display()
        ));
    }
    let flow = args.flow();
    progress.build_crates(&args.manifest, flow.as_deref(), args.input.is_some());
    progress.step("loading components");
    let mut pipeline = match &args.input {
        // The replaced source is not built.
        Some(input) => {
            let spec = NodeSpec::source_jsonl(input).map_err(|err| err.to_string())?;
            Pipeline::from_manifest_with_source(&args.manifest, flow.as_deref(), spec)
        }
        None => Pipeline::from_manifest(&args.manifest, flow.as_deref()),
    }
    .map_err(|err| {
        progress.clear();
        describe(&err)
    })?;
    note_unused_keys(pipeline.accepted_unused_keys());
    if let Some(max) = args.max_elements.or(args.limit) {
        pipeline = pipeline.max_elements(max);
    }
    if let Some(timeout) = args.timeout {
        pipeline = pipeline.timeout(timeout);
    }
    if let Some(mode) = args.clock {
        pipeline = pipeline.clock_mode(mode);
    }
    if let Some(seed) = args.random_seed {
        pipeline = pipeline.random_seed(seed);
    }
    if let Some(policy) = args.on_error {
        pipeline =
            policy::override_flow_default(pipeline, &args.manifest, args.flow.as_deref(), policy)?;
    }
    Ok(pipeline)
}

/// The manifest's keys the reference host accepts but does not use, once, on stderr.
fn note_unused_keys(keys: &[String]) {
    if let Some(note) = torvyn_testkit::manifest::unused_keys_note(keys) {
        eprintln!("torvyn-testkit: note: {note}");
    }
}

fn print_counts(result: &RunResult) {
    let aggregated = if result.aggregated > 0 {
        format!(" (and {} aggregates)", result.aggregated)
    } else {
        String::new()
    };
    println!(
        "flow `{}`: {} elements{aggregated}",
        result.flow, result.elements
    );
    println!(
        "{:<20} {:<10} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>9} {:>8}",
        "node",
        "role",
        "in",
        "out",
        "dropped",
        "absorbed",
        "delivered",
        "failed",
        "dead",
        "discarded",
        "pauses"
    );
    for (name, report) in &result.nodes {
        let role = report.role.map(|role| role.name()).unwrap_or("-");
        println!(
            "{name:<20} {role:<10} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>9} {:>8}",
            report.received,
            report.emitted,
            report.dropped,
            report.absorbed,
            report.delivered,
            report.failed,
            report.dead_lettered,
            report.discarded,
            report.pauses
        );
    }
}

/// `bench`: run the flow for `duration`, or exactly `iterations` times.
/// The end-of-run summary under the counts, what Torvyn's shows: the run's
/// duration, the copies components made (reads into their memory and
/// host-side clones) and those fan-out made, and each queue's peak depth.
fn print_summary(result: &RunResult, elapsed: Duration) {
    let stats = result.nodes.iter().map(|(_, report)| &report.stats);
    let (mut reads, mut read_bytes, mut clones, mut cloned_bytes) = (0u64, 0u64, 0u64, 0u64);
    for stats in stats {
        reads += stats.reads;
        read_bytes += stats.payload_bytes_read;
        clones += stats.clones;
        cloned_bytes += stats.bytes_cloned;
    }
    let duration = if elapsed < Duration::from_secs(1) {
        format!("{:.1} ms", elapsed.as_secs_f64() * 1e3)
    } else {
        format!("{:.2} s", elapsed.as_secs_f64())
    };
    println!(
        "duration {duration} | copies {} ({reads} reads + {clones} clones, {} bytes copied) | \
         fan-out copies {} | peak queue depth {}",
        reads + clones,
        read_bytes + cloned_bytes,
        result.copies,
        result.peak_queue_depth()
    );
    if result.edges.is_empty() {
        return;
    }
    println!("{:<41} {:>8} {:>8}", "queue", "depth", "peak");
    for edge in &result.edges {
        let from = if edge.port == "output" {
            edge.from.clone()
        } else {
            format!("{}.{}", edge.from, edge.port)
        };
        let queue = format!("{from} -> {}", edge.to);
        println!("{queue:<41} {:>8} {:>8}", edge.depth, edge.peak);
    }
}

fn bench(args: &FlowArgs, duration: Duration, iterations: Option<u64>) -> Result<(), String> {
    let progress = Progress::new();
    let pipeline = load(args, &progress)?.record(false).measure_latency(true);
    let mut latencies = Vec::new();
    let mut elements = 0u64;
    let mut runs = 0u64;
    let started = Instant::now();
    let more = |runs: u64| match iterations {
        Some(iterations) => runs < iterations,
        None => runs == 0 || started.elapsed() < duration,
    };
    while more(runs) {
        progress.step(format!(
            "benchmarking flow{}: {runs} runs, {elements} elements",
            flow_label(args)
        ));
        // A run stopped by the limits the command line set is a measurement too.
        let result = match pipeline.clone().run() {
            Ok(result) => result,
            Err(err)
                if matches!(
                    err.error.kind(),
                    ErrorKind::Stopped {
                        limit: RunLimit::Elements(_) | RunLimit::WallTime(_)
                    }
                ) =>
            {
                *err.report
            }
            Err(err) => {
                progress.clear();
                return Err(err.to_string());
            }
        };
        warn_teardown(&result);
        elements += result.elements;
        latencies.extend(result.latencies_ns);
        runs += 1;
    }
    let elapsed = started.elapsed();
    progress.clear();
    latencies.sort_unstable();
    let percentile = |p: f64| -> u64 {
        if latencies.is_empty() {
            return 0;
        }
        let rank = ((p / 100.0) * (latencies.len() - 1) as f64).round() as usize;
        latencies[rank.min(latencies.len() - 1)]
    };
    let per_second = elements as f64 / elapsed.as_secs_f64();
    let summary = serde_json::json!({
        "flow": pipeline_name(args),
        "runs": runs,
        "elements": elements,
        "seconds": elapsed.as_secs_f64(),
        "elements_per_second": per_second,
        "latency_ns": { "p50": percentile(50.0), "p90": percentile(90.0), "p99": percentile(99.0), "max": latencies.last().copied().unwrap_or(0) },
        "note": "each run instantiates and inits every component; latency is from entering the flow to delivery at a sink",
    });
    match args.format {
        Format::Json => println!("{summary}"),
        Format::Text => {
            println!(
                "{runs} runs, {elements} elements in {:.2} s: {per_second:.0} elements/s",
                elapsed.as_secs_f64()
            );
            println!(
                "latency (enter flow -> sink): p50 {} µs, p90 {} µs, p99 {} µs, max {} µs",
                percentile(50.0) / 1000,
                percentile(90.0) / 1000,
                percentile(99.0) / 1000,
                latencies.last().copied().unwrap_or(0) / 1000
            );
        }
    }
    Ok(())
}

/// `` `main` `` with a leading space for a named flow, for progress messages.
fn flow_label(args: &FlowArgs) -> String {
    args.flow()
        .map_or_else(String::new, |flow| format!(" `{flow}`"))
}

fn pipeline_name(args: &FlowArgs) -> String {
    args.flow().unwrap_or_else(|| "(only flow)".into())
}
