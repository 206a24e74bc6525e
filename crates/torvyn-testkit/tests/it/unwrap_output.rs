//! What a failing test prints when it `.unwrap()`s a trap: the error's
//! message (the panic message, `src/lib.rs:LINE` and the author's frames), in
//! a few lines, not a dump of the error's fields nor wasmtime's raw wasm
//! backtrace (that only with `TORVYN_BACKTRACE=full`).
//!

use std::path::Path;
use std::process::Command;

use torvyn_testkit::{Component, TestElement};

fn buggy() -> Component {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/raw-buggy-filter");
    Component::build(dir).unwrap_or_else(|err| panic!("{err}"))
}

/// The message of the panic `.unwrap()` raises on the buggy filter's trap.
fn unwrap_message() -> String {
    let mut filter = buggy().instantiate("").unwrap();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        filter.evaluate(TestElement::text("too long #")).unwrap();
    }))
    .expect_err("the buggy filter traps on `too long #`");
    match panic.downcast::<String>() {
        Ok(message) => *message,
        Err(_) => panic!("`.unwrap()` panics with a String"),
    }
}

#[test]
fn unwrap_on_a_trap_prints_the_message_and_the_authors_line_in_a_few_lines() {
    let message = unwrap_message();
    println!("{message}");
    let lines: Vec<&str> = message.lines().collect();
    assert!(lines.len() <= 15, "{} lines:\n{message}", lines.len());
    assert_eq!(
        lines[0],
        "called `Result::unwrap()` on an `Err` value: node `raw-buggy-filter` (filter) trapped \
         in `evaluate`: the component panicked: a 10-byte payload with a `#` is not handled \
         (at raw-buggy-filter/src/lib.rs:22:9)"
    );
    assert!(
        lines[1].starts_with("  wasm backtrace (innermost first; "),
        "{message}"
    );
    assert!(
        lines[2].starts_with("    raw_buggy_filter::check at ")
            && lines[2].ends_with("src/lib.rs:22:9"),
        "{message}"
    );
    // The trap under the panic, once, and how to see wasmtime's own backtrace.
    assert!(
        message.contains("\ncaused by: wasm trap: wasm `unreachable` instruction executed"),
        "{message}"
    );
    assert!(
        message.ends_with("\n(wasmtime's raw wasm backtrace: set TORVYN_BACKTRACE=full)"),
        "{message}"
    );
    // Neither the struct's fields nor wasmtime's addresses.
    for noise in [
        "Inner {",
        "kind: Trap",
        "error while executing",
        " - abort",
        "0x",
    ] {
        assert!(!message.contains(noise), "`{noise}` in:\n{message}");
    }
}

/// `TORVYN_BACKTRACE=full` adds wasmtime's raw backtrace: this test runs
/// itself (the test binary, filtered to the test below) with it set.
#[test]
fn the_raw_wasm_backtrace_is_shown_with_torvyn_backtrace_full() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "unwrap_output::prints_the_unwrap_message",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("TORVYN_BACKTRACE", "full")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let (_, message) = stdout
        .split_once("UNWRAP MESSAGE:\n")
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        message
            .contains("(at raw-buggy-filter/src/lib.rs:22:9)\n  wasm backtrace (innermost first; "),
        "{message}"
    );
    assert!(
        message.contains("\ncaused by: error while executing at wasm backtrace:\n"),
        "{message}"
    );
    assert!(message.contains("0x"), "{message}");
    assert!(!message.contains("set TORVYN_BACKTRACE=full"), "{message}");
}

/// Prints what `.unwrap()` says, for the test above.
#[test]
fn prints_the_unwrap_message() {
    println!("UNWRAP MESSAGE:\n{}", unwrap_message());
}
