//! `doctor`: what building and testing components needs on this machine, and
//! how to fix what is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Args;
use serde_json::json;
use torvyn_testkit::{Toolchain, WASM_TARGET};

use crate::cli::GlobalOpts;
use crate::command_prelude::Format;

#[derive(Args)]
pub(crate) struct DoctorArgs {
    /// Run the fixes that are safe: `rustup target add wasm32-wasip2` when
    /// the target is missing and rustup is there. Every other fix is printed
    /// for you to run (installing packages or tools is yours to decide).
    #[arg(long)]
    fix: bool,
}

/// The free space under which the first build may not fit: wasmtime and the
/// guest's standard library, compiled once per target directory.
const FIRST_BUILD_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// How `cargo-generate` is installed (the version `scripts/setup.sh` installs).
const CARGO_GENERATE_INSTALL: &str = "cargo install --locked cargo-generate --version 0.23.14";

/// How bad a failed check is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Building or testing components fails without it (exit code 1).
    Required,
    /// Something is degraded or one workflow is unavailable.
    Recommended,
}

/// One check's outcome.
struct Check {
    category: &'static str,
    name: String,
    passed: bool,
    need: Need,
    detail: String,
    fix: Option<String>,
}

impl Check {
    fn new(category: &'static str, name: impl Into<String>, need: Need) -> Self {
        Check {
            category,
            name: name.into(),
            passed: true,
            need,
            detail: String::new(),
            fix: None,
        }
    }

