//! The Torvyn 0.1 contract (the WIT in `wit/`, embedded) and the type check of a
//! component's imports and exports against it.
//!
//! The component's own view of its interfaces is read back from its binary with
//! wit-parser's decoder, so a mismatch is reported in WIT terms: the interface,
//! the function, and the contract's and the component's signatures.

use std::sync::OnceLock;

use wit_parser::{
    Function, FunctionKind, Handle, Interface, InterfaceId, Resolve, Type, TypeDefKind, TypeId,
    TypeOwner, WorldItem,
};

use crate::inspect::{Direction, Mismatch};

/// The contract's packages, in dependency order, file by file.
const CONTRACT: &[&[(&str, &str)]] = &[
    &[
        (
            "streaming/types.wit",
            include_str!("../wit/streaming/types.wit"),
        ),
        (
            "streaming/buffer-allocator.wit",
            include_str!("../wit/streaming/buffer-allocator.wit"),
        ),
        (
            "streaming/lifecycle.wit",
            include_str!("../wit/streaming/lifecycle.wit"),
        ),
        (
            "streaming/processor.wit",
            include_str!("../wit/streaming/processor.wit"),
        ),
        (
            "streaming/sink.wit",
            include_str!("../wit/streaming/sink.wit"),
        ),
        (
            "streaming/source.wit",
            include_str!("../wit/streaming/source.wit"),
        ),
        (
            "streaming/worlds.wit",
            include_str!("../wit/streaming/worlds.wit"),
        ),
    ],
    &[(
        "capabilities/capability-query.wit",
        include_str!("../wit/capabilities/capability-query.wit"),
    )],
    &[
        (
            "filtering/filter.wit",
            include_str!("../wit/filtering/filter.wit"),
        ),
        (
            "filtering/router.wit",
            include_str!("../wit/filtering/router.wit"),
        ),
        (
            "filtering/worlds.wit",
            include_str!("../wit/filtering/worlds.wit"),
        ),
    ],
    &[
        (
            "aggregation/aggregator.wit",
            include_str!("../wit/aggregation/aggregator.wit"),
        ),
        (
            "aggregation/worlds.wit",
            include_str!("../wit/aggregation/worlds.wit"),
        ),
    ],
];

/// The only contract version this host speaks.
pub(crate) const CONTRACT_VERSION: &str = "0.1.0";

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
            crate::unversioned::NOTE_PREFIX,
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

fn find_interface<'a>(
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

/// A function's name as an author reads it: `evaluate`, `buffer.read`,
/// `buffer` (constructor).
fn display_name(function: &Function) -> String {
    match &function.kind {
        FunctionKind::Constructor(_) => format!(
            "{} constructor",
            function.name.trim_start_matches("[constructor]")
        ),
        _ => function
            .name
            .trim_start_matches("[method]")
            .trim_start_matches("[static]")
            .to_string(),
    }
}

/// `func(element: stream-element) -> result<bool, process-error>`.
pub(crate) fn signature(resolve: &Resolve, function: &Function) -> String {
    let params: Vec<String> = function
        .params
        .iter()
        .map(|param| format!("{}: {}", param.name, show(resolve, &param.ty)))
        .collect();
    let mut text = format!("func({})", params.join(", "));
    if let Some(result) = &function.result {
        text.push_str(" -> ");
        text.push_str(&show(resolve, result));
    }
    text
}

