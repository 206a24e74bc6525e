//! Benchmarks of the Torvyn toolkit (not published).
//!
//! The benches in `benches/` measure, side by side in one run, the same filter
//! and the same processor written with the SDK's macros (`sdk-*`) and by hand
//! against wit-bindgen (`raw-*`); the subjects live in `components/`, a cargo
//! workspace of their own. Run everything with `cargo xtask bench`, which also
//! prints a summary of ratios against the targets (see `BENCHMARKS.md`).
//!
//! - [`host`]: a minimal wasmtime host of the contract (resources and WASI), so
//!   the measured time is the component's glue and work plus wasmtime's call
//!   cost, without the testkit's accounting and limits.
//! - [`Subject`]: the four bench subjects and how to build them.
//! - [`build_stage`]: the source and sink of the pipeline benches.
//! - [`build_with_profile`]: builds with a named cargo profile (for the size
//!   comparison under the recommended release profile).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use torvyn_testkit::{ComponentBuild, Profile, Toolchain, configure_cargo};

pub mod host;

/// One bench subject component in `components/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// The filter written with `#[torvyn::filter]`.
    SdkFilter,
    /// The same filter written against raw wit-bindgen.
    RawFilter,
    /// The processor written with `#[torvyn::processor]`.
    SdkProcessor,
    /// The same processor written against raw wit-bindgen.
    RawProcessor,
}

impl Subject {
    /// All four subjects.
    pub const ALL: [Subject; 4] = [
        Subject::SdkFilter,
        Subject::RawFilter,
        Subject::SdkProcessor,
        Subject::RawProcessor,
    ];

    /// Directory name in `components/` (also the name used in reports).
    pub fn name(self) -> &'static str {
        match self {
            Subject::SdkFilter => "sdk-filter",
            Subject::RawFilter => "raw-filter",
            Subject::SdkProcessor => "sdk-processor",
            Subject::RawProcessor => "raw-processor",
        }
    }

    /// The crate directory of the subject.
    pub fn dir(self) -> PathBuf {
        components_dir().join(self.name())
    }

    /// Build the subject with cargo's default `release` profile in the shared
    /// component target directory and return the `.wasm` path.
    ///
    /// # Errors
    /// The testkit's build error, with its diagnostics.
    pub fn build_release(self) -> Result<PathBuf> {
        ComponentBuild::new(self.dir())
            .profile(Profile::Release)
            .build()
            .map_err(|err| anyhow::anyhow!("{err}"))
    }
}

/// Build one of the pipeline bench stages in `components/` (`sdk-source`,
/// `sdk-sink`; the processor stage is [`Subject::SdkProcessor`]) with cargo's
/// default `release` profile and return the `.wasm` path.
///
/// # Errors
/// The testkit's build error, with its diagnostics.
pub fn build_stage(name: &str) -> Result<PathBuf> {
    ComponentBuild::new(components_dir().join(name))
        .profile(Profile::Release)
        .build()
        .map_err(|err| anyhow::anyhow!("{err}"))
}

/// `crates/torvyn-bench/components`.
pub fn components_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("components")
}

/// Build `subject` with the named cargo profile of the components workspace
/// (`release-small`, `release-z`) into the same target directory the testkit
/// uses for release builds, and return the `.wasm` path.
///
/// The testkit's `ComponentBuild` knows only `debug` and `release`, so this runs
/// cargo itself, prepared by the testkit's `configure_cargo`.
///
/// # Errors
/// When the release build fails, or cargo fails for the named profile.
pub fn build_with_profile(subject: Subject, profile: &str) -> Result<PathBuf> {
    // `<target dir>/wasm32-wasip2/release/<name>.wasm`: the shared target dir.
    let release = subject.build_release()?;
    let target_dir = release
        .ancestors()
        .nth(3)
        .context("release artifact outside a target directory")?
        .to_path_buf();
    let toolchain = Toolchain::detect().map_err(|err| anyhow::anyhow!("{err}"))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .arg("build")
        .arg("--quiet")
        .arg("--manifest-path")
        .arg(subject.dir().join("Cargo.toml"))
        .args(["--target", "wasm32-wasip2", "--profile", profile])
        .arg("--target-dir")
        .arg(&target_dir);
    configure_cargo(&mut command, &toolchain, &target_dir)
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    let status = command
        .status()
        .with_context(|| format!("cannot run {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed: {status}");
    }
    let file = release.file_name().context("artifact has a file name")?;
    Ok(target_dir.join("wasm32-wasip2").join(profile).join(file))
}

/// Write a bench's record as pretty JSON to `name` in [`out_dir`] and say where.
///
/// # Errors
/// When the directory cannot be created or the file written.
pub fn write_record(
    name: &str,
    record: &serde_json::Map<String, serde_json::Value>,
) -> Result<PathBuf> {
    let dir = out_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(record)?)
        .with_context(|| format!("writing {}", path.display()))?;
    println!("{name} written to {}", path.display());
    Ok(path)
}

/// Where the benches write their records (`sizes.json`, `glue.json`,
/// `pipeline.json`): `TORVYN_BENCH_OUT`,
/// else `torvyn-bench` in the target directory of the running bench binary.
pub fn out_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TORVYN_BENCH_OUT") {
        return PathBuf::from(dir);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .find(|dir| dir.join("CACHEDIR.TAG").is_file())
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("torvyn-bench")
}
