//! `link`: whether a flow's components fit together, edge by edge, and with
//! the host, without running them.

use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::{Value, json};
use torvyn_testkit::manifest::{ComponentRef, Edge, Flow, Manifest};
use torvyn_testkit::{Direction, Inspection, Role};

use crate::cli::GlobalOpts;
use crate::command_prelude::{FlowChoice, Format};
use crate::commands::check::tidy;
use crate::flow::describe;
use crate::progress::Progress;

#[derive(Args)]
#[command(
    mut_arg("flow_name", |arg| arg.help(
        "Link only this flow, written `flow.main` or `main` (the same as `--flow`)"
    )),
    mut_arg("flow", |arg| arg.help("Link only this flow (default: every flow)")),
)]
pub(crate) struct LinkArgs {
    #[command(flatten)]
    choice: FlowChoice,
    /// A directory of compiled components, `<name>.wasm` for the
    /// `[[component]]` named `name` (or with `-` written `_`, as cargo names
    /// its output), used instead of building the crates. A `file://` node is
    /// its file either way.
    #[arg(long, value_name = "DIR")]
    components: Option<PathBuf>,
    /// Show, for every edge, the WIT functions of the producer's and the
    /// consumer's contract interfaces, and every node's imports.
    #[arg(long)]
    detail: bool,
}

/// A node's component, inspected: where it is and what it is.
struct Linked {
    wasm: PathBuf,
    inspection: Inspection,
}

/// `link`: every flow's edges and nodes checked; exit code 1 naming each
/// incompatible edge or node.
pub(crate) fn exec(args: LinkArgs, global: &GlobalOpts) -> Result<(), String> {
    let manifest_path = &args.choice.manifest;
    let manifest = Manifest::from_path(manifest_path).map_err(|err| err.to_string())?;
    let names: Vec<String> = match args.choice.flow() {
        Some(flow) => {
            manifest.flow(Some(&flow)).map_err(|err| err.to_string())?;
            vec![flow]
        }
        None => manifest.flows.keys().cloned().collect(),
    };
    if names.is_empty() {
        return Err(format!(
            "{}: there is no flow to link; add a [flow.<name>] with nodes and edges",
            manifest_path.display()
        ));
    }
    let progress = Progress::new();
    // Each distinct component file is inspected once.
    let mut inspected: Vec<(PathBuf, Result<Inspection, String>)> = Vec::new();
    let mut flows = Vec::new();
    for name in &names {
        let flow = &manifest.flows[name];
        flows.push(link_flow(
            flow,
            args.components.as_deref(),
            &progress,
            &mut inspected,
        ));
    }
    progress.clear();
    let all_linked = flows
        .iter()
        .all(|flow| flow["diagnostics"].as_array().is_some_and(Vec::is_empty));
    match global.format {
        Format::Json => {
            let report = json!({ "all_linked": all_linked, "flows": flows });
            println!(
                "{}",
                serde_json::to_string_pretty(&report).map_err(|err| err.to_string())?
            );
        }
        Format::Text => {
            for flow in &flows {
                print_flow(flow, args.detail);
            }
        }
    }
    if all_linked {
        Ok(())
    } else {
        let failed = flows
            .iter()
            .filter(|flow| flow["linked"] == false)
            .map(|flow| format!("`{}`", flow["name"].as_str().unwrap_or_default()))
            .collect::<Vec<_>>();
        Err(format!(
            "{}: flow {} did not link (listed above)",
            manifest_path.display(),
            failed.join(", ")
        ))
    }
}

