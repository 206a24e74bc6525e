//! The single-component harness: build or load a component, instantiate it with
//! a config, and call it element by element.
//!
//! ```no_run
//! use torvyn_testkit::{Component, TestElement};
//!
//! # fn main() -> Result<(), torvyn_testkit::Error> {
//! // Builds this crate to wasm32-wasip2 (once per test binary) and compiles it.
//! let filter = Component::build(env!("CARGO_MANIFEST_DIR"))?;
//! let mut instance = filter.instantiate(r#"{"min_len": 3}"#)?;
//! assert!(instance.evaluate(TestElement::text("hello"))?);
//! assert!(!instance.evaluate(TestElement::text("hi"))?);
//! assert_eq!(instance.stats().payload_bytes_read, 0);
//! # Ok(())
//! # }
//! ```

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use serde::Serialize;
use wasmtime::Store;
use wasmtime::component::{InstancePre, Resource};

use crate::diagnose;
use crate::element::{
    MAX_BUFFER_BYTES, Meta, Output, ProcessError, Processed, Signal, TestElement,
};
use crate::error::{Error, ErrorKind};
use crate::host::bindings::exports::torvyn::aggregation::aggregator;
use crate::host::bindings::exports::torvyn::filtering::{filter, router};
use crate::host::bindings::exports::torvyn::streaming::{lifecycle, processor, sink, source};
use crate::host::bindings::torvyn::streaming::types as wit;
use crate::host::clock::{Blocked, TimeOptions};
use crate::host::{self, BufferRes, ClockMode, FlowContextRes, HostState, Limits, Stats};
use crate::inspect::{self, Inspection};
use crate::role::Role;

/// A compiled component, ready to instantiate any number of times.
///
/// Cheap to clone. Loading the same unchanged file twice in one process reuses
/// the compiled code, and compiled code is also cached on disk next to the
/// built components.
///
/// ```no_run
/// use torvyn_testkit::{Component, Role};
///
/// // Builds the crate for wasm32-wasip2 (needs the target), or loads a file.
/// let component = Component::build(env!("CARGO_MANIFEST_DIR"))?;
/// let same = Component::from_file("target/wasm32-wasip2/release/my_filter.wasm")?;
/// assert_eq!(component.role(), Role::Filter);
/// println!("{} exports {:?}", component.name(), component.inspection().exports);
/// let mut first = component.instantiate("")?; // any number of instances
/// let mut second = same.instantiate(r#"{"min_len": 3}"#)?;
/// # let _ = (&mut first, &mut second);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Component {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    name: String,
    inspection: Inspection,
    plain: Loaded,
    fueled: OnceLock<Result<Loaded, String>>,
    /// The shadow-stack layout, read when a trap needs it.
    stack_map: OnceLock<diagnose::StackMap>,
    quick: OnceLock<Result<Loaded, String>>,
}

struct Loaded {
    pre: InstancePre<HostState>,
    indices: Indices,
}

#[derive(Default)]
struct Indices {
    lifecycle: Option<lifecycle::GuestIndices>,
    source: Option<source::GuestIndices>,
    processor: Option<processor::GuestIndices>,
    filter: Option<filter::GuestIndices>,
    router: Option<router::GuestIndices>,
    aggregator: Option<aggregator::GuestIndices>,
    sink: Option<sink::GuestIndices>,
}

impl std::fmt::Debug for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Component")
            .field("name", &self.inner.name)
            .field("role", &self.inner.inspection.role)
            .field("path", &self.inner.path)
            .finish()
    }
}

type CacheKey = (PathBuf, Option<SystemTime>, u64);

fn cache() -> &'static Mutex<HashMap<CacheKey, Component>> {
    static CACHE: OnceLock<Mutex<HashMap<CacheKey, Component>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

impl Component {
    /// Build the component crate at `crate_dir` to `wasm32-wasip2` (debug profile, in
    /// the shared target directory; see [`crate::build`]) and load it.
    ///
    /// Usually `Component::build(env!("CARGO_MANIFEST_DIR"))` in a crate's own
    /// tests. Builds and compilations are done once per test binary.
    pub fn build(crate_dir: impl AsRef<Path>) -> Result<Component, Error> {
        let crate_dir = crate_dir.as_ref();
        let wasm = crate::build::build_component(crate_dir).map_err(|err| {
            let name = crate_dir
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            Error::new(name, ErrorKind::Build(err))
        })?;
        Component::from_file(wasm)
    }

