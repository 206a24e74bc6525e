//! Criterion benches: per-element time of the same filter and processor built
//! with the SDK's macros and with raw wit-bindgen, called through wasmtime in a
//! tight loop, and instantiation time per component (`InstancePre`, then a fresh
//! `Store` and `instantiate` per iteration).
//!
//! Every subject is built with cargo's default `release` profile. Results go to
//! `target/criterion/<group>/<subject>/new/estimates.json`; `cargo xtask bench`
//! prints the ratios.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use torvyn_bench::Subject;
use torvyn_bench::host::{self, filter::ContentFilterPre, transform::ManagedTransformPre};
use wasmtime::Engine;
use wasmtime::component::Component;

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

fn filters(c: &mut Criterion) {
    let engine = host::engine().expect("engine");
    let linker = host::filter_linker(&engine).expect("linker");
    let mut group = c.benchmark_group("filter");
    for subject in [Subject::SdkFilter, Subject::RawFilter] {
        let component = load(&engine, subject);
        let pre = ContentFilterPre::new(linker.instantiate_pre(&component).expect("pre"))
            .expect("content-filter exports");
        let mut store = host::store(&engine);
        let filter = pre.instantiate(&mut store).expect("instantiate");
        filter
            .torvyn_streaming_lifecycle()
            .call_init(&mut store, "")
            .expect("init call")
            .expect("init");
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
            .map(|subject| {
                let component = load(&engine, subject);
                let pre = linker.instantiate_pre(&component).expect("pre");
                (
                    subject,
                    ManagedTransformPre::new(pre).expect("managed-transform exports"),
                )
            })
            .collect();
    for (label, size) in [("processor-64B", 64), ("processor-4KiB", 4096)] {
        let payload: Vec<u8> = (0..size).map(|i| b"abcdefghij-KLMN "[i % 16]).collect();
        let expected = payload.to_ascii_uppercase();
        let mut group = c.benchmark_group(label);
        for (subject, pre) in &pres {
            let mut store = host::store(&engine);
            let processor = pre.instantiate(&mut store).expect("instantiate");
            processor
                .torvyn_streaming_lifecycle()
                .call_init(&mut store, "")
                .expect("init call")
                .expect("init");
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
    targets = filters, processors, instantiation
}
criterion_main!(benches);