/// One flow's report, as JSON (the text output is printed from it).
fn link_flow(
    flow: &Flow,
    components: Option<&Path>,
    progress: &Progress,
    inspected: &mut Vec<(PathBuf, Result<Inspection, String>)>,
) -> Value {
    let mut diagnostics: Vec<String> = Vec::new();
    let mut nodes = Vec::new();
    let mut linked: Vec<(String, Option<Linked>)> = Vec::new();
    for (name, node) in &flow.nodes {
        let found = match component_file(&node.component, components, progress) {
            Ok(wasm) => {
                let index = match inspected.iter().position(|(file, _)| *file == wasm) {
                    Some(index) => index,
                    None => {
                        progress.step(format!("inspecting {}", tidy(&wasm).display()));
                        let inspection =
                            torvyn_testkit::inspect(&wasm).map_err(|err| describe(&err));
                        inspected.push((wasm.clone(), inspection));
                        inspected.len() - 1
                    }
                };
                inspected[index]
                    .1
                    .clone()
                    .map(|inspection| Linked { wasm, inspection })
            }
            Err(err) => Err(err),
        };
        let mut node_report = json!({
            "name": name,
            "interface": node.interface.interface(),
        });
        match &found {
            Ok(Linked { wasm, inspection }) => {
                node_report["component"] = json!(tidy(wasm).display().to_string());
                node_report["role"] = json!(inspection.role);
                node_report["exports"] = json!(inspection.exports);
                node_report["imports"] = json!(inspection.imports);
                if inspection.role != node.interface {
                    diagnostics.push(format!(
                        "node `{name}`: `interface` is `{}`, but {} is a {} (it exports `{}`)",
                        node.interface.interface(),
                        tidy(wasm).display(),
                        inspection.role,
                        inspection.role.versioned_interface()
                    ));
                }
                let unlinked: Vec<String> = inspection
                    .mismatches
                    .iter()
                    .filter(|mismatch| mismatch.direction == Direction::Import)
                    .map(ToString::to_string)
                    .collect();
                node_report["imports_satisfied"] = json!(unlinked.is_empty());
                for mismatch in &unlinked {
                    diagnostics.push(format!(
                        "node `{name}`: an import the host does not satisfy: {mismatch}"
                    ));
                }
                for mismatch in &inspection.mismatches {
                    if mismatch.direction == Direction::Export {
                        diagnostics.push(format!(
                            "node `{name}`: an export that does not match the contract: {mismatch}"
                        ));
                    }
                }
            }
            Err(err) => diagnostics.push(format!("node `{name}`: {err}")),
        }
        nodes.push(node_report);
        linked.push((name.clone(), found.ok()));
    }
    let mut edges = Vec::new();
    for edge in &flow.edges {
        let find = |node: &str| {
            linked
                .iter()
                .find(|(name, _)| name == node)
                .and_then(|(_, found)| found.as_ref())
        };
        let (Some(from), Some(to)) = (find(&edge.from.node), find(&edge.to.node)) else {
            // A node not inspected: its problem is already listed.
            edges.push(json!({ "from": endpoint(edge, true), "to": endpoint(edge, false), "compatible": null }));
            continue;
        };
        let problems = edge_problems(edge, &from.inspection, &to.inspection);
        for problem in &problems {
            diagnostics.push(format!(
                "edge {} -> {}: {problem}",
                endpoint(edge, true),
                endpoint(edge, false)
            ));
        }
        edges.push(json!({
            "from": endpoint(edge, true),
            "to": endpoint(edge, false),
            "compatible": problems.is_empty(),
            "producer": side(&from.inspection),
            "consumer": side(&to.inspection),
            "problems": problems,
        }));
    }
    json!({
        "name": flow.name,
        "linked": diagnostics.is_empty(),
        "component_count": flow.nodes.len(),
        "edge_count": flow.edges.len(),
        "nodes": nodes,
        "edges": edges,
        "diagnostics": diagnostics,
    })
}

/// `node:port` of an edge's producer (`from`) or consumer.
fn endpoint(edge: &Edge, from: bool) -> String {
    let end = if from { &edge.from } else { &edge.to };
    format!("{}:{}", end.node, end.port)
}

/// An edge's end: its role, contract interface and version, and functions.
fn side(inspection: &Inspection) -> Value {
    json!({
        "role": inspection.role,
        "interface": role_export(inspection),
        "contract_version": contract_version(inspection),
        "functions": torvyn_testkit::contract_functions(inspection.role),
    })
}

/// The versioned role interface the component exports.
fn role_export(inspection: &Inspection) -> String {
    let unversioned = inspection.role.interface();
    inspection
        .exports
        .iter()
        .find(|name| name.split('@').next() == Some(unversioned))
        .cloned()
        .unwrap_or_else(|| inspection.role.versioned_interface())
}

/// The contract version of the component's role export (`0.1.0`).
fn contract_version(inspection: &Inspection) -> String {
    role_export(inspection)
        .split_once('@')
        .map_or_else(String::new, |(_, version)| version.to_string())
}

