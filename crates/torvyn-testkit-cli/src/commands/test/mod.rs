//! `torvyn-testkit test`: one component on ad-hoc input, without a manifest
//! (like Fluvio's `smdk test`). It prints, element by element, what the
//! component did: passed or dropped (filter), emitted or dropped (processor),
//! the ports it routed to (router), absorbed and emitted (aggregator, then its
//! `flush`), delivered (sink, then `complete`), or the error; a source is
//! pulled up to `--max-elements` times.

use std::fmt::Display;
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::Value;
use torvyn_testkit::{
    Component, Instance, Output, Processed, Role, Signal, TestElement, Timestamps, read_jsonl,
};

use crate::cli::GlobalOpts;
use crate::command_prelude::Format;

mod report;

use report::{print_report, report_json, shown_input};

/// How many elements `test` pulls from a source by default.
pub(crate) const DEFAULT_SOURCE_ELEMENTS: u64 = 100;

#[derive(Args)]
pub(crate) struct TestArgs {
    /// The component: its crate's directory (built for wasm32-wasip2) or a
    /// `.wasm` file.
    component: PathBuf,
    /// An element with this text (`text/plain`); repeat for more elements.
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["json", "file"])]
    text: Vec<String>,
    /// An element with this JSON value (`application/json`); repeat for more.
    #[arg(long, value_name = "JSON", value_parser = parse_json, conflicts_with = "file")]
    json: Vec<Value>,
    /// The elements of a JSON-lines file: one `application/json` element per
    /// non-empty line (the format of `run --input`).
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// The config given to the component's `init` (default: empty).
    #[arg(long, value_name = "JSON", default_value = "")]
    config: String,
    /// The role the component must have. The role is read from the
    /// component's exports; with `--role`, a component of another role is an
    /// error.
    #[arg(long, value_name = "ROLE", value_parser = parse_role)]
    role: Option<Role>,
    /// For a source: pull at most N elements (default 100).
    #[arg(long, value_name = "N")]
    max_elements: Option<u64>,
}

fn parse_json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|err| {
        format!("not a JSON value ({err}); for plain text use `--text` instead of `--json`")
    })
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::ALL
        .into_iter()
        .find(|role| role.name() == text || Role::from_interface(text) == Some(*role))
        .ok_or_else(|| {
            format!(
                "`{text}` is not a role; use one of {}",
                Role::ALL.map(Role::name).join(", ")
            )
        })
}

/// A usage error: printed the way clap prints its own, exit code 2.
fn usage_error(message: impl Display) -> ! {
    let mut command = crate::cli::command();
    command.build();
    let kind = clap::error::ErrorKind::ArgumentConflict;
    match command.find_subcommand_mut("test") {
        Some(test) => test.error(kind, message).exit(),
        None => command.error(kind, message).exit(),
    }
}

/// One element given to the component, and where it came from.
struct Input {
    element: TestElement,
    /// Its line in `--file`.
    line: Option<u64>,
}

/// What happened to one element (or one pull, or one flushed output).
pub(super) struct Outcome {
    pub(super) sequence: u64,
    pub(super) line: Option<u64>,
    pub(super) input: Option<Value>,
    /// `pulled`, `passed`, `dropped`, `emitted`, `routed`, `absorbed`,
    /// `delivered`, `flushed`, `failed`, `not-called`.
    pub(super) what: &'static str,
    pub(super) output: Option<Output>,
    pub(super) ports: Vec<String>,
    pub(super) signal: Option<Signal>,
    pub(super) error: Option<String>,
}

impl Outcome {
    fn new(sequence: u64, what: &'static str) -> Self {
        Outcome {
            sequence,
            line: None,
            input: None,
            what,
            output: None,
            ports: Vec::new(),
            signal: None,
            error: None,
        }
    }
}

