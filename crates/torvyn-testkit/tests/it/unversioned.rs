//! A component whose WIT copy declares the Torvyn packages without a version
//! (`package torvyn:streaming;`, as upstream Torvyn's example projects do)
//! imports and exports unversioned names (`torvyn:streaming/types`). The host
//! links it as the 0.1.0 contract and `inspect` says so.

use std::path::{Path, PathBuf};

use torvyn_testkit::{Component, ErrorKind, Limits, Role, TestElement};

use crate::support::fixture_dir as fixture;

fn built() -> PathBuf {
    torvyn_testkit::build_component(fixture("raw-unversioned-filter"))
        .unwrap_or_else(|err| panic!("{err}"))
}

/// Import and export names exactly as the file declares them.
fn declared_names(wasm: &Path) -> (Vec<String>, Vec<String>) {
    let engine = wasmtime::Engine::new(wasmtime::Config::new().wasm_component_model(true)).unwrap();
    let component = wasmtime::component::Component::from_file(&engine, wasm).unwrap();
    let ty = component.component_type();
    (
        ty.imports(&engine)
            .map(|(name, _)| name.to_string())
            .collect(),
        ty.exports(&engine)
            .map(|(name, _)| name.to_string())
            .collect(),
    )
}

const NOTE: &str = "unversioned torvyn names treated as 0.1.0";

#[test]
fn the_fixture_really_uses_unversioned_names() {
    let (imports, exports) = declared_names(&built());
    assert!(
        imports.iter().any(|name| name == "torvyn:streaming/types"),
        "{imports:?}"
    );
    assert_eq!(
        exports,
        ["torvyn:filtering/filter", "torvyn:streaming/lifecycle"]
    );
}

#[test]
fn a_component_with_unversioned_torvyn_names_loads_and_runs_as_0_1_0() {
    let component = Component::from_file(built()).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(component.role(), Role::Filter);
    let inspection = component.inspection();
    assert!(inspection.lifecycle, "{inspection:?}");
    assert!(inspection.is_valid(), "{:?}", inspection.mismatches);
    assert_eq!(
        inspection.exports,
        [
            "torvyn:filtering/filter@0.1.0",
            "torvyn:streaming/lifecycle@0.1.0"
        ]
    );

    let mut filter = component
        .instantiate("")
        .unwrap_or_else(|err| panic!("{err}"));
    assert!(
        filter
            .evaluate(TestElement::json(serde_json::json!({"a": 1})))
            .unwrap()
    );
    assert!(!filter.evaluate(TestElement::text("plain")).unwrap());

    // `init` is called through the unversioned lifecycle export too.
    let err = component.instantiate("fail").unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Process { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("returned invalid-input: asked to fail from `init`"),
        "{err}"
    );

    // Fuel metering compiles the component again, on another engine.
    let mut fueled = component
        .options()
        .limits(Limits::default().fuel(Some(10_000_000)))
        .instantiate()
        .unwrap_or_else(|err| panic!("{err}"));
    assert!(!fueled.evaluate(TestElement::text("plain")).unwrap());
}

#[test]
fn inspect_notes_that_unversioned_names_are_treated_as_0_1_0() {
    let inspection = torvyn_testkit::inspect(built()).unwrap();
    assert!(inspection.is_valid(), "{:?}", inspection.mismatches);
    assert_eq!(inspection.notes.len(), 1, "{:?}", inspection.notes);
    let note = &inspection.notes[0];
    assert!(note.starts_with(NOTE), "{note}");
    assert!(
        note.contains(
            "imports `torvyn:streaming/types` and exports `torvyn:filtering/filter`, \
             `torvyn:streaming/lifecycle` without a version"
        ),
        "{note}"
    );
}

#[test]
fn a_versioned_component_gets_no_note() {
    let wasm = torvyn_testkit::build_component(fixture("raw-filter")).unwrap();
    let inspection = torvyn_testkit::inspect(wasm).unwrap();
    assert!(inspection.notes.is_empty(), "{:?}", inspection.notes);
}
