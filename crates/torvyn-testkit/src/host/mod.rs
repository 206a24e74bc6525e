//! The reference host of the contract: the wasmtime engine, the linker, and the
//! host side of `types`, `buffer-allocator`, `capability-query` and WASI.
//!
//! Everything here is per component instance (one wasmtime `Store` each):
//! buffers live in the instance's resource table, payload reads and allocations
//! are counted in [`Stats`], stdout and stderr are captured in memory, and memory
//! growth is limited by [`Limits::memory`], and the host buffers it holds by
//! [`Limits::host_buffers`]. The per-call time limit measures
//! the calling thread's CPU time, checked by epoch interruption (a background
//! thread ticks every 10 ms; see the `deadline` module); when a fuel budget is
//! set, fuel is refilled before every call.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker, Resource, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

pub(crate) mod guest_clock;

mod budget;
mod capture;
mod deadline;
mod imports;
mod limits;
#[cfg(feature = "profile")]
mod profile;
mod stats;

pub(crate) use budget::{BufferBudget, FlowBuffers, MemoryLimiter};
pub use limits::Limits;
pub use stats::Stats;

pub use capture::StdStream;
pub(crate) use capture::{CapturePipe, LineFn};
pub(crate) use deadline::{CallTimer, Fired};
#[cfg(feature = "profile")]
pub(crate) use profile::NodeProfile;

#[allow(missing_docs, unreachable_pub, private_interfaces, clippy::all)]
pub(crate) mod bindings {
    wasmtime::component::bindgen!({
        path: [
            "wit/streaming",
            "wit/filtering",
            "wit/aggregation",
            "wit/capabilities",
            "host-wit",
        ],
        world: "torvyn-testkit:host/host",
        imports: { default: trappable },
        with: {
            "torvyn:streaming/types.buffer": super::resources::BufferRes,
            "torvyn:streaming/types.mutable-buffer": super::resources::MutableBufferRes,
            "torvyn:streaming/types.flow-context": super::resources::FlowContextRes,
        },
    });
}

use bindings::torvyn::streaming::types::BufferError;

/// How often the epoch ticker advances; per-call time limits are rounded up to it.
pub(crate) const TICK: Duration = Duration::from_millis(10);

/// The host's resource types. `pub` only because the generated bindings
/// re-export them; the module is private, so they are not part of the API.
#[allow(unreachable_pub)]
mod resources {
    use crate::element::Payload;

    /// A host `buffer`: immutable bytes and a content type.
    pub struct BufferRes {
        pub(crate) bytes: Payload,
        pub(crate) content_type: String,
        /// Bytes charged to the instance's host-buffer budget (0 for the
        /// host's own input elements).
        pub(crate) charge: u64,
    }

    /// A host `mutable-buffer`. After `freeze` it is spent: any use but drop traps.
    pub struct MutableBufferRes {
        pub(crate) bytes: Vec<u8>,
        pub(crate) capacity: u64,
        pub(crate) content_type: String,
        pub(crate) frozen: bool,
        /// Bytes charged to the instance's host-buffer budget.
        pub(crate) charge: u64,
    }

    /// A host `flow-context`.
    pub struct FlowContextRes {
        pub(crate) trace_id: crate::element::TraceId,
        pub(crate) span_id: String,
        pub(crate) deadline_ns: u64,
        pub(crate) flow_id: std::sync::Arc<str>,
    }
}

pub(crate) use resources::{BufferRes, FlowContextRes, MutableBufferRes};

/// The data of one instance's store.
pub(crate) struct HostState {
    pub(crate) table: ResourceTable,
    wasi: WasiCtx,
    pub(crate) stdout: CapturePipe,
    pub(crate) stderr: CapturePipe,
    pub(crate) clock: CallTimer,
    pub(crate) stats: Stats,
    pub(crate) grants: BTreeSet<String>,
    pub(crate) fail_allocations: u32,
    pub(crate) memory: MemoryLimiter,
    pub(crate) buffers: BufferBudget,
    pub(crate) time: guest_clock::TimeCtx,
}

impl HostState {
    pub(crate) fn new(
        grants: BTreeSet<String>,
        limits: &Limits,
        flow: Option<Arc<FlowBuffers>>,
    ) -> Self {
        let stdout = CapturePipe::new("stdout", limits.capture);
        let stderr = CapturePipe::new("stderr", limits.capture);
        let mut wasi = WasiCtx::builder();
        wasi.stdout(stdout.clone()).stderr(stderr.clone());
        if grants.contains("wasi-network-egress")
            || grants.contains(crate::settings::ALL_CAPABILITIES)
        {
            wasi.inherit_network().allow_ip_name_lookup(true);
        }
        HostState {
            table: ResourceTable::new(),
            wasi: wasi.build(),
            stdout,
            stderr,
            clock: CallTimer::new(limits.call_timeout, limits.wall_timeout_value()),
            stats: Stats::default(),
            grants,
            fail_allocations: 0,
            memory: MemoryLimiter {
                limit: limits.memory,
                denied: None,
            },
            buffers: BufferBudget {
                held: 0,
                limit: limits.host_buffer_bytes(),
                flow,
                denied: None,
            },
            time: guest_clock::TimeCtx::default(),
        }
    }

