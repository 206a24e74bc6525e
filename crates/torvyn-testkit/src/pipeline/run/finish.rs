//! The end of a run: tear every instance down and build the report.

use super::*;

impl Run {
    /// Tear everything down and build the result.
    pub(super) fn finish(mut self, outcome: Result<(), Error>) -> Result<RunResult, FlowError> {
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
        let mut sinks = BTreeMap::new();
        for node in &mut self.nodes {
            if !node.retained.is_empty() {
                sinks.insert(node.name.clone(), std::mem::take(&mut node.retained));
            }
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
        let node_time_ns = self
            .node_time_ns
            .map(|times| {
                self.nodes
                    .iter()
                    .zip(times)
                    .map(|(node, ns)| (node.name.clone(), ns))
                    .collect()
            })
            .unwrap_or_default();
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
            sinks,
            dead_letters: self.dead_letters,
            trace: Trace(trace),
            trace_dropped: self.trace_dropped,
            elements,
            aggregated,
            copies: self.copies,
            queue_drops: self.queue_drops,
            latencies_ns: self.latencies.samples,
            latency_count: self.latencies.count,
            node_time_ns,
            accepted_unused_keys: Vec::new(),
            edges,
            timeline: self.timeline.map(|recorder| recorder.finish()),
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
