//! The per-element timeline a person reads (`torvyn-testkit trace`): each
//! element's stages with the time of each node's call, the queue wait, the
//! payload's size and first bytes, and why it stopped where it stopped.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::{CallBuffers, TimelineClock};
use crate::pipeline::{Event, RunResult};

/// One stage of an element's way through the flow: a node's call on it and
/// what came of it (one entry of the run's [`Trace`](crate::Trace), with the
/// timeline's measurements of the call when the run recorded them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stage {
    /// The node (or `from->to` for an element a full queue dropped).
    pub node: String,
    /// What came of it.
    #[serde(flatten)]
    pub event: Event,
    /// The contract function called (`pull`, `evaluate`, `process`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<&'static str>,
    /// When the call started, in nanoseconds on the timeline's clock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_ns: Option<u64>,
    /// When it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_ns: Option<u64>,
    /// How long the element waited in the queue before this call: from the
    /// end of the call that sent it here to the start of this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_ns: Option<u64>,
    /// The payload's size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// The elements still queued for the node when the call started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queued: Option<usize>,
    /// What the call allocated and copied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buffers: Option<CallBuffers>,
    /// The payload's first bytes as text (invalid UTF-8 replaced), as many
    /// as [`Pipeline::timeline_payload_bytes`](crate::Pipeline::timeline_payload_bytes)
    /// kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// Whether `payload` is the whole payload.
    #[serde(skip)]
    pub payload_complete: bool,
}

impl Stage {
    /// The call's duration in nanoseconds, if it was timed.
    pub fn took_ns(&self) -> Option<u64> {
        Some(self.end_ns?.saturating_sub(self.start_ns?))
    }

    /// What came of the stage, in words: `pulled`, `routed to even`,
    /// `dropped (the filter answered false)`, `failed: <error>`.
    pub fn outcome(&self) -> String {
        let one_line = |text: &str| text.lines().collect::<Vec<_>>().join(" | ");
        match &self.event {
            Event::Pulled => "pulled".into(),
            Event::Emitted { ports } if ports.is_empty() => "emitted".into(),
            Event::Emitted { ports } => format!("routed to {}", ports.join("+")),
            Event::Dropped => match self.function {
                Some("evaluate") => "dropped (the filter answered false)".into(),
                Some("process") => "dropped (the processor answered drop)".into(),
                Some("route") => "dropped (the router chose no port)".into(),
                None if self.node.contains("->") => "dropped (the queue was full)".into(),
                _ => "dropped".into(),
            },
            Event::Absorbed => "absorbed".into(),
            Event::Delivered => "delivered".into(),
            Event::Aggregated => "aggregated".into(),
            Event::Retried { error } => format!("retried: {}", one_line(error)),
            Event::Failed { error } => format!("failed: {}", one_line(error)),
            Event::DeadLettered { error } => format!("dead-lettered: {}", one_line(error)),
            Event::Discarded { reason } => format!("discarded: {}", one_line(reason)),
        }
    }
}

/// One element's stages, in the order they happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ElementTrace {
    /// The element's flow sequence number.
    pub sequence: u64,
    /// A W3C trace id for it (32 hex digits): the flow name's fingerprint
    /// and the sequence number plus one, the id the flow gives an element
    /// its source produced (an aggregate carries its inputs' id instead).
    pub trace_id: String,
    /// Its stages.
    pub stages: Vec<Stage>,
    /// From its first timed call's start to its last one's end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_ns: Option<u64>,
}

/// A pause, a hold or a resume ([`TimelineMark`](super::TimelineMark)) by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BackpressureEvent {
    /// When, in nanoseconds on the timeline's clock.
    pub at_ns: u64,
    /// The node.
    pub node: String,
    /// `pause` (a sink's answer), `held` (a source's queue is full),
    /// `resumed` (it may go on).
    pub what: &'static str,
}

/// A run's trace as a per-element timeline ([`RunResult::trace_view`]); its
/// `Display` is `torvyn-testkit trace`'s text, its JSON (serde) is
/// `--trace-format json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceView {
    /// The flow's name.
    pub flow: String,
    /// The flow in one line ([`RunResult::flow_line`]).
    pub flow_line: String,
    /// The clock the times are on; `None` when the run recorded no timeline
    /// (the stages then carry no times).
    pub clock: Option<TimelineClock>,
    /// The elements, by sequence number.
    pub elements: Vec<ElementTrace>,
    /// Every pause, hold and resume, in order.
    pub backpressure: Vec<BackpressureEvent>,
    /// The queues: `(from, port, to)` with their depth and peak.
    pub queues: Vec<crate::EdgeReport>,
    /// Fan-out copies in the whole run.
    pub copies: u64,
    /// Trace entries let go because the trace was full (the oldest).
    pub entries_not_shown: u64,
    /// Show each stage's queue length and the pause events (`Display`).
    #[serde(skip)]
    pub show_backpressure: bool,
    /// Show what each stage allocated and copied (`Display`).
    #[serde(skip)]
    pub show_buffers: bool,
}

