//! Project automation: `cargo xtask <task>`.
//!
//! - `cargo xtask ci`: every check CI runs, in order, stopping at the first
//!   failure: `cargo fmt --check`, `cargo clippy --workspace --all-targets -- -D warnings`,
//!   `RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps`, `cargo test --workspace`,
//!   `cargo xtask release-check`. Each step prints its command and how long it took.
//! - `cargo xtask demo`: builds the CLI and runs the demo project's flow
//!   (the README's second command); see `demo.rs`.
//! - `cargo xtask release-check`: the published path, offline: packages the
//!   crates, makes the packages the crates.io versions for every template
//!   generated with its default dependencies, builds and tests them, and installs
//!   and runs the CLI; see `release.rs`.
//! - `cargo xtask sync-wit`: copy `wit/` into the crates that embed it; see `wit.rs`.
//! - `cargo xtask sync-templates`: copy `templates/` into the CLI crate, which
//!   embeds them for `torvyn-testkit init`; see `templates.rs`.
//! - `cargo xtask bench`: the benchmark suite (`cargo bench -p torvyn-bench`, the
//!   edit-test loop of an example) and a summary of ratios against the targets;
//!   see `BENCHMARKS.md` and `bench.rs`.
//! - `cargo xtask first-build`: the first `cargo test` of a newly generated
//!   template, cold, as an A/B of `--base <rev>` against this tree (A B B A);
//!   see `first_build.rs` and BENCHMARKS.md.

mod bench;
mod copies;
mod demo;
mod first_build;
mod release;
mod templates;
mod wit;

use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// One step of `cargo xtask ci`.
struct Step {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
}

const CI_STEPS: &[Step] = &[
    Step {
        name: "format",
        args: &["fmt", "--all", "--check"],
        env: &[],
    },
    Step {
        name: "lint",
        args: &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        env: &[],
    },
    Step {
        name: "docs",
        args: &["doc", "--workspace", "--no-deps"],
        env: &[("RUSTDOCFLAGS", "-Dwarnings")],
    },
    Step {
        name: "test",
        args: &["test", "--workspace"],
        env: &[],
    },
    // The six one-component templates' `cargo test` already runs in the test
    // step (template-tests, against path dependencies): against the packages
    // their tests are compiled only. The pipeline template (three components
    // and a Torvyn.toml) runs its tests against the packages, and the
    // installed CLI runs its flow. A release runs the full check.
    Step {
        name: "release-check",
        args: &[
            "xtask",
            "release-check",
            "--check-only",
            "aggregator,filter,processor,router,sink,source",
        ],
        env: &[],
    },
];

