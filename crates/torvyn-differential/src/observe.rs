//! What a run shows, in terms both runners define, and the comparison.

use std::collections::BTreeMap;
use std::fmt;

use crate::flow::Flow;

/// How a flow ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Every element was handled and every node finished.
    Completed,
    /// The flow stopped on a failed call of this node (or of no node: a
    /// timeout or a testkit-side error).
    Failed(Option<usize>),
    /// Cancelled from outside (upstream only; the flows here never are).
    Cancelled,
}

/// One stage execution: a call on one element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stage {
    /// The node called.
    pub node: usize,
    /// The element's flow sequence number (its pull order).
    pub sequence: u64,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}#{}", self.node, self.sequence)
    }
}

/// One node's counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Element calls: pulls that gave an element, processes, pushes
    /// (upstream: `ComponentMetrics::invocations` without a source's
    /// end-of-stream pull).
    pub calls: u64,
    /// Calls that failed (upstream: `ComponentMetrics::errors`).
    pub errors: u64,
    /// Elements a filter passed or a processor emitted.
    pub passed: u64,
    /// Elements a filter or processor dropped.
    pub dropped: u64,
}

/// What one run of a flow showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    /// How the flow ended.
    pub ending: Ending,
    /// Per sink: the sequence numbers it accepted (pushes that did not
    /// fail), in order.
    pub delivered: BTreeMap<usize, Vec<u64>>,
    /// Per node, its counts.
    pub counts: Vec<Counts>,
    /// The stage executions, in order.
    pub order: Vec<Stage>,
    /// Per edge, the most elements its queue held at once.
    pub peaks: Vec<usize>,
    /// Backpressure pauses: the testkit counts a source held back by a full
    /// queue; upstream counts a stream reaching its capacity, which on a
    /// depth-1 queue is every element (see the guide), so only edges of
    /// depth 2 or more are counted on upstream's side.
    pub pauses: u64,
}

/// A part of an [`Observation`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    /// [`Observation::ending`].
    Ending,
    /// [`Observation::delivered`].
    Delivered,
    /// [`Observation::counts`].
    Counts,
    /// [`Observation::order`].
    Order,
    /// [`Observation::peaks`].
    Peaks,
    /// [`Observation::pauses`].
    Pauses,
}

impl Field {
    /// Every field.
    pub const ALL: [Field; 6] = [
        Field::Ending,
        Field::Delivered,
        Field::Counts,
        Field::Order,
        Field::Peaks,
        Field::Pauses,
    ];

    /// The fields compared for `flow`. Upstream's driver ignores a sink's
    /// `pause` (`execute_push` drops the signal), a documented difference
    /// that changes the order of the calls, the queues' depths and the
    /// pauses on our side. In a chain (one source) under a skipping policy
    /// the ending, the deliveries and the counts must still agree. With
    /// several sources a pause can change which source is pulled next, so
    /// which element gets which sequence number (and script), and under
    /// `FailFlow` it changes what was delivered before the failure (the
    /// elements the held sink had queued are discarded): those flows are
    /// not compared (empty list), and the corpus pins both cases.
    pub fn compared(flow: &Flow) -> Vec<Field> {
        if !flow.has_pause() {
            return Field::ALL.to_vec();
        }
        let sources = flow
            .nodes
            .iter()
            .filter(|node| matches!(node.role, crate::flow::Role::Source { .. }))
            .count();
        if sources == 1 && flow.on_error == crate::flow::OnError::Skip {
            vec![Field::Ending, Field::Delivered, Field::Counts]
        } else {
            Vec::new()
        }
    }
}

/// Where two observations differ, field by field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disagreement {
    /// Each differing field with upstream's and the testkit's value, shown.
    pub fields: Vec<(Field, String, String)>,
}

impl Disagreement {
    /// Whether `field` differs.
    pub fn has(&self, field: Field) -> bool {
        self.fields.iter().any(|(f, ..)| *f == field)
    }
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (field, upstream, ours) in &self.fields {
            writeln!(f, "{field:?}:\n  upstream: {upstream}\n  testkit:  {ours}")?;
        }
        Ok(())
    }
}

fn order_text(order: &[Stage]) -> String {
    let stages: Vec<String> = order.iter().map(Stage::to_string).collect();
    stages.join(" ")
}

/// Compare `fields` of upstream's and the testkit's observations.
pub fn compare(
    upstream: &Observation,
    ours: &Observation,
    fields: &[Field],
) -> Option<Disagreement> {
    let mut differing = Vec::new();
    for &field in fields {
        let (a, b) = match field {
            Field::Ending => (
                format!("{:?}", upstream.ending),
                format!("{:?}", ours.ending),
            ),
            Field::Delivered => (
                format!("{:?}", upstream.delivered),
                format!("{:?}", ours.delivered),
            ),
            Field::Counts => (
                format!("{:?}", upstream.counts),
                format!("{:?}", ours.counts),
            ),
            Field::Order => (order_text(&upstream.order), order_text(&ours.order)),
            Field::Peaks => (format!("{:?}", upstream.peaks), format!("{:?}", ours.peaks)),
            Field::Pauses => (upstream.pauses.to_string(), ours.pauses.to_string()),
        };
        if a != b {
            differing.push((field, a, b));
        }
    }
    (!differing.is_empty()).then_some(Disagreement { fields: differing })
}
