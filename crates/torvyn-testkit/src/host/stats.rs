//! What a component did through the host, counted per instance.

/// What a component did through the host, counted per instance.
///
/// `payload_bytes_read` counts the bytes copied into the component by
/// `buffer.read` and `buffer.read-all`: a filter that decides on metadata
/// alone reads zero.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Calls into the component's exports (init and teardown included).
    pub calls: u64,
    /// `read` and `read-all` calls.
    pub reads: u64,
    /// Payload bytes copied into the component by those reads.
    pub payload_bytes_read: u64,
    /// Successful `allocate` calls.
    pub allocations: u64,
    /// The sum of the capacity hints of those allocations.
    pub bytes_allocated: u64,
    /// Successful `clone-into-mutable` calls.
    pub clones: u64,
    /// Bytes copied by those clones (a host-side copy, not a read).
    pub bytes_cloned: u64,
    /// Allocations that failed (injected, or above the 16 MiB limit).
    pub failed_allocations: u64,
    /// The most bytes of host buffers the component held at once (see
    /// [`Limits::host_buffers`](super::Limits::host_buffers)).
    pub host_buffer_bytes_peak: u64,
}
