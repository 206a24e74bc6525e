//! Captured stdout and stderr: an in-memory pipe that knows its length, so a
//! call costs O(bytes it writes), never a copy of everything captured so far.
//!
//! wasmtime-wasi's `MemoryOutputPipe` answers "how much is there" only by
//! cloning its whole buffer, and a full pipe fails the component's write
//! (its `println!` then panics with a broken pipe). This pipe:
//!
//! - counts: [`CapturePipe::mark`] is O(1), and the text written since a
//!   mark is a slice of the buffer;
//! - **truncates with a marker** at its limit (16 MiB by default,
//!   [`Limits::capture`](super::Limits::capture)): further writes succeed for
//!   the component, so the limit never changes what it does, but their bytes
//!   are counted and discarded, and [`CapturePipe::text`] ends with a line
//!   naming the stream, the node and the limit and saying how to raise it.
//!   Only the bytes written during the current call are kept past the limit
//!   (up to [`CALL_TAIL`]), so a panic message is still found after the limit.

use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

use crate::error::human_bytes;

/// The default capture limit per stream.
pub(crate) const DEFAULT_CAPTURE_LIMIT: u64 = 16 << 20;

/// The bytes of the current call kept after the limit is reached, for panic messages.
pub(crate) const CALL_TAIL: usize = 64 << 10;

/// How much one `check-write` permits (what WASI's own streams offer).
const PERMIT: usize = 64 << 10;

/// One captured stream (stdout or stderr) of one instance. Clones share the buffer.
#[derive(Clone)]
pub(crate) struct CapturePipe {
    inner: Arc<Mutex<Captured>>,
}

struct Captured {
    /// `stdout` or `stderr`, for the marker.
    stream: &'static str,
    limit: usize,
    bytes: Vec<u8>,
    /// Bytes written past the limit and discarded.
    discarded: u64,
    /// Where the current call started in `bytes`.
    mark: usize,
    /// The current call's bytes past the limit (at most `CALL_TAIL`).
    tail: Vec<u8>,
}

impl CapturePipe {
    /// An empty pipe for `stream` (`"stdout"` or `"stderr"`) holding at most `limit` bytes.
    pub(crate) fn new(stream: &'static str, limit: u64) -> Self {
        CapturePipe {
            inner: Arc::new(Mutex::new(Captured {
                stream,
                limit: usize::try_from(limit).unwrap_or(usize::MAX),
                bytes: Vec::new(),
                discarded: 0,
                mark: 0,
                tail: Vec::new(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Captured> {
        // A panic while holding the lock leaves plain bytes behind: still usable.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Bytes written so far, kept or discarded.
    #[cfg(test)]
    fn len(&self) -> u64 {
        let captured = self.lock();
        captured.bytes.len() as u64 + captured.discarded
    }

    /// Start of a call: [`since_mark`](Self::since_mark) returns what is written after this.
    pub(crate) fn mark(&self) {
        let mut captured = self.lock();
        captured.mark = captured.bytes.len();
        captured.tail.clear();
    }

    /// What was written since the last [`mark`](Self::mark) (past the limit,
    /// the kept part and the call's last bytes), as lossy UTF-8.
    pub(crate) fn since_mark(&self) -> String {
        let captured = self.lock();
        let mut text = String::from_utf8_lossy(&captured.bytes[captured.mark..]).into_owned();
        text.push_str(&String::from_utf8_lossy(&captured.tail));
        text
    }

    /// Bytes written past the limit and discarded.
    #[cfg(test)]
    fn discarded(&self) -> u64 {
        self.lock().discarded
    }

    /// Everything captured, as lossy UTF-8; past the limit, followed by a
    /// marker line naming `node`, the limit and how to raise it.
    pub(crate) fn text(&self, node: &str) -> String {
        let captured = self.lock();
        let mut text = String::from_utf8_lossy(&captured.bytes).into_owned();
        if captured.discarded > 0 {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&limit_marker(
                captured.stream,
                captured.limit as u64,
                node,
                captured.discarded,
            ));
            text.push('\n');
        }
        text
    }

    fn append(&self, data: &[u8]) {
        let mut captured = self.lock();
        let room = captured.limit.saturating_sub(captured.bytes.len());
        let (kept, over) = data.split_at(room.min(data.len()));
        captured.bytes.extend_from_slice(kept);
        if !over.is_empty() {
            captured.discarded += over.len() as u64;
            let tail = &mut captured.tail;
            tail.extend_from_slice(over);
            if tail.len() > CALL_TAIL {
                tail.drain(..tail.len() - CALL_TAIL);
            }
        }
    }
}

/// The line that ends a truncated capture.
pub(crate) fn limit_marker(stream: &str, limit: u64, node: &str, discarded: u64) -> String {
    format!(
        "[torvyn-testkit: {stream} capture limit of {} reached by node `{node}`; the next {discarded} \
         bytes were discarded; raise it with `Limits::capture`]",
        human_bytes(limit)
    )
}

impl IsTerminal for CapturePipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturePipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CapturePipe {
    async fn ready(&mut self) {}
}

impl OutputStream for CapturePipe {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        // Always writable: past the limit, bytes are counted and discarded.
        Ok(PERMIT)
    }
}

impl tokio::io::AsyncWrite for CapturePipe {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.append(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_slices_since_the_mark() {
        let mut pipe = CapturePipe::new("stderr", 1 << 20);
        pipe.write(Bytes::from_static(b"one\n")).unwrap();
        pipe.mark();
        pipe.write(Bytes::from_static(b"two\n")).unwrap();
        assert_eq!(pipe.len(), 8);
        assert_eq!(pipe.since_mark(), "two\n");
        assert_eq!(pipe.text("n"), "one\ntwo\n");
    }

    #[test]
    fn truncates_at_the_limit_with_a_marker_and_keeps_the_calls_tail() {
        let mut pipe = CapturePipe::new("stdout", 8);
        assert_eq!(pipe.check_write().unwrap(), PERMIT);
        pipe.write(Bytes::from_static(b"12345")).unwrap();
        pipe.mark();
        pipe.write(Bytes::from_static(b"6789abc")).unwrap();
        // Still writable: the component never sees a broken pipe.
        assert_eq!(pipe.check_write().unwrap(), PERMIT);
        assert_eq!(pipe.len(), 12);
        assert_eq!(pipe.discarded(), 4);
        assert_eq!(pipe.since_mark(), "6789abc");
        assert_eq!(
            pipe.text("logger"),
            "12345678\n[torvyn-testkit: stdout capture limit of 8 bytes reached by node \
             `logger`; the next 4 bytes were discarded; raise it with `Limits::capture`]\n"
        );
        pipe.mark();
        assert_eq!(pipe.since_mark(), "");
    }
}
