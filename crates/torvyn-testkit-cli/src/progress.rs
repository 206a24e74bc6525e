//! Progress on a terminal: which crate is building, and a running count of
//! delivered elements while a flow runs, so that nothing is silent for more
//! than a moment.
//!
//! Everything here draws on stderr, and only when stderr is a terminal: with
//! stderr redirected (a pipe, a file, a test), [`Progress::new`] is a no-op
//! and the output is exactly what it is without progress. On a terminal the
//! library's own build lines (`torvyn-testkit: building ...`, cargo's
//! `Compiling ...`) are turned off (`TORVYN_BUILD_QUIET=1`, unless the user
//! set it), since they would tear the spinner; the spinner names the crate
//! instead, and a failed build still reports cargo's errors in full.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use torvyn_testkit::Role;
use torvyn_testkit::manifest::{ComponentRef, Manifest};

/// How often a spinner redraws on its own, also while a call blocks.
const TICK: Duration = Duration::from_millis(120);

/// `-q`: no progress at all.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Draw no progress from now on (`-q/--quiet`).
pub(crate) fn set_quiet() {
    QUIET.store(true, Ordering::Relaxed);
}

/// Progress for one command; inert when stderr is not a terminal.
#[derive(Clone)]
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Whether progress is drawn: stderr is a terminal, and no `-q`.
    pub(crate) fn wanted() -> bool {
        !QUIET.load(Ordering::Relaxed) && std::io::stderr().is_terminal()
    }

    /// Progress on stderr if it is a terminal, else none.
    pub(crate) fn new() -> Self {
        if !Self::wanted() {
            return Progress { bar: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(TICK);
        Progress { bar: Some(bar) }
    }

    /// Progress that draws nothing.
    #[cfg(test)]
    pub(crate) fn inert() -> Self {
        Progress { bar: None }
    }

    /// Whether anything is drawn.
    pub(crate) fn is_active(&self) -> bool {
        self.bar.is_some()
    }

    /// Show `message` as the current step.
    pub(crate) fn step(&self, message: impl Into<String>) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.into());
        }
    }

    /// The running count: `running flow `main`: N elements delivered`.
    pub(crate) fn running(&self, flow: Option<&str>) {
        if let Some(bar) = &self.bar {
            let flow = flow.map_or_else(String::new, |flow| format!(" `{flow}`"));
            bar.set_position(0);
            bar.set_style(
                ProgressStyle::with_template(&format!(
                    "{{spinner}} running flow{flow}: {{pos}} elements delivered [{{elapsed}}]"
                ))
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
        }
    }

    /// One more element delivered (cheap: an atomic add; drawing is rate-limited).
    pub(crate) fn delivered(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// Run `write` with the spinner hidden, so lines printed meanwhile are
    /// not mixed into it.
    pub(crate) fn suspend<R>(&self, write: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    /// Remove the spinner (before the report is printed).
    pub(crate) fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// Build the crates of `flow` (or of every flow) one by one, naming each,
    /// so a long first build is not silent. The pipeline's own load builds
    /// them again, which cargo then finds fresh. Build errors are left for that
    /// load (or `check`) to report in full; `skip_sources` skips the source
    /// nodes (replaced by `--input`, so never built).
    pub(crate) fn build_crates(&self, manifest: &Path, flow: Option<&str>, skip_sources: bool) {
        if !self.is_active() {
            return;
        }
        let Ok(manifest) = Manifest::from_path(manifest) else {
            return;
        };
        let flows: Vec<_> = match flow {
            Some(name) => manifest.flow(Some(name)).into_iter().collect(),
            None => manifest.flows.values().collect(),
        };
        let mut crates: Vec<(&str, &Path)> = Vec::new();
        for flow in flows {
            for node in flow.nodes.values() {
                if skip_sources && node.interface == Role::Source {
                    continue;
                }
                if let ComponentRef::Crate { name, path, .. } = &node.component
                    && !crates.iter().any(|(_, seen)| *seen == path.as_path())
                {
                    crates.push((name, path));
                }
            }
        }
        let total = crates.len();
        for (index, (name, path)) in crates.into_iter().enumerate() {
            let dir = path.file_name().map_or_else(
                || path.display().to_string(),
                |dir| dir.to_string_lossy().into_owned(),
            );
            self.step(format!(
                "building component {}/{total}: {name} ({dir})",
                index + 1,
            ));
            // An error is reported by the load that follows.
            let _ = torvyn_testkit::build_component(path);
        }
    }
}
