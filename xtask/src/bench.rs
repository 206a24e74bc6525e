//! `cargo xtask bench`: runs the criterion benches of `torvyn-bench`, measures
//! the edit-test loop of an example, and prints a summary of ratios against the
//! targets (also written to `target/torvyn-bench/summary.md`), including the
//! peak RSS of long pipeline runs (the `rss` bench, one child process per
//! element count) with a flat-within-10 % verdict.
//!
//! When `valgrind` is installed it also counts instructions per call with
//! callgrind (the `profile` example of `torvyn-bench` run for two call counts;
//! the difference divided by the difference in calls), a measure of the glue
//! overhead that the noise of a shared machine does not move.
//!
//! Options: `--summary` only prints the summary from the last run's records;
//! `--no-edit-loop` skips the edit-test loop measurement; `--no-callgrind`
//! skips the instruction counts.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// Target of the glue overhead ratio (SDK time / raw time).
const GLUE_TARGET: f64 = 1.03;
/// Target of the size ratio (SDK size / raw size).
const SIZE_TARGET: f64 = 1.10;
/// Target of one pre-instantiated instantiation, in microseconds.
const INSTANTIATE_TARGET_US: f64 = 20.0;
/// Target of the reference host's throughput, source -> processor -> sink at 64 B.
const THROUGHPUT_TARGET: f64 = 750_000.0;
/// Target of the host's per-element time over the bare calls it must make
/// (issue 13 part 1), judged on the bench's interleaved rounds.
const HOST_OVERHEAD_TARGET: f64 = 1.10;
/// Target of the latency p50 over the floor's time per element (issue 13 part 3).
const LATENCY_TARGET: f64 = 2.0;
/// Target of a logging component's per-element cost at 10^5 elements over 10^4.
const LOGGING_TARGET: f64 = 1.2;
/// Peak memory of the longest run over the shortest: flat within 10 %.
const RSS_FLAT_TARGET: f64 = 1.10;
/// Target of the edit-test loop beyond rustc's own builds, in seconds.
const EDIT_LOOP_TARGET_S: f64 = 3.0;
/// The example whose edit-test loop is timed, and its compiled-wasm test.
const EDIT_EXAMPLE: (&str, &str) = ("rate-limiter", "wasm");
/// Timed repetitions of each edit-test loop measurement (the median is reported).
const EDIT_RUNS: usize = 3;

/// Run the task with its command-line options.
pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    let summary_only = args.iter().any(|a| a == "--summary");
    let edit_loop = !args.iter().any(|a| a == "--no-edit-loop");
    let callgrind = !args.iter().any(|a| a == "--no-callgrind");
    if let Some(bad) = args.iter().find(|a| {
        !matches!(
            a.as_str(),
            "--summary" | "--no-edit-loop" | "--no-callgrind"
        )
    }) {
        bail!("unknown option `{bad}` (options: --summary, --no-edit-loop, --no-callgrind)");
    }
    let target = crate::target_dir(root);
    let out = target.join("torvyn-bench");
    std::fs::create_dir_all(&out)?;
    if !summary_only {
        let started = Instant::now();
        let status = Command::new(cargo())
            .args(["bench", "-p", "torvyn-bench"])
            .env("CRITERION_HOME", target.join("criterion"))
            .env("TORVYN_BENCH_OUT", &out)
            .current_dir(root)
            .status()
            .context("cannot run `cargo bench -p torvyn-bench`")?;
        if !status.success() {
            bail!("`cargo bench -p torvyn-bench` failed: {status}");
        }
        println!(
            "xtask bench: cargo bench took {:.0} s",
            started.elapsed().as_secs_f64()
        );
        if callgrind {
            match count_instructions(root)? {
                Some(record) => std::fs::write(
                    out.join("instructions.json"),
                    serde_json::to_string_pretty(&record)?,
                )?,
                None => println!("xtask bench: valgrind not found, no instruction counts"),
            }
        }
        if edit_loop {
            let record = measure_edit_loop(root)?;
            std::fs::write(
                out.join("edit-loop.json"),
                serde_json::to_string_pretty(&record)?,
            )?;
        }
    }
    let summary = summary(&target)?;
    println!("\n{summary}");
    std::fs::write(out.join("summary.md"), &summary)?;
    println!("(written to {})", out.join("summary.md").display());
    Ok(())
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

