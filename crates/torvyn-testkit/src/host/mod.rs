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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker, Resource, ResourceTable};
use wasmtime::{Config, Engine, ResourceLimiter, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::element::{MAX_BUFFER_BYTES, Payload};

pub mod clock;

pub use clock::{ClockMode, DEFAULT_RANDOM_SEED};

/// The grant of every capability: `has-capability` answers true for any
/// name, and the network is open. What `Torvyn.toml`'s
/// `[security] default_capability_policy = "allow-all"` grants each node.
pub const ALL_CAPABILITIES: &str = "*";

mod capture;
mod deadline;

pub use capture::StdStream;
pub(crate) use capture::{CapturePipe, LineFn};
pub(crate) use deadline::{CallClock, Fired};

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

use bindings::torvyn::streaming::types::{self as wit, BufferError};

/// How often the epoch ticker advances; per-call time limits are rounded up to it.
pub(crate) const TICK: Duration = Duration::from_millis(10);

/// Resource limits for one component instance.
///
/// ```
/// use std::time::Duration;
/// use torvyn_testkit::host::Limits;
///
/// let limits = Limits::default().call_timeout(Duration::from_millis(200)).memory(32 << 20);
/// assert_eq!(limits.memory_bytes(), 32 << 20);
/// ```
///
/// # Which limit wins
///
/// The time limit measures the component's own execution: the CPU time of
/// the thread running the call (its wasm and the host functions it calls), not
/// wall-clock time, so how busy the machine is does not change which error a
/// test sees. A call that hits its memory limit reports
/// [`OutOfMemory`](crate::ErrorKind::OutOfMemory) even if the time limit
/// passes before it returns; fuel is counted exactly, so with both a fuel
/// budget and a time limit, whichever the component uses up first is reported.
/// The wall-clock backstop ([`wall_timeout`](Self::wall_timeout)) only fires
/// for a call that gets far less CPU time than wall-clock time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    pub(crate) call_timeout: Duration,
    pub(crate) wall_timeout: Option<Duration>,
    pub(crate) memory: u64,
    pub(crate) fuel: Option<u64>,
    pub(crate) host_buffers: Option<u64>,
    pub(crate) capture: u64,
}

impl Default for Limits {
    /// 5 s of CPU time per call (with a wall-clock backstop of 60 s), 64 MiB
    /// of linear memory, no fuel metering, a host-buffer budget equal to the
    /// memory limit, 16 MiB of captured stdout and of stderr.
    fn default() -> Self {
        Limits {
            call_timeout: Duration::from_secs(5),
            wall_timeout: None,
            memory: 64 << 20,
            fuel: None,
            host_buffers: None,
            capture: capture::DEFAULT_CAPTURE_LIMIT,
        }
    }
}

impl Limits {
    /// Limit the time of every call into the component (init, each element
    /// call, flush, complete, teardown), measured as the CPU time the call
    /// uses, so the limit does not depend on the machine's load. Rounded up to
    /// 10 ms.
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// The wall-clock backstop of every call: a call running this long is
    /// stopped even if it used less CPU time than
    /// [`call_timeout`](Self::call_timeout) (a machine so overloaded that the
    /// call gets almost no CPU). Default: 12 times `call_timeout`, at least 60 s.
    pub fn wall_timeout(mut self, timeout: Duration) -> Self {
        self.wall_timeout = Some(timeout);
        self
    }

    /// Keep at most `bytes` of the component's stdout, and as much of its
    /// stderr (default 16 MiB each). Past it, writes still succeed for the
    /// component, their bytes are discarded, and the captured text ends with
    /// a line naming the stream, the node and the limit.
    pub fn capture(mut self, bytes: u64) -> Self {
        self.capture = bytes;
        self
    }

    /// The wall-clock backstop in force: the one set, or 12 times
    /// `call_timeout` and at least 60 s.
    pub fn wall_timeout_value(&self) -> Duration {
        self.wall_timeout.unwrap_or_else(|| {
            self.call_timeout
                .saturating_mul(12)
                .max(Duration::from_secs(60))
        })
    }

    /// The capture limit of stdout and of stderr, in bytes.
    pub fn capture_bytes(&self) -> u64 {
        self.capture
    }

    /// Limit the component's linear memory to `bytes`.
    pub fn memory(mut self, bytes: u64) -> Self {
        self.memory = bytes;
        self
    }

