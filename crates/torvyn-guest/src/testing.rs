//! Fakes for native unit tests: elements, an in-memory allocator, captured logs
//! and capability grants.
//!
//! Handlers are ordinary Rust functions and methods, so a test calls them directly:
//!
//! ```
//! use torvyn_guest::testing::ElementBuilder;
//! use torvyn_guest::{Element, Output, Result};
//!
//! fn shout(element: &Element) -> Result<Output> {
//!     Output::text(element.text()?.to_uppercase())
//! }
//!
//! let element = ElementBuilder::new().text("hi").sequence(7).build();
//! assert_eq!(shout(&element)?.to_text()?, "HI");
//! assert_eq!(element.payload().read_stats().reads, 1);
//! # Ok::<(), torvyn_guest::Error>(())
//! ```
//!
//! The fakes are per thread (cargo runs each test on its own thread), so tests
//! do not see each other's allocations or logs.

use std::marker::PhantomData;
use std::time::Duration;

use serde::Serialize;

use crate::element::{ContextSource, Element, ElementMeta, FlowContext, Payload, PayloadSource};

/// Builds an [`Element`] with an in-memory payload and flow context.
///
/// Defaults: sequence 0, timestamp 0, empty payload, content type empty (set by
/// [`text`](Self::text) and [`json`](Self::json) unless given), no trace ids,
/// no deadline, flow id `"test"`.
///
/// ```
/// use std::time::Duration;
/// use torvyn_guest::testing::ElementBuilder;
/// let element = ElementBuilder::new()
///     .json(&serde_json::json!({"id": 1}))
///     .sequence(9)
///     .timestamp_ns(42)
///     .deadline(Duration::from_secs(1))
///     .flow_id("orders")
///     .build();
/// assert_eq!(element.content_type(), "application/json");
/// assert_eq!((element.sequence(), element.timestamp_ns()), (9, 42));
/// assert_eq!(element.context().flow_id(), "orders");
/// ```
#[derive(Debug, Clone)]
pub struct ElementBuilder {
    meta: ElementMeta,
    content_type_set: bool,
    payload: Vec<u8>,
    trace_id: String,
    span_id: String,
    deadline_ns: u64,
    flow_id: String,
}

impl Default for ElementBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ElementBuilder {
    /// An empty element.
    pub fn new() -> Self {
        Self {
            meta: ElementMeta::default(),
            content_type_set: false,
            payload: Vec::new(),
            trace_id: String::new(),
            span_id: String::new(),
            deadline_ns: 0,
            flow_id: "test".to_string(),
        }
    }

    /// Raw payload bytes.
    #[must_use]
    pub fn bytes(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.payload = bytes.into();
        self
    }

    /// A UTF-8 payload; content type `text/plain; charset=utf-8` unless set.
    #[must_use]
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.payload = text.into().into_bytes();
        self.default_content_type(crate::output::TEXT_PLAIN)
    }

    /// A JSON payload; content type `application/json` unless set.
    ///
    /// # Panics
    /// If `value` cannot be serialized.
    #[must_use]
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        self.payload = serde_json::to_vec(value).expect("test value serializes to JSON");
        self.default_content_type(crate::output::APPLICATION_JSON)
    }

    fn default_content_type(mut self, content_type: &str) -> Self {
        if !self.content_type_set {
            self.meta.content_type = content_type.to_string();
        }
        self
    }

    /// The content type (metadata and buffer).
    #[must_use]
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.meta.content_type = content_type.into();
        self.content_type_set = true;
        self
    }

    /// The sequence number.
    #[must_use]
    pub fn sequence(mut self, sequence: u64) -> Self {
        self.meta.sequence = sequence;
        self
    }

    /// The timestamp in nanoseconds.
    #[must_use]
    pub fn timestamp_ns(mut self, timestamp_ns: u64) -> Self {
        self.meta.timestamp_ns = timestamp_ns;
        self
    }

    /// Trace and span ids.
    #[must_use]
    pub fn trace(mut self, trace_id: impl Into<String>, span_id: impl Into<String>) -> Self {
        self.trace_id = trace_id.into();
        self.span_id = span_id.into();
        self
    }

    /// Time left before the deadline (zero means no deadline).
    #[must_use]
    pub fn deadline(mut self, remaining: Duration) -> Self {
        self.deadline_ns = u64::try_from(remaining.as_nanos()).unwrap_or(u64::MAX);
        self
    }

    /// The flow id.
    #[must_use]
    pub fn flow_id(mut self, flow_id: impl Into<String>) -> Self {
        self.flow_id = flow_id.into();
        self
    }

    /// The element.
    pub fn build(self) -> Element<'static> {
        let payload = Payload::new(PayloadSource::Memory {
            bytes: self.payload,
            content_type: self.meta.content_type.clone(),
            borrow: PhantomData,
        });
        let context = FlowContext::new(ContextSource::Memory {
            trace_id: self.trace_id,
            span_id: self.span_id,
            deadline_ns: self.deadline_ns,
            flow_id: self.flow_id,
            borrow: PhantomData,
        });
        Element::from_parts(self.meta, payload, context)
    }
}