    /// Load a component from a `.wasm` file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Component, Error> {
        let path = path.as_ref();
        let name = node_name(path);
        let load_error = |message: String| load_error(&name, path, message);
        let metadata = std::fs::metadata(path).map_err(|err| load_error(not_readable(&err)))?;
        let key = (path.to_path_buf(), metadata.modified().ok(), metadata.len());
        let mut cache = cache()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(component) = cache.get(&key) {
            return Ok(component.clone());
        }
        let (_, bytes, compiled) = compile(path)?;
        let runtime = host::runtime(false).map_err(&load_error)?;
        let inspection = inspect::analyse(path, &name, &bytes, &compiled, &runtime.engine)?;
        let plain = match load(runtime, &compiled) {
            Ok(plain) if inspection.mismatches.is_empty() => plain,
            Ok(_) => return Err(contract_error(&name, path, inspection.mismatches, None)),
            Err(LoadFailure::Link(err)) => {
                let mut mismatches = inspection.mismatches;
                if !mismatches
                    .iter()
                    .any(|mismatch| mismatch.direction == inspect::Direction::Import)
                {
                    mismatches.push(inspect::link_mismatch(&err));
                }
                return Err(contract_error(&name, path, mismatches, Some(err)));
            }
            Err(LoadFailure::Other(message)) => return Err(load_error(message)),
        };
        let component = Component {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                name,
                inspection,
                plain,
                fueled: OnceLock::new(),
                stack_map: OnceLock::new(),
                quick: OnceLock::new(),
            }),
        };
        cache.insert(key, component.clone());
        Ok(component)
    }

    /// The component's role.
    pub fn role(&self) -> Role {
        self.inner.inspection.role
    }

    /// The component's name (the `.wasm` file's stem, `_` written as `-`),
    /// used in error messages.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The `.wasm` file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Its role, lifecycle, imports and exports.
    pub fn inspection(&self) -> &Inspection {
        &self.inner.inspection
    }

    /// Instantiate with `config` (the string given to `init`; `""` for none)
    /// and default [`Limits`], and call `init`.
    pub fn instantiate(&self, config: &str) -> Result<Instance, Error> {
        self.options().config(config).instantiate()
    }

    /// Instantiate with `config` serialized to JSON, and call `init`.
    ///
    /// ```no_run
    /// # use torvyn_testkit::Component;
    /// # let component: Component = todo!();
    /// let instance = component.instantiate_with(&serde_json::json!({"max_per_second": 2}))?;
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn instantiate_with<C: Serialize + ?Sized>(&self, config: &C) -> Result<Instance, Error> {
        self.options().config_json(config)?.instantiate()
    }

    /// Options for an instance: config, limits, capability grants, name.
    pub fn options(&self) -> InstanceOptions {
        InstanceOptions {
            component: self.clone(),
            config: String::new(),
            name: None,
            limits: Limits::default(),
            grants: BTreeSet::new(),
            flow_id: "test".into(),
            init: true,
            flow_buffers: None,
            time: TimeOptions::default(),
            on_output: None,
        }
    }

    /// The component's shadow-stack layout (read from the file on first use).
    fn stack_map(&self) -> Option<&diagnose::StackMap> {
        if let Some(map) = self.inner.stack_map.get() {
            return Some(map);
        }
        let bytes = std::fs::read(&self.inner.path).ok()?;
        Some(
            self.inner
                .stack_map
                .get_or_init(|| diagnose::StackMap::parse(&bytes)),
        )
    }

    fn loaded(&self, fuel: bool) -> Result<&Loaded, String> {
        if !fuel && quick_traps() {
            return self
                .inner
                .quick
                .get_or_init(|| self.load_on(host::quick_runtime()?))
                .as_ref()
                .map_err(Clone::clone);
        }
        if !fuel {
            return Ok(&self.inner.plain);
        }
        self.inner
            .fueled
            .get_or_init(|| self.load_on(host::runtime(true)?))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Compile and link the component again on another runtime (fuel
    /// metering, or no backtrace details); it loaded on the plain one.
    fn load_on(&self, runtime: &'static host::Runtime) -> Result<Loaded, String> {
        let bytes = std::fs::read(&self.inner.path).map_err(|err| err.to_string())?;
        let compiled =
            compile_bytes(runtime, &bytes).map_err(|err| err.root_cause().to_string())?;
        load(runtime, &compiled).map_err(String::from)
    }
}

/// The error of a component file at `path` that does not load.
fn load_error(name: &str, path: &Path, message: String) -> Error {
    Error::new(
        name,
        ErrorKind::Load {
            path: path.to_path_buf(),
            message,
        },
    )
}

/// What to do about a component file that cannot be read.
fn not_readable(err: &std::io::Error) -> String {
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
fn compile_bytes(
    runtime: &host::Runtime,
    bytes: &[u8],
) -> wasmtime::Result<wasmtime::component::Component> {
    let bytes = crate::unversioned::version_torvyn_names(bytes)
        .unwrap_or(std::borrow::Cow::Borrowed(bytes));
    wasmtime::component::Component::new(&runtime.engine, &bytes)
}

/// The error for a component whose imports or exports do not match the
/// contract; `link` is wasmtime's error when linking failed too.
fn contract_error(
    name: &str,
    path: &Path,
    mismatches: Vec<inspect::Mismatch>,
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
fn quick_traps() -> bool {
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

pub(crate) fn node_name(path: &Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().replace('_', "-"))
        .unwrap_or_else(|| "component".into())
}

/// Why [`load`] failed: the linker refused an import, or something else.
enum LoadFailure {
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

fn load(
    runtime: &host::Runtime,
    compiled: &wasmtime::component::Component,
) -> Result<Loaded, LoadFailure> {
    let pre = runtime
        .linker
        .instantiate_pre(compiled)
        .map_err(LoadFailure::Link)?;
    let exported = |name: &str| pre.component().get_export_index(None, name).is_some();
    let mut indices = Indices::default();
    macro_rules! index {
        ($field:ident, $module:ident, $name:literal) => {
            if exported($name) {
                indices.$field = Some($module::GuestIndices::new(&pre).map_err(|err| {
                    LoadFailure::Other(format!(
                        "its export `{}` does not match the Torvyn 0.1 contract: {:#}",
                        $name, err
                    ))
                })?);
            }
        };
    }
    index!(lifecycle, lifecycle, "torvyn:streaming/lifecycle@0.1.0");
    index!(source, source, "torvyn:streaming/source@0.1.0");
    index!(processor, processor, "torvyn:streaming/processor@0.1.0");
    index!(filter, filter, "torvyn:filtering/filter@0.1.0");
    index!(router, router, "torvyn:filtering/router@0.1.0");
    index!(
        aggregator,
        aggregator,
        "torvyn:aggregation/aggregator@0.1.0"
    );
    index!(sink, sink, "torvyn:streaming/sink@0.1.0");
    Ok(Loaded { pre, indices })
}

/// How to instantiate a component: config, limits, grants and name.
///
/// ```no_run
/// use std::time::Duration;
/// use torvyn_testkit::{Component, Limits};
///
/// # let component: Component = todo!();
/// let instance = component
///     .options()
///     .name("limiter")
///     .config(r#"{"max_per_second": 2}"#)
///     .limits(Limits::default().call_timeout(Duration::from_millis(200)))
///     .grant("wasi-random")
///     .instantiate()?;
/// # Ok::<(), torvyn_testkit::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct InstanceOptions {
    component: Component,
    config: String,
    name: Option<String>,
    limits: Limits,
    grants: BTreeSet<String>,
    flow_id: String,
    init: bool,
    flow_buffers: Option<Arc<host::FlowBuffers>>,
    time: TimeOptions,
    on_output: Option<OutputTap>,
}

/// A line callback shared by the instances of a flow (see
/// [`Pipeline::on_output`](crate::pipeline::Pipeline::on_output)).
#[derive(Clone)]
pub(crate) struct OutputTap(pub(crate) Arc<std::sync::Mutex<host::LineFn>>);

impl std::fmt::Debug for OutputTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OutputTap")
    }
}

impl InstanceOptions {
    /// The config string given to `init` (JSON by convention).
    pub fn config(mut self, config: impl Into<String>) -> Self {
        self.config = config.into();
        self
    }

    /// The config, serialized to JSON.
    pub fn config_json<C: Serialize + ?Sized>(mut self, config: &C) -> Result<Self, Error> {
        self.config = serde_json::to_string(config).map_err(|err| {
            Error::new(
                self.component.name(),
                ErrorKind::Config(format!("cannot serialize the config to JSON: {err}")),
            )
        })?;
        Ok(self)
    }

    /// The name used in error messages (default: the component's name).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Time, memory and fuel limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Grant a capability (`has-capability(name)` answers true). Granting
    /// `wasi-network-egress` also opens WASI sockets.
    pub fn grant(mut self, capability: impl Into<String>) -> Self {
        self.grants.insert(capability.into());
        self
    }

    /// The flow id the flow context reports (default `"test"`).
    pub fn flow_id(mut self, flow_id: impl Into<String>) -> Self {
        self.flow_id = flow_id.into();
        self
    }

    /// Which clocks the component reads through `wasi:clocks` (default
    /// [`ClockMode::Virtual`]: a virtual clock starting at 0 that sleeps
    /// advance; see [`host::clock`]).
    pub fn clock_mode(mut self, mode: ClockMode) -> Self {
        self.time.mode = mode;
        self
    }

    /// Seed the component's `wasi:random` generators (mixed with the
    /// instance's name); default [`DEFAULT_RANDOM_SEED`](crate::host::DEFAULT_RANDOM_SEED).
    /// The same seed and name give the same bytes on every run.
    pub fn random_seed(mut self, seed: u64) -> Self {
        self.time.seed = Some(seed);
        self
    }

    /// The clock mode, seed and shared clock of a pipeline's node.
    pub(crate) fn time(mut self, time: TimeOptions) -> Self {
        self.time = time;
        self
    }

    /// Do not call `init`: the test calls [`Instance::init`] itself (for example
    /// to check what a handler does before `init`).
    pub fn skip_init(mut self) -> Self {
        self.init = false;
        self
    }

    /// The flow's host-buffer total this instance's buffers count against.
    pub(crate) fn flow_buffers(mut self, flow: Arc<host::FlowBuffers>) -> Self {
        self.flow_buffers = Some(flow);
        self
    }

    /// Pass every line the instance writes to stdout or stderr to `tap` as
    /// it is written (captured as before, too).
    pub(crate) fn on_output(mut self, tap: OutputTap) -> Self {
        self.on_output = Some(tap);
        self
    }

    /// Instantiate and, unless [`skip_init`](Self::skip_init), call `init` with the config.
    pub fn instantiate(self) -> Result<Instance, Error> {
        let component = &self.component;
        let name = self.name.unwrap_or_else(|| component.name().to_string());
        let role = component.role();
        let fail = |kind: ErrorKind| Error::new(name.clone(), kind).at(Some(role), "instantiate");
        let fuel = self.limits.fuel.is_some();
        let loaded = component.loaded(fuel).map_err(|message| {
            fail(ErrorKind::Load {
                path: component.path().to_path_buf(),
                message,
            })
        })?;
        let runtime = if !fuel && quick_traps() {
            host::quick_runtime()
        } else {
            host::runtime(fuel)
        };
        let runtime = runtime.map_err(|message| {
            fail(ErrorKind::Load {
                path: component.path().to_path_buf(),
                message,
            })
        })?;
        let mut store = host::new_store(runtime, self.grants, &self.limits, self.flow_buffers);
        store.data_mut().time = self.time.context(&name);
        if let Some(tap) = &self.on_output {
            let state = store.data();
            state
                .stdout
                .tap(&name, host::StdStream::Stdout, Arc::clone(&tap.0));
            state
                .stderr
                .tap(&name, host::StdStream::Stderr, Arc::clone(&tap.0));
        }
        arm(&mut store, &self.limits);
        let instance = loaded.pre.instantiate(&mut store).map_err(|err| {
            let frames = crate::backtrace::frames(&err);
            let (kind, source) = classify(&mut store, &self.limits, component, err);
            Error::new(name.clone(), kind)
                .at(Some(role), "instantiate")
                .with_source(source)
                .with_backtrace(frames)
        })?;
        let indices = &loaded.indices;
        let mut load_error = None;
        macro_rules! load {
            ($field:ident) => {
                indices.$field.as_ref().and_then(|index| {
                    index
                        .load(&mut store, &instance)
                        .map_err(|err| load_error = Some(format!("{err:#}")))
                        .ok()
                })
            };
        }
        let exports = Exports {
            lifecycle: load!(lifecycle),
            source: load!(source),
            processor: load!(processor),
            filter: load!(filter),
            router: load!(router),
            aggregator: load!(aggregator),
            sink: load!(sink),
        };
        if let Some(message) = load_error {
            return Err(fail(ErrorKind::Load {
                path: component.path().to_path_buf(),
                message,
            }));
        }
        let mut instance = Instance {
            component: component.clone(),
            name,
            role,
            store,
            exports,
            limits: self.limits,
            flow_id: self.flow_id,
            terminated: None,
            torn_down: false,
            element_calls: 0,
            fail_call: None,
            teardown_error: None,
        };
        if self.init {
            instance.init(&self.config)?;
        }
        Ok(instance)
    }
}

struct Exports {
    lifecycle: Option<lifecycle::Guest>,
    source: Option<source::Guest>,
    processor: Option<processor::Guest>,
    filter: Option<filter::Guest>,
    router: Option<router::Guest>,
    aggregator: Option<aggregator::Guest>,
    sink: Option<sink::Guest>,
}

/// A running component instance, called element by element.
///
/// Each call returns the component's answer as plain values, or an [`Error`]
/// naming the component and the call: a `process-error` it returned, a trap
/// (with its panic message), a time-limit or memory-limit hit. After a trap or
/// `fatal` the instance refuses further calls. `teardown` runs on drop.
///
/// ```no_run
/// use torvyn_testkit::{Component, TestElement};
///
/// let mut processor = Component::build(env!("CARGO_MANIFEST_DIR"))?.instantiate("")?;
/// let output = processor.process(TestElement::text("hi"))?.output();
/// assert_eq!(output.as_ref().and_then(|o| o.text()), Some("HI"));
/// let stats = processor.stats();
/// assert_eq!((stats.reads, stats.allocations), (1, 1));
/// processor.fail_next_allocation(); // the next allocation is refused
/// assert!(processor.process(TestElement::text("again")).is_err());
/// for line in processor.logs() {
///     println!("{line:?}");
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Instance {
    component: Component,
    name: String,
    role: Role,
    store: Store<HostState>,
    exports: Exports,
    limits: Limits,
    flow_id: String,
    terminated: Option<String>,
    torn_down: bool,
    element_calls: u64,
    fail_call: Option<(u64, ProcessError)>,
    /// A teardown that failed before [`Instance::teardown`] could report it.
    teardown_error: Option<Error>,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("stats", &self.store.data().stats)
            .finish_non_exhaustive()
    }
}