/// Mean time in nanoseconds of one criterion benchmark of the last run.
fn mean_ns(target: &Path, group: &str, bench: &str) -> Result<f64> {
    let path = target
        .join("criterion")
        .join(group)
        .join(bench)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("no result at {} (run `cargo xtask bench`)", path.display()))?;
    let json: Value = serde_json::from_str(&text)?;
    json["mean"]["point_estimate"]
        .as_f64()
        .with_context(|| format!("no mean in {}", path.display()))
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// A bench's JSON record in `target/torvyn-bench`, or `None` when that bench
/// did not run (or wrote something unreadable).
fn record(target: &Path, name: &str) -> Option<Value> {
    let text = std::fs::read_to_string(target.join("torvyn-bench").join(name)).ok()?;
    serde_json::from_str(&text).ok()
}

fn summary(target: &Path) -> Result<String> {
    let mut s = String::from("## Summary (cargo xtask bench)\n\n");
    s += "| measurement | SDK | raw | ratio / value | target | verdict |\n";
    s += "| --- | --- | --- | --- | --- | --- |\n";
    let interleaved = record(target, "glue.json");
    for (group, label) in [
        ("filter", "filter, per element"),
        ("processor-64B", "processor 64 B, per element"),
        ("processor-4KiB", "processor 4 KiB, per element"),
    ] {
        // The verdict is the interleaved A/B rounds' median ratio; the two
        // criterion means, measured one after the other, are reported.
        let sdk = mean_ns(target, group, "sdk")?;
        let raw = mean_ns(target, group, "raw")?;
        let ratio = sdk / raw;
        writeln!(
            s,
            "| {label} (criterion means, measured one after the other) | {sdk:.0} ns | {raw:.0} ns | {ratio:.3} | (reported) | - |"
        )?;
        let Some(ab) = interleaved.as_ref().map(|record| &record[group]) else {
            continue;
        };
        let (Some(sdk), Some(raw), Some(ratio), Some(q1), Some(q3), Some(rounds)) = (
            ab["sdk_ns"].as_f64(),
            ab["raw_ns"].as_f64(),
            ab["ratio"].as_f64(),
            ab["ratio_q1"].as_f64(),
            ab["ratio_q3"].as_f64(),
            ab["rounds"].as_u64(),
        ) else {
            continue;
        };
        writeln!(
            s,
            "| {label} (interleaved A/B, median of {rounds} rounds; quartiles {q1:.3}-{q3:.3}) | {sdk:.0} ns | {raw:.0} ns | {ratio:.3} | <= {GLUE_TARGET} | {} |",
            verdict(ratio <= GLUE_TARGET)
        )?;
    }
    let instructions = record(target, "instructions.json");
    if let Some(counts) = &instructions {
        for role in ["filter", "processor"] {
            let count = |side: &str| counts[format!("{side}-{role}")].as_f64();
            let (Some(sdk), Some(raw)) = (count("sdk"), count("raw")) else {
                continue;
            };
            let ratio = sdk / raw;
            let what = if role == "filter" {
                "filter"
            } else {
                "processor 64 B"
            };
            writeln!(
                s,
                "| {what}, instructions per element (callgrind) | {sdk:.0} | {raw:.0} | {ratio:.3} | <= {GLUE_TARGET} | {} |",
                verdict(ratio <= GLUE_TARGET)
            )?;
        }
    }
    let sizes = record(target, "sizes.json");
    match &sizes {
        Some(sizes) => {
            for (role, profile) in [
                ("filter", "release"),
                ("filter", "release-small"),
                ("filter", "release-z"),
                ("processor", "release"),
                ("processor", "release-small"),
                ("processor", "release-z"),
            ] {
                let size = |side: &str| sizes[format!("{side}-{role}")][profile].as_f64();
                let (Some(sdk), Some(raw)) = (size("sdk"), size("raw")) else {
                    continue;
                };
                let ratio = sdk / raw;
                // The target is on the trivial filter; the processor is reported.
                let (goal, met) = if role == "filter" {
                    (format!("<= {SIZE_TARGET}"), verdict(ratio <= SIZE_TARGET))
                } else {
                    ("(reported)".to_string(), "-")
                };
                writeln!(
                    s,
                    "| {role} .wasm size, `{profile}` | {:.1} KiB | {:.1} KiB | {ratio:.3} | {goal} | {met} |",
                    sdk / 1024.0,
                    raw / 1024.0,
                )?;
            }
        }
        None => s += "| .wasm sizes | - | - | no sizes.json | | |\n",
    }
    for (group, how) in [
        ("instantiate", "default allocator"),
        ("instantiate-pooling", "pooling allocator"),
    ] {
        // `store-only`: a fresh Store and Host dropped again, no instance.
        let store = mean_ns(target, group, "store-only").ok();
        if let Some(store) = store {
            writeln!(
                s,
                "| `{group}/store-only` (fresh Store + Host, no instance; {how}) | | | {:.1} µs | (reported) | - |",
                store / 1000.0
            )?;
        }
        for subject in ["sdk-filter", "raw-filter", "sdk-processor", "raw-processor"] {
            let Ok(ns) = mean_ns(target, group, subject) else {
                continue;
            };
            let us = ns / 1000.0;
            writeln!(
                s,
                "| `{group}/{subject}` (InstancePre, fresh Store; {how}) | | | {us:.1} µs | <= {INSTANTIATE_TARGET_US} µs | {} |",
                verdict(us <= INSTANTIATE_TARGET_US)
            )?;
        }
    }
    pipeline_rows(&mut s, target)?;
    logging_rows(&mut s, target)?;
    rss_rows(&mut s, target)?;
    let edit = record(target, "edit-loop.json");
    match edit {
        Some(e) => {
            let get = |key: &str| e[key].as_f64().unwrap_or(f64::NAN);
            let overhead = get("overhead_s");
            writeln!(
                s,
                "| edit-test loop `{}` (`cargo test --test {}` after a one-line edit) | | | {:.2} s total; rustc: native {:.2} s + wasm {:.2} s; beyond rustc {overhead:.2} s | <= {EDIT_LOOP_TARGET_S} s beyond rustc | {} |",
                EDIT_EXAMPLE.0,
                EDIT_EXAMPLE.1,
                get("loop_s"),
                get("native_build_s"),
                get("wasm_build_s"),
                verdict(overhead <= EDIT_LOOP_TARGET_S)
            )?;
            if e["lock_contention"].as_bool() == Some(true) {
                s += "\nNote: cargo waited for a file lock held by another build during the \
                      edit-test loop; its times are inflated.\n";
            }
        }
        None => s += "| edit-test loop | | | not measured (--no-edit-loop) | | |\n",
    }
    Ok(s)
}

