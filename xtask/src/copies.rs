//! Directories kept as exact copies of another, because a published package
//! cannot reach outside its crate: the crates' `wit/` (of `wit/`, see
//! `wit.rs`) and the CLI's `templates/` (of `templates/`, see
//! `templates.rs`). Reading a tree, comparing a copy with its original, and
//! writing a copy anew.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A tree's files: each by its path relative to the tree, with its contents.
pub(crate) type Files = BTreeMap<PathBuf, Vec<u8>>;

/// Every file under `dir`.
///
/// # Errors
/// When a directory or a file cannot be read.
pub(crate) fn files(dir: &Path) -> Result<Files> {
    let mut found = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current)
            .with_context(|| format!("cannot read {}", current.display()))?;
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let bytes = std::fs::read(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                let relative = path.strip_prefix(dir).unwrap_or(&path).to_path_buf();
                found.insert(relative, bytes);
            }
        }
    }
    Ok(found)
}

/// How the copy in `copy_dir` (named `copy` in the messages) differs from
/// `original` (named `from`): one line per missing, changed or extra file.
/// Empty when the copy is identical; a missing `copy_dir` lacks every file.
///
/// # Errors
/// When the copy cannot be read.
pub(crate) fn differences(
    original: &Files,
    copy_dir: &Path,
    copy: &str,
    from: &str,
) -> Result<Vec<String>> {
    let copied = if copy_dir.is_dir() {
        files(copy_dir)?
    } else {
        Files::new()
    };
    let mut problems = Vec::new();
    for (path, bytes) in original {
        match copied.get(path) {
            None => problems.push(format!("{copy}/{} is missing", path.display())),
            Some(found) if found != bytes => {
                problems.push(format!("{copy}/{} differs from {from}", path.display()));
            }
            Some(_) => {}
        }
    }
    for path in copied.keys().filter(|path| !original.contains_key(*path)) {
        problems.push(format!("{copy}/{} is not in {from}", path.display()));
    }
    Ok(problems)
}

/// Replace `dir` by exactly `files`.
///
/// # Errors
/// When a file cannot be removed, created or written.
pub(crate) fn replace(dir: &Path, files: &Files) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot remove {}", dir.display()))?;
    }
    for (path, bytes) in files {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&target, bytes)
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    Ok(())
}
