//! Host costs that must not grow faster than the work, and limits that do not
//! depend on the machine's load: captured output, graph checks of large
//! manifests and pipelines, the CPU-time call limit, oversized elements,
//! `--input`, build errors and small input checks.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use torvyn_testkit::manifest::{Manifest, ManifestErrorKind};
use torvyn_testkit::{ErrorKind, Limits, Signal, TestElement};
use torvyn_testkit::{NodeSpec, Pipeline};

use crate::support::{busy_machine, fixture, scratch};

fn temp(name: &str) -> PathBuf {
    scratch("cost").join(name)
}

const HEADER: &str = "[torvyn]\nname = \"p\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n";

fn node(name: &str, component: &str, interface: &str) -> String {
    format!(
        "\n[flow.main.nodes.{name}]\ncomponent = \"{component}\"\ninterface = \"torvyn:{interface}\"\n"
    )
}

fn edge(from: &str, to: &str) -> String {
    format!(
        "\n[[flow.main.edges]]\nfrom = {{ node = \"{from}\", port = \"output\" }}\nto = {{ node = \"{to}\", port = \"input\" }}\n"
    )
}

// ---- captured output -------------------------------------------------------

#[test]
fn output_past_the_capture_limit_is_truncated_with_a_marker_naming_the_node() {
    let component = fixture("raw-stdout-sink");
    let mut sink = component
        .options()
        .name("chatty")
        .limits(Limits::default().capture(64))
        .instantiate()
        .unwrap();
    // Every write succeeds for the component: it never sees a broken pipe.
    for n in 0..100u64 {
        assert_eq!(
            sink.push(TestElement::text("x").sequence(n)).unwrap(),
            Signal::Ready
        );
    }
    sink.complete().unwrap();
    let stdout = sink.stdout();
    assert!(stdout.starts_with("got 0\ngot 1\n"), "{stdout}");
    let (kept, marker) = stdout.trim_end().rsplit_once('\n').unwrap();
    assert_eq!(kept.len(), 64, "{stdout}");
    assert!(
        marker.starts_with(
            "[torvyn-testkit: stdout capture limit of 64 bytes reached by node `chatty`; the next "
        ),
        "{marker}"
    );
    assert!(
        marker.ends_with("raise it with `Limits::capture`]"),
        "{marker}"
    );
    let stderr = sink.stderr();
    assert!(
        stderr.contains("stderr capture limit of 64 bytes reached by node `chatty`"),
        "{stderr}"
    );
}

#[test]
fn a_panic_past_the_capture_limit_still_reports_its_message() {
    let component = fixture("raw-panic-filter");
    let mut filter = component
        .options()
        .limits(Limits::default().capture(8))
        .instantiate()
        .unwrap();
    assert!(filter.evaluate(TestElement::text("a").sequence(1)).unwrap());
    let err = filter
        .evaluate(TestElement::text("b").sequence(2))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("the component panicked: boom: element 2 is cursed"),
        "{err}"
    );
}

// ---- graph checks ----------------------------------------------------------

/// A manifest of a source, `n - 2` processors in a chain and a sink; with
/// `cycle`, one more edge from the last processor back to the first.
fn chain_manifest(n: usize, cycle: bool) -> String {
    let mut text = String::from(HEADER);
    text += &node("n0", "file://src.wasm", "streaming/source");
    for i in 1..n - 1 {
        text += &node(&format!("n{i}"), "file://p.wasm", "streaming/processor");
    }
    text += &node(&format!("n{}", n - 1), "file://out.wasm", "streaming/sink");
    for i in 0..n - 1 {
        text += &edge(&format!("n{i}"), &format!("n{}", i + 1));
    }
    if cycle {
        text += &edge(&format!("n{}", n - 2), "n1");
    }
    text
}

#[test]
fn a_50_000_node_manifest_chain_validates_and_a_long_cycle_error_is_short() {
    let n = 50_000;
    let manifest = Manifest::parse(&chain_manifest(n, false), Path::new("/p")).unwrap();
    let flow = manifest.flow(None).unwrap();
    assert_eq!(flow.nodes.len(), n);
    assert_eq!(flow.edges.len(), n - 1);

    // The cycle message over a long chain (a shorter one: parsing TOML is most
    // of the time in a debug build).
    let n = 2_000;
    let err = Manifest::parse(&chain_manifest(n, true), Path::new("/p")).unwrap_err();
    assert_eq!(err.kind(), ManifestErrorKind::Graph);
    assert_eq!(
        err.key(),
        Some(format!("flow.main.edges[{}]", n - 1).as_str())
    );
    let message = err.to_string();
    assert!(message.len() < 400, "{} bytes: {message}", message.len());
    assert!(
        message.contains(&format!(
            "this edge closes the cycle n1 -> n2 -> n3 -> n4 -> n5 -> ({} more nodes) -> n{} -> n{} -> n{} -> n{} -> n1;",
            n - 2 - 9,
            n - 5,
            n - 4,
            n - 3,
            n - 2
        )),
        "{message}"
    );
}

