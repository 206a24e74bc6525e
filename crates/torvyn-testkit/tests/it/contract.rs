//! The WIT in this repository (`wit/`) is interface-identical to the upstream
//! Torvyn 0.1 contract shipped inside the `torvyn-contracts` 0.1.1 crate.
//!
//! Both sides are parsed with wit-parser and flattened into a map from an item's
//! path (`type torvyn:streaming/types@0.1.0.element-meta`,
//! `world torvyn:filtering/content-filter@0.1.0 export ...`) to a canonical
//! description of its structure (fields, cases, parameter names and types,
//! results, handles, world imports and exports). Documentation, comments and
//! file layout are ignored; every other difference fails the test with a list of
//! the items that differ.
//!
//! Upstream fix-ups, applied in memory only: the upstream files in `wit-ext/`
//! refer to `torvyn:streaming/...` without a version, which current wit-parser
//! cannot resolve across packages; the reference is rewritten to
//! `torvyn:streaming/...@0.1.0`, the only version that exists; and several files
//! of one upstream package carry comments before their `package` line, which
//! current wit-parser takes as package docs and rejects ("found doc comments on
//! multiple 'package' items"), so those header comment lines are blanked.
//! Nothing else is changed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use wit_parser::{
    FunctionKind, Handle, Resolve, Type, TypeDefKind, TypeId, TypeOwner, WorldItem, WorldKey,
};

/// Our packages, in dependency order.
const OUR_PACKAGES: [&str; 4] = ["streaming", "capabilities", "filtering", "aggregation"];

/// The four packages of the contract.
const PACKAGE_NAMES: [&str; 4] = [
    "torvyn:streaming@0.1.0",
    "torvyn:capabilities@0.1.0",
    "torvyn:filtering@0.1.0",
    "torvyn:aggregation@0.1.0",
];

fn our_wit_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit")
}

/// Parse our `wit/` packages, with `edit` applied to the text of each file.
fn parse_ours(edit: impl Fn(&str) -> String) -> Resolve {
    let mut resolve = Resolve::new();
    for package in OUR_PACKAGES {
        push_package_dir(&mut resolve, &our_wit_dir().join(package), &edit);
    }
    resolve
}

/// Parse upstream's packages from the `torvyn-contracts` crate, with the
/// version fix-up described in the module docs.
fn parse_upstream() -> Resolve {
    let fix = |text: &str| {
        let mut before_package = true;
        let mut text: String = text
            .lines()
            .map(|line| {
                before_package &= !line.starts_with("package ");
                if before_package && line.starts_with("//") {
                    "\n".to_string() // keeps line numbers in parse errors
                } else {
                    format!("{line}\n")
                }
            })
            .collect();
        for interface in ["types", "buffer-allocator", "lifecycle"] {
            for after in [".", ";"] {
                text = text.replace(
                    &format!("torvyn:streaming/{interface}{after}"),
                    &format!("torvyn:streaming/{interface}@0.1.0{after}"),
                );
            }
        }
        text
    };
    let mut resolve = Resolve::new();
    for dir in [
        torvyn_contracts::wit_streaming_path(),
        torvyn_contracts::wit_capabilities_path(),
        torvyn_contracts::wit_filtering_path(),
        torvyn_contracts::wit_aggregation_path(),
    ] {
        push_package_dir(&mut resolve, Path::new(&dir), &fix);
    }
    resolve
}

fn push_package_dir(resolve: &mut Resolve, dir: &Path, edit: &impl Fn(&str) -> String) {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "wit"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .wit files in {}", dir.display());
    let mut map = wit_parser::SourceMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        map.push_str(&file.display().to_string(), edit(&text));
    }
    let group = map
        .parse()
        .unwrap_or_else(|(_, err)| panic!("{} does not parse: {err}", dir.display()));
    resolve
        .push_group(group)
        .unwrap_or_else(|err| panic!("{} does not resolve: {err}", dir.display()));
}

/// Every item of the contract, by path, with a canonical description.
fn flatten(resolve: &Resolve) -> BTreeMap<String, String> {
    let mut items = BTreeMap::new();
    for (_, package) in resolve.packages.iter() {
        let pkg = package.name.to_string();
        items.insert(format!("package {pkg}"), String::new());
        for (name, &id) in &package.interfaces {
            let interface = &resolve.interfaces[id];
            items.insert(format!("interface {pkg}/{name}"), String::new());
            for (type_name, &ty) in &interface.types {
                items.insert(
                    format!("type {pkg}/{name}.{type_name}"),
                    describe_definition(resolve, ty),
                );
            }
            for (func_name, func) in &interface.functions {
                items.insert(
                    format!("func {pkg}/{name}.{func_name}"),
                    describe_function(resolve, func),
                );
            }
        }
        for (name, &id) in &package.worlds {
            let world = &resolve.worlds[id];
            for (direction, entries) in [("import", &world.imports), ("export", &world.exports)] {
                for (key, item) in entries {
                    items.insert(
                        format!(
                            "world {pkg}/{name} {direction} {}",
                            describe_key(resolve, key)
                        ),
                        describe_world_item(resolve, item),
                    );
                }
            }
        }
    }
    items
}

