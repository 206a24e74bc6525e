//! Builds every example in `examples/` to a `wasm32-wasip2` component (through
//! `torvyn_testkit`) and checks that its exports are exactly the role's
//! world and its imports are the contract interfaces it needs (plus WASI).

use std::path::{Path, PathBuf};

const TYPES: &str = "torvyn:streaming/types@0.1.0";
const ALLOCATOR: &str = "torvyn:streaming/buffer-allocator@0.1.0";
const LIFECYCLE: &str = "torvyn:streaming/lifecycle@0.1.0";

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

/// `(imports, exports)` interface names of the built component.
fn world_of(name: &str) -> (Vec<String>, Vec<String>) {
    let component = torvyn_testkit::Component::build(example(name))
        .unwrap_or_else(|err| panic!("building example `{name}` failed:\n{err}"));
    let inspection = component.inspection();
    (inspection.imports.clone(), inspection.exports.clone())
}

#[track_caller]
fn check(name: &str, role_export: &str, allocator: bool) {
    let (imports, exports) = world_of(name);
    let mut want = vec![role_export.to_string(), LIFECYCLE.to_string()];
    want.sort();
    let mut got = exports.clone();
    got.sort();
    assert_eq!(got, want, "exports of `{name}`");
    let torvyn: Vec<&String> = imports
        .iter()
        .filter(|i| i.starts_with("torvyn:"))
        .collect();
    let mut want_imports = vec![TYPES];
    if allocator {
        want_imports.push(ALLOCATOR);
    }
    assert_eq!(
        torvyn, want_imports,
        "torvyn imports of `{name}` (all: {imports:?})"
    );
    for import in &imports {
        assert!(
            import.starts_with("torvyn:") || import.starts_with("wasi:"),
            "unexpected import `{import}` of `{name}`"
        );
    }
}

#[test]
fn rate_limiter_is_a_content_filter() {
    check("rate-limiter", "torvyn:filtering/filter@0.1.0", false);
}

#[test]
fn json_enricher_is_a_managed_transform() {
    check("json-enricher", "torvyn:streaming/processor@0.1.0", true);
}

#[test]
fn content_router_is_a_content_router() {
    check("content-router", "torvyn:filtering/router@0.1.0", false);
}

#[test]
fn window_counter_is_a_stream_aggregator() {
    check(
        "window-counter",
        "torvyn:aggregation/aggregator@0.1.0",
        true,
    );
}

#[test]
fn line_source_is_a_data_source() {
    check("line-source", "torvyn:streaming/source@0.1.0", true);
}

#[test]
fn counting_sink_is_a_data_sink() {
    check("counting-sink", "torvyn:streaming/sink@0.1.0", false);
}
