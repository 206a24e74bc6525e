//! What a run reports: per node ([`NodeReport`]) and edge ([`EdgeReport`]),
//! dead letters, the whole run ([`RunResult`], [`FlowCounts`]), and a flow
//! stopped by an error ([`FlowError`]). The per-element trace: `trace.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use super::{Event, Trace};
use crate::component::LogLine;
use crate::element::{Output, TestElement};
use crate::error::Error;
use crate::host::Stats;
use crate::role::Role;

/// Counts and captures for one node of a finished (or stopped) run.
///
/// The counts add up, also when the flow stopped
/// ([`RunResult::check_accounting`]):
///
/// | role | invariant |
/// | --- | --- |
/// | filter, processor, router | `in = out + dropped + failed + dead_lettered` |
/// | aggregator | `in = absorbed + failed + dead_lettered` (its `out` are new elements) |
/// | sink | `in = delivered + failed + dead_lettered` |
///
/// `in` counts elements the node was called with; elements still queued for
/// it when the flow stopped never reached it and are counted in `discarded`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NodeReport {
    /// The node's role (host sources are sources, collectors are sinks).
    pub role: Option<Role>,
    /// Elements it was called with (each once, however many retries; 0 for sources).
    #[serde(rename = "in")]
    pub received: u64,
    /// Elements it emitted (each element sent on counts once, however many
    /// edges): a source's pulled elements, an aggregator's aggregates.
    #[serde(rename = "out")]
    pub emitted: u64,
    /// Elements it dropped (filter `false`, processor `drop`, router no port).
    pub dropped: u64,
    /// Elements an aggregator ingested (their content lives on in its aggregates).
    pub absorbed: u64,
    /// Elements a sink received (`push` returned `ready` or `pause`).
    pub delivered: u64,
    /// Elements that failed in it (the call failed under its error policy).
    pub failed: u64,
    /// Elements it sent to the dead-letter list.
    pub dead_lettered: u64,
    /// Elements still queued for it when the flow stopped (never called with them).
    pub discarded: u64,
    /// Calls without an element that failed: a source's `pull`, an
    /// aggregator's `flush`, a sink's `complete` (not in the element counts).
    pub failed_calls: u64,
    /// Retries it made.
    pub retries: u64,
    /// `pause` answers (sinks) or `pause` notifications (sources).
    pub pauses: u64,
    /// What the component did through the host.
    pub stats: Stats,
    /// Its `torvyn_guest::log` lines.
    pub logs: Vec<LogLine>,
    /// Its captured stdout.
    pub stdout: String,
    /// Its captured stderr.
    pub stderr: String,
    /// How its `teardown` failed (a trap, a time limit, a spent instance),
    /// if it did: reported, never dropped.
    pub teardown_error: Option<String>,
}

/// One edge of a finished (or stopped) run: its queue's depth and the most
/// elements it held at once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EdgeReport {
    /// The node it leaves.
    pub from: String,
    /// The port of `from` it leaves by (`output`, or a router's port name).
    pub port: String,
    /// The node it enters.
    pub to: String,
    /// The queue's depth (its capacity).
    pub depth: usize,
    /// The most elements the queue held at once (after a push). Under
    /// `block-producer` it stays within `depth`, except that an
    /// aggregator's `flush` output is queued whole.
    pub peak: usize,
}

/// An element that failed in a node with the dead-letter policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    /// The node.
    pub node: String,
    /// The element's flow sequence number.
    pub sequence: u64,
    /// The element.
    pub element: TestElement,
    /// The error, as text.
    pub error: String,
}

