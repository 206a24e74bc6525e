//! `torvyn-testkit`: run, trace, benchmark and inspect Torvyn components and
//! flows on the reference host.
//!
//! ```text
//! torvyn-testkit run --manifest Torvyn.toml [--flow F] [--input in.jsonl] [--output out.jsonl] [--format json]
//!                    [--expect golden.jsonl [--bless]]
//! torvyn-testkit trace --manifest Torvyn.toml [--flow F] [--input in.jsonl] [--format json]
//! torvyn-testkit bench --manifest Torvyn.toml [--flow F] [--input in.jsonl] [--duration 5s] [--format json]
//! torvyn-testkit inspect component.wasm [--format json]
//! torvyn-testkit check --manifest Torvyn.toml [--flow F]
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
//! `check` validates the manifest and type-checks every node's component
//! (building crates) against the contract and its declared interface, without
//! running anything; it lists every problem and exits with 1 when there is one.
//!
//! `inspect` type-checks the component's imports and exports against the
//! Torvyn 0.1 contract and tries to link it; it lists every mismatch and exits
//! with 1 when there is one.
//!
//! `run`, `trace` and `bench` also take `--max-elements N`, `--timeout DURATION`
//! (default 60 s), `--clock virtual|real`, `--random-seed N` and `--on-error
//! fail-flow|skip|dead-letter|retry=N` (what a node does when a call on an
//! element fails; it replaces the flow's `on_error` in `Torvyn.toml`, and a
//! node's own `on_error` still wins). When a call stops the flow, the error
//! names the element's sequence number and, with `--input`, its line:
//! `at element #1 (line 2 of in.jsonl)`.
//!
//! `run --format json` prints one object, stable across versions (keys are
//! only ever added): `{"flow", "elements", "aggregated", "nodes": {name:
//! {"role", "in", "out", "dropped", "absorbed", "delivered", "failed",
//! "dead_lettered", "discarded", "failed_calls", "retries", "pauses"}},
//! "sinks": {name: delivered}, "dead_letters": count, "counts": {...}}`
//! (`RunResult::summary_json`). `--output` streams every element a sink
//! receives to a JSON-lines file as it arrives. On any failure the exit code
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

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand, ValueEnum};
use torvyn_testkit::golden::{self, Golden, GoldenOutcome};
use torvyn_testkit::host::ClockMode;
use torvyn_testkit::pipeline::{ErrorPolicy, FlowError, NodeSpec, Pipeline, RunLimit, RunResult};
use torvyn_testkit::{ErrorKind, Output};

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
        /// Write every element the sinks receive, as JSON lines, as they arrive.
        #[arg(long)]
        output: Option<PathBuf>,
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
    /// The project's `Torvyn.toml`.
    #[arg(long, default_value = "Torvyn.toml")]
    manifest: PathBuf,
    /// Check only this flow (default: every flow).
    #[arg(long)]
    flow: Option<String>,
}

#[derive(Args)]
struct FlowArgs {
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
            expect,
            bless,
        } => {
            // Nothing is retained unless a golden file compares it: counts are
            // enough, and `--output` streams.
            let retain = if expect.is_some() { usize::MAX } else { 0 };
            let mut pipeline = load(&flow)?.retain(retain).trace_capacity(0);
            let writer = match &output {
                Some(path) => {
                    let writer = OutputWriter::create(path)?;
                    let sink = Arc::clone(&writer);
                    pipeline = pipeline.on_delivered(move |name, element| {
                        sink.lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner())
                            .write(name, element);
                    });
                    Some(writer)
                }
                None => None,
            };
            let (result, error) = outcome(pipeline.run())?;
            if let Some(writer) = writer {
                writer
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .finish()?;
            }
            match flow.format {
                Format::Json => println!("{}", result.summary_json()),
                Format::Text => {
                    print_counts(&result);
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
            let (result, error) = outcome(load(&flow)?.run())?;
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
        Command::Bench { flow, duration } => bench(&flow, duration),
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
/// (a manifest or graph error) has no report to print.
fn outcome(run: Result<RunResult, FlowError>) -> Result<(RunResult, Option<String>), String> {
    match run {
        Ok(result) => Ok((result, None)),
        Err(err) if err.report.nodes.is_empty() => Err(describe(&err)),
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
    let flows: Vec<String> = match &args.flow {
        Some(flow) => vec![flow.clone()],
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
                ComponentRef::Crate { path, .. } => {
                    match torvyn_testkit::build::build_component(path) {
                        Ok(wasm) => wasm,
                        Err(err) => {
                            problems.push(format!("{key}: did not build: {err}"));
                            continue;
                        }
                    }
                }
            };
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
                println!("ok  {key}: {} ({})", inspection.role, wasm.display());
            }
        }
    }
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

/// The flow of the manifest, with `--input` replacing its source.
fn load(args: &FlowArgs) -> Result<Pipeline, String> {
    if !args.manifest.is_file() {
        return Err(format!(
            "{}: no such file; pass the project's manifest with `--manifest path/to/Torvyn.toml`",
            args.manifest.display()
        ));
    }
    let mut pipeline = match &args.input {
        // The replaced source is not built.
        Some(input) => {
            let spec = NodeSpec::source_jsonl(input).map_err(|err| err.to_string())?;
            Pipeline::from_manifest_with_source(&args.manifest, args.flow.as_deref(), spec)
        }
        None => Pipeline::from_manifest(&args.manifest, args.flow.as_deref()),
    }
    .map_err(|err| describe(&err))?;
    note_unused_keys(pipeline.accepted_unused_keys());
    if let Some(max) = args.max_elements {
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

/// `--output`: each element a sink receives, written as one JSON line as it arrives.
struct OutputWriter {
    path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
    error: Option<String>,
}

impl OutputWriter {
    fn create(path: &Path) -> Result<Arc<Mutex<OutputWriter>>, String> {
        let file = std::fs::File::create(path)
            .map(std::io::BufWriter::new)
            .map_err(|err| format!("cannot create {}: {err}", path.display()))?;
        Ok(Arc::new(Mutex::new(OutputWriter {
            path: path.to_path_buf(),
            file,
            error: None,
        })))
    }

    fn write(&mut self, sink: &str, output: &Output) {
        if self.error.is_some() {
            return;
        }
        let mut line = serde_json::json!({
            "sink": sink,
            "sequence": output.meta.sequence,
            "timestamp_ns": output.meta.timestamp_ns,
            "content_type": output.content_type,
        });
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(output.bytes()) {
            line["json"] = value;
        } else if let Some(text) = output.text() {
            line["text"] = text.into();
        } else {
            line["bytes"] = output.bytes().into();
        }
        if let Err(err) = writeln!(self.file, "{line}") {
            self.error = Some(format!("cannot write {}: {err}", self.path.display()));
        }
    }

    fn finish(&mut self) -> Result<(), String> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        self.file
            .flush()
            .map_err(|err| format!("cannot write {}: {err}", self.path.display()))
    }
}

fn bench(args: &FlowArgs, duration: Duration) -> Result<(), String> {
    let pipeline = load(args)?.record(false).measure_latency(true);
    let mut latencies = Vec::new();
    let mut elements = 0u64;
    let mut runs = 0u64;
    let started = Instant::now();
    while runs == 0 || started.elapsed() < duration {
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
            Err(err) => return Err(err.to_string()),
        };
        warn_teardown(&result);
        elements += result.elements;
        latencies.extend(result.latencies_ns);
        runs += 1;
    }
    let elapsed = started.elapsed();
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

fn pipeline_name(args: &FlowArgs) -> String {
    args.flow.clone().unwrap_or_else(|| "(only flow)".into())
}
