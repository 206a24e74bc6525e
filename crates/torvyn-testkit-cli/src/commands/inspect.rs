//! `inspect`: a component's role, imports and exports, type-checked against
//! the contract; its size, capabilities and metadata.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde_json::{Value, json};
use torvyn_testkit::Inspection;

use crate::cli::GlobalOpts;
use crate::command_prelude::Format;
use crate::flow::describe;

#[derive(Args)]
pub(crate) struct InspectArgs {
    /// The `.wasm` component, or a crate directory (built first, as `test`
    /// does).
    component: PathBuf,
    /// What to show. Upstream's `benchmarks` (results embedded in a packaged
    /// artifact) has no counterpart: a `.wasm` built here embeds none.
    #[arg(long, value_enum, default_value_t = Show::All)]
    show: Show,
}

/// `--show`: one section of the report, or all of them.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Show {
    /// Every section.
    All,
    /// The exports and the imports.
    Interfaces,
    /// The imports only.
    Imports,
    /// The exports only.
    Exports,
    /// The grants the component needs on this host: `wasi-network-egress`
    /// if it imports `wasi:sockets`; whether it asks for grants at run time
    /// (`torvyn:capabilities/capability-query`, names not known before), and
    /// whether it imports `wasi:filesystem` (no directories are mounted here).
    Capabilities,
    /// The binary's own metadata: its name section and producers (language,
    /// tools and their versions); a crate's version is not in the binary.
    Metadata,
    /// The file's size, and the bytes of its core modules and custom sections.
    Size,
    /// The role, the Torvyn contract packages and versions it uses, and its
    /// type check against the Torvyn 0.1 contract.
    Contracts,
}

impl Show {
    fn wants(self, section: Show) -> bool {
        self == Show::All
            || self == section
            || (self == Show::Interfaces && matches!(section, Show::Imports | Show::Exports))
    }
}

pub(crate) fn exec(args: InspectArgs, global: &GlobalOpts) -> Result<(), String> {
    let InspectArgs { component, show } = args;
    let format = global.format;
    // A crate directory is built first, as `test` does.
    let component = if component.is_dir() {
        torvyn_testkit::build_component(&component)
            .map_err(|err| format!("{} did not build: {err}", component.display()))?
    } else {
        component
    };
    let inspection = torvyn_testkit::inspect(&component).map_err(|err| describe(&err))?;
    let bytes = if show.wants(Show::Size) || show.wants(Show::Metadata) {
        std::fs::read(&component)
            .map_err(|err| format!("cannot read {}: {err}", component.display()))?
    } else {
        Vec::new()
    };
    let mut report = json!({ "component": component.display().to_string() });
    if show.wants(Show::Contracts) {
        report["role"] = json!(inspection.role);
        report["lifecycle"] = json!(inspection.lifecycle);
        report["contracts"] = json!(contract_packages(&inspection));
        report["mismatches"] = json!(inspection.mismatches);
        report["notes"] = json!(inspection.notes);
        report["valid"] = json!(inspection.is_valid());
    }
    if show.wants(Show::Exports) {
        report["exports"] = json!(inspection.exports);
    }
    if show.wants(Show::Imports) {
        report["imports"] = json!(inspection.imports);
    }
    if show.wants(Show::Capabilities) {
        report["capabilities_required"] = json!(capabilities(&inspection));
        report["asks_capabilities_at_run_time"] = json!(asks_at_run_time(&inspection));
        report["uses_filesystem"] = json!(
            inspection
                .imports
                .iter()
                .any(|name| name.starts_with("wasi:filesystem/"))
        );
    }
    if show.wants(Show::Metadata) {
        report["metadata"] = metadata(&bytes)?;
    }
    if show.wants(Show::Size) {
        report["size"] = size(&bytes)?;
    }
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|err| err.to_string())?
        ),
        Format::Text => print_text(&report, &inspection),
    }
    if inspection.is_valid() {
        Ok(())
    } else {
        Err(format!(
            "{} does not match the Torvyn 0.1 contract ({} mismatches; `--show contracts` lists them)",
            component.display(),
            inspection.mismatches.len()
        ))
    }
}

