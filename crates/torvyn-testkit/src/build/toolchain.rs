//! Which toolchain builds components here (rustup's `wasm32-wasip2` target or
//! the Debian build-std fallback), and the cargo environment each one needs.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{BuildError, BuildErrorKind, WASM_TARGET, io_error};

/// Environment variables of the outer build that must not reach the guest build.
const STRIPPED_ENV: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_MAKEFLAGS",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS",
    "CARGO_TARGET_WASM32_WASIP2_LINKER",
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTC_WRAPPER",
    "RUSTC",
    "RUSTC_BOOTSTRAP",
];

/// Files of the Debian build-std fallback (see `scripts/setup.sh`).
mod fallback_paths {
    pub(super) const RUSTC: &str = "/usr/bin/rustc";
    pub(super) const STD_SOURCE: &str = "/usr/lib/rustlib/src/rust/library";
    pub(super) const WASI_LIBC_DIR: &str = "/usr/lib/wasm32-wasi";
    pub(super) const WASM_LD: &str = "/usr/bin/wasm-ld-19";
    pub(super) const COMPONENT_LINKER: &str =
        "/usr/lib/rustlib/x86_64-unknown-linux-gnu/bin/wasm-component-ld";
}

/// What to do when no toolchain can build components.
const INSTALL_HINT: &str = "install the wasm32-wasip2 target with `rustup target add wasm32-wasip2`; \
     where rustup cannot download it, run the toolkit's `./scripts/setup.sh`, which installs the \
     Debian build-std fallback (`apt-get install rustc-web rust-web-src wasi-libc lld-19`)";

/// The way components are compiled on this machine.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Toolchain {
    /// rustup's `wasm32-wasip2` target: a plain `cargo build --target wasm32-wasip2`.
    Rustup,
    /// Debian's rustc with `-Zbuild-std`, linked by `wasm-component-ld` and `wasm-ld-19`.
    DebianFallback,
}

impl Toolchain {
    /// Detect the toolchain, honouring `TORVYN_WASM_TOOLCHAIN=rustup|fallback`.
    ///
    /// # Errors
    /// A [`BuildError`] of kind [`BuildErrorKind::ToolchainMissing`] that lists what
    /// was checked and what to install.
    pub fn detect() -> Result<Self, BuildError> {
        let forced = std::env::var("TORVYN_WASM_TOOLCHAIN").unwrap_or_default();
        let rustup = rustup_target_problem();
        let fallback = fallback_problem();
        let pick = match forced.as_str() {
            "" | "auto" => match (&rustup, &fallback) {
                (None, _) => Ok(Toolchain::Rustup),
                (Some(_), None) => Ok(Toolchain::DebianFallback),
                (Some(_), Some(_)) => Err(()),
            },
            "rustup" => rustup.as_ref().map_or(Ok(Toolchain::Rustup), |_| Err(())),
            "fallback" => fallback
                .as_ref()
                .map_or(Ok(Toolchain::DebianFallback), |_| Err(())),
            other => {
                return Err(BuildError::new(
                    BuildErrorKind::ToolchainMissing,
                    format!("TORVYN_WASM_TOOLCHAIN is set to `{other}`"),
                    "set it to `rustup`, `fallback` or `auto`, or unset it".to_string(),
                ));
            }
        };
        pick.map_err(|()| {
            let mut tried = String::new();
            if forced != "fallback" {
                tried += &format!(
                    "rustup target: {}\n",
                    rustup.as_deref().unwrap_or("available")
                );
            }
            if forced != "rustup" {
                tried += &format!(
                    "Debian build-std fallback: {}\n",
                    fallback.as_deref().unwrap_or("available")
                );
            }
            BuildError::new(
                BuildErrorKind::ToolchainMissing,
                format!(
                    "no toolchain can build `{WASM_TARGET}` components on this machine\n{tried}"
                ),
                INSTALL_HINT.to_string(),
            )
        })
    }

    /// This toolchain if it can build components here.
    ///
    /// # Errors
    /// A [`BuildErrorKind::ToolchainMissing`] error saying what is missing.
    pub fn check(&self) -> Result<Self, BuildError> {
        let problem = match self {
            Toolchain::Rustup => rustup_target_problem(),
            Toolchain::DebianFallback => fallback_problem(),
        };
        match problem {
            None => Ok(self.clone()),
            Some(problem) => Err(BuildError::new(
                BuildErrorKind::ToolchainMissing,
                format!("{self} cannot build components here: {problem}"),
                INSTALL_HINT.to_string(),
            )),
        }
    }

