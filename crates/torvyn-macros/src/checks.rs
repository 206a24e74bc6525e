//! Checks for mistakes that rustc would otherwise report in its own words (or
//! not at all): `static mut` state, handlers that return the borrowed input
//! element, misspelt handler names, and a second component in one crate.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;

use crate::role::{Handler, Returns, Role};

/// Whether `name` is written like a `static` (`COUNT`, `SEEN_IDS`): at least
/// one ASCII uppercase letter and no lowercase one.
fn is_static_name(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase()) && !name.chars().any(|c| c.is_lowercase())
}

/// The innermost path an expression places into (`COUNT` in `COUNT.x[1]`), if
/// it is a path written like a `static`.
fn static_place(expr: &syn::Expr) -> Option<&syn::Path> {
    match expr {
        syn::Expr::Field(f) => static_place(&f.base),
        syn::Expr::Index(i) => static_place(&i.expr),
        syn::Expr::Paren(p) => static_place(&p.expr),
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => static_place(&u.expr),
        syn::Expr::Path(p)
            if p.qself.is_none()
                && p.path
                    .segments
                    .last()
                    .is_some_and(|s| is_static_name(&s.ident.to_string())) =>
        {
            Some(&p.path)
        }
        _ => None,
    }
}

/// Finds `static mut` items and writes to statics.
struct StaticMutFinder {
    /// `(span, what)`: what was found, for the message.
    found: Vec<(Span, String)>,
    /// Depth of `unsafe` blocks around the current expression.
    in_unsafe: usize,
}

impl StaticMutFinder {
    fn place(&mut self, expr: &syn::Expr) {
        if let Some(path) = static_place(expr) {
            let name = quote::ToTokens::to_token_stream(path)
                .to_string()
                .replace(' ', "");
            self.found.push((path.span(), format!("`{name}`")));
        }
    }
}

impl VisitMut for StaticMutFinder {
    fn visit_item_static_mut(&mut self, item: &mut syn::ItemStatic) {
        if let syn::StaticMutability::Mut(m) = &item.mutability {
            self.found
                .push((m.span, format!("`static mut {}`", item.ident)));
        }
        syn::visit_mut::visit_item_static_mut(self, item);
    }

    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        match expr {
            syn::Expr::Assign(a) => self.place(&a.left),
            syn::Expr::Binary(b)
                if matches!(
                    b.op,
                    syn::BinOp::AddAssign(_)
                        | syn::BinOp::SubAssign(_)
                        | syn::BinOp::MulAssign(_)
                        | syn::BinOp::DivAssign(_)
                        | syn::BinOp::RemAssign(_)
                        | syn::BinOp::BitXorAssign(_)
                        | syn::BinOp::BitAndAssign(_)
                        | syn::BinOp::BitOrAssign(_)
                        | syn::BinOp::ShlAssign(_)
                        | syn::BinOp::ShrAssign(_)
                ) =>
            {
                self.place(&b.left);
            }
            syn::Expr::Reference(r) if r.mutability.is_some() => self.place(&r.expr),
            syn::Expr::RawAddr(r) => self.place(&r.expr),
            // `unsafe { STATE.push(x) }`: a method call on a `static` in an
            // `unsafe` block can only be there for a `static mut`.
            syn::Expr::MethodCall(m) if self.in_unsafe > 0 => self.place(&m.receiver),
            syn::Expr::Unsafe(u) => {
                self.in_unsafe += 1;
                syn::visit_mut::visit_expr_unsafe_mut(self, u);
                self.in_unsafe -= 1;
                return;
            }
            _ => {}
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

/// Errors for `static mut` state in the annotated item: a `static mut` declared
/// in it, or a write to (or `&mut` of) a path written like a `static`. A
/// component keeps its state in the struct its `impl` is for.
pub(crate) fn static_mut_state(role: Role, item: &syn::Item, errors: &mut Vec<syn::Error>) {
    let mut finder = StaticMutFinder {
        found: Vec::new(),
        in_unsafe: 0,
    };
    finder.visit_item_mut(&mut item.clone());
    let attr = role.attr();
    let how = match item {
        syn::Item::Impl(i) => {
            let ty = quote::ToTokens::to_token_stream(&i.self_ty)
                .to_string()
                .replace(' ', "");
            format!("add a field to `{ty}` and use it through `&mut self`")
        }
        _ => format!(
            "put {attr} on `impl YourState {{ .. }}` (a struct with a field for it) and use it through `&mut self`"
        ),
    };
    for (span, what) in finder.found {
        errors.push(syn::Error::new(
            span,
            format!(
                "{what} looks like `static mut` state, which {attr} components do not use; \
                 keep state in the struct: {how}"
            ),
        ));
    }
}

/// Whether a type mentions a reference to an `Element` (`&Element`,
/// `Option<&Element<'a>>`, `Result<Vec<&Element>>`).
fn borrows_element(ty: &syn::Type) -> bool {
    struct Finder(bool);
    impl VisitMut for Finder {
        fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
            if let syn::Type::Path(p) = &*r.elem
                && p.path.segments.last().is_some_and(|s| s.ident == "Element")
            {
                self.0 = true;
            }
            syn::visit_mut::visit_type_reference_mut(self, r);
        }
    }
    let mut finder = Finder(false);
    finder.visit_type_mut(&mut ty.clone());
    finder.0
}

/// The return type of `sig` when it returns (part of) the borrowed input
/// element where the handler must return an `Output`.
pub(crate) fn returned_element<'a>(
    handler: &Handler,
    sig: &'a syn::Signature,
) -> Option<&'a syn::Type> {
    if !matches!(handler.returns, Returns::MaybeOutput | Returns::Flush) {
        return None;
    }
    match &sig.output {
        syn::ReturnType::Type(_, ty) if borrows_element(ty) => Some(ty),
        _ => None,
    }
}