/// The pipeline rows: steady-state elements/s of each flow (a run minus an
/// empty run, over the element count), its ratio to the bare calls' floor and
/// the latency percentiles the `pipeline` bench recorded.
/// The captured-output rows: a logging source's per-element cost at 10^4 and
/// 10^5 elements (`logging.json`).
fn logging_rows(s: &mut String, target: &Path) -> Result<()> {
    let Some(record) = record(target, "logging.json") else {
        *s += "| logging source | | | no logging.json | | |\n";
        return Ok(());
    };
    for (label, what, goal) in [
        ("logging", "source logging two lines per element", true),
        ("silent", "silent source", false),
    ] {
        let get = |key: &str| {
            record[format!("{label}_{key}")]
                .as_f64()
                .unwrap_or(f64::NAN)
        };
        let (small, large, ratio) = (get("10000_ns"), get("100000_ns"), get("ratio"));
        let (goal, met) = if goal {
            (
                format!("<= {LOGGING_TARGET}"),
                verdict(ratio <= LOGGING_TARGET),
            )
        } else {
            ("(reported)".to_string(), "-")
        };
        writeln!(
            s,
            "| {what} -> sink: per element at 10^5 elements / at 10^4 ({:.1} MB of stderr captured at 10^5) | {large:.0} ns | {small:.0} ns | {ratio:.3} | {goal} | {met} |",
            get("100000_stderr_bytes") / 1e6
        )?;
    }
    Ok(())
}

