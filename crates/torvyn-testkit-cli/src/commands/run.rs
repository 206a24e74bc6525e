//! `run`: execute a flow and print per-node counts (or the JSON summary),
//! streaming what the components write and, with `--output`, what the sinks
//! receive.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use torvyn_testkit::picture::Failure;
use torvyn_testkit::{Golden, GoldenOutcome};

use crate::cli::GlobalOpts;
use crate::command_prelude::{FlowArgs, Format};
use crate::flow::{load, outcome, warn_teardown};
use crate::lock;
use crate::output::{ComponentOutput, PayloadFormat, PayloadWriter, Show};
use crate::pictures::{self, GraphFormat};
use crate::policy;
use crate::progress::Progress;
use crate::report;
use crate::report::{print_counts, print_summary};

#[derive(Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    flow: FlowArgs,
    /// Write every element the sinks receive to this file, as they
    /// arrive, with its payload's bytes exactly as received (see
    /// `--output-format`); `-` writes them on stdout (the report then goes
    /// to stderr).
    #[arg(long)]
    output: Option<PathBuf>,
    /// How `--output` writes each element; both keep the payload's bytes
    /// exactly (`raw` is what a sink printing its elements shows).
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = PayloadFormat::Jsonl, requires = "output")]
    output_format: PayloadFormat,
    /// Start each line a component writes with `[node] ` (lines are passed
    /// through unchanged by default; `-q` hides them: what the components
    /// write is shown as the flow runs, or kept in the report with
    /// `--format json`, unless `-q`).
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
}

pub(crate) fn exec(args: RunArgs, global: &GlobalOpts) -> Result<(), String> {
    let RunArgs {
        flow,
        output,
        output_format,
        prefix_nodes,
        expect,
        bless,
        graph,
        report,
    } = args;
    // `-q` (global): what the components write is not shown.
    let quiet = global.quiet;
    if quiet && prefix_nodes {
        return Err(
            "--prefix-nodes marks the components' lines, which -q/--quiet hides; \
                    give one of them"
                .to_string(),
        );
    }
    if graph.is_some() && global.format == Format::Json {
        return Err(
            "--graph prints the graph (mermaid or dot) instead of the report, \
                    so not JSON; drop --format json, or --graph"
                .to_string(),
        );
    }
    let progress = Progress::new();
    // Nothing is retained unless a golden file compares it: counts are
    // enough, and `--output` streams.
    let retain = if expect.is_some() { usize::MAX } else { 0 };
    let mut pipeline = load(&flow, &progress)?
        .retain(retain)
        .trace_capacity(0)
        .record_timeline(report.is_some());
    // `--output -`: stdout carries the payloads; the report goes to stderr
    // and the components' lines are not passed through.
    let payloads_on_stdout = output.as_deref() == Some(std::path::Path::new("-"));
    if payloads_on_stdout {
        report::report_on_stderr();
    }
    let show = match (quiet, global.format) {
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
    let failure = report.as_ref().and(run.as_ref().err()).map(Failure::from);
    let (result, error) = outcome(run, flow.limit)?;
    if let Some(writer) = writer {
        lock(&writer).finish()?;
    }
    if let Some(path) = &report {
        pictures::write_report(path, &flow, &result, failure.as_ref(), &[])?;
    }
    match global.format {
        _ if graph.is_some() => {
            let format = graph.unwrap_or(GraphFormat::Mermaid);
            let flow_name = flow.flow();
            pictures::print_run_graph(&flow.choice.manifest, flow_name.as_deref(), &result, format);
        }
        Format::Json => {
            let mut summary = result.summary_json();
            summary["duration_seconds"] = elapsed.as_secs_f64().into();
            summary["interrupted"] = crate::interrupt::requested().into();
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
        let golden = Golden::new(&path).bless(bless || torvyn_testkit::bless_requested());
        if golden.check(&result).map_err(|err| err.to_string())? == GoldenOutcome::Blessed {
            eprintln!("torvyn-testkit: wrote golden file {}", path.display());
        }
    }
    Ok(())
}
