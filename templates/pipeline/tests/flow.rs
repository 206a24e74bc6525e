//! Checks `Torvyn.toml` against the components: every node names a declared
//! component, every edge connects declared nodes, every node's config is
//! accepted by the component's typed config, and every component builds to a
//! `wasm32-wasip2` component that exports the interface its node declares.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use torvyn_guest::config::parse;
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    torvyn: Project,
    component: Vec<ComponentEntry>,
    #[allow(dead_code)]
    runtime: toml::Table,
    flow: BTreeMap<String, Flow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Project {
    name: String,
    version: String,
    contract_version: String,
    #[allow(dead_code)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ComponentEntry {
    name: String,
    path: PathBuf,
    language: String,
    #[allow(dead_code)]
    build_command: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Flow {
    #[allow(dead_code)]
    description: Option<String>,
    nodes: BTreeMap<String, Node>,
    edges: Vec<Edge>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Node {
    component: String,
    interface: String,
    config: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Edge {
    from: Endpoint,
    to: Endpoint,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Endpoint {
    node: String,
    #[allow(dead_code)]
    port: String,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn manifest() -> Manifest {
    let text = std::fs::read_to_string(root().join("Torvyn.toml")).unwrap();
    toml::from_str(&text).unwrap_or_else(|err| panic!("Torvyn.toml: {err}"))
}

#[test]
fn manifest_is_consistent() {
    let m = manifest();
    assert_eq!(m.torvyn.name, env!("CARGO_PKG_NAME"));
    assert_eq!(m.torvyn.version, "0.1.0");
    assert_eq!(m.torvyn.contract_version, "0.1.0");
    let flow = &m.flow["main"];
    for (name, node) in &flow.nodes {
        let component = m.component.iter().find(|c| c.name == node.component);
        let component =
            component.unwrap_or_else(|| panic!("node `{name}`: no component `{}`", node.component));
        assert_eq!(component.language, "rust");
        assert!(root().join(&component.path).join("Cargo.toml").is_file());
    }
    for edge in &flow.edges {
        for end in [&edge.from, &edge.to] {
            assert!(
                flow.nodes.contains_key(&end.node),
                "edge to unknown node `{}`",
                end.node
            );
        }
    }
}

#[test]
fn node_configs_parse_as_the_components_expect() {
    let flow = &manifest().flow["main"];
    let config = |node: &str| flow.nodes[node].config.clone().unwrap_or_default();
    // The same parser the components' `init` uses.
    let numbers: {{crate_name}}_numbers::Config = parse(&config("numbers")).unwrap();
    assert_eq!(numbers.count, 10);
    let evens: {{crate_name}}_every_nth::Config = parse(&config("evens")).unwrap();
    assert_eq!(evens.every, 2);
    assert!(
        flow.nodes["counter"].config.is_none(),
        "the counter takes no config"
    );
}

#[test]
fn every_node_builds_and_exports_its_interface() {
    let m = manifest();
    let engine = Engine::new(Config::new().wasm_component_model(true)).unwrap();
    for (name, node) in &m.flow["main"].nodes {
        let component = m
            .component
            .iter()
            .find(|c| c.name == node.component)
            .unwrap();
        let wasm = torvyn_testkit::build::build_component(root().join(&component.path))
            .unwrap_or_else(|err| panic!("building `{}` failed:\n{err}", component.name));
        let built = Component::from_file(&engine, &wasm).unwrap();
        let exports: Vec<String> = built
            .component_type()
            .exports(&engine)
            .map(|(export, _)| export.to_string())
            .collect();
        let want = format!("{}@{}", node.interface, m.torvyn.contract_version);
        assert!(
            exports.contains(&want),
            "node `{name}` declares `{}`, but `{}` exports {exports:?}",
            node.interface,
            component.name
        );
    }
}
