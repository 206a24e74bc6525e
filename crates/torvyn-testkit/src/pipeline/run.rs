//! The executor: validation, instantiation, scheduling, error policies, accounting.

use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use super::scripted::{Action, ScriptState};
use super::{
    BackpressurePolicy, DeadLetter, EdgeReport, ErrorPolicy, Event, FlowError, InputLines,
    NodeKind, NodeReport, NodeSpec, Observer, Pipeline, RunResult, Trace, TraceEntry,
};
use crate::component::{Answer, Instance};
use crate::element::{Output, Signal, TestElement};
use crate::error::{Error, ErrorKind, InputLine};
use crate::host::FlowBuffers;
use crate::role::Role;

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
    clock: super::Clock,
    deadline_ns: u64,
    retain: usize,
    trace_capacity: usize,
    on_delivered: Option<Observer>,
    on_output: Option<crate::component::OutputTap>,
    measure_latency: bool,
    latencies: Latencies,
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    order: Vec<usize>,
    next_seq: u64,
    /// The last `trace_capacity` events: (sequence, node or edge label, event).
    trace: VecDeque<(u64, usize, Event)>,
    trace_dropped: u64,
    /// Node names, then the edges' `from->to` (where a full queue drops).
    labels: Vec<String>,
    sinks: BTreeMap<String, Vec<Output>>,
    dead_letters: Vec<DeadLetter>,
    queue_drops: u64,
    copies: u64,
    buffers: Arc<FlowBuffers>,
    specs: Vec<(String, NodeSpec)>,
    guard: super::limits::Guard,
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
        let run = Run {
            flow: flow.clone(),
            clock: pipeline.clock,
            deadline_ns: pipeline
                .deadline
                .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1))
                .unwrap_or(0),
            retain: pipeline.retain,
            trace_capacity: pipeline.trace_capacity,
            on_delivered: pipeline.on_delivered,
            on_output: pipeline.on_output,
            measure_latency: pipeline.measure_latency,
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
            sinks: BTreeMap::new(),
            dead_letters: Vec::new(),
            queue_drops: 0,
            copies: 0,
            buffers: FlowBuffers::new(pipeline.buffer_budget),
            specs: pipeline.nodes,
            guard: super::limits::Guard::new(pipeline.run_options, pipeline.clock.start_ns),
        };
        Ok(run)
    }
}

