//! How to instantiate a component ([`InstanceOptions`]), and instantiation:
//! the store, its limits and fault switches, the exports, then `init`.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::Serialize;

use super::Component;
use super::instance::{Instance, arm_call_limits};
use super::load::quick_traps;
use super::trap::classify;
use crate::element::ProcessError;
use crate::error::{Error, ErrorKind};
use crate::host::guest_clock::TimeOptions;
use crate::host::{self, Limits};
use crate::settings::ClockMode;

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
    faults: Faults,
    #[cfg(feature = "profile")]
    profile: Option<host::NodeProfile>,
}

/// The fault switches an instance starts with: what [`InstanceOptions`] and
/// the pipeline's `NodeSpec` both set, and the runner passes from one to the
/// other.
#[derive(Clone, Debug, Default)]
pub(crate) struct Faults {
    /// The element call to fail (1 = the first) and its error (see
    /// [`InstanceOptions::fail_call`]).
    pub(crate) fail_call: Option<(u64, ProcessError)>,
    /// Allocations to refuse from the start (see
    /// [`InstanceOptions::fail_allocations`]).
    pub(crate) fail_allocations: u32,
}

impl Faults {
    /// Fail the `nth` element call (0 counts as 1) with `error`.
    pub(crate) fn fail_call(&mut self, nth: u64, error: ProcessError) {
        self.fail_call = Some((nth.max(1), error));
    }
}

/// A line callback shared by the instances of a flow (see
/// [`Pipeline::on_output`](crate::Pipeline::on_output)).
#[derive(Clone)]
pub(crate) struct OutputTap(pub(crate) Arc<std::sync::Mutex<host::LineFn>>);

impl std::fmt::Debug for OutputTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OutputTap")
    }
}

impl InstanceOptions {
    /// The default options of `component`: no config, default limits, no
    /// grants, `init` called.
    pub(super) fn new(component: Component) -> Self {
        InstanceOptions {
            component,
            config: String::new(),
            name: None,
            limits: Limits::default(),
            grants: BTreeSet::new(),
            flow_id: "test".into(),
            init: true,
            flow_buffers: None,
            time: TimeOptions::default(),
            on_output: None,
            faults: Faults::default(),
            #[cfg(feature = "profile")]
            profile: None,
        }
    }

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
    /// advance; see [`ClockMode`]).
    pub fn clock_mode(mut self, mode: ClockMode) -> Self {
        self.time.mode = mode;
        self
    }

    /// Seed the component's `wasi:random` generators (mixed with the
    /// instance's name); default [`DEFAULT_RANDOM_SEED`](crate::DEFAULT_RANDOM_SEED).
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

    /// Fault injection from the start: the instance's first `count`
    /// allocations (`allocate` or `clone-into-mutable`) fail with
    /// `allocation-failed`, those made during `init` included (unlike
    /// [`Instance::fail_next_allocations`], which can only be called after
    /// `init`).
    pub fn fail_allocations(mut self, count: u32) -> Self {
        self.faults.fail_allocations = count;
        self
    }

    /// Fault injection from the start: the instance's `nth` element call
    /// (1 = the first; `init` is not an element call) returns `error`
    /// without reaching the component, as [`Instance::fail_call`] does.
    pub fn fail_call(mut self, nth: u64, error: ProcessError) -> Self {
        self.faults.fail_call(nth, error);
        self
    }

    /// All the fault switches at once (a pipeline node's).
    pub(crate) fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
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

    /// Sample the instance's wasm stack into `profile` on every epoch tick
    /// that passes while its code runs (a pipeline node's, see
    /// [`Pipeline::profile`](crate::Pipeline::profile)).
    #[cfg(feature = "profile")]
    pub(crate) fn profile(mut self, profile: host::NodeProfile) -> Self {
        self.profile = Some(profile);
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
        store.data_mut().fail_allocations = self.faults.fail_allocations;
        if let Some(tap) = &self.on_output {
            let state = store.data();
            state
                .stdout
                .tap(&name, host::StdStream::Stdout, Arc::clone(&tap.0));
            state
                .stderr
                .tap(&name, host::StdStream::Stderr, Arc::clone(&tap.0));
        }
        #[cfg(feature = "profile")]
        if let Some(profile) = self.profile.clone() {
            profile.start(&runtime.engine, loaded.pre.component(), &name);
            // The same callback as `host::new_store`'s, after a sample.
            store.epoch_deadline_callback(move |mut store| {
                profile.sample(wasmtime::AsContext::as_context(&store));
                Ok(store.data_mut().clock.tick())
            });
        }
        arm_call_limits(&mut store, &self.limits);
        let instance = loaded.pre.instantiate(&mut store).map_err(|err| {
            let frames = crate::backtrace::frames(&err);
            let (kind, source) = classify(&mut store, &self.limits, component, err);
            Error::new(name.clone(), kind)
                .at(Some(role), "instantiate")
                .with_source(source)
                .with_backtrace(frames)
        })?;
        let exports = loaded
            .indices
            .load(&mut store, &instance)
            .map_err(|message| {
                fail(ErrorKind::Load {
                    path: component.path().to_path_buf(),
                    message,
                })
            })?;
        let mut instance = Instance {
            component: component.clone(),
            name,
            role,
            store,
            exports,
            limits: self.limits,
            flow_id: self.flow_id.into(),
            terminated: None,
            torn_down: false,
            element_calls: 0,
            fail_call: self.faults.fail_call,
            teardown_error: None,
            lent: None,
        };
        if self.init {
            instance.init(&self.config)?;
        }
        Ok(instance)
    }
}

/// Whether `config` counts as no config at all: empty, or only JSON whitespace
/// (space, tab, line feed, carriage return). The same rule as torvyn-guest's
/// (`config::is_blank`): config is JSON by convention, and JSON allows no other
/// whitespace, so U+00A0 or a form feed is a config (which a JSON parser rejects).
pub(crate) fn is_blank_config(config: &str) -> bool {
    config
        .bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

#[cfg(test)]
mod tests {
    use super::is_blank_config;

    #[test]
    fn blank_is_json_whitespace_only() {
        for blank in ["", " ", "\t\r\n  "] {
            assert!(is_blank_config(blank), "{blank:?} is blank");
        }
        for config in ["\u{a0}", "\u{3000}", "\u{2028}", "\u{c}", "\u{b}", " {} "] {
            assert!(!is_blank_config(config), "{config:?} is a config");
        }
    }
}
