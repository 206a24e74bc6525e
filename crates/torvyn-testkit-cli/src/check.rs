//! `check`: the manifest and its components, without running.

use crate::args::CheckArgs;
use crate::flow::{describe, note_unused_keys};
use crate::progress::Progress;

/// `check`: every problem of the manifest and its components, without running.
pub(crate) fn check(args: &CheckArgs) -> Result<(), String> {
    use torvyn_testkit::manifest::{ComponentRef, Manifest};
    if let Some(format) = args.graph {
        return crate::pictures::print_manifest_graph(
            &args.manifest,
            args.flow().as_deref(),
            format,
        );
    }
    let manifest = Manifest::from_path(&args.manifest).map_err(|err| err.to_string())?;
    note_unused_keys(manifest.accepted_unused_keys());
    let progress = Progress::new();
    let flows: Vec<String> = match args.flow() {
        Some(flow) => vec![flow],
        None => manifest.flows.keys().cloned().collect(),
    };
    let mut problems = Vec::new();
    for name in flows {
        let flow = match manifest.flow(Some(&name)) {
            Ok(flow) => flow,
            Err(err) => {
                problems.push(err.to_string());
                continue;
            }
        };
        for (node, spec) in &flow.nodes {
            let key = format!("flow.{name}.nodes.{node}");
            let wasm = match &spec.component {
                ComponentRef::File(path) => path.clone(),
                ComponentRef::Crate {
                    name: krate, path, ..
                } => {
                    progress.step(format!("building {krate} ({})", path.display()));
                    match torvyn_testkit::build::build_component(path) {
                        Ok(wasm) => wasm,
                        Err(err) => {
                            problems.push(format!("{key}: did not build: {err}"));
                            continue;
                        }
                    }
                }
            };
            progress.step(format!("checking {key}"));
            let inspection = match torvyn_testkit::inspect::inspect(&wasm) {
                Ok(inspection) => inspection,
                Err(err) => {
                    problems.push(format!("{key}: {}", describe(&err)));
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
            if problems.len() == before {
                progress.suspend(|| {
                    println!("ok  {key}: {} ({})", inspection.role, wasm.display());
                });
            }
        }
    }
    progress.clear();
    if problems.is_empty() {
        println!("{}: no problems", args.manifest.display());
        return Ok(());
    }
    for problem in &problems {
        eprintln!("error: {problem}");
    }
    Err(format!(
        "{}: {} problems, listed above",
        args.manifest.display(),
        problems.len()
    ))
}
