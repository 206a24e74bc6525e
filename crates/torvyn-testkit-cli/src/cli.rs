//! The top-level command line: `torvyn-testkit <verb>` (the verbs are in
//! `commands/`).

use clap::Parser;

use crate::commands::Command;

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
    /// After a trap, also print wasmtime's raw wasm backtrace (frame
    /// addresses and every std/SDK frame) below the symbolised frames; the
    /// same as `TORVYN_BACKTRACE=full`.
    #[arg(long, short = 'v', global = true)]
    pub(crate) verbose: bool,
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
