//! What a pipeline is made of: each node's spec ([`NodeSpec`]) with its
//! error policy ([`ErrorPolicy`]), the edges, the flow's [`Timestamps`], and
//! host-side input read from JSON-lines files ([`read_jsonl`]).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::Scripted;
use crate::component::{Component, Faults};
use crate::element::{MAX_BUFFER_BYTES, ProcessError, TestElement};
use crate::error::Error;
use crate::host::Limits;
use crate::role::Role;
use crate::settings::{BackpressurePolicy, ErrorPolicy};

/// The flow's element timestamps: the timestamp the host gives the element with sequence
/// number `n` is `start + n * step`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timestamps {
    pub(crate) start_ns: u64,
    pub(crate) step_ns: u64,
}

impl Default for Timestamps {
    /// Starts at 0 and advances 1 ms per element.
    fn default() -> Self {
        Timestamps {
            start_ns: 0,
            step_ns: 1_000_000,
        }
    }
}

impl Timestamps {
    /// A clock starting at `start` (since the epoch) that advances `step` per element.
    pub fn new(start: Duration, step: Duration) -> Self {
        Timestamps {
            start_ns: nanos(start),
            step_ns: nanos(step),
        }
    }

    /// The timestamp of sequence number `sequence`, in nanoseconds.
    pub fn timestamp_ns(&self, sequence: u64) -> u64 {
        self.start_ns
            .saturating_add(sequence.saturating_mul(self.step_ns))
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// The elements of a JSON-lines file, each with its 1-based line number:
/// each non-empty line is one `application/json` element. A UTF-8 byte-order
/// mark at the start is skipped (as in `Torvyn.toml`), and `\r\n` line ends
/// are accepted. A line that is not UTF-8 or not JSON, or longer than the
/// contract's 16 MiB buffer limit (checked before it is parsed), is an error
/// naming the file and the line. The path `-` reads standard input, as Unix
/// tools do. [`NodeSpec::source_jsonl`] and the CLI's `--input` and `test
/// --file` read this format.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("torvyn-doc-jsonl-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("in.jsonl");
/// std::fs::write(&path, "{\"n\": 1}\n\n[2]\n")?;
/// let elements = torvyn_testkit::read_jsonl(&path)?;
/// assert_eq!(elements.len(), 2);
/// assert_eq!(elements[1].0, 3, "the second element is on line 3");
/// assert_eq!(elements[1].1.payload().as_bytes(), b"[2]");
///
/// std::fs::write(&path, "{\"n\": 1}\nnot json\n")?;
/// let err = torvyn_testkit::read_jsonl(&path).unwrap_err();
/// assert!(err.to_string().contains("in.jsonl:2: not a JSON value"), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_jsonl(path: impl AsRef<Path>) -> Result<Vec<(u64, TestElement)>, Error> {
    let path = path.as_ref();
    let bytes = if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
            .map(|_| bytes)
            .map_err(|err| Error::pipeline(format!("cannot read standard input: {err}")))
    } else {
        std::fs::read(path).map_err(|err| {
            Error::pipeline(format!(
                "cannot read the input file {}: {err}",
                path.display()
            ))
        })
    }?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let at = |index: usize| format!("{}:{}", path.display(), index + 1);
    let mut elements = Vec::new();
    for (index, line) in bytes.split(|&byte| byte == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() as u64 > MAX_BUFFER_BYTES {
            return Err(Error::pipeline(format!(
                "{}: the line is {} bytes, above the contract's {} per-buffer limit, so \
                 it cannot be one element; split it into smaller elements",
                at(index),
                line.len(),
                crate::units::human_bytes(MAX_BUFFER_BYTES)
            )));
        }
        let line = std::str::from_utf8(line).map_err(|err| {
            Error::pipeline(format!(
                "{}: the line is not UTF-8 (invalid byte at column {}); a JSON-lines \
                 input must be UTF-8 text",
                at(index),
                err.valid_up_to() + 1
            ))
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(line).map_err(|err| {
            Error::pipeline(format!(
                "{}: not a JSON value ({err}); every non-empty line of a JSON-lines \
                 input is one element",
                at(index)
            ))
        })?;
        elements.push((index as u64 + 1, TestElement::json(value)));
    }
    Ok(elements)
}

/// One node of a pipeline, with its policy and faults.
#[derive(Clone, Debug)]
pub struct NodeSpec {
    pub(crate) kind: NodeKind,
    pub(crate) policy: ErrorPolicy,
    pub(crate) limits: Limits,
    pub(crate) grants: BTreeSet<String>,
    pub(crate) faults: Faults,
}

#[derive(Clone, Debug)]
pub(crate) enum NodeKind {
    Component {
        component: Component,
        config: String,
    },
    Source(Vec<TestElement>, Option<InputLines>),
    Collector,
    Scripted(Scripted),
}

impl NodeSpec {
    /// A component node with its `init` config.
    pub fn component(component: &Component, config: impl Into<String>) -> Self {
        NodeSpec::new(NodeKind::Component {
            component: component.clone(),
            config: config.into(),
        })
    }

    /// A host-side source that emits `elements` in order (the host assigns
    /// their sequence numbers and timestamps).
    pub fn source(elements: impl IntoIterator<Item = TestElement>) -> Self {
        NodeSpec::new(NodeKind::Source(elements.into_iter().collect(), None))
    }

    /// A host-side source reading a JSON-lines file, in the format of
    /// [`read_jsonl`] (the CLI's `--input`). Each element remembers its line:
    /// when a call on it (or on what a processor made of it) stops the flow,
    /// the error names the line ([`Error::input_line`]).
    pub fn source_jsonl(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let (lines, elements) = read_jsonl(path)?.into_iter().unzip();
        let lines = InputLines {
            file: Arc::from(path),
            lines,
        };
        Ok(NodeSpec::new(NodeKind::Source(elements, Some(lines))))
    }

    /// A host-side sink that records everything it receives (always `ready`).
    pub fn collector() -> Self {
        NodeSpec::new(NodeKind::Collector)
    }

    /// A host-side node of `script`'s role that passes, drops, fails, pauses
    /// and ends by its seeded rule (see [`Scripted`]).
    pub fn scripted(script: Scripted) -> Self {
        NodeSpec::new(NodeKind::Scripted(script))
    }

    fn new(kind: NodeKind) -> Self {
        NodeSpec {
            kind,
            policy: ErrorPolicy::default(),
            limits: Limits::default(),
            grants: BTreeSet::new(),
            faults: Faults::default(),
        }
    }

    /// The node's error policy.
    pub fn policy(mut self, policy: ErrorPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The component's time, memory and fuel limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Grant the component a capability.
    pub fn grant(mut self, capability: impl Into<String>) -> Self {
        self.grants.insert(capability.into());
        self
    }

    /// Fault injection: the node's `nth` element call (1-based) returns `error`
    /// without reaching the component.
    pub fn fail_call(mut self, nth: u64, error: ProcessError) -> Self {
        self.faults.fail_call(nth, error);
        self
    }

    /// Fault injection: the component's first `count` allocations fail.
    pub fn fail_allocations(mut self, count: u32) -> Self {
        self.faults.fail_allocations = count;
        self
    }

    pub(crate) fn role(&self) -> Role {
        match &self.kind {
            NodeKind::Component { component, .. } => component.role(),
            NodeKind::Source(..) => Role::Source,
            NodeKind::Collector => Role::Sink,
            NodeKind::Scripted(script) => script.role,
        }
    }
}

/// Where a host source's elements were read from: the file, and the 1-based
/// line of each element (in the source's order), so that an error can name it.
#[derive(Clone, Debug)]
pub(crate) struct InputLines {
    pub(crate) file: Arc<Path>,
    pub(crate) lines: std::collections::VecDeque<u64>,
}

/// An edge from a node's output port to another node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EdgeSpec {
    pub(crate) from: String,
    pub(crate) port: String,
    pub(crate) to: String,
    pub(crate) depth: Option<usize>,
    pub(crate) policy: Option<BackpressurePolicy>,
}
