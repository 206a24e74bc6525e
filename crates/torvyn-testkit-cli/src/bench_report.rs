//! What `bench` measured, as a value: saved as a named baseline under the
//! project's `.torvyn/bench/`, compared with one (per node and total, with a
//! verdict judged against the spread of both runs' rounds), and written as a
//! report (`--report-format pretty|json|csv|markdown`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The version of the baseline file's form; a file of another is refused.
const FORM: u32 = 1;

/// The median of a measurement's rounds and their range.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Spread {
    pub(crate) median: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
    /// Each round's value, in round order.
    pub(crate) rounds: Vec<f64>,
}

impl Spread {
    /// The spread of `rounds` (all zero when there are none).
    pub(crate) fn of(rounds: Vec<f64>) -> Spread {
        let mut sorted = rounds.clone();
        sorted.sort_by(f64::total_cmp);
        Spread {
            median: sorted.get(sorted.len() / 2).copied().unwrap_or(0.0),
            min: sorted.first().copied().unwrap_or(0.0),
            max: sorted.last().copied().unwrap_or(0.0),
            rounds,
        }
    }
}

/// Latency percentiles, in nanoseconds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Latency {
    pub(crate) p50: u64,
    pub(crate) p90: u64,
    pub(crate) p99: u64,
    pub(crate) max: u64,
}

/// One `bench`: what a baseline file holds, and the report's numbers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Measurement {
    /// The baseline file's form ([`FORM`]).
    pub(crate) torvyn_testkit_bench: u32,
    pub(crate) flow: String,
    /// The build profile of the components (`release` unless overridden).
    pub(crate) profile: String,
    pub(crate) warmup_seconds: f64,
    pub(crate) runs: u64,
    pub(crate) elements: u64,
    pub(crate) seconds: f64,
    /// The flow's throughput per round, elements per second.
    pub(crate) elements_per_second: Spread,
    pub(crate) latency_ns: Latency,
    /// Per node, its time per element that entered the flow, per round, in
    /// nanoseconds (`RunResult::node_time_ns` over the round's elements).
    pub(crate) node_ns_per_element: BTreeMap<String, Spread>,
}

impl Measurement {
    /// A measurement of this form.
    pub(crate) fn form() -> u32 {
        FORM
    }
}

/// Whether a change is beyond the run-to-run spread.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Verdict {
    Faster,
    Slower,
    WithinNoise,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Faster => "faster",
            Verdict::Slower => "slower",
            Verdict::WithinNoise => "within noise",
        })
    }
}

/// One compared number: the whole flow's throughput or a node's time.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Change {
    /// `total`, or the node's name.
    pub(crate) name: String,
    /// `elements/s` (higher is faster) or `ns/element` (lower is faster).
    pub(crate) unit: &'static str,
    pub(crate) baseline: f64,
    pub(crate) now: f64,
    /// The change of the median, in percent of the baseline's.
    pub(crate) change_percent: f64,
    pub(crate) verdict: Verdict,
}

/// A run compared with a baseline.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Comparison {
    /// The baseline's name or path, as given.
    pub(crate) baseline: String,
    pub(crate) path: PathBuf,
    /// The total first, then the nodes both runs have.
    pub(crate) changes: Vec<Change>,
}

/// The verdict: the rounds of the two runs do not overlap (every round of
/// one beat every round of the other), or the change is within the spread.
fn judge(baseline: &Spread, now: &Spread, higher_is_faster: bool) -> Verdict {
    let (better, worse) = if higher_is_faster {
        (now.min > baseline.max, now.max < baseline.min)
    } else {
        (now.max < baseline.min, now.min > baseline.max)
    };
    match (better, worse) {
        (true, _) => Verdict::Faster,
        (_, true) => Verdict::Slower,
        _ => Verdict::WithinNoise,
    }
}

fn change(name: &str, unit: &'static str, baseline: &Spread, now: &Spread, higher: bool) -> Change {
    let change_percent = if baseline.median == 0.0 {
        0.0
    } else {
        (now.median - baseline.median) / baseline.median * 100.0
    };
    Change {
        name: name.to_string(),
        unit,
        baseline: baseline.median,
        now: now.median,
        change_percent,
        verdict: judge(baseline, now, higher),
    }
}

