//! [`ManifestError`]: every problem of a manifest, each with its key, line
//! and column; and `Problem`, a problem before its place in the file is known.

use std::fmt;
use std::ops::Range;

use toml::de::DeTable;

use super::place::Snippet;

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
    /// a sink, a cycle, a node with no input or (but a sink) no output, no
    /// nodes or no source.
    Graph,
    /// [`Manifest::flow`](super::Manifest::flow) could not pick a flow.
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
    pub(super) fn new(file: String, problems: Vec<ManifestProblem>) -> Self {
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
    pub(super) fn whole_file(file: String, kind: ManifestErrorKind, message: String) -> Self {
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

    /// A problem with key `key` found after the manifest at `path` was
    /// validated (a node's component turned out to be of another role than
    /// its `interface`): placed in the file when it can still be read.
    pub(crate) fn after_validation(
        path: &std::path::Path,
        kind: ManifestErrorKind,
        key: String,
        message: String,
    ) -> Self {
        // The error path only: the text is read again to find the key's place.
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        report(
            path.display().to_string(),
            text,
            vec![Problem::new(kind, key, message)],
        )
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
pub(super) struct Problem {
    pub(super) kind: ManifestErrorKind,
    pub(super) key: String,
    pub(super) text: String,
    pub(super) span: Option<Range<usize>>,
}

impl Problem {
    pub(super) fn new(
        kind: ManifestErrorKind,
        key: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        Problem {
            kind,
            key: key.into(),
            text: text.into(),
            span: None,
        }
    }

    pub(super) fn invalid(key: impl Into<String>, text: impl Into<String>) -> Self {
        Problem::new(ManifestErrorKind::Invalid, key, text)
    }

    pub(super) fn graph(key: impl Into<String>, text: impl Into<String>) -> Self {
        Problem::new(ManifestErrorKind::Graph, key, text)
    }

    pub(super) fn missing(key: &str, table: &str, example: &str) -> Self {
        let name = key.rsplit('.').next().unwrap_or(key);
        Problem::new(
            ManifestErrorKind::Missing,
            key,
            format!("missing required key; add `{name} = {example}` to {table}"),
        )
    }

    /// A TOML syntax error, an unknown key or a badly typed value, at `span`.
    pub(super) fn syntax(key: String, span: Option<Range<usize>>, text: String) -> Self {
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
            .or_else(|| root.and_then(|root| super::place::locate(root, &self.key)));
        let at = span
            .as_ref()
            .map(|span| super::place::position(text, span.start));
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

/// Every problem as a [`ManifestError`], in file order.
pub(super) fn report(file: String, text: &str, problems: Vec<Problem>) -> ManifestError {
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
