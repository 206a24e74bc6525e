//! What a build shows while it runs: one line when it starts (which crate,
//! profile, toolchain and target directory) and cargo's progress lines
//! (`Compiling ...`), written to the process's standard error directly, so
//! that `cargo test`'s output capture does not hold them back. A fully cached
//! build shows only the first line. The first time in a process that a build
//! compiles a dependency (the SDK, wit-bindgen, ...; with the fallback
//! toolchain the standard library), one line says that this can take minutes;
//! never when everything is fresh. `TORVYN_BUILD_QUIET=1` turns all of it off.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Said, once per process, when a build first compiles a dependency.
const FIRST_BUILD_NOTE: &str = "torvyn-testkit: compiling the component's dependencies (the SDK, \
     wit-bindgen, ...) for wasm32-wasip2: a first build can take minutes, once per target \
     directory";

/// Whether this process has shown [`FIRST_BUILD_NOTE`].
static FIRST_BUILD_SHOWN: AtomicBool = AtomicBool::new(false);

use super::{Profile, Toolchain};

fn quiet() -> bool {
    std::env::var_os("TORVYN_BUILD_QUIET").is_some_and(|v| !v.is_empty() && v != "0")
}

pub(super) fn show(line: &str) {
    if !quiet() {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

/// The crate's package name, from its manifest (the manifest's path when it
/// cannot be read).
pub(super) fn package_name(manifest: &Path) -> String {
    std::fs::read_to_string(manifest)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|table| Some(table.get("package")?.get("name")?.as_str()?.to_owned()))
        .unwrap_or_else(|| manifest.display().to_string())
}

pub(super) fn started(manifest: &Path, profile: Profile, toolchain: &Toolchain, target_dir: &Path) {
    let name = package_name(manifest);
    show(&format!(
        "torvyn-testkit: building `{name}` for wasm32-wasip2 ({profile:?}, {} toolchain) in {} \
         (TORVYN_BUILD_QUIET=1 hides this)",
        toolchain.name(),
        target_dir.display()
    ));
}

/// [`FIRST_BUILD_NOTE`] when cargo's line `line` compiles a crate other than
/// `own` (the crate being built) and `shown` was not yet set; sets it.
fn first_build_note(line: &str, own: &str, shown: &AtomicBool) -> Option<&'static str> {
    let compiled = line.strip_prefix("Compiling ")?.split_whitespace().next()?;
    (compiled != own && !shown.swap(true, Ordering::Relaxed)).then_some(FIRST_BUILD_NOTE)
}

/// Passes cargo's progress lines through as they come and returns all of
/// its standard error, for the error report; `own` is the package being built.
pub(super) fn pass_through(stderr: &mut impl Read, own: &str) -> String {
    let mut text = String::new();
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        let trimmed = line.trim_start();
        if let Some(note) = first_build_note(trimmed, own, &FIRST_BUILD_SHOWN) {
            show(note);
        }
        if ["Compiling", "Downloaded", "Updating", "Locking", "Blocking"]
            .iter()
            .any(|word| trimmed.starts_with(word))
        {
            show(&format!("torvyn-testkit:   {trimmed}"));
        }
        text.push_str(&line);
        text.push('\n');
    }
    text
}

/// Write one line of build progress to standard error, as the build's own
/// lines are (hidden by `TORVYN_BUILD_QUIET=1`).
pub(crate) fn progress_line(line: &str) {
    show(line);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_build_note_comes_once_and_only_when_a_dependency_compiles() {
        let shown = AtomicBool::new(false);
        // Fresh builds and the crate's own compilation say nothing.
        assert_eq!(
            first_build_note("Finished `dev` profile", "my-filter", &shown),
            None
        );
        assert_eq!(
            first_build_note(
                "Compiling my-filter v0.1.0 (/p/my-filter)",
                "my-filter",
                &shown
            ),
            None
        );
        assert_eq!(
            first_build_note("Blocking waiting for file lock", "my-filter", &shown),
            None
        );
        // The first dependency compiled: once per process.
        assert_eq!(
            first_build_note("Compiling torvyn-guest v0.1.0", "my-filter", &shown),
            Some(FIRST_BUILD_NOTE)
        );
        assert_eq!(
            first_build_note("Compiling wit-bindgen v0.61.1", "other", &shown),
            None
        );
    }
}
