//! Runs two built examples in a minimal wasmtime host of the contract (a
//! smoke test of the generated export glue at run time: lifecycle, typed
//! config, state across calls, payload reads, allocation and output). The
//! full reference host with every role lives in `torvyn-testkit`.

use std::path::Path;

use wasmtime::component::{Component, HasSelf, Linker, Resource, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

mod transform {
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

mod filter {
    wasmtime::component::bindgen!({
        path: ["../../wit/streaming", "../../wit/filtering"],
        world: "torvyn:filtering/content-filter",
        with: {
            "torvyn:streaming/types": super::transform::torvyn::streaming::types,
        },
    });
}

mod router {
    wasmtime::component::bindgen!({
        path: ["../../wit/streaming", "../../wit/filtering"],
        world: "torvyn:filtering/content-router",
        with: { "torvyn:streaming/types": super::transform::torvyn::streaming::types },
    });
}

mod aggregator {
    wasmtime::component::bindgen!({
        path: ["../../wit/streaming", "../../wit/aggregation"],
        world: "torvyn:aggregation/stream-aggregator",
        with: {
            "torvyn:streaming/types": super::transform::torvyn::streaming::types,
            "torvyn:streaming/buffer-allocator": super::transform::torvyn::streaming::buffer_allocator,
        },
    });
}

mod source {
    wasmtime::component::bindgen!({
        path: ["../../wit/streaming"],
        world: "torvyn:streaming/data-source",
        with: {
            "torvyn:streaming/types": super::transform::torvyn::streaming::types,
            "torvyn:streaming/buffer-allocator": super::transform::torvyn::streaming::buffer_allocator,
        },
    });
}

mod sink {
    wasmtime::component::bindgen!({
        path: ["../../wit/streaming"],
        world: "torvyn:streaming/data-sink",
        with: { "torvyn:streaming/types": super::transform::torvyn::streaming::types },
    });
}

use transform::torvyn::streaming::types::{
    self as wit, BufferError, ElementMeta, ProcessError, StreamElement,
};

/// A host `buffer`.
pub struct HostBuffer {
    bytes: Vec<u8>,
    content_type: String,
}
/// A host `mutable-buffer`.
pub struct HostMutable {
    bytes: Vec<u8>,
    capacity: u64,
    content_type: String,
}
/// A host `flow-context`.
pub struct HostContext {
    trace_id: String,
}

struct Host {
    table: ResourceTable,
    wasi: WasiCtx,
    bytes_read: u64,
    allocations: Vec<u64>,
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
        self.table.get(&b).unwrap().bytes.len() as u64
    }
    fn content_type(&mut self, b: Resource<HostBuffer>) -> String {
        self.table.get(&b).unwrap().content_type.clone()
    }
    fn read(&mut self, b: Resource<HostBuffer>, offset: u64, len: u64) -> Vec<u8> {
        let bytes = &self.table.get(&b).unwrap().bytes;
        let from = (offset as usize).min(bytes.len());
        let to = (offset + len).min(bytes.len() as u64) as usize;
        let out = bytes[from..to].to_vec();
        self.bytes_read += out.len() as u64;
        out
    }
    fn read_all(&mut self, b: Resource<HostBuffer>) -> Vec<u8> {
        let out = self.table.get(&b).unwrap().bytes.clone();
        self.bytes_read += out.len() as u64;
        out
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
        let m = self.table.get_mut(&m).unwrap();
        let end = offset as usize + bytes.len();
        if end as u64 > m.capacity {
            return Err(BufferError::CapacityExceeded);
        }
        if offset as usize > m.bytes.len() {
            return Err(BufferError::OutOfBounds);
        }
        m.bytes.resize(end.max(m.bytes.len()), 0);
        m.bytes[offset as usize..end].copy_from_slice(&bytes);
        Ok(())
    }
    fn append(&mut self, m: Resource<HostMutable>, bytes: Vec<u8>) -> Result<(), BufferError> {
        let m = self.table.get_mut(&m).unwrap();
        if (m.bytes.len() + bytes.len()) as u64 > m.capacity {
            return Err(BufferError::CapacityExceeded);
        }
        m.bytes.extend(bytes);
        Ok(())
    }
    fn size(&mut self, m: Resource<HostMutable>) -> u64 {
        self.table.get(&m).unwrap().bytes.len() as u64
    }
    fn capacity(&mut self, m: Resource<HostMutable>) -> u64 {
        self.table.get(&m).unwrap().capacity
    }
    fn set_content_type(&mut self, m: Resource<HostMutable>, content_type: String) {
        self.table.get_mut(&m).unwrap().content_type = content_type;
    }
    fn freeze(&mut self, m: Resource<HostMutable>) -> Resource<HostBuffer> {
        let m = self.table.get_mut(&m).unwrap();
        let frozen = HostBuffer {
            bytes: std::mem::take(&mut m.bytes),
            content_type: m.content_type.clone(),
        };
        m.capacity = 0;
        self.table.push(frozen).unwrap()
    }
    fn drop(&mut self, m: Resource<HostMutable>) -> wasmtime::Result<()> {
        self.table.delete(m)?;
        Ok(())
    }
}

impl wit::HostFlowContext for Host {
    fn trace_id(&mut self, c: Resource<HostContext>) -> String {
        self.table.get(&c).unwrap().trace_id.clone()
    }
    fn span_id(&mut self, _: Resource<HostContext>) -> String {
        String::new()
    }
    fn deadline_ns(&mut self, _: Resource<HostContext>) -> u64 {
        0
    }
    fn flow_id(&mut self, _: Resource<HostContext>) -> String {
        "smoke".into()
    }
    fn drop(&mut self, c: Resource<HostContext>) -> wasmtime::Result<()> {
        self.table.delete(c)?;
        Ok(())
    }
}

impl wit::Host for Host {}

impl transform::torvyn::streaming::buffer_allocator::Host for Host {
    fn allocate(&mut self, capacity_hint: u64) -> Result<Resource<HostMutable>, BufferError> {
        self.allocations.push(capacity_hint);
        let m = HostMutable {
            bytes: Vec::new(),
            capacity: capacity_hint,
            content_type: String::new(),
        };
        Ok(self.table.push(m).unwrap())
    }
    fn clone_into_mutable(
        &mut self,
        source: Resource<HostBuffer>,
    ) -> Result<Resource<HostMutable>, BufferError> {
        let b = self.table.get(&source).unwrap();
        let m = HostMutable {
            bytes: b.bytes.clone(),
            capacity: b.bytes.len() as u64,
            content_type: b.content_type.clone(),
        };
        Ok(self.table.push(m).unwrap())
    }
}

fn engine() -> Engine {
    Engine::new(Config::new().wasm_component_model(true)).unwrap()
}

fn store(engine: &Engine) -> Store<Host> {
    let wasi = WasiCtx::builder().inherit_stderr().build();
    Store::new(
        engine,
        Host {
            table: ResourceTable::new(),
            wasi,
            bytes_read: 0,
            allocations: Vec::new(),
        },
    )
}

fn build(example: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(example);
    torvyn_testkit::build::build_component(dir).unwrap_or_else(|e| panic!("{e}"))
}

fn element(
    store: &mut Store<Host>,
    payload: &[u8],
    content_type: &str,
    sequence: u64,
    timestamp_ns: u64,
) -> StreamElement {
    let table = &mut store.data_mut().table;
    let payload = table
        .push(HostBuffer {
            bytes: payload.to_vec(),
            content_type: content_type.into(),
        })
        .unwrap();
    let context = table
        .push(HostContext {
            trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
        })
        .unwrap();
    StreamElement {
        meta: ElementMeta {
            sequence,
            timestamp_ns,
            content_type: content_type.into(),
        },
        payload,
        context,
    }
}

#[test]
fn rate_limiter_runs_with_config_and_state() {
    let engine = engine();
    let component = Component::from_file(&engine, build("rate-limiter")).unwrap();
    let mut linker = linker(&engine);
    filter::ContentFilter::add_to_linker::<Host, HasSelf<Host>>(&mut linker, |h| h).unwrap();

    // A handler before `init` is `internal`, with a message.
    let mut store = store(&engine);
    let f = filter::ContentFilter::instantiate(&mut store, &component, &linker).unwrap();
    let e = element(&mut store, b"x", "text/plain", 0, 0);
    let early = f
        .torvyn_filtering_filter()
        .call_evaluate(&mut store, &e)
        .unwrap();
    match early {
        Err(ProcessError::Internal(msg)) => assert!(msg.contains("before `init`"), "{msg}"),
        other => panic!("expected internal, got {other:?}"),
    }

    // A bad config is `invalid-input` naming the field, line and column.
    let bad = f
        .torvyn_streaming_lifecycle()
        .call_init(&mut store, r#"{"max_per_second": "x"}"#)
        .unwrap();
    match bad {
        Err(ProcessError::InvalidInput(msg)) => {
            assert!(
                msg.contains("field `max_per_second`") && msg.contains("line 1 column"),
                "{msg}"
            )
        }
        other => panic!("expected invalid-input, got {other:?}"),
    }

    f.torvyn_streaming_lifecycle()
        .call_init(&mut store, r#"{"max_per_second": 2, "window_ms": 100}"#)
        .unwrap()
        .unwrap();
    let mut decisions = Vec::new();
    for (seq, ms) in [1u64, 2, 3, 150].into_iter().enumerate() {
        let e = element(
            &mut store,
            b"payload",
            "text/plain",
            seq as u64,
            ms * 1_000_000,
        );
        decisions.push(
            f.torvyn_filtering_filter()
                .call_evaluate(&mut store, &e)
                .unwrap()
                .unwrap(),
        );
    }
    assert_eq!(decisions, [true, true, false, true]);
    assert_eq!(
        store.data().bytes_read,
        0,
        "a metadata-only filter copies no payload"
    );
    f.torvyn_streaming_lifecycle()
        .call_teardown(&mut store)
        .unwrap();
}

#[test]
fn json_enricher_allocates_the_exact_size_and_emits() {
    let engine = engine();
    let component = Component::from_file(&engine, build("json-enricher")).unwrap();
    let mut linker = linker(&engine);
    transform::ManagedTransform::add_to_linker::<Host, HasSelf<Host>>(&mut linker, |h| h).unwrap();
    let mut store = store(&engine);
    let t = transform::ManagedTransform::instantiate(&mut store, &component, &linker).unwrap();
    t.torvyn_streaming_lifecycle()
        .call_init(
            &mut store,
            r#"{"fields": {"region": "eu"}, "add_sequence": true, "add_trace_id": true}"#,
        )
        .unwrap()
        .unwrap();
    let input = br#"{"user":"ada"}"#;
    let e = element(&mut store, input, "application/json", 7, 0);
    let result = t
        .torvyn_streaming_processor()
        .call_process(&mut store, &e)
        .unwrap()
        .unwrap();
    let wit::ProcessResult::Emit(out) = result else {
        panic!("expected emit")
    };
    let payload = store.data().table.get(&out.payload).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&payload.bytes).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"user": "ada", "region": "eu", "sequence": 7,
                           "trace_id": "0af7651916cd43dd8448eb211c80319c"})
    );
    assert_eq!(payload.content_type, "application/json");
    assert_eq!(out.meta.content_type, "application/json");
    assert_eq!(out.meta.sequence, 7);
    assert_eq!(store.data().allocations, [payload.bytes.len() as u64]);
    assert_eq!(
        store.data().bytes_read,
        input.len() as u64,
        "the payload is read once"
    );

    // Invalid input is reported, not trapped.
    let e = element(&mut store, b"[1]", "application/json", 8, 0);
    let err = t
        .torvyn_streaming_processor()
        .call_process(&mut store, &e)
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(err, ProcessError::InvalidInput(ref m) if m.contains("an array")),
        "{err:?}"
    );
}

