//! Criterion benches of the reference host's pipeline throughput with real wasm
//! components (all built with the SDK and cargo's default `release` profile):
//!
//! - `pipeline-<size>/source-sink` and `pipeline-<size>/source-processor-sink`:
//!   one whole run of a `torvyn_testkit::Pipeline` per iteration
//!   (instantiate and `init` every node, pull the source to its end, `complete`
//!   and `teardown`), with `COUNT` elements of `<size>` bytes;
//! - `pipeline-<size>/<shape>-empty`: the same run with no element, so that
//!   `(run - empty) / COUNT` is the steady-state time per element;
//! - `pipeline-<size>/floor-<shape>`: the floor the host is compared with: the
//!   bare wasmtime calls one element needs (`pull`, `process`, `push`) on one
//!   store with a minimal host, with no scheduling, queues or accounting.
//!
//! After the criterion groups it compares each flow with its floor side by
//! side (interleaved rounds, see `interleaved`), runs each flow once more with
//! latency measurement on, counts the boundary crossings of each floor (a store call
//! hook), and writes the per-element latency percentiles (entering the flow to
//! delivery at the sink), the crossings per element and the element counts to
//! `<target>/torvyn-bench/pipeline.json`; `cargo xtask bench` prints the ratios.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use torvyn_bench::host;
use torvyn_bench::{Subject, build_stage, write_record};
use torvyn_testkit::{Component, Pipeline, RunResult};

/// Payload sizes and how many elements one measured run carries.
const SIZES: [(&str, usize, u64); 2] = [("64B", 64, 20_000), ("4KiB", 4096, 5_000)];

/// The two flow shapes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    SourceSink,
    SourceProcessorSink,
}

impl Shape {
    const ALL: [Shape; 2] = [Shape::SourceSink, Shape::SourceProcessorSink];

    fn name(self) -> &'static str {
        match self {
            Shape::SourceSink => "source-sink",
            Shape::SourceProcessorSink => "source-processor-sink",
        }
    }
}

/// The three stages, loaded once in the testkit's process-wide engine.
struct Stages {
    source: Component,
    processor: Component,
    sink: Component,
}

fn wasm(result: anyhow::Result<std::path::PathBuf>) -> std::path::PathBuf {
    result.unwrap_or_else(|err| panic!("building a bench stage failed:\n{err}"))
}

impl Stages {
    fn load() -> Self {
        let load = |path: std::path::PathBuf| {
            Component::from_file(&path).unwrap_or_else(|err| panic!("{err}"))
        };
        Self {
            source: load(wasm(build_stage("sdk-source"))),
            processor: load(wasm(Subject::SdkProcessor.build_release())),
            sink: load(wasm(build_stage("sdk-sink"))),
        }
    }

