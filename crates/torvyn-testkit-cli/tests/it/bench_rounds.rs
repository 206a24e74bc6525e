//! `bench` measures what a user ships: release builds, after a warm-up, in
//! rounds whose median and range it reports; the JSON names the flow it ran
//! (before: debug builds, no warm-up, one number, `"flow": "(only flow)"`).
//!

use crate::support::{cli, flow_project, text};

#[test]
fn bench_warms_up_and_reports_the_rounds_of_release_builds() {
    let manifest = flow_project();
    let out = cli(&[
        "bench",
        "--manifest",
        manifest.to_str().unwrap(),
        "--duration",
        "500ms",
        "--warmup",
        "100ms",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["flow"], "main", "{summary}");
    assert_eq!(summary["profile"], "release", "{summary}");
    assert!(summary["warmup_runs"].as_u64().unwrap() >= 1, "{summary}");
    assert_eq!(summary["rounds"], 5, "{summary}");
    assert!(summary["runs"].as_u64().unwrap() >= 5, "{summary}");
    let (min, median, max) = (
        summary["elements_per_second_min"].as_f64().unwrap(),
        summary["elements_per_second_median"].as_f64().unwrap(),
        summary["elements_per_second_max"].as_f64().unwrap(),
    );
    assert!(0.0 < min && min <= median && median <= max, "{summary}");

    // `--iterations` runs exactly that many, spread over the rounds.
    let out = cli(&[
        "bench",
        "--manifest",
        manifest.to_str().unwrap(),
        "--iterations",
        "3",
        "--warmup",
        "0s",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("3 runs, 18 elements in ")
            && stdout.contains("(release builds, after a 0.0 s warm-up)"),
        "{stdout}"
    );
    assert!(stdout.contains("rounds: median "), "{stdout}");
    assert!(stdout.contains("(3 rounds)"), "{stdout}");
}
