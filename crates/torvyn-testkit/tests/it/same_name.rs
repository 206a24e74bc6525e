//! Two projects whose component crates share a crate name each get their own
//! build: cargo names a `cdylib` by its crate name alone, so without keying the
//! second project's build would overwrite the first one's component in the
//! shared target directory (and cargo would then call the first one fresh).

use std::path::{Path, PathBuf};

use torvyn_testkit::build_component;
use torvyn_testkit::{Component, TestElement};

/// A standalone project (its own `[workspace]`) at a fixed place in this test
/// binary's temporary directory, holding a filter crate named `same-name`
/// whose `evaluate` returns `passes`.
fn project(dir: &str, passes: bool) -> PathBuf {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("wit");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("same-name")
        .join(dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let cargo_toml = r#"[package]
name = "same-name"
version = "0.0.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
wit-bindgen = { version = "0.61.1", default-features = false, features = ["macros", "realloc"] }

[workspace]
"#;
    let lib_rs = format!(
        r#"wit_bindgen::generate!({{
    world: "torvyn:filtering/content-filter@0.1.0",
    path: [{streaming:?}, {filtering:?}],
    generate_all,
}});

struct Same;

impl exports::torvyn::filtering::filter::Guest for Same {{
    fn evaluate(
        _element: torvyn::streaming::types::StreamElement<'_>,
    ) -> Result<bool, torvyn::streaming::types::ProcessError> {{
        Ok({passes})
    }}
}}

impl exports::torvyn::streaming::lifecycle::Guest for Same {{
    fn init(_config: String) -> Result<(), torvyn::streaming::types::ProcessError> {{
        Ok(())
    }}
    fn teardown() {{}}
}}

export!(Same);
"#,
        streaming = wit.join("streaming"),
        filtering = wit.join("filtering"),
    );
    write_if_changed(&dir.join("Cargo.toml"), cargo_toml);
    write_if_changed(&dir.join("src/lib.rs"), &lib_rs);
    // The fixtures' lock file: the same wit-bindgen, resolved without the network.
    if !dir.join("Cargo.lock").exists() {
        std::fs::copy(fixtures.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    }
    dir
}

/// Unchanged files keep their time stamps, so a second run builds nothing.
fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).unwrap();
    }
}

#[test]
fn two_projects_with_one_crate_name_each_run_their_own_build() {
    let passing = project("passing", true);
    let dropping = project("dropping", false);

    let passing_wasm = build_component(&passing).unwrap();
    let passing_bytes = std::fs::read(&passing_wasm).unwrap();
    let dropping_wasm = build_component(&dropping).unwrap();
    assert_ne!(
        passing_wasm, dropping_wasm,
        "both projects' components are at one path"
    );
    assert_eq!(
        std::fs::read(&passing_wasm).unwrap(),
        passing_bytes,
        "building the second project overwrote the first one's component"
    );

    let mut passing = Component::build(&passing).unwrap().instantiate("").unwrap();
    let mut dropping = Component::build(&dropping)
        .unwrap()
        .instantiate("")
        .unwrap();
    assert!(passing.evaluate(TestElement::text("x")).unwrap());
    assert!(!dropping.evaluate(TestElement::text("x")).unwrap());
}
