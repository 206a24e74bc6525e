//! Property tests with shrinking, golden runs and source-level traps, on the
//! deliberately buggy `raw-buggy-filter` fixture (it panics on a payload
//! longer than 7 bytes that contains a `#`, at src/lib.rs:22 in `check`).

use std::path::{Path, PathBuf};

use torvyn_testkit::TestElement;
use torvyn_testkit::prop::proptest::collection::vec;
use torvyn_testkit::prop::proptest::prelude::{Just, Strategy, prop_oneof};
use torvyn_testkit::prop::{self, PipelineProp, PropTest};
use torvyn_testkit::{Golden, GoldenOutcome};
use torvyn_testkit::{Pipeline, RunResult};

use crate::support::{fixture, scratch};

fn temp(name: &str) -> PathBuf {
    scratch("superpowers").join(name)
}

/// Texts of `a` and `#` (each `#` shrinks to `a`), up to `max` characters.
fn a_or_hash(max: usize) -> impl Strategy<Value = String> {
    vec(prop_oneof![Just('a'), Just('#')], 0..=max).prop_map(String::from_iter)
}

/// What the buggy filter's panic looks like.
const PANIC: &str = "a 8-byte payload with a `#` is not handled";

// ------------------------------------------------------------------ property

#[test]
fn a_failing_property_shrinks_to_the_minimal_element_and_prints_a_regression_test() {
    let buggy = fixture("raw-buggy-filter");
    let failure = PropTest::new(&buggy)
        .seed(14)
        .cases(64)
        .no_persistence()
        .check(prop::text_from(a_or_hash(16)), |_, outcome| {
            prop::ensure(
                outcome.passed() == Some(true),
                "the filter passes everything",
            )
        })
        .expect_err("the buggy filter panics on long payloads with a `#`");
    // The minimal failing element: eight characters (the shortest that is
    // "longer than 7"), and a single `#` (every other one shrank to `a`).
    assert_eq!(failure.input, vec![TestElement::text("aaaaaa#a")]);
    assert!(failure.reason.contains(PANIC), "{}", failure.reason);
    assert!(
        failure.reason.contains("src/lib.rs:22"),
        "{}",
        failure.reason
    );
    assert!(
        failure
            .regression
            .contains("\n        TestElement::text(\"aaaaaa#a\"),\n"),
        "{}",
        failure.regression
    );
    // A trap: running the case again fails; there are no answers to compare.
    assert!(
        failure
            .regression
            .contains("test.run_case(&input).unwrap_or_else(|err| panic!(\"{err}\"));"),
        "{}",
        failure.regression
    );
    assert!(
        !failure.regression.contains("assert_ne!"),
        "{}",
        failure.regression
    );
    let shown = failure.to_string();
    assert!(shown.starts_with("property failed: "), "{shown}");
    assert!(shown.contains("#[test]\nfn regression()"), "{shown}");
}

#[test]
fn byte_payloads_shrink_to_seven_zero_bytes_and_one_hash() {
    let buggy = fixture("raw-buggy-filter");
    let failure = PropTest::new(&buggy)
        .seed(3)
        .cases(200)
        .no_persistence()
        .check(prop::bytes(0..24), |_, _| Ok(()))
        .expect_err("some generated payload has a `#` and more than 7 bytes");
    let [element] = failure.input.as_slice() else {
        panic!("one element: {:?}", failure.input)
    };
    let bytes = element.payload().as_bytes();
    assert_eq!(bytes.len(), 8, "{bytes:?}");
    assert_eq!(bytes.iter().filter(|&&byte| byte == b'#').count(), 1);
    assert!(bytes.iter().all(|&byte| byte == 0 || byte == b'#'));
}

#[test]
fn a_sequence_shrinks_to_the_one_element_that_fails() {
    let buggy = fixture("raw-buggy-filter");
    let failure = PropTest::new(&buggy)
        .seed(5)
        .cases(64)
        .no_persistence()
        .check_sequence(
            prop::sequence(prop::text_from(a_or_hash(12)), 0..8),
            |elements, outcomes| prop::ensure(elements.len() == outcomes.len(), "accounted"),
        )
        .expect_err("some sequence holds a bad element");
    assert_eq!(failure.input, vec![TestElement::text("aaa#aaaa")]);
}

