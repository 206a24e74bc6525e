//! After a trap in `run`, stderr names the error with the author's symbolised
//! frames; wasmtime's raw wasm backtrace (`caused by: error while executing
//! at wasm backtrace: 0: 0x...`, about 50 lines) only with `-v` or
//! `TORVYN_BACKTRACE=full`.
//!

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{fixture_path, temp_dir, text};

/// A flow `lines -> buggy -> count` whose second element traps the buggy
/// filter (a payload longer than 7 bytes with a `#`).
fn trapping_manifest() -> std::path::PathBuf {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let dir = temp_dir("raw-backtrace");
    let manifest = dir.join("Torvyn.toml");
    let toml = format!(
        r#"[torvyn]
name = "trap"
version = "0.1.0"
contract_version = "0.1.0"

[[component]]
name = "lines"
path = "{lines}"

[[component]]
name = "buggy"
path = "{buggy}"

[[component]]
name = "counter"
path = "{counter}"

[flow.main.nodes.source]
component = "lines"
interface = "torvyn:streaming/source"
config = '{{"text": "ok\ntoo long #"}}'

[flow.main.nodes.check]
component = "buggy"
interface = "torvyn:filtering/filter"

[flow.main.nodes.count]
component = "counter"
interface = "torvyn:streaming/sink"

[[flow.main.edges]]
from = {{ node = "source", port = "output" }}
to = {{ node = "check", port = "input" }}

[[flow.main.edges]]
from = {{ node = "check", port = "output" }}
to = {{ node = "count", port = "input" }}
"#,
        lines = examples.join("line-source").display(),
        buggy = fixture_path("raw-buggy-filter").display(),
        counter = examples.join("counting-sink").display(),
    );
    std::fs::write(&manifest, toml).unwrap();
    manifest
}

fn run(manifest: &Path, verbose: bool, env_full: bool) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_torvyn-testkit"));
    command
        .arg("run")
        .arg("--manifest")
        .arg(manifest)
        .env("TORVYN_BUILD_QUIET", "1")
        .env_remove("TORVYN_BACKTRACE");
    if verbose {
        command.arg("-v");
    }
    if env_full {
        command.env("TORVYN_BACKTRACE", "full");
    }
    command.output().expect("the CLI runs")
}

#[test]
fn a_trap_in_run_shows_the_authors_frames_and_the_raw_backtrace_only_on_request() {
    let manifest = trapping_manifest();

    let out = run(&manifest, false, false);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "torvyn-testkit: flow `main` failed: node `check` (filter) trapped in `evaluate`: \
             the component panicked: a 10-byte payload with a `#` is not handled (at \
             raw-buggy-filter/src/lib.rs:22:9)\n  at element #1\n  wasm backtrace (innermost \
             first; "
        ),
        "{stderr}"
    );
    assert!(stderr.contains("raw_buggy_filter::check at "), "{stderr}");
    assert!(
        !stderr.contains("error while executing at wasm backtrace"),
        "{stderr}"
    );
    assert!(!stderr.contains("0x"), "{stderr}");
    assert!(stderr.lines().count() <= 15, "{stderr}");

    for (verbose, env_full) in [(true, false), (false, true)] {
        let out = run(&manifest, verbose, env_full);
        assert_eq!(out.status.code(), Some(1));
        let stderr = text(&out.stderr);
        assert!(stderr.contains("raw_buggy_filter::check at "), "{stderr}");
        assert!(
            stderr.contains("caused by: error while executing at wasm backtrace:\n"),
            "-v {verbose}, TORVYN_BACKTRACE=full {env_full}:\n{stderr}"
        );
        assert!(stderr.contains("0x"), "{stderr}");
    }
}