    /// Meter fuel (roughly, wasm instructions) and give every call `fuel` units,
    /// refilled before each call. `None` turns metering off (the default).
    pub fn fuel(mut self, fuel: Option<u64>) -> Self {
        self.fuel = fuel;
        self
    }

    /// Limit the bytes of host buffers the component may hold at once: buffers
    /// it allocated (`allocate`, by capacity) or cloned (`clone-into-mutable`)
    /// and has neither dropped nor returned as an output. Default: the memory
    /// limit ([`memory`](Self::memory)), so a component cannot make the host
    /// hold more than it could hold itself.
    ///
    /// ```
    /// use torvyn_testkit::host::Limits;
    ///
    /// assert_eq!(Limits::default().memory(16 << 20).host_buffer_bytes(), 16 << 20);
    /// assert_eq!(Limits::default().host_buffers(1 << 30).host_buffer_bytes(), 1 << 30);
    /// ```
    pub fn host_buffers(mut self, bytes: u64) -> Self {
        self.host_buffers = Some(bytes);
        self
    }

    /// The host-buffer budget in bytes (the memory limit unless set with
    /// [`host_buffers`](Self::host_buffers)).
    pub fn host_buffer_bytes(&self) -> u64 {
        self.host_buffers.unwrap_or(self.memory)
    }

    /// The per-call time limit.
    pub fn call_timeout_value(&self) -> Duration {
        self.call_timeout
    }

    /// The memory limit in bytes.
    pub fn memory_bytes(&self) -> u64 {
        self.memory
    }

    /// The per-call fuel budget, if metered.
    pub fn fuel_budget(&self) -> Option<u64> {
        self.fuel
    }
}

/// What a component did through the host, counted per instance.
///
/// `payload_bytes_read` counts the bytes copied into the component by
/// `buffer.read` and `buffer.read-all`: a filter that decides on metadata
/// alone reads zero.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Calls into the component's exports (init and teardown included).
    pub calls: u64,
    /// `read` and `read-all` calls.
    pub reads: u64,
    /// Payload bytes copied into the component by those reads.
    pub payload_bytes_read: u64,
    /// Successful `allocate` calls.
    pub allocations: u64,
    /// The sum of the capacity hints of those allocations.
    pub bytes_allocated: u64,
    /// Successful `clone-into-mutable` calls.
    pub clones: u64,
    /// Bytes copied by those clones (a host-side copy, not a read).
    pub bytes_cloned: u64,
    /// Allocations that failed (injected, or above the 16 MiB limit).
    pub failed_allocations: u64,
    /// The most bytes of host buffers the component held at once (see
    /// [`Limits::host_buffers`]).
    pub host_buffer_bytes_peak: u64,
}

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
        pub(crate) trace_id: String,
        pub(crate) span_id: String,
        pub(crate) deadline_ns: u64,
        pub(crate) flow_id: String,
    }
}

pub(crate) use resources::{BufferRes, FlowContextRes, MutableBufferRes};

/// Memory accounting for one instance: denies growth beyond the limit and
/// remembers that it did, so the trap that follows is reported as exhaustion.
pub(crate) struct MemoryLimiter {
    pub(crate) limit: u64,
    pub(crate) denied: Option<u64>,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let desired = desired as u64;
        if desired > self.limit {
            self.denied = Some(desired);
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// The bytes of host buffers a whole flow holds: every instance's buffers
/// (as in [`BufferBudget`]) and the payloads queued between nodes.
#[derive(Debug)]
pub(crate) struct FlowBuffers {
    held: AtomicU64,
    pub(crate) limit: u64,
}

impl FlowBuffers {
    pub(crate) fn new(limit: u64) -> Arc<Self> {
        Arc::new(FlowBuffers {
            held: AtomicU64::new(0),
            limit,
        })
    }

    pub(crate) fn held(&self) -> u64 {
        self.held.load(Ordering::Relaxed)
    }

    pub(crate) fn add(&self, bytes: u64) {
        self.held.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn release(&self, bytes: u64) {
        // Saturating: a release never exceeds what was added, but never wrap.
        let _ = self
            .held
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                Some(held.saturating_sub(bytes))
            });
    }
}

/// Why an allocation was refused by a host-buffer budget.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BufferDenial {
    /// The budget that was hit.
    pub(crate) budget: u64,
    /// Bytes held (by the instance, or by the flow) before the request.
    pub(crate) held: u64,
    /// Bytes asked for.
    pub(crate) requested: u64,
    /// Whether the flow's budget (not the instance's) was hit.
    pub(crate) flow: bool,
}

