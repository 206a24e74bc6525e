//! `bench`: run a flow repeatedly and print throughput and latency; save a
//! named baseline, compare with one, write a report, profile the nodes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use torvyn_testkit::picture::Profiler;
use torvyn_testkit::{ErrorKind, Pipeline, RunLimit, RunResult};

use crate::bench_report::{self, Latency, Measurement, ReportFormat, Spread};
use crate::cli::GlobalOpts;
use crate::command_prelude::{FlowArgs, Format, parse_duration};
use crate::flow::{flow_label, load, pipeline_name, warn_teardown};
use crate::interrupt;
use crate::progress::Progress;

/// How many measurement rounds `bench` reports the spread of.
const ROUNDS: u64 = 5;

#[derive(Args)]
pub(crate) struct BenchArgs {
    #[command(flatten)]
    flow: FlowArgs,
    /// How long to measure, e.g. `10s`, `500ms`.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Run the flow exactly N times instead of for `--duration`.
    #[arg(long, value_name = "N", conflicts_with = "duration",
          value_parser = clap::value_parser!(u64).range(1..))]
    iterations: Option<u64>,
    /// Run the flow this long first, unmeasured (caches, allocator, CPU
    /// clock), e.g. `2s`, `0s`.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    warmup: Duration,
    /// Write a report to FILE, in `--report-format` (`html`: of one more
    /// run of the flow, recorded after the measured ones).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// The report's format: `pretty` (the text bench prints), `json`, `csv`,
    /// `markdown` or `html`. Default: `html` when the `--report` file ends
    /// in `.html`, else `pretty`. Without `--report`, the report is printed
    /// on stdout instead of the usual output.
    #[arg(long, value_name = "FORMAT", value_enum)]
    report_format: Option<ReportFormat>,
    /// Save this measurement as baseline NAME, in `.torvyn/bench/NAME.json`
    /// next to the manifest (replacing one of that name).
    #[arg(long, value_name = "NAME")]
    baseline: Option<String>,
    /// Compare with a saved baseline (its NAME, or the path of a baseline
    /// file): the total and each node, the change in percent, and a verdict
    /// (faster or slower only when every round of one run beat every round
    /// of the other, else within noise).
    #[arg(long, value_name = "NAME|PATH")]
    compare: Option<String>,
    /// After measuring, run the flow again (for `--duration`, or
    /// `--iterations` times) with each node's wasm stack sampled every
    /// 10 ms, and write one `<node>.json` per node into DIR: guest profiles
    /// in the Firefox profiler's format (open them at profiler.firefox.com).
    #[arg(long, value_name = "DIR")]
    profile: Option<PathBuf>,
}