#[test]
fn a_passing_property_checks_the_authors_property_on_every_case() {
    let buggy = fixture("raw-buggy-filter");
    PropTest::new(&buggy)
        .cases(16)
        .no_persistence()
        .assert(prop::text_from("[a-z]{0,32}"), |_, outcome| {
            prop::ensure(outcome.passed() == Some(true), "passes text without `#`")
        });
    // The author's property is checked too: a wrong one fails.
    let failure = PropTest::new(&buggy)
        .cases(16)
        .no_persistence()
        .check(prop::text_from("[a-z]{0,4}"), |_, outcome| {
            prop::ensure(outcome.passed() == Some(false), "drops everything")
        })
        .expect_err("the filter passes them");
    assert_eq!(failure.input, vec![TestElement::text("")]);
    assert_eq!(failure.reason, "drops everything");
    // The regression test asserts that the answers it failed on change.
    assert!(
        failure.regression.ends_with(
            "    assert_ne!(\n        format!(\"{answers:?}\"),\n        r\"[Evaluated(true)]\",\n        \
             \"the property failed: {}\",\n        \"drops everything\"\n    );\n}\n"
        ),
        "{}",
        failure.regression
    );
    assert_eq!(
        PropTest::new(&buggy).run_case(&failure.input),
        Ok(vec![torvyn_testkit::Answer::Evaluated(true)])
    );
}

#[test]
fn failing_cases_are_persisted_and_replayed_first() {
    let buggy = fixture("raw-buggy-filter");
    let file = temp("regressions.txt");
    let _ = std::fs::remove_file(&file);
    let path: &'static str = Box::leak(file.to_string_lossy().into_owned().into_boxed_str());
    PropTest::new(&buggy)
        .seed(14)
        .cases(64)
        .regressions_file(path)
        .check(prop::text_from(a_or_hash(16)), |_, _| Ok(()))
        .expect_err("fails");
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.lines().any(|line| line.starts_with("cc ")), "{saved}");
    // No new cases at all: the persisted one is replayed, and fails again.
    let failure = PropTest::new(&buggy)
        .cases(0)
        .regressions_file(path)
        .check(prop::text_from(a_or_hash(16)), |_, _| Ok(()))
        .expect_err("the persisted case is replayed");
    assert_eq!(failure.input, vec![TestElement::text("aaaaaa#a")]);
    // Without persistence, zero cases is zero checks.
    PropTest::new(&buggy)
        .cases(0)
        .no_persistence()
        .assert(prop::text_from(a_or_hash(16)), |_, _| Ok(()));
}

#[test]
fn a_pipeline_property_shrinks_the_input_stream() {
    let buggy = fixture("raw-buggy-filter");
    let build = move |input: Vec<TestElement>| {
        Pipeline::new("main")
            .source("input", input)
            .component("buggy", &buggy, "")
            .collector("out")
            .edge("input", "buggy")
            .edge("buggy", "out")
    };
    let flow = PipelineProp::new(build).seed(9).cases(64).no_persistence();
    flow.assert(
        prop::sequence(prop::text_from("[a-z]{0,12}"), 0..6),
        |input, run| prop::ensure(run.received("out").len() == input.len(), "all delivered"),
    );
    let failure = flow
        .check(
            prop::sequence(prop::text_from(a_or_hash(12)), 0..6),
            |_, _| Ok(()),
        )
        .expect_err("a bad element stops the flow");
    assert_eq!(failure.input, vec![TestElement::text("aaaaaa#a")]);
    assert!(failure.reason.contains(PANIC), "{}", failure.reason);
    assert!(
        failure
            .regression
            .contains("TestElement::text(\"aaaaaa#a\"),"),
        "{}",
        failure.regression
    );
}

// -------------------------------------------------------------------- golden

fn passthrough_run() -> RunResult {
    let passthrough = fixture("raw-passthrough");
    Pipeline::new("main")
        .source(
            "input",
            vec![
                TestElement::json(serde_json::json!({"n": 1, "tags": ["a", "b"]})),
                TestElement::text("hello world"),
                TestElement::bytes(vec![0, 255]),
            ],
        )
        .component("copy", &passthrough, "")
        .collector("out")
        .edge("input", "copy")
        .edge("copy", "out")
        .run()
        .unwrap()
}

#[test]
fn a_run_matches_its_golden_file() {
    let run = passthrough_run();
    Golden::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/passthrough.jsonl"))
        .assert(&run);
    run.assert_matches_file(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/passthrough.jsonl"),
    );
}