/// Host-buffer accounting for one instance: what its buffers hold, against its
/// budget and its flow's.
pub(crate) struct BufferBudget {
    pub(crate) held: u64,
    pub(crate) limit: u64,
    pub(crate) flow: Option<Arc<FlowBuffers>>,
    pub(crate) denied: Option<BufferDenial>,
}

impl BufferBudget {
    /// Charge `bytes`, or refuse (and remember why) when a budget would be exceeded.
    fn charge(&mut self, bytes: u64, stats: &mut Stats) -> wasmtime::Result<()> {
        let wanted = self.held.saturating_add(bytes);
        let denial = if wanted > self.limit {
            Some(BufferDenial {
                budget: self.limit,
                held: self.held,
                requested: bytes,
                flow: false,
            })
        } else {
            self.flow.as_ref().and_then(|flow| {
                let held = flow.held();
                (held.saturating_add(bytes) > flow.limit).then_some(BufferDenial {
                    budget: flow.limit,
                    held,
                    requested: bytes,
                    flow: true,
                })
            })
        };
        if let Some(denial) = denial {
            self.denied = Some(denial);
            wasmtime::bail!("host-buffer budget exceeded");
        }
        self.held = wanted;
        stats.host_buffer_bytes_peak = stats.host_buffer_bytes_peak.max(wanted);
        if let Some(flow) = &self.flow {
            flow.add(bytes);
        }
        Ok(())
    }

    pub(crate) fn release(&mut self, bytes: u64) {
        let bytes = bytes.min(self.held);
        self.held -= bytes;
        if let Some(flow) = &self.flow {
            flow.release(bytes);
        }
    }
}

impl Drop for BufferBudget {
    fn drop(&mut self) {
        // The instance's buffers go with its store.
        let held = self.held;
        self.release(held);
    }
}

