//! The testkit's error: which node, which call, what went wrong, what to do.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::backtrace::Frame;
use crate::build::BuildError;
use crate::element::ProcessError;
use crate::host::ClockMode;
use crate::inspect::Mismatch;
use crate::manifest::ManifestError;
use crate::pipeline::RunLimit;
use crate::role::Role;

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
/// with its whole chain, a trap with its wasm backtrace, the build failure),
/// is its [`source`](std::error::Error::source), so `anyhow` and `{:#}` show
/// the full chain.
#[derive(Debug)]
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

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The component crate did not build.
    Build(BuildError),
    /// The component's imports or exports do not match the Torvyn 0.1
    /// contract, or the host cannot link an import. Every mismatch is listed;
    /// when linking failed, wasmtime's error is the [`Error`]'s source.
    Contract {
        /// The file.
        path: PathBuf,
        /// What differs, import by import and function by function.
        mismatches: Vec<Mismatch>,
    },
    /// The file is not a loadable Torvyn component.
    Load {
        /// The file.
        path: PathBuf,
        /// Why it cannot be used.
        message: String,
    },
    /// A configuration value could not be serialized to JSON, or a component
    /// without `lifecycle` was given one.
    Config(String),
    /// The component returned a `process-error` (or a test injected one).
    Process {
        /// The error.
        error: ProcessError,
        /// Whether a fault-injection switch produced it instead of the component.
        injected: bool,
    },
    /// The component trapped (a panic, an `unreachable`, a contract violation).
    Trap {
        /// The trap, or the host's reason for it.
        message: String,
        /// The guest's panic message and location, read from its stderr.
        panic: Option<String>,
    },
    /// The component overflowed its stack: its wasm shadow stack (Rust keeps
    /// large locals there; it is a fixed region of linear memory) or the
    /// host's call stack (recursion too deep).
    StackOverflow {
        /// The component's stack size in bytes (the `__stack_pointer`
        /// global's initial value, set by `-z stack-size` at link time), when
        /// the shadow stack overflowed; `None` for the host's call stack.
        stack_size: Option<u64>,
        /// The stack the frames at the trap needed, when known.
        needed: Option<u64>,
        /// The function whose frame did not fit, when known.
        function: Option<String>,
    },
    /// The component called WASI `exit` (Rust's `std::process::exit`).
    Exit {
        /// The exit code the host received. WASI 0.2's `exit` passes only
        /// success (0) or failure (1), so Rust's `exit(3)` arrives as 1.
        code: i32,
    },
    /// The call used more CPU time than the per-call time limit.
    Timeout {
        /// The limit.
        limit: Duration,
    },
    /// The call ran longer than the per-call wall-clock backstop while using
    /// less CPU time than the time limit (an overloaded machine).
    WallTimeout {
        /// The backstop ([`Limits::wall_timeout`](crate::Limits::wall_timeout)).
        limit: Duration,
        /// The CPU time the call had used.
        cpu: Duration,
    },
    /// An element is larger than the contract's per-buffer limit; the host
    /// refused it without calling the component.
    ElementTooLarge {
        /// Its payload size in bytes.
        bytes: u64,
        /// The limit (16 MiB).
        limit: u64,
        /// Its sequence number.
        sequence: u64,
    },
    /// The call was still waiting in the host (a sleep, a `wasi:io/poll`)
    /// when its per-call time limit ran out.
    Blocked {
        /// The per-call time limit.
        limit: Duration,
        /// The host call it was waiting in (`wasi:io/poll.pollable.block`, ...).
        waiting_in: String,
        /// The instance's clock mode (with the virtual clock, clock waits
        /// never block, so the wait was on something else).
        clock: ClockMode,
    },
    /// The flow reached one of its run limits and was stopped; the
    /// [`FlowError`](crate::pipeline::FlowError) holds what happened until then.
    Stopped {
        /// The limit it reached.
        limit: RunLimit,
    },
    /// The call used up its per-call fuel budget.
    OutOfFuel {
        /// The budget.
        budget: u64,
    },
    /// The component tried to grow its memory beyond the limit.
    OutOfMemory {
        /// The limit in bytes.
        limit: u64,
        /// The size it tried to grow to.
        requested: u64,
    },
    /// The component asked for a host buffer beyond its host-buffer budget
    /// ([`Limits::host_buffers`](crate::Limits::host_buffers)), or beyond its
    /// flow's total ([`Pipeline::host_buffer_budget`](crate::pipeline::Pipeline::host_buffer_budget)).
    HostBuffers {
        /// The budget in bytes.
        budget: u64,
        /// Bytes held before the request (by the component, or by the whole flow).
        held: u64,
        /// Bytes asked for.
        requested: u64,
        /// Whether the flow's total (not the component's own budget) was hit.
        flow: bool,
    },
    /// A router named a port with no edge.
    UnknownPort {
        /// The port it returned.
        port: String,
        /// The ports that exist.
        ports: Vec<String>,
    },
    /// The component cannot be called any more (it trapped, returned `fatal`,
    /// or was torn down).
    Terminated {
        /// Why.
        reason: String,
    },
    /// The call does not exist for the component's role.
    WrongRole {
        /// The role that has the call.
        expected: Role,
    },
    /// The pipeline is not usable.
    Pipeline(String),
    /// The manifest (`Torvyn.toml`) cannot be read, parsed or used.
    Manifest(ManifestError),
}

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
    /// its source was a [`NodeSpec::source_jsonl`](crate::pipeline::NodeSpec::source_jsonl)
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
    /// trap. See [`crate::backtrace`].
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

