//! The flow on upstream's `FlowDriver` (torvyn-reactor 0.1.1), through a
//! `ComponentInvoker` that plays the script, on a current-thread runtime:
//! the driver is one task, so the run is deterministic.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use torvyn_engine::mock::MockEngine;
use torvyn_engine::{ComponentInstance, ComponentInvoker, OutputElement, ProcessResult};
use torvyn_engine::{StreamElement, WasmEngine};
use torvyn_reactor::{
    CancellationReason, ErrorPolicy, FlowCancellation, FlowConfig, FlowDriver, FlowTopology,
    StageDefinition, StreamConfig, StreamConnection, StreamState,
};
use torvyn_types::{
    BackpressureSignal, BufferHandle, ComponentId, ComponentRole, ElementMeta, FlowId, FlowState,
    NoopEventSink, ProcessError, ResourceId, StreamId,
};

use crate::flow::{BackpressurePolicy, Flow, OnError, Role, Step};
use crate::observe::{Counts, Ending, Observation, Stage};

/// What the invoker saw and answered.
#[derive(Default)]
struct Log {
    /// Each source's elements so far.
    produced: BTreeMap<usize, u64>,
    /// The flow's pulls so far: the next element's sequence number.
    pulls: u64,
    /// Per node, whether a pull returned the end of the stream.
    ended: BTreeMap<usize, u64>,
    order: Vec<Stage>,
    passed: BTreeMap<usize, u64>,
    dropped: BTreeMap<usize, u64>,
    delivered: BTreeMap<usize, Vec<u64>>,
    /// Per sink, the sequence numbers upstream gave the elements it pushed.
    seen: BTreeMap<usize, Vec<u64>>,
}

/// A `ComponentInvoker` that plays each node's script (the one upstream's
/// tests write by hand, `TestInvoker`, generalised). Component `n + 1` is
/// node `n`. An element's payload handle carries its sequence number (its
/// pull order), since upstream gives each stage's output a new one.
struct Scripted {
    flow: Flow,
    log: Arc<Mutex<Log>>,
}

impl Scripted {
    fn node(id: ComponentId) -> usize {
        (id.as_u64() - 1) as usize
    }

    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn sequence(element: &StreamElement) -> u64 {
        u64::from(element.payload.resource_id().index())
    }

    fn error(step: Step, node: usize, sequence: u64) -> Option<ProcessError> {
        match step {
            Step::Fail => Some(ProcessError::InvalidInput(format!(
                "scripted failure of n{node}#{sequence}"
            ))),
            Step::Fatal => Some(ProcessError::Fatal(format!(
                "scripted fatal of n{node}#{sequence}"
            ))),
            Step::Pass | Step::Drop | Step::Pause => None,
        }
    }
}

#[async_trait]
impl ComponentInvoker for Scripted {
    async fn invoke_pull(
        &self,
        _instance: &mut ComponentInstance,
        component_id: ComponentId,
    ) -> Result<Option<OutputElement>, ProcessError> {
        let node = Self::node(component_id);
        let Role::Source { count } = self.flow.nodes[node].role else {
            return Err(ProcessError::Internal(format!("n{node} is not a source")));
        };
        let mut log = self.log();
        let produced = log.produced.entry(node).or_default();
        if *produced >= count {
            *log.ended.entry(node).or_default() += 1;
            return Ok(None);
        }
        *produced += 1;
        let sequence = log.pulls;
        log.pulls += 1;
        log.order.push(Stage { node, sequence });
        Ok(Some(OutputElement {
            meta: ElementMeta::new(sequence, 0, "text/plain".into()),
            payload: BufferHandle::new(ResourceId::new(sequence as u32, 0)),
        }))
    }

    async fn invoke_process(
        &self,
        _instance: &mut ComponentInstance,
        component_id: ComponentId,
        element: StreamElement,
    ) -> Result<ProcessResult, ProcessError> {
        let node = Self::node(component_id);
        let sequence = Self::sequence(&element);
        let step = self.flow.nodes[node].step(sequence);
        let mut log = self.log();
        log.order.push(Stage { node, sequence });
        if let Some(error) = Self::error(step, node, sequence) {
            return Err(error);
        }
        if step == Step::Drop {
            *log.dropped.entry(node).or_default() += 1;
            return Ok(ProcessResult::Filtered);
        }
        *log.passed.entry(node).or_default() += 1;
        Ok(ProcessResult::Output(OutputElement {
            meta: element.meta,
            payload: element.payload,
        }))
    }