/// The result of a run: per-node reports, what every sink received, dead
/// letters and the per-element trace.
///
/// ```
/// use torvyn_testkit::{Pipeline, TestElement};
///
/// let run = Pipeline::new("demo")
///     .source("in", [TestElement::text("a"), TestElement::json(serde_json::json!(1))])
///     .collector("out")
///     .edge("in", "out")
///     .run()?;
/// assert_eq!(run.received("out").len(), 2);
/// assert_eq!(run.received_text("out"), ["a", "1"]);
/// assert_eq!((run.node("in").emitted, run.node("out").received), (2, 2));
/// assert!(run.dead_letters.is_empty());
/// assert_eq!(run.trace.of(0).last().map(|entry| entry.node.as_str()), Some("out"));
/// assert!(run.unaccounted().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct RunResult {
    /// The flow's name.
    pub flow: String,
    /// Per node, in the order the nodes were added.
    pub nodes: Vec<(String, NodeReport)>,
    /// Per sink (component sinks and collectors), what it received, in order:
    /// the first [`Pipeline::retain`](super::Pipeline::retain) elements (all of them are counted in
    /// [`NodeReport::delivered`]).
    pub sinks: BTreeMap<String, Vec<Output>>,
    /// Elements that failed in dead-letter nodes.
    pub dead_letters: Vec<DeadLetter>,
    /// What happened to each element (the last [`Pipeline::trace_capacity`](super::Pipeline::trace_capacity) entries).
    pub trace: Trace,
    /// Trace entries let go because the trace was full (the oldest first).
    pub trace_dropped: u64,
    /// How many elements entered the flow: those the sources produced.
    pub elements: u64,
    /// How many aggregates the aggregators emitted (new elements made inside
    /// the flow; they take the flow's next sequence numbers too).
    pub aggregated: u64,
    /// Extra copies made by fan-out: an element sent on `k` edges (a router
    /// naming several ports, a node with several outgoing edges) makes `k - 1`.
    pub copies: u64,
    /// Elements a full queue dropped (`drop-oldest` / `drop-newest` policies).
    pub queue_drops: u64,
    /// With [`Pipeline::measure_latency`](super::Pipeline::measure_latency), the wall-clock time from entering
    /// the flow to delivery of delivered elements, in nanoseconds: all of them,
    /// or a uniform sample of [`Pipeline::latency_samples`](super::Pipeline::latency_samples) of them.
    pub latencies_ns: Vec<u64>,
    /// How many latencies were measured (all delivered elements).
    pub latency_count: u64,
    /// With [`Pipeline::measure_node_time`](super::Pipeline::measure_node_time),
    /// each node's wall-clock time over its elements (pulls, element calls
    /// and completion, with the host's queue work around them), in
    /// nanoseconds, by node name; empty otherwise. Instantiation, `init` and
    /// `teardown` are not counted.
    pub node_time_ns: BTreeMap<String, u64>,
    /// The keys of the flow's `Torvyn.toml` accepted but not used by the
    /// reference host ([`Pipeline::accepted_unused_keys`](super::Pipeline::accepted_unused_keys)); in
    /// [`summary_json`](Self::summary_json) as `"accepted_not_used"` when not empty.
    pub accepted_unused_keys: Vec<String>,
    /// Per edge, in the order the edges were added: its depth and peak
    /// queue length ([`EdgeReport::peak`]).
    pub edges: Vec<EdgeReport>,
    /// With [`Pipeline::record_timeline`](super::Pipeline::record_timeline):
    /// every call, queue length and pause of the run, for the pictures of
    /// [`crate::pipeline::picture`].
    pub timeline: Option<crate::pipeline::picture::Timeline>,
}

/// The flow-level counts of a run ([`RunResult::counts`]). They balance:
/// `entered + aggregated + copies = delivered + dropped + absorbed + failed +
/// dead_lettered + discarded + queue_dropped` ([`balanced`](Self::balanced)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FlowCounts {
    /// Elements the sources produced ([`RunResult::elements`]).
    pub entered: u64,
    /// Aggregates the aggregators emitted ([`RunResult::aggregated`]).
    pub aggregated: u64,
    /// Extra copies made by fan-out ([`RunResult::copies`]).
    pub copies: u64,
    /// Received by sinks.
    pub delivered: u64,
    /// Dropped by filters, processors and routers.
    pub dropped: u64,
    /// Ingested by aggregators.
    pub absorbed: u64,
    /// Failed in a node.
    pub failed: u64,
    /// Put on the dead-letter list.
    pub dead_lettered: u64,
    /// Still queued when the flow stopped.
    pub discarded: u64,
    /// Dropped by a full queue ([`RunResult::queue_drops`]).
    pub queue_dropped: u64,
}

