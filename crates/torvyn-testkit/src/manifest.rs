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
//! form no cycle; every node but a source has an incoming edge. The checks are
//! linear in the number of nodes and edges, and a cycle over many nodes is
//! shown by its first and last few. A UTF-8 byte-order mark is skipped.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use std::ops::Range;

use serde::de::{self, Deserializer, IgnoredAny, Unexpected, Visitor};
use serde::{Deserialize, Serialize};
use toml::de::DeTable;

use crate::manifest_schema::Snippet;
use crate::pipeline::ErrorPolicy;
use crate::role::Role;

/// A parsed and validated `Torvyn.toml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// `[torvyn]`: the project.
    pub torvyn: Project,
    /// The `[[component]]` entries, in file order.
    pub components: Vec<ComponentDecl>,
    /// `[runtime]`.
    pub runtime: Runtime,
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
pub struct Runtime {
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
            return BTreeSet::from([crate::host::ALL_CAPABILITIES.to_string()]);
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
    /// project's flows ([`Pipeline::timeout`](crate::pipeline::Pipeline::timeout)),
    /// unless the run sets its own. Without it a run has
    /// [`DEFAULT_RUN_TIMEOUT`](crate::pipeline::DEFAULT_RUN_TIMEOUT), 60 s,
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
    /// `clock`: `"virtual"` (the default) or `"real"`; see [`crate::host::clock`].
    pub clock: Option<crate::host::ClockMode>,
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

/// What a producer does when one of its outgoing queues is full
/// (`backpressure_policy`, written in kebab-case).
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

impl BackpressurePolicy {
    /// The name as written in `Torvyn.toml` (`"block-producer"`).
    pub fn as_str(self) -> &'static str {
        match self {
            BackpressurePolicy::BlockProducer => "block-producer",
            BackpressurePolicy::DropOldest => "drop-oldest",
            BackpressurePolicy::DropNewest => "drop-newest",
            BackpressurePolicy::Error => "error",
        }
    }
}

impl fmt::Display for BackpressurePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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

/// The kind of a [`ManifestError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ManifestErrorKind {
    /// The file could not be read.
    Read,
    /// Not TOML, an unknown key, or a value of the wrong type (the toml
    /// crate's message, with line and column).
    Syntax,
    /// A required key is missing.
    Missing,
    /// A value is not acceptable: an interface, a component reference, a size,
    /// a queue depth, a duplicate component name.
    Invalid,
    /// A flow's graph is wrong: a missing node, an edge into a source or out of
    /// a sink, a cycle, a node with no input, no nodes or no source.
    Graph,
    /// [`Manifest::flow`] could not pick a flow.
    NoSuchFlow,
}

/// A manifest that cannot be read, parsed or used: every problem found, in
/// file order.
///
/// Each problem's message starts with the manifest's path (`Torvyn.toml` when
/// parsed from text), then names the key at fault, says what to do, and shows
/// where it is:
///
/// ```text
/// Torvyn.toml: flow.main.edges[1].to.node: no node named "evns" in flow "main" (nodes: counter, evens, numbers)
///   --> Torvyn.toml:31:15
///    |
/// 31 | to = { node = "evns", port = "input" }
///    |               ^^^^^^
/// ```
///
/// An unknown key or a value of the wrong type is shown as the toml crate
/// shows its errors (`TOML parse error at line 5, column 1`, the line, and
/// the message). The problems are also there one by one ([`problems`](Self::problems)).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ManifestError {
    file: String,
    problems: Vec<ManifestProblem>,
    message: String,
}

/// One problem of a [`ManifestError`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestProblem {
    kind: ManifestErrorKind,
    key: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    message: String,
    rendered: String,
}

impl ManifestProblem {
    /// What went wrong.
    pub fn kind(&self) -> ManifestErrorKind {
        self.kind
    }

    /// The key path at fault (`flow.main.edges[1].to.node`), when there is one.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The 1-based line of the text at fault (for a missing key, of the table
    /// that lacks it), when the problem has a place in the file.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The 1-based column (in characters) of the text at fault, with [`line`](Self::line).
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// What is wrong and what to do, without the key path and the place.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ManifestProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rendered)
    }
}

impl ManifestError {
    fn new(file: String, problems: Vec<ManifestProblem>) -> Self {
        let message = problems
            .iter()
            .map(|problem| problem.rendered.as_str())
            .collect::<Vec<_>>()
            .join(&format!("\n{file}: "));
        ManifestError {
            file,
            problems,
            message,
        }
    }

