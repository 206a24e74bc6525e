//! `Torvyn.toml`: the upstream Torvyn 0.1 project manifest, parsed strictly.
//!
//! The schema is upstream's, all of it (that of `torvyn-config` 0.1.1:
//! `[torvyn]`, `[[component]]`, `[build]`, `[test]`, `[runtime]` with
//! `[runtime.scheduling]` and `[runtime.backpressure]`, `[observability]`,
//! `[security]`, `[registry]`, `[flow.<F>]`, `[flow.<F>.nodes.<N>]`,
//! `[[flow.<F>.edges]]`; [`schema_keys`] lists every key), plus a `[testkit]`
//! table of this testkit's own settings ([`TestkitSettings`]). Keys the
//! reference host implements are honoured; keys only a production deployment
//! uses (exporters, worker threads, priorities) are checked and listed by
//! [`Manifest::accepted_unused_keys`]. Upstream silently ignores unknown keys;
//! this parser rejects them with the key's name, and checks every flow's
//! graph, so a typo fails loudly. A [`ManifestError`] lists every problem of
//! the file in file order, each with its line and column
//! ([`ManifestError::problems`]); each starts with the manifest's path (or
//! `Torvyn.toml` for [`Manifest::parse`]) and names the key at fault:
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
//!     [runtime]
//!     max_memory_per_component = "16MiB"
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
//! assert_eq!(manifest.runtime.max_memory_per_component, Some(16 * 1024 * 1024));
//! let flow = manifest.flow(None)?;
//! assert_eq!(flow.nodes["evens"].interface, Role::Filter);
//! assert_eq!(
//!     flow.nodes["numbers"].component,
//!     ComponentRef::File("/project/numbers.wasm".into())
//! );
//! assert_eq!(flow.edges.len(), 2);
//!
//! // A misspelt key is an error naming it, with toml's line and column.
//! let err = Manifest::parse(
//!     "[torvyn]\nname = \"x\"\nversion = \"1\"\ncontract_version = \"0.1.0\"\ncolour = 1\n",
//!     Path::new("."),
//! )
//! .unwrap_err();
//! assert!(err.to_string().starts_with("Torvyn.toml: "));
//! assert!(err.to_string().contains("unknown field `colour`"));
//! # Ok::<(), torvyn_testkit::manifest::ManifestError>(())
//! ```
//!
//! What is checked after parsing: the `[torvyn]` keys `name`, `version` and
//! `contract_version` are present; `[[component]]` names are unique; every
//! node's `interface` is one of the six contract interfaces (with or without
//! `@0.1.0`) and its `component` is `"file://..."` or a declared
//! `[[component]]` name; sizes parse ([`parse_size`]) and are not 0; queue
//! depths, fuel budgets and `[test] timeout_seconds` are at least 1;
//! `on_error` (of a flow or a node) is `"fail-flow"`, `"skip"`,
//! `"dead-letter"` or `{ retry = N }`; every flow has nodes and a source;
//! edges name existing nodes, never lead into a source or out of a sink, and
//! form no cycle; every node but a source has an incoming edge, and every node
//! but a sink an outgoing one (upstream checks neither; its output would be
//! lost). The graph rules are those the pipeline builder checks, from the
//! same model, so a manifest accepted here is a flow the builder runs. The
//! checks are linear in the number of nodes and edges, and a cycle over many
//! nodes is shown by its first and last few. A UTF-8 byte-order mark is
//! skipped.
//!
//! The parts: the public model here, the raw serde structs and sizes in
//! `raw.rs`, [`ManifestError`] in `error.rs`, the checks in `validate.rs`
//! (one flow's in `flow.rs`), the key table in `schema.rs` and the places of
//! keys in the text in `place.rs`.

mod error;
mod flow;
mod place;
mod raw;
pub(crate) mod schema;
mod validate;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::role::Role;
use crate::settings::{BackpressurePolicy, ErrorPolicy};

pub use error::{ManifestError, ManifestErrorKind, ManifestProblem};
pub(crate) use raw::Size;
pub use raw::parse_size;
use validate::list;
pub(crate) use validate::segment;
/// A parsed and validated `Torvyn.toml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// `[torvyn]`: the project.
    pub torvyn: Project,
    /// The `[[component]]` entries, in file order.
    pub components: Vec<ComponentDecl>,
    /// `[runtime]`.
    pub runtime: RuntimeSettings,
    /// The `[flow.<name>]` entries, by name.
    pub flows: BTreeMap<String, Flow>,
    /// `[testkit]`: settings only this testkit reads (upstream ignores the table).
    pub testkit: TestkitSettings,
    /// `[security]`: capability grants.
    pub security: Security,
    /// `[test]`.
    pub test: TestSettings,
    base_dir: PathBuf,
    file: String,
    unused: Vec<String>,
}

