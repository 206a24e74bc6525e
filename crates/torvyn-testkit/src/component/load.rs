//! Loading a component: read and compile the file (cached in memory per
//! process, and on disk by wasmtime), check it against the contract, and link
//! it once so every instance starts from the same pre-instantiation.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

use wasmtime::component::InstancePre;

use super::Component;
use super::exports::Indices;
use super::inspect;
use crate::error::{Error, ErrorKind};
use crate::host::{self, HostState};

/// A component linked on one runtime: its pre-instantiation and where its
/// exports are.
pub(super) struct Loaded {
    pub(super) pre: InstancePre<HostState>,
    pub(super) indices: Indices,
}

type CacheKey = (PathBuf, Option<SystemTime>, u64);

pub(super) fn cache() -> &'static Mutex<HashMap<CacheKey, Component>> {
    static CACHE: OnceLock<Mutex<HashMap<CacheKey, Component>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

/// The error of a component file at `path` that does not load.
pub(super) fn load_error(name: &str, path: &Path, message: String) -> Error {
    Error::new(
        name,
        ErrorKind::Load {
            path: path.to_path_buf(),
            message,
        },
    )
}

/// What to do about a component file that cannot be read.
pub(super) fn not_readable(err: &std::io::Error) -> String {
    format!(
        "{err}; build the component first (`Component::build`, or \
         `cargo build --release --target wasm32-wasip2`)"
    )
}

/// Read and compile the component at `path`: its node name, bytes (as in the
/// file) and code (compiled with unversioned `torvyn:` names given the
/// contract's version; see [`crate::unversioned`]).
pub(crate) fn compile(
    path: &Path,
) -> Result<(String, Vec<u8>, wasmtime::component::Component), Error> {
    let name = node_name(path);
    let load_error = |message: String| load_error(&name, path, message);
    let bytes = std::fs::read(path).map_err(|err| load_error(not_readable(&err)))?;
    let runtime = host::runtime(false).map_err(&load_error)?;
    let compiled = compile_bytes(runtime, &bytes).map_err(|err| {
        load_error(format!(
            "it is not a valid WebAssembly component: {}; components are built for \
                 `wasm32-wasip2` (a core module for another target will not load)",
            err.root_cause()
        ))
        .with_source(err)
    })?;
    Ok((name, bytes, compiled))
}

/// Compile a component's bytes on `runtime`, its unversioned `torvyn:` import
/// and export names read as the 0.1.0 contract's. Bytes the renaming cannot
/// parse are compiled as they are, so wasmtime reports what is wrong with them.
pub(super) fn compile_bytes(
    runtime: &host::LinkedEngine,
    bytes: &[u8],
) -> wasmtime::Result<wasmtime::component::Component> {
    let bytes = crate::unversioned::version_torvyn_names(bytes)
        .unwrap_or(std::borrow::Cow::Borrowed(bytes));
    wasmtime::component::Component::new(&runtime.engine, &bytes)
}

/// The error for a component whose imports or exports do not match the
/// contract; `link` is wasmtime's error when linking failed too.
pub(super) fn contract_error(
    name: &str,
    path: &Path,
    mismatches: Vec<crate::contract::Mismatch>,
    link: Option<wasmtime::Error>,
) -> Error {
    let error = Error::new(
        name,
        ErrorKind::Contract {
            path: path.to_path_buf(),
            mismatches,
        },
    );
    match link {
        Some(err) => error.with_source(err),
        None => error,
    }
}

thread_local! {
    static QUICK_TRAPS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether instances created on this thread skip source-level backtraces.
pub(super) fn quick_traps() -> bool {
    QUICK_TRAPS.with(std::cell::Cell::get)
}

/// Run `f` with instances (created on this thread, without fuel metering)
/// that trap without source-level backtraces, which are expensive to
/// symbolise: the property-test runner's cases and shrinking steps. Errors
/// still carry the panic message and function names.
pub(crate) fn with_quick_traps<T>(f: impl FnOnce() -> T) -> T {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            QUICK_TRAPS.with(|quick| quick.set(self.0));
        }
    }
    let _reset = Reset(QUICK_TRAPS.with(|quick| quick.replace(true)));
    f()
}

/// The node name of the component file at `path`: its stem, `_` written as `-`.
pub(crate) fn node_name(path: &Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().replace('_', "-"))
        .unwrap_or_else(|| "component".into())
}

/// Why [`load`] failed: the linker refused an import, or something else.
pub(super) enum LoadFailure {
    Link(wasmtime::Error),
    Other(String),
}

impl From<LoadFailure> for String {
    fn from(failure: LoadFailure) -> String {
        match failure {
            LoadFailure::Link(err) => inspect::link_mismatch(&err).message,
            LoadFailure::Other(message) => message,
        }
    }
}

/// Link a compiled component on `runtime` and find its exports.
pub(super) fn load(
    runtime: &host::LinkedEngine,
    compiled: &wasmtime::component::Component,
) -> Result<Loaded, LoadFailure> {
    let pre = runtime
        .linker
        .instantiate_pre(compiled)
        .map_err(LoadFailure::Link)?;
    let indices = Indices::new(&pre).map_err(LoadFailure::Other)?;
    Ok(Loaded { pre, indices })
}
