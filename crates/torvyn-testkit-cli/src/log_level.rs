//! `--log-level error|warn|info|debug|trace`: which of the components' log
//! lines (`[level] message` on stderr, as `torvyn_guest::log` writes them)
//! and of the command's own notes and warnings are shown. Errors are always
//! shown; lines a component writes without a level are its output, not logs,
//! and are always passed through.

use std::sync::OnceLock;

use clap::ValueEnum;

/// A log level, least verbose first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub(crate) enum LogLevel {
    /// Only errors.
    Error,
    /// Also warnings (the command's own, e.g. a failed teardown).
    Warn,
    /// Also information (the command's notes; the default).
    #[default]
    Info,
    /// Also the components' `[debug]` lines.
    Debug,
    /// Everything (the components' `[trace]` lines too).
    Trace,
}

static THRESHOLD: OnceLock<LogLevel> = OnceLock::new();

/// Set the level for this process (the first call wins: one verb runs).
pub(crate) fn set(level: LogLevel) {
    let _ = THRESHOLD.set(level);
}

/// Whether a message at `level` is shown.
pub(crate) fn enabled(level: LogLevel) -> bool {
    level <= THRESHOLD.get().copied().unwrap_or_default()
}

/// Whether a component's stderr line is shown: a `[level] ...` line by its
/// level, any other line always.
pub(crate) fn shows_component_line(line: &[u8]) -> bool {
    let level = match line {
        [b'[', rest @ ..] => rest
            .iter()
            .position(|&b| b == b']')
            .and_then(|end| std::str::from_utf8(&rest[..end]).ok())
            .and_then(|name| LogLevel::from_str(name, false).ok()),
        _ => None,
    };
    level.is_none_or(enabled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_from_error_to_trace() {
        assert!(LogLevel::Error < LogLevel::Warn && LogLevel::Debug < LogLevel::Trace);
        // The default threshold is `info`.
        assert!(enabled(LogLevel::Info) || THRESHOLD.get().is_some());
        assert!(shows_component_line(b"plain output"));
        assert!(shows_component_line(b"[not a level] x"));
    }
}
