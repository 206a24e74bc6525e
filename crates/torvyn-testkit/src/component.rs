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

use crate::element::{
    MAX_BUFFER_BYTES, Meta, Output, ProcessError, Processed, Signal, TestElement,
};
use crate::error::{Error, ErrorKind};
use crate::host::bindings::exports::torvyn::aggregation::aggregator;
use crate::host::bindings::exports::torvyn::filtering::{filter, router};
use crate::host::bindings::exports::torvyn::streaming::{lifecycle, processor, sink, source};
use crate::host::bindings::torvyn::streaming::types as wit;
use crate::host::{self, BufferRes, FlowContextRes, HostState, Limits, Stats};
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
        let load_error = |message: String| {
            Error::new(
                name.clone(),
                ErrorKind::Load {
                    path: path.to_path_buf(),
                    message,
                },
            )
        };
        let metadata = std::fs::metadata(path).map_err(|err| {
            load_error(format!(
                "{err}; build the component first (`Component::build`, or \
                 `cargo build --release --target wasm32-wasip2`)"
            ))
        })?;
        let key = (path.to_path_buf(), metadata.modified().ok(), metadata.len());
        let mut cache = cache()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(component) = cache.get(&key) {
            return Ok(component.clone());
        }
        let bytes = std::fs::read(path).map_err(|err| load_error(err.to_string()))?;
        let runtime = host::runtime(false).map_err(&load_error)?;
        let compiled =
            wasmtime::component::Component::new(&runtime.engine, &bytes).map_err(|err| {
                load_error(format!(
                    "it is not a valid WebAssembly component: {}; components are built for \
                     `wasm32-wasip2` (a core module for another target will not load)",
                    err.root_cause()
                ))
            })?;
        let ty = compiled.component_type();
        let exports = ty
            .exports(&runtime.engine)
            .map(|(name, _)| name.to_string())
            .collect();
        let imports = ty
            .imports(&runtime.engine)
            .map(|(name, _)| name.to_string())
            .collect();
        let inspection = inspect::from_names(path, &name, exports, imports)?;
        let plain = load(runtime, &compiled).map_err(&load_error)?;
        let component = Component {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                name,
                inspection,
                plain,
                fueled: OnceLock::new(),
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
        }
    }

    fn loaded(&self, fuel: bool) -> Result<&Loaded, String> {
        if !fuel {
            return Ok(&self.inner.plain);
        }
        self.inner
            .fueled
            .get_or_init(|| {
                let runtime = host::runtime(true)?;
                let bytes = std::fs::read(&self.inner.path).map_err(|err| err.to_string())?;
                let compiled = wasmtime::component::Component::new(&runtime.engine, &bytes)
                    .map_err(|err| err.root_cause().to_string())?;
                load(runtime, &compiled)
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

fn node_name(path: &Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().replace('_', "-"))
        .unwrap_or_else(|| "component".into())
}

fn load(
    runtime: &host::Runtime,
    compiled: &wasmtime::component::Component,
) -> Result<Loaded, String> {
    let pre = runtime.linker.instantiate_pre(compiled).map_err(|err| {
        format!(
            "it imports something the Torvyn host does not provide: {}; a component may \
             import only the contract's interfaces (torvyn:streaming/types, \
             buffer-allocator, torvyn:capabilities/capability-query) and WASI 0.2",
            err.root_cause()
        )
    })?;
    let exported = |name: &str| pre.component().get_export_index(None, name).is_some();
    let mut indices = Indices::default();
    macro_rules! index {
        ($field:ident, $module:ident, $name:literal) => {
            if exported($name) {
                indices.$field = Some($module::GuestIndices::new(&pre).map_err(|err| {
                    format!(
                        "its export `{}` does not match the Torvyn 0.1 contract: {}",
                        $name,
                        err.root_cause()
                    )
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

    /// Do not call `init`: the test calls [`Instance::init`] itself (for example
    /// to check what a handler does before `init`).
    pub fn skip_init(mut self) -> Self {
        self.init = false;
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
        let runtime = host::runtime(fuel).map_err(|message| {
            fail(ErrorKind::Load {
                path: component.path().to_path_buf(),
                message,
            })
        })?;
        let mut store = host::new_store(runtime, self.grants, &self.limits);
        arm(&mut store, &self.limits);
        let instance = loaded.pre.instantiate(&mut store).map_err(|err| {
            let kind = classify(&mut store, &self.limits, err, 0);
            Error::new(name.clone(), kind).at(Some(role), "instantiate")
        })?;
        let indices = &loaded.indices;
        let mut load_error = None;
        macro_rules! load {
            ($field:ident) => {
                indices.$field.as_ref().and_then(|index| {
                    index
                        .load(&mut store, &instance)
                        .map_err(|err| load_error = Some(err.root_cause().to_string()))
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

/// Arm the per-call limits: epoch deadline and (when metered) fuel.
fn arm(store: &mut Store<HostState>, limits: &Limits) {
    store.set_epoch_deadline(limits.deadline_ticks());
    if let Some(fuel) = limits.fuel {
        // Setting fuel only fails when metering is off, and it is on here.
        let _ = store.set_fuel(fuel);
    }
}

/// Turn a wasmtime error from a call into what happened, in the author's terms.
fn classify(
    store: &mut Store<HostState>,
    limits: &Limits,
    err: wasmtime::Error,
    stderr_from: usize,
) -> ErrorKind {
    let state = store.data_mut();
    if let Some(requested) = state.memory.denied.take() {
        return ErrorKind::OutOfMemory {
            limit: state.memory.limit,
            requested,
        };
    }
    match err.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => {
            return ErrorKind::Timeout {
                limit: limits.call_timeout,
            };
        }
        Some(wasmtime::Trap::OutOfFuel) => {
            return ErrorKind::OutOfFuel {
                budget: limits.fuel.unwrap_or(0),
            };
        }
        _ => {}
    }
    let stderr = state.stderr.contents();
    let fresh = String::from_utf8_lossy(stderr.get(stderr_from..).unwrap_or_default());
    let panic = panic_message(&fresh);
    if fresh.contains("memory allocation of") && fresh.contains("failed") {
        return ErrorKind::OutOfMemory {
            limit: state.memory.limit,
            requested: 0,
        };
    }
    let message = match err.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => format!("wasm trap: {trap}"),
        None => err.root_cause().to_string(),
    };
    ErrorKind::Trap { message, panic }
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

    /// Everything the component wrote to stdout.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.store.data().stdout.contents()).into_owned()
    }

    /// Everything the component wrote to stderr (log lines and panic messages).
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.store.data().stderr.contents()).into_owned()
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
            if config.trim().is_empty() {
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

    /// Call `teardown` now (otherwise it runs on drop). It runs once; later
    /// calls do nothing, and element calls after it are refused. Logs and
    /// stats stay readable. Components without `lifecycle` have nothing to
    /// tear down.
    pub fn teardown(&mut self) -> Result<(), Error> {
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

    pub(crate) fn is_terminated(&self) -> bool {
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
        let stderr_from = self.store.data().stderr.contents().len();
        match f(&mut self.store, element) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => {
                let error = from_wit(error);
                if error.is_fatal() {
                    self.terminated = Some(format!("it returned {error} from `{call}`"));
                    self.torn_down = true;
                    if let Some(lifecycle) = self.exports.lifecycle.clone() {
                        arm(&mut self.store, &self.limits);
                        // Best effort, as the contract says; the fatal error is what matters.
                        let _ = lifecycle.call_teardown(&mut self.store);
                    }
                }
                Err(self.process_error(call, error, false))
            }
            Err(err) => {
                let kind = classify(&mut self.store, &self.limits, err, stderr_from);
                self.terminated = Some(format!(
                    "it failed earlier in `{call}` ({}) and gets no more calls",
                    short(&kind)
                ));
                Err(self.error(call, kind))
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
        if element.payload.len() as u64 > MAX_BUFFER_BYTES {
            return Err(self.error(
                call,
                ErrorKind::Config(format!(
                    "the element's payload is {} bytes, above the contract's 16 MiB buffer limit",
                    element.payload.len()
                )),
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
        Ok(Output {
            payload: buffer.bytes,
            content_type: buffer.content_type,
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
        // Best effort, as in the contract; a test that cares calls `teardown()`.
        let _ = self.teardown_once();
    }
}

fn short(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Timeout { .. } => "time limit",
        ErrorKind::OutOfFuel { .. } => "fuel exhausted",
        ErrorKind::OutOfMemory { .. } => "out of memory",
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
