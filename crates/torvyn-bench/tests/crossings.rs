//! Boundary crossings per element per role (issue 13 part 2): the SDK's bench
//! components (`components/sdk-*`) against their hand-written wit-bindgen twins
//! (`components/raw-*`), each role counted on its own by a store call hook on
//! the minimal host (`torvyn_bench::host`), as in the pipeline bench's floor.
//!
//! A crossing is a call into wasm (an export, and the `cabi_realloc` and
//! post-return calls wasmtime makes for it) or a call into the host (the
//! contract's imports and the resource drops the canonical ABI requires).
//!
//! Run with `cargo test -p torvyn-bench --release --test crossings -- --nocapture`
//! to see the table (BENCHMARKS.md, "Boundary crossings per element").

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use torvyn_bench::host::{self, Host, filter::ContentFilterPre};
use torvyn_bench::{Subject, build_stage};
use wasmtime::{CallHook, Store};

use host::transform::torvyn::streaming::types::{BackpressureSignal, ProcessResult};

/// Elements counted per run (after one warm-up element).
const ELEMENTS: u64 = 200;
/// Payload size of the source's elements.
const SIZE: usize = 64;

/// Calls into wasm and into the host since the last [`Counter::take`].
#[derive(Clone, Default)]
struct Counter(Arc<[AtomicU64; 2]>);

impl Counter {
    fn install(&self, store: &mut Store<Host>) {
        let counts = self.clone();
        store.call_hook(move |_, hook| {
            match hook {
                CallHook::CallingWasm => counts.0[0].fetch_add(1, Ordering::Relaxed),
                CallHook::CallingHost => counts.0[1].fetch_add(1, Ordering::Relaxed),
                CallHook::ReturningFromWasm | CallHook::ReturningFromHost => 0,
            };
            Ok(())
        });
    }

    fn take(&self) -> [u64; 2] {
        [
            self.0[0].swap(0, Ordering::Relaxed),
            self.0[1].swap(0, Ordering::Relaxed),
        ]
    }
}

/// Crossings per element of one role: into wasm, into the host.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct PerElement {
    into_wasm: f64,
    into_host: f64,
}

impl PerElement {
    fn total(self) -> f64 {
        self.into_wasm + self.into_host
    }

    fn add(&mut self, counts: [u64; 2]) {
        self.into_wasm += counts[0] as f64 / ELEMENTS as f64;
        self.into_host += counts[1] as f64 / ELEMENTS as f64;
    }
}

/// Per-role counts of one source -> processor -> sink flow, and of a filter.
#[derive(Debug, Default)]
struct Roles {
    source: PerElement,
    processor: PerElement,
    sink: PerElement,
    filter: PerElement,
}

fn wasm(result: anyhow::Result<std::path::PathBuf>) -> std::path::PathBuf {
    result.unwrap_or_else(|err| panic!("building a bench component failed:\n{err}"))
}