impl Error {
    fn fmt_message(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.inner.node.is_empty() {
            write!(f, "node `{}`", self.inner.node)?;
            if let Some(role) = self.inner.role {
                write!(f, " ({role})")?;
            }
            if let Some((file, key)) = &self.inner.origin {
                write!(f, " (`{key}` in {file})")?;
            }
            f.write_str(" ")?;
        }
        let call = self.inner.call.unwrap_or("call");
        match &self.inner.kind {
            ErrorKind::Build(err) => write!(f, "did not build: {err}"),
            ErrorKind::Contract { path, mismatches } => {
                write!(
                    f,
                    "cannot be loaded from {}: it does not match the Torvyn 0.1 contract",
                    path.display()
                )?;
                for mismatch in mismatches {
                    write!(f, "\n  - {} {mismatch}", mismatch.direction)?;
                }
                f.write_str(
                    "\nbuild it against the contract's WIT (torvyn-testkit's `wit/`, the same \
                     as upstream's `torvyn-contracts` 0.1.1) and import only the contract's \
                     interfaces and WASI 0.2",
                )
            }
            ErrorKind::Load { path, message } => {
                write!(f, "cannot be loaded from {}: {message}", path.display())
            }
            ErrorKind::Config(message) => write!(f, "has a bad config: {message}"),
            ErrorKind::Process { error, injected } => {
                write!(f, "returned {error} from `{call}`")?;
                if *injected {
                    f.write_str(" (injected by the test's fault switch)")?;
                }
                Ok(())
            }
            ErrorKind::Trap { message, panic } => {
                write!(f, "trapped in `{call}`: ")?;
                match panic {
                    Some(panic) => write!(f, "the component panicked: {panic}"),
                    None => f.write_str(message),
                }
            }
            ErrorKind::StackOverflow {
                stack_size: Some(size),
                needed,
                function,
            } => {
                write!(f, "overflowed its stack in `{call}`")?;
                match (function, needed) {
                    (Some(function), Some(needed)) => write!(
                        f,
                        " (in `{function}`; the frames on the stack need {})",
                        human_bytes(*needed)
                    )?,
                    (Some(function), None) => write!(f, " (in `{function}`)")?,
                    (None, Some(needed)) => write!(
                        f,
                        " (the frames on the stack need {})",
                        human_bytes(*needed)
                    )?,
                    (None, None) => {}
                }
                let suggested = match needed {
                    Some(needed) => (*needed).max(size.saturating_mul(2)).next_power_of_two(),
                    None => size.saturating_mul(4),
                }
                .max(1 << 20);
                write!(
                    f,
                    ": its stack is {} (the `__stack_pointer` global starts at {size}) and ran \
                     off the start of linear memory, which wasm reports as an out-of-bounds \
                     access; keep large values on the heap (`Box`, `Vec`) or raise the stack \
                     size at link time: `-C link-arg=-zstack-size={suggested}` in RUSTFLAGS, \
                     or in the crate's `.cargo/config.toml`: `[target.wasm32-wasip2] \
                     rustflags = [\"-C\", \"link-arg=-zstack-size={suggested}\"]`",
                    human_bytes(*size)
                )
            }
            ErrorKind::StackOverflow { function, .. } => {
                write!(f, "exhausted the host's call stack in `{call}`")?;
                if let Some(function) = function {
                    write!(f, " (in `{function}`)")?;
                }
                f.write_str(": the recursion is too deep; make it iterative or bound its depth")
            }
            ErrorKind::Exit { code } => {
                if *code == 1 {
                    write!(
                        f,
                        "called exit with a failure code in `{call}` (WASI 0.2's `exit` passes \
                         only success or failure, so the host cannot tell which nonzero code)"
                    )?;
                } else {
                    write!(f, "called exit({code}) in `{call}`")?;
                }
                f.write_str(
                    ": a component must return from its calls, not exit; return an error \
                     instead (`fatal` to stop for good)",
                )
            }
            ErrorKind::Timeout { limit } => write!(
                f,
                "did not return from `{call}` within the {limit:?} per-call time limit \
                 (an infinite loop?); if the work is legitimately slow, raise the limit \
                 with `Limits::call_timeout`"
            ),
            ErrorKind::Blocked {
                limit,
                waiting_in,
                clock,
            } => {
                write!(
                    f,
                    "was blocked in `{call}`: it was still waiting in `{waiting_in}` when the \
                     {limit:?} per-call time limit ran out"
                )?;
                match clock {
                    ClockMode::Real => f.write_str(
                        " (real time is on, so a sleep or a clock wait really waits); wait \
                         less, raise the limit with `Limits::call_timeout`, or use the virtual \
                         clock (the default), where sleeps return at once",
                    ),
                    ClockMode::Virtual => f.write_str(
                        " (not on a clock: the virtual clock ends clock waits at once); do not \
                         wait on input the test never gives, or raise the limit with \
                         `Limits::call_timeout`",
                    ),
                }
            }
            ErrorKind::Stopped { limit } => write!(f, "{limit}"),
            ErrorKind::WallTimeout { limit, cpu } => write!(
                f,
                "did not return from `{call}` within the {limit:?} wall-clock backstop, \
                 having used only {cpu:?} of CPU time (the machine is overloaded?); raise \
                 the backstop with `Limits::wall_timeout`"
            ),
            ErrorKind::ElementTooLarge {
                bytes,
                limit,
                sequence,
            } => write!(
                f,
                "was not called (`{call}`): element #{sequence} has a payload of {bytes} \
                 bytes, above the contract's {} per-buffer limit; split it into smaller \
                 elements",
                human_bytes(*limit)
            ),
            ErrorKind::OutOfFuel { budget } => write!(
                f,
                "used up its fuel budget of {budget} in `{call}` (an infinite loop?); \
                 raise `fuel_budget` / `Limits::fuel` if the work is legitimately long"
            ),
            ErrorKind::OutOfMemory { limit, requested } => write!(
                f,
                "ran out of memory in `{call}`: it tried to grow its memory to {} while \
                 the limit is {}; keep less data in the component or raise the limit \
                 (`Limits::memory`, `max_memory` in Torvyn.toml)",
                human_bytes(*requested),
                human_bytes(*limit)
            ),
            ErrorKind::HostBuffers {
                budget,
                held,
                requested,
                flow: false,
            } => write!(
                f,
                "exceeded its host-buffer budget in `{call}`: it holds {} of host buffers \
                 (allocated or cloned, and neither dropped nor returned) and asked for {} more, \
                 over its budget of {}; drop buffers it no longer needs, or raise the budget \
                 (`Limits::host_buffers`; it defaults to the memory limit, `max_memory` in \
                 Torvyn.toml)",
                human_bytes(*held),
                human_bytes(*requested),
                human_bytes(*budget)
            ),
            ErrorKind::HostBuffers {
                budget,
                held,
                requested,
                flow: true,
            } => write!(
                f,
                "exceeded the flow's host-buffer budget in `{call}`: the flow holds {} of host \
                 buffers (its components' and its queues') and this node asked for {} more, \
                 over the flow's budget of {}; raise it with `Pipeline::host_buffer_budget`",
                human_bytes(*held),
                human_bytes(*requested),
                human_bytes(*budget)
            ),
            ErrorKind::UnknownPort { port, ports } => write!(
                f,
                "routed an element to port `{port}` in `{call}`, but it has no edge from \
                 that port (its ports: {}); add an edge from port `{port}` or fix the router",
                if ports.is_empty() {
                    "none".to_string()
                } else {
                    ports.join(", ")
                }
            ),
            ErrorKind::Terminated { reason } => {
                write!(f, "cannot be called (`{call}`): {reason}")
            }
            ErrorKind::WrongRole { expected } => match self.inner.role {
                Some(role) => write!(
                    f,
                    "has no `{call}`: that is a {expected} call, and this component is a {role}"
                ),
                None => write!(f, "has no `{call}`: that is a {expected} call"),
            },
            ErrorKind::Pipeline(message) => f.write_str(message),
            ErrorKind::Manifest(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        if let Some(source) = &self.inner.source {
            return Some(source.as_ref());
        }
        match &self.inner.kind {
            ErrorKind::Build(err) => Some(err),
            ErrorKind::Process { error, .. } => Some(error),
            _ => None,
        }
    }
}

pub(crate) fn human_bytes(bytes: u64) -> String {
    const MIB: u64 = 1 << 20;
    const KIB: u64 = 1 << 10;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}
