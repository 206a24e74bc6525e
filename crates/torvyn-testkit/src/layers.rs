//! The layer order of the crate's top-level modules, and the tests that keep
//! it (ARCHITECTURE.md, "Architecture invariants").
//!
//! A module imports only modules of a lower layer: a `crate::<module>` path,
//! a `crate::<Item>` path to a root re-export (counted as the module that
//! defines it), or a `super::` path that climbs out of the module, outside
//! `#[cfg(test)]` code, comments and string literals. The modules below the
//! host do not name wasmtime at all. (A `super::` inside an inline module is
//! read as if it were at the file's level: no such path leaves its module
//! today.)

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The layers, bottom first: what each is, and its modules. Modules of one
/// layer do not import each other.
const LAYERS: &[(&str, &[&str])] = &[
    ("plain values", &["element", "role", "settings", "units"]),
    (
        "the graph rules, the contract, the build",
        &["build", "contract", "graph"],
    ),
    (
        "the manifest, the name re-encoder",
        &["manifest", "unversioned"],
    ),
    ("the wasmtime host", &["backtrace", "host"]),
    ("the error", &["error"]),
    ("trap diagnosis", &["diagnose"]),
    ("components", &["component"]),
    ("pipelines", &["pipeline"]),
    ("testing superpowers", &["golden", "prop"]),
];

/// The layers below this one never name `wasmtime` (or `wasmtime_wasi`).
const FIRST_WASMTIME_LAYER: usize = 3;

/// The files of the crate that are not a module's: the root and this file.
const NOT_MODULES: &[&str] = &["lib.rs", "layers.rs"];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

/// Every `.rs` file under `dir`, with its path relative to `src`.
fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

