//! `Torvyn.toml`: the upstream Torvyn 0.1 project manifest, parsed strictly.
//!
//! Upstream silently ignores unknown keys; this parser rejects them with the
//! key's name, and checks the flows' graphs, so a typo fails loudly:
//!
//! ```
//! use std::path::Path;
//! use torvyn_testkit::manifest::{ComponentRef, Manifest};
//! use torvyn_testkit::Role;
//!
//! let manifest = Manifest::parse(r#"
//!     [torvyn]
//!     name = "demo"
//!     version = "0.1.0"
//!     contract_version = "0.1.0"
//!
//!     [[component]]
//!     name = "evens"
//!     path = "components/evens"
//!
//!     [flow.main.nodes.numbers]
//!     component = "file://numbers.wasm"
//!     interface = "torvyn:streaming/source"
//!
//!     [flow.main.nodes.evens]
//!     component = "evens"
//!     interface = "torvyn:filtering/filter"
//!     config = '{"every": 2}'
//!
//!     [flow.main.nodes.out]
//!     component = "file://sink.wasm"
//!     interface = "torvyn:streaming/sink"
//!
//!     [[flow.main.edges]]
//!     from = { node = "numbers", port = "output" }
//!     to = { node = "evens", port = "input" }
//!
//!     [[flow.main.edges]]
//!     from = { node = "evens", port = "output" }
//!     to = { node = "out", port = "input" }
//! "#, Path::new("/project"))?;
//!
//! let flow = manifest.flow(None)?;
//! assert_eq!(flow.nodes["evens"].interface, Role::Filter);
//! assert_eq!(flow.nodes["numbers"].component, ComponentRef::File("/project/numbers.wasm".into()));
//! assert_eq!(flow.edges.len(), 2);
//!
//! let err = Manifest::parse("[torvyn]\nname = \"x\"\nversion = \"1\"\ncontract_version = \"0.1.0\"\ncolour = 1\n", Path::new("."))
//!     .unwrap_err();
//! assert!(err.to_string().contains("unknown field `colour`"));
//! # Ok::<(), torvyn_testkit::manifest::ManifestError>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::role::Role;

/// A parsed and validated `Torvyn.toml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// `[torvyn]`.
    pub torvyn: Project,
    /// `[[component]]` entries.
    pub components: Vec<ComponentDecl>,
    /// `[runtime]`.
    pub runtime: Runtime,
    /// `[flow.<name>]` entries, by name.
    pub flows: BTreeMap<String, Flow>,
    base_dir: PathBuf,
    file: String,
}

/// `[torvyn]`: the project.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// The project name.
    pub name: String,
    /// The project version.
    pub version: String,
    /// The contract version the project targets (`"0.1.0"`).
    pub contract_version: String,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
}

/// A `[[component]]` entry: a component crate of the project.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentDecl {
    /// The name nodes use to refer to it.
    pub name: String,
    /// The crate's directory, as written (relative to the manifest).
    pub path: PathBuf,
    /// The source language (`"rust"`).
    #[serde(default)]
    pub language: Option<String>,
    /// How upstream builds it (the testkit builds Rust crates itself).
    #[serde(default)]
    pub build_command: Option<String>,
    /// The default config of nodes using it.
    #[serde(default)]
    pub config: Option<String>,
}

/// `[runtime]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Runtime {
    /// `max_memory_per_component`, in bytes.
    pub max_memory_per_component: Option<u64>,
    /// `default_fuel_per_invocation`.
    pub default_fuel_per_invocation: Option<u64>,
    /// `[runtime.backpressure]`.
    pub backpressure: BackpressureSettings,
}

/// `[runtime.backpressure]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BackpressureSettings {
    /// `default_queue_depth`.
    pub default_queue_depth: Option<usize>,
    /// `backpressure_policy`.
    pub backpressure_policy: BackpressurePolicy,
}

/// What a producer does when one of its outgoing queues is full
/// (`backpressure_policy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackpressurePolicy {
    /// `block-producer`: the producer is not called until there is room (the default).
    #[default]
    BlockProducer,
    /// `drop-oldest`: the oldest queued element is dropped to make room (traced).
    DropOldest,
    /// `drop-newest`: the new element is dropped (traced).
    DropNewest,
    /// `error`: the flow fails.
    Error,
}