fn pipeline_rows(s: &mut String, target: &Path) -> Result<()> {
    let Some(record) = record(target, "pipeline.json") else {
        *s += "| pipelines | | | no pipeline.json | | |\n";
        return Ok(());
    };
    for size in ["64B", "4KiB"] {
        let group = format!("pipeline-{size}");
        let Some(count) = record[size]["elements"].as_f64() else {
            continue;
        };
        for shape in ["source-sink", "source-processor-sink"] {
            let run = mean_ns(target, &group, shape)?;
            let empty = mean_ns(target, &group, &format!("{shape}-empty"))?;
            let floor = mean_ns(target, &group, &format!("floor-{shape}"))?;
            let per_element = (run - empty) / count;
            let rate = 1e9 / per_element;
            let (goal, met) = if shape == "source-processor-sink" && size == "64B" {
                (
                    format!(">= {THROUGHPUT_TARGET:.0}/s"),
                    verdict(rate >= THROUGHPUT_TARGET),
                )
            } else {
                ("(reported)".to_string(), "-")
            };
            let latency = &record[size][shape];
            writeln!(
                s,
                "| {shape} {size}: elements/s (steady state; {count:.0} per run, whole run incl. instantiation {:.0}/s) | | | {rate:.0}/s; latency p50 {:.1} µs, p99 {:.1} µs | {goal} | {met} |",
                count * 1e9 / run,
                latency["latency_p50_ns"].as_f64().unwrap_or(f64::NAN) / 1000.0,
                latency["latency_p99_ns"].as_f64().unwrap_or(f64::NAN) / 1000.0,
            )?;
            let into_wasm = latency["floor_calls_into_wasm"]
                .as_f64()
                .unwrap_or(f64::NAN);
            let into_host = latency["floor_calls_into_host"]
                .as_f64()
                .unwrap_or(f64::NAN);
            let crossings = into_wasm + into_host;
            writeln!(
                s,
                "| {shape} {size}: boundary crossings per element of the bare calls (into wasm + into the host) | | | {into_wasm:.0} + {into_host:.0} = {crossings:.0}; {:.0} ns per crossing | (reported) | - |",
                floor / crossings
            )?;
            writeln!(
                s,
                "| {shape} {size}: host time per element / bare calls (criterion means) | {per_element:.0} ns | {floor:.0} ns | {:.2} | (reported) | - |",
                per_element / floor
            )?;
            // The verdict: the same ratio from rounds that time the host and
            // the floor side by side, so load on the machine affects both.
            let (host, paired_floor, ratio) = (
                latency["interleaved_host_ns"].as_f64().unwrap_or(f64::NAN),
                latency["interleaved_floor_ns"].as_f64().unwrap_or(f64::NAN),
                latency["interleaved_ratio"].as_f64().unwrap_or(f64::NAN),
            );
            let quartiles = &latency["interleaved_ratio_quartiles"];
            writeln!(
                s,
                "| {shape} {size}: host time per element / bare calls (interleaved rounds, median; quartiles {:.2}-{:.2}) | {host:.0} ns | {paired_floor:.0} ns | {ratio:.2} | <= {HOST_OVERHEAD_TARGET} | {} |",
                quartiles[0].as_f64().unwrap_or(f64::NAN),
                quartiles[1].as_f64().unwrap_or(f64::NAN),
                verdict(ratio <= HOST_OVERHEAD_TARGET)
            )?;
            // What the host adds beyond the epoch checks its engine compiles
            // in (the per-call time limits): the floor on such an engine.
            let epoch_quartiles = &latency["epoch_floor_ratio_quartiles"];
            writeln!(
                s,
                "| {shape} {size}: host time per element / bare calls on an engine with epoch interruption, as the testkit's (interleaved, median; quartiles {:.2}-{:.2}) | {host:.0} ns | {:.0} ns | {:.2} | (reported) | - |",
                epoch_quartiles[0].as_f64().unwrap_or(f64::NAN),
                epoch_quartiles[1].as_f64().unwrap_or(f64::NAN),
                latency["epoch_floor_ns"].as_f64().unwrap_or(f64::NAN),
                latency["epoch_floor_ratio"].as_f64().unwrap_or(f64::NAN),
            )?;
            let p50 = latency["latency_p50_ns"].as_f64().unwrap_or(f64::NAN);
            writeln!(
                s,
                "| {shape} {size}: latency p50 / floor per element | {p50:.0} ns | {paired_floor:.0} ns | {:.2} | <= {LATENCY_TARGET} | {} |",
                p50 / paired_floor,
                verdict(p50 / paired_floor <= LATENCY_TARGET)
            )?;
        }
    }
    Ok(())
}

