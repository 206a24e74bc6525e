//! Parse and validate the annotated item into a checked model. Every mistake
//! found is collected, so the author sees them all at once.

use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;

use crate::role::{Handler, Input, Role};

/// A validated component.
pub(crate) struct Component {
    pub(crate) role: Role,
    /// `::torvyn_guest` or the override.
    pub(crate) sdk: TokenStream,
    pub(crate) kind: Kind,
    /// The original item, emitted unchanged.
    pub(crate) item: TokenStream,
    /// The attribute's span (for the crate-level marker).
    pub(crate) span: Span,
}

pub(crate) enum Kind {
    /// The stateless form: one function.
    Function { ident: syn::Ident, ret_span: Span },
    /// The stateful form: an `impl` block.
    Stateful(Box<Stateful>),
}

pub(crate) struct Stateful {
    pub(crate) self_ty: syn::Type,
    /// Found handlers: the role's handler and the method's return-type span.
    pub(crate) handlers: Vec<(&'static Handler, Span)>,
    pub(crate) init: Option<Init>,
    pub(crate) teardown: bool,
}

pub(crate) struct Init {
    pub(crate) config: Option<syn::Type>,
    pub(crate) ret_span: Span,
}

impl Component {
    pub(crate) fn name(&self) -> String {
        match &self.kind {
            Kind::Function { ident, .. } => ident.to_string(),
            Kind::Stateful(s) => quote::ToTokens::to_token_stream(&s.self_ty)
                .to_string()
                .replace(' ', ""),
        }
    }

