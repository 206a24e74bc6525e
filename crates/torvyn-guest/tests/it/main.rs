//! The SDK's integration tests that need the reference host: one test binary
//! (it links `torvyn-testkit` and wasmtime once), one module per area. Run
//! one area with `cargo test -p torvyn-guest --test it wasm_components::`.

mod copy_accounting;
mod wasm_components;
