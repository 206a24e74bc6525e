//! Golden runs: compare what every sink of a flow received with a JSON-lines
//! file, and rewrite the file on request.
//!
//! The file format is on [`Golden`]'s documentation.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::element::Output;
use crate::pipeline::RunResult;

/// A golden file to compare a run's sink outputs with.
///
/// Each line of a golden file is one element a sink received, in sink-name
/// order and then in arrival order:
///
/// ```text
/// {"content_type":"application/json","json":{"n":1},"sequence":0,"sink":"out"}
/// {"content_type":"text/plain; charset=utf-8","sequence":2,"sink":"out","text":"hi"}
/// ```
///
/// (keys in alphabetical order, as serde_json writes them).
///
/// The payload is written as `json` when it parses as JSON, as `text` when it
/// is UTF-8, and as `bytes` (an array of numbers) otherwise. Timestamps are
/// left out unless asked for ([`Golden::timestamps`]), so the file does not
/// change from run to run. Lines are compared as JSON values, so key order and
/// spacing in the file do not matter.
///
/// ```no_run
/// use torvyn_testkit::Pipeline;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let run = Pipeline::from_manifest("Torvyn.toml", None)?.run()?;
/// // Fails with the first differing element; `TORVYN_BLESS=1 cargo test` rewrites it.
/// run.assert_matches_file("tests/golden/main.jsonl");
/// # Ok(())
/// # }
/// ```
///
/// A whole round trip, blessing then matching:
///
/// ```
/// use torvyn_testkit::{Golden, GoldenOutcome, Pipeline, TestElement};
///
/// let run = Pipeline::new("demo")
///     .source("in", [TestElement::text("a"), TestElement::text("b")])
///     .collector("out")
///     .edge("in", "out")
///     .run()?;
/// let file = std::env::temp_dir().join(format!("golden-doc-{}.jsonl", std::process::id()));
/// // The first run writes the file (as `TORVYN_BLESS=1` would); later runs compare.
/// assert_eq!(Golden::new(&file).bless(true).check(&run)?, GoldenOutcome::Blessed);
/// assert_eq!(Golden::new(&file).check(&run)?, GoldenOutcome::Matched);
/// assert_eq!(Golden::new(&file).lines(&run).len(), 2);
/// # std::fs::remove_file(&file)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Golden {
    path: PathBuf,
    timestamps: bool,
    bless: bool,
}

/// What [`Golden::check`] did when it succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoldenOutcome {
    /// The run matched the file.
    Matched,
    /// The file was (re)written from the run (blessing).
    Blessed,
}

/// A run that does not match its golden file, or a golden file that cannot be
/// read or written. The `Display` is the readable diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoldenError {
    message: String,
}

impl fmt::Display for GoldenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for GoldenError {}

/// Whether `TORVYN_BLESS=1` asks for golden files to be rewritten.
pub fn bless_requested() -> bool {
    std::env::var_os("TORVYN_BLESS").is_some_and(|value| value == "1")
}

impl Golden {
    /// The golden file at `path`; blessing follows `TORVYN_BLESS=1`.
    pub fn new(path: impl AsRef<Path>) -> Self {
        Golden {
            path: path.as_ref().to_path_buf(),
            timestamps: false,
            bless: bless_requested(),
        }
    }

    /// Also record and compare each element's `timestamp_ns` (deterministic
    /// under the pipeline's [`Timestamps`](crate::Timestamps)).
    pub fn timestamps(mut self, timestamps: bool) -> Self {
        self.timestamps = timestamps;
        self
    }

    /// Rewrite the file from the run instead of comparing (what `--bless` and
    /// `TORVYN_BLESS=1` do).
    pub fn bless(mut self, bless: bool) -> Self {
        self.bless = bless;
        self
    }

    /// The golden lines of a run: one JSON value per element a sink received.
    pub fn lines(&self, run: &RunResult) -> Vec<Value> {
        run.sinks
            .iter()
            .flat_map(|(sink, outputs)| {
                outputs
                    .iter()
                    .map(move |output| line(sink, output, self.timestamps))
            })
            .collect()
    }