/// `torvyn-testkit test`.
pub(crate) fn exec(args: TestArgs, global: &GlobalOpts) -> Result<(), String> {
    let args = &args;
    let inputs = inputs(args)?;
    let component = load(&args.component)?;
    let role = component.role();
    if let Some(expected) = args.role
        && expected != role
    {
        return Err(format!(
            "{} is a {role} (it exports `{}`), not a {expected}",
            args.component.display(),
            role.versioned_interface()
        ));
    }
    match (role, inputs.is_empty()) {
        (Role::Source, false) => usage_error(format!(
            "{} is a source, and a source takes no input: leave out --text, --json and \
             --file (`test` pulls up to --max-elements elements from it)",
            args.component.display()
        )),
        (Role::Source, true) => {}
        (_, true) => usage_error(format!(
            "{} is a {role}: give it elements with --text TEXT, --json JSON (both \
             repeatable) or --file in.jsonl",
            args.component.display()
        )),
        (_, false) => {}
    }
    if role != Role::Source && args.max_elements.is_some() {
        usage_error(format!(
            "{} is a {role}: --max-elements bounds the pulls from a source; a {role} gets \
             exactly the elements given",
            args.component.display()
        ));
    }
    let mut instance = component
        .instantiate(&args.config)
        .map_err(|err| crate::flow::describe(&err))?;
    let mut outcomes = Vec::new();
    let mut exhausted = None;
    if role == Role::Source {
        let max = args.max_elements.unwrap_or(DEFAULT_SOURCE_ELEMENTS);
        exhausted = Some(pull(&mut instance, max, &mut outcomes));
    } else {
        feed(&mut instance, inputs, &mut outcomes);
        end(&mut instance, &mut outcomes);
    }
    let teardown = instance.teardown().err().map(|err| err.to_string());
    let failed = outcomes
        .iter()
        .filter(|outcome| outcome.what == "failed")
        .count();
    match global.format {
        Format::Json => println!(
            "{}",
            report_json(args, &component, &instance, &outcomes, exhausted, &teardown)
        ),
        Format::Text => print_report(args, &component, &instance, &outcomes, exhausted, &teardown),
    }
    if let Some(error) = teardown {
        eprintln!("torvyn-testkit: warning: the teardown failed: {error}");
    }
    if failed > 0 {
        let calls = outcomes
            .iter()
            .filter(|outcome| outcome.what != "flushed")
            .count();
        return Err(format!(
            "{failed} of {calls} calls of `{}` failed (listed above)",
            component.name()
        ));
    }
    Ok(())
}

/// The elements of `--text`, `--json` or `--file`, with sequence numbers
/// and timestamps as a flow's source would give them.
fn inputs(args: &TestArgs) -> Result<Vec<Input>, String> {
    let mut inputs: Vec<Input> = if let Some(file) = &args.file {
        // An unreadable file or a bad line is an unusable input: exit 2.
        read_jsonl(file)
            .unwrap_or_else(|err| usage_error(err))
            .into_iter()
            .map(|(line, element)| Input {
                element,
                line: Some(line),
            })
            .collect()
    } else if !args.json.is_empty() {
        args.json
            .iter()
            .map(|value| Input {
                element: TestElement::json(value.clone()),
                line: None,
            })
            .collect()
    } else {
        args.text
            .iter()
            .map(|text| Input {
                element: TestElement::text(text.clone()),
                line: None,
            })
            .collect()
    };
    let clock = Timestamps::default();
    for (sequence, input) in (0u64..).zip(&mut inputs) {
        input.element = input
            .element
            .clone()
            .sequence(sequence)
            .timestamp_ns(clock.timestamp_ns(sequence));
    }
    Ok(inputs)
}

/// A crate directory is built; a file is loaded as a component.
fn load(path: &Path) -> Result<Component, String> {
    if path.is_dir() {
        if !path.join("Cargo.toml").is_file() {
            return Err(format!(
                "{} is a directory without a Cargo.toml; give a component crate's directory \
                 or a .wasm file",
                path.display()
            ));
        }
        Component::build(path).map_err(|err| crate::flow::describe(&err))
    } else if path.is_file() {
        Component::from_file(path).map_err(|err| crate::flow::describe(&err))
    } else {
        Err(format!(
            "{}: no such file or directory; give a component crate's directory or a .wasm file",
            path.display()
        ))
    }
}

