//! Functions and types written as WIT text, for the messages.

use wit_parser::{Function, FunctionKind, Handle, Resolve, Type, TypeDefKind};

/// A function's name as an author reads it: `evaluate`, `buffer.read`,
/// `buffer` (constructor).
pub(super) fn display_name(function: &Function) -> String {
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
