//! `inspect`: a component's role, imports and exports, type-checked against
//! the contract.

use std::path::PathBuf;

use clap::Args;

use crate::cli::GlobalOpts;
use crate::command_prelude::Format;
use crate::flow::describe;

#[derive(Args)]
pub(crate) struct InspectArgs {
    /// The `.wasm` component, or a crate directory (built first, as `test`
    /// does).
    component: PathBuf,
}

pub(crate) fn exec(args: InspectArgs, global: &GlobalOpts) -> Result<(), String> {
    let InspectArgs { component } = args;
    let format = global.format;
    // A crate directory is built first, as `test` does.
    let component = if component.is_dir() {
        torvyn_testkit::build_component(&component)
            .map_err(|err| format!("{} did not build: {err}", component.display()))?
    } else {
        component
    };
    let inspection = torvyn_testkit::inspect(&component).map_err(|err| describe(&err))?;
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&inspection).map_err(|err| err.to_string())?
        ),
        Format::Text => {
            println!("component: {}", component.display());
            println!(
                "role:      {} ({})",
                inspection.role,
                inspection.role.versioned_interface()
            );
            println!(
                "lifecycle: {}",
                if inspection.lifecycle { "yes" } else { "no" }
            );
            println!("exports:");
            for name in &inspection.exports {
                println!("  {name}");
            }
            println!("imports:");
            for name in &inspection.imports {
                println!("  {name}");
            }
            for note in &inspection.notes {
                println!("note: {note}");
            }
            if inspection.is_valid() {
                println!("contract:  matches Torvyn 0.1 and links on this host");
            } else {
                println!("contract:  {} mismatches", inspection.mismatches.len());
                for mismatch in &inspection.mismatches {
                    println!("  - {} {mismatch}", mismatch.direction);
                }
            }
        }
    }
    if inspection.is_valid() {
        Ok(())
    } else {
        Err(format!(
            "{} does not match the Torvyn 0.1 contract ({} mismatches, listed above)",
            component.display(),
            inspection.mismatches.len()
        ))
    }
}
