//! What a build shows while it runs: one line when it starts (which crate,
//! profile, toolchain and target directory) and cargo's progress lines
//! (`Compiling ...`), written to the process's standard error directly, so
//! that `cargo test`'s output capture does not hold them back. A fully cached
//! build shows only the first line. `TORVYN_BUILD_QUIET=1` turns both off.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use super::{Profile, Toolchain};

fn quiet() -> bool {
    std::env::var_os("TORVYN_BUILD_QUIET").is_some_and(|v| !v.is_empty() && v != "0")
}

pub(super) fn show(line: &str) {
    if !quiet() {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

pub(super) fn started(manifest: &Path, profile: Profile, toolchain: &Toolchain, target_dir: &Path) {
    let name = std::fs::read_to_string(manifest)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|table| Some(table.get("package")?.get("name")?.as_str()?.to_owned()))
        .unwrap_or_else(|| manifest.display().to_string());
    show(&format!(
        "torvyn-testkit: building `{name}` for wasm32-wasip2 ({profile:?}, {} toolchain) in {}; \
         the first build compiles the SDK and can take minutes (TORVYN_BUILD_QUIET=1 hides this)",
        toolchain.name(),
        target_dir.display()
    ));
}

/// Passes cargo's progress lines through as they come and returns all of
/// its standard error, for the error report.
pub(super) fn pass_through(stderr: &mut impl Read) -> String {
    let mut text = String::new();
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        let trimmed = line.trim_start();
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
