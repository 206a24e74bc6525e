//! The report of `torvyn-testkit test`: per element what the component did, as
//! text or as one JSON object.

use serde_json::{Value, json};
use torvyn_testkit::{Component, Instance, Output, Signal, TestElement};

use super::{Outcome, TestArgs};

/// The longest payload the text report shows in full (longer ones are cut).
const SHOWN_CHARS: usize = 200;

/// An element's payload as JSON for the report: the JSON value, a string for
/// text, an array of bytes otherwise.
fn payload_value(bytes: &[u8], content_type: &str) -> Value {
    if content_type.contains("json")
        && let Ok(value) = serde_json::from_slice::<Value>(bytes)
    {
        return value;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Value::String(text.to_string()),
        Err(_) => bytes.to_vec().into(),
    }
}

pub(super) fn shown_input(element: &TestElement) -> Value {
    payload_value(element.payload().as_bytes(), element.content_type_str())
}

/// An output as `--output` writes it: content type, and `json`, `text` or `bytes`.
fn output_json(output: &Output) -> Value {
    let mut value = json!({ "content_type": output.content_type });
    if let Ok(parsed) = serde_json::from_slice::<Value>(output.bytes()) {
        value["json"] = parsed;
    } else if let Some(text) = output.text() {
        value["text"] = text.into();
    } else {
        value["bytes"] = output.bytes().into();
    }
    value
}

pub(super) fn report_json(
    args: &TestArgs,
    component: &Component,
    instance: &Instance,
    outcomes: &[Outcome],
    exhausted: Option<bool>,
    teardown: &Option<String>,
) -> Value {
    let results: Vec<Value> = outcomes
        .iter()
        .map(|outcome| {
            let mut value = json!({ "sequence": outcome.sequence, "outcome": outcome.what });
            if let Some(line) = outcome.line {
                value["line"] = line.into();
            }
            if let Some(input) = &outcome.input {
                value["input"] = input.clone();
            }
            if let Some(output) = &outcome.output {
                value["output"] = output_json(output);
            }
            if outcome.what == "routed" {
                value["ports"] = outcome.ports.clone().into();
            }
            if let Some(signal) = outcome.signal {
                value["signal"] = signal_name(signal).into();
            }
            if let Some(error) = &outcome.error {
                value["error"] = error.clone().into();
            }
            value
        })
        .collect();
    let count = |what: &str| outcomes.iter().filter(|o| o.what == what).count();
    let mut report = json!({
        "component": args.component,
        "wasm": component.path(),
        "name": component.name(),
        "role": component.role(),
        "results": results,
        "counts": {
            "calls": outcomes.iter().filter(|o| o.what != "flushed").count(),
            "pulled": count("pulled"),
            "passed": count("passed"),
            "emitted": count("emitted"),
            "routed": count("routed"),
            "dropped": count("dropped"),
            "absorbed": count("absorbed"),
            "flushed": count("flushed"),
            "delivered": count("delivered"),
            "failed": count("failed"),
            "not_called": count("not-called"),
        },
        "logs": instance.logs(),
        "stdout": instance.stdout(),
        "teardown_error": teardown,
    });
    if let Some(exhausted) = exhausted {
        report["exhausted"] = exhausted.into();
    }
    report
}

fn signal_name(signal: Signal) -> &'static str {
    match signal {
        Signal::Ready => "ready",
        Signal::Pause => "pause",
    }
}

/// A payload in one line, cut at [`SHOWN_CHARS`].
fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= SHOWN_CHARS {
        return text;
    }
    let cut: String = text.chars().take(SHOWN_CHARS).collect();
    format!("{cut}... ({} bytes)", text.len())
}

fn output_text(output: &Output) -> String {
    let value = payload_value(output.bytes(), &output.content_type);
    format!("{} ({})", short(&value), output.content_type)
}

pub(super) fn print_report(
    args: &TestArgs,
    component: &Component,
    instance: &Instance,
    outcomes: &[Outcome],
    exhausted: Option<bool>,
    teardown: &Option<String>,
) {
    println!(
        "{} ({}) from {}",
        component.name(),
        component.role(),
        args.component.display()
    );
    for outcome in outcomes {
        let mut head = format!("#{}", outcome.sequence);
        if let Some(line) = outcome.line {
            head.push_str(&format!(" (line {line})"));
        }
        if let Some(input) = &outcome.input {
            head.push_str(&format!(" {}", short(input)));
        }
        let what = match outcome.what {
            "pulled" | "emitted" => match &outcome.output {
                Some(output) => format!("{} {}", outcome.what, output_text(output)),
                None => outcome.what.to_string(),
            },
            "flushed" => match &outcome.output {
                Some(output) => format!("emitted {}", output_text(output)),
                None => "nothing".to_string(),
            },
            "absorbed" => match &outcome.output {
                Some(output) => format!("absorbed, emitted {}", output_text(output)),
                None => "absorbed".to_string(),
            },
            "routed" => format!("routed to {}", outcome.ports.join(", ")),
            "delivered" => format!(
                "delivered ({})",
                outcome.signal.map(signal_name).unwrap_or("ready")
            ),
            "failed" | "not-called" => format!(
                "{}: {}",
                outcome.what,
                outcome.error.as_deref().unwrap_or_default()
            ),
            other => other.to_string(),
        };
        if outcome.what == "flushed" {
            println!("flush -> {what}");
        } else {
            println!("{head} -> {what}");
        }
    }
    match exhausted {
        Some(true) => println!("the source ended after {} elements", outcomes.len()),
        Some(false) => println!(
            "stopped after {} pulls (--max-elements); the source may have more",
            outcomes.len()
        ),
        None => {}
    }
    let logs = instance.logs();
    if !logs.is_empty() {
        println!("log:");
        for line in logs {
            println!("  [{}] {}", line.level, line.message);
        }
    }
    let stdout = instance.stdout();
    if !stdout.is_empty() {
        println!("stdout:");
        for line in stdout.lines() {
            println!("  {line}");
        }
    }
    if let Some(error) = teardown {
        println!("teardown failed: {error}");
    }
}