/// A line the component wrote to stderr with `torvyn_guest::log` (`[info] message`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogLine {
    /// `debug`, `info`, `warn` or `error`.
    pub level: String,
    /// The message.
    pub message: String,
}

/// Arm the per-call limits: the time limit (checked at every epoch tick, see
/// `host::deadline`), the captured stderr's mark and (when metered) fuel.
fn arm(store: &mut Store<HostState>, limits: &Limits) {
    let state = store.data_mut();
    state.time.start_call(limits.call_timeout);
    state.clock.arm();
    state.stderr.mark();
    store.set_epoch_deadline(1);
    if let Some(fuel) = limits.fuel {
        // Setting fuel only fails when metering is off, and it is on here.
        let _ = store.set_fuel(fuel);
    }
}

/// Turn a wasmtime error from a call into what happened, in the author's
/// terms, and keep the error itself (its chain and wasm backtrace) as the
/// source.
fn classify(
    store: &mut Store<HostState>,
    limits: &Limits,
    component: &Component,
    err: wasmtime::Error,
) -> (ErrorKind, wasmtime::Error) {
    let state = store.data_mut();
    if let Some(denial) = state.buffers.denied.take() {
        let kind = ErrorKind::HostBuffers {
            budget: denial.budget,
            held: denial.held,
            requested: denial.requested,
            flow: denial.flow,
        };
        return (kind, err);
    }
    if let Some(requested) = state.memory.denied.take() {
        let kind = ErrorKind::OutOfMemory {
            limit: state.memory.limit,
            requested,
        };
        return (kind, err);
    }
    if let Some(blocked) = err.downcast_ref::<Blocked>() {
        let kind = ErrorKind::Blocked {
            limit: blocked.limit,
            waiting_in: blocked.waiting_in.to_string(),
            clock: blocked.mode,
        };
        return (kind, err);
    }
    match err.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => {
            let kind = match state.clock.fired.take() {
                Some(host::Fired::Wall { cpu }) => ErrorKind::WallTimeout {
                    limit: limits.wall_timeout_value(),
                    cpu,
                },
                Some(host::Fired::Cpu) | None => ErrorKind::Timeout {
                    limit: limits.call_timeout,
                },
            };
            return (kind, err);
        }
        Some(wasmtime::Trap::OutOfFuel) => {
            let kind = ErrorKind::OutOfFuel {
                budget: limits.fuel.unwrap_or(0),
            };
            return (kind, err);
        }
        _ => {}
    }
    let fresh = state.stderr.since_mark();
    let panic = panic_message(&fresh);
    if fresh.contains("memory allocation of") && fresh.contains("failed") {
        let kind = ErrorKind::OutOfMemory {
            limit: state.memory.limit,
            requested: 0,
        };
        return (kind, err);
    }
    if panic.is_none()
        && let Some(kind) = diagnose::classify_trap(&err, || component.stack_map())
    {
        return (kind, err);
    }
    let message = match err.downcast_ref::<wasmtime::Trap>() {
        // `Trap`'s own text starts with "wasm trap: "; the message says
        // "trapped" already.
        Some(trap) => {
            let text = trap.to_string();
            text.strip_prefix("wasm trap: ")
                .unwrap_or(&text)
                .to_string()
        }
        None => err.root_cause().to_string(),
    };
    (ErrorKind::Trap { message, panic }, err)
}