#[test]
fn a_run_that_kept_only_some_elements_is_not_compared() {
    let passthrough = fixture("raw-passthrough");
    let run = Pipeline::new("main")
        .source(
            "input",
            vec![TestElement::text("a"), TestElement::text("b")],
        )
        .component("copy", &passthrough, "")
        .collector("out")
        .edge("input", "copy")
        .edge("copy", "out")
        .retain(1)
        .run()
        .unwrap();
    let err = Golden::new(temp("kept-one.jsonl"))
        .bless(true)
        .check(&run)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("sink `out` received 2 elements but the run kept only the first 1"),
        "{err}"
    );
    assert!(!temp("kept-one.jsonl").exists());
}

#[test]
fn a_differing_run_fails_with_the_first_difference_and_bless_rewrites_the_file() {
    let run = passthrough_run();
    let file = temp("golden.jsonl");
    let golden = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/passthrough.jsonl"),
    )
    .unwrap();
    std::fs::write(
        &file,
        golden
            .replace(r#""b""#, r#""c""#)
            .replace("hello world", "hello wOrld"),
    )
    .unwrap();
    let err = Golden::new(&file).bless(false).check(&run).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("first difference at element 0 (line 1, sink `out`)"),
        "{message}"
    );
    assert!(
        message.contains(r#"json $.tags[1]: expected "c", received "b""#),
        "{message}"
    );
    assert!(message.contains("TORVYN_BLESS=1"), "{message}");

    // The text payload's difference.
    let first_ok = golden.lines().next().unwrap().to_string() + "\n";
    let rest: String = golden
        .lines()
        .skip(1)
        .map(|line| line.replace("hello world", "hello wOrld") + "\n")
        .collect();
    std::fs::write(&file, first_ok + &rest).unwrap();
    let message = Golden::new(&file)
        .bless(false)
        .check(&run)
        .unwrap_err()
        .to_string();
    assert!(message.contains("element 1 (line 2"), "{message}");
    assert!(
        message
            .contains(r#"text differs at byte 7: expected "hello wOrld", received "hello world""#),
        "{message}"
    );

    // Bless rewrites it, and the run then matches.
    assert_eq!(
        Golden::new(&file).bless(true).check(&run),
        Ok(GoldenOutcome::Blessed)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), golden);
    assert_eq!(
        Golden::new(&file).bless(false).check(&run),
        Ok(GoldenOutcome::Matched)
    );
}

#[test]
fn golden_files_hold_timestamps_only_when_asked() {
    let run = passthrough_run();
    let plain = Golden::new("unused").lines(&run);
    assert!(plain.iter().all(|line| line.get("timestamp_ns").is_none()));
    let stamped = Golden::new("unused").timestamps(true).lines(&run);
    assert!(
        stamped
            .iter()
            .all(|line| line.get("timestamp_ns").is_some())
    );
}

// --------------------------------------------------------------------- traps

#[test]
fn a_panic_names_the_authors_function_and_source_line() {
    let buggy = fixture("raw-buggy-filter");
    let mut filter = buggy.instantiate("").unwrap();
    assert!(filter.evaluate(TestElement::text("#short")).unwrap());
    let err = filter
        .evaluate(TestElement::text("too long #"))
        .unwrap_err();
    assert!(err.is_trap());
    let frames = err.backtrace().expect("a trap has a backtrace");
    let check = frames
        .iter()
        .find(|frame| frame.function.as_deref() == Some("raw_buggy_filter::check"))
        .unwrap_or_else(|| panic!("no frame of `check` in {frames:#?}"));
    assert!(!check.internal);
    assert!(
        check
            .file
            .as_deref()
            .is_some_and(|file| file.ends_with("src/lib.rs")),
        "{check:?}"
    );
    assert_eq!(check.line, Some(22));
    // std's panic machinery is there, and marked internal.
    assert!(frames.iter().any(|frame| {
        frame.internal
            && frame
                .function
                .as_deref()
                .is_some_and(|f| f.starts_with("std::"))
    }));
    let shown = err.to_string();
    let panic_at = shown
        .find("a 10-byte payload with a `#` is not handled")
        .unwrap();
    let frame_at = shown.find("raw_buggy_filter::check at ").unwrap();
    assert!(panic_at < frame_at, "{shown}");
    assert!(shown.contains("src/lib.rs:22:"), "{shown}");
    assert!(
        !shown.contains("std::panicking"),
        "internal frames are collapsed: {shown}"
    );
    assert!(shown.contains("frames hidden"), "{shown}");
}
