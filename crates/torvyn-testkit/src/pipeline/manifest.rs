//! Turning a `Torvyn.toml` flow into a [`Pipeline`].

use std::path::Path;

use super::{ErrorPolicy, NodeSpec, Pipeline};
use crate::component::Component;
use crate::error::{Error, ErrorKind};
use crate::host::Limits;
use crate::manifest::{ComponentRef, Manifest};

pub(super) fn load(path: &Path, flow: Option<&str>) -> Result<Pipeline, Error> {
    let manifest_error = |err| Error::new("", ErrorKind::Manifest(err));
    let manifest = Manifest::from_path(path).map_err(manifest_error)?;
    let flow = manifest.flow(flow).map_err(manifest_error)?;
    let runtime = &manifest.runtime;
    let mut pipeline = Pipeline::new(flow.name.clone());
    pipeline.queue_depth = flow
        .default_queue_depth
        .or(runtime.backpressure.default_queue_depth)
        .unwrap_or(super::DEFAULT_QUEUE_DEPTH);
    pipeline.backpressure = runtime.backpressure.backpressure_policy;
    if let Some(mode) = manifest.testkit.clock {
        pipeline = pipeline.clock_mode(mode);
    }
    if let Some(seed) = manifest.testkit.random_seed {
        pipeline = pipeline.random_seed(seed);
    }
    for (name, node) in &flow.nodes {
        let key = format!("flow.{}.nodes.{name}", flow.name);
        let in_manifest = |err: Error| err.in_manifest(name, path.display().to_string(), &key);
        let (component, declared_config) = match &node.component {
            ComponentRef::File(file) => (Component::from_file(file).map_err(in_manifest)?, None),
            ComponentRef::Crate { path, config, .. } => {
                (Component::build(path).map_err(in_manifest)?, config.clone())
            }
        };
        if component.role() != node.interface {
            return Err(Error::new(
                name.clone(),
                ErrorKind::Pipeline(format!(
                    "{}: `{key}.interface` is `{}`, but the component `{}` is a {} (it \
                     exports `{}`); fix the interface or the component",
                    path.display(),
                    node.interface.interface(),
                    component.name(),
                    component.role(),
                    component.role().versioned_interface()
                )),
            ));
        }
        let mut limits = Limits::default();
        if let Some(memory) = node.max_memory.or(runtime.max_memory_per_component) {
            limits = limits.memory(memory);
        }
        if let Some(fuel) = node.fuel_budget.or(runtime.default_fuel_per_invocation) {
            limits = limits.fuel(Some(fuel));
        }
        let config = node.config.clone().or(declared_config).unwrap_or_default();
        let spec = NodeSpec::component(&component, config)
            .limits(limits)
            .policy(ErrorPolicy::FailFlow);
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
    }
    Ok(pipeline)
}
