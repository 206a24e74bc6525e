//! The loader: a `Torvyn.toml` flow read, its components built and loaded, and turned into a [`Pipeline`].

use std::path::Path;
use std::time::Duration;

use super::{NodeSpec, Pipeline};
use crate::component::Component;
use crate::error::{Error, ErrorKind};
use crate::host::Limits;
use crate::manifest::{
    ComponentRef, Manifest, ManifestError, ManifestErrorKind, Node, RuntimeSettings,
};
use crate::role::Role;

/// Load `flow` of the manifest at `path`; with `input`, the flow's only
/// source is that host-side source instead, and is never built or loaded.
pub(super) fn load(
    path: &Path,
    flow: Option<&str>,
    mut input: Option<NodeSpec>,
) -> Result<Pipeline, Error> {
    let manifest_error = |err| Error::new("", ErrorKind::Manifest(err));
    let manifest = Manifest::from_path(path).map_err(manifest_error)?;
    let flow = manifest.flow(flow).map_err(manifest_error)?;
    if input.is_some() {
        let sources: Vec<&str> = flow
            .nodes
            .values()
            .filter(|node| node.interface == Role::Source)
            .map(|node| node.name.as_str())
            .collect();
        if sources.len() != 1 {
            return Err(Error::pipeline(format!(
                "an input replaces the flow's source, but flow `{}` has {} sources ({}); \
                 run it without an input",
                flow.name,
                sources.len(),
                sources.join(", ")
            )));
        }
    }
    let runtime = &manifest.runtime;
    let mut pipeline = Pipeline::new(flow.name.clone());
    pipeline.queue_depth = flow
        .default_queue_depth
        .or(runtime.backpressure.default_queue_depth)
        .unwrap_or(super::DEFAULT_QUEUE_DEPTH);
    pipeline.backpressure = flow
        .backpressure_policy
        .unwrap_or(runtime.backpressure.backpressure_policy);
    pipeline.unused_keys = manifest.accepted_unused_keys().to_vec();
    if let Some(seconds) = manifest.test.timeout_seconds {
        pipeline = pipeline.timeout(Duration::from_secs(seconds));
    }
    if let Some(mode) = manifest.testkit.clock {
        pipeline = pipeline.clock_mode(mode);
    }
    if let Some(seed) = manifest.testkit.random_seed {
        pipeline = pipeline.random_seed(seed);
    }
    for (name, node) in flow_ordered(flow) {
        if node.interface == Role::Source
            && let Some(spec) = input.take()
        {
            pipeline = pipeline.node(name.clone(), spec);
            continue;
        }
        let key = format!(
            "flow.{}.nodes.{}",
            crate::manifest::segment(&flow.name),
            crate::manifest::segment(name)
        );
        let in_manifest = |err: Error| err.in_manifest(name, path.display().to_string(), &key);
        let (component, declared_config, declared_name) = match &node.component {
            ComponentRef::File(file) => {
                (Component::from_file(file).map_err(in_manifest)?, None, None)
            }
            ComponentRef::Crate {
                name: declared,
                path,
                config,
            } => {
                let wasm = crate::build::build_component(path).map_err(|mut err| {
                    err.summary = format!(
                        "the crate of [[component]] `{declared}` at {}: {}",
                        path.display(),
                        err.summary
                    );
                    in_manifest(Error::new(name.clone(), ErrorKind::Build(err)))
                })?;
                let component = Component::from_file(wasm).map_err(in_manifest)?;
                (component, config.clone(), Some(declared.as_str()))
            }
        };
        if component.role() != node.interface {
            let problem = ManifestError::after_validation(
                path,
                ManifestErrorKind::Invalid,
                format!("{key}.interface"),
                format!(
                    "`{}`, but the component `{}` is a {} (it exports `{}`); fix the \
                     interface or the component",
                    node.interface.interface(),
                    component.name(),
                    component.role(),
                    component.role().versioned_interface()
                ),
            );
            return Err(Error::new("", ErrorKind::Manifest(problem)));
        }
        let config = node.config.clone().or(declared_config).unwrap_or_default();
        let mut spec = NodeSpec::component(&component, config)
            .limits(limits(node, runtime))
            .policy(node.on_error.or(flow.on_error).unwrap_or_default());
        for capability in manifest.security.capabilities(name, declared_name) {
            spec = spec.grant(capability);
        }
        pipeline = pipeline.node(name.clone(), spec);
    }
    for edge in &flow.edges {
        pipeline = pipeline.edge_from_port(
            edge.from.node.clone(),
            edge.from.port.clone(),
            edge.to.node.clone(),
        );
        if let Some(depth) = edge.queue_depth {
            pipeline = pipeline.edge_depth(depth);
        }
        if let Some(policy) = edge.backpressure_policy {
            pipeline = pipeline.edge_backpressure(policy);
        }
    }
    Ok(pipeline)
}

/// The flow's nodes in flow order: each after the nodes feeding it, sources
/// first; ties in the order the edges first name them (the file's order),
/// then by name. Every table of the run lists nodes in this order.
fn flow_ordered(flow: &crate::manifest::Flow) -> Vec<(&String, &Node)> {
    let mentioned = |name: &str| {
        flow.edges
            .iter()
            .position(|edge| edge.from.node == name || edge.to.node == name)
            .unwrap_or(usize::MAX)
    };
    let mut nodes: Vec<(&String, &Node)> = flow.nodes.iter().collect();
    nodes.sort_by_key(|(name, _)| mentioned(name));
    let names: Vec<&str> = nodes.iter().map(|(name, _)| name.as_str()).collect();
    let edges: Vec<(&str, &str, &str)> = flow
        .edges
        .iter()
        .map(|edge| {
            (
                edge.from.node.as_str(),
                edge.from.port.as_str(),
                edge.to.node.as_str(),
            )
        })
        .collect();
    crate::pipeline::picture::flow_order(&names, &edges)
        .into_iter()
        .map(|n| nodes[n])
        .collect()
}

/// A node's limits: its `max_memory` and `fuel_budget`, or else `[runtime]`'s
/// `max_memory_per_component` and `default_fuel_per_invocation`.
fn limits(node: &Node, runtime: &RuntimeSettings) -> Limits {
    let mut limits = Limits::default();
    if let Some(memory) = node.max_memory.or(runtime.max_memory_per_component) {
        limits = limits.memory(memory);
    }
    if let Some(fuel) = node.fuel_budget.or(runtime.default_fuel_per_invocation) {
        limits = limits.fuel(Some(fuel));
    }
    limits
}