    /// A problem of the whole file (it cannot be read, no flow fits).
    fn whole_file(file: String, kind: ManifestErrorKind, message: String) -> Self {
        let problem = ManifestProblem {
            kind,
            key: None,
            line: None,
            column: None,
            rendered: message.clone(),
            message,
        };
        ManifestError::new(file, vec![problem])
    }

    /// The manifest's path as given (or `Torvyn.toml`).
    pub fn file(&self) -> &str {
        &self.file
    }

    /// What went wrong (the first problem's kind).
    pub fn kind(&self) -> ManifestErrorKind {
        self.first().kind
    }

    /// The key path at fault (`flow.main.edges[1].to.node`) of the first
    /// problem, when there is one.
    pub fn key(&self) -> Option<&str> {
        self.first().key()
    }

    /// Every problem, in file order (problems of the whole file, such as a
    /// missing `[torvyn]` table, first). Never empty.
    pub fn problems(&self) -> &[ManifestProblem] {
        &self.problems
    }

    /// The message without the leading file name: every problem, one after
    /// the other, each after the first starting with the file name again.
    pub fn message(&self) -> &str {
        &self.message
    }

    fn first(&self) -> &ManifestProblem {
        // `new` is only called with at least one problem.
        &self.problems[0]
    }
}

/// An error before the file name is known: a kind, the key, the text, and
/// where it is when known before the key is looked up.
struct Problem {
    kind: ManifestErrorKind,
    key: String,
    text: String,
    span: Option<Range<usize>>,
}

impl Problem {
    fn new(kind: ManifestErrorKind, key: impl Into<String>, text: impl Into<String>) -> Self {
        Problem {
            kind,
            key: key.into(),
            text: text.into(),
            span: None,
        }
    }

    fn invalid(key: impl Into<String>, text: impl Into<String>) -> Self {
        Problem::new(ManifestErrorKind::Invalid, key, text)
    }

    fn graph(key: impl Into<String>, text: impl Into<String>) -> Self {
        Problem::new(ManifestErrorKind::Graph, key, text)
    }

    fn missing(key: &str, table: &str, example: &str) -> Self {
        let name = key.rsplit('.').next().unwrap_or(key);
        Problem::new(
            ManifestErrorKind::Missing,
            key,
            format!("missing required key; add `{name} = {example}` to {table}"),
        )
    }

    /// A TOML syntax error, an unknown key or a badly typed value, at `span`.
    fn syntax(key: String, span: Option<Range<usize>>, text: String) -> Self {
        Problem {
            kind: ManifestErrorKind::Syntax,
            key,
            text,
            span,
        }
    }

    /// The problem as reported, its place looked up in `text` (`root`, the
    /// parsed text, finds a key path's place).
    fn locate(
        self,
        file: &str,
        text: &str,
        root: Option<&DeTable<'_>>,
    ) -> (usize, ManifestProblem) {
        let span = self
            .span
            .clone()
            .or_else(|| root.and_then(|root| crate::manifest_schema::locate(root, &self.key)));
        let at = span
            .as_ref()
            .map(|span| crate::manifest_schema::position(text, span.start));
        let rendered = match (&span, self.kind) {
            (Some(span), ManifestErrorKind::Syntax) => format!(
                "TOML parse error at line {}, column {}\n{}\n{}",
                at.map_or(0, |at| at.line),
                at.map_or(0, |at| at.column),
                Snippet {
                    text,
                    span: span.clone(),
                },
                self.text
            ),
            (Some(span), _) => format!(
                "{}: {}\n  --> {file}:{}:{}\n{}",
                self.key,
                self.text,
                at.map_or(0, |at| at.line),
                at.map_or(0, |at| at.column),
                Snippet {
                    text,
                    span: span.clone(),
                }
            ),
            (None, ManifestErrorKind::Syntax) if self.key.is_empty() => self.text.clone(),
            (None, _) => format!("{}: {}", self.key, self.text),
        };
        let order = span.map_or(0, |span| span.start);
        let problem = ManifestProblem {
            kind: self.kind,
            key: (!self.key.is_empty()).then_some(self.key),
            line: at.map(|at| at.line),
            column: at.map(|at| at.column),
            message: self.text,
            rendered,
        };
        (order, problem)
    }
}

/// `name` as a segment of a key path: bare if TOML allows, quoted otherwise.
pub(crate) fn segment(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        name.to_string()
    } else {
        format!("{name:?}")
    }
}

/// The names, comma-separated (a long list shows its first and last few).
fn list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    crate::graph::list(&names)
}