impl FlowCounts {
    /// Whether what came in equals where it went.
    pub fn balanced(&self) -> bool {
        self.entered + self.aggregated + self.copies
            == self.delivered
                + self.dropped
                + self.absorbed
                + self.failed
                + self.dead_lettered
                + self.discarded
                + self.queue_dropped
    }
}

impl RunResult {
    /// The report of node `name`. Panics with the node names when there is no
    /// such node, which in a test is the clearest failure.
    pub fn node(&self, name: &str) -> &NodeReport {
        match self.nodes.iter().find(|(node, _)| node == name) {
            Some((_, report)) => report,
            None => panic!(
                "the flow has no node `{name}` (nodes: {})",
                self.nodes
                    .iter()
                    .map(|(node, _)| node.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// What sink `name` received, in order (empty if it received nothing or
    /// is not a sink): the first [`Pipeline::retain`](super::Pipeline::retain) elements, 10 000 by default.
    pub fn received(&self, name: &str) -> &[Output] {
        self.sinks.get(name).map(Vec::as_slice).unwrap_or_default()
    }

    /// The received payloads of sink `name` as text (lossy UTF-8).
    pub fn received_text(&self, name: &str) -> Vec<String> {
        self.received(name)
            .iter()
            .map(|output| String::from_utf8_lossy(output.bytes()).into_owned())
            .collect()
    }

    /// The flow-level counts, summed over the nodes.
    pub fn counts(&self) -> FlowCounts {
        let mut counts = FlowCounts {
            entered: self.elements,
            aggregated: self.aggregated,
            copies: self.copies,
            queue_dropped: self.queue_drops,
            ..FlowCounts::default()
        };
        for (_, node) in &self.nodes {
            counts.delivered += node.delivered;
            counts.dropped += node.dropped;
            counts.absorbed += node.absorbed;
            counts.failed += node.failed;
            counts.dead_lettered += node.dead_lettered;
            counts.discarded += node.discarded;
        }
        counts
    }

    /// Check that every element is accounted for: each node's counts add up
    /// (see [`NodeReport`]) and so do the flow's ([`FlowCounts::balanced`]).
    /// `Err` names the node or the flow whose counts do not, with the counts.
    /// Holds for stopped flows too (`FlowError::report`).
    pub fn check_accounting(&self) -> Result<(), String> {
        for (name, n) in &self.nodes {
            let (lhs, rhs, formula) = match n.role {
                Some(Role::Filter | Role::Processor | Role::Router) => (
                    n.received,
                    n.emitted + n.dropped + n.failed + n.dead_lettered,
                    "in = out + dropped + failed + dead_lettered",
                ),
                Some(Role::Aggregator) => (
                    n.received,
                    n.absorbed + n.failed + n.dead_lettered,
                    "in = absorbed + failed + dead_lettered",
                ),
                Some(Role::Sink) => (
                    n.received,
                    n.delivered + n.failed + n.dead_lettered,
                    "in = delivered + failed + dead_lettered",
                ),
                Some(Role::Source) | None => (
                    n.received + n.failed + n.dead_lettered + n.discarded,
                    0,
                    "a source takes no element: in = failed = dead_lettered = discarded = 0",
                ),
            };
            if lhs != rhs {
                return Err(format!(
                    "node `{name}` does not balance ({formula}): {n:?}",
                    n = (
                        n.received,
                        n.emitted,
                        n.dropped,
                        n.absorbed,
                        n.delivered,
                        n.failed,
                        n.dead_lettered,
                        n.discarded
                    )
                ));
            }
        }
        let counts = self.counts();
        if !counts.balanced() {
            return Err(format!(
                "flow `{}` does not balance (entered + aggregated + copies = delivered + \
                 dropped + absorbed + failed + dead_lettered + discarded + queue_dropped): \
                 {counts:?}",
                self.flow
            ));
        }
        Ok(())
    }

    /// The sequence numbers with no terminal event (delivered, dropped,
    /// absorbed, failed, dead-lettered, discarded) in the trace: always empty
    /// after a run, by construction; tests assert it.
    pub fn unaccounted(&self) -> Vec<u64> {
        let mut terminal = BTreeSet::new();
        let mut seen = BTreeSet::new();
        for entry in &self.trace.0 {
            seen.insert(entry.sequence);
            if matches!(
                entry.event,
                Event::Delivered
                    | Event::Dropped
                    | Event::Absorbed
                    | Event::Failed { .. }
                    | Event::DeadLettered { .. }
                    | Event::Discarded { .. }
            ) {
                terminal.insert(entry.sequence);
            }
        }
        seen.difference(&terminal).copied().collect()
    }

    /// The most elements any edge's queue held at once (0 without edges).
    ///
    /// ```
    /// use torvyn_testkit::{Pipeline, TestElement};
    ///
    /// let run = Pipeline::new("peak")
    ///     .source("in", (0..5).map(|n| TestElement::text(n.to_string())))
    ///     .collector("out")
    ///     .edge("in", "out")
    ///     .edge_depth(3)
    ///     .run()?;
    /// // Each element reaches the sink before the source is pulled again.
    /// assert_eq!((run.edges[0].depth, run.edges[0].peak), (3, 1));
    /// assert_eq!(run.peak_queue_depth(), 1);
    /// assert_eq!(run.summary_json()["edges"][0]["peak"], 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn peak_queue_depth(&self) -> usize {
        self.edges.iter().map(|edge| edge.peak).max().unwrap_or(0)
    }

    /// The nodes whose `teardown` failed, with the error.
    pub fn teardown_errors(&self) -> Vec<(&str, &str)> {
        self.nodes
            .iter()
            .filter_map(|(name, report)| Some((name.as_str(), report.teardown_error.as_deref()?)))
            .collect()
    }

    /// The stable JSON summary the CLI prints with `--format json`:
    /// `{"flow", "elements", "aggregated", "nodes": {name: {"role", "in",
    /// "out", "dropped", "absorbed", "delivered", "failed", "dead_lettered",
    /// "discarded", "failed_calls", "retries", "pauses"}}, "sinks": {name:
    /// delivered}, "dead_letters": count, "counts": {FlowCounts},
    /// "teardown_errors": {name: message}, "edges": [{"from", "port", "to",
    /// "depth", "peak"}], "peak_queue_depth": max peak}` ([`EdgeReport`]), and
    /// `"accepted_not_used": [key]` when the flow's manifest has keys the
    /// reference host does not use.
    pub fn summary_json(&self) -> serde_json::Value {
        let nodes: serde_json::Map<String, serde_json::Value> = self
            .nodes
            .iter()
            .map(|(name, report)| {
                (
                    name.clone(),
                    serde_json::json!({
                        "role": report.role,
                        "in": report.received,
                        "out": report.emitted,
                        "dropped": report.dropped,
                        "absorbed": report.absorbed,
                        "delivered": report.delivered,
                        "failed": report.failed,
                        "dead_lettered": report.dead_lettered,
                        "discarded": report.discarded,
                        "failed_calls": report.failed_calls,
                        "retries": report.retries,
                        "pauses": report.pauses,
                    }),
                )
            })
            .collect();
        let sinks: serde_json::Map<String, serde_json::Value> = self
            .nodes
            .iter()
            .filter(|(_, report)| report.role == Some(Role::Sink))
            .map(|(name, report)| (name.clone(), report.delivered.into()))
            .collect();
        let mut summary = serde_json::json!({
            "flow": self.flow,
            "elements": self.elements,
            "aggregated": self.aggregated,
            "nodes": nodes,
            "sinks": sinks,
            "dead_letters": self.dead_letters.len(),
            "counts": self.counts(),
            "teardown_errors": self.teardown_errors().into_iter().collect::<BTreeMap<_, _>>(),
            "edges": self.edges,
            "peak_queue_depth": self.peak_queue_depth(),
        });
        if !self.accepted_unused_keys.is_empty() {
            summary["accepted_not_used"] = self.accepted_unused_keys.clone().into();
        }
        summary
    }
}

/// A flow that stopped with an error, with the report of what happened before.
#[derive(Debug)]
pub struct FlowError {
    /// The error that stopped the flow.
    pub error: Error,
    /// Everything that happened until then: elements still queued are counted
    /// as `discarded` at the node whose queue held them (and traced as
    /// [`Event::Discarded`]), so the counts add up here too.
    pub report: Box<RunResult>,
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flow `{}` failed: {}", self.report.flow, self.error)
    }
}

impl std::error::Error for FlowError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}