/// The peak-RSS rows of the `rss` bench: one per element count, and the
/// verdict on the largest peak over the smallest.
fn rss_rows(s: &mut String, target: &Path) -> Result<()> {
    let Some(record) = record(target, "rss.json") else {
        *s += "| peak RSS | | | no rss.json | | |\n";
        return Ok(());
    };
    let Some(peaks) = record["peaks"].as_object() else {
        *s += "| peak RSS | | | rss.json without peaks | | |\n";
        return Ok(());
    };
    let mut rows: Vec<(u64, f64, f64)> = peaks
        .iter()
        .filter_map(|(count, peak)| {
            Some((
                count.parse().ok()?,
                peak["peak_kib"].as_f64()? / 1024.0,
                peak["seconds"].as_f64().unwrap_or(f64::NAN),
            ))
        })
        .collect();
    rows.sort_by_key(|row| row.0);
    for (count, mib, seconds) in &rows {
        writeln!(
            s,
            "| peak RSS, source-processor-sink 64 B, {count} elements (defaults, latency on; {seconds:.1} s) | | | {mib:.1} MiB | (reported) | - |"
        )?;
    }
    let low = rows.iter().map(|row| row.1).fold(f64::INFINITY, f64::min);
    let high = rows.iter().map(|row| row.1).fold(0.0, f64::max);
    let ratio = high / low;
    writeln!(
        s,
        "| peak RSS, largest / smallest of the {} runs | {high:.1} MiB | {low:.1} MiB | {ratio:.3} | <= {RSS_FLAT_TARGET} | {} |",
        rows.len(),
        verdict(ratio <= RSS_FLAT_TARGET)
    )?;
    Ok(())
}

/// Instructions per call of every subject under callgrind, or `None` without
/// valgrind. Runs the `profile` example for two call counts and divides the
/// difference in instructions by the difference in calls, so start-up
/// (compiling the component) cancels out.
fn count_instructions(root: &Path) -> Result<Option<Value>> {
    if Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        return Ok(None);
    }
    let status = Command::new(cargo())
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "torvyn-bench",
            "--example",
            "profile",
        ])
        .current_dir(root)
        .status()?;
    if !status.success() {
        bail!("building the `profile` example of torvyn-bench failed");
    }
    let exe = crate::target_dir(root).join("release/examples/profile");
    let mut record = serde_json::Map::new();
    for (subject, calls) in [
        ("sdk-filter", [10_000u64, 30_000]),
        ("raw-filter", [10_000, 30_000]),
        ("sdk-processor", [5_000, 15_000]),
        ("raw-processor", [5_000, 15_000]),
    ] {
        let mut totals = [0f64; 2];
        for (total, n) in totals.iter_mut().zip(calls) {
            let output = Command::new("valgrind")
                .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
                .arg(&exe)
                .args([subject, &n.to_string()])
                .current_dir(root)
                .output()?;
            let stderr = String::from_utf8_lossy(&output.stderr);
            if !output.status.success() {
                bail!("callgrind run of {subject} failed:\n{stderr}");
            }
            *total = stderr
                .lines()
                .find_map(|line| line.split("Collected :").nth(1))
                .and_then(|n| n.trim().parse().ok())
                .with_context(|| format!("no instruction count from callgrind:\n{stderr}"))?;
        }
        let per_call = (totals[1] - totals[0]) / (calls[1] - calls[0]) as f64;
        println!("xtask bench: {subject}: {per_call:.0} instructions per call (callgrind)");
        record.insert(subject.to_string(), per_call.into());
    }
    Ok(Some(record.into()))
}

/// Restores a file's original text when dropped (also on error).
struct Restore {
    path: PathBuf,
    original: String,
}

impl Drop for Restore {
    fn drop(&mut self) {
        if let Err(err) = std::fs::write(&self.path, &self.original) {
            eprintln!(
                "xtask bench: could not restore {}: {err}",
                self.path.display()
            );
        }
    }
}

/// Runs a command, returns its wall time and whether cargo waited for a lock.
fn timed(command: &mut Command, what: &str) -> Result<(Duration, bool)> {
    let started = Instant::now();
    let output = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("cannot run {what}"))?;
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("{what} failed: {}\n{stderr}", output.status);
    }
    Ok((elapsed, stderr.contains("Blocking waiting for file lock")))
}

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64()
}