fn interface_name(resolve: &Resolve, id: wit_parser::InterfaceId) -> String {
    resolve
        .id_of(id)
        .unwrap_or_else(|| "<anonymous interface>".to_string())
}

fn describe_key(resolve: &Resolve, key: &WorldKey) -> String {
    match key {
        WorldKey::Name(name) => name.clone(),
        WorldKey::Interface(id) => interface_name(resolve, *id),
    }
}

fn describe_world_item(resolve: &Resolve, item: &WorldItem) -> String {
    match item {
        WorldItem::Interface { id, .. } => format!("interface {}", interface_name(resolve, *id)),
        WorldItem::Function(func) => describe_function(resolve, func),
        WorldItem::Type { id, .. } => describe_definition(resolve, *id),
    }
}

fn describe_function(resolve: &Resolve, func: &wit_parser::Function) -> String {
    let kind = match &func.kind {
        FunctionKind::Freestanding => "func".to_string(),
        FunctionKind::AsyncFreestanding => "async func".to_string(),
        FunctionKind::Method(id) => format!("method of {}", type_ref(resolve, *id)),
        FunctionKind::AsyncMethod(id) => format!("async method of {}", type_ref(resolve, *id)),
        FunctionKind::Static(id) => format!("static of {}", type_ref(resolve, *id)),
        FunctionKind::AsyncStatic(id) => format!("async static of {}", type_ref(resolve, *id)),
        FunctionKind::Constructor(id) => format!("constructor of {}", type_ref(resolve, *id)),
    };
    let params: Vec<String> = func
        .params
        .iter()
        .map(|param| format!("{}: {}", param.name, type_name(resolve, &param.ty)))
        .collect();
    let result = func
        .result
        .as_ref()
        .map_or_else(|| "()".to_string(), |ty| type_name(resolve, ty));
    format!("{kind}({}) -> {result}", params.join(", "))
}

/// A reference to a type: its qualified name when it has one, else its structure.
fn type_name(resolve: &Resolve, ty: &Type) -> String {
    match ty {
        Type::Id(id) => type_ref(resolve, *id),
        primitive => format!("{primitive:?}").to_lowercase(),
    }
}

fn type_ref(resolve: &Resolve, id: TypeId) -> String {
    let def = &resolve.types[id];
    match (&def.name, def.owner) {
        (Some(name), TypeOwner::Interface(owner)) => {
            format!("{}.{name}", interface_name(resolve, owner))
        }
        (Some(name), TypeOwner::World(owner)) => format!("{}.{name}", resolve.worlds[owner].name),
        _ => describe_kind(resolve, &def.kind),
    }
}

/// The structure of a named type.
fn describe_definition(resolve: &Resolve, id: TypeId) -> String {
    describe_kind(resolve, &resolve.types[id].kind)
}

