//! What a component is: its role, whether it has `lifecycle`, its imports and exports.

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, ErrorKind};
use crate::role::Role;

/// The shape of a component, read from its component type.
///
/// ```no_run
/// let inspection = torvyn_testkit::inspect::inspect("target/filter.wasm")?;
/// println!("{} exports {:?}", inspection.role, inspection.exports);
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
}

/// The export name of the lifecycle interface.
pub const LIFECYCLE: &str = "torvyn:streaming/lifecycle@0.1.0";

/// Inspect the component at `path` (compiling it, or reusing the compiled cache).
pub fn inspect(path: impl AsRef<Path>) -> Result<Inspection, Error> {
    Ok(crate::component::Component::from_file(path)?
        .inspection()
        .clone())
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
    let lifecycle = exports.iter().any(|name| name == LIFECYCLE);
    Ok(Inspection {
        role,
        lifecycle,
        exports,
        imports,
    })
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}
