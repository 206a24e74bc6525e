//! The flow on the testkit's pipeline runner, with host-side nodes: a
//! host source, and scripted filters, processors and sinks
//! ([`Scripted::at`] plays the script by sequence number).

use std::collections::BTreeMap;

use torvyn_testkit::TestElement;
use torvyn_testkit::{ErrorPolicy, Event, NodeSpec, Pipeline, RunResult, Scripted};

use crate::flow::{Flow, Node, OnError, Role};
use crate::observe::{Counts, Ending, Observation, Stage};

fn scripted(node: &Node) -> Scripted {
    let script = match node.role {
        Role::Filter => Scripted::filter(0),
        Role::Processor => Scripted::processor(0),
        Role::Sink => Scripted::sink(0),
        Role::Source { .. } => unreachable!("sources are host sources"),
    };
    node.script
        .iter()
        .fold(script, |script, (&sequence, &step)| {
            script.at(sequence, step)
        })
}

/// The flow as the testkit's [`Pipeline`].
pub fn pipeline(flow: &Flow) -> Pipeline {
    let policy = match flow.on_error {
        OnError::FailFlow => ErrorPolicy::FailFlow,
        OnError::Skip => ErrorPolicy::Skip,
    };
    let mut pipeline = Pipeline::new("differential").backpressure_policy(flow.backpressure);
    for (n, node) in flow.nodes.iter().enumerate() {
        let spec = match node.role {
            Role::Source { count } => {
                NodeSpec::source((0..count).map(|i| TestElement::text(format!("n{n}:{i}"))))
            }
            _ => NodeSpec::scripted(scripted(node)),
        };
        pipeline = pipeline.node(Flow::name(n), spec.policy(policy));
    }
    for edge in &flow.edges {
        pipeline = pipeline
            .edge(Flow::name(edge.from), Flow::name(edge.to))
            .edge_depth(edge.depth);
    }
    pipeline
}

/// Run `flow` on the testkit.
pub fn run(flow: &Flow) -> Observation {
    let (ending, report) = match pipeline(flow).run() {
        Ok(report) => (Ending::Completed, report),
        Err(failure) => {
            let node = (0..flow.nodes.len()).find(|&n| Flow::name(n) == failure.error.node());
            (Ending::Failed(node), *failure.report)
        }
    };
    observe(flow, ending, &report)
}

fn observe(flow: &Flow, ending: Ending, report: &RunResult) -> Observation {
    // Nodes are named n0, n1, ...; a full queue's drops name the edge.
    let index = |name: &str| name.strip_prefix('n').and_then(|n| n.parse::<usize>().ok());
    let mut order = Vec::new();
    let mut delivered: BTreeMap<usize, Vec<u64>> = flow
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, node)| node.role == Role::Sink)
        .map(|(n, _)| (n, Vec::new()))
        .collect();
    for entry in &report.trace.0 {
        let Some(node) = index(&entry.node) else {
            continue;
        };
        let stage = Stage {
            node,
            sequence: entry.sequence,
        };
        match entry.event {
            Event::Pulled | Event::Emitted { .. } | Event::Dropped | Event::Failed { .. } => {
                order.push(stage);
            }
            Event::Delivered => {
                order.push(stage);
                delivered.entry(node).or_default().push(entry.sequence);
            }
            _ => {}
        }
    }
    let counts = (0..flow.nodes.len())
        .map(|n| {
            // A flow rejected before it ran reports no node.
            let name = Flow::name(n);
            let node = report
                .nodes
                .iter()
                .find(|(node, _)| *node == name)
                .map(|(_, report)| report.clone())
                .unwrap_or_default();
            let source = matches!(flow.nodes[n].role, Role::Source { .. });
            let passes = matches!(flow.nodes[n].role, Role::Filter | Role::Processor);
            Counts {
                calls: if source { node.emitted } else { node.received },
                errors: node.failed + node.failed_calls,
                passed: if passes { node.emitted } else { 0 },
                dropped: node.dropped,
            }
        })
        .collect();
    let peaks = report.edges.iter().map(|edge| edge.peak).collect();
    let pauses = report.nodes.iter().map(|(_, node)| node.pauses).sum();
    Observation {
        ending,
        delivered,
        counts,
        order,
        peaks,
        pauses,
    }
}
