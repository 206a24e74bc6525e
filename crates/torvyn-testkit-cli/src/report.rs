//! The text report of a run: per-node counts and the end-of-run summary.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use torvyn_testkit::RunResult;

/// Whether the report goes to stderr: stdout carries the payloads (`--output -`).
static ON_STDERR: AtomicBool = AtomicBool::new(false);

/// Print the report on stderr from now on (stdout carries `--output -`).
pub(crate) fn report_on_stderr() {
    ON_STDERR.store(true, Ordering::Relaxed);
}

pub(crate) fn on_stderr() -> bool {
    ON_STDERR.load(Ordering::Relaxed)
}

/// `println!` for the report: on stdout, or on stderr after [`report_on_stderr`].
macro_rules! say {
    ($($arg:tt)*) => {
        if $crate::report::on_stderr() {
            eprintln!($($arg)*)
        } else {
            println!($($arg)*)
        }
    };
}
pub(crate) use say;

pub(crate) fn print_counts(result: &RunResult) {
    let aggregated = if result.aggregated > 0 {
        format!(" (and {} aggregates)", result.aggregated)
    } else {
        String::new()
    };
    say!("flow `{}`: {}", result.flow, result.flow_line());
    say!("{} elements{aggregated}", result.elements);
    say!(
        "{:<20} {:<10} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>9} {:>8}",
        "node",
        "role",
        "in",
        "out",
        "dropped",
        "absorbed",
        "delivered",
        "failed",
        "dead",
        "discarded",
        "pauses"
    );
    for (name, report) in &result.nodes {
        let role = report.role.map(|role| role.name()).unwrap_or("-");
        say!(
            "{name:<20} {role:<10} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>9} {:>8}",
            report.received,
            report.emitted,
            report.dropped,
            report.absorbed,
            report.delivered,
            report.failed,
            report.dead_lettered,
            report.discarded,
            report.pauses
        );
    }
}

/// The end-of-run summary under the counts, what Torvyn's shows: the run's
/// duration, the copies components made (reads into their memory and
/// host-side clones) and those fan-out made, and each queue's peak depth.
pub(crate) fn print_summary(result: &RunResult, elapsed: Duration) {
    let stats = result.nodes.iter().map(|(_, report)| &report.stats);
    let (mut reads, mut read_bytes, mut clones, mut cloned_bytes) = (0u64, 0u64, 0u64, 0u64);
    for stats in stats {
        reads += stats.reads;
        read_bytes += stats.payload_bytes_read;
        clones += stats.clones;
        cloned_bytes += stats.bytes_cloned;
    }
    let duration = if elapsed < Duration::from_secs(1) {
        format!("{:.1} ms", elapsed.as_secs_f64() * 1e3)
    } else {
        format!("{:.2} s", elapsed.as_secs_f64())
    };
    say!(
        "duration {duration} | copies {} ({reads} reads + {clones} clones, {} bytes copied) | \
         fan-out copies {} | peak queue depth {}",
        reads + clones,
        read_bytes + cloned_bytes,
        result.copies,
        result.peak_queue_depth()
    );
    if result.edges.is_empty() {
        return;
    }
    say!("{:<41} {:>8} {:>8}", "queue", "depth", "peak");
    for edge in &result.edges {
        let from = if edge.port == "output" {
            edge.from.clone()
        } else {
            format!("{}.{}", edge.from, edge.port)
        };
        let queue = format!("{from} -> {}", edge.to);
        say!("{queue:<41} {:>8} {:>8}", edge.depth, edge.peak);
    }
}
