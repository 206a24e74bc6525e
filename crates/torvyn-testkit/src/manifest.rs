//! `Torvyn.toml`: the upstream Torvyn 0.1 project manifest, parsed strictly.
//!
//! The schema is upstream's (`[torvyn]`, `[[component]]`, `[runtime]`,
//! `[runtime.backpressure]`, `[flow.<F>]`, `[flow.<F>.nodes.<N>]`,
//! `[[flow.<F>.edges]]`), plus a `[testkit]` table of this testkit's own
//! settings ([`TestkitSettings`]). Upstream silently ignores unknown keys; this parser
//! rejects them with the key's name, and checks every flow's graph, so a typo
//! fails loudly. Every [`ManifestError`] starts with the manifest's path (or
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
//! depths and fuel budgets are at least 1; `on_error` (of a flow or a node) is
//! `"fail-flow"`, `"skip"`, `"dead-letter"` or `{ retry = N }`; every flow has
//! nodes and a source;
//! edges name existing nodes, never lead into a source or out of a sink, and
//! form no cycle; every node but a source has an incoming edge. The checks are
//! linear in the number of nodes and edges, and a cycle over many nodes is
//! shown by its first and last few. A UTF-8 byte-order mark is skipped.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, Unexpected, Visitor};
use serde::{Deserialize, Serialize};

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
    base_dir: PathBuf,
    file: String,
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
    /// `default_queue_depth` (at least 1): overrides `[runtime.backpressure]`'s.
    pub default_queue_depth: Option<usize>,
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
    /// `queue_depth` (at least 1): the depth of this edge's queue.
    pub queue_depth: Option<usize>,
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

/// A manifest that cannot be read, parsed or used.
///
/// Its message starts with the manifest's path (`Torvyn.toml` when parsed
/// from text), then names the key at fault and says what to do:
/// `Torvyn.toml: flow.main.edges[1].to.node: no node named "evns" in flow
/// "main" (nodes: counter, evens, numbers)`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ManifestError {
    file: String,
    kind: ManifestErrorKind,
    key: Option<String>,
    message: String,
}

impl ManifestError {
    /// The manifest's path as given (or `Torvyn.toml`).
    pub fn file(&self) -> &str {
        &self.file
    }

    /// What went wrong.
    pub fn kind(&self) -> ManifestErrorKind {
        self.kind
    }

