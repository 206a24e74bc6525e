//! What a component is: its role, whether it has `lifecycle`, its imports and
//! exports, and every way they differ from the Torvyn 0.1 contract.

use std::path::Path;

use serde::Serialize;

use crate::contract::{Direction, Mismatch};
use crate::error::{Error, ErrorKind};
use crate::role::Role;

/// The shape of a component, read from its component type, and its type check
/// against the contract.
///
/// ```no_run
/// let inspection = torvyn_testkit::inspect("target/filter.wasm")?;
/// println!("{} exports {:?}", inspection.role, inspection.exports);
/// for mismatch in &inspection.mismatches {
///     eprintln!("{mismatch}");
/// }
/// # Ok::<(), torvyn_testkit::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Inspection {
    /// The role, from the one role interface the component exports.
    pub role: Role,
    /// Whether it exports `torvyn:streaming/lifecycle@0.1.0` (`init`/`teardown`).
    pub lifecycle: bool,
    /// Every export's name (`torvyn:filtering/filter@0.1.0`, ...).
    pub exports: Vec<String>,
    /// Every import's name (the contract's interfaces and WASI).
    pub imports: Vec<String>,
    /// Every way the component's imports and exports differ from the contract
    /// (or from what the host links); empty for a valid component.
    pub mismatches: Vec<Mismatch>,
    /// Remarks that are not problems.
    pub notes: Vec<String>,
}

impl Inspection {
    /// Whether the component matches the contract and links on this host.
    pub fn is_valid(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// An import the linker refused, from wasmtime's error chain
/// (`component imports instance `X`, but a matching implementation was not
/// found in the linker` / `instance export `f` has the wrong type` / cause).
pub(crate) fn link_mismatch(err: &wasmtime::Error) -> Mismatch {
    let chain: Vec<String> = err.chain().map(|cause| cause.to_string()).collect();
    let quoted = |text: &str| {
        let start = text.find('`')? + 1;
        let len = text[start..].find('`')?;
        Some(text[start..start + len].to_string())
    };
    let interface = chain
        .first()
        .filter(|first| first.starts_with("component imports"))
        .and_then(|first| quoted(first))
        .unwrap_or_default();
    let function = chain
        .get(1)
        .filter(|second| second.starts_with("instance export"))
        .and_then(|second| quoted(second));
    let cause = chain.last().cloned().unwrap_or_default();
    let what = match &function {
        Some(function) => format!("function `{function}` of `{interface}`"),
        None if !interface.is_empty() => format!("`{interface}`"),
        None => "something".to_string(),
    };
    Mismatch::new(
        Direction::Import,
        &interface,
        function,
        None,
        None,
        format!(
            "the component imports {what}, which the host cannot link ({cause}); a component \
             may import only the contract's interfaces and the WASI 0.2 interfaces the host \
             provides"
        ),
    )
}

/// The export name of the lifecycle interface.
pub const LIFECYCLE_INTERFACE: &str = "torvyn:streaming/lifecycle@0.1.0";

/// Inspect the component at `path` (compiling it, or reusing the compiled
/// cache), type-check its imports and exports against the contract and try to
/// link it.
///
/// A component that matches neither role is an error; every other problem is
/// listed in [`Inspection::mismatches`] (the CLI's `inspect` exits with 1 when
/// there is one).
pub fn inspect(path: impl AsRef<Path>) -> Result<Inspection, Error> {
    let path = path.as_ref();
    let (node, bytes, compiled) = super::load::compile(path)?;
    let runtime = crate::host::runtime(false).map_err(|message| {
        Error::new(
            &node,
            ErrorKind::Load {
                path: path.to_path_buf(),
                message,
            },
        )
    })?;
    let mut inspection = analyse(path, &node, &bytes, &compiled, &runtime.engine)?;
    if let Err(err) = runtime.linker.instantiate_pre(&compiled)
        && !inspection
            .mismatches
            .iter()
            .any(|mismatch| mismatch.direction == Direction::Import)
    {
        inspection.mismatches.push(link_mismatch(&err));
    }
    Ok(inspection)
}

/// The names, role and contract check of a compiled component.
pub(crate) fn analyse(
    path: &Path,
    node: &str,
    bytes: &[u8],
    compiled: &wasmtime::component::Component,
    engine: &wasmtime::Engine,
) -> Result<Inspection, Error> {
    let ty = compiled.component_type();
    let exports = ty
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let imports = ty
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let mut inspection = from_names(path, node, exports, imports)?;
    let checked = crate::contract::check_component(bytes).map_err(|message| {
        Error::new(
            node,
            ErrorKind::Load {
                path: path.to_path_buf(),
                message: format!("its WIT cannot be read back from the binary: {message}"),
            },
        )
    })?;
    inspection.mismatches = checked.mismatches;
    inspection.notes = checked.notes;
    Ok(inspection)
}

pub(crate) fn from_names(
    path: &Path,
    node: &str,
    exports: Vec<String>,
    imports: Vec<String>,
) -> Result<Inspection, Error> {
    let roles: Vec<Role> = exports
        .iter()
        .filter_map(|name| {
            name.ends_with("@0.1.0")
                .then(|| Role::from_interface(name))
                .flatten()
        })
        .collect();
    let fail = |message: String| {
        Err(Error::new(
            node,
            ErrorKind::Load {
                path: path.to_path_buf(),
                message,
            },
        ))
    };
    let role = match roles.as_slice() {
        [role] => *role,
        [] => {
            return fail(format!(
                "it exports no Torvyn 0.1 role interface (its exports: {}); a component \
                 must export exactly one of {}",
                list(&exports),
                Role::ALL.map(Role::versioned_interface).join(", ")
            ));
        }
        several => {
            return fail(format!(
                "it exports several role interfaces ({}); a Torvyn component plays one role",
                several
                    .iter()
                    .map(|role| role.versioned_interface())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    };
    let lifecycle = exports.iter().any(|name| name == LIFECYCLE_INTERFACE);
    Ok(Inspection {
        role,
        lifecycle,
        exports,
        imports,
        mismatches: Vec::new(),
        notes: Vec::new(),
    })
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}