// The doubles' switches, from the native backend (`backend/native.rs`; on
// wasm the same names exist and do nothing).
pub use crate::backend::{
    fail_next_allocation, grant_capability, take_allocations, take_clones, take_logs,
};

/// Alias of [`take_allocations`] that reads like an assertion subject.
///
/// ```
/// use torvyn_guest::{Output, testing};
/// let _out = Output::text("abc")?;
/// assert_eq!(testing::allocations(), [3]);
/// assert!(testing::allocations().is_empty(), "taken by the first call");
/// # Ok::<(), torvyn_guest::Error>(())
/// ```
pub fn allocations() -> Vec<u64> {
    take_allocations()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_read_lazily_and_once() {
        let element = ElementBuilder::new()
            .json(&serde_json::json!({"a": 1}))
            .sequence(2)
            .timestamp_ns(9)
            .build();
        assert_eq!(element.content_type(), "application/json");
        assert_eq!(element.payload().size(), 7);
        assert_eq!(element.payload().read_stats().reads, 0);
        assert_eq!(element.payload().read(1, 3), b"\"a\"");
        assert_eq!(element.payload().read(2, 1), b"a", "served from the range");
        assert_eq!(element.payload().read_stats().reads, 1);
        let value: serde_json::Value = element.json().unwrap();
        assert_eq!(value["a"], 1);
        assert_eq!(element.text().unwrap(), r#"{"a":1}"#);
        assert_eq!(element.payload().read(5, 100), b"1}");
        let stats = element.payload().read_stats();
        assert_eq!((stats.reads, stats.bytes), (2, 10));
        assert_eq!((element.sequence(), element.timestamp_ns()), (2, 9));
    }

    #[test]
    fn to_vec_is_one_copy_and_reuses_the_cache() {
        let element = ElementBuilder::new().text("abc").build();
        let mut owned = element.payload().to_vec();
        owned.make_ascii_uppercase();
        assert_eq!(owned, b"ABC");
        assert_eq!(element.payload().to_vec(), b"abc", "not cached: read again");
        assert_eq!(element.payload().read_stats().reads, 2);
        assert_eq!(element.bytes(), b"abc");
        assert_eq!(element.payload().to_vec(), b"abc");
        let stats = element.payload().read_stats();
        assert_eq!(
            (stats.reads, stats.bytes),
            (3, 9),
            "after bytes(), from the cache"
        );
    }

    #[test]
    fn context_fields_and_deadline() {
        let element = ElementBuilder::new()
            .trace("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
            .flow_id("orders")
            .build();
        let cx = element.context();
        assert_eq!(cx.trace_id().len(), 32);
        assert_eq!(cx.span_id(), "b7ad6b7169203331");
        assert_eq!(cx.flow_id(), "orders");
        assert_eq!(cx.remaining(), None);
        assert!(cx.ensure_remaining(Duration::from_secs(1)).is_ok());
        let late = ElementBuilder::new()
            .deadline(Duration::from_nanos(10))
            .build();
        let err = late.context().ensure_remaining(Duration::from_micros(1));
        assert_eq!(err.unwrap_err().kind(), crate::ErrorKind::DeadlineExceeded);
    }

    #[test]
    fn text_errors_are_invalid_input() {
        let element = ElementBuilder::new().bytes(vec![0xff, 0xfe]).build();
        assert_eq!(
            element.text().unwrap_err().kind(),
            crate::ErrorKind::InvalidInput
        );
    }
}
