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
mod checks;
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
            if let Some(error) = checks::second_component(role, &component.name()) {
                let error = error.to_compile_error();
                return quote::quote!(#item2 #error).into();
            }
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

/// Expansion snapshots (wasmtime's style): each case is expanded, formatted
/// with `prettyplease` and compared with `tests/expand/<case>.expanded.rs`.
/// Bless with `TORVYN_BLESS=1 cargo test -p torvyn-macros --lib`.
#[cfg(test)]
mod snapshots {
    use quote::quote;

    use crate::role::Role;

    fn check(
        case: &str,
        role: Role,
        attr: proc_macro2::TokenStream,
        item: proc_macro2::TokenStream,
    ) {
        let component = crate::model::Component::parse(role, attr, item)
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        let tokens = crate::expand::expand(&component);
        let file: syn::File = syn::parse2(tokens).expect("expansion parses as a file");
        let text = prettyplease::unparse(&file).replace(crate::expand::WIT_DIR, "$WIT");
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/expand")
            .join(format!("{case}.expanded.rs"));
        if std::env::var_os("TORVYN_BLESS").is_some() {
            std::fs::write(&path, &text).unwrap();
            return;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            expected == text,
            "expansion of `{case}` changed; run `TORVYN_BLESS=1 cargo test -p torvyn-macros --lib` \
             and review the diff of {}\n--- new expansion ---\n{text}",
            path.display()
        );
    }

    #[test]
    fn stateless_filter() {
        check(
            "stateless_filter",
            Role::Filter,
            quote!(),
            quote! {
                fn only_json(element: &Element) -> bool {
                    element.content_type() == "application/json"
                }
            },
        );
    }

    #[test]
    fn stateful_processor_with_config() {
        check(
            "stateful_processor",
            Role::Processor,
            quote!(crate = ::sdk),
            quote! {
                impl Enricher {
                    fn init(config: Config) -> Result<Self> { Ok(Self { config }) }
                    fn process(&mut self, element: &Element) -> Result<Option<Output>> { todo!() }
                    fn teardown(&mut self) {}
                }
            },
        );
    }

    #[test]
    fn default_state_source() {
        check(
            "default_state_source",
            Role::Source,
            quote!(),
            quote! {
                impl Countdown {
                    fn pull(&mut self) -> Option<Output> { None }
                }
            },
        );
    }
}
