//! What a build inside a test says on stderr: the crate it builds; that a
//! first build can take minutes only when it compiles a dependency, once per
//! process; nothing of the kind when everything is fresh.
//!

use std::path::{Path, PathBuf};
use std::process::Command;

fn passthrough() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/raw-passthrough")
}

/// Builds the fixture: in the child process of the test below.
#[test]
fn builds_raw_passthrough() {
    torvyn_testkit::build_component(passthrough()).unwrap_or_else(|err| panic!("{err}"));
}

#[test]
fn a_fresh_build_names_the_crate_and_says_nothing_about_minutes() {
    // Fresh from here on (this process builds it, or finds it built).
    torvyn_testkit::build_component(passthrough()).unwrap_or_else(|err| panic!("{err}"));
    // A new process builds it again: cargo finds it fresh.
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "build_progress::builds_raw_passthrough",
            "--test-threads=1",
        ])
        .env_remove("TORVYN_BUILD_QUIET")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let building: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("torvyn-testkit: building "))
        .collect();
    assert_eq!(building.len(), 1, "{stderr}");
    assert!(
        building[0].starts_with("torvyn-testkit: building `raw-passthrough` for wasm32-wasip2 ("),
        "{stderr}"
    );
    assert!(
        building[0].ends_with(" (TORVYN_BUILD_QUIET=1 hides this)"),
        "{stderr}"
    );
    assert!(!stderr.contains("can take minutes"), "{stderr}");
    assert!(!stderr.contains("Compiling"), "{stderr}");
}
