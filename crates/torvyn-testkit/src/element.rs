//! Plain Rust values that go into and come out of components: test elements,
//! outputs, process errors and backpressure signals.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The largest buffer the contract allows: 16 MiB.
pub const MAX_BUFFER_BYTES: u64 = 16 * 1024 * 1024;

/// Shared, immutable payload bytes (a host `buffer`'s contents). Cloning is cheap,
/// so a router's fan-out hands the same bytes to several nodes without copying.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Payload(Arc<Vec<u8>>);

impl Payload {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the payload has no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<u8>> for Payload {
    fn from(bytes: Vec<u8>) -> Self {
        Payload(Arc::new(bytes))
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match std::str::from_utf8(&self.0) {
            Ok(text) if text.len() <= 256 => write!(f, "{text:?}"),
            _ => write!(f, "<{} bytes>", self.0.len()),
        }
    }
}

/// An element to hand to a component: payload, metadata and flow context.
///
/// Built in tests from bytes, text or JSON, then refined with the builder methods:
///
/// ```
/// use std::time::Duration;
/// use torvyn_testkit::TestElement;
///
/// let element = TestElement::text("hello")
///     .sequence(7)
///     .timestamp(Duration::from_millis(1500))
///     .trace_id("0af7651916cd43dd8448eb211c80319c")
///     .deadline(Duration::from_millis(20));
/// assert_eq!(element.content_type_str(), "text/plain; charset=utf-8");
/// assert_eq!(element.sequence_number(), 7);
/// assert_eq!(element.timestamp_ns_value(), 1_500_000_000);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestElement {
    pub(crate) payload: Payload,
    pub(crate) content_type: String,
    pub(crate) sequence: u64,
    pub(crate) timestamp_ns: u64,
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: String,
    pub(crate) deadline_ns: u64,
}

/// A flow context's trace id: the one a test set, or the pipeline runner's
/// for a flow element, which is kept as numbers and written out (32 hex
/// characters) only when something reads it: most elements' ids never are.
#[derive(Clone)]
pub(crate) enum TraceId {
    /// An id as given (empty: none).
    Given(String),
    /// The runner's id: the flow's fingerprint, then the element's number.
    Flow {
        /// [`fingerprint`](crate::host::guest_clock::fingerprint) of the flow's name.
        flow: u64,
        /// The element's sequence number plus one.
        number: u64,
    },
}

impl TraceId {
    /// Whether there is no id.
    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, TraceId::Given(id) if id.is_empty())
    }

    /// The id as text.
    pub(crate) fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            TraceId::Given(id) => std::borrow::Cow::Borrowed(id),
            TraceId::Flow { flow, number } => {
                std::borrow::Cow::Owned(format!("{flow:016x}{number:016x}"))
            }
        }
    }
}

impl Default for TraceId {
    fn default() -> Self {
        TraceId::Given(String::new())
    }
}

impl PartialEq for TraceId {
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text()
    }
}

impl Eq for TraceId {}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text(), f)
    }
}