// The raw structs: what serde reads once `manifest_schema::check` found no
// problem (so `deny_unknown_fields` is a second line of defence). A key the
// reference host does not use is read as `IgnoredAny`.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    #[serde(default)]
    torvyn: Option<RawProject>,
    #[serde(default)]
    component: Vec<RawComponent>,
    #[serde(default, rename = "build")]
    _build: Option<IgnoredAny>,
    #[serde(default)]
    test: RawTest,
    #[serde(default)]
    runtime: RawRuntime,
    #[serde(default, rename = "observability")]
    _observability: Option<IgnoredAny>,
    #[serde(default)]
    security: RawSecurity,
    #[serde(default, rename = "registry")]
    _registry: Option<IgnoredAny>,
    #[serde(default)]
    flow: BTreeMap<String, RawFlow>,
    #[serde(default)]
    testkit: RawTestkit,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTestkit {
    #[serde(default)]
    clock: Option<crate::host::ClockMode>,
    #[serde(default)]
    random_seed: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProject {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    contract_version: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    authors: Vec<String>,
    #[serde(default)]
    license: Option<String>,
    #[serde(default)]
    repository: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    path: Option<PathBuf>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    build_command: Option<String>,
    #[serde(default)]
    config: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTest {
    #[serde(default)]
    timeout_seconds: Option<u64>,
    #[serde(default, rename = "fixtures_dir")]
    _fixtures_dir: Option<IgnoredAny>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRuntime {
    #[serde(default, rename = "worker_threads")]
    _worker_threads: Option<IgnoredAny>,
    #[serde(default)]
    max_memory_per_component: Option<Size>,
    #[serde(default)]
    default_fuel_per_invocation: Option<u64>,
    #[serde(default, rename = "compilation_cache_dir")]
    _compilation_cache_dir: Option<IgnoredAny>,
    #[serde(default, rename = "scheduling")]
    _scheduling: Option<IgnoredAny>,
    #[serde(default)]
    backpressure: RawBackpressure,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBackpressure {
    #[serde(default)]
    default_queue_depth: Option<usize>,
    #[serde(default)]
    backpressure_policy: Option<BackpressurePolicy>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecurity {
    #[serde(default)]
    default_capability_policy: CapabilityPolicy,
    #[serde(default)]
    grants: BTreeMap<String, RawGrant>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrant {
    #[serde(default)]
    capabilities: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlow {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    default_queue_depth: Option<usize>,
    #[serde(default)]
    on_error: Option<toml::Value>,
    #[serde(default)]
    backpressure: RawBackpressure,
    #[serde(default, rename = "scheduling_policy")]
    _scheduling_policy: Option<IgnoredAny>,
    #[serde(default)]
    nodes: BTreeMap<String, RawNode>,
    #[serde(default)]
    edges: Vec<RawEdge>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    #[serde(default)]
    component: Option<String>,
    #[serde(default)]
    interface: Option<String>,
    #[serde(default)]
    config: Option<String>,
    #[serde(default)]
    fuel_budget: Option<u64>,
    #[serde(default)]
    max_memory: Option<Size>,
    #[serde(default)]
    on_error: Option<toml::Value>,
    #[serde(default, rename = "priority")]
    _priority: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEdge {
    #[serde(default)]
    from: Option<RawEndpoint>,
    #[serde(default)]
    to: Option<RawEndpoint>,
    #[serde(default)]
    queue_depth: Option<usize>,
    #[serde(default)]
    backpressure: RawBackpressure,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    #[serde(default)]
    node: Option<String>,
    #[serde(default)]
    port: Option<String>,
}

/// A memory size as written: a number of bytes, or a string like `"16MiB"`.
pub(crate) enum Size {
    Bytes(u64),
    Text(String),
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SizeVisitor;

        impl Visitor<'_> for SizeVisitor {
            type Value = Size;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size: a number of bytes, or a string such as \"16MiB\"")
            }

            fn visit_u64<E: de::Error>(self, bytes: u64) -> Result<Size, E> {
                Ok(Size::Bytes(bytes))
            }

            fn visit_i64<E: de::Error>(self, bytes: i64) -> Result<Size, E> {
                u64::try_from(bytes)
                    .map(Size::Bytes)
                    .map_err(|_| E::invalid_value(Unexpected::Signed(bytes), &self))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Size, E> {
                Ok(Size::Text(text.to_string()))
            }
        }

        deserializer.deserialize_any(SizeVisitor)
    }
}

const SIZE_FORMS: &str = "write a number of bytes (1000) or a string with a unit: B, KiB, MiB, \
                          GiB (also K, M, G), KB, MB or GB (\"512KiB\", \"16MiB\", \"1GiB\", \
                          \"64MB\")";

impl Size {
    fn bytes(&self, key: &str) -> Result<u64, Problem> {
        let bytes = match self {
            Size::Bytes(bytes) => *bytes,
            Size::Text(text) => parse_size(text).ok_or_else(|| {
                Problem::invalid(key, format!("{text:?} is not a size; {SIZE_FORMS}"))
            })?,
        };
        if bytes == 0 {
            return Err(Problem::invalid(
                key,
                format!("a memory limit of 0 bytes leaves no room for a component; {SIZE_FORMS}"),
            ));
        }
        Ok(bytes)
    }
}

/// Parse a memory size: a number of bytes (`"1000"`), or a number followed,
/// optionally after spaces, by `B`, `KiB`, `MiB`, `GiB` (powers of 1024; in
/// any case, or as `K`, `M`, `G`, as upstream Torvyn reads them) or `KB`,
/// `MB`, `GB` (powers of 1000). `None` if it is not one, or overflows.
///
/// ```
/// use torvyn_testkit::manifest::parse_size;
///
/// assert_eq!(parse_size("16MiB"), Some(16 * 1024 * 1024));
/// assert_eq!(parse_size("512 KiB"), Some(512 * 1024));
/// assert_eq!(parse_size("1GiB"), Some(1 << 30));
/// assert_eq!(parse_size("64MB"), Some(64_000_000));
/// assert_eq!(parse_size("16mib"), Some(16 * 1024 * 1024));
/// assert_eq!(parse_size("1M"), Some(1024 * 1024));
/// assert_eq!(parse_size("1000"), Some(1000));
/// assert_eq!(parse_size("16 megs"), None);
/// assert_eq!(parse_size("1.5GiB"), None);
/// ```
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    if number.is_empty() {
        return None;
    }
    let number: u64 = number.parse().ok()?;
    let multiplier: u64 = match unit.trim_start() {
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        // Upstream's forms: binary units in any case, and their initials.
        unit => match unit.to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "kib" | "k" => 1 << 10,
            "mib" | "m" => 1 << 20,
            "gib" | "g" => 1 << 30,
            _ => return None,
        },
    };
    number.checked_mul(multiplier)
}

fn fuel(key: &str, fuel: Option<u64>) -> Result<Option<u64>, Problem> {
    if fuel == Some(0) {
        return Err(Problem::invalid(
            key,
            "a fuel budget of 0 leaves no fuel for a single instruction; give each call a \
             budget of at least 1 (10000000 is a generous one), or remove the key to run \
             without fuel metering",
        ));
    }
    Ok(fuel)
}

fn queue_depth(key: String, depth: Option<usize>) -> Result<Option<usize>, Problem> {
    if depth == Some(0) {
        return Err(Problem::invalid(
            key,
            "a queue depth of 0 could hold no element; use at least 1 (the default is 64)",
        ));
    }
    Ok(depth)
}

/// The forms `on_error` takes, for error messages.
const ON_ERROR_FORMS: &str =
    "\"fail-flow\", \"skip\", \"dead-letter\" or { retry = N } with N at least 1";

/// `on_error`: `"fail-flow"`, `"skip"`, `"dead-letter"` or `{ retry = N }`.
fn on_error(key: String, raw: Option<toml::Value>) -> Result<Option<ErrorPolicy>, Problem> {
    let Some(value) = raw else {
        return Ok(None);
    };
    let bad = |what: String| {
        Problem::invalid(
            key.clone(),
            format!("{what}; on_error is one of {ON_ERROR_FORMS}"),
        )
    };
    match &value {
        toml::Value::String(text) => {
            if let Some(policy) = ErrorPolicy::by_name(text) {
                return Ok(Some(policy));
            }
            if text == "retry" {
                return Err(bad(
                    "\"retry\" needs a count: write on_error = { retry = 3 }".into(),
                ));
            }
            let normal = text.replace('_', "-").to_ascii_lowercase();
            let hint = if ErrorPolicy::by_name(&normal).is_some() {
                format!(" (did you mean \"{normal}\"?)")
            } else {
                String::new()
            };
            Err(bad(format!("{text:?} is not an error policy{hint}")))
        }
        toml::Value::Table(table) => match (table.get("retry"), table.len()) {
            (Some(toml::Value::Integer(count)), 1) => u32::try_from(*count)
                .ok()
                .filter(|&count| count >= 1)
                .map(|count| Some(ErrorPolicy::Retry(count)))
                .ok_or_else(|| {
                    bad(format!(
                        "retry = {count} is not a number of retries from 1 to {}",
                        u32::MAX
                    ))
                }),
            (Some(other), 1) => Err(bad(format!(
                "retry = {other} is {}, not a number of retries",
                a_type(other)
            ))),
            _ => Err(bad(format!("the table {value} is not {{ retry = N }}",))),
        },
        other => Err(bad(format!(
            "{other} is {}, not an error policy",
            a_type(other)
        ))),
    }
}

/// A TOML value's type with its article: "an integer", "a string".
fn a_type(value: &toml::Value) -> String {
    let name = value.type_str();
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}

/// `result`'s value, or `None` with its problem added to `problems`.
fn ok<T>(result: Result<T, Problem>, problems: &mut Vec<Problem>) -> Option<T> {
    result.map_err(|problem| problems.push(problem)).ok()
}

/// A required key's value, or an empty string with the problem added (an
/// empty value is missing too, as upstream reads it).
fn required(
    value: Option<String>,
    key: &str,
    table: &str,
    example: &str,
    problems: &mut Vec<Problem>,
) -> String {
    value.filter(|value| !value.is_empty()).unwrap_or_else(|| {
        problems.push(Problem::missing(key, table, example));
        String::new()
    })
}

/// Every problem as a [`ManifestError`], in file order.
fn report(file: String, text: &str, problems: Vec<Problem>) -> ManifestError {
    // Parsed again only to find where key paths are: this is the error path.
    let root = problems
        .iter()
        .any(|problem| problem.span.is_none())
        .then(|| DeTable::parse(text).ok())
        .flatten();
    let mut located: Vec<(usize, ManifestProblem)> = problems
        .into_iter()
        .map(|problem| problem.locate(&file, text, root.as_ref().map(|root| root.get_ref())))
        .collect();
    located.sort_by_key(|(order, _)| *order);
    ManifestError::new(
        file,
        located.into_iter().map(|(_, problem)| problem).collect(),
    )
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

    fn parse_named(text: &str, base_dir: &Path, file: String) -> Result<Manifest, ManifestError> {
        // A byte-order mark is skipped, as in a JSON-lines input.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let (mut root, errors) = DeTable::parse_recoverable(text);
        if !errors.is_empty() {
            let problems = errors
                .iter()
                .map(|err| {
                    Problem::syntax(String::new(), err.span(), err.message().trim_end().into())
                })
                .collect();
            return Err(report(file, text, problems));
        }
        // Every unknown key and badly typed value, each then removed so the
        // rest of the manifest is still checked.
        let checked = crate::manifest_schema::check(root.get_ref());
        let mut problems = Vec::new();
        let mut removed = Vec::new();
        for found in checked.problems {
            if crate::manifest_schema::remove(root.get_mut(), &found.key) {
                removed.push(found.key.clone());
            }
            problems.push(Problem::syntax(found.key, found.span, found.message));
        }
        let raw = match RawManifest::deserialize(toml::de::Deserializer::from(root)) {
            Ok(raw) => raw,
            Err(err) => {
                // Only new if the schema missed it: a value it could not remove.
                if problems.is_empty() {
                    let text = err.message().trim_end().to_string();
                    problems.push(Problem::syntax(String::new(), err.span(), text));
                }
                return Err(report(file, text, problems));
            }
        };
        let before = problems.len();
        let manifest = Manifest::validate(raw, base_dir, file, checked.unused, &mut problems);
        // What follows from a removed value (a missing key) is not news.
        let mut index = 0;
        problems.retain(|problem| {
            index += 1;
            index <= before || !removed.contains(&problem.key)
        });
        if problems.is_empty() {
            Ok(manifest)
        } else {
            Err(report(manifest.file, text, problems))
        }
    }

    fn validate(
        raw: RawManifest,
        base_dir: &Path,
        file: String,
        unused: Vec<String>,
        problems: &mut Vec<Problem>,
    ) -> Manifest {
        let torvyn = match raw.torvyn {
            Some(project) => Project {
                name: required(
                    project.name,
                    "torvyn.name",
                    "[torvyn]",
                    "\"my-project\"",
                    problems,
                ),
                version: required(
                    project.version,
                    "torvyn.version",
                    "[torvyn]",
                    "\"0.1.0\"",
                    problems,
                ),
                contract_version: required(
                    project.contract_version,
                    "torvyn.contract_version",
                    "[torvyn]",
                    "\"0.1.0\"",
                    problems,
                ),
                description: project.description,
                authors: project.authors,
                license: project.license,
                repository: project.repository,
            },
            None => {
                problems.push(Problem::new(
                    ManifestErrorKind::Missing,
                    "torvyn",
                    "missing the [torvyn] table; add one with name, version and \
                     contract_version = \"0.1.0\"",
                ));
                Project {
                    name: String::new(),
                    version: String::new(),
                    contract_version: String::new(),
                    description: None,
                    authors: Vec::new(),
                    license: None,
                    repository: None,
                }
            }
        };

        let mut components = Vec::with_capacity(raw.component.len());
        let mut declared = BTreeSet::new();
        for (index, component) in raw.component.into_iter().enumerate() {
            let key = format!("component[{index}]");
            let table = format!("the [[component]] number {}", index + 1);
            let name = required(
                component.name,
                &format!("{key}.name"),
                &table,
                "\"my-component\"",
                problems,
            );
            let path = component.path.unwrap_or_else(|| {
                problems.push(Problem::missing(
                    &format!("{key}.path"),
                    &table,
                    "\"components/my-component\"",
                ));
                PathBuf::new()
            });
            if !name.is_empty() && !declared.insert(name.clone()) {
                problems.push(Problem::invalid(
                    format!("{key}.name"),
                    format!(
                        "a component named {name:?} is declared twice; component names must \
                         be unique"
                    ),
                ));
            }
            components.push(ComponentDecl {
                name,
                path,
                language: component.language,
                build_command: component.build_command,
                config: component.config,
            });
        }

        let backpressure = raw.runtime.backpressure;
        let runtime = Runtime {
            max_memory_per_component: raw
                .runtime
                .max_memory_per_component
                .as_ref()
                .and_then(|size| ok(size.bytes("runtime.max_memory_per_component"), problems)),
            default_fuel_per_invocation: ok(
                fuel(
                    "runtime.default_fuel_per_invocation",
                    raw.runtime.default_fuel_per_invocation,
                ),
                problems,
            )
            .flatten(),
            backpressure: BackpressureSettings {
                default_queue_depth: ok(
                    queue_depth(
                        "runtime.backpressure.default_queue_depth".into(),
                        backpressure.default_queue_depth,
                    ),
                    problems,
                )
                .flatten(),
                backpressure_policy: backpressure.backpressure_policy.unwrap_or_default(),
            },
        };

        if raw.test.timeout_seconds == Some(0) {
            problems.push(Problem::invalid(
                "test.timeout_seconds",
                "a timeout of 0 seconds would stop every run before its first element; use at \
                 least 1 (the default is 60)",
            ));
        }
        let test = TestSettings {
            timeout_seconds: raw.test.timeout_seconds,
        };
        let security = Security {
            default_capability_policy: raw.security.default_capability_policy,
            grants: raw
                .security
                .grants
                .into_iter()
                .map(|(name, grant)| (name, grant.capabilities))
                .collect(),
        };

        let mut flows = BTreeMap::new();
        for (name, raw_flow) in raw.flow {
            let flow = validate_flow(&name, raw_flow, &components, base_dir, problems);
            flows.insert(name, flow);
        }
        Manifest {
            torvyn,
            components,
            runtime,
            flows,
            testkit: TestkitSettings {
                clock: raw.testkit.clock,
                random_seed: raw.testkit.random_seed,
            },
            security,
            test,
            base_dir: base_dir.to_path_buf(),
            file,
            unused,
        }
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
    crate::manifest_schema::key_paths()
}

fn endpoint(key: &str, raw: Option<RawEndpoint>, port: &str) -> Result<Endpoint, Problem> {
    let example = format!("{{ node = \"<node>\", port = \"{port}\" }}");
    let raw = raw.ok_or_else(|| Problem::missing(key, "the edge", &example))?;
    let node = raw.node.ok_or_else(|| {
        Problem::missing(&format!("{key}.node"), &format!("`{key}`"), "\"<node>\"")
    })?;
    let port = raw.port.ok_or_else(|| {
        Problem::missing(
            &format!("{key}.port"),
            &format!("`{key}`"),
            &format!("{port:?}"),
        )
    })?;
    Ok(Endpoint { node, port })
}

/// The flow, with every problem of it added to `problems`. The graph is
/// checked only when every node and edge is valid, so a typo in a node is not
/// also reported as, say, a node without input.
fn validate_flow(
    flow_name: &str,
    raw: RawFlow,
    components: &[ComponentDecl],
    base_dir: &Path,
    problems: &mut Vec<Problem>,
) -> Flow {
    let before = problems.len();
    let key = format!("flow.{}", segment(flow_name));
    let flow_depth = ok(
        queue_depth(
            format!("{key}.default_queue_depth"),
            raw.default_queue_depth,
        ),
        problems,
    )
    .flatten();
    let backpressure_depth = ok(
        queue_depth(
            format!("{key}.backpressure.default_queue_depth"),
            raw.backpressure.default_queue_depth,
        ),
        problems,
    )
    .flatten();
    let mut flow = Flow {
        name: flow_name.to_string(),
        description: raw.description,
        default_queue_depth: flow_depth.or(backpressure_depth),
        backpressure_policy: raw.backpressure.backpressure_policy,
        on_error: ok(on_error(format!("{key}.on_error"), raw.on_error), problems).flatten(),
        nodes: BTreeMap::new(),
        edges: Vec::new(),
    };
    if raw.nodes.is_empty() {
        problems.push(Problem::graph(
            key.clone(),
            format!(
                "the flow has no nodes; add [{key}.nodes.<name>] tables with component and interface"
            ),
        ));
        return flow;
    }

    let declared: HashMap<&str, &ComponentDecl> =
        components.iter().map(|c| (c.name.as_str(), c)).collect();
    // Nodes with a problem of their own: edges to them are not errors too.
    let mut broken = BTreeSet::new();
    for (name, node) in raw.nodes {
        let node_key = format!("{key}.nodes.{}", segment(&name));
        let table = format!("[{node_key}]");
        let count = problems.len();
        let interface = match node.interface {
            None => {
                problems.push(Problem::missing(
                    &format!("{node_key}.interface"),
                    &table,
                    "\"torvyn:streaming/processor\"",
                ));
                None
            }
            Some(text) => ok(
                Role::from_interface(&text).ok_or_else(|| {
                    Problem::invalid(
                        format!("{node_key}.interface"),
                        format!(
                            "{text:?} is not a Torvyn 0.1 interface; use one of {}",
                            Role::ALL.map(Role::interface).join(", ")
                        ),
                    )
                }),
                problems,
            ),
        };
        let component = match node.component {
            None => {
                problems.push(Problem::missing(
                    &format!("{node_key}.component"),
                    &table,
                    "\"file://my.wasm\"",
                ));
                None
            }
            Some(text) => ok(
                component_ref(&node_key, &text, &declared, components, base_dir),
                problems,
            ),
        };
        let max_memory = node
            .max_memory
            .as_ref()
            .and_then(|size| ok(size.bytes(&format!("{node_key}.max_memory")), problems));
        let fuel_budget = ok(
            fuel(&format!("{node_key}.fuel_budget"), node.fuel_budget),
            problems,
        )
        .flatten();
        let node_on_error = ok(
            on_error(format!("{node_key}.on_error"), node.on_error),
            problems,
        )
        .flatten();
        match (interface, component) {
            (Some(interface), Some(component)) if problems.len() == count => {
                flow.nodes.insert(
                    name.clone(),
                    Node {
                        name,
                        component,
                        interface,
                        config: node.config,
                        fuel_budget,
                        max_memory,
                        on_error: node_on_error,
                    },
                );
            }
            _ => {
                broken.insert(name);
            }
        }
    }

    let names = list(
        flow.nodes
            .keys()
            .chain(&broken)
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
    );
    for (index, raw_edge) in raw.edges.into_iter().enumerate() {
        let edge_key = format!("{key}.edges[{index}]");
        let from = ok(
            endpoint(&format!("{edge_key}.from"), raw_edge.from, "output"),
            problems,
        );
        let to = ok(
            endpoint(&format!("{edge_key}.to"), raw_edge.to, "input"),
            problems,
        );
        let depth = ok(
            queue_depth(format!("{edge_key}.queue_depth"), raw_edge.queue_depth),
            problems,
        )
        .flatten();
        let backpressure_depth = ok(
            queue_depth(
                format!("{edge_key}.backpressure.default_queue_depth"),
                raw_edge.backpressure.default_queue_depth,
            ),
            problems,
        )
        .flatten();
        let (Some(from), Some(to)) = (from, to) else {
            continue;
        };
        let mut known = true;
        for (side, end) in [("from", &from), ("to", &to)] {
            if !flow.nodes.contains_key(&end.node) {
                known = false;
                if !broken.contains(&end.node) {
                    problems.push(Problem::graph(
                        format!("{edge_key}.{side}.node"),
                        format!(
                            "no node named {:?} in flow {flow_name:?} (nodes: {names})",
                            end.node
                        ),
                    ));
                }
            }
        }
        if !known {
            continue;
        }
        if flow.nodes.get(&to.node).map(|n| n.interface) == Some(Role::Source) {
            problems.push(Problem::graph(
                format!("{edge_key}.to.node"),
                format!(
                    "{:?} is a source, and a source takes no input; an edge can only lead \
                     into a processor, filter, router, aggregator or sink",
                    to.node
                ),
            ));
        }
        if flow.nodes.get(&from.node).map(|n| n.interface) == Some(Role::Sink) {
            problems.push(Problem::graph(
                format!("{edge_key}.from.node"),
                format!(
                    "{:?} is a sink, and a sink has no output; an edge can only come out \
                     of a source, processor, filter, router or aggregator",
                    from.node
                ),
            ));
        }
        flow.edges.push(Edge {
            from,
            to,
            queue_depth: depth.or(backpressure_depth),
            backpressure_policy: raw_edge.backpressure.backpressure_policy,
        });
    }
    if problems.len() > before {
        return flow;
    }

    if !flow
        .nodes
        .values()
        .any(|node| node.interface == Role::Source)
    {
        problems.push(Problem::graph(
            format!("{key}.nodes"),
            format!(
                "the flow has no source (nodes: {names}); add a node with interface = \"{}\"",
                Role::Source.interface()
            ),
        ));
        return flow;
    }
    if let Some((index, cycle)) = find_cycle(&flow.nodes, &flow.edges) {
        problems.push(Problem::graph(
            format!("{key}.edges[{index}]"),
            format!(
                "this edge closes the cycle {}; a flow must be acyclic, so remove one of \
                 the edges on it",
                crate::graph::path(&cycle.iter().map(String::as_str).collect::<Vec<_>>())
            ),
        ));
    }
    let incoming: BTreeSet<&str> = flow
        .edges
        .iter()
        .map(|edge| edge.to.node.as_str())
        .collect();
    for node in flow.nodes.values() {
        if node.interface != Role::Source && !incoming.contains(node.name.as_str()) {
            problems.push(Problem::graph(
                format!("{key}.nodes.{}", segment(&node.name)),
                format!(
                    "the {} has no incoming edge, so it would never get an element; add a \
                     [[{key}.edges]] entry with to = {{ node = {:?}, port = \"input\" }}",
                    node.interface, node.name
                ),
            ));
        }
    }
    flow
}

/// What a node's `component` names: a `file://` path or a declared crate.
fn component_ref(
    node_key: &str,
    text: &str,
    declared: &HashMap<&str, &ComponentDecl>,
    components: &[ComponentDecl],
    base_dir: &Path,
) -> Result<ComponentRef, Problem> {
    if let Some(file) = text.strip_prefix("file://") {
        if file.is_empty() {
            return Err(Problem::invalid(
                format!("{node_key}.component"),
                "\"file://\" names no file; write \"file://path/to/component.wasm\"",
            ));
        }
        Ok(ComponentRef::File(base_dir.join(file)))
    } else if let Some(decl) = declared.get(text) {
        Ok(ComponentRef::Crate {
            name: decl.name.clone(),
            path: base_dir.join(&decl.path),
            config: decl.config.clone(),
        })
    } else {
        Err(Problem::invalid(
            format!("{node_key}.component"),
            format!(
                "{text:?} is neither a \"file://...\" path nor a declared [[component]] name \
                 (declared: {})",
                list(components.iter().map(|c| c.name.as_str()))
            ),
        ))
    }
}

/// A cycle, if any: the index of the edge that closes it (the first found by a
/// depth-first search from the sources, in name and edge order), and the nodes
/// along it, the first repeated at the end. Linear in nodes and edges.
fn find_cycle(nodes: &BTreeMap<String, Node>, edges: &[Edge]) -> Option<(usize, Vec<String>)> {
    let names: Vec<&str> = nodes.keys().map(String::as_str).collect();
    let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let mut graph = crate::graph::Graph::new(names.len());
    for (id, edge) in edges.iter().enumerate() {
        if let (Some(&from), Some(&to)) = (
            index.get(edge.from.node.as_str()),
            index.get(edge.to.node.as_str()),
        ) {
            graph.edge(id, from, to);
        }
    }
    // Sources first, so a cycle is reported in the direction elements flow.
    let sources = nodes
        .values()
        .enumerate()
        .filter(|(_, node)| node.interface == Role::Source)
        .map(|(i, _)| i);
    let (id, cycle) = graph.find_cycle(sources)?;
    Some((
        id,
        cycle.into_iter().map(|n| names[n].to_string()).collect(),
    ))
}
