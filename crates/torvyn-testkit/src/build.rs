//! Building component crates to `wasm32-wasip2` components from inside a test.
//!
//! [`build_component`] turns a crate directory (a crate with
//! `crate-type = ["cdylib"]`) into a `.wasm` component and returns its path:
//!
//! ```no_run
//! let wasm = torvyn_testkit::build::build_component(env!("CARGO_MANIFEST_DIR"))?;
//! assert!(wasm.extension().is_some_and(|e| e == "wasm"));
//! # Ok::<(), torvyn_testkit::build::BuildError>(())
//! ```
//!
//! # How it builds
//! - **Toolchain.** It uses rustup's `wasm32-wasip2` target when its standard
//!   library is installed. Otherwise it uses the Debian build-std fallback
//!   (`rustc-web`, `rust-web-src`, `wasi-libc`, `lld-19`; see `scripts/setup.sh`),
//!   which compiles `std` from source with `-Zbuild-std`. The choice is automatic;
//!   `TORVYN_WASM_TOOLCHAIN=rustup|fallback` forces one. [`Toolchain::detect`]
//!   says which one is in use, and an error says which paths were tried and what
//!   to install.
//! - **One shared target directory.** Every component built from one test run goes
//!   into `<outer target dir>/torvyn-wasm/<toolchain>`, so `std` (fallback) and the
//!   SDK are compiled once. Outside a test binary (the `torvyn-testkit` command,
//!   say) it is the `torvyn-wasm` directory of the component's own cargo target
//!   directory, or, when that cannot be created, of the platform cache directory
//!   ([`platform_cache_dir`]); never the directory of the running program.
//!   `TORVYN_WASM_TARGET_DIR` overrides the location.
//! - **Keyed by crate.** The first crate that builds a given library name in a
//!   shared directory owns it (recorded in `.torvyn-owners/`); another crate of
//!   the same name (another project's, with other code) builds in
//!   `projects/<workspace>-<hash of its path>` below it, so two projects never
//!   get each other's component.
//! - **A clean environment.** The outer build's `RUSTFLAGS`,
//!   `CARGO_ENCODED_RUSTFLAGS`, `CARGO_TARGET_DIR`, `CARGO_BUILD_TARGET` (and
//!   similar) are removed, so a test run's flags never leak into the guest build.
//! - **cargo-component crates.** A crate with `[package.metadata.component]`
//!   whose `src/lib.rs` says `mod bindings;` gets the `src/bindings.rs` that
//!   `cargo component build` would write, generated from the WIT its
//!   `[package.metadata.component.target]` names (default `wit/`) with the
//!   `wit-bindgen-rust` generator and the runtime the crate depends on
//!   (`wit_bindgen_rt`). A line on standard error says where it was written;
//!   it is a generated file, not to be committed. A `bindings.rs` the testkit
//!   did not write is never touched.
//! - **The artifact** is found from cargo's `--message-format=json` messages.
//! - **Serialised.** Concurrent builds are serialised by a process-wide mutex and a
//!   file lock in the target directory (several test binaries run at once), and
//!   each crate is built once per process (memoised by manifest path and profile).
//! - **Errors** ([`BuildError`]) hold the command, the compiler's rendered
//!   diagnostics and a hint on what to do.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use cargo_metadata::Message;

/// The Rust target every Torvyn component is built for.
pub const TARGET: &str = "wasm32-wasip2";

/// Default limit for one component build; `TORVYN_BUILD_TIMEOUT_SECS` overrides it.
pub const DEFAULT_BUILD_TIMEOUT: Duration = Duration::from_secs(20 * 60);

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
                format!("no toolchain can build `{TARGET}` components on this machine\n{tried}"),
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
            Toolchain::Rustup => write!(f, "rustup's {TARGET} target"),
            Toolchain::DebianFallback => write!(f, "the Debian build-std fallback"),
        }
    }
}