fn describe_kind(resolve: &Resolve, kind: &TypeDefKind) -> String {
    let ty = |ty: &Type| type_name(resolve, ty);
    let opt = |ty: &Option<Type>| {
        ty.as_ref()
            .map_or_else(|| "_".to_string(), ty_name(resolve))
    };
    match kind {
        TypeDefKind::Record(record) => {
            let fields: Vec<_> = record
                .fields
                .iter()
                .map(|field| format!("{}: {}", field.name, ty(&field.ty)))
                .collect();
            format!("record {{ {} }}", fields.join(", "))
        }
        TypeDefKind::Resource => "resource".to_string(),
        TypeDefKind::Handle(Handle::Own(id)) => format!("own<{}>", type_ref(resolve, *id)),
        TypeDefKind::Handle(Handle::Borrow(id)) => format!("borrow<{}>", type_ref(resolve, *id)),
        TypeDefKind::Flags(flags) => {
            let names: Vec<_> = flags.flags.iter().map(|flag| flag.name.as_str()).collect();
            format!("flags {{ {} }}", names.join(", "))
        }
        TypeDefKind::Tuple(tuple) => {
            let types: Vec<_> = tuple.types.iter().map(ty).collect();
            format!("tuple<{}>", types.join(", "))
        }
        TypeDefKind::Variant(variant) => {
            let cases: Vec<_> = variant
                .cases
                .iter()
                .map(|case| match &case.ty {
                    Some(payload) => format!("{}({})", case.name, ty(payload)),
                    None => case.name.clone(),
                })
                .collect();
            format!("variant {{ {} }}", cases.join(", "))
        }
        TypeDefKind::Enum(enum_) => {
            let cases: Vec<_> = enum_.cases.iter().map(|case| case.name.as_str()).collect();
            format!("enum {{ {} }}", cases.join(", "))
        }
        TypeDefKind::Option(inner) => format!("option<{}>", ty(inner)),
        TypeDefKind::Result(result) => format!("result<{}, {}>", opt(&result.ok), opt(&result.err)),
        TypeDefKind::List(inner) => format!("list<{}>", ty(inner)),
        TypeDefKind::Map(key, value) => format!("map<{}, {}>", ty(key), ty(value)),
        TypeDefKind::FixedLengthList(inner, len) => format!("list<{}, {len}>", ty(inner)),
        TypeDefKind::Future(inner) => format!("future<{}>", opt(inner)),
        TypeDefKind::Stream(inner) => format!("stream<{}>", opt(inner)),
        TypeDefKind::Type(target) => format!("= {}", ty(target)),
        TypeDefKind::Unknown => "unknown".to_string(),
    }
}

fn ty_name(resolve: &Resolve) -> impl Fn(&Type) -> String + '_ {
    move |ty| type_name(resolve, ty)
}

/// Human-readable differences between two flattened contracts.
fn differences(
    ours: &BTreeMap<String, String>,
    upstream: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (path, theirs) in upstream {
        match ours.get(path) {
            None => out.push(format!("missing here: {path} ({theirs})")),
            Some(mine) if mine != theirs => out.push(format!(
                "differs: {path}\n    ours:     {mine}\n    upstream: {theirs}"
            )),
            Some(_) => {}
        }
    }
    for (path, mine) in ours {
        if !upstream.contains_key(path) {
            out.push(format!("not upstream: {path} ({mine})"));
        }
    }
    out
}

#[test]
fn our_wit_is_interface_identical_to_upstream_torvyn_0_1() {
    let ours = flatten(&parse_ours(str::to_string));
    let upstream = flatten(&parse_upstream());

    // The comparison covers the whole contract, not an empty map.
    for package in PACKAGE_NAMES {
        assert!(
            upstream.contains_key(&format!("package {package}")),
            "{package}"
        );
    }
    let count = |prefix: &str| {
        upstream
            .keys()
            .filter(|key| key.starts_with(prefix))
            .count()
    };
    assert_eq!(count("interface "), 10, "interfaces compared");
    assert_eq!(count("world "), 24, "world imports and exports compared");
    assert!(count("func ") >= 25, "functions compared");

    let diff = differences(&ours, &upstream);
    assert!(
        diff.is_empty(),
        "wit/ differs from upstream:\n{}",
        diff.join("\n")
    );
}

#[test]
fn a_deliberate_change_to_one_type_is_reported() {
    let changed = parse_ours(|text| text.replace("sequence: u64,", "sequence: u32,"));
    let diff = differences(&flatten(&changed), &flatten(&parse_upstream()));
    assert_eq!(diff.len(), 1, "{diff:#?}");
    assert!(
        diff[0].contains("type torvyn:streaming@0.1.0/types.element-meta"),
        "{}",
        diff[0]
    );
    assert!(diff[0].contains("sequence: u32"), "{}", diff[0]);
}

#[test]
fn a_changed_parameter_name_and_a_missing_export_are_reported() {
    let changed = parse_ours(|text| {
        text.replace("evaluate: func(element:", "evaluate: func(elem:")
            .replace(
                "    export torvyn:streaming/lifecycle@0.1.0;\n}\n\n/// A router",
                "}\n\n/// A router",
            )
    });
    let diff = differences(&flatten(&changed), &flatten(&parse_upstream()));
    assert_eq!(diff.len(), 2, "{diff:#?}");
    assert!(
        diff.iter()
            .any(|d| d.contains("func torvyn:filtering@0.1.0/filter.evaluate"))
    );
    assert!(diff.iter().any(|d| d.starts_with("missing here: world torvyn:filtering@0.1.0/content-filter export torvyn:streaming/lifecycle@0.1.0")), "{diff:#?}");
}
