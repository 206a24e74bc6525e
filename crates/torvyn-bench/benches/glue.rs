//! Criterion benches: per-element time of the same filter and processor built
//! with the SDK's macros and with raw wit-bindgen, called through wasmtime in a
//! tight loop, and instantiation time per component (`InstancePre`, then a fresh
//! `Store` and `instantiate` per iteration).
//!
//! After the criterion groups of the calls, `interleaved` measures the same
//! pairs again in alternating batches (A/B rounds) and writes the median
//! per-round ratio to `<target>/torvyn-bench/glue.json`: on a shared VM the
//! drift between two criterion groups measured one after the other is of the
//! same order as the 3 % target.
//!
//! Every subject is built with cargo's default `release` profile. Results go to
//! `target/criterion/<group>/<subject>/new/estimates.json`; `cargo xtask bench`
//! prints the ratios.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use torvyn_bench::Subject;
use torvyn_bench::host::{
    self,
    filter::{ContentFilter, ContentFilterPre},
    transform::{ManagedTransform, ManagedTransformPre},
};
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store};

/// The filter's element: 16 bytes, so it passes.
const FILTER_PAYLOAD: &[u8] = b"0123456789abcdef";

fn load(engine: &Engine, subject: Subject) -> Component {
    let wasm = subject
        .build_release()
        .unwrap_or_else(|err| panic!("building {}: {err}", subject.name()));
    Component::from_file(engine, &wasm)
        .unwrap_or_else(|err| panic!("loading {}: {err:?}", wasm.display()))
}

fn side(subject: Subject) -> &'static str {
    match subject {
        Subject::SdkFilter | Subject::SdkProcessor => "sdk",
        Subject::RawFilter | Subject::RawProcessor => "raw",
    }
}

/// The `InstancePre` of a filter subject.
fn filter_pre(
    engine: &Engine,
    linker: &Linker<host::Host>,
    subject: Subject,
) -> ContentFilterPre<host::Host> {
    ContentFilterPre::new(linker.instantiate_pre(&load(engine, subject)).expect("pre"))
        .expect("content-filter exports")
}

/// The `InstancePre` of a processor subject.
fn processor_pre(
    engine: &Engine,
    linker: &Linker<host::Host>,
    subject: Subject,
) -> ManagedTransformPre<host::Host> {
    ManagedTransformPre::new(linker.instantiate_pre(&load(engine, subject)).expect("pre"))
        .expect("managed-transform exports")
}

/// A fresh store with the filter instantiated and initialised (empty config).
fn ready_filter(
    engine: &Engine,
    pre: &ContentFilterPre<host::Host>,
) -> (Store<host::Host>, ContentFilter) {
    let mut store = host::store(engine);
    let filter = pre.instantiate(&mut store).expect("instantiate");
    filter
        .torvyn_streaming_lifecycle()
        .call_init(&mut store, "")
        .expect("init call")
        .expect("init");
    (store, filter)
}

/// A fresh store with the processor instantiated and initialised (empty config).
fn ready_processor(
    engine: &Engine,
    pre: &ManagedTransformPre<host::Host>,
) -> (Store<host::Host>, ManagedTransform) {
    let mut store = host::store(engine);
    let processor = pre.instantiate(&mut store).expect("instantiate");
    processor
        .torvyn_streaming_lifecycle()
        .call_init(&mut store, "")
        .expect("init call")
        .expect("init");
    (store, processor)
}

/// The processors' `size`-byte payload (mixed case, so upper-casing changes it).
fn processor_payload(size: usize) -> Vec<u8> {
    (0..size).map(|i| b"abcdefghij-KLMN "[i % 16]).collect()
}

