//! How generated code names the SDK: `crate = path`, else the dependency's
//! name in the component crate's `Cargo.toml` (a renamed dependency works),
//! else `::torvyn_guest`.

use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::quote;

const PACKAGE: &str = "torvyn-guest";

pub(crate) fn sdk_path(explicit: Option<&syn::Path>) -> TokenStream {
    if let Some(path) = explicit {
        return quote!(#path);
    }
    let name = dependency_name().unwrap_or_else(|| "torvyn_guest".to_string());
    let ident = syn::Ident::new(&name, Span::call_site());
    quote!(::#ident)
}

fn dependency_name() -> Option<String> {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    let manifest: toml::Table = std::fs::read_to_string(dir.join("Cargo.toml"))
        .ok()?
        .parse()
        .ok()?;
    let mut tables: Vec<&toml::Table> = Vec::new();
    for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(t) = manifest.get(key).and_then(toml::Value::as_table) {
            tables.push(t);
        }
    }
    if let Some(targets) = manifest.get("target").and_then(toml::Value::as_table) {
        for target in targets.values().filter_map(toml::Value::as_table) {
            for key in ["dependencies", "dev-dependencies"] {
                if let Some(t) = target.get(key).and_then(toml::Value::as_table) {
                    tables.push(t);
                }
            }
        }
    }
    let workspace = OnceWorkspace::new(&dir);
    for table in tables {
        for (key, value) in table {
            let package = value
                .get("package")
                .and_then(toml::Value::as_str)
                .map(str::to_string)
                .or_else(|| {
                    let inherits =
                        value.get("workspace").and_then(toml::Value::as_bool) == Some(true);
                    if inherits {
                        workspace.package_of(key)
                    } else {
                        None
                    }
                })
                .unwrap_or_else(|| key.clone());
            if package == PACKAGE {
                return Some(key.replace('-', "_"));
            }
        }
    }
    None
}

/// The workspace root's `[workspace.dependencies]`, read on demand.
struct OnceWorkspace<'a> {
    start: &'a Path,
}

impl<'a> OnceWorkspace<'a> {
    fn new(start: &'a Path) -> Self {
        Self { start }
    }

    fn package_of(&self, key: &str) -> Option<String> {
        for dir in self.start.ancestors() {
            let Ok(text) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
                continue;
            };
            let Ok(table) = text.parse::<toml::Table>() else {
                continue;
            };
            if let Some(ws) = table.get("workspace") {
                let dep = ws.get("dependencies")?.get(key)?;
                return dep
                    .get("package")
                    .and_then(toml::Value::as_str)
                    .map(str::to_string);
            }
        }
        None
    }
}
