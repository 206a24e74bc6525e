//! The testkit's error: which node, which call, what went wrong, what to do.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use crate::backtrace::Frame;
use crate::contract::Mismatch;
use crate::element::ProcessError;
use crate::role::Role;

mod kind;
mod message;
mod run_limit;

pub use kind::ErrorKind;
pub use run_limit::RunLimit;

/// A failure of the testkit or of a component it runs.
///
/// The message names the node (the component), its role and the call
/// (`init`, `evaluate`, ...), says what happened, and what to do about it:
///
/// ```text
/// node `panic_filter` (filter) trapped in `evaluate`: the component panicked:
/// boom: element 2 is cursed (at src/lib.rs:14:9)
/// ```
///
/// When the error stopped a flow on an element, a line names the element
/// ([`sequence`](Error::sequence)) and, when it was read from a JSON-lines
/// file, its line ([`input_line`](Error::input_line)):
/// `  at element #1 (line 2 of in.jsonl)`.
///
/// The lower-level error behind it, when there is one (wasmtime's link error
/// with its whole chain, the trap under a panic, the build failure), is its
/// [`source`](std::error::Error::source), so `anyhow` and `{:#}` show the
/// chain. wasmtime's raw wasm backtrace of a trap (`error while executing at
/// wasm backtrace: 0: 0x40a78 - abort ...`) is left out of that chain unless
/// `TORVYN_BACKTRACE=full` is set: the message's symbolised frames
/// ([`backtrace`](Error::backtrace)) say the same in the author's terms.
///
/// `Debug` prints what `Display` prints (as `anyhow` and `eyre` do), followed
/// by the causes the message does not already include, so that a failing
/// test's `.unwrap()` shows the message, not a dump of this struct; the
/// alternate form (`{:#?}`) is the struct dump. The data is reachable through
/// the accessors ([`kind`](Error::kind), [`node`](Error::node),
/// [`call`](Error::call), [`backtrace`](Error::backtrace), ...):
///
/// ```
/// use torvyn_testkit::TestElement;
/// use torvyn_testkit::Pipeline;
///
/// let err = Pipeline::new("demo")
///     .source("lines", [TestElement::text("a")])
///     .collector("out")
///     .edge("lines", "nowhere")
///     .run()
///     .unwrap_err()
///     .error;
/// assert_eq!(format!("{err:?}"), err.to_string());
/// assert!(err.to_string().contains("nowhere"), "{err}");
/// ```
pub struct Error {
    inner: Box<Inner>,
}

#[derive(Debug)]
struct Inner {
    node: String,
    role: Option<Role>,
    call: Option<&'static str>,
    kind: ErrorKind,
    /// Where the node is declared (`Torvyn.toml`, `flow.main.nodes.upper`).
    origin: Option<(String, String)>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    backtrace: Option<Vec<Frame>>,
    /// The element whose call stopped a flow: its sequence number, and the
    /// input file and line it was read from.
    element: Option<(u64, Option<InputLine>)>,
}

/// A JSON-lines input file and a 1-based line of it.
pub(crate) type InputLine = (Arc<Path>, u64);

impl Error {
    pub(crate) fn new(node: impl Into<String>, kind: ErrorKind) -> Self {
        Error {
            inner: Box::new(Inner {
                node: node.into(),
                role: None,
                call: None,
                kind,
                origin: None,
                source: None,
                backtrace: None,
                element: None,
            }),
        }
    }

    /// Keep `source` (wasmtime's error, ...) as the lower-level cause.
    pub(crate) fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// The error is about node `node`, declared at `key` in `manifest`.
    pub(crate) fn in_manifest(
        mut self,
        node: impl Into<String>,
        manifest: impl Into<String>,
        key: impl Into<String>,
    ) -> Self {
        self.inner.node = node.into();
        self.inner.origin = Some((manifest.into(), key.into()));
        self
    }

    pub(crate) fn pipeline(message: impl Into<String>) -> Self {
        Error::new("", ErrorKind::Pipeline(message.into()))
    }

    pub(crate) fn at(mut self, role: Option<Role>, call: &'static str) -> Self {
        self.inner.role = role;
        self.inner.call = Some(call);
        self
    }

    /// The error stopped a flow on the element with sequence number
    /// `sequence`, read from `input` (file, 1-based line) when it came from a
    /// JSON-lines file.
    pub(crate) fn on_element(mut self, sequence: u64, input: Option<InputLine>) -> Self {
        self.inner.element = Some((sequence, input));
        self
    }

