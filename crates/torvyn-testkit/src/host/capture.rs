//! Captured stdout and stderr: an in-memory pipe that knows its length, so a
//! call costs O(bytes it writes), never a copy of everything captured so far.
//!
//! wasmtime-wasi's `MemoryOutputPipe` answers "how much is there" only by
//! cloning its whole buffer, and a full pipe fails the component's write
//! (its `println!` then panics with a broken pipe). This pipe:
//!
//! - counts: [`CapturePipe::mark`] is O(1) and takes no lock (the first write
//!   after it records where the call's bytes start), and the text written
//!   since a mark is a slice of the buffer;
//! - **truncates with a marker** at its limit (16 MiB by default,
//!   [`Limits::capture`](super::Limits::capture)): further writes succeed for
//!   the component, so the limit never changes what it does, but their bytes
//!   are counted and discarded, and [`CapturePipe::text`] ends with a line
//!   naming the stream, the node and the limit and saying how to raise it.
//!   Only the bytes written during the current call are kept past the limit
//!   (up to [`CALL_TAIL`]), so a panic message is still found after the limit.
//! - **streams lines** to a tap when one is set ([`CapturePipe::tap`], what
//!   [`Pipeline::on_output`](crate::Pipeline::on_output) sets): each
//!   complete line goes to the callback as it is written, whatever the limit
//!   keeps in memory; a line longer than [`MAX_TAP_LINE`] is passed on in
//!   pieces of that size, and a last line without a newline when the instance
//!   ends ([`CapturePipe::flush_tap`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

use crate::units::human_bytes;

/// The default capture limit per stream.
pub(crate) const DEFAULT_CAPTURE_LIMIT: u64 = 16 << 20;

/// The bytes of the current call kept after the limit is reached, for panic messages.
pub(crate) const CALL_TAIL: usize = 64 << 10;

/// How much one `check-write` permits (what WASI's own streams offer).
const PERMIT: usize = 64 << 10;

/// The longest line a tap holds back waiting for its newline: past it, the
/// bytes so far are passed on as a line of their own.
pub(crate) const MAX_TAP_LINE: usize = 64 << 10;

/// Which of a component's output streams a line was written to (see
/// [`Pipeline::on_output`](crate::Pipeline::on_output)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StdStream {
    /// The component's stdout (`println!`).
    Stdout,
    /// The component's stderr (`eprintln!`, log lines, panic messages).
    Stderr,
}

impl StdStream {
    /// `"stdout"` or `"stderr"`.
    pub fn name(self) -> &'static str {
        match self {
            StdStream::Stdout => "stdout",
            StdStream::Stderr => "stderr",
        }
    }
}

impl std::fmt::Display for StdStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A line callback: `(node, stream, line without its newline)`.
pub(crate) type LineFn = dyn FnMut(&str, StdStream, &[u8]) + Send;

/// Where a pipe passes its lines on as they are written.
struct Tap {
    node: String,
    stream: StdStream,
    hook: Arc<Mutex<LineFn>>,
    /// The current line's bytes so far (no newline yet).
    pending: Vec<u8>,
}

impl Tap {
    fn emit(&mut self, line: &[u8]) {
        let mut hook = self
            .hook
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        (*hook)(&self.node, self.stream, line);
    }

    fn feed(&mut self, mut data: &[u8]) {
        while let Some(end) = data.iter().position(|&byte| byte == b'\n') {
            let (line, rest) = (&data[..end], &data[end + 1..]);
            if self.pending.is_empty() {
                self.emit(line);
            } else {
                let mut whole = std::mem::take(&mut self.pending);
                whole.extend_from_slice(line);
                self.emit(&whole);
            }
            data = rest;
        }
        self.pending.extend_from_slice(data);
        while self.pending.len() >= MAX_TAP_LINE {
            let rest = self.pending.split_off(MAX_TAP_LINE);
            let piece = std::mem::replace(&mut self.pending, rest);
            self.emit(&piece);
        }
    }

    fn flush(&mut self) {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.emit(&line);
        }
    }
}

/// One captured stream (stdout or stderr) of one instance. Clones share the buffer.
#[derive(Clone)]
pub(crate) struct CapturePipe {
    inner: Arc<Mutex<Captured>>,
    /// Calls marked so far; only the thread that makes the calls changes it.
    calls: Arc<AtomicU64>,
}