/// `bench`: warm up for `warmup`, then run the flow for `duration`, or
/// exactly `iterations` times, in [`ROUNDS`] rounds; report the throughput of
/// the whole measurement, the median and range of the rounds', and each
/// node's time per element; then compare, save, report and profile as asked.
pub(crate) fn exec(args: BenchArgs, global: &GlobalOpts) -> Result<(), String> {
    let BenchArgs {
        flow,
        duration,
        iterations,
        warmup,
        report,
        report_format,
        baseline,
        compare,
        profile: profile_dir,
    } = args;
    let args = &flow;
    let report_format = report_format.unwrap_or(match &report {
        Some(path)
            if path
                .extension()
                .is_some_and(|ext| ext.eq_ignore_ascii_case("html")) =>
        {
            ReportFormat::Html
        }
        _ => ReportFormat::Pretty,
    });
    if report.is_none() && report_format == ReportFormat::Html {
        return Err("--report-format html needs a file: add `--report report.html`".into());
    }
    if report.is_none() && global.format == Format::Json && report_format != ReportFormat::Pretty {
        return Err(
            "--format json and --report-format both choose what stdout shows: use one, or \
             write the report to a file with --report FILE"
                .into(),
        );
    }
    if let Some(name) = &baseline {
        bench_report::check_name(name)?;
    }
    let manifest = args.choice.manifest.clone();
    // Read the baseline first: a bad name fails before the measurement.
    let compared_with = compare
        .as_deref()
        .map(|name| bench_report::load(&manifest, name).map(|(path, m)| (name, path, m)))
        .transpose()?;
    let progress = Progress::new();
    let pipeline = load(args, &progress)?
        .record(false)
        .measure_latency(true)
        .measure_node_time(true);
    let mut flow_name = None;
    // One run of the flow: its result (a run stopped by the limits the
    // command line set is a measurement too).
    let run = |pipeline: Pipeline, progress: &Progress| -> Result<RunResult, String> {
        let result = match pipeline.run() {
            Ok(result) => result,
            Err(err)
                if matches!(
                    err.error.kind(),
                    ErrorKind::Stopped {
                        limit: RunLimit::Elements(_)
                            | RunLimit::WallTime(_)
                            | RunLimit::Interrupted
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
        Ok(result)
    };

    // Warm-up: caches, the allocator, the CPU's clock; not measured.
    let warmup_started = Instant::now();
    let mut warmup_runs = 0u64;
    while warmup_started.elapsed() < warmup && !interrupt::requested() {
        progress.step(format!(
            "warming up flow{}: {warmup_runs} runs",
            flow_label(args)
        ));
        run(pipeline.clone(), &progress)?;
        warmup_runs += 1;
    }

    let rounds = iterations.map_or(ROUNDS, |iterations| iterations.min(ROUNDS));
    let mut latencies = Vec::new();
    let mut elements = 0u64;
    let mut runs = 0u64;
    let mut round_rates = Vec::new();
    let mut node_rounds: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let started = Instant::now();
    for round in 0..rounds {
        if interrupt::requested() {
            break;
        }
        let round_started = Instant::now();
        let (mut round_runs, mut round_elements) = (0u64, 0u64);
        let mut round_node_ns: BTreeMap<String, u64> = BTreeMap::new();
        let more = |round_runs: u64| match iterations {
            // `iterations` spread over the rounds, the first ones one more.
            Some(iterations) => {
                round_runs < iterations / rounds + u64::from(round < iterations % rounds)
            }
            None => round_runs == 0 || round_started.elapsed() < duration / rounds as u32,
        };
        while more(round_runs) && !interrupt::requested() {
            progress.step(format!(
                "benchmarking flow{}: round {}/{rounds}, {runs} runs, {elements} elements",
                flow_label(args),
                round + 1
            ));
            let result = run(pipeline.clone(), &progress)?;
            flow_name.get_or_insert_with(|| result.flow.clone());
            latencies.extend(result.latencies_ns);
            for (node, ns) in result.node_time_ns {
                *round_node_ns.entry(node).or_default() += ns;
            }
            round_elements += result.elements;
            elements += result.elements;
            round_runs += 1;
            runs += 1;
        }
        if round_runs == 0 {
            break;
        }
        round_rates.push(round_elements as f64 / round_started.elapsed().as_secs_f64());
        for (node, ns) in round_node_ns {
            node_rounds
                .entry(node)
                .or_default()
                .push(ns as f64 / round_elements.max(1) as f64);
        }
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
    let rates = Spread::of(round_rates);
    let (median, min, max) = (rates.median, rates.min, rates.max);
    let profile = std::env::var("TORVYN_BUILD_PROFILE").unwrap_or_else(|_| "debug".into());
    let flow_name = flow_name.unwrap_or_else(|| pipeline_name(args));
    let measurement = Measurement {
        torvyn_testkit_bench: Measurement::form(),
        flow: flow_name.clone(),
        profile: profile.clone(),
        warmup_seconds: warmup.as_secs_f64(),
        runs,
        elements,
        seconds: elapsed.as_secs_f64(),
        elements_per_second: rates,
        latency_ns: Latency {
            p50: percentile(50.0),
            p90: percentile(90.0),
            p99: percentile(99.0),
            max: latencies.last().copied().unwrap_or(0),
        },
        node_ns_per_element: node_rounds
            .into_iter()
            .map(|(node, rounds)| (node, Spread::of(rounds)))
            .collect(),
    };
    let comparison = compared_with.as_ref().map(|(name, path, before)| {
        if before.flow != measurement.flow {
            eprintln!(
                "torvyn-testkit: warning: baseline `{name}` measured flow `{}`, this run flow `{}`",
                before.flow, measurement.flow
            );
        }
        bench_report::compare(name, path, before, &measurement)
    });
    // Ctrl+C: the figures cover the runs that finished; they are reported,
    // but not saved as a baseline, and there is no profile run.
    let interrupted = interrupt::requested();
    if interrupted {
        eprintln!(
            "torvyn-testkit: bench interrupted (Ctrl+C) after {runs} measured runs; the figures \
             cover those{}",
            if baseline.is_some() || profile_dir.is_some() {
                ", and no baseline or profile is written"
            } else {
                ""
            }
        );
    }
    let saved = baseline
        .as_deref()
        .filter(|_| !interrupted)
        .map(|name| bench_report::save(&manifest, name, &measurement))
        .transpose()?;
    let mut summary = serde_json::json!({
        "flow": flow_name,
        "profile": profile,
        "warmup_seconds": warmup.as_secs_f64(),
        "warmup_runs": warmup_runs,
        "runs": runs,
        "elements": elements,
        "seconds": elapsed.as_secs_f64(),
        "elements_per_second": per_second,
        "interrupted": interrupted,
        "rounds": measurement.elements_per_second.rounds.len(),
        "elements_per_second_median": median,
        "elements_per_second_min": min,
        "elements_per_second_max": max,
        "latency_ns": { "p50": percentile(50.0), "p90": percentile(90.0), "p99": percentile(99.0), "max": latencies.last().copied().unwrap_or(0) },
        "node_ns_per_element": measurement.node_ns_per_element.iter().map(|(node, spread)| (node.clone(), spread.median)).collect::<BTreeMap<_, _>>(),
        "note": "each run instantiates and inits every component; latency is from entering the flow to delivery at a sink; rounds are measured after the warm-up; a node's time per element is its steps' wall-clock time (calls and the host's queue work) over the elements that entered the flow",
    });
    if let Some(comparison) = &comparison {
        summary["comparison"] = serde_json::to_value(comparison).unwrap_or_default();
    }
    if let Some(path) = &saved {
        summary["baseline_saved"] = path.display().to_string().into();
    }
    let mut text = format!(
        "{runs} runs, {elements} elements in {:.2} s ({profile} builds, after a {:.1} s \
         warm-up): {per_second:.0} elements/s\n",
        elapsed.as_secs_f64(),
        warmup.as_secs_f64()
    );
    text += &format!(
        "rounds: median {median:.0} elements/s, min {min:.0}, max {max:.0} ({} rounds)\n",
        measurement.elements_per_second.rounds.len()
    );
    text += &format!(
        "latency (enter flow -> sink): p50 {} µs, p90 {} µs, p99 {} µs, max {} µs\n",
        percentile(50.0) / 1000,
        percentile(90.0) / 1000,
        percentile(99.0) / 1000,
        latencies.last().copied().unwrap_or(0) / 1000
    );
    if !measurement.node_ns_per_element.is_empty() {
        text += "per node, time per element (median of the rounds, min-max):\n";
        for (node, spread) in &measurement.node_ns_per_element {
            text += &format!(
                "  {node}: {:.0} ns ({:.0}-{:.0})\n",
                spread.median, spread.min, spread.max
            );
        }
    }
    if let Some(comparison) = &comparison {
        text += &bench_report::comparison_text(comparison);
    }
    if let Some(path) = &saved {
        text += &format!(
            "saved baseline `{}` to {}\n",
            baseline.as_deref().unwrap_or(""),
            path.display()
        );
    }

    let rendered = match report_format {
        ReportFormat::Pretty => text.clone(),
        ReportFormat::Json => bench_report::json(&measurement, comparison.as_ref()),
        ReportFormat::Csv => bench_report::csv(&measurement, comparison.as_ref())?,
        ReportFormat::Markdown => bench_report::markdown(&measurement, comparison.as_ref()),
        ReportFormat::Html => String::new(),
    };
    match &report {
        Some(path) if report_format == ReportFormat::Html && interrupted => eprintln!(
            "torvyn-testkit: no HTML report written to {}: its run would start after the \
             interrupt",
            path.display()
        ),
        Some(path) if report_format == ReportFormat::Html => {
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
        Some(path) => {
            std::fs::write(path, &rendered)
                .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
            eprintln!("torvyn-testkit: wrote the report {}", path.display());
        }
        None => {}
    }
    if let Some(dir) = profile_dir.as_ref().filter(|_| !interrupted) {
        write_profiles(&pipeline, args, dir, duration, iterations, &progress, &run)?;
    }
    match (&report, report_format, global.format) {
        (None, ReportFormat::Json | ReportFormat::Csv | ReportFormat::Markdown, _) => {
            print!("{rendered}");
        }
        (_, _, Format::Json) => println!("{summary}"),
        (_, _, Format::Text) => print!("{text}"),
    }
    Ok(())
}

/// `--profile DIR`: run the flow for `duration` (or `iterations` times) with
/// a [`Profiler`], after the measured runs (so it does not slow them), and
/// write each node's profile into `dir`.
fn write_profiles(
    pipeline: &Pipeline,
    args: &FlowArgs,
    dir: &std::path::Path,
    duration: Duration,
    iterations: Option<u64>,
    progress: &Progress,
    run: &dyn Fn(Pipeline, &Progress) -> Result<RunResult, String>,
) -> Result<(), String> {
    let profiler = Profiler::new();
    let profiled = pipeline
        .clone()
        .measure_latency(false)
        .measure_node_time(false)
        .profile(&profiler);
    let started = Instant::now();
    let mut runs = 0u64;
    while match iterations {
        Some(iterations) => runs < iterations,
        None => runs == 0 || started.elapsed() < duration,
    } {
        progress.step(format!("profiling flow{}: {runs} runs", flow_label(args)));
        run(profiled.clone(), progress)?;
        runs += 1;
    }
    progress.clear();
    let samples = profiler.samples();
    let files = profiler
        .write(dir)
        .map_err(|err| format!("cannot write the profiles into {}: {err}", dir.display()))?;
    let listed: Vec<String> = samples
        .iter()
        .map(|(node, count)| format!("{node} {count}"))
        .collect();
    eprintln!(
        "torvyn-testkit: wrote {} profiles into {} ({runs} runs; samples per node: {}); \
         open them at https://profiler.firefox.com",
        files.len(),
        dir.display(),
        listed.join(", ")
    );
    if samples.values().any(|&count| count == 0) {
        eprintln!(
            "torvyn-testkit: a node with 0 samples never had its code running at a 10 ms tick: \
             profile longer (--duration) to see it"
        );
    }
    Ok(())
}
