//! Components whose WIT copies declare the Torvyn packages without a version.
//!
//! A component built from a WIT copy that says `package torvyn:streaming;`
//! (no `@0.1.0`) imports and exports unversioned names:
//! `torvyn:streaming/types`, `torvyn:filtering/filter`. The host links the
//! versioned contract (`torvyn:streaming/types@0.1.0`), and wasmtime's linker
//! matches names exactly (up to semver compatibility, which an unversioned
//! name has none of), so such a component would not link.
//!
//! The host treats an unversioned `torvyn:*` name as the 0.1.0 contract: before
//! compiling, [`version_torvyn_names`] rewrites the names of the component's
//! top-level imports and exports to their `@0.1.0` form. Nothing else in the
//! binary changes (the nested core modules and components are copied byte for
//! byte), and the component's types are still checked against the contract
//! (`contract::check_world`), which notes the rename in the inspection.

use std::borrow::Cow;

use wasm_encoder::reencode::{ReencodeComponent, RoundtripReencoder};
use wasmparser::{Chunk, Parser, Payload};

use crate::contract::CONTRACT_VERSION;

/// `name` with `@0.1.0` appended when it is an unversioned `torvyn:` interface
/// name (`torvyn:streaming/types`), else `None`.
pub(crate) fn versioned(name: &str) -> Option<String> {
    let rest = name.strip_prefix("torvyn:")?;
    let (package, interface) = rest.split_once('/')?;
    let plain = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    (plain(package) && plain(interface)).then(|| format!("{name}@{CONTRACT_VERSION}"))
}

/// The component's bytes with every unversioned top-level `torvyn:` import and
/// export name given the `@0.1.0` version, or the bytes unchanged (borrowed)
/// when it has none, or when it also uses the versioned form of one of them
/// (then the linker reports the unversioned import as it is).
///
/// # Errors
/// When the binary cannot be parsed (the caller's compile step reports an
/// invalid component better: it falls back to the original bytes).
pub(crate) fn version_torvyn_names(bytes: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    let sections = top_level_sections(bytes)?;
    let mut names = Vec::new();
    for payload in &sections {
        match payload {
            Payload::ComponentImportSection(reader) => {
                for import in reader.clone() {
                    let import = import.map_err(|err| err.to_string())?;
                    names.push(import.name.full_name().into_owned());
                }
            }
            Payload::ComponentExportSection(reader) => {
                for export in reader.clone() {
                    let export = export.map_err(|err| err.to_string())?;
                    names.push(export.name.full_name().into_owned());
                }
            }
            _ => {}
        }
    }
    let renamed: Vec<String> = names.iter().filter_map(|name| versioned(name)).collect();
    if renamed.is_empty() || renamed.iter().any(|name| names.contains(name)) {
        return Ok(Cow::Borrowed(bytes));
    }

    let mut reencoder = RoundtripReencoder;
    let mut component = wasm_encoder::Component::new();
    for payload in sections {
        match payload {
            Payload::ComponentImportSection(reader) => {
                let mut section = wasm_encoder::ComponentImportSection::new();
                for import in reader {
                    let import = import.map_err(|err| err.to_string())?;
                    let ty = reencoder
                        .component_type_ref(import.ty)
                        .map_err(|err| err.to_string())?;
                    section.import(rename(import.name), ty);
                }
                component.section(&section);
            }
            Payload::ComponentExportSection(reader) => {
                let mut section = wasm_encoder::ComponentExportSection::new();
                for export in reader {
                    let export = export.map_err(|err| err.to_string())?;
                    let ty = export
                        .ty
                        .map(|ty| reencoder.component_type_ref(ty))
                        .transpose()
                        .map_err(|err| err.to_string())?;
                    section.export(rename(export.name), export.kind.into(), export.index, ty);
                }
                component.section(&section);
            }
            other => {
                if let Some((id, range)) = other.as_section() {
                    let data = bytes
                        .get(range.start as usize..range.end as usize)
                        .ok_or("a section runs past the end of the file")?;
                    component.section(&wasm_encoder::RawSection { id, data });
                }
            }
        }
    }
    Ok(Cow::Owned(component.finish()))
}