/// The message and location of a Rust panic, from the text written to stderr.
fn panic_message(stderr: &str) -> Option<String> {
    let start = stderr.find("panicked at ")?;
    let rest = &stderr[start + "panicked at ".len()..];
    let (location, message) = rest.split_once(":\n")?;
    let message = message
        .split("\nnote: ")
        .next()
        .unwrap_or(message)
        .trim_end();
    Some(format!("{message} (at {location})"))
}

/// The pushed handles of an element passed to a call, removed afterwards.
struct Pushed {
    payload: u32,
    context: u32,
}

impl Instance {
    /// The instance's name, used in error messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The component's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// What the component did through the host so far: payload bytes read,
    /// reads, allocations.
    pub fn stats(&self) -> Stats {
        self.store.data().stats.clone()
    }

    /// The instance's virtual clock: what `wasi:clocks` reads with
    /// [`ClockMode::Virtual`] (sleeps and element timestamps move it).
    pub fn virtual_time(&self) -> std::time::Duration {
        self.store.data().time.virtual_now()
    }

    /// Move the virtual clock forward by `by`, as if that much time passed
    /// between calls (shared with the other nodes of a pipeline).
    pub fn advance_virtual_time(&mut self, by: std::time::Duration) {
        self.store.data().time.advance(by);
    }

