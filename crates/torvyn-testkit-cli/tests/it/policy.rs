//! Error policies on the command line: `on_error` in `Torvyn.toml` per flow
//! and per node, `--on-error` on `run`, `trace` and `bench`, and a failed run
//! that names the element (its sequence number and its `--input` line).

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{Cli, flow_project, temp, text};

/// The flow-project fixture's manifest, written to `name` in a temporary
/// directory (its crate paths made absolute) after `edit`.
fn manifest_with(name: &str, edit: impl FnOnce(String) -> String) -> PathBuf {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/");
    let text = std::fs::read_to_string(flow_project()).unwrap().replace(
        "path = \"../../../../../examples/",
        &format!("path = \"{}", examples.display()),
    );
    let path = temp(name);
    std::fs::write(&path, edit(text)).unwrap();
    path
}

/// Three JSON lines; the second element (an array, which the enricher
/// rejects with `invalid-input`) is on line 3, after an empty line.
fn bad_input() -> PathBuf {
    let path = temp("bad.jsonl");
    std::fs::write(&path, "{\"n\": 1}\n\n[2]\n{\"n\": 3}\n").unwrap();
    path
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|err| panic!("{err}: {}\n{}", text(&out.stdout), text(&out.stderr)))
}

#[track_caller]
fn assert_balanced(summary: &serde_json::Value) {
    let counts = &summary["counts"];
    let ends: u64 = [
        "delivered",
        "dropped",
        "absorbed",
        "failed",
        "dead_lettered",
        "discarded",
        "queue_dropped",
    ]
    .iter()
    .map(|key| counts[*key].as_u64().unwrap())
    .sum();
    assert_eq!(ends, counts["entered"].as_u64().unwrap(), "{counts}");
}

#[test]
fn fail_flow_names_the_element_and_its_input_line_and_prints_the_partial_report() {
    let manifest = flow_project();
    let input = bad_input();
    let out = Cli::new("run")
        .manifest(&manifest)
        .input(&input)
        .format("json")
        .output();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("flow `main` failed: node `enrich` (processor) returned invalid-input"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("at element #1 (line 3 of {})", input.display())),
        "{stderr}"
    );
    let summary = json(&out);
    // Each element goes as far as it can before the next pull: the flow
    // stopped at element #1, so two entered it.
    assert_eq!(summary["elements"], 2);
    assert_eq!(summary["nodes"]["enrich"]["failed"], 1);
    assert_balanced(&summary);

    // `trace` says the same, and prints the trace until then.
    let out = Cli::new("trace").manifest(&manifest).input(&input).output();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("at element #1 (line 3 of "),
        "{}",
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|line| line.contains("└─ enrich  process") && line.contains("failed: ")),
        "{stdout}"
    );
}

/// The fixture's flow with a limiter that passes everything.
fn generous_manifest() -> PathBuf {
    manifest_with("generous.toml", |text| {
        text.replace(
            r#"config = '{"max_per_second": 2, "window_ms": 3}'"#,
            r#"config = '{"max_per_second": 1000, "window_ms": 1000}'"#,
        )
    })
}

