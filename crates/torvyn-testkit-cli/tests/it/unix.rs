//! The command behaves like an ordinary Unix tool: `run | head` ends quietly,
//! `--input -` reads stdin, `--output -` writes stdout, `inspect <crate dir>` builds the crate as `test`
//! does, and `test --file` with a bad line is a usage error (exit 2).
//!

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{flow_project, temp, text};

fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_torvyn-testkit"));
    command.env("TORVYN_BUILD_QUIET", "1");
    command
}

#[test]
fn run_into_a_closed_pipe_ends_quietly() {
    let manifest = flow_project();
    // Built first, so that the run below writes its report at once.
    let out = crate::support::cli(&["run", "--manifest", manifest.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // `| head -0`: the reader is gone before anything is written.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = command()
        .args(["run", "--manifest", manifest.to_str().unwrap()])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn input_dash_reads_the_elements_from_stdin() {
    let manifest = flow_project();
    let mut child = command()
        .args([
            "run",
            "--manifest",
            manifest.to_str().unwrap(),
            "--input",
            "-",
            "--format",
            "json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"{\"n\": 10}\n\n{\"n\": 11}\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["elements"], 2, "{summary}");
}

#[test]
fn inspect_builds_a_crate_directory() {
    let krate = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/rate-limiter");
    let out = crate::support::cli(&["inspect", krate.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}\n{stdout}", text(&out.stderr));
    assert!(stdout.contains("role:      filter"), "{stdout}");
    assert!(
        stdout.contains("contract:  matches Torvyn 0.1 and links on this host"),
        "{stdout}"
    );
}

#[test]
fn test_file_with_a_bad_line_is_a_usage_error() {
    let file = temp("bad-line.jsonl");
    std::fs::write(&file, "{\"n\": 1}\nnot json\n").unwrap();
    let krate = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/rate-limiter");
    let out = crate::support::cli(&[
        "test",
        krate.to_str().unwrap(),
        "--file",
        file.to_str().unwrap(),
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bad-line.jsonl:2: not a JSON value"),
        "{stderr}"
    );
}

#[test]
fn output_dash_writes_the_payloads_on_stdout_and_the_report_on_stderr() {
    let manifest = flow_project();
    let out = command()
        .args([
            "run",
            "--manifest",
            manifest.to_str().unwrap(),
            "--output",
            "-",
            "--output-format",
            "raw",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    // Only the payloads: the four the rate limiter lets through, enriched.
    assert_eq!(stdout.lines().count(), 4, "{stdout}");
    assert!(
        stdout
            .lines()
            .all(|line| line.starts_with('{') && line.contains("\"stage\":\"enriched\"")),
        "{stdout}"
    );
    assert!(
        stderr.contains("flow `main`: source -> limit -> enrich -> count\n6 elements"),
        "{stderr}"
    );
}
