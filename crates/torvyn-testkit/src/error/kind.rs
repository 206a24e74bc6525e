//! [`ErrorKind`]: what went wrong, one variant per kind of failure.

use std::path::PathBuf;
use std::time::Duration;

use super::RunLimit;
use crate::build::BuildError;
use crate::contract::Mismatch;
use crate::element::ProcessError;
use crate::manifest::ManifestError;
use crate::role::Role;
use crate::settings::ClockMode;

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The component crate did not build.
    Build(BuildError),
    /// The component's imports or exports do not match the Torvyn 0.1
    /// contract, or the host cannot link an import. Every mismatch is listed;
    /// when linking failed, wasmtime's error is the [`Error`](super::Error)'s source.
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
    /// [`FlowError`](crate::FlowError) holds what happened until then.
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
    /// The component trapped after the host refused it a host buffer beyond
    /// its host-buffer budget
    /// ([`Limits::host_buffers`](crate::Limits::host_buffers)), or beyond its
    /// flow's total ([`Pipeline::host_buffer_budget`](crate::Pipeline::host_buffer_budget)).
    /// (The refusal itself is the contract's `allocation-failed`, which a
    /// component may handle; only a trap in the same call becomes this.)
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
