//! What `trace` and `run` show a person: the flow in one line at the head,
//! the node table in flow order, and `trace`'s per-element timeline in each
//! `--trace-format` (`pretty`/`text`, `json`, `otlp`), with
//! `--show-backpressure`, `--show-buffers`, `--payload` and `--output-trace`.
//! All on the flow-project fixture, on the virtual clock.

use opentelemetry_proto::tonic::trace::v1::TracesData;

use crate::support::{Cli, flow_project, temp, text};

const FLOW_LINE: &str = "flow `main`: source -> limit -> enrich -> count\n";

/// `trace` with `args`: its stdout, after checking it succeeded.
fn trace(args: &[&str]) -> String {
    let out = Cli::new("trace")
        .manifest(flow_project())
        .args(args)
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn trace_pretty_shows_each_elements_stages_with_times_sizes_and_reasons() {
    let stdout = trace(&[]);
    assert!(stdout.starts_with(FLOW_LINE), "{stdout}");
    assert!(
        stdout.contains("times on the virtual clock (each call counts 1.0µs)"),
        "{stdout}"
    );
    // The elements' blocks: upstream's connectors, the call's time, the
    // queue wait, the size, what came of it, the payload's first 32 bytes.
    let lines: Vec<&str> = stdout.lines().collect();
    let at = lines
        .iter()
        .position(|line| line.starts_with("elem-0 "))
        .unwrap();
    assert_eq!(
        lines[at..at + 5],
        [
            r#"elem-0  ┬─ source  pull         1.0µs                     7 B  pulled  "{\"n\":0}""#,
            r#"        ├─ limit   evaluate     1.0µs  wait 0.0µs         7 B  emitted  "{\"n\":0}""#,
            r#"        ├─ enrich  process      1.0µs  wait 0.0µs         7 B  emitted  "{\"n\":0}""#,
            r#"        └─ count   push         1.0µs  wait 0.0µs        39 B  delivered  "{\"n\":0,\"sequence\":0,\"stage\":\"enr"…"#,
            "        total: 4.0µs",
        ],
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"└─ limit   evaluate     1.0µs  wait 0.0µs         7 B  dropped (the filter answered false)  "{\"n\":2}""#),
        "{stdout}"
    );
    assert!(
        stdout.contains("6 elements traced | per element avg "),
        "{stdout}"
    );
    for hidden in ["[queued", "allocated", "backpressure:"] {
        assert!(
            !stdout.contains(hidden),
            "{hidden} without its flag: {stdout}"
        );
    }
}

#[test]
fn trace_text_is_pretty_and_its_flags_add_backpressure_buffers_and_whole_payloads() {
    let path = temp("trace.txt");
    let stdout = trace(&[
        "--trace-format",
        "text",
        "--show-backpressure",
        "--show-buffers",
        "--payload",
        "--output-trace",
        path.to_str().unwrap(),
    ]);
    assert_eq!(stdout, "", "the trace went to the file");
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.starts_with(FLOW_LINE), "{written}");
    // --payload: the whole payload, no ellipsis.
    assert!(
        written.contains(r#"delivered  "{\"n\":0,\"sequence\":0,\"stage\":\"enriched\"}""#),
        "{written}"
    );
    assert!(!written.contains('…'), "{written}");
    // --show-buffers: what each call allocated and copied.
    assert!(
        written.contains(r#"emitted  "{\"n\":0}"  [queued 0]  [1 allocated (39 B), 1 read (7 B)]"#),
        "{written}"
    );
    assert!(written.contains("[no allocations or copies]"), "{written}");
    // --show-backpressure: queue lengths, the sink's pauses, the queues.
    assert!(written.contains("backpressure:\n"), "{written}");
    assert!(
        written
            .lines()
            .any(|line| line.trim_start().starts_with("at ") && line.ends_with("count   pause")),
        "{written}"
    );
    assert!(
        written.contains("enrich -> count                                  4        2"),
        "{written}"
    );
}

#[test]
fn trace_json_and_otlp_carry_the_same_elements_and_stages() {
    // `--format json` is `--trace-format json`, on stdout.
    let json: serde_json::Value = serde_json::from_str(&trace(&["--format", "json"])).unwrap();
    assert_eq!(json["flow_line"], "source -> limit -> enrich -> count");
    assert_eq!(json["clock"], "virtual");
    let elements = json["elements"].as_array().unwrap();
    assert_eq!(elements.len(), 6);
    let stage = &elements[2]["stages"][1];
    assert_eq!(
        (
            &stage["node"],
            &stage["event"],
            &stage["function"],
            &stage["bytes"]
        ),
        (
            &"limit".into(),
            &"dropped".into(),
            &"evaluate".into(),
            &7.into()
        ),
        "{stage}"
    );
    assert_eq!(elements[0]["stages"][3]["wait_ns"], 0);
    let stages: usize = elements
        .iter()
        .map(|e| e["stages"].as_array().unwrap().len())
        .sum();

    let path = temp("trace.otlp.json");
    let stdout = trace(&[
        "--trace-format",
        "otlp",
        "--output-trace",
        path.to_str().unwrap(),
    ]);
    assert_eq!(stdout, "");
    let otlp: TracesData = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .expect("OTLP/JSON that the OpenTelemetry types read back");
    let resource = &otlp.resource_spans[0];
    let clock = resource
        .resource
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .find(|kv| kv.key == "torvyn.clock");
    assert!(format!("{clock:?}").contains("virtual"), "{clock:?}");
    let spans = &resource.scope_spans[0].spans;
    assert_eq!(spans.len(), stages, "one span per stage");
    let mut traces: Vec<&Vec<u8>> = spans.iter().map(|span| &span.trace_id).collect();
    traces.dedup();
    assert_eq!(traces.len(), 6, "one trace per element");
    // Each element's first span is its root; the next is its child.
    assert!(spans[0].parent_span_id.is_empty());
    assert_eq!(spans[0].name, "source pull");
    assert_eq!(spans[1].parent_span_id, spans[0].span_id);
    assert_eq!(spans[1].name, "limit evaluate");
    assert_eq!(
        (spans[1].start_time_unix_nano, spans[1].end_time_unix_nano),
        (
            elements[0]["stages"][1]["start_ns"].as_u64().unwrap(),
            elements[0]["stages"][1]["end_ns"].as_u64().unwrap()
        )
    );
}

#[test]
fn run_heads_its_report_with_the_flow_line_and_lists_nodes_in_flow_order() {
    let out = Cli::new("run").manifest(flow_project()).arg("-q").output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with(FLOW_LINE), "{stdout}");
    let nodes: Vec<&str> = stdout
        .lines()
        .skip_while(|line| !line.starts_with("node "))
        .skip(1)
        .take(4)
        .map(|line| line.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(nodes, ["source", "limit", "enrich", "count"], "{stdout}");
    // With `--output -` the line goes with the report, on stderr.
    let out = Cli::new("run")
        .manifest(flow_project())
        .args(["--output", "-"])
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(FLOW_LINE),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stdout).contains("flow `main`"));
}
