//! Runs the flow `main` of `Torvyn.toml` on the testkit's reference host: every
//! component is built to `wasm32-wasip2`, instantiated with its node's config
//! and limits, and the elements move along the edges as in the Torvyn runtime.
//! Also checks the manifest itself, and what the flow does with bad input.

use std::path::{Path, PathBuf};

use torvyn_testkit::manifest::{ComponentRef, Manifest};
use torvyn_testkit::{ErrorPolicy, NodeSpec, Pipeline, ProcessError, Role, TestElement};

fn manifest_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("Torvyn.toml")
}

#[test]
fn the_flow_keeps_the_even_numbers_and_counts_them() {
    let run = Pipeline::from_manifest(manifest_path(), Some("main"))
        .unwrap_or_else(|err| panic!("{err}"))
        .run()
        .unwrap_or_else(|err| panic!("{err}"));

    // What reached the sink, in order, with the flow's sequence numbers.
    assert_eq!(run.received_text("counter"), ["0", "2", "4", "6", "8"]);
    let sequences: Vec<u64> = run
        .received("counter")
        .iter()
        .map(|o| o.meta.sequence)
        .collect();
    assert_eq!(sequences, [0, 2, 4, 6, 8]);

    // Per-node counts: (received, emitted, dropped, failed).
    let counts = |node: &str| {
        let report = run.node(node);
        (
            report.received,
            report.emitted,
            report.dropped,
            report.failed,
        )
    };
    assert_eq!(counts("numbers"), (0, 10, 0, 0));
    assert_eq!(counts("evens"), (10, 5, 5, 0));
    assert_eq!(counts("counter"), (5, 0, 0, 0));
    assert_eq!(run.elements, 10);
    assert_eq!(run.node("counter").delivered, 5);
    assert!(run.dead_letters.is_empty());
    run.check_accounting().unwrap();
    assert!(
        run.unaccounted().is_empty(),
        "every element is accounted for"
    );

    // The sink logged its totals when the flow completed.
    let logs = &run.node("counter").logs;
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].message, "counter: 5 numbers, sum 20");

    // The trace tells what happened to each element.
    let trace = run.trace.to_string();
    assert!(
        trace.contains("#3: numbers pulled -> evens dropped\n"),
        "{trace}"
    );
    assert!(
        trace.contains("#4: numbers pulled -> evens emitted -> counter delivered\n"),
        "{trace}"
    );
}

#[test]
fn bad_input_fails_the_flow_or_goes_to_the_dead_letters() {
    // Feed the filter from a host-side source instead of the `numbers` component.
    let input = || {
        NodeSpec::source([
            TestElement::text("2"),
            TestElement::text("two"),
            TestElement::text("4"),
        ])
    };
    let flow = || {
        Pipeline::from_manifest(manifest_path(), Some("main"))
            .unwrap_or_else(|err| panic!("{err}"))
            .replace("numbers", input())
    };

    // The default policy (fail-flow): the flow stops at the first error,
    // which names the node and the call.
    let err = flow().run().unwrap_err();
    assert_eq!(err.error.node(), "evens");
    assert_eq!(err.error.call(), Some("evaluate"));
    assert_eq!(
        err.error.process_error(),
        Some(&ProcessError::InvalidInput("`two` is not a number".into()))
    );
    // `two` failed; `4` was never pulled (each element goes as far as it can
    // before the next is pulled), so nothing was queued to discard.
    let evens = err.report.node("evens");
    assert_eq!((evens.received, evens.failed, evens.discarded), (2, 1, 0));
    assert!(err.report.unaccounted().is_empty());
    err.report.check_accounting().unwrap();

    // Dead-letter: the bad element is set aside with its error; the rest flows.
    let run = flow()
        .policy("evens", ErrorPolicy::DeadLetter)
        .run()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(run.received_text("counter"), ["2", "4"]);
    assert_eq!(run.dead_letters.len(), 1);
    assert_eq!(run.dead_letters[0].node, "evens");
    assert_eq!(run.dead_letters[0].sequence, 1);
    assert_eq!(run.dead_letters[0].element.payload().as_bytes(), b"two");
    assert_eq!(run.node("evens").dead_lettered, 1);
    assert!(run.unaccounted().is_empty());
}

#[test]
fn the_manifest_matches_the_components() {
    let manifest = Manifest::from_path(manifest_path()).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(manifest.torvyn.name, env!("CARGO_PKG_NAME"));
    assert_eq!(manifest.torvyn.contract_version, "0.1.0");
    let flow = manifest.flow(Some("main")).unwrap();
    let nodes: Vec<(&str, Role)> = flow
        .nodes
        .values()
        .map(|node| (node.name.as_str(), node.interface))
        .collect();
    assert_eq!(
        nodes,
        [
            ("counter", Role::Sink),
            ("evens", Role::Filter),
            ("numbers", Role::Source)
        ]
    );
    for node in flow.nodes.values() {
        let ComponentRef::Crate { path, .. } = &node.component else {
            panic!("node `{}` should name a component crate", node.name)
        };
        assert!(path.join("Cargo.toml").is_file(), "{}", path.display());
    }

    // Every node's config is accepted by its component's typed config (the
    // parser the components' `init` uses).
    let config = |node: &str| flow.nodes[node].config.clone().unwrap_or_default();
    let numbers: {{crate_name}}_numbers::Config =
        torvyn_guest::config::parse(&config("numbers")).unwrap();
    assert_eq!(numbers.count, 10);
    let evens: {{crate_name}}_every_nth::Config =
        torvyn_guest::config::parse(&config("evens")).unwrap();
    assert_eq!(evens.every, 2);
    assert_eq!(
        flow.nodes["counter"].config, None,
        "the counter takes no config"
    );
}
