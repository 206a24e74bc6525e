//! `torvyn-testkit test`: one component on ad-hoc input, without a manifest,
//! for every input form (`--text`, `--json`, `--file`) and every role.

use std::process::Output;

use serde_json::json;

use crate::support::{Cli, cli, example_path, fixture_path, temp, text};

fn example(name: &str) -> String {
    example_path(name).display().to_string()
}

fn fixture(name: &str) -> String {
    fixture_path(name).display().to_string()
}

#[track_caller]
fn stdout_of(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|err| panic!("{err}: {}\n{}", text(&out.stdout), text(&out.stderr)))
}

#[test]
fn a_filter_on_text_elements_prints_passed_and_dropped() {
    let limiter = example("rate-limiter");
    let out = Cli::new("test")
        .arg(&limiter)
        .texts(["a", "b", "c"])
        .config(r#"{"max_per_second": 2}"#)
        .output();
    let stdout = stdout_of(&out);
    assert_eq!(
        stdout.lines().take(4).collect::<Vec<_>>(),
        [
            format!("rate-limiter (filter) from {limiter}").as_str(),
            "#0 \"a\" -> passed",
            "#1 \"b\" -> passed",
            "#2 \"c\" -> dropped",
        ],
        "{stdout}"
    );
    // The component's log lines (its teardown's summary) follow.
    assert!(
        stdout.contains("log:\n  [info] rate limiter: 2 passed, 1 dropped\n"),
        "{stdout}"
    );

    // `--role` checks the role it reads from the exports.
    let out = Cli::new("test")
        .arg(&limiter)
        .args(["--role", "filter"])
        .texts(["a"])
        .output();
    stdout_of(&out);
    let out = Cli::new("test")
        .arg(&limiter)
        .args(["--role", "processor"])
        .texts(["a"])
        .output();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&format!(
            "{limiter} is a filter (it exports `torvyn:filtering/filter@0.1.0`), not a processor"
        )),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_processor_on_json_elements_prints_outputs_and_the_failed_element() {
    let enricher = example("json-enricher");
    let test = || {
        Cli::new("test")
            .arg(&enricher)
            .args([
                "--json",
                r#"{"n": 1}"#,
                "--json",
                "[2]",
                "--json",
                r#"{"n": 3}"#,
            ])
            .config(r#"{"fields": {"stage": "tested"}, "add_sequence": true}"#)
    };
    let out = test().output();
    // One element failed: the report is printed, and the exit code is 1.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[1],
        r#"#0 {"n":1} -> emitted {"n":1,"sequence":0,"stage":"tested"} (application/json)"#
    );
    assert!(
        lines[2].starts_with(
            "#1 [2] -> failed: node `json-enricher` (processor) returned invalid-input"
        ),
        "{stdout}"
    );
    assert_eq!(
        lines[3],
        r#"#2 {"n":3} -> emitted {"n":3,"sequence":2,"stage":"tested"} (application/json)"#,
        "an error does not stop the next element"
    );
    assert!(
        text(&out.stderr).contains("1 of 3 calls of `json-enricher` failed"),
        "{}",
        text(&out.stderr)
    );

    let out = test().format("json").output();
    assert_eq!(out.status.code(), Some(1));
    let report = json_of(&out);
    assert_eq!(report["role"], "processor");
    assert_eq!(report["name"], "json-enricher");
    assert_eq!(report["component"], enricher.as_str());
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["outcome"], "emitted");
    assert_eq!(results[0]["input"], json!({"n": 1}));
    assert_eq!(
        results[0]["output"],
        json!({"content_type": "application/json", "json": {"n": 1, "sequence": 0, "stage": "tested"}})
    );
    assert_eq!(results[1]["outcome"], "failed");
    assert!(
        results[1]["error"]
            .as_str()
            .unwrap()
            .contains("expected a JSON object, got an array"),
        "{report}"
    );
    assert_eq!(report["counts"]["emitted"], 2);
    assert_eq!(report["counts"]["failed"], 1);
}