fn linker(engine: &Engine) -> Linker<Host> {
    let mut linker = Linker::<Host>::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    linker
}

fn text_of(store: &Store<Host>, out: &wit::OutputElement) -> String {
    String::from_utf8(store.data().table.get(&out.payload).unwrap().bytes.clone()).unwrap()
}

#[test]
fn content_router_fans_out_by_port_name() {
    let engine = engine();
    let component = Component::from_file(&engine, build("content-router")).unwrap();
    let mut linker = linker(&engine);
    router::ContentRouter::add_to_linker::<Host, HasSelf<Host>>(&mut linker, |h| h).unwrap();
    let mut store = store(&engine);
    let r = router::ContentRouter::instantiate(&mut store, &component, &linker).unwrap();
    r.torvyn_streaming_lifecycle()
        .call_init(&mut store, r#"{"audit": ["application/json"]}"#)
        .unwrap()
        .unwrap();
    let mut ports = Vec::new();
    for (body, ct) in [
        (&b"{}"[..], "application/json"),
        (b"hi", "text/plain"),
        (b"", "text/plain"),
    ] {
        let e = element(&mut store, body, ct, 0, 0);
        ports.push(
            r.torvyn_filtering_router()
                .call_route(&mut store, &e)
                .unwrap()
                .unwrap(),
        );
    }
    assert_eq!(ports, [vec!["json", "audit"], vec!["text"], vec![]]);
    assert_eq!(store.data().bytes_read, 0);
}

#[test]
fn window_counter_emits_on_ingest_and_flush() {
    let engine = engine();
    let component = Component::from_file(&engine, build("window-counter")).unwrap();
    let mut linker = linker(&engine);
    aggregator::StreamAggregator::add_to_linker::<Host, HasSelf<Host>>(&mut linker, |h| h).unwrap();
    let mut store = store(&engine);
    let a = aggregator::StreamAggregator::instantiate(&mut store, &component, &linker).unwrap();
    a.torvyn_streaming_lifecycle()
        .call_init(&mut store, r#"{"window": 2}"#)
        .unwrap()
        .unwrap();
    let mut emitted = Vec::new();
    for seq in 0..3 {
        let e = element(&mut store, b"x", "text/plain", seq, 0);
        let out = a
            .torvyn_aggregation_aggregator()
            .call_ingest(&mut store, &e)
            .unwrap()
            .unwrap();
        emitted.push(out.map(|o| text_of(&store, &o)));
    }
    assert_eq!(emitted[0], None);
    assert_eq!(
        emitted[1].as_deref(),
        Some(r#"{"window":0,"count":2,"by_content_type":{"text/plain":2}}"#)
    );
    assert_eq!(emitted[2], None);
    let rest = a
        .torvyn_aggregation_aggregator()
        .call_flush(&mut store)
        .unwrap()
        .unwrap();
    let rest: Vec<String> = rest.iter().map(|o| text_of(&store, o)).collect();
    assert_eq!(
        rest,
        [r#"{"window":1,"count":1,"by_content_type":{"text/plain":1}}"#]
    );
}

#[test]
fn line_source_pulls_until_none() {
    let engine = engine();
    let component = Component::from_file(&engine, build("line-source")).unwrap();
    let mut linker = linker(&engine);
    source::DataSource::add_to_linker::<Host, HasSelf<Host>>(&mut linker, |h| h).unwrap();
    let mut store = store(&engine);
    let s = source::DataSource::instantiate(&mut store, &component, &linker).unwrap();
    s.torvyn_streaming_lifecycle()
        .call_init(&mut store, r#"{"text": "a\n\nbc"}"#)
        .unwrap()
        .unwrap();
    s.torvyn_streaming_source()
        .call_notify_backpressure(&mut store, wit::BackpressureSignal::Pause)
        .unwrap();
    let mut lines = Vec::new();
    while let Some(out) = s
        .torvyn_streaming_source()
        .call_pull(&mut store)
        .unwrap()
        .unwrap()
    {
        assert_eq!(out.meta.content_type, "text/plain; charset=utf-8");
        lines.push(text_of(&store, &out));
    }
    assert_eq!(lines, ["a", "bc"]);
    assert_eq!(store.data().allocations, [1, 2]);
}

#[test]
fn counting_sink_pauses_every_n_and_completes() {
    let engine = engine();
    let component = Component::from_file(&engine, build("counting-sink")).unwrap();
    let mut linker = linker(&engine);
    sink::DataSink::add_to_linker::<Host, HasSelf<Host>>(&mut linker, |h| h).unwrap();
    let mut store = store(&engine);
    let k = sink::DataSink::instantiate(&mut store, &component, &linker).unwrap();
    k.torvyn_streaming_lifecycle()
        .call_init(&mut store, r#"{"pause_every": 2}"#)
        .unwrap()
        .unwrap();
    let mut signals = Vec::new();
    for seq in 0..4 {
        let e = element(&mut store, b"abc", "text/plain", seq, 0);
        signals.push(
            k.torvyn_streaming_sink()
                .call_push(&mut store, &e)
                .unwrap()
                .unwrap(),
        );
    }
    use wit::BackpressureSignal::{Pause, Ready};
    assert_eq!(signals, [Ready, Pause, Ready, Pause]);
    k.torvyn_streaming_sink()
        .call_complete(&mut store)
        .unwrap()
        .unwrap();
    assert_eq!(store.data().bytes_read, 0);
}
