//! The top-level command line: `torvyn-testkit <verb>` (the verbs are in
//! `commands/`), and the options every verb takes ([`GlobalOpts`]).

use std::sync::OnceLock;

use clap::{Args, CommandFactory, ValueEnum};

use crate::command_prelude::Format;
use crate::commands::Command;

#[derive(clap::Parser)]
#[command(
    name = "torvyn-testkit",
    version,
    about = "Run Torvyn components and flows on the reference host",
    after_help = after_help()
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    #[command(flatten)]
    pub(crate) global: GlobalOpts,
}

/// The options every verb takes, written before or after the verb (upstream
/// `torvyn`'s global options, with the same names and defaults). Each verb's
/// `exec` gets them: `exec(args, &GlobalOpts)`.
// (Plain comments on the fields' uses: a doc comment is the option's help.)
#[derive(Args, Clone, Debug)]
pub(crate) struct GlobalOpts {
    /// Say more: after a trap, also print wasmtime's raw wasm backtrace
    /// (frame addresses and every std/SDK frame) below the symbolised
    /// frames (the same as `TORVYN_BACKTRACE=full`).
    #[arg(long, short = 'v', global = true, conflicts_with = "quiet")]
    pub(crate) verbose: bool,
    /// Suppress non-essential output: the progress spinner, the guest
    /// builds' cargo lines, what components write to stdout and stderr as a
    /// flow runs (`run`), `check`'s `ok` line per node and `init`'s next
    /// steps. Results, warnings and errors are still printed.
    #[arg(long, short = 'q', global = true)]
    pub(crate) quiet: bool,
    /// Output format of every verb's result: `human` (also written `text`)
    /// or `json` (one JSON document on stdout).
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
    /// Colour of the help, usage and error messages of the argument parser
    /// (the only coloured output): `auto` (colour on a terminal, unless
    /// `NO_COLOR` is set or `TERM=dumb`), `always` or `never`.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    /// Colour on a terminal, unless `NO_COLOR` is set or `TERM=dumb`.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl From<ColorChoice> for clap::ColorChoice {
    fn from(choice: ColorChoice) -> Self {
        match choice {
            ColorChoice::Auto => clap::ColorChoice::Auto,
            ColorChoice::Always => clap::ColorChoice::Always,
            ColorChoice::Never => clap::ColorChoice::Never,
        }
    }
}

/// The `--color` of this process's command line, read before it is parsed
/// (so that the parser's own errors are coloured as asked).
static COLOR: OnceLock<ColorChoice> = OnceLock::new();

/// The `--color` of `args` (the last one given; `auto` when none, or when its
/// value is not one; the parser then reports that).
pub(crate) fn color_of(args: &[std::ffi::OsString]) -> ColorChoice {
    let mut choice = ColorChoice::Auto;
    let mut args = args.iter().map(|arg| arg.to_string_lossy());
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        let value = match arg.strip_prefix("--color") {
            Some("") => args.next().map(|value| value.into_owned()),
            Some(rest) => rest.strip_prefix('=').map(str::to_string),
            None => None,
        };
        if let Some(value) = value.and_then(|value| ColorChoice::from_str(&value, false).ok()) {
            choice = value;
        }
    }
    choice
}

/// The command line's parser, coloured as `--color` asks.
pub(crate) fn command() -> clap::Command {
    let color = COLOR.get().copied().unwrap_or(ColorChoice::Auto);
    Cli::command().color(color.into())
}

/// Parse this process's command line; a usage error, `--help` and
/// `--version` print and exit here, as clap does.
pub(crate) fn parse() -> Cli {
    use clap::FromArgMatches;
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let _ = COLOR.set(color_of(&args));
    let mut command = command();
    let parsed = command
        .try_get_matches_from_mut(args)
        .and_then(|matches| Cli::from_arg_matches(&matches));
    parsed.unwrap_or_else(|err| err.format(&mut command).exit())
}

/// What the top-level `--help` ends with: what upstream's commands this
/// toolkit leaves out, and where builds and caches go.
fn after_help() -> String {
    format!(
        "Not part of this toolkit: upstream torvyn's `pack` and `publish` (OCI artifacts and \
         registries); use upstream's `torvyn pack` / `torvyn publish` for those.\n\n{}",
        cache_help()
    )
}

/// Where builds and caches go, for `--help`.
fn cache_help() -> String {
    let cache = torvyn_testkit::platform_cache_dir().map_or_else(
        || "the platform cache directory (none on this system)".to_string(),
        |dir| dir.display().to_string(),
    );
    format!(
        "Builds and caches: components are built into the project's cargo target directory, \
         target/torvyn-wasm/ (where that cannot be created: {cache}/torvyn-wasm/), and \
         compiled code is cached in {cache}/compiled/; nothing is written next to an installed \
         torvyn-testkit, nor in the cargo target directory it runs from (only test binaries \
         build into their own target directory). TORVYN_WASM_TARGET_DIR=<dir> puts both in \
         <dir>."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(args: &[&str]) -> Vec<std::ffi::OsString> {
        args.iter().map(Into::into).collect()
    }

    #[test]
    fn color_is_read_before_parsing_in_both_spellings() {
        assert_eq!(color_of(&args(&["x", "run"])), ColorChoice::Auto);
        assert_eq!(
            color_of(&args(&["x", "--color", "never", "run"])),
            ColorChoice::Never
        );
        assert_eq!(
            color_of(&args(&["x", "run", "--color=always"])),
            ColorChoice::Always
        );
        assert_eq!(color_of(&args(&["x", "--color=bogus"])), ColorChoice::Auto);
        assert_eq!(
            color_of(&args(&["x", "--", "--color=never"])),
            ColorChoice::Auto
        );
    }
}