/// A `[flow.<name>]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    /// The flow's name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Its `default_queue_depth`.
    pub default_queue_depth: Option<usize>,
    /// Its nodes, by name.
    pub nodes: BTreeMap<String, Node>,
    /// Its edges, in order.
    pub edges: Vec<Edge>,
}

/// A `[flow.<f>.nodes.<name>]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// The node's name.
    pub name: String,
    /// The component it runs.
    pub component: ComponentRef,
    /// The role, from its `interface`.
    pub interface: Role,
    /// The string given to `init`.
    pub config: Option<String>,
    /// The per-call fuel budget.
    pub fuel_budget: Option<u64>,
    /// The memory limit in bytes.
    pub max_memory: Option<u64>,
}

/// What a node's `component` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ComponentRef {
    /// `"file://path.wasm"`, resolved against the manifest's directory.
    File(PathBuf),
    /// A `[[component]]` crate.
    Crate {
        /// Its name.
        name: String,
        /// Its directory, resolved against the manifest's directory.
        path: PathBuf,
        /// Its default config.
        config: Option<String>,
    },
}

/// A `[[flow.<f>.edges]]` entry.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    /// Where elements come from.
    pub from: Endpoint,
    /// Where they go.
    pub to: Endpoint,
    /// The queue depth of this edge.
    #[serde(default)]
    pub queue_depth: Option<usize>,
}

/// `{ node, port }`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// The node's name.
    pub node: String,
    /// The port (a router's port name; `output` / `input` otherwise).
    pub port: String,
}

/// A manifest that cannot be read, parsed or used. The message starts with
/// the file and names the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestError {
    file: String,
    message: String,
}

impl ManifestError {
    fn new(file: &str, message: impl Into<String>) -> Self {
        ManifestError {
            file: file.to_string(),
            message: message.into(),
        }
    }

    /// The message without the file name.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

impl std::error::Error for ManifestError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    torvyn: Project,
    #[serde(default)]
    component: Vec<ComponentDecl>,
    #[serde(default)]
    runtime: RawRuntime,
    #[serde(default)]
    flow: BTreeMap<String, RawFlow>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRuntime {
    #[serde(default)]
    max_memory_per_component: Option<Size>,
    #[serde(default)]
    default_fuel_per_invocation: Option<u64>,
    #[serde(default)]
    backpressure: RawBackpressure,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBackpressure {
    #[serde(default)]
    default_queue_depth: Option<usize>,
    #[serde(default)]
    backpressure_policy: BackpressurePolicy,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlow {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    default_queue_depth: Option<usize>,
    #[serde(default)]
    nodes: BTreeMap<String, RawNode>,
    #[serde(default)]
    edges: Vec<Edge>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    component: String,
    interface: String,
    #[serde(default)]
    config: Option<String>,
    #[serde(default)]
    fuel_budget: Option<u64>,
    #[serde(default)]
    max_memory: Option<Size>,
}

/// A memory size: a number of bytes, or a string like `"16MiB"`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Size {
    Bytes(u64),
    Text(String),
}

impl Size {
    fn bytes(&self, key: &str) -> Result<u64, String> {
        match self {
            Size::Bytes(bytes) => Ok(*bytes),
            Size::Text(text) => parse_size(text).ok_or_else(|| {
                format!(
                    "`{key}` = {text:?} is not a size; write a number of bytes or a number \
                     with B, KiB, MiB, GiB, KB, MB or GB (e.g. \"16MiB\")"
                )
            }),
        }
    }
}

/// Parse `"16MiB"`, `"512 KiB"`, `"64MB"`, `"1000"`.
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let multiplier: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        _ => return None,
    };
    number.checked_mul(multiplier)
}

