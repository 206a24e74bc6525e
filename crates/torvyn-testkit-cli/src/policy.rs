//! `--on-error POLICY` on `run`, `trace` and `bench`, and the dead letters a
//! run's text report lists.

use std::path::Path;

use crate::report::say;
use torvyn_testkit::manifest::Manifest;
use torvyn_testkit::{ErrorPolicy, Pipeline, RunResult};

/// How many dead letters the text report lists (the JSON summary counts all).
const LISTED_DEAD_LETTERS: usize = 20;

/// `--on-error`: `policy` replaces the flow's default (`[flow.X] on_error`)
/// for every node of the flow whose `[flow.X.nodes.Y]` sets no `on_error`;
/// a node's own `on_error` still wins.
pub(crate) fn override_flow_default(
    pipeline: Pipeline,
    manifest: &Path,
    flow: Option<&str>,
    policy: ErrorPolicy,
) -> Result<Pipeline, String> {
    let manifest = Manifest::from_path(manifest).map_err(|err| err.to_string())?;
    let flow = manifest.flow(flow).map_err(|err| err.to_string())?;
    Ok(flow
        .nodes
        .values()
        .filter(|node| node.on_error.is_none())
        .fold(pipeline, |pipeline, node| {
            pipeline.policy(&node.name, policy)
        }))
}

/// The text report's list of dead letters: node, sequence number, error.
pub(crate) fn print_dead_letters(result: &RunResult) {
    if result.dead_letters.is_empty() {
        return;
    }
    say!("dead letters: {}", result.dead_letters.len());
    for letter in result.dead_letters.iter().take(LISTED_DEAD_LETTERS) {
        // The error's first line: a trap's backtrace is in the trace.
        let error = letter.error.lines().next().unwrap_or_default();
        say!("  #{} in `{}`: {error}", letter.sequence, letter.node);
    }
    if result.dead_letters.len() > LISTED_DEAD_LETTERS {
        say!(
            "  ... and {} more (`trace` shows every element)",
            result.dead_letters.len() - LISTED_DEAD_LETTERS
        );
    }
}
