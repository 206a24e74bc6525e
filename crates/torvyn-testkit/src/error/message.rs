//! The message of an [`Error`]: per kind, what happened and what to do.

use std::fmt;

use crate::settings::ClockMode;
use crate::units::human_bytes;

use super::{Error, ErrorKind};

impl Error {
    pub(super) fn fmt_message(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
