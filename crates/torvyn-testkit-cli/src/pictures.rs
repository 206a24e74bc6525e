//! Pictures of a flow on the command line: `check --graph`, `run --graph`,
//! `trace --trace-format chrome --output-trace`, and `--report` (`run`,
//! `trace`, `bench`). Each flag calls one function here.

use std::path::Path;

use clap::ValueEnum;
use torvyn_testkit::RunResult;
use torvyn_testkit::manifest::Manifest;
use torvyn_testkit::picture::{Failure, FlowDiagram, ReportInput};

use crate::command_prelude::FlowArgs;

/// A graph's language (`--graph`).
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum GraphFormat {
    /// A Mermaid flowchart (GitHub and most docs render it as is).
    Mermaid,
    /// Graphviz's DOT (`dot -Tsvg`).
    Dot,
}

/// How `trace` writes the trace (`--trace-format`).
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TraceFormat {
    /// Per element, each stage with its call's time, queue wait, payload
    /// size and preview, and why it stopped (`text` is the same).
    #[value(alias = "text")]
    Pretty,
    /// The same timeline as JSON.
    Json,
    /// OTLP/JSON spans: one trace per element, one span per stage.
    Otlp,
    /// The Chrome trace event format (Perfetto, chrome://tracing).
    Chrome,
}

fn render(diagram: &FlowDiagram, format: GraphFormat) -> String {
    match format {
        GraphFormat::Mermaid => diagram.to_mermaid(),
        GraphFormat::Dot => diagram.to_dot(),
    }
}

/// `check --graph`: the graph of each named flow (every flow when none is
/// named) on stdout, from the manifest alone (nothing is built).
pub(crate) fn print_manifest_graph(
    manifest: &Path,
    flow: Option<&str>,
    format: GraphFormat,
) -> Result<(), String> {
    let manifest = Manifest::from_path(manifest).map_err(|err| err.to_string())?;
    let flows: Vec<String> = match flow {
        Some(flow) => {
            manifest.flow(Some(flow)).map_err(|err| err.to_string())?;
            vec![flow.to_string()]
        }
        None => manifest.flows.keys().cloned().collect(),
    };
    for (index, name) in flows.iter().enumerate() {
        if let Some(diagram) = manifest.diagram(Some(name)) {
            if index > 0 {
                println!();
            }
            print!("{}", render(&diagram, format));
        }
    }
    Ok(())
}

/// `run --graph`: the flow's graph annotated with the run's counts, on stdout.
pub(crate) fn print_run_graph(
    manifest: &Path,
    flow: Option<&str>,
    result: &RunResult,
    format: GraphFormat,
) {
    let diagram = Manifest::from_path(manifest)
        .ok()
        .and_then(|manifest| manifest.diagram(flow))
        .map_or_else(|| FlowDiagram::from_run(result), |d| d.with_run(result));
    print!("{}", render(&diagram, format));
}

/// `trace --output-trace`: the trace's text to `output`, or stdout; `what`
/// names it in the note on stderr (`the Chrome trace (open it in ...)`).
pub(crate) fn write_trace(trace: &str, output: Option<&Path>, what: &str) -> Result<(), String> {
    match output {
        Some(path) => {
            std::fs::write(path, trace)
                .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
            eprintln!("torvyn-testkit: wrote {what} to {}", path.display());
        }
        None => print!("{trace}"),
    }
    Ok(())
}

/// `trace --trace-format chrome`: the run's timeline as a Chrome trace, to
/// `output` or stdout.
pub(crate) fn write_chrome_trace(result: &RunResult, output: Option<&Path>) -> Result<(), String> {
    let trace = result
        .chrome_trace()
        .ok_or("internal: the run recorded no timeline")?;
    write_trace(
        &trace,
        output,
        "the Chrome trace (open it in https://ui.perfetto.dev or chrome://tracing)",
    )
}

/// `--report`: the self-contained HTML report of `result` to `path`.
/// `failure` is what stopped the flow, if anything did; `extra` are lines of
/// the command's own (a bench's rates).
pub(crate) fn write_report(
    path: &Path,
    flow: &FlowArgs,
    result: &RunResult,
    failure: Option<&Failure>,
    extra: &[String],
) -> Result<(), String> {
    let flow_name = flow.flow();
    let diagram = Manifest::from_path(&flow.choice.manifest)
        .ok()
        .and_then(|manifest| manifest.diagram(flow_name.as_deref()));
    let html = torvyn_testkit::picture::html_report(&ReportInput {
        result,
        diagram: diagram.as_ref(),
        failure,
        notes: extra,
    });
    std::fs::write(path, html).map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    eprintln!("torvyn-testkit: wrote the report {}", path.display());
    Ok(())
}