/// The workspace's target directory: `CARGO_TARGET_DIR` (made absolute),
/// else `target/` in the workspace root.
pub(crate) fn target_dir(root: &std::path::Path) -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .map(|dir| std::path::absolute(&dir).unwrap_or(dir))
        .unwrap_or_else(|| root.join("target"))
}

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let result = match task.as_str() {
        "ci" => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            match args.as_slice() {
                [] => ci(),
                [flag] if flag == "--fresh-cargo-home" => fresh_cargo_home(root()),
                _ => Err(anyhow::anyhow!(
                    "unknown options {args:?} of `cargo xtask ci`; it takes `--fresh-cargo-home`"
                )),
            }
        }
        "release-check" => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            release::Options::parse(&args).and_then(|options| release::run(root(), &options))
        }
        "sync-wit" => wit::sync(root()),
        "sync-templates" => templates::sync(root()),
        "demo" => demo::run(root()),
        "bench" => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("xtask lives inside the workspace");
            bench::run(root, &args)
        }
        "first-build" => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            first_build::Options::parse(&args)
                .and_then(|options| first_build::run(root(), &options))
        }
        _ => {
            eprintln!(
                "usage: cargo xtask ci|demo|release-check|sync-wit|sync-templates|bench|first-build\n\n  ci             run every check CI runs (fmt, clippy, doc, test, release-check)\n                 (--fresh-cargo-home: .ci/run, the README's three commands, with a new,\n                 empty CARGO_HOME and target directory, as on a new machine)\n  demo           build the CLI and run the demo flow (examples/demo/Torvyn.toml)\n  release-check  package the crates and build and test every template against the\n                 packages, offline; install and run the CLI\n                 (--check-only a,b: only `cargo check --tests` these templates)\n  sync-wit       copy wit/ into the crates that embed it\n  sync-templates copy templates/ into the CLI crate (embedded for `init`)\n  bench          run the benchmark suite and print ratios against its targets\n                 (--summary: only print the last results; --no-edit-loop)\n  first-build    time the first cold `cargo test` of a new template, A (--base <rev>,\n                 default main) against B (this tree), in the order A B B A\n                 (--template <name>, default filter; --work-dir <dir>; --once: B A)"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root.
fn root() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
}

/// `cargo xtask ci --fresh-cargo-home`: `.ci/run` (the README's three
/// commands: setup, demo, tests) as a new machine runs it, with a new, empty
/// cargo home and target directory under `target/fresh-cargo-home/`. rustup's
/// toolchains stay where they are (`RUSTUP_HOME`); everything else (the
/// crates, cargo-generate) must come from the commands themselves, which is
/// the point.
fn fresh_cargo_home(root: &std::path::Path) -> Result<()> {
    let base = target_dir(root).join("fresh-cargo-home");
    if base.exists() {
        std::fs::remove_dir_all(&base)
            .with_context(|| format!("cannot remove {}", base.display()))?;
    }
    let home = base.join("cargo-home");
    let target = base.join("target");
    std::fs::create_dir_all(&home)?;
    // On a new machine the cargo home's `bin/` holds rustup's proxies
    // (`cargo`, `rustc`, ...) and nothing else. Link the proxies that the
    // current PATH finds into the new home's `bin/`, and leave every other
    // directory that holds them (the old cargo home, with cargo-generate and
    // whatever else was installed there) off PATH.
    let rustup_home = std::env::var_os("RUSTUP_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| std::path::Path::new(&home).join(".rustup"))
        })
        .context("neither RUSTUP_HOME nor HOME is set")?;
    let bin = home.join("bin");
    std::fs::create_dir_all(&bin)?;
    let old_path: Vec<std::path::PathBuf> =
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).collect();
    let rustup = old_path
        .iter()
        .map(|dir| dir.join("rustup"))
        .find(|candidate| candidate.is_file())
        .context("no `rustup` on PATH: `--fresh-cargo-home` keeps rustup's toolchains")?;
    let proxies = rustup.parent().unwrap_or(std::path::Path::new("/"));
    for proxy in [
        "rustup",
        "cargo",
        "rustc",
        "rustdoc",
        "rustfmt",
        "cargo-fmt",
        "cargo-clippy",
        "clippy-driver",
    ] {
        let target = proxies.join(proxy);
        if target.is_file() {
            std::os::unix::fs::symlink(&target, bin.join(proxy))
                .with_context(|| format!("cannot link {}", target.display()))?;
        }
    }
    let path = std::env::join_paths(
        std::iter::once(bin.clone()).chain(old_path.into_iter().filter(|dir| dir != proxies)),
    )?;
    println!(
        "xtask ci --fresh-cargo-home: CARGO_HOME={} CARGO_TARGET_DIR={} .ci/run",
        home.display(),
        target.display()
    );
    let started = Instant::now();
    let status = release::without_outer_cargo_vars(Command::new(root.join(".ci/run")))
        .env("CARGO_HOME", &home)
        .env("RUSTUP_HOME", &rustup_home)
        .env("CARGO_TARGET_DIR", &target)
        .env("PATH", &path)
        // `cargo` and `rustc` from PATH (rustup's proxies), as on a new machine.
        .env_remove("CARGO")
        .env_remove("RUSTC")
        .current_dir(root)
        .status()
        .context("cannot run .ci/run")?;
    if !status.success() {
        bail!("`.ci/run` failed with a fresh cargo home: {status}");
    }
    println!(
        "xtask ci --fresh-cargo-home: .ci/run passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn ci() -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("xtask lives inside the workspace")?;
    let all = Instant::now();
    for step in CI_STEPS {
        let shown: Vec<String> = step
            .env
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .chain(std::iter::once("cargo".to_string()))
            .chain(step.args.iter().map(|arg| arg.to_string()))
            .collect();
        println!("xtask ci: {}: {}", step.name, shown.join(" "));
        let started = Instant::now();
        let status = Command::new(&cargo)
            .args(step.args)
            .envs(step.env.iter().copied())
            .current_dir(root)
            .status()
            .with_context(|| format!("cannot run `{}`", shown.join(" ")))?;
        println!(
            "xtask ci: {} took {:.0} s",
            step.name,
            started.elapsed().as_secs_f64()
        );
        if !status.success() {
            bail!("step `{}` failed: {}", step.name, shown.join(" "));
        }
    }
    println!(
        "xtask ci: all steps passed in {:.0} s",
        all.elapsed().as_secs_f64()
    );
    Ok(())
}
