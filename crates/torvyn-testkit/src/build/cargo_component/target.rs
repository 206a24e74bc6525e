//! `[package.metadata.component.target]` and its WIT: reading the section,
//! parsing the packages (Torvyn's header comments included) and resolving the
//! world.

use std::path::{Path, PathBuf};

use wit_bindgen_core::wit_parser::{Resolve, UnresolvedPackageGroup};

/// `[package.metadata.component.target]`, with paths made absolute.
#[derive(Debug)]
pub(super) struct Target {
    /// The WIT file or directory of the component's own package.
    pub(super) path: PathBuf,
    /// The world, when named.
    world: Option<String>,
    /// Local WIT packages it depends on (`dependencies = { "a:b" = { path = ".." } }`).
    dependencies: Vec<(String, PathBuf)>,
}

impl Target {
    pub(super) fn read(component: &toml::Value, crate_dir: &Path) -> Result<Target, String> {
        let default = || crate_dir.join("wit");
        let target = match component.get("target") {
            None => {
                return Ok(Target {
                    path: default(),
                    world: None,
                    dependencies: Vec::new(),
                });
            }
            Some(toml::Value::String(reference)) => {
                return Err(format!(
                    "its target is the registry package `{reference}`; the testkit builds from \
                     local WIT only"
                ));
            }
            Some(toml::Value::Table(target)) => target,
            Some(_) => return Err("`target` must be a table or a string".to_string()),
        };
        if let Some(package) = target.get("package") {
            return Err(format!(
                "its target is the registry package {package}; the testkit builds from local \
                 WIT only"
            ));
        }
        let path = target
            .get("path")
            .and_then(|p| p.as_str())
            .map_or_else(default, |p| crate_dir.join(p));
        let world = target
            .get("world")
            .and_then(|w| w.as_str())
            .map(str::to_string);
        let mut dependencies = Vec::new();
        if let Some(deps) = target.get("dependencies").and_then(|d| d.as_table()) {
            for (name, dependency) in deps {
                let Some(dep_path) = dependency.get("path").and_then(|p| p.as_str()) else {
                    return Err(format!(
                        "its target dependency `{name}` is not a local `path`; the testkit \
                         builds from local WIT only"
                    ));
                };
                dependencies.push((name.clone(), crate_dir.join(dep_path)));
            }
        }
        Ok(Target {
            path,
            world,
            dependencies,
        })
    }

    /// Parse the WIT: the target's dependencies and its `deps/` directory,
    /// then its own package, and select the world.
    pub(super) fn resolve(
        &self,
    ) -> Result<(Resolve, wit_bindgen_core::wit_parser::WorldId), String> {
        if !self.path.exists() {
            return Err(format!(
                "its WIT is not there: {} does not exist",
                self.path.display()
            ));
        }
        let main = parse_package(&self.path)?;
        let mut deps = Vec::new();
        for (name, path) in &self.dependencies {
            deps.push(
                parse_package(path).map_err(|err| format!("target dependency `{name}`: {err}"))?,
            );
        }
        let deps_dir = self.path.join("deps");
        if self.path.is_dir() && deps_dir.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&deps_dir)
                .map_err(|err| format!("{}: {err}", deps_dir.display()))?
                .flatten()
                .map(|entry| entry.path())
                .filter(|path| path.is_dir() || path.extension().is_some_and(|e| e == "wit"))
                .collect();
            entries.sort();
            // A `dependencies` entry may name a package inside `deps/` itself
            // (upstream Torvyn's examples do): cargo-component reads it once.
            let named: Vec<PathBuf> = self
                .dependencies
                .iter()
                .filter_map(|(_, path)| path.canonicalize().ok())
                .collect();
            for path in entries {
                if path.canonicalize().is_ok_and(|path| named.contains(&path)) {
                    continue;
                }
                deps.push(parse_package(&path)?);
            }
        }
        let mut resolve = Resolve::default();
        let package = resolve
            .push_groups(main, deps)
            .map_err(|err| format!("its WIT does not resolve: {err}"))?;
        let world = resolve
            .select_world(&[package], self.world.as_deref())
            .map_err(|err| match &self.world {
                Some(world) => format!(
                    "no world `{world}` in the WIT at {}: {err:#}",
                    self.path.display()
                ),
                None => format!(
                    "the WIT at {} does not say which world to build ({err:#}); name it with \
                     `world = \"...\"` in [package.metadata.component.target]",
                    self.path.display()
                ),
            })?;
        Ok((resolve, world))
    }
}

/// One WIT package: a directory of `.wit` files or one `.wit` file.
///
/// Torvyn's own WIT files start with `//` header comments above their
/// `package` line, which the current wit-parser takes for package docs and
/// rejects when several files of one package have them ("found doc comments
/// on multiple 'package' items"). Such a package is parsed again with those
/// header lines blanked, in memory only (line numbers are kept).
fn parse_package(path: &Path) -> Result<UnresolvedPackageGroup, String> {
    let parsed = if path.is_dir() {
        UnresolvedPackageGroup::parse_dir(path).map_err(|err| format!("{err:#}"))
    } else {
        let text = std::fs::read_to_string(path)
            .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
        UnresolvedPackageGroup::parse(path, &text).map_err(|(map, err)| err.render(&map))
    };
    match parsed {
        Err(err) if err.contains("doc comments on multiple 'package' items") => {
            parse_without_headers(path).map_err(|_| err)
        }
        other => other,
    }
}

/// [`parse_package`] with the comment lines above each file's `package`
/// line blanked.
fn parse_without_headers(path: &Path) -> Result<UnresolvedPackageGroup, String> {
    let mut files: Vec<PathBuf> = if path.is_dir() {
        std::fs::read_dir(path)
            .map_err(|err| format!("{}: {err}", path.display()))?
            .flatten()
            .map(|entry| entry.path())
            .filter(|file| file.is_file() && file.extension().is_some_and(|e| e == "wit"))
            .collect()
    } else {
        vec![path.to_path_buf()]
    };
    files.sort();
    let mut map = wit_bindgen_core::wit_parser::SourceMap::default();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|err| format!("cannot read {}: {err}", file.display()))?;
        map.push(&file, blank_header_comments(&text));
    }
    map.parse().map_err(|(map, err)| err.render(&map))
}

/// `text` with the `//` comment lines before its `package` line made empty.
fn blank_header_comments(text: &str) -> String {
    let mut before_package = true;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        before_package &= !trimmed.starts_with("package ");
        if before_package && trimmed.starts_with("//") {
            out.extend(line.chars().filter(|&c| c == '\n'));
        } else {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_comments_of_upstream_wit_files_are_ignored() {
        let dir = std::env::temp_dir().join(format!(
            "torvyn-cargo-component-headers-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (file, item) in [("a.wit", "interface a {}"), ("b.wit", "interface b {}")] {
            std::fs::write(
                dir.join(file),
                format!("// Header of {file}.\n//\n// Package: t:p\n\npackage t:p;\n\n{item}\n"),
            )
            .unwrap();
        }
        // Rejected as they are by the current wit-parser ...
        assert!(UnresolvedPackageGroup::parse_dir(&dir).is_err());
        // ... and parsed with the header lines blanked.
        let group = parse_package(&dir).unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(group.main.name.to_string(), "t:p");
        assert_eq!(
            blank_header_comments("// x\n\npackage t:p;\n// kept\n"),
            "\n\npackage t:p;\n// kept\n"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