    pub(crate) fn parse(
        role: Role,
        attr: TokenStream,
        item: TokenStream,
    ) -> Result<Self, syn::Error> {
        let mut errors = Vec::new();
        let args = crate::args::parse(role, attr, &mut errors);
        let span = Span::call_site();
        let parsed = syn::parse2::<syn::Item>(item.clone());
        if let Ok(item @ (syn::Item::Fn(_) | syn::Item::Impl(_))) = &parsed {
            crate::checks::static_mut_state(role, item, &mut errors);
        }
        let kind = match parsed {
            Ok(syn::Item::Fn(f)) => function(role, &f, &mut errors),
            Ok(syn::Item::Impl(i)) => {
                stateful(role, &i, &mut errors).map(|s| Kind::Stateful(Box::new(s)))
            }
            Ok(other) => {
                errors.push(wrong_item(role, &other));
                None
            }
            Err(_) => {
                // Not an item at all, e.g. a method inside an `impl`: the
                // compiler reports the syntax, we say where the attribute goes.
                errors.push(syn::Error::new(
                    span,
                    format!(
                        "{} goes on a function or on an inherent `impl` block, not here",
                        role.attr()
                    ),
                ));
                None
            }
        };
        match (kind, combine(errors)) {
            (Some(kind), None) => Ok(Self {
                role,
                sdk: crate::crate_path::sdk_path(args.krate.as_ref()),
                kind,
                item,
                span,
            }),
            (_, Some(err)) => Err(err),
            (None, None) => unreachable!("no model without an error"),
        }
    }
}

fn combine(errors: Vec<syn::Error>) -> Option<syn::Error> {
    errors.into_iter().reduce(|mut a, b| {
        a.combine(b);
        a
    })
}

fn wrong_item(role: Role, item: &syn::Item) -> syn::Error {
    let (what, span, name) = match item {
        syn::Item::Struct(s) => ("a struct", s.struct_token.span, Some(&s.ident)),
        syn::Item::Enum(e) => ("an enum", e.enum_token.span, Some(&e.ident)),
        syn::Item::Mod(m) => ("a module", m.mod_token.span, None),
        syn::Item::Trait(t) => ("a trait", t.trait_token.span, None),
        syn::Item::Const(c) => ("a const", c.const_token.span, None),
        syn::Item::Static(s) => ("a static", s.static_token.span, None),
        syn::Item::Use(u) => ("a `use`", u.use_token.span, None),
        _ => ("this item", item.span(), None),
    };
    let hint = match (name, role.handlers()) {
        (Some(name), handlers) => format!(
            "; for a stateful component put it on `impl {name}` with `{}`",
            handlers[0].shape
        ),
        _ => String::new(),
    };
    syn::Error::new(
        span,
        format!(
            "{} goes on a function or on an inherent `impl` block, not on {what}{hint}",
            role.attr()
        ),
    )
}

/// `&Element` or `&Element<'_>` (any path ending in `Element`).
fn is_element_ref(ty: &syn::Type) -> bool {
    let syn::Type::Reference(r) = ty else {
        return false;
    };
    if r.mutability.is_some() {
        return false;
    }
    matches!(&*r.elem, syn::Type::Path(p) if p.qself.is_none()
        && p.path.segments.last().is_some_and(|s| s.ident == "Element"))
}

fn common_signature_checks(role: Role, sig: &syn::Signature, errors: &mut Vec<syn::Error>) {
    let attr = role.attr();
    if let Some(t) = &sig.asyncness {
        errors.push(syn::Error::new(
            t.span,
            format!("{attr} handlers cannot be `async`; remove `async`"),
        ));
    }
    if let Some(t) = &sig.constness {
        errors.push(syn::Error::new(
            t.span,
            format!("{attr} handlers cannot be `const fn`"),
        ));
    }
    if let Some(t) = &sig.unsafety {
        errors.push(syn::Error::new(
            t.span,
            format!("{attr} handlers cannot be `unsafe fn`"),
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new(
            abi.span(),
            format!("{attr} handlers cannot declare an ABI; the glue exports them"),
        ));
    }
    // `fn process<'a>(&mut self, element: &'a Element) -> Option<&'a Element>`:
    // the lifetime is there for the returned element, which gets its own error.
    let lifetimes_for_returned_element = sig.generics.where_clause.is_none()
        && sig
            .generics
            .params
            .iter()
            .all(|p| matches!(p, syn::GenericParam::Lifetime(_)))
        && role
            .handlers()
            .iter()
            .any(|h| crate::checks::returned_element(h, sig).is_some());
    if (!sig.generics.params.is_empty() || sig.generics.where_clause.is_some())
        && !lifetimes_for_returned_element
    {
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            format!(
                "{attr} handlers cannot be generic; the exported function needs concrete types"
            ),
        ));
    }
    if let Some(v) = &sig.variadic {
        errors.push(syn::Error::new(
            v.span(),
            format!("{attr} handlers cannot be variadic"),
        ));
    }
}

fn ret_span(sig: &syn::Signature) -> Option<Span> {
    match &sig.output {
        syn::ReturnType::Default => None,
        syn::ReturnType::Type(_, ty) => Some(ty.span()),
    }
}

