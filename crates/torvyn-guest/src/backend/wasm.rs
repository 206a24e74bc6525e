//! The wasm32 backend: the contract's import bindings, generated once here and
//! shared by every component through `with:` in the generated glue, and the
//! export glue the attribute macros call. Same item names as `native.rs`; see
//! `backend/mod.rs`.

// The crate's one allowed place for `unsafe` (`#![deny(unsafe_code)]` in
// lib.rs): the code `wit-bindgen` generates for the imports.
#[allow(missing_docs, unreachable_pub, clippy::all)]
#[allow(unsafe_code)]
pub mod bindings {
    // SAFETY: the `unsafe` here is wit-bindgen's canonical-ABI lifting and
    // lowering for the imported interfaces, generated from the contract's WIT
    // (the same files the host links against); no hand-written `unsafe` is in
    // this crate.
    wit_bindgen::generate!({
        inline: "
            package torvyn:guest-sdk;
            world sdk-imports {
                import torvyn:streaming/types@0.1.0;
                import torvyn:streaming/buffer-allocator@0.1.0;
                import torvyn:capabilities/capability-query@0.1.0;
            }
        ",
        path: ["wit/streaming", "wit/capabilities"],
        generate_all,
    });
}

use bindings::torvyn::streaming::types as wit;
pub(crate) use wit::{Buffer, FlowContext};

use crate::element::{ContextSource, Element, ElementMeta, Payload, PayloadSource};
use crate::{BufferError, Error, ErrorKind, Output, Route};

fn from_host_buffer_error(err: wit::BufferError) -> BufferError {
    match err {
        wit::BufferError::CapacityExceeded => BufferError::CapacityExceeded,
        wit::BufferError::OutOfBounds => BufferError::OutOfBounds,
        wit::BufferError::AllocationFailed(why) => BufferError::AllocationFailed(why),
    }
}

/// A host `mutable-buffer` being filled.
pub(crate) struct MutableBuffer {
    buffer: wit::MutableBuffer,
}

impl MutableBuffer {
    pub(crate) fn append(&mut self, bytes: &[u8]) -> Result<(), BufferError> {
        self.buffer.append(bytes).map_err(from_host_buffer_error)
    }

    pub(crate) fn capacity(&self) -> u64 {
        self.buffer.capacity()
    }

    /// Freeze the buffer (the mutable handle is dropped: spent, as the
    /// contract says), giving it the output's content type.
    ///
    /// `set-content-type` is always called, also when the output's metadata
    /// names the same type: upstream Torvyn keeps a buffer's content type
    /// apart from the element's metadata (its flow driver passes the
    /// metadata's downstream, and `buffer.content-type()` answers what was
    /// set on the buffer), so leaving the call out would change what a
    /// downstream component reading `content-type()` sees there.
    pub(crate) fn finish(self, content_type: &str) -> FrozenBuffer {
        self.buffer.set_content_type(content_type);
        self.buffer.freeze()
    }
}

/// An output's payload: a frozen host `buffer`.
pub(crate) type FrozenBuffer = wit::Buffer;

pub(crate) fn allocate(capacity_hint: u64) -> Result<MutableBuffer, BufferError> {
    bindings::torvyn::streaming::buffer_allocator::allocate(capacity_hint)
        .map(|buffer| MutableBuffer { buffer })
        .map_err(from_host_buffer_error)
}

pub(crate) fn clone_into_mutable(source: &Buffer) -> Result<MutableBuffer, BufferError> {
    bindings::torvyn::streaming::buffer_allocator::clone_into_mutable(source)
        .map(|buffer| MutableBuffer { buffer })
        .map_err(from_host_buffer_error)
}

/// A host buffer holding `bytes` (an in-memory payload, from
/// [`crate::testing::ElementBuilder`] on wasm): allocated and filled.
pub(crate) fn copy_into_mutable(bytes: &[u8]) -> Result<MutableBuffer, BufferError> {
    let mut buffer = allocate(bytes.len() as u64)?;
    buffer.append(bytes)?;
    Ok(buffer)
}

pub(crate) fn has_capability(name: &str) -> bool {
    bindings::torvyn::capabilities::capability_query::has_capability(name)
}

/// Log lines go to stderr only (the host captures them).
pub(crate) fn record_log(_line: &str) {}

/// Natively, the in-memory allocations; on wasm always empty.
pub fn take_allocations() -> Vec<u64> {
    Vec::new()
}

/// Natively, the in-memory copies; on wasm always empty.
pub fn take_clones() -> Vec<u64> {
    Vec::new()
}

/// Natively, makes the next in-memory allocation fail; on wasm no effect.
pub fn fail_next_allocation(why: impl Into<String>) {
    let _ = why;
}

/// Natively, the captured log lines; on wasm always empty.
pub fn take_logs() -> Vec<String> {
    Vec::new()
}

/// Natively, grants a capability to [`crate::capabilities::has`]; on wasm the
/// host grants them, and this has no effect.
pub fn grant_capability(name: impl Into<String>) {
    let _ = name;
}

