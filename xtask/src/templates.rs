//! The command line's copy of the project templates.
//!
//! `torvyn-testkit init` embeds the templates of `templates/` in its binary;
//! a published package cannot reach the repository's `templates/`, so the
//! CLI crate holds a copy in `crates/torvyn-testkit-cli/templates/`. Each
//! `Cargo.toml` is stored as `Cargo.toml.liquid` there: `cargo package` leaves
//! out every directory holding a `Cargo.toml` (another package), so the copy
//! would not be in the published crate. `templates/` is the one to edit;
//! `cargo xtask sync-templates` copies it, and [`differences`] (run by this
//! module's test, so by `cargo test --workspace`, and by
//! `cargo xtask release-check`) fails while the copy differs.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::copies::{self, Files};

/// Where the copy lives, relative to the workspace root.
pub(crate) const COPY: &str = "crates/torvyn-testkit-cli/templates";

/// What a `Cargo.toml` is called in the copy.
pub(crate) const CARGO_TOML_COPY: &str = "Cargo.toml.liquid";

/// The files of every template (a directory of `templates/` with a
/// `cargo-generate.toml`), by their path in the copy, with their contents;
/// what cargo-generate ignores (`target`, `Cargo.lock`) is left out.
fn originals(root: &Path) -> Result<Files> {
    let templates = root.join("templates");
    let mut found = Files::new();
    let entries = std::fs::read_dir(&templates)
        .with_context(|| format!("cannot read {}", templates.display()))?;
    for entry in entries {
        let dir = entry?.path();
        if !dir.join("cargo-generate.toml").is_file() {
            continue;
        }
        let name = dir.file_name().unwrap_or_default().to_owned();
        for (path, bytes) in copies::files(&dir)? {
            if path
                .components()
                .any(|part| part.as_os_str() == "target" || part.as_os_str() == "Cargo.lock")
            {
                continue;
            }
            let path = if path.file_name().is_some_and(|file| file == "Cargo.toml") {
                path.with_file_name(CARGO_TOML_COPY)
            } else {
                path
            };
            found.insert(Path::new(&name).join(path), bytes);
        }
    }
    Ok(found)
}

/// How the CLI's copy differs from `templates/`: one line per missing,
/// extra or changed file. Empty when the copy is identical.
///
/// # Errors
/// When a directory cannot be read.
pub(crate) fn differences(root: &Path) -> Result<Vec<String>> {
    copies::differences(&originals(root)?, &root.join(COPY), COPY, "templates/")
}

/// Fails, listing the differences, unless the copy equals `templates/`.
///
/// # Errors
/// The differences, and the command that fixes them.
pub(crate) fn check(root: &Path) -> Result<()> {
    let problems = differences(root)?;
    if !problems.is_empty() {
        bail!(
            "the CLI's copy of templates/ is out of date:\n  {}\nrun `cargo xtask \
             sync-templates` (edit templates/, never the copy)",
            problems.join("\n  ")
        );
    }
    Ok(())
}

/// `cargo xtask sync-templates`: replace the CLI's copy by `templates/`.
///
/// # Errors
/// When a file cannot be removed, created or copied.
pub(crate) fn sync(root: &Path) -> Result<()> {
    let original = originals(root)?;
    copies::replace(&root.join(COPY), &original)?;
    println!(
        "xtask sync-templates: {COPY} <- templates/ ({} files)",
        original.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask lives inside the workspace")
    }

    #[test]
    fn the_clis_copy_of_the_templates_equals_templates() {
        let problems = differences(root()).unwrap();
        assert!(
            problems.is_empty(),
            "run `cargo xtask sync-templates`:\n{}",
            problems.join("\n")
        );
    }

    #[test]
    fn a_changed_missing_or_extra_file_is_reported() {
        let dir =
            std::env::temp_dir().join(format!("torvyn-xtask-templates-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("templates/sink/src")).unwrap();
        std::fs::create_dir_all(dir.join("templates/sink/target")).unwrap();
        std::fs::write(dir.join("templates/sink/cargo-generate.toml"), "").unwrap();
        std::fs::write(dir.join("templates/sink/Cargo.toml"), "[package]").unwrap();
        std::fs::write(dir.join("templates/sink/src/lib.rs"), "// sink").unwrap();
        std::fs::write(dir.join("templates/sink/target/junk"), "").unwrap();
        std::fs::write(dir.join("templates/README.md"), "").unwrap();
        sync(&dir).unwrap();
        assert!(differences(&dir).unwrap().is_empty());
        let copy = dir.join(COPY).join("sink");
        assert!(copy.join(CARGO_TOML_COPY).is_file());
        assert!(!copy.join("Cargo.toml").exists() && !copy.join("target").exists());

        std::fs::write(copy.join("src/lib.rs"), "// changed").unwrap();
        std::fs::remove_file(copy.join("cargo-generate.toml")).unwrap();
        std::fs::write(copy.join("extra.rs"), "").unwrap();
        let mut problems = differences(&dir).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        problems.sort();
        assert_eq!(
            problems,
            [
                format!("{COPY}/sink/cargo-generate.toml is missing"),
                format!("{COPY}/sink/extra.rs is not in templates/"),
                format!("{COPY}/sink/src/lib.rs differs from templates/"),
            ]
        );
    }
}
