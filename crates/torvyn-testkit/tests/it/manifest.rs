//! `Torvyn.toml` parsing: the upstream schema, strict keys, graph checks, and
//! error messages that name the file and the key.

use std::path::{Path, PathBuf};

use torvyn_testkit::BackpressurePolicy;
use torvyn_testkit::ErrorPolicy;
use torvyn_testkit::Role;
use torvyn_testkit::manifest::{ComponentRef, Endpoint, Manifest, ManifestErrorKind, parse_size};

use crate::support::{fixture_dir, scratch};

const HEADER: &str = "[torvyn]\nname = \"p\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n";

const FLOW: &str = r#"
[flow.main.nodes.src]
component = "file://src.wasm"
interface = "torvyn:streaming/source"

[flow.main.nodes.keep]
component = "file://keep.wasm"
interface = "torvyn:filtering/filter@0.1.0"

[flow.main.nodes.out]
component = "file://out.wasm"
interface = "torvyn:streaming/sink"

[[flow.main.edges]]
from = { node = "src", port = "output" }
to = { node = "keep", port = "input" }

[[flow.main.edges]]
from = { node = "keep", port = "output" }
to = { node = "out", port = "input" }
"#;

/// A node table and an edge to add to [`FLOW`].
fn node(name: &str, interface: &str) -> String {
    format!(
        "\n[flow.main.nodes.{name}]\ncomponent = \"file://{name}.wasm\"\ninterface = \"{interface}\"\n"
    )
}

fn edge(from: &str, to: &str) -> String {
    format!(
        "\n[[flow.main.edges]]\nfrom = {{ node = \"{from}\", port = \"output\" }}\nto = {{ node = \"{to}\", port = \"input\" }}\n"
    )
}

fn parse(text: &str) -> Result<Manifest, String> {
    Manifest::parse(text, Path::new("/p")).map_err(|err| err.to_string())
}

#[track_caller]
fn error(text: &str) -> String {
    match Manifest::parse(text, Path::new("/p")) {
        Ok(manifest) => panic!("the manifest must be rejected, got {manifest:#?}"),
        Err(err) => {
            let message = err.to_string();
            assert!(message.starts_with("Torvyn.toml: "), "{message}");
            assert_eq!(message, format!("Torvyn.toml: {}", err.message()));
            message
        }
    }
}

#[track_caller]
fn assert_contains(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(
            message.contains(part),
            "expected {part:?} in the message:\n{message}"
        );
    }
}

#[test]
fn the_pipeline_template_manifest_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates/pipeline/Torvyn.toml");
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("{{project-name}}", "demo");
    let manifest = Manifest::parse(&text, Path::new("/demo")).unwrap();
    assert_eq!(manifest.torvyn.name, "demo");
    assert_eq!(manifest.torvyn.contract_version, "0.1.0");
    assert_eq!(manifest.base_dir(), Path::new("/demo"));
    assert_eq!(manifest.components.len(), 3);
    assert_eq!(manifest.components[1].name, "every-nth");
    assert_eq!(
        manifest.components[1].path,
        PathBuf::from("components/every-nth")
    );
    assert_eq!(manifest.components[1].language.as_deref(), Some("rust"));
    assert_eq!(
        manifest.components[1].build_command.as_deref(),
        Some("cargo build --release --target wasm32-wasip2 -p demo-every-nth")
    );
    assert_eq!(manifest.runtime.max_memory_per_component, Some(16 << 20));
    assert_eq!(
        manifest.runtime.default_fuel_per_invocation,
        Some(1_000_000)
    );
    assert_eq!(manifest.runtime.backpressure.default_queue_depth, Some(64));
    assert_eq!(
        manifest.runtime.backpressure.backpressure_policy,
        BackpressurePolicy::BlockProducer
    );
    let flow = manifest.flow(None).unwrap();
    assert_eq!(flow.name, "main");
    assert_eq!(flow.nodes.len(), 3);
    assert_eq!(flow.edges.len(), 2);
    assert_eq!(flow.nodes["numbers"].interface, Role::Source);
    assert_eq!(flow.nodes["evens"].interface, Role::Filter);
    assert_eq!(flow.nodes["counter"].interface, Role::Sink);
    assert_eq!(
        flow.nodes["evens"].config.as_deref(),
        Some(r#"{"every": 2}"#)
    );
    assert_eq!(
        flow.nodes["evens"].component,
        ComponentRef::Crate {
            name: "every-nth".into(),
            path: "/demo/components/every-nth".into(),
            config: None
        }
    );
    assert_eq!(
        flow.edges[1].from,
        Endpoint {
            node: "evens".into(),
            port: "output".into()
        }
    );
    assert_eq!(flow.edges[1].to.node, "counter");
    assert_eq!(flow.edges[1].queue_depth, None);
}

