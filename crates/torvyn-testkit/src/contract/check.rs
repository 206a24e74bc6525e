//! The check: each interface a component imports or exports, against the
//! contract's interface of the same name and version.

use wit_parser::{Interface, InterfaceId, Resolve, WorldItem};

use super::compare::Compare;
use super::wit_text::{display_name, signature};
use super::{CONTRACT_VERSION, Direction, Mismatch, NOTE_PREFIX, contract};

/// What the check found: mismatches, and notes that are not problems.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    pub(crate) mismatches: Vec<Mismatch>,
    pub(crate) notes: Vec<String>,
    /// The unversioned `torvyn:` interfaces the component imports or exports,
    /// treated as the 0.1.0 contract.
    unversioned: Vec<(Direction, String)>,
}

/// Type-check a component (its binary) against the contract.
pub(crate) fn check_component(bytes: &[u8]) -> Result<Checked, String> {
    let decoded = wit_component::decode(bytes).map_err(|err| format!("{err:#}"))?;
    let wit_component::DecodedWasm::Component(resolve, world) = decoded else {
        return Err("it is a WIT package, not a component".into());
    };
    check_world(&resolve, world)
}

/// Type-check the imports and exports of `world` against the contract.
pub(crate) fn check_world(
    resolve: &Resolve,
    world: wit_parser::WorldId,
) -> Result<Checked, String> {
    let contract = contract()?;
    let mut checked = Checked::default();
    let world = &resolve.worlds[world];
    for (direction, items) in [
        (Direction::Import, &world.imports),
        (Direction::Export, &world.exports),
    ] {
        for (key, item) in items {
            let name = resolve.name_world_key(key);
            match item {
                WorldItem::Interface { id, .. } => {
                    check_interface(contract, resolve, direction, &name, *id, &mut checked);
                }
                WorldItem::Function(function) if direction == Direction::Import => {
                    checked.mismatches.push(Mismatch::new(
                        direction,
                        "(top level)",
                        Some(function.name.clone()),
                        None,
                        Some(signature(resolve, function)),
                        format!(
                            "the component imports a top-level function `{}`, which the \
                             host does not provide; a component may import only the \
                             contract's interfaces and WASI 0.2",
                            function.name
                        ),
                    ));
                }
                WorldItem::Function(_) | WorldItem::Type { .. } => {}
            }
        }
    }
    if !checked.unversioned.is_empty() {
        let list = |wanted: Direction| {
            checked
                .unversioned
                .iter()
                .filter(|(direction, _)| *direction == wanted)
                .map(|(_, name)| format!("`{name}`"))
                .collect::<Vec<_>>()
        };
        let mut what = Vec::new();
        for (direction, verb) in [
            (Direction::Import, "imports"),
            (Direction::Export, "exports"),
        ] {
            let names = list(direction);
            if !names.is_empty() {
                what.push(format!("{verb} {}", names.join(", ")));
            }
        }
        checked.notes.push(format!(
            "{}: the component {} without a version (its WIT copy declares the Torvyn \
             packages without `@{CONTRACT_VERSION}`); the host links them as the \
             {CONTRACT_VERSION} contract (`torvyn:<package>/<interface>@{CONTRACT_VERSION}`) \
             and lists them under that name",
            NOTE_PREFIX,
            what.join(" and ")
        ));
    }
    Ok(checked)
}