impl TestElement {
    /// An element carrying `bytes`, with content type `application/octet-stream`.
    pub fn bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self::with_payload(
            Payload::from(bytes.into()),
            "application/octet-stream".into(),
        )
    }

    /// An element carrying UTF-8 `text`, with content type `text/plain; charset=utf-8`.
    pub fn text(text: impl Into<String>) -> Self {
        Self::with_payload(
            Payload::from(text.into().into_bytes()),
            "text/plain; charset=utf-8".into(),
        )
    }

    /// An element carrying `value` as JSON, with content type `application/json`.
    ///
    /// ```
    /// use torvyn_testkit::TestElement;
    ///
    /// let element = TestElement::json(serde_json::json!({"user": "ada"}));
    /// assert_eq!(element.payload().as_bytes(), br#"{"user":"ada"}"#);
    /// ```
    pub fn json(value: serde_json::Value) -> Self {
        Self::with_payload(
            Payload::from(value.to_string().into_bytes()),
            "application/json".into(),
        )
    }

    /// An element carrying any serializable `value` as JSON (`application/json`).
    ///
    /// Fails only when serde_json cannot serialize the value (for example a map
    /// with non-string keys).
    pub fn try_json<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        Ok(Self::with_payload(
            Payload::from(serde_json::to_vec(value)?),
            "application/json".into(),
        ))
    }

    pub(crate) fn with_payload(payload: Payload, content_type: String) -> Self {
        TestElement {
            payload,
            content_type,
            sequence: 0,
            timestamp_ns: 0,
            trace_id: TraceId::default(),
            span_id: String::new(),
            deadline_ns: 0,
        }
    }

    /// Set the content type (of both the metadata and the payload buffer).
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = content_type.into();
        self
    }

    /// Set the sequence number (in a pipeline the host assigns it).
    pub fn sequence(mut self, sequence: u64) -> Self {
        self.sequence = sequence;
        self
    }

    /// Set the timestamp, as time since the epoch of the flow's clock.
    pub fn timestamp(mut self, since_epoch: Duration) -> Self {
        self.timestamp_ns = duration_ns(since_epoch);
        self
    }

    /// Set the timestamp in nanoseconds.
    pub fn timestamp_ns(mut self, timestamp_ns: u64) -> Self {
        self.timestamp_ns = timestamp_ns;
        self
    }

    /// Set the flow context's trace id (32 hex characters by convention).
    pub fn trace_id(mut self, trace_id: impl Into<String>) -> Self {
        self.trace_id = TraceId::Given(trace_id.into());
        self
    }

    /// Set the flow context's span id (16 hex characters by convention).
    pub fn span_id(mut self, span_id: impl Into<String>) -> Self {
        self.span_id = span_id.into();
        self
    }

    /// Set the time remaining before the element's deadline (`deadline-ns`).
    /// A zero duration means "no deadline" in the contract, so it is sent as 1 ns.
    pub fn deadline(mut self, remaining: Duration) -> Self {
        self.deadline_ns = duration_ns(remaining).max(1);
        self
    }

    /// The payload.
    pub fn payload(&self) -> &Payload {
        &self.payload
    }

    /// The content type.
    pub fn content_type_str(&self) -> &str {
        &self.content_type
    }

    /// The sequence number.
    pub fn sequence_number(&self) -> u64 {
        self.sequence
    }

    /// The timestamp in nanoseconds.
    pub fn timestamp_ns_value(&self) -> u64 {
        self.timestamp_ns
    }
}

impl From<&str> for TestElement {
    fn from(text: &str) -> Self {
        TestElement::text(text)
    }
}

/// An output as the element it becomes downstream: its payload, with the
/// content type [`Output::element_content_type`] gives, and
/// the sequence and timestamp from its metadata (a pipeline replaces those
/// with its own).
impl From<Output> for TestElement {
    fn from(output: Output) -> Self {
        // The content type `element_content_type` names, moved out of the output.
        let content_type = if output.meta.content_type.is_empty() {
            output.content_type
        } else {
            output.meta.content_type
        };
        TestElement::with_payload(output.payload, content_type)
            .sequence(output.meta.sequence)
            .timestamp_ns(output.meta.timestamp_ns)
    }
}

fn duration_ns(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// The metadata of an element (`element-meta`): values a component writes are advisory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Meta {
    /// The sequence number.
    pub sequence: u64,
    /// The timestamp in nanoseconds.
    pub timestamp_ns: u64,
    /// The content type in the metadata.
    pub content_type: String,
}

/// An element a component produced (`output-element`), as plain values.
///
/// ```
/// # use torvyn_testkit::{Output, Meta};
/// # let output = Output::new(br#"{"n":1}"#.to_vec(), "application/json", Meta::default());
/// assert_eq!(output.text(), Some(r#"{"n":1}"#));
/// let value: serde_json::Value = output.json().unwrap();
/// assert_eq!(value["n"], 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// The payload bytes.
    pub payload: Payload,
    /// The content type set on the payload buffer.
    pub content_type: String,
    /// The metadata the component returned.
    pub meta: Meta,
}

