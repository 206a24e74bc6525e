//! The command line: the verbs and their arguments (clap).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use torvyn_testkit::host::ClockMode;
use torvyn_testkit::pipeline::ErrorPolicy;

use crate::output::PayloadFormat;
use crate::pictures::{GraphFormat, TraceFormat};
use crate::test_verb;

#[derive(Parser)]
#[command(
    name = "torvyn-testkit",
    version,
    about = "Run Torvyn components and flows on the reference host",
    after_help = cache_help()
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
        /// Print the flow's graph, annotated with the run's counts and queue
        /// peaks, instead of the text report: `mermaid` or `dot`.
        #[arg(long, value_enum, value_name = "FORMAT")]
        graph: Option<GraphFormat>,
        /// Write a self-contained HTML report of the run (graph, per-node
        /// table, queue depth over time, slowest elements, the failure) to FILE.
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
    },
    /// Execute a flow and print what happened to every element.
    Trace {
        #[command(flatten)]
        flow: FlowArgs,
        /// `text` (the default: one line per element, or JSON with `--format
        /// json`) or `chrome`: the Chrome trace event format, which Perfetto
        /// and chrome://tracing open.
        #[arg(long, value_enum, value_name = "FORMAT", default_value_t = TraceFormat::Text)]
        trace_format: TraceFormat,
        /// Write the `chrome` trace to FILE instead of stdout.
        #[arg(long, value_name = "FILE")]
        output_trace: Option<PathBuf>,
        /// Write a self-contained HTML report of the run to FILE.
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
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
        /// Write a self-contained HTML report of one more run of the flow,
        /// recorded after the measured ones, with the rates, to FILE.
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
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
pub(crate) struct CheckArgs {
    /// Check only this flow, written `flow.main` or `main` (the same as `--flow`).
    #[arg(value_name = "FLOW", conflicts_with = "flow")]
    pub(crate) flow_name: Option<String>,
    /// The project's `Torvyn.toml`.
    #[arg(long, default_value = "Torvyn.toml")]
    pub(crate) manifest: PathBuf,
    /// Check only this flow (default: every flow).
    #[arg(long)]
    pub(crate) flow: Option<String>,
    /// Print the flow's graph (`mermaid` or `dot`) from the manifest alone,
    /// instead of checking the components.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub(crate) graph: Option<GraphFormat>,
}

impl CheckArgs {
    pub(crate) fn flow(&self) -> Option<String> {
        flow_name(self.flow.as_deref().or(self.flow_name.as_deref()))
    }
}

#[derive(Args)]
pub(crate) struct FlowArgs {
    /// The flow, as Torvyn writes it: `flow.main` or `main` (the same as
    /// `--flow`; default: the only flow).
    #[arg(value_name = "FLOW", conflicts_with = "flow")]
    pub(crate) flow_name: Option<String>,
    /// The project's `Torvyn.toml`.
    #[arg(long, default_value = "Torvyn.toml")]
    pub(crate) manifest: PathBuf,
    /// The flow to run (default: the only flow).
    #[arg(long)]
    pub(crate) flow: Option<String>,
    /// Feed these JSON lines (one element per line) instead of the flow's source.
    #[arg(long)]
    pub(crate) input: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
    /// Stop pulling the sources after N elements (for a source that never
    /// ends); the run then reports that it stopped and exits with 1.
    #[arg(long, value_name = "N")]
    pub(crate) max_elements: Option<u64>,
    /// Torvyn's `--limit`: stop pulling the sources after N elements, run
    /// those to the end, and exit with 0 (`--max-elements` exits with 1).
    #[arg(long, value_name = "N", conflicts_with = "max_elements")]
    pub(crate) limit: Option<u64>,
    /// Stop the run after this much wall time, e.g. `30s`, `500ms` (default 60s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) timeout: Option<Duration>,
    /// The clocks components read: `virtual` (the default; sleeps return at
    /// once) or `real`. Overrides `[testkit] clock` in the manifest.
    #[arg(long, value_name = "MODE")]
    pub(crate) clock: Option<ClockMode>,
    /// The seed of the components' `wasi:random` (default 0, or `[testkit]
    /// random_seed`).
    #[arg(long, value_name = "N")]
    pub(crate) random_seed: Option<u64>,
    /// What a node does when a call on an element fails: `fail-flow`, `skip`,
    /// `dead-letter` or `retry=N`. Replaces the flow's `on_error` for the
    /// nodes that set none of their own.
    #[arg(long, value_name = "POLICY")]
    pub(crate) on_error: Option<ErrorPolicy>,
}

impl FlowArgs {
    /// The flow named by `--flow` or the positional argument, if any.
    pub(crate) fn flow(&self) -> Option<String> {
        flow_name(self.flow.as_deref().or(self.flow_name.as_deref()))
    }
}

/// A flow's name as Torvyn's command lines write it: `flow.main` is `main`.
fn flow_name(name: Option<&str>) -> Option<String> {
    name.map(|name| name.strip_prefix("flow.").unwrap_or(name).to_string())
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
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
