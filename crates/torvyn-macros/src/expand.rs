//! Code generation from a validated [`Component`]. Cannot fail.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

use crate::model::{Component, Kind, Stateful};
use crate::role::{Handler, Input, Returns, Role, WitReturns};

/// Directory of the WIT contract (the `wit` link in this crate).
pub(crate) const WIT_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/wit");

pub(crate) fn expand(c: &Component) -> TokenStream {
    let sdk = &c.sdk;
    let item = &c.item;
    let marker = quote_spanned! {c.span=>
        #[doc(hidden)]
        #[macro_export]
        macro_rules! __one_torvyn_component_per_crate { () => {}; }
    };
    let adapter = match &c.kind {
        Kind::Function { ident, ret_span } => function_adapter(c.role, sdk, ident, *ret_span),
        Kind::Stateful(s) => stateful_adapter(c.role, sdk, s),
    };
    let glue = wasm_glue(c.role, sdk);
    // Name every adapter function in an anonymous const so that, on targets
    // without the export glue, the author's handlers are not reported as dead.
    let role_trait = role_trait(sdk, c.role);
    let uses = c.role.handlers().iter().map(|h| {
        let name = format_ident!("{}", h.name);
        quote!(let _ = <__TorvynComponent as #role_trait>::#name;)
    });
    quote! {
        #item
        #marker
        #[doc(hidden)]
        #[allow(dead_code)]
        struct __TorvynComponent;
        #adapter
        const _: () = {
            let _ = <__TorvynComponent as #sdk::__private::Lifecycle>::init;
            let _ = <__TorvynComponent as #sdk::__private::Lifecycle>::teardown;
            #(#uses)*
        };
        #glue
    }
}

/// Every token of `tokens`, moved to `span` (so that a trait error on the
/// generated call is reported on the author's return type).
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let proc_macro2::TokenTree::Group(g) = &tt {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                tt = proc_macro2::TokenTree::Group(group);
            } else {
                tt.set_span(span);
            }
            tt
        })
        .collect()
}