/// Why rustup's target cannot be used, or `None` when it can.
fn rustup_target_problem() -> Option<String> {
    let output = Command::new("rustc")
        .env_remove("RUSTC")
        .args(["--print", "target-libdir", "--target", TARGET])
        .output();
    let output = match output {
        Ok(output) => output,
        Err(err) => return Some(format!("cannot run `rustc`: {err}")),
    };
    if !output.status.success() {
        return Some(format!(
            "`rustc --print target-libdir --target {TARGET}` failed: {}",
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
            "the {TARGET} standard library is not installed (nothing in {})",
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

/// Build profile of a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Profile {
    /// `cargo build` (the default): fast to build.
    #[default]
    Debug,
    /// `cargo build --release`: what production uses.
    Release,
}

/// A configurable build of one component crate.
///
/// ```no_run
/// use torvyn_testkit::build::{ComponentBuild, Profile};
/// let wasm = ComponentBuild::new("examples/rate-limiter")
///     .profile(Profile::Release)
///     .build()?;
/// # Ok::<(), torvyn_testkit::build::BuildError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ComponentBuild {
    crate_dir: PathBuf,
    profile: Profile,
    target_dir: Option<PathBuf>,
    timeout: Option<Duration>,
    toolchain: Option<Toolchain>,
}

impl ComponentBuild {
    /// A debug build of the crate whose `Cargo.toml` is in `crate_dir`.
    pub fn new(crate_dir: impl AsRef<Path>) -> Self {
        Self {
            crate_dir: crate_dir.as_ref().to_path_buf(),
            profile: Profile::Debug,
            target_dir: None,
            timeout: None,
            toolchain: None,
        }
    }

    /// Use this toolchain instead of detecting one.
    pub fn toolchain(mut self, toolchain: Toolchain) -> Self {
        self.toolchain = Some(toolchain);
        self
    }

    /// Build with this profile.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// Build into this target directory instead of the shared one.
    pub fn target_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.target_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Give up (and kill cargo) after this long; default [`DEFAULT_BUILD_TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Build (once per process for the same crate and profile) and return the
    /// path of the `.wasm` component.
    ///
    /// # Errors
    /// A [`BuildError`] when no toolchain is available, the directory holds no
    /// crate, the crate does not compile, or it produces no `cdylib`.
    pub fn build(&self) -> Result<PathBuf, BuildError> {
        let manifest = self.crate_dir.join("Cargo.toml");
        let manifest = manifest.canonicalize().map_err(|err| {
            BuildError::new(
                BuildErrorKind::NotACrate,
                format!("no component crate at {}: {err}", self.crate_dir.display()),
                "pass the directory that holds the component's Cargo.toml".to_string(),
            )
        })?;
        // The memo is keyed by the toolchain asked for, not the one detected, so
        // a crate already built costs no toolchain probe (`rustc --print`).
        let key = (
            manifest.clone(),
            self.profile,
            self.target_dir.clone(),
            self.toolchain.clone(),
            std::env::var("TORVYN_WASM_TOOLCHAIN").unwrap_or_default(),
        );
        // The memo lock is held for the whole build: it also serialises builds
        // within this process (cargo's own lock would make them wait anyway).
        let mut memo = memo()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(path) = memo.get(&key)
            && path.exists()
        {
            return Ok(path.clone());
        }
        let toolchain = match &self.toolchain {
            Some(toolchain) => toolchain.check()?,
            None => Toolchain::detect()?,
        };
        let path = self.build_uncached(&manifest, toolchain)?;
        memo.insert(key, path.clone());
        Ok(path)
    }

    fn build_uncached(&self, manifest: &Path, toolchain: Toolchain) -> Result<PathBuf, BuildError> {
        let (target_dir, lock) = match &self.target_dir {
            Some(dir) => (dir.clone(), lock_target_dir(dir)?),
            None => {
                let shared = shared_target_dir(manifest)?.join(toolchain.name());
                let lock = lock_target_dir(&shared)?;
                // Decided under the shared directory's lock, so two builds of
                // same-named crates cannot both claim it.
                let keyed = keyed_target_dir(&shared, manifest)?;
                if keyed == shared {
                    (shared, lock)
                } else {
                    drop(lock);
                    let lock = lock_target_dir(&keyed)?;
                    (keyed, lock)
                }
            }
        };

        // A cargo-component crate (`mod bindings;`) gets its `src/bindings.rs`
        // first, as `cargo component build` would write it.
        if let Err(err) = crate::cargo_component::prepare(manifest) {
            drop(lock);
            return Err(err);
        }
        let mut command = self.command(&toolchain, manifest, &target_dir)?;
        let rendered = render_command(&command, &toolchain);
        progress::started(manifest, self.profile, &toolchain, &target_dir);
        let result = run_cargo(
            &mut command,
            manifest,
            self.timeout.unwrap_or_else(build_timeout),
        );
        drop(lock);
        result.map_err(|mut err| {
            err.command = Some(rendered);
            err.toolchain = Some(toolchain);
            err
        })
    }

    fn command(
        &self,
        toolchain: &Toolchain,
        manifest: &Path,
        target_dir: &Path,
    ) -> Result<Command, BuildError> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let mut command = Command::new(cargo);
        command
            .arg("build")
            .arg("--manifest-path")
            .arg(manifest)
            .args(["--target", TARGET, "--message-format=json"])
            .arg("--target-dir")
            .arg(target_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if self.profile == Profile::Release {
            command.arg("--release");
        }
        configure_cargo(&mut command, toolchain, target_dir)?;
        Ok(command)
    }
}

/// Prepare a `cargo build --target wasm32-wasip2` command the way
/// [`ComponentBuild`] does, for tools that need cargo options it does not
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

/// Build the component crate in `crate_dir` (debug profile) and return the path
/// of its `.wasm` component. Memoised: a second call for the same crate in the
/// same process returns at once.
///
/// # Errors
/// See [`ComponentBuild::build`].
pub fn build_component(crate_dir: impl AsRef<Path>) -> Result<PathBuf, BuildError> {
    ComponentBuild::new(crate_dir).build()
}

/// Crate manifest, profile, target directory, the toolchain asked for and
/// `TORVYN_WASM_TOOLCHAIN`.
type MemoKey = (PathBuf, Profile, Option<PathBuf>, Option<Toolchain>, String);

fn memo() -> &'static Mutex<HashMap<MemoKey, PathBuf>> {
    static MEMO: OnceLock<Mutex<HashMap<MemoKey, PathBuf>>> = OnceLock::new();
    MEMO.get_or_init(Mutex::default)
}

fn build_timeout() -> Duration {
    std::env::var("TORVYN_BUILD_TIMEOUT_SECS")
        .ok()
        .and_then(|secs| secs.parse().ok())
        .map_or(DEFAULT_BUILD_TIMEOUT, Duration::from_secs)
}

/// Create `dir` and take its build lock (held until the returned file is dropped).
fn lock_target_dir(dir: &Path) -> Result<File, BuildError> {
    std::fs::create_dir_all(dir).map_err(|err| io_error(dir, err))?;
    let lock_path = dir.join(".torvyn-build.lock");
    let lock = File::create(&lock_path).map_err(|err| io_error(&lock_path, err))?;
    lock.lock().map_err(|err| io_error(&lock_path, err))?;
    Ok(lock)
}

/// The directory of the shared target directory `shared` that builds the crate
/// at `manifest` (canonical): `shared` itself when no other crate with the same
/// library name has built there, else `shared/projects/<key>`, keyed by the
/// crate's workspace (see [`project_key`]).
///
/// Cargo names a `cdylib` by its library name alone (`deps/<name>.wasm`), so
/// two crates of one name in one target directory overwrite each other's
/// component, and cargo then takes the other crate's file for an up-to-date
/// build of the first. The owner of each name is recorded in
/// `shared/.torvyn-owners/<name>`; an owner whose manifest no longer exists
/// (a deleted temporary project) gives the name up.
fn keyed_target_dir(shared: &Path, manifest: &Path) -> Result<PathBuf, BuildError> {
    let Some(name) = library_name(manifest) else {
        // Not a readable package manifest: cargo reports that error itself.
        return Ok(shared.to_path_buf());
    };
    let owners = shared.join(".torvyn-owners");
    std::fs::create_dir_all(&owners).map_err(|err| io_error(&owners, err))?;
    let record = owners.join(&name);
    let owner = std::fs::read_to_string(&record).ok().map(PathBuf::from);
    match owner {
        Some(owner) if owner == manifest => Ok(shared.to_path_buf()),
        Some(owner) if owner.is_file() => Ok(shared.join("projects").join(project_key(manifest))),
        _ => {
            let text = manifest.to_string_lossy();
            std::fs::write(&record, text.as_bytes()).map_err(|err| io_error(&record, err))?;
            Ok(shared.to_path_buf())
        }
    }
}

/// The library name cargo gives the crate at `manifest` (`[lib] name`, else the
/// package name with `-` as `_`), or `None` when the manifest cannot be read.
fn library_name(manifest: &Path) -> Option<String> {
    let text = std::fs::read_to_string(manifest).ok()?;
    let table: toml::Table = text.parse().ok()?;
    let lib_name = table
        .get("lib")
        .and_then(|lib| lib.get("name"))
        .and_then(|name| name.as_str());
    let name = match lib_name {
        Some(name) => name,
        None => table.get("package")?.get("name")?.as_str()?,
    };
    let name = name.replace('-', "_");
    // A file name: cargo allows only letters, digits, `-` and `_` here.
    name.chars()
        .all(|c| c.is_alphanumeric() || c == '_')
        .then_some(name)
}

/// `<workspace directory name>-<16 hex digits>` for the workspace of the crate
/// at `manifest` (its own directory when `cargo metadata` fails), the digits
/// a hash of the canonical workspace path. One key per workspace, so a
/// project's crates still share their dependencies' builds.
fn project_key(manifest: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let crate_dir = manifest.parent().unwrap_or(manifest).to_path_buf();
    let workspace = cargo_metadata::MetadataCommand::new()
        .manifest_path(manifest)
        .no_deps()
        .exec()
        .ok()
        .map(|metadata| metadata.workspace_root.into_std_path_buf())
        .and_then(|root| root.canonicalize().ok())
        .unwrap_or(crate_dir);
    // std's hasher is deterministic within a Rust release; a new release may
    // change the key, which costs one rebuild.
    let mut hasher = std::hash::DefaultHasher::new();
    workspace.hash(&mut hasher);
    let stem: String = workspace
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    format!("{stem}-{:016x}", hasher.finish())
}

/// The toolkit's directory in the platform's cache directory
/// (`~/.cache/torvyn-testkit` on Linux, `~/Library/Caches/torvyn-testkit` on
/// macOS, `%LOCALAPPDATA%\torvyn-testkit` on Windows), or `None` when the
/// platform has none. Holds compiled code when no test binary's target
/// directory is at hand, and component builds when the project's target
/// directory cannot be created.
pub fn platform_cache_dir() -> Option<PathBuf> {
    dirs::cache_dir().map(|dir| dir.join("torvyn-testkit"))
}

/// `TORVYN_WASM_TARGET_DIR`, else `torvyn-wasm` inside the target directory of
/// the running test binary (the directory with cargo's `CACHEDIR.TAG`), else
/// inside the target directory of the component's own workspace (or, when that
/// cannot be created, the platform cache directory).
fn shared_target_dir(manifest: &Path) -> Result<PathBuf, BuildError> {
    if let Some(dir) = std::env::var_os("TORVYN_WASM_TARGET_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe
            .ancestors()
            .find(|dir| dir.join("CACHEDIR.TAG").is_file())
    {
        return Ok(dir.join("torvyn-wasm"));
    }
    let metadata = cargo_metadata::MetadataCommand::new()
        .manifest_path(manifest)
        .no_deps()
        .exec()
        .map_err(|err| {
            BuildError::new(
                BuildErrorKind::NotACrate,
                format!("`cargo metadata` failed for {}: {err}", manifest.display()),
                "check that the Cargo.toml is valid".to_string(),
            )
        })?;
    let project = metadata
        .target_directory
        .into_std_path_buf()
        .join("torvyn-wasm");
    match std::fs::create_dir_all(&project) {
        Ok(()) => Ok(project),
        Err(err) => platform_cache_dir()
            .map(|dir| dir.join("torvyn-wasm"))
            .ok_or_else(|| io_error(&project, err)),
    }
}

/// Run cargo, collect its JSON messages and return the component's path.
fn run_cargo(
    command: &mut Command,
    manifest: &Path,
    timeout: Duration,
) -> Result<PathBuf, BuildError> {
    let mut child = command.spawn().map_err(|err| {
        BuildError::new(
            BuildErrorKind::Io,
            format!("cannot start cargo: {err}"),
            "make sure `cargo` is on PATH (or set CARGO)".to_string(),
        )
    })?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let messages = std::thread::spawn(move || {
        let mut diagnostics = String::new();
        let mut artifacts = Vec::new();
        for message in Message::parse_stream(BufReader::new(stdout)).flatten() {
            match message {
                Message::CompilerMessage(msg) => {
                    use cargo_metadata::diagnostic::DiagnosticLevel;
                    if matches!(
                        msg.message.level,
                        DiagnosticLevel::Error | DiagnosticLevel::Ice
                    ) {
                        diagnostics += msg
                            .message
                            .rendered
                            .as_deref()
                            .unwrap_or(&msg.message.message);
                    }
                }
                Message::CompilerArtifact(artifact) => artifacts.push(artifact),
                _ => {}
            }
        }
        (diagnostics, artifacts)
    });
    let stderr_reader = std::thread::spawn(move || progress::pass_through(&mut stderr));

    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(BuildError::new(
                    BuildErrorKind::Timeout,
                    format!(
                        "building {} took longer than {} s and was stopped",
                        manifest.display(),
                        timeout.as_secs()
                    ),
                    "raise TORVYN_BUILD_TIMEOUT_SECS if the machine is slow, or look for a build \
                     script that never finishes"
                        .to_string(),
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(err) => return Err(io_error(manifest, err)),
        }
    };
    let (diagnostics, artifacts) = messages.join().unwrap_or_default();
    let stderr = stderr_reader.join().unwrap_or_default();

    if !status.success() {
        let mut text = diagnostics;
        // Cargo's own errors (bad manifest, unresolvable dependency) are on stderr.
        let cargo_errors: Vec<&str> = stderr
            .lines()
            .skip_while(|line| !line.trim_start().starts_with("error"))
            .collect();
        if !cargo_errors.is_empty() {
            if !text.is_empty() {
                text.push('\n');
            }
            text += &cargo_errors.join("\n");
        }
        if text.trim().is_empty() {
            text = stderr;
        }
        return Err(BuildError {
            diagnostics: text,
            ..BuildError::new(
                BuildErrorKind::CompileFailed,
                format!("cargo could not build the component {}", manifest.display()),
                "fix the errors above in the component crate; a `cargo check --target \
                 wasm32-wasip2` in its directory shows the same messages"
                    .to_string(),
            )
        });
    }

    artifacts
        .iter()
        .filter(|artifact| artifact.manifest_path.as_std_path() == manifest)
        .filter(|artifact| {
            artifact
                .target
                .kind
                .contains(&cargo_metadata::TargetKind::CDyLib)
        })
        .flat_map(|artifact| artifact.filenames.iter())
        .find(|file| file.extension() == Some("wasm"))
        .map(|file| file.clone().into_std_path_buf())
        .ok_or_else(|| {
            BuildError::new(
                BuildErrorKind::NoArtifact,
                format!(
                    "{} built, but produced no `.wasm` component",
                    manifest.display()
                ),
                "add `[lib] crate-type = [\"cdylib\"]` (or `[\"cdylib\", \"rlib\"]`) to the \
                 crate's Cargo.toml"
                    .to_string(),
            )
        })
}

fn render_command(command: &Command, toolchain: &Toolchain) -> String {
    let mut text = String::new();
    for (key, value) in command.get_envs() {
        if let Some(value) = value
            && *toolchain == Toolchain::DebianFallback
            && key != "PATH"
        {
            text += &format!("{}={} ", key.to_string_lossy(), value.to_string_lossy());
        }
    }
    text += &command.get_program().to_string_lossy();
    for arg in command.get_args() {
        text.push(' ');
        text += &arg.to_string_lossy();
    }
    text
}

/// What a build shows while it runs: one line when it starts (which crate,
/// profile, toolchain and target directory) and cargo's progress lines
/// (`Compiling ...`), written to the process's standard error directly, so
/// that `cargo test`'s output capture does not hold them back. A fully cached
/// build shows only the first line. `TORVYN_BUILD_QUIET=1` turns both off.
mod progress {
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

    pub(super) fn started(
        manifest: &Path,
        profile: Profile,
        toolchain: &Toolchain,
        target_dir: &Path,
    ) {
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
}

/// Write one line of build progress to standard error, as the build's own
/// lines are (hidden by `TORVYN_BUILD_QUIET=1`).
pub(crate) fn progress_line(line: &str) {
    progress::show(line);
}

fn io_error(path: &Path, err: std::io::Error) -> BuildError {
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
