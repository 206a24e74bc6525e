//! A minimal wasmtime host of the contract for the bench subjects: the
//! `content-filter` and `managed-transform` worlds, the three resource types,
//! `buffer-allocator` and WASI 0.2 (nothing inherited).
//!
//! It does no accounting and enforces no limit, so a measured call is the
//! component's glue and work plus wasmtime's own cost of the call.

use std::path::Path;

use anyhow::anyhow;
use wasmtime::component::{Component, HasSelf, Linker, Resource, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Bindings of `torvyn:streaming/managed-transform` (the processor world).
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod transform {
    wasmtime::component::bindgen!({
        path: ["../../wit/streaming"],
        world: "torvyn:streaming/managed-transform",
        with: {
            "torvyn:streaming/types.buffer": super::HostBuffer,
            "torvyn:streaming/types.mutable-buffer": super::HostMutable,
            "torvyn:streaming/types.flow-context": super::HostContext,
        },
    });
}

/// Bindings of `torvyn:filtering/content-filter` (the filter world).
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod filter {
    wasmtime::component::bindgen!({
        path: ["../../wit/streaming", "../../wit/filtering"],
        world: "torvyn:filtering/content-filter",
        with: {
            "torvyn:streaming/types": super::transform::torvyn::streaming::types,
        },
    });
}

/// Bindings of `torvyn:streaming/data-source` (the source world).
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod source {
    wasmtime::component::bindgen!({
        path: ["../../wit/streaming"],
        world: "torvyn:streaming/data-source",
        with: {
            "torvyn:streaming/types": super::transform::torvyn::streaming::types,
            "torvyn:streaming/buffer-allocator": super::transform::torvyn::streaming::buffer_allocator,
        },
    });
}

/// Bindings of `torvyn:streaming/data-sink` (the sink world).
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod sink {
    wasmtime::component::bindgen!({
        path: ["../../wit/streaming"],
        world: "torvyn:streaming/data-sink",
        with: {
            "torvyn:streaming/types": super::transform::torvyn::streaming::types,
        },
    });
}

use transform::torvyn::streaming::types::{
    self as wit, BufferError, ElementMeta, OutputElement, StreamElement,
};

/// A host `buffer`: immutable bytes.
#[derive(Debug, Default)]
pub struct HostBuffer {
    /// The payload.
    pub bytes: Vec<u8>,
    /// Its MIME type.
    pub content_type: String,
}

/// A host `mutable-buffer`.
#[derive(Debug, Default)]
pub struct HostMutable {
    bytes: Vec<u8>,
    capacity: u64,
    content_type: String,
}

/// A host `flow-context` (empty trace, no deadline).
#[derive(Debug, Default)]
pub struct HostContext;

/// The store's data: the resource table and WASI.
pub struct Host {
    /// Every live resource.
    pub table: ResourceTable,
    wasi: WasiCtx,
}

impl Host {
    /// A fresh host: empty table, WASI with no stdio, files or network.
    pub fn new() -> Self {
        Self {
            table: ResourceTable::new(),
            wasi: WasiCtx::builder().build(),
        }
    }
}

impl Default for Host {
    fn default() -> Self {
        Self::new()
    }
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl wit::HostBuffer for Host {
    fn size(&mut self, b: Resource<HostBuffer>) -> u64 {
        self.table.get(&b).map_or(0, |b| b.bytes.len() as u64)
    }
    fn content_type(&mut self, b: Resource<HostBuffer>) -> String {
        self.table
            .get(&b)
            .map(|b| b.content_type.clone())
            .unwrap_or_default()
    }
    fn read(&mut self, b: Resource<HostBuffer>, offset: u64, len: u64) -> Vec<u8> {
        let Ok(buffer) = self.table.get(&b) else {
            return Vec::new();
        };
        let bytes = &buffer.bytes;
        let from = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let to = usize::try_from(offset.saturating_add(len))
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        bytes[from..to].to_vec()
    }
    fn read_all(&mut self, b: Resource<HostBuffer>) -> Vec<u8> {
        self.table
            .get(&b)
            .map(|b| b.bytes.clone())
            .unwrap_or_default()
    }
    fn drop(&mut self, b: Resource<HostBuffer>) -> wasmtime::Result<()> {
        self.table.delete(b)?;
        Ok(())
    }
}

impl wit::HostMutableBuffer for Host {
    fn write(
        &mut self,
        m: Resource<HostMutable>,
        offset: u64,
        bytes: Vec<u8>,
    ) -> Result<(), BufferError> {
        let m = self
            .table
            .get_mut(&m)
            .map_err(|e| BufferError::AllocationFailed(e.to_string()))?;
        let offset = usize::try_from(offset).map_err(|_| BufferError::OutOfBounds)?;
        let end = offset + bytes.len();
        if end as u64 > m.capacity {
            return Err(BufferError::CapacityExceeded);
        }
        if offset > m.bytes.len() {
            return Err(BufferError::OutOfBounds);
        }
        m.bytes.resize(end.max(m.bytes.len()), 0);
        m.bytes[offset..end].copy_from_slice(&bytes);
        Ok(())
    }
    fn append(&mut self, m: Resource<HostMutable>, bytes: Vec<u8>) -> Result<(), BufferError> {
        let m = self
            .table
            .get_mut(&m)
            .map_err(|e| BufferError::AllocationFailed(e.to_string()))?;
        if (m.bytes.len() + bytes.len()) as u64 > m.capacity {
            return Err(BufferError::CapacityExceeded);
        }
        m.bytes.extend(bytes);
        Ok(())
    }
    fn size(&mut self, m: Resource<HostMutable>) -> u64 {
        self.table.get(&m).map_or(0, |m| m.bytes.len() as u64)
    }
    fn capacity(&mut self, m: Resource<HostMutable>) -> u64 {
        self.table.get(&m).map_or(0, |m| m.capacity)
    }
    fn set_content_type(&mut self, m: Resource<HostMutable>, content_type: String) {
        if let Ok(m) = self.table.get_mut(&m) {
            m.content_type = content_type;
        }
    }
    fn freeze(&mut self, m: Resource<HostMutable>) -> Resource<HostBuffer> {
        let frozen = match self.table.get_mut(&m) {
            Ok(m) => {
                m.capacity = 0;
                HostBuffer {
                    bytes: std::mem::take(&mut m.bytes),
                    content_type: std::mem::take(&mut m.content_type),
                }
            }
            Err(_) => HostBuffer::default(),
        };
        self.table
            .push(frozen)
            .expect("the resource table has room")
    }
    fn drop(&mut self, m: Resource<HostMutable>) -> wasmtime::Result<()> {
        self.table.delete(m)?;
        Ok(())
    }
}

impl wit::HostFlowContext for Host {
    fn trace_id(&mut self, _: Resource<HostContext>) -> String {
        String::new()
    }
    fn span_id(&mut self, _: Resource<HostContext>) -> String {
        String::new()
    }
    fn deadline_ns(&mut self, _: Resource<HostContext>) -> u64 {
        0
    }
    fn flow_id(&mut self, _: Resource<HostContext>) -> String {
        "bench".into()
    }
    fn drop(&mut self, c: Resource<HostContext>) -> wasmtime::Result<()> {
        self.table.delete(c)?;
        Ok(())
    }
}

impl wit::Host for Host {}

impl transform::torvyn::streaming::buffer_allocator::Host for Host {
    fn allocate(&mut self, capacity_hint: u64) -> Result<Resource<HostMutable>, BufferError> {
        let m = HostMutable {
            bytes: Vec::with_capacity(usize::try_from(capacity_hint).unwrap_or(0)),
            capacity: capacity_hint,
            content_type: String::new(),
        };
        self.table
            .push(m)
            .map_err(|e| BufferError::AllocationFailed(e.to_string()))
    }
    fn clone_into_mutable(
        &mut self,
        source: Resource<HostBuffer>,
    ) -> Result<Resource<HostMutable>, BufferError> {
        let b = self
            .table
            .get(&source)
            .map_err(|e| BufferError::AllocationFailed(e.to_string()))?;
        let m = HostMutable {
            bytes: b.bytes.clone(),
            capacity: b.bytes.len() as u64,
            content_type: b.content_type.clone(),
        };
        self.table
            .push(m)
            .map_err(|e| BufferError::AllocationFailed(e.to_string()))
    }
}

/// An engine with the component model on and the component-model-async task
/// bookkeeping off (the contract is synchronous), as the testkit's engine;
/// wasmtime's defaults otherwise.
///
/// # Errors
/// When wasmtime rejects the configuration.
pub fn engine() -> wasmtime::Result<Engine> {
    Engine::new(
        Config::new()
            .wasm_component_model(true)
            .concurrency_support(false),
    )
}

/// [`engine`] with epoch interruption on, as the testkit's engine has it for
/// its per-call time limits: compiled code checks the epoch at every
/// function entry and loop back-edge. [`store`] sets a deadline no run
/// reaches, and nothing advances the epoch.
///
/// # Errors
/// When wasmtime rejects the configuration.
pub fn epoch_engine() -> wasmtime::Result<Engine> {
    Engine::new(
        Config::new()
            .wasm_component_model(true)
            .concurrency_support(false)
            .epoch_interruption(true),
    )
}

/// An engine with the component model on and wasmtime's pooling instance
/// allocator, sized for a few dozen live instances of at most 16 MiB memory
/// (the contract's per-component limit): instance memories and tables are
/// reused slots instead of fresh `mmap`s.
///
/// # Errors
/// When wasmtime rejects the configuration (for example when the machine
/// cannot reserve the pool's address space).
pub fn pooling_engine() -> wasmtime::Result<Engine> {
    let mut pool = wasmtime::PoolingAllocationConfig::new();
    pool.total_component_instances(64)
        .total_core_instances(256)
        .total_memories(128)
        .total_tables(128)
        .max_memory_size(16 << 20);
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .concurrency_support(false)
        .allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config)
}

/// A store with a fresh [`Host`].
pub fn store(engine: &Engine) -> Store<Host> {
    let mut store = Store::new(engine, Host::new());
    // Only read on an engine with epoch interruption on: never reached.
    store.set_epoch_deadline(u64::MAX / 2);
    store
}

/// A linker with WASI 0.2 and the `content-filter` imports.
///
/// # Errors
/// When an import is defined twice.
pub fn filter_linker(engine: &Engine) -> wasmtime::Result<Linker<Host>> {
    let mut linker = Linker::<Host>::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    filter::ContentFilter::add_to_linker::<Host, HasSelf<Host>>(&mut linker, |h| h)?;
    Ok(linker)
}

/// A linker with WASI 0.2 and the `managed-transform` imports.
///
/// # Errors
/// When an import is defined twice.
pub fn transform_linker(engine: &Engine) -> wasmtime::Result<Linker<Host>> {
    let mut linker = Linker::<Host>::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    transform::ManagedTransform::add_to_linker::<Host, HasSelf<Host>>(&mut linker, |h| h)?;
    Ok(linker)
}

/// A linker with WASI 0.2 and the imports of all four worlds above, so that a
/// source, a processor and a sink can live in one store and pass buffers to
/// each other by handle (the floor of a pipeline: bare calls, no scheduling).
///
/// # Errors
/// When an import is defined twice.
pub fn pipeline_linker(engine: &Engine) -> wasmtime::Result<Linker<Host>> {
    // managed-transform imports types and buffer-allocator: a superset of the
    // source's and the sink's imports.
    transform_linker(engine)
}

/// A compiled component file.
///
/// # Errors
/// When the file cannot be read or compiled; the error names it.
pub fn load(engine: &Engine, path: &Path) -> anyhow::Result<Component> {
    Component::from_file(engine, path).map_err(|err| anyhow!("loading {}: {err:?}", path.display()))
}

/// A source, a processor and a sink in one store of this host, each `init`ed,
/// with one flow context to lend with their elements: the bare calls a
/// pipeline must make, with no scheduling (the pipeline bench's floor).
pub struct Stages {
    /// The store all three live in.
    pub store: Store<Host>,
    /// The source, asked for elements of the given size without end.
    pub source: source::DataSource,
    /// The processor.
    pub processor: transform::ManagedTransform,
    /// The sink.
    pub sink: sink::DataSink,
    /// The flow context every lent element carries.
    pub context: Resource<HostContext>,
}

impl Stages {
    /// Instantiate the components at `source`, `processor` and `sink` on
    /// `engine` and `init` them; the source's config asks for `size`-byte
    /// elements without end.
    ///
    /// # Errors
    /// When a component cannot be loaded or instantiated, lacks its world's
    /// exports, or fails its `init`.
    pub fn new(
        engine: &Engine,
        source: &Path,
        processor: &Path,
        sink: &Path,
        size: usize,
    ) -> anyhow::Result<Self> {
        let linker = pipeline_linker(engine)?;
        let mut store = store(engine);
        let source = source::DataSourcePre::new(linker.instantiate_pre(&load(engine, source)?)?)?
            .instantiate(&mut store)?;
        let processor = transform::ManagedTransformPre::new(
            linker.instantiate_pre(&load(engine, processor)?)?,
        )?
        .instantiate(&mut store)?;
        let sink = sink::DataSinkPre::new(linker.instantiate_pre(&load(engine, sink)?)?)?
            .instantiate(&mut store)?;
        let config = format!(r#"{{"count": {}, "size": {size}}}"#, u64::MAX);
        source
            .torvyn_streaming_lifecycle()
            .call_init(&mut store, &config)?
            .map_err(|err| anyhow!("source init: {err:?}"))?;
        processor
            .torvyn_streaming_lifecycle()
            .call_init(&mut store, "")?
            .map_err(|err| anyhow!("processor init: {err:?}"))?;
        sink.torvyn_streaming_lifecycle()
            .call_init(&mut store, "")?
            .map_err(|err| anyhow!("sink init: {err:?}"))?;
        let context = store.data_mut().table.push(HostContext)?;
        Ok(Self {
            store,
            source,
            processor,
            sink,
            context,
        })
    }

    /// One element through the bare calls: `pull`, then `process` when
    /// `through_processor`, then `push`; each buffer is removed from the table
    /// once its last reader returned.
    ///
    /// # Errors
    /// When a call traps or returns an error, the source ends, the processor
    /// drops the element or the sink answers `pause`.
    pub fn one(&mut self, through_processor: bool) -> anyhow::Result<()> {
        use transform::torvyn::streaming::types::{BackpressureSignal, ProcessResult};
        let pulled = self
            .source
            .torvyn_streaming_source()
            .call_pull(&mut self.store)?
            .map_err(|err| anyhow!("pull: {err:?}"))?
            .ok_or_else(|| anyhow!("the source ended"))?;
        let out = if through_processor {
            let element = self.lend(&pulled);
            let result = self
                .processor
                .torvyn_streaming_processor()
                .call_process(&mut self.store, &element)?
                .map_err(|err| anyhow!("process: {err:?}"))?;
            let ProcessResult::Emit(out) = result else {
                anyhow::bail!("the processor dropped an element");
            };
            self.store.data_mut().table.delete(pulled.payload)?;
            out
        } else {
            pulled
        };
        let element = self.lend(&out);
        let signal = self
            .sink
            .torvyn_streaming_sink()
            .call_push(&mut self.store, &element)?
            .map_err(|err| anyhow!("push: {err:?}"))?;
        if !matches!(signal, BackpressureSignal::Ready) {
            anyhow::bail!("the sink answered pause");
        }
        self.store.data_mut().table.delete(out.payload)?;
        Ok(())
    }

    /// An element lending `out`'s payload and the shared context.
    pub fn lend(&self, out: &OutputElement) -> StreamElement {
        StreamElement {
            meta: out.meta.clone(),
            payload: Resource::new_borrow(out.payload.rep()),
            context: Resource::new_borrow(self.context.rep()),
        }
    }
}

/// A `stream-element` whose payload and context live in the store's table.
/// It only lends them to calls, so one element can be passed any number of times.
///
/// # Errors
/// When the resource table is full.
pub fn element(
    store: &mut Store<Host>,
    payload: &[u8],
    content_type: &str,
) -> wasmtime::Result<StreamElement> {
    let table = &mut store.data_mut().table;
    let payload = table.push(HostBuffer {
        bytes: payload.to_vec(),
        content_type: content_type.into(),
    })?;
    let context = table.push(HostContext)?;
    Ok(StreamElement {
        meta: ElementMeta {
            sequence: 7,
            timestamp_ns: 1_000,
            content_type: content_type.into(),
        },
        payload,
        context,
    })
}

/// The payload bytes of an output buffer, removing it from the table.
///
/// # Errors
/// When the handle is not a live buffer.
pub fn take_output(store: &mut Store<Host>, out: wit::OutputElement) -> wasmtime::Result<Vec<u8>> {
    Ok(store.data_mut().table.delete(out.payload)?.bytes)
}
