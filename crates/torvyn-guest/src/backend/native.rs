//! The native backend: test doubles for the host, per thread (cargo runs each
//! test on its own thread, so tests do not see each other's allocations or
//! logs). Same item names as `wasm.rs`; see `backend/mod.rs`.

use std::cell::RefCell;
use std::collections::BTreeSet;

use crate::BufferError;

/// A host buffer. None exists natively: elements built with
/// [`crate::testing::ElementBuilder`] hold their payload in memory.
pub(crate) enum Buffer {}

impl Buffer {
    pub(crate) fn size(&self) -> u64 {
        match *self {}
    }
    pub(crate) fn content_type(&self) -> String {
        match *self {}
    }
    pub(crate) fn read_all(&self) -> Vec<u8> {
        match *self {}
    }
    pub(crate) fn read(&self, _offset: u64, _len: u64) -> Vec<u8> {
        match *self {}
    }
}

/// A host flow context. None exists natively (see [`Buffer`]).
pub(crate) enum FlowContext {}

impl FlowContext {
    pub(crate) fn trace_id(&self) -> String {
        match *self {}
    }
    pub(crate) fn span_id(&self) -> String {
        match *self {}
    }
    pub(crate) fn flow_id(&self) -> String {
        match *self {}
    }
    pub(crate) fn deadline_ns(&self) -> u64 {
        match *self {}
    }
}

/// An in-memory buffer being filled, with the capacity the double granted.
pub(crate) struct MutableBuffer {
    bytes: Vec<u8>,
    capacity: u64,
}

impl MutableBuffer {
    pub(crate) fn append(&mut self, bytes: &[u8]) -> Result<(), BufferError> {
        if (self.bytes.len() + bytes.len()) as u64 > self.capacity {
            return Err(BufferError::CapacityExceeded);
        }
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }

    pub(crate) fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Freeze into an output's payload. The content type lives in the
    /// output's metadata natively.
    pub(crate) fn finish(self, _content_type: &str) -> FrozenBuffer {
        FrozenBuffer(self.bytes)
    }
}

/// An output's payload, in memory.
pub(crate) struct FrozenBuffer(Vec<u8>);

impl FrozenBuffer {
    pub(crate) fn read_all(&self) -> Vec<u8> {
        self.0.clone()
    }
}

#[derive(Default)]
struct Doubles {
    allocations: Vec<u64>,
    clones: Vec<u64>,
    fail_next_allocation: Option<String>,
    logs: Vec<String>,
    capabilities: BTreeSet<String>,
}

thread_local! {
    static DOUBLES: RefCell<Doubles> = RefCell::new(Doubles::default());
}

fn with_doubles<R>(f: impl FnOnce(&mut Doubles) -> R) -> R {
    DOUBLES.with(|doubles| f(&mut doubles.borrow_mut()))
}

/// The in-memory allocator: records the hint and grants exactly that much.
pub(crate) fn allocate(capacity_hint: u64) -> Result<MutableBuffer, BufferError> {
    with_doubles(|doubles| {
        if let Some(why) = doubles.fail_next_allocation.take() {
            return Err(BufferError::AllocationFailed(why));
        }
        doubles.allocations.push(capacity_hint);
        Ok(MutableBuffer {
            bytes: Vec::new(),
            capacity: capacity_hint,
        })
    })
}

/// `clone-into-mutable` of a host buffer: none exists natively.
pub(crate) fn clone_into_mutable(source: &Buffer) -> Result<MutableBuffer, BufferError> {
    match *source {}
}

/// The in-memory `clone-into-mutable` of an in-memory payload: records the
/// size of the copy. Counted apart from [`allocate`], as the reference host
/// counts `clones` apart from `allocations`; a failure injected with
/// [`fail_next_allocation`] applies to both, as on the host.
pub(crate) fn copy_into_mutable(bytes: &[u8]) -> Result<MutableBuffer, BufferError> {
    with_doubles(|doubles| {
        if let Some(why) = doubles.fail_next_allocation.take() {
            return Err(BufferError::AllocationFailed(why));
        }
        doubles.clones.push(bytes.len() as u64);
        Ok(MutableBuffer {
            bytes: bytes.to_vec(),
            capacity: bytes.len() as u64,
        })
    })
}

/// Whether [`grant_capability`] granted `name` on this thread.
pub(crate) fn has_capability(name: &str) -> bool {
    with_doubles(|doubles| doubles.capabilities.contains(name))
}