/// The name to encode for `name`: its `@0.1.0` form when it is a plain
/// unversioned `torvyn:` interface name, else the name as it was.
fn rename(name: wasmparser::ComponentExternName<'_>) -> wasm_encoder::ComponentExternName<'_> {
    let plain = name.implements.is_none() && name.version_suffix.is_none();
    let renamed = plain.then(|| versioned(name.name)).flatten();
    let mut name = wasm_encoder::ComponentExternName::from(name);
    if let Some(renamed) = renamed {
        name.name = renamed.into();
    }
    name
}

/// The payloads of the component's own sections (not those of the core
/// modules and components nested in it). Empty for a core module.
fn top_level_sections(bytes: &[u8]) -> Result<Vec<Payload<'_>>, String> {
    let mut parser = Parser::new(0);
    let mut remaining = bytes;
    let mut sections = Vec::new();
    loop {
        let (consumed, payload) = match parser
            .parse(remaining, true)
            .map_err(|err| err.to_string())?
        {
            Chunk::Parsed { consumed, payload } => (consumed, payload),
            Chunk::NeedMoreData(_) => return Err("the file ends in the middle of a section".into()),
        };
        remaining = &remaining[consumed..];
        match &payload {
            Payload::Version { encoding, .. } if *encoding != wasmparser::Encoding::Component => {
                return Ok(Vec::new());
            }
            Payload::ModuleSection {
                unchecked_range, ..
            }
            | Payload::ComponentSection {
                unchecked_range, ..
            } => {
                let skipped = (unchecked_range.end - unchecked_range.start) as usize;
                remaining = remaining
                    .get(skipped..)
                    .ok_or("a nested module runs past the end of the file")?;
            }
            Payload::End(_) => {
                sections.push(payload);
                return Ok(sections);
            }
            _ => {}
        }
        sections.push(payload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unversioned_torvyn_interface_names_get_the_version() {
        assert_eq!(
            versioned("torvyn:streaming/types").as_deref(),
            Some("torvyn:streaming/types@0.1.0")
        );
        assert_eq!(versioned("torvyn:streaming/types@0.1.0"), None);
        assert_eq!(versioned("torvyn:streaming/types@0.2.0"), None);
        assert_eq!(versioned("wasi:io/streams"), None);
        assert_eq!(versioned("torvyn:streaming"), None);
        assert_eq!(versioned("evaluate"), None);
    }

    #[test]
    fn a_component_without_unversioned_names_is_left_alone() {
        let bytes = wasm_encoder::Component::new().finish();
        assert!(matches!(
            version_torvyn_names(&bytes).unwrap(),
            Cow::Borrowed(_)
        ));
        let module = wasm_encoder::Module::new().finish();
        assert!(matches!(
            version_torvyn_names(&module).unwrap(),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn imports_and_exports_are_renamed_and_the_rest_kept() {
        use wasm_encoder::{
            Component, ComponentExportKind, ComponentExportSection, ComponentImportSection,
            ComponentTypeRef, ComponentTypeSection, InstanceType, ModuleSection,
        };
        let mut component = Component::new();
        let mut types = ComponentTypeSection::new();
        types.instance(&InstanceType::new());
        component.section(&types);
        let mut imports = ComponentImportSection::new();
        imports.import("torvyn:streaming/types", ComponentTypeRef::Instance(0));
        imports.import("wasi:io/error@0.2.0", ComponentTypeRef::Instance(0));
        component.section(&imports);
        component.section(&ModuleSection(&wasm_encoder::Module::new()));
        let mut exports = ComponentExportSection::new();
        exports.export(
            "torvyn:filtering/filter",
            ComponentExportKind::Instance,
            0,
            None,
        );
        component.section(&exports);
        let bytes = component.finish();
        wasmparser::Validator::new().validate_all(&bytes).unwrap();

        let renamed = version_torvyn_names(&bytes).unwrap().into_owned();
        wasmparser::Validator::new().validate_all(&renamed).unwrap();
        let mut names = Vec::new();
        for payload in top_level_sections(&renamed).unwrap() {
            match payload {
                Payload::ComponentImportSection(reader) => {
                    names.extend(
                        reader
                            .into_iter()
                            .map(|i| i.unwrap().name.full_name().into_owned()),
                    );
                }
                Payload::ComponentExportSection(reader) => {
                    names.extend(
                        reader
                            .into_iter()
                            .map(|e| e.unwrap().name.full_name().into_owned()),
                    );
                }
                _ => {}
            }
        }
        assert_eq!(
            names,
            [
                "torvyn:streaming/types@0.1.0",
                "wasi:io/error@0.2.0",
                "torvyn:filtering/filter@0.1.0"
            ]
        );
    }
}
