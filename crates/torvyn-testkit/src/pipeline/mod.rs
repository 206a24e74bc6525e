//! Pipelines: a DAG of components and host-side test nodes, run with the
//! reference semantics of the Torvyn 0.1 contract.
//!
//! The semantics are on [`Pipeline`]'s documentation (rustdoc shows only
//! the crate root's items).
//!
//! ```no_run
//! use torvyn_testkit::{Component, Pipeline, TestElement};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let filter = Component::build("examples/rate-limiter")?;
//! let run = Pipeline::new("main")
//!     .source("input", vec![TestElement::text("a"), TestElement::text("b")])
//!     .component("limiter", &filter, r#"{"max_per_second": 1}"#)
//!     .collector("out")
//!     .edge("input", "limiter")
//!     .edge("limiter", "out")
//!     .run()?;
//! assert_eq!(run.received("out").len(), 1);
//! assert_eq!(run.node("limiter").dropped, 1);
//! # Ok(())
//! # }
//! ```

mod check;
mod loader;
pub mod picture;
mod report;
mod run;
mod run_limits;
mod scripted;
mod spec;
mod trace;

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::component::Component;
use crate::element::{Output, ProcessError, TestElement};
use crate::error::Error;
use crate::host::{Limits, StdStream};
use crate::role::Role;
use crate::settings::{BackpressurePolicy, ClockMode, ErrorPolicy};
pub use report::{DeadLetter, EdgeReport, FlowCounts, FlowError, NodeReport, RunResult};
pub use run_limits::{DEFAULT_RUN_TIMEOUT, Interrupt};
pub use scripted::{Scripted, Step};
pub(crate) use spec::{EdgeSpec, InputLines, NodeKind};
pub use spec::{NodeSpec, Timestamps, read_jsonl};
pub use trace::{Event, Trace, TraceEntry};

/// The default depth of an edge's queue.
pub const DEFAULT_QUEUE_DEPTH: usize = 64;

/// How many received elements each sink keeps in [`RunResult::received`] by
/// default (the first ones; see [`Pipeline::retain`]).
pub const DEFAULT_RETAINED: usize = 10_000;

/// How many entries the trace keeps by default (the last ones; see
/// [`Pipeline::trace_capacity`]).
pub const DEFAULT_TRACE_CAPACITY: usize = 50_000;

/// How many latencies [`RunResult::latencies_ns`] keeps by default (see
/// [`Pipeline::latency_samples`]).
pub const DEFAULT_LATENCY_SAMPLES: usize = 100_000;

/// The default total of host buffers a flow may hold at once: 256 MiB (see
/// [`Pipeline::host_buffer_budget`]).
pub const DEFAULT_FLOW_BUFFER_BUDGET: u64 = 256 << 20;

