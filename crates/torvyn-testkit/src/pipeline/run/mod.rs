//! The executor: validation, instantiation, scheduling, error policies, accounting.

use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use super::scripted::{Action, ScriptState};
use super::{
    BackpressurePolicy, DeadLetter, EdgeReport, ErrorPolicy, Event, FlowError, InputLines,
    NodeKind, NodeReport, NodeSpec, Observer, Pipeline, RunResult, Trace, TraceEntry,
};
use crate::component::Instance;
use crate::element::{Answer, Output, Processed, Signal, TestElement};
use crate::error::{Error, ErrorKind, InputLine};
use crate::host::FlowBuffers;
use crate::role::Role;

mod call;
mod finish;
mod schedule;

struct Node {
    name: String,
    role: Role,
    policy: ErrorPolicy,
    worker: Worker,
    inputs: Vec<usize>,
    outputs: Vec<usize>,
    done: bool,
    paused: bool,
    held: bool,
    report: NodeReport,
    /// What a sink received and keeps (its first `retain` elements).
    retained: Vec<Output>,
}

/// What does a node's work: a component instance, or one of the host-side
/// nodes.
enum Worker {
    /// An instantiated component.
    Component(Box<Instance>),
    /// The elements, and the lines they were read from (`source_jsonl`).
    Source(VecDeque<TestElement>, Option<InputLines>),
    /// A host-side sink that keeps what it receives.
    Collector,
    /// A host-side node that follows a script (`NodeSpec::scripted`).
    Scripted(Box<ScriptState>),
    /// A component not instantiated (yet, or because an earlier init failed).
    Pending,
}

#[derive(Clone)]
struct Item {
    seq: u64,
    element: TestElement,
    /// When the element entered the flow (only when measuring latency).
    born: Option<Instant>,
    /// The input file and line it was read from (a `source_jsonl` element,
    /// and what processors made of it).
    input: Option<InputLine>,
}

struct Edge {
    from: usize,
    port: String,
    to: usize,
    depth: usize,
    /// What this edge does when full.
    policy: BackpressurePolicy,
    queue: VecDeque<Item>,
    /// The most items `queue` held at once.
    peak: usize,
}

struct Run {
    flow: String,
    /// The flow name's fingerprint, the first half of the elements' trace ids.
    fingerprint: u64,
    timestamps: super::Timestamps,
    deadline_ns: u64,
    retain: usize,
    trace_capacity: usize,
    on_delivered: Option<Observer>,
    on_output: Option<crate::component::OutputTap>,
    measure_latency: bool,
    latencies: Latencies,
    /// Per node, the time of its steps ([`Pipeline::measure_node_time`]).
    node_time_ns: Option<Vec<u64>>,
    /// Whether `node_time_ns` is measured: a field read, the one cost of a
    /// run that does not measure (even in the dev profile).
    measure_node_time: bool,
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    order: Vec<usize>,
    next_seq: u64,
    /// The last `trace_capacity` events: (sequence, node or edge label, event).
    trace: VecDeque<(u64, usize, Event)>,
    trace_dropped: u64,
    /// Node names, then the edges' `from->to` (where a full queue drops).
    labels: Vec<String>,
    dead_letters: Vec<DeadLetter>,
    queue_drops: u64,
    copies: u64,
    buffers: Arc<FlowBuffers>,
    specs: Vec<(String, NodeSpec)>,
    guard: super::run_limits::Guard,
    /// Records the run's timeline, only when asked for ([`Pipeline::record_timeline`]).
    timeline: Option<Box<crate::pipeline::picture::Recorder>>,
    /// Profiles the nodes, only when asked for ([`Pipeline::profile`]).
    #[cfg(feature = "profile")]
    profiler: Option<crate::pipeline::picture::Profiler>,
}