/// `[torvyn]`: the project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project {
    /// `name` (required).
    pub name: String,
    /// `version` (required).
    pub version: String,
    /// `contract_version` (required): the contract version the project targets, `"0.1.0"`.
    pub contract_version: String,
    /// `description`.
    pub description: Option<String>,
    /// `authors`.
    pub authors: Vec<String>,
    /// `license` (an SPDX expression).
    pub license: Option<String>,
    /// `repository` (a URL).
    pub repository: Option<String>,
}

/// A `[[component]]` entry: a component crate of the project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentDecl {
    /// `name` (required): what a node's `component` key refers to.
    pub name: String,
    /// `path` (required): the crate's directory, as written (relative to the manifest).
    pub path: PathBuf,
    /// `language` (`"rust"`).
    pub language: Option<String>,
    /// `build_command`: how upstream builds it (the testkit builds Rust crates itself).
    pub build_command: Option<String>,
    /// `config`: the config of nodes using it.
    pub config: Option<String>,
}

/// `[runtime]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuntimeSettings {
    /// `max_memory_per_component`, in bytes.
    pub max_memory_per_component: Option<u64>,
    /// `default_fuel_per_invocation`.
    pub default_fuel_per_invocation: Option<u64>,
    /// `[runtime.backpressure]`.
    pub backpressure: BackpressureSettings,
}

/// `[security]`: which capabilities each node is granted.
///
/// ```toml
/// [security]
/// default_capability_policy = "deny-all"   # or "allow-all": every capability
///
/// [security.grants.reader]                  # a node name, or a [[component]] name
/// capabilities = ["filesystem:read:/data/*", "wasi-random"]
/// ```
///
/// A node is granted the capabilities of the grants named after it and after
/// its `[[component]]`. Each capability is granted as written (what the
/// component's `has-capability` asks for), and one written as upstream's
/// `"<category>:<action>:<scope>"` also as the reference host's
/// `"wasi-<category>-<action>"` (`"network:egress:*"` grants
/// `"wasi-network-egress"`, which opens the network). A scope is not enforced:
/// the reference host mounts no directories.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Security {
    /// `default_capability_policy` (default `deny-all`).
    pub default_capability_policy: CapabilityPolicy,
    /// `[security.grants.<name>]` `capabilities`, by name.
    pub grants: BTreeMap<String, Vec<String>>,
}

impl Security {
    /// What the node `node` (running the `[[component]]` `component`, if any)
    /// is granted: the grants named after either, each capability as written
    /// and in the reference host's spelling; `["*"]` under `allow-all`.
    pub fn capabilities(&self, node: &str, component: Option<&str>) -> BTreeSet<String> {
        if self.default_capability_policy == CapabilityPolicy::AllowAll {
            return BTreeSet::from([crate::settings::ALL_CAPABILITIES.to_string()]);
        }
        let mut granted = BTreeSet::new();
        for name in [Some(node), component].into_iter().flatten() {
            for capability in self.grants.get(name).into_iter().flatten() {
                let mut parts = capability.splitn(3, ':');
                if let (Some(category), Some(action), Some(_scope)) =
                    (parts.next(), parts.next(), parts.next())
                {
                    granted.insert(format!("wasi-{category}-{action}"));
                }
                granted.insert(capability.clone());
            }
        }
        granted
    }
}

/// `default_capability_policy`: what a node may do beyond its grants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CapabilityPolicy {
    /// `deny-all`: only what is granted (the default).
    #[default]
    DenyAll,
    /// `allow-all`: every capability, to every node (for development only).
    AllowAll,
}

/// `[test]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TestSettings {
    /// `timeout_seconds` (at least 1): the wall-time limit of a run of the
    /// project's flows ([`Pipeline::timeout`](crate::Pipeline::timeout)),
    /// unless the run sets its own. Without it a run has
    /// [`DEFAULT_RUN_TIMEOUT`](crate::DEFAULT_RUN_TIMEOUT), 60 s,
    /// which is upstream's default too.
    pub timeout_seconds: Option<u64>,
}

