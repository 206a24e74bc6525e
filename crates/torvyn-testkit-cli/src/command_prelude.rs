//! The arguments several verbs share (cargo's `command_prelude.rs`): the
//! flow a verb runs ([`FlowArgs`], [`FlowChoice`]), `--format`'s values, durations.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use torvyn_testkit::{ClockMode, ErrorPolicy};

use crate::log_level::LogLevel;
use crate::overrides::ConfigOverride;

// The flow a verb runs (`run`, `trace`, `bench`): which one, and how. (Plain
// comments on `Args` structs: a doc comment would become the verb's about.)
#[derive(Args)]
pub(crate) struct FlowArgs {
    #[command(flatten)]
    pub(crate) choice: FlowChoice,
    /// Feed these JSON lines (one element per line) instead of the flow's
    /// source; `-` reads them from stdin.
    #[arg(long)]
    pub(crate) input: Option<PathBuf>,
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
    /// Change a node's `init` config: `NODE=VALUE` replaces it whole (e.g.
    /// `'source={"count": 20}'`), `NODE.KEY=VALUE` sets one key of its JSON
    /// object (VALUE as JSON when it parses, else as a string). Repeatable;
    /// applied in order.
    #[arg(long, value_name = "NODE[.KEY]=VALUE")]
    pub(crate) config: Vec<ConfigOverride>,
    /// Which log lines are shown: the components' `[level]` lines on stderr
    /// and the command's own notes (`info`) and warnings (`warn`); errors
    /// always.
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = LogLevel::Info)]
    pub(crate) log_level: LogLevel,
    /// What a node does when a call on an element fails: `fail-flow`, `skip`,
    /// `dead-letter` or `retry=N`. Replaces the flow's `on_error` for the
    /// nodes that set none of their own.
    #[arg(long, value_name = "POLICY")]
    pub(crate) on_error: Option<ErrorPolicy>,
}

impl FlowArgs {
    /// The flow named by `--flow` or the positional argument, if any.
    pub(crate) fn flow(&self) -> Option<String> {
        self.choice.flow()
    }
}

// Which flow of which manifest: `[FLOW]`, `--manifest` and `--flow`, as
// Torvyn's own command lines take them. A verb that reads them otherwise
// (`check`: every flow by default) words their help with `mut_arg`.
#[derive(Args)]
pub(crate) struct FlowChoice {
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
}

impl FlowChoice {
    /// The flow named by `--flow` or the positional argument, if any.
    pub(crate) fn flow(&self) -> Option<String> {
        flow_name(self.flow.as_deref().or(self.flow_name.as_deref()))
    }
}

/// A flow's name as Torvyn's command lines write it: `flow.main` is `main`.
fn flow_name(name: Option<&str>) -> Option<String> {
    name.map(|name| name.strip_prefix("flow.").unwrap_or(name).to_string())
}

/// `--format` (a global option, [`crate::cli::GlobalOpts`]): a verb's
/// report for people (`human`, also written `text`) or as JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// For people (upstream's `human`).
    #[value(name = "human", alias = "text")]
    Text,
    /// One JSON document on stdout.
    Json,
}

/// A duration as the command line writes it: `5s`, `500ms`, `2m`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
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