/// A type in WIT syntax, by name where it has one.
pub(crate) fn show(resolve: &Resolve, ty: &Type) -> String {
    let id = match ty {
        Type::Bool => return "bool".into(),
        Type::U8 => return "u8".into(),
        Type::U16 => return "u16".into(),
        Type::U32 => return "u32".into(),
        Type::U64 => return "u64".into(),
        Type::S8 => return "s8".into(),
        Type::S16 => return "s16".into(),
        Type::S32 => return "s32".into(),
        Type::S64 => return "s64".into(),
        Type::F32 => return "f32".into(),
        Type::F64 => return "f64".into(),
        Type::Char => return "char".into(),
        Type::String => return "string".into(),
        Type::ErrorContext => return "error-context".into(),
        Type::Id(id) => *id,
    };
    let def = &resolve.types[id];
    if let Some(name) = &def.name {
        return name.clone();
    }
    let opt = |ty: &Option<Type>| ty.as_ref().map_or("_".to_string(), |ty| show(resolve, ty));
    match &def.kind {
        TypeDefKind::Handle(Handle::Own(resource)) => show(resolve, &Type::Id(*resource)),
        TypeDefKind::Handle(Handle::Borrow(resource)) => {
            format!("borrow<{}>", show(resolve, &Type::Id(*resource)))
        }
        TypeDefKind::Tuple(tuple) => format!(
            "tuple<{}>",
            tuple
                .types
                .iter()
                .map(|ty| show(resolve, ty))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        TypeDefKind::Option(ty) => format!("option<{}>", show(resolve, ty)),
        TypeDefKind::Result(result) => match (&result.ok, &result.err) {
            (None, None) => "result".into(),
            (Some(ok), None) => format!("result<{}>", show(resolve, ok)),
            (ok, err) => format!("result<{}, {}>", opt(ok), opt(err)),
        },
        TypeDefKind::List(ty) => format!("list<{}>", show(resolve, ty)),
        TypeDefKind::FixedLengthList(ty, n) => format!("list<{}, {n}>", show(resolve, ty)),
        TypeDefKind::Map(k, v) => format!("map<{}, {}>", show(resolve, k), show(resolve, v)),
        TypeDefKind::Future(ty) => format!("future<{}>", opt(ty)),
        TypeDefKind::Stream(ty) => format!("stream<{}>", opt(ty)),
        TypeDefKind::Type(ty) => show(resolve, ty),
        other => other.as_str().to_string(),
    }
}

/// Structural comparison of the contract's types with the component's, in the
/// terms the component model links by: record fields, variant cases, enum and
/// flag names and resource identity matter; parameter names do not.
struct Compare<'a> {
    contract: &'a Resolve,
    component: &'a Resolve,
}

