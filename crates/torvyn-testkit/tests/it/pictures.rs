//! Pictures of a flow (`torvyn_testkit::picture`): the graph as Mermaid and
//! DOT (snapshots in `tests/golden/pictures/`; bless with `TORVYN_BLESS=1`),
//! the Chrome trace (required fields, byte-identical on the virtual clock).

use std::path::{Path, PathBuf};

use serde_json::Value;
use torvyn_testkit::TestElement;
use torvyn_testkit::manifest::Manifest;
use torvyn_testkit::{NodeSpec, Pipeline, Scripted};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Compare `actual` with the snapshot `name`, or write it under `TORVYN_BLESS=1`.
pub(crate) fn snapshot(name: &str, actual: &str) {
    let path = fixture("tests/golden/pictures").join(name);
    if std::env::var_os("TORVYN_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("{}: {err} (bless with TORVYN_BLESS=1)", path.display()));
    assert_eq!(
        actual,
        expected,
        "{} differs (bless with TORVYN_BLESS=1 and review the diff)",
        path.display()
    );
}

/// A host-only flow with a drop, a router, a pausing sink and a small queue:
/// every kind of annotation and timeline entry.
pub(crate) fn busy_flow() -> Pipeline {
    Pipeline::new("busy")
        .source(
            "numbers",
            (0..12).map(|n| TestElement::text(format!("n{n}"))),
        )
        .node("evens", NodeSpec::scripted(Scripted::filter(7).drops(0.4)))
        .node("split", NodeSpec::scripted(Scripted::router(3)))
        .node("slow", NodeSpec::scripted(Scripted::sink(5).pauses(0.5)))
        .collector("audit")
        .edge("numbers", "evens")
        .edge_depth(2)
        .edge("evens", "split")
        .edge_from_port("split", "main", "slow")
        .edge_depth(3)
        .edge_from_port("split", "audit", "audit")
}

#[test]
fn the_flow_project_graph_as_mermaid_and_dot() {
    let manifest = Manifest::from_path(fixture("tests/fixtures/flow-project/Torvyn.toml")).unwrap();
    let diagram = manifest.diagram(Some("main")).expect("the flow exists");
    snapshot("flow-project.mmd", &diagram.to_mermaid());
    snapshot("flow-project.dot", &diagram.to_dot());
    assert!(manifest.diagram(Some("nope")).is_none());
}

#[test]
fn the_graph_after_a_run_carries_counts_and_peaks() {
    let pipeline = busy_flow();
    let run = pipeline.clone().run().unwrap();
    let diagram = pipeline.diagram().with_run(&run);
    snapshot("busy-after-run.mmd", &diagram.to_mermaid());
    snapshot("busy-after-run.dot", &diagram.to_dot());
    // The counts in the picture are the run's.
    let evens = &diagram.nodes[1];
    assert_eq!(evens.name, "evens");
    let count = |name: &str| {
        evens
            .counts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    };
    assert_eq!(count("in"), Some(run.node("evens").received));
    assert_eq!(count("dropped"), Some(run.node("evens").dropped));
    assert_eq!(diagram.edges[0].peak, Some(run.edges[0].peak));
}

#[test]
fn a_run_alone_gives_its_graph_too() {
    let run = busy_flow().run().unwrap();
    let diagram = torvyn_testkit::picture::FlowDiagram::from_run(&run);
    assert_eq!(diagram.nodes.len(), 5);
    assert!(diagram.to_mermaid().contains("filter · ?<br/>in 12"));
}

fn traced() -> (String, torvyn_testkit::RunResult) {
    let run = busy_flow().record_timeline(true).run().unwrap();
    (run.chrome_trace().expect("recorded"), run)
}

#[test]
fn the_chrome_trace_has_the_required_fields_and_is_the_same_on_every_virtual_run() {
    let (first, run) = traced();
    let (second, _) = traced();
    assert!(
        first == second,
        "two virtual-clock runs gave different traces"
    );

    let trace: Value = serde_json::from_str(&first).expect("the trace is JSON");
    assert_eq!(trace["otherData"]["clock"], "virtual");
    assert_eq!(trace["otherData"]["flow"], "busy");
    assert_eq!(trace["displayTimeUnit"], "ns");
    let events = trace["traceEvents"]
        .as_array()
        .expect("traceEvents is an array");
    let mut phases = std::collections::BTreeMap::<String, usize>::new();
    for event in events {
        let ph = event["ph"]
            .as_str()
            .unwrap_or_else(|| panic!("no ph: {event}"));
        *phases.entry(ph.to_string()).or_default() += 1;
        assert!(event["name"].is_string(), "no name: {event}");
        assert!(
            event["pid"].is_u64() && event["tid"].is_u64(),
            "no pid/tid: {event}"
        );
        if ph != "M" {
            assert!(
                event["ts"].as_f64().is_some_and(|ts| ts >= 0.0),
                "no ts: {event}"
            );
        }
        match ph {
            "X" => {
                assert!(event["dur"].as_f64().is_some_and(|d| d > 0.0), "{event}");
                assert!(event["args"]["bytes"].is_u64(), "{event}");
            }
            "s" | "t" | "f" => assert!(event["id"].is_u64(), "{event}"),
            "C" => assert!(
                event["args"]
                    .as_object()
                    .is_some_and(|args| args.values().all(Value::is_number)),
                "{event}"
            ),
            "i" => assert_eq!(event["s"], "t", "{event}"),
            "M" => {
                assert!(event["args"]["name"].is_string() || event["args"]["sort_index"].is_u64())
            }
            other => panic!("unexpected phase {other}: {event}"),
        }
    }
    // One track per node, named.
    let names: Vec<&str> = events
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["numbers", "evens", "split", "slow", "audit"]);
    // A slice per call: the calls with an element are the elements' calls.
    let element_calls = events
        .iter()
        .filter(|e| e["ph"] == "X" && e["args"]["sequence"].is_u64())
        .count() as u64;
    let pulls = run.node("numbers").emitted;
    let received: u64 = run.nodes.iter().map(|(_, n)| n.received).sum();
    assert_eq!(element_calls, pulls + received);
    // Flow arrows start and finish once per element that went past its source.
    assert_eq!(phases.get("s"), phases.get("f"));
    assert!(phases.get("s").copied().unwrap_or(0) > 0);
    assert!(phases.get("C").copied().unwrap_or(0) > 0, "queue counters");
    assert!(phases.get("i").copied().unwrap_or(0) > 0, "pause instants");
    // Times never go backwards on a node's track.
    let mut last = std::collections::HashMap::<u64, f64>::new();
    for event in events.iter().filter(|e| e["ph"] == "X") {
        let (tid, ts) = (
            event["tid"].as_u64().unwrap(),
            event["ts"].as_f64().unwrap(),
        );
        let before = last.insert(tid, ts + event["dur"].as_f64().unwrap());
        assert!(
            before.is_none_or(|end| end <= ts),
            "{event} overlaps the call before"
        );
    }
}

