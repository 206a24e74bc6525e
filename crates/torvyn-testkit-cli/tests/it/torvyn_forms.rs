//! Torvyn's own command lines and output on the `torvyn-testkit` binary: the
//! positional flow (`run flow.main`), `--limit`, `bench --iterations`,
//! component stdout and stderr shown per node (`--prefix-nodes`, `--quiet`,
//! and in the JSON report), byte-exact `--output`, and the end-of-run summary
//! with each queue's peak depth.

use std::path::Path;

use crate::support::{Cli, example_path, fixture_wasm, temp_dir, text};

fn flow_project() -> String {
    crate::support::flow_project().to_str().unwrap().to_string()
}

/// A project: `source` (a `file://` component with `config`) -> `out`, the
/// raw-stdout-sink fixture, which prints `got <seq>` to stdout and `err <seq>`
/// to stderr for every element and `done` to stdout at the end.
fn printing_project(name: &str, source: &Path, config: &str) -> String {
    let manifest = temp_dir(&format!("forms-{name}")).join("Torvyn.toml");
    std::fs::write(
        &manifest,
        format!(
            r#"[torvyn]
name = "{name}"
version = "0.1.0"
contract_version = "0.1.0"

[flow.main.nodes.source]
component = "file://{source}"
interface = "torvyn:streaming/source"
config = '{config}'

[flow.main.nodes.out]
component = "file://{sink}"
interface = "torvyn:streaming/sink"

[[flow.main.edges]]
from = {{ node = "source", port = "output" }}
to = {{ node = "out", port = "input" }}
"#,
            source = source.display(),
            sink = fixture_wasm("raw-stdout-sink").display(),
        ),
    )
    .unwrap();
    manifest.to_str().unwrap().to_string()
}

/// The line source example emitting the lines of `lines`.
fn lines_project(name: &str, lines: &str) -> String {
    let source = torvyn_testkit::build_component(example_path("line-source"))
        .unwrap_or_else(|err| panic!("{err}"));
    let config = serde_json::json!({ "text": lines }).to_string();
    printing_project(name, &source, &config)
}

#[test]
fn the_flow_is_positional_as_in_torvyns_docs() {
    let manifest = flow_project();
    for flow in ["flow.main", "main"] {
        let out = Cli::new("run")
            .arg(flow)
            .manifest(&manifest)
            .format("json")
            .output();
        assert!(out.status.success(), "{flow}: {}", text(&out.stderr));
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            (summary["flow"].as_str(), summary["elements"].as_u64()),
            (Some("main"), Some(6))
        );
    }
    let out = Cli::new("trace")
        .arg("flow.main")
        .manifest(&manifest)
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).matches("┬─ source").count(), 6);
    let out = Cli::new("run")
        .arg("flow.nope")
        .manifest(&manifest)
        .output();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("there is no flow `nope` (flows: main)"),
        "{}",
        text(&out.stderr)
    );
    // The positional flow and `--flow` are one setting: both is a usage error.
    let out = Cli::new("run")
        .args(["main", "--flow", "main"])
        .manifest(&manifest)
        .output();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    // `check` takes it too.
    let out = Cli::new("check")
        .arg("flow.main")
        .manifest(&manifest)
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("ok  flow.main.nodes.limit: filter"),
        "{}",
        text(&out.stdout)
    );
    let out = Cli::new("check")
        .arg("flow.nope")
        .manifest(&manifest)
        .output();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn limit_stops_the_sources_and_succeeds_where_max_elements_fails() {
    let manifest = flow_project();
    let out = Cli::new("run")
        .arg("main")
        .manifest(&manifest)
        .args(["--limit", "3"])
        .format("json")
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["elements"], 3);
    assert_eq!(summary["nodes"]["limit"]["in"], 3);
    let counts = &summary["counts"];
    assert_eq!(
        counts["discarded"], 0,
        "everything pulled ran to the end: {counts}"
    );
    assert!(
        text(&out.stderr).contains("--limit 3: the sources were not pulled again after 3 elements"),
        "{}",
        text(&out.stderr)
    );
    // `--max-elements` keeps its meaning: a cut-off source is a stopped run.
    let out = Cli::new("run")
        .manifest(&manifest)
        .args(["--max-elements", "3"])
        .format("json")
        .output();
    assert_eq!(out.status.code(), Some(1));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["elements"], 3);
    let out = Cli::new("run")
        .manifest(&manifest)
        .args(["--limit", "3", "--max-elements", "3"])
        .output();
    assert_eq!(out.status.code(), Some(2));
    // A limit above what the source has changes nothing.
    let out = Cli::new("run")
        .manifest(&manifest)
        .args(["--limit", "100"])
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout)
            .starts_with("flow `main`: source -> limit -> enrich -> count\n6 elements\n")
    );
}

#[test]
fn bench_runs_the_given_number_of_iterations() {
    let manifest = flow_project();
    let out = Cli::new("bench")
        .arg("flow.main")
        .manifest(&manifest)
        .args(["--iterations", "3", "--warmup", "0s"])
        .format("json")
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["runs"], 3);
    assert_eq!(summary["elements"], 18);
    let out = Cli::new("bench")
        .manifest(&manifest)
        .args(["--iterations", "0"])
        .output();
    assert_eq!(out.status.code(), Some(2));
    let out = Cli::new("bench")
        .manifest(&manifest)
        .args(["--iterations", "2", "--duration", "1s"])
        .output();
    assert_eq!(
        out.status.code(),
        Some(2),
        "--iterations or --duration, not both"
    );
}