/// An [`Element`] over a host `stream-element`. Takes the element by value so
/// that its content type moves into the metadata (no copy per element).
fn element(element: wit::StreamElement<'_>) -> Element<'_> {
    let meta = ElementMeta {
        sequence: element.meta.sequence,
        timestamp_ns: element.meta.timestamp_ns,
        content_type: element.meta.content_type,
    };
    Element::from_parts(
        meta,
        Payload::new(PayloadSource::Host(element.payload)),
        crate::element::FlowContext::new(ContextSource::Host(element.context)),
    )
}

fn output_element(output: Output) -> wit::OutputElement {
    wit::OutputElement {
        meta: wit::ElementMeta {
            sequence: output.meta.sequence,
            timestamp_ns: output.meta.timestamp_ns,
            content_type: output.meta.content_type,
        },
        payload: output.payload,
    }
}

impl From<Error> for wit::ProcessError {
    fn from(err: Error) -> Self {
        let message = err.message().to_string();
        match err.kind() {
            ErrorKind::InvalidInput => Self::InvalidInput(message),
            ErrorKind::Unavailable => Self::Unavailable(message),
            ErrorKind::Internal => Self::Internal(message),
            ErrorKind::DeadlineExceeded => Self::DeadlineExceeded,
            ErrorKind::Fatal => Self::Fatal(message),
        }
    }
}

fn signal_out(signal: crate::Backpressure) -> wit::BackpressureSignal {
    match signal {
        crate::Backpressure::Ready => wit::BackpressureSignal::Ready,
        crate::Backpressure::Pause => wit::BackpressureSignal::Pause,
    }
}

fn signal_in(signal: wit::BackpressureSignal) -> crate::Backpressure {
    match signal {
        wit::BackpressureSignal::Ready => crate::Backpressure::Ready,
        wit::BackpressureSignal::Pause => crate::Backpressure::Pause,
    }
}

fn ports(route: Route) -> Vec<String> {
    route.into_ports()
}

/// What `__private` re-exports for the generated code.
pub(crate) mod exports {
    pub use super::bindings;

    /// The export side: adapters from the host's types to the SDK's.
    pub mod glue {
        use super::super::{element, output_element, ports, signal_in, signal_out, wit};
        use crate::__private::{Aggregator, Filter, Lifecycle, Processor, Router, Sink, Source};

        type Res<T> = core::result::Result<T, wit::ProcessError>;

        /// `lifecycle.init`.
        pub fn init<C: Lifecycle>(config: String) -> Res<()> {
            C::init(&config).map_err(Into::into)
        }
        /// `lifecycle.teardown`.
        pub fn teardown<C: Lifecycle>() {
            C::teardown();
        }
        /// `filter.evaluate`.
        pub fn evaluate<C: Filter>(element_in: wit::StreamElement<'_>) -> Res<bool> {
            C::evaluate(&element(element_in)).map_err(Into::into)
        }
        /// `processor.process`.
        pub fn process<C: Processor>(
            element_in: wit::StreamElement<'_>,
        ) -> Res<wit::ProcessResult> {
            match C::process(&element(element_in)) {
                Ok(Some(output)) => Ok(wit::ProcessResult::Emit(output_element(output))),
                Ok(None) => Ok(wit::ProcessResult::Drop),
                Err(err) => Err(err.into()),
            }
        }
        /// `router.route`.
        pub fn route<C: Router>(element_in: wit::StreamElement<'_>) -> Res<Vec<String>> {
            C::route(&element(element_in))
                .map(ports)
                .map_err(Into::into)
        }
        /// `aggregator.ingest`.
        pub fn ingest<C: Aggregator>(
            element_in: wit::StreamElement<'_>,
        ) -> Res<Option<wit::OutputElement>> {
            C::ingest(&element(element_in))
                .map(|o| o.map(output_element))
                .map_err(Into::into)
        }
        /// `aggregator.flush`.
        pub fn flush<C: Aggregator>() -> Res<Vec<wit::OutputElement>> {
            C::flush()
                .map(|outputs| outputs.into_iter().map(output_element).collect())
                .map_err(Into::into)
        }
        /// `source.pull`.
        pub fn pull<C: Source>() -> Res<Option<wit::OutputElement>> {
            C::pull().map(|o| o.map(output_element)).map_err(Into::into)
        }
        /// `source.notify-backpressure`.
        pub fn notify_backpressure<C: Source>(signal: wit::BackpressureSignal) {
            C::notify_backpressure(signal_in(signal));
        }
        /// `sink.push`.
        pub fn push<C: Sink>(element_in: wit::StreamElement<'_>) -> Res<wit::BackpressureSignal> {
            C::push(&element(element_in))
                .map(signal_out)
                .map_err(Into::into)
        }
        /// `sink.complete`.
        pub fn complete<C: Sink>() -> Res<()> {
            C::complete().map_err(Into::into)
        }
    }
}