#[test]
fn the_flow_project_fixture_parses() {
    let path = fixture_dir("flow-project/Torvyn.toml");
    let manifest = Manifest::from_path(&path).unwrap();
    assert_eq!(manifest.base_dir(), path.parent().unwrap());
    assert_eq!(manifest.runtime.max_memory_per_component, Some(32 << 20));
    assert_eq!(manifest.runtime.backpressure.default_queue_depth, Some(4));
    let flow = manifest.flow(None).unwrap();
    assert_eq!(
        flow.nodes.keys().collect::<Vec<_>>(),
        ["count", "enrich", "limit", "source"]
    );
    assert_eq!(flow.edges.len(), 3);
    assert_eq!(flow.nodes["enrich"].interface, Role::Processor);
    match &flow.nodes["limit"].component {
        ComponentRef::Crate {
            name,
            path: dir,
            config,
        } => {
            assert_eq!(name, "limiter");
            assert!(dir.ends_with("examples/rate-limiter"), "{}", dir.display());
            assert_eq!(
                config.as_deref(),
                Some(r#"{"max_per_second": 2, "window_ms": 3}"#)
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(flow.nodes["limit"].config, None);
}

#[test]
fn from_path_resolves_against_the_file_and_names_it_in_errors() {
    let dir = scratch("manifest");
    let good = dir.join("Torvyn.toml");
    std::fs::write(&good, format!("{HEADER}{FLOW}")).unwrap();
    let manifest = Manifest::from_path(&good).unwrap();
    assert_eq!(manifest.base_dir(), dir.as_path());
    assert_eq!(
        manifest.flow(Some("main")).unwrap().nodes["keep"].component,
        ComponentRef::File(dir.join("keep.wasm"))
    );

    let bad = dir.join("Bad.toml");
    std::fs::write(&bad, format!("{HEADER}{FLOW}").replace("\"kee", "\"kep")).unwrap();
    let err = Manifest::from_path(&bad).unwrap_err();
    assert_eq!(err.file(), bad.display().to_string());
    assert!(
        err.to_string()
            .starts_with(&format!("{}: flow.main.", bad.display())),
        "{err}"
    );

    let missing = dir.join("Missing.toml");
    let err = Manifest::from_path(&missing).unwrap_err();
    assert_eq!(err.kind(), ManifestErrorKind::Read);
    assert!(
        err.to_string().starts_with(&format!(
            "{}: cannot read the manifest: ",
            missing.display()
        )),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unknown_keys_are_rejected_with_their_name_and_position() {
    let top = error(&format!("colour = 1\n{HEADER}{FLOW}"));
    assert_contains(
        &top,
        &[
            "line 1",
            "colour = 1",
            "unknown field `colour`",
            "`torvyn`",
            "`flow`",
        ],
    );
    let project = error(&format!("{HEADER}licence = \"MIT\"\n{FLOW}"));
    assert_contains(
        &project,
        &["line 5", "unknown field `licence`", "`contract_version`"],
    );

    let node = error(&format!(
        "{HEADER}{}",
        FLOW.replace(
            "interface = \"torvyn:streaming/sink\"",
            "interface = \"torvyn:streaming/sink\"\nfuel = 5"
        )
    ));
    assert_contains(&node, &["unknown field `fuel`", "fuel_budget", "fuel = 5"]);

    let edge = error(&format!(
        "{HEADER}{}",
        FLOW.replace(
            "to = { node = \"out\", port = \"input\" }",
            "to = { node = \"out\", port = \"input\" }\ndepth = 3"
        )
    ));
    assert_contains(&edge, &["unknown field `depth`", "queue_depth"]);

    let endpoint = error(&format!(
        "{HEADER}{}",
        FLOW.replace("to = { node = \"out\"", "to = { nod = \"out\"")
    ));
    assert_contains(&endpoint, &["unknown field `nod`"]);

    let runtime = error(&format!("{HEADER}[runtime]\nmax_memory = \"1MiB\"\n{FLOW}"));
    assert_contains(
        &runtime,
        &["unknown field `max_memory`", "max_memory_per_component"],
    );

    let policy = error(&format!(
        "{HEADER}[runtime.backpressure]\nbackpressure_policy = \"block\"\n{FLOW}"
    ));
    assert_contains(&policy, &["block", "block-producer", "drop-oldest"]);

    let syntax = error("[torvyn\nname = 1");
    assert_contains(&syntax, &["line 1"]);
}

#[test]
fn missing_required_keys_are_named() {
    let cases = [
        (
            "[torvyn]\nname = \"p\"\nversion = \"1\"\n",
            "torvyn.contract_version",
        ),
        (
            "[torvyn]\nversion = \"1\"\ncontract_version = \"0.1.0\"\n",
            "torvyn.name",
        ),
        (
            "[torvyn]\nname = \"p\"\ncontract_version = \"0.1.0\"\n",
            "torvyn.version",
        ),
    ];
    for (text, key) in cases {
        let message = error(text);
        assert!(
            message.starts_with(&format!("Torvyn.toml: {key}: missing required key; add `")),
            "{message}"
        );
        let err = Manifest::parse(text, Path::new(".")).unwrap_err();
        assert_eq!(err.kind(), ManifestErrorKind::Missing);
        assert_eq!(err.key(), Some(key));
    }
    let no_table = error(FLOW);
    assert!(
        no_table.starts_with("Torvyn.toml: torvyn: missing the [torvyn] table"),
        "{no_table}"
    );
    let component_path = error(&format!("{HEADER}[[component]]\nname = \"a\"\n{FLOW}"));
    assert_contains(
        &component_path,
        &["component[0].path: missing required key"],
    );
    let interface = error(&format!(
        "{HEADER}{FLOW}\n[flow.main.nodes.x]\ncomponent = \"file://x.wasm\"\n"
    ));
    assert_contains(
        &interface,
        &["flow.main.nodes.x.interface: missing required key; add `interface = "],
    );
    let port = error(&format!(
        "{HEADER}{}",
        FLOW.replace(
            "to = { node = \"out\", port = \"input\" }",
            "to = { node = \"out\" }"
        )
    ));
    assert_contains(&port, &["flow.main.edges[1].to.port: missing required key"]);
}

#[test]
fn bad_references_name_the_key_and_the_choices() {
    let typo = error(&format!(
        "{HEADER}{}",
        FLOW.replace("to = { node = \"keep\"", "to = { node = \"kep\"")
    ));
    // The message, then where: the line and column, and the line itself.
    assert_eq!(
        typo,
        "Torvyn.toml: flow.main.edges[0].to.node: no node named \"kep\" in flow \"main\" (nodes: keep, out, src)\n  \
         --> Torvyn.toml:20:15\n   \
         |\n\
         20 | to = { node = \"kep\", port = \"input\" }\n   \
         |               ^^^^^"
    );
    let text = format!(
        "{HEADER}{}",
        FLOW.replace("from = { node = \"keep\"", "from = { node = \"kep\"")
    );
    let from = error(&text);
    assert_eq!(
        from.lines().next(),
        Some(
            "Torvyn.toml: flow.main.edges[1].from.node: no node named \"kep\" in flow \"main\" (nodes: keep, out, src)"
        )
    );
    let err = Manifest::parse(&text, Path::new("/p")).unwrap_err();
    let [problem] = err.problems() else {
        panic!("one problem: {err}")
    };
    assert_eq!(
        (problem.line(), problem.column()),
        (Some(23), Some(17)),
        "{err}"
    );
    assert_eq!(problem.key(), Some("flow.main.edges[1].from.node"));
    assert_eq!(problem.kind(), ManifestErrorKind::Graph);
    assert!(problem.message().starts_with("no node named \"kep\""));

    let interface = error(&format!(
        "{HEADER}{}",
        FLOW.replace("torvyn:filtering/filter@0.1.0", "torvyn:filtering/filtre")
    ));
    assert_contains(
        &interface,
        &[
            "flow.main.nodes.keep.interface: \"torvyn:filtering/filtre\" is not a Torvyn 0.1 interface; use one of ",
            "torvyn:streaming/source",
            "torvyn:streaming/processor",
            "torvyn:filtering/filter",
            "torvyn:filtering/router",
            "torvyn:aggregation/aggregator",
            "torvyn:streaming/sink",
        ],
    );

    let component = error(&format!(
        "{HEADER}[[component]]\nname = \"alpha\"\npath = \"a\"\n[[component]]\nname = \"beta\"\npath = \"b\"\n{}",
        FLOW.replace("file://keep.wasm", "keeper")
    ));
    assert_contains(
        &component,
        &[
            "flow.main.nodes.keep.component: \"keeper\" is neither a \"file://...\" path nor a declared [[component]] name (declared: alpha, beta)",
        ],
    );
    let none_declared = error(&format!(
        "{HEADER}{}",
        FLOW.replace("file://keep.wasm", "keeper")
    ));
    assert_contains(&none_declared, &["(declared: none)"]);

    let duplicate = error(&format!(
        "{HEADER}[[component]]\nname = \"a\"\npath = \"a\"\n[[component]]\nname = \"a\"\npath = \"b\"\n{FLOW}"
    ));
    assert_contains(
        &duplicate,
        &["component[1].name: a component named \"a\" is declared twice"],
    );
}

#[test]
fn graph_errors_name_the_edge_or_node() {
    let into_source = error(&format!("{HEADER}{FLOW}{}", edge("keep", "src")));
    assert_contains(
        &into_source,
        &["flow.main.edges[2].to.node: \"src\" is a source, and a source takes no input"],
    );

    let out_of_sink = error(&format!(
        "{HEADER}{FLOW}{}{}",
        node("more", "torvyn:streaming/sink"),
        edge("out", "more")
    ));
    assert_contains(
        &out_of_sink,
        &["flow.main.edges[2].from.node: \"out\" is a sink, and a sink has no output"],
    );

    let dangling = error(&format!(
        "{HEADER}{FLOW}{}",
        node("lonely", "torvyn:streaming/processor")
    ));
    assert_contains(
        &dangling,
        &[
            "flow.main.nodes.lonely: the processor has no incoming edge",
            "to = { node = \"lonely\", port = \"input\" }",
        ],
    );

    let no_nodes = error(&format!(
        "{HEADER}[flow.empty]\ndescription = \"nothing\"\n"
    ));
    assert_contains(&no_nodes, &["flow.empty: the flow has no nodes"]);

    let no_source = error(&format!(
        "{HEADER}{}{}{}",
        node("a", "torvyn:streaming/processor"),
        node("b", "torvyn:streaming/sink"),
        edge("a", "b")
    ));
    assert_contains(
        &no_source,
        &[
            "flow.main.nodes: the flow has no source (nodes: a, b)",
            "torvyn:streaming/source",
        ],
    );

    let cycle = error(&format!(
        "{HEADER}{FLOW}{}{}{}",
        node("back", "torvyn:streaming/processor"),
        edge("keep", "back"),
        edge("back", "keep")
    ));
    assert_contains(
        &cycle,
        &[
            "flow.main.edges[3]: this edge closes the cycle keep -> back -> keep; a flow must be acyclic",
        ],
    );
    let self_loop = error(&format!("{HEADER}{FLOW}{}", edge("keep", "keep")));
    assert_contains(
        &self_loop,
        &["flow.main.edges[2]: this edge closes the cycle keep -> keep"],
    );
    let err = Manifest::parse(
        &format!("{HEADER}{FLOW}{}", edge("keep", "keep")),
        Path::new("."),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ManifestErrorKind::Graph);
    assert_eq!(err.key(), Some("flow.main.edges[2]"));

    // A name that is not a bare TOML key is quoted in the key path.
    let quoted = error(&format!(
        "{HEADER}{FLOW}\n[flow.main.nodes.\"a b\"]\ncomponent = \"file://ab.wasm\"\ninterface = \"torvyn:streaming/processor\"\n"
    ));
    assert_contains(
        &quoted,
        &["flow.main.nodes.\"a b\": the processor has no incoming edge"],
    );
}

#[test]
fn queue_depths_must_be_positive() {
    let runtime = error(&format!(
        "{HEADER}[runtime.backpressure]\ndefault_queue_depth = 0\n{FLOW}"
    ));
    assert_contains(
        &runtime,
        &[
            "runtime.backpressure.default_queue_depth: a queue depth of 0 could hold no element; use at least 1",
        ],
    );
    let flow = error(&format!(
        "{HEADER}[flow.main]\ndefault_queue_depth = 0\n{FLOW}"
    ));
    assert_contains(
        &flow,
        &["flow.main.default_queue_depth: a queue depth of 0"],
    );
    let edge = error(&format!(
        "{HEADER}{}",
        FLOW.replace(
            "to = { node = \"out\", port = \"input\" }",
            "to = { node = \"out\", port = \"input\" }\nqueue_depth = 0"
        )
    ));
    assert_contains(
        &edge,
        &["flow.main.edges[1].queue_depth: a queue depth of 0"],
    );
    let negative = error(&format!(
        "{HEADER}[flow.main]\ndefault_queue_depth = -2\n{FLOW}"
    ));
    assert_contains(&negative, &["-2"]);

    let good = parse(&format!(
        "{HEADER}[flow.main]\ndefault_queue_depth = 3\n{}",
        FLOW.replace(
            "to = { node = \"out\", port = \"input\" }",
            "to = { node = \"out\", port = \"input\" }\nqueue_depth = 1"
        )
    ))
    .unwrap();
    let flow = good.flow(None).unwrap();
    assert_eq!(flow.default_queue_depth, Some(3));
    assert_eq!(flow.edges[1].queue_depth, Some(1));
    assert_eq!(flow.edges[0].queue_depth, None);
}

#[test]
fn sizes_parse_to_bytes_and_bad_sizes_name_the_key() {
    assert_eq!(parse_size("16MiB"), Some(16 << 20));
    assert_eq!(parse_size("512KiB"), Some(512 << 10));
    assert_eq!(parse_size("512 KiB"), Some(512 << 10));
    assert_eq!(parse_size("1GiB"), Some(1 << 30));
    assert_eq!(parse_size("64MB"), Some(64_000_000));
    assert_eq!(parse_size("2KB"), Some(2_000));
    assert_eq!(parse_size("3GB"), Some(3_000_000_000));
    assert_eq!(parse_size("1000"), Some(1000));
    assert_eq!(parse_size("1000B"), Some(1000));
    for bad in [
        "lots",
        "",
        "MiB",
        "1.5GiB",
        "-1MiB",
        "16 megs",
        "99999999999999999999GiB",
    ] {
        assert_eq!(parse_size(bad), None, "{bad:?}");
    }

    let sized = parse(&format!(
        "{HEADER}[runtime]\nmax_memory_per_component = 1000\n{}",
        FLOW.replace(
            "interface = \"torvyn:streaming/sink\"",
            "interface = \"torvyn:streaming/sink\"\nmax_memory = \"512KiB\"\nfuel_budget = 77"
        )
    ))
    .unwrap();
    assert_eq!(sized.runtime.max_memory_per_component, Some(1000));
    let out = &sized.flow(None).unwrap().nodes["out"];
    assert_eq!(out.max_memory, Some(512 << 10));
    assert_eq!(out.fuel_budget, Some(77));

    let bad = error(&format!(
        "{HEADER}[runtime]\nmax_memory_per_component = \"16 megs\"\n{FLOW}"
    ));
    assert_contains(
        &bad,
        &[
            "runtime.max_memory_per_component: \"16 megs\" is not a size; write a number of bytes",
            "\"16MiB\"",
            "\"512KiB\"",
            "\"1GiB\"",
            "\"64MB\"",
        ],
    );
    let node = error(&format!(
        "{HEADER}{}",
        FLOW.replace(
            "interface = \"torvyn:streaming/sink\"",
            "interface = \"torvyn:streaming/sink\"\nmax_memory = \"1 parsec\""
        )
    ));
    assert_contains(
        &node,
        &["flow.main.nodes.out.max_memory: \"1 parsec\" is not a size"],
    );
    let zero = error(&format!(
        "{HEADER}[runtime]\nmax_memory_per_component = \"0MiB\"\n{FLOW}"
    ));
    assert_contains(
        &zero,
        &["runtime.max_memory_per_component: a memory limit of 0 bytes"],
    );
    let wrong_type = error(&format!(
        "{HEADER}[runtime]\nmax_memory_per_component = true\n{FLOW}"
    ));
    assert_contains(
        &wrong_type,
        &["a size: a number of bytes, or a string such as \"16MiB\""],
    );
}

#[test]
fn policies_parse_in_kebab_case() {
    for (text, policy) in [
        ("block-producer", BackpressurePolicy::BlockProducer),
        ("drop-oldest", BackpressurePolicy::DropOldest),
        ("drop-newest", BackpressurePolicy::DropNewest),
        ("error", BackpressurePolicy::Error),
    ] {
        let manifest = parse(&format!(
            "{HEADER}[runtime.backpressure]\nbackpressure_policy = \"{text}\"\n{FLOW}"
        ))
        .unwrap();
        assert_eq!(manifest.runtime.backpressure.backpressure_policy, policy);
        assert_eq!(policy.to_string(), text);
    }
}

#[test]
fn on_error_is_set_per_flow_and_per_node() {
    let with = |flow: &str, node: &str| {
        let mut text = format!("{HEADER}{FLOW}");
        if !flow.is_empty() {
            text = format!("{HEADER}[flow.main]\non_error = {flow}\n{FLOW}");
        }
        if !node.is_empty() {
            text = text.replace(
                "interface = \"torvyn:filtering/filter@0.1.0\"\n",
                &format!("interface = \"torvyn:filtering/filter@0.1.0\"\non_error = {node}\n"),
            );
        }
        text
    };
    // Unset: no policy in the model (the pipeline then fails the flow).
    let manifest = parse(&with("", "")).unwrap();
    let flow = manifest.flow(None).unwrap();
    assert_eq!(flow.on_error, None);
    assert_eq!(flow.nodes["keep"].on_error, None);

    for (text, policy) in [
        ("\"fail-flow\"", ErrorPolicy::FailFlow),
        ("\"skip\"", ErrorPolicy::Skip),
        ("\"dead-letter\"", ErrorPolicy::DeadLetter),
        ("{ retry = 3 }", ErrorPolicy::Retry(3)),
        ("{ retry = 1 }", ErrorPolicy::Retry(1)),
    ] {
        let manifest = parse(&with("", text)).unwrap();
        let flow = manifest.flow(None).unwrap();
        assert_eq!(flow.nodes["keep"].on_error, Some(policy), "{text}");
        assert_eq!(flow.nodes["out"].on_error, None);
        assert_eq!(flow.on_error, None);

        let manifest = parse(&with(text, "")).unwrap();
        let flow = manifest.flow(None).unwrap();
        assert_eq!(flow.on_error, Some(policy), "{text}");
        assert_eq!(flow.nodes["keep"].on_error, None);
    }
    // Both: the node keeps its own, the flow has its default.
    let manifest = parse(&with("\"dead-letter\"", "{ retry = 2 }")).unwrap();
    let flow = manifest.flow(None).unwrap();
    assert_eq!(flow.on_error, Some(ErrorPolicy::DeadLetter));
    assert_eq!(flow.nodes["keep"].on_error, Some(ErrorPolicy::Retry(2)));
    // The CLI's `--on-error` spelling of the same policies.
    for policy in [
        ErrorPolicy::FailFlow,
        ErrorPolicy::Skip,
        ErrorPolicy::DeadLetter,
        ErrorPolicy::Retry(5),
    ] {
        assert_eq!(policy.to_string().parse::<ErrorPolicy>(), Ok(policy));
    }
}

#[test]
fn a_bad_on_error_names_the_key_and_the_allowed_values() {
    const FORMS: &str = "on_error is one of \"fail-flow\", \"skip\", \"dead-letter\" or { retry = N } with N at least 1";
    let node_key = "Torvyn.toml: flow.main.nodes.keep.on_error: ";
    for (value, what) in [
        ("\"skp\"", "\"skp\" is not an error policy"),
        (
            "\"dead_letter\"",
            "\"dead_letter\" is not an error policy (did you mean \"dead-letter\"?)",
        ),
        (
            "\"retry\"",
            "\"retry\" needs a count: write on_error = { retry = 3 }",
        ),
        (
            "{ retry = 0 }",
            "retry = 0 is not a number of retries from 1 to 4294967295",
        ),
        (
            "{ retry = -2 }",
            "retry = -2 is not a number of retries from 1 to 4294967295",
        ),
        (
            "{ retry = \"3\" }",
            "retry = \"3\" is a string, not a number of retries",
        ),
        (
            "{ tries = 3 }",
            "the table { tries = 3 } is not { retry = N }",
        ),
        ("{ retry = 3, skip = true }", "is not { retry = N }"),
        ("3", "3 is an integer, not an error policy"),
    ] {
        let text = format!("{HEADER}{FLOW}").replace(
            "interface = \"torvyn:filtering/filter@0.1.0\"\n",
            &format!("interface = \"torvyn:filtering/filter@0.1.0\"\non_error = {value}\n"),
        );
        let err = Manifest::parse(&text, Path::new("/p")).unwrap_err();
        assert_eq!(err.kind(), ManifestErrorKind::Invalid, "{err}");
        assert_eq!(err.key(), Some("flow.main.nodes.keep.on_error"));
        let message = error(&text);
        assert_contains(&message, &[node_key, what, FORMS]);
    }
    // The flow's key is named as the flow's.
    let message = error(&format!(
        "{HEADER}[flow.main]\non_error = \"never\"\n{FLOW}"
    ));
    assert_eq!(
        message.lines().next().unwrap(),
        format!("Torvyn.toml: flow.main.on_error: \"never\" is not an error policy; {FORMS}")
    );
    // ... and pointed at in the file.
    assert!(message.contains("--> Torvyn.toml:6:12"), "{message}");
    // The CLI's spelling is checked too.
    let err = "retry=0".parse::<ErrorPolicy>().unwrap_err();
    assert_contains(
        &err,
        &[
            "`retry=0`",
            "from 1 to",
            "`fail-flow`, `skip`, `dead-letter` or `retry=N`",
        ],
    );
    let err = "ignore".parse::<ErrorPolicy>().unwrap_err();
    assert_eq!(
        err,
        "`ignore` is not an error policy; use `fail-flow`, `skip`, `dead-letter` or `retry=N` (N at least 1)"
    );
}

#[test]
fn flow_selection_lists_the_flows() {
    let two = format!("{HEADER}{FLOW}{}", FLOW.replace("flow.main", "flow.other"));
    let manifest = parse(&two).unwrap();
    let err = manifest.flow(None).unwrap_err();
    assert_eq!(err.kind(), ManifestErrorKind::NoSuchFlow);
    assert_eq!(
        err.to_string(),
        "Torvyn.toml: there are several flows (main, other); name the one to run"
    );
    assert_eq!(manifest.flow(Some("other")).unwrap().name, "other");
    assert_eq!(
        manifest.flow(Some("nope")).unwrap_err().to_string(),
        "Torvyn.toml: there is no flow `nope` (flows: main, other)"
    );

    let none = parse(HEADER).unwrap();
    assert!(none.flows.is_empty());
    assert_eq!(
        none.flow(None).unwrap_err().to_string(),
        "Torvyn.toml: there is no flow; add a [flow.<name>] with nodes and edges"
    );
}

#[test]
fn hostile_input_is_an_error_not_a_panic() {
    let inputs = [
        "",
        "\u{0}",
        "torvyn = 5",
        "[[torvyn]]\nname = \"x\"",
        "[torvyn]\nname = 1\nversion = \"1\"\ncontract_version = \"0.1.0\"",
        &format!("{HEADER}component = 3"),
        &format!("{HEADER}[flow]\nmain = 3"),
        &format!("{HEADER}[flow.main.nodes]\nx = 1"),
        &format!("{HEADER}[[flow.main.edges]]\nfrom = 1\nto = 2"),
        &format!("{HEADER}[runtime]\ndefault_fuel_per_invocation = -1"),
        &format!("{HEADER}{FLOW}").replace("file://keep.wasm", "file://"),
    ];
    for text in inputs {
        let err = Manifest::parse(text, Path::new(".")).unwrap_err();
        assert!(err.to_string().starts_with("Torvyn.toml: "), "{err}");
    }
}