fn filters(c: &mut Criterion) {
    let engine = host::engine().expect("engine");
    let linker = host::filter_linker(&engine).expect("linker");
    let mut group = c.benchmark_group("filter");
    for subject in [Subject::SdkFilter, Subject::RawFilter] {
        let (mut store, filter) = ready_filter(&engine, &filter_pre(&engine, &linker, subject));
        let short = host::element(&mut store, b"abc", "text/plain").expect("element");
        let element = host::element(&mut store, FILTER_PAYLOAD, "text/plain").expect("element");
        let evaluate = filter.torvyn_filtering_filter();
        // The subjects must agree before they are compared.
        assert!(!evaluate.call_evaluate(&mut store, &short).unwrap().unwrap());
        assert!(
            evaluate
                .call_evaluate(&mut store, &element)
                .unwrap()
                .unwrap()
        );
        group.bench_function(side(subject), |b| {
            b.iter(|| {
                evaluate
                    .call_evaluate(&mut store, black_box(&element))
                    .expect("evaluate call")
                    .expect("evaluate")
            })
        });
    }
    group.finish();
}

fn processors(c: &mut Criterion) {
    use host::transform::torvyn::streaming::types::ProcessResult;
    let engine = host::engine().expect("engine");
    let linker = host::transform_linker(&engine).expect("linker");
    let pres: Vec<(Subject, ManagedTransformPre<host::Host>)> =
        [Subject::SdkProcessor, Subject::RawProcessor]
            .into_iter()
            .map(|subject| (subject, processor_pre(&engine, &linker, subject)))
            .collect();
    for (label, size) in [("processor-64B", 64), ("processor-4KiB", 4096)] {
        let payload = processor_payload(size);
        let expected = payload.to_ascii_uppercase();
        let mut group = c.benchmark_group(label);
        for (subject, pre) in &pres {
            let (mut store, processor) = ready_processor(&engine, pre);
            let element = host::element(&mut store, &payload, "text/plain").expect("element");
            let process = processor.torvyn_streaming_processor();
            let run = |store: &mut wasmtime::Store<host::Host>| match process
                .call_process(&mut *store, &element)
            {
                Ok(Ok(ProcessResult::Emit(out))) => {
                    let meta = out.meta.clone();
                    (meta, host::take_output(store, out).expect("output buffer"))
                }
                other => panic!("expected emit, got {other:?}"),
            };
            let (meta, bytes) = run(&mut store);
            assert_eq!(bytes, expected, "{}", subject.name());
            assert_eq!(
                (meta.sequence, meta.timestamp_ns, meta.content_type.as_str()),
                (7, 1_000, "text/plain"),
                "{}",
                subject.name()
            );
            group.bench_function(side(*subject), |b| b.iter(|| black_box(run(&mut store))));
        }
        group.finish();
    }
}

/// Interleaved A/B rounds: each round times `BATCH` calls of the SDK subject
/// and `BATCH` calls of the raw one back to back (alternating which goes
/// first), so that the machine's drift over a run (a shared VM's neighbours,
/// frequency) hits both alike. The ratio is the median of the per-round
/// ratios; it goes to `<target>/torvyn-bench/glue.json` for `cargo xtask bench`.
const ROUNDS: usize = 41;
const BATCH: u32 = 20_000;