#[test]
fn a_file_of_json_lines_names_each_elements_line() {
    let input = temp("in.jsonl");
    std::fs::write(&input, "{\"n\": 1}\n\n[2]\n").unwrap();
    let test_file = || {
        Cli::new("test")
            .arg(example("json-enricher"))
            .arg("--file")
            .arg(&input)
    };
    let out = test_file().format("json").output();
    assert_eq!(out.status.code(), Some(1));
    let report = json_of(&out);
    let results = report["results"].as_array().unwrap();
    assert_eq!(
        (results[0]["sequence"].as_u64(), results[0]["line"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(
        (results[1]["sequence"].as_u64(), results[1]["line"].as_u64()),
        (Some(1), Some(3))
    );
    assert_eq!(results[1]["outcome"], "failed");

    let out = test_file().output();
    assert!(
        text(&out.stdout).contains("#1 (line 3) [2] -> failed: "),
        "{}",
        text(&out.stdout)
    );

    // The file's format errors are `run --input`'s; an unusable input is a
    // usage error (exit 2).
    std::fs::write(&input, "{\"n\": 1}\nnot json\n").unwrap();
    let out = test_file().output();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("in.jsonl:2: not a JSON value"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_source_is_pulled_up_to_max_elements() {
    let source = example("line-source");
    let config = r#"{"text": "a\nb\nc"}"#;
    let out = Cli::new("test").arg(&source).config(config).output();
    let stdout = stdout_of(&out);
    assert!(
        stdout.contains("#0 -> pulled \"a\" (text/plain; charset=utf-8)\n"),
        "{stdout}"
    );
    assert!(stdout.contains("#2 -> pulled \"c\""), "{stdout}");
    assert!(
        stdout.contains("the source ended after 3 elements\n"),
        "{stdout}"
    );

    let out = Cli::new("test")
        .arg(&source)
        .config(config)
        .args(["--max-elements", "2"])
        .format("json")
        .output();
    let report = json_of(&out);
    assert!(out.status.success());
    assert_eq!(report["role"], "source");
    assert_eq!(report["exhausted"], false);
    assert_eq!(report["counts"]["pulled"], 2);
    assert_eq!(report["results"][1]["output"]["text"], "b");

    // A source takes no input: a usage error.
    let out = Cli::new("test").arg(&source).texts(["a"]).output();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is a source, and a source takes no input"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn an_aggregator_shows_what_it_absorbed_and_its_flush() {
    let out = Cli::new("test")
        .arg(example("window-counter"))
        .texts(["a", "b", "c"])
        .config(r#"{"window": 2}"#)
        .output();
    let stdout = stdout_of(&out);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[1], "#0 \"a\" -> absorbed", "{stdout}");
    assert!(
        lines[2].starts_with("#1 \"b\" -> absorbed, emitted {\"by_content_type\":"),
        "{stdout}"
    );
    assert_eq!(lines[3], "#2 \"c\" -> absorbed", "{stdout}");
    assert!(
        lines[4].starts_with("flush -> emitted {") && lines[4].contains("\"count\":1"),
        "{stdout}"
    );
}

#[test]
fn a_sink_shows_what_it_accepted_and_a_router_its_ports() {
    let out = Cli::new("test")
        .arg(example("counting-sink"))
        .args(["--json", "1", "--json", "2"])
        .config(r#"{"pause_every": 2}"#)
        .format("json")
        .output();
    let report = json_of(&out);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(report["role"], "sink");
    let results = report["results"].as_array().unwrap();
    assert_eq!(
        (&results[0]["outcome"], &results[0]["signal"]),
        (&json!("delivered"), &json!("ready"))
    );
    assert_eq!(results[1]["signal"], "pause");
    assert_eq!(
        report["logs"][0]["message"],
        "counting sink: 2 elements, 2 bytes"
    );

    // A sink that prints: its stdout is shown.
    let out = Cli::new("test")
        .arg(fixture("raw-stdout-sink"))
        .texts(["hello"])
        .output();
    let stdout = stdout_of(&out);
    assert!(
        stdout.contains("#0 \"hello\" -> delivered (ready)\n"),
        "{stdout}"
    );
    assert!(stdout.contains("stdout:\n  got 0\n  done\n"), "{stdout}");

    let router = example("content-router");
    let out = Cli::new("test")
        .arg(&router)
        .args(["--json", "{}"])
        .texts(["x"])
        .config(r#"{"audit": ["application/json"]}"#)
        .output();
    assert_eq!(out.status.code(), Some(2), "--json and --text do not mix");
    let out = Cli::new("test")
        .arg(&router)
        .args(["--json", "{}"])
        .config(r#"{"audit": ["application/json"]}"#)
        .output();
    let stdout = stdout_of(&out);
    assert!(
        stdout.contains("#0 {} -> routed to json, audit\n"),
        "{stdout}"
    );
}

#[test]
fn a_wasm_file_runs_and_a_trap_stops_the_component() {
    let wasm = torvyn_testkit::build_component(fixture("raw-panic-filter"))
        .unwrap_or_else(|err| panic!("{err}"));
    let out = Cli::new("test")
        .arg(&wasm)
        .texts(["a", "b", "c", "d"])
        .format("json")
        .output();
    assert_eq!(out.status.code(), Some(1));
    let report = json_of(&out);
    let outcomes: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["passed", "passed", "failed", "not-called"]);
    assert!(
        report["results"][2]["error"]
            .as_str()
            .unwrap()
            .contains("the component panicked: boom: element 2 is cursed"),
        "{report}"
    );
}

#[test]
fn usage_errors_exit_2_and_other_errors_exit_1() {
    let limiter = example("rate-limiter");
    // No input for a component that needs some.
    let out = cli(&["test", &limiter]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(
            "is a filter: give it elements with --text TEXT, --json JSON (both repeatable) or --file in.jsonl"
        ),
        "{}",
        text(&out.stderr)
    );
    // --max-elements is for sources.
    let out = Cli::new("test")
        .arg(&limiter)
        .texts(["a"])
        .args(["--max-elements", "3"])
        .output();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--max-elements bounds the pulls from a source"),
        "{}",
        text(&out.stderr)
    );
    // Not JSON.
    let out = Cli::new("test")
        .arg(&limiter)
        .args(["--json", "{x"])
        .output();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("for plain text use `--text` instead of `--json`"),
        "{}",
        text(&out.stderr)
    );
    // Not a role.
    let out = Cli::new("test")
        .arg(&limiter)
        .args(["--role", "mapper"])
        .texts(["a"])
        .output();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("`mapper` is not a role; use one of source, processor"),
        "{}",
        text(&out.stderr)
    );
    // No such component.
    let out = cli(&["test", "/nonexistent/component", "--text", "a"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with(
            "torvyn-testkit: /nonexistent/component: no such file or directory; give a \
             component crate's directory or a .wasm file"
        ),
        "{}",
        text(&out.stderr)
    );
    // A directory that is no crate.
    let dir = temp("not-a-crate");
    std::fs::create_dir_all(&dir).unwrap();
    let out = Cli::new("test").arg(&dir).texts(["a"]).output();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is a directory without a Cargo.toml"),
        "{}",
        text(&out.stderr)
    );
    // A config the component rejects: its `init` error.
    let out = Cli::new("test")
        .arg(&limiter)
        .config(r#"{"max_per_second": 0}"#)
        .texts(["a"])
        .output();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("`max_per_second` must be greater than 0"),
        "{}",
        text(&out.stderr)
    );
}
