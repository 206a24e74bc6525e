//! Pipelines of real components with the reference semantics: fan-out,
//! aggregation, backpressure, error policies and accounting.

use serde_json::json;
use torvyn_testkit::manifest::ManifestErrorKind;
use torvyn_testkit::{ErrorKind, ProcessError, Role, TestElement};
use torvyn_testkit::{ErrorPolicy, Event, NodeSpec, Pipeline, Scripted};

use crate::support::{example, fixture_dir, scratch};

fn json_lines(values: &[serde_json::Value]) -> String {
    let lines: Vec<String> = values.iter().map(ToString::to_string).collect();
    json!({ "text": lines.join("\n") }).to_string()
}

#[test]
fn four_stage_flow_source_filter_processor_sink() {
    let lines = json_lines(&(0..6).map(|n| json!({ "n": n })).collect::<Vec<_>>());
    let run = Pipeline::new("main")
        .component("source", &example("line-source"), &lines)
        .component(
            "limit",
            &example("rate-limiter"),
            r#"{"max_per_second": 2, "window_ms": 3}"#,
        )
        .component(
            "enrich",
            &example("json-enricher"),
            r#"{"fields": {"stage": "enriched"}, "add_sequence": true}"#,
        )
        .collector("out")
        .edge("source", "limit")
        .edge("limit", "enrich")
        .edge("enrich", "out")
        .run()
        .unwrap_or_else(|err| panic!("{err}"));

    // The clock gives element n the timestamp n ms: 0,1 pass; 2,3 drop; 4,5 pass.
    let received: Vec<serde_json::Value> = run
        .received("out")
        .iter()
        .map(|o| o.json().unwrap())
        .collect();
    assert_eq!(
        received,
        [
            json!({"n": 0, "stage": "enriched", "sequence": 0}),
            json!({"n": 1, "stage": "enriched", "sequence": 1}),
            json!({"n": 4, "stage": "enriched", "sequence": 4}),
            json!({"n": 5, "stage": "enriched", "sequence": 5}),
        ]
    );
    let sequences: Vec<u64> = run
        .received("out")
        .iter()
        .map(|o| o.meta.sequence)
        .collect();
    assert_eq!(sequences, [0, 1, 4, 5]);
    let timestamps: Vec<u64> = run
        .received("out")
        .iter()
        .map(|o| o.meta.timestamp_ns)
        .collect();
    assert_eq!(timestamps, [0, 1_000_000, 4_000_000, 5_000_000]);

    let (source, limit, enrich, out) = (
        run.node("source"),
        run.node("limit"),
        run.node("enrich"),
        run.node("out"),
    );
    assert_eq!((source.received, source.emitted), (0, 6));
    assert_eq!((limit.received, limit.emitted, limit.dropped), (6, 4, 2));
    assert_eq!((enrich.received, enrich.emitted), (4, 4));
    assert_eq!(out.received, 4);
    assert_eq!(
        limit.stats.payload_bytes_read, 0,
        "the limiter reads metadata only"
    );
    assert_eq!(run.elements, 6);
    assert!(run.unaccounted().is_empty());
    // Teardown ran and its log was captured.
    assert_eq!(
        limit.logs.last().unwrap().message,
        "rate limiter: 4 passed, 2 dropped"
    );

    let trace = run.trace.to_string();
    assert!(
        trace.contains("#2: source pulled -> limit dropped\n"),
        "{trace}"
    );
    assert!(
        trace.contains("#4: source pulled -> limit emitted -> enrich emitted -> out delivered\n"),
        "{trace}"
    );
}

