//! The testkit's error: which node, which call, what went wrong, what to do.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::build::BuildError;
use crate::element::ProcessError;
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
}

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The component crate did not build.
    Build(BuildError),
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
    /// The pipeline or its manifest is not usable.
    Pipeline(String),
}

impl Error {
    pub(crate) fn new(node: impl Into<String>, kind: ErrorKind) -> Self {
        Error {
            inner: Box::new(Inner {
                node: node.into(),
                role: None,
                call: None,
                kind,
            }),
        }
    }

    pub(crate) fn pipeline(message: impl Into<String>) -> Self {
        Error::new("", ErrorKind::Pipeline(message.into()))
    }

    /// The same error about node `node` (a manifest node, say, instead of the file's name).
    pub(crate) fn renamed(mut self, node: impl Into<String>) -> Self {
        self.inner.node = node.into();
        self
    }

    pub(crate) fn at(mut self, role: Option<Role>, call: &'static str) -> Self {
        self.inner.role = role;
        self.inner.call = Some(call);
        self
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

    /// Whether the component trapped.
    pub fn is_trap(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::Trap { .. })
    }

    /// Whether the call hit the time limit (or its wall-clock backstop).
    pub fn is_timeout(&self) -> bool {
        matches!(
            self.inner.kind,
            ErrorKind::Timeout { .. } | ErrorKind::WallTimeout { .. }
        )
    }

    /// Whether the component exhausted its memory limit.
    pub fn is_out_of_memory(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::OutOfMemory { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.inner.node.is_empty() {
            write!(f, "node `{}`", self.inner.node)?;
            if let Some(role) = self.inner.role {
                write!(f, " ({role})")?;
            }
            f.write_str(" ")?;
        }
        let call = self.inner.call.unwrap_or("call");
        match &self.inner.kind {
            ErrorKind::Build(err) => write!(f, "did not build: {err}"),
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
            ErrorKind::Timeout { limit } => write!(
                f,
                "did not return from `{call}` within the {limit:?} per-call time limit \
                 (an infinite loop?); if the work is legitimately slow, raise the limit \
                 with `Limits::call_timeout`"
            ),
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
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
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