    /// Everything the component wrote to stdout. Past the capture limit
    /// ([`Limits::capture`], 16 MiB by default) the rest is discarded and the
    /// text ends with a line saying so:
    /// `[torvyn-testkit: stdout capture limit of 16 MiB reached by node `x`; ...]`.
    pub fn stdout(&self) -> String {
        self.store.data().stdout.text(&self.name)
    }

    /// Everything the component wrote to stderr (log lines and panic
    /// messages), truncated like [`stdout`](Self::stdout).
    pub fn stderr(&self) -> String {
        self.store.data().stderr.text(&self.name)
    }

    /// The `torvyn_guest::log` lines the component wrote, in order.
    pub fn logs(&self) -> Vec<LogLine> {
        parse_logs(&self.stderr())
    }

    /// Fault injection: the next `count` allocations (`allocate` or
    /// `clone-into-mutable`) fail with `allocation-failed`.
    pub fn fail_next_allocations(&mut self, count: u32) {
        self.store.data_mut().fail_allocations = count;
    }

    /// Fault injection: the next allocation fails with `allocation-failed`.
    pub fn fail_next_allocation(&mut self) {
        self.fail_next_allocations(1);
    }

    /// Fault injection: the `nth` element call from now (1 = the next one)
    /// returns `error` without reaching the component.
    pub fn fail_call(&mut self, nth: u64, error: ProcessError) {
        self.fail_call = Some((self.element_calls + nth.max(1), error));
    }