/// The error for a handler that returns the borrowed element: say how to pass
/// it on.
pub(crate) fn returned_element_error(
    role: Role,
    handler: &Handler,
    shape: &str,
    ty: &syn::Type,
) -> syn::Error {
    syn::Error::new_spanned(
        ty,
        format!(
            "`{}` of {} returns an `Output`, not the borrowed input element (the host owns it); \
             to pass the element on unchanged return `Some(Output::copy_of(element)?)` (a \
             host-side copy that reads no payload), or build a new `Output`: {shape}",
            handler.name,
            role.attr(),
        ),
    )
}

/// The hook or handler `name` is probably a misspelling of: within edit
/// distance 2 (1 for names of four letters or fewer, so that a helper such as
/// `push` in a source is not taken for `pull`), and not an exact name.
pub(crate) fn did_you_mean<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .filter(|c| **c != name)
        .map(|c| (strsim::levenshtein(name, c), *c))
        .filter(|(d, c)| *d <= if c.len() <= 4 { 1 } else { 2 })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// One component per crate, checked across the attribute invocations of one
/// compilation (one rustc process compiles one crate).
mod one_per_crate {
    use std::sync::Mutex;

    /// The first component of a crate: its role, name and place.
    #[derive(Clone)]
    pub(super) struct Seen {
        krate: String,
        pub(super) role: &'static str,
        pub(super) name: String,
        pub(super) place: String,
    }

    static SEEN: Mutex<Vec<Seen>> = Mutex::new(Vec::new());

    /// Records this component as the crate's first, or returns the first when
    /// it is another one.
    pub(super) fn record(role: &'static str, name: &str, place: String) -> Option<Seen> {
        let krate = format!(
            "{}:{}",
            std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default(),
            std::env::var("CARGO_CRATE_NAME").unwrap_or_default()
        );
        let mut seen = SEEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match seen.iter().find(|s| s.krate == krate) {
            // The same component expanded again: not a second one.
            Some(first) if first.role == role && first.name == name => None,
            Some(first) => Some(first.clone()),
            None => {
                seen.push(Seen {
                    krate,
                    role,
                    name: name.to_string(),
                    place,
                });
                None
            }
        }
    }
}

