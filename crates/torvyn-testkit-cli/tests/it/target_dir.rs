//! The command builds a crate into that crate's own cargo target directory
//! (as `cargo metadata` reports it), or `TORVYN_WASM_TARGET_DIR`; never into
//! the cargo target directory the command runs from (before: a
//! `torvyn-testkit` run from `target/debug/` built every project's
//! components into the toolkit's own `target/torvyn-wasm/`).
//!

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{temp_dir, text};

/// A copy of the command in a fake cargo target directory (`CACHEDIR.TAG`,
/// `debug/torvyn-testkit`), as `cargo build` leaves it.
fn command_in_a_target_dir(root: &Path) -> PathBuf {
    let target = root.join("toolkit-target");
    std::fs::create_dir_all(target.join("debug")).unwrap();
    std::fs::write(
        target.join("CACHEDIR.TAG"),
        "Signature: 8a477f597d28d172789f06886806bc55\n",
    )
    .unwrap();
    let exe = target.join("debug/torvyn-testkit");
    std::fs::copy(env!("CARGO_BIN_EXE_torvyn-testkit"), &exe).unwrap();
    exe
}

/// A crate of its own (its own `[workspace]`) with nothing in it: it builds
/// in seconds, and `test` then says it is no Torvyn component.
fn empty_crate(root: &Path) -> PathBuf {
    let dir = root.join("empty-component");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"empty-component\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n\
         [lib]\ncrate-type = [\"cdylib\"]\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/lib.rs"), "").unwrap();
    dir
}

fn test_verb(exe: &Path, krate: &Path, root: &Path, wasm_dir: Option<&Path>) -> Output {
    let mut command = Command::new(exe);
    command
        .arg("test")
        .arg(krate)
        .args(["--text", "x"])
        .env("TORVYN_BUILD_QUIET", "1")
        .env("XDG_CACHE_HOME", root.join("cache"))
        .env_remove("TORVYN_WASM_TARGET_DIR")
        .env_remove("CARGO_TARGET_DIR");
    if let Some(dir) = wasm_dir {
        command.env("TORVYN_WASM_TARGET_DIR", dir);
    }
    command.output().expect("the CLI runs")
}

#[test]
fn a_command_in_a_cargo_target_directory_builds_into_the_crates_own_target_directory() {
    let root = temp_dir("target-dir");
    let exe = command_in_a_target_dir(&root);
    let krate = empty_crate(&root);

    let out = test_verb(&exe, &krate, &root, None);
    let stderr = text(&out.stderr);
    // It built (and then found no Torvyn exports).
    assert!(
        krate.join("target/torvyn-wasm").is_dir(),
        "not built into the crate's target directory:\n{stderr}"
    );
    assert!(
        !root.join("toolkit-target/torvyn-wasm").exists(),
        "built next to the command:\n{stderr}"
    );

    // TORVYN_WASM_TARGET_DIR wins.
    let chosen = root.join("chosen");
    let out = test_verb(&exe, &krate, &root, Some(&chosen));
    assert!(
        chosen.is_dir(),
        "TORVYN_WASM_TARGET_DIR not used:\n{}",
        text(&out.stderr)
    );
    assert!(!root.join("toolkit-target/torvyn-wasm").exists());
}