fn function(role: Role, f: &syn::ItemFn, errors: &mut Vec<syn::Error>) -> Option<Kind> {
    let attr = role.attr();
    let sig = &f.sig;
    let Some(shape) = role.fn_shape() else {
        let handlers = role
            .handlers()
            .iter()
            .filter(|h| h.required)
            .map(|h| format!("`{}`", h.shape))
            .collect::<Vec<_>>()
            .join(" and ");
        errors.push(syn::Error::new(
            sig.ident.span(),
            format!(
                "{attr} keeps state between calls, so it goes on an `impl` block of your state type with {handlers}, not on a function"
            ),
        ));
        return None;
    };
    let before = errors.len();
    common_signature_checks(role, sig, errors);
    if let Some(syn::FnArg::Receiver(r)) = sig.inputs.first() {
        errors.push(syn::Error::new_spanned(
            r,
            format!("{attr} on a function takes no `self`; for a stateful component put {attr} on the `impl` block"),
        ));
    } else if sig.inputs.len() != 1 {
        let tokens = if sig.inputs.is_empty() {
            quote::ToTokens::to_token_stream(&sig.ident)
        } else {
            quote::ToTokens::to_token_stream(&sig.inputs)
        };
        errors.push(syn::Error::new_spanned(
            tokens,
            format!(
                "{attr} takes a function of the form {shape}; this one has {} parameters",
                sig.inputs.len()
            ),
        ));
    } else if let Some(syn::FnArg::Typed(pat)) = sig.inputs.first()
        && !is_element_ref(&pat.ty)
    {
        errors.push(syn::Error::new_spanned(
            &pat.ty,
            format!(
                "{attr} takes a function of the form {shape}; this parameter must be `&Element`"
            ),
        ));
    }
    let handler = &role.handlers()[0];
    if let Some(ty) = crate::checks::returned_element(handler, sig) {
        errors.push(crate::checks::returned_element_error(
            role, handler, shape, ty,
        ));
    }
    let ret = ret_span(sig);
    if ret.is_none() && !handler.may_omit_return_type {
        errors.push(syn::Error::new(
            sig.ident.span(),
            format!("{attr} takes a function of the form {shape}; add the return type"),
        ));
    }
    (errors.len() == before).then(|| Kind::Function {
        ident: sig.ident.clone(),
        ret_span: ret.unwrap_or_else(|| sig.ident.span()),
    })
}

fn receiver_kind(sig: &syn::Signature) -> Option<&syn::Receiver> {
    match sig.inputs.first() {
        Some(syn::FnArg::Receiver(r)) => Some(r),
        _ => None,
    }
}