fn check_interface(
    contract: &Resolve,
    resolve: &Resolve,
    direction: Direction,
    name: &str,
    id: InterfaceId,
    checked: &mut Checked,
) {
    let interface = &resolve.interfaces[id];
    let package = interface
        .package
        .map(|package| &resolve.packages[package].name);
    let Some(package) = package else {
        return;
    };
    if package.namespace != "torvyn" {
        // WASI is checked by the linker (it knows which versions it has); any
        // other import is something no Torvyn host provides.
        if direction == Direction::Import && package.namespace != "wasi" {
            for function in interface.functions.values() {
                checked.mismatches.push(Mismatch::new(
                    direction,
                    name,
                    Some(display_name(function)),
                    None,
                    Some(signature(resolve, function)),
                    format!(
                        "the component imports function `{}` of `{name}`, which the Torvyn \
                         host does not provide; a component may import only the contract's \
                         interfaces (torvyn:streaming/types, buffer-allocator, \
                         torvyn:capabilities/capability-query) and WASI 0.2",
                        display_name(function)
                    ),
                ));
            }
        }
        return;
    }
    let versioned = format!(
        "{}:{}/{}@{CONTRACT_VERSION}",
        package.namespace,
        package.name,
        interface.name.as_deref().unwrap_or("")
    );
    match &package.version {
        Some(version) if version.to_string() == CONTRACT_VERSION => {}
        Some(version) => {
            checked.mismatches.push(Mismatch::new(
                direction,
                name,
                None,
                None,
                None,
                format!(
                    "the component {} `{name}`, version {version}; this host speaks the \
                     Torvyn {CONTRACT_VERSION} contract (`{versioned}`): build it against the \
                     0.1 WIT",
                    direction.verb()
                ),
            ));
            return;
        }
        // A WIT copy that declares `package torvyn:streaming;`: the host
        // links the name as the 0.1.0 contract (see `crate::unversioned`),
        // so its types are checked against 0.1.0 and the rename is noted.
        None => checked.unversioned.push((direction, name.to_string())),
    }
    let Some(expected) = find_interface(contract, &package.name, interface.name.as_deref()) else {
        checked.mismatches.push(Mismatch::new(
            direction,
            name,
            None,
            None,
            None,
            format!(
                "the component {} `{name}`, an interface the Torvyn {CONTRACT_VERSION} \
                 contract does not have",
                direction.verb()
            ),
        ));
        return;
    };
    let compare = Compare {
        contract,
        component: resolve,
    };
    for function in interface.functions.values() {
        let shown = display_name(function);
        match expected.functions.get(&function.name) {
            Some(want) => {
                if let Err(detail) = compare.function(want, function) {
                    let want_sig = signature(contract, want);
                    let found_sig = signature(resolve, function);
                    checked.mismatches.push(Mismatch::new(
                        direction,
                        name,
                        Some(shown.clone()),
                        Some(want_sig.clone()),
                        Some(found_sig.clone()),
                        format!(
                            "function `{shown}` of `{name}` has the wrong type: the contract \
                             says `{want_sig}`, the component's {} `{found_sig}` ({detail})",
                            direction.noun()
                        ),
                    ));
                }
            }
            None if direction == Direction::Import => {
                checked.mismatches.push(Mismatch::new(
                    direction,
                    name,
                    Some(shown.clone()),
                    None,
                    Some(signature(resolve, function)),
                    format!(
                        "the component imports function `{shown}` of `{name}`, which the host \
                         does not provide (the contract has no such function)"
                    ),
                ));
            }
            // An extra export is harmless: the host never calls it.
            None => {}
        }
    }
    if direction == Direction::Export {
        for want in expected.functions.values() {
            if !interface.functions.contains_key(&want.name) {
                let shown = display_name(want);
                let want_sig = signature(contract, want);
                checked.mismatches.push(Mismatch::new(
                    direction,
                    name,
                    Some(shown.clone()),
                    Some(want_sig.clone()),
                    None,
                    format!(
                        "the component's export `{name}` lacks function `{shown}` \
                         (the contract: `{want_sig}`)"
                    ),
                ));
            }
        }
    }
}

pub(super) fn find_interface<'a>(
    contract: &'a Resolve,
    package: &str,
    interface: Option<&str>,
) -> Option<&'a Interface> {
    let interface = interface?;
    contract
        .interfaces
        .iter()
        .map(|(_, i)| i)
        .find(|candidate| {
            candidate.name.as_deref() == Some(interface)
                && candidate
                    .package
                    .is_some_and(|p| contract.packages[p].name.name == package)
        })
}

