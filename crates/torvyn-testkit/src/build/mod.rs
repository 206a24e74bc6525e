//! Building component crates to `wasm32-wasip2` components from inside a test.
//!
//! [`build_component`] turns a crate directory (a crate with
//! `crate-type = ["cdylib"]`) into a `.wasm` component and returns its path:
//!
//! ```no_run
//! let wasm = torvyn_testkit::build_component(env!("CARGO_MANIFEST_DIR"))?;
//! assert!(wasm.extension().is_some_and(|e| e == "wasm"));
//! # Ok::<(), torvyn_testkit::BuildError>(())
//! ```
//!
//! How it builds is on [`build_component`]'s documentation.

mod cargo;
mod cargo_component;
mod error;
mod progress;
mod target_dir;
mod toolchain;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use cargo::{render_command, run_cargo};
use error::io_error;
pub use error::{BuildError, BuildErrorKind};
pub(crate) use progress::progress_line;
pub use target_dir::platform_cache_dir;
pub(crate) use target_dir::test_binary_target_dir;
use target_dir::{keyed_target_dir, lock_target_dir, shared_target_dir};
pub use toolchain::{Toolchain, configure_cargo};

/// The Rust target every Torvyn component is built for.
pub const WASM_TARGET: &str = "wasm32-wasip2";

/// Default limit for one component build; `TORVYN_BUILD_TIMEOUT_SECS` overrides it.
pub const DEFAULT_BUILD_TIMEOUT: Duration = Duration::from_secs(20 * 60);

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
/// use torvyn_testkit::{ComponentBuild, Profile};
/// let wasm = ComponentBuild::new("examples/rate-limiter")
///     .profile(Profile::Release)
///     .build()?;
/// # Ok::<(), torvyn_testkit::BuildError>(())
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
        if let Err(err) = cargo_component::prepare(manifest) {
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
            .args(["--target", WASM_TARGET, "--message-format=json"])
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

/// Build the component crate in `crate_dir` (debug profile, or the release
/// profile with `TORVYN_BUILD_PROFILE=release`, which the CLI's `bench` sets)
/// and return the path of its `.wasm` component. Memoised: a second call for
/// the same crate in the same process returns at once. [`Component::build`](crate::Component::build)
/// and the crates of a `Torvyn.toml` build with it.
///
/// # Errors
/// See [`ComponentBuild::build`].
///
/// # How it builds
/// - **Toolchain.** It uses rustup's `wasm32-wasip2` target when its standard
///   library is installed. Otherwise it uses the Debian build-std fallback
///   (`rustc-web`, `rust-web-src`, `wasi-libc`, `lld-19`; see `scripts/setup.sh`),
///   which compiles `std` from source with `-Zbuild-std`. The choice is automatic;
///   `TORVYN_WASM_TOOLCHAIN=rustup|fallback` forces one. [`Toolchain::detect`]
///   says which one is in use, and an error says which paths were tried and what
///   to install.
/// - **One shared target directory.** Every component built from one test run goes
///   into `<outer target dir>/torvyn-wasm/<toolchain>`, so `std` (fallback) and the
///   SDK are compiled once. Outside a test binary (the `torvyn-testkit` command,
///   say, even when it runs from a cargo target directory) it is the
///   `torvyn-wasm` directory of the component's own cargo target directory (as
///   `cargo metadata` reports it for the crate), or, when that cannot be
///   created, of the platform cache directory
///   ([`platform_cache_dir`]); never the directory of the running program.
///   `TORVYN_WASM_TARGET_DIR` overrides the location.
/// - **Keyed by crate.** The first crate that builds a given library name in a
///   shared directory owns it (recorded in `.torvyn-owners/`); another crate of
///   the same name (another project's, with other code) builds in
///   `projects/<workspace>-<hash of its path>` below it, so two projects never
///   get each other's component.
/// - **A clean environment.** The outer build's `RUSTFLAGS`,
///   `CARGO_ENCODED_RUSTFLAGS`, `CARGO_TARGET_DIR`, `CARGO_BUILD_TARGET` (and
///   similar) are removed, so a test run's flags never leak into the guest build.
/// - **cargo-component crates.** A crate with `[package.metadata.component]`
///   whose `src/lib.rs` says `mod bindings;` gets the `src/bindings.rs` that
///   `cargo component build` would write, generated from the WIT its
///   `[package.metadata.component.target]` names (default `wit/`) with the
///   `wit-bindgen-rust` generator and the runtime the crate depends on
///   (`wit_bindgen_rt`). A line on standard error says where it was written;
///   it is a generated file, not to be committed. A `bindings.rs` the testkit
///   did not write is never touched.
/// - **The artifact** is found from cargo's `--message-format=json` messages.
/// - **Serialised.** Concurrent builds are serialised by a process-wide mutex and a
///   file lock in the target directory (several test binaries run at once), and
///   each crate is built once per process (memoised by manifest path and profile).
/// - **Errors** ([`BuildError`]) hold the command, the compiler's rendered
///   diagnostics and a hint on what to do.
pub fn build_component(crate_dir: impl AsRef<Path>) -> Result<PathBuf, BuildError> {
    let profile = match std::env::var("TORVYN_BUILD_PROFILE").as_deref() {
        Ok("release") => Profile::Release,
        _ => Profile::Debug,
    };
    ComponentBuild::new(crate_dir).profile(profile).build()
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