/// Compare `now` with `baseline` (read from `path`, given as `name`).
pub(crate) fn compare(
    name: &str,
    path: &Path,
    baseline: &Measurement,
    now: &Measurement,
) -> Comparison {
    let mut changes = vec![change(
        "total",
        "elements/s",
        &baseline.elements_per_second,
        &now.elements_per_second,
        true,
    )];
    for (node, spread) in &now.node_ns_per_element {
        if let Some(before) = baseline.node_ns_per_element.get(node) {
            changes.push(change(node, "ns/element", before, spread, false));
        }
    }
    Comparison {
        baseline: name.to_string(),
        path: path.to_path_buf(),
        changes,
    }
}

/// The directory of a project's baselines: `.torvyn/bench/` next to its
/// `Torvyn.toml` (where upstream's `torvyn bench` saves its results).
pub(crate) fn baseline_dir(manifest: &Path) -> PathBuf {
    let project = match manifest.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    project.join(".torvyn").join("bench")
}

/// Check a `--baseline` name: a file name, not a path.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    let bad = name.is_empty()
        || name.starts_with('.')
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control);
    if bad {
        return Err(format!(
            "`{name}` is not a baseline name: use letters, digits, `-`, `_` or `.` (not first), \
             say `--baseline v1`; it is saved as .torvyn/bench/<NAME>.json next to Torvyn.toml"
        ));
    }
    Ok(())
}

/// Save `measurement` as baseline `name`; its path.
pub(crate) fn save(
    manifest: &Path,
    name: &str,
    measurement: &Measurement,
) -> Result<PathBuf, String> {
    check_name(name)?;
    let dir = baseline_dir(manifest);
    std::fs::create_dir_all(&dir)
        .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    let path = dir.join(format!("{name}.json"));
    let json = serde_json::to_string_pretty(measurement)
        .map_err(|err| format!("cannot write the baseline: {err}"))?;
    std::fs::write(&path, json + "\n")
        .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    Ok(path)
}

/// Read `--compare NAME_OR_PATH`: a saved baseline's name, or the path of a
/// baseline file (a `.json` path, or one with a directory in it).
pub(crate) fn load(manifest: &Path, name: &str) -> Result<(PathBuf, Measurement), String> {
    let given = Path::new(name);
    let is_path = name.ends_with(".json") || given.components().count() > 1;
    let path = if is_path {
        given.to_path_buf()
    } else {
        baseline_dir(manifest).join(format!("{name}.json"))
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound && !is_path => {
            let saved = saved_names(&baseline_dir(manifest));
            let saved = if saved.is_empty() {
                "none is saved yet".to_string()
            } else {
                format!("saved: {}", saved.join(", "))
            };
            return Err(format!(
                "there is no baseline `{name}` ({} does not exist; {saved}); save one with \
                 `bench --baseline {name}`",
                path.display()
            ));
        }
        Err(err) => {
            return Err(format!(
                "cannot read the baseline {}: {err}",
                path.display()
            ));
        }
    };
    let measurement: Measurement = serde_json::from_str(&text).map_err(|err| {
        format!(
            "{} is not a baseline `bench --baseline` saved: {err}",
            path.display()
        )
    })?;
    if measurement.torvyn_testkit_bench != FORM {
        return Err(format!(
            "{} is a baseline of form {}, this torvyn-testkit reads form {FORM}; save it again",
            path.display(),
            measurement.torvyn_testkit_bench
        ));
    }
    Ok((path, measurement))
}

/// The names of the baselines saved in `dir`, sorted.
fn saved_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            name.strip_suffix(".json").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

/// The comparison's lines, as `bench` prints them (and the pretty report).
pub(crate) fn comparison_text(comparison: &Comparison) -> String {
    let mut text = format!(
        "compared with baseline `{}` ({}); a verdict other than \"within noise\" means every \
         round of one run beat every round of the other:\n",
        comparison.baseline,
        comparison.path.display()
    );
    for change in &comparison.changes {
        let label = if change.name == "total" {
            "total".to_string()
        } else {
            format!("node {}", change.name)
        };
        let _ = writeln!(
            text,
            "  {label}: {:.0} -> {:.0} {} ({:+.1} %): {}",
            change.baseline, change.now, change.unit, change.change_percent, change.verdict
        );
    }
    text
}

/// The report formats (upstream's, and `html`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ReportFormat {
    /// The text `bench` prints.
    Pretty,
    /// The measurement (the form of a saved baseline) and the comparison.
    Json,
    /// One row per number: total and per node.
    Csv,
    /// A Markdown table: total and per node.
    Markdown,
    /// A self-contained HTML report of one more run of the flow.
    Html,
}

