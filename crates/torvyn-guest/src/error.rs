//! The SDK's error type, one constructor per `process-error` variant.

use std::fmt;

/// A `Result` whose error is the SDK's [`Error`].
///
/// ```
/// use torvyn_guest::{Element, Result};
/// use torvyn_guest::testing::ElementBuilder;
///
/// fn amount(element: &Element) -> Result<f64> {
///     let value: serde_json::Value = element.json()?; // a JSON error becomes invalid-input
///     Ok(value["amount"].as_f64().unwrap_or(0.0))
/// }
/// assert_eq!(amount(&ElementBuilder::new().json(&serde_json::json!({"amount": 2.5})).build())?, 2.5);
/// assert!(amount(&ElementBuilder::new().text("{").build()).is_err());
/// # Ok::<(), torvyn_guest::Error>(())
/// ```
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Which `process-error` variant an [`Error`] becomes at the component boundary.
///
/// The runtime applies the node's error policy by kind: `InvalidInput` is skipped
/// or retried, `Unavailable` trips a circuit breaker, `Internal` is retried or
/// skipped, `DeadlineExceeded` is counted as a timeout and `Fatal` tears the
/// component down.
///
/// ```
/// use torvyn_guest::{Error, ErrorKind};
/// let err: Error = std::str::from_utf8(&[0xff]).unwrap_err().into();
/// assert_eq!(err.kind(), ErrorKind::InvalidInput);
/// assert_eq!(Error::fatal("corrupt state").kind(), ErrorKind::Fatal);
/// assert_eq!(Error::deadline_exceeded().kind(), ErrorKind::DeadlineExceeded);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The element (or the configuration) is malformed.
    InvalidInput,
    /// A dependency is unavailable.
    Unavailable,
    /// An unexpected failure.
    Internal,
    /// The element's deadline passed.
    DeadlineExceeded,
    /// The component cannot continue.
    Fatal,
}

/// An error a handler returns; converts into the contract's `process-error`.
///
/// Handlers return [`Result<T>`](crate::Result) and use `?`: `serde_json`
/// errors and UTF-8 errors become [`ErrorKind::InvalidInput`], buffer errors
/// become [`ErrorKind::Internal`] (or [`ErrorKind::Unavailable`] when the host
/// could not provide memory).
///
/// ```
/// use torvyn_guest::{Error, ErrorKind};
/// let err = Error::invalid_input("missing `user` field");
/// assert_eq!(err.kind(), ErrorKind::InvalidInput);
/// assert_eq!(err.to_string(), "invalid input: missing `user` field");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// An error of `kind` with `message` (ignored for [`ErrorKind::DeadlineExceeded`]
    /// at the boundary, which carries no text).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// `process-error::invalid-input`: the element is malformed.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// `process-error::unavailable`: a dependency is unavailable.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }

    /// `process-error::internal`: an unexpected failure.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// `process-error::deadline-exceeded`: the element's deadline passed.
    pub fn deadline_exceeded() -> Self {
        Self::new(ErrorKind::DeadlineExceeded, "deadline exceeded")
    }

    /// `process-error::fatal`: the component cannot continue.
    pub fn fatal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Fatal, message)
    }

    /// The variant this error becomes.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, without the kind prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prefix the message with `context` (`"{context}: {message}"`), keeping the kind.
    #[must_use]
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal error",
            ErrorKind::DeadlineExceeded => return f.write_str("deadline exceeded"),
            ErrorKind::Fatal => "fatal error",
        };
        write!(f, "{kind}: {}", self.message)
    }
}

impl std::error::Error for Error {}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Self::invalid_input(format!("invalid JSON: {err}"))
    }
}

impl From<std::str::Utf8Error> for Error {
    fn from(err: std::str::Utf8Error) -> Self {
        Self::invalid_input(format!("payload is not UTF-8: {err}"))
    }
}

impl From<std::string::FromUtf8Error> for Error {
    fn from(err: std::string::FromUtf8Error) -> Self {
        Self::invalid_input(format!("payload is not UTF-8: {err}"))
    }
}

impl From<std::convert::Infallible> for Error {
    fn from(err: std::convert::Infallible) -> Self {
        match err {}
    }
}

/// A failed buffer operation (the contract's `buffer-error`).
///
/// ```
/// use torvyn_guest::{BufferError, Error, ErrorKind};
/// let full: Error = BufferError::CapacityExceeded.into();
/// assert_eq!(full.kind(), ErrorKind::Internal);
/// let refused: Error = BufferError::AllocationFailed("16 MiB limit".into()).into();
/// assert_eq!(refused.kind(), ErrorKind::Unavailable);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BufferError {
    /// A write would go past the buffer's capacity.
    CapacityExceeded,
    /// An offset lies outside the written range.
    OutOfBounds,
    /// The host could not provide memory.
    AllocationFailed(String),
}

impl fmt::Display for BufferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CapacityExceeded => f.write_str("buffer capacity exceeded"),
            Self::OutOfBounds => f.write_str("buffer offset out of bounds"),
            Self::AllocationFailed(why) => write!(f, "buffer allocation failed: {why}"),
        }
    }
}

impl std::error::Error for BufferError {}

impl From<BufferError> for Error {
    fn from(err: BufferError) -> Self {
        match err {
            BufferError::AllocationFailed(_) => Self::unavailable(err.to_string()),
            _ => Self::internal(err.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_pick_the_right_kind() {
        let json: Error = serde_json::from_str::<u32>("x").unwrap_err().into();
        assert_eq!(json.kind(), ErrorKind::InvalidInput);
        assert!(json.message().contains("line 1 column 1"), "{json}");
        let utf8: Error = String::from_utf8(vec![0xff]).unwrap_err().into();
        assert_eq!(utf8.kind(), ErrorKind::InvalidInput);
        let alloc: Error = BufferError::AllocationFailed("oom".into()).into();
        assert_eq!(alloc.kind(), ErrorKind::Unavailable);
        let cap: Error = BufferError::CapacityExceeded.into();
        assert_eq!(cap.kind(), ErrorKind::Internal);
        assert_eq!(Error::deadline_exceeded().to_string(), "deadline exceeded");
        assert_eq!(
            Error::fatal("gone").context("init").to_string(),
            "fatal error: init: gone"
        );
    }
}
