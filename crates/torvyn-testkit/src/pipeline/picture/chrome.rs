//! The timeline in the Chrome trace event format (the JSON object form),
//! which Perfetto (ui.perfetto.dev) and `chrome://tracing` open.

use serde_json::{Value, json};

use super::Timeline;
use crate::pipeline::RunResult;

/// The process id every event carries: the flow is one process.
const PID: u64 = 1;

/// Nanoseconds as the format's microseconds.
fn micros(ns: u64) -> Value {
    // Exact for every integer below 2^53 ns (104 days), and the same text on
    // every run.
    json!(ns as f64 / 1000.0)
}

impl Timeline {
    /// The timeline in the Chrome trace event format, as a JSON object
    /// `{"traceEvents": [...], "displayTimeUnit": "ns", "otherData": {...}}`:
    ///
    /// - one track (a thread, named by a `thread_name` metadata event) per
    ///   node, in flow order (sources first), in one process named after the
    ///   flow;
    /// - a complete event (`"ph": "X"`) per call, named after the contract
    ///   function (`pull`, `evaluate`, `process`, `route`, `ingest`, `push`,
    ///   `flush`, `complete`), with `args` `{"sequence", "bytes"}`;
    /// - flow events (`"s"`, `"t"`, `"f"`, id = the sequence number) from
    ///   each element's first call to its last, so Perfetto draws an arrow
    ///   following the element from stage to stage;
    /// - a counter (`"ph": "C"`) per edge, `queue <from> -> <to>`, with
    ///   `args` `{"length"}` at every change;
    /// - an instant (`"ph": "i"`, thread scope) per pause: `pause` (a sink
    ///   answered pause), `held` (a source's queue is full), `resumed`.
    ///
    /// Times are microseconds on the timeline's clock; `otherData` names it
    /// (`"clock": "virtual"` or `"real"`), with the flow's name and, on the
    /// virtual clock, the width each call is drawn with (`"call_width_ns"`).
    /// On the virtual clock the text is the same on every run.
    pub fn to_chrome_trace(&self, flow: &str) -> String {
        // Tracks in flow order, sources first; thread 0 holds the counters.
        let mut track = vec![0u64; self.nodes.len()];
        for (position, n) in super::timeline::flow_order(&self.nodes, &self.edges)
            .into_iter()
            .enumerate()
        {
            track[n] = position as u64 + 1;
        }
        let tid = |n: usize| track.get(n).copied().unwrap_or(0);
        let mut events: Vec<Value> = Vec::new();
        events.push(json!({
            "name": "process_name", "ph": "M", "pid": PID, "tid": 0,
            "args": {"name": format!("flow {flow}")},
        }));
        for (n, name) in self.nodes.iter().enumerate() {
            events.push(json!({
                "name": "thread_name", "ph": "M", "pid": PID, "tid": tid(n),
                "args": {"name": name},
            }));
            events.push(json!({
                "name": "thread_sort_index", "ph": "M", "pid": PID, "tid": tid(n),
                "args": {"sort_index": tid(n)},
            }));
        }
        // Each element's calls, to place its flow events.
        let mut last_call: std::collections::HashMap<u64, usize> = Default::default();
        for (index, call) in self.calls.iter().enumerate() {
            if let Some(sequence) = call.sequence {
                last_call.insert(sequence, index);
            }
        }
        let mut started: std::collections::HashSet<u64> = Default::default();
        for (index, call) in self.calls.iter().enumerate() {
            let mut args = serde_json::Map::new();
            if let Some(sequence) = call.sequence {
                args.insert("sequence".into(), sequence.into());
            }
            args.insert("bytes".into(), call.bytes.into());
            events.push(json!({
                "name": call.function, "cat": "call", "ph": "X",
                "ts": micros(call.start_ns),
                "dur": micros(call.end_ns.saturating_sub(call.start_ns)),
                "pid": PID, "tid": tid(call.node), "args": args,
            }));
            let Some(sequence) = call.sequence else {
                continue;
            };
            let last = last_call.get(&sequence) == Some(&index);
            let first = started.insert(sequence);
            let phase = match (first, last) {
                (true, true) => continue,
                (true, false) => "s",
                (false, false) => "t",
                (false, true) => "f",
            };
            let mut flow_event = json!({
                "name": format!("element #{sequence}"), "cat": "call", "ph": phase,
                "id": sequence, "ts": micros(call.start_ns),
                "pid": PID, "tid": tid(call.node),
            });
            if phase == "f" {
                flow_event["bp"] = "e".into();
            }
            events.push(flow_event);
        }
        for sample in &self.queues {
            let Some((from, _, to)) = self.edges.get(sample.edge) else {
                continue;
            };
            events.push(json!({
                "name": format!("queue {from} -> {to}"), "ph": "C",
                "ts": micros(sample.at_ns), "pid": PID, "tid": 0,
                "args": {"length": sample.len},
            }));
        }
        for mark in &self.marks {
            events.push(json!({
                "name": mark.what, "cat": "backpressure", "ph": "i", "s": "t",
                "ts": micros(mark.at_ns), "pid": PID, "tid": tid(mark.node),
            }));
        }
        let mut other = json!({
            "flow": flow,
            "clock": self.clock.as_str(),
            "producer": concat!("torvyn-testkit ", env!("CARGO_PKG_VERSION")),
        });
        if self.clock == super::TimelineClock::Virtual {
            other["call_width_ns"] = super::VIRTUAL_CALL_NS.into();
        }
        if self.dropped > 0 {
            other["entries_not_recorded"] = self.dropped.into();
        }
        let mut out = String::from("{\"traceEvents\":[\n");
        for (index, event) in events.iter().enumerate() {
            if index > 0 {
                out.push_str(",\n");
            }
            out.push_str(&event.to_string());
        }
        out.push_str("\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":");
        out.push_str(&other.to_string());
        out.push_str("}\n");
        out
    }
}

impl RunResult {
    /// The run's timeline in the Chrome trace event format
    /// ([`Timeline::to_chrome_trace`]); `None` unless the pipeline recorded
    /// it ([`Pipeline::record_timeline`](crate::Pipeline::record_timeline)).
    pub fn chrome_trace(&self) -> Option<String> {
        Some(self.timeline.as_ref()?.to_chrome_trace(&self.flow))
    }
}