/// Nanoseconds per call of `BATCH` calls of `call`.
fn batch_ns(call: &mut dyn FnMut()) -> f64 {
    let start = std::time::Instant::now();
    for _ in 0..BATCH {
        call();
    }
    start.elapsed().as_nanos() as f64 / f64::from(BATCH)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Runs the rounds for one pair and returns its JSON record.
fn ab_rounds(label: &str, sdk: &mut dyn FnMut(), raw: &mut dyn FnMut()) -> serde_json::Value {
    // Warm both up (code, caches, allocator) before the first round.
    batch_ns(sdk);
    batch_ns(raw);
    let (mut sdk_ns, mut raw_ns, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (a, b) = if round % 2 == 0 {
            let a = batch_ns(sdk);
            (a, batch_ns(raw))
        } else {
            let b = batch_ns(raw);
            (batch_ns(sdk), b)
        };
        sdk_ns.push(a);
        raw_ns.push(b);
        ratios.push(a / b);
    }
    let (lo, hi) = {
        let mut sorted = ratios.clone();
        sorted.sort_by(f64::total_cmp);
        (sorted[ROUNDS / 4], sorted[ROUNDS * 3 / 4])
    };
    let record = serde_json::json!({
        "rounds": ROUNDS,
        "calls_per_round": BATCH,
        "sdk_ns": median(sdk_ns),
        "raw_ns": median(raw_ns),
        "ratio": median(ratios),
        "ratio_q1": lo,
        "ratio_q3": hi,
    });
    println!("{label} (interleaved A/B): {record}");
    record
}

/// A ready-to-call filter subject.
fn filter_caller(engine: &Engine, pre: &ContentFilterPre<host::Host>) -> impl FnMut() + use<> {
    let (mut store, filter) = ready_filter(engine, pre);
    let element = host::element(&mut store, FILTER_PAYLOAD, "text/plain").expect("element");
    move || {
        let passed = filter
            .torvyn_filtering_filter()
            .call_evaluate(&mut store, black_box(&element))
            .expect("evaluate call")
            .expect("evaluate");
        assert!(passed);
    }
}

/// A ready-to-call processor subject with a `size`-byte payload.
fn processor_caller(
    engine: &Engine,
    pre: &ManagedTransformPre<host::Host>,
    size: usize,
) -> impl FnMut() + use<> {
    use host::transform::torvyn::streaming::types::ProcessResult;
    let (mut store, processor) = ready_processor(engine, pre);
    let element =
        host::element(&mut store, &processor_payload(size), "text/plain").expect("element");
    move || match processor
        .torvyn_streaming_processor()
        .call_process(&mut store, black_box(&element))
    {
        Ok(Ok(ProcessResult::Emit(out))) => {
            black_box(host::take_output(&mut store, out).expect("output buffer"));
        }
        other => panic!("expected emit, got {other:?}"),
    }
}

fn interleaved(_: &mut Criterion) {
    let engine = host::engine().expect("engine");
    let mut record = serde_json::Map::new();

    let linker = host::filter_linker(&engine).expect("linker");
    let sdk = filter_pre(&engine, &linker, Subject::SdkFilter);
    let raw = filter_pre(&engine, &linker, Subject::RawFilter);
    record.insert(
        "filter".into(),
        ab_rounds(
            "filter",
            &mut filter_caller(&engine, &sdk),
            &mut filter_caller(&engine, &raw),
        ),
    );

    let linker = host::transform_linker(&engine).expect("linker");
    let sdk = processor_pre(&engine, &linker, Subject::SdkProcessor);
    let raw = processor_pre(&engine, &linker, Subject::RawProcessor);
    for (label, size) in [("processor-64B", 64), ("processor-4KiB", 4096)] {
        record.insert(
            label.into(),
            ab_rounds(
                label,
                &mut processor_caller(&engine, &sdk, size),
                &mut processor_caller(&engine, &raw, size),
            ),
        );
    }

    torvyn_bench::write_record("glue.json", &record).unwrap_or_else(|err| panic!("{err:#}"));
}

fn instantiation(c: &mut Criterion) {
    instantiate_with(c, "instantiate", host::engine().expect("engine"));
    match host::pooling_engine() {
        Ok(engine) => instantiate_with(c, "instantiate-pooling", engine),
        Err(err) => eprintln!("skipping instantiate-pooling: {err:?}"),
    }
}

/// Instantiation of every subject on `engine`, plus `store-only`: a fresh
/// `Store` with its `Host` (resource table, WASI context), dropped, with no
/// instance (the part of the time that is not the component's).
fn instantiate_with(c: &mut Criterion, name: &str, engine: Engine) {
    let filter_linker = host::filter_linker(&engine).expect("linker");
    let transform_linker = host::transform_linker(&engine).expect("linker");
    let mut group = c.benchmark_group(name);
    group.bench_function("store-only", |b| {
        b.iter(|| drop(black_box(host::store(&engine))))
    });
    for subject in Subject::ALL {
        let component = load(&engine, subject);
        let linker = match subject {
            Subject::SdkFilter | Subject::RawFilter => &filter_linker,
            Subject::SdkProcessor | Subject::RawProcessor => &transform_linker,
        };
        let pre = linker.instantiate_pre(&component).expect("pre");
        group.bench_function(subject.name(), |b| {
            b.iter(|| {
                let mut store = host::store(&engine);
                let instance = pre.instantiate(&mut store).expect("instantiate");
                black_box(instance);
                // Dropping the store (and the instance's memory) is timed too.
                drop(store);
            })
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = filters, processors, interleaved, instantiation
}
criterion_main!(benches);