#[test]
fn on_error_skip_and_dead_letter_on_the_command_line_go_on() {
    let manifest = generous_manifest();
    let input = bad_input();
    let run = |policy: &str, format: &str| {
        Cli::new("run")
            .manifest(&manifest)
            .input(&input)
            .args(["--on-error", policy])
            .format(format)
            .output()
    };

    let out = run("skip", "json");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = json(&out);
    assert_eq!(summary["elements"], 3);
    assert_eq!(summary["nodes"]["enrich"]["failed"], 1);
    assert_eq!(summary["nodes"]["enrich"]["out"], 2);
    assert_eq!(
        summary["sinks"]["count"], 2,
        "the elements before and after"
    );
    assert_eq!(summary["dead_letters"], 0);
    assert_balanced(&summary);

    let out = run("dead-letter", "json");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = json(&out);
    assert_eq!(summary["nodes"]["enrich"]["failed"], 0);
    assert_eq!(summary["nodes"]["enrich"]["dead_lettered"], 1);
    assert_eq!(summary["dead_letters"], 1);
    assert_eq!(summary["sinks"]["count"], 2);
    assert_balanced(&summary);

    // The text report lists the dead letters.
    let out = run("dead-letter", "text");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("dead letters: 1\n"), "{stdout}");
    assert!(
        stdout.contains("  #1 in `enrich`: node `enrich` (processor) returned invalid-input"),
        "{stdout}"
    );

    // Retries run out on an element that is always invalid, and the flow fails.
    let out = run("retry=2", "json");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("at element #1 (line 3 of "),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(json(&out)["nodes"]["enrich"]["retries"], 2);

    // `trace` shows the skipped element; `bench` goes on past it.
    let out = Cli::new("trace")
        .manifest(&manifest)
        .input(&input)
        .args(["--on-error", "skip"])
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let stages = |n: usize| -> Vec<&str> {
        let start = stdout.find(&format!("elem-{n} ")).unwrap();
        let end = stdout[start..].find("total:").unwrap();
        stdout[start..start + end]
            .lines()
            .filter(|line| !line.trim().is_empty())
            .collect()
    };
    assert!(
        stages(1)
            .last()
            .is_some_and(|line| line.contains("enrich") && line.contains("failed: ")),
        "{stdout}"
    );
    assert!(
        stages(2)
            .last()
            .is_some_and(|line| line.contains("└─ count   push") && line.contains("delivered")),
        "{stdout}"
    );
    let out = Cli::new("bench")
        .manifest(&manifest)
        .input(&input)
        .args([
            "--on-error",
            "skip",
            "--duration",
            "100ms",
            "--warmup",
            "0s",
        ])
        .format("json")
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(json(&out)["runs"].as_u64().unwrap() >= 1);
    let out = Cli::new("bench")
        .manifest(&manifest)
        .input(&input)
        .args(["--duration", "100ms"])
        .output();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("at element #1 (line 3 of "),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn on_error_in_the_manifest_per_flow_and_per_node_and_its_override() {
    let input = bad_input();
    let run = |manifest: &Path, extra: &[&str]| {
        Cli::new("run")
            .manifest(manifest)
            .input(&input)
            .format("json")
            .args(extra)
            .output()
    };

    // The flow's default.
    let flow_skip = manifest_with("flow-skip.toml", |text| {
        text.replace("[flow.main]\n", "[flow.main]\non_error = \"skip\"\n")
    });
    let out = run(&flow_skip, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = json(&out);
    assert_eq!(summary["nodes"]["enrich"]["failed"], 1);
    assert_balanced(&summary);
    // `--on-error` replaces the flow's default.
    let out = run(&flow_skip, &["--on-error", "fail-flow"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("at element #1 (line 3 of "),
        "{}",
        text(&out.stderr)
    );

    // A node's own policy.
    let node_dead_letter = manifest_with("node-dead-letter.toml", |text| {
        text.replace(
            "[flow.main.nodes.enrich]\n",
            "[flow.main.nodes.enrich]\non_error = \"dead-letter\"\n",
        )
    });
    let out = run(&node_dead_letter, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(json(&out)["nodes"]["enrich"]["dead_lettered"], 1);
    // ... wins over `--on-error`, which only replaces the flow's default.
    let out = run(&node_dead_letter, &["--on-error", "fail-flow"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(json(&out)["dead_letters"], 1);

    // A node that fails the flow while the flow's default skips.
    let node_fails = manifest_with("node-fails.toml", |text| {
        text.replace("[flow.main]\n", "[flow.main]\non_error = \"skip\"\n")
            .replace(
                "[flow.main.nodes.enrich]\n",
                "[flow.main.nodes.enrich]\non_error = \"fail-flow\"\n",
            )
    });
    let out = run(&node_fails, &["--on-error", "skip"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("at element #1 (line 3 of "),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(json(&out)["nodes"]["enrich"]["failed"], 1);

    // A bad value is a manifest error naming the key and the choices.
    let bad = manifest_with("bad-policy.toml", |text| {
        text.replace(
            "[flow.main.nodes.enrich]\n",
            "[flow.main.nodes.enrich]\non_error = \"ignore\"\n",
        )
    });
    let out = run(&bad, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "flow.main.nodes.enrich.on_error: \"ignore\" is not an error policy; on_error is \
             one of \"fail-flow\", \"skip\", \"dead-letter\" or { retry = N }"
        ),
        "{stderr}"
    );
}

#[test]
fn a_bad_on_error_flag_is_a_usage_error() {
    let out = Cli::new("run")
        .manifest(flow_project())
        .args(["--on-error", "ignore"])
        .output();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "`ignore` is not an error policy; use `fail-flow`, `skip`, `dead-letter` or `retry=N`"
        ),
        "{stderr}"
    );
}

#[test]
fn on_error_applies_to_the_flow_named_positionally() {
    // Two flows: `--on-error` must override the one `flow.second` names, not
    // ask which flow (it read only `--flow`).
    let manifest = manifest_with("two-flows.toml", |text| {
        let main = &text[text.find("[flow.main]").unwrap()..];
        let second = main
            .replace("[flow.main", "[flow.second")
            .replace("flow.main.", "flow.second.");
        let generous = text.replace(
            r#"config = '{"max_per_second": 2, "window_ms": 3}'"#,
            r#"config = '{"max_per_second": 1000, "window_ms": 1000}'"#,
        );
        format!("{generous}\n{second}")
    });
    let out = Cli::new("run")
        .arg("flow.second")
        .manifest(&manifest)
        .input(bad_input())
        .args(["--on-error", "skip"])
        .format("json")
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = json(&out);
    assert_eq!(summary["flow"], "second");
    assert_eq!(summary["nodes"]["enrich"]["failed"], 1);
    assert_eq!(summary["sinks"]["count"], 2);
}