/// What a call on an item produced.
enum Outcome {
    /// Send these items on (for routers, only on these ports).
    Emit(Vec<Item>, Option<Vec<String>>),
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
            if let Some((nth, error)) = &spec.fail_call {
                options = options.fail_call(*nth, error.clone());
            }
            let instance = options
                .fail_next_allocations(spec.fail_allocations)
                .instantiate()?;
            self.nodes[n].worker = Worker::Component(Box::new(instance));
        }
        Ok(())
    }

    /// Move elements until every node is done.
    ///
    /// Demand-driven and consumers first, as Torvyn's flow driver schedules
    /// (`torvyn-reactor`'s `DemandDrivenPolicy`): each step runs the deepest
    /// node (in topological order) that can move, on one element, so an
    /// element goes as far as it can before a source is pulled again, and a
    /// queue fills only when its consumer is held back (a full queue further
    /// on, or a sink's `Pause`). A step only changes the queues of the node
    /// it ran, so afterwards only that node and its neighbours are listed
    /// again.
    fn execute(&mut self) -> Result<(), Error> {
        let mut ready = Ready::new(&self.order);
        for &n in &self.order {
            ready.wake(n);
        }
        let mut steps: u32 = 0;
        loop {
            while let Some(at) = ready.next() {
                // The time limits, also checked before every pull.
                steps = steps.wrapping_add(1);
                if steps.is_multiple_of(1024) {
                    self.guard.check()?;
                }
                let n = self.order[at];
                if self.nodes[n].done || !self.step(n)? {
                    continue;
                }
                ready.wake(n);
                let node = &self.nodes[n];
                for &e in &node.outputs {
                    ready.wake(self.edges[e].to);
                }
                for &e in &node.inputs {
                    ready.wake(self.edges[e].from);
                }
            }
            if self.nodes.iter().all(|node| node.done) {
                return Ok(());
            }
            // Nothing can move: resume the sinks that answered `Pause`.
            self.guard.check()?;
            let mut resumed = false;
            for n in 0..self.nodes.len() {
                if self.nodes[n].paused {
                    self.nodes[n].paused = false;
                    ready.wake(n);
                    resumed = true;
                }
            }
            if !resumed {
                let waiting: Vec<&str> = self
                    .nodes
                    .iter()
                    .filter(|node| !node.done)
                    .map(|node| node.name.as_str())
                    .collect();
                return Err(Error::pipeline(format!(
                    "the flow cannot make progress (nodes still waiting: {}); this is a \
                     bug in the testkit's scheduler, please report it",
                    waiting.join(", ")
                )));
            }
        }
    }

    /// Whether every outgoing queue of `n` can take an element.
    fn room(&self, n: usize) -> bool {
        self.nodes[n].outputs.iter().all(|&e| {
            let edge = &self.edges[e];
            edge.policy != BackpressurePolicy::BlockProducer || edge.queue.len() < edge.depth
        })
    }

    /// One step of node `n`: one element (or one pull), or its completion
    /// once everything upstream is done. Whether it did anything.
    fn step(&mut self, n: usize) -> Result<bool, Error> {
        if self.nodes[n].role == Role::Source {
            return self.step_source(n);
        }
        if self.nodes[n].paused || (self.nodes[n].role != Role::Sink && !self.room(n)) {
            return Ok(false);
        }
        if let Some(item) = self.take_input(n) {
            self.nodes[n].report.received += 1;
            self.handle(n, item)?;
            return Ok(true);
        }
        let upstream_done = self.nodes[n]
            .inputs
            .iter()
            .all(|&e| self.nodes[self.edges[e].from].done && self.edges[e].queue.is_empty());
        if upstream_done {
            self.complete(n)?;
            self.nodes[n].done = true;
            return Ok(true);
        }
        Ok(false)
    }

    fn take_input(&mut self, n: usize) -> Option<Item> {
        let inputs = &self.nodes[n].inputs;
        let item = inputs
            .iter()
            .find_map(|&e| self.edges[e].queue.pop_front())?;
        self.buffers.release(item.element.payload.len() as u64);
        Some(item)
    }

    /// One pull of source `n`, unless a full queue holds it back.
    fn step_source(&mut self, n: usize) -> Result<bool, Error> {
        if !self.room(n) {
            if !self.nodes[n].held {
                self.nodes[n].held = true;
                self.nodes[n].report.pauses += 1;
                self.notify(n, Signal::Pause)?;
            }
            return Ok(false);
        }
        if self.nodes[n].held {
            self.nodes[n].held = false;
            self.notify(n, Signal::Ready)?;
        }
        self.guard.check()?;
        if !self.guard.may_pull() {
            self.nodes[n].done = true;
            return Ok(true);
        }
        let mut input = None;
        let pulled = match &mut self.nodes[n].worker {
            Worker::Source(elements, lines) => {
                if let Some(lines) = lines {
                    input = lines
                        .lines
                        .pop_front()
                        .map(|line| (Arc::clone(&lines.file), line));
                }
                Ok(elements.pop_front())
            }
            Worker::Component(instance) => instance.pull().map(|o| o.map(TestElement::from)),
            Worker::Collector | Worker::Scripted(_) | Worker::Pending => Ok(None),
        };
        match pulled {
            Ok(Some(element)) => {
                self.guard.produced();
                let mut item = self.new_item(element, None);
                item.input = input;
                self.record(item.seq, n, Event::Pulled);
                self.nodes[n].report.emitted += 1;
                self.send(n, item, None)?;
            }
            Ok(None) => self.nodes[n].done = true,
            Err(error) => {
                // A source's failure has no element: it counts as a failed call.
                let terminated = self.is_terminated(n);
                self.nodes[n].report.failed_calls += 1;
                match self.nodes[n].policy {
                    // Pulled again at its next step.
                    ErrorPolicy::Skip | ErrorPolicy::DeadLetter if !terminated => {}
                    ErrorPolicy::Skip | ErrorPolicy::DeadLetter => self.nodes[n].done = true,
                    ErrorPolicy::Retry(_) | ErrorPolicy::FailFlow => return Err(error),
                }
            }
        }
        Ok(true)
    }

    fn notify(&mut self, n: usize, signal: Signal) -> Result<(), Error> {
        if let Worker::Component(instance) = &mut self.nodes[n].worker
            && !instance.is_terminated()
        {
            instance.notify_backpressure(signal)?;
        }
        Ok(())
    }

    fn is_terminated(&self, n: usize) -> bool {
        matches!(&self.nodes[n].worker, Worker::Component(instance) if instance.is_terminated())
    }

    /// A new flow element: the next sequence number, the clock's timestamp, a trace id.
    fn new_item(&mut self, mut element: TestElement, like: Option<&Item>) -> Item {
        let seq = self.next_seq;
        self.next_seq += 1;
        element.sequence = seq;
        element.timestamp_ns = self.clock.timestamp_ns(seq);
        element.trace_id = match like {
            Some(item) => item.element.trace_id.clone(),
            None => format!("{:016x}{:016x}", fingerprint(&self.flow), seq + 1),
        };
        element.span_id.clear();
        element.deadline_ns = self.deadline_ns;
        let born = match like {
            Some(item) => item.born,
            None => self.measure_latency.then(Instant::now),
        };
        Item {
            seq,
            element,
            born,
            input: like.and_then(|item| item.input.clone()),
        }
    }

    /// An output derived from `item`: its sequence, timestamp and context carry over.
    fn derive(item: &Item, output: Output) -> Item {
        let mut element = TestElement::from(output);
        element.sequence = item.seq;
        element.timestamp_ns = item.element.timestamp_ns;
        element.trace_id = item.element.trace_id.clone();
        element.deadline_ns = item.element.deadline_ns;
        Item {
            seq: item.seq,
            element,
            born: item.born,
            input: item.input.clone(),
        }
    }

    /// Trace an event of node (or edge label) `n`, in the bounded trace.
    fn record(&mut self, seq: u64, n: usize, event: Event) {
        if self.trace_capacity == 0 {
            self.trace_dropped += 1;
            return;
        }
        if self.trace.len() >= self.trace_capacity {
            self.trace.pop_front();
            self.trace_dropped += 1;
        }
        self.trace.push_back((seq, n, event));
    }

    /// Count an element still queued for node `to` when the flow stopped.
    fn discarded(&mut self, to: usize, seq: u64, reason: String) {
        self.nodes[to].report.discarded += 1;
        self.record(seq, to, Event::Discarded { reason });
    }

    /// Count a failed element in node `n` and trace it.
    fn failed(&mut self, n: usize, seq: u64, error: String) {
        self.nodes[n].report.failed += 1;
        self.record(seq, n, Event::Failed { error });
    }

    /// Call node `n` on `item`, applying its error policy.
    fn handle(&mut self, n: usize, item: Item) -> Result<(), Error> {
        let mut attempt = 0;
        loop {
            match self.call(n, &item) {
                Ok(outcome) => return self.apply(n, &item, outcome),
                Err(error) => {
                    if matches!(error.kind(), ErrorKind::UnknownPort { .. }) {
                        self.failed(n, item.seq, error.to_string());
                        return Err(error.on_element(item.seq, item.input));
                    }
                    let retryable = error.process_error().is_some_and(|e| !e.is_fatal())
                        && !self.is_terminated(n);
                    match self.nodes[n].policy {
                        ErrorPolicy::Retry(retries) if retryable && attempt < retries => {
                            attempt += 1;
                            self.nodes[n].report.retries += 1;
                            self.record(
                                item.seq,
                                n,
                                Event::Retried {
                                    error: error.to_string(),
                                },
                            );
                        }
                        ErrorPolicy::Skip => {
                            self.failed(n, item.seq, error.to_string());
                            return Ok(());
                        }
                        ErrorPolicy::DeadLetter => {
                            self.nodes[n].report.dead_lettered += 1;
                            let message = error.to_string();
                            self.record(
                                item.seq,
                                n,
                                Event::DeadLettered {
                                    error: message.clone(),
                                },
                            );
                            self.dead_letters.push(DeadLetter {
                                node: self.nodes[n].name.clone(),
                                sequence: item.seq,
                                element: item.element,
                                error: message,
                            });
                            return Ok(());
                        }
                        ErrorPolicy::FailFlow | ErrorPolicy::Retry(_) => {
                            self.failed(n, item.seq, error.to_string());
                            return Err(error.on_element(item.seq, item.input));
                        }
                    }
                }
            }
        }
    }

    /// Call node `n` on `item` once: its role's element call, in the flow's terms.
    fn call(&mut self, n: usize, item: &Item) -> Result<Outcome, Error> {
        let instance = match &mut self.nodes[n].worker {
            Worker::Component(instance) => instance,
            Worker::Collector => return Ok(Outcome::Delivered(Signal::Ready)),
            Worker::Scripted(_) => return self.call_scripted(n, item),
            Worker::Source(..) | Worker::Pending => {
                return Err(Error::pipeline("internal: element sent to a source"));
            }
        };
        Ok(match instance.call_role(item.element.clone())? {
            Answer::Passed => Outcome::Emit(vec![item.clone()], None),
            Answer::Dropped => Outcome::Dropped,
            Answer::Emitted(output) => Outcome::Emit(vec![Self::derive(item, output)], None),
            Answer::Routed(ports) => {
                let known: Vec<String> = self.nodes[n]
                    .outputs
                    .iter()
                    .map(|&e| self.edges[e].port.clone())
                    .collect();
                if let Some(port) = ports.iter().find(|port| !known.contains(port)) {
                    let mut known = known;
                    known.sort();
                    known.dedup();
                    return Err(Error::new(
                        self.nodes[n].name.clone(),
                        ErrorKind::UnknownPort {
                            port: port.clone(),
                            ports: known,
                        },
                    )
                    .at(Some(Role::Router), "route"));
                }
                Outcome::Emit(vec![item.clone()], Some(ports))
            }
            Answer::Ingested(Some(output)) => {
                let mut element = TestElement::from(output);
                element.trace_id = item.element.trace_id.clone();
                Outcome::Absorbed(Some(Item {
                    seq: 0,
                    element,
                    born: item.born,
                    input: None,
                }))
            }
            Answer::Ingested(None) => Outcome::Absorbed(None),
            Answer::Delivered(signal) => Outcome::Delivered(signal),
        })
    }

    /// A scripted node's element call.
    fn call_scripted(&mut self, n: usize, item: &Item) -> Result<Outcome, Error> {
        let mut ports: Vec<String> = self.nodes[n]
            .outputs
            .iter()
            .map(|&e| self.edges[e].port.clone())
            .collect();
        ports.sort();
        ports.dedup();
        let node = &mut self.nodes[n];
        let Worker::Scripted(script) = &mut node.worker else {
            return Err(Error::pipeline("internal: not a scripted node"));
        };
        Ok(match script.call(&node.name, &item.element, &ports)? {
            Action::Emit(ports) => Outcome::Emit(vec![item.clone()], ports),
            Action::Dropped => Outcome::Dropped,
            Action::Absorbed(output) => Outcome::Absorbed(output.map(|mut element| {
                element.trace_id = item.element.trace_id.clone();
                Item {
                    seq: 0,
                    element,
                    born: item.born,
                    input: None,
                }
            })),
            Action::Delivered(signal) => Outcome::Delivered(signal),
        })
    }

    fn apply(&mut self, n: usize, item: &Item, outcome: Outcome) -> Result<(), Error> {
        match outcome {
            Outcome::Emit(items, ports) => {
                self.nodes[n].report.emitted += 1;
                if self.trace_capacity == 0 {
                    // The trace is off: no event to build (a router's ports).
                    self.trace_dropped += 1;
                } else {
                    let ports = ports.clone().unwrap_or_default();
                    self.record(item.seq, n, Event::Emitted { ports });
                }
                for out in items {
                    self.send(n, out, ports.as_deref())?;
                }
            }
            Outcome::Dropped => {
                self.nodes[n].report.dropped += 1;
                self.record(item.seq, n, Event::Dropped);
            }
            Outcome::Absorbed(output) => {
                self.nodes[n].report.absorbed += 1;
                self.record(item.seq, n, Event::Absorbed);
                if let Some(output) = output {
                    self.aggregated(n, output.element)?;
                }
            }
            Outcome::Delivered(signal) => {
                // The sink's earlier deliveries: each was retained up to `retain`.
                let retained = usize::try_from(self.nodes[n].report.delivered)
                    .map_or(self.retain, |before| before.min(self.retain));
                self.nodes[n].report.delivered += 1;
                self.record(item.seq, n, Event::Delivered);
                if let Some(born) = item.born {
                    self.latencies
                        .add(u64::try_from(born.elapsed().as_nanos()).unwrap_or(u64::MAX));
                }
                let name = &self.nodes[n].name;
                if retained < self.retain || self.on_delivered.is_some() {
                    let element = &item.element;
                    let output = Output {
                        payload: element.payload.clone(),
                        content_type: element.content_type.clone(),
                        meta: crate::element::Meta {
                            sequence: element.sequence,
                            timestamp_ns: element.timestamp_ns,
                            content_type: element.content_type.clone(),
                        },
                    };
                    if let Some(observer) = &self.on_delivered {
                        let mut observe = observer
                            .0
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner());
                        (*observe)(name, &output);
                    }
                    if retained < self.retain {
                        match self.sinks.get_mut(name) {
                            Some(retained) => retained.push(output),
                            None => {
                                self.sinks.insert(name.clone(), vec![output]);
                            }
                        }
                    }
                }
                if signal == Signal::Pause {
                    self.nodes[n].paused = true;
                    self.nodes[n].report.pauses += 1;
                }
            }
        }
        Ok(())
    }

    /// An aggregate: a new element with its own sequence number.
    fn aggregated(&mut self, n: usize, element: TestElement) -> Result<(), Error> {
        let trace_id = element.trace_id.clone();
        let mut item = self.new_item(element, None);
        if !trace_id.is_empty() {
            item.element.trace_id = trace_id;
        }
        self.nodes[n].report.emitted += 1;
        self.record(item.seq, n, Event::Aggregated);
        self.send(n, item, None)
    }

    /// Queue `item` on the outgoing edges of `n` (for routers, those of `ports`).
    fn send(&mut self, n: usize, item: Item, ports: Option<&[String]>) -> Result<(), Error> {
        let takes = |edge: &Edge| ports.is_none_or(|ports| ports.contains(&edge.port));
        let outputs = self.nodes[n].outputs.len();
        let targets = (0..outputs)
            .filter(|&i| takes(&self.edges[self.nodes[n].outputs[i]]))
            .count();
        // Each edge gets a copy; the first is the element itself.
        self.copies += targets.saturating_sub(1) as u64;
        let bytes = item.element.payload.len() as u64;
        let mut item = Some(item);
        let mut left = targets;
        for i in 0..outputs {
            let e = self.nodes[n].outputs[i];
            if !takes(&self.edges[e]) {
                continue;
            }
            left -= 1;
            let Some(current) = item.as_ref() else {
                break;
            };
            let seq = current.seq;
            let label = self.nodes.len() + e;
            let edge = &mut self.edges[e];
            if edge.queue.len() >= edge.depth {
                match edge.policy {
                    // Flush output may exceed a queue's depth: it is one call.
                    BackpressurePolicy::BlockProducer => {}
                    BackpressurePolicy::DropOldest => {
                        if let Some(old) = edge.queue.pop_front() {
                            self.queue_drops += 1;
                            self.buffers.release(old.element.payload.len() as u64);
                            self.record(old.seq, label, Event::Dropped);
                        }
                    }
                    BackpressurePolicy::DropNewest => {
                        self.queue_drops += 1;
                        self.record(seq, label, Event::Dropped);
                        continue;
                    }
                    BackpressurePolicy::Error => {
                        let error = Error::pipeline(format!(
                            "the queue `{}` is full ({} elements) and the backpressure \
                             policy is `error`",
                            self.labels[label], edge.depth
                        ));
                        // The copies that found no room never reached their nodes.
                        for j in i..outputs {
                            let e = self.nodes[n].outputs[j];
                            if takes(&self.edges[e]) {
                                self.discarded(self.edges[e].to, seq, error.to_string());
                            }
                        }
                        return Err(error);
                    }
                }
            }
            self.buffers.add(bytes);
            // The last edge takes the item itself, the others a copy.
            let queued = if left == 0 { item.take() } else { item.clone() };
            let edge = &mut self.edges[e];
            edge.queue.extend(queued);
            edge.peak = edge.peak.max(edge.queue.len());
        }
        Ok(())
    }

    /// Upstream is complete: flush an aggregator, complete a sink.
    fn complete(&mut self, n: usize) -> Result<(), Error> {
        let role = self.nodes[n].role;
        let node = &mut self.nodes[n];
        let result = match &mut node.worker {
            Worker::Scripted(script) if matches!(role, Role::Aggregator | Role::Sink) => {
                script.complete(&node.name).map(Some)
            }
            Worker::Component(instance) if !instance.is_terminated() => match role {
                Role::Aggregator => instance.flush().map(Some),
                Role::Sink => instance.complete().map(|()| None),
                _ => Ok(None),
            },
            _ => return Ok(()),
        };
        match result {
            Ok(Some(outputs)) => {
                for output in outputs {
                    self.aggregated(n, TestElement::from(output))?;
                }
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(error) => {
                self.nodes[n].report.failed_calls += 1;
                match self.nodes[n].policy {
                    ErrorPolicy::Skip | ErrorPolicy::DeadLetter => Ok(()),
                    ErrorPolicy::FailFlow | ErrorPolicy::Retry(_) => Err(error),
                }
            }
        }
    }

    /// Tear everything down and build the result.
    fn finish(mut self, outcome: Result<(), Error>) -> Result<RunResult, FlowError> {
        if let Err(error) = &outcome {
            // Elements still queued never reached their node: discarded there.
            let reason = format!("the flow stopped: {error}");
            for e in 0..self.edges.len() {
                let to = self.edges[e].to;
                while let Some(item) = self.edges[e].queue.pop_front() {
                    self.buffers.release(item.element.payload.len() as u64);
                    self.discarded(to, item.seq, reason.clone());
                }
            }
        }
        let mut nodes = Vec::new();
        for node in &mut self.nodes {
            if let Worker::Component(mut instance) =
                std::mem::replace(&mut node.worker, Worker::Collector)
            {
                // Best effort, as the contract says, but a failure is reported.
                if let Err(error) = instance.teardown() {
                    node.report.teardown_error = Some(error.to_string());
                }
                instance.flush_output();
                node.report.stats = instance.stats();
                node.report.logs = instance.logs();
                node.report.stdout = instance.stdout();
                node.report.stderr = instance.stderr();
            }
            nodes.push((node.name.clone(), std::mem::take(&mut node.report)));
        }
        let edges = self
            .edges
            .iter()
            .map(|edge| EdgeReport {
                from: self.nodes[edge.from].name.clone(),
                port: edge.port.clone(),
                to: self.nodes[edge.to].name.clone(),
                depth: edge.depth,
                peak: edge.peak,
            })
            .collect();
        let labels = self.labels;
        let trace: Vec<TraceEntry> = self
            .trace
            .into_iter()
            .map(|(sequence, n, event)| TraceEntry {
                sequence,
                node: labels[n].clone(),
                event,
            })
            .collect();
        let emitted_by = |role: Role| -> u64 {
            nodes
                .iter()
                .filter(|(_, report)| report.role == Some(role))
                .map(|(_, report)| report.emitted)
                .sum()
        };
        let (elements, aggregated) = (emitted_by(Role::Source), emitted_by(Role::Aggregator));
        let result = RunResult {
            flow: self.flow,
            nodes,
            sinks: self.sinks,
            dead_letters: self.dead_letters,
            trace: Trace(trace),
            trace_dropped: self.trace_dropped,
            elements,
            aggregated,
            copies: self.copies,
            queue_drops: self.queue_drops,
            latencies_ns: self.latencies.samples,
            latency_count: self.latencies.count,
            accepted_unused_keys: Vec::new(),
            edges,
        };
        match outcome {
            Ok(()) => Ok(result),
            Err(error) => Err(FlowError {
                error,
                report: Box::new(result),
            }),
        }
    }
}

/// A stable 64-bit FNV-1a fingerprint of the flow name, for trace ids.
fn fingerprint(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
