//! The Torvyn 0.1 contract (the WIT in `wit/`, embedded) and the type check of a
//! component's imports and exports against it.
//!
//! The component's own view of its interfaces is read back from its binary with
//! wit-parser's decoder, so a mismatch is reported in WIT terms: the interface,
//! the function, and the contract's and the component's signatures.

mod check;
mod compare;
mod mismatch;
mod wit_text;

use std::sync::OnceLock;

use wit_parser::Resolve;

pub(crate) use check::check_component;
pub use mismatch::{Direction, Mismatch};

/// The contract's packages, in dependency order, file by file.
const CONTRACT: &[&[(&str, &str)]] = &[
    &[
        (
            "streaming/types.wit",
            include_str!("../../wit/streaming/types.wit"),
        ),
        (
            "streaming/buffer-allocator.wit",
            include_str!("../../wit/streaming/buffer-allocator.wit"),
        ),
        (
            "streaming/lifecycle.wit",
            include_str!("../../wit/streaming/lifecycle.wit"),
        ),
        (
            "streaming/processor.wit",
            include_str!("../../wit/streaming/processor.wit"),
        ),
        (
            "streaming/sink.wit",
            include_str!("../../wit/streaming/sink.wit"),
        ),
        (
            "streaming/source.wit",
            include_str!("../../wit/streaming/source.wit"),
        ),
        (
            "streaming/worlds.wit",
            include_str!("../../wit/streaming/worlds.wit"),
        ),
    ],
    &[(
        "capabilities/capability-query.wit",
        include_str!("../../wit/capabilities/capability-query.wit"),
    )],
    &[
        (
            "filtering/filter.wit",
            include_str!("../../wit/filtering/filter.wit"),
        ),
        (
            "filtering/router.wit",
            include_str!("../../wit/filtering/router.wit"),
        ),
        (
            "filtering/worlds.wit",
            include_str!("../../wit/filtering/worlds.wit"),
        ),
    ],
    &[
        (
            "aggregation/aggregator.wit",
            include_str!("../../wit/aggregation/aggregator.wit"),
        ),
        (
            "aggregation/worlds.wit",
            include_str!("../../wit/aggregation/worlds.wit"),
        ),
    ],
];

/// The only contract version this host speaks.
pub(crate) const CONTRACT_VERSION: &str = "0.1.0";

/// The note `inspect` shows for a component with unversioned Torvyn names
/// (see `crate::unversioned`, which gives them this version).
pub(crate) const NOTE_PREFIX: &str = "unversioned torvyn names treated as 0.1.0";

/// The contract, parsed once.
pub(crate) fn contract() -> Result<&'static Resolve, String> {
    static CONTRACT_RESOLVE: OnceLock<Result<Resolve, String>> = OnceLock::new();
    CONTRACT_RESOLVE
        .get_or_init(|| {
            let mut resolve = Resolve::new();
            for package in CONTRACT {
                let mut map = wit_parser::SourceMap::new();
                for (path, text) in *package {
                    map.push_str(path, *text);
                }
                let group = map
                    .parse()
                    .map_err(|(_, err)| format!("the embedded contract WIT: {err}"))?;
                resolve
                    .push_group(group)
                    .map_err(|err| format!("the embedded contract WIT: {err}"))?;
            }
            Ok(resolve)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Every function of `role`'s contract interface (Torvyn 0.1), as WIT, in
/// the contract's order: what the command line's `link --detail` shows for an
/// edge.
///
/// ```
/// use torvyn_testkit::{Role, contract_functions};
///
/// assert_eq!(
///     contract_functions(Role::Filter),
///     ["evaluate: func(element: stream-element) -> result<bool, process-error>"]
/// );
/// ```
pub fn contract_functions(role: crate::role::Role) -> Vec<String> {
    // The contract is embedded and parsed by the tests: it cannot fail
    // here; an empty list would show if it ever did.
    role_functions(role).unwrap_or_default()
}

fn role_functions(role: crate::role::Role) -> Result<Vec<String>, String> {
    let resolve = contract()?;
    let (package, name) = role
        .interface()
        .strip_prefix("torvyn:")
        .and_then(|rest| rest.split_once('/'))
        .ok_or_else(|| format!("`{}` is not a torvyn interface", role.interface()))?;
    let interface = check::find_interface(resolve, package, Some(name))
        .ok_or_else(|| format!("the contract has no `{}`", role.interface()))?;
    Ok(interface
        .functions
        .values()
        .map(|function| {
            format!(
                "{}: {}",
                function.name,
                wit_text::signature(resolve, function)
            )
        })
        .collect())
}
