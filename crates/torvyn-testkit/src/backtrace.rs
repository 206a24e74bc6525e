//! Wasm backtraces of traps and panics, symbolised to the author's source.
//!
//! What the frames are and how an error shows them: [`Frame`].

use std::fmt;

/// Whether `TORVYN_BACKTRACE=full` asks for wasmtime's raw wasm backtrace of a
/// trap (its frame addresses and every internal frame) besides the symbolised
/// frames: it is then the first cause in the [`Error`](crate::Error)'s
/// `source()` chain, which `Debug`, `anyhow` and the CLI print. Read on every
/// use, so a test can set it.
pub(crate) fn raw_requested() -> bool {
    std::env::var_os("TORVYN_BACKTRACE").is_some_and(|value| value == "full")
}

/// One wasm frame of a trap's backtrace (innermost first).
///
/// Inlined calls appear as frames of their own, innermost first, as in a
/// native backtrace.
///
/// The reference host compiles components with wasmtime's
/// `wasm_backtrace_details`, so when a component built with debug info (the
/// testkit's default debug profile) traps, every wasm frame is resolved through
/// the component's DWARF to a Rust function name and `file:line`. A component
/// without debug info (a stripped release build) still gets function names from
/// its `name` section.
///
/// [`Error::backtrace`](crate::Error::backtrace) gives the frames as data; the
/// error's `Display` shows the author's frames and collapses the ones inside the
/// standard library, the SDK and the generated glue:
///
/// ```text
/// node `buggy` (filter) trapped in `evaluate`: the component panicked: too long (at src/lib.rs:23:13)
///   wasm backtrace (innermost first; 19 std/SDK/glue frames hidden):
///     buggy::check at src/lib.rs:23:13
///     <buggy::Buggy as ...::Guest>::evaluate at src/lib.rs:31:9
/// ```
///
/// wasmtime's own, raw backtrace (addresses and every frame) is shown only on
/// request: with `TORVYN_BACKTRACE=full` it is the first cause in the error's
/// `source()` chain (and so in its `Debug`, in `anyhow`'s report and in the
/// CLI's `caused by:` lines; the CLI's `-v` sets it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The demangled Rust function name, when the component has a name
    /// section or debug info (`raw_panic_filter::check`).
    pub function: Option<String>,
    /// The source file, from the component's debug info, as the compiler saw
    /// it (relative to the workspace the component was built in, or absolute).
    pub file: Option<String>,
    /// The 1-based line, from debug info.
    pub line: Option<u32>,
    /// The 1-based column, from debug info.
    pub column: Option<u32>,
    /// Whether the frame is inside the standard library, `torvyn-guest`,
    /// wit-bindgen or other generated glue (collapsed in the error's `Display`).
    pub internal: bool,
}

impl Frame {
    /// `file:line` (or `file:line:column`), when known.
    pub fn location(&self) -> Option<String> {
        let file = self.file.as_deref()?;
        Some(match (self.line, self.column) {
            (Some(line), Some(column)) => format!("{file}:{line}:{column}"),
            (Some(line), None) => format!("{file}:{line}"),
            _ => file.to_string(),
        })
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.function.as_deref().unwrap_or("<unnamed function>"))?;
        if let Some(location) = self.location() {
            write!(f, " at {location}")?;
        }
        Ok(())
    }
}

/// The frames of the wasm backtrace attached to a wasmtime error, if any.
pub(crate) fn frames(err: &wasmtime::Error) -> Option<Vec<Frame>> {
    let backtrace = err.downcast_ref::<wasmtime::WasmBacktrace>()?;
    let mut frames = Vec::new();
    for info in backtrace.frames() {
        let func_name = info.func_name().map(demangle);
        if info.symbols().is_empty() {
            frames.push(frame(func_name, None, None, None));
            continue;
        }
        for symbol in info.symbols() {
            let name = symbol.name().map(demangle).or_else(|| func_name.clone());
            frames.push(frame(
                name,
                symbol.file().map(str::to_string),
                symbol.line(),
                symbol.column(),
            ));
        }
    }
    (!frames.is_empty()).then_some(frames)
}

fn frame(
    function: Option<String>,
    file: Option<String>,
    line: Option<u32>,
    column: Option<u32>,
) -> Frame {
    let internal = is_internal(function.as_deref(), file.as_deref());
    Frame {
        function,
        file,
        line,
        column,
        internal,
    }
}

fn demangle(name: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(name))
}

/// Crates and symbols whose frames are not the author's code.
const INTERNAL_PREFIXES: &[&str] = &[
    "std::",
    "core::",
    "alloc::",
    "panic_abort::",
    "panic_unwind::",
    "dlmalloc::",
    "wasi::",
    "wit_bindgen",
    "torvyn_guest::",
    "__rust",
    "__main",
    "__wasm",
    "rust_begin_unwind",
    "rust_panic",
    "abort",
    "cabi_",
    "<std::",
    "<core::",
    "<alloc::",
    "<torvyn_guest::",
    "<wit_bindgen",
];

