//! Attribute macros that turn plain Rust into Torvyn components.
//!
//! Use them through `torvyn-guest`, which re-exports them and documents the
//! roles: `#[torvyn::filter]`, `#[torvyn::processor]`, `#[torvyn::router]`,
//! `#[torvyn::aggregator]`, `#[torvyn::source]` and `#[torvyn::sink]`.
//!
//! Layout (after serde_derive): `args` parses the attribute arguments,
//! `model` validates the item into a checked model (collecting every error),
//! `expand` emits code and cannot fail. On an error the original item is still
//! emitted next to the `compile_error!`s, so IDEs keep working.
//!
//! Set `TORVYN_MACRO_DEBUG=<dir>` to write each expansion, formatted, to
//! `<dir>/<role>-<item>.rs`.
#![forbid(unsafe_code)]

mod args;
mod crate_path;
mod expand;
mod model;
mod role;

use proc_macro::TokenStream;

use crate::role::Role;

fn run(role: Role, attr: TokenStream, item: TokenStream) -> TokenStream {
    let item2: proc_macro2::TokenStream = item.into();
    match model::Component::parse(role, attr.into(), item2.clone()) {
        Ok(component) => {
            let expanded = expand::expand(&component);
            debug_dump(role, &component, &expanded);
            expanded.into()
        }
        Err(errors) => {
            let errors = errors.to_compile_error();
            quote::quote!(#item2 #errors).into()
        }
    }
}

fn debug_dump(role: Role, component: &model::Component, tokens: &proc_macro2::TokenStream) {
    let Some(dir) = std::env::var_os("TORVYN_MACRO_DEBUG") else {
        return;
    };
    let text = match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => tokens.to_string(),
    };
    let path = std::path::Path::new(&dir).join(format!("{}-{}.rs", role.name(), component.name()));
    let _ = std::fs::write(path, text);
}

/// `#[torvyn::filter]`: a `torvyn:filtering/filter` component (world
/// `content-filter`). On `fn(&Element) -> bool` or an `impl` with
/// `fn evaluate(&mut self, &Element) -> bool`.
#[proc_macro_attribute]
pub fn filter(attr: TokenStream, item: TokenStream) -> TokenStream {
    run(Role::Filter, attr, item)
}

/// `#[torvyn::processor]`: a `torvyn:streaming/processor` component (world
/// `managed-transform`). On `fn(&Element) -> Option<Output>` or an `impl` with
/// `fn process(&mut self, &Element) -> Option<Output>`.
#[proc_macro_attribute]
pub fn processor(attr: TokenStream, item: TokenStream) -> TokenStream {
    run(Role::Processor, attr, item)
}

/// `#[torvyn::router]`: a `torvyn:filtering/router` component (world
/// `content-router`). On `fn(&Element) -> impl Into<Route>` or an `impl` with `route`.
#[proc_macro_attribute]
pub fn router(attr: TokenStream, item: TokenStream) -> TokenStream {
    run(Role::Router, attr, item)
}

/// `#[torvyn::aggregator]`: a `torvyn:aggregation/aggregator` component (world
/// `stream-aggregator`). On an `impl` with `ingest` and `flush`.
#[proc_macro_attribute]
pub fn aggregator(attr: TokenStream, item: TokenStream) -> TokenStream {
    run(Role::Aggregator, attr, item)
}

/// `#[torvyn::source]`: a `torvyn:streaming/source` component (world
/// `data-source`). On an `impl` with `pull` and optionally `notify_backpressure`.
#[proc_macro_attribute]
pub fn source(attr: TokenStream, item: TokenStream) -> TokenStream {
    run(Role::Source, attr, item)
}

/// `#[torvyn::sink]`: a `torvyn:streaming/sink` component (world `data-sink`).
/// On `fn(&Element) -> Backpressure` or an `impl` with `push` and optionally `complete`.
#[proc_macro_attribute]
pub fn sink(attr: TokenStream, item: TokenStream) -> TokenStream {
    run(Role::Sink, attr, item)
}