#[test]
fn a_50_000_node_pipeline_validates_and_its_cycle_error_is_short() {
    let n = 50_000;
    // Every filter fails `init`: the run validates the whole graph, then stops
    // at the first component it instantiates.
    let filter = fixture("raw-failing-init");
    let chain = |cycle: bool| {
        let mut pipeline = Pipeline::new("long").source("n0", vec![TestElement::text("x")]);
        for i in 1..n - 1 {
            pipeline = pipeline.component(format!("n{i}"), &filter, "");
        }
        pipeline = pipeline.collector(format!("n{}", n - 1));
        for i in 0..n - 1 {
            pipeline = pipeline.edge(format!("n{i}"), format!("n{}", i + 1));
        }
        if cycle {
            pipeline = pipeline.edge(format!("n{}", n - 2), "n1");
        }
        pipeline
    };
    let err = chain(false).run().unwrap_err();
    assert_eq!(err.error.node(), "n1", "{}", err.error);
    assert_eq!(err.error.call(), Some("init"), "{}", err.error);

    let err = chain(true).run().unwrap_err();
    let message = err.error.to_string();
    assert!(message.len() < 400, "{} bytes: {message}", message.len());
    assert!(
        message.starts_with(&format!(
            "flow `long` has a cycle: n1 -> n2 -> n3 -> n4 -> n5 -> ({} more nodes) -> n{} -> n{} -> n{} -> n{} -> n1;",
            n - 2 - 9,
            n - 5,
            n - 4,
            n - 3,
            n - 2
        )),
        "{message}"
    );

    let twice = Pipeline::new("twice")
        .source("a", vec![])
        .collector("a")
        .run()
        .unwrap_err();
    assert_eq!(
        twice.error.to_string(),
        "two nodes are named `a`; node names must be unique"
    );
}

// ---- the time limit measures CPU time --------------------------------------

/// Threads that keep every core busy until dropped.
struct Busy(Arc<AtomicBool>, Vec<std::thread::JoinHandle<()>>);

impl Busy {
    fn start(threads: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let handles = (0..threads)
            .map(|_| {
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        x = std::hint::black_box(x.wrapping_add(1));
                    }
                })
            })
            .collect();
        Busy(stop, handles)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
        for handle in self.1.drain(..) {
            let _ = handle.join();
        }
    }
}

#[test]
fn slow_allocation_toward_the_memory_limit_is_out_of_memory_on_a_busy_machine() {
    let component = fixture("raw-slow-oom-processor");
    let limits = Limits::default()
        .memory(16 << 20)
        .call_timeout(Duration::from_millis(1500));
    // The tests that measure wall-clock time wait until this one is done.
    let _machine = busy_machine();
    // More busy threads than cores: the call gets a fraction of a core, so its
    // wall-clock time is several times its CPU time. The CPU time it needs to
    // reach the limit is well under the time limit.
    let _busy = Busy::start(6);
    for _ in 0..2 {
        let mut processor = component
            .options()
            .name("hoarder")
            .config("200000")
            .limits(limits.clone())
            .instantiate()
            .unwrap();
        let started = std::time::Instant::now();
        let err = processor.process(TestElement::text("x")).unwrap_err();
        assert!(
            err.is_out_of_memory(),
            "after {:?}: {err}",
            started.elapsed()
        );
        assert!(
            err.to_string()
                .starts_with("node `hoarder` (processor) ran out of memory in `process`"),
            "{err}"
        );
    }
}

// ---- oversized elements, --input, build errors, small checks ----------------

#[test]
fn an_oversized_element_is_refused_naming_its_sequence_and_the_limit() {
    let mut filter = fixture("raw-filter").instantiate("").unwrap();
    let big = TestElement::bytes(vec![0u8; (16 << 20) + 1]).sequence(7);
    let err = filter.evaluate(big).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::ElementTooLarge {
                bytes,
                limit,
                sequence: 7
            } if *bytes == (16 << 20) + 1 && *limit == 16 << 20
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert_eq!(
        message,
        "node `raw-filter` (filter) was not called (`evaluate`): element #7 has a payload of \
         16777217 bytes, above the contract's 16 MiB per-buffer limit; split it into smaller \
         elements"
    );
    assert!(!message.contains("bad config"));
    // The component was not called, and is not spent.
    assert!(
        filter
            .evaluate(TestElement::json(serde_json::json!({"ok": true})))
            .unwrap()
    );
}

