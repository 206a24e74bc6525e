//! Pipelines: a DAG of components and host-side test nodes, run with the
//! reference semantics of the Torvyn 0.1 contract.
//!
//! # Semantics
//!
//! - Every component node is instantiated and `init`ed before any element
//!   moves; a failed `init` stops the flow with that node's error.
//! - Sources are pulled until they return `none`. Every element pulled gets the
//!   flow's next sequence number (from 0, in pull order) and a timestamp from the
//!   flow's [`Clock`]; those are what downstream components see, whatever a
//!   component wrote in its output metadata (which is advisory). Each element
//!   also gets a trace id, kept by everything derived from it.
//! - Filters pass or drop; processors emit or drop; routers send the same
//!   payload to every named port (an unnamed port is an error that stops the
//!   flow); aggregators `ingest` each element and are flushed once everything
//!   upstream is complete (their outputs are new elements: they take the
//!   flow's next sequence numbers, and are counted in
//!   [`RunResult::aggregated`], not in [`RunResult::elements`]); sinks get
//!   `push`, then `complete` once everything upstream is complete. Non-router
//!   nodes send their output along every outgoing edge.
//! - Edges are bounded queues (default depth 64). A producer is not called while
//!   one of its outgoing queues is full (`block-producer`), and a component
//!   source is told `notify-backpressure(pause)` when it is held back that way
//!   and `ready` when it may go on. A sink answering `pause` gets no more
//!   elements until nothing else in the flow can move; then it is resumed.
//! - Errors follow the node's [`ErrorPolicy`]: fail the flow (the default),
//!   skip the element, retry it up to N times, or put it on the dead-letter
//!   list. `fatal`, a trap, a time or memory limit hit end that node: it is
//!   torn down and gets no more elements (later elements for it fail under the
//!   same policy). `teardown` runs for every node at the end, also after a
//!   failure, with the node's limits (a node that trapped or hit a limit
//!   cannot be entered again and gets none); a failing teardown is reported in
//!   [`NodeReport::teardown_error`].
//! - A run stops at its limits: [`Pipeline::max_elements`],
//!   [`Pipeline::timeout`] (by default [`DEFAULT_RUN_TIMEOUT`]) and
//!   [`Pipeline::max_virtual_time`]; the error is
//!   [`ErrorKind::Stopped`](crate::ErrorKind::Stopped), with the report.
//! - Components read the flow's virtual clock and seeded random unless told
//!   otherwise ([`Pipeline::clock_mode`], [`Pipeline::random_seed`]; see
//!   [`crate::host::clock`]).
//! - No element is lost silently: every element ends as delivered to a sink,
//!   dropped by a component or by a full queue, absorbed by an aggregator,
//!   failed with its error, dead-lettered, or (when the flow stops) discarded
//!   from the queue that held it; the counts add up
//!   ([`RunResult::check_accounting`]), and the [`Trace`] records which node
//!   did what to each sequence number.
//! - Memory stays flat however long the run: each sink keeps the first
//!   [`DEFAULT_RETAINED`] elements it received ([`Pipeline::retain`]), the
//!   trace the last [`DEFAULT_TRACE_CAPACITY`] entries
//!   ([`Pipeline::trace_capacity`]), latencies a sample of
//!   [`DEFAULT_LATENCY_SAMPLES`] ([`Pipeline::latency_samples`]); every
//!   delivery can be streamed with [`Pipeline::on_delivered`], and every line
//!   a component writes to stdout or stderr with [`Pipeline::on_output`]. Host buffers
//!   count against each component's budget ([`Limits::host_buffers`]) and the
//!   flow's ([`Pipeline::host_buffer_budget`]).
//!
//! ```no_run
//! use torvyn_testkit::pipeline::Pipeline;
//! use torvyn_testkit::{Component, TestElement};
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

mod limits;
mod manifest;
mod run;
mod scripted;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::component::{Component, LogLine};
use crate::element::{MAX_BUFFER_BYTES, Output, ProcessError, TestElement};
use crate::error::Error;
pub use crate::host::StdStream;
use crate::host::{ClockMode, Limits, Stats};
pub use crate::manifest::BackpressurePolicy;
use crate::role::Role;
pub use limits::{DEFAULT_RUN_TIMEOUT, RunLimit};
pub use scripted::Scripted;

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

/// What a node does when a call on an element fails.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorPolicy {
    /// Stop the flow with the error (the default).
    #[default]
    FailFlow,
    /// Count the element as failed and go on.
    Skip,
    /// Call again with the same element up to this many more times, then fail the flow.
    /// `fatal`, traps and limit hits are never retried.
    Retry(u32),
    /// Put the element and its error on the dead-letter list and go on.
    DeadLetter,
}

