//! One table of small flow graphs, each run through both the `Torvyn.toml`
//! check ([`Manifest::parse`]) and the pipeline builder ([`Pipeline::run`]):
//! the two must give the same verdict, for the same rule. Both check the
//! graph with the same model (`graph.rs`), so they agree by construction;
//! this table keeps it so.

use std::fmt::Write;
use std::path::Path;

use torvyn_testkit::manifest::{Manifest, ManifestErrorKind};
use torvyn_testkit::{ErrorKind, Role, TestElement};
use torvyn_testkit::{NodeSpec, Pipeline, Scripted};

use crate::support::scratch;

/// A node: its name and role.
type N = (&'static str, Role);
/// An edge: from, the port it leaves by, to, and a queue depth if not the default.
type E = (&'static str, &'static str, &'static str, Option<usize>);

/// What both sides must say: accept, or reject for a rule, naming the
/// manifest's key (and its kind) and a part of the builder's message.
enum Verdict {
    Accepts,
    Rejects {
        key: &'static str,
        kind: ManifestErrorKind,
        manifest_says: &'static str,
        builder_says: &'static str,
    },
}
use Verdict::{Accepts, Rejects};

struct Case {
    name: &'static str,
    nodes: &'static [N],
    edges: &'static [E],
    verdict: Verdict,
}

const S: Role = Role::Source;
const P: Role = Role::Processor;
const F: Role = Role::Filter;
const R: Role = Role::Router;
const A: Role = Role::Aggregator;
const K: Role = Role::Sink;
const G: ManifestErrorKind = ManifestErrorKind::Graph;

const fn e(from: &'static str, to: &'static str) -> E {
    (from, "output", to, None)
}

const CASES: &[Case] = &[
    Case {
        name: "a chain",
        nodes: &[("s", S), ("p", P), ("f", F), ("k", K)],
        edges: &[e("s", "p"), e("p", "f"), e("f", "k")],
        verdict: Accepts,
    },
    Case {
        name: "fan-out by router ports and fan-in",
        nodes: &[("s", S), ("r", R), ("a", A), ("k", K)],
        edges: &[
            ("s", "output", "r", Some(2)),
            ("r", "left", "a", None),
            ("r", "right", "k", None),
            e("a", "k"),
        ],
        verdict: Accepts,
    },
    Case {
        name: "two sources into one sink",
        nodes: &[("s1", S), ("s2", S), ("k", K)],
        edges: &[e("s1", "k"), e("s2", "k")],
        verdict: Accepts,
    },
    Case {
        name: "a processor without an outgoing edge",
        nodes: &[("s", S), ("p", P), ("k", K)],
        edges: &[e("s", "p"), e("s", "k")],
        verdict: Rejects {
            key: "flow.main.nodes.p",
            kind: G,
            manifest_says: "the processor has no outgoing edge, so its output would be lost",
            builder_says: "node `p` (processor) has no outgoing edge, so its output would be lost",
        },
    },
    Case {
        name: "a source without an outgoing edge",
        nodes: &[("s", S), ("idle", S), ("k", K)],
        edges: &[e("s", "k")],
        verdict: Rejects {
            key: "flow.main.nodes.idle",
            kind: G,
            manifest_says: "the source has no outgoing edge",
            builder_says: "node `idle` (source) has no outgoing edge",
        },
    },
    Case {
        name: "a filter without an incoming edge",
        nodes: &[("s", S), ("f", F), ("k", K)],
        edges: &[e("s", "k"), e("f", "k")],
        verdict: Rejects {
            key: "flow.main.nodes.f",
            kind: G,
            manifest_says: "the filter has no incoming edge",
            builder_says: "node `f` (filter) has no incoming edge",
        },
    },
    Case {
        name: "a sink without an incoming edge",
        nodes: &[("s", S), ("k", K), ("k2", K)],
        edges: &[e("s", "k")],
        verdict: Rejects {
            key: "flow.main.nodes.k2",
            kind: G,
            manifest_says: "the sink has no incoming edge",
            builder_says: "node `k2` (sink) has no incoming edge",
        },
    },
    Case {
        name: "an edge into a source",
        nodes: &[("s", S), ("p", P), ("s2", S), ("k", K)],
        edges: &[e("s", "p"), e("p", "k"), e("p", "s2")],
        verdict: Rejects {
            key: "flow.main.edges[2].to.node",
            kind: G,
            manifest_says: "\"s2\" is a source, and a source takes no input",
            builder_says: "edge `p` -> `s2`: `s2` is a source, and sources take no input",
        },
    },
    Case {
        name: "an edge out of a sink",
        nodes: &[("s", S), ("k", K), ("k2", K)],
        edges: &[e("s", "k"), e("k", "k2")],
        verdict: Rejects {
            key: "flow.main.edges[1].from.node",
            kind: G,
            manifest_says: "\"k\" is a sink, and a sink has no output",
            builder_says: "edge `k` -> `k2`: `k` is a sink, and sinks have no output",
        },
    },
    Case {
        name: "an edge to a node that does not exist",
        nodes: &[("s", S), ("k", K)],
        edges: &[e("s", "k"), e("s", "kk")],
        verdict: Rejects {
            key: "flow.main.edges[1].to.node",
            kind: G,
            manifest_says: "no node named \"kk\" in flow \"main\" (nodes: k, s)",
            builder_says: "edge `s` -> `kk`: there is no node `kk` (nodes: s, k)",
        },
    },
    Case {
        name: "a cycle",
        nodes: &[("s", S), ("p", P), ("q", P), ("k", K)],
        edges: &[e("s", "p"), e("p", "q"), e("q", "p"), e("q", "k")],
        verdict: Rejects {
            key: "flow.main.edges[2]",
            kind: G,
            manifest_says: "this edge closes the cycle p -> q -> p",
            builder_says: "flow `main` has a cycle: p -> q -> p",
        },
    },
    Case {
        name: "a self-loop",
        nodes: &[("s", S), ("p", P), ("k", K)],
        edges: &[e("s", "p"), e("p", "p"), e("p", "k")],
        verdict: Rejects {
            key: "flow.main.edges[1]",
            kind: G,
            manifest_says: "this edge closes the cycle p -> p",
            builder_says: "flow `main` has a cycle: p -> p",
        },
    },
    Case {
        name: "no source",
        nodes: &[("p", P), ("k", K)],
        edges: &[e("p", "k")],
        verdict: Rejects {
            key: "flow.main.nodes",
            kind: G,
            manifest_says: "the flow has no source (nodes: k, p)",
            builder_says: "flow `main` has no source node",
        },
    },
    Case {
        name: "no nodes",
        nodes: &[],
        edges: &[],
        verdict: Rejects {
            key: "flow.main",
            kind: G,
            manifest_says: "the flow has no nodes",
            builder_says: "flow `main` has no nodes",
        },
    },
    Case {
        name: "a queue depth of 0",
        nodes: &[("s", S), ("k", K)],
        edges: &[("s", "output", "k", Some(0))],
        verdict: Rejects {
            key: "flow.main.edges[0].queue_depth",
            kind: ManifestErrorKind::Invalid,
            manifest_says: "a queue depth of 0",
            builder_says: "edge `s` -> `k`: a queue depth must be at least 1",
        },
    },
];

fn manifest(case: &Case) -> String {
    let mut text =
        String::from("[torvyn]\nname = \"p\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n");
    if case.nodes.is_empty() {
        text.push_str("[flow.main]\ndescription = \"nothing\"\n");
    }
    for (name, role) in case.nodes {
        write!(
            text,
            "[flow.main.nodes.{name}]\ncomponent = \"file://{name}.wasm\"\ninterface = \"{}\"\n",
            role.interface()
        )
        .unwrap();
    }
    for (from, port, to, depth) in case.edges {
        write!(
            text,
            "[[flow.main.edges]]\nfrom = {{ node = \"{from}\", port = \"{port}\" }}\n\
             to = {{ node = \"{to}\", port = \"input\" }}\n"
        )
        .unwrap();
        if let Some(depth) = depth {
            writeln!(text, "queue_depth = {depth}").unwrap();
        }
    }
    text
}

fn pipeline(case: &Case) -> Pipeline {
    let mut pipeline = Pipeline::new("main");
    for &(name, role) in case.nodes {
        let spec = match role {
            Role::Source => NodeSpec::source([TestElement::text("a"), TestElement::text("b")]),
            Role::Sink => NodeSpec::collector(),
            Role::Processor => NodeSpec::scripted(Scripted::processor(1)),
            Role::Filter => NodeSpec::scripted(Scripted::filter(1)),
            Role::Router => NodeSpec::scripted(Scripted::router(1)),
            Role::Aggregator => NodeSpec::scripted(Scripted::aggregator(1, 2)),
        };
        pipeline = pipeline.node(name, spec);
    }
    for &(from, port, to, depth) in case.edges {
        pipeline = pipeline.edge_from_port(from, port, to);
        if let Some(depth) = depth {
            pipeline = pipeline.edge_depth(depth);
        }
    }
    pipeline
}

#[test]
fn the_manifest_and_the_builder_give_the_same_verdict_on_every_graph_rule() {
    let mut wrong = Vec::new();
    for case in CASES {
        let text = manifest(case);
        let from_manifest = Manifest::parse(&text, Path::new("."));
        let from_builder = pipeline(case).run();
        match (&case.verdict, from_manifest, from_builder) {
            (Accepts, Ok(manifest), Ok(run)) => {
                assert_eq!(manifest.flow(None).unwrap().edges.len(), case.edges.len());
                assert!(run.elements > 0, "{}: nothing moved", case.name);
            }
            (
                Rejects {
                    key,
                    kind,
                    manifest_says,
                    builder_says,
                },
                Err(manifest),
                Err(builder),
            ) => {
                // One problem, the rule's: not also its consequences.
                let problems = manifest.problems();
                if problems.len() != 1
                    || problems[0].key() != Some(*key)
                    || problems[0].kind() != *kind
                    || !problems[0].message().contains(manifest_says)
                {
                    wrong.push(format!(
                        "{}: the manifest should say {key}: {manifest_says} ({kind:?}), but says:\n{manifest}",
                        case.name
                    ));
                }
                let said = builder.error.to_string();
                if !matches!(builder.error.kind(), ErrorKind::Pipeline(_))
                    || !said.contains(builder_says)
                {
                    wrong.push(format!(
                        "{}: the builder should say {builder_says:?}, but says {said:?}",
                        case.name
                    ));
                }
                assert_eq!(builder.report.elements, 0, "{}", case.name);
            }
            (_, manifest, builder) => wrong.push(format!(
                "{}: the manifest says {:?}, the builder {:?}",
                case.name,
                manifest.map(|_| "ok").map_err(|err| err.to_string()),
                builder.map(|_| "ok").map_err(|err| err.to_string()),
            )),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

/// A manifest in a fresh directory of its own.
fn manifest_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = scratch(&format!("graph-rules-{name}"));
    let path = dir.join("Torvyn.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn from_manifest_keeps_the_manifest_error_with_its_problems() {
    // The processor without an outgoing edge used to pass the manifest and
    // fail only at `run`, as a plain pipeline message.
    let case = CASES
        .iter()
        .find(|case| case.name == "a processor without an outgoing edge")
        .unwrap();
    let path = manifest_file("no-out", &manifest(case));
    for loaded in [
        Pipeline::from_manifest(&path, None),
        Pipeline::from_manifest_with_source(&path, None, NodeSpec::collector()),
    ] {
        let err = loaded.unwrap_err();
        let ErrorKind::Manifest(manifest) = err.kind() else {
            panic!("not a manifest error: {err:?}");
        };
        assert_eq!(manifest.file(), path.display().to_string());
        let [problem] = manifest.problems() else {
            panic!("one problem: {manifest}");
        };
        assert_eq!(problem.kind(), ManifestErrorKind::Graph);
        assert_eq!(problem.key(), Some("flow.main.nodes.p"));
        // The line of `[flow.main.nodes.p]`.
        assert_eq!(problem.line(), Some(8), "{manifest}");
        assert!(
            problem.message().contains("has no outgoing edge"),
            "{manifest}"
        );
    }

    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();

    // Every problem of the file, not only the first.
    let text = manifest(case).replace("[torvyn]\n", "[torvyn]\nlicence = \"MIT\"\n")
        + "[[flow.main.edges]]\nfrom = { node = \"p\", port = \"output\" }\nto = { node = \"kk\", port = \"input\" }\n";
    let path = manifest_file("two", &text);
    let err = Pipeline::from_manifest(&path, None).unwrap_err();
    let ErrorKind::Manifest(manifest) = err.kind() else {
        panic!("not a manifest error: {err:?}");
    };
    let keys: Vec<Option<&str>> = manifest.problems().iter().map(|p| p.key()).collect();
    assert_eq!(
        keys,
        [Some("torvyn.licence"), Some("flow.main.edges[2].to.node")],
        "{manifest}"
    );
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}
