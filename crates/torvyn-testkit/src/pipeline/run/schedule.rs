//! The scheduler: which node moves next (demand-driven, consumers first),
//! pulling sources, queueing items on edges, and the end of the stream.

use super::*;
use crate::pipeline::picture::CallBuffers;

impl Run {
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
    pub(super) fn execute(&mut self) -> Result<(), Error> {
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
                if self.nodes[n].done {
                    continue;
                }
                let stepped = if self.measure_node_time {
                    self.timed_step(n)?
                } else {
                    self.step(n)?
                };
                if !stepped {
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
    pub(super) fn room(&self, n: usize) -> bool {
        self.nodes[n].outputs.iter().all(|&e| {
            let edge = &self.edges[e];
            edge.policy != BackpressurePolicy::BlockProducer || edge.queue.len() < edge.depth
        })
    }

    /// [`step`](Self::step), timed into `node_time_ns` (a run that measures it).
    fn timed_step(&mut self, n: usize) -> Result<bool, Error> {
        let started = Instant::now();
        let result = self.step(n);
        let spent = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        if let Some(times) = &mut self.node_time_ns {
            times[n] = times[n].saturating_add(spent);
        }
        result
    }

    /// One step of node `n`: one element (or one pull), or its completion
    /// once everything upstream is done. Whether it did anything.
    pub(super) fn step(&mut self, n: usize) -> Result<bool, Error> {
        if self.nodes[n].role == Role::Source {
            return self.step_source(n);
        }
        if self.nodes[n].paused || (self.nodes[n].role != Role::Sink && !self.room(n)) {
            return Ok(false);
        }
        if let Some(item) = self.take_input(n) {
            self.nodes[n].report.received += 1;
            if self.timeline.is_some() {
                return self.handle_timed(n, item).map(|()| true);
            }
            self.handle(n, item)?;
            return Ok(true);
        }
        let upstream_done = self.nodes[n]
            .inputs
            .iter()
            .all(|&e| self.nodes[self.edges[e].from].done && self.edges[e].queue.is_empty());
        if upstream_done {
            if let Some(timeline) = &self.timeline {
                let started = timeline.start(0);
                let result = self.complete(n);
                self.timed_completion(started, n);
                result?;
            } else {
                self.complete(n)?;
            }
            self.nodes[n].done = true;
            return Ok(true);
        }
        Ok(false)
    }

    pub(super) fn take_input(&mut self, n: usize) -> Option<Item> {
        if self.timeline.is_some() {
            return self.take_input_timed(n);
        }
        let inputs = &self.nodes[n].inputs;
        let item = inputs
            .iter()
            .find_map(|&e| self.edges[e].queue.pop_front())?;
        self.buffers.release(item.element.payload.len() as u64);
        Some(item)
    }

    /// [`take_input`](Self::take_input), with the queue's new length on the timeline.
    fn take_input_timed(&mut self, n: usize) -> Option<Item> {
        let inputs = &self.nodes[n].inputs;
        let (e, item) = inputs
            .iter()
            .find_map(|&e| Some((e, self.edges[e].queue.pop_front()?)))?;
        self.buffers.release(item.element.payload.len() as u64);
        if let Some(timeline) = &mut self.timeline {
            timeline.queue(e, self.edges[e].queue.len());
        }
        Some(item)
    }

    /// One pull of source `n`, unless a full queue holds it back.
    pub(super) fn step_source(&mut self, n: usize) -> Result<bool, Error> {
        if !self.room(n) {
            if !self.nodes[n].held {
                self.nodes[n].held = true;
                self.nodes[n].report.pauses += 1;
                if let Some(timeline) = &mut self.timeline {
                    timeline.mark(n, "held");
                }
                self.notify(n, Signal::Pause)?;
            }
            return Ok(false);
        }
        if self.nodes[n].held {
            self.nodes[n].held = false;
            if let Some(timeline) = &mut self.timeline {
                timeline.mark(n, "resumed");
            }
            self.notify(n, Signal::Ready)?;
        }
        self.guard.check()?;
        if !self.guard.may_pull() {
            self.nodes[n].done = true;
            return Ok(true);
        }
        let mut input = None;
        // On the virtual clock the pull is drawn at the timestamp its element
        // will carry, so what follows it waits only for its queue.
        let next_timestamp = self.timestamps.timestamp_ns(self.next_seq);
        let started = self
            .timeline
            .as_ref()
            .map(|timeline| timeline.start(next_timestamp));
        let stats = started.as_ref().and_then(|_| self.stats_of(n));
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
        if let Some(started) = started {
            let sequence = matches!(pulled, Ok(Some(_))).then_some(self.next_seq);
            let bytes = match &pulled {
                Ok(Some(element)) => element.payload.len() as u64,
                _ => 0,
            };
            let buffers = match (&stats, self.stats_of(n)) {
                (Some(before), Some(after)) => CallBuffers::between(before, &after),
                _ => CallBuffers::default(),
            };
            if let Some(timeline) = &mut self.timeline {
                let payload = match &pulled {
                    Ok(Some(element)) => timeline.head(element.payload.as_bytes()),
                    _ => Vec::new(),
                };
                if let Some(call) = timeline.call(started, n, "pull", sequence, bytes) {
                    call.buffers = buffers;
                    call.payload = payload;
                }
            }
        }
        match pulled {
            Ok(Some(element)) => {
                self.guard.produced();
                let mut item = self.new_item(element, None);
                item.input = input;
                self.record(item.seq, n, Event::Pulled);
                self.nodes[n].report.emitted += 1;
                let copies = self.copies;
                self.send(n, item, None)?;
                let copies = self.copies.saturating_sub(copies);
                if copies > 0
                    && let Some(call) = self.timeline.as_mut().and_then(|t| t.last_call())
                    && call.node == n
                    && call.function == "pull"
                {
                    call.buffers.fan_out_copies = copies;
                }
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

    pub(super) fn notify(&mut self, n: usize, signal: Signal) -> Result<(), Error> {
        if let Worker::Component(instance) = &mut self.nodes[n].worker
            && !instance.is_terminated()
        {
            instance.notify_backpressure(signal)?;
        }
        Ok(())
    }

    pub(super) fn is_terminated(&self, n: usize) -> bool {
        matches!(&self.nodes[n].worker, Worker::Component(instance) if instance.is_terminated())
    }

    /// Queue `item` on the outgoing edges of `n` (for routers, those of `ports`).
    pub(super) fn send(
        &mut self,
        n: usize,
        item: Item,
        ports: Option<&[String]>,
    ) -> Result<(), Error> {
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
            if let Some(timeline) = &mut self.timeline {
                timeline.queue(e, edge.queue.len());
            }
        }
        Ok(())
    }

    /// Upstream is complete: flush an aggregator, complete a sink.
    pub(super) fn complete(&mut self, n: usize) -> Result<(), Error> {
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
}