impl Compare<'_> {
    fn function(&self, want: &Function, found: &Function) -> Result<(), String> {
        if want.params.len() != found.params.len() {
            return Err(format!(
                "{} parameters instead of {}",
                found.params.len(),
                want.params.len()
            ));
        }
        for (want_param, found_param) in want.params.iter().zip(&found.params) {
            self.ty(&want_param.ty, &found_param.ty)
                .map_err(|detail| format!("parameter `{}`: {detail}", want_param.name))?;
        }
        match (&want.result, &found.result) {
            (None, None) => Ok(()),
            (Some(want), Some(found)) => self
                .ty(want, found)
                .map_err(|detail| format!("result: {detail}")),
            (Some(want), None) => Err(format!(
                "no result where the contract returns `{}`",
                show(self.contract, want)
            )),
            (None, Some(found)) => Err(format!(
                "it returns `{}` where the contract returns nothing",
                show(self.component, found)
            )),
        }
    }

    fn differ(&self, want: &Type, found: &Type) -> String {
        format!(
            "expected `{}`, found `{}`",
            show(self.contract, want),
            show(self.component, found)
        )
    }

    fn ty(&self, want: &Type, found: &Type) -> Result<(), String> {
        let want = dealias(self.contract, *want);
        let found = dealias(self.component, *found);
        let (want_id, found_id) = match (want, found) {
            (Type::Id(w), Type::Id(f)) => (w, f),
            (Type::Id(_), _) | (_, Type::Id(_)) => return Err(self.differ(&want, &found)),
            (w, f) if w == f => return Ok(()),
            _ => return Err(self.differ(&want, &found)),
        };
        let within = |what: String, detail: String| {
            let name = self.contract.types[want_id].name.clone();
            match name {
                Some(name) => format!("{what} of `{name}`: {detail}"),
                None => format!("{what}: {detail}"),
            }
        };
        let want_def = &self.contract.types[want_id];
        let found_def = &self.component.types[found_id];
        let mismatch = || Err(self.differ(&want, &found));
        match (&want_def.kind, &found_def.kind) {
            (TypeDefKind::Record(w), TypeDefKind::Record(f)) => {
                if w.fields.len() != f.fields.len() {
                    return mismatch();
                }
                for (wf, ff) in w.fields.iter().zip(&f.fields) {
                    if wf.name != ff.name {
                        return Err(within(
                            "fields".into(),
                            format!("expected field `{}`, found `{}`", wf.name, ff.name),
                        ));
                    }
                    self.ty(&wf.ty, &ff.ty)
                        .map_err(|d| within(format!("field `{}`", wf.name), d))?;
                }
                Ok(())
            }
            (TypeDefKind::Variant(w), TypeDefKind::Variant(f)) => {
                if w.cases.len() != f.cases.len() {
                    return mismatch();
                }
                for (wc, fc) in w.cases.iter().zip(&f.cases) {
                    if wc.name != fc.name {
                        return Err(within(
                            "cases".into(),
                            format!("expected case `{}`, found `{}`", wc.name, fc.name),
                        ));
                    }
                    self.option(&wc.ty, &fc.ty)
                        .map_err(|d| within(format!("case `{}`", wc.name), d))?;
                }
                Ok(())
            }
            (TypeDefKind::Enum(w), TypeDefKind::Enum(f)) => {
                let names = |cases: &[wit_parser::EnumCase]| {
                    cases.iter().map(|c| c.name.clone()).collect::<Vec<_>>()
                };
                if names(&w.cases) == names(&f.cases) {
                    Ok(())
                } else {
                    Err(within(
                        "cases".into(),
                        format!(
                            "expected {}, found {}",
                            names(&w.cases).join(", "),
                            names(&f.cases).join(", ")
                        ),
                    ))
                }
            }
            (TypeDefKind::Flags(w), TypeDefKind::Flags(f)) => {
                let names = |flags: &wit_parser::Flags| {
                    flags
                        .flags
                        .iter()
                        .map(|f| f.name.clone())
                        .collect::<Vec<_>>()
                };
                if names(w) == names(f) {
                    Ok(())
                } else {
                    mismatch()
                }
            }
            (TypeDefKind::Tuple(w), TypeDefKind::Tuple(f)) => {
                if w.types.len() != f.types.len() {
                    return mismatch();
                }
                for (wt, ft) in w.types.iter().zip(&f.types) {
                    self.ty(wt, ft)?;
                }
                Ok(())
            }
            (TypeDefKind::Option(w), TypeDefKind::Option(f))
            | (TypeDefKind::List(w), TypeDefKind::List(f)) => self.ty(w, f),
            (TypeDefKind::FixedLengthList(w, wn), TypeDefKind::FixedLengthList(f, fn_))
                if wn == fn_ =>
            {
                self.ty(w, f)
            }
            (TypeDefKind::Map(wk, wv), TypeDefKind::Map(fk, fv)) => {
                self.ty(wk, fk)?;
                self.ty(wv, fv)
            }
            (TypeDefKind::Result(w), TypeDefKind::Result(f)) => {
                self.option(&w.ok, &f.ok)
                    .map_err(|d| format!("{d} (the ok type)"))?;
                self.option(&w.err, &f.err)
                    .map_err(|d| format!("{d} (the error type)"))
            }
            (TypeDefKind::Future(w), TypeDefKind::Future(f))
            | (TypeDefKind::Stream(w), TypeDefKind::Stream(f)) => self.option(w, f),
            (TypeDefKind::Handle(Handle::Own(w)), TypeDefKind::Handle(Handle::Own(f)))
            | (TypeDefKind::Handle(Handle::Borrow(w)), TypeDefKind::Handle(Handle::Borrow(f))) => {
                self.resource(*w, *f)
                    .then_some(())
                    .ok_or_else(|| self.differ(&want, &found))
            }
            (TypeDefKind::Resource, TypeDefKind::Resource) => self
                .resource(want_id, found_id)
                .then_some(())
                .ok_or_else(|| self.differ(&want, &found)),
            _ => mismatch(),
        }
    }

    fn option(&self, want: &Option<Type>, found: &Option<Type>) -> Result<(), String> {
        match (want, found) {
            (None, None) => Ok(()),
            (Some(w), Some(f)) => self.ty(w, f),
            (Some(w), None) => Err(format!("expected `{}`, found none", show(self.contract, w))),
            (None, Some(f)) => Err(format!(
                "expected none, found `{}`",
                show(self.component, f)
            )),
        }
    }

    /// Two resources are the same when they have the same name in the same
    /// interface of the same package (versions are checked per interface).
    fn resource(&self, want: TypeId, found: TypeId) -> bool {
        let origin = |resolve: &Resolve, id: TypeId| {
            let id = dealias_id(resolve, id);
            let def = &resolve.types[id];
            let owner = match def.owner {
                TypeOwner::Interface(interface) => {
                    let interface = &resolve.interfaces[interface];
                    let package = interface
                        .package
                        .map(|p| {
                            let name = &resolve.packages[p].name;
                            format!("{}:{}", name.namespace, name.name)
                        })
                        .unwrap_or_default();
                    format!("{package}/{}", interface.name.as_deref().unwrap_or(""))
                }
                _ => String::new(),
            };
            (owner, def.name.clone())
        };
        origin(self.contract, want) == origin(self.component, found)
    }
}

fn dealias(resolve: &Resolve, ty: Type) -> Type {
    match ty {
        Type::Id(id) => Type::Id(dealias_id(resolve, id)),
        other => other,
    }
}

fn dealias_id(resolve: &Resolve, mut id: TypeId) -> TypeId {
    while let TypeDefKind::Type(Type::Id(next)) = &resolve.types[id].kind {
        id = *next;
    }
    id
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