impl fmt::Display for ErrorPolicy {
    /// The name as written on the command line: `fail-flow`, `skip`,
    /// `dead-letter`, `retry=N`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorPolicy::FailFlow => f.write_str("fail-flow"),
            ErrorPolicy::Skip => f.write_str("skip"),
            ErrorPolicy::Retry(count) => write!(f, "retry={count}"),
            ErrorPolicy::DeadLetter => f.write_str("dead-letter"),
        }
    }
}

impl std::str::FromStr for ErrorPolicy {
    type Err = String;

    /// `fail-flow`, `skip`, `dead-letter` or `retry=N` (N from 1), as the
    /// CLI's `--on-error` takes them (`Torvyn.toml` writes the last
    /// `{ retry = N }`).
    ///
    /// ```
    /// use torvyn_testkit::pipeline::ErrorPolicy;
    ///
    /// assert_eq!("skip".parse(), Ok(ErrorPolicy::Skip));
    /// assert_eq!("retry=3".parse(), Ok(ErrorPolicy::Retry(3)));
    /// assert_eq!(ErrorPolicy::Retry(3).to_string(), "retry=3");
    /// assert!("retry".parse::<ErrorPolicy>().unwrap_err().contains("retry=N"));
    /// ```
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        const FORMS: &str = "use `fail-flow`, `skip`, `dead-letter` or `retry=N` (N at least 1)";
        if let Some(policy) = ErrorPolicy::by_name(text) {
            return Ok(policy);
        }
        match text.strip_prefix("retry=") {
            Some(count) => match count.trim().parse::<u32>() {
                Ok(count) if count >= 1 => Ok(ErrorPolicy::Retry(count)),
                _ => Err(format!(
                    "`{text}`: the number of retries must be a whole number from 1 to {}; {FORMS}",
                    u32::MAX
                )),
            },
            None => Err(format!("`{text}` is not an error policy; {FORMS}")),
        }
    }
}

impl ErrorPolicy {
    /// The policies written as a bare name, the same in `Torvyn.toml`'s
    /// `on_error` and the CLI's `--on-error`: `fail-flow`, `skip`,
    /// `dead-letter` (a retry needs its count).
    pub(crate) fn by_name(name: &str) -> Option<Self> {
        match name {
            "fail-flow" => Some(ErrorPolicy::FailFlow),
            "skip" => Some(ErrorPolicy::Skip),
            "dead-letter" => Some(ErrorPolicy::DeadLetter),
            _ => None,
        }
    }
}

/// The flow's clock: the timestamp the host gives the element with sequence
/// number `n` is `start + n * step`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    start_ns: u64,
    step_ns: u64,
}

impl Default for Clock {
    /// Starts at 0 and advances 1 ms per element.
    fn default() -> Self {
        Clock {
            start_ns: 0,
            step_ns: 1_000_000,
        }
    }
}

impl Clock {
    /// A clock starting at `start` (since the epoch) that advances `step` per element.
    pub fn new(start: Duration, step: Duration) -> Self {
        Clock {
            start_ns: nanos(start),
            step_ns: nanos(step),
        }
    }

