//! `torvyn-testkit`: run, trace, benchmark and inspect Torvyn components and
//! flows on the reference host.
//!
//! ```text
//! torvyn-testkit run --manifest Torvyn.toml [--flow F] [--input in.jsonl] [--output out.jsonl] [--format json]
//! torvyn-testkit trace --manifest Torvyn.toml [--flow F] [--input in.jsonl] [--format json]
//! torvyn-testkit bench --manifest Torvyn.toml [--flow F] [--input in.jsonl] [--duration 5s] [--format json]
//! torvyn-testkit inspect component.wasm [--format json]
//! ```
//!
//! `run --format json` prints one object, stable across versions:
//! `{"flow", "elements", "nodes": {name: {"role", "in", "out", "dropped",
//! "failed", "dead_lettered", "retries", "pauses"}}, "sinks": {name: count},
//! "dead_letters": count}`. On any failure the exit code is 1 and stderr says
//! what failed (usage errors exit with 2).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand, ValueEnum};
use torvyn_testkit::pipeline::{NodeSpec, Pipeline, RunResult};

#[derive(Parser)]
#[command(
    name = "torvyn-testkit",
    version,
    about = "Run Torvyn components and flows on the reference host"
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
        /// Write every element the sinks received, as JSON lines.
        #[arg(long)]
        output: Option<PathBuf>,
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
    /// Print a component's role, imports and exports.
    Inspect {
        /// The `.wasm` component.
        component: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
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
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
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
        Command::Run { flow, output } => {
            let result = load(&flow)?.run().map_err(|err| err.to_string())?;
            if let Some(path) = output {
                write_output(&path, &result)?;
            }
            match flow.format {
                Format::Json => println!("{}", result.summary_json()),
                Format::Text => print_counts(&result),
            }
            Ok(())
        }
        Command::Trace { flow } => {
            let result = load(&flow)?.run().map_err(|err| err.to_string())?;
            match flow.format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string(&result.trace).map_err(|err| err.to_string())?
                ),
                Format::Text => print!("{}", result.trace),
            }
            Ok(())
        }
        Command::Bench { flow, duration } => bench(&flow, duration),
        Command::Inspect { component, format } => {
            let inspection =
                torvyn_testkit::inspect::inspect(&component).map_err(|err| err.to_string())?;
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
                }
            }
            Ok(())
        }
    }
}

/// The flow of the manifest, with `--input` replacing its source.
fn load(args: &FlowArgs) -> Result<Pipeline, String> {
    if !args.manifest.is_file() {
        return Err(format!(
            "{}: no such file; pass the project's manifest with `--manifest path/to/Torvyn.toml`",
            args.manifest.display()
        ));
    }
    match &args.input {
        // The replaced source is not built.
        Some(input) => {
            let spec = NodeSpec::source_jsonl(input).map_err(|err| err.to_string())?;
            Pipeline::from_manifest_with_source(&args.manifest, args.flow.as_deref(), spec)
        }
        None => Pipeline::from_manifest(&args.manifest, args.flow.as_deref()),
    }
    .map_err(|err| err.to_string())
}

fn print_counts(result: &RunResult) {
    println!("flow `{}`: {} elements", result.flow, result.elements);
    println!(
        "{:<20} {:<10} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "node", "role", "in", "out", "dropped", "failed", "dead", "pauses"
    );
    for (name, report) in &result.nodes {
        let role = report.role.map(|role| role.name()).unwrap_or("-");
        println!(
            "{name:<20} {role:<10} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
            report.received,
            report.emitted,
            report.dropped,
            report.failed,
            report.dead_lettered,
            report.pauses
        );
    }
}

fn write_output(path: &Path, result: &RunResult) -> Result<(), String> {
    let mut file = std::fs::File::create(path)
        .map(std::io::BufWriter::new)
        .map_err(|err| format!("cannot create {}: {err}", path.display()))?;
    for (sink, outputs) in &result.sinks {
        for output in outputs {
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
            writeln!(file, "{line}")
                .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
        }
    }
    file.flush()
        .map_err(|err| format!("cannot write {}: {err}", path.display()))
}

fn bench(args: &FlowArgs, duration: Duration) -> Result<(), String> {
    let pipeline = load(args)?.record(false).measure_latency(true);
    let mut latencies = Vec::new();
    let mut elements = 0u64;
    let mut runs = 0u64;
    let started = Instant::now();
    while runs == 0 || started.elapsed() < duration {
        let result = pipeline.clone().run().map_err(|err| err.to_string())?;
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