impl Output {
    /// An output value (for comparisons in tests).
    pub fn new(bytes: Vec<u8>, content_type: impl Into<String>, meta: Meta) -> Self {
        Output {
            payload: Payload::from(bytes),
            content_type: content_type.into(),
            meta,
        }
    }

    /// The payload bytes.
    pub fn bytes(&self) -> &[u8] {
        self.payload.as_bytes()
    }

    /// The content type of the element this output becomes downstream: the
    /// metadata's, as upstream Torvyn's flow driver passes it on
    /// (`torvyn-reactor` 0.1.1 builds the next element's metadata from the
    /// output's `meta.content-type`); the payload buffer's (set with
    /// `set-content-type`) only when the metadata's is empty.
    ///
    /// ```
    /// # use torvyn_testkit::{Meta, Output};
    /// let meta = Meta { content_type: "application/json".into(), ..Meta::default() };
    /// let output = Output::new(b"{}".to_vec(), "text/plain", meta);
    /// assert_eq!(output.element_content_type(), "application/json");
    /// assert_eq!(Output::new(b"hi".to_vec(), "text/plain", Meta::default()).element_content_type(), "text/plain");
    /// ```
    pub fn element_content_type(&self) -> &str {
        if self.meta.content_type.is_empty() {
            &self.content_type
        } else {
            &self.meta.content_type
        }
    }

    /// The payload as UTF-8 text, or `None` when it is not valid UTF-8.
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(self.payload.as_bytes()).ok()
    }

    /// The payload parsed as JSON into `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(self.payload.as_bytes())
    }
}

/// What a processor did with an element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Processed {
    /// `emit`: the output element.
    Emit(Output),
    /// `drop`: the element was consumed with no output.
    Drop,
}

impl Processed {
    /// The output, if the processor emitted one.
    pub fn output(self) -> Option<Output> {
        match self {
            Processed::Emit(output) => Some(output),
            Processed::Drop => None,
        }
    }
}

/// A `process-error` returned by a component (or injected by a test).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "message", rename_all = "kebab-case")]
pub enum ProcessError {
    /// `invalid-input`: the element is malformed; skip or retry per policy.
    InvalidInput(String),
    /// `unavailable`: a resource the component needs is unavailable.
    Unavailable(String),
    /// `internal`: a bug or unexpected state in the component.
    Internal(String),
    /// `deadline-exceeded`: the element's deadline passed.
    DeadlineExceeded,
    /// `fatal`: the component cannot continue; it gets no more elements.
    Fatal(String),
}

impl ProcessError {
    /// The variant's contract name (`"invalid-input"`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            ProcessError::InvalidInput(_) => "invalid-input",
            ProcessError::Unavailable(_) => "unavailable",
            ProcessError::Internal(_) => "internal",
            ProcessError::DeadlineExceeded => "deadline-exceeded",
            ProcessError::Fatal(_) => "fatal",
        }
    }

    /// The message, empty for `deadline-exceeded`.
    pub fn message(&self) -> &str {
        match self {
            ProcessError::InvalidInput(m)
            | ProcessError::Unavailable(m)
            | ProcessError::Internal(m)
            | ProcessError::Fatal(m) => m,
            ProcessError::DeadlineExceeded => "",
        }
    }

    /// Whether this is `fatal`.
    pub fn is_fatal(&self) -> bool {
        matches!(self, ProcessError::Fatal(_))
    }
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcessError::DeadlineExceeded => f.write_str("deadline-exceeded"),
            other => write!(f, "{}: {}", other.kind(), other.message()),
        }
    }
}

impl std::error::Error for ProcessError {}

/// A `backpressure-signal`: what a sink answers to `push`, and what a source is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Signal {
    /// `ready`: send more.
    Ready,
    /// `pause`: stop sending until further notice.
    Pause,
}