fn is_internal(function: Option<&str>, file: Option<&str>) -> bool {
    if let Some(file) = file
        && (file.starts_with("/rustc/")
            || file.contains("/library/std/")
            || file.contains("/library/core/")
            || file.contains("/library/alloc/")
            || file.contains("/.cargo/registry/")
            || file.contains("torvyn-guest/src/")
            || file.contains("wit-bindgen"))
    {
        return true;
    }
    match function {
        None => file.is_none(),
        Some(name) => {
            INTERNAL_PREFIXES
                .iter()
                .any(|prefix| name.starts_with(prefix))
                || name.contains("::_export_")
                || name.contains("_cabi")
                || name.contains("__torvyn")
                || name.contains("__Torvyn")
                || name.starts_with("wit-component:")
                || is_export_shim(name)
                || name.contains("adapter")
        }
    }
}

/// The component's export shim, named after the WIT function it exports
/// (`torvyn:filtering/filter@0.1.0#evaluate`): glue, at the line of the
/// attribute or `generate!` that made it.
fn is_export_shim(name: &str) -> bool {
    name.split_once('#')
        .is_some_and(|(interface, _)| interface.contains(':') && interface.contains('/'))
}

/// The backtrace as the error's `Display` shows it: the author's frames, and
/// how many internal frames were hidden. Writes nothing for an empty trace.
pub(crate) fn write(f: &mut fmt::Formatter<'_>, frames: &[Frame]) -> fmt::Result {
    if frames.is_empty() {
        return Ok(());
    }
    let hidden = frames.iter().filter(|frame| frame.internal).count();
    let shown: Vec<&Frame> = if hidden == frames.len() {
        // Nothing recognisably the author's: show everything rather than nothing.
        frames.iter().collect()
    } else {
        frames.iter().filter(|frame| !frame.internal).collect()
    };
    write!(f, "\n  wasm backtrace (innermost first")?;
    if shown.len() < frames.len() {
        write!(f, "; {hidden} std/SDK/glue frames hidden")?;
    }
    f.write_str("):")?;
    // Files below the working directory (a test's is its crate's) are shown
    // relative to it, as the panic message shows them: `src/lib.rs:22:9`.
    let cwd = std::env::current_dir().ok();
    for frame in shown {
        write!(
            f,
            "\n    {}",
            frame.function.as_deref().unwrap_or("<unnamed function>")
        )?;
        if let Some(location) = frame.location() {
            let relative = cwd
                .as_deref()
                .and_then(|cwd| std::path::Path::new(&location).strip_prefix(cwd).ok())
                .map(|path| path.display().to_string());
            write!(f, " at {}", relative.unwrap_or(location))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn std_sdk_and_glue_frames_are_internal() {
        assert!(is_internal(Some("core::panicking::panic_fmt"), None));
        assert!(is_internal(
            Some("std::panicking::begin_panic"),
            Some("/rustc/abc/library/std/src/panicking.rs")
        ));
        assert!(is_internal(
            Some("raw_filter::exports::torvyn::filtering::filter::_export_evaluate_cabi"),
            Some("src/lib.rs")
        ));
        assert!(is_internal(
            Some("<torvyn_guest::element::Element>::payload"),
            None
        ));
        assert!(!is_internal(
            Some("raw_buggy_filter::check"),
            Some("raw-buggy-filter/src/lib.rs")
        ));
        assert!(!is_internal(Some("my_filter::check"), None));
        // The SDK macro's glue and the export shim, at the attribute's line.
        assert!(is_internal(
            Some("<my_filter::__TorvynComponent as torvyn_guest::__private::Filter>::evaluate"),
            Some("/home/me/my-filter/src/lib.rs")
        ));
        assert!(is_internal(
            Some("torvyn:filtering/filter@0.1.0#evaluate"),
            Some("/home/me/my-filter/src/lib.rs")
        ));
        assert!(!is_internal(
            Some("my_filter::Filter::evaluate"),
            Some("/home/me/my-filter/src/lib.rs")
        ));
    }

    #[test]
    fn frames_display_function_and_location() {
        let frame = frame(
            Some("my_filter::check".into()),
            Some("src/lib.rs".into()),
            Some(12),
            Some(9),
        );
        assert_eq!(frame.to_string(), "my_filter::check at src/lib.rs:12:9");
        let bare = Frame {
            file: None,
            line: None,
            column: None,
            ..frame
        };
        assert_eq!(bare.to_string(), "my_filter::check");
    }
}