/// Counts each role of `source` -> `processor` -> `sink` and of `filter`
/// (component paths), over [`ELEMENTS`] elements of [`SIZE`] bytes.
fn count(
    source: std::path::PathBuf,
    processor: std::path::PathBuf,
    sink: std::path::PathBuf,
    filter: std::path::PathBuf,
) -> Roles {
    let engine = host::engine().expect("engine");
    let mut stages = host::Stages::new(&engine, &source, &processor, &sink, SIZE)
        .unwrap_or_else(|err| panic!("instantiating the stages: {err:#}"));
    let filter = host::load(&engine, &filter).unwrap_or_else(|err| panic!("{err:#}"));
    let filter = ContentFilterPre::new(
        host::filter_linker(&engine)
            .expect("filter linker")
            .instantiate_pre(&filter)
            .expect("pre"),
    )
    .expect("content-filter exports")
    .instantiate(&mut stages.store)
    .expect("instantiate the filter");
    filter
        .torvyn_streaming_lifecycle()
        .call_init(&mut stages.store, "")
        .expect("init call")
        .expect("filter init");
    let counter = Counter::default();
    counter.install(&mut stages.store);
    let mut roles = Roles::default();
    for i in 0..=ELEMENTS {
        counter.take();
        let pulled = stages
            .source
            .torvyn_streaming_source()
            .call_pull(&mut stages.store)
            .expect("pull call")
            .expect("pull")
            .expect("the source never ends");
        let source_counts = counter.take();
        let element = stages.lend(&pulled);
        let passed = filter
            .torvyn_filtering_filter()
            .call_evaluate(&mut stages.store, &element)
            .expect("evaluate call")
            .expect("evaluate");
        assert!(passed, "64-byte payloads pass the filter");
        let filter_counts = counter.take();
        let result = stages
            .processor
            .torvyn_streaming_processor()
            .call_process(&mut stages.store, &element)
            .expect("process call")
            .expect("process");
        let processor_counts = counter.take();
        let ProcessResult::Emit(out) = result else {
            panic!("the processor emits every element")
        };
        assert_eq!(out.meta.content_type, "application/octet-stream");
        let element = stages.lend(&out);
        let signal = stages
            .sink
            .torvyn_streaming_sink()
            .call_push(&mut stages.store, &element)
            .expect("push call")
            .expect("push");
        assert!(matches!(signal, BackpressureSignal::Ready));
        let sink_counts = counter.take();
        let table = &mut stages.store.data_mut().table;
        let emitted = table.delete(out.payload).expect("a live buffer");
        assert_eq!(emitted.bytes, vec![b'A'; SIZE], "the processor upper-cases");
        table.delete(pulled.payload).expect("a live buffer");
        if i > 0 {
            roles.source.add(source_counts);
            roles.filter.add(filter_counts);
            roles.processor.add(processor_counts);
            roles.sink.add(sink_counts);
        }
    }
    roles
}

fn row(role: &str, sdk: PerElement, raw: PerElement) -> String {
    format!(
        "| {role} | {:.2} + {:.2} = {:.2} | {:.2} + {:.2} = {:.2} |",
        sdk.into_wasm,
        sdk.into_host,
        sdk.total(),
        raw.into_wasm,
        raw.into_host,
        raw.total()
    )
}

#[test]
fn the_sdk_crosses_the_boundary_less_than_hand_written_code() {
    let sdk = count(
        wasm(build_stage("sdk-source")),
        wasm(Subject::SdkProcessor.build_release()),
        wasm(build_stage("sdk-sink")),
        wasm(Subject::SdkFilter.build_release()),
    );
    let raw = count(
        wasm(build_stage("raw-source")),
        wasm(Subject::RawProcessor.build_release()),
        wasm(build_stage("raw-sink")),
        wasm(Subject::RawFilter.build_release()),
    );
    let flow = |r: &Roles| r.source.total() + r.processor.total() + r.sink.total();
    println!("| role | SDK (into wasm + into host) | raw wit-bindgen |");
    println!("| --- | --- | --- |");
    println!("{}", row("source (`pull`)", sdk.source, raw.source));
    println!(
        "{}",
        row("processor (`process`)", sdk.processor, raw.processor)
    );
    println!("{}", row("sink (`push`)", sdk.sink, raw.sink));
    println!("{}", row("filter (`evaluate`)", sdk.filter, raw.filter));
    println!(
        "| source -> processor -> sink | {:.2} | {:.2} |",
        flow(&sdk),
        flow(&raw)
    );
    for (role, s, r) in [
        ("source", sdk.source, raw.source),
        ("processor", sdk.processor, raw.processor),
        ("sink", sdk.sink, raw.sink),
        ("filter", sdk.filter, raw.filter),
    ] {
        assert!(
            s.total() <= r.total(),
            "the SDK's {role} crosses more than its raw twin: {s:?} vs {r:?}"
        );
    }
    // Not fewer: the one call the SDK could leave out (`set-content-type` on
    // a fresh buffer whose metadata names the type) is observable on upstream
    // Torvyn, where `buffer.content-type()` answers only what was set
    // (BENCHMARKS.md, "Boundary crossings per element").
    assert!(
        flow(&sdk) <= flow(&raw),
        "source -> processor -> sink: SDK {} crossings per element, raw {}",
        flow(&sdk),
        flow(&raw)
    );
}