    /// The key path at fault (`flow.main.edges[1].to.node`), when there is one
    /// (for syntax errors, the toml message locates it instead).
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The message without the file name.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// An error before the file name is known: a kind, the key, the text.
struct Problem {
    kind: ManifestErrorKind,
    key: String,
    text: String,
}

impl Problem {
    fn new(kind: ManifestErrorKind, key: impl Into<String>, text: impl Into<String>) -> Self {
        Problem {
            kind,
            key: key.into(),
            text: text.into(),
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

    fn into_error(self, file: &str) -> ManifestError {
        ManifestError {
            file: file.to_string(),
            kind: self.kind,
            message: format!("{}: {}", self.key, self.text),
            key: Some(self.key),
        }
    }
}

/// `name` as a segment of a key path: bare if TOML allows, quoted otherwise.
fn segment(name: &str) -> String {
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    #[serde(default)]
    torvyn: Option<RawProject>,
    #[serde(default)]
    component: Vec<RawComponent>,
    #[serde(default)]
    runtime: RawRuntime,
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
    on_error: Option<toml::Value>,
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
enum Size {
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
                          GiB, KB, MB or GB (\"512KiB\", \"16MiB\", \"1GiB\", \"64MB\")";

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
/// optionally after spaces, by `B`, `KiB`, `MiB`, `GiB` (powers of 1024) or
/// `KB`, `MB`, `GB` (powers of 1000). `None` if it is not one, or overflows.
///
/// ```
/// use torvyn_testkit::manifest::parse_size;
///
/// assert_eq!(parse_size("16MiB"), Some(16 * 1024 * 1024));
/// assert_eq!(parse_size("512 KiB"), Some(512 * 1024));
/// assert_eq!(parse_size("1GiB"), Some(1 << 30));
/// assert_eq!(parse_size("64MB"), Some(64_000_000));
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
        toml::Value::String(text) => match text.as_str() {
            "fail-flow" => Ok(Some(ErrorPolicy::FailFlow)),
            "skip" => Ok(Some(ErrorPolicy::Skip)),
            "dead-letter" => Ok(Some(ErrorPolicy::DeadLetter)),
            "retry" => Err(bad(
                "\"retry\" needs a count: write on_error = { retry = 3 }".into(),
            )),
            other => {
                let hint = match other.replace('_', "-").to_ascii_lowercase().as_str() {
                    "fail-flow" | "skip" | "dead-letter" => {
                        format!(
                            " (did you mean \"{}\"?)",
                            other.replace('_', "-").to_ascii_lowercase()
                        )
                    }
                    _ => String::new(),
                };
                Err(bad(format!("{other:?} is not an error policy{hint}")))
            }
        },
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

impl Manifest {
    /// Read and validate the manifest at `path`. Its relative paths are
    /// resolved against the file's directory, and errors start with `path`.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Manifest, ManifestError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| ManifestError {
            message: format!("cannot read the manifest: {err}"),
            file: file.clone(),
            kind: ManifestErrorKind::Read,
            key: None,
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
        let raw: RawManifest = toml::from_str(text).map_err(|err| ManifestError {
            message: err.to_string().trim_end().to_string(),
            file: file.clone(),
            kind: ManifestErrorKind::Syntax,
            key: None,
        })?;
        let testkit = TestkitSettings {
            clock: raw.testkit.clock,
            random_seed: raw.testkit.random_seed,
        };
        Manifest::validate(raw, base_dir)
            .map_err(|problem| problem.into_error(&file))
            .map(|(torvyn, components, runtime, flows)| Manifest {
                torvyn,
                components,
                runtime,
                flows,
                testkit,
                base_dir: base_dir.to_path_buf(),
                file,
            })
    }

    #[allow(clippy::type_complexity)]
    fn validate(
        raw: RawManifest,
        base_dir: &Path,
    ) -> Result<(Project, Vec<ComponentDecl>, Runtime, BTreeMap<String, Flow>), Problem> {
        let Some(project) = raw.torvyn else {
            return Err(Problem::new(
                ManifestErrorKind::Missing,
                "torvyn",
                "missing the [torvyn] table; add one with name, version and \
                 contract_version = \"0.1.0\"",
            ));
        };
        let torvyn = Project {
            name: project
                .name
                .ok_or_else(|| Problem::missing("torvyn.name", "[torvyn]", "\"my-project\""))?,
            version: project
                .version
                .ok_or_else(|| Problem::missing("torvyn.version", "[torvyn]", "\"0.1.0\""))?,
            contract_version: project.contract_version.ok_or_else(|| {
                Problem::missing("torvyn.contract_version", "[torvyn]", "\"0.1.0\"")
            })?,
            description: project.description,
        };

        let mut components = Vec::with_capacity(raw.component.len());
        let mut declared = BTreeSet::new();
        for (index, component) in raw.component.into_iter().enumerate() {
            let key = format!("component[{index}]");
            let table = format!("the [[component]] number {}", index + 1);
            let name = component.name.ok_or_else(|| {
                Problem::missing(&format!("{key}.name"), &table, "\"my-component\"")
            })?;
            let path = component.path.ok_or_else(|| {
                Problem::missing(
                    &format!("{key}.path"),
                    &table,
                    "\"components/my-component\"",
                )
            })?;
            if !declared.insert(name.clone()) {
                return Err(Problem::invalid(
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

        let runtime = Runtime {
            max_memory_per_component: raw
                .runtime
                .max_memory_per_component
                .as_ref()
                .map(|size| size.bytes("runtime.max_memory_per_component"))
                .transpose()?,
            default_fuel_per_invocation: fuel(
                "runtime.default_fuel_per_invocation",
                raw.runtime.default_fuel_per_invocation,
            )?,
            backpressure: BackpressureSettings {
                default_queue_depth: queue_depth(
                    "runtime.backpressure.default_queue_depth".into(),
                    raw.runtime.backpressure.default_queue_depth,
                )?,
                backpressure_policy: raw.runtime.backpressure.backpressure_policy,
            },
        };

        let mut flows = BTreeMap::new();
        for (name, raw_flow) in raw.flow {
            let flow = validate_flow(&name, raw_flow, &components, base_dir)?;
            flows.insert(name, flow);
        }
        Ok((torvyn, components, runtime, flows))
    }

    /// The directory relative paths were resolved against.
    pub fn base_dir(&self) -> &Path {
        &self.base_dir
    }

    /// The flow named `name`; with `None`, the only flow (an error listing the
    /// flows if there are several, or none).
    pub fn flow(&self, name: Option<&str>) -> Result<&Flow, ManifestError> {
        let error = |message: String| ManifestError {
            file: self.file.clone(),
            kind: ManifestErrorKind::NoSuchFlow,
            key: None,
            message,
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

fn validate_flow(
    flow_name: &str,
    raw: RawFlow,
    components: &[ComponentDecl],
    base_dir: &Path,
) -> Result<Flow, Problem> {
    let key = format!("flow.{}", segment(flow_name));
    let default_queue_depth = queue_depth(
        format!("{key}.default_queue_depth"),
        raw.default_queue_depth,
    )?;
    let flow_on_error = on_error(format!("{key}.on_error"), raw.on_error)?;
    if raw.nodes.is_empty() {
        return Err(Problem::graph(
            key.clone(),
            format!(
                "the flow has no nodes; add [{key}.nodes.<name>] tables with component and interface"
            ),
        ));
    }

    let declared: HashMap<&str, &ComponentDecl> =
        components.iter().map(|c| (c.name.as_str(), c)).collect();
    let mut nodes = BTreeMap::new();
    for (name, node) in raw.nodes {
        let node_key = format!("{key}.nodes.{}", segment(&name));
        let table = format!("[{node_key}]");
        let interface_text = node.interface.ok_or_else(|| {
            Problem::missing(
                &format!("{node_key}.interface"),
                &table,
                "\"torvyn:streaming/processor\"",
            )
        })?;
        let interface = Role::from_interface(&interface_text).ok_or_else(|| {
            Problem::invalid(
                format!("{node_key}.interface"),
                format!(
                    "{interface_text:?} is not a Torvyn 0.1 interface; use one of {}",
                    Role::ALL.map(Role::interface).join(", ")
                ),
            )
        })?;
        let component_text = node.component.ok_or_else(|| {
            Problem::missing(
                &format!("{node_key}.component"),
                &table,
                "\"file://my.wasm\"",
            )
        })?;
        let component = if let Some(file) = component_text.strip_prefix("file://") {
            if file.is_empty() {
                return Err(Problem::invalid(
                    format!("{node_key}.component"),
                    "\"file://\" names no file; write \"file://path/to/component.wasm\"",
                ));
            }
            ComponentRef::File(base_dir.join(file))
        } else if let Some(decl) = declared.get(component_text.as_str()) {
            ComponentRef::Crate {
                name: decl.name.clone(),
                path: base_dir.join(&decl.path),
                config: decl.config.clone(),
            }
        } else {
            return Err(Problem::invalid(
                format!("{node_key}.component"),
                format!(
                    "{component_text:?} is neither a \"file://...\" path nor a declared \
                     [[component]] name (declared: {})",
                    list(components.iter().map(|c| c.name.as_str()))
                ),
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
                fuel_budget: fuel(&format!("{node_key}.fuel_budget"), node.fuel_budget)?,
                max_memory,
                on_error: on_error(format!("{node_key}.on_error"), node.on_error)?,
            },
        );
    }

    let names = list(nodes.keys().map(String::as_str));
    let mut edges = Vec::with_capacity(raw.edges.len());
    for (index, raw_edge) in raw.edges.into_iter().enumerate() {
        let edge_key = format!("{key}.edges[{index}]");
        let from = endpoint(&format!("{edge_key}.from"), raw_edge.from, "output")?;
        let to = endpoint(&format!("{edge_key}.to"), raw_edge.to, "input")?;
        for (side, end) in [("from", &from), ("to", &to)] {
            if !nodes.contains_key(&end.node) {
                return Err(Problem::graph(
                    format!("{edge_key}.{side}.node"),
                    format!(
                        "no node named {:?} in flow {flow_name:?} (nodes: {names})",
                        end.node
                    ),
                ));
            }
        }
        if nodes.get(&to.node).map(|n| n.interface) == Some(Role::Source) {
            return Err(Problem::graph(
                format!("{edge_key}.to.node"),
                format!(
                    "{:?} is a source, and a source takes no input; an edge can only lead \
                     into a processor, filter, router, aggregator or sink",
                    to.node
                ),
            ));
        }
        if nodes.get(&from.node).map(|n| n.interface) == Some(Role::Sink) {
            return Err(Problem::graph(
                format!("{edge_key}.from.node"),
                format!(
                    "{:?} is a sink, and a sink has no output; an edge can only come out \
                     of a source, processor, filter, router or aggregator",
                    from.node
                ),
            ));
        }
        let queue_depth = queue_depth(format!("{edge_key}.queue_depth"), raw_edge.queue_depth)?;
        edges.push(Edge {
            from,
            to,
            queue_depth,
        });
    }

    if !nodes.values().any(|node| node.interface == Role::Source) {
        return Err(Problem::graph(
            format!("{key}.nodes"),
            format!(
                "the flow has no source (nodes: {names}); add a node with interface = \"{}\"",
                Role::Source.interface()
            ),
        ));
    }
    if let Some((index, cycle)) = find_cycle(&nodes, &edges) {
        return Err(Problem::graph(
            format!("{key}.edges[{index}]"),
            format!(
                "this edge closes the cycle {}; a flow must be acyclic, so remove one of \
                 the edges on it",
                crate::graph::path(&cycle.iter().map(String::as_str).collect::<Vec<_>>())
            ),
        ));
    }
    let incoming: BTreeSet<&str> = edges.iter().map(|edge| edge.to.node.as_str()).collect();
    for node in nodes.values() {
        if node.interface != Role::Source && !incoming.contains(node.name.as_str()) {
            return Err(Problem::graph(
                format!("{key}.nodes.{}", segment(&node.name)),
                format!(
                    "the {} has no incoming edge, so it would never get an element; add a \
                     [[{key}.edges]] entry with to = {{ node = {:?}, port = \"input\" }}",
                    node.interface, node.name
                ),
            ));
        }
    }

    Ok(Flow {
        name: flow_name.to_string(),
        description: raw.description,
        default_queue_depth,
        on_error: flow_on_error,
        nodes,
        edges,
    })
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