/// Keep a log line for [`take_logs`].
pub(crate) fn record_log(line: &str) {
    with_doubles(|doubles| doubles.logs.push(line.to_string()));
}

/// Capacity hints of the in-memory allocations made on this thread since the
/// last call, in order (native targets only; always empty on wasm).
///
/// [`Output::text`](crate::Output::text), [`Output::bytes`](crate::Output::bytes),
/// [`Output::json`](crate::Output::json) and [`Output::builder`](crate::Output::builder)
/// allocate; [`Output::copy_of`](crate::Output::copy_of) and
/// [`Output::builder_from`](crate::Output::builder_from) are clones
/// ([`take_clones`]), as on the reference host, whose `Stats` count them the
/// same way:
///
/// | natively | on the reference host (`Instance::stats()`) |
/// | --- | --- |
/// | `take_allocations()` (one entry per buffer, its capacity hint) | `allocations`, `bytes_allocated` |
/// | `take_clones()` (one entry per copy, its size) | `clones`, `bytes_cloned` |
/// | `element.payload().read_stats()` | `reads`, `payload_bytes_read` |
///
/// ```
/// use torvyn_guest::Output;
/// use torvyn_guest::testing::{self, ElementBuilder};
///
/// let element = ElementBuilder::new().text("abc").build();
/// testing::take_allocations();
/// let upper = Output::text(element.text()?.to_uppercase())?;
/// let copy = Output::copy_of(&element)?;
/// assert_eq!(testing::take_allocations(), [3], "one allocation: `upper`");
/// assert_eq!(testing::take_clones(), [3], "one host-side copy: `copy`");
/// # let _ = (upper, copy);
/// # Ok::<(), torvyn_guest::Error>(())
/// ```
pub fn take_allocations() -> Vec<u64> {
    with_doubles(|doubles| std::mem::take(&mut doubles.allocations))
}

/// Sizes of the in-memory copies made by [`Output::copy_of`](crate::Output::copy_of)
/// and [`Output::builder_from`](crate::Output::builder_from) on this thread since
/// the last call, in order (native targets only; always empty on wasm). The
/// reference host counts these as `clones` and `bytes_cloned`, not as
/// allocations; see [`take_allocations`] for the whole table.
///
/// ```
/// use torvyn_guest::Output;
/// use torvyn_guest::testing::{self, ElementBuilder};
///
/// let element = ElementBuilder::new().text("pass me on").build();
/// let out = Output::copy_of(&element)?;
/// assert_eq!(testing::take_clones(), [10]);
/// assert!(testing::take_allocations().is_empty());
/// assert_eq!(element.payload().read_stats().reads, 0, "a copy reads nothing");
/// # let _ = out;
/// # Ok::<(), torvyn_guest::Error>(())
/// ```
pub fn take_clones() -> Vec<u64> {
    with_doubles(|doubles| std::mem::take(&mut doubles.clones))
}

/// Make the next in-memory allocation on this thread fail with
/// `allocation-failed(why)`.
///
/// ```
/// use torvyn_guest::{ErrorKind, Output, testing};
/// testing::fail_next_allocation("host out of memory");
/// let err = Output::text("x").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Unavailable);
/// assert!(Output::text("x").is_ok(), "only the next one fails");
/// ```
pub fn fail_next_allocation(why: impl Into<String>) {
    with_doubles(|doubles| doubles.fail_next_allocation = Some(why.into()));
}

/// Log lines written on this thread since the last call (native targets only).
///
/// ```
/// use torvyn_guest::prelude::*;
/// use torvyn_guest::testing;
/// info!("{} elements", 3);
/// warn!("slow");
/// assert_eq!(testing::take_logs(), ["[info] 3 elements", "[warn] slow"]);
/// ```
pub fn take_logs() -> Vec<String> {
    with_doubles(|doubles| std::mem::take(&mut doubles.logs))
}

/// Grant `name` to [`crate::capabilities::has`] on this thread (native targets only).
///
/// ```
/// use torvyn_guest::{capabilities, testing};
/// testing::grant_capability("wasi-clocks");
/// assert!(capabilities::has("wasi-clocks"));
/// assert!(!capabilities::has("wasi-random"));
/// ```
pub fn grant_capability(name: impl Into<String>) {
    with_doubles(|doubles| {
        doubles.capabilities.insert(name.into());
    });
}

/// What `__private` re-exports for the generated code: nothing natively (the
/// export glue is compiled for wasm32 only).
pub(crate) mod exports {}