    /// One whole run of `shape` with `count` elements of `size` bytes; checks
    /// that every element reached the sink.
    fn run(&self, shape: Shape, count: u64, size: usize, latency: bool) -> RunResult {
        let config = format!(r#"{{"count": {count}, "size": {size}}}"#);
        let mut flow = Pipeline::new("bench").component("source", &self.source, &config);
        flow = match shape {
            Shape::SourceSink => flow.edge("source", "sink"),
            Shape::SourceProcessorSink => flow
                .component("upper", &self.processor, "")
                .edge("source", "upper")
                .edge("upper", "sink"),
        };
        let result = flow
            .component("sink", &self.sink, "")
            .record(false)
            .measure_latency(latency)
            .run()
            .unwrap_or_else(|err| panic!("the bench flow failed: {err}"));
        assert_eq!(
            result.node("sink").received,
            count,
            "the sink must receive every element"
        );
        result
    }
}

fn pipelines(c: &mut Criterion) {
    let stages = Stages::load();
    for (label, size, count) in SIZES {
        let mut group = c.benchmark_group(format!("pipeline-{label}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(5));
        for shape in Shape::ALL {
            group.throughput(Throughput::Elements(1));
            group.bench_function(format!("{}-empty", shape.name()), |b| {
                b.iter(|| stages.run(shape, 0, size, false))
            });
            group.throughput(Throughput::Elements(count));
            group.bench_function(shape.name(), |b| {
                b.iter(|| stages.run(shape, count, size, false))
            });
        }
        group.finish();
    }
}

/// The bare calls: a source, the processor and a sink instantiated in one
/// store of the minimal bench host, passing buffers by handle.
struct Floor(host::Stages);

impl Floor {
    /// The floor on wasmtime's default engine, or (`epochs`) with epoch
    /// interruption on, as the testkit's engine runs for its time limits.
    fn new(size: usize, epochs: bool) -> Self {
        let engine = if epochs {
            host::epoch_engine()
        } else {
            host::engine()
        };
        let engine = engine.expect("engine");
        let stages = host::Stages::new(
            &engine,
            &wasm(build_stage("sdk-source")),
            &wasm(Subject::SdkProcessor.build_release()),
            &wasm(build_stage("sdk-sink")),
            size,
        );
        Floor(stages.unwrap_or_else(|err| panic!("the floor's stages: {err:#}")))
    }

    /// One element through the shape's calls.
    fn one(&mut self, shape: Shape) {
        self.0
            .one(shape == Shape::SourceProcessorSink)
            .unwrap_or_else(|err| panic!("a floor element: {err:#}"));
    }
}

fn floors(c: &mut Criterion) {
    for (label, size, _) in SIZES {
        let mut group = c.benchmark_group(format!("pipeline-{label}"));
        group.throughput(Throughput::Elements(1));
        let mut floor = Floor::new(size, false);
        for shape in Shape::ALL {
            group.bench_function(format!("floor-{}", shape.name()), |b| {
                b.iter(|| floor.one(shape))
            });
        }
        group.finish();
    }
}

/// Boundary crossings per element of the floor of `shape`: calls into wasm
/// (exports, and the `cabi_realloc` and post-return calls wasmtime makes for
/// them) and calls into the host (the contract's imports, resource drops
/// included), counted by a store call hook over `ELEMENTS` elements.
fn crossings(size: usize, shape: Shape) -> (f64, f64) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use wasmtime::CallHook;
    const ELEMENTS: u64 = 1_000;
    let mut floor = Floor::new(size, false);
    floor.one(shape);
    let counts = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
    let hook_counts = Arc::clone(&counts);
    floor.0.store.call_hook(move |_, hook| {
        match hook {
            CallHook::CallingWasm => hook_counts[0].fetch_add(1, Ordering::Relaxed),
            CallHook::CallingHost => hook_counts[1].fetch_add(1, Ordering::Relaxed),
            CallHook::ReturningFromWasm | CallHook::ReturningFromHost => 0,
        };
        Ok(())
    });
    for _ in 0..ELEMENTS {
        floor.one(shape);
    }
    let per_element = |i: usize| counts[i].load(Ordering::Relaxed) as f64 / ELEMENTS as f64;
    (per_element(0), per_element(1))
}

/// The `q`-quantile (0..=1) of sorted nanoseconds.
fn quantile(sorted: &[u64], q: f64) -> u64 {
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index]
}

/// Rounds of the interleaved comparison of the host with its floor.
const ROUNDS: usize = 21;

/// The host's time per element over the floor's, measured side by side:
/// `ROUNDS` rounds, each timing a whole run of `count` elements, a run with
/// none (instantiation, `init` and teardown, subtracted) and `count` bare
/// floor elements back to back, alternating which goes first. Returns the
/// median host and floor nanoseconds per element and the quartiles
/// (25 %, 50 %, 75 %) of the per-round ratios.
fn interleaved(
    stages: &Stages,
    floor: &mut Floor,
    shape: Shape,
    count: u64,
    size: usize,
) -> (f64, f64, [f64; 3]) {
    use std::time::Instant;
    let host = |stages: &Stages| {
        let started = Instant::now();
        black_box(stages.run(shape, count, size, false));
        let run = started.elapsed();
        let started = Instant::now();
        black_box(stages.run(shape, 0, size, false));
        run.saturating_sub(started.elapsed()).as_nanos() as f64 / count as f64
    };
    let bare = |floor: &mut Floor| {
        let started = Instant::now();
        for _ in 0..count {
            floor.one(shape);
        }
        started.elapsed().as_nanos() as f64 / count as f64
    };
    // One round of each, unmeasured, to warm both up.
    host(stages);
    bare(floor);
    let (mut hosts, mut floors, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (h, f) = if round % 2 == 0 {
            let h = host(stages);
            (h, bare(floor))
        } else {
            let f = bare(floor);
            (host(stages), f)
        };
        hosts.push(h);
        floors.push(f);
        ratios.push(h / f);
    }
    // The `q`-quantile (0..=1) of the values.
    let at = |values: &mut Vec<f64>, q: f64| {
        values.sort_by(f64::total_cmp);
        values[((values.len() - 1) as f64 * q).round() as usize]
    };
    let quartiles = [
        at(&mut ratios, 0.25),
        at(&mut ratios, 0.5),
        at(&mut ratios, 0.75),
    ];
    (at(&mut hosts, 0.5), at(&mut floors, 0.5), quartiles)
}

fn latencies(_: &mut Criterion) {
    let stages = Stages::load();
    let mut record = serde_json::Map::new();
    for (label, size, count) in SIZES {
        let mut by_shape = serde_json::Map::new();
        by_shape.insert("elements".into(), count.into());
        let mut floor = Floor::new(size, false);
        let mut epoch_floor = Floor::new(size, true);
        for shape in Shape::ALL {
            let (host_ns, floor_ns, ratio) = interleaved(&stages, &mut floor, shape, count, size);
            println!(
                "pipeline-{label}/{}: interleaved over {ROUNDS} rounds: host {host_ns:.0} ns, \
                 floor {floor_ns:.0} ns per element; host / floor median {:.3} \
                 (quartiles {:.3}-{:.3})",
                shape.name(),
                ratio[1],
                ratio[0],
                ratio[2]
            );
            // The same against a floor that pays for epoch interruption too:
            // what the host's own work adds beyond the engine's time checks.
            let (_, epoch_floor_ns, epoch_ratio) =
                interleaved(&stages, &mut epoch_floor, shape, count, size);
            println!(
                "pipeline-{label}/{}: interleaved over {ROUNDS} rounds: floor with epoch \
                 interruption {epoch_floor_ns:.0} ns per element; host / that floor median {:.3} \
                 (quartiles {:.3}-{:.3})",
                shape.name(),
                epoch_ratio[1],
                epoch_ratio[0],
                epoch_ratio[2]
            );
            let mut latencies = stages.run(shape, count, size, true).latencies_ns;
            assert_eq!(latencies.len() as u64, count, "one latency per element");
            latencies.sort_unstable();
            let (p50, p99) = (quantile(&latencies, 0.50), quantile(&latencies, 0.99));
            println!(
                "pipeline-{label}/{}: latency p50 {p50} ns, p99 {p99} ns; \
                 p50 / floor per element {:.2}",
                shape.name(),
                p50 as f64 / floor_ns
            );
            let (into_wasm, into_host) = crossings(size, shape);
            println!(
                "pipeline-{label}/floor-{}: {into_wasm} calls into wasm and {into_host} into the host per element",
                shape.name()
            );
            by_shape.insert(
                shape.name().into(),
                serde_json::json!({
                    "latency_p50_ns": p50,
                    "latency_p99_ns": p99,
                    "floor_calls_into_wasm": into_wasm,
                    "floor_calls_into_host": into_host,
                    "interleaved_host_ns": host_ns,
                    "interleaved_floor_ns": floor_ns,
                    "interleaved_ratio": ratio[1],
                    "interleaved_ratio_quartiles": [ratio[0], ratio[2]],
                    "epoch_floor_ns": epoch_floor_ns,
                    "epoch_floor_ratio": epoch_ratio[1],
                    "epoch_floor_ratio_quartiles": [epoch_ratio[0], epoch_ratio[2]],
                }),
            );
        }
        record.insert(label.into(), by_shape.into());
    }
    write_record("pipeline.json", &record).unwrap_or_else(|err| panic!("{err:#}"));
}

criterion_group!(benches, pipelines, floors, latencies);
criterion_main!(benches);
