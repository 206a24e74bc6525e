//! Every failure is named where it happened: load and link errors name the
//! node, the file, the interface and the function (and keep wasmtime's whole
//! error chain as the source); `inspect` type-checks a component against the
//! contract; traps say once what happened, and a stack overflow or an `exit`
//! is called by its name.
//!
//! (Lives in the CLI package so that it can run the `torvyn-testkit` binary;
//! the fixtures are the testkit's.)

use torvyn_testkit::{Component, ErrorKind, Processed, Role, TestElement};
use torvyn_testkit::{Direction, Pipeline, inspect};

use crate::support::{Cli, fixture, fixture_wasm, temp_dir};

/// Every cause below `err`, outermost first.
fn chain(err: &dyn std::error::Error) -> Vec<String> {
    let mut causes = Vec::new();
    let mut source = err.source();
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    causes
}

const MISSING: &str = "fixture:telemetry/counters@0.1.0";

#[test]
fn a_missing_import_names_the_interface_and_function_and_keeps_the_link_error() {
    let wasm = fixture_wasm("raw-missing-import");
    let err = Component::from_file(&wasm).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Contract { path, .. } if *path == wasm),
        "{err:?}"
    );
    assert_eq!(err.node(), "raw-missing-import");
    let [mismatch] = err.mismatches() else {
        panic!("one mismatch expected: {err}");
    };
    assert_eq!(mismatch.direction, Direction::Import);
    assert_eq!(mismatch.interface, MISSING);
    assert_eq!(mismatch.function.as_deref(), Some("bump"));
    assert_eq!(mismatch.found.as_deref(), Some("func(name: string)"));
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "node `raw-missing-import` cannot be loaded from {}: it does not match the Torvyn 0.1 contract\n  - import the component imports function `bump` of `{MISSING}`, which the Torvyn host does not provide",
            wasm.display()
        )),
        "{message}"
    );

    // wasmtime's whole chain is the source, not only its innermost line.
    assert_eq!(
        chain(&err),
        [
            format!(
                "component imports instance `{MISSING}`, but a matching implementation was not found in the linker"
            ),
            "instance export `bump` has the wrong type".to_string(),
            "function implementation is missing".to_string(),
        ]
    );
    let shown = format!("{:#}", anyhow::Error::from(err));
    assert!(
        shown.contains("function `bump` of `fixture:telemetry/counters@0.1.0`"),
        "{shown}"
    );
    assert!(
        shown.ends_with(
            ": instance export `bump` has the wrong type: function implementation is missing"
        ),
        "{shown}"
    );
}

#[test]
fn a_load_error_in_a_flow_names_the_manifest_node_and_the_file() {
    let wasm = fixture_wasm("raw-missing-import");
    let sink = fixture_wasm("raw-stdout-sink");
    let source = fixture_wasm("raw-endless-source");
    let dir = temp_dir("project");
    let manifest = dir.join("Torvyn.toml");
    std::fs::write(
        &manifest,
        format!(
            r#"[torvyn]
name = "diag"
version = "0.1.0"
contract_version = "0.1.0"

# Nodes load in flow order: the source loads, then `gate` fails.
[flow.main.nodes.gate]
component = "file://{wasm}"
interface = "torvyn:filtering/filter"

[flow.main.nodes.numbers]
component = "file://{source}"
interface = "torvyn:streaming/source"

[flow.main.nodes.out]
component = "file://{sink}"
interface = "torvyn:streaming/sink"

[[flow.main.edges]]
from = {{ node = "numbers", port = "output" }}
to = {{ node = "gate", port = "input" }}

[[flow.main.edges]]
from = {{ node = "gate", port = "output" }}
to = {{ node = "out", port = "input" }}
"#,
            wasm = wasm.display(),
            sink = sink.display(),
            source = source.display()
        ),
    )
    .unwrap();
    let err = Pipeline::from_manifest(&manifest, None).unwrap_err();
    assert_eq!(err.node(), "gate");
    let manifest_text = manifest.display().to_string();
    assert_eq!(
        err.origin(),
        Some((manifest_text.as_str(), "flow.main.nodes.gate"))
    );
    assert!(matches!(err.kind(), ErrorKind::Contract { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "node `gate` (`flow.main.nodes.gate` in {manifest_text}) cannot be loaded from {}",
            wasm.display()
        )),
        "{message}"
    );
    assert!(
        message.contains("function `bump` of `fixture:telemetry/counters@0.1.0`"),
        "{message}"
    );
    assert!(
        chain(&err)
            .last()
            .is_some_and(|cause| cause == "function implementation is missing")
    );

    // The CLI prints the message and the chain.
    let out = Cli::new("run").manifest(&manifest).output();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("node `gate`"), "{stderr}");
    assert!(
        stderr.contains("caused by: function implementation is missing"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_export_with_the_wrong_signature_names_function_and_both_types() {
    let wasm = fixture_wasm("raw-wrong-signature");
    let expected = "func(element: stream-element) -> result<bool, process-error>";
    let found = "func(element: stream-element) -> result<u32, process-error>";

    let err = Component::from_file(&wasm).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Contract { .. }), "{err:?}");
    let [mismatch] = err.mismatches() else {
        panic!("one mismatch expected: {err}");
    };
    assert_eq!(mismatch.direction, Direction::Export);
    assert_eq!(mismatch.interface, "torvyn:filtering/filter@0.1.0");
    assert_eq!(mismatch.function.as_deref(), Some("evaluate"));
    assert_eq!(mismatch.expected.as_deref(), Some(expected));
    assert_eq!(mismatch.found.as_deref(), Some(found));
    assert!(
        err.to_string().contains(&format!(
            "function `evaluate` of `torvyn:filtering/filter@0.1.0` has the wrong type: the contract says `{expected}`, the component's export `{found}` (result: expected `bool`, found `u32` (the ok type))"
        )),
        "{err}"
    );

    // `inspect` reports it instead of calling the component valid.
    let inspection = inspect(&wasm).unwrap();
    assert_eq!(inspection.role, Role::Filter);
    assert!(!inspection.is_valid());
    assert_eq!(inspection.mismatches, err.mismatches());
    let out = Cli::new("inspect").arg(&wasm).output();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("contract:  1 mismatches"), "{stdout}");
    assert!(stdout.contains(found), "{stdout}");
    let out = Cli::new("inspect").arg(&wasm).format("json").output();
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["mismatches"][0]["function"], "evaluate");
    assert_eq!(json["mismatches"][0]["expected"], expected);
    assert_eq!(json["mismatches"][0]["found"], found);
}