/// A pipeline under construction: nodes, edges, clock and queue settings.
/// [`run`](Pipeline::run) executes it.
///
/// Host-side sources and collectors need no wasm build, so this runs as is;
/// add built components with [`component`](Pipeline::component), or load a
/// project's flow with [`from_manifest`](Pipeline::from_manifest):
///
/// ```
/// use torvyn_testkit::{Pipeline, TestElement};
///
/// let run = Pipeline::new("fan-out")
///     .source("numbers", (0..3).map(|n| TestElement::text(n.to_string())))
///     .collector("left")
///     .collector("right")
///     .edge("numbers", "left")
///     .edge("numbers", "right")
///     .queue_depth(2)
///     .run()?;
/// assert_eq!(run.received_text("left"), ["0", "1", "2"]);
/// assert_eq!(run.received_text("right"), ["0", "1", "2"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// ```no_run
/// use torvyn_testkit::Pipeline;
///
/// // Builds every component of the flow `main` (needs the wasm32-wasip2 target).
/// let run = Pipeline::from_manifest("Torvyn.toml", Some("main"))?.run()?;
/// println!("{}", run.trace);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Semantics
///
/// - Every component node is instantiated and `init`ed before any element
///   moves; a failed `init` stops the flow with that node's error.
/// - Sources are pulled until they return `none`. Every element pulled gets the
///   flow's next sequence number (from 0, in pull order) and a timestamp from the
///   flow's [`Timestamps`]; those are what downstream components see, whatever a
///   component wrote in its output metadata (which is advisory). Each element
///   also gets a trace id, kept by everything derived from it.
/// - Filters pass or drop; processors emit or drop; routers send the same
///   payload to every named port (an unnamed port is an error that stops the
///   flow); aggregators `ingest` each element and are flushed once everything
///   upstream is complete (their outputs are new elements: they take the
///   flow's next sequence numbers, and are counted in
///   [`RunResult::aggregated`], not in [`RunResult::elements`]); sinks get
///   `push`, then `complete` once everything upstream is complete. Non-router
///   nodes send their output along every outgoing edge.
/// - Edges are bounded queues (default depth 64). A producer is not called while
///   one of its outgoing queues is full (`block-producer`), and a component
///   source is told `notify-backpressure(pause)` when it is held back that way
///   and `ready` when it may go on. A sink answering `pause` gets no more
///   elements until nothing else in the flow can move; then it is resumed.
/// - Errors follow the node's [`ErrorPolicy`]: fail the flow (the default),
///   skip the element, retry it up to N times, or put it on the dead-letter
///   list. `fatal`, a trap, a time or memory limit hit end that node: it is
///   torn down and gets no more elements (later elements for it fail under the
///   same policy). `teardown` runs for every node at the end, also after a
///   failure, with the node's limits (a node that trapped or hit a limit
///   cannot be entered again and gets none); a failing teardown is reported in
///   [`NodeReport::teardown_error`].
/// - A run stops at its limits: [`Pipeline::max_elements`],
///   [`Pipeline::timeout`] (by default [`DEFAULT_RUN_TIMEOUT`]) and
///   [`Pipeline::max_virtual_time`]; the error is
///   [`ErrorKind::Stopped`](crate::ErrorKind::Stopped), with the report.
/// - Components read the flow's virtual clock and seeded random unless told
///   otherwise ([`Pipeline::clock_mode`], [`Pipeline::random_seed`]; see
///   [`crate::ClockMode`]).
/// - No element is lost silently: every element ends as delivered to a sink,
///   dropped by a component or by a full queue, absorbed by an aggregator,
///   failed with its error, dead-lettered, or (when the flow stops) discarded
///   from the queue that held it; the counts add up
///   ([`RunResult::check_accounting`]), and the [`Trace`] records which node
///   did what to each sequence number.
/// - Memory stays flat however long the run: each sink keeps the first
///   [`DEFAULT_RETAINED`] elements it received ([`Pipeline::retain`]), the
///   trace the last [`DEFAULT_TRACE_CAPACITY`] entries
///   ([`Pipeline::trace_capacity`]), latencies a sample of
///   [`DEFAULT_LATENCY_SAMPLES`] ([`Pipeline::latency_samples`]); every
///   delivery can be streamed with [`Pipeline::on_delivered`], and every line
///   a component writes to stdout or stderr with [`Pipeline::on_output`]. Host buffers
///   count against each component's budget ([`Limits::host_buffers`]) and the
///   flow's ([`Pipeline::host_buffer_budget`]).
#[derive(Clone, Debug)]
pub struct Pipeline {
    pub(crate) flow: String,
    pub(crate) nodes: Vec<(String, NodeSpec)>,
    pub(crate) edges: Vec<EdgeSpec>,
    pub(crate) timestamps: Timestamps,
    pub(crate) queue_depth: usize,
    pub(crate) backpressure: BackpressurePolicy,
    pub(crate) deadline: Option<Duration>,
    pub(crate) retain: usize,
    pub(crate) trace_capacity: usize,
    pub(crate) latency_samples: usize,
    pub(crate) on_delivered: Option<Observer>,
    pub(crate) on_output: Option<crate::component::OutputTap>,
    pub(crate) buffer_budget: u64,
    pub(crate) measure_latency: bool,
    /// Whether the run times each node's steps ([`Pipeline::measure_node_time`]).
    pub(crate) measure_node_time: bool,
    /// Whether the run records a timeline ([`Pipeline::record_timeline`]).
    pub(crate) record_timeline: bool,
    /// How many bytes of each payload the timeline keeps
    /// ([`Pipeline::timeline_payload_bytes`]).
    pub(crate) timeline_payload_bytes: usize,
    /// Where the run's guest profiles go ([`Pipeline::profile`]).
    #[cfg(feature = "profile")]
    pub(crate) profiler: Option<picture::Profiler>,
    pub(crate) problems: Vec<String>,
    pub(crate) run_options: run_limits::RunOptions,
    /// The manifest's keys accepted but not used ([`Pipeline::accepted_unused_keys`]).
    pub(crate) unused_keys: Vec<String>,
}

