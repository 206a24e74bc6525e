//! The flow a command names: loading it from the manifest with the command
//! line's overrides, and how its run ended.

use torvyn_testkit::{ErrorKind, FlowError, NodeSpec, Pipeline, RunLimit, RunResult};

use crate::command_prelude::FlowArgs;
use crate::interrupt;
use crate::log_level::{self, LogLevel};
use crate::policy;
use crate::progress::Progress;

/// A run's report, and its error if it stopped; a flow that could not start
/// (a manifest or graph error) has no report to print. A stop at `--limit`
/// (`limit`) is what was asked for, not an error.
pub(crate) fn outcome(
    run: Result<RunResult, FlowError>,
    limit: Option<u64>,
) -> Result<(RunResult, Option<String>), String> {
    match run {
        Ok(result) => Ok((result, None)),
        Err(err) if err.report.nodes.is_empty() => Err(describe(&err)),
        Err(err)
            if matches!(
                err.error.kind(),
                ErrorKind::Stopped {
                    limit: RunLimit::Interrupted
                }
            ) =>
        {
            let message = format!(
                "interrupted (Ctrl+C): the sources were not pulled again after {} elements; \
                 the elements in flight ran to the end and every node was torn down",
                err.report.elements
            );
            Ok((*err.report, Some(message)))
        }
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
pub(crate) fn warn_teardown(result: &RunResult) {
    if !log_level::enabled(LogLevel::Warn) {
        return;
    }
    for (node, error) in result.teardown_errors() {
        eprintln!("torvyn-testkit: warning: the teardown of node `{node}` failed: {error}");
    }
}

/// An error's message followed by every cause in its chain that the message
/// does not already include (wasmtime's link error, a trap's wasm backtrace).
pub(crate) fn describe(err: &dyn std::error::Error) -> String {
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
pub(crate) fn load(args: &FlowArgs, progress: &Progress) -> Result<Pipeline, String> {
    let choice = &args.choice;
    if !choice.manifest.is_file() {
        return Err(format!(
            "{}: no such file; pass the project's manifest with `--manifest path/to/Torvyn.toml`",
            choice.manifest.display()
        ));
    }
    log_level::set(args.log_level);
    let flow = args.flow();
    progress.build_crates(&choice.manifest, flow.as_deref(), args.input.is_some());
    progress.step("loading components");
    let mut pipeline = match &args.input {
        // The replaced source is not built.
        Some(input) => {
            let spec = NodeSpec::source_jsonl(input).map_err(|err| err.to_string())?;
            Pipeline::from_manifest_with_source(&choice.manifest, flow.as_deref(), spec)
        }
        None => Pipeline::from_manifest(&choice.manifest, flow.as_deref()),
    }
    .map_err(|err| {
        progress.clear();
        describe(&err)
    })?;
    note_unused_keys(pipeline.accepted_unused_keys());
    pipeline = pipeline.interrupt_with(&interrupt::switch());
    for change in &args.config {
        pipeline = change.apply(pipeline)?;
    }
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
            policy::override_flow_default(pipeline, &choice.manifest, flow.as_deref(), policy)?;
    }
    Ok(pipeline)
}

/// The manifest's keys the reference host accepts but does not use, once, on stderr.
pub(crate) fn note_unused_keys(keys: &[String]) {
    if !log_level::enabled(LogLevel::Info) {
        return;
    }
    if let Some(note) = torvyn_testkit::manifest::unused_keys_note(keys) {
        eprintln!("torvyn-testkit: note: {note}");
    }
}

/// `` `main` `` with a leading space for a named flow, for progress messages.
pub(crate) fn flow_label(args: &FlowArgs) -> String {
    args.flow()
        .map_or_else(String::new, |flow| format!(" `{flow}`"))
}

pub(crate) fn pipeline_name(args: &FlowArgs) -> String {
    args.flow().unwrap_or_else(|| "(only flow)".into())
}