/// The nodes that may be able to move, by their position in the flow's
/// topological order; the deepest (the one closest to the sinks) comes first.
struct Ready {
    /// Each node's position in the topological order.
    position: Vec<usize>,
    /// The positions listed, each at most once.
    heap: BinaryHeap<usize>,
    /// Whether a position is in `heap`.
    listed: Vec<bool>,
}

impl Ready {
    fn new(order: &[usize]) -> Self {
        let mut position = vec![0; order.len()];
        for (at, &n) in order.iter().enumerate() {
            position[n] = at;
        }
        Ready {
            position,
            heap: BinaryHeap::with_capacity(order.len()),
            listed: vec![false; order.len()],
        }
    }

    /// List node `n`: something changed that may let it move.
    fn wake(&mut self, n: usize) {
        let at = self.position[n];
        if !self.listed[at] {
            self.listed[at] = true;
            self.heap.push(at);
        }
    }

    /// The deepest listed position, unlisted.
    fn next(&mut self) -> Option<usize> {
        let at = self.heap.pop()?;
        self.listed[at] = false;
        Some(at)
    }
}

/// Latencies kept as a bounded uniform sample (reservoir sampling, Algorithm R).
struct Latencies {
    samples: Vec<u64>,
    capacity: usize,
    count: u64,
    rng: u64,
}

impl Latencies {
    fn add(&mut self, nanos: u64) {
        self.count += 1;
        if self.samples.len() < self.capacity {
            self.samples.push(nanos);
            return;
        }
        // xorshift64*: a fixed seed, so runs keep the same sample positions.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let slot = self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) % self.count;
        if let Some(sample) = self.samples.get_mut(slot as usize) {
            *sample = nanos;
        }
    }
}

pub(super) fn run(pipeline: Pipeline) -> Result<RunResult, FlowError> {
    let mut run = match Run::validate(pipeline) {
        Ok(run) => run,
        Err((error, flow)) => {
            return Err(FlowError {
                error,
                report: Box::new(RunResult {
                    flow,
                    ..RunResult::default()
                }),
            });
        }
    };
    let outcome = run
        .instantiate()
        .and_then(|()| run.execute())
        .and_then(|()| run.guard.finished());
    run.finish(outcome)
}

