//! Keys of upstream's `Torvyn.toml` that the reference host accepts but does
//! not use are listed once on stderr, and in `run --format json`.

use std::path::PathBuf;

use crate::support::{Cli, fixture_path, temp_dir, text};

const NOTE: &str = "torvyn-testkit: note: accepted, not used by the reference host: runtime.worker_threads, registry\n";

/// A project whose source is replaced by `--input`, and whose sink is the
/// testkit's `raw-stdout-sink` fixture; with two keys the host does not use.
fn project(name: &str) -> (PathBuf, PathBuf) {
    let dir = temp_dir(&format!("note-{name}"));
    let sink = fixture_path("raw-stdout-sink").display().to_string();
    let manifest = dir.join("Torvyn.toml");
    std::fs::write(
        &manifest,
        format!(
            r#"[torvyn]
name = "note"
version = "0.1.0"
contract_version = "0.1.0"

[[component]]
name = "sink"
path = '{sink}'

[runtime]
worker_threads = 2

[registry]
default = "https://registry.example.com"

[flow.main.nodes.input]
component = "file://replaced.wasm"
interface = "torvyn:streaming/source"

[flow.main.nodes.out]
component = "sink"
interface = "torvyn:streaming/sink"

[[flow.main.edges]]
from = {{ node = "input", port = "output" }}
to = {{ node = "out", port = "input" }}
"#
        ),
    )
    .unwrap();
    let input = dir.join("in.jsonl");
    std::fs::write(&input, "{\"n\": 1}\n{\"n\": 2}\n").unwrap();
    (manifest, input)
}

#[test]
fn run_lists_the_unused_keys_once_on_stderr_and_in_the_json_report() {
    let (manifest, input) = project("run");
    let run = || Cli::new("run").manifest(&manifest).input(&input);
    let out = run().format("json").output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr).matches(NOTE).count(),
        1,
        "{}",
        text(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        summary["accepted_not_used"],
        serde_json::json!(["runtime.worker_threads", "registry"])
    );
    assert_eq!(summary["sinks"]["out"], 2);

    let out = run().output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr).matches(NOTE).count(),
        1,
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(manifest.parent().unwrap()).unwrap();
}

#[test]
fn a_manifest_error_lists_every_problem_with_its_place() {
    let (manifest, _) = project("errors");
    let text_of = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text_of
            .replace("worker_threads = 2", "worker_thread = 2")
            .replace("to = { node = \"out\"", "to = { node = \"oot\""),
    )
    .unwrap();
    let out = Cli::new("run").manifest(&manifest).output();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let file = manifest.display().to_string();
    assert!(
        stderr.contains(&format!("{file}: TOML parse error at line 11, column 1")),
        "{stderr}"
    );
    assert!(
        stderr.contains("did you mean `worker_threads`?"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{file}: flow.main.edges[0].to.node: no node named \"oot\""
        )),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("--> {file}:26:15")), "{stderr}");
    assert!(!stderr.contains("note: accepted"), "{stderr}");
    std::fs::remove_dir_all(manifest.parent().unwrap()).unwrap();
}
