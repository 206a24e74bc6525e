//! What a run writes besides its report: the payloads the sinks received
//! (`--output`) and the components' own stdout and stderr.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use clap::ValueEnum;
use torvyn_testkit::{Output, StdStream};

use crate::progress::Progress;

/// How `--output` writes each element a sink receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum PayloadFormat {
    /// One JSON object per element: `{"sink", "sequence", "timestamp_ns",
    /// "content_type", "payload"}`, with `payload` the payload's bytes
    /// exactly, as a JSON string when they are UTF-8; otherwise
    /// `"payload_base64"` (standard alphabet, padded) instead of `payload`.
    Jsonl,
    /// The payload's bytes exactly as received, each followed by a newline,
    /// in delivery order (all sinks together); no metadata.
    Raw,
}

/// `--output`: each element a sink receives, written as it arrives (`-`: on
/// stdout).
pub(crate) struct PayloadWriter {
    path: PathBuf,
    format: PayloadFormat,
    file: std::io::BufWriter<Box<dyn Write + Send>>,
    error: Option<String>,
}

impl PayloadWriter {
    pub(crate) fn create(
        path: &Path,
        format: PayloadFormat,
    ) -> Result<Arc<Mutex<PayloadWriter>>, String> {
        let file: Box<dyn Write + Send> = if path == Path::new("-") {
            Box::new(std::io::stdout())
        } else {
            Box::new(
                std::fs::File::create(path)
                    .map_err(|err| format!("cannot create {}: {err}", path.display()))?,
            )
        };
        let file = std::io::BufWriter::new(file);
        Ok(Arc::new(Mutex::new(PayloadWriter {
            path: path.to_path_buf(),
            format,
            file,
            error: None,
        })))
    }

    pub(crate) fn write(&mut self, sink: &str, output: &Output) {
        if self.error.is_some() {
            return;
        }
        let result = match self.format {
            PayloadFormat::Raw => self
                .file
                .write_all(output.bytes())
                .and_then(|()| self.file.write_all(b"\n")),
            PayloadFormat::Jsonl => {
                let line = payload_line(sink, output);
                writeln!(self.file, "{line}")
            }
        };
        if let Err(err) = result {
            self.failed(&err);
        }
    }

    fn failed(&mut self, err: &std::io::Error) {
        if err.kind() == std::io::ErrorKind::BrokenPipe && self.path == Path::new("-") {
            // `run --output - | head`: the reader has what it wanted.
            std::process::exit(0);
        }
        self.error = Some(format!("cannot write {}: {err}", self.path.display()));
    }

    pub(crate) fn finish(&mut self) -> Result<(), String> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        if let Err(err) = self.file.flush() {
            self.failed(&err);
        }
        self.error.take().map_or(Ok(()), Err)
    }
}

/// One `--output-format jsonl` line's object.
fn payload_line(sink: &str, output: &Output) -> serde_json::Value {
    let mut line = serde_json::json!({
        "sink": sink,
        "sequence": output.meta.sequence,
        "timestamp_ns": output.meta.timestamp_ns,
        "content_type": output.content_type,
    });
    match std::str::from_utf8(output.bytes()) {
        Ok(text) => line["payload"] = text.into(),
        Err(_) => {
            line["payload_base64"] = base64::engine::general_purpose::STANDARD
                .encode(output.bytes())
                .into();
        }
    }
    line
}

/// What happens to the lines components write to stdout and stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Show {
    /// Print each line as written: stdout's on stdout, stderr's on stderr;
    /// with `prefix`, after `[node] `.
    Pass { prefix: bool },
    /// Keep them for the JSON report (`--format json`).
    Report,
    /// Neither (`--quiet`).
    Quiet,
}

/// How many bytes of each node's stdout, and of its stderr, the JSON report keeps.
pub(crate) const REPORT_CAP: usize = 64 << 10;

/// One node's output as the JSON report keeps it.
#[derive(Default)]
struct Kept {
    text: [String; 2],
    omitted: [u64; 2],
}

/// The components' output of one run, per [`Show`].
pub(crate) struct ComponentOutput {
    show: Show,
    progress: Progress,
    kept: BTreeMap<String, Kept>,
}