    /// Call `init(config)`. [`Component::instantiate`] already did, unless the
    /// options said [`skip_init`](InstanceOptions::skip_init).
    ///
    /// A component without `lifecycle` accepts only an empty config.
    pub fn init(&mut self, config: &str) -> Result<(), Error> {
        let Some(lifecycle) = self.exports.lifecycle.clone() else {
            // Blank = only JSON whitespace, as in torvyn-guest's `config::is_blank`.
            if config
                .bytes()
                .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            {
                return Ok(());
            }
            return Err(self.error(
                "init",
                ErrorKind::Config(
                    "the component exports no `lifecycle`, so it cannot receive a config; \
                     remove the config or export `torvyn:streaming/lifecycle`"
                        .into(),
                ),
            ));
        };
        self.call("init", None, |store, _| lifecycle.call_init(store, config))
    }

    /// Filter: `evaluate`. `true` passes the element on, `false` drops it.
    pub fn evaluate(&mut self, element: impl Into<TestElement>) -> Result<bool, Error> {
        let filter = self.export(|e| e.filter.clone(), Role::Filter, "evaluate")?;
        self.element_call("evaluate", element.into(), |store, element| {
            filter.call_evaluate(store, element)
        })
    }

    /// Processor: `process`. Emits an output or drops the element.
    pub fn process(&mut self, element: impl Into<TestElement>) -> Result<Processed, Error> {
        let processor = self.export(|e| e.processor.clone(), Role::Processor, "process")?;
        let result = self.element_call("process", element.into(), |store, element| {
            processor.call_process(store, element)
        })?;
        match result {
            wit::ProcessResult::Emit(output) => {
                Ok(Processed::Emit(self.output("process", output)?))
            }
            wit::ProcessResult::Drop => Ok(Processed::Drop),
        }
    }

    /// Router: `route`. The port names (several = fan-out, none = drop).
    pub fn route(&mut self, element: impl Into<TestElement>) -> Result<Vec<String>, Error> {
        let router = self.export(|e| e.router.clone(), Role::Router, "route")?;
        self.element_call("route", element.into(), |store, element| {
            router.call_route(store, element)
        })
    }

    /// Aggregator: `ingest`. May emit an output.
    pub fn ingest(&mut self, element: impl Into<TestElement>) -> Result<Option<Output>, Error> {
        let aggregator = self.export(|e| e.aggregator.clone(), Role::Aggregator, "ingest")?;
        let output = self.element_call("ingest", element.into(), |store, element| {
            aggregator.call_ingest(store, element)
        })?;
        output
            .map(|output| self.output("ingest", output))
            .transpose()
    }

    /// Aggregator: `flush`. Emits what the aggregator still holds.
    pub fn flush(&mut self) -> Result<Vec<Output>, Error> {
        let aggregator = self.export(|e| e.aggregator.clone(), Role::Aggregator, "flush")?;
        let outputs = self.call("flush", None, |store, _| aggregator.call_flush(store))?;
        outputs
            .into_iter()
            .map(|output| self.output("flush", output))
            .collect()
    }

    /// Source: `pull`. The next output, or `None` once the source is exhausted.
    pub fn pull(&mut self) -> Result<Option<Output>, Error> {
        let source = self.export(|e| e.source.clone(), Role::Source, "pull")?;
        if let Some(error) = self.injected_failure() {
            return Err(self.process_error("pull", error, true));
        }
        let output = self.call("pull", None, |store, _| source.call_pull(store))?;
        output.map(|output| self.output("pull", output)).transpose()
    }

    /// Source: pull until `None` and return every output.
    pub fn pull_all(&mut self) -> Result<Vec<Output>, Error> {
        let mut outputs = Vec::new();
        while let Some(output) = self.pull()? {
            outputs.push(output);
        }
        Ok(outputs)
    }

    /// Source: `notify-backpressure`.
    pub fn notify_backpressure(&mut self, signal: Signal) -> Result<(), Error> {
        let source = self.export(|e| e.source.clone(), Role::Source, "notify-backpressure")?;
        let signal = match signal {
            Signal::Ready => wit::BackpressureSignal::Ready,
            Signal::Pause => wit::BackpressureSignal::Pause,
        };
        self.call("notify-backpressure", None, |store, _| {
            source.call_notify_backpressure(store, signal).map(Ok)
        })
    }

    /// Sink: `push`. `Ready` or `Pause`.
    pub fn push(&mut self, element: impl Into<TestElement>) -> Result<Signal, Error> {
        let sink = self.export(|e| e.sink.clone(), Role::Sink, "push")?;
        let signal = self.element_call("push", element.into(), |store, element| {
            sink.call_push(store, element)
        })?;
        Ok(match signal {
            wit::BackpressureSignal::Ready => Signal::Ready,
            wit::BackpressureSignal::Pause => Signal::Pause,
        })
    }

    /// Sink: `complete`, after the last element.
    pub fn complete(&mut self) -> Result<(), Error> {
        let sink = self.export(|e| e.sink.clone(), Role::Sink, "complete")?;
        self.call("complete", None, |store, _| sink.call_complete(store))
    }

