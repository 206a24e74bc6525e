//! Run-time discovery of granted capabilities (`torvyn:capabilities/capability-query`).

/// Whether the host granted the capability `name` (e.g. `"wasi-random"`).
///
/// On native targets this answers from [`crate::testing::grant_capability`].
pub fn has(name: &str) -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        crate::host::has_capability(name)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        crate::testing::has_capability(name)
    }
}