    /// The timestamp of sequence number `sequence`, in nanoseconds.
    pub fn timestamp_ns(&self, sequence: u64) -> u64 {
        self.start_ns
            .saturating_add(sequence.saturating_mul(self.step_ns))
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// The elements of a JSON-lines file, each with its 1-based line number:
/// each non-empty line is one `application/json` element. A UTF-8 byte-order
/// mark at the start is skipped (as in `Torvyn.toml`), and `\r\n` line ends
/// are accepted. A line that is not UTF-8 or not JSON, or longer than the
/// contract's 16 MiB buffer limit (checked before it is parsed), is an error
/// naming the file and the line. [`NodeSpec::source_jsonl`] and the CLI's
/// `--input` and `test --file` read this format.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("torvyn-doc-jsonl-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("in.jsonl");
/// std::fs::write(&path, "{\"n\": 1}\n\n[2]\n")?;
/// let elements = torvyn_testkit::pipeline::read_jsonl(&path)?;
/// assert_eq!(elements.len(), 2);
/// assert_eq!(elements[1].0, 3, "the second element is on line 3");
/// assert_eq!(elements[1].1.payload().as_bytes(), b"[2]");
///
/// std::fs::write(&path, "{\"n\": 1}\nnot json\n")?;
/// let err = torvyn_testkit::pipeline::read_jsonl(&path).unwrap_err();
/// assert!(err.to_string().contains("in.jsonl:2: not a JSON value"), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_jsonl(path: impl AsRef<Path>) -> Result<Vec<(u64, TestElement)>, Error> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|err| {
        Error::pipeline(format!(
            "cannot read the input file {}: {err}",
            path.display()
        ))
    })?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let at = |index: usize| format!("{}:{}", path.display(), index + 1);
    let mut elements = Vec::new();
    for (index, line) in bytes.split(|&byte| byte == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() as u64 > MAX_BUFFER_BYTES {
            return Err(Error::pipeline(format!(
                "{}: the line is {} bytes, above the contract's {} per-buffer limit, so \
                 it cannot be one element; split it into smaller elements",
                at(index),
                line.len(),
                crate::error::human_bytes(MAX_BUFFER_BYTES)
            )));
        }
        let line = std::str::from_utf8(line).map_err(|err| {
            Error::pipeline(format!(
                "{}: the line is not UTF-8 (invalid byte at column {}); a JSON-lines \
                 input must be UTF-8 text",
                at(index),
                err.valid_up_to() + 1
            ))
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(line).map_err(|err| {
            Error::pipeline(format!(
                "{}: not a JSON value ({err}); every non-empty line of a JSON-lines \
                 input is one element",
                at(index)
            ))
        })?;
        elements.push((index as u64 + 1, TestElement::json(value)));
    }
    Ok(elements)
}

/// One node of a pipeline, with its policy and faults.
#[derive(Clone, Debug)]
pub struct NodeSpec {
    pub(crate) kind: NodeKind,
    pub(crate) policy: ErrorPolicy,
    pub(crate) limits: Limits,
    pub(crate) grants: BTreeSet<String>,
    pub(crate) fail_call: Option<(u64, ProcessError)>,
    pub(crate) fail_allocations: u32,
}

#[derive(Clone, Debug)]
pub(crate) enum NodeKind {
    Component {
        component: Component,
        config: String,
    },
    Source(Vec<TestElement>, Option<InputLines>),
    Collector,
    Scripted(Scripted),
}

impl NodeSpec {
    /// A component node with its `init` config.
    pub fn component(component: &Component, config: impl Into<String>) -> Self {
        NodeSpec::new(NodeKind::Component {
            component: component.clone(),
            config: config.into(),
        })
    }

    /// A host-side source that emits `elements` in order (the host assigns
    /// their sequence numbers and timestamps).
    pub fn source(elements: impl IntoIterator<Item = TestElement>) -> Self {
        NodeSpec::new(NodeKind::Source(elements.into_iter().collect(), None))
    }

    /// A host-side source reading a JSON-lines file, in the format of
    /// [`read_jsonl`] (the CLI's `--input`). Each element remembers its line:
    /// when a call on it (or on what a processor made of it) stops the flow,
    /// the error names the line ([`Error::input_line`]).
    pub fn source_jsonl(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let (lines, elements) = read_jsonl(path)?.into_iter().unzip();
        let lines = InputLines {
            file: Arc::from(path),
            lines,
        };
        Ok(NodeSpec::new(NodeKind::Source(elements, Some(lines))))
    }

    /// A host-side sink that records everything it receives (always `ready`).
    pub fn collector() -> Self {
        NodeSpec::new(NodeKind::Collector)
    }

    /// A host-side node of `script`'s role that passes, drops, fails, pauses
    /// and ends by its seeded rule (see [`Scripted`]).
    pub fn scripted(script: Scripted) -> Self {
        NodeSpec::new(NodeKind::Scripted(script))
    }

    fn new(kind: NodeKind) -> Self {
        NodeSpec {
            kind,
            policy: ErrorPolicy::default(),
            limits: Limits::default(),
            grants: BTreeSet::new(),
            fail_call: None,
            fail_allocations: 0,
        }
    }

    /// The node's error policy.
    pub fn policy(mut self, policy: ErrorPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The component's time, memory and fuel limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Grant the component a capability.
    pub fn grant(mut self, capability: impl Into<String>) -> Self {
        self.grants.insert(capability.into());
        self
    }

    /// Fault injection: the node's `nth` element call (1-based) returns `error`
    /// without reaching the component.
    pub fn fail_call(mut self, nth: u64, error: ProcessError) -> Self {
        self.fail_call = Some((nth, error));
        self
    }

    /// Fault injection: the component's first `count` allocations fail.
    pub fn fail_allocations(mut self, count: u32) -> Self {
        self.fail_allocations = count;
        self
    }

    pub(crate) fn role(&self) -> Role {
        match &self.kind {
            NodeKind::Component { component, .. } => component.role(),
            NodeKind::Source(..) => Role::Source,
            NodeKind::Collector => Role::Sink,
            NodeKind::Scripted(script) => script.role,
        }
    }
}

/// Where a host source's elements were read from: the file, and the 1-based
/// line of each element (in the source's order), so that an error can name it.
#[derive(Clone, Debug)]
pub(crate) struct InputLines {
    pub(crate) file: Arc<Path>,
    pub(crate) lines: std::collections::VecDeque<u64>,
}

/// An edge from a node's output port to another node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EdgeSpec {
    pub(crate) from: String,
    pub(crate) port: String,
    pub(crate) to: String,
    pub(crate) depth: Option<usize>,
    pub(crate) policy: Option<BackpressurePolicy>,
}

/// A pipeline under construction: nodes, edges, clock and queue settings.
/// [`run`](Pipeline::run) executes it.
///
/// Host-side sources and collectors need no wasm build, so this runs as is;
/// add built components with [`component`](Pipeline::component), or load a
/// project's flow with [`from_manifest`](Pipeline::from_manifest):
///
/// ```
/// use torvyn_testkit::TestElement;
/// use torvyn_testkit::pipeline::Pipeline;
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
/// use torvyn_testkit::pipeline::Pipeline;
///
/// // Builds every component of the flow `main` (needs the wasm32-wasip2 target).
/// let run = Pipeline::from_manifest("Torvyn.toml", Some("main"))?.run()?;
/// println!("{}", run.trace);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Pipeline {
    pub(crate) flow: String,
    pub(crate) nodes: Vec<(String, NodeSpec)>,
    pub(crate) edges: Vec<EdgeSpec>,
    pub(crate) clock: Clock,
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
    pub(crate) problems: Vec<String>,
    pub(crate) run_options: limits::RunOptions,
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
            clock: Clock::default(),
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
            problems: Vec::new(),
            run_options: limits::RunOptions::default(),
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
        manifest::load(path.as_ref(), flow, None)
    }

    /// Like [`from_manifest`](Self::from_manifest), with the flow's only
    /// source replaced by `source` (a host-side source, say
    /// [`NodeSpec::source_jsonl`]): the replaced source's component is neither
    /// built nor loaded. An error if the flow has several sources.
    ///
    /// ```no_run
    /// use torvyn_testkit::pipeline::{NodeSpec, Pipeline};
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
        manifest::load(path.as_ref(), flow, Some(source))
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

    /// The clock that timestamps elements.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
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
    /// use torvyn_testkit::TestElement;
    /// use torvyn_testkit::pipeline::Pipeline;
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
    /// use torvyn_testkit::pipeline::Pipeline;
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
    /// An allocation beyond it fails the node with
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
    /// [`RunLimit::Elements`] (and the report) if a source was cut off. The
    /// way to run a source that never ends.
    pub fn max_elements(mut self, max: u64) -> Self {
        self.run_options.max_elements = Some(max);
        self
    }

    /// Stop the run once it has taken `timeout` of wall time (checked between
    /// calls; one call is bounded by its own limit), with
    /// [`ErrorKind::Stopped`](crate::ErrorKind::Stopped) and
    /// [`RunLimit::WallTime`]. Without it, a run stops after
    /// [`DEFAULT_RUN_TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.run_options.timeout = Some(timeout);
        self
    }

    /// Stop the run once the flow's virtual clock has moved `limit` past its
    /// start (elements' timestamps and components' sleeps move it), with
    /// [`RunLimit::VirtualTime`].
    pub fn max_virtual_time(mut self, limit: Duration) -> Self {
        self.run_options.max_virtual_time = Some(limit);
        self
    }

    /// Which clocks the components read (default [`ClockMode::Virtual`]: the
    /// flow's virtual clock, which starts at the [`Clock`]'s start and which
    /// all nodes share).
    pub fn clock_mode(mut self, mode: ClockMode) -> Self {
        self.run_options.clock_mode = mode;
        self
    }

    /// Seed every node's `wasi:random` generators with `seed` (mixed with the
    /// node's name); default [`DEFAULT_RANDOM_SEED`](crate::host::DEFAULT_RANDOM_SEED).
    pub fn random_seed(mut self, seed: u64) -> Self {
        self.run_options.random_seed = Some(seed);
        self
    }

    /// Change a node's error policy (for example after [`from_manifest`](Self::from_manifest)).
    pub fn policy(self, node: &str, policy: ErrorPolicy) -> Self {
        self.modify(node, |spec| spec.policy = policy)
    }

    /// Change a node's limits.
    pub fn limits(self, node: &str, limits: Limits) -> Self {
        self.modify(node, |spec| spec.limits = limits)
    }

    /// Fault injection: node `node`'s `nth` element call returns `error`.
    pub fn fail_call(self, node: &str, nth: u64, error: ProcessError) -> Self {
        self.modify(node, |spec| spec.fail_call = Some((nth, error)))
    }

    /// Fault injection: node `node`'s first `count` allocations fail.
    pub fn fail_allocations(self, node: &str, count: u32) -> Self {
        self.modify(node, |spec| spec.fail_allocations = count)
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

/// Counts and captures for one node of a finished (or stopped) run.
///
/// The counts add up, also when the flow stopped
/// ([`RunResult::check_accounting`]):
///
/// | role | invariant |
/// | --- | --- |
/// | filter, processor, router | `in = out + dropped + failed + dead_lettered` |
/// | aggregator | `in = absorbed + failed + dead_lettered` (its `out` are new elements) |
/// | sink | `in = delivered + failed + dead_lettered` |
///
/// `in` counts elements the node was called with; elements still queued for
/// it when the flow stopped never reached it and are counted in `discarded`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NodeReport {
    /// The node's role (host sources are sources, collectors are sinks).
    pub role: Option<Role>,
    /// Elements it was called with (each once, however many retries; 0 for sources).
    #[serde(rename = "in")]
    pub received: u64,
    /// Elements it emitted (each element sent on counts once, however many
    /// edges): a source's pulled elements, an aggregator's aggregates.
    #[serde(rename = "out")]
    pub emitted: u64,
    /// Elements it dropped (filter `false`, processor `drop`, router no port).
    pub dropped: u64,
    /// Elements an aggregator ingested (their content lives on in its aggregates).
    pub absorbed: u64,
    /// Elements a sink received (`push` returned `ready` or `pause`).
    pub delivered: u64,
    /// Elements that failed in it (the call failed under its error policy).
    pub failed: u64,
    /// Elements it sent to the dead-letter list.
    pub dead_lettered: u64,
    /// Elements still queued for it when the flow stopped (never called with them).
    pub discarded: u64,
    /// Calls without an element that failed: a source's `pull`, an
    /// aggregator's `flush`, a sink's `complete` (not in the element counts).
    pub failed_calls: u64,
    /// Retries it made.
    pub retries: u64,
    /// `pause` answers (sinks) or `pause` notifications (sources).
    pub pauses: u64,
    /// What the component did through the host.
    pub stats: Stats,
    /// Its `torvyn_guest::log` lines.
    pub logs: Vec<LogLine>,
    /// Its captured stdout.
    pub stdout: String,
    /// Its captured stderr.
    pub stderr: String,
    /// How its `teardown` failed (a trap, a time limit, a spent instance),
    /// if it did: reported, never dropped.
    pub teardown_error: Option<String>,
}