impl Manifest {
    /// Read and validate the manifest at `path`; relative paths in it are
    /// resolved against its directory.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Manifest, ManifestError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|err| ManifestError::new(&file, format!("cannot read the manifest: {err}")))?;
        let base_dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Manifest::parse_named(&text, &base_dir, file)
    }

    /// Parse and validate manifest text; relative paths are resolved against `base_dir`.
    pub fn parse(text: &str, base_dir: &Path) -> Result<Manifest, ManifestError> {
        Manifest::parse_named(text, base_dir, "Torvyn.toml".into())
    }

    fn parse_named(text: &str, base_dir: &Path, file: String) -> Result<Manifest, ManifestError> {
        let raw: RawManifest = toml::from_str(text)
            .map_err(|err| ManifestError::new(&file, err.to_string().trim_end().to_string()))?;
        let error = |message: String| ManifestError::new(&file, message);

        let mut declared = BTreeMap::new();
        for (index, component) in raw.component.iter().enumerate() {
            if declared.insert(component.name.clone(), component).is_some() {
                return Err(error(format!(
                    "component[{index}].name: a component named {:?} is declared twice; \
                     component names must be unique",
                    component.name
                )));
            }
        }

        let runtime = Runtime {
            max_memory_per_component: raw
                .runtime
                .max_memory_per_component
                .as_ref()
                .map(|size| size.bytes("runtime.max_memory_per_component"))
                .transpose()
                .map_err(error)?,
            default_fuel_per_invocation: raw.runtime.default_fuel_per_invocation,
            backpressure: BackpressureSettings {
                default_queue_depth: raw.runtime.backpressure.default_queue_depth,
                backpressure_policy: raw.runtime.backpressure.backpressure_policy,
            },
        };
        if runtime.backpressure.default_queue_depth == Some(0) {
            return Err(error(
                "runtime.backpressure.default_queue_depth: a queue depth must be at least 1".into(),
            ));
        }

        let mut flows = BTreeMap::new();
        for (flow_name, raw_flow) in raw.flow {
            let key = format!("flow.{flow_name}");
            let flow =
                validate_flow(&key, &flow_name, raw_flow, &declared, base_dir).map_err(error)?;
            flows.insert(flow_name, flow);
        }

        Ok(Manifest {
            torvyn: raw.torvyn,
            components: raw.component,
            runtime,
            flows,
            base_dir: base_dir.to_path_buf(),
            file,
        })
    }

    /// The directory relative paths are resolved against.
    pub fn base_dir(&self) -> &Path {
        &self.base_dir
    }

    /// Flow `name`, or with `None` the only flow.
    pub fn flow(&self, name: Option<&str>) -> Result<&Flow, ManifestError> {
        let names = || self.flows.keys().cloned().collect::<Vec<_>>().join(", ");
        match name {
            Some(name) => self.flows.get(name).ok_or_else(|| {
                ManifestError::new(
                    &self.file,
                    format!("there is no flow `{name}` (flows: {})", names()),
                )
            }),
            None => match self.flows.len() {
                1 => Ok(self.flows.values().next().expect("one flow")),
                0 => Err(ManifestError::new(
                    &self.file,
                    "there is no [flow.<name>] section; add one with nodes and edges",
                )),
                _ => Err(ManifestError::new(
                    &self.file,
                    format!("there are several flows ({}); name the one to run", names()),
                )),
            },
        }
    }
}