/// The source with comments and string and character literals blanked out
/// (kept as spaces, so positions and lines stay).
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    let blank = |out: &mut String, c: char| out.push(if c == '\n' { '\n' } else { ' ' });
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
            }
        } else if c == 'r'
            && matches!(next, Some('"' | '#'))
            && (i == 0 || !is_ident(chars[i - 1]))
            && raw_string_start(&chars, i).is_some()
        {
            let (hashes, body) = raw_string_start(&chars, i).expect("checked");
            let mut end = body;
            while end < chars.len() {
                if chars[end] == '"' && (1..=hashes).all(|h| chars.get(end + h) == Some(&'#')) {
                    end += 1 + hashes;
                    break;
                }
                end += 1;
            }
            for &c in &chars[i..end.min(chars.len())] {
                blank(&mut out, c);
            }
            i = end;
        } else if c == '"' {
            blank(&mut out, c);
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
                if i < chars.len() {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
            }
            if i < chars.len() {
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else if c == '\'' && char_literal_len(&chars, i).is_some() {
            let len = char_literal_len(&chars, i).expect("checked");
            for &c in &chars[i..i + len] {
                blank(&mut out, c);
            }
            i += len;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// At `r"` or `r#..#"`: the number of `#`s and where the body starts.
fn raw_string_start(chars: &[char], at: usize) -> Option<(usize, usize)> {
    let mut i = at + 1;
    let mut hashes = 0;
    while chars.get(i) == Some(&'#') {
        hashes += 1;
        i += 1;
    }
    (chars.get(i) == Some(&'"')).then_some((hashes, i + 1))
}

/// At a `'`: the length of the character literal that starts here (`'a'`,
/// `'\n'`, `'\u{1F600}'`), or `None` for a lifetime.
fn char_literal_len(chars: &[char], at: usize) -> Option<usize> {
    if chars.get(at + 1) == Some(&'\\') {
        let close = chars[at + 2..].iter().position(|&c| c == '\'')?;
        return Some(close + 3);
    }
    (chars.get(at + 2) == Some(&'\'')).then_some(3)
}

/// The code with every item marked `#[cfg(test)]` blanked out (the
/// attribute up to the end of its item: the `;`, or the `}` that closes it).
fn without_test_items(code: &str) -> String {
    const MARK: &str = "#[cfg(test)]";
    let mut out = code.to_string();
    let mut from = 0;
    while let Some(found) = out[from..].find(MARK) {
        let start = from + found;
        let bytes = out.as_bytes();
        let mut i = start + MARK.len();
        let mut depth = 0usize;
        while i < bytes.len() {
            match bytes[i] {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        i += 1;
                        break;
                    }
                }
                b';' if depth == 0 => {
                    i += 1;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        let blanked: String = out[start..i]
            .chars()
            .map(|c| if c == '\n' { '\n' } else { ' ' })
            .collect();
        out.replace_range(start..i, &blanked);
        from = i;
    }
    out
}

/// Where a path used in `code` leads out of its file's module: for each
/// `crate::name`, `crate::{name, ..}` and `super::` chain that climbs to the
/// crate root (`depth` is how deep the file's module is: 1 for `a.rs` and
/// `a/mod.rs`, 2 for `a/b.rs`), the first name after the root, with its line.
fn root_paths(code: &str, depth: usize) -> Vec<(String, usize)> {
    let chars: Vec<char> = code.chars().collect();
    let mut found = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let word_at = |i: usize, word: &str| {
        word.chars()
            .enumerate()
            .all(|(k, c)| chars.get(i + k) == Some(&c))
            && (i == 0 || !(is_ident(chars[i - 1]) || chars[i - 1] == '$'))
            && !chars.get(i + word.len()).copied().is_some_and(is_ident)
    };
    let skip_space = |mut i: usize| {
        while chars.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        i
    };
    let sep_at = |i: usize| {
        let i = skip_space(i);
        (chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':')).then(|| skip_space(i + 2))
    };
    let ident_at = |i: usize| {
        let end = (i..chars.len())
            .find(|&k| !is_ident(chars[k]))
            .unwrap_or(chars.len());
        chars[i..end].iter().collect::<String>()
    };
    while i < chars.len() {
        if chars[i] == '\n' {
            line += 1;
        }
        let mut after_root = None;
        if word_at(i, "crate") {
            after_root = sep_at(i + "crate".len());
            i += "crate".len();
        } else if word_at(i, "super") {
            let mut climbed = 0;
            let mut at = Some(i);
            while let Some(k) = at.filter(|&k| word_at(k, "super")) {
                climbed += 1;
                at = sep_at(k + "super".len());
            }
            if climbed == depth {
                after_root = at;
            }
            i += "super".len();
        } else {
            i += 1;
            continue;
        }
        let Some(at) = after_root else { continue };
        if chars.get(at) == Some(&'{') {
            // `crate::{a, b::{c, d}}`: the first name of each top-level part.
            let mut depth = 0;
            let mut part_start = true;
            for (k, &c) in chars.iter().enumerate().skip(at) {
                match c {
                    '{' => {
                        depth += 1;
                        part_start = depth == 1;
                    }
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => part_start = true,
                    c if part_start && is_ident(c) => {
                        found.push((ident_at(k), line));
                        part_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident_at(at);
            if !name.is_empty() {
                found.push((name, line));
            }
        }
    }
    found
}

/// The crate root's re-exports: item name -> the module it comes from
/// (`pub use self::module::{..}` lines of `lib.rs`).
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let code = code_only(lib);
    let mut names = BTreeMap::new();
    for statement in code.split(';') {
        let statement = statement.trim();
        let Some(path) = statement.strip_prefix("pub use self::") else {
            continue;
        };
        let Some((module, items)) = path.split_once("::") else {
            continue;
        };
        let items = items.trim().trim_start_matches('{').trim_end_matches('}');
        for item in items.split(',') {
            let item = item.trim();
            let name = item.rsplit(" as ").next().unwrap_or(item).trim();
            if !name.is_empty() {
                names.insert(name.to_string(), module.to_string());
            }
        }
    }
    names
}

/// An import of a module from another: (importing module, imported module,
/// `file:line`).
type Import = (String, String, String);

/// A file of a module, as (module, its code without comments, strings and
/// test items).
type Code = (String, String);

/// Every import of a module from another, and the code of the crate's modules.
fn imports() -> (Vec<Import>, Vec<Code>) {
    let src = src_dir();
    let lib = fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let reexports = root_reexports(&lib);
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges = Vec::new();
    let mut sources = Vec::new();
    for path in files {
        let relative = path.strip_prefix(&src).expect("under src");
        let shown = relative.to_string_lossy().replace('\\', "/");
        if NOT_MODULES.contains(&shown.as_str()) {
            continue;
        }
        let parts: Vec<&str> = shown.split('/').collect();
        let module = parts[0].trim_end_matches(".rs").to_string();
        let depth = if shown.ends_with("/mod.rs") {
            parts.len() - 1
        } else {
            parts.len()
        };
        let source = fs::read_to_string(&path).expect("a source file");
        let code = without_test_items(&code_only(&source));
        for (name, line) in root_paths(&code, depth) {
            let target = if layer_of(&name).is_some() {
                Some(name)
            } else {
                reexports.get(&name).cloned()
            };
            if let Some(target) = target.filter(|target| *target != module) {
                edges.push((module.clone(), target, format!("src/{shown}:{line}")));
            }
        }
        sources.push((module, code));
    }
    (edges, sources)
}

#[test]
fn every_module_has_a_layer() {
    let mut entries: Vec<String> = fs::read_dir(src_dir())
        .expect("src")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| !NOT_MODULES.contains(&name.as_str()))
        .map(|name| name.trim_end_matches(".rs").to_string())
        .collect();
    entries.sort();
    let mut listed: Vec<String> = LAYERS
        .iter()
        .flat_map(|(_, modules)| modules.iter().map(|m| m.to_string()))
        .collect();
    listed.sort();
    assert_eq!(
        entries, listed,
        "the modules in src/ and the modules of `LAYERS` in src/layers.rs differ: place a new \
         module in a layer (and in ARCHITECTURE.md's \"Architecture invariants\")"
    );
}

#[test]
fn modules_import_only_lower_layers() {
    let (edges, _) = imports();
    let wrong: Vec<String> = edges
        .iter()
        .filter_map(|(from, to, place)| {
            let (from_layer, to_layer) = (layer_of(from)?, layer_of(to)?);
            (to_layer >= from_layer).then(|| {
                format!(
                    "{place}: `{from}` ({}) imports `{to}` ({}), which is not below it",
                    LAYERS[from_layer].0, LAYERS[to_layer].0
                )
            })
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "a module imports one of its own layer or above (the order is `LAYERS` in \
         src/layers.rs and ARCHITECTURE.md's \"Architecture invariants\"; move the item \
         down, or the code up):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn modules_below_the_host_know_nothing_of_wasmtime() {
    let (_, sources) = imports();
    let wrong: Vec<String> = sources
        .iter()
        .filter(|(module, code)| {
            layer_of(module).is_some_and(|layer| layer < FIRST_WASMTIME_LAYER)
                && code.contains("wasmtime")
        })
        .map(|(module, _)| module.clone())
        .collect();
    assert!(
        wrong.is_empty(),
        "these modules sit below the wasmtime host and must not name wasmtime: {wrong:?}"
    );
}

#[test]
fn the_scanner_reads_paths() {
    let source = r##"
use crate::element::Output;
use crate::{role::{self, Role}, Error};
// use crate::pipeline::Pipeline;
const S: &str = "crate::golden";
const R: &str = r#"crate::prop"#;
fn f<'a>(x: &'a str) -> char { let _ = super::host::TICK; 'x' }
#[cfg(test)]
mod tests {
    use crate::pipeline::Pipeline;
}
"##;
    let code = without_test_items(&code_only(source));
    let names: Vec<String> = root_paths(&code, 1).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["element", "role", "Error", "host"]);
    // From `a/b.rs`, `super::` is `a`, and `super::super::` the root.
    let names: Vec<String> = root_paths("use super::x; use super::super::graph::X;", 2)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["graph"]);
}