    async fn invoke_push(
        &self,
        _instance: &mut ComponentInstance,
        component_id: ComponentId,
        element: StreamElement,
    ) -> Result<BackpressureSignal, ProcessError> {
        let node = Self::node(component_id);
        let sequence = Self::sequence(&element);
        let step = self.flow.nodes[node].step(sequence);
        let mut log = self.log();
        log.order.push(Stage { node, sequence });
        log.seen
            .entry(node)
            .or_default()
            .push(element.meta.sequence);
        if let Some(error) = Self::error(step, node, sequence) {
            return Err(error);
        }
        log.delivered.entry(node).or_default().push(sequence);
        Ok(if step == Step::Pause {
            BackpressureSignal::Pause
        } else {
            BackpressureSignal::Ready
        })
    }

    async fn invoke_init(
        &self,
        _instance: &mut ComponentInstance,
        _component_id: ComponentId,
        _config: &str,
    ) -> Result<(), ProcessError> {
        Ok(())
    }

    async fn invoke_teardown(&self, _instance: &mut ComponentInstance, _component_id: ComponentId) {
    }
}

fn role(role: Role) -> ComponentRole {
    match role {
        Role::Source { .. } => ComponentRole::Source,
        Role::Filter => ComponentRole::Filter,
        Role::Processor => ComponentRole::Processor,
        Role::Sink => ComponentRole::Sink,
    }
}

fn policy(policy: BackpressurePolicy) -> torvyn_types::BackpressurePolicy {
    match policy {
        BackpressurePolicy::BlockProducer => torvyn_types::BackpressurePolicy::BlockProducer,
        BackpressurePolicy::DropOldest => torvyn_types::BackpressurePolicy::DropOldest,
        BackpressurePolicy::DropNewest => torvyn_types::BackpressurePolicy::DropNewest,
        BackpressurePolicy::Error => torvyn_types::BackpressurePolicy::Error,
    }
}

/// How long upstream's driver may run one flow before it is failed with a
/// timeout (a hang would otherwise spin its 50 µs idle loop for ever).
pub const FLOW_DEADLINE: Duration = Duration::from_secs(10);

/// Run `flow` on upstream's `FlowDriver`.
///
/// # Panics
///
/// If upstream rejects the topology (the generated flows are valid for
/// both) or the runtime cannot be built.
pub fn run(flow: &Flow) -> Observation {
    run_raw(flow).observation
}

/// Run `flow` on upstream's `FlowDriver`: per edge, the backpressure events
/// upstream counts (`StreamMetrics::backpressure_events`, every one, where
/// [`Observation::pauses`] leaves depth-1 queues out).
///
/// # Panics
///
/// As [`run`].
pub fn backpressure_events(flow: &Flow) -> Vec<u64> {
    run_raw(flow).events
}

/// Run `flow` on upstream's `FlowDriver`: per sink, the sequence numbers
/// (`ElementMeta::sequence`) of the elements pushed to it, as the sink sees
/// them (upstream numbers every stage's output anew).
///
/// # Panics
///
/// As [`run`].
pub fn sink_sequences(flow: &Flow) -> BTreeMap<usize, Vec<u64>> {
    run_raw(flow).seen
}

/// A run's observation and what only upstream counts.
struct Raw {
    observation: Observation,
    events: Vec<u64>,
    seen: BTreeMap<usize, Vec<u64>>,
}

fn run_raw(flow: &Flow) -> Raw {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread tokio runtime");
    runtime.block_on(run_async(flow))
}