    fn live_mut(
        &mut self,
        buffer: &Resource<MutableBufferRes>,
        method: &str,
    ) -> wasmtime::Result<&mut MutableBufferRes> {
        let buffer = self.table.get_mut(buffer)?;
        if buffer.frozen {
            wasmtime::bail!(
                "mutable-buffer.{method} called after freeze(): the contract spends a \
                 mutable-buffer when it is frozen; allocate a new buffer instead"
            );
        }
        Ok(buffer)
    }

    fn injected_failure(&mut self) -> Option<BufferError> {
        if self.fail_allocations == 0 {
            return None;
        }
        self.fail_allocations -= 1;
        self.stats.failed_allocations += 1;
        Some(BufferError::AllocationFailed(
            "allocation failure injected by the test (fail_next_allocation)".into(),
        ))
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The shared engines (with and without fuel metering) and their linkers.
pub(crate) struct LinkedEngine {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<HostState>,
}

/// The process-wide runtime; `fuel` selects the fuel-metering engine.
pub(crate) fn runtime(fuel: bool) -> Result<&'static LinkedEngine, String> {
    static PLAIN: OnceLock<Result<LinkedEngine, String>> = OnceLock::new();
    static FUEL: OnceLock<Result<LinkedEngine, String>> = OnceLock::new();
    let cell = if fuel { &FUEL } else { &PLAIN };
    cell.get_or_init(|| make_runtime(fuel, true).map_err(|err| format!("{err:#}")))
        .as_ref()
        .map_err(Clone::clone)
}

/// The runtime without source-level backtraces: a trap costs microseconds
/// instead of a DWARF symbolisation (most of a second for a debug build), for
/// property tests that trap on every shrinking step (see `component::quick_traps`).
pub(crate) fn quick_runtime() -> Result<&'static LinkedEngine, String> {
    static QUICK: OnceLock<Result<LinkedEngine, String>> = OnceLock::new();
    QUICK
        .get_or_init(|| make_runtime(false, false).map_err(|err| format!("{err:#}")))
        .as_ref()
        .map_err(Clone::clone)
}

fn make_runtime(fuel: bool, details: bool) -> wasmtime::Result<LinkedEngine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.consume_fuel(fuel);
    // Trap backtraces symbolised through the component's DWARF (function names
    // and file:line of the author's source; see `crate::backtrace`), deep
    // enough to reach the author's frames under std's panic machinery.
    config.wasm_backtrace_details(if details {
        wasmtime::WasmBacktraceDetails::Enable
    } else {
        wasmtime::WasmBacktraceDetails::Disable
    });
    config.wasm_backtrace_max_frames(std::num::NonZeroUsize::new(128));
    // The contract is synchronous: without the component-model-async task
    // bookkeeping every call is about 2.5x cheaper (see BENCHMARKS.md).
    config.concurrency_support(false);
    if let Some(dir) = compiled_cache_dir() {
        let mut cache = wasmtime::CacheConfig::new();
        cache.with_directory(dir);
        if let Ok(cache) = wasmtime::Cache::new(cache) {
            config.cache(Some(cache));
        }
    }
    let engine = Engine::new(&config)?;
    start_ticker(engine.clone());
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    guest_clock::add_to_linker(&mut linker)?;
    bindings::Host_::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)?;
    Ok(LinkedEngine { engine, linker })
}

/// Compiled code is cached on disk next to the built components, so a second
/// test binary (or run) does not recompile an unchanged component; outside a
/// test binary (the `torvyn-testkit` command, even run from a cargo target
/// directory), in the platform cache directory, never next to the program.
fn compiled_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("TORVYN_WASM_TARGET_DIR") {
        return Some(PathBuf::from(dir).join("compiled"));
    }
    crate::build::test_binary_target_dir()
        .map(|dir| dir.join("torvyn-wasm").join("compiled"))
        .or_else(|| crate::build::platform_cache_dir().map(|dir| dir.join("compiled")))
}

/// Ticks of the epoch threads so far (each runtime's thread counts here).
static TICKS: AtomicU64 = AtomicU64::new(0);
/// Whether an epoch thread runs.
static TICKING: AtomicBool = AtomicBool::new(false);

/// The epoch threads' tick count, when one runs: a clock that moves every
/// [`TICK`] and costs one atomic load to read, for checks that need not read
/// the wall clock more often than that.
pub(crate) fn ticks() -> Option<u64> {
    TICKING
        .load(Ordering::Relaxed)
        .then(|| TICKS.load(Ordering::Relaxed))
}

fn start_ticker(engine: Engine) {
    let spawned = std::thread::Builder::new()
        .name("torvyn-testkit-epoch".into())
        .spawn(move || {
            TICKING.store(true, Ordering::Relaxed);
            loop {
                std::thread::sleep(TICK);
                engine.increment_epoch();
                TICKS.fetch_add(1, Ordering::Relaxed);
            }
        });
    // Without the ticker, time limits cannot fire; calls still run, so report
    // the problem on stderr instead of failing every test.
    if let Err(err) = spawned {
        eprintln!("torvyn-testkit: cannot start the epoch thread, time limits are off: {err}");
    }
}

/// A new store for one instance, with its limits applied.
pub(crate) fn new_store(
    runtime: &LinkedEngine,
    grants: BTreeSet<String>,
    limits: &Limits,
    flow_buffers: Option<Arc<FlowBuffers>>,
) -> Store<HostState> {
    let mut store = Store::new(
        &runtime.engine,
        HostState::new(grants, limits, flow_buffers),
    );
    store.limiter(|state| &mut state.memory);
    store.epoch_deadline_callback(|mut store| Ok(store.data_mut().clock.tick()));
    store
}
