//! `trace --trace-format otlp`: the per-element timeline as OTLP/JSON spans,
//! built from the OpenTelemetry project's own types (`opentelemetry-proto`,
//! serialized with its serde support): one trace per element, one span per
//! stage.

use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, TracesData};
use torvyn_testkit::Event;
use torvyn_testkit::picture::{TimelineClock, TraceView};

fn text(key: &str, value: impl Into<String>) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

fn int(key: &str, value: u64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(
                i64::try_from(value).unwrap_or(i64::MAX),
            )),
        }),
        ..Default::default()
    }
}

/// 32 hex digits as 16 bytes (an all-zero id, which OTLP calls invalid,
/// only for text that is not an id: the view always makes one).
fn trace_id(hex: &str) -> Vec<u8> {
    (0..16)
        .map(|i| {
            hex.get(2 * i..2 * i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .unwrap_or(0)
        })
        .collect()
}

/// The span id of an element's stage `index`: the stage's position plus one.
fn span_id(index: usize) -> Vec<u8> {
    (index as u64 + 1).to_be_bytes().to_vec()
}

/// The view as OTLP `TracesData`: one resource (`service.name` =
/// `torvyn-testkit`, the flow, the clock), one scope, and per element one
/// trace (its W3C trace id) with a span per stage, named `<node> <function>`,
/// child of the stage that sent the element to it. Times are the run's clock
/// in nanoseconds (`torvyn.clock`: `virtual` is the flow's virtual clock,
/// `real` the wall time since the run started), not the Unix epoch.
pub(crate) fn traces(view: &TraceView) -> TracesData {
    let clock = view.clock.map_or("none", TimelineClock::as_str);
    let mut spans = Vec::new();
    for element in &view.elements {
        let trace = trace_id(&element.trace_id);
        let mut last_end = 0;
        for (index, stage) in element.stages.iter().enumerate() {
            // The parent: the latest earlier stage on a node that feeds this one.
            let parent = element.stages[..index]
                .iter()
                .rposition(|earlier| {
                    view.queues
                        .iter()
                        .any(|edge| edge.from == earlier.node && edge.to == stage.node)
                })
                .map(span_id)
                .unwrap_or_default();
            let start = stage.start_ns.unwrap_or(last_end);
            let end = stage.end_ns.unwrap_or(start);
            last_end = end;
            let mut attributes = vec![
                text("torvyn.node", stage.node.clone()),
                text("torvyn.outcome", stage.outcome()),
                int("torvyn.sequence", element.sequence),
            ];
            if let Some(function) = stage.function {
                attributes.push(text("torvyn.function", function));
            }
            if let Some(bytes) = stage.bytes {
                attributes.push(int("torvyn.payload.bytes", bytes));
            }
            if let Some(wait) = stage.wait_ns {
                attributes.push(int("torvyn.queue.wait_ns", wait));
            }
            if let Some(queued) = stage.queued {
                attributes.push(int("torvyn.queue.length", queued as u64));
            }
            if let Some(buffers) = &stage.buffers {
                attributes.push(int("torvyn.buffers.allocations", buffers.allocations));
                attributes.push(int("torvyn.buffers.reads", buffers.reads));
                attributes.push(int("torvyn.buffers.clones", buffers.clones));
                attributes.push(int("torvyn.buffers.fan_out_copies", buffers.fan_out_copies));
            }
            let status = match &stage.event {
                Event::Failed { error } | Event::DeadLettered { error } => Some(Status {
                    message: error.clone(),
                    code: StatusCode::Error as i32,
                }),
                _ => None,
            };
            spans.push(Span {
                trace_id: trace.clone(),
                span_id: span_id(index),
                parent_span_id: parent,
                name: match stage.function {
                    Some(function) => format!("{} {function}", stage.node),
                    None => stage.node.clone(),
                },
                kind: SpanKind::Internal as i32,
                start_time_unix_nano: start,
                end_time_unix_nano: end,
                attributes,
                status,
                ..Default::default()
            });
        }
    }
    TracesData {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    text("service.name", "torvyn-testkit"),
                    text("torvyn.flow", view.flow.clone()),
                    text("torvyn.clock", clock),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "torvyn-testkit".into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    ..Default::default()
                }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// [`traces`] as OTLP/JSON text.
pub(crate) fn to_json(view: &TraceView) -> Result<String, String> {
    serde_json::to_string(&traces(view)).map_err(|err| err.to_string())
}
