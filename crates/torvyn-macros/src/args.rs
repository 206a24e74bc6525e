//! Attribute arguments: `crate = path`.

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;

use crate::role::Role;

/// Argument keys, in the order they are listed in messages.
pub(crate) const CRATE: &str = "crate";
const KEYS: &[&str] = &[CRATE];

#[derive(Default)]
pub(crate) struct Args {
    pub(crate) krate: Option<syn::Path>,
}

pub(crate) fn parse(role: Role, attr: TokenStream, errors: &mut Vec<syn::Error>) -> Args {
    let mut args = Args::default();
    let parser = syn::meta::parser(|meta: ParseNestedMeta<'_>| {
        if meta.path.is_ident(CRATE) {
            let value: syn::Path = meta.value()?.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    format!("{} expects `crate = path::to::torvyn_guest`", role.attr()),
                )
            })?;
            if value.leading_colon.is_none()
                && value.segments.first().is_none_or(|s| s.ident != "crate")
            {
                return Err(syn::Error::new_spanned(
                    &value,
                    format!(
                        "`crate = ..` in {} takes an absolute path such as `::my_sdk::torvyn_guest` or `crate::sdk`",
                        role.attr()
                    ),
                ));
            }
            if args.krate.is_some() {
                return Err(meta.error(format!("duplicate argument `crate` in {}", role.attr())));
            }
            args.krate = Some(value);
            Ok(())
        } else {
            let name = quote::ToTokens::to_token_stream(&meta.path)
                .to_string()
                .replace(' ', "");
            let expected = KEYS
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ");
            Err(meta.error(format!(
                "unknown argument `{name}` for {}; expected one of: {expected}",
                role.attr()
            )))
        }
    });
    if let Err(err) = syn::parse::Parser::parse2(parser, attr) {
        errors.push(err);
    }
    args
}
