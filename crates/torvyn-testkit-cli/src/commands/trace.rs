//! `trace`: execute a flow and print what happened to every element.

use std::path::PathBuf;

use clap::Args;
use torvyn_testkit::picture::Failure;

use crate::cli::GlobalOpts;
use crate::command_prelude::{FlowArgs, Format};
use crate::flow::{flow_label, load, outcome, warn_teardown};
use crate::pictures::{self, TraceFormat};
use crate::progress::Progress;

#[derive(Args)]
pub(crate) struct TraceArgs {
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
}

pub(crate) fn exec(args: TraceArgs, global: &GlobalOpts) -> Result<(), String> {
    let TraceArgs {
        flow,
        trace_format,
        output_trace,
        report,
    } = args;
    let progress = Progress::new();
    let chrome = trace_format == TraceFormat::Chrome;
    let pipeline = load(&flow, &progress)?.record_timeline(chrome || report.is_some());
    progress.step(format!("tracing flow{}", flow_label(&flow)));
    let run = pipeline.run();
    progress.clear();
    let failure = report.as_ref().and(run.as_ref().err()).map(Failure::from);
    let (result, error) = outcome(run, flow.limit)?;
    if let Some(path) = &report {
        pictures::write_report(path, &flow, &result, failure.as_ref(), &[])?;
    }
    match global.format {
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
