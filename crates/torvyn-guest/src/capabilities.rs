//! Run-time discovery of granted capabilities (`torvyn:capabilities/capability-query`).

/// Whether the host granted the capability `name` (e.g. `"wasi-random"`).
///
/// On native targets this answers from [`crate::testing::grant_capability`].
///
/// ```
/// use torvyn_guest::{capabilities, testing};
/// assert!(!capabilities::has("wasi-random"));
/// testing::grant_capability("wasi-random"); // natively; the host grants it in a flow
/// assert!(capabilities::has("wasi-random"));
/// ```
pub fn has(name: &str) -> bool {
    crate::backend::has_capability(name)
}
