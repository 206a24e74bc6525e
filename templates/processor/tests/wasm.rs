//! Builds this crate to a `wasm32-wasip2` component with `torvyn-testkit` and
//! checks that it is a Torvyn processor: it exports exactly the processor and
//! lifecycle interfaces and imports only the contract interfaces it needs (plus WASI).

use wasmtime::component::Component;
use wasmtime::{Config, Engine};

#[test]
fn builds_to_a_managed_transform_component() {
    let wasm = torvyn_testkit::build::build_component(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or_else(|err| panic!("building the component failed:\n{err}"));
    let engine = Engine::new(Config::new().wasm_component_model(true)).unwrap();
    let component = Component::from_file(&engine, &wasm).unwrap();
    let ty = component.component_type();

    let mut exports: Vec<String> = ty
        .exports(&engine)
        .map(|(name, _)| name.to_string())
        .collect();
    exports.sort();
    assert_eq!(
        exports,
        [
            "torvyn:streaming/lifecycle@0.1.0",
            "torvyn:streaming/processor@0.1.0"
        ]
    );

    let imports: Vec<String> = ty
        .imports(&engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let torvyn: Vec<&str> = imports
        .iter()
        .map(String::as_str)
        .filter(|name| name.starts_with("torvyn:"))
        .collect();
    assert_eq!(
        torvyn,
        [
            "torvyn:streaming/types@0.1.0",
            "torvyn:streaming/buffer-allocator@0.1.0"
        ],
        "all imports: {imports:?}"
    );
    for name in &imports {
        assert!(
            name.starts_with("torvyn:") || name.starts_with("wasi:"),
            "unexpected import `{name}`"
        );
    }
}
