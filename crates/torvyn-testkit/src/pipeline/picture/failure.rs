//! The failure that stopped a flow, as the report shows it.

use crate::error::Error;
use crate::pipeline::FlowError;

/// What stopped a flow, for the HTML report (`html_report`, `report` feature): the
/// message, the node, the element and the author's source line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Failure {
    /// The whole message (with the symbolised backtrace, when the call trapped).
    pub message: String,
    /// The node it happened in (empty for a flow-level error).
    pub node: String,
    /// The element's sequence number, when a call on an element failed.
    pub sequence: Option<u64>,
    /// The author's source line of a trap: the innermost frame outside the
    /// standard library, the SDK and generated glue, as `file:line:column`.
    pub source_line: Option<String>,
    /// The function of that frame.
    pub function: Option<String>,
}

impl Failure {
    /// The failure of `error`, with `message` as its text (say, the error
    /// and its causes).
    pub fn of(error: &Error, message: impl Into<String>) -> Failure {
        let frame = error.backtrace().and_then(|frames| {
            frames
                .iter()
                .find(|frame| !frame.internal && frame.file.is_some())
        });
        Failure {
            message: message.into(),
            node: error.node().to_string(),
            sequence: error.sequence(),
            source_line: frame.and_then(|frame| frame.location()),
            function: frame.and_then(|frame| frame.function.clone()),
        }
    }
}

impl From<&FlowError> for Failure {
    fn from(error: &FlowError) -> Failure {
        Failure::of(&error.error, error.to_string())
    }
}
