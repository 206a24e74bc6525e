//! Where the time goes inside a component: a guest profile of each node, from
//! wasmtime's [`GuestProfiler`], in the Firefox profiler's "processed" format
//! (open it at <https://profiler.firefox.com>).
//!
//! Samples are taken on the epoch ticks the host already has (every
//! [`TICK`](crate::host::TICK), 10 ms, the ticks that enforce the per-call time
//! limit): when a tick passes while a node's wasm code runs, the store's epoch
//! callback records the node's wasm stack, then does the time-limit check it
//! always does. A tick that passes while the host runs (between calls, or in a
//! host function the component called) takes no sample, so a profile shows
//! where a node's own code spends its time, not the host's. Frames are named
//! from the component's `name` section, demangled (`my_filter::Filter::evaluate`),
//! without the hash rustc appends to each symbol.
//!
//! A run without a [`Profiler`] installs no sampling callback at all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::host::NodeProfile;

/// Guest profiles of a flow's nodes, one per node, sampled on the host's epoch
/// ticks while the node's wasm code runs (see [`Pipeline::profile`](crate::Pipeline::profile)).
///
/// Cheap to clone (clones share the profiles), so one profiler can gather
/// the samples of many runs of a flow (each run instantiates its nodes
/// afresh; the samples of a node's instances go to one profile). Only with
/// the `profile` feature (the CLI enables it).
///
/// ```no_run
/// use torvyn_testkit::picture::Profiler;
/// use torvyn_testkit::Pipeline;
///
/// let profiler = Profiler::new();
/// let flow = Pipeline::from_manifest("Torvyn.toml", None)?.profile(&profiler);
/// for _ in 0..100 {
///     flow.clone().run()?;
/// }
/// println!("samples per node: {:?}", profiler.samples());
/// for file in profiler.write("target/profile")? {
///     println!("open {} at https://profiler.firefox.com", file.display());
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
pub struct Profiler {
    nodes: Arc<Mutex<BTreeMap<String, NodeProfile>>>,
}

impl std::fmt::Debug for Profiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profiler")
            .field("samples", &self.samples())
            .finish()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Profiler {
    /// A profiler with no samples yet.
    pub fn new() -> Self {
        Profiler::default()
    }

    /// The samples taken so far, per node (a node that never had its wasm
    /// code on the stack at a tick has none).
    pub fn samples(&self) -> BTreeMap<String, u64> {
        lock(&self.nodes)
            .iter()
            .map(|(node, profile)| (node.clone(), profile.samples()))
            .collect()
    }

    /// The profile of node `name` (made empty on first use).
    pub(crate) fn node(&self, name: &str) -> NodeProfile {
        lock(&self.nodes)
            .entry(name.to_string())
            .or_default()
            .clone()
    }

    /// Write one `<node>.json` per node into `dir` (created if missing), in
    /// the Firefox profiler's processed format, and return the files' paths.
    /// The profiles written are taken out of the profiler: samples taken
    /// after this start new ones. Characters other than ASCII letters,
    /// digits, `-`, `_` and `.` in a node's name become `_` in its file name.
    pub fn write(&self, dir: impl AsRef<Path>) -> std::io::Result<Vec<PathBuf>> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)?;
        let nodes = std::mem::take(&mut *lock(&self.nodes));
        let mut written = Vec::new();
        for (node, profile) in nodes {
            // A node never instantiated (a host-side node) has no profile.
            let Some(bytes) = profile.finish().map_err(|message| {
                std::io::Error::other(format!("cannot profile node `{node}`: {message}"))
            })?
            else {
                continue;
            };
            let mut json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|err| {
                std::io::Error::other(format!("node `{node}`'s profile is not JSON: {err}"))
            })?;
            strip_symbol_hashes(&mut json);
            let path = dir.join(format!("{}.json", file_name(&node)));
            std::fs::write(&path, json.to_string())?;
            written.push(path);
        }
        Ok(written)
    }
}

/// `node`, with the characters a file name should not hold replaced by `_`.
fn file_name(node: &str) -> String {
    let name: String = node
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match name.as_str() {
        "" | "." | ".." => format!("node{name}"),
        _ => name,
    }
}

/// Drop the `::h<16 hex digits>` rustc appends to every symbol from each
/// string of the profile (wasmtime demangles names but keeps the hash).
fn strip_symbol_hashes(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) => {
            if let Some(stripped) = without_hash(text) {
                *text = stripped.to_string();
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_symbol_hashes),
        serde_json::Value::Object(map) => map.values_mut().for_each(strip_symbol_hashes),
        _ => {}
    }
}

fn without_hash(symbol: &str) -> Option<&str> {
    let (head, hash) = symbol.rsplit_once("::h")?;
    (hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then_some(head)
}

impl crate::pipeline::Pipeline {
    /// Profile the run's component nodes into `profiler` (off by default):
    /// on every epoch tick (10 ms) that passes while a node's wasm code runs,
    /// record its wasm stack, with the author's function names. Runs of
    /// clones of this pipeline add to the same profiles; write them with
    /// [`Profiler::write`]. A run without a profiler installs no sampling.
    /// Only with the `profile` feature (the CLI enables it).
    ///
    /// ```no_run
    /// use torvyn_testkit::picture::Profiler;
    /// use torvyn_testkit::Pipeline;
    ///
    /// let profiler = Profiler::new();
    /// Pipeline::from_manifest("Torvyn.toml", None)?.profile(&profiler).run()?;
    /// profiler.write("target/profile")?; // target/profile/<node>.json
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn profile(mut self, profiler: &Profiler) -> Self {
        self.profiler = Some(profiler.clone());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_dropped_and_other_names_kept() {
        assert_eq!(
            without_hash("my_filter::Filter::evaluate::h0123456789abcdef"),
            Some("my_filter::Filter::evaluate")
        );
        assert_eq!(without_hash("my_filter::Filter::evaluate"), None);
        assert_eq!(without_hash("a::hello"), None);
        let mut json = serde_json::json!({"strings": ["f::h0123456789abcdef", "g"], "n": 1});
        strip_symbol_hashes(&mut json);
        assert_eq!(json, serde_json::json!({"strings": ["f", "g"], "n": 1}));
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_name("enrich"), "enrich");
        assert_eq!(file_name("a/b c"), "a_b_c");
        assert_eq!(file_name(".."), "node..");
        assert_eq!(file_name(""), "node");
    }
}
