//! `check`: the manifest and its components, without running.

use std::path::{Path, PathBuf};

use clap::Args;
use torvyn_testkit::manifest::{ComponentRef, Manifest};
use torvyn_testkit::{Component, Inspection};

use crate::cli::GlobalOpts;
use crate::command_prelude::{FlowChoice, Format};
use crate::flow::describe;
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
    /// Treat warnings as errors (exit code 1 on any). The warnings: a
    /// `[[component]]` no node runs; a `[security.grants.<name>]` naming
    /// neither a node nor a `[[component]]`; keys of upstream's schema the
    /// reference host does not use. A key inside a config that the component
    /// ignores cannot be seen from outside (the config is a string only the
    /// component parses; one that rejects unknown keys fails `init`, an error,
    /// as is a config given to a component without `lifecycle`).
    #[arg(long, conflicts_with = "graph")]
    strict: bool,
}

/// `check`: every problem of the manifest and its components, without running.
pub(crate) fn exec(args: CheckArgs, global: &GlobalOpts) -> Result<(), String> {
    let no_init = args.no_init;
    let strict = args.strict;
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
    let text = std::fs::read_to_string(&args.manifest).unwrap_or_default();
    let at = |key: &str| {
        torvyn_testkit::manifest::key_position(&text, key)
            .map_or_else(String::new, |(line, column)| {
                format!("{}:{line}:{column}: ", args.manifest.display())
            })
    };
    let warnings = manifest_warnings(&manifest, &at);
    let progress = Progress::new();
    let flows: Vec<String> = match args.flow() {
        Some(flow) => vec![flow],
        None => manifest.flows.keys().cloned().collect(),
    };
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
                    tidy(&wasm).display(),
                    inspection.role,
                    inspection.role.versioned_interface()
                ));
            }
            for mismatch in &inspection.mismatches {
                problems.push(format!(
                    "{key}: {} does not match the contract: {} {mismatch}",
                    tidy(&wasm).display(),
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
                    problems.push(format!("{}{config_key}: {problem}", at(&config_key)));
                }
            }
            if problems.len() == before {
                if json {
                    passed.push(serde_json::json!({
                        "node": key,
                        "role": inspection.role.to_string(),
                        "component": tidy(&wasm).display().to_string(),
                    }));
                } else if !global.quiet {
                    progress.suspend(|| {
                        println!("ok  {key}: {} ({})", inspection.role, tidy(&wasm).display());
                    });
                }
            }
        }
    }
    progress.clear();
    let failed = problems.len() + if strict { warnings.len() } else { 0 };
    if json {
        let report = serde_json::json!({
            "manifest": args.manifest.display().to_string(),
            "ok": passed,
            "problems": problems,
            "warnings": warnings,
            "strict": strict,
        });
        println!("{report}");
        if failed == 0 {
            return Ok(());
        }
        return Err(format!(
            "{}: {failed} problems, listed in the report",
            args.manifest.display()
        ));
    }
    for warning in &warnings {
        if strict {
            eprintln!("error: {warning} (a warning; `--strict` makes it an error)");
        } else {
            eprintln!("warning: {warning}");
        }
    }
    for problem in &problems {
        eprintln!("error: {problem}");
    }
    if failed == 0 {
        match warnings.len() {
            0 => println!("{}: no problems", args.manifest.display()),
            count => println!(
                "{}: no problems, {count} warnings (listed above; `--strict` makes them errors)",
                args.manifest.display()
            ),
        }
        return Ok(());
    }
    Err(format!(
        "{}: {failed} problems, listed above",
        args.manifest.display()
    ))
}

/// The warnings the manifest alone shows (`at(key)` is the key's
/// `file:line:column: `): a `[[component]]` no node of any flow runs, a grant
/// named after neither a node nor a `[[component]]`, and the keys the
/// reference host accepts but does not use.
fn manifest_warnings(manifest: &Manifest, at: &dyn Fn(&str) -> String) -> Vec<String> {
    let mut warnings = Vec::new();
    let nodes = || manifest.flows.values().flat_map(|flow| flow.nodes.values());
    for (index, component) in manifest.components.iter().enumerate() {
        let used = nodes().any(|node| {
            matches!(&node.component, ComponentRef::Crate { name, .. } if *name == component.name)
        });
        if !used {
            let key = format!("component[{index}]");
            warnings.push(format!(
                "{}{key}: the component `{}` is run by no node of any flow",
                at(&key),
                component.name
            ));
        }
    }
    for grant in manifest.security.grants.keys() {
        let names_something = nodes().any(|node| node.name == *grant)
            || manifest.components.iter().any(|c| c.name == *grant);
        if !names_something {
            let key = format!("security.grants.{}", key_name(grant));
            warnings.push(format!(
                "{}{key}: `{grant}` names no node and no `[[component]]`, so this grant \
                 applies to nothing",
                at(&key)
            ));
        }
    }
    if let Some(note) = manifest.unused_keys_note() {
        warnings.push(note);
    }
    warnings
}

/// A path as the manifest wrote it: `file://./components/x` resolved against
/// `.` is `./components/x`, not `././components/x` (`components()` drops
/// every `.` but a leading one).
pub(crate) fn tidy(path: &Path) -> PathBuf {
    path.components().collect()
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
