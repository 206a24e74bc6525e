//! The error of a failed component build.

use std::fmt;
use std::path::Path;

use super::Toolchain;

pub(super) fn io_error(path: &Path, err: std::io::Error) -> BuildError {
    BuildError::new(
        BuildErrorKind::Io,
        format!("{}: {err}", path.display()),
        "check that the directory is writable".to_string(),
    )
}

/// What kind of failure a [`BuildError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildErrorKind {
    /// No toolchain can build `wasm32-wasip2` components.
    ToolchainMissing,
    /// The directory holds no crate.
    NotACrate,
    /// The crate did not compile.
    CompileFailed,
    /// The build succeeded but produced no component.
    NoArtifact,
    /// The build took longer than its time limit.
    Timeout,
    /// A file or process could not be used.
    Io,
    /// The `src/bindings.rs` of a cargo-component crate could not be
    /// generated (its WIT is missing or does not parse, its world is not
    /// there, or it depends on no bindings runtime).
    Bindings,
}

/// A failed component build: what failed, the command, the compiler's
/// diagnostics and what to do.
#[derive(Debug, Clone)]
pub struct BuildError {
    /// What kind of failure this is.
    pub kind: BuildErrorKind,
    /// One-line summary.
    pub summary: String,
    /// The cargo command that ran, if one did.
    pub command: Option<String>,
    /// The toolchain that was used, if one was found.
    pub toolchain: Option<Toolchain>,
    /// The compiler's rendered diagnostics (and cargo's own errors).
    pub diagnostics: String,
    /// What to do about it.
    pub hint: String,
}

impl BuildError {
    pub(crate) fn new(kind: BuildErrorKind, summary: String, hint: String) -> Self {
        Self {
            kind,
            summary,
            command: None,
            toolchain: None,
            diagnostics: String::new(),
            hint,
        }
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.summary.trim_end())?;
        if let Some(toolchain) = &self.toolchain {
            writeln!(f, "toolchain: {toolchain}")?;
        }
        if let Some(command) = &self.command {
            writeln!(f, "command: {command}")?;
        }
        if !self.diagnostics.trim().is_empty() {
            writeln!(f, "\n{}", self.diagnostics.trim_end())?;
        }
        write!(f, "\nhint: {}", self.hint)
    }
}

impl std::error::Error for BuildError {}