/// A callback that sees every element a sink receives.
type DeliveryFn = dyn FnMut(&str, &Output) + Send;

/// [`Pipeline::on_delivered`]'s callback, shared by clones of the pipeline.
#[derive(Clone)]
pub(crate) struct Observer(pub(crate) Arc<Mutex<DeliveryFn>>);

impl fmt::Debug for Observer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Observer")
    }
}

impl Pipeline {
    /// An empty pipeline for the flow `flow` (the flow id components see).
    pub fn new(flow: impl Into<String>) -> Self {
        Pipeline {
            flow: flow.into(),
            nodes: Vec::new(),
            edges: Vec::new(),
            timestamps: Timestamps::default(),
            queue_depth: DEFAULT_QUEUE_DEPTH,
            backpressure: BackpressurePolicy::BlockProducer,
            deadline: None,
            retain: DEFAULT_RETAINED,
            trace_capacity: DEFAULT_TRACE_CAPACITY,
            latency_samples: DEFAULT_LATENCY_SAMPLES,
            on_delivered: None,
            on_output: None,
            buffer_budget: DEFAULT_FLOW_BUFFER_BUDGET,
            measure_latency: false,
            measure_node_time: false,
            record_timeline: false,
            timeline_payload_bytes: 0,
            #[cfg(feature = "profile")]
            profiler: None,
            problems: Vec::new(),
            run_options: run_limits::RunOptions::default(),
            unused_keys: Vec::new(),
        }
    }

    /// Load flow `flow` (or the only flow) of a project's `Torvyn.toml`,
    /// building every `[[component]]` crate it uses (with [`Component::build`])
    /// and loading `file://` components. Limits come from `[runtime]` and the
    /// nodes' `max_memory` / `fuel_budget`; queue depths and the backpressure
    /// policy from the manifest. A node's error policy is its `on_error`, else
    /// its flow's `on_error`, else [`ErrorPolicy::FailFlow`]; change it with
    /// [`policy`](Self::policy).
    pub fn from_manifest(path: impl AsRef<Path>, flow: Option<&str>) -> Result<Self, Error> {
        loader::load(path.as_ref(), flow, None)
    }