/// Nanoseconds as microseconds with one decimal: `12.3µs`.
fn micros(ns: u64) -> String {
    format!("{:.1}µs", ns as f64 / 1e3)
}

impl RunResult {
    /// The run as a per-element timeline: every element's stages (from
    /// [`RunResult::trace`]) with, when the pipeline recorded its timeline
    /// ([`Pipeline::record_timeline`](crate::Pipeline::record_timeline)),
    /// each node call's time, the queue wait before it, the payload's size
    /// and first bytes
    /// ([`Pipeline::timeline_payload_bytes`](crate::Pipeline::timeline_payload_bytes))
    /// and what it allocated and copied.
    ///
    /// ```
    /// use torvyn_testkit::{Pipeline, TestElement};
    ///
    /// let run = Pipeline::new("demo")
    ///     .source("in", [TestElement::text("ab")])
    ///     .collector("out")
    ///     .edge("in", "out")
    ///     .record_timeline(true)
    ///     .timeline_payload_bytes(16)
    ///     .run()?;
    /// let text = run.trace_view().to_string();
    /// assert!(text.starts_with("flow `demo`: in -> out\n"), "{text}");
    /// assert!(text.contains("elem-0  ┬─ in   pull"), "{text}");
    /// assert!(text.contains(r#"delivered  "ab""#), "{text}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn trace_view(&self) -> TraceView {
        let timeline = self.timeline.as_ref();
        let node_index = |name: &str| timeline?.nodes.iter().position(|node| node == name);
        let feeds = |from: &str, to: &str| {
            self.edges
                .iter()
                .any(|edge| edge.from == from && edge.to == to)
        };
        // Each element's calls, in order, to pair with its trace entries.
        let mut calls: BTreeMap<u64, Vec<(usize, bool)>> = BTreeMap::new();
        if let Some(timeline) = timeline {
            for (index, call) in timeline.calls.iter().enumerate() {
                if let Some(sequence) = call.sequence {
                    calls.entry(sequence).or_default().push((index, false));
                }
            }
        }
        let fingerprint = crate::host::guest_clock::fingerprint(&self.flow);
        let mut elements: BTreeMap<u64, ElementTrace> = BTreeMap::new();
        for entry in &self.trace.0 {
            let element = elements
                .entry(entry.sequence)
                .or_insert_with(|| ElementTrace {
                    sequence: entry.sequence,
                    trace_id: format!("{fingerprint:016x}{:016x}", entry.sequence.wrapping_add(1)),
                    stages: Vec::new(),
                    total_ns: None,
                });
            let mut stage = Stage {
                node: entry.node.clone(),
                event: entry.event.clone(),
                function: None,
                start_ns: None,
                end_ns: None,
                wait_ns: None,
                bytes: None,
                queued: None,
                buffers: None,
                payload: None,
                payload_complete: false,
            };
            let timed = !matches!(
                entry.event,
                Event::Retried { .. } | Event::Discarded { .. } | Event::Aggregated
            );
            let call = match (timed, timeline, node_index(&entry.node)) {
                (true, Some(timeline), Some(node)) => calls
                    .get_mut(&entry.sequence)
                    .and_then(|list| {
                        list.iter_mut()
                            .find(|(index, used)| !used && timeline.calls[*index].node == node)
                    })
                    .map(|slot| {
                        slot.1 = true;
                        &timeline.calls[slot.0]
                    }),
                _ => None,
            };
            if let Some(call) = call {
                stage.function = Some(call.function);
                stage.start_ns = Some(call.start_ns);
                stage.end_ns = Some(call.end_ns);
                stage.bytes = Some(call.bytes);
                stage.queued = (call.function != "pull").then_some(call.queued);
                stage.buffers = Some(call.buffers.clone());
                if !call.payload.is_empty() || call.bytes == 0 {
                    stage.payload = Some(String::from_utf8_lossy(&call.payload).into_owned());
                    stage.payload_complete = call.payload.len() as u64 >= call.bytes;
                }
                // The wait: since the call of the node that sent it here.
                stage.wait_ns = element
                    .stages
                    .iter()
                    .rev()
                    .find(|earlier| earlier.end_ns.is_some() && feeds(&earlier.node, &stage.node))
                    .and_then(|earlier| Some(call.start_ns.saturating_sub(earlier.end_ns?)));
            }
            element.stages.push(stage);
        }
        for element in elements.values_mut() {
            let start = element.stages.iter().filter_map(|s| s.start_ns).min();
            let end = element.stages.iter().filter_map(|s| s.end_ns).max();
            element.total_ns = start.zip(end).map(|(start, end)| end.saturating_sub(start));
        }
        let backpressure = timeline
            .map(|timeline| {
                timeline
                    .marks
                    .iter()
                    .map(|mark| BackpressureEvent {
                        at_ns: mark.at_ns,
                        node: timeline.nodes.get(mark.node).cloned().unwrap_or_default(),
                        what: mark.what,
                    })
                    .collect()
            })
            .unwrap_or_default();
        TraceView {
            flow: self.flow.clone(),
            flow_line: self.flow_line(),
            clock: timeline.map(|timeline| timeline.clock),
            elements: elements.into_values().collect(),
            backpressure,
            queues: self.edges.clone(),
            copies: self.copies,
            entries_not_shown: self.trace_dropped,
            show_backpressure: false,
            show_buffers: false,
        }
    }

    /// The flow in one line, sources first: `numbers -> evens -> out`; a
    /// fan-out in braces, `numbers -> router -> {even-sink, odd-sink}`; a
    /// node reached a second time (a fan-in) is named without what follows
    /// it, and each further source starts a part after `; `:
    /// `a -> merge -> out; b -> merge`.
    ///
    /// ```
    /// use torvyn_testkit::{Pipeline, TestElement};
    ///
    /// let run = Pipeline::new("demo")
    ///     .source("in", [TestElement::text("x")])
    ///     .collector("left")
    ///     .collector("right")
    ///     .edge("in", "left")
    ///     .edge("in", "right")
    ///     .run()?;
    /// assert_eq!(run.flow_line(), "in -> {left, right}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flow_line(&self) -> String {
        let names: Vec<&str> = self.nodes.iter().map(|(name, _)| name.as_str()).collect();
        let mut seen = vec![false; names.len()];
        let mut parts = Vec::new();
        let sources: Vec<usize> = (0..names.len())
            .filter(|&n| !self.edges.iter().any(|edge| edge.to == names[n]))
            .collect();
        for n in sources.into_iter().chain(0..names.len()) {
            if !seen[n] {
                parts.push(self.line_from(n, &names, &mut seen));
            }
        }
        parts.join("; ")
    }

    fn line_from(&self, n: usize, names: &[&str], seen: &mut [bool]) -> String {
        if seen[n] {
            return names[n].to_string();
        }
        seen[n] = true;
        let mut next: Vec<usize> = Vec::new();
        for edge in self.edges.iter().filter(|edge| edge.from == names[n]) {
            if let Some(to) = names.iter().position(|name| *name == edge.to)
                && !next.contains(&to)
            {
                next.push(to);
            }
        }
        match next.as_slice() {
            [] => names[n].to_string(),
            [one] => format!("{} -> {}", names[n], self.line_from(*one, names, seen)),
            many => {
                let branches: Vec<String> = many
                    .iter()
                    .map(|&to| self.line_from(to, names, seen))
                    .collect();
                format!("{} -> {{{}}}", names[n], branches.join(", "))
            }
        }
    }
}