#[test]
fn json_lines_input_names_the_line_of_an_oversized_or_non_utf8_line_and_skips_a_bom() {
    let big = temp("big.jsonl");
    let mut text = b"{\"n\": 1}\n\"".to_vec();
    text.resize(text.len() + (16 << 20), b'a');
    text.extend_from_slice(b"\"\n");
    std::fs::write(&big, &text).unwrap();
    let err = NodeSpec::source_jsonl(&big).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}:2: the line is 16777218 bytes, above the contract's 16 MiB per-buffer limit, \
             so it cannot be one element; split it into smaller elements",
            big.display()
        )
    );

    let latin1 = temp("latin1.jsonl");
    std::fs::write(&latin1, b"{\"n\": 1}\n\n{\"name\": \"caf\xe9\"}\n").unwrap();
    let err = NodeSpec::source_jsonl(&latin1).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}:3: the line is not UTF-8 (invalid byte at column 14); a JSON-lines input must \
             be UTF-8 text",
            latin1.display()
        )
    );

    let bom = temp("bom.jsonl");
    std::fs::write(&bom, b"\xef\xbb\xbf{\"n\": 1}\r\n{\"n\": 2}\r\n").unwrap();
    let run = Pipeline::new("bom")
        .node("in", NodeSpec::source_jsonl(&bom).unwrap())
        .collector("out")
        .edge("in", "out")
        .run()
        .unwrap();
    assert_eq!(run.received_text("out"), [r#"{"n":1}"#, r#"{"n":2}"#]);
}

#[test]
fn a_byte_order_mark_is_skipped_in_the_manifest_too() {
    let text = format!(
        "\u{feff}{HEADER}{}{}{}",
        node("src", "file://src.wasm", "streaming/source"),
        node("out", "file://out.wasm", "streaming/sink"),
        edge("src", "out")
    );
    let manifest = Manifest::parse(&text, Path::new("/p")).unwrap();
    assert_eq!(manifest.torvyn.name, "p");
}

#[test]
fn a_fuel_budget_of_zero_is_rejected_like_a_memory_limit_of_zero() {
    let flow = format!(
        "{}{}{}",
        node("src", "file://src.wasm", "streaming/source"),
        edge("src", "out"),
        node("out", "file://out.wasm", "streaming/sink"),
    );
    let err =
        Manifest::parse(&format!("{HEADER}{flow}fuel_budget = 0\n"), Path::new("/p")).unwrap_err();
    assert_eq!(err.kind(), ManifestErrorKind::Invalid);
    assert_eq!(err.key(), Some("flow.main.nodes.out.fuel_budget"));
    assert!(
        err.to_string()
            .contains("a fuel budget of 0 leaves no fuel for a single instruction"),
        "{err}"
    );
    let err = Manifest::parse(
        &format!("{HEADER}[runtime]\ndefault_fuel_per_invocation = 0\n{flow}"),
        Path::new("/p"),
    )
    .unwrap_err();
    assert_eq!(err.key(), Some("runtime.default_fuel_per_invocation"));
}

/// A project whose source is a `[[component]]` crate at `source_crate`, with
/// a built filter and sink.
fn project(dir: &str, source_crate: &Path) -> PathBuf {
    let root = temp(dir);
    std::fs::create_dir_all(&root).unwrap();
    let filter = fixture("raw-filter");
    let sink = fixture("raw-stdout-sink");
    let text = format!(
        "{HEADER}\n[[component]]\nname = \"numbers\"\npath = \"{}\"\n{}{}{}{}{}",
        source_crate.display(),
        node("numbers", "numbers", "streaming/source"),
        node(
            "keep",
            &format!("file://{}", filter.path().display()),
            "filtering/filter"
        ),
        node(
            "out",
            &format!("file://{}", sink.path().display()),
            "streaming/sink"
        ),
        edge("numbers", "keep"),
        edge("keep", "out")
    );
    let manifest = root.join("Torvyn.toml");
    std::fs::write(&manifest, text).unwrap();
    manifest
}

#[test]
fn a_build_error_names_the_manifest_node_and_the_crate_path() {
    let empty = temp("emptydir");
    std::fs::create_dir_all(&empty).unwrap();
    let manifest = project("build-error", &empty);
    let err = Pipeline::from_manifest(&manifest, None).unwrap_err();
    assert_eq!(err.node(), "numbers");
    assert!(matches!(err.kind(), ErrorKind::Build(_)), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "node `numbers` (`flow.main.nodes.numbers` in {}) did not build: the crate of \
             [[component]] `numbers` at {}: ",
            manifest.display(),
            empty.display()
        )),
        "{message}"
    );
}

#[test]
fn an_input_replaces_the_source_without_building_it() {
    let empty = temp("not-a-crate");
    std::fs::create_dir_all(&empty).unwrap();
    let manifest = project("input", &empty);
    let input = temp("input.jsonl");
    std::fs::write(&input, "{\"n\": 1}\n{\"n\": 2}\n").unwrap();
    let run = Pipeline::from_manifest_with_source(
        &manifest,
        None,
        NodeSpec::source_jsonl(&input).unwrap(),
    )
    .unwrap()
    .run()
    .unwrap();
    assert_eq!(run.node("numbers").emitted, 2);
    assert_eq!(run.node("out").received, 2);
}
