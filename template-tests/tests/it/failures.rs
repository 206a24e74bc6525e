//! What a failing test of a generated project prints, run as a user runs it
//! (`cargo test` in the project): a `.unwrap()` on a trap prints the panic
//! message and `src/lib.rs:LINE` in a few lines, and the regression test a
//! failing property prints fails when pasted.
//!
//! Run: `cargo test -p template-tests --test it failures::` (needs cargo-generate).

use std::path::{Path, PathBuf};

use template_tests::{cargo_test_with, generate_into, work_dir, workspace_root};

/// The filter template generated as `name` into `<work dir>/<dir>/`, with the
/// workspace's crates and `Cargo.lock`.
fn filter_project(dir: &str, name: &str) -> PathBuf {
    let root = workspace_root();
    let project = generate_into("filter", name, Some(&root), &work_dir().join(dir))
        .unwrap_or_else(|err| panic!("{err}"));
    std::fs::copy(root.join("Cargo.lock"), project.join("Cargo.lock")).unwrap();
    project
}

/// The `---- <test> stdout ----` block of a failed test: what the harness
/// prints for it, up to the next block or the `failures:` list.
fn failure_block(output: &str, test: &str) -> String {
    let start = format!("---- {test} stdout ----\n");
    let at = output
        .find(&start)
        .unwrap_or_else(|| panic!("no output of `{test}` in:\n{output}"));
    let rest = &output[at + start.len()..];
    let end = rest.find("\n\nfailures:").unwrap_or(rest.len());
    rest[..end].trim().to_string()
}

fn write(project: &Path, file: &str, text: &str) {
    std::fs::write(project.join(file), text).unwrap();
}

#[test]
fn a_unwrapped_trap_prints_the_panic_and_the_authors_line_in_a_few_lines() {
    let project = filter_project("gen-failures-trap", "trapping-filter");
    // The author's bug: a panic in `evaluate` on a long payload.
    let lib = std::fs::read_to_string(project.join("src/lib.rs")).unwrap();
    let head = "    fn evaluate(&mut self, element: &Element) -> bool {\n";
    assert!(lib.contains(head), "the filter template's `evaluate` moved");
    let lib = lib.replacen(
        head,
        &format!("{head}        assert!(element.payload().size() < 8, \"payload too long\");\n"),
        1,
    );
    write(&project, "src/lib.rs", &lib);
    let bug_line = 1 + lib
        .lines()
        .position(|line| line.contains("payload too long"))
        .unwrap();
    write(
        &project,
        "tests/trap.rs",
        "use torvyn_testkit::{Component, TestElement};\n\n\
         #[test]\n\
         fn traps() {\n    \
             let component = Component::build(env!(\"CARGO_MANIFEST_DIR\")).unwrap();\n    \
             let mut filter = component.instantiate(\"\").unwrap();\n    \
             filter.evaluate(TestElement::text(\"far too long\")).unwrap();\n\
         }\n",
    );
    let run = cargo_test_with(&project, &["--test", "trap"]).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(run.failed, 1, "{}", run.output);
    let printed = failure_block(&run.output, "traps");
    eprintln!("a failing `.unwrap()` on a trap prints:\n{printed}");
    let lines: Vec<&str> = printed.lines().collect();
    assert!(lines.len() <= 15, "{} lines:\n{printed}", lines.len());
    assert!(
        lines[0].starts_with("thread 'traps' ") && lines[0].contains(" panicked at tests/trap.rs:"),
        "{printed}"
    );
    assert!(
        lines[1].starts_with(
            "called `Result::unwrap()` on an `Err` value: node `trapping-filter` (filter) \
             trapped in `evaluate`: the component panicked: payload too long (at src/lib.rs:"
        ),
        "{printed}"
    );
    assert!(
        lines[1].ends_with(&format!("(at src/lib.rs:{bug_line}:9)")),
        "{printed}"
    );
    // The author's frame, relative to the crate; the SDK's glue is hidden.
    assert!(
        lines[2].starts_with("  wasm backtrace (innermost first; "),
        "{printed}"
    );
    assert_eq!(
        lines[3],
        format!("    trapping_filter::Filter::evaluate at src/lib.rs:{bug_line}:9"),
        "{printed}"
    );
    for noise in ["Inner {", "error while executing", "0x"] {
        assert!(!printed.contains(noise), "`{noise}` in:\n{printed}");
    }
}

/// A property the filter does not have ("passes everything", with
/// `max_bytes: 4`): its test fails, prints a regression test, and that test,
/// pasted into the project as it is printed, fails too. The failing case is
/// saved beside the test file, and proptest says nothing about `lib.rs`.
#[test]
fn the_printed_regression_test_fails_when_pasted() {
    let project = filter_project("gen-failures-regression", "regression-filter");
    write(
        &project,
        "tests/wrong.rs",
        "use torvyn_testkit::Component;\n\
         use torvyn_testkit::prop::{self, PropTest};\n\n\
         #[test]\n\
         fn passes_everything() {\n    \
             let component = Component::build(env!(\"CARGO_MANIFEST_DIR\")).unwrap();\n    \
             PropTest::new(&component)\n        \
                 .config(r#\"{\"max_bytes\": 4}\"#)\n        \
                 .seed(7)\n        \
                 .cases(32)\n        \
                 .assert(prop::text_from(\"[a-z]{0,12}\"), |_, outcome| {\n            \
                     prop::ensure(outcome.passed() == Some(true), \"the filter passes everything\")\n        \
                 });\n\
         }\n",
    );
    let run = cargo_test_with(&project, &["--test", "wrong"]).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(run.failed, 1, "{}", run.output);
    assert!(
        !run.output.contains("failed to find lib.rs or main.rs"),
        "{}",
        run.output
    );
    let saved = project.join("tests/wrong.proptest-regressions");
    let seeds = std::fs::read_to_string(&saved)
        .unwrap_or_else(|err| panic!("{}: {err}\n{}", saved.display(), run.output));
    assert!(seeds.lines().any(|line| line.starts_with("cc ")), "{seeds}");

    let printed = failure_block(&run.output, "passes_everything");
    eprintln!("the failing property prints:\n{printed}");
    assert!(
        printed.contains("property failed: the filter passes everything"),
        "{printed}"
    );
    let (_, code) = printed
        .split_once("as a regression test:\n\n")
        .unwrap_or_else(|| panic!("no regression test in:\n{printed}"));
    let end = code.find("\n}\n").map_or(code.len(), |at| at + 3);
    let code = &code[..end];
    assert!(code.starts_with("#[test]\nfn regression() {\n"), "{code}");
    // The shortest text above 4 bytes.
    assert!(code.contains("TestElement::text(\"aaaaa\")"), "{code}");
    write(&project, "tests/pasted.rs", code);

    let pasted =
        cargo_test_with(&project, &["--test", "pasted"]).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(
        pasted.failed, 1,
        "the pasted test must fail:\n{}",
        pasted.output
    );
    let failure = failure_block(&pasted.output, "regression");
    eprintln!("the pasted regression test prints:\n{failure}");
    assert!(
        failure.contains("the property failed: the filter passes everything"),
        "{failure}"
    );
    assert!(failure.contains("[Evaluated(false)]"), "{failure}");
    assert!(
        pasted.warnings_in("regression-filter").is_empty(),
        "the pasted test compiles without warnings:\n{}",
        pasted.output
    );
}
