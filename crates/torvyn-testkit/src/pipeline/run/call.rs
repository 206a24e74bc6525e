//! One node's step on one item: new items, the role's call, error policies,
//! and what the outcome does to the counts and the trace.

use super::*;
use crate::element::TraceId;
use crate::pipeline::picture::CallBuffers;

impl Run {
    /// A new flow element: the next sequence number, the clock's timestamp, a trace id.
    pub(super) fn new_item(&mut self, mut element: TestElement, like: Option<&Item>) -> Item {
        let seq = self.next_seq;
        self.next_seq += 1;
        element.sequence = seq;
        element.timestamp_ns = self.timestamps.timestamp_ns(seq);
        element.trace_id = match like {
            Some(item) => item.element.trace_id.clone(),
            None => TraceId::Flow {
                flow: self.fingerprint,
                number: seq + 1,
            },
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
    pub(super) fn derive(item: &Item, output: Output) -> Item {
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
    pub(super) fn record(&mut self, seq: u64, n: usize, event: Event) {
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
    pub(super) fn discarded(&mut self, to: usize, seq: u64, reason: String) {
        self.nodes[to].report.discarded += 1;
        self.record(seq, to, Event::Discarded { reason });
    }

    /// Count a failed element in node `n` and trace it.
    pub(super) fn failed(&mut self, n: usize, seq: u64, error: String) {
        self.nodes[n].report.failed += 1;
        self.record(seq, n, Event::Failed { error });
    }

    /// Call node `n` on `item`, applying its error policy.
    pub(super) fn handle(&mut self, n: usize, mut item: Item) -> Result<(), Error> {
        let mut attempt = 0;
        loop {
            match self.call(n, &mut item) {
                Ok(outcome) => return self.apply(n, item, outcome),
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

    /// Call node `n` on `item` once: its role's element call, in the flow's
    /// terms. The element is lent to the call, not copied.
    pub(super) fn call(&mut self, n: usize, item: &mut Item) -> Result<Disposition, Error> {
        let instance = match &mut self.nodes[n].worker {
            Worker::Component(instance) => instance,
            Worker::Collector => return Ok(Disposition::Delivered(Signal::Ready)),
            Worker::Scripted(_) => return self.call_scripted(n, item),
            Worker::Source(..) | Worker::Pending => {
                return Err(Error::pipeline("internal: element sent to a source"));
            }
        };
        Ok(match instance.call_role(&mut item.element)? {
            Answer::Evaluated(true) => Disposition::Pass(None),
            Answer::Evaluated(false) | Answer::Processed(Processed::Drop) => Disposition::Dropped,
            Answer::Processed(Processed::Emit(output)) => {
                Disposition::Emit(Self::derive(item, output))
            }
            Answer::Routed(ports) if ports.is_empty() => Disposition::Dropped,
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
                Disposition::Pass(Some(ports))
            }
            Answer::Ingested(Some(output)) => {
                let mut element = TestElement::from(output);
                element.trace_id = item.element.trace_id.clone();
                Disposition::Absorbed(Some(Item {
                    seq: 0,
                    element,
                    born: item.born,
                    input: None,
                }))
            }
            Answer::Ingested(None) => Disposition::Absorbed(None),
            Answer::Pushed(signal) => Disposition::Delivered(signal),
            Answer::Failed(_) => {
                return Err(Error::pipeline(
                    "internal: an element call answered an error",
                ));
            }
        })
    }

    /// A scripted node's element call.
    pub(super) fn call_scripted(&mut self, n: usize, item: &Item) -> Result<Disposition, Error> {
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
            Action::Emit(ports) => Disposition::Pass(ports),
            Action::Dropped => Disposition::Dropped,
            Action::Absorbed(output) => Disposition::Absorbed(output.map(|mut element| {
                element.trace_id = item.element.trace_id.clone();
                Item {
                    seq: 0,
                    element,
                    born: item.born,
                    input: None,
                }
            })),
            Action::Delivered(signal) => Disposition::Delivered(signal),
        })
    }

    /// What `outcome`, node `n`'s answer for `item`, does to the flow.
    pub(super) fn apply(
        &mut self,
        n: usize,
        item: Item,
        outcome: Disposition,
    ) -> Result<(), Error> {
        match outcome {
            Disposition::Pass(ports) => {
                self.emitted(n, item.seq, ports.as_deref());
                self.send(n, item, ports.as_deref())?;
            }
            Disposition::Emit(out) => {
                self.emitted(n, item.seq, None);
                self.send(n, out, None)?;
            }
            Disposition::Dropped => {
                self.nodes[n].report.dropped += 1;
                self.record(item.seq, n, Event::Dropped);
            }
            Disposition::Absorbed(output) => {
                self.nodes[n].report.absorbed += 1;
                self.record(item.seq, n, Event::Absorbed);
                if let Some(output) = output {
                    self.aggregated(n, output.element)?;
                }
            }
            Disposition::Delivered(signal) => {
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
                    let element = item.element;
                    let output = Output {
                        payload: element.payload,
                        content_type: element.content_type.clone(),
                        meta: crate::element::Meta {
                            sequence: element.sequence,
                            timestamp_ns: element.timestamp_ns,
                            content_type: element.content_type,
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
                        self.nodes[n].retained.push(output);
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

    /// Count and trace node `n` emitting item `seq` (a router: on `ports`).
    fn emitted(&mut self, n: usize, seq: u64, ports: Option<&[String]>) {
        self.nodes[n].report.emitted += 1;
        if self.trace_capacity == 0 {
            // The trace is off: no event to build (a router's ports).
            self.trace_dropped += 1;
        } else {
            let ports = ports.map(<[String]>::to_vec).unwrap_or_default();
            self.record(seq, n, Event::Emitted { ports });
        }
    }

    /// An aggregate: a new element with its own sequence number.
    pub(super) fn aggregated(&mut self, n: usize, element: TestElement) -> Result<(), Error> {
        let trace_id = element.trace_id.clone();
        let mut item = self.new_item(element, None);
        if !trace_id.is_empty() {
            item.element.trace_id = trace_id;
        }
        self.nodes[n].report.emitted += 1;
        self.record(item.seq, n, Event::Aggregated);
        self.send(n, item, None)
    }
}

impl Run {
    /// [`handle`](Self::handle) with the call on the timeline, and a sink's
    /// `pause` as a mark (only when the timeline is recorded).
    pub(super) fn handle_timed(&mut self, n: usize, item: Item) -> Result<(), Error> {
        let (sequence, bytes) = (item.seq, item.element.payload.len() as u64);
        let pauses = self.nodes[n].report.pauses;
        let Some(timeline) = &self.timeline else {
            return self.handle(n, item);
        };
        let payload = timeline.head(item.element.payload.as_bytes());
        let queued = self.nodes[n]
            .inputs
            .iter()
            .map(|&e| self.edges[e].queue.len())
            .sum();
        let (stats, copies) = (self.stats_of(n), self.copies);
        let started = timeline.start(item.element.timestamp_ns);
        let result = self.handle(n, item);
        let paused = self.nodes[n].report.pauses > pauses;
        let mut buffers = match (&stats, self.stats_of(n)) {
            (Some(before), Some(after)) => CallBuffers::between(before, &after),
            _ => CallBuffers::default(),
        };
        buffers.fan_out_copies = self.copies.saturating_sub(copies);
        if let Some(timeline) = &mut self.timeline {
            let function = self.nodes[n].role.element_call();
            if let Some(call) = timeline.call(started, n, function, Some(sequence), bytes) {
                call.queued = queued;
                call.buffers = buffers;
                call.payload = payload;
            }
            if paused {
                timeline.mark(n, "pause");
            }
        }
        result
    }

    /// What node `n`'s component has done through the host so far (`None`
    /// for the host-side nodes).
    pub(super) fn stats_of(&self, n: usize) -> Option<crate::Stats> {
        match &self.nodes[n].worker {
            Worker::Component(instance) => Some(instance.stats()),
            _ => None,
        }
    }

    /// The end-of-stream call of node `n` (an aggregator's `flush`, a sink's
    /// `complete`) on the timeline; other roles have none.
    pub(super) fn timed_completion(
        &mut self,
        started: crate::pipeline::picture::Started,
        n: usize,
    ) {
        let function = match self.nodes[n].role {
            Role::Aggregator => "flush",
            Role::Sink => "complete",
            _ => return,
        };
        if let Some(timeline) = &mut self.timeline {
            timeline.call(started, n, function, None, 0);
        }
    }
}