fn stateful(role: Role, i: &syn::ItemImpl, errors: &mut Vec<syn::Error>) -> Option<Stateful> {
    let attr = role.attr();
    let before = errors.len();
    if let Some((_, path, _)) = &i.trait_ {
        errors.push(syn::Error::new(
            path.span(),
            format!("{attr} goes on an inherent `impl` block (`impl MyType {{ .. }}`), not on a trait impl"),
        ));
        return None;
    }
    if !i.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &i.generics,
            format!("{attr} cannot be used on a generic `impl`; the component needs one concrete state type"),
        ));
    }
    let self_ty = (*i.self_ty).clone();
    let mut found = Vec::new();
    let mut init = None;
    let mut teardown = false;
    // Methods whose names are near a hook's: `(method, the hook's name)`.
    let mut near_misses = Vec::new();
    let hooks: Vec<&'static str> = ["init", "teardown"]
        .into_iter()
        .chain(role.handlers().iter().map(|h| h.name))
        .collect();
    for item in &i.items {
        let syn::ImplItem::Fn(method) = item else {
            continue;
        };
        let sig = &method.sig;
        let name = sig.ident.to_string();
        if name == "init" {
            common_signature_checks(role, sig, errors);
            if let Some(r) = receiver_kind(sig) {
                errors.push(syn::Error::new_spanned(
                    r,
                    format!("`init` of {attr} makes the state, so it takes no `self`: `fn init(config: Config) -> Result<Self>`"),
                ));
                continue;
            }
            if sig.inputs.len() > 1 {
                errors.push(syn::Error::new_spanned(
                    &sig.inputs,
                    format!("`init` of {attr} takes at most one parameter, the config: `fn init(config: Config) -> Result<Self>`"),
                ));
                continue;
            }
            let Some(ret) = ret_span(sig) else {
                errors.push(syn::Error::new(
                    sig.ident.span(),
                    format!("`init` of {attr} must return the state: `fn init(config: Config) -> Result<Self>`"),
                ));
                continue;
            };
            let config = match sig.inputs.first() {
                Some(syn::FnArg::Typed(pat)) => Some((*pat.ty).clone()),
                _ => None,
            };
            init = Some(Init {
                config,
                ret_span: ret,
            });
        } else if name == "teardown" {
            common_signature_checks(role, sig, errors);
            let ok = receiver_kind(sig).is_some_and(|r| r.reference.is_some())
                && sig.inputs.len() == 1
                && ret_span(sig).is_none();
            if !ok {
                errors.push(syn::Error::new_spanned(
                    sig,
                    format!("`teardown` of {attr} has the form `fn teardown(&mut self)`"),
                ));
            }
            teardown = true;
        } else if let Some(handler) = role.handlers().iter().find(|h| h.name == name) {
            common_signature_checks(role, sig, errors);
            match receiver_kind(sig) {
                Some(r) if r.reference.is_some() => {}
                Some(r) => errors.push(syn::Error::new_spanned(
                    r,
                    format!(
                        "`{name}` of {attr} takes `&mut self` (or `&self`), not `self`: `{}`",
                        handler.shape
                    ),
                )),
                // Reported, and the method still counts as the handler (it
                // is there, only without `self`): no second error saying it
                // is missing, and its other mistakes are reported too.
                None => errors.push(syn::Error::new(
                    sig.ident.span(),
                    format!("`{name}` of {attr} is a method: `{}`", handler.shape),
                )),
            }
            let params: Vec<&syn::PatType> = sig
                .inputs
                .iter()
                .filter_map(|a| match a {
                    syn::FnArg::Typed(p) => Some(p),
                    syn::FnArg::Receiver(_) => None,
                })
                .collect();
            let wanted = usize::from(handler.input != Input::Nothing);
            if params.len() != wanted {
                errors.push(syn::Error::new_spanned(
                    &sig.inputs,
                    format!(
                        "`{name}` of {attr} has the form `{}`; this one has {} parameters besides `self`",
                        handler.shape,
                        params.len()
                    ),
                ));
            } else if handler.input == Input::Element && !is_element_ref(&params[0].ty) {
                errors.push(syn::Error::new_spanned(
                    &params[0].ty,
                    format!(
                        "`{name}` of {attr} has the form `{}`; this parameter must be `&Element`",
                        handler.shape
                    ),
                ));
            }
            if let Some(ty) = crate::checks::returned_element(handler, sig) {
                let shape = format!("`{}`", handler.shape);
                errors.push(crate::checks::returned_element_error(
                    role, handler, &shape, ty,
                ));
            }
            let ret = ret_span(sig);
            if ret.is_none() && !handler.may_omit_return_type {
                errors.push(syn::Error::new(
                    sig.ident.span(),
                    format!(
                        "`{name}` of {attr} has the form `{}`; add the return type",
                        handler.shape
                    ),
                ));
            }
            found.push((handler, ret.unwrap_or_else(|| sig.ident.span())));
        } else if let Some(hook) = crate::checks::did_you_mean(&name, &hooks) {
            near_misses.push((&sig.ident, hook));
        }
    }
    // A near miss of a hook that is not there: the author meant that hook.
    let present = |hook: &str| match hook {
        "init" => init.is_some(),
        "teardown" => teardown,
        _ => found.iter().any(|(h, _)| h.name == hook),
    };
    let mut misspelt = Vec::new();
    for (ident, hook) in near_misses {
        if present(hook) || misspelt.contains(&hook) {
            continue;
        }
        let shape = match hook {
            "init" => "fn init(config: Config) -> Result<Self>",
            "teardown" => "fn teardown(&mut self)",
            _ => role
                .handlers()
                .iter()
                .find(|h| h.name == hook)
                .map_or("", |h| h.shape),
        };
        errors.push(syn::Error::new(
            ident.span(),
            format!("`{ident}` is not a method {attr} calls; did you mean `{hook}`? (`{shape}`)"),
        ));
        misspelt.push(hook);
    }
    for handler in role.handlers().iter().filter(|h| h.required) {
        if !found.iter().any(|(h, _)| h.name == handler.name) && !misspelt.contains(&handler.name) {
            errors.push(syn::Error::new_spanned(
                &i.self_ty,
                format!(
                    "{attr} needs a method `{}` in this `impl` block",
                    handler.shape
                ),
            ));
        }
    }
    (errors.len() == before).then_some(Stateful {
        self_ty,
        handlers: found,
        init,
        teardown,
    })
}
