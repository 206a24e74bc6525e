//! Peak memory of long runs: one `torvyn_testkit::Pipeline` run of
//! `sdk-source` -> `sdk-processor` -> `sdk-sink` (64 B elements) per size,
//! 10^4 to 10^7 elements, each in a fresh child process (this same binary,
//! started with `--rss-child N`), which reports its peak resident set size
//! (`VmHWM` in `/proc/self/status`). The flow runs with the pipeline's default
//! retention and trace caps and with latency measurement on, as a test that
//! asks for nothing special would. The record `rss.json` holds the peaks;
//! `cargo xtask bench` prints them with a flat-within-10 % verdict.

use std::process::Command;
use std::time::Instant;

use torvyn_bench::{Subject, build_stage, write_record};
use torvyn_testkit::{Component, Pipeline};

/// The element counts measured.
const SIZES: [u64; 4] = [10_000, 100_000, 1_000_000, 10_000_000];

/// Peak resident set size of this process in KiB (`VmHWM`), if known.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

fn load(path: anyhow::Result<std::path::PathBuf>) -> Component {
    let path = path.unwrap_or_else(|err| panic!("building a bench stage failed:\n{err}"));
    Component::from_file(&path).unwrap_or_else(|err| panic!("{err}"))
}

/// The child: one run of `count` elements, then `count peak_kib seconds` on stdout.
fn child(count: u64) {
    let source = load(build_stage("sdk-source"));
    let processor = load(Subject::SdkProcessor.build_release());
    let sink = load(build_stage("sdk-sink"));
    let started = Instant::now();
    let run = Pipeline::new("rss")
        .component(
            "source",
            &source,
            &format!(r#"{{"count": {count}, "size": 64}}"#),
        )
        .component("upper", &processor, "")
        .component("sink", &sink, "")
        .edge("source", "upper")
        .edge("upper", "sink")
        .measure_latency(true)
        // 10^7 elements outlast the default wall-time budget on a slow machine.
        .timeout(std::time::Duration::from_secs(3600))
        .run()
        .unwrap_or_else(|err| panic!("the flow failed: {err}"));
    assert_eq!(run.node("sink").delivered, count);
    let seconds = started.elapsed().as_secs_f64();
    let peak = peak_rss_kib().expect("VmHWM in /proc/self/status");
    println!("{count} {peak} {seconds:.2}");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|arg| arg == "--rss-child") {
        let count = args[at + 1].parse().expect("an element count");
        child(count);
        return;
    }
    if peak_rss_kib().is_none() {
        println!("rss: no /proc/self/status on this system, skipped");
        return;
    }
    // Build the stages once here, so the children only load them.
    drop(load(build_stage("sdk-source")));
    drop(load(Subject::SdkProcessor.build_release()));
    drop(load(build_stage("sdk-sink")));
    let exe = std::env::current_exe().expect("the bench binary");
    let mut record = serde_json::Map::new();
    let mut peaks = serde_json::Map::new();
    for count in SIZES {
        let output = Command::new(&exe)
            .args(["--rss-child", &count.to_string()])
            .output()
            .expect("the child runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "the {count}-element child failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let fields: Vec<&str> = stdout
            .lines()
            .last()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        let (peak, seconds): (u64, f64) = (
            fields[1].parse().expect("peak KiB"),
            fields[2].parse().expect("seconds"),
        );
        println!(
            "rss/{count}: peak {:.1} MiB in {seconds:.1} s",
            peak as f64 / 1024.0
        );
        peaks.insert(
            count.to_string(),
            serde_json::json!({ "peak_kib": peak, "seconds": seconds }),
        );
    }
    record.insert("payload_bytes".into(), 64.into());
    record.insert("peaks".into(), peaks.into());
    write_record("rss.json", &record).unwrap_or_else(|err| panic!("{err:#}"));
}
