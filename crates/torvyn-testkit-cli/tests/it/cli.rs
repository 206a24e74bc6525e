//! The `torvyn-testkit` binary: run, trace, bench and inspect over the library.

use crate::support::{Cli, cli, example_path, flow_project, temp, text};

#[test]
fn run_prints_counts_and_a_stable_json_object() {
    let manifest = flow_project();
    let out = Cli::new("run").manifest(&manifest).format("json").output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["flow"], "main");
    assert_eq!(summary["elements"], 6);
    assert_eq!(summary["nodes"]["limit"]["in"], 6);
    assert_eq!(summary["nodes"]["limit"]["out"], 4);
    assert_eq!(summary["nodes"]["limit"]["dropped"], 2);
    assert_eq!(summary["nodes"]["limit"]["role"], "filter");
    assert_eq!(summary["nodes"]["count"]["pauses"], 2);
    assert_eq!(summary["sinks"]["count"], 4);
    assert_eq!(summary["dead_letters"], 0);

    let out = Cli::new("run").manifest(&manifest).output();
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("flow `main`: source -> limit -> enrich -> count\n6 elements\n"),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == [
                    "limit", "filter", "6", "4", "2", "0", "0", "0", "0", "0", "0"
                ]),
        "{stdout}"
    );
}

#[test]
fn input_replaces_the_source_and_output_writes_json_lines_with_the_payload_text() {
    let manifest = flow_project();
    let input = temp("in.jsonl");
    std::fs::write(&input, "{\"n\": 10}\n\n{\"n\": 11}\n").unwrap();
    let output = temp("out.jsonl");
    let out = Cli::new("run")
        .manifest(&manifest)
        .input(&input)
        .arg("--output")
        .arg(&output)
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["sink"], "count");
    assert_eq!(lines[0]["sequence"], 0);
    // The payload's text as the sink received it.
    let payload = |line: &serde_json::Value| -> serde_json::Value {
        serde_json::from_str(line["payload"].as_str().unwrap()).unwrap()
    };
    assert_eq!(
        payload(&lines[0]),
        serde_json::json!({"n": 10, "stage": "enriched", "sequence": 0})
    );
    assert_eq!(payload(&lines[1])["n"], 11);

    std::fs::write(&input, "{\"n\": 1}\nnot json\n").unwrap();
    let out = Cli::new("run").manifest(&manifest).input(&input).output();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("in.jsonl:2: not a JSON value"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_stopped_flow_prints_its_partial_report_and_the_error() {
    let manifest = flow_project();
    let input = temp("bad.jsonl");
    // The enricher rejects a non-object: the flow stops at the second element.
    std::fs::write(&input, "{\"n\": 1}\n[2]\n{\"n\": 3}\n").unwrap();
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
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|err| panic!("{err}: {}", text(&out.stdout)));
    // Each element goes as far as it can before the next pull: the third
    // was never pulled.
    assert_eq!(summary["elements"], 2);
    assert_eq!(summary["nodes"]["enrich"]["failed"], 1);
    let counts = &summary["counts"];
    assert_eq!(counts["entered"], 2);
    assert_eq!(counts["discarded"], 0, "nothing was left queued: {counts}");
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
    assert_eq!(ends, 2, "{counts}");
}

#[test]
fn trace_prints_every_element() {
    let manifest = flow_project();
    let out = Cli::new("trace").manifest(&manifest).output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.matches("┬─ source  pull").count(), 6, "{stdout}");
    let element = |n: usize| {
        let start = stdout.find(&format!("elem-{n} ")).unwrap();
        let end = stdout[start..].find("total:").unwrap();
        &stdout[start..start + end]
    };
    assert!(
        element(3).contains("└─ limit   evaluate")
            && element(3).contains("dropped (the filter answered false)"),
        "{stdout}"
    );
    assert!(
        element(5).contains("├─ enrich  process") && element(5).contains("delivered"),
        "{stdout}"
    );
    let out = Cli::new("trace")
        .manifest(&manifest)
        .format("json")
        .output();
    let trace: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &trace["elements"][0]["stages"][0];
    assert_eq!(
        (&first["node"], &first["event"], &first["function"]),
        (&"source".into(), &"pulled".into(), &"pull".into())
    );
}

#[test]
fn bench_measures_throughput_and_latency() {
    let manifest = flow_project();
    let out = Cli::new("bench")
        .manifest(&manifest)
        .args(["--duration", "300ms", "--warmup", "0s"])
        .format("json")
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(summary["runs"].as_u64().unwrap() >= 1);
    assert_eq!(
        summary["elements"].as_u64().unwrap(),
        6 * summary["runs"].as_u64().unwrap()
    );
    assert!(summary["elements_per_second"].as_f64().unwrap() > 0.0);
    let p50 = summary["latency_ns"]["p50"].as_u64().unwrap();
    let p99 = summary["latency_ns"]["p99"].as_u64().unwrap();
    assert!(p50 > 0 && p50 <= p99, "{summary}");
}

#[test]
fn inspect_prints_role_imports_and_exports() {
    let wasm = torvyn_testkit::build_component(example_path("content-router")).unwrap();
    let out = Cli::new("inspect").arg(&wasm).output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("role:      router (torvyn:filtering/router@0.1.0)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  torvyn:streaming/types@0.1.0\n"),
        "{stdout}"
    );
    let out = Cli::new("inspect").arg(&wasm).format("json").output();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["role"], "router");
    assert_eq!(json["lifecycle"], true);
}

#[test]
fn failures_exit_non_zero_with_a_message() {
    let out = cli(&["run", "--manifest", "/nonexistent/Torvyn.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("torvyn-testkit: /nonexistent/Torvyn.toml: no such file"),
        "{}",
        text(&out.stderr)
    );
    let out = Cli::new("run")
        .manifest(flow_project())
        .args(["--flow", "nope"])
        .output();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("there is no flow `nope` (flows: main)"),
        "{}",
        text(&out.stderr)
    );
    let out = cli(&["inspect", "/nonexistent.wasm"]);
    assert_eq!(out.status.code(), Some(1));
    let out = Cli::new("bench")
        .manifest(flow_project())
        .args(["--duration", "soon"])
        .output();
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(
        text(&out.stderr).contains("`soon` is not a duration"),
        "{}",
        text(&out.stderr)
    );
}
