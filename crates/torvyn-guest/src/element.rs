//! Elements handed to a component: metadata, flow context and a lazy payload.

use std::cell::{Cell, OnceCell, RefCell};
use std::marker::PhantomData;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::{Error, Result};

/// Metadata the runtime attaches to every element (the contract's `element-meta`).
///
/// ```
/// use torvyn_guest::testing::ElementBuilder;
/// let element = ElementBuilder::new().text("hi").sequence(7).timestamp_ns(1_000).build();
/// let meta = element.meta();
/// assert_eq!((meta.sequence, meta.timestamp_ns), (7, 1_000));
/// assert_eq!(meta.content_type, torvyn_guest::TEXT_PLAIN);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ElementMeta {
    /// Position in the flow, from 0, assigned by the runtime.
    pub sequence: u64,
    /// Wall-clock time in nanoseconds, assigned by the runtime.
    pub timestamp_ns: u64,
    /// MIME type of the payload.
    pub content_type: String,
}

/// One element handed to a handler, borrowed for the duration of the call.
///
/// Metadata is always there; the payload is read from the host only when asked
/// ([`Payload`]), and the flow context only when asked ([`FlowContext`]).
/// In native tests, build elements with [`crate::testing::ElementBuilder`].
///
/// ```
/// use torvyn_guest::testing::ElementBuilder;
/// use torvyn_guest::{Element, Result};
///
/// fn describe(element: &Element) -> Result<String> {
///     Ok(format!("#{} {}: {}", element.sequence(), element.content_type(), element.text()?))
/// }
///
/// let element = ElementBuilder::new().text("hello").sequence(2).build();
/// assert_eq!(describe(&element)?, "#2 text/plain; charset=utf-8: hello");
/// assert_eq!(element.payload().read_stats().reads, 1, "one copy, cached");
/// # Ok::<(), torvyn_guest::Error>(())
/// ```
pub struct Element<'a> {
    meta: ElementMeta,
    payload: Payload<'a>,
    context: FlowContext<'a>,
}

impl<'a> Element<'a> {
    pub(crate) fn from_parts(
        meta: ElementMeta,
        payload: Payload<'a>,
        context: FlowContext<'a>,
    ) -> Self {
        Self {
            meta,
            payload,
            context,
        }
    }

    /// All metadata.
    pub fn meta(&self) -> &ElementMeta {
        &self.meta
    }

    /// Position in the flow, from 0.
    pub fn sequence(&self) -> u64 {
        self.meta.sequence
    }

    /// Wall-clock time the runtime assigned, in nanoseconds.
    pub fn timestamp_ns(&self) -> u64 {
        self.meta.timestamp_ns
    }

    /// MIME type from the metadata (no host call).
    pub fn content_type(&self) -> &str {
        &self.meta.content_type
    }

    /// The payload; nothing is copied until a read method is called.
    pub fn payload(&self) -> &Payload<'a> {
        &self.payload
    }

    /// Tracing and deadline information of the flow.
    pub fn context(&self) -> &FlowContext<'a> {
        &self.context
    }

    /// The whole payload (shorthand for `payload().bytes()`).
    pub fn bytes(&self) -> &[u8] {
        self.payload.bytes()
    }

    /// The payload as UTF-8 text (shorthand for `payload().text()`).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) if it is not UTF-8.
    pub fn text(&self) -> Result<&str> {
        self.payload.text()
    }

    /// The payload parsed as JSON (shorthand for `payload().json()`).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) with serde's message.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        self.payload.json()
    }
}

pub(crate) enum PayloadSource<'a> {
    Memory {
        bytes: Vec<u8>,
        content_type: String,
        borrow: PhantomData<&'a ()>,
    },
    /// A host buffer (constructed by the wasm backend only).
    #[allow(dead_code)]
    Host(&'a crate::backend::Buffer),
}

/// Counters of the copies a [`Payload`] made from the host.
///
/// ```
/// use torvyn_guest::ReadStats;
/// use torvyn_guest::testing::ElementBuilder;
/// let element = ElementBuilder::new().text("hello world").build();
/// assert_eq!(element.payload().read(0, 5), b"hello");
/// assert_eq!(element.payload().read_stats(), ReadStats { reads: 1, bytes: 5 });
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Host calls that copied bytes (`read` or `read-all`).
    pub reads: u64,
    /// Bytes copied into the component.
    pub bytes: u64,
}