/// `[testkit]`: how the testkit's reference host runs the project's flows.
/// Upstream Torvyn ignores unknown tables, so the table is safe to keep.
///
/// ```toml
/// [testkit]
/// clock = "real"      # or "virtual", the default
/// random_seed = 42    # the seed of every node's wasi:random (default 0)
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TestkitSettings {
    /// `clock`: `"virtual"` (the default) or `"real"`; see [`crate::ClockMode`].
    pub clock: Option<crate::settings::ClockMode>,
    /// `random_seed`: the seed of the nodes' `wasi:random` generators.
    pub random_seed: Option<u64>,
}

/// `[runtime.backpressure]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BackpressureSettings {
    /// `default_queue_depth` (at least 1).
    pub default_queue_depth: Option<usize>,
    /// `backpressure_policy` (default `block-producer`).
    pub backpressure_policy: BackpressurePolicy,
}

/// A `[flow.<name>]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    /// The flow's name (the `<name>` of `[flow.<name>]`).
    pub name: String,
    /// `description`.
    pub description: Option<String>,
    /// `default_queue_depth` (at least 1), or else `backpressure.default_queue_depth`:
    /// overrides `[runtime.backpressure]`'s.
    pub default_queue_depth: Option<usize>,
    /// `backpressure.backpressure_policy`: overrides `[runtime.backpressure]`'s.
    pub backpressure_policy: Option<BackpressurePolicy>,
    /// `on_error`: the error policy of the flow's nodes that set none
    /// (default [`ErrorPolicy::FailFlow`]); see [`Node::on_error`].
    pub on_error: Option<ErrorPolicy>,
    /// The nodes, by name.
    pub nodes: BTreeMap<String, Node>,
    /// The edges, in file order.
    pub edges: Vec<Edge>,
}

/// A `[flow.<f>.nodes.<name>]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// The node's name.
    pub name: String,
    /// `component`: what the node runs.
    pub component: ComponentRef,
    /// The role, from `interface`.
    pub interface: Role,
    /// `config`: the string given to `init`.
    pub config: Option<String>,
    /// `fuel_budget`: the per-call fuel budget.
    pub fuel_budget: Option<u64>,
    /// `max_memory`: the node's memory limit, in bytes.
    pub max_memory: Option<u64>,
    /// `on_error`: what the node does when a call on an element fails:
    /// `"fail-flow"`, `"skip"`, `"dead-letter"` or `{ retry = N }` (N at
    /// least 1); when unset, the flow's `on_error`.
    pub on_error: Option<ErrorPolicy>,
}

/// What a node's `component` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ComponentRef {
    /// `"file://path.wasm"`: a compiled component, resolved against the manifest's directory.
    File(PathBuf),
    /// The name of a `[[component]]` crate.
    Crate {
        /// Its `name`.
        name: String,
        /// Its `path`, resolved against the manifest's directory.
        path: PathBuf,
        /// Its `config`.
        config: Option<String>,
    },
}

/// A `[[flow.<f>.edges]]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    /// `from`: where elements come from.
    pub from: Endpoint,
    /// `to`: where they go.
    pub to: Endpoint,
    /// `queue_depth` (at least 1), or else `backpressure.default_queue_depth`:
    /// the depth of this edge's queue.
    pub queue_depth: Option<usize>,
    /// `backpressure.backpressure_policy`: what this edge does when full,
    /// overriding the flow's and `[runtime.backpressure]`'s policy.
    pub backpressure_policy: Option<BackpressurePolicy>,
}

/// `{ node = "...", port = "..." }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// `node`: the node's name.
    pub node: String,
    /// `port`: a router's port name; `"output"` / `"input"` otherwise.
    pub port: String,
}

