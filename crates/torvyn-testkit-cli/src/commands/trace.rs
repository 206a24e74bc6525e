//! `trace`: execute a flow and print what happened to every element: per
//! element, each stage with its call's time, the queue wait, the payload's
//! size and first bytes, and why it stopped where it stopped.

use std::path::PathBuf;

use clap::Args;
use torvyn_testkit::picture::Failure;

use crate::cli::GlobalOpts;
use crate::command_prelude::{FlowArgs, Format};
use crate::flow::{flow_label, load, outcome, warn_teardown};
use crate::otlp;
use crate::pictures::{self, TraceFormat};
use crate::progress::Progress;

/// The payload bytes a stage shows by default (`--payload` shows more).
const PREVIEW_BYTES: usize = 32;

/// The payload bytes a stage shows with `--payload`.
const PAYLOAD_BYTES: usize = 64 * 1024;

#[derive(Args)]
pub(crate) struct TraceArgs {
    #[command(flatten)]
    flow: FlowArgs,
    /// `pretty` (the default; `text` is the same): per element, each stage
    /// with its call's time, queue wait, payload size and preview and why
    /// it stopped; `json`: the same as JSON (also `--format json`); `otlp`:
    /// OTLP/JSON spans, one trace per element and one span per stage;
    /// `chrome`: the Chrome trace event format, which Perfetto and
    /// chrome://tracing open.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = TraceFormat::Pretty)]
    trace_format: TraceFormat,
    /// Write the trace to FILE instead of stdout (every format).
    #[arg(long, value_name = "FILE")]
    output_trace: Option<PathBuf>,
    /// Show each stage's queue length, and every pause, hold and resume and
    /// each queue's depth and peak after the elements.
    #[arg(long)]
    show_backpressure: bool,
    /// Show what each stage allocated and copied (reads into the component,
    /// host-side clones, fan-out copies).
    #[arg(long)]
    show_buffers: bool,
    /// Show each stage's payload up to 64 KiB (the first 32 bytes by default).
    #[arg(long)]
    payload: bool,
    /// Write a self-contained HTML report of the run to FILE.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

pub(crate) fn exec(args: TraceArgs, global: &GlobalOpts) -> Result<(), String> {
    let TraceArgs {
        flow,
        trace_format,
        output_trace,
        show_backpressure,
        show_buffers,
        payload,
        report,
    } = args;
    let progress = Progress::new();
    let pipeline = load(&flow, &progress)?
        .record_timeline(true)
        .timeline_payload_bytes(if payload {
            PAYLOAD_BYTES
        } else {
            PREVIEW_BYTES
        });
    progress.step(format!("tracing flow{}", flow_label(&flow)));
    let run = pipeline.run();
    progress.clear();
    let failure = report.as_ref().and(run.as_ref().err()).map(Failure::from);
    let (result, error) = outcome(run, flow.limit)?;
    if let Some(path) = &report {
        pictures::write_report(path, &flow, &result, failure.as_ref(), &[])?;
    }
    let view = || {
        result
            .trace_view()
            .with_backpressure(show_backpressure)
            .with_buffers(show_buffers)
    };
    let output = output_trace.as_deref();
    match (trace_format, global.format) {
        (TraceFormat::Chrome, _) => pictures::write_chrome_trace(&result, output)?,
        (TraceFormat::Otlp, _) => {
            let json = otlp::to_json(&view())? + "\n";
            pictures::write_trace(&json, output, "the OTLP/JSON trace")?;
        }
        (TraceFormat::Json, _) | (TraceFormat::Pretty, Format::Json) => {
            let json = serde_json::to_string(&view()).map_err(|err| err.to_string())? + "\n";
            pictures::write_trace(&json, output, "the JSON trace")?;
        }
        (TraceFormat::Pretty, Format::Text) => {
            pictures::write_trace(&view().to_string(), output, "the trace")?;
        }
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