    /// Compare the run with the file (or rewrite the file when blessing).
    pub fn check(&self, run: &RunResult) -> Result<GoldenOutcome, GoldenError> {
        let path = self.path.display();
        // A run keeps only the first `Pipeline::retain` elements of each sink:
        // comparing (or blessing) a cut-off list would be silently wrong.
        for (sink, outputs) in &run.sinks {
            let delivered = run
                .nodes
                .iter()
                .find(|(name, _)| name == sink)
                .map_or(0, |(_, report)| report.delivered);
            if delivered > outputs.len() as u64 {
                return Err(GoldenError {
                    message: format!(
                        "sink `{sink}` received {delivered} elements but the run kept only the \
                         first {}; a golden file needs them all: run the pipeline with \
                         `.retain(usize::MAX)` (the CLI's --expect does)",
                        outputs.len()
                    ),
                });
            }
        }
        let actual = self.lines(run);
        if self.bless {
            let mut text = String::new();
            for value in &actual {
                text.push_str(&value.to_string());
                text.push('\n');
            }
            if let Some(dir) = self.path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|err| GoldenError {
                    message: format!("cannot create the directory of golden file {path}: {err}"),
                })?;
            }
            std::fs::write(&self.path, text).map_err(|err| GoldenError {
                message: format!("cannot write golden file {path}: {err}"),
            })?;
            return Ok(GoldenOutcome::Blessed);
        }
        let text = std::fs::read_to_string(&self.path).map_err(|err| GoldenError {
            message: format!(
                "cannot read golden file {path}: {err}; to create it from this run, rerun \
                 with TORVYN_BLESS=1 (the CLI: --bless)"
            ),
        })?;
        let mut expected = Vec::new();
        for (index, text) in text.lines().enumerate() {
            if text.trim().is_empty() {
                continue;
            }
            let value: Value = serde_json::from_str(text).map_err(|err| GoldenError {
                message: format!(
                    "{path}:{}: not a JSON value ({err}); every non-empty line of a golden \
                     file is one element; rewrite the file with TORVYN_BLESS=1 (the CLI: --bless)",
                    index + 1
                ),
            })?;
            expected.push(value);
        }
        match diff(&expected, &actual) {
            None => Ok(GoldenOutcome::Matched),
            Some(diff) => Err(GoldenError {
                message: format!(
                    "the run of flow `{}` does not match golden file {path}:\n{diff}\n  \
                     if the new output is right, rerun with TORVYN_BLESS=1 (the CLI: --bless) \
                     to rewrite the file, and review its diff",
                    run.flow
                ),
            }),
        }
    }

    /// Compare, panicking with the diff on a mismatch (for tests).
    #[track_caller]
    pub fn assert(&self, run: &RunResult) {
        if let Err(err) = self.check(run) {
            panic!("{err}");
        }
    }
}

impl RunResult {
    /// Compare what every sink received with the golden file at `path` (see
    /// [`Golden`]) and panic with a readable diff (the first differing
    /// element, and what differs in its payload) when they differ.
    /// `TORVYN_BLESS=1` rewrites the file instead.
    #[track_caller]
    pub fn assert_matches_file(&self, path: impl AsRef<Path>) {
        Golden::new(path).assert(self);
    }
}

fn line(sink: &str, output: &Output, timestamps: bool) -> Value {
    let mut line = serde_json::json!({
        "sink": sink,
        "sequence": output.meta.sequence,
    });
    if timestamps {
        line["timestamp_ns"] = output.meta.timestamp_ns.into();
    }
    line["content_type"] = output.content_type.clone().into();
    if let Ok(value) = serde_json::from_slice::<Value>(output.bytes()) {
        line["json"] = value;
    } else if let Some(text) = output.text() {
        line["text"] = text.into();
    } else {
        line["bytes"] = output.bytes().into();
    }
    line
}

/// The first difference between the expected and received lines, described.
fn diff(expected: &[Value], actual: &[Value]) -> Option<String> {
    let first = expected
        .iter()
        .zip(actual)
        .position(|(expected, actual)| expected != actual);
    let counts = format!(
        "  ({} elements expected, {} received)",
        expected.len(),
        actual.len()
    );
    if let Some(index) = first {
        let (expected, actual) = (&expected[index], &actual[index]);
        let mut out = format!(
            "  first difference at element {} (line {}{}):\n    expected: {expected}\n    received: {actual}\n",
            index,
            index + 1,
            sink_of(actual)
                .map(|sink| format!(", sink `{sink}`"))
                .unwrap_or_default(),
        );
        for difference in field_differences(expected, actual) {
            out.push_str(&format!("    {difference}\n"));
        }
        out.push_str(&counts);
        return Some(out);
    }
    match expected.len().cmp(&actual.len()) {
        std::cmp::Ordering::Equal => None,
        std::cmp::Ordering::Greater => Some(format!(
            "  the sinks received fewer elements than expected; the first missing one \
             (line {}):\n    expected: {}\n{counts}",
            actual.len() + 1,
            expected[actual.len()]
        )),
        std::cmp::Ordering::Less => Some(format!(
            "  the sinks received more elements than expected; the first extra one \
             (element {}):\n    received: {}\n{counts}",
            expected.len(),
            actual[expected.len()]
        )),
    }
}

