//! The reference host of the contract: the wasmtime engine, the linker, and the
//! host side of `types`, `buffer-allocator`, `capability-query` and WASI.
//!
//! Everything here is per component instance (one wasmtime `Store` each):
//! buffers live in the instance's resource table, payload reads and allocations
//! are counted in [`Stats`], stdout and stderr are captured in memory, and memory
//! growth is limited by [`Limits::memory`]. The per-call time limit measures
//! the calling thread's CPU time, checked by epoch interruption (a background
//! thread ticks every 10 ms; see the `deadline` module); when a fuel budget is
//! set, fuel is refilled before every call.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker, Resource, ResourceTable};
use wasmtime::{Config, Engine, ResourceLimiter, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::element::{MAX_BUFFER_BYTES, Payload};

mod capture;
mod deadline;

pub(crate) use capture::CapturePipe;
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
    pub(crate) capture: u64,
}

impl Default for Limits {
    /// 5 s of CPU time per call (with a wall-clock backstop of 60 s), 64 MiB
    /// of linear memory, no fuel metering, 16 MiB of captured stdout and of
    /// stderr.
    fn default() -> Self {
        Limits {
            call_timeout: Duration::from_secs(5),
            wall_timeout: None,
            memory: 64 << 20,
            fuel: None,
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
    }

    /// A host `mutable-buffer`. After `freeze` it is spent: any use but drop traps.
    pub struct MutableBufferRes {
        pub(crate) bytes: Vec<u8>,
        pub(crate) capacity: u64,
        pub(crate) content_type: String,
        pub(crate) frozen: bool,
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
}

impl HostState {
    pub(crate) fn new(grants: BTreeSet<String>, limits: &Limits) -> Self {
        let stdout = CapturePipe::new("stdout", limits.capture);
        let stderr = CapturePipe::new("stderr", limits.capture);
        let mut wasi = WasiCtx::builder();
        wasi.stdout(stdout.clone()).stderr(stderr.clone());
        if grants.contains("wasi-network-egress") {
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
        self.table.delete(buffer)?;
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
        };
        Ok(self.table.push(frozen)?)
    }

    fn drop(&mut self, buffer: Resource<MutableBufferRes>) -> wasmtime::Result<()> {
        self.table.delete(buffer)?;
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
        self.stats.allocations += 1;
        self.stats.bytes_allocated += capacity_hint;
        let buffer = MutableBufferRes {
            bytes: Vec::with_capacity(capacity_hint as usize),
            capacity: capacity_hint,
            content_type: String::new(),
            frozen: false,
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
        };
        Ok(Ok(self.table.push(buffer)?))
    }
}

impl bindings::torvyn::capabilities::capability_query::Host for HostState {
    fn has_capability(&mut self, name: String) -> wasmtime::Result<bool> {
        Ok(self.grants.contains(&name))
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
    cell.get_or_init(|| make_runtime(fuel).map_err(|err| format!("{err:#}")))
        .as_ref()
        .map_err(Clone::clone)
}

fn make_runtime(fuel: bool) -> wasmtime::Result<Runtime> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.consume_fuel(fuel);
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
    bindings::Host_::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)?;
    Ok(Runtime { engine, linker })
}

/// Compiled code is cached on disk next to the built components, so a second
/// test binary (or run) does not recompile an unchanged component.
fn compiled_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("TORVYN_WASM_TARGET_DIR") {
        return Some(PathBuf::from(dir).join("compiled"));
    }
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(|dir| dir.join("torvyn-wasm").join("compiled"))
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
) -> Store<HostState> {
    let mut store = Store::new(&runtime.engine, HostState::new(grants, limits));
    store.limiter(|state| &mut state.memory);
    store.epoch_deadline_callback(|mut store| Ok(store.data_mut().clock.tick()));
    store
}