    /// Call `teardown` now (otherwise it runs on drop). It runs once, with
    /// the same limits as every call; later calls do nothing, and element
    /// calls after it are refused. Logs and stats stay readable. Components
    /// without `lifecycle` have nothing to tear down.
    ///
    /// A teardown that traps, hits a limit or is blocked is an `Err` naming
    /// the call `teardown`, also when the host ran it earlier (after the
    /// component returned `fatal`); on drop, a failing teardown is written to
    /// stderr as a warning. An instance that trapped or hit a limit cannot be
    /// entered again, so it gets no teardown.
    pub fn teardown(&mut self) -> Result<(), Error> {
        if let Some(error) = self.teardown_error.take() {
            return Err(error);
        }
        self.teardown_once()
    }

    fn teardown_once(&mut self) -> Result<(), Error> {
        if self.torn_down {
            return Ok(());
        }
        self.torn_down = true;
        let Some(lifecycle) = self.exports.lifecycle.clone() else {
            return Ok(());
        };
        if self.terminated.is_some() && self.store.data().memory.denied.is_some() {
            return Ok(());
        }
        let was = self.terminated.take();
        let result = self.call("teardown", None, |store, _| {
            lifecycle.call_teardown(store).map(Ok)
        });
        self.terminated = Some(was.unwrap_or_else(|| "it was torn down".into()));
        result
    }

    /// Pass on the last line of stdout and stderr that has no newline, to
    /// the output tap if there is one (the instance is ending).
    pub(crate) fn flush_output(&self) {
        let state = self.store.data();
        state.stdout.flush_tap();
        state.stderr.flush_tap();
    }

    /// Whether the instance can no longer be called: it trapped, hit a
    /// limit, returned `fatal`, or was torn down (every call then fails with
    /// [`ErrorKind::Terminated`]).
    pub fn is_terminated(&self) -> bool {
        self.terminated.is_some()
    }

    fn export<G>(
        &self,
        get: impl FnOnce(&Exports) -> Option<G>,
        role: Role,
        call: &'static str,
    ) -> Result<G, Error> {
        get(&self.exports).ok_or_else(|| self.error(call, ErrorKind::WrongRole { expected: role }))
    }

    fn error(&self, call: &'static str, kind: ErrorKind) -> Error {
        Error::new(self.name.clone(), kind).at(Some(self.role), call)
    }

    fn process_error(&self, call: &'static str, error: ProcessError, injected: bool) -> Error {
        self.error(call, ErrorKind::Process { error, injected })
    }

    fn injected_failure(&mut self) -> Option<ProcessError> {
        self.element_calls += 1;
        match &self.fail_call {
            Some((nth, _)) if *nth == self.element_calls => self.fail_call.take().map(|(_, e)| e),
            _ => None,
        }
    }

