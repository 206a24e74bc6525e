//! Diagnostic lines on WASI stderr, one line per message, prefixed by the level.
//!
//! The reference host captures each component's stderr, so these lines show up
//! in the testkit's per-component logs. On the host target (native unit tests)
//! the lines also go to stderr, and [`crate::testing::take_logs`] returns them.
//!
//! ```
//! torvyn_guest::log::info!("passed {} of {}", 3, 4);
//! torvyn_guest::log::warn!("window reset");
//! ```

use std::fmt;

/// Severity of a log line.
///
/// ```
/// use torvyn_guest::log::{self, Level};
/// log::write(Level::Warn, format_args!("retrying {}", 2));
/// assert_eq!(torvyn_guest::testing::take_logs(), ["[warn] retrying 2"]);
/// assert!(Level::Debug < Level::Error);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Detail for debugging.
    Debug,
    /// Normal operation.
    Info,
    /// Something unusual that the component handled.
    Warn,
    /// A failure.
    Error,
}

impl Level {
    /// The lowercase prefix written before the message (`"info"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// Write one line `"[level] message"` to stderr. Newlines inside the message are
/// escaped as `\n`, so one call is always one line.
///
/// ```
/// use torvyn_guest::log::{self, Level};
/// log::write(Level::Info, format_args!("two\nlines"));
/// assert_eq!(torvyn_guest::testing::take_logs(), ["[info] two\\nlines"]);
/// ```
pub fn write(level: Level, args: fmt::Arguments<'_>) {
    let message = args.to_string().replace('\r', "\\r").replace('\n', "\\n");
    let line = format!("[{}] {message}", level.as_str());
    crate::backend::record_log(&line);
    eprintln!("{line}");
}

/// Log at [`Level::Debug`], with `format!` arguments.
#[macro_export]
#[doc(hidden)]
macro_rules! __torvyn_log_debug {
    ($($arg:tt)+) => { $crate::log::write($crate::log::Level::Debug, ::core::format_args!($($arg)+)) };
}
/// Log at [`Level::Info`], with `format!` arguments.
#[macro_export]
#[doc(hidden)]
macro_rules! __torvyn_log_info {
    ($($arg:tt)+) => { $crate::log::write($crate::log::Level::Info, ::core::format_args!($($arg)+)) };
}
/// Log at [`Level::Warn`], with `format!` arguments.
#[macro_export]
#[doc(hidden)]
macro_rules! __torvyn_log_warn {
    ($($arg:tt)+) => { $crate::log::write($crate::log::Level::Warn, ::core::format_args!($($arg)+)) };
}
/// Log at [`Level::Error`], with `format!` arguments.
#[macro_export]
#[doc(hidden)]
macro_rules! __torvyn_log_error {
    ($($arg:tt)+) => { $crate::log::write($crate::log::Level::Error, ::core::format_args!($($arg)+)) };
}

#[doc(inline)]
pub use crate::__torvyn_log_debug as debug;
#[doc(inline)]
pub use crate::__torvyn_log_error as error;
#[doc(inline)]
pub use crate::__torvyn_log_info as info;
#[doc(inline)]
pub use crate::__torvyn_log_warn as warn;

#[cfg(test)]
mod tests {
    #[test]
    fn one_line_per_message_with_level_prefix() {
        crate::testing::take_logs();
        crate::log::warn!("two\nlines {}", 1);
        crate::log::info!("ok");
        assert_eq!(
            crate::testing::take_logs(),
            ["[warn] two\\nlines 1", "[info] ok"]
        );
    }
}
