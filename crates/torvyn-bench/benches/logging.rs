//! The cost of captured output: a source that logs two lines per element
//! (`sdk-source` with `"log": true`, about 70 bytes of stderr per element)
//! into a sink, through `torvyn_testkit::Pipeline`, at 10^4 and 10^5
//! elements. The time per element is (run - run with 0 elements) / elements,
//! the median of `RUNS` runs each; with captured output costing O(new bytes)
//! per call it is the same at both counts (the target: the 10^5 figure at most
//! 1.2 times the 10^4 one). The silent source is measured the same way for
//! comparison. Writes `<target>/torvyn-bench/logging.json`; `cargo xtask
//! bench` prints the ratio.

use std::time::{Duration, Instant};

use torvyn_bench::{build_stage, write_record};
use torvyn_testkit::{Component, Pipeline};

/// Element counts compared.
const COUNTS: [u64; 2] = [10_000, 100_000];
/// Runs per measurement (the median is used).
const RUNS: usize = 5;

fn component(name: &str) -> Component {
    let wasm = build_stage(name).unwrap_or_else(|err| panic!("building {name} failed:\n{err}"));
    Component::from_file(&wasm).unwrap_or_else(|err| panic!("{err}"))
}

/// One run's wall-clock time and the bytes the source wrote to stderr.
fn run(source: &Component, sink: &Component, count: u64, log: bool) -> (Duration, usize) {
    let config = format!(r#"{{"count": {count}, "size": 64, "log": {log}}}"#);
    let started = Instant::now();
    let result = Pipeline::new("logging")
        .component("source", source, &config)
        .component("sink", sink, "")
        .edge("source", "sink")
        .record(false)
        .run()
        .unwrap_or_else(|err| panic!("the logging flow failed: {err}"));
    let elapsed = started.elapsed();
    assert_eq!(result.node("sink").received, count);
    (elapsed, result.node("source").stderr.len())
}

fn median(source: &Component, sink: &Component, count: u64, log: bool) -> (Duration, usize) {
    let mut times = Vec::with_capacity(RUNS);
    let mut bytes = 0;
    for _ in 0..RUNS {
        let (time, written) = run(source, sink, count, log);
        times.push(time);
        bytes = written;
    }
    times.sort_unstable();
    (times[RUNS / 2], bytes)
}

fn main() {
    let source = component("sdk-source");
    let sink = component("sdk-sink");
    // Warm up: compile and touch everything once.
    run(&source, &sink, 1_000, true);
    let mut record = serde_json::Map::new();
    for log in [true, false] {
        let label = if log { "logging" } else { "silent" };
        let (empty, _) = median(&source, &sink, 0, log);
        let mut per_element = Vec::new();
        for count in COUNTS {
            let (time, bytes) = median(&source, &sink, count, log);
            let ns = time.saturating_sub(empty).as_nanos() as f64 / count as f64;
            println!(
                "logging/{label}-{count}: {ns:.0} ns per element ({:.3} s per run, {bytes} bytes of stderr)",
                time.as_secs_f64()
            );
            record.insert(format!("{label}_{count}_ns"), ns.into());
            record.insert(format!("{label}_{count}_stderr_bytes"), bytes.into());
            per_element.push(ns);
        }
        let ratio = per_element[1] / per_element[0];
        println!("logging/{label}: 10^5 / 10^4 per element = {ratio:.3}");
        record.insert(format!("{label}_ratio"), ratio.into());
    }
    write_record("logging.json", &record).unwrap_or_else(|err| panic!("{err:#}"));
}
