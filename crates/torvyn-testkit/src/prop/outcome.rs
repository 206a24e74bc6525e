//! What a component answered for one element.

use crate::element::{Output, ProcessError, Processed, Signal};

/// What a component answered for one element.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// A filter's `evaluate`: pass (`true`) or drop.
    Evaluated(bool),
    /// A processor's `process`.
    Processed(Processed),
    /// A router's `route`: the ports.
    Routed(Vec<String>),
    /// An aggregator's `ingest`.
    Ingested(Option<Output>),
    /// A sink's `push`.
    Pushed(Signal),
    /// A `process-error` (not `fatal`, unless allowed).
    Failed(ProcessError),
}

impl Outcome {
    /// A filter's answer, `None` for other roles and errors.
    pub fn passed(&self) -> Option<bool> {
        match self {
            Outcome::Evaluated(pass) => Some(*pass),
            _ => None,
        }
    }

    /// The element the component emitted (processor `emit`, aggregator output).
    pub fn output(&self) -> Option<&Output> {
        match self {
            Outcome::Processed(Processed::Emit(output)) => Some(output),
            Outcome::Ingested(Some(output)) => Some(output),
            _ => None,
        }
    }

    /// The `process-error` the component returned, if it did.
    pub fn error(&self) -> Option<&ProcessError> {
        match self {
            Outcome::Failed(error) => Some(error),
            _ => None,
        }
    }
}
