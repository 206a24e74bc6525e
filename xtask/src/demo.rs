//! `cargo xtask demo`: the README's second command. Builds the
//! `torvyn-testkit` command line and runs the demo project's flow,
//! `torvyn-testkit run --manifest examples/demo/Torvyn.toml`, which builds
//! four of `examples/` into components and prints what they log and the
//! flow's summary.
//!
//! The binary is built with `cargo build --workspace --bin torvyn-testkit`,
//! not `cargo run -p torvyn-testkit-cli`: with the whole workspace selected,
//! cargo resolves its dependencies' features as `cargo test --workspace`
//! does, so wasmtime is compiled once for both (`torvyn-bench` enables
//! wasmtime features of its own, and a build of the CLI package alone would
//! compile a second wasmtime without them).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The arguments of the demo's `torvyn-testkit` run, relative to the
/// workspace root (the CLI's `readme_demo` test runs the same).
pub(crate) const ARGS: &[&str] = &["run", "--manifest", "examples/demo/Torvyn.toml"];

/// Build the CLI and run the demo flow; fails with the CLI's exit status.
pub(crate) fn run(root: &Path) -> Result<()> {
    let target = crate::target_dir(root);
    let status = crate::release::clean_cargo()
        .args(["build", "--workspace", "--bin", "torvyn-testkit"])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(root)
        .status()
        .context("cannot run `cargo build --workspace --bin torvyn-testkit`")?;
    if !status.success() {
        bail!("`cargo build --workspace --bin torvyn-testkit` failed: {status}");
    }
    let binary = target
        .join("debug")
        .join(format!("torvyn-testkit{}", std::env::consts::EXE_SUFFIX));
    eprintln!("xtask demo: torvyn-testkit {}", ARGS.join(" "));
    let status = Command::new(&binary)
        .args(ARGS)
        .current_dir(root)
        .status()
        .with_context(|| format!("cannot run {}", binary.display()))?;
    if !status.success() {
        bail!("`torvyn-testkit {}` failed: {status}", ARGS.join(" "));
    }
    Ok(())
}
