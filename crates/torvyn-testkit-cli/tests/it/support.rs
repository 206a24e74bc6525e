//! Helpers shared by the command line's integration tests (each test file
//! uses some of them).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `torvyn-testkit` binary with `args`; the guest builds' cargo
/// output is hidden (`TORVYN_BUILD_QUIET=1`), so stderr holds what the
/// command itself says.
pub(crate) fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_torvyn-testkit"))
        .args(args)
        .env("TORVYN_BUILD_QUIET", "1")
        .output()
        .expect("the CLI runs")
}

/// A stream's bytes as text (lossy).
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The testkit's fixture `name` (a directory or a file).
pub(crate) fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../torvyn-testkit/tests/fixtures")
        .join(name)
}

/// The flow-project fixture's `Torvyn.toml` (an upstream-schema manifest over
/// this repository's examples).
pub(crate) fn flow_project() -> PathBuf {
    fixture_path("flow-project/Torvyn.toml")
}

/// `name` in this test process's temporary directory (created).
pub(crate) fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("torvyn-cli-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A directory `name` in this test process's temporary directory (created).
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let dir = temp(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