/// What a component answered for one element, whatever its role: what a
/// property of `prop::PropTest` sees, and what the
/// pipeline runner acts on.
///
/// A property gets one per element; `PropTest::run_case` returns them. Owned
/// values: compare them, or read them with the methods.
///
/// ```
/// use torvyn_testkit::{Answer, ProcessError, Processed, Signal};
///
/// let answers = [
///     Answer::Evaluated(true),
///     Answer::Processed(Processed::Drop),
///     Answer::Routed(vec!["audit".into()]),
///     Answer::Pushed(Signal::Pause),
///     Answer::Failed(ProcessError::Unavailable("db down".into())),
/// ];
/// assert_eq!(answers.iter().filter(|a| a.error().is_some()).count(), 1);
/// assert!(matches!(&answers[2], Answer::Routed(ports) if ports == &["audit"]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Answer {
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

impl Answer {
    /// A filter's answer, `None` for other roles and errors.
    ///
    /// ```
    /// use torvyn_testkit::Answer;
    ///
    /// assert_eq!(Answer::Evaluated(false).passed(), Some(false));
    /// assert_eq!(Answer::Routed(vec![]).passed(), None);
    /// ```
    pub fn passed(&self) -> Option<bool> {
        match self {
            Answer::Evaluated(pass) => Some(*pass),
            _ => None,
        }
    }

    /// The element the component emitted (processor `emit`, aggregator output).
    ///
    /// ```
    /// use torvyn_testkit::{Answer, Meta, Output, Processed};
    ///
    /// let emitted = Output::new(b"HI".to_vec(), "text/plain", Meta::default());
    /// let answer = Answer::Processed(Processed::Emit(emitted));
    /// assert_eq!(answer.output().and_then(Output::text), Some("HI"));
    /// assert_eq!(Answer::Processed(Processed::Drop).output(), None);
    /// ```
    pub fn output(&self) -> Option<&Output> {
        match self {
            Answer::Processed(Processed::Emit(output)) => Some(output),
            Answer::Ingested(Some(output)) => Some(output),
            _ => None,
        }
    }

    /// The `process-error` the component returned, if it did: the host's
    /// [`ProcessError`] (not the guest's `torvyn_guest::Error`), borrowed.
    ///
    /// ```
    /// use torvyn_testkit::{Answer, ProcessError};
    ///
    /// let answer = Answer::Failed(ProcessError::InvalidInput("not JSON".into()));
    /// assert_eq!(answer.error(), Some(&ProcessError::InvalidInput("not JSON".into())));
    /// assert_eq!(answer.error().map(ProcessError::message), Some("not JSON"));
    /// assert_eq!(Answer::Evaluated(true).error(), None);
    /// ```
    pub fn error(&self) -> Option<&ProcessError> {
        match self {
            Answer::Failed(error) => Some(error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runner_trace_id_reads_as_32_hex_characters_and_equals_its_text() {
        let id = TraceId::Flow {
            flow: 0x0123_4567_89ab_cdef,
            number: 5,
        };
        assert_eq!(id.text(), "0123456789abcdef0000000000000005");
        assert!(!id.is_empty());
        assert!(TraceId::default().is_empty());
        // Equal to the same id given as text; Debug shows the text.
        assert_eq!(
            id,
            TraceId::Given("0123456789abcdef0000000000000005".into())
        );
        assert_ne!(id, TraceId::Given(String::new()));
        assert_eq!(format!("{id:?}"), r#""0123456789abcdef0000000000000005""#);
    }

    #[test]
    fn an_output_becomes_an_element_with_its_metadatas_content_type() {
        let meta = Meta {
            sequence: 3,
            timestamp_ns: 40,
            content_type: "application/json".into(),
        };
        let element = TestElement::from(Output::new(b"{}".to_vec(), "text/plain", meta.clone()));
        assert_eq!(element.content_type_str(), "application/json");
        assert_eq!(
            (element.sequence_number(), element.timestamp_ns_value()),
            (3, 40)
        );
        // Metadata without a content type: the buffer's is the fallback.
        let element = TestElement::from(Output::new(b"hi".to_vec(), "text/plain", Meta::default()));
        assert_eq!(element.content_type_str(), "text/plain");
    }
}