/// Why elements cannot flow from `from` to `to`; empty when they can. (Both
/// ends speak contract 0.1.0, the only version this host links: a component
/// of another version fails its node's check, so versions cannot differ.)
fn edge_problems(edge: &Edge, from: &Inspection, to: &Inspection) -> Vec<String> {
    let mut problems = Vec::new();
    if from.role == Role::Sink {
        problems.push(format!(
            "`{}` is a sink (it exports `{}`), which produces no output",
            edge.from.node,
            role_export(from)
        ));
    }
    if to.role == Role::Source {
        problems.push(format!(
            "`{}` is a source (it exports `{}`), which takes no input",
            edge.to.node,
            role_export(to)
        ));
    }
    problems
}

/// The `.wasm` a node runs: its `file://` path; a `[[component]]` crate
/// built, or its `<name>.wasm` in `--components`.
fn component_file(
    component: &ComponentRef,
    components: Option<&Path>,
    progress: &Progress,
) -> Result<PathBuf, String> {
    match (component, components) {
        (ComponentRef::File(path), _) => Ok(path.clone()),
        (ComponentRef::Crate { name, .. }, Some(dir)) => {
            let candidates = [
                dir.join(format!("{name}.wasm")),
                dir.join(format!("{}.wasm", name.replace('-', "_"))),
            ];
            candidates
                .iter()
                .find(|file| file.is_file())
                .cloned()
                .ok_or_else(|| {
                    format!(
                        "the component `{name}` has no {} in --components",
                        tidy(&candidates[0]).display()
                    )
                })
        }
        (ComponentRef::Crate { name, path, .. }, None) => {
            progress.step(format!("building {name} ({})", path.display()));
            torvyn_testkit::build_component(path)
                .map_err(|err| format!("the component `{name}` did not build: {err}"))
        }
    }
}

/// One flow's report as text: every edge, and with `--detail` every node's
/// imports and each edge's functions; then upstream's one-line verdict.
fn print_flow(flow: &Value, detail: bool) {
    let name = flow["name"].as_str().unwrap_or_default();
    println!("flow `{name}`:");
    for edge in flow["edges"].as_array().into_iter().flatten() {
        let verdict = match edge["compatible"].as_bool() {
            Some(true) => "ok ",
            Some(false) => "ERR",
            None => "?  ",
        };
        let role = |side: &str| {
            format!(
                "{} {}",
                edge[side]["role"].as_str().unwrap_or("?"),
                edge[side]["interface"].as_str().unwrap_or("?")
            )
        };
        println!(
            "  {verdict} {} -> {}  ({} -> {})",
            edge["from"].as_str().unwrap_or_default(),
            edge["to"].as_str().unwrap_or_default(),
            role("producer"),
            role("consumer"),
        );
        if detail {
            for (label, side) in [("out", "producer"), ("in ", "consumer")] {
                for function in edge[side]["functions"].as_array().into_iter().flatten() {
                    println!("        {label} {}", function.as_str().unwrap_or_default());
                }
            }
        }
    }
    for node in flow["nodes"].as_array().into_iter().flatten() {
        let satisfied = node["imports_satisfied"].as_bool();
        if detail || satisfied == Some(false) {
            println!(
                "  node `{}` ({}): imports {}",
                node["name"].as_str().unwrap_or_default(),
                node["component"].as_str().unwrap_or("?"),
                match satisfied {
                    Some(true) => "satisfied by the host",
                    Some(false) => "NOT all satisfied by the host",
                    None => "unknown",
                }
            );
            if detail {
                for import in node["imports"].as_array().into_iter().flatten() {
                    println!("        {}", import.as_str().unwrap_or_default());
                }
            }
        }
    }
    let diagnostics = flow["diagnostics"].as_array().cloned().unwrap_or_default();
    if diagnostics.is_empty() {
        println!(
            "Flow \"{name}\" links successfully ({} components, {} edges, 0 errors)",
            flow["component_count"], flow["edge_count"]
        );
    } else {
        println!(
            "Flow \"{name}\" has linking errors ({} components, {} edges, {} errors)",
            flow["component_count"],
            flow["edge_count"],
            diagnostics.len()
        );
        for diagnostic in diagnostics {
            eprintln!("error: {}", diagnostic.as_str().unwrap_or_default());
        }
    }
}
