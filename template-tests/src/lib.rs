//! Proves the project templates in `templates/`: generates each one with
//! `torvyn-testkit init` (the templates embedded in the command line) and with
//! the real `cargo generate`, checks the two are byte-identical, points its
//! dependencies at this workspace, runs `cargo test` in the generated project
//! and checks that tests ran.
//!
//! The tests are in `tests/it/` (`templates.rs`, `add_component.rs`); this
//! library holds the steps.
//!
//! ```no_run
//! let project = template_tests::generate("filter", "my-filter")?;
//! let run = template_tests::cargo_test(&project)?;
//! assert!(run.passed > 0 && run.failed == 0);
//! # Ok::<(), String>(())
//! ```

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The workspace root (the directory of the root `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("template-tests is a workspace member")
        .to_path_buf()
}

/// Where generated projects, and their shared target directory, live:
/// `target/template-projects` of the workspace (override with
/// `TORVYN_TEMPLATE_WORKDIR`).
pub fn work_dir() -> PathBuf {
    std::env::var_os("TORVYN_TEMPLATE_WORKDIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/template-projects"))
}

/// Fails with a clear message when `cargo generate` is not installed.
///
/// # Errors
/// A message telling to run `./scripts/setup.sh`.
pub fn check_cargo_generate() -> Result<String, String> {
    let out = Command::new("cargo")
        .args(["generate", "--version"])
        .output()
        .map_err(|err| format!("cannot run cargo: {err}"))?;
    if !out.status.success() {
        return Err(format!(
            "`cargo generate` is not installed (cargo said: {}); run ./scripts/setup.sh, \
             which installs cargo-generate 0.23.14",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Generates `templates/<template>` as project `name` with `torvyn-testkit
/// init` into a fresh directory `<work dir>/gen/<template>/<name>`, with its
/// dependencies pointing at this workspace by path (`--torvyn-path
/// <workspace>`); generates it with `cargo generate` (`--define
/// torvyn_path=<workspace>`) into `<work dir>/gen-cargo-generate/<template>`
/// and checks that the two are byte-identical; then copies the workspace's
/// `Cargo.lock` into the `init` one so it resolves to the versions this
/// workspace is tested with. Returns the `init` project's directory.
///
/// # Errors
/// When `init` or `cargo generate` fails, or their projects differ.
pub fn generate(template: &str, name: &str) -> Result<PathBuf, String> {
    let root = workspace_root();
    let expected = generate_into(
        template,
        name,
        Some(&root),
        &work_dir().join("gen-cargo-generate").join(template),
    )?;
    let project = init_into(
        template,
        name,
        Some(&root),
        &work_dir().join("gen").join(template),
    )?;
    let differences = tree_differences(&expected, &project)?;
    if !differences.is_empty() {
        return Err(format!(
            "`torvyn-testkit init` and `cargo generate` of `{template}` differ:\n  {}",
            differences.join("\n  ")
        ));
    }
    std::fs::copy(root.join("Cargo.lock"), project.join("Cargo.lock"))
        .map_err(|err| format!("cannot copy Cargo.lock: {err}"))?;
    Ok(project)
}

/// Upstream torvyn's `--template` name of this toolkit's template
/// (`processor` is `transform`, `pipeline` is `full-pipeline`).
pub fn upstream_template(template: &str) -> &str {
    match template {
        "processor" => "transform",
        "pipeline" => "full-pipeline",
        other => other,
    }
}

/// The `torvyn-testkit` binary of this workspace, built once per test process
/// (`cargo build -p torvyn-testkit-cli`: a no-op when it is fresh, which it is
/// under `cargo test --workspace`).
///
/// # Errors
/// When the build fails.
pub fn cli() -> Result<PathBuf, String> {
    static CLI: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    CLI.get_or_init(|| {
        let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args([
                "build",
                "-p",
                "torvyn-testkit-cli",
                "--bin",
                "torvyn-testkit",
                "--message-format=json-render-diagnostics",
            ])
            .current_dir(workspace_root())
            .output()
            .map_err(|err| format!("cannot run cargo: {err}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let executable = stdout
            .lines()
            .filter(|line| line.contains("\"torvyn-testkit\""))
            .find_map(|line| {
                let (_, rest) = line.split_once("\"executable\":\"")?;
                rest.split_once('"').map(|(path, _)| PathBuf::from(path))
            });
        match executable {
            Some(path) if out.status.success() => Ok(path),
            _ => Err(format!(
                "`cargo build -p torvyn-testkit-cli` failed ({}):\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )),
        }
    })
    .clone()
}

/// Generates `templates/<template>` as project `name` into the fresh directory
/// `destination` (removed first) with `torvyn-testkit init --no-git`, by its
/// upstream name ([`upstream_template`]), with `--torvyn-path` when given
/// (without it, crates.io dependencies). Returns `<destination>/<name>`.
///
/// # Errors
/// When the command line cannot be built or `init` fails.
pub fn init_into(
    template: &str,
    name: &str,
    torvyn_path: Option<&Path>,
    destination: &Path,
) -> Result<PathBuf, String> {
    let cli = cli()?;
    if destination.exists() {
        std::fs::remove_dir_all(destination)
            .map_err(|err| format!("cannot clean {}: {err}", destination.display()))?;
    }
    std::fs::create_dir_all(destination).map_err(|err| err.to_string())?;
    let mut command = Command::new(cli);
    command
        .args(["init", name, "--no-git", "--template"])
        .arg(upstream_template(template))
        .current_dir(destination);
    if let Some(path) = torvyn_path {
        command.arg("--torvyn-path").arg(path);
    }
    let out = command
        .output()
        .map_err(|err| format!("cannot run torvyn-testkit init: {err}"))?;
    let project = destination.join(name);
    if !out.status.success() || !project.join("Cargo.toml").is_file() {
        return Err(format!(
            "`torvyn-testkit init` of `{template}` failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(project)
}

/// Every file under `dir`, by its path relative to `dir`, with its bytes.
fn tree(dir: &Path) -> Result<std::collections::BTreeMap<PathBuf, Vec<u8>>, String> {
    let mut found = std::collections::BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current)
            .map_err(|err| format!("cannot read {}: {err}", current.display()))?;
        for entry in entries {
            let path = entry.map_err(|err| err.to_string())?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let bytes = std::fs::read(&path)
                    .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
                found.insert(path.strip_prefix(dir).unwrap_or(&path).to_path_buf(), bytes);
            }
        }
    }
    Ok(found)
}

/// How the files under `actual` differ from those under `expected`: one line
/// per missing, extra or changed file (empty when byte-identical).
///
/// # Errors
/// When a directory or file cannot be read.
pub fn tree_differences(expected: &Path, actual: &Path) -> Result<Vec<String>, String> {
    let (expected_files, actual_files) = (tree(expected)?, tree(actual)?);
    let mut differences = Vec::new();
    for (path, bytes) in &expected_files {
        match actual_files.get(path) {
            None => differences.push(format!("{} is missing", path.display())),
            Some(actual) if actual != bytes => differences.push(format!(
                "{} differs:\n--- cargo generate\n{}\n--- init\n{}",
                path.display(),
                String::from_utf8_lossy(bytes),
                String::from_utf8_lossy(actual)
            )),
            Some(_) => {}
        }
    }
    for path in actual_files
        .keys()
        .filter(|path| !expected_files.contains_key(*path))
    {
        differences.push(format!("{} is extra", path.display()));
    }
    Ok(differences)
}

/// Generates `templates/<template>` as project `name` into the fresh directory
/// `destination` (removed first) with `cargo generate --silent --vcs none`,
/// defining `torvyn_path` when given (without it, the template's default:
/// crates.io dependencies). Returns `<destination>/<name>`.
///
/// # Errors
/// When `cargo generate` is missing or fails.
pub fn generate_into(
    template: &str,
    name: &str,
    torvyn_path: Option<&Path>,
    destination: &Path,
) -> Result<PathBuf, String> {
    check_cargo_generate()?;
    if destination.exists() {
        std::fs::remove_dir_all(destination)
            .map_err(|err| format!("cannot clean {}: {err}", destination.display()))?;
    }
    std::fs::create_dir_all(destination).map_err(|err| err.to_string())?;
    let mut command = Command::new("cargo");
    command
        .arg("generate")
        .arg("--path")
        .arg(workspace_root().join("templates").join(template))
        .args(["--name", name, "--silent", "--vcs", "none"])
        .arg("--destination")
        .arg(destination);
    if let Some(path) = torvyn_path {
        command
            .arg("--define")
            .arg(format!("torvyn_path={}", path.display()));
    }
    let out = command
        .output()
        .map_err(|err| format!("cannot run cargo generate: {err}"))?;
    let project = destination.join(name);
    if !out.status.success() || !project.join("Cargo.toml").is_file() {
        return Err(format!(
            "cargo generate of `{template}` failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(project)
}

/// Builds the component crate in `crate_dir` with its own release profile for
/// `wasm32-wasip2` (what `cargo build --release --target wasm32-wasip2` does,
/// through `torvyn_testkit::ComponentBuild`, so it works with either wasm toolchain) into
/// `<work dir>/wasm-release`, and checks that the result is a component.
/// Returns the `.wasm` path and its size.
///
/// # Errors
/// The build error, or why the file is not a WebAssembly component.
pub fn release_build(crate_dir: &Path) -> Result<(PathBuf, u64), String> {
    use torvyn_testkit::{ComponentBuild, Profile};
    let wasm = ComponentBuild::new(crate_dir)
        .profile(Profile::Release)
        .target_dir(work_dir().join("wasm-release"))
        .build()
        .map_err(|err| format!("release build of {} failed:\n{err}", crate_dir.display()))?;
    let bytes = std::fs::read(&wasm).map_err(|err| format!("{}: {err}", wasm.display()))?;
    // `\0asm`, then the component-model layer (version 0x0d, layer 1).
    if bytes.len() < 8 || bytes[..4] != *b"\0asm" || bytes[4..8] != [0x0d, 0x00, 0x01, 0x00] {
        return Err(format!("{} is not a WebAssembly component", wasm.display()));
    }
    Ok((wasm, bytes.len() as u64))
}

/// Files under `project` (outside `target/`) that still contain `{{` or `{%`:
/// template syntax that cargo-generate did not expand.
pub fn unexpanded_placeholders(project: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![project.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if entry.file_name() != "target" {
                    dirs.push(path);
                }
            } else if let Ok(text) = std::fs::read_to_string(&path)
                && (text.contains("{{") || text.contains("{%"))
            {
                found.push(path);
            }
        }
    }
    found
}

/// What one `cargo test` run of a generated project reported.
#[derive(Debug, Clone, Default)]
pub struct TestRun {
    /// Tests passed, summed over every `test result:` line.
    pub passed: u64,
    /// Tests failed, summed over every `test result:` line.
    pub failed: u64,
    /// `(test target, passed)` for each test target cargo ran, such as
    /// `("unittests src/lib.rs", 3)` or `("tests/wasm.rs", 1)`.
    pub targets: Vec<(String, u64)>,
    /// How long `cargo test` took.
    pub elapsed: Duration,
    /// cargo's standard output and error, for failure messages.
    pub output: String,
}

impl TestRun {
    /// What a failure message should show first: every failed test's captured
    /// output (the `---- <test> stdout ----` blocks of the harness, with its
    /// panic message), cargo's `error` lines when the build failed, and at most
    /// `MAX_LINES` lines of it, so the cause comes before the long log.
    pub fn failures(&self) -> String {
        const MAX_LINES: usize = 80;
        let mut summary = Vec::new();
        let mut in_block = false;
        for line in self.output.lines() {
            if line.starts_with("---- ") && line.ends_with(" ----") {
                in_block = true;
            } else if line == "failures:" || line.starts_with("test result:") {
                in_block = false;
            }
            let build_error = line.starts_with("error") && !line.starts_with("error: test failed");
            if in_block || build_error {
                summary.push(line);
            }
        }
        let total = summary.len();
        summary.truncate(MAX_LINES);
        let mut text = summary.join("\n");
        if total > MAX_LINES {
            text.push_str(&format!("\n... ({} more lines)", total - MAX_LINES));
        }
        if text.is_empty() {
            text.push_str("(no failed test's output found; the whole log follows)");
        }
        text
    }

    /// cargo's ``warning: `<package>` (...) generated N warnings`` lines for the
    /// packages whose name starts with `package_prefix` (a generated project's
    /// own crates), so that warnings of the generated code fail the test while
    /// those of its dependencies do not.
    pub fn warnings_in(&self, package_prefix: &str) -> Vec<&str> {
        let marker = format!("warning: `{package_prefix}");
        self.output
            .lines()
            .filter(|line| line.trim_start().starts_with(&marker))
            .collect()
    }

    /// Tests passed in the target whose name ends with `suffix` (0 when absent).
    pub fn passed_in(&self, suffix: &str) -> u64 {
        self.targets
            .iter()
            .filter(|(target, _)| target.ends_with(suffix))
            .map(|(_, passed)| passed)
            .sum()
    }
}

/// Parses cargo test's output: `Running <target> (...)` / `Doc-tests <crate>`
/// headers, each followed by a `test result: ok. N passed; M failed; ...` line.
pub fn parse_test_output(output: &str) -> TestRun {
    let mut run = TestRun::default();
    let mut current = String::new();
    for line in output.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("Running ") {
            current = rest.split(" (").next().unwrap_or(rest).to_string();
        } else if let Some(rest) = line.strip_prefix("Doc-tests ") {
            current = format!("doc-tests {rest}");
        } else if let Some(rest) = line.strip_prefix("test result: ") {
            let count = |word: &str| -> u64 {
                rest.split(';')
                    .filter_map(|part| {
                        let part = part
                            .trim()
                            .trim_start_matches("ok.")
                            .trim_start_matches("FAILED.");
                        let (n, what) = part.trim().split_once(' ')?;
                        (what == word).then(|| n.parse::<u64>().ok()).flatten()
                    })
                    .sum()
            };
            let passed = count("passed");
            run.passed += passed;
            run.failed += count("failed");
            run.targets.push((std::mem::take(&mut current), passed));
        }
    }
    run.output = output.to_string();
    run
}

/// Runs `cargo test` in a generated project with the shared target
/// directories: `CARGO_TARGET_DIR=<work dir>/target` (its dependencies compile
/// once for every template) and `TORVYN_WASM_TARGET_DIR=<workspace>/target/torvyn-wasm`
/// (the wasm builds share the workspace's). The outer build's `RUSTFLAGS` are
/// removed; [`TestRun::warnings_in`] finds warnings of the generated crates.
///
/// # Errors
/// When cargo cannot be started. A failing `cargo test` is not an error here:
/// the returned [`TestRun`] holds the counts and the output.
pub fn cargo_test(project: &Path) -> Result<TestRun, String> {
    cargo_test_with(project, &[])
}

/// [`cargo_test`] with more arguments: `cargo_test_with(project, &["--test",
/// "prop"])` runs only `tests/prop.rs`.
///
/// # Errors
/// As [`cargo_test`].
pub fn cargo_test_with(project: &Path, args: &[&str]) -> Result<TestRun, String> {
    let started = Instant::now();
    let mut command = vec!["test"];
    command.extend_from_slice(args);
    let (status, output) = run_cargo(project, &command)?;
    let mut run = parse_test_output(&output);
    run.elapsed = started.elapsed();
    if !status.success() && run.failed == 0 {
        // A build failure: no test ran, but it must not look like success.
        run.failed = 1;
    }
    Ok(run)
}

/// Runs `cargo clippy --all-targets` in a generated project (same environment
/// as [`cargo_test`]) and returns clippy's summary lines for the project's own
/// packages (those whose name starts with `package_prefix`): empty when the
/// generated code is clippy-clean.
///
/// # Errors
/// When cargo cannot be started or clippy fails to build the project.
pub fn cargo_clippy(project: &Path, package_prefix: &str) -> Result<Vec<String>, String> {
    let (status, output) = run_cargo(project, &["clippy", "--all-targets"])?;
    if !status.success() {
        return Err(format!(
            "`cargo clippy` failed in {}:\n{output}",
            project.display()
        ));
    }
    let run = parse_test_output(&output);
    let warnings: Vec<String> = run
        .warnings_in(package_prefix)
        .into_iter()
        .map(str::to_string)
        .collect();
    if warnings.is_empty() {
        Ok(warnings)
    } else {
        Err(format!(
            "clippy warnings in {}: {warnings:?}\n{output}",
            project.display()
        ))
    }
}

/// Runs `cargo <args>` in `project` with the shared target directories, and
/// returns its status and interleaved stdout and stderr.
fn run_cargo(project: &Path, args: &[&str]) -> Result<(std::process::ExitStatus, String), String> {
    let root = workspace_root();
    let mut command = Command::new("cargo");
    command
        .args(args)
        .current_dir(project)
        .env("CARGO_TARGET_DIR", work_dir().join("target"))
        .env("TORVYN_WASM_TARGET_DIR", root.join("target/torvyn-wasm"))
        .env("CARGO_TERM_COLOR", "never")
        // The guest builds' cargo chatter would bury a failed test's message.
        .env("TORVYN_BUILD_QUIET", "1")
        // The outer test run's settings must not leak into the project's build.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("CARGO_PRIMARY_PACKAGE")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        // A failed test prints what a user sees by default: no host backtrace.
        .env_remove("RUST_BACKTRACE");
    // One pipe for stdout and stderr, so that cargo's `Running <target>` lines
    // (stderr) and the harness's `test result:` lines (stdout) stay in order.
    let (mut reader, writer) =
        std::io::pipe().map_err(|err| format!("cannot make a pipe: {err}"))?;
    let writer_clone = writer
        .try_clone()
        .map_err(|err| format!("cannot clone a pipe: {err}"))?;
    command.stdout(writer_clone).stderr(writer);
    let mut child = command
        .spawn()
        .map_err(|err| format!("cannot run cargo {args:?}: {err}"))?;
    // The command holds the pipe's write ends; drop them so reading ends with cargo.
    drop(command);
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|err| format!("cannot read cargo's output: {err}"))?;
    let output = String::from_utf8_lossy(&bytes).into_owned();
    let status = child
        .wait()
        .map_err(|err| format!("cannot wait for cargo: {err}"))?;
    Ok((status, output))
}

/// Runs `cargo fmt --check` in a generated project: generated code must be
/// formatted as `cargo fmt` would format it.
///
/// # Errors
/// rustfmt's diff when the project is not formatted, or why cargo could not run.
pub fn cargo_fmt_check(project: &Path) -> Result<(), String> {
    let out = Command::new("cargo")
        .args(["fmt", "--all", "--check"])
        .current_dir(project)
        .output()
        .map_err(|err| format!("cannot run cargo fmt: {err}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`cargo fmt --check` failed in {}:\n{}{}",
            project.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cargo_test_output() {
        let output = "\
   Compiling x v0.1.0
     Running unittests src/lib.rs (target/debug/deps/x-1)
running 3 tests
test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
     Running tests/wasm.rs (target/debug/deps/wasm-2)
test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.00s
   Doc-tests x
test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
";
        let run = parse_test_output(output);
        assert_eq!((run.passed, run.failed), (3, 1));
        assert_eq!(run.passed_in("src/lib.rs"), 3);
        assert_eq!(run.passed_in("tests/wasm.rs"), 0);
        assert_eq!(run.targets.len(), 3);
        assert_eq!(run.targets[2].0, "doc-tests x");
        assert!(run.warnings_in("x").is_empty());
        let run = parse_test_output(
            "warning: `my-x` (lib) generated 1 warning\nwarning: `dep` (lib) generated 2 warnings\n",
        );
        assert_eq!(
            run.warnings_in("my-x"),
            ["warning: `my-x` (lib) generated 1 warning"]
        );
    }

    #[test]
    fn failures_show_the_failed_tests_output_first() {
        let run = parse_test_output(
            "\
running 2 tests
test ok_one ... ok
test bad_one ... FAILED

failures:

---- bad_one stdout ----

thread 'bad_one' panicked at tests/wasm.rs:9:5:
node `evens` failed: boom

failures:
    bad_one

test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.10s
error: test failed, to rerun pass `--test wasm`
",
        );
        let failures = run.failures();
        assert!(
            failures.starts_with("---- bad_one stdout ----"),
            "{failures}"
        );
        assert!(failures.contains("node `evens` failed: boom"), "{failures}");
        assert!(!failures.contains("test ok_one"), "{failures}");
        assert!(!failures.contains("to rerun"), "{failures}");

        let build = parse_test_output("   Compiling x\nerror[E0425]: cannot find value `y`\n");
        assert_eq!(build.failures(), "error[E0425]: cannot find value `y`");
        assert!(
            parse_test_output("")
                .failures()
                .starts_with("(no failed test")
        );
    }
}