impl Direction {
    fn verb(self) -> &'static str {
        match self {
            Direction::Import => "imports",
            Direction::Export => "exports",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Direction::Import => "import",
            Direction::Export => "export",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::CONTRACT;

    /// A component world written as WIT, resolved against the contract.
    fn world_of(extra: &str) -> (Resolve, wit_parser::WorldId) {
        let mut resolve = contract().unwrap().clone();
        let package = resolve.push_str("fixture.wit", extra).unwrap();
        let world = resolve.select_world(&[package], None).unwrap();
        (resolve, world)
    }

    #[test]
    fn the_contract_worlds_match_the_contract() {
        let resolve = contract().unwrap();
        for (id, world) in resolve.worlds.iter() {
            let checked = check_world(resolve, id).unwrap();
            assert!(
                checked.mismatches.is_empty(),
                "{}: {:?}",
                world.name,
                checked.mismatches
            );
        }
    }

    /// The contract's streaming package and `filtering`, a WIT copy of the
    /// filtering package, in a resolve of their own.
    fn with_filtering(filtering: &str) -> (Resolve, wit_parser::WorldId) {
        let mut resolve = Resolve::new();
        let mut map = wit_parser::SourceMap::new();
        for (path, text) in CONTRACT[0] {
            map.push_str(path, *text);
        }
        resolve
            .push_group(map.parse().map_err(|(_, e)| e).unwrap())
            .unwrap();
        let package = resolve.push_str("filtering.wit", filtering).unwrap();
        let world = resolve
            .select_world(&[package], Some("content-filter"))
            .unwrap();
        (resolve, world)
    }

    const FILTERING: &str = "package torvyn:filtering@0.1.0;
        interface filter {
            use torvyn:streaming/types@0.1.0.{stream-element, process-error};
            evaluate: func(element: stream-element) -> result<RESULT, process-error>;
        }
        world content-filter {
            import torvyn:streaming/types@0.1.0;
            export filter;
            export torvyn:streaming/lifecycle@0.1.0;
        }";

    #[test]
    fn a_changed_export_type_names_function_and_both_signatures() {
        let (resolve, world) = with_filtering(&FILTERING.replace("RESULT", "bool"));
        assert!(check_world(&resolve, world).unwrap().mismatches.is_empty());

        let (resolve, world) = with_filtering(&FILTERING.replace("RESULT", "u32"));
        let checked = check_world(&resolve, world).unwrap();
        assert_eq!(checked.mismatches.len(), 1, "{:?}", checked.mismatches);
        let mismatch = &checked.mismatches[0];
        assert_eq!(mismatch.direction, Direction::Export);
        assert_eq!(mismatch.interface, "torvyn:filtering/filter@0.1.0");
        assert_eq!(mismatch.function.as_deref(), Some("evaluate"));
        assert_eq!(
            mismatch.expected.as_deref(),
            Some("func(element: stream-element) -> result<bool, process-error>")
        );
        assert_eq!(
            mismatch.found.as_deref(),
            Some("func(element: stream-element) -> result<u32, process-error>")
        );
        assert!(
            mismatch
                .message
                .ends_with("(result: expected `bool`, found `u32` (the ok type))"),
            "{}",
            mismatch.message
        );
    }

    #[test]
    fn a_changed_record_field_is_named() {
        let streaming = CONTRACT[0]
            .iter()
            .map(|(path, text)| {
                (
                    *path,
                    text.replace("timestamp-ns: u64", "timestamp-ns: s64"),
                )
            })
            .collect::<Vec<_>>();
        let mut resolve = Resolve::new();
        let mut map = wit_parser::SourceMap::new();
        for (path, text) in &streaming {
            map.push_str(path, text.clone());
        }
        let package = resolve
            .push_group(map.parse().map_err(|(_, e)| e).unwrap())
            .unwrap();
        let world = resolve
            .select_world(&[package], Some("managed-transform"))
            .unwrap();
        let checked = check_world(&resolve, world).unwrap();
        let messages: Vec<&str> = checked
            .mismatches
            .iter()
            .map(|m| m.message.as_str())
            .collect();
        assert!(
            messages.iter().any(|m| m.contains(
                "function `process` of `torvyn:streaming/processor@0.1.0` has the wrong type"
            ) && m
                .contains("field `timestamp-ns` of `element-meta`: expected `u64`, found `s64`")),
            "{messages:#?}"
        );
    }

    #[test]
    fn a_missing_export_function_and_an_unversioned_import_are_reported() {
        let (resolve, world) = with_filtering(
            "package torvyn:filtering@0.1.0;
             interface filter { check: func() -> bool; }
             world content-filter { export filter; }",
        );
        let checked = check_world(&resolve, world).unwrap();
        assert_eq!(checked.mismatches.len(), 1, "{:?}", checked.mismatches);
        assert_eq!(checked.mismatches[0].function.as_deref(), Some("evaluate"));
        assert!(
            checked.mismatches[0]
                .message
                .contains("lacks function `evaluate`")
        );

        let mut resolve = Resolve::new();
        let package = resolve
            .push_str(
                "types.wit",
                "package torvyn:streaming; interface types { f: func(); } world w { import types; }",
            )
            .unwrap();
        let world = resolve.select_world(&[package], Some("w")).unwrap();
        let checked = check_world(&resolve, world).unwrap();
        // Checked as the 0.1.0 contract: `types` has no function `f`.
        assert_eq!(checked.mismatches.len(), 1, "{:?}", checked.mismatches);
        assert!(
            checked.mismatches[0]
                .message
                .contains("imports function `f` of `torvyn:streaming/types`"),
            "{}",
            checked.mismatches[0].message
        );
        assert_eq!(checked.notes.len(), 1, "{:?}", checked.notes);
        assert!(
            checked.notes[0].starts_with(
                "unversioned torvyn names treated as 0.1.0: the component imports \
                 `torvyn:streaming/types` without a version"
            ),
            "{}",
            checked.notes[0]
        );
    }

    #[test]
    fn an_unversioned_wit_copy_of_the_contract_matches_it_with_a_note() {
        let unversioned = |text: &str| text.replace("@0.1.0", "");
        let mut resolve = Resolve::new();
        let mut map = wit_parser::SourceMap::new();
        for (path, text) in CONTRACT[0] {
            map.push_str(path, unversioned(text));
        }
        resolve
            .push_group(map.parse().map_err(|(_, e)| e).unwrap())
            .unwrap();
        let package = resolve
            .push_str(
                "filtering.wit",
                &unversioned(&FILTERING.replace("RESULT", "bool")),
            )
            .unwrap();
        let world = resolve
            .select_world(&[package], Some("content-filter"))
            .unwrap();
        let checked = check_world(&resolve, world).unwrap();
        assert!(checked.mismatches.is_empty(), "{:?}", checked.mismatches);
        assert_eq!(
            checked.notes,
            [
                "unversioned torvyn names treated as 0.1.0: the component imports \
                 `torvyn:streaming/types` and exports `torvyn:filtering/filter`, \
                 `torvyn:streaming/lifecycle` without a version (its WIT copy declares the \
                 Torvyn packages without `@0.1.0`); the host links them as the 0.1.0 contract \
                 (`torvyn:<package>/<interface>@0.1.0`) and lists them under that name"
            ]
        );
    }

    #[test]
    fn an_unknown_import_names_interface_and_function() {
        let (resolve, world) = world_of(
            "package fixture:t@0.1.0;
             interface counters { bump: func(name: string); }
             world w { include torvyn:filtering/content-filter@0.1.0; import counters; }",
        );
        let checked = check_world(&resolve, world).unwrap();
        assert_eq!(checked.mismatches.len(), 1, "{:?}", checked.mismatches);
        let mismatch = &checked.mismatches[0];
        assert_eq!(mismatch.direction, Direction::Import);
        assert_eq!(mismatch.interface, "fixture:t/counters@0.1.0");
        assert_eq!(mismatch.function.as_deref(), Some("bump"));
        assert_eq!(mismatch.found.as_deref(), Some("func(name: string)"));
    }
}