    fn pass(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    fn fail(mut self, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        self.passed = false;
        self.detail = detail.into();
        self.fix = Some(fix.into());
        self
    }
}

/// `doctor`: every check, `--fix`'s fixes, and exit code 1 if something
/// required is missing.
pub(crate) fn exec(args: DoctorArgs, global: &GlobalOpts) -> Result<(), String> {
    let mut checks = run_checks();
    let target_missing = checks
        .iter()
        .any(|check| check.name == format!("{WASM_TARGET} target") && !check.passed);
    let mut fixed = Vec::new();
    if args.fix && target_missing && found("rustup") {
        eprintln!("torvyn-testkit: running `rustup target add {WASM_TARGET}`");
        let status = Command::new("rustup")
            .args(["target", "add", WASM_TARGET])
            .status()
            .map_err(|err| format!("cannot run rustup: {err}"))?;
        fixed.push(format!(
            "rustup target add {WASM_TARGET}: {}",
            if status.success() { "done" } else { "failed" }
        ));
        checks = run_checks();
    }
    let errors = checks
        .iter()
        .filter(|check| !check.passed && check.need == Need::Required)
        .count();
    let warnings = checks
        .iter()
        .filter(|check| !check.passed && check.need == Need::Recommended)
        .count();
    match global.format {
        Format::Json => {
            let checks: Vec<_> = checks
                .iter()
                .map(|check| {
                    json!({
                        "category": check.category,
                        "name": check.name,
                        "passed": check.passed,
                        "required": check.need == Need::Required,
                        "detail": check.detail,
                        "fix": check.fix,
                    })
                })
                .collect();
            let report = json!({
                "checks": checks,
                "errors": errors,
                "warnings": warnings,
                "fixed": fixed,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&report).map_err(|err| err.to_string())?
            );
        }
        Format::Text => {
            let mut category = "";
            for check in &checks {
                if check.category != category {
                    category = check.category;
                    println!("  {category}");
                }
                let mark = match (check.passed, check.need) {
                    (true, _) => "ok  ",
                    (false, Need::Required) => "FAIL",
                    (false, Need::Recommended) => "warn",
                };
                println!("{mark} {}: {}", check.name, check.detail);
                if let Some(fix) = &check.fix {
                    println!("      fix: {fix}");
                }
            }
            for done in &fixed {
                println!("fixed: {done}");
            }
            if errors == 0 && warnings == 0 {
                println!("All checks passed.");
            } else {
                println!(
                    "{errors} error(s), {warnings} warning(s).{}",
                    if target_missing && !args.fix {
                        " Run `torvyn-testkit doctor --fix` to add the target."
                    } else {
                        ""
                    }
                );
            }
        }
    }
    if errors == 0 {
        Ok(())
    } else {
        Err(format!(
            "{errors} required check(s) failed; each says how to fix it"
        ))
    }
}

/// Every check, in order.
fn run_checks() -> Vec<Check> {
    let mut checks = vec![versions_check()];
    checks.push(rustc_check());
    checks.extend(toolchain_checks());
    checks.push(component_linker_check());
    checks.push(cargo_generate_check());
    checks.push(disk_check());
    checks
}

/// The CLI's version (that of the `torvyn-testkit` library it was built
/// with: one workspace) against the version the project's `Cargo.lock` (here
/// or above) locks.
fn versions_check() -> Check {
    let cli = env!("CARGO_PKG_VERSION");
    let check = Check::new("torvyn-testkit", "versions", Need::Required);
    match locked_testkit() {
        Some((lock, locked)) if locked != cli => check.fail(
            format!(
                "the CLI is {cli}, the project's tests use torvyn-testkit {locked} ({})",
                lock.display()
            ),
            format!(
                "use one version: `cargo install --locked torvyn-testkit-cli --version {locked}`, \
                 or `cargo update -p torvyn-testkit` to move the project to {cli}"
            ),
        ),
        Some((lock, _)) => check.pass(format!("CLI {cli}, and {} locks {cli}", lock.display())),
        None => check.pass(format!(
            "CLI {cli} (no Cargo.lock here or above names torvyn-testkit)"
        )),
    }
}

/// The nearest `Cargo.lock` from the current directory up, and the
/// `torvyn-testkit` version it locks, if it locks one.
fn locked_testkit() -> Option<(PathBuf, String)> {
    let here = std::env::current_dir().ok()?;
    let lock = here
        .ancestors()
        .map(|dir| dir.join("Cargo.lock"))
        .find(|file| file.is_file())?;
    let text = std::fs::read_to_string(&lock).ok()?;
    let parsed: toml::Table = text.parse().ok()?;
    let version = parsed
        .get("package")?
        .as_array()?
        .iter()
        .find(|package| package.get("name").and_then(|n| n.as_str()) == Some("torvyn-testkit"))?
        .get("version")?
        .as_str()?
        .to_string();
    Some((lock, version))
}

/// `rustc --version` against the MSRV (the workspace's `rust-version`).
fn rustc_check() -> Check {
    let msrv = env!("CARGO_PKG_RUST_VERSION");
    let check = Check::new("Rust toolchain", "rustc", Need::Required);
    let Some(version) = output("rustc", &["--version"]) else {
        return check.fail(
            "not found on PATH",
            "install Rust with rustup: https://rustup.rs",
        );
    };
    let number = version.split_whitespace().nth(1).unwrap_or_default();
    if at_least(number, msrv) {
        check.pass(format!("{version} (MSRV {msrv})"))
    } else {
        check.fail(
            format!("{version} is older than the MSRV {msrv}"),
            "`rustup update stable`",
        )
    }
}

/// Whether the version `found` (`1.95.0`, `1.96.0-beta.1`) is at least `min`.
fn at_least(found: &str, min: &str) -> bool {
    let parts = |text: &str| -> Vec<u64> {
        text.split(['.', '-'])
            .take(3)
            .map(|part| part.parse().unwrap_or(0))
            .collect()
    };
    parts(found) >= parts(min)
}

/// rustup's `wasm32-wasip2` target and the Debian build-std fallback: one of
/// them must build components.
fn toolchain_checks() -> Vec<Check> {
    let rustup_ok = Toolchain::Rustup.check();
    let fallback_ok = Toolchain::DebianFallback.check();
    let need = if fallback_ok.is_ok() {
        Need::Recommended
    } else {
        Need::Required
    };
    let mut target = Check::new("Rust toolchain", format!("{WASM_TARGET} target"), need);
    target = match (&rustup_ok, found("rustup")) {
        (Ok(_), _) => {
            let listed = output("rustup", &["target", "list", "--installed"])
                .is_some_and(|list| list.lines().any(|line| line.trim() == WASM_TARGET));
            target.pass(if listed {
                "installed (rustup target list --installed)".to_string()
            } else {
                "its standard library is in rustc's sysroot".to_string()
            })
        }
        (Err(err), true) => target.fail(
            problem(err),
            format!("`rustup target add {WASM_TARGET}` (`doctor --fix` runs it)"),
        ),
        (Err(err), false) => target.fail(
            problem(err),
            format!("install rustup (https://rustup.rs), then `rustup target add {WASM_TARGET}`"),
        ),
    };
    let mut fallback = Check::new(
        "Rust toolchain",
        "build-std fallback",
        if rustup_ok.is_ok() {
            Need::Recommended
        } else {
            Need::Required
        },
    );
    fallback = match (&fallback_ok, &rustup_ok) {
        (Ok(_), _) => {
            fallback.pass("available (Debian rustc-web, rust-web-src, wasi-libc, lld-19)")
        }
        // Not needed where rustup's target works: not a warning.
        (Err(_), Ok(_)) => fallback.pass("not installed, not needed (rustup's target builds)"),
        (Err(err), Err(_)) => fallback.fail(
            problem(err),
            "where rustup cannot download the target, run `./scripts/setup.sh`, or `apt-get \
             install rustc-web rust-web-src wasi-libc lld-19`",
        ),
    };
    vec![target, fallback]
}

/// A toolchain's problem without its install hint (the check's `fix` says it).
fn problem(err: &torvyn_testkit::BuildError) -> String {
    let text = err.to_string();
    text.split("\n\nhint:")
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// `wasm-component-ld`, which links a component: on PATH, in rustc's
/// sysroot (rustup ships it there), or the fallback's.
fn component_linker_check() -> Check {
    let check = Check::new("Rust toolchain", "wasm-component-ld", Need::Required);
    let mut places: Vec<PathBuf> = Vec::new();
    if let Some(path) = on_path("wasm-component-ld") {
        places.push(path);
    }
    if let (Some(sysroot), Some(host)) = (
        output("rustc", &["--print", "sysroot"]),
        output("rustc", &["--print", "host-tuple"]),
    ) {
        places.push(
            Path::new(&sysroot)
                .join("lib/rustlib")
                .join(host)
                .join("bin/wasm-component-ld"),
        );
    }
    places.push("/usr/lib/rustlib/x86_64-unknown-linux-gnu/bin/wasm-component-ld".into());
    match places.iter().find(|place| place.is_file()) {
        Some(place) => check.pass(place.display().to_string()),
        None => check.fail(
            "not on PATH nor in rustc's sysroot",
            format!(
                "`rustup target add {WASM_TARGET}` installs it in the sysroot; or `cargo \
                 install --locked wasm-component-ld`"
            ),
        ),
    }
}

/// `cargo-generate`, which the templates need (`cargo generate --path
/// templates/filter`); components build and test without it.
fn cargo_generate_check() -> Check {
    let check = Check::new("Templates", "cargo-generate", Need::Recommended);
    match output("cargo-generate", &["--version"]) {
        Some(version) => check.pass(version),
        None => check.fail(
            "not found on PATH (needed to start a component from a template)",
            format!("`{CARGO_GENERATE_INSTALL}`"),
        ),
    }
}

/// Free space where builds go (the current directory's file system), by `df`.
fn disk_check() -> Check {
    let check = Check::new("Disk", "free space", Need::Recommended);
    let Some(table) = output("df", &["-Pk", "."]) else {
        return check.fail("cannot run `df -Pk .`", "check the free space by hand");
    };
    let free_kib = table
        .lines()
        .nth(1)
        .and_then(|line| line.split_whitespace().nth(3))
        .and_then(|field| field.parse::<u64>().ok());
    let Some(free_kib) = free_kib else {
        return check.fail(
            "cannot read `df -Pk .`'s output",
            "check the free space by hand",
        );
    };
    let free = free_kib * 1024;
    let gib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0 * 1024.0);
    if free >= FIRST_BUILD_BYTES {
        check.pass(format!("{:.1} GiB free", gib(free)))
    } else {
        check.fail(
            format!(
                "{:.1} GiB free; the first build (wasmtime and the guest's std) needs about {:.0} GiB",
                gib(free),
                gib(FIRST_BUILD_BYTES)
            ),
            "free disk space (`cargo clean` in old projects)",
        )
    }
}

/// Whether `program` is on PATH.
fn found(program: &str) -> bool {
    on_path(program).is_some()
}

/// Where `program` is on PATH.
fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|file| file.is_file())
}

/// `program args`' stdout, trimmed, if it ran and succeeded.
fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