/// A crate is one component: the error for a second role attribute in the
/// crate being compiled, naming the first. Only in a real compilation (not
/// under rust-analyzer, whose long-lived macro server sees edits of the same
/// component as new ones); the `__one_torvyn_component_per_crate` marker the
/// expansion defines still catches it there.
pub(crate) fn second_component(role: Role, name: &str) -> Option<syn::Error> {
    if std::env::var_os("RUST_ANALYZER_INTERNALS_DO_NOT_USE").is_some() {
        return None;
    }
    let span = proc_macro::Span::call_site();
    let place = format!("{}:{}", span.file(), span.line());
    let first = one_per_crate::record(role.name(), name, place)?;
    Some(syn::Error::new(
        Span::call_site(),
        format!(
            "a crate is one component: `#[torvyn::{}]` on `{}` ({}) already makes this crate a \
             Torvyn component; move `{name}` and its {} into its own crate (in a pipeline \
             project, a new crate in `components/`)",
            first.role,
            first.name,
            first.place,
            role.attr()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_are_suggested_and_other_helpers_are_not() {
        let names = ["evaluate", "init", "teardown"];
        assert_eq!(did_you_mean("evalute", &names), Some("evaluate"));
        assert_eq!(did_you_mean("evaluat", &names), Some("evaluate"));
        assert_eq!(did_you_mean("tear_down", &names), Some("teardown"));
        assert_eq!(did_you_mean("evaluate", &names), None);
        assert_eq!(did_you_mean("is_json", &names), None);
        assert_eq!(
            did_you_mean("exit", &names),
            None,
            "two edits from a short name"
        );
        assert_eq!(did_you_mean("int", &names), Some("init"));
        assert_eq!(did_you_mean("push", &["pull", "notify_backpressure"]), None);
        assert_eq!(did_you_mean("poll", &["pull"]), Some("pull"));
    }

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(strsim::levenshtein("", "abc"), 3);
        assert_eq!(strsim::levenshtein("kitten", "sitting"), 3);
        assert_eq!(strsim::levenshtein("flush", "flush"), 0);
        assert_eq!(strsim::levenshtein("ingest", "ingset"), 2);
    }

    #[test]
    fn statics_are_told_from_locals() {
        assert!(is_static_name("COUNT"));
        assert!(is_static_name("SEEN_2"));
        assert!(!is_static_name("count"));
        assert!(!is_static_name("Count"));
        assert!(!is_static_name("_"));
        let item: syn::Item = syn::parse_quote! {
            impl S {
                fn evaluate(&mut self, e: &Element) -> bool {
                    let mut total = 0;
                    total += 1;
                    self.count += 1;
                    unsafe { COUNT += 1; SEEN.push(1); }
                    let r = &mut LAST;
                    true
                }
            }
        };
        let mut errors = Vec::new();
        static_mut_state(Role::Filter, &item, &mut errors);
        let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 3, "{messages:#?}");
        assert!(messages[0].starts_with("`COUNT` looks like `static mut` state"));
        assert!(messages[1].starts_with("`SEEN`"));
        assert!(messages[2].starts_with("`LAST`"));
        assert!(
            messages[0].contains("add a field to `S`"),
            "{}",
            messages[0]
        );
    }

    #[test]
    fn borrowed_elements_in_return_types_are_found() {
        let ty: syn::Type = syn::parse_quote!(Result<Option<&'a Element<'a>>>);
        assert!(borrows_element(&ty));
        let ty: syn::Type = syn::parse_quote!(Result<Option<Output>>);
        assert!(!borrows_element(&ty));
        let ty: syn::Type = syn::parse_quote!(Option<&str>);
        assert!(!borrows_element(&ty));
    }
}