async fn run_async(flow: &Flow) -> Raw {
    let flow_id = FlowId::new(1);
    let id = |n: usize| ComponentId::new(n as u64 + 1);
    let topology = FlowTopology {
        stages: flow
            .nodes
            .iter()
            .enumerate()
            .map(|(n, node)| StageDefinition {
                component_id: id(n),
                role: role(node.role),
                fuel_budget: None,
                config: String::new(),
            })
            .collect(),
        connections: flow
            .edges
            .iter()
            .map(|edge| StreamConnection {
                from_stage: edge.from,
                to_stage: edge.to,
                config: StreamConfig {
                    capacity: Some(edge.depth),
                    ..StreamConfig::default()
                },
            })
            .collect(),
    };
    if let Err(error) = topology.validate() {
        panic!("upstream rejects the flow: {error}\n{}", flow.to_rust());
    }
    let mut config = FlowConfig::default_with_topology(topology);
    config.error_policy = match flow.on_error {
        OnError::FailFlow => ErrorPolicy::FailFast,
        OnError::Skip => ErrorPolicy::SkipElement,
    };
    config.default_backpressure_policy = policy(flow.backpressure);
    config.timeouts.flow_deadline = Some(FLOW_DEADLINE);
    let streams: Vec<StreamState> = flow
        .edges
        .iter()
        .enumerate()
        .map(|(e, edge)| {
            StreamState::new(
                StreamId::new(e as u64),
                flow_id,
                id(edge.from),
                id(edge.to),
                edge.depth,
                policy(flow.backpressure),
                config.default_low_watermark_ratio,
            )
        })
        .collect();
    let engine = MockEngine::new();
    let mut instances = Vec::new();
    for n in 0..flow.nodes.len() {
        let compiled = engine
            .compile_component(b"scripted")
            .expect("the mock engine compiles anything");
        let instance = engine
            .instantiate(&compiled, MockEngine::mock_imports(), id(n))
            .await
            .expect("the mock engine instantiates anything");
        instances.push(instance);
    }
    let log = Arc::new(Mutex::new(Log::default()));
    let invoker = Scripted {
        flow: flow.clone(),
        log: Arc::clone(&log),
    };
    let cancellation = FlowCancellation::new();
    let (event_tx, _event_rx) = tokio::sync::mpsc::channel(1 << 16);
    let driver = FlowDriver::new(
        flow_id,
        config,
        instances,
        streams,
        invoker,
        NoopEventSink,
        cancellation.clone(),
        event_tx,
    );
    let (_, state, stats) = driver.run().await;

    let mut log = std::mem::take(&mut *log.lock().unwrap_or_else(PoisonError::into_inner));
    let ending = match state {
        FlowState::Completed => Ending::Completed,
        FlowState::Cancelled => Ending::Cancelled,
        _ => Ending::Failed(match cancellation.reason() {
            Some(CancellationReason::DownstreamError { component, .. }) => {
                Some(Scripted::node(*component))
            }
            _ => None,
        }),
    };
    let counts = (0..flow.nodes.len())
        .map(|n| {
            let metrics = stats
                .component_stats
                .get(&id(n))
                .cloned()
                .unwrap_or_default();
            let ended = log.ended.get(&n).copied().unwrap_or(0);
            Counts {
                calls: metrics.invocations - ended,
                errors: metrics.errors,
                passed: log.passed.get(&n).copied().unwrap_or(0),
                dropped: log.dropped.get(&n).copied().unwrap_or(0),
            }
        })
        .collect();
    let mut delivered: BTreeMap<usize, Vec<u64>> = flow
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, node)| node.role == Role::Sink)
        .map(|(n, _)| (n, Vec::new()))
        .collect();
    delivered.extend(std::mem::take(&mut log.delivered));
    let stream = |e: usize| stats.stream_stats.get(&StreamId::new(e as u64));
    let peaks = (0..flow.edges.len())
        .map(|e| stream(e).map_or(0, |m| m.peak_queue_depth as usize))
        .collect();
    let pauses = (0..flow.edges.len())
        .filter(|&e| flow.edges[e].depth >= 2)
        .map(|e| stream(e).map_or(0, |m| m.backpressure_events))
        .sum();
    let events = (0..flow.edges.len())
        .map(|e| stream(e).map_or(0, |m| m.backpressure_events))
        .collect();
    let observation = Observation {
        ending,
        delivered,
        counts,
        order: std::mem::take(&mut log.order),
        peaks,
        pauses,
    };
    Raw {
        observation,
        events,
        seen: log.seen,
    }
}