fn returns_into(
    sdk: &TokenStream,
    returns: Returns,
    span: Span,
    value: TokenStream,
) -> TokenStream {
    match returns.trait_name() {
        Some(name) => {
            let tr = format_ident!("{}", name, span = span);
            let sdk = respan(sdk.clone(), span);
            let ret = quote_spanned!(span=> __torvyn_ret);
            let call = quote_spanned!(span=> #sdk::__private::#tr::into_result(#ret));
            quote! {{
                let #ret = #value;
                #call
            }}
        }
        None => quote! { { #value; ::core::result::Result::Ok(()) } },
    }
}

/// The SDK trait method for a handler: its signature and how it calls `call`.
fn handler_method(sdk: &TokenStream, handler: &Handler, body: TokenStream) -> TokenStream {
    let name = format_ident!("{}", handler.name);
    let ret = result_type(sdk, handler);
    match handler.input {
        Input::Element => quote! {
            fn #name(element: &#sdk::Element<'_>) -> #ret { #body }
        },
        Input::Nothing => quote! {
            fn #name() -> #ret { #body }
        },
        Input::Backpressure => quote! {
            fn #name(signal: #sdk::Backpressure) { let _ = #body; }
        },
    }
}

fn result_type(sdk: &TokenStream, handler: &Handler) -> TokenStream {
    match handler.returns {
        Returns::Filter => quote!(#sdk::Result<::core::primitive::bool>),
        Returns::MaybeOutput => quote!(#sdk::Result<::core::option::Option<#sdk::Output>>),
        Returns::Route => quote!(#sdk::Result<#sdk::Route>),
        Returns::Flush => quote!(#sdk::Result<#sdk::__private::std::vec::Vec<#sdk::Output>>),
        Returns::Push => quote!(#sdk::Result<#sdk::Backpressure>),
        Returns::UnitOrResult | Returns::UnitOnly => quote!(#sdk::Result<()>),
    }
}

fn role_trait(sdk: &TokenStream, role: Role) -> TokenStream {
    let name = format_ident!("{}", role.export_interface().1);
    quote!(#sdk::__private::#name)
}

/// Default bodies for optional handlers the author did not write.
fn missing_handler(handler: &Handler) -> TokenStream {
    match handler.input {
        Input::Backpressure => quote!(()),
        _ => quote!(::core::result::Result::Ok(())),
    }
}

fn function_adapter(
    role: Role,
    sdk: &TokenStream,
    ident: &syn::Ident,
    ret_span: Span,
) -> TokenStream {
    let role_trait = role_trait(sdk, role);
    let methods = role.handlers().iter().enumerate().map(|(i, handler)| {
        let body = if i == 0 {
            let call = quote!(#ident(element));
            returns_into(sdk, handler.returns, ret_span, call)
        } else {
            missing_handler(handler)
        };
        handler_method(sdk, handler, body)
    });
    quote! {
        impl #sdk::__private::Lifecycle for __TorvynComponent {
            fn init(config: &::core::primitive::str) -> #sdk::Result<()> {
                #sdk::__private::init_without_handler(config);
                ::core::result::Result::Ok(())
            }
            fn teardown() {}
        }
        impl #role_trait for __TorvynComponent {
            #(#methods)*
        }
    }
}

fn stateful_adapter(role: Role, sdk: &TokenStream, s: &Stateful) -> TokenStream {
    let ty = &s.self_ty;
    let ty_span = syn::spanned::Spanned::span(ty);
    let role_trait = role_trait(sdk, role);
    let missing = if s.init.is_some() {
        quote!(#sdk::__private::Missing::InitRequired)
    } else {
        quote_spanned!(ty_span=> #sdk::__private::Missing::Create(#sdk::__private::default_state::<#ty>))
    };
    let init_body = match &s.init {
        Some(init) => {
            let ret = returns_init(sdk, ty, init.ret_span);
            match &init.config {
                Some(config_ty) => {
                    let cfg_span = syn::spanned::Spanned::span(config_ty);
                    let sdk_at_cfg = respan(sdk.clone(), cfg_span);
                    let parse = quote_spanned! {cfg_span=>
                        #sdk_at_cfg::__private::parse_config::<#config_ty>(
                            config,
                            (&#sdk::__private::ConfigParser::<#config_ty>::new()).default_fn(),
                        )
                    };
                    quote! {
                        #[allow(unused_imports)]
                        use #sdk::__private::{WithDefault as _, WithoutDefault as _};
                        __TORVYN_STATE.with(|cell| cell.init(|| {
                            let config: #config_ty = #parse?;
                            let ret = <#ty>::init(config);
                            #ret
                        }))
                    }
                }
                None => quote! {
                    #sdk::__private::init_without_handler(config);
                    __TORVYN_STATE.with(|cell| cell.init(|| {
                        let ret = <#ty>::init();
                        #ret
                    }))
                },
            }
        }
        None => quote! {
            #sdk::__private::init_without_handler(config);
            __TORVYN_STATE.with(|cell| cell.init(|| {
                ::core::result::Result::Ok(#sdk::__private::default_state::<#ty>())
            }))
        },
    };
    let teardown = if s.teardown {
        quote!(|state| <#ty>::teardown(state))
    } else {
        quote!(|_| {})
    };
    let methods = role.handlers().iter().map(|handler| {
        let body = match s.handlers.iter().find(|(h, _)| h.name == handler.name) {
            Some((_, ret_span)) => {
                let name = format_ident!("{}", handler.name);
                let call = match handler.input {
                    Input::Element => quote!(<#ty>::#name(state, element)),
                    Input::Nothing => quote!(<#ty>::#name(state)),
                    Input::Backpressure => quote!(<#ty>::#name(state, signal)),
                };
                let ret = returns_into(sdk, handler.returns, *ret_span, call);
                let label = handler.name;
                quote! {
                    __TORVYN_STATE.with(|cell| cell.with(#label, #missing, |state| #ret))
                }
            }
            None => missing_handler(handler),
        };
        handler_method(sdk, handler, body)
    });
    quote! {
        #sdk::__private::std::thread_local! {
            static __TORVYN_STATE: #sdk::__private::StateCell<#ty> =
                const { #sdk::__private::StateCell::new() };
        }
        impl #sdk::__private::Lifecycle for __TorvynComponent {
            fn init(config: &::core::primitive::str) -> #sdk::Result<()> {
                #init_body
            }
            fn teardown() {
                __TORVYN_STATE.with(|cell| cell.teardown(#teardown));
            }
        }
        impl #role_trait for __TorvynComponent {
            #(#methods)*
        }
    }
}

fn returns_init(sdk: &TokenStream, ty: &syn::Type, span: Span) -> TokenStream {
    quote_spanned! {span=> #sdk::__private::InitReturn::<#ty>::into_result(ret) }
}

/// The wasm32-only part: `wit_bindgen::generate!` for the one world, the
/// `Guest` impls that forward to the SDK's glue, and `export!`.
fn wasm_glue(role: Role, sdk: &TokenStream) -> TokenStream {
    let (world, packages, allocator) = role.world();
    let paths = packages.iter().map(|p| format!("{WIT_DIR}/{p}"));
    let sdk_str = sdk.to_string().replace(' ', "");
    let types_path: syn::Path = syn::parse_str(&format!(
        "{sdk_str}::__private::bindings::torvyn::streaming::types"
    ))
    .expect("valid path");
    let alloc_with = allocator.then(|| {
        let p: syn::Path = syn::parse_str(&format!(
            "{sdk_str}::__private::bindings::torvyn::streaming::buffer_allocator"
        ))
        .expect("valid path");
        quote!("torvyn:streaming/buffer-allocator@0.1.0": #p,)
    });
    let runtime_path = format!("{sdk_str}::__private::wit_bindgen::rt");
    let (iface, _) = role.export_interface();
    let iface: Vec<_> = iface.iter().map(|s| format_ident!("{}", s)).collect();
    let t = quote!(#sdk::__private::bindings::torvyn::streaming::types);
    let glue = quote!(#sdk::__private::glue);
    let component = quote!(super::__TorvynComponent);
    let res = |ok: TokenStream| quote!(::core::result::Result<#ok, #t::ProcessError>);
    let vec = quote!(#sdk::__private::std::vec::Vec);
    let string = quote!(#sdk::__private::std::string::String);
    let methods: Vec<TokenStream> = role
        .handlers()
        .iter()
        .map(|h| {
            let name = format_ident!("{}", h.name);
            let params = match h.input {
                Input::Element => quote!(element: #t::StreamElement<'_>),
                Input::Nothing => quote!(),
                Input::Backpressure => quote!(signal: #t::BackpressureSignal),
            };
            let ok = match h.wit_returns {
                WitReturns::Bool => Some(quote!(::core::primitive::bool)),
                WitReturns::ProcessResult => Some(quote!(#t::ProcessResult)),
                WitReturns::PortNames => Some(quote!(#vec<#string>)),
                WitReturns::MaybeOutput => Some(quote!(::core::option::Option<#t::OutputElement>)),
                WitReturns::Outputs => Some(quote!(#vec<#t::OutputElement>)),
                WitReturns::Backpressure => Some(quote!(#t::BackpressureSignal)),
                WitReturns::Unit => Some(quote!(())),
                WitReturns::Nothing => None,
            };
            let sig = match ok {
                Some(ok) => {
                    let r = res(ok);
                    quote!(fn #name(#params) -> #r)
                }
                None => quote!(fn #name(#params)),
            };
            let args = match h.input {
                Input::Element => quote!(element),
                Input::Nothing => quote!(),
                Input::Backpressure => quote!(signal),
            };
            quote! {
                #sig { #glue::#name::<#component>(#args) }
            }
        })
        .collect();
    quote! {
        #[cfg(target_arch = "wasm32")]
        #[doc(hidden)]
        #[allow(clippy::all, unused_qualifications)]
        // wit-bindgen's export glue (`export!`, the canonical-ABI lifting)
        // uses `unsafe`: allowed here so that a component crate with
        // `#![deny(unsafe_code)]` builds; the author's code stays checked.
        #[allow(unsafe_code)]
        mod __torvyn_export {
            #sdk::__private::wit_bindgen::generate!({
                world: #world,
                path: [#(#paths),*],
                with: {
                    "torvyn:streaming/types@0.1.0": #types_path,
                    #alloc_with
                },
                runtime_path: #runtime_path,
            });

            struct __TorvynExport;

            impl exports::torvyn::streaming::lifecycle::Guest for __TorvynExport {
                fn init(config: #string) -> ::core::result::Result<(), #t::ProcessError> {
                    #glue::init::<#component>(config)
                }
                fn teardown() {
                    #glue::teardown::<#component>()
                }
            }

            impl exports::#(#iface)::*::Guest for __TorvynExport {
                #(#methods)*
            }

            export!(__TorvynExport);
        }
    }
}
