//! The build module against real crates: a hand-written wit-bindgen filter, a
//! crate that does not compile, a directory without a crate, a crate without a
//! `cdylib`, and (where installed) the Debian build-std fallback.

use std::path::{Path, PathBuf};

use torvyn_testkit::{BuildErrorKind, ComponentBuild, Toolchain, build_component};
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

use crate::support::fixture_dir as fixture;

/// A scratch crate in this test binary's temporary directory.
fn scratch_crate(name: &str, cargo_toml: &str, lib_rs: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), cargo_toml).unwrap();
    std::fs::write(dir.join("src/lib.rs"), lib_rs).unwrap();
    dir
}

/// Interface names a component imports and exports, from wasmtime's component type API.
fn imports_and_exports(wasm: &Path) -> (Vec<String>, Vec<String>) {
    let engine = Engine::new(Config::new().wasm_component_model(true)).unwrap();
    let component = Component::from_file(&engine, wasm).unwrap();
    let ty = component.component_type();
    let imports = ty
        .imports(&engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let exports = ty
        .exports(&engine)
        .map(|(name, _)| name.to_string())
        .collect();
    (imports, exports)
}

fn assert_is_filter_component(wasm: &Path) {
    assert_eq!(wasm.extension().and_then(|e| e.to_str()), Some("wasm"));
    let (imports, exports) = imports_and_exports(wasm);
    assert_eq!(
        exports,
        [
            "torvyn:filtering/filter@0.1.0",
            "torvyn:streaming/lifecycle@0.1.0"
        ],
        "exports of {}",
        wasm.display()
    );
    assert!(
        imports
            .iter()
            .any(|name| name == "torvyn:streaming/types@0.1.0"),
        "imports of {}: {imports:?}",
        wasm.display()
    );
    assert!(
        !imports.iter().any(|name| name.contains("buffer-allocator")),
        "a filter must not import the allocator: {imports:?}"
    );
}

#[test]
fn builds_a_wit_bindgen_filter_into_a_component_that_exports_the_filter_interface() {
    let wasm = build_component(fixture("raw-filter")).unwrap_or_else(|err| panic!("{err}"));
    assert!(
        wasm.starts_with(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .unwrap()
                .parent()
                .unwrap()
        ),
        "built under the workspace: {}",
        wasm.display()
    );
    assert!(
        wasm.to_string_lossy().contains("torvyn-wasm"),
        "{}",
        wasm.display()
    );
    assert_is_filter_component(&wasm);
    // Memoised: the same path comes back without a second build.
    assert_eq!(build_component(fixture("raw-filter")).unwrap(), wasm);
}

#[test]
fn a_compile_error_shows_the_rustc_diagnostic_the_command_and_a_hint() {
    let dir = scratch_crate(
        "broken-component",
        "[package]\nname = \"broken-component\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n\
         [lib]\ncrate-type = [\"cdylib\"]\n\n[workspace]\n",
        "pub fn answer() -> u32 { \"forty-two\" }\n",
    );
    let err = build_component(&dir).unwrap_err();
    assert_eq!(err.kind, BuildErrorKind::CompileFailed);
    assert!(
        err.diagnostics.contains("error[E0308]: mismatched types"),
        "{}",
        err.diagnostics
    );
    assert!(
        err.diagnostics.contains("src/lib.rs:1:"),
        "{}",
        err.diagnostics
    );
    let text = err.to_string();
    assert!(text.contains("command: "), "{text}");
    assert!(text.contains("--target wasm32-wasip2"), "{text}");
    assert!(text.contains("hint: fix the errors above"), "{text}");
}

#[test]
fn a_directory_without_a_crate_is_named_in_the_error() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-crate-here");
    std::fs::create_dir_all(&dir).unwrap();
    let err = build_component(&dir).unwrap_err();
    assert_eq!(err.kind, BuildErrorKind::NotACrate);
    assert!(err.to_string().contains("no-crate-here"), "{err}");
}

#[test]
fn a_crate_without_a_cdylib_says_to_add_one() {
    let dir = scratch_crate(
        "plain-rlib",
        "[package]\nname = \"plain-rlib\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n[workspace]\n",
        "pub fn answer() -> u32 { 42 }\n",
    );
    let err = build_component(&dir).unwrap_err();
    assert_eq!(err.kind, BuildErrorKind::NoArtifact);
    assert!(
        err.hint.contains("crate-type = [\\\"cdylib\\\"]") || err.hint.contains("cdylib"),
        "{err}"
    );
}

#[test]
fn the_detected_toolchain_is_one_of_the_two_paths() {
    let toolchain = Toolchain::detect().unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(toolchain.check().unwrap(), toolchain);
}

#[test]
fn the_debian_fallback_builds_the_same_component_where_it_is_installed() {
    match Toolchain::DebianFallback.check() {
        Ok(_) => {
            let wasm = ComponentBuild::new(fixture("raw-filter"))
                .toolchain(Toolchain::DebianFallback)
                .build()
                .unwrap_or_else(|err| panic!("{err}"));
            assert!(
                wasm.to_string_lossy().contains("/fallback/"),
                "{}",
                wasm.display()
            );
            assert_is_filter_component(&wasm);
        }
        Err(err) => {
            // Only a machine where rustup's target works may lack the fallback.
            assert_eq!(err.kind, BuildErrorKind::ToolchainMissing);
            Toolchain::Rustup
                .check()
                .unwrap_or_else(|err| panic!("{err}"));
            eprintln!("the Debian fallback is not installed here; rustup's target is used: {err}");
        }
    }
}