struct Captured {
    /// `stdout` or `stderr`, for the marker.
    stream: &'static str,
    limit: usize,
    bytes: Vec<u8>,
    /// Bytes written past the limit and discarded.
    discarded: u64,
    /// Where the call `marked` started in `bytes`.
    mark: usize,
    /// The call (`CapturePipe::calls`) whose first write set `mark` and `tail`.
    marked: u64,
    /// The current call's bytes past the limit (at most `CALL_TAIL`).
    tail: Vec<u8>,
    /// Where complete lines go as they are written, if anywhere.
    tap: Option<Tap>,
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
                marked: 0,
                tail: Vec::new(),
                tap: None,
            })),
            calls: Arc::new(AtomicU64::new(0)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Captured> {
        // A panic while holding the lock leaves plain bytes behind: still usable.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Pass every line written from now on to `hook` as `(node, stream,
    /// line)`, without its newline, as it is written.
    pub(crate) fn tap(&self, node: &str, stream: StdStream, hook: Arc<Mutex<LineFn>>) {
        self.lock().tap = Some(Tap {
            node: node.to_string(),
            stream,
            hook,
            pending: Vec::new(),
        });
    }

    /// Pass on a last line that has no newline (the instance is ending).
    pub(crate) fn flush_tap(&self) {
        if let Some(tap) = &mut self.lock().tap {
            tap.flush();
        }
    }

    /// Bytes written so far, kept or discarded.
    #[cfg(test)]
    fn len(&self) -> u64 {
        let captured = self.lock();
        captured.bytes.len() as u64 + captured.discarded
    }

    /// Start of a call: [`since_mark`](Self::since_mark) returns what is
    /// written after this. A count, not a lock: most calls write nothing.
    pub(crate) fn mark(&self) {
        // One thread makes the calls: a load and a store, no read-modify-write.
        let calls = self.calls.load(Ordering::Relaxed);
        self.calls.store(calls + 1, Ordering::Relaxed);
    }

    /// What was written since the last [`mark`](Self::mark) (past the limit,
    /// the kept part and the call's last bytes), as lossy UTF-8.
    pub(crate) fn since_mark(&self) -> String {
        let captured = self.lock();
        if captured.marked != self.calls.load(Ordering::Relaxed) {
            // Nothing written since the mark.
            return String::new();
        }
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
        let call = self.calls.load(Ordering::Relaxed);
        if captured.marked != call {
            // The call's first write: its bytes start here.
            captured.marked = call;
            captured.mark = captured.bytes.len();
            captured.tail.clear();
        }
        if let Some(tap) = &mut captured.tap {
            tap.feed(data);
        }
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

    #[test]
    fn a_tap_gets_whole_lines_as_written_past_the_limit_too() {
        type Seen = Vec<(String, StdStream, Vec<u8>)>;
        let lines: Arc<Mutex<Seen>> = Arc::default();
        let seen = Arc::clone(&lines);
        let hook: Arc<Mutex<LineFn>> = Arc::new(Mutex::new(
            move |node: &str, stream: StdStream, line: &[u8]| {
                seen.lock()
                    .unwrap()
                    .push((node.to_string(), stream, line.to_vec()));
            },
        ));
        let mut pipe = CapturePipe::new("stdout", 4);
        pipe.tap("sink", StdStream::Stdout, hook);
        pipe.write(Bytes::from_static(b"[sink] o")).unwrap();
        assert!(lines.lock().unwrap().is_empty(), "no newline yet");
        pipe.write(Bytes::from_static(b"ne\n\ntwo\nthr\xffee"))
            .unwrap();
        pipe.flush_tap();
        pipe.flush_tap();
        let got: Vec<Vec<u8>> = lines.lock().unwrap().iter().map(|l| l.2.clone()).collect();
        assert_eq!(
            got,
            [
                b"[sink] one".to_vec(),
                b"".to_vec(),
                b"two".to_vec(),
                b"thr\xffee".to_vec()
            ]
        );
        assert!(
            lines
                .lock()
                .unwrap()
                .iter()
                .all(|(node, stream, _)| node == "sink" && *stream == StdStream::Stdout)
        );
        // The in-memory capture still stops at its limit.
        assert_eq!(pipe.discarded(), 18);
    }

    #[test]
    fn a_tap_splits_an_endless_line() {
        let count = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&count);
        let hook: Arc<Mutex<LineFn>> =
            Arc::new(Mutex::new(move |_: &str, _: StdStream, line: &[u8]| {
                seen.lock().unwrap().push(line.len())
            }));
        let mut pipe = CapturePipe::new("stderr", 1 << 20);
        pipe.tap("n", StdStream::Stderr, hook);
        pipe.write(Bytes::from(vec![b'x'; MAX_TAP_LINE * 2 + 5]))
            .unwrap();
        pipe.write(Bytes::from_static(b"\n")).unwrap();
        assert_eq!(*count.lock().unwrap(), [MAX_TAP_LINE, MAX_TAP_LINE, 5]);
    }
}
