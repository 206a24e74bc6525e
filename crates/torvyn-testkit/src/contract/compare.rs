//! Structural comparison of the contract's types with the component's.

use wit_parser::{Function, Handle, Resolve, Type, TypeDefKind, TypeId, TypeOwner};

use super::wit_text::show;

/// Structural comparison of the contract's types with the component's, in the
/// terms the component model links by: record fields, variant cases, enum and
/// flag names and resource identity matter; parameter names do not.
pub(super) struct Compare<'a> {
    pub(super) contract: &'a Resolve,
    pub(super) component: &'a Resolve,
}

impl Compare<'_> {
    pub(super) fn function(&self, want: &Function, found: &Function) -> Result<(), String> {
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
