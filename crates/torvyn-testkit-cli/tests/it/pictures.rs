//! Pictures on the command line: `check --graph`, `run --graph`, `trace
//! --trace-format chrome --output-trace`, `run --report`; the report is
//! opened in headless Chromium when it is installed (`scripts/setup.sh`
//! installs it; the test says so and passes when it is absent).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{cli, flow_project, temp, temp_dir, text};

fn manifest() -> String {
    flow_project().display().to_string()
}

#[test]
fn check_prints_the_flow_graph_without_building() {
    let out = cli(&[
        "check",
        "flow.main",
        "--manifest",
        &manifest(),
        "--graph",
        "mermaid",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("flowchart LR\n"), "{stdout}");
    assert!(
        stdout.contains(r#"n1["limit<br/>filter · limiter"]"#),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"n0 -->|"output · depth 4"| n1"#),
        "{stdout}"
    );
    assert!(!text(&out.stderr).contains("building"), "nothing is built");

    let out = cli(&["check", "--manifest", &manifest(), "--graph", "dot"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(r#""source" -> "limit" [label="output · depth 4"];"#));

    let out = cli(&["check", "nope", "--manifest", &manifest(), "--graph", "dot"]);
    assert!(!out.status.success());
}

#[test]
fn run_prints_the_graph_with_the_runs_counts() {
    let out = cli(&["run", "--manifest", &manifest(), "--graph", "mermaid", "-q"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("in 6 · out 4 · dropped 2"), "{stdout}");
    assert!(stdout.contains("peak 2 of 4"), "{stdout}");
}

#[test]
fn trace_writes_a_chrome_trace_on_the_virtual_clock() {
    let path = temp("trace.json");
    let path_text = path.display().to_string();
    let args = [
        "trace",
        "--manifest",
        &manifest(),
        "--trace-format",
        "chrome",
        "--output-trace",
        &path_text,
    ];
    let out = cli(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let first = std::fs::read_to_string(&path).unwrap();
    let trace: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(trace["otherData"]["clock"], "virtual");
    let events = trace["traceEvents"].as_array().unwrap();
    let tracks: Vec<&str> = events
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(tracks, ["source", "limit", "enrich", "count"]);
    assert!(
        events
            .iter()
            .any(|e| e["name"] == "evaluate" && e["ph"] == "X")
    );
    // The same flow on the virtual clock gives the same file.
    assert!(cli(&args).status.success());
    assert!(std::fs::read_to_string(&path).unwrap() == first);
}

/// Chromium, when installed.
fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find_map(|name| {
            let found = Command::new("which").arg(name).output().ok()?;
            let path = String::from_utf8(found.stdout).ok()?;
            (found.status.success() && !path.trim().is_empty()).then(|| PathBuf::from(path.trim()))
        })
}

/// Headless Chromium on `page` with `args`, with a new empty profile and
/// nothing that reaches the network.
fn headless(chromium: &Path, page: &Path, args: &[&str]) -> std::process::Output {
    let profile = temp_dir(&format!("chromium-profile-{}", args.len()));
    Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs")
}

#[test]
fn the_report_is_one_file_chromium_shows_with_the_flow_and_its_counts() {
    let report = temp("report.html");
    let report_text = report.display().to_string();
    let out = cli(&[
        "run",
        "flow.main",
        "--manifest",
        &manifest(),
        "--report",
        &report_text,
        "-q",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for outside in ["<script", "<link", "src=\"http", "@import"] {
        assert!(
            !html.contains(outside),
            "the report loads nothing: {outside}"
        );
    }
    assert_eq!(
        html.matches("<svg").count(),
        2,
        "the graph and the queue plot"
    );

    let Some(chromium) = chromium() else {
        eprintln!(
            "skipped: Chromium is not installed (scripts/setup.sh installs it where apt-get \
             works); the report's text was checked without it"
        );
        return;
    };
    let out = headless(&chromium, &report, &["--dump-dom"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dom = text(&out.stdout);
    for expected in [
        "flow main",
        "finished",
        "6 elements entered",
        "4 delivered",
        "limit",
        "enrich",
        "count",
        "Queue lengths over time",
        "Slowest elements",
    ] {
        assert!(dom.contains(expected), "the page shows {expected:?}");
    }
    // The limiter's row: in 6, out 4, dropped 2.
    assert!(
        dom.contains(r#"<td>limit</td><td>filter</td><td class="n">6</td><td class="n">4</td><td class="n">2</td>"#),
        "the per-node table"
    );
    let png = temp("report.png");
    let out = headless(
        &chromium,
        &report,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1200,1400",
            "--hide-scrollbars",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bytes = std::fs::read(&png).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
        "a screenshot"
    );
}
