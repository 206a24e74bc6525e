//! `bench --baseline NAME` saves a measurement under the project's
//! `.torvyn/bench/`, `--compare NAME|PATH` judges a run against it (total and
//! per node, change in percent, verdict), `--report FILE --report-format
//! json|csv|markdown` writes the report, and `--profile DIR` (over
//! `Pipeline::profile`) writes one Firefox-profiler file per node.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use torvyn_testkit::picture::Profiler;
use torvyn_testkit::{Limits, NodeSpec, Pipeline, TestElement};

use crate::support::{Cli, example_path, fixture, flow_project, temp_dir, text};

/// The flow-project fixture's manifest in a scratch project (its component
/// paths made absolute), so that `.torvyn/bench/` is made there.
fn scratch_project() -> PathBuf {
    let manifest = std::fs::read_to_string(flow_project()).unwrap();
    let examples = example_path("");
    let manifest = manifest.replace(
        "../../../../../examples/",
        &format!("{}/", examples.display()),
    );
    let dir = temp_dir("project");
    let path = dir.join("Torvyn.toml");
    std::fs::write(&path, manifest).unwrap();
    path
}

/// `bench` of the scratch project, short: five runs (one per round), no warm-up.
fn bench(manifest: &Path) -> Cli {
    Cli::new("bench")
        .manifest(manifest)
        .args(["--iterations", "5", "--warmup", "0s"])
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|err| panic!("{err}: {}", String::from_utf8_lossy(bytes)))
}

const NODES: [&str; 4] = ["count", "enrich", "limit", "source"];

#[test]
fn bench_saves_a_baseline_compares_with_it_and_writes_reports() {
    let manifest = scratch_project();
    let saved = manifest.parent().unwrap().join(".torvyn/bench/v1.json");

    // A name that is not saved fails before measuring, naming what is.
    let out = bench(&manifest).args(["--compare", "v1"]).output();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("there is no baseline `v1`")
            && text(&out.stderr).contains("none is saved yet")
            && text(&out.stderr).contains("--baseline v1"),
        "{}",
        text(&out.stderr)
    );

    let out = bench(&manifest)
        .args(["--baseline", "v1"])
        .format("json")
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = json(&out.stdout);
    assert_eq!(summary["baseline_saved"], saved.display().to_string());
    let baseline = json(&std::fs::read(&saved).unwrap());
    assert_eq!(baseline["torvyn_testkit_bench"], 1);
    assert_eq!(baseline["flow"], "main");
    assert_eq!(
        baseline["elements_per_second"]["rounds"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let nodes: Vec<&str> = baseline["node_ns_per_element"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(nodes, NODES);
    for node in NODES {
        let spread = &baseline["node_ns_per_element"][node];
        let (min, median, max) = (
            spread["min"].as_f64().unwrap(),
            spread["median"].as_f64().unwrap(),
            spread["max"].as_f64().unwrap(),
        );
        assert!(
            0.0 < min && min <= median && median <= max,
            "{node}: {spread}"
        );
    }

    // A doctored baseline, far from anything this run can measure: the
    // verdicts and the percentages are certain.
    let mut doctored = baseline.clone();
    doctored["elements_per_second"] =
        serde_json::json!({"median": 1e12, "min": 1e12, "max": 1e12, "rounds": [1e12]});
    doctored["node_ns_per_element"]["enrich"] =
        serde_json::json!({"median": 1e15, "min": 1e15, "max": 1e15, "rounds": [1e15]});
    doctored["node_ns_per_element"]["count"] =
        serde_json::json!({"median": 1.0, "min": 1.0, "max": 1.0, "rounds": [1.0]});
    let doctored_path = manifest.parent().unwrap().join("doctored.json");
    std::fs::write(&doctored_path, doctored.to_string()).unwrap();

    // Text: the comparison's lines. (By path: upstream's `--compare` takes one.)
    let out = bench(&manifest)
        .arg("--compare")
        .arg(&doctored_path)
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("compared with baseline `"), "{stdout}");
    assert!(
        stdout.contains("  total: 1000000000000 -> ")
            && stdout.contains(" elements/s (-100.0 %): slower\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  node enrich: 1000000000000000 -> "),
        "{stdout}"
    );
    assert!(
        stdout.contains(" ns/element (-100.0 %): faster\n"),
        "{stdout}"
    );
    assert!(stdout.contains("  node count: 1 -> "), "{stdout}");
    assert!(stdout.contains("): slower\n"), "{stdout}");

    // JSON report, to a file: the measurement and the comparison, whose
    // percentages follow from its numbers.
    let report = manifest.parent().unwrap().join("report.json");
    let out = bench(&manifest)
        .args(["--compare", "v1", "--report-format", "json", "--report"])
        .arg(&report)
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("compared with baseline `v1`"));
    let report = json(&std::fs::read(&report).unwrap());
    assert_eq!(report["flow"], "main");
    let changes = report["comparison"]["changes"].as_array().unwrap();
    let names: Vec<&str> = changes
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["total", "count", "enrich", "limit", "source"]);
    for change in changes {
        let (before, now) = (
            change["baseline"].as_f64().unwrap(),
            change["now"].as_f64().unwrap(),
        );
        let percent = change["change_percent"].as_f64().unwrap();
        assert!(
            (percent - (now - before) / before * 100.0).abs() < 1e-6,
            "{change}"
        );
        assert!(
            ["faster", "slower", "within-noise"].contains(&change["verdict"].as_str().unwrap()),
            "{change}"
        );
    }

    // CSV on stdout (no --report): a header and one row per number.
    let out = bench(&manifest)
        .args(["--compare", "v1", "--report-format", "csv"])
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut csv = csv::Reader::from_reader(out.stdout.as_slice());
    assert_eq!(
        csv.headers().unwrap(),
        vec![
            "name",
            "unit",
            "median",
            "min",
            "max",
            "baseline",
            "change_percent",
            "verdict"
        ]
    );
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    let names: Vec<&str> = rows.iter().map(|row| &row[0]).collect();
    assert_eq!(names, ["total", "count", "enrich", "limit", "source"]);
    assert_eq!(&rows[0][1], "elements/s");
    assert!(rows[0][2].parse::<f64>().unwrap() > 0.0);
    assert!(rows[1][6].parse::<f64>().is_ok(), "{:?}", rows[1]);

    // Markdown: the table's header.
    let path = manifest.parent().unwrap().join("report.md");
    let out = bench(&manifest)
        .args(["--report-format", "markdown", "--report"])
        .arg(&path)
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let markdown = std::fs::read_to_string(&path).unwrap();
    assert!(
        markdown.starts_with("**bench of flow `main`** (release builds)"),
        "{markdown}"
    );
    assert!(
        markdown.contains(
            "\n| name | unit | median | min | max | baseline | change % | verdict |\n|---|"
        ),
        "{markdown}"
    );
    assert!(markdown.contains("\n| total | elements/s | "), "{markdown}");

    // html needs a file; --format json and a stdout report conflict.
    let out = bench(&manifest).args(["--report-format", "html"]).output();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("needs a file"),
        "{}",
        text(&out.stderr)
    );
    let out = bench(&manifest)
        .args(["--report-format", "csv"])
        .format("json")
        .output();
    assert_eq!(out.status.code(), Some(1));
    let out = bench(&manifest).args(["--baseline", "../up"]).output();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is not a baseline name"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn bench_profile_writes_one_firefox_profile_per_node() {
    let dir = temp_dir("profiles");
    let out = Cli::new("bench")
        .manifest(flow_project())
        .args(["--iterations", "2", "--warmup", "0s", "--profile"])
        .arg(&dir)
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!(
            "wrote 4 profiles into {} (2 runs; samples per node: count ",
            dir.display()
        )),
        "{}",
        text(&out.stderr)
    );
    for node in NODES {
        let profile = json(&std::fs::read(dir.join(format!("{node}.json"))).unwrap());
        assert_eq!(profile["threads"][0]["processName"], node, "{profile}");
        assert!(
            profile["meta"]["interval"].as_f64().unwrap() > 0.0,
            "{profile}"
        );
        assert!(
            profile["threads"][0]["samples"]["length"].is_u64(),
            "{profile}"
        );
    }
}