impl ComponentOutput {
    pub(crate) fn new(show: Show, progress: Progress) -> Arc<Mutex<ComponentOutput>> {
        Arc::new(Mutex::new(ComponentOutput {
            show,
            progress,
            kept: BTreeMap::new(),
        }))
    }

    /// A line `node` wrote to `stream` (without its newline).
    pub(crate) fn line(&mut self, node: &str, stream: StdStream, line: &[u8]) {
        if stream == StdStream::Stderr && !crate::log_level::shows_component_line(line) {
            return;
        }
        match self.show {
            Show::Quiet => {}
            Show::Pass { prefix } => self.progress.suspend(|| {
                // A closed stdout or stderr is not the flow's failure: the
                // lines are dropped, the run goes on.
                let _ = match stream {
                    StdStream::Stdout => {
                        write_line(&mut std::io::stdout().lock(), node, prefix, line)
                    }
                    StdStream::Stderr => {
                        write_line(&mut std::io::stderr().lock(), node, prefix, line)
                    }
                };
            }),
            Show::Report => {
                let kept = self.kept.entry(node.to_string()).or_default();
                let index = usize::from(stream == StdStream::Stderr);
                let text = &mut kept.text[index];
                let room = REPORT_CAP.saturating_sub(text.len());
                let line = String::from_utf8_lossy(line);
                if kept.omitted[index] == 0 && line.len() < room {
                    text.push_str(&line);
                    text.push('\n');
                } else {
                    kept.omitted[index] += line.len() as u64 + 1;
                }
            }
        }
    }

    /// The report's `"component_output"`: `{"cap_bytes", "nodes": {node:
    /// {"stdout", "stderr", "stdout_omitted_bytes", "stderr_omitted_bytes"}}}`.
    pub(crate) fn report(&self) -> serde_json::Value {
        let nodes: serde_json::Map<String, serde_json::Value> = self
            .kept
            .iter()
            .map(|(node, kept)| {
                (
                    node.clone(),
                    serde_json::json!({
                        "stdout": kept.text[0],
                        "stderr": kept.text[1],
                        "stdout_omitted_bytes": kept.omitted[0],
                        "stderr_omitted_bytes": kept.omitted[1],
                    }),
                )
            })
            .collect();
        serde_json::json!({ "cap_bytes": REPORT_CAP, "nodes": nodes })
    }
}

fn write_line(out: &mut impl Write, node: &str, prefix: bool, line: &[u8]) -> std::io::Result<()> {
    if prefix {
        write!(out, "[{node}] ")?;
    }
    out.write_all(line)?;
    out.write_all(b"\n")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(bytes: &[u8]) -> Output {
        let meta = torvyn_testkit::Meta {
            sequence: 7,
            timestamp_ns: 9,
            content_type: "application/octet-stream".into(),
        };
        Output::new(bytes.to_vec(), "application/octet-stream", meta)
    }

    #[test]
    fn jsonl_keeps_the_payload_bytes() {
        let text = br#"{"z":1, "a" : [2,1]}"#;
        let line = payload_line("out", &output(text)).to_string();
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["payload"].as_str().unwrap().as_bytes(), text);
        assert_eq!(parsed["sequence"], 7);
        let line = payload_line("out", &output(b"\xff\x00a")).to_string();
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["payload_base64"], "/wBh");
        assert!(parsed.get("payload").is_none());
    }

    #[test]
    fn the_report_keeps_lines_up_to_its_cap() {
        let out = ComponentOutput::new(Show::Report, Progress::inert());
        let mut out = out.lock().unwrap();
        out.line("n", StdStream::Stdout, b"one");
        out.line("n", StdStream::Stderr, b"err");
        let long = vec![b'x'; REPORT_CAP];
        out.line("n", StdStream::Stdout, &long);
        out.line("n", StdStream::Stdout, b"after");
        let report = out.report();
        assert_eq!(report["cap_bytes"], REPORT_CAP);
        assert_eq!(report["nodes"]["n"]["stdout"], "one\n");
        assert_eq!(report["nodes"]["n"]["stderr"], "err\n");
        assert_eq!(
            report["nodes"]["n"]["stdout_omitted_bytes"],
            REPORT_CAP as u64 + 1 + 6
        );
    }
}