/// The data of one instance's store.
pub(crate) struct HostState {
    pub(crate) table: ResourceTable,
    wasi: WasiCtx,
    pub(crate) stdout: CapturePipe,
    pub(crate) stderr: CapturePipe,
    pub(crate) clock: CallClock,
    pub(crate) stats: Stats,
    pub(crate) grants: BTreeSet<String>,
    pub(crate) fail_allocations: u32,
    pub(crate) memory: MemoryLimiter,
    pub(crate) buffers: BufferBudget,
    pub(crate) time: clock::TimeCtx,
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
        if grants.contains("wasi-network-egress") || grants.contains(ALL_CAPABILITIES) {
            wasi.inherit_network().allow_ip_name_lookup(true);
        }
        HostState {
            table: ResourceTable::new(),
            wasi: wasi.build(),
            stdout,
            stderr,
            clock: CallClock::new(limits.call_timeout, limits.wall_timeout_value()),
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
            time: clock::TimeCtx::default(),
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

impl wit::HostBuffer for HostState {
    fn size(&mut self, buffer: Resource<BufferRes>) -> wasmtime::Result<u64> {
        Ok(self.table.get(&buffer)?.bytes.len() as u64)
    }

    fn content_type(&mut self, buffer: Resource<BufferRes>) -> wasmtime::Result<String> {
        Ok(self.table.get(&buffer)?.content_type.clone())
    }

    fn read(
        &mut self,
        buffer: Resource<BufferRes>,
        offset: u64,
        len: u64,
    ) -> wasmtime::Result<Vec<u8>> {
        let bytes = self.table.get(&buffer)?.bytes.as_bytes();
        let size = bytes.len() as u64;
        let start = offset.min(size);
        let end = offset.saturating_add(len).min(size);
        let out = bytes[start as usize..end as usize].to_vec();
        self.stats.reads += 1;
        self.stats.payload_bytes_read += out.len() as u64;
        Ok(out)
    }

    fn read_all(&mut self, buffer: Resource<BufferRes>) -> wasmtime::Result<Vec<u8>> {
        let out = self.table.get(&buffer)?.bytes.as_bytes().to_vec();
        self.stats.reads += 1;
        self.stats.payload_bytes_read += out.len() as u64;
        Ok(out)
    }

    fn drop(&mut self, buffer: Resource<BufferRes>) -> wasmtime::Result<()> {
        let buffer = self.table.delete(buffer)?;
        self.buffers.release(buffer.charge);
        Ok(())
    }
}

impl wit::HostMutableBuffer for HostState {
    fn write(
        &mut self,
        buffer: Resource<MutableBufferRes>,
        offset: u64,
        bytes: Vec<u8>,
    ) -> wasmtime::Result<Result<(), BufferError>> {
        let buffer = self.live_mut(&buffer, "write")?;
        let Some(end) = offset.checked_add(bytes.len() as u64) else {
            return Ok(Err(BufferError::OutOfBounds));
        };
        if end > buffer.capacity {
            return Ok(Err(BufferError::CapacityExceeded));
        }
        if offset > buffer.bytes.len() as u64 {
            return Ok(Err(BufferError::OutOfBounds));
        }
        let (offset, end) = (offset as usize, end as usize);
        if end > buffer.bytes.len() {
            buffer.bytes.resize(end, 0);
        }
        buffer.bytes[offset..end].copy_from_slice(&bytes);
        Ok(Ok(()))
    }

    fn append(
        &mut self,
        buffer: Resource<MutableBufferRes>,
        bytes: Vec<u8>,
    ) -> wasmtime::Result<Result<(), BufferError>> {
        let buffer = self.live_mut(&buffer, "append")?;
        if buffer.bytes.len() as u64 + bytes.len() as u64 > buffer.capacity {
            return Ok(Err(BufferError::CapacityExceeded));
        }
        buffer.bytes.extend_from_slice(&bytes);
        Ok(Ok(()))
    }

    fn size(&mut self, buffer: Resource<MutableBufferRes>) -> wasmtime::Result<u64> {
        Ok(self.live_mut(&buffer, "size")?.bytes.len() as u64)
    }

    fn capacity(&mut self, buffer: Resource<MutableBufferRes>) -> wasmtime::Result<u64> {
        Ok(self.live_mut(&buffer, "capacity")?.capacity)
    }

    fn set_content_type(
        &mut self,
        buffer: Resource<MutableBufferRes>,
        content_type: String,
    ) -> wasmtime::Result<()> {
        self.live_mut(&buffer, "set-content-type")?.content_type = content_type;
        Ok(())
    }

    fn freeze(
        &mut self,
        buffer: Resource<MutableBufferRes>,
    ) -> wasmtime::Result<Resource<BufferRes>> {
        let buffer = self.live_mut(&buffer, "freeze")?;
        buffer.frozen = true;
        let frozen = BufferRes {
            bytes: Payload::from(std::mem::take(&mut buffer.bytes)),
            content_type: std::mem::take(&mut buffer.content_type),
            charge: std::mem::take(&mut buffer.charge),
        };
        Ok(self.table.push(frozen)?)
    }

    fn drop(&mut self, buffer: Resource<MutableBufferRes>) -> wasmtime::Result<()> {
        let buffer = self.table.delete(buffer)?;
        self.buffers.release(buffer.charge);
        Ok(())
    }
}

impl wit::HostFlowContext for HostState {
    fn trace_id(&mut self, context: Resource<FlowContextRes>) -> wasmtime::Result<String> {
        Ok(self.table.get(&context)?.trace_id.clone())
    }

    fn span_id(&mut self, context: Resource<FlowContextRes>) -> wasmtime::Result<String> {
        Ok(self.table.get(&context)?.span_id.clone())
    }

    fn deadline_ns(&mut self, context: Resource<FlowContextRes>) -> wasmtime::Result<u64> {
        Ok(self.table.get(&context)?.deadline_ns)
    }

    fn flow_id(&mut self, context: Resource<FlowContextRes>) -> wasmtime::Result<String> {
        Ok(self.table.get(&context)?.flow_id.clone())
    }

    fn drop(&mut self, context: Resource<FlowContextRes>) -> wasmtime::Result<()> {
        self.table.delete(context)?;
        Ok(())
    }
}

impl wit::Host for HostState {}

impl bindings::torvyn::streaming::buffer_allocator::Host for HostState {
    fn allocate(
        &mut self,
        capacity_hint: u64,
    ) -> wasmtime::Result<Result<Resource<MutableBufferRes>, BufferError>> {
        if let Some(error) = self.injected_failure() {
            return Ok(Err(error));
        }
        if capacity_hint > MAX_BUFFER_BYTES {
            self.stats.failed_allocations += 1;
            return Ok(Err(BufferError::AllocationFailed(format!(
                "capacity hint of {capacity_hint} bytes exceeds the 16 MiB per-buffer limit"
            ))));
        }
        self.buffers.charge(capacity_hint, &mut self.stats)?;
        self.stats.allocations += 1;
        self.stats.bytes_allocated += capacity_hint;
        let buffer = MutableBufferRes {
            bytes: Vec::with_capacity(capacity_hint as usize),
            capacity: capacity_hint,
            content_type: String::new(),
            frozen: false,
            charge: capacity_hint,
        };
        Ok(Ok(self.table.push(buffer)?))
    }

    fn clone_into_mutable(
        &mut self,
        source: Resource<BufferRes>,
    ) -> wasmtime::Result<Result<Resource<MutableBufferRes>, BufferError>> {
        if let Some(error) = self.injected_failure() {
            return Ok(Err(error));
        }
        let size = self.table.get(&source)?.bytes.len() as u64;
        self.buffers.charge(size, &mut self.stats)?;
        let source = self.table.get(&source)?;
        let bytes = source.bytes.as_bytes().to_vec();
        let content_type = source.content_type.clone();
        self.stats.clones += 1;
        self.stats.bytes_cloned += bytes.len() as u64;
        let buffer = MutableBufferRes {
            capacity: bytes.len() as u64,
            bytes,
            content_type,
            frozen: false,
            charge: size,
        };
        Ok(Ok(self.table.push(buffer)?))
    }
}

impl bindings::torvyn::capabilities::capability_query::Host for HostState {
    fn has_capability(&mut self, name: String) -> wasmtime::Result<bool> {
        Ok(self.grants.contains(&name) || self.grants.contains(ALL_CAPABILITIES))
    }
}

/// The shared engines (with and without fuel metering) and their linkers.
pub(crate) struct Runtime {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<HostState>,
}

/// The process-wide runtime; `fuel` selects the fuel-metering engine.
pub(crate) fn runtime(fuel: bool) -> Result<&'static Runtime, String> {
    static PLAIN: OnceLock<Result<Runtime, String>> = OnceLock::new();
    static FUEL: OnceLock<Result<Runtime, String>> = OnceLock::new();
    let cell = if fuel { &FUEL } else { &PLAIN };
    cell.get_or_init(|| make_runtime(fuel, true).map_err(|err| format!("{err:#}")))
        .as_ref()
        .map_err(Clone::clone)
}

/// The runtime without source-level backtraces: a trap costs microseconds
/// instead of a DWARF symbolisation (most of a second for a debug build), for
/// property tests that trap on every shrinking step (see `component::quick_traps`).
pub(crate) fn quick_runtime() -> Result<&'static Runtime, String> {
    static QUICK: OnceLock<Result<Runtime, String>> = OnceLock::new();
    QUICK
        .get_or_init(|| make_runtime(false, false).map_err(|err| format!("{err:#}")))
        .as_ref()
        .map_err(Clone::clone)
}

fn make_runtime(fuel: bool, details: bool) -> wasmtime::Result<Runtime> {
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
    clock::add_to_linker(&mut linker)?;
    bindings::Host_::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)?;
    Ok(Runtime { engine, linker })
}

/// Compiled code is cached on disk next to the built components, so a second
/// test binary (or run) does not recompile an unchanged component; outside a
/// cargo target directory (an installed `torvyn-testkit`), in the platform
/// cache directory, never next to the program.
fn compiled_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("TORVYN_WASM_TARGET_DIR") {
        return Some(PathBuf::from(dir).join("compiled"));
    }
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(|dir| dir.join("torvyn-wasm").join("compiled"))
        .or_else(|| crate::build::platform_cache_dir().map(|dir| dir.join("compiled")))
}

fn start_ticker(engine: Engine) {
    let spawned = std::thread::Builder::new()
        .name("torvyn-testkit-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(TICK);
                engine.increment_epoch();
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
    runtime: &Runtime,
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