/// One edge of a finished (or stopped) run: its queue's depth and the most
/// elements it held at once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EdgeReport {
    /// The node it leaves.
    pub from: String,
    /// The port of `from` it leaves by (`output`, or a router's port name).
    pub port: String,
    /// The node it enters.
    pub to: String,
    /// The queue's depth (its capacity).
    pub depth: usize,
    /// The most elements the queue held at once (after a push). Under
    /// `block-producer` it stays within `depth`, except that an
    /// aggregator's `flush` output is queued whole.
    pub peak: usize,
}

/// An element that failed in a node with the dead-letter policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    /// The node.
    pub node: String,
    /// The element's flow sequence number.
    pub sequence: u64,
    /// The element.
    pub element: TestElement,
    /// The error, as text.
    pub error: String,
}

/// What happened to an element in a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// A source produced it.
    Pulled,
    /// A filter passed it, a processor emitted it, a router sent it to ports.
    Emitted {
        /// The router ports it went to (empty for other roles, which send on
        /// every outgoing edge).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        ports: Vec<String>,
    },
    /// The node dropped it.
    Dropped,
    /// An aggregator ingested it (its content lives on in the aggregate).
    Absorbed,
    /// A sink received it.
    Delivered,
    /// An aggregator produced it from earlier elements (at `ingest` or `flush`).
    Aggregated,
    /// A call on it failed and was retried.
    Retried {
        /// The error.
        error: String,
    },
    /// It failed.
    Failed {
        /// The error.
        error: String,
    },
    /// It went to the dead-letter list.
    DeadLettered {
        /// The error.
        error: String,
    },
    /// The flow stopped while it was queued for the node: it never reached it.
    Discarded {
        /// Why the flow stopped.
        reason: String,
    },
}