/// The payload of an [`Element`]: immutable bytes owned by the host.
///
/// Every read copies host memory into the component, so nothing is read until a
/// method asks for it, and what was read is cached: `bytes()` twice is one copy,
/// and a ranged read inside an earlier read is served from that copy.
///
/// ```
/// use torvyn_guest::testing::ElementBuilder;
/// let element = ElementBuilder::new().bytes(b"\x89PNG\r\n\x1a\n....".to_vec()).build();
/// let payload = element.payload();
/// assert_eq!(payload.size(), 12);              // metadata: no copy
/// assert_eq!(payload.read(0, 4), b"\x89PNG");  // copies 4 bytes
/// assert_eq!(payload.read(1, 3), b"PNG");      // inside the first read: cached
/// assert_eq!((payload.read_stats().reads, payload.read_stats().bytes), (1, 4));
/// ```
pub struct Payload<'a> {
    source: PayloadSource<'a>,
    size: Cell<Option<u64>>,
    content_type: OnceCell<String>,
    all: OnceCell<Vec<u8>>,
    ranges: RefCell<Vec<(u64, Vec<u8>)>>,
    stats: Cell<ReadStats>,
    _borrow: PhantomData<&'a ()>,
}

impl<'a> Payload<'a> {
    pub(crate) fn new(source: PayloadSource<'a>) -> Self {
        Self {
            source,
            size: Cell::new(None),
            content_type: OnceCell::new(),
            all: OnceCell::new(),
            ranges: RefCell::new(Vec::new()),
            stats: Cell::new(ReadStats::default()),
            _borrow: PhantomData,
        }
    }

    fn count(&self, bytes: usize) {
        let mut stats = self.stats.get();
        stats.reads += 1;
        stats.bytes += bytes as u64;
        self.stats.set(stats);
    }

    /// Length in bytes (a host call the first time, no copy of the payload).
    pub fn size(&self) -> u64 {
        // A `Cell`, not a `OnceCell`: `get_or_init` has a panicking path
        // (re-entrant init) that links std's panic machinery into components.
        if let Some(size) = self.size.get() {
            return size;
        }
        let size = match &self.source {
            PayloadSource::Memory { bytes, .. } => bytes.len() as u64,
            PayloadSource::Host(buffer) => buffer.size(),
        };
        self.size.set(Some(size));
        size
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.size() == 0
    }

    /// MIME type the buffer carries (may differ from the element's metadata).
    pub fn content_type(&self) -> &str {
        self.content_type.get_or_init(|| match &self.source {
            PayloadSource::Memory { content_type, .. } => content_type.clone(),
            PayloadSource::Host(buffer) => buffer.content_type(),
        })
    }

    /// The whole payload, copied from the host once and cached.
    pub fn bytes(&self) -> &[u8] {
        self.all.get_or_init(|| self.read_all())
    }

    /// The whole payload as an owned `Vec`, to change in place and write to an
    /// output: the host's copy itself, not cached, so one copy in all instead
    /// of `bytes().to_vec()`'s two. After [`Payload::bytes`] it clones the cached
    /// bytes (no host call).
    ///
    /// ```
    /// # let element = torvyn_guest::testing::ElementBuilder::new().text("abc").build();
    /// let mut upper = element.payload().to_vec();
    /// upper.make_ascii_uppercase();
    /// assert_eq!(upper, b"ABC");
    /// assert_eq!(element.payload().read_stats().reads, 1);
    /// ```
    pub fn to_vec(&self) -> Vec<u8> {
        match self.all.get() {
            Some(all) => all.clone(),
            None => self.read_all(),
        }
    }

    /// One counted copy of the whole payload.
    fn read_all(&self) -> Vec<u8> {
        let bytes = match &self.source {
            PayloadSource::Memory { bytes, .. } => bytes.clone(),
            PayloadSource::Host(buffer) => buffer.read_all(),
        };
        self.count(bytes.len());
        bytes
    }

