//! One node's guest profile: wasmtime's [`GuestProfiler`], sampled from the
//! store's epoch callback (see `pipeline::picture::Profiler`, which gathers
//! a flow's and writes them).

use std::sync::{Arc, Mutex, MutexGuard};

use wasmtime::{AsContext, Engine, GuestProfiler};

/// One node's profile, shared by the epoch callbacks of its instances.
#[derive(Clone, Default)]
pub(crate) struct NodeProfile(Arc<Mutex<NodeState>>);

impl std::fmt::Debug for NodeProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeProfile")
            .field("samples", &lock(&self.0).samples)
            .finish()
    }
}

#[derive(Default)]
struct NodeState {
    /// Made when the node's first instance is (it needs the compiled component).
    profiler: Option<GuestProfiler>,
    /// Why the profiler could not be made, if it could not.
    failed: Option<String>,
    samples: u64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl NodeProfile {
    /// Make the node's profiler for `component` (compiled by `engine`) if
    /// this is its first instance.
    pub(crate) fn start(
        &self,
        engine: &Engine,
        component: &wasmtime::component::Component,
        node: &str,
    ) {
        let mut state = lock(&self.0);
        if state.profiler.is_some() || state.failed.is_some() {
            return;
        }
        match GuestProfiler::new_component(engine, node, super::TICK, component.clone(), []) {
            Ok(profiler) => state.profiler = Some(profiler),
            Err(err) => state.failed = Some(format!("{err:#}")),
        }
    }

    /// Record the wasm stack of the store's current call (from its epoch
    /// callback: a tick passed while its wasm code ran, so the sample stands
    /// for one tick of the node's time).
    pub(crate) fn sample(&self, store: impl AsContext) {
        let mut state = lock(&self.0);
        if let Some(profiler) = &mut state.profiler {
            profiler.sample(store, super::TICK);
            state.samples += 1;
        }
    }

    /// The samples taken so far.
    pub(crate) fn samples(&self) -> u64 {
        lock(&self.0).samples
    }

    /// Take the profile out, as the Firefox profiler's JSON: `None` if the
    /// node was never instantiated, an error if its profiler could not be
    /// made or written. Samples taken after this start a new profile.
    pub(crate) fn finish(&self) -> Result<Option<Vec<u8>>, String> {
        let state = std::mem::take(&mut *lock(&self.0));
        if let Some(message) = state.failed {
            return Err(message);
        }
        let Some(profiler) = state.profiler else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        profiler
            .finish(&mut bytes)
            .map_err(|err| format!("{err:#}"))?;
        Ok(Some(bytes))
    }
}