/// A source: pull until it ends or `max` elements; whether it ended.
fn pull(instance: &mut Instance, max: u64, outcomes: &mut Vec<Outcome>) -> bool {
    for sequence in 0..max {
        match instance.pull() {
            Ok(Some(output)) => {
                let mut outcome = Outcome::new(sequence, "pulled");
                outcome.output = Some(output);
                outcomes.push(outcome);
            }
            Ok(None) => return true,
            Err(err) => {
                let mut outcome = Outcome::new(sequence, "failed");
                outcome.error = Some(err.to_string());
                outcomes.push(outcome);
                if instance.is_terminated() {
                    return false;
                }
            }
        }
    }
    false
}

/// Call the component on every element; once it cannot be called any more
/// (a trap, `fatal`, a limit), the rest are `not-called`.
fn feed(instance: &mut Instance, inputs: Vec<Input>, outcomes: &mut Vec<Outcome>) {
    let mut stopped: Option<String> = None;
    for input in inputs {
        let sequence = input.element.sequence_number();
        let shown = shown_input(&input.element);
        let mut outcome = match &stopped {
            Some(reason) => {
                let mut outcome = Outcome::new(sequence, "not-called");
                outcome.error = Some(reason.clone());
                outcome
            }
            None => call(instance, input.element, sequence),
        };
        outcome.line = input.line;
        outcome.input = Some(shown);
        if outcome.what == "failed" && stopped.is_none() && instance.is_terminated() {
            stopped = Some(format!(
                "the component cannot be called after element #{sequence} failed"
            ));
        }
        outcomes.push(outcome);
    }
}

fn call(instance: &mut Instance, element: TestElement, sequence: u64) -> Outcome {
    let result = match instance.role() {
        Role::Filter => instance
            .evaluate(element)
            .map(|pass| Outcome::new(sequence, if pass { "passed" } else { "dropped" })),
        Role::Processor => instance.process(element).map(|processed| match processed {
            Processed::Emit(output) => {
                let mut outcome = Outcome::new(sequence, "emitted");
                outcome.output = Some(output);
                outcome
            }
            Processed::Drop => Outcome::new(sequence, "dropped"),
        }),
        Role::Router => instance.route(element).map(|ports| {
            if ports.is_empty() {
                Outcome::new(sequence, "dropped")
            } else {
                let mut outcome = Outcome::new(sequence, "routed");
                outcome.ports = ports;
                outcome
            }
        }),
        Role::Aggregator => instance.ingest(element).map(|output| {
            let mut outcome = Outcome::new(sequence, "absorbed");
            outcome.output = output;
            outcome
        }),
        Role::Sink => instance.push(element).map(|signal| {
            let mut outcome = Outcome::new(sequence, "delivered");
            outcome.signal = Some(signal);
            outcome
        }),
        // `run` never feeds a source.
        Role::Source => Ok(Outcome::new(sequence, "not-called")),
    };
    result.unwrap_or_else(|err| {
        let mut outcome = Outcome::new(sequence, "failed");
        outcome.error = Some(err.to_string());
        outcome
    })
}

/// After the last element: an aggregator's `flush`, a sink's `complete`.
fn end(instance: &mut Instance, outcomes: &mut Vec<Outcome>) {
    if instance.is_terminated() {
        return;
    }
    let next = outcomes.len() as u64;
    match instance.role() {
        Role::Aggregator => match instance.flush() {
            Ok(outputs) => outcomes.extend(outputs.into_iter().map(|output| {
                let mut outcome = Outcome::new(next, "flushed");
                outcome.output = Some(output);
                outcome
            })),
            Err(err) => {
                let mut outcome = Outcome::new(next, "failed");
                outcome.error = Some(format!("flush: {err}"));
                outcomes.push(outcome);
            }
        },
        Role::Sink => {
            if let Err(err) = instance.complete() {
                let mut outcome = Outcome::new(next, "failed");
                outcome.error = Some(format!("complete: {err}"));
                outcomes.push(outcome);
            }
        }
        _ => {}
    }
}