    /// Like [`from_manifest`](Self::from_manifest), with the flow's only
    /// source replaced by `source` (a host-side source, say
    /// [`NodeSpec::source_jsonl`]): the replaced source's component is neither
    /// built nor loaded. An error if the flow has several sources.
    ///
    /// ```no_run
    /// use torvyn_testkit::{NodeSpec, Pipeline};
    ///
    /// let input = NodeSpec::source_jsonl("tests/input.jsonl")?;
    /// let run = Pipeline::from_manifest_with_source("Torvyn.toml", None, input)?.run()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_manifest_with_source(
        path: impl AsRef<Path>,
        flow: Option<&str>,
        source: NodeSpec,
    ) -> Result<Self, Error> {
        loader::load(path.as_ref(), flow, Some(source))
    }

    /// Add a node. Node names must be unique ([`run`](Self::run) checks).
    pub fn node(mut self, name: impl Into<String>, spec: NodeSpec) -> Self {
        self.nodes.push((name.into(), spec));
        self
    }

    /// Add a component node with its `init` config (default policy and limits).
    pub fn component(self, name: impl Into<String>, component: &Component, config: &str) -> Self {
        self.node(name, NodeSpec::component(component, config))
    }

    /// Add a host-side source emitting `elements`.
    pub fn source(
        self,
        name: impl Into<String>,
        elements: impl IntoIterator<Item = TestElement>,
    ) -> Self {
        self.node(name, NodeSpec::source(elements))
    }

    /// Add a host-side collector sink.
    pub fn collector(self, name: impl Into<String>) -> Self {
        self.node(name, NodeSpec::collector())
    }

    /// Connect `from`'s output to `to`.
    pub fn edge(self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.edge_from_port(from, "output", to)
    }

    /// Connect `from`'s port `port` (a router's port name) to `to`.
    pub fn edge_from_port(
        mut self,
        from: impl Into<String>,
        port: impl Into<String>,
        to: impl Into<String>,
    ) -> Self {
        self.edges.push(EdgeSpec {
            from: from.into(),
            port: port.into(),
            to: to.into(),
            depth: None,
            policy: None,
        });
        self
    }

    /// Set the depth of the most recently added edge's queue.
    pub fn edge_depth(mut self, depth: usize) -> Self {
        match self.edges.last_mut() {
            Some(edge) => edge.depth = Some(depth),
            None => self
                .problems
                .push("edge_depth() was called before any edge was added".into()),
        }
        self
    }

    /// What the most recently added edge does when its queue is full,
    /// instead of the pipeline's [`backpressure_policy`](Self::backpressure_policy)
    /// (a `Torvyn.toml` edge's `backpressure.backpressure_policy`). Under
    /// `block-producer` a producer waits while any of its `block-producer`
    /// edges is full; its other edges drop or fail as their policies say.
    pub fn edge_backpressure(mut self, policy: BackpressurePolicy) -> Self {
        match self.edges.last_mut() {
            Some(edge) => edge.policy = Some(policy),
            None => self
                .problems
                .push("edge_backpressure() was called before any edge was added".into()),
        }
        self
    }

    /// The keys of the `Torvyn.toml` this pipeline was loaded from that are
    /// accepted but not used by the reference host
    /// ([`Manifest::accepted_unused_keys`](crate::manifest::Manifest::accepted_unused_keys));
    /// empty for a pipeline built in code. A run's report carries them too
    /// ([`RunResult::accepted_unused_keys`]).
    pub fn accepted_unused_keys(&self) -> &[String] {
        &self.unused_keys
    }

    /// The default queue depth of every edge (default 64).
    pub fn queue_depth(mut self, depth: usize) -> Self {
        self.queue_depth = depth;
        self
    }

    /// What a full queue does (default `block-producer`).
    pub fn backpressure_policy(mut self, policy: BackpressurePolicy) -> Self {
        self.backpressure = policy;
        self
    }

    /// The timestamps elements get (default: from 0, 1 ms apart).
    pub fn timestamps(mut self, timestamps: Timestamps) -> Self {
        self.timestamps = timestamps;
        self
    }

    /// Fault injection: give every element a flow-context deadline of `remaining`.
    pub fn deadline(mut self, remaining: Duration) -> Self {
        self.deadline = Some(remaining);
        self
    }

    /// `record(false)` keeps neither the trace nor any received element
    /// (`retain(0)` and `trace_capacity(0)`; benchmarks use it); `record(true)`
    /// restores the defaults ([`DEFAULT_RETAINED`], [`DEFAULT_TRACE_CAPACITY`]).
    /// Counts are kept either way.
    pub fn record(self, record: bool) -> Self {
        if record {
            self.retain(DEFAULT_RETAINED)
                .trace_capacity(DEFAULT_TRACE_CAPACITY)
        } else {
            self.retain(0).trace_capacity(0)
        }
    }

    /// Keep the first `per_sink` elements each sink receives in
    /// [`RunResult::received`] (default [`DEFAULT_RETAINED`]; `0` keeps none,
    /// `usize::MAX` all). The counts ([`NodeReport::delivered`]) cover every
    /// element either way; [`on_delivered`](Self::on_delivered) sees them all.
    pub fn retain(mut self, per_sink: usize) -> Self {
        self.retain = per_sink;
        self
    }

    /// Keep the last `entries` entries of the per-element trace (a ring
    /// buffer; default [`DEFAULT_TRACE_CAPACITY`]; `0` turns the trace off).
    /// [`RunResult::trace_dropped`] says how many older entries were let go.
    pub fn trace_capacity(mut self, entries: usize) -> Self {
        self.trace_capacity = entries;
        self
    }

    /// Call `observer(sink, element)` for every element a sink receives, as it
    /// arrives, whatever [`retain`](Self::retain) keeps: to stream a long run's
    /// output somewhere (the CLI's `--output` does) with flat memory.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use torvyn_testkit::{Pipeline, TestElement};
    ///
    /// let seen = Arc::new(Mutex::new(0u64));
    /// let counter = Arc::clone(&seen);
    /// let run = Pipeline::new("stream")
    ///     .source("input", (0..100).map(|n| TestElement::text(n.to_string())))
    ///     .collector("out")
    ///     .edge("input", "out")
    ///     .retain(10)
    ///     .on_delivered(move |_sink, _element| *counter.lock().unwrap() += 1)
    ///     .run()
    ///     .unwrap();
    /// assert_eq!(run.received("out").len(), 10);
    /// assert_eq!(run.node("out").delivered, 100);
    /// assert_eq!(*seen.lock().unwrap(), 100);
    /// ```
    pub fn on_delivered(mut self, observer: impl FnMut(&str, &Output) + Send + 'static) -> Self {
        self.on_delivered = Some(Observer(Arc::new(Mutex::new(observer))));
        self
    }

    /// Call `observer(node, stream, line)` for every line a component node
    /// writes to its stdout or stderr, as it is written, in the order written
    /// (the flow runs on one thread, so lines of different nodes and streams
    /// interleave as the calls that wrote them did).
    ///
    /// `line` is the bytes exactly as written, without the `\n` that ended
    /// it (a `\r` before it is kept); it need not be UTF-8. A line still
    /// without its newline when the node ends is passed on then, and a line
    /// longer than 64 KiB is passed on in 64 KiB pieces. The capture limit
    /// ([`Limits::capture`]) bounds only what [`NodeReport::stdout`] and
    /// [`NodeReport::stderr`] keep in memory: the observer sees every line.
    /// The CLI shows component output while a flow runs with this.
    ///
    /// ```no_run
    /// use torvyn_testkit::Pipeline;
    ///
    /// let run = Pipeline::from_manifest("Torvyn.toml", None)?
    ///     .on_output(|node, stream, line| {
    ///         eprintln!("{node} {stream}: {}", String::from_utf8_lossy(line));
    ///     })
    ///     .run()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_output(
        mut self,
        observer: impl FnMut(&str, StdStream, &[u8]) + Send + 'static,
    ) -> Self {
        self.on_output = Some(crate::component::OutputTap(Arc::new(Mutex::new(observer))));
        self
    }

    /// The most bytes of host buffers the whole flow may hold at once: the
    /// buffers its components hold (each also within its own
    /// [`Limits::host_buffers`]) plus the payloads queued between nodes.
    /// An allocation beyond it is refused to the component
    /// (`allocation-failed`); a trap that follows is
    /// [`ErrorKind::HostBuffers`](crate::ErrorKind::HostBuffers). Default
    /// [`DEFAULT_FLOW_BUFFER_BUDGET`] (256 MiB).
    pub fn host_buffer_budget(mut self, bytes: u64) -> Self {
        self.buffer_budget = bytes;
        self
    }

    /// Measure each delivered element's latency, from entering the flow to its
    /// delivery to a sink (see [`RunResult::latencies_ns`]). Default `false`.
    pub fn measure_latency(mut self, measure: bool) -> Self {
        self.measure_latency = measure;
        self
    }

    /// Measure the wall-clock time each node takes over its elements (its
    /// calls and the host's work around them: reading its input queue,
    /// sending its outputs on), in [`RunResult::node_time_ns`]. Default
    /// `false`: a run that does not ask reads no clock per call.
    pub fn measure_node_time(mut self, measure: bool) -> Self {
        self.measure_node_time = measure;
        self
    }

    /// Keep at most `samples` latencies (default [`DEFAULT_LATENCY_SAMPLES`]):
    /// every one while there are fewer, then a uniform random sample of all of
    /// them (reservoir sampling, seeded, so runs repeat), which keeps the
    /// percentiles and flat memory. [`RunResult::latency_count`] counts all.
    pub fn latency_samples(mut self, samples: usize) -> Self {
        self.latency_samples = samples;
        self
    }

    /// Stop pulling the sources once they have produced `max` elements, let
    /// the elements already in the flow run to the end, and return
    /// [`ErrorKind::Stopped`](crate::ErrorKind::Stopped) with
    /// [`RunLimit::Elements`](crate::RunLimit::Elements) (and the report) if a source was cut off. The
    /// way to run a source that never ends.
    pub fn max_elements(mut self, max: u64) -> Self {
        self.run_options.max_elements = Some(max);
        self
    }

    /// Stop the run once it has taken `timeout` of wall time (checked between
    /// calls; one call is bounded by its own limit), with
    /// [`ErrorKind::Stopped`](crate::ErrorKind::Stopped) and
    /// [`RunLimit::WallTime`](crate::RunLimit::WallTime). Without it, a run stops after
    /// [`DEFAULT_RUN_TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.run_options.timeout = Some(timeout);
        self
    }

    /// Stop the run once the flow's virtual clock has moved `limit` past its
    /// start (elements' timestamps and components' sleeps move it), with
    /// [`RunLimit::VirtualTime`](crate::RunLimit::VirtualTime).
    pub fn max_virtual_time(mut self, limit: Duration) -> Self {
        self.run_options.max_virtual_time = Some(limit);
        self
    }

    /// Which clocks the components read (default [`ClockMode::Virtual`]: the
    /// flow's virtual clock, which starts at the [`Timestamps`]'s start and which
    /// all nodes share).
    pub fn clock_mode(mut self, mode: ClockMode) -> Self {
        self.run_options.clock_mode = mode;
        self
    }

    /// Stop the run when `interrupt` is thrown (see [`Interrupt`]): the
    /// sources are not pulled again, the elements in the flow run to the end,
    /// every node is torn down, and the run ends with
    /// [`RunLimit::Interrupted`](crate::RunLimit::Interrupted).
    pub fn interrupt_with(mut self, interrupt: &Interrupt) -> Self {
        self.run_options.interrupt = Some(interrupt.clone());
        self
    }

    /// Seed every node's `wasi:random` generators with `seed` (mixed with the
    /// node's name); default [`DEFAULT_RANDOM_SEED`](crate::DEFAULT_RANDOM_SEED).
    pub fn random_seed(mut self, seed: u64) -> Self {
        self.run_options.random_seed = Some(seed);
        self
    }

    /// Change a node's error policy (for example after [`from_manifest`](Self::from_manifest)).
    pub fn policy(self, node: &str, policy: ErrorPolicy) -> Self {
        self.modify(node, |spec| spec.policy = policy)
    }

    /// Change a component node's `init` config (for example after
    /// [`from_manifest`](Self::from_manifest), as the command line's
    /// `--config NODE=VALUE` does). A node that is not a component has no
    /// config: the run then fails to start, naming it.
    ///
    /// ```no_run
    /// # use torvyn_testkit::Pipeline;
    /// let run = Pipeline::from_manifest("Torvyn.toml", Some("main"))?
    ///     .config("limiter", r#"{"max_per_window": 2}"#)
    ///     .run()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn config(mut self, node: &str, config: impl Into<String>) -> Self {
        let config = config.into();
        let mut not_a_component = false;
        self = self.modify(node, |spec| match &mut spec.kind {
            NodeKind::Component { config: old, .. } => *old = config,
            _ => not_a_component = true,
        });
        if not_a_component {
            self.problems.push(format!(
                "node `{node}` is not a component, so it has no config to change"
            ));
        }
        self
    }

    /// A component node's `init` config; `None` when there is no such node
    /// or it is not a component.
    pub fn node_config(&self, node: &str) -> Option<&str> {
        self.nodes
            .iter()
            .find(|(name, _)| name == node)
            .and_then(|(_, spec)| match &spec.kind {
                NodeKind::Component { config, .. } => Some(config.as_str()),
                _ => None,
            })
    }

    /// Change a node's limits.
    pub fn limits(self, node: &str, limits: Limits) -> Self {
        self.modify(node, |spec| spec.limits = limits)
    }

    /// Fault injection: node `node`'s `nth` element call returns `error`.
    pub fn fail_call(self, node: &str, nth: u64, error: ProcessError) -> Self {
        self.modify(node, |spec| spec.faults.fail_call(nth, error))
    }

    /// Fault injection: node `node`'s first `count` allocations fail.
    pub fn fail_allocations(self, node: &str, count: u32) -> Self {
        self.modify(node, |spec| spec.faults.fail_allocations = count)
    }

    /// Replace node `node` (for example a manifest's source, by a host-side source).
    pub fn replace(self, node: &str, spec: NodeSpec) -> Self {
        self.modify(node, |existing| *existing = spec)
    }

    fn modify(mut self, node: &str, change: impl FnOnce(&mut NodeSpec)) -> Self {
        match self.nodes.iter_mut().find(|(name, _)| name == node) {
            Some((_, spec)) => change(spec),
            None => {
                let names = self.node_names().join(", ");
                self.problems.push(format!(
                    "there is no node `{node}` to change (nodes: {names})"
                ));
            }
        }
        self
    }

    /// The nodes' names, in the order they were added.
    pub fn node_names(&self) -> Vec<String> {
        self.nodes.iter().map(|(name, _)| name.clone()).collect()
    }

    /// The flow's source nodes.
    pub fn sources(&self) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|(_, spec)| spec.role() == Role::Source)
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Run the flow to completion. `Err` holds the error that stopped the flow
    /// and the report of everything that happened until then.
    pub fn run(self) -> Result<RunResult, FlowError> {
        let unused = self.unused_keys.clone();
        let mut outcome = run::run(self);
        match &mut outcome {
            Ok(result) => result.accepted_unused_keys = unused,
            Err(err) => err.report.accepted_unused_keys = unused,
        }
        outcome
    }
}