    /// Short name, used for the target subdirectory and in messages.
    pub fn name(&self) -> &'static str {
        match self {
            Toolchain::Rustup => "rustup",
            Toolchain::DebianFallback => "fallback",
        }
    }
}

impl fmt::Display for Toolchain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Toolchain::Rustup => write!(f, "rustup's {WASM_TARGET} target"),
            Toolchain::DebianFallback => write!(f, "the Debian build-std fallback"),
        }
    }
}

/// Why rustup's target cannot be used, or `None` when it can.
fn rustup_target_problem() -> Option<String> {
    let output = Command::new("rustc")
        .env_remove("RUSTC")
        .args(["--print", "target-libdir", "--target", WASM_TARGET])
        .output();
    let output = match output {
        Ok(output) => output,
        Err(err) => return Some(format!("cannot run `rustc`: {err}")),
    };
    if !output.status.success() {
        return Some(format!(
            "`rustc --print target-libdir --target {WASM_TARGET}` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let libdir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    let has_std = std::fs::read_dir(&libdir).is_ok_and(|entries| {
        entries.flatten().any(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with("libstd-") && name.ends_with(".rlib")
        })
    });
    if has_std {
        None
    } else {
        Some(format!(
            "the {WASM_TARGET} standard library is not installed (nothing in {})",
            libdir.display()
        ))
    }
}

/// Why the Debian fallback cannot be used, or `None` when it can.
fn fallback_problem() -> Option<String> {
    use fallback_paths::*;
    let missing: Vec<String> = [
        (RUSTC, "rustc-web"),
        (STD_SOURCE, "rust-web-src"),
        (WASI_LIBC_DIR, "wasi-libc"),
        (WASM_LD, "lld-19"),
        (COMPONENT_LINKER, "rustc-web"),
    ]
    .iter()
    .filter(|(path, _)| !Path::new(path).exists())
    .map(|(path, package)| format!("{path} (package {package})"))
    .collect();
    if missing.is_empty() {
        None
    } else {
        Some(format!("missing {}", missing.join(", ")))
    }
}

/// Prepare a `cargo build --target wasm32-wasip2` command the way
/// [`ComponentBuild`](super::ComponentBuild) does, for tools that need cargo options it does not
/// offer (a named profile, say): strips the outer build's environment
/// (RUSTFLAGS, CARGO_TARGET_DIR, RUSTC, wrappers, ...) and, for
/// [`Toolchain::DebianFallback`], links `wasm-ld` into `<target_dir>/bin` and
/// sets the fallback's compiler, flags, linker and `-Zbuild-std`. Call it after
/// adding the subcommand and its arguments.
///
/// # Errors
/// When the `wasm-ld` link cannot be created in `target_dir`.
pub fn configure_cargo(
    command: &mut Command,
    toolchain: &Toolchain,
    target_dir: &Path,
) -> Result<(), BuildError> {
    for var in STRIPPED_ENV {
        command.env_remove(var);
    }
    if *toolchain == Toolchain::DebianFallback {
        use fallback_paths::*;
        let bin = target_dir.join("bin");
        std::fs::create_dir_all(&bin).map_err(|err| io_error(&bin, err))?;
        let link = bin.join("wasm-ld");
        if std::fs::read_link(&link).ok().as_deref() != Some(Path::new(WASM_LD)) {
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(WASM_LD, &link).map_err(|err| io_error(&link, err))?;
        }
        let mut path = OsString::from(&bin);
        if let Some(outer) = std::env::var_os("PATH") {
            path.push(":");
            path.push(outer);
        }
        command
            .env("PATH", path)
            .env("RUSTC", RUSTC)
            .env("RUSTC_BOOTSTRAP", "1")
            .env(
                "CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS",
                format!("-L {WASI_LIBC_DIR}"),
            )
            .env("CARGO_TARGET_WASM32_WASIP2_LINKER", COMPONENT_LINKER)
            .arg("-Zbuild-std=std,panic_abort");
    }
    Ok(())
}