/// The JSON report: the measurement, and the comparison if there is one.
pub(crate) fn json(measurement: &Measurement, comparison: Option<&Comparison>) -> String {
    let mut value = serde_json::to_value(measurement).unwrap_or_default();
    if let (Some(comparison), Some(map)) = (comparison, value.as_object_mut()) {
        map.insert(
            "comparison".into(),
            serde_json::to_value(comparison).unwrap_or_default(),
        );
    }
    format!("{value:#}\n")
}

/// The rows of the CSV and Markdown reports: name, unit, median, min, max,
/// then the baseline's median, the change and the verdict (empty without one).
fn rows(measurement: &Measurement, comparison: Option<&Comparison>) -> Vec<[String; 8]> {
    let compared = |name: &str| {
        comparison
            .and_then(|c| c.changes.iter().find(|change| change.name == name))
            .map_or_else(
                || [String::new(), String::new(), String::new()],
                |change| {
                    [
                        format!("{:.0}", change.baseline),
                        format!("{:+.1}", change.change_percent),
                        change.verdict.to_string(),
                    ]
                },
            )
    };
    let row = |name: &str, unit: &str, spread: &Spread| {
        let [baseline, percent, verdict] = compared(name);
        [
            name.to_string(),
            unit.to_string(),
            format!("{:.0}", spread.median),
            format!("{:.0}", spread.min),
            format!("{:.0}", spread.max),
            baseline,
            percent,
            verdict,
        ]
    };
    let mut rows = vec![row("total", "elements/s", &measurement.elements_per_second)];
    for (node, spread) in &measurement.node_ns_per_element {
        rows.push(row(node, "ns/element", spread));
    }
    rows
}

const HEADER: [&str; 8] = [
    "name",
    "unit",
    "median",
    "min",
    "max",
    "baseline",
    "change_percent",
    "verdict",
];

/// The CSV report.
pub(crate) fn csv(
    measurement: &Measurement,
    comparison: Option<&Comparison>,
) -> Result<String, String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let error = |err: csv::Error| format!("cannot write the CSV report: {err}");
    writer.write_record(HEADER).map_err(error)?;
    for row in rows(measurement, comparison) {
        writer.write_record(&row).map_err(error)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|err| format!("cannot write the CSV report: {err}"))?;
    String::from_utf8(bytes).map_err(|err| format!("cannot write the CSV report: {err}"))
}

/// The Markdown report: a heading line and one table.
pub(crate) fn markdown(measurement: &Measurement, comparison: Option<&Comparison>) -> String {
    let mut text = format!(
        "**bench of flow `{}`** ({} builds): {} runs, {} elements in {:.2} s after a {:.1} s \
         warm-up; {} rounds; latency p50 {} µs, p99 {} µs\n\n",
        measurement.flow,
        measurement.profile,
        measurement.runs,
        measurement.elements,
        measurement.seconds,
        measurement.warmup_seconds,
        measurement.elements_per_second.rounds.len(),
        measurement.latency_ns.p50 / 1000,
        measurement.latency_ns.p99 / 1000,
    );
    if let Some(comparison) = comparison {
        let _ = writeln!(text, "Compared with baseline `{}`.\n", comparison.baseline);
    }
    text.push_str("| name | unit | median | min | max | baseline | change % | verdict |\n");
    text.push_str("|---|---|---:|---:|---:|---:|---:|---|\n");
    for row in rows(measurement, comparison) {
        let cells: Vec<String> = row.iter().map(|cell| cell.replace('|', "\\|")).collect();
        let _ = writeln!(text, "| {} |", cells.join(" | "));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread(rounds: &[f64]) -> Spread {
        Spread::of(rounds.to_vec())
    }

    #[test]
    fn verdicts_need_rounds_that_do_not_overlap() {
        let base = spread(&[100.0, 105.0, 110.0]);
        assert_eq!(
            judge(&base, &spread(&[111.0, 120.0]), true),
            Verdict::Faster
        );
        assert_eq!(judge(&base, &spread(&[90.0, 99.0]), true), Verdict::Slower);
        assert_eq!(
            judge(&base, &spread(&[104.0, 130.0]), true),
            Verdict::WithinNoise
        );
        // Times: lower is faster.
        assert_eq!(judge(&base, &spread(&[90.0, 99.0]), false), Verdict::Faster);
        assert_eq!(judge(&base, &spread(&[111.0]), false), Verdict::Slower);
    }

    #[test]
    fn names_are_file_names() {
        assert!(check_name("v1.0").is_ok());
        for bad in ["", ".hidden", "a/b", "a\\b"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
