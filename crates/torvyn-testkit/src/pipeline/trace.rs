//! The per-element trace of a run: what happened to each element in each
//! node ([`Event`]), in the order it happened ([`Trace`]).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// What happened to an element in a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// A source produced it.
    Pulled,
    /// A filter passed it, a processor emitted it, a router sent it to ports.
    Emitted {
        /// The router ports it went to (empty for other roles, which send on
        /// every outgoing edge).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        ports: Vec<String>,
    },
    /// The node dropped it.
    Dropped,
    /// An aggregator ingested it (its content lives on in the aggregate).
    Absorbed,
    /// A sink received it.
    Delivered,
    /// An aggregator produced it from earlier elements (at `ingest` or `flush`).
    Aggregated,
    /// A call on it failed and was retried.
    Retried {
        /// The error.
        error: String,
    },
    /// It failed.
    Failed {
        /// The error.
        error: String,
    },
    /// It went to the dead-letter list.
    DeadLettered {
        /// The error.
        error: String,
    },
    /// The flow stopped while it was queued for the node: it never reached it.
    Discarded {
        /// Why the flow stopped.
        reason: String,
    },
}

/// One entry of the per-element trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceEntry {
    /// The element's flow sequence number.
    pub sequence: u64,
    /// The node.
    pub node: String,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

/// The per-element trace of a run, in the order things happened.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Trace(pub Vec<TraceEntry>);

impl Trace {
    /// The entries for one sequence number.
    pub fn of(&self, sequence: u64) -> Vec<&TraceEntry> {
        self.0
            .iter()
            .filter(|entry| entry.sequence == sequence)
            .collect()
    }
}

impl fmt::Display for Trace {
    /// One line per sequence number: `#3: numbers pulled -> evens dropped`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut by_sequence: BTreeMap<u64, Vec<&TraceEntry>> = BTreeMap::new();
        for entry in &self.0 {
            by_sequence.entry(entry.sequence).or_default().push(entry);
        }
        for (sequence, entries) in by_sequence {
            write!(f, "#{sequence}:")?;
            for (index, entry) in entries.iter().enumerate() {
                let arrow = if index == 0 { " " } else { " -> " };
                let what = match &entry.event {
                    Event::Pulled => "pulled".to_string(),
                    Event::Emitted { ports } if ports.is_empty() => "emitted".to_string(),
                    Event::Emitted { ports } => format!("routed to {}", ports.join("+")),
                    Event::Dropped => "dropped".to_string(),
                    Event::Absorbed => "absorbed".to_string(),
                    Event::Delivered => "delivered".to_string(),
                    Event::Aggregated => "aggregated".to_string(),
                    Event::Retried { error } => format!("retried ({error})"),
                    Event::Failed { error } => format!("failed ({error})"),
                    Event::DeadLettered { error } => format!("dead-lettered ({error})"),
                    Event::Discarded { reason } => format!("discarded ({reason})"),
                };
                write!(f, "{arrow}{} {what}", entry.node)?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}
