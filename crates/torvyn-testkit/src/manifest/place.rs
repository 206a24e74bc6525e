//! Where a key path is in a manifest's text: [`locate`] finds its span (so
//! the checks made after parsing, a missing node or a cycle, can give a line
//! and column too), [`remove`] drops a bad value so the rest is still checked,
//! and [`Snippet`] shows a span as toml's errors do.

use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The span of `key_path` (as the manifest's messages write it) in `root`, or
/// of the nearest enclosing key present; `None` if not even its first key is.
pub(crate) fn locate(root: &DeTable<'_>, key_path: &str) -> Option<Range<usize>> {
    let steps = parse_path(key_path)?;
    let mut span = None;
    let mut current: Option<&DeValue<'_>> = None;
    for step in steps {
        let next = match (step, current) {
            (PathStep::Key(name), None) => root.get(name.as_str()),
            (PathStep::Key(name), Some(DeValue::Table(entries))) => entries.get(name.as_str()),
            (PathStep::Index(index), Some(DeValue::Array(entries))) => entries.get(index),
            _ => None,
        };
        let Some(next) = next else { break };
        span = Some(next.span());
        current = Some(next.get_ref());
    }
    span
}

/// Remove the value at `key_path` from `root`, so what else the document
/// says can still be checked; `false` if there is no such key, or the path
/// ends in an array entry (removing it would renumber the entries after it).
pub(crate) fn remove(root: &mut DeTable<'_>, key_path: &str) -> bool {
    let Some(mut steps) = parse_path(key_path) else {
        return false;
    };
    let Some(PathStep::Key(last)) = steps.pop() else {
        return false;
    };
    let mut table = root;
    let mut steps = steps.into_iter().peekable();
    while let Some(step) = steps.next() {
        let PathStep::Key(name) = step else {
            return false;
        };
        let Some(mut value) = table.get_mut(name.as_str()).map(Spanned::get_mut) else {
            return false;
        };
        while let Some(&PathStep::Index(index)) = steps.peek() {
            steps.next();
            value = match value {
                DeValue::Array(entries) => match entries.get_mut(index) {
                    Some(entry) => entry.get_mut(),
                    None => return false,
                },
                _ => return false,
            };
        }
        match value {
            DeValue::Table(inner) => table = inner,
            _ => return false,
        }
    }
    table.remove(last.as_str()).is_some()
}

enum PathStep {
    Key(String),
    Index(usize),
}

/// `flow.main.nodes."a b".interface` or `component[2].name` as steps; `None`
/// if it is not a key path.
fn parse_path(text: &str) -> Option<Vec<PathStep>> {
    let mut steps = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        match chars.peek()? {
            '"' => {
                chars.next();
                let mut name = String::new();
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            'n' => name.push('\n'),
                            't' => name.push('\t'),
                            'r' => name.push('\r'),
                            '0' => name.push('\0'),
                            other @ ('"' | '\\' | '\'') => name.push(other),
                            _ => return None,
                        },
                        other => name.push(other),
                    }
                }
                steps.push(PathStep::Key(name));
            }
            _ => {
                let mut name = String::new();
                while let Some(&c) = chars.peek() {
                    if c == '.' || c == '[' {
                        break;
                    }
                    name.push(c);
                    chars.next();
                }
                if name.is_empty() {
                    return None;
                }
                steps.push(PathStep::Key(name));
            }
        }
        while chars.peek() == Some(&'[') {
            chars.next();
            let mut digits = String::new();
            loop {
                match chars.next()? {
                    ']' => break,
                    c => digits.push(c),
                }
            }
            steps.push(PathStep::Index(digits.parse().ok()?));
        }
        match chars.next() {
            None => return Some(steps),
            Some('.') => continue,
            Some(_) => return None,
        }
    }
}

/// A position in the text: 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Position {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

/// The position of byte `offset` of `text`.
pub(crate) fn position(text: &str, offset: usize) -> Position {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |nl| nl + 1);
    Position {
        line: before.matches('\n').count() + 1,
        column: text[line_start..offset].chars().count() + 1,
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The line of `span` with carets under the span, as toml's errors show it:
///
/// ```text
///    |
/// 12 | to = { node = "kep", port = "input" }
///    |               ^^^^^
/// ```
pub(crate) struct Snippet<'a> {
    pub(crate) text: &'a str,
    pub(crate) span: Range<usize>,
}

impl fmt::Display for Snippet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = position(self.text, self.span.start);
        let start = floor_char_boundary(self.text, self.span.start.min(self.text.len()));
        let line_start = self.text[..start].rfind('\n').map_or(0, |nl| nl + 1);
        let line = self.text[line_start..].lines().next().unwrap_or("");
        let end = floor_char_boundary(self.text, self.span.end.min(self.text.len())).max(start);
        let width = self.text[start..end]
            .chars()
            .take_while(|&c| c != '\n')
            .count()
            .max(1);
        let gutter = " ".repeat(at.line.to_string().len());
        writeln!(f, "{gutter} |")?;
        writeln!(f, "{} | {line}", at.line)?;
        write!(
            f,
            "{gutter} | {}{}",
            " ".repeat(at.column - 1),
            "^".repeat(width)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_are_located_or_their_nearest_parent_is() {
        let text = "[torvyn]\nname = \"p\"\n[flow.main.nodes.\"a b\"]\ninterface = \"x\"\n[[flow.main.edges]]\nto = { node = \"kep\" }\n";
        let root = DeTable::parse(text).unwrap();
        let at = |path: &str| locate(root.get_ref(), path).map(|span| &text[span]);
        assert_eq!(at("flow.main.edges[0].to.node"), Some("\"kep\""));
        assert_eq!(at("flow.main.edges[0].to.port"), Some("{ node = \"kep\" }"));
        assert_eq!(at("flow.main.nodes.\"a b\".interface"), Some("\"x\""));
        assert_eq!(
            at("flow.main.nodes.\"a b\".component"),
            Some("[flow.main.nodes.\"a b\"]")
        );
        assert_eq!(at("torvyn.version"), Some("[torvyn]"));
        assert_eq!(at("runtime.backpressure"), None);
        assert_eq!(at("flow.main.edges[7]"), Some("[[flow.main.edges]]"));
        assert_eq!(at("not a [path"), None);
    }

    #[test]
    fn positions_and_snippets_count_characters() {
        let text = "a = 1\nné = \"x\"\n";
        assert_eq!(position(text, 0), Position { line: 1, column: 1 });
        // `é` is two bytes and one column.
        let offset = text.find("\"x\"").unwrap();
        assert_eq!(position(text, offset), Position { line: 2, column: 6 });
        let snippet = Snippet {
            text,
            span: offset..offset + 3,
        };
        assert_eq!(snippet.to_string(), "  |\n2 | né = \"x\"\n  |      ^^^");
        assert_eq!(position(text, text.len()), Position { line: 3, column: 1 });
    }
}