impl TraceView {
    /// The same view, its text showing each stage's queue length (the
    /// elements still waiting for the node) and, at the end, every pause,
    /// hold and resume and each queue's depth and peak.
    pub fn with_backpressure(mut self, on: bool) -> Self {
        self.show_backpressure = on;
        self
    }

    /// The same view, its text showing what each stage allocated and copied.
    pub fn with_buffers(mut self, on: bool) -> Self {
        self.show_buffers = on;
        self
    }

    /// The elements' total times, sorted.
    fn totals(&self) -> Vec<u64> {
        let mut totals: Vec<u64> = self.elements.iter().filter_map(|e| e.total_ns).collect();
        totals.sort_unstable();
        totals
    }
}

fn buffers_text(buffers: &CallBuffers) -> String {
    if buffers.is_empty() {
        return "no allocations or copies".into();
    }
    let mut parts = Vec::new();
    if buffers.allocations > 0 {
        parts.push(format!(
            "{} allocated ({} B)",
            buffers.allocations, buffers.bytes_allocated
        ));
    }
    if buffers.reads > 0 {
        parts.push(format!("{} read ({} B)", buffers.reads, buffers.bytes_read));
    }
    if buffers.clones > 0 {
        parts.push(format!(
            "{} cloned ({} B)",
            buffers.clones, buffers.bytes_cloned
        ));
    }
    if buffers.fan_out_copies > 0 {
        let s = if buffers.fan_out_copies == 1 {
            "y"
        } else {
            "ies"
        };
        parts.push(format!("{} fan-out cop{s}", buffers.fan_out_copies));
    }
    parts.join(", ")
}

