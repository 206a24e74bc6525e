//! `trace`: execute a flow and print what happened to every element.

use clap::Args;

use crate::command_prelude::{FlowArgs, Format};
use crate::flow::{flow_label, load, outcome, warn_teardown};
use crate::progress::Progress;

#[derive(Args)]
pub(crate) struct TraceArgs {
    #[command(flatten)]
    flow: FlowArgs,
}

pub(crate) fn exec(args: TraceArgs) -> Result<(), String> {
    let TraceArgs { flow } = args;
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