#[test]
fn component_output_is_shown_per_node_as_written() {
    let manifest = lines_project("stdout", "a\nb\nc");
    // Passed through unchanged: stdout to stdout, stderr to stderr, in order,
    // before the report.
    let out = Cli::new("run").manifest(&manifest).output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("got 0\ngot 1\ngot 2\ndone\nflow `main`: ")
            && stdout.contains(" -> ")
            && stdout.contains("\n3 elements\n"),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("err 0\nerr 1\nerr 2\n"),
        "{}",
        text(&out.stderr)
    );

    let out = Cli::new("run")
        .manifest(&manifest)
        .arg("--prefix-nodes")
        .output();
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("[out] got 0\n[out] got 1\n[out] got 2\n[out] done\n"),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("[out] err 0\n[out] err 1\n"),
        "{}",
        text(&out.stderr)
    );

    let out = Cli::new("run").manifest(&manifest).arg("--quiet").output();
    assert!(
        text(&out.stdout).starts_with("flow `main`: ")
            && text(&out.stdout).contains("\n3 elements\n"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        !text(&out.stderr).contains("err 0"),
        "{}",
        text(&out.stderr)
    );

    // JSON: in the report, per node, with the cap; nothing else on stdout.
    let out = Cli::new("run").manifest(&manifest).format("json").output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|err| panic!("{err}: {}", text(&out.stdout)));
    let output = &report["component_output"];
    assert_eq!(output["cap_bytes"], 65536);
    assert_eq!(
        output["nodes"]["out"]["stdout"],
        "got 0\ngot 1\ngot 2\ndone\n"
    );
    assert_eq!(output["nodes"]["out"]["stderr"], "err 0\nerr 1\nerr 2\n");
    assert_eq!(output["nodes"]["out"]["stdout_omitted_bytes"], 0);
    assert!(
        !text(&out.stderr).contains("err 0"),
        "{}",
        text(&out.stderr)
    );
    let out = Cli::new("run")
        .manifest(&manifest)
        .format("json")
        .arg("--quiet")
        .output();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report.get("component_output").is_none(), "{report}");
}

#[test]
fn output_writes_the_payload_bytes_as_received() {
    // Keys not in sorted order, odd spacing: kept as is.
    let json = r#"{"z": 1, "a":[2, 1],"m" :"é"}"#;
    let manifest = lines_project("output", &format!("{json}\nplain text"));
    let dir = temp_dir("forms-output");
    let jsonl = dir.join("out.jsonl");
    let out = Cli::new("run")
        .manifest(&manifest)
        .args(["--quiet", "--output"])
        .arg(&jsonl)
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["payload"], json);
    assert_eq!(lines[0]["sink"], "out");
    assert_eq!(lines[0]["sequence"], 0);
    assert_eq!(lines[0]["content_type"], "text/plain; charset=utf-8");
    assert_eq!(lines[1]["payload"], "plain text");
    assert_eq!(lines[1]["sequence"], 1);

    let raw = dir.join("out.txt");
    let out = Cli::new("run")
        .manifest(&manifest)
        .args(["--quiet", "--output"])
        .arg(&raw)
        .args(["--output-format", "raw"])
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read(&raw).unwrap(),
        format!("{json}\nplain text\n").into_bytes()
    );

    // Bytes that are not UTF-8: base64 in JSON lines, as they are in raw.
    let manifest = printing_project("bytes", &fixture_wasm("raw-bytes-source"), "7b7d ff00fe");
    let out = Cli::new("run")
        .manifest(&manifest)
        .args(["--quiet", "--output"])
        .arg(&jsonl)
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines[0]["payload"], "{}");
    assert_eq!(lines[1]["payload_base64"], "/wD+");
    assert!(lines[1].get("payload").is_none());
    let out = Cli::new("run")
        .manifest(&manifest)
        .args(["--quiet", "--output"])
        .arg(&raw)
        .args(["--output-format", "raw"])
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&raw).unwrap(), b"{}\n\xff\x00\xfe\n");
    // `--output-format` without `--output` is a usage error.
    let out = Cli::new("run")
        .manifest(&manifest)
        .args(["--output-format", "raw"])
        .output();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_summary_shows_duration_copies_and_each_queues_peak_depth() {
    let manifest = flow_project();
    let out = Cli::new("run").manifest(&manifest).format("json").output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let edges = summary["edges"].as_array().unwrap();
    let names: Vec<(&str, &str)> = edges
        .iter()
        .map(|edge| (edge["from"].as_str().unwrap(), edge["to"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            ("source", "limit"),
            ("limit", "enrich"),
            ("enrich", "count")
        ]
    );
    for edge in edges {
        assert_eq!(edge["depth"], 4, "{edge}");
        let peak = edge["peak"].as_u64().unwrap();
        assert!((1..=4).contains(&peak), "{edge}");
    }
    // Consumers first: the source is pulled only when nothing downstream can
    // move, so its queue never holds more than one element; the sink's
    // pauses let its queue fill (2 of 4).
    assert_eq!(edges[0]["peak"], 1, "{edges:?}");
    assert_eq!(edges[2]["peak"], 2, "{edges:?}");
    assert_eq!(summary["peak_queue_depth"], 2);
    assert!(summary["duration_seconds"].as_f64().unwrap() > 0.0);

    let out = Cli::new("run").manifest(&manifest).output();
    let stdout = text(&out.stdout);
    let line = stdout
        .lines()
        .find(|line| line.starts_with("duration "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains(" | peak queue depth 2"), "{line}");
    assert!(line.contains(" | fan-out copies 0 | "), "{line}");
    assert!(line.contains(" copies "), "{line}");
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .skip_while(|line| !line.starts_with("queue "))
        .skip(1)
        .map(|line| line.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 3, "{stdout}");
    assert_eq!(rows[0], ["source", "->", "limit", "4", "1"]);
    assert_eq!(rows[2], ["enrich", "->", "count", "4", "2"]);
}