fn validate_flow(
    key: &str,
    flow_name: &str,
    raw: RawFlow,
    declared: &BTreeMap<String, &ComponentDecl>,
    base_dir: &Path,
) -> Result<Flow, String> {
    if raw.default_queue_depth == Some(0) {
        return Err(format!(
            "{key}.default_queue_depth: a queue depth must be at least 1"
        ));
    }
    if raw.nodes.is_empty() {
        return Err(format!(
            "{key}: the flow has no nodes; add [{key}.nodes.<name>] tables"
        ));
    }
    let mut nodes = BTreeMap::new();
    for (name, node) in raw.nodes {
        let node_key = format!("{key}.nodes.{name}");
        let interface = Role::from_interface(&node.interface).ok_or_else(|| {
            format!(
                "{node_key}.interface: {:?} is not a Torvyn 0.1 interface; use one of {}",
                node.interface,
                Role::ALL.map(Role::interface).join(", ")
            )
        })?;
        let component = if let Some(file) = node.component.strip_prefix("file://") {
            ComponentRef::File(base_dir.join(file))
        } else if let Some(decl) = declared.get(&node.component) {
            ComponentRef::Crate {
                name: decl.name.clone(),
                path: base_dir.join(&decl.path),
                config: decl.config.clone(),
            }
        } else {
            let names: Vec<&str> = declared.keys().map(String::as_str).collect();
            return Err(format!(
                "{node_key}.component: {:?} is neither a \"file://...\" path nor a declared \
                 [[component]] (declared: {})",
                node.component,
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ));
        };
        let max_memory = node
            .max_memory
            .as_ref()
            .map(|size| size.bytes(&format!("{node_key}.max_memory")))
            .transpose()?;
        nodes.insert(
            name.clone(),
            Node {
                name,
                component,
                interface,
                config: node.config,
                fuel_budget: node.fuel_budget,
                max_memory,
            },
        );
    }
    let names = nodes.keys().cloned().collect::<Vec<_>>().join(", ");
    let mut incoming: BTreeSet<&str> = BTreeSet::new();
    for (index, edge) in raw.edges.iter().enumerate() {
        let edge_key = format!("{key}.edges[{index}]");
        for (side, endpoint) in [("from", &edge.from), ("to", &edge.to)] {
            if !nodes.contains_key(&endpoint.node) {
                return Err(format!(
                    "{edge_key}.{side}.node: no node named {:?} in flow {flow_name:?} (nodes: {names})",
                    endpoint.node
                ));
            }
        }
        if nodes[&edge.to.node].interface == Role::Source {
            return Err(format!(
                "{edge_key}.to.node: {:?} is a source, and sources take no input",
                edge.to.node
            ));
        }
        if nodes[&edge.from.node].interface == Role::Sink {
            return Err(format!(
                "{edge_key}.from.node: {:?} is a sink, and sinks have no output",
                edge.from.node
            ));
        }
        if edge.queue_depth == Some(0) {
            return Err(format!(
                "{edge_key}.queue_depth: a queue depth must be at least 1"
            ));
        }
        incoming.insert(edge.to.node.as_str());
    }
    if !nodes.values().any(|node| node.interface == Role::Source) {
        return Err(format!("{key}: the flow has no source node"));
    }
    for node in nodes.values() {
        if node.interface != Role::Source && !incoming.contains(node.name.as_str()) {
            return Err(format!(
                "{key}.nodes.{}: the {} has no incoming edge; add a [[{key}.edges]] entry \
                 with to = {{ node = {:?}, port = \"input\" }}",
                node.name, node.interface, node.name
            ));
        }
    }
    if let Some(cycle) = find_cycle(&nodes, &raw.edges) {
        return Err(format!(
            "{key}.edges: the flow has a cycle through {cycle}; a flow must be a DAG"
        ));
    }
    Ok(Flow {
        name: flow_name.to_string(),
        description: raw.description,
        default_queue_depth: raw.default_queue_depth,
        nodes,
        edges: raw.edges,
    })
}

/// The nodes on a cycle, if any (Kahn's algorithm leaves them unvisited).
fn find_cycle(nodes: &BTreeMap<String, Node>, edges: &[Edge]) -> Option<String> {
    let mut indegree: BTreeMap<&str, usize> = nodes.keys().map(|n| (n.as_str(), 0)).collect();
    for edge in edges {
        *indegree.entry(edge.to.node.as_str()).or_default() += 1;
    }
    let mut ready: Vec<&str> = indegree
        .iter()
        .filter(|(_, degree)| **degree == 0)
        .map(|(node, _)| *node)
        .collect();
    while let Some(node) = ready.pop() {
        for edge in edges.iter().filter(|edge| edge.from.node == node) {
            let degree = indegree.entry(edge.to.node.as_str()).or_default();
            *degree -= 1;
            if *degree == 0 {
                ready.push(edge.to.node.as_str());
            }
        }
    }
    let cycle: Vec<&str> = indegree
        .into_iter()
        .filter(|(_, degree)| *degree > 0)
        .map(|(node, _)| node)
        .collect();
    (!cycle.is_empty()).then(|| cycle.join(", "))
}
