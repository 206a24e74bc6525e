//! Torvyn's `run --config NODE=VALUE` / `--config NODE.KEY=VALUE` and
//! `--log-level`, on the flow-project fixture (lines -> rate limiter ->
//! enricher -> counting sink; the limiter's config is
//! `{"max_per_second": 2, "window_ms": 3}`, which passes 4 of the 6 lines).

use crate::support::{Cli, flow_project, text};

/// `run` with `args`: exit code, stdout, stderr.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Cli::new("run").manifest(flow_project()).args(args).output();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// The `limit` row's "out" column of the text report.
fn passed(stdout: &str) -> u64 {
    let row = stdout
        .lines()
        .find(|line| line.starts_with("limit "))
        .unwrap_or_else(|| panic!("no `limit` row in:\n{stdout}"));
    row.split_whitespace().nth(3).unwrap().parse().unwrap()
}

#[test]
fn config_replaces_a_nodes_config_or_sets_one_key() {
    // Without --config 4 of the 6 pass (the other areas pin that).
    // Upstream's form: NODE=JSON, the whole config.
    let (code, stdout, stderr) =
        run(&["--config", r#"limit={"max_per_second": 6, "window_ms": 3}"#]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(passed(&stdout), 6);
    assert!(
        stderr.contains("[info] rate limiter: 6 passed, 0 dropped"),
        "{stderr}"
    );

    // NODE.KEY=VALUE: one key of the JSON object, the others kept.
    let (code, stdout, stderr) = run(&["--config", "limit.max_per_second=1"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(passed(&stdout), 2);

    // Applied in order: the later one wins.
    let (_, stdout, _) = run(&[
        "--config",
        "limit.max_per_second=1",
        "--config",
        "limit.max_per_second=6",
    ]);
    assert_eq!(passed(&stdout), 6);

    // A VALUE that is not JSON is a string; the component's own config check
    // then names the field.
    let (code, _, stderr) = run(&["--config", "count.pause_every=x"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("node `count` (sink) returned invalid-input: invalid config for `Config` (field `pause_every`)"),
        "{stderr}"
    );
}

#[test]
fn config_mistakes_name_the_node_and_the_forms() {
    let (code, _, stderr) = run(&["--config", "nosuch=1"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "--config nosuch=1: the flow has no component node `nosuch` (its nodes: source, limit, \
             enrich, count)"
        ),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["--config", "limit"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("`limit` is not NODE=VALUE or NODE.KEY=VALUE"),
        "{stderr}"
    );
    // A key in a config that is not a JSON object.
    let (code, _, stderr) = run(&["--config", "limit=plain", "--config", "limit.x=1"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "node `limit`'s config is not a JSON object with `x` in it (it is `plain`), so there \
             is no key to set; replace it whole with `--config limit=VALUE`"
        ),
        "{stderr}"
    );
}

#[test]
fn log_level_filters_the_components_log_lines() {
    // The components log at `info` on stderr.
    let info = "[info] rate limiter: 4 passed, 2 dropped";
    let (code, _, stderr) = run(&[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains(info), "{stderr}");
    let (_, _, stderr) = run(&["--log-level", "warn"]);
    assert!(!stderr.contains("[info]"), "{stderr}");
    let (code, _, stderr) = run(&["--log-level", "loud"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("[possible values: error, warn, info, debug, trace]"),
        "{stderr}"
    );
}