/// One entry of the per-element trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceEntry {
    /// The element's flow sequence number.
    pub sequence: u64,
    /// The node.
    pub node: String,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

/// The per-element trace of a run, in the order things happened.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Trace(pub Vec<TraceEntry>);

impl Trace {
    /// The entries for one sequence number.
    pub fn of(&self, sequence: u64) -> Vec<&TraceEntry> {
        self.0
            .iter()
            .filter(|entry| entry.sequence == sequence)
            .collect()
    }
}

impl fmt::Display for Trace {
    /// One line per sequence number: `#3: numbers pulled -> evens dropped`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut by_sequence: BTreeMap<u64, Vec<&TraceEntry>> = BTreeMap::new();
        for entry in &self.0 {
            by_sequence.entry(entry.sequence).or_default().push(entry);
        }
        for (sequence, entries) in by_sequence {
            write!(f, "#{sequence}:")?;
            for (index, entry) in entries.iter().enumerate() {
                let arrow = if index == 0 { " " } else { " -> " };
                let what = match &entry.event {
                    Event::Pulled => "pulled".to_string(),
                    Event::Emitted { ports } if ports.is_empty() => "emitted".to_string(),
                    Event::Emitted { ports } => format!("routed to {}", ports.join("+")),
                    Event::Dropped => "dropped".to_string(),
                    Event::Absorbed => "absorbed".to_string(),
                    Event::Delivered => "delivered".to_string(),
                    Event::Aggregated => "aggregated".to_string(),
                    Event::Retried { error } => format!("retried ({error})"),
                    Event::Failed { error } => format!("failed ({error})"),
                    Event::DeadLettered { error } => format!("dead-lettered ({error})"),
                    Event::Discarded { reason } => format!("discarded ({reason})"),
                };
                write!(f, "{arrow}{} {what}", entry.node)?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// The result of a run: per-node reports, what every sink received, dead
/// letters and the per-element trace.
///
/// ```
/// use torvyn_testkit::TestElement;
/// use torvyn_testkit::pipeline::Pipeline;
///
/// let run = Pipeline::new("demo")
///     .source("in", [TestElement::text("a"), TestElement::json(serde_json::json!(1))])
///     .collector("out")
///     .edge("in", "out")
///     .run()?;
/// assert_eq!(run.received("out").len(), 2);
/// assert_eq!(run.received_text("out"), ["a", "1"]);
/// assert_eq!((run.node("in").emitted, run.node("out").received), (2, 2));
/// assert!(run.dead_letters.is_empty());
/// assert_eq!(run.trace.of(0).last().map(|entry| entry.node.as_str()), Some("out"));
/// assert!(run.unaccounted().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct RunResult {
    /// The flow's name.
    pub flow: String,
    /// Per node, in the order the nodes were added.
    pub nodes: Vec<(String, NodeReport)>,
    /// Per sink (component sinks and collectors), what it received, in order:
    /// the first [`Pipeline::retain`] elements (all of them are counted in
    /// [`NodeReport::delivered`]).
    pub sinks: BTreeMap<String, Vec<Output>>,
    /// Elements that failed in dead-letter nodes.
    pub dead_letters: Vec<DeadLetter>,
    /// What happened to each element (the last [`Pipeline::trace_capacity`] entries).
    pub trace: Trace,
    /// Trace entries let go because the trace was full (the oldest first).
    pub trace_dropped: u64,
    /// How many elements entered the flow: those the sources produced.
    pub elements: u64,
    /// How many aggregates the aggregators emitted (new elements made inside
    /// the flow; they take the flow's next sequence numbers too).
    pub aggregated: u64,
    /// Extra copies made by fan-out: an element sent on `k` edges (a router
    /// naming several ports, a node with several outgoing edges) makes `k - 1`.
    pub copies: u64,
    /// Elements a full queue dropped (`drop-oldest` / `drop-newest` policies).
    pub queue_drops: u64,
    /// With [`Pipeline::measure_latency`], the wall-clock time from entering
    /// the flow to delivery of delivered elements, in nanoseconds: all of them,
    /// or a uniform sample of [`Pipeline::latency_samples`] of them.
    pub latencies_ns: Vec<u64>,
    /// How many latencies were measured (all delivered elements).
    pub latency_count: u64,
    /// The keys of the flow's `Torvyn.toml` accepted but not used by the
    /// reference host ([`Pipeline::accepted_unused_keys`]); in
    /// [`summary_json`](Self::summary_json) as `"accepted_not_used"` when not empty.
    pub accepted_unused_keys: Vec<String>,
    /// Per edge, in the order the edges were added: its depth and peak
    /// queue length ([`EdgeReport::peak`]).
    pub edges: Vec<EdgeReport>,
}

/// The flow-level counts of a run ([`RunResult::counts`]). They balance:
/// `entered + aggregated + copies = delivered + dropped + absorbed + failed +
/// dead_lettered + discarded + queue_dropped` ([`balanced`](Self::balanced)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FlowCounts {
    /// Elements the sources produced ([`RunResult::elements`]).
    pub entered: u64,
    /// Aggregates the aggregators emitted ([`RunResult::aggregated`]).
    pub aggregated: u64,
    /// Extra copies made by fan-out ([`RunResult::copies`]).
    pub copies: u64,
    /// Received by sinks.
    pub delivered: u64,
    /// Dropped by filters, processors and routers.
    pub dropped: u64,
    /// Ingested by aggregators.
    pub absorbed: u64,
    /// Failed in a node.
    pub failed: u64,
    /// Put on the dead-letter list.
    pub dead_lettered: u64,
    /// Still queued when the flow stopped.
    pub discarded: u64,
    /// Dropped by a full queue ([`RunResult::queue_drops`]).
    pub queue_dropped: u64,
}

impl FlowCounts {
    /// Whether what came in equals where it went.
    pub fn balanced(&self) -> bool {
        self.entered + self.aggregated + self.copies
            == self.delivered
                + self.dropped
                + self.absorbed
                + self.failed
                + self.dead_lettered
                + self.discarded
                + self.queue_dropped
    }
}

impl RunResult {
    /// The report of node `name`. Panics with the node names when there is no
    /// such node, which in a test is the clearest failure.
    pub fn node(&self, name: &str) -> &NodeReport {
        match self.nodes.iter().find(|(node, _)| node == name) {
            Some((_, report)) => report,
            None => panic!(
                "the flow has no node `{name}` (nodes: {})",
                self.nodes
                    .iter()
                    .map(|(node, _)| node.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// What sink `name` received, in order (empty if it received nothing or
    /// is not a sink): the first [`Pipeline::retain`] elements, 10 000 by default.
    pub fn received(&self, name: &str) -> &[Output] {
        self.sinks.get(name).map(Vec::as_slice).unwrap_or_default()
    }

    /// The received payloads of sink `name` as text (lossy UTF-8).
    pub fn received_text(&self, name: &str) -> Vec<String> {
        self.received(name)
            .iter()
            .map(|output| String::from_utf8_lossy(output.bytes()).into_owned())
            .collect()
    }

    /// The flow-level counts, summed over the nodes.
    pub fn counts(&self) -> FlowCounts {
        let mut counts = FlowCounts {
            entered: self.elements,
            aggregated: self.aggregated,
            copies: self.copies,
            queue_dropped: self.queue_drops,
            ..FlowCounts::default()
        };
        for (_, node) in &self.nodes {
            counts.delivered += node.delivered;
            counts.dropped += node.dropped;
            counts.absorbed += node.absorbed;
            counts.failed += node.failed;
            counts.dead_lettered += node.dead_lettered;
            counts.discarded += node.discarded;
        }
        counts
    }

    /// Check that every element is accounted for: each node's counts add up
    /// (see [`NodeReport`]) and so do the flow's ([`FlowCounts::balanced`]).
    /// `Err` names the node or the flow whose counts do not, with the counts.
    /// Holds for stopped flows too (`FlowError::report`).
    pub fn check_accounting(&self) -> Result<(), String> {
        for (name, n) in &self.nodes {
            let (lhs, rhs, formula) = match n.role {
                Some(Role::Filter | Role::Processor | Role::Router) => (
                    n.received,
                    n.emitted + n.dropped + n.failed + n.dead_lettered,
                    "in = out + dropped + failed + dead_lettered",
                ),
                Some(Role::Aggregator) => (
                    n.received,
                    n.absorbed + n.failed + n.dead_lettered,
                    "in = absorbed + failed + dead_lettered",
                ),
                Some(Role::Sink) => (
                    n.received,
                    n.delivered + n.failed + n.dead_lettered,
                    "in = delivered + failed + dead_lettered",
                ),
                Some(Role::Source) | None => (
                    n.received + n.failed + n.dead_lettered + n.discarded,
                    0,
                    "a source takes no element: in = failed = dead_lettered = discarded = 0",
                ),
            };
            if lhs != rhs {
                return Err(format!(
                    "node `{name}` does not balance ({formula}): {n:?}",
                    n = (
                        n.received,
                        n.emitted,
                        n.dropped,
                        n.absorbed,
                        n.delivered,
                        n.failed,
                        n.dead_lettered,
                        n.discarded
                    )
                ));
            }
        }
        let counts = self.counts();
        if !counts.balanced() {
            return Err(format!(
                "flow `{}` does not balance (entered + aggregated + copies = delivered + \
                 dropped + absorbed + failed + dead_lettered + discarded + queue_dropped): \
                 {counts:?}",
                self.flow
            ));
        }
        Ok(())
    }

    /// The sequence numbers with no terminal event (delivered, dropped,
    /// absorbed, failed, dead-lettered, discarded) in the trace: always empty
    /// after a run, by construction; tests assert it.
    pub fn unaccounted(&self) -> Vec<u64> {
        let mut terminal = BTreeSet::new();
        let mut seen = BTreeSet::new();
        for entry in &self.trace.0 {
            seen.insert(entry.sequence);
            if matches!(
                entry.event,
                Event::Delivered
                    | Event::Dropped
                    | Event::Absorbed
                    | Event::Failed { .. }
                    | Event::DeadLettered { .. }
                    | Event::Discarded { .. }
            ) {
                terminal.insert(entry.sequence);
            }
        }
        seen.difference(&terminal).copied().collect()
    }

    /// The most elements any edge's queue held at once (0 without edges).
    ///
    /// ```
    /// use torvyn_testkit::TestElement;
    /// use torvyn_testkit::pipeline::Pipeline;
    ///
    /// let run = Pipeline::new("peak")
    ///     .source("in", (0..5).map(|n| TestElement::text(n.to_string())))
    ///     .collector("out")
    ///     .edge("in", "out")
    ///     .edge_depth(3)
    ///     .run()?;
    /// // Each element reaches the sink before the source is pulled again.
    /// assert_eq!((run.edges[0].depth, run.edges[0].peak), (3, 1));
    /// assert_eq!(run.peak_queue_depth(), 1);
    /// assert_eq!(run.summary_json()["edges"][0]["peak"], 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn peak_queue_depth(&self) -> usize {
        self.edges.iter().map(|edge| edge.peak).max().unwrap_or(0)
    }

    /// The nodes whose `teardown` failed, with the error.
    pub fn teardown_errors(&self) -> Vec<(&str, &str)> {
        self.nodes
            .iter()
            .filter_map(|(name, report)| Some((name.as_str(), report.teardown_error.as_deref()?)))
            .collect()
    }

    /// The stable JSON summary the CLI prints with `--format json`:
    /// `{"flow", "elements", "aggregated", "nodes": {name: {"role", "in",
    /// "out", "dropped", "absorbed", "delivered", "failed", "dead_lettered",
    /// "discarded", "failed_calls", "retries", "pauses"}}, "sinks": {name:
    /// delivered}, "dead_letters": count, "counts": {FlowCounts},
    /// "teardown_errors": {name: message}, "edges": [{"from", "port", "to",
    /// "depth", "peak"}], "peak_queue_depth": max peak}` ([`EdgeReport`]), and
    /// `"accepted_not_used": [key]` when the flow's manifest has keys the
    /// reference host does not use.
    pub fn summary_json(&self) -> serde_json::Value {
        let nodes: serde_json::Map<String, serde_json::Value> = self
            .nodes
            .iter()
            .map(|(name, report)| {
                (
                    name.clone(),
                    serde_json::json!({
                        "role": report.role,
                        "in": report.received,
                        "out": report.emitted,
                        "dropped": report.dropped,
                        "absorbed": report.absorbed,
                        "delivered": report.delivered,
                        "failed": report.failed,
                        "dead_lettered": report.dead_lettered,
                        "discarded": report.discarded,
                        "failed_calls": report.failed_calls,
                        "retries": report.retries,
                        "pauses": report.pauses,
                    }),
                )
            })
            .collect();
        let sinks: serde_json::Map<String, serde_json::Value> = self
            .nodes
            .iter()
            .filter(|(_, report)| report.role == Some(Role::Sink))
            .map(|(name, report)| (name.clone(), report.delivered.into()))
            .collect();
        let mut summary = serde_json::json!({
            "flow": self.flow,
            "elements": self.elements,
            "aggregated": self.aggregated,
            "nodes": nodes,
            "sinks": sinks,
            "dead_letters": self.dead_letters.len(),
            "counts": self.counts(),
            "teardown_errors": self.teardown_errors().into_iter().collect::<BTreeMap<_, _>>(),
            "edges": self.edges,
            "peak_queue_depth": self.peak_queue_depth(),
        });
        if !self.accepted_unused_keys.is_empty() {
            summary["accepted_not_used"] = self.accepted_unused_keys.clone().into();
        }
        summary
    }
}

/// A flow that stopped with an error, with the report of what happened before.
#[derive(Debug)]
pub struct FlowError {
    /// The error that stopped the flow.
    pub error: Error,
    /// Everything that happened until then: elements still queued are counted
    /// as `discarded` at the node whose queue held them (and traced as
    /// [`Event::Discarded`]), so the counts add up here too.
    pub report: Box<RunResult>,
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flow `{}` failed: {}", self.report.flow, self.error)
    }
}

impl std::error::Error for FlowError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}