    /// The flow sequence number of the element whose call stopped the flow
    /// (under the `fail-flow` policy, or when `retry` ran out), when a flow
    /// stopped on an element; `None` for other errors.
    pub fn sequence(&self) -> Option<u64> {
        self.inner.element.as_ref().map(|(sequence, _)| *sequence)
    }

    /// The JSON-lines file and 1-based line that element was read from, when
    /// its source was a [`NodeSpec::source_jsonl`](crate::NodeSpec::source_jsonl)
    /// (the CLI's `--input`); also for what a processor made of it.
    pub fn input_line(&self) -> Option<(&Path, u64)> {
        match &self.inner.element {
            Some((_, Some((file, line)))) => Some((file, *line)),
            _ => None,
        }
    }

    pub(crate) fn with_backtrace(mut self, frames: Option<Vec<Frame>>) -> Self {
        self.inner.backtrace = frames;
        self
    }

    /// The wasm backtrace of a trap (a panic, a time or memory limit hit),
    /// innermost frame first, symbolised to Rust function names and, for
    /// components with debug info, `file:line`; `None` when the error is not a
    /// trap. See [`Frame`].
    pub fn backtrace(&self) -> Option<&[Frame]> {
        self.inner.backtrace.as_deref()
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// The node (component) the error is about; empty for pipeline-level errors.
    pub fn node(&self) -> &str {
        &self.inner.node
    }

    /// The call that failed (`"init"`, `"evaluate"`, ...), if any.
    pub fn call(&self) -> Option<&'static str> {
        self.inner.call
    }

    /// The `process-error` the component returned (or a test injected), if that
    /// is what happened.
    pub fn process_error(&self) -> Option<&ProcessError> {
        match &self.inner.kind {
            ErrorKind::Process { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Where the node is declared, when it came from a manifest:
    /// (`Torvyn.toml`, `flow.main.nodes.upper`).
    pub fn origin(&self) -> Option<(&str, &str)> {
        self.inner
            .origin
            .as_ref()
            .map(|(file, key)| (file.as_str(), key.as_str()))
    }

    /// The contract mismatches, when the component does not match the contract.
    pub fn mismatches(&self) -> &[Mismatch] {
        match &self.inner.kind {
            ErrorKind::Contract { mismatches, .. } => mismatches,
            _ => &[],
        }
    }

    /// Whether the component trapped.
    pub fn is_trap(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::Trap { .. })
    }

    /// Whether the call hit the time limit (running, blocked in the host, or
    /// its wall-clock backstop).
    pub fn is_timeout(&self) -> bool {
        matches!(
            self.inner.kind,
            ErrorKind::Timeout { .. } | ErrorKind::Blocked { .. } | ErrorKind::WallTimeout { .. }
        )
    }

    /// Whether the component exhausted its memory limit.
    pub fn is_out_of_memory(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::OutOfMemory { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_message(f)?;
        if let Some((sequence, input)) = &self.inner.element {
            write!(f, "\n  at element #{sequence}")?;
            if let Some((file, line)) = input {
                write!(f, " (line {line} of {})", file.display())?;
            }
        }
        match &self.inner.backtrace {
            Some(frames) => crate::backtrace::write(f, frames),
            None => Ok(()),
        }
    }
}
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            return f.debug_struct("Error").field("inner", &self.inner).finish();
        }
        let message = self.to_string();
        f.write_str(&message)?;
        let mut cause = std::error::Error::source(self);
        while let Some(error) = cause {
            let text = error.to_string();
            if !message.contains(&text) {
                write!(f, "\ncaused by: {text}")?;
            }
            cause = error.source();
        }
        if self.raw_backtrace_hidden() {
            f.write_str("\n(wasmtime's raw wasm backtrace: set TORVYN_BACKTRACE=full)")?;
        }
        Ok(())
    }
}

impl Error {
    /// Whether the source is a trap whose raw wasm backtrace `source()` skips.
    fn raw_backtrace_hidden(&self) -> bool {
        self.inner.source.is_some()
            && self.inner.backtrace.is_some()
            && !crate::backtrace::raw_requested()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        if let Some(source) = &self.inner.source {
            // A trap's source is wasmtime's error, whose outermost layer is its
            // raw wasm backtrace (about 50 lines of addresses); the frames of
            // the message say the same in the author's terms.
            if self.raw_backtrace_hidden()
                && let Some(below) = source.source()
            {
                return Some(below);
            }
            return Some(source.as_ref());
        }
        match &self.inner.kind {
            ErrorKind::Build(err) => Some(err),
            ErrorKind::Process { error, .. } => Some(error),
            _ => None,
        }
    }
}
