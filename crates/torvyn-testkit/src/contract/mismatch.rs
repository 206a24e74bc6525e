//! One way a component differs from the contract: [`Mismatch`], and its
//! [`Direction`].

use std::fmt;

use serde::Serialize;

/// Whether a [`Mismatch`] is about something the component imports or exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Something the component needs from the host.
    Import,
    /// Something the component offers the host.
    Export,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Import => "import",
            Direction::Export => "export",
        })
    }
}

/// One way a component's imports or exports differ from the Torvyn 0.1
/// contract, or an import the host cannot link.
///
/// Its `Display` is [`message`](Self::message), a sentence naming the
/// interface, the function and both signatures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// Import or export.
    pub direction: Direction,
    /// The interface as the component names it (`torvyn:filtering/filter@0.1.0`).
    pub interface: String,
    /// The function, when the mismatch is about one (`evaluate`, `buffer.read`).
    pub function: Option<String>,
    /// The contract's signature, in WIT (`func(element: stream-element) -> result<bool, process-error>`).
    pub expected: Option<String>,
    /// The component's signature, in WIT.
    pub found: Option<String>,
    /// What is wrong and what to do, in one sentence.
    pub message: String,
}

impl Mismatch {
    pub(crate) fn new(
        direction: Direction,
        interface: &str,
        function: Option<String>,
        expected: Option<String>,
        found: Option<String>,
        message: String,
    ) -> Self {
        Mismatch {
            direction,
            interface: interface.to_string(),
            function,
            expected,
            found,
            message,
        }
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