/// The report's sections present, as text.
fn print_text(report: &Value, inspection: &Inspection) {
    let strings = |key: &str| -> Vec<String> {
        report[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|value| value.as_str().map(str::to_string))
            .collect()
    };
    println!(
        "component: {}",
        report["component"].as_str().unwrap_or_default()
    );
    if report.get("role").is_some() {
        println!(
            "role:      {} ({})",
            inspection.role,
            inspection.role.versioned_interface()
        );
        println!(
            "lifecycle: {}",
            if inspection.lifecycle { "yes" } else { "no" }
        );
    }
    if report.get("exports").is_some() {
        println!("exports:");
        for name in strings("exports") {
            println!("  {name}");
        }
    }
    if report.get("imports").is_some() {
        println!("imports:");
        for name in strings("imports") {
            println!("  {name}");
        }
    }
    if report.get("capabilities_required").is_some() {
        let required = strings("capabilities_required");
        if required.is_empty() {
            println!("capabilities required: none");
        } else {
            println!("capabilities required: {}", required.join(", "));
        }
        if report["asks_capabilities_at_run_time"] == true {
            println!(
                "  (it imports torvyn:capabilities/capability-query: it asks for grants by name at run time)"
            );
        }
    }
    if report["uses_filesystem"] == true {
        println!(
            "  (it imports wasi:filesystem: the reference host mounts no directories, granted or not)"
        );
    }
    if let Some(metadata) = report.get("metadata") {
        match metadata["name"].as_str() {
            Some(name) => println!("name:      {name}"),
            None => println!("name:      (the binary carries none)"),
        }
        println!("producers:");
        for (field, values) in metadata["producers"].as_object().into_iter().flatten() {
            let values: Vec<&str> = values
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            println!("  {field}: {}", values.join(", "));
        }
    }
    if let Some(size) = report.get("size") {
        println!("size:      {} bytes", size["total_bytes"]);
        for module in size["core_modules"].as_array().into_iter().flatten() {
            println!("  core module: {} bytes", module);
        }
        for section in size["custom_sections"].as_array().into_iter().flatten() {
            println!(
                "  custom section `{}`: {} bytes",
                section["name"].as_str().unwrap_or_default(),
                section["bytes"]
            );
        }
        println!(
            "  the rest (types, imports, exports, glue): {} bytes",
            size["other_bytes"]
        );
    }
    if report.get("contracts").is_some() {
        println!("contracts:");
        for package in strings("contracts") {
            println!("  {package}");
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

/// The Torvyn packages with their versions the component imports or exports
/// (`torvyn:streaming@0.1.0`), each once.
fn contract_packages(inspection: &Inspection) -> Vec<String> {
    let mut packages: Vec<String> = inspection
        .exports
        .iter()
        .chain(&inspection.imports)
        .filter(|name| name.starts_with("torvyn:"))
        .map(|name| match (name.split_once('/'), name.split_once('@')) {
            (Some((package, _)), Some((_, version))) => format!("{package}@{version}"),
            (Some((package, _)), None) => package.to_string(),
            _ => name.clone(),
        })
        .collect();
    packages.sort();
    packages.dedup();
    packages
}

/// The grants the component needs on the reference host to do what it
/// imports: only `wasi:sockets` is closed without one.
fn capabilities(inspection: &Inspection) -> Vec<String> {
    let mut required = Vec::new();
    if inspection
        .imports
        .iter()
        .any(|name| name.starts_with("wasi:sockets/"))
    {
        required.push("wasi-network-egress".to_string());
    }
    required
}

/// Whether it imports the capability query, so asks for grants at run time.
fn asks_at_run_time(inspection: &Inspection) -> bool {
    inspection
        .imports
        .iter()
        .any(|name| name.starts_with("torvyn:capabilities/capability-query"))
}

/// The component's name section and producers sections (every nesting
/// level), as JSON.
fn metadata(bytes: &[u8]) -> Result<Value, String> {
    use wasmparser::{ComponentName, KnownCustom, Payload};
    let mut name = None;
    let mut producers: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.map_err(|err| format!("not a readable component: {err}"))? {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::CustomSection(reader) => match reader.as_known() {
                KnownCustom::ComponentName(names) if depth == 0 => {
                    for entry in names.into_iter().flatten() {
                        if let ComponentName::Component { name: found, .. } = entry {
                            name = Some(found.to_string());
                        }
                    }
                }
                KnownCustom::Producers(fields) => {
                    for field in fields.into_iter().flatten() {
                        let values = producers.entry(field.name.to_string()).or_default();
                        for value in field.values.into_iter().flatten() {
                            let text = if value.version.is_empty() {
                                value.name.to_string()
                            } else {
                                format!("{} {}", value.name, value.version)
                            };
                            if !values.contains(&text) {
                                values.push(text);
                            }
                        }
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
    Ok(json!({ "name": name, "producers": producers }))
}

/// The file's size and where the bytes are: each core module, each custom
/// section of the component itself, and the rest.
fn size(bytes: &[u8]) -> Result<Value, String> {
    use wasmparser::Payload;
    let mut modules = Vec::new();
    let mut custom = Vec::new();
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.map_err(|err| format!("not a readable component: {err}"))? {
            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                if depth == 0 {
                    modules.push(unchecked_range.end - unchecked_range.start);
                }
                depth += 1;
            }
            Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::CustomSection(reader) if depth == 0 => {
                let range = reader.range();
                custom.push(json!({ "name": reader.name(), "bytes": range.end - range.start }));
            }
            _ => {}
        }
    }
    let accounted: u64 = modules.iter().sum::<u64>()
        + custom
            .iter()
            .filter_map(|section| section["bytes"].as_u64())
            .sum::<u64>();
    let total = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    Ok(json!({
        "total_bytes": total,
        "core_modules": modules,
        "custom_sections": custom,
        "other_bytes": total.saturating_sub(accounted),
    }))
}
