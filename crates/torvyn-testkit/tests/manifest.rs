//! `Torvyn.toml` parsing: the upstream schema, strict keys, graph checks.

use std::path::Path;

use torvyn_testkit::Role;
use torvyn_testkit::manifest::{BackpressurePolicy, ComponentRef, Manifest, parse_size};

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

fn parse(text: &str) -> Result<Manifest, String> {
    Manifest::parse(text, Path::new("/p")).map_err(|err| err.to_string())
}

fn error(text: &str) -> String {
    parse(text).expect_err("the manifest must be rejected")
}

#[test]
fn the_pipeline_template_manifest_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates/pipeline/Torvyn.toml");
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("{{project-name}}", "demo");
    let manifest = Manifest::parse(&text, Path::new("/demo")).unwrap();
    assert_eq!(manifest.torvyn.name, "demo");
    assert_eq!(manifest.components.len(), 3);
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
    assert_eq!(flow.nodes.len(), 3);
    assert_eq!(flow.edges.len(), 2);
    assert_eq!(flow.nodes["evens"].interface, Role::Filter);
    assert_eq!(
        flow.nodes["evens"].config.as_deref(),
        Some(r#"{"every": 2}"#)
    );
    assert_eq!(
        flow.nodes["numbers"].component,
        ComponentRef::Crate {
            name: "numbers".into(),
            path: "/demo/components/numbers".into(),
            config: None
        }
    );
}

#[test]
fn unknown_keys_are_rejected_with_their_name() {
    let top = error(&format!("{HEADER}colour = 1\n{FLOW}"));
    assert!(
        top.starts_with("Torvyn.toml: ") && top.contains("unknown field `colour`"),
        "{top}"
    );
    let node = error(&format!(
        "{HEADER}{}",
        FLOW.replace(
            "interface = \"torvyn:streaming/sink\"",
            "interface = \"torvyn:streaming/sink\"\nfuel = 5"
        )
    ));
    assert!(
        node.contains("unknown field `fuel`") && node.contains("fuel_budget"),
        "{node}"
    );
    let edge = error(&format!(
        "{HEADER}{}",
        FLOW.replace(
            "to = { node = \"out\", port = \"input\" }",
            "to = { node = \"out\", port = \"input\" }\ndepth = 3"
        )
    ));
    assert!(edge.contains("unknown field `depth`"), "{edge}");
    let missing = error("[torvyn]\nname = \"p\"\nversion = \"1\"\n");
    assert!(
        missing.contains("missing field `contract_version`"),
        "{missing}"
    );
}

#[test]
fn bad_references_name_the_key() {
    let typo = error(&format!(
        "{HEADER}{}",
        FLOW.replace("to = { node = \"keep\"", "to = { node = \"kep\"")
    ));
    assert_eq!(
        typo,
        "Torvyn.toml: flow.main.edges[0].to.node: no node named \"kep\" in flow \"main\" (nodes: keep, out, src)"
    );
    let interface = error(&format!(
        "{HEADER}{}",
        FLOW.replace("torvyn:filtering/filter@0.1.0", "torvyn:filtering/filtre")
    ));
    assert!(interface.contains("flow.main.nodes.keep.interface: \"torvyn:filtering/filtre\" is not a Torvyn 0.1 interface"), "{interface}");
    let component = error(&format!(
        "{HEADER}{}",
        FLOW.replace("file://keep.wasm", "keeper")
    ));
    assert!(
        component.contains("flow.main.nodes.keep.component: \"keeper\" is neither"),
        "{component}"
    );
    let into_source = error(&format!(
        "{HEADER}{FLOW}\n[[flow.main.edges]]\nfrom = {{ node = \"keep\", port = \"output\" }}\nto = {{ node = \"src\", port = \"input\" }}\n"
    ));
    assert!(
        into_source.contains("flow.main.edges[2].to.node: \"src\" is a source"),
        "{into_source}"
    );
    let dangling = error(&format!(
        "{HEADER}{FLOW}\n[flow.main.nodes.lonely]\ncomponent = \"file://l.wasm\"\ninterface = \"torvyn:streaming/processor\"\n"
    ));
    assert!(
        dangling.contains("flow.main.nodes.lonely: the processor has no incoming edge"),
        "{dangling}"
    );
    let duplicate = error(&format!(
        "{HEADER}[[component]]\nname = \"a\"\npath = \"a\"\n[[component]]\nname = \"a\"\npath = \"b\"\n{FLOW}"
    ));
    assert!(
        duplicate.contains("component[1].name: a component named \"a\" is declared twice"),
        "{duplicate}"
    );
}

#[test]
fn cycles_and_zero_depths_are_rejected() {
    let cycle = FLOW.to_string()
        + "\n[flow.main.nodes.back]\ncomponent = \"file://b.wasm\"\ninterface = \"torvyn:streaming/processor\"\n"
        + "[[flow.main.edges]]\nfrom = { node = \"keep\", port = \"output\" }\nto = { node = \"back\", port = \"input\" }\n"
        + "[[flow.main.edges]]\nfrom = { node = \"back\", port = \"output\" }\nto = { node = \"keep\", port = \"input\" }\n";
    let err = error(&format!("{HEADER}{cycle}"));
    assert!(
        err.contains("flow.main.edges: the flow has a cycle through back, keep, out"),
        "{err}"
    );
    let zero = error(&format!(
        "{HEADER}[runtime.backpressure]\ndefault_queue_depth = 0\n{FLOW}"
    ));
    assert!(
        zero.contains("runtime.backpressure.default_queue_depth: a queue depth must be at least 1"),
        "{zero}"
    );
}

#[test]
fn sizes_and_flow_selection() {
    assert_eq!(parse_size("16MiB"), Some(16 << 20));
    assert_eq!(parse_size("512 KiB"), Some(512 << 10));
    assert_eq!(parse_size("64MB"), Some(64_000_000));
    assert_eq!(parse_size("1000"), Some(1000));
    assert_eq!(parse_size("lots"), None);
    let bad = error(&format!(
        "{HEADER}[runtime]\nmax_memory_per_component = \"16 megs\"\n{FLOW}"
    ));
    assert!(
        bad.contains("`runtime.max_memory_per_component` = \"16 megs\" is not a size"),
        "{bad}"
    );

    let two = format!("{HEADER}{FLOW}{}", FLOW.replace("flow.main", "flow.other"));
    let manifest = parse(&two).unwrap();
    let err = manifest.flow(None).unwrap_err().to_string();
    assert_eq!(
        err,
        "Torvyn.toml: there are several flows (main, other); name the one to run"
    );
    assert_eq!(manifest.flow(Some("other")).unwrap().name, "other");
    assert!(
        manifest
            .flow(Some("nope"))
            .unwrap_err()
            .to_string()
            .contains("there is no flow `nope`")
    );
}