impl Run {
    fn validate(mut pipeline: Pipeline) -> Result<Run, (Error, String)> {
        let flow = pipeline.flow.clone();
        let fail = |message: String| Err((Error::pipeline(message), flow.clone()));
        if let Some(problem) = pipeline.problems.first() {
            return fail(problem.clone());
        }
        let checked = match super::check::check(&pipeline) {
            Ok(checked) => checked,
            Err(message) => return fail(message),
        };
        let order = checked.order;
        let mut nodes: Vec<Node> = Vec::with_capacity(pipeline.nodes.len());
        for (name, spec) in &pipeline.nodes {
            nodes.push(Node {
                name: name.clone(),
                role: spec.role(),
                policy: spec.policy,
                worker: match &spec.kind {
                    NodeKind::Component { .. } => Worker::Pending,
                    // Taken below, so the run holds one copy of the list.
                    NodeKind::Source(..) => Worker::Source(VecDeque::new(), None),
                    NodeKind::Collector => Worker::Collector,
                    NodeKind::Scripted(script) => {
                        Worker::Scripted(Box::new(ScriptState::new(script.clone())))
                    }
                },
                inputs: Vec::new(),
                outputs: Vec::new(),
                done: false,
                paused: false,
                held: false,
                retained: Vec::new(),
                report: NodeReport {
                    role: Some(spec.role()),
                    ..NodeReport::default()
                },
            });
        }
        let mut edges = Vec::new();
        for (edge, &(from, to)) in pipeline.edges.iter().zip(&checked.edges) {
            nodes[from].outputs.push(edges.len());
            nodes[to].inputs.push(edges.len());
            edges.push(Edge {
                from,
                port: edge.port.clone(),
                to,
                depth: edge.depth.unwrap_or(pipeline.queue_depth),
                policy: edge.policy.unwrap_or(pipeline.backpressure),
                queue: VecDeque::new(),
                peak: 0,
            });
        }
        for (node, (_, spec)) in nodes.iter_mut().zip(&mut pipeline.nodes) {
            if let NodeKind::Source(elements, lines) = &mut spec.kind {
                node.worker = Worker::Source(std::mem::take(elements).into(), lines.take());
            }
        }
        let mut labels: Vec<String> = nodes.iter().map(|node| node.name.clone()).collect();
        labels.extend(
            edges
                .iter()
                .map(|edge| format!("{}->{}", nodes[edge.from].name, nodes[edge.to].name)),
        );
        let guard =
            super::run_limits::Guard::new(pipeline.run_options, pipeline.timestamps.start_ns);
        let timeline = pipeline.record_timeline.then(|| {
            Box::new(crate::pipeline::picture::Recorder::new(
                guard.virtual_clock(),
                nodes.iter().map(|node| node.name.clone()).collect(),
                edges
                    .iter()
                    .map(|edge| {
                        let (from, to) = (&nodes[edge.from].name, &nodes[edge.to].name);
                        (from.clone(), edge.port.clone(), to.clone())
                    })
                    .collect(),
                pipeline.timeline_payload_bytes,
            ))
        });
        let run = Run {
            fingerprint: crate::host::guest_clock::fingerprint(&flow),
            flow: flow.clone(),
            timestamps: pipeline.timestamps,
            deadline_ns: pipeline
                .deadline
                .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1))
                .unwrap_or(0),
            retain: pipeline.retain,
            trace_capacity: pipeline.trace_capacity,
            on_delivered: pipeline.on_delivered,
            on_output: pipeline.on_output,
            measure_latency: pipeline.measure_latency,
            node_time_ns: pipeline.measure_node_time.then(|| vec![0; nodes.len()]),
            measure_node_time: pipeline.measure_node_time,
            latencies: Latencies {
                samples: Vec::new(),
                capacity: pipeline.latency_samples,
                count: 0,
                rng: 0x9e37_79b9_7f4a_7c15,
            },
            nodes,
            edges,
            order,
            next_seq: 0,
            trace: VecDeque::new(),
            trace_dropped: 0,
            labels,
            dead_letters: Vec::new(),
            queue_drops: 0,
            copies: 0,
            buffers: FlowBuffers::new(pipeline.buffer_budget),
            specs: pipeline.nodes,
            guard,
            timeline,
            #[cfg(feature = "profile")]
            profiler: pipeline.profiler,
        };
        Ok(run)
    }
}

/// What the flow does with an item after a node's call on it.
enum Disposition {
    /// Send the item itself on (for routers, only on these ports).
    Pass(Option<Vec<String>>),
    /// Send this new item (a processor's output) on instead.
    Emit(Item),
    Dropped,
    Absorbed(Option<Item>),
    Delivered(Signal),
}

impl Run {
    /// Instantiate and `init` every component node, in flow order.
    fn instantiate(&mut self) -> Result<(), Error> {
        for position in 0..self.order.len() {
            let n = self.order[position];
            let (name, spec) = &self.specs[n];
            let NodeKind::Component { component, config } = &spec.kind else {
                continue;
            };
            let mut options = component
                .options()
                .name(name.clone())
                .config(config.clone())
                .limits(spec.limits.clone())
                .flow_id(self.flow.clone())
                .flow_buffers(Arc::clone(&self.buffers))
                .time(self.guard.time_options());
            for grant in &spec.grants {
                options = options.grant(grant.clone());
            }
            if let Some(tap) = &self.on_output {
                options = options.on_output(tap.clone());
            }
            #[cfg(feature = "profile")]
            if let Some(profiler) = &self.profiler {
                options = options.profile(profiler.node(name));
            }
            let instance = options.faults(spec.faults.clone()).instantiate()?;
            self.nodes[n].worker = Worker::Component(Box::new(instance));
        }
        Ok(())
    }
}