#[test]
fn a_run_that_does_not_ask_records_no_timeline() {
    let run = busy_flow().run().unwrap();
    assert!(run.timeline.is_none());
    assert!(run.chrome_trace().is_none());
}

/// The report of a flow that failed in a component: the failure with its
/// source line (the buggy filter panics at `src/lib.rs:22`).
#[cfg(feature = "report")]
#[test]
fn the_report_of_a_failed_flow_shows_the_failure_and_its_source_line() {
    use torvyn_testkit::Component;
    use torvyn_testkit::picture::{Failure, ReportInput, html_report};

    let buggy = Component::build(fixture("tests/fixtures/raw-buggy-filter")).unwrap();
    let err = Pipeline::new("main")
        .source(
            "input",
            [TestElement::text("ok"), TestElement::text("aaaaaa#a")],
        )
        .component("buggy", &buggy, "")
        .collector("out")
        .edge("input", "buggy")
        .edge("buggy", "out")
        .record_timeline(true)
        .run()
        .expect_err("the filter panics on the second element");
    let failure = Failure::from(&err);
    assert_eq!(
        (failure.node.as_str(), failure.sequence),
        ("buggy", Some(1))
    );
    let line = failure.source_line.clone().expect("a source line");
    assert!(line.contains("src/lib.rs:22"), "{line}");
    let html = html_report(&ReportInput {
        result: &err.report,
        diagram: None,
        failure: Some(&failure),
        notes: &[],
    });
    assert!(html.contains("What stopped the flow"));
    assert!(html.contains("element <b>#1</b>"));
    assert!(html.contains(&line), "the source line is shown");
    assert!(html.contains("a 8-byte payload with a `#` is not handled"));
    assert!(html.contains("<span class=\"bad\">failed</span>"));
}
