//! `check`: the manifest and its components, without running.

use std::path::{Path, PathBuf};

use clap::Args;
use torvyn_testkit::manifest::{ComponentRef, Manifest};
use torvyn_testkit::{Component, Inspection};

use crate::cli::GlobalOpts;
use crate::command_prelude::{FlowChoice, Format};
use crate::flow::{describe, note_unused_keys};
use crate::progress::Progress;

#[derive(Args)]
#[command(
    mut_arg("flow_name", |arg| arg.help(
        "Check only this flow, written `flow.main` or `main` (the same as `--flow`)"
    )),
    mut_arg("flow", |arg| arg.help("Check only this flow (default: every flow)")),
)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    choice: FlowChoice,
    /// Do not instantiate the nodes and call their `init` with their config
    /// (by default `check` does, as `run` would, without pulling elements).
    #[arg(long)]
    no_init: bool,
    /// Print the flow's graph (`mermaid` or `dot`) from the manifest alone,
    /// instead of checking the components.
    #[arg(long, value_enum, value_name = "FORMAT")]
    graph: Option<crate::pictures::GraphFormat>,
}

/// `check`: every problem of the manifest and its components, without running.
pub(crate) fn exec(args: CheckArgs, global: &GlobalOpts) -> Result<(), String> {
    let no_init = args.no_init;
    let json = global.format == Format::Json;
    if args.graph.is_some() && json {
        return Err("--graph prints the graph (mermaid or dot), not JSON; \
                    drop --format json, or --graph"
            .to_string());
    }
    if let Some(format) = args.graph {
        return crate::pictures::print_manifest_graph(
            &args.choice.manifest,
            args.choice.flow().as_deref(),
            format,
        );
    }
    let args = args.choice;
    let manifest = Manifest::from_path(&args.manifest).map_err(|err| err.to_string())?;
    note_unused_keys(manifest.accepted_unused_keys());
    let progress = Progress::new();
    let flows: Vec<String> = match args.flow() {
        Some(flow) => vec![flow],
        None => manifest.flows.keys().cloned().collect(),
    };
    let text = std::fs::read_to_string(&args.manifest).unwrap_or_default();
    // Per distinct component file: its inspection and, once `init` needs it,
    // the loaded component.
    let mut files: Vec<(PathBuf, Result<Checked, String>)> = Vec::new();
    let mut problems = Vec::new();
    // The nodes without a problem, for `--format json`.
    let mut passed = Vec::new();
    for name in flows {
        let flow = match manifest.flow(Some(&name)) {
            Ok(flow) => flow,
            Err(err) => {
                problems.push(err.to_string());
                continue;
            }
        };
        for (node, spec) in &flow.nodes {
            let key = format!("flow.{name}.nodes.{}", key_name(node));
            let (wasm, declared_config) = match &spec.component {
                ComponentRef::File(path) => (path.clone(), None),
                ComponentRef::Crate {
                    name: krate,
                    path,
                    config,
                } => {
                    progress.step(format!("building {krate} ({})", path.display()));
                    match torvyn_testkit::build_component(path) {
                        Ok(wasm) => (wasm, config.clone()),
                        Err(err) => {
                            problems.push(format!("{key}: did not build: {err}"));
                            continue;
                        }
                    }
                }
            };
            // Each distinct component file is type-checked (and loaded) once,
            // however many nodes run it.
            let index = match files.iter().position(|(file, _)| *file == wasm) {
                Some(index) => index,
                None => {
                    progress.step(format!("checking {}", wasm.display()));
                    let checked = torvyn_testkit::inspect(&wasm)
                        .map_err(|err| describe(&err))
                        .map(|inspection| (inspection, None));
                    files.push((wasm.clone(), checked));
                    files.len() - 1
                }
            };
            let (inspection, loaded) = match &mut files[index].1 {
                Ok(checked) => checked,
                Err(err) => {
                    problems.push(format!("{key}: {err}"));
                    continue;
                }
            };
            let before = problems.len();
            if inspection.role != spec.interface {
                problems.push(format!(
                    "{key}: `interface` is `{}`, but {} is a {} (it exports `{}`)",
                    spec.interface.interface(),
                    wasm.display(),
                    inspection.role,
                    inspection.role.versioned_interface()
                ));
            }
            for mismatch in &inspection.mismatches {
                problems.push(format!(
                    "{key}: {} does not match the contract: {} {mismatch}",
                    wasm.display(),
                    mismatch.direction
                ));
            }
            if problems.len() == before && !no_init {
                // `init` with the node's config, as `run` calls it (no element).
                progress.step(format!("calling `init` of {key}"));
                let (config_key, config) = match (&spec.config, &declared_config) {
                    (Some(config), _) => (format!("{key}.config"), config.clone()),
                    (None, Some(config)) => (
                        declared_config_key(&manifest, &spec.component),
                        config.clone(),
                    ),
                    (None, None) => (key.clone(), String::new()),
                };
                if let Err(problem) = call_init(&wasm, loaded, node, &config) {
                    let at = torvyn_testkit::manifest::key_position(&text, &config_key)
                        .map_or_else(String::new, |(line, column)| {
                            format!("{}:{line}:{column}: ", args.manifest.display())
                        });
                    problems.push(format!("{at}{config_key}: {problem}"));
                }
            }
            if problems.len() == before {
                if json {
                    passed.push(serde_json::json!({
                        "node": key,
                        "role": inspection.role.to_string(),
                        "component": wasm.display().to_string(),
                    }));
                } else if !global.quiet {
                    progress.suspend(|| {
                        println!("ok  {key}: {} ({})", inspection.role, wasm.display());
                    });
                }
            }
        }
    }
    progress.clear();
    if json {
        let report = serde_json::json!({
            "manifest": args.manifest.display().to_string(),
            "ok": passed,
            "problems": problems,
        });
        println!("{report}");
    } else if problems.is_empty() {
        println!("{}: no problems", args.manifest.display());
    } else {
        for problem in &problems {
            eprintln!("error: {problem}");
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{}: {} problems, listed above",
        args.manifest.display(),
        problems.len()
    ))
}

/// A component file's inspection, and the component once loaded.
type Checked = (Inspection, Option<Component>);

/// Instantiate the component in `wasm` (loaded once into `loaded`) as node
/// `node` and call `init` with `config`, then tear it down; the error in a
/// few words, the component's own for a rejected config.
fn call_init(
    wasm: &Path,
    loaded: &mut Option<Component>,
    node: &str,
    config: &str,
) -> Result<(), String> {
    if loaded.is_none() {
        *loaded = Some(Component::from_file(wasm).map_err(|err| describe(&err))?);
    }
    let Some(component) = loaded.as_ref() else {
        return Ok(());
    };
    let mut instance = component
        .options()
        .name(node)
        .config(config)
        .instantiate()
        .map_err(|err| match err.process_error() {
            Some(error) => format!("`init` rejected the config: {}", error.message()),
            None => err.to_string(),
        })?;
    instance.teardown().map_err(|err| err.to_string())
}

/// The key path of the `config` of the `[[component]]` a node runs
/// (`component[2].config`).
fn declared_config_key(manifest: &Manifest, component: &ComponentRef) -> String {
    let ComponentRef::Crate { name, .. } = component else {
        return String::new();
    };
    let index = manifest
        .components
        .iter()
        .position(|declared| declared.name == *name)
        .unwrap_or(0);
    format!("component[{index}].config")
}

/// A node name as a key path writes it: quoted unless it is a bare TOML key.
fn key_name(node: &str) -> String {
    if !node.is_empty()
        && node
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        node.to_string()
    } else {
        format!("{node:?}")
    }
}