#[test]
fn pipeline_profile_samples_the_components_own_functions() {
    // The loop processor spins until its 100 ms time limit: about ten ticks
    // pass while its `process` runs.
    let profiler = Profiler::new();
    let err = Pipeline::new("loops")
        .source("input", vec![TestElement::text("x").content_type("loop")])
        .node(
            "spin",
            NodeSpec::component(&fixture("raw-loop-processor"), "")
                .limits(Limits::default().call_timeout(Duration::from_millis(100))),
        )
        .collector("out")
        .edge("input", "spin")
        .edge("spin", "out")
        .profile(&profiler)
        .run()
        .unwrap_err();
    assert!(err.error.is_timeout(), "{err}");
    let samples = profiler.samples()["spin"];
    assert!(samples >= 3, "{samples} samples");
    let dir = temp_dir("profile");
    let files = profiler.write(&dir).unwrap();
    assert_eq!(files, [dir.join("spin.json")]);
    let profile = json(&std::fs::read(&files[0]).unwrap());
    let strings = profile["threads"][0]["stringArray"].as_array().unwrap();
    let names: Vec<&str> = strings.iter().filter_map(Value::as_str).collect();
    // The fixture's own function, demangled, without rustc's hash.
    assert!(
        names
            .iter()
            .any(|name| name.contains("LoopProcessor") && name.ends_with("::process")),
        "{names:?}"
    );
    let hashed = |name: &&str| {
        name.rsplit_once("::h").is_some_and(|(_, hash)| {
            hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())
        })
    };
    assert!(!names.iter().any(hashed), "{names:?}");
    assert_eq!(profile["threads"][0]["samples"]["length"], samples);
    // Taken out: a second write has nothing.
    assert!(profiler.write(&dir).unwrap().is_empty());
}
