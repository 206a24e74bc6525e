//! `bench`: run a flow repeatedly and print throughput and latency.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use torvyn_testkit::{ErrorKind, RunLimit};

use crate::cli::GlobalOpts;
use crate::command_prelude::{FlowArgs, Format, parse_duration};
use crate::flow::{flow_label, load, pipeline_name, warn_teardown};
use crate::progress::Progress;

/// How many measurement rounds `bench` reports the spread of.
const ROUNDS: u64 = 5;

#[derive(Args)]
pub(crate) struct BenchArgs {
    #[command(flatten)]
    flow: FlowArgs,
    /// How long to run, e.g. `5s`, `500ms`.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    duration: Duration,
    /// Run the flow exactly N times instead of for `--duration`.
    #[arg(long, value_name = "N", conflicts_with = "duration",
          value_parser = clap::value_parser!(u64).range(1..))]
    iterations: Option<u64>,
    /// Run the flow this long first, unmeasured (caches, allocator, CPU
    /// clock), e.g. `1s`, `0s`.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    warmup: Duration,
    /// Write a self-contained HTML report of one more run of the flow,
    /// recorded after the measured ones, with the rates, to FILE.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

/// `bench`: warm up for `warmup`, then run the flow for `duration`, or
/// exactly `iterations` times, in [`ROUNDS`] rounds; report the throughput of
/// the whole measurement and the median and range of the rounds'.
pub(crate) fn exec(args: BenchArgs, global: &GlobalOpts) -> Result<(), String> {
    let BenchArgs {
        flow,
        duration,
        iterations,
        warmup,
        report,
    } = args;
    let args = &flow;
    let progress = Progress::new();
    let pipeline = load(args, &progress)?.record(false).measure_latency(true);
    let mut flow_name = None;
    // One run of the flow: its elements and latencies.
    let mut run_once = |latencies: &mut Vec<u64>| -> Result<u64, String> {
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
        flow_name.get_or_insert_with(|| result.flow.clone());
        latencies.extend(result.latencies_ns);
        Ok(result.elements)
    };

    // Warm-up: caches, the allocator, the CPU's clock; not measured.
    let warmup_started = Instant::now();
    let mut warmup_runs = 0u64;
    while warmup_started.elapsed() < warmup {
        progress.step(format!(
            "warming up flow{}: {warmup_runs} runs",
            flow_label(args)
        ));
        run_once(&mut Vec::new())?;
        warmup_runs += 1;
    }

    let rounds = iterations.map_or(ROUNDS, |iterations| iterations.min(ROUNDS));
    let mut latencies = Vec::new();
    let mut elements = 0u64;
    let mut runs = 0u64;
    let mut round_rates = Vec::new();
    let started = Instant::now();
    for round in 0..rounds {
        let round_started = Instant::now();
        let (mut round_runs, mut round_elements) = (0u64, 0u64);
        let more = |round_runs: u64| match iterations {
            // `iterations` spread over the rounds, the first ones one more.
            Some(iterations) => {
                round_runs < iterations / rounds + u64::from(round < iterations % rounds)
            }
            None => round_runs == 0 || round_started.elapsed() < duration / rounds as u32,
        };
        while more(round_runs) {
            progress.step(format!(
                "benchmarking flow{}: round {}/{rounds}, {runs} runs, {elements} elements",
                flow_label(args),
                round + 1
            ));
            let count = run_once(&mut latencies)?;
            round_elements += count;
            elements += count;
            round_runs += 1;
            runs += 1;
        }
        round_rates.push(round_elements as f64 / round_started.elapsed().as_secs_f64());
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
    round_rates.sort_by(f64::total_cmp);
    let median = round_rates
        .get(round_rates.len() / 2)
        .copied()
        .unwrap_or(0.0);
    let (min, max) = (
        round_rates.first().copied().unwrap_or(0.0),
        round_rates.last().copied().unwrap_or(0.0),
    );
    let profile = std::env::var("TORVYN_BUILD_PROFILE").unwrap_or_else(|_| "debug".into());
    let summary = serde_json::json!({
        "flow": flow_name.unwrap_or_else(|| pipeline_name(args)),
        "profile": profile,
        "warmup_seconds": warmup.as_secs_f64(),
        "warmup_runs": warmup_runs,
        "runs": runs,
        "elements": elements,
        "seconds": elapsed.as_secs_f64(),
        "elements_per_second": per_second,
        "rounds": round_rates.len(),
        "elements_per_second_median": median,
        "elements_per_second_min": min,
        "elements_per_second_max": max,
        "latency_ns": { "p50": percentile(50.0), "p90": percentile(90.0), "p99": percentile(99.0), "max": latencies.last().copied().unwrap_or(0) },
        "note": "each run instantiates and inits every component; latency is from entering the flow to delivery at a sink; rounds are measured after the warm-up",
    });
    if let Some(path) = &report {
        let notes = [format!(
            "bench: {runs} runs, {elements} elements in {:.2} s ({profile} builds): \
             {per_second:.0} elements/s (rounds: median {median:.0}, min {min:.0}, max {max:.0}); \
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
        crate::pictures::write_report(path, args, &result, failure.as_ref(), &notes)?;
    }
    match global.format {
        Format::Json => println!("{summary}"),
        Format::Text => {
            println!(
                "{runs} runs, {elements} elements in {:.2} s ({profile} builds, after a {:.1} s \
                 warm-up): {per_second:.0} elements/s",
                elapsed.as_secs_f64(),
                warmup.as_secs_f64()
            );
            println!(
                "rounds: median {median:.0} elements/s, min {min:.0}, max {max:.0} ({} rounds)",
                round_rates.len()
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