    /// Up to `len` bytes from `offset` (short past the end, like the contract).
    ///
    /// Served without a host copy when the whole payload or an earlier range
    /// covering it was already read.
    pub fn read(&self, offset: u64, len: u64) -> Vec<u8> {
        let slice_of = |start: u64, data: &[u8]| -> Vec<u8> {
            let from = usize::try_from(offset - start)
                .unwrap_or(usize::MAX)
                .min(data.len());
            let to = from.saturating_add(usize::try_from(len).unwrap_or(usize::MAX));
            data[from..to.min(data.len())].to_vec()
        };
        if let Some(all) = self.all.get() {
            return slice_of(0, all);
        }
        let end = offset.saturating_add(len);
        let size = self.size();
        for (start, data) in self.ranges.borrow().iter() {
            let covered_end = start + data.len() as u64;
            if *start <= offset && (covered_end >= end || covered_end >= size) {
                return slice_of(*start, data);
            }
        }
        let data = match &self.source {
            PayloadSource::Memory { bytes, .. } => {
                let from = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len());
                let to = usize::try_from(end).unwrap_or(usize::MAX).min(bytes.len());
                bytes[from..to].to_vec()
            }
            PayloadSource::Host(buffer) => buffer.read(offset, len),
        };
        self.count(data.len());
        self.ranges.borrow_mut().push((offset, data.clone()));
        data
    }

    /// The payload as UTF-8 text (reads it once, no further copy).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) if it is not UTF-8.
    pub fn text(&self) -> Result<&str> {
        Ok(std::str::from_utf8(self.bytes())?)
    }

    /// The payload parsed as JSON into `T` (reads it once).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) with serde's
    /// message (line and column).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(self.bytes()).map_err(Error::from)
    }

    pub(crate) fn source(&self) -> &PayloadSource<'a> {
        &self.source
    }

    /// How many host reads this payload made and how many bytes they copied.
    pub fn read_stats(&self) -> ReadStats {
        self.stats.get()
    }
}

pub(crate) enum ContextSource<'a> {
    Memory {
        trace_id: String,
        span_id: String,
        deadline_ns: u64,
        flow_id: String,
        borrow: PhantomData<&'a ()>,
    },
    /// A host flow context (constructed by the wasm backend only).
    #[allow(dead_code)]
    Host(&'a crate::backend::FlowContext),
}

/// Tracing and deadline information of the flow an element belongs to.
///
/// ```
/// use std::time::Duration;
/// use torvyn_guest::ErrorKind;
/// use torvyn_guest::testing::ElementBuilder;
///
/// let element = ElementBuilder::new()
///     .trace("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
///     .deadline(Duration::from_millis(5))
///     .build();
/// let context = element.context();
/// assert_eq!(context.trace_id(), "0af7651916cd43dd8448eb211c80319c");
/// assert_eq!(context.flow_id(), "test");
/// assert!(context.remaining().is_some());
/// let err = context.ensure_remaining(Duration::from_secs(60)).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::DeadlineExceeded);
/// ```
pub struct FlowContext<'a> {
    source: ContextSource<'a>,
    trace_id: OnceCell<String>,
    span_id: OnceCell<String>,
    flow_id: OnceCell<String>,
    _borrow: PhantomData<&'a ()>,
}

impl<'a> FlowContext<'a> {
    pub(crate) fn new(source: ContextSource<'a>) -> Self {
        Self {
            source,
            trace_id: OnceCell::new(),
            span_id: OnceCell::new(),
            flow_id: OnceCell::new(),
            _borrow: PhantomData,
        }
    }

    /// W3C trace id: 32 hex characters, or empty.
    pub fn trace_id(&self) -> &str {
        self.trace_id.get_or_init(|| match &self.source {
            ContextSource::Memory { trace_id, .. } => trace_id.clone(),
            ContextSource::Host(cx) => cx.trace_id(),
        })
    }

    /// Span id: 16 hex characters, or empty.
    pub fn span_id(&self) -> &str {
        self.span_id.get_or_init(|| match &self.source {
            ContextSource::Memory { span_id, .. } => span_id.clone(),
            ContextSource::Host(cx) => cx.span_id(),
        })
    }

    /// Name of the flow.
    pub fn flow_id(&self) -> &str {
        self.flow_id.get_or_init(|| match &self.source {
            ContextSource::Memory { flow_id, .. } => flow_id.clone(),
            ContextSource::Host(cx) => cx.flow_id(),
        })
    }

    /// Time left before the deadline, asked afresh on each call; `None` when the
    /// flow has no deadline.
    pub fn remaining(&self) -> Option<Duration> {
        let ns = match &self.source {
            ContextSource::Memory { deadline_ns, .. } => *deadline_ns,
            ContextSource::Host(cx) => cx.deadline_ns(),
        };
        (ns != 0).then(|| Duration::from_nanos(ns))
    }

    /// `Err(deadline_exceeded)` when a deadline is set and less than `needed`
    /// is left, so a handler can give up early with `?`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use torvyn_guest::testing::ElementBuilder;
    /// let element = ElementBuilder::new().deadline(Duration::from_millis(2)).build();
    /// assert!(element.context().ensure_remaining(Duration::from_millis(1)).is_ok());
    /// assert!(element.context().ensure_remaining(Duration::from_millis(5)).is_err());
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::DeadlineExceeded`](crate::ErrorKind::DeadlineExceeded).
    pub fn ensure_remaining(&self, needed: Duration) -> Result<()> {
        match self.remaining() {
            Some(left) if left < needed => Err(Error::deadline_exceeded()),
            _ => Ok(()),
        }
    }
}
