//! What went wrong in a call, in the author's terms: trap classification,
//! panic messages and `torvyn_guest::log` lines read from the captured stderr.

use serde::Serialize;
use wasmtime::Store;

use super::Component;
use crate::diagnose;
use crate::element::ProcessError;
use crate::error::ErrorKind;
use crate::host::bindings::torvyn::streaming::types as wit;
use crate::host::guest_clock::Blocked;
use crate::host::{self, HostState, Limits};

/// A line the component wrote to stderr with `torvyn_guest::log` (`[info] message`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogLine {
    /// `debug`, `info`, `warn` or `error`.
    pub level: String,
    /// The message.
    pub message: String,
}

/// Turn a wasmtime error from a call into what happened, in the author's
/// terms, and keep the error itself (its chain and wasm backtrace) as the
/// source.
pub(super) fn classify(
    store: &mut Store<HostState>,
    limits: &Limits,
    component: &Component,
    err: wasmtime::Error,
) -> (ErrorKind, wasmtime::Error) {
    let state = store.data_mut();
    if let Some(denial) = state.buffers.denied.take() {
        let kind = ErrorKind::HostBuffers {
            budget: denial.budget,
            held: denial.held,
            requested: denial.requested,
            flow: denial.flow,
        };
        return (kind, err);
    }
    if let Some(requested) = state.memory.denied.take() {
        let kind = ErrorKind::OutOfMemory {
            limit: state.memory.limit,
            requested,
        };
        return (kind, err);
    }
    if let Some(blocked) = err.downcast_ref::<Blocked>() {
        let kind = ErrorKind::Blocked {
            limit: blocked.limit,
            waiting_in: blocked.waiting_in.to_string(),
            clock: blocked.mode,
        };
        return (kind, err);
    }
    match err.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => {
            let kind = match state.clock.fired.take() {
                Some(host::Fired::Wall { cpu }) => ErrorKind::WallTimeout {
                    limit: limits.wall_timeout_value(),
                    cpu,
                },
                Some(host::Fired::Cpu) | None => ErrorKind::Timeout {
                    limit: limits.call_timeout,
                },
            };
            return (kind, err);
        }
        Some(wasmtime::Trap::OutOfFuel) => {
            let kind = ErrorKind::OutOfFuel {
                budget: limits.fuel.unwrap_or(0),
            };
            return (kind, err);
        }
        _ => {}
    }
    let fresh = state.stderr.since_mark();
    let panic = panic_message(&fresh);
    if fresh.contains("memory allocation of") && fresh.contains("failed") {
        let kind = ErrorKind::OutOfMemory {
            limit: state.memory.limit,
            requested: 0,
        };
        return (kind, err);
    }
    if panic.is_none()
        && let Some(kind) = diagnose::classify_trap(&err, || component.stack_map())
    {
        return (kind, err);
    }
    let message = match err.downcast_ref::<wasmtime::Trap>() {
        // `Trap`'s own text starts with "wasm trap: "; the message says
        // "trapped" already.
        Some(trap) => {
            let text = trap.to_string();
            text.strip_prefix("wasm trap: ")
                .unwrap_or(&text)
                .to_string()
        }
        None => err.root_cause().to_string(),
    };
    (ErrorKind::Trap { message, panic }, err)
}

/// The message and location of a Rust panic, from the text written to stderr.
pub(super) fn panic_message(stderr: &str) -> Option<String> {
    let start = stderr.find("panicked at ")?;
    let rest = &stderr[start + "panicked at ".len()..];
    let (location, message) = rest.split_once(":\n")?;
    let message = message
        .split("\nnote: ")
        .next()
        .unwrap_or(message)
        .trim_end();
    Some(format!("{message} (at {location})"))
}

/// A few words naming what ended an instance (`"time limit"`, `"trap"`), for
/// the reason later calls are refused.
pub(super) fn failure_label(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Timeout { .. } | ErrorKind::Blocked { .. } | ErrorKind::WallTimeout { .. } => {
            "time limit"
        }
        ErrorKind::OutOfFuel { .. } => "fuel exhausted",
        ErrorKind::OutOfMemory { .. } => "out of memory",
        ErrorKind::HostBuffers { .. } => "host-buffer budget",
        ErrorKind::StackOverflow { .. } => "stack overflow",
        ErrorKind::Exit { .. } => "exit",
        _ => "trap",
    }
}

/// A `process-error` from the bindings as the public [`ProcessError`].
pub(crate) fn from_wit(error: wit::ProcessError) -> ProcessError {
    match error {
        wit::ProcessError::InvalidInput(m) => ProcessError::InvalidInput(m),
        wit::ProcessError::Unavailable(m) => ProcessError::Unavailable(m),
        wit::ProcessError::Internal(m) => ProcessError::Internal(m),
        wit::ProcessError::DeadlineExceeded => ProcessError::DeadlineExceeded,
        wit::ProcessError::Fatal(m) => ProcessError::Fatal(m),
    }
}

/// The `torvyn_guest::log` lines (`[level] message`) in captured stderr.
pub(super) fn parse_logs(stderr: &str) -> Vec<LogLine> {
    stderr
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix('[')?;
            let (level, message) = rest.split_once("] ")?;
            matches!(level, "debug" | "info" | "warn" | "error").then(|| LogLine {
                level: level.to_string(),
                message: message.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_messages_are_extracted_from_stderr() {
        let stderr = "\nthread '<unnamed>' panicked at src/lib.rs:14:9:\nboom: element 2\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            panic_message(stderr).as_deref(),
            Some("boom: element 2 (at src/lib.rs:14:9)")
        );
        assert_eq!(panic_message("nothing here"), None);
    }

    #[test]
    fn log_lines_are_parsed_by_level() {
        let logs = parse_logs("[info] started\nplain line\n[warn] slow: 3 ms\n[bogus] x\n");
        assert_eq!(
            logs,
            [
                LogLine {
                    level: "info".into(),
                    message: "started".into()
                },
                LogLine {
                    level: "warn".into(),
                    message: "slow: 3 ms".into()
                }
            ]
        );
    }
}