impl fmt::Display for TraceView {
    /// The flow's line, then per element (upstream Torvyn's layout):
    ///
    /// ```text
    /// elem-0  ┬─ numbers  pull         1.0µs                4 B  pulled  "0001"
    ///         ├─ evens    evaluate     1.0µs  wait 0.0µs    4 B  dropped (the filter answered false)  "0001"
    ///         total: 2.0µs
    /// ```
    ///
    /// and a summary line. Times are `-` without a timeline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "flow `{}`: {}", self.flow, self.flow_line)?;
        match self.clock {
            Some(TimelineClock::Virtual) => writeln!(
                f,
                "times on the virtual clock (each call counts {})",
                micros(super::VIRTUAL_CALL_NS)
            )?,
            Some(TimelineClock::Real) => writeln!(f, "times on the wall clock")?,
            None => writeln!(f, "no timeline recorded: no times")?,
        }
        let width = self
            .elements
            .iter()
            .flat_map(|element| &element.stages)
            .map(|stage| stage.node.chars().count())
            .max()
            .unwrap_or(0);
        let dash = || "-".to_string();
        for element in &self.elements {
            writeln!(f)?;
            let label = format!("elem-{}", element.sequence);
            let indent = " ".repeat(label.chars().count() + 2);
            for (index, stage) in element.stages.iter().enumerate() {
                let connector = match (index, element.stages.len()) {
                    (0, 1) => "──",
                    (0, _) => "┬─",
                    (i, n) if i + 1 == n => "└─",
                    _ => "├─",
                };
                let lead = if index == 0 { &label } else { &indent[2..] };
                let took = stage.took_ns().map_or_else(dash, micros);
                let wait = stage
                    .wait_ns
                    .map_or_else(String::new, |ns| format!("wait {}", micros(ns)));
                let size = stage
                    .bytes
                    .map_or_else(String::new, |bytes| format!("{bytes} B"));
                let mut line = format!(
                    "{lead}  {connector} {:<width$}  {:<8}  {took:>8}  {wait:<13}  {size:>7}  {}",
                    stage.node,
                    stage.function.unwrap_or("-"),
                    stage.outcome()
                );
                if let Some(payload) = &stage.payload {
                    let more = if stage.payload_complete { "" } else { "…" };
                    line.push_str(&format!("  {payload:?}{more}"));
                }
                if self.show_backpressure
                    && let Some(queued) = stage.queued
                {
                    line.push_str(&format!("  [queued {queued}]"));
                }
                if self.show_buffers
                    && let Some(buffers) = &stage.buffers
                {
                    line.push_str(&format!("  [{}]", buffers_text(buffers)));
                }
                writeln!(f, "{}", line.trim_end())?;
            }
            if let Some(total) = element.total_ns {
                writeln!(f, "{indent}total: {}", micros(total))?;
            }
        }
        writeln!(f)?;
        let totals = self.totals();
        let latency = if totals.is_empty() {
            String::new()
        } else {
            let at = |q: f64| totals[((totals.len() - 1) as f64 * q).round() as usize];
            let mean = totals.iter().sum::<u64>() / totals.len() as u64;
            format!(
                " | per element avg {} (p50 {}, p99 {})",
                micros(mean),
                micros(at(0.5)),
                micros(at(0.99))
            )
        };
        let copies: u64 = self
            .elements
            .iter()
            .flat_map(|element| &element.stages)
            .filter_map(|stage| stage.buffers.as_ref())
            .map(|b| b.reads + b.clones)
            .sum();
        writeln!(
            f,
            "{} elements traced{latency} | copies {copies} (+ {} fan-out) | backpressure events {}",
            self.elements.len(),
            self.copies,
            self.backpressure.len()
        )?;
        if self.entries_not_shown > 0 {
            writeln!(
                f,
                "({} older trace entries were let go: the trace was full)",
                self.entries_not_shown
            )?;
        }
        if self.show_backpressure {
            writeln!(f)?;
            if self.backpressure.is_empty() {
                writeln!(f, "backpressure: no pause, hold or resume")?;
            } else {
                writeln!(f, "backpressure:")?;
                for event in &self.backpressure {
                    writeln!(
                        f,
                        "  at {:>10}  {:<width$}  {}",
                        micros(event.at_ns),
                        event.node,
                        event.what
                    )?;
                }
            }
            writeln!(f, "{:<41} {:>8} {:>8}", "queue", "depth", "peak")?;
            for edge in &self.queues {
                let from = if edge.port == "output" {
                    edge.from.clone()
                } else {
                    format!("{}.{}", edge.from, edge.port)
                };
                let queue = format!("{from} -> {}", edge.to);
                writeln!(f, "{queue:<41} {:>8} {:>8}", edge.depth, edge.peak)?;
            }
        }
        Ok(())
    }
}