impl Manifest {
    /// Read and validate the manifest at `path`. Its relative paths are
    /// resolved against the file's directory, and errors start with `path`.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Manifest, ManifestError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| {
            ManifestError::whole_file(
                file.clone(),
                ManifestErrorKind::Read,
                format!("cannot read the manifest: {err}"),
            )
        })?;
        let base_dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Manifest::parse_named(&text, &base_dir, file)
    }

    /// Parse and validate manifest text. Relative paths are resolved against
    /// `base_dir`, and errors start with `Torvyn.toml`.
    pub fn parse(text: &str, base_dir: &Path) -> Result<Manifest, ManifestError> {
        Manifest::parse_named(text, base_dir, "Torvyn.toml".into())
    }

    /// The keys present in the manifest that upstream Torvyn's schema has and
    /// that are accepted but not used by the reference host: settings of a
    /// production deployment such as `observability`, `registry`, `build`,
    /// `runtime.worker_threads`, `runtime.scheduling` and
    /// `flow.*.nodes.*.priority`. Each is listed once, in the order first met,
    /// `*` standing for any flow, node or grant name, and a table the host
    /// does not read at all named as a whole. Empty when every key is used.
    ///
    /// ```
    /// use std::path::Path;
    /// use torvyn_testkit::manifest::Manifest;
    ///
    /// let manifest = Manifest::parse(
    ///     "[torvyn]\nname = \"p\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n\
    ///      [runtime]\nworker_threads = 4\n[registry]\ndefault = \"https://example.com\"\n",
    ///     Path::new("."),
    /// )?;
    /// assert_eq!(manifest.accepted_unused_keys(), ["runtime.worker_threads", "registry"]);
    /// assert_eq!(
    ///     manifest.unused_keys_note().as_deref(),
    ///     Some("accepted, not used by the reference host: runtime.worker_threads, registry")
    /// );
    /// # Ok::<(), torvyn_testkit::manifest::ManifestError>(())
    /// ```
    pub fn accepted_unused_keys(&self) -> &[String] {
        &self.unused
    }

    /// [`accepted_unused_keys`](Self::accepted_unused_keys) as one line,
    /// `accepted, not used by the reference host: <keys>`; `None` if there are none.
    pub fn unused_keys_note(&self) -> Option<String> {
        unused_keys_note(&self.unused)
    }

    /// The directory relative paths were resolved against.
    pub fn base_dir(&self) -> &Path {
        &self.base_dir
    }

    /// The flow named `name`; with `None`, the only flow (an error listing the
    /// flows if there are several, or none).
    pub fn flow(&self, name: Option<&str>) -> Result<&Flow, ManifestError> {
        let error = |message: String| {
            ManifestError::whole_file(self.file.clone(), ManifestErrorKind::NoSuchFlow, message)
        };
        let names = || list(self.flows.keys().map(String::as_str));
        match name {
            Some(name) => self
                .flows
                .get(name)
                .ok_or_else(|| error(format!("there is no flow `{name}` (flows: {})", names()))),
            None => {
                let mut flows = self.flows.values();
                match (flows.next(), flows.next()) {
                    (Some(flow), None) => Ok(flow),
                    (None, _) => Err(error(
                        "there is no flow; add a [flow.<name>] with nodes and edges".into(),
                    )),
                    (Some(_), Some(_)) => Err(error(format!(
                        "there are several flows ({}); name the one to run",
                        names()
                    ))),
                }
            }
        }
    }
}

/// The 1-based line and column of `key_path` (as the manifest's messages
/// write it: `flow.main.nodes."a b".config`) in the manifest text `text`, or
/// of the nearest enclosing key that is there; `None` when the text is not
/// TOML or not even the first key is there. What `check` uses to point at a
/// node's `config` when its `init` rejects it.
///
/// ```
/// let text = "[flow.main.nodes.dedup]\ninterface = \"torvyn:streaming/processor\"\nconfig = '{\"windw\": 2}'\n";
/// let at = torvyn_testkit::manifest::key_position(text, "flow.main.nodes.dedup.config");
/// assert_eq!(at, Some((3, 10)));
/// ```
pub fn key_position(text: &str, key_path: &str) -> Option<(usize, usize)> {
    let root = toml::de::DeTable::parse(text).ok()?;
    let span = place::locate(root.get_ref(), key_path)?;
    let position = place::position(text, span.start);
    Some((position.line, position.column))
}

/// `accepted, not used by the reference host: <keys>` for `keys`, if any.
/// ([`Manifest::unused_keys_note`]; a run's report carries the keys too.)
pub fn unused_keys_note(keys: &[String]) -> Option<String> {
    (!keys.is_empty()).then(|| {
        format!(
            "accepted, not used by the reference host: {}",
            keys.join(", ")
        )
    })
}

/// Every key path of the schema this parser accepts (upstream Torvyn 0.1.1's
/// and `[testkit]`), `*` standing for a flow, node or grant name and `[]` for
/// an entry of an array of tables (`flow.*.edges[].queue_depth`), each with
/// whether the reference host uses it (`false`: accepted and checked, then
/// listed by [`Manifest::accepted_unused_keys`]).
pub fn schema_keys() -> Vec<(String, bool)> {
    schema::key_paths()
}