    /// Run one call with limits armed, turning traps into errors and
    /// `process-error`s into [`ErrorKind::Process`].
    fn call<T>(
        &mut self,
        call: &'static str,
        element: Option<&wit::StreamElement>,
        f: impl FnOnce(
            &mut Store<HostState>,
            Option<&wit::StreamElement>,
        ) -> wasmtime::Result<Result<T, wit::ProcessError>>,
    ) -> Result<T, Error> {
        if let Some(reason) = &self.terminated {
            return Err(self.error(
                call,
                ErrorKind::Terminated {
                    reason: reason.clone(),
                },
            ));
        }
        arm(&mut self.store, &self.limits);
        self.store.data_mut().stats.calls += 1;
        match f(&mut self.store, element) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => {
                let error = from_wit(error);
                if error.is_fatal() {
                    // The contract tears a node down after `fatal`; a failing
                    // teardown is kept for `teardown()` and the run report.
                    if let Err(failed) = self.teardown_once() {
                        self.teardown_error = Some(failed);
                    }
                    self.terminated = Some(format!("it returned {error} from `{call}`"));
                }
                Err(self.process_error(call, error, false))
            }
            Err(err) => {
                let frames = crate::backtrace::frames(&err);
                let (kind, source) = classify(&mut self.store, &self.limits, &self.component, err);
                // wasmtime cannot enter an instance that trapped: no teardown.
                self.torn_down = true;
                self.terminated = Some(format!(
                    "it failed earlier in `{call}` ({}) and gets no more calls",
                    short(&kind)
                ));
                Err(self
                    .error(call, kind)
                    .with_source(source)
                    .with_backtrace(frames))
            }
        }
    }

    fn element_call<T>(
        &mut self,
        call: &'static str,
        element: TestElement,
        f: impl FnOnce(
            &mut Store<HostState>,
            &wit::StreamElement,
        ) -> wasmtime::Result<Result<T, wit::ProcessError>>,
    ) -> Result<T, Error> {
        if let Some(error) = self.injected_failure() {
            return Err(self.process_error(call, error, true));
        }
        self.store.data().time.observe(element.timestamp_ns);
        if element.payload.len() as u64 > MAX_BUFFER_BYTES {
            return Err(self.error(
                call,
                ErrorKind::ElementTooLarge {
                    bytes: element.payload.len() as u64,
                    limit: MAX_BUFFER_BYTES,
                    sequence: element.sequence,
                },
            ));
        }
        let (stream_element, pushed) = self.push_element(element).map_err(|err| {
            self.error(
                call,
                ErrorKind::Trap {
                    message: format!("the host could not store the element: {err}"),
                    panic: None,
                },
            )
        })?;
        let result = self.call(call, Some(&stream_element), |store, element| {
            f(store, element.unwrap_or(&stream_element))
        });
        let table = &mut self.store.data_mut().table;
        let _ = table.delete(Resource::<BufferRes>::new_own(pushed.payload));
        let _ = table.delete(Resource::<FlowContextRes>::new_own(pushed.context));
        result
    }

    fn push_element(
        &mut self,
        element: TestElement,
    ) -> Result<(wit::StreamElement, Pushed), wasmtime::component::ResourceTableError> {
        let flow_id = self.flow_id.clone();
        let table = &mut self.store.data_mut().table;
        let payload = table.push(BufferRes {
            bytes: element.payload,
            content_type: element.content_type.clone(),
            charge: 0,
        })?;
        let context = table.push(FlowContextRes {
            trace_id: element.trace_id,
            span_id: element.span_id,
            deadline_ns: element.deadline_ns,
            flow_id,
        })?;
        let pushed = Pushed {
            payload: payload.rep(),
            context: context.rep(),
        };
        let stream_element = wit::StreamElement {
            meta: wit::ElementMeta {
                sequence: element.sequence,
                timestamp_ns: element.timestamp_ns,
                content_type: element.content_type,
            },
            payload: Resource::new_borrow(pushed.payload),
            context: Resource::new_borrow(pushed.context),
        };
        Ok((stream_element, pushed))
    }

    fn output(&mut self, call: &'static str, output: wit::OutputElement) -> Result<Output, Error> {
        let buffer = self
            .store
            .data_mut()
            .table
            .delete(output.payload)
            .map_err(|err| {
                self.error(
                    call,
                    ErrorKind::Trap {
                        message: format!("the output's payload is not a live buffer: {err}"),
                        panic: None,
                    },
                )
            })?;
        // The buffer moves to the host: it no longer counts against the component.
        self.store.data_mut().buffers.release(buffer.charge);
        Ok(Output {
            payload: buffer.bytes,
            // A buffer without a content type has its metadata's (as the
            // runner's downstream element does); torvyn-guest relies on it.
            content_type: if buffer.content_type.is_empty() {
                output.meta.content_type.clone()
            } else {
                buffer.content_type
            },
            meta: Meta {
                sequence: output.meta.sequence,
                timestamp_ns: output.meta.timestamp_ns,
                content_type: output.meta.content_type,
            },
        })
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // Best effort, as in the contract; a test that cares calls `teardown()`,
        // but a failure is never dropped silently.
        if let Err(error) = self.teardown() {
            eprintln!("torvyn-testkit: warning: {error}");
        }
    }
}

fn short(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Timeout { .. } | ErrorKind::Blocked { .. } | ErrorKind::WallTimeout { .. } => {
            "time limit"
        }
        ErrorKind::OutOfFuel { .. } => "fuel exhausted",
        ErrorKind::OutOfMemory { .. } => "out of memory",
        ErrorKind::HostBuffers { .. } => "host-buffer budget",
        ErrorKind::StackOverflow { .. } => "stack overflow",
        ErrorKind::Exit { .. } => "exit",
        _ => "trap",
    }
}

pub(crate) fn from_wit(error: wit::ProcessError) -> ProcessError {
    match error {
        wit::ProcessError::InvalidInput(m) => ProcessError::InvalidInput(m),
        wit::ProcessError::Unavailable(m) => ProcessError::Unavailable(m),
        wit::ProcessError::Internal(m) => ProcessError::Internal(m),
        wit::ProcessError::DeadlineExceeded => ProcessError::DeadlineExceeded,
        wit::ProcessError::Fatal(m) => ProcessError::Fatal(m),
    }
}

fn parse_logs(stderr: &str) -> Vec<LogLine> {
    stderr
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix('[')?;
            let (level, message) = rest.split_once("] ")?;
            matches!(level, "debug" | "info" | "warn" | "error").then(|| LogLine {
                level: level.to_string(),
                message: message.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_messages_are_extracted_from_stderr() {
        let stderr = "\nthread '<unnamed>' panicked at src/lib.rs:14:9:\nboom: element 2\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            panic_message(stderr).as_deref(),
            Some("boom: element 2 (at src/lib.rs:14:9)")
        );
        assert_eq!(panic_message("nothing here"), None);
    }

    #[test]
    fn log_lines_are_parsed_by_level() {
        let logs = parse_logs("[info] started\nplain line\n[warn] slow: 3 ms\n[bogus] x\n");
        assert_eq!(
            logs,
            [
                LogLine {
                    level: "info".into(),
                    message: "started".into()
                },
                LogLine {
                    level: "warn".into(),
                    message: "slow: 3 ms".into()
                }
            ]
        );
    }
}