#[test]
fn router_fans_out_to_two_sinks() {
    let router = example("content-router");
    let run = Pipeline::new("routing")
        .source(
            "input",
            vec![
                TestElement::json(json!({"a": 1})),
                TestElement::text("plain"),
                TestElement::bytes(vec![1, 2, 3]),
                TestElement::text(""),
            ],
        )
        .component("route", &router, r#"{"audit": ["application/json"]}"#)
        .collector("json")
        .collector("text")
        .collector("audit")
        .collector("other")
        .edge("input", "route")
        .edge_from_port("route", "json", "json")
        .edge_from_port("route", "text", "text")
        .edge_from_port("route", "audit", "audit")
        .edge_from_port("route", "other", "other")
        .run()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(run.received_text("json"), [r#"{"a":1}"#]);
    assert_eq!(
        run.received_text("audit"),
        [r#"{"a":1}"#],
        "fan-out: the same element twice"
    );
    assert_eq!(run.received_text("text"), ["plain"]);
    assert_eq!(run.received("other").len(), 1);
    assert_eq!(run.received("json")[0].meta.sequence, 0);
    assert_eq!(run.received("audit")[0].meta.sequence, 0);
    let route = run.node("route");
    assert_eq!((route.received, route.emitted, route.dropped), (4, 3, 1));
    assert!(
        run.trace
            .to_string()
            .contains("#0: input pulled -> route routed to json+audit")
    );
    assert!(run.unaccounted().is_empty());
}

#[test]
fn aggregator_flush_reaches_the_sink() {
    let run = Pipeline::new("windows")
        .source(
            "input",
            (0..5).map(|i| TestElement::text(format!("e{i}")).content_type("text/plain")),
        )
        .component("windows", &example("window-counter"), r#"{"window": 2}"#)
        .component("count", &example("counting-sink"), "")
        .edge("input", "windows")
        .edge("windows", "count")
        .run()
        .unwrap_or_else(|err| panic!("{err}"));
    let received: Vec<serde_json::Value> = run
        .received("count")
        .iter()
        .map(|o| o.json().unwrap())
        .collect();
    assert_eq!(
        received,
        [
            json!({"window": 0, "count": 2, "by_content_type": {"text/plain": 2}}),
            json!({"window": 1, "count": 2, "by_content_type": {"text/plain": 2}}),
            json!({"window": 2, "count": 1, "by_content_type": {"text/plain": 1}}),
        ]
    );
    // Aggregates are new elements with their own sequence numbers, taken
    // when they are made: the first after inputs 0 and 1, the second after
    // 3 and 4 (inputs 2, 3), the last at `flush`, after the five inputs.
    let sequences: Vec<u64> = run
        .received("count")
        .iter()
        .map(|o| o.meta.sequence)
        .collect();
    assert_eq!(sequences, [2, 5, 7]);
    let windows = run.node("windows");
    assert_eq!((windows.received, windows.emitted), (5, 3));
    // Its inputs are absorbed; the flow counts 5 elements and 3 aggregates.
    assert_eq!(windows.absorbed, 5);
    assert_eq!((run.elements, run.aggregated), (5, 3));
    run.check_accounting().unwrap();
    assert_eq!(
        run.node("count").logs[0].message,
        "counting sink: 3 elements, 171 bytes"
    );
    assert!(run.unaccounted().is_empty());
    let last = run.trace.of(7);
    assert_eq!(last[0].event, Event::Aggregated);
}

#[test]
fn a_pausing_sink_holds_back_the_source() {
    let lines = json_lines(&(0..10).map(|n| json!(n)).collect::<Vec<_>>());
    let run = Pipeline::new("pausing")
        .component("source", &example("line-source"), &lines)
        .component("sink", &example("counting-sink"), r#"{"pause_every": 2}"#)
        .edge("source", "sink")
        .edge_depth(2)
        .run()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(
        run.received_text("sink"),
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
    );
    assert_eq!(run.node("sink").pauses, 5, "pause after every 2nd element");
    assert!(
        run.node("source").pauses >= 1,
        "the source was told to pause"
    );
    assert!(run.unaccounted().is_empty());
}

#[test]
fn error_policies_skip_retry_dead_letter_and_fail() {
    let enricher = example("json-enricher");
    let input = || {
        (0..4).map(|n| {
            if n == 2 {
                TestElement::json(json!([n]))
            } else {
                TestElement::json(json!({"n": n}))
            }
        })
    };
    let build = |policy: ErrorPolicy| {
        Pipeline::new("policies")
            .source("input", input())
            .node("enrich", NodeSpec::component(&enricher, "").policy(policy))
            .collector("out")
            .edge("input", "enrich")
            .edge("enrich", "out")
    };

    // Skip: element 2 (an array, invalid-input) fails, the rest go through.
    let run = build(ErrorPolicy::Skip).run().unwrap();
    assert_eq!(run.received("out").len(), 3);
    assert_eq!(run.node("enrich").failed, 1);
    assert!(
        matches!(&run.trace.of(2)[1].event, Event::Failed { error } if error.contains("invalid-input"))
    );
    assert!(run.unaccounted().is_empty());

    // Dead letter: the element and its error are kept.
    let run = build(ErrorPolicy::DeadLetter).run().unwrap();
    assert_eq!(run.dead_letters.len(), 1);
    assert_eq!(run.dead_letters[0].sequence, 2);
    assert_eq!(run.dead_letters[0].element.payload().as_bytes(), b"[2]");
    assert!(
        run.dead_letters[0].error.contains("an array"),
        "{}",
        run.dead_letters[0].error
    );
    assert_eq!(run.node("enrich").dead_lettered, 1);

    // Fail the flow (the default): the error names the node and the call, and
    // the elements still queued are discarded where they were queued.
    let err = build(ErrorPolicy::FailFlow).run().unwrap_err();
    assert_eq!(err.error.node(), "enrich");
    assert_eq!(err.error.call(), Some("process"));
    assert!(
        err.to_string().starts_with(
            "flow `policies` failed: node `enrich` (processor) returned invalid-input"
        ),
        "{err}"
    );
    // Each element goes as far as it can before the next is pulled: 0 and 1
    // reached `out`, 2 failed, and 3 was never pulled, so nothing was queued
    // (`accounting.rs` checks the discards of a flow stopped with full queues).
    assert_eq!(err.report.received("out").len(), 2);
    let (enrich, out) = (err.report.node("enrich"), err.report.node("out"));
    assert_eq!(enrich.emitted, 2);
    assert_eq!((out.received, out.failed, out.discarded), (2, 0, 0));
    assert_eq!(
        (enrich.received, enrich.failed, enrich.discarded),
        (3, 1, 0),
        "element 2 failed, 3 never entered"
    );
    assert_eq!(err.report.elements, 3);
    assert_eq!(err.report.trace.of(0)[2].event, Event::Delivered);
    assert!(matches!(&err.report.trace.of(2)[1].event,
        Event::Failed { error } if error.contains("invalid-input")));
    assert!(err.report.unaccounted().is_empty(), "{}", err.report.trace);
    err.report.check_accounting().unwrap();

    // Retry: an injected unavailable on the 2nd call succeeds on retry.
    let run = Pipeline::new("retry")
        .source("input", (0..3).map(|n| TestElement::json(json!({"n": n}))))
        .node(
            "enrich",
            NodeSpec::component(&enricher, "")
                .policy(ErrorPolicy::Retry(2))
                .fail_call(2, ProcessError::Unavailable("flaky".into())),
        )
        .collector("out")
        .edge("input", "enrich")
        .edge("enrich", "out")
        .run()
        .unwrap();
    assert_eq!(run.received("out").len(), 3);
    assert_eq!(run.node("enrich").retries, 1);
    assert!(
        matches!(&run.trace.of(1)[1].event, Event::Retried { error } if error.contains("flaky"))
    );
}

#[test]
fn a_flow_stopped_on_an_element_names_its_sequence_and_input_line() {
    let dir = scratch("pipeline");
    let input = dir.join("in.jsonl");
    // Element #1 (an array, which the enricher rejects) is on line 3.
    std::fs::write(&input, "{\"n\": 0}\n\n[1]\n{\"n\": 2}\n").unwrap();
    let enricher = example("json-enricher");
    let build = |policy: ErrorPolicy| {
        Pipeline::new("lines")
            .node("input", NodeSpec::source_jsonl(&input).unwrap())
            // A pass-through before the enricher: the line travels with the element.
            .node("pass", NodeSpec::scripted(Scripted::processor(1)))
            .node("enrich", NodeSpec::component(&enricher, "").policy(policy))
            .collector("out")
            .edge("input", "pass")
            .edge("pass", "enrich")
            .edge("enrich", "out")
    };
    let err = build(ErrorPolicy::FailFlow).run().unwrap_err();
    assert_eq!(err.error.sequence(), Some(1));
    assert_eq!(err.error.input_line(), Some((input.as_path(), 3)));
    let message = err.to_string();
    assert!(
        message
            .starts_with("flow `lines` failed: node `enrich` (processor) returned invalid-input"),
        "{message}"
    );
    assert!(
        message.ends_with(&format!(
            "\n  at element #1 (line 3 of {})",
            input.display()
        )),
        "{message}"
    );
    assert_eq!(err.report.node("enrich").failed, 1);

    // Retries that run out name the element too.
    let err = build(ErrorPolicy::Retry(2)).run().unwrap_err();
    assert_eq!(err.error.sequence(), Some(1));
    assert_eq!(err.error.input_line(), Some((input.as_path(), 3)));

    // Skip goes on; the failure is in the trace, not an error.
    let run = build(ErrorPolicy::Skip).run().unwrap();
    assert_eq!(run.received("out").len(), 2);
    assert_eq!(run.node("enrich").failed, 1);

    // An element from a list (no file) names only its sequence number.
    let err = Pipeline::new("list")
        .source("input", [TestElement::json(json!([0]))])
        .component("enrich", &enricher, "")
        .collector("out")
        .edge("input", "enrich")
        .edge("enrich", "out")
        .run()
        .unwrap_err();
    assert_eq!(err.error.sequence(), Some(0));
    assert_eq!(err.error.input_line(), None);
    assert!(err.to_string().ends_with("\n  at element #0"), "{err}");
}

#[test]
fn bad_graphs_are_rejected_with_names() {
    let filter = example("rate-limiter");
    let err = Pipeline::new("bad")
        .source("input", vec![TestElement::text("x")])
        .component("limit", &filter, "")
        .edge("input", "limt")
        .run()
        .unwrap_err();
    assert_eq!(
        err.error.to_string(),
        "edge `input` -> `limt`: there is no node `limt` (nodes: input, limit)"
    );
    let err = Pipeline::new("bad")
        .source("input", vec![TestElement::text("x")])
        .component("limit", &filter, "")
        .edge("input", "limit")
        .run()
        .unwrap_err();
    assert!(
        err.error
            .to_string()
            .contains("node `limit` (filter) has no outgoing edge"),
        "{err}"
    );
    assert_eq!(filter.role(), Role::Filter);
}

#[test]
fn a_failed_init_stops_the_flow_before_any_element() {
    let err = Pipeline::new("init")
        .source("input", vec![TestElement::text("x")])
        .component(
            "limit",
            &example("rate-limiter"),
            r#"{"max_per_second": 0}"#,
        )
        .collector("out")
        .edge("input", "limit")
        .edge("limit", "out")
        .run()
        .unwrap_err();
    assert_eq!(err.error.call(), Some("init"));
    assert!(
        err.to_string()
            .contains("`max_per_second` must be greater than 0"),
        "{err}"
    );
    assert_eq!(err.report.elements, 0, "no element moved");
}

#[test]
fn a_flow_from_torvyn_toml_runs_with_the_manifest_settings() {
    let manifest = fixture_dir("flow-project/Torvyn.toml");
    let run = Pipeline::from_manifest(&manifest, Some("main"))
        .unwrap_or_else(|err| panic!("{err}"))
        .run()
        .unwrap_or_else(|err| panic!("{err}"));
    let received: Vec<serde_json::Value> = run
        .received("count")
        .iter()
        .map(|o| o.json().unwrap())
        .collect();
    assert_eq!(
        received,
        [
            json!({"n": 0, "stage": "enriched", "sequence": 0}),
            json!({"n": 1, "stage": "enriched", "sequence": 1}),
            json!({"n": 4, "stage": "enriched", "sequence": 4}),
            json!({"n": 5, "stage": "enriched", "sequence": 5}),
        ]
    );
    let names: Vec<&str> = run.nodes.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        ["source", "limit", "enrich", "count"],
        "in flow order"
    );
    assert_eq!(
        run.node("limit").dropped,
        2,
        "the [[component]] config reached the limiter"
    );
    assert_eq!(run.node("count").pauses, 2, "pause_every = 2");
    assert_eq!(
        run.node("count").logs[0].message,
        "counting sink: 4 elements, 156 bytes"
    );
    assert!(run.unaccounted().is_empty());

    // The manifest's interface must match the component's role.
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        "interface = \"torvyn:filtering/filter\"",
        "interface = \"torvyn:streaming/processor\"",
    );
    let dir = scratch("pipeline-flow");
    let wrong = dir.join("Torvyn.toml");
    std::fs::write(
        &wrong,
        text.replace(
            "../../../../../examples",
            &format!("{}/../../examples", env!("CARGO_MANIFEST_DIR")),
        ),
    )
    .unwrap();
    let err = Pipeline::from_manifest(&wrong, None).unwrap_err();
    assert!(
        err.to_string().contains("flow.main.nodes.limit.interface: `torvyn:streaming/processor`, but the component `rate-limiter` is a filter"),
        "{err}"
    );
    // A manifest error, with the key and its place in the file.
    let ErrorKind::Manifest(manifest) = err.kind() else {
        panic!("not a manifest error: {err:?}");
    };
    assert_eq!(manifest.kind(), ManifestErrorKind::Invalid);
    assert_eq!(manifest.key(), Some("flow.main.nodes.limit.interface"));
    assert!(manifest.problems()[0].line().is_some(), "{manifest}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The events of a run's trace, as `(sequence, node, event)`.
fn events(run: &torvyn_testkit::RunResult) -> Vec<(u64, &str, &Event)> {
    run.trace
        .0
        .iter()
        .map(|entry| (entry.sequence, entry.node.as_str(), &entry.event))
        .collect()
}

#[test]
fn without_backpressure_each_element_reaches_the_sink_before_the_next_pull() {
    // Demand-driven, consumers first (Torvyn's `DemandDrivenPolicy`): the
    // deepest node that can move runs, so no queue holds more than one element.
    let run = Pipeline::new("depth-first")
        .source("input", (0..50).map(|n| TestElement::text(n.to_string())))
        .node("pass", NodeSpec::scripted(Scripted::processor(3)))
        .collector("out")
        .edge("input", "pass")
        .edge("pass", "out")
        .run()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(run.node("out").delivered, 50);
    assert_eq!(run.edges.len(), 2);
    for edge in &run.edges {
        assert_eq!(
            (edge.depth, edge.peak),
            (64, 1),
            "{} -> {}: one element at a time",
            edge.from,
            edge.to
        );
    }
    assert_eq!(run.peak_queue_depth(), 1);
    assert_eq!(run.summary_json()["peak_queue_depth"], 1);
    let emitted = Event::Emitted { ports: Vec::new() };
    let expected: Vec<(u64, &str, &Event)> = (0..50)
        .flat_map(|seq| {
            [
                (seq, "input", &Event::Pulled),
                (seq, "pass", &emitted),
                (seq, "out", &Event::Delivered),
            ]
        })
        .collect();
    assert_eq!(
        events(&run),
        expected,
        "pulled, emitted, delivered, in turn"
    );
    run.check_accounting().unwrap();
}

#[test]
fn a_held_back_consumer_fills_its_queue_to_the_depth_and_no_further() {
    // The sink answers `pause` to every element: while it is paused its
    // queue fills up to the depth, then the processor's, and then the source
    // is held back.
    let run = Pipeline::new("held")
        .source("input", (0..20).map(|n| TestElement::text(n.to_string())))
        .node("pass", NodeSpec::scripted(Scripted::processor(3)))
        .node("out", NodeSpec::scripted(Scripted::sink(5).pauses(1.0)))
        .edge("input", "pass")
        .edge("pass", "out")
        .queue_depth(4)
        .run()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(run.node("out").received, 20);
    assert_eq!(run.node("out").pauses, 20);
    let peaks: Vec<(usize, usize)> = run.edges.iter().map(|e| (e.depth, e.peak)).collect();
    assert_eq!(
        peaks,
        [(4, 4), (4, 4)],
        "the held-back queues fill, no further"
    );
    assert_eq!(run.peak_queue_depth(), 4);
    assert!(run.node("input").pauses >= 1, "the source was held back");
    run.check_accounting().unwrap();
}