#[test]
fn inspect_lists_a_missing_import_and_passes_a_valid_component() {
    let wasm = fixture_wasm("raw-missing-import");
    let inspection = inspect(&wasm).unwrap();
    assert_eq!(
        inspection.mismatches.len(),
        1,
        "{:?}",
        inspection.mismatches
    );
    assert_eq!(inspection.mismatches[0].interface, MISSING);
    let out = Cli::new("inspect").arg(&wasm).output();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("does not match the Torvyn 0.1 contract (1 mismatches"),
        "{stderr}"
    );

    let valid = fixture_wasm("raw-filter");
    assert!(inspect(&valid).unwrap().is_valid());
    let out = Cli::new("inspect").arg(&valid).output();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("contract:  matches Torvyn 0.1 and links on this host")
    );
}

#[test]
fn a_huge_stack_frame_is_a_stack_overflow_with_the_stack_size_and_the_fix() {
    let mut processor = fixture("raw-stack-hog").instantiate("").unwrap();
    // A frame that fits is fine.
    assert!(matches!(
        processor
            .process(TestElement::text("x").content_type("small"))
            .unwrap(),
        Processed::Drop
    ));
    let err = processor.process(TestElement::text("x")).unwrap_err();
    let ErrorKind::StackOverflow {
        stack_size: Some(stack_size),
        needed: Some(needed),
        function: Some(function),
    } = err.kind()
    else {
        panic!("a stack overflow expected: {err:?}");
    };
    assert_eq!(*stack_size, 1 << 20, "rustc's default wasm stack");
    assert!(*needed >= 4 << 20, "{needed}");
    assert!(function.contains("checksum"), "{function}");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "node `raw-stack-hog` (processor) overflowed its stack in `process` (in `{function}`; the frames on the stack need "
        )),
        "{message}"
    );
    assert!(
        message.contains("its stack is 1 MiB (the `__stack_pointer` global starts at 1048576)"),
        "{message}"
    );
    assert!(
        message.contains("-C link-arg=-zstack-size=8388608"),
        "{message}"
    );
    assert!(
        !message.contains("out of bounds memory access"),
        "{message}"
    );
    // The trap itself, with its wasm backtrace, is the source.
    assert!(
        chain(&err)
            .iter()
            .any(|cause| cause.contains("out of bounds memory access")),
        "{:?}",
        chain(&err)
    );
    let refused = processor.process(TestElement::text("x")).unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("it failed earlier in `process` (stack overflow)"),
        "{refused}"
    );
}

#[test]
fn exit_is_reported_as_exit_and_traps_are_named_once() {
    let component = fixture("raw-exit-processor");
    let mut processor = component.instantiate("").unwrap();
    let err = processor.process(TestElement::text("x")).unwrap_err();
    // WASI 0.2's `exit` carries success or failure only: wasi-libc turns
    // `exit(3)` into `exit(err)`, which the host receives as code 1.
    assert!(matches!(err.kind(), ErrorKind::Exit { code: 1 }), "{err:?}");
    // The message, then the wasm backtrace down to the fixture's `exit` call.
    let message = err.to_string();
    assert!(
        message.starts_with(
            "node `raw-exit-processor` (processor) called exit with a failure code in `process` (WASI 0.2's `exit` passes only success or failure, so the host cannot tell which nonzero code): a component must return from its calls, not exit; return an error instead (`fatal` to stop for good)\n  wasm backtrace"
        ),
        "{message}"
    );
    assert!(
        message.contains("raw-exit-processor/src/lib.rs:"),
        "{message}"
    );

    let mut processor = component.instantiate("").unwrap();
    let err = processor
        .process(TestElement::text("x").content_type("unreachable"))
        .unwrap_err();
    assert!(err.is_trap(), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with(
            "node `raw-exit-processor` (processor) trapped in `process`: wasm `unreachable` instruction executed"
        ),
        "{message}"
    );
    assert!(!message.contains("wasm trap: wasm trap"), "{message}");
    let causes = chain(&err);
    assert!(
        causes
            .iter()
            .any(|cause| cause == "wasm trap: wasm `unreachable` instruction executed"),
        "{causes:?}"
    );
}