fn sink_of(value: &Value) -> Option<&str> {
    value.get("sink")?.as_str()
}

/// What differs between two golden lines: the fields, and inside the payload
/// the JSON paths or the first differing character of the text.
fn field_differences(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let empty = serde_json::Map::new();
    let expected_fields = expected.as_object().unwrap_or(&empty);
    let actual_fields = actual.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = expected_fields.keys().chain(actual_fields.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        match (expected_fields.get(key), actual_fields.get(key)) {
            (Some(e), Some(a)) if e == a => {}
            (Some(Value::String(e)), Some(Value::String(a))) if key == "text" => {
                out.push(text_difference(e, a));
            }
            (Some(e), Some(a)) if key == "json" => {
                json_differences("$", e, a, &mut out);
            }
            (Some(e), Some(a)) => out.push(format!("{key}: expected {e}, received {a}")),
            (Some(e), None) => out.push(format!("{key}: expected {e}, received nothing")),
            (None, Some(a)) => out.push(format!("{key}: not expected, received {a}")),
            (None, None) => {}
        }
    }
    out
}

fn json_differences(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    const MAX: usize = 10;
    if out.len() >= MAX || expected == actual {
        return;
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let mut keys: Vec<&String> = e.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let child = format!("{path}.{key}");
                match (e.get(key), a.get(key)) {
                    (Some(e), Some(a)) => json_differences(&child, e, a, out),
                    (Some(e), None) => out.push(format!("json {child}: expected {e}, missing")),
                    (None, Some(a)) => out.push(format!("json {child}: not expected, got {a}")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (index, (e, a)) in e.iter().zip(a).enumerate() {
                json_differences(&format!("{path}[{index}]"), e, a, out);
            }
        }
        _ => out.push(format!(
            "json {path}: expected {expected}, received {actual}"
        )),
    }
}

fn text_difference(expected: &str, actual: &str) -> String {
    let at = expected
        .char_indices()
        .zip(actual.chars())
        .find(|((_, e), a)| e != a)
        .map(|((at, _), _)| at)
        .unwrap_or_else(|| expected.len().min(actual.len()));
    let context = |text: &str| {
        let start = text[..at.min(text.len())]
            .char_indices()
            .rev()
            .nth(15)
            .map_or(0, |(index, _)| index);
        let rest: String = text[start..].chars().take(40).collect();
        let ellipsis = if start > 0 { "…" } else { "" };
        format!("{ellipsis}{rest:?}")
    };
    format!(
        "text differs at byte {at}: expected {}, received {}",
        context(expected),
        context(actual)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_first_differing_element_and_its_json_paths_are_named() {
        let expected = vec![
            json!({"sink": "out", "sequence": 0, "json": {"n": 1}}),
            json!({"sink": "out", "sequence": 1, "json": {"n": 2, "tags": ["a", "b"]}}),
        ];
        let actual = vec![
            json!({"sink": "out", "sequence": 0, "json": {"n": 1}}),
            json!({"sink": "out", "sequence": 1, "json": {"n": 3, "tags": ["a", "c"]}}),
        ];
        let diff = diff(&expected, &actual).unwrap();
        assert!(diff.contains("first difference at element 1 (line 2, sink `out`)"));
        assert!(diff.contains("json $.n: expected 2, received 3"), "{diff}");
        assert!(
            diff.contains(r#"json $.tags[1]: expected "b", received "c""#),
            "{diff}"
        );
        assert_eq!(super::diff(&expected, &expected), None);
    }

    #[test]
    fn text_payloads_show_the_first_differing_byte() {
        assert_eq!(
            text_difference("hello world", "hello wOrld"),
            r#"text differs at byte 7: expected "hello world", received "hello wOrld""#
        );
    }

    #[test]
    fn missing_and_extra_elements_are_named() {
        let one = vec![json!({"sink": "out", "text": "a"})];
        let two = vec![one[0].clone(), json!({"sink": "out", "text": "b"})];
        assert!(
            diff(&two, &one)
                .unwrap()
                .contains("fewer elements than expected")
        );
        assert!(
            diff(&one, &two)
                .unwrap()
                .contains("more elements than expected")
        );
    }
}
