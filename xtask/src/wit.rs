//! The published crates' copies of the contract.
//!
//! `torvyn-guest`, `torvyn-macros` and `torvyn-testkit` read the WIT at compile
//! time from their own `wit/` directory: a published package cannot reach the
//! repository's `wit/`, so each crate holds a copy. `wit/` is the one to edit;
//! `cargo xtask sync-wit` copies it into the crates, and [`differences`] (run
//! by this module's test, so by `cargo test --workspace`, and by
//! `cargo xtask release-check`) fails while any copy differs.

use std::path::Path;

use anyhow::{Result, bail};

use crate::copies;

/// The crates that embed a copy of `wit/`.
pub(crate) const CRATES_WITH_WIT: &[&str] = &["torvyn-guest", "torvyn-macros", "torvyn-testkit"];

/// How each crate's `wit/` differs from the repository's `wit/`: one line per
/// missing, extra or changed file. Empty when every copy is identical.
///
/// # Errors
/// When a directory cannot be read.
pub(crate) fn differences(root: &Path) -> Result<Vec<String>> {
    let original = copies::files(&root.join("wit"))?;
    let mut problems = Vec::new();
    for name in CRATES_WITH_WIT {
        let dir = root.join("crates").join(name).join("wit");
        problems.extend(copies::differences(
            &original,
            &dir,
            &format!("crates/{name}/wit"),
            "wit/",
        )?);
    }
    Ok(problems)
}

/// Fails, listing the differences, unless every copy equals `wit/`.
///
/// # Errors
/// The differences, and the command that fixes them.
pub(crate) fn check(root: &Path) -> Result<()> {
    let problems = differences(root)?;
    if !problems.is_empty() {
        bail!(
            "the crates' copies of wit/ are out of date:\n  {}\nrun `cargo xtask sync-wit` \
             (edit wit/, never the copies)",
            problems.join("\n  ")
        );
    }
    Ok(())
}

/// `cargo xtask sync-wit`: replace each crate's `wit/` by a copy of `wit/`.
///
/// # Errors
/// When a file cannot be removed, created or copied.
pub(crate) fn sync(root: &Path) -> Result<()> {
    let original = copies::files(&root.join("wit"))?;
    for name in CRATES_WITH_WIT {
        copies::replace(&root.join("crates").join(name).join("wit"), &original)?;
        println!(
            "xtask sync-wit: crates/{name}/wit <- wit/ ({} files)",
            original.len()
        );
    }
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
    fn every_crate_copy_of_the_wit_equals_wit() {
        let problems = differences(root()).unwrap();
        assert!(
            problems.is_empty(),
            "run `cargo xtask sync-wit`:\n{}",
            problems.join("\n")
        );
    }

    #[test]
    fn a_changed_missing_or_extra_file_is_reported() {
        let dir = std::env::temp_dir().join(format!("torvyn-xtask-wit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("wit/streaming")).unwrap();
        std::fs::write(dir.join("wit/streaming/types.wit"), "package a;").unwrap();
        std::fs::write(dir.join("wit/streaming/sink.wit"), "package a;").unwrap();
        sync(&dir).unwrap();
        assert!(differences(&dir).unwrap().is_empty());

        let guest = dir.join("crates/torvyn-guest/wit/streaming");
        std::fs::write(guest.join("types.wit"), "package b;").unwrap();
        std::fs::remove_file(guest.join("sink.wit")).unwrap();
        std::fs::write(guest.join("extra.wit"), "").unwrap();
        let problems = differences(&dir).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            problems,
            [
                "crates/torvyn-guest/wit/streaming/sink.wit is missing",
                "crates/torvyn-guest/wit/streaming/types.wit differs from wit/",
                "crates/torvyn-guest/wit/streaming/extra.wit is not in wit/",
            ]
        );
    }
}
