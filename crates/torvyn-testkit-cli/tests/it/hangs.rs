//! The command line stops a flow whose source never ends (`--max-elements`,
//! `--timeout`), still prints the report, and warns about a failed teardown.
//! The subjects are the testkit's raw wit-bindgen fixtures `raw-endless-source`
//! and `raw-wait-processor` (see the testkit's `tests/it/hangs.rs`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use torvyn_testkit::Component;

use crate::support::{Cli, fixture, temp_dir, text};

fn waiter() -> Component {
    fixture("raw-wait-processor")
}

fn cli_manifest(name: &str, wait_config: &str) -> PathBuf {
    let dir = temp_dir(&format!("hangs-{name}"));
    let manifest = dir.join("Torvyn.toml");
    let source = fixture("raw-endless-source");
    let wait = waiter();
    std::fs::write(
        &manifest,
        format!(
            r#"[torvyn]
name = "endless"
version = "0.1.0"
contract_version = "0.1.0"

[testkit]
clock = "virtual"
random_seed = 3

[flow.main.nodes.numbers]
component = "file://{}"
interface = "torvyn:streaming/source"

[flow.main.nodes.wait]
component = "file://{}"
interface = "torvyn:streaming/processor"
config = "{wait_config}"

[flow.main.nodes.out]
component = "file://{}"
interface = "torvyn:streaming/sink"

[[flow.main.edges]]
from = {{ node = "numbers", port = "output" }}
to = {{ node = "wait", port = "input" }}

[[flow.main.edges]]
from = {{ node = "wait", port = "output" }}
to = {{ node = "out", port = "input" }}
"#,
            source.path().display(),
            wait.path().display(),
            fixture("raw-stdout-sink").path().display(),
        ),
    )
    .unwrap();
    manifest
}

/// Runs `cli`: its exit code, stdout and stderr.
fn run(cli: Cli) -> (Option<i32>, String, String) {
    let out = cli.output();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn the_cli_stops_an_endless_flow_and_reports_a_failed_teardown() {
    let manifest = cli_manifest("limits", "panic");
    let manifest = manifest.to_str().unwrap();
    let (code, stdout, stderr) = run(Cli::new("run")
        .manifest(manifest)
        .args(["--max-elements", "50"])
        .format("json"));
    assert_eq!(code, Some(1), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["elements"], 50);
    assert_eq!(report["nodes"]["out"]["in"], 50);
    assert!(
        stderr.contains("torvyn-testkit: flow `main` failed: stopped at its element limit"),
        "{stderr}"
    );
    let teardown = report["teardown_errors"]["wait"].as_str().unwrap();
    assert!(
        teardown
            .contains("trapped in `teardown`: the component panicked: teardown failed on purpose"),
        "{teardown}"
    );
    assert!(
        stderr.contains("torvyn-testkit: warning: the teardown of node `wait` failed: node `wait` (processor) trapped in `teardown`"),
        "{stderr}"
    );

    // `--log-level error` hides the command's warnings (the JSON keeps them).
    let (code, stdout, stderr) = run(Cli::new("run")
        .manifest(manifest)
        .args(["--max-elements", "50", "--log-level", "error"])
        .format("json"));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    assert!(stdout.contains("teardown failed on purpose"), "{stdout}");

    let started = Instant::now();
    let (code, stdout, stderr) = run(Cli::new("trace")
        .manifest(manifest)
        .args(["--timeout", "300ms"]));
    assert!(started.elapsed() < Duration::from_secs(8));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stdout.contains("elem-0  ┬─ numbers") && stdout.contains("└─ out"),
        "{stdout}"
    );
    assert!(
        stderr.contains("stopped at its time limit of 300ms (wall time)"),
        "{stderr}"
    );

    let (code, _, stderr) = run(Cli::new("run").manifest(manifest).args(["--clock", "wall"]));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("`wall` is not a clock mode"), "{stderr}");
}
