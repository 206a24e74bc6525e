//! `bench`: run a flow repeatedly and print throughput and latency.

use std::time::{Duration, Instant};

use torvyn_testkit::ErrorKind;
use torvyn_testkit::pipeline::RunLimit;

use crate::args::{FlowArgs, Format};
use crate::flow::{flow_label, load, pipeline_name, warn_teardown};
use crate::progress::Progress;

/// `bench`: run the flow for `duration`, or exactly `iterations` times.
pub(crate) fn bench(
    args: &FlowArgs,
    duration: Duration,
    iterations: Option<u64>,
    report: Option<&std::path::Path>,
) -> Result<(), String> {
    let progress = Progress::new();
    let pipeline = load(args, &progress)?.record(false).measure_latency(true);
    let mut latencies = Vec::new();
    let mut elements = 0u64;
    let mut runs = 0u64;
    let started = Instant::now();
    let more = |runs: u64| match iterations {
        Some(iterations) => runs < iterations,
        None => runs == 0 || started.elapsed() < duration,
    };
    while more(runs) {
        progress.step(format!(
            "benchmarking flow{}: {runs} runs, {elements} elements",
            flow_label(args)
        ));
        // A run stopped by the limits the command line set is a measurement too.
        let result = match pipeline.clone().run() {
            Ok(result) => result,
            Err(err)
                if matches!(
                    err.error.kind(),
                    ErrorKind::Stopped {
                        limit: RunLimit::Elements(_) | RunLimit::WallTime(_)
                    }
                ) =>
            {
                *err.report
            }
            Err(err) => {
                progress.clear();
                return Err(err.to_string());
            }
        };
        warn_teardown(&result);
        elements += result.elements;
        latencies.extend(result.latencies_ns);
        runs += 1;
    }
    let elapsed = started.elapsed();
    progress.clear();
    latencies.sort_unstable();
    let percentile = |p: f64| -> u64 {
        if latencies.is_empty() {
            return 0;
        }
        let rank = ((p / 100.0) * (latencies.len() - 1) as f64).round() as usize;
        latencies[rank.min(latencies.len() - 1)]
    };
    let per_second = elements as f64 / elapsed.as_secs_f64();
    let summary = serde_json::json!({
        "flow": pipeline_name(args),
        "runs": runs,
        "elements": elements,
        "seconds": elapsed.as_secs_f64(),
        "elements_per_second": per_second,
        "latency_ns": { "p50": percentile(50.0), "p90": percentile(90.0), "p99": percentile(99.0), "max": latencies.last().copied().unwrap_or(0) },
        "note": "each run instantiates and inits every component; latency is from entering the flow to delivery at a sink",
    });
    if let Some(path) = report {
        let notes = [format!(
            "bench: {runs} runs, {elements} elements in {:.2} s: {per_second:.0} elements/s; \
             latency p50 {} µs, p99 {} µs; the report shows one more run, recorded after them",
            elapsed.as_secs_f64(),
            percentile(50.0) / 1000,
            percentile(99.0) / 1000
        )];
        let (result, failure) = match pipeline.clone().record_timeline(true).run() {
            Ok(result) => (result, None),
            Err(err) => {
                let failure = torvyn_testkit::picture::Failure::from(&err);
                (*err.report, Some(failure))
            }
        };
        let flow = args.flow();
        crate::pictures::write_report(
            path,
            &args.manifest,
            flow.as_deref(),
            &result,
            failure.as_ref(),
            &notes,
        )?;
    }
    match args.format {
        Format::Json => println!("{summary}"),
        Format::Text => {
            println!(
                "{runs} runs, {elements} elements in {:.2} s: {per_second:.0} elements/s",
                elapsed.as_secs_f64()
            );
            println!(
                "latency (enter flow -> sink): p50 {} µs, p90 {} µs, p99 {} µs, max {} µs",
                percentile(50.0) / 1000,
                percentile(90.0) / 1000,
                percentile(99.0) / 1000,
                latencies.last().copied().unwrap_or(0) / 1000
            );
        }
    }
    Ok(())
}