/// The wasm build the testkit runs inside the test (`Component::build`: debug
/// profile, shared target directory `target/torvyn-wasm/<toolchain>`), run
/// directly: cargo plus rustc, nothing of the testkit.
fn wasm_build_command(root: &Path, manifest: &Path) -> Result<Command> {
    let forced = std::env::var("TORVYN_WASM_TOOLCHAIN").unwrap_or_default();
    let rustup_has_std = Command::new("rustc")
        .args(["--print", "target-libdir", "--target", "wasm32-wasip2"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| std::fs::read_dir(String::from_utf8_lossy(&o.stdout).trim()).ok())
        .is_some_and(|dir| {
            dir.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
        });
    let fallback = match forced.as_str() {
        "rustup" => false,
        "fallback" => true,
        _ => !rustup_has_std,
    };
    let target_dir = crate::target_dir(root)
        .join("torvyn-wasm")
        .join(if fallback { "fallback" } else { "rustup" });
    let mut command = Command::new(cargo());
    command
        .arg("build")
        .arg("--manifest-path")
        .arg(manifest)
        .args(["--target", "wasm32-wasip2", "--target-dir"])
        .arg(&target_dir);
    if fallback {
        let mut path = std::ffi::OsString::from(target_dir.join("bin"));
        path.push(":");
        path.push(std::env::var_os("PATH").unwrap_or_default());
        command
            .env("PATH", path)
            .env("RUSTC", "/usr/bin/rustc")
            .env("RUSTC_BOOTSTRAP", "1")
            .env(
                "CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS",
                "-L /usr/lib/wasm32-wasi",
            )
            .env(
                "CARGO_TARGET_WASM32_WASIP2_LINKER",
                "/usr/lib/rustlib/x86_64-unknown-linux-gnu/bin/wasm-component-ld",
            )
            .arg("-Zbuild-std=std,panic_abort");
    }
    Ok(command)
}

/// Times the edit-test loop of [`EDIT_EXAMPLE`]: append a comment line to its
/// `src/lib.rs`, then `cargo test -p <example> --test <wasm test>`; and, after
/// the same kind of edit, the parts separately: the native build of the test
/// (`--no-run`), the bare wasm build, and the test run with nothing to build.
fn measure_edit_loop(root: &Path) -> Result<Value> {
    let (example, test) = EDIT_EXAMPLE;
    let dir = root.join("examples").join(example);
    let lib = dir.join("src/lib.rs");
    let original = std::fs::read_to_string(&lib)?;
    let _restore = Restore {
        path: lib.clone(),
        original: original.clone(),
    };
    let cargo_test = |extra: &[&str]| {
        let mut command = Command::new(cargo());
        command
            .args(["test", "-p", example, "--test", test])
            .args(extra)
            .current_dir(root);
        command
    };
    let edit = |n: String| std::fs::write(&lib, format!("{original}// edit-test loop {n}\n"));
    let what = format!("cargo test -p {example} --test {test}");
    println!("xtask bench: edit-test loop of examples/{example} (warming up: {what})");
    timed(&mut cargo_test(&[]), &what)?;
    timed(
        &mut wasm_build_command(root, &dir.join("Cargo.toml"))?,
        "wasm build",
    )?;

    let mut contention = false;
    let (mut loops, mut natives, mut wasms, mut runs) = (vec![], vec![], vec![], vec![]);
    for i in 0..EDIT_RUNS {
        edit(format!("a{i}"))?;
        let (t, c) = timed(&mut cargo_test(&[]), &what)?;
        loops.push(t);
        contention |= c;
        edit(format!("b{i}"))?;
        let (t, c) = timed(&mut cargo_test(&["--no-run"]), &format!("{what} --no-run"))?;
        natives.push(t);
        contention |= c;
        let (t, c) = timed(
            &mut wasm_build_command(root, &dir.join("Cargo.toml"))?,
            "wasm build",
        )?;
        wasms.push(t);
        contention |= c;
        let (t, c) = timed(&mut cargo_test(&[]), &what)?;
        runs.push(t);
        contention |= c;
    }
    let (loop_s, native_s, wasm_s, run_s) =
        (median(loops), median(natives), median(wasms), median(runs));
    let overhead = loop_s - native_s - wasm_s;
    println!(
        "xtask bench: edit-test loop {loop_s:.2} s = native test build {native_s:.2} s + wasm \
         build {wasm_s:.2} s + {overhead:.2} s (a run with nothing to build takes {run_s:.2} s)"
    );
    Ok(serde_json::json!({
        "example": example,
        "test": test,
        "runs": EDIT_RUNS,
        "loop_s": loop_s,
        "native_build_s": native_s,
        "wasm_build_s": wasm_s,
        "run_without_build_s": run_s,
        "overhead_s": overhead,
        "lock_contention": contention,
    }))
}
