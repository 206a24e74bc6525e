//! What the areas share: the command line builder [`Cli`], the testkit's
//! fixtures and the examples, and scratch files of each test's own.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use torvyn_testkit::Component;

/// One `torvyn-testkit` command line, built up flag by flag and run with
/// [`Cli::output`]. The guest builds' cargo output is hidden
/// (`TORVYN_BUILD_QUIET=1`), so stderr holds what the command itself says.
///
/// ```ignore
/// let out = Cli::new("run").manifest(&manifest).format("json").output();
/// ```
pub(crate) struct Cli(Command);

impl Cli {
    /// `torvyn-testkit <first>`: a verb (`run`, `test`, ...) or a flag (`--help`).
    pub(crate) fn new(first: &str) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_torvyn-testkit"));
        command.arg(first).env("TORVYN_BUILD_QUIET", "1");
        Cli(command)
    }

    /// One more argument, as given.
    pub(crate) fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.0.arg(arg);
        self
    }

    /// More arguments, as given.
    pub(crate) fn args<I>(mut self, args: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<OsStr>,
    {
        self.0.args(args);
        self
    }

    /// `--manifest <path>`.
    pub(crate) fn manifest(self, path: impl AsRef<OsStr>) -> Self {
        self.arg("--manifest").arg(path)
    }

    /// `--input <path>`.
    pub(crate) fn input(self, path: impl AsRef<OsStr>) -> Self {
        self.arg("--input").arg(path)
    }

    /// `--format <format>` (`human` or its alias `text`, `json`): a global
    /// option, so after the verb as before it.
    pub(crate) fn format(self, format: &str) -> Self {
        self.arg("--format").arg(format)
    }

    /// `--config <config>`.
    pub(crate) fn config(self, config: &str) -> Self {
        self.arg("--config").arg(config)
    }

    /// `--text <text>` for each of `texts`, in order.
    pub(crate) fn texts<'a>(mut self, texts: impl IntoIterator<Item = &'a str>) -> Self {
        for text in texts {
            self = self.arg("--text").arg(text);
        }
        self
    }

    /// Sets an environment variable of the command.
    pub(crate) fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.0.env(key, value);
        self
    }

    /// Runs the command in `dir`.
    pub(crate) fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.0.current_dir(dir);
        self
    }

    /// Removes an environment variable from the command's environment.
    pub(crate) fn env_remove(mut self, key: &str) -> Self {
        self.0.env_remove(key);
        self
    }

    /// Runs the command to its end.
    pub(crate) fn output(mut self) -> Output {
        self.0.output().expect("the CLI runs")
    }
}

/// Runs the `torvyn-testkit` binary with `args` (a [`Cli`] of them).
pub(crate) fn cli(args: &[&str]) -> Output {
    let (first, rest) = args.split_first().expect("a verb");
    Cli::new(first).args(rest).output()
}

/// A stream's bytes as text (lossy).
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The testkit's fixture `name` (a directory or a file).
pub(crate) fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../torvyn-testkit/tests/fixtures")
        .join(name)
}

/// The testkit's fixture crate `name`, built and loaded.
pub(crate) fn fixture(name: &str) -> Component {
    Component::build(fixture_path(name)).unwrap_or_else(|err| panic!("{err}"))
}

/// The `.wasm` of the testkit's fixture crate `name`, built but not loaded.
pub(crate) fn fixture_wasm(name: &str) -> PathBuf {
    torvyn_testkit::build_component(fixture_path(name)).unwrap_or_else(|err| panic!("{err}"))
}

/// The example crate `name` (`examples/<name>` of the workspace).
pub(crate) fn example_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

/// The flow-project fixture's `Torvyn.toml` (an upstream-schema manifest over
/// this repository's examples).
pub(crate) fn flow_project() -> PathBuf {
    fixture_path("flow-project/Torvyn.toml")
}

/// `name` in the scratch directory of the test that asks (created; `name`
/// itself is not). Every test has its own, named after the test (libtest runs
/// each test on a thread of that name): all areas share one process, and two
/// tests that each write an `in.jsonl` must not write one file.
pub(crate) fn temp(name: &str) -> PathBuf {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("unnamed").replace("::", "-");
    let dir = std::env::temp_dir()
        .join(format!("torvyn-cli-tests-{}", std::process::id()))
        .join(test);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A directory `name` in the asking test's scratch directory (created).
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let dir = temp(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
