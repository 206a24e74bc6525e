//! `check` calls each node's `init` with its config, as `run` would (without
//! pulling elements), so a config the component rejects fails `check` with
//! the line and column of the node's `config` key and the component's words;
//! `--no-init` skips it.
//!

use std::path::Path;

use crate::support::{cli, flow_project, temp_dir, text};

/// The flow-project fixture in a directory of its own, its components named
/// by absolute path, with the sink's config misspelt.
fn misconfigured() -> (std::path::PathBuf, usize) {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let original = std::fs::read_to_string(flow_project()).unwrap();
    let good = "config = '{\"pause_every\": 2}'";
    assert!(original.contains(good), "the fixture's sink config moved");
    let text = original
        .replace(
            "../../../../../examples",
            &examples.canonicalize().unwrap().display().to_string(),
        )
        .replace(good, "config = '{\"pause_evry\": 2}'");
    let line = 1 + text
        .lines()
        .position(|line| line.contains("pause_evry"))
        .unwrap();
    let manifest = temp_dir("check-init").join("Torvyn.toml");
    std::fs::write(&manifest, text).unwrap();
    (manifest, line)
}

#[test]
fn check_calls_init_and_points_at_a_rejected_config() {
    let (manifest, line) = misconfigured();
    let out = cli(&["check", "--manifest", manifest.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let expected = format!(
        "error: {}:{line}:10: flow.main.nodes.count.config: `init` rejected the config: ",
        manifest.display()
    );
    let problem = stderr
        .lines()
        .find(|l| l.starts_with(&expected))
        .unwrap_or_else(|| panic!("no `{expected}` in:\n{stderr}"));
    assert!(
        problem.contains("unknown field `pause_evry`, expected `pause_every`"),
        "{problem}"
    );
    // The other nodes are fine.
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("ok  flow.main.nodes.limit: filter"),
        "{stdout}"
    );

    // `--no-init` does not call it.
    let out = cli(&[
        "check",
        "--no-init",
        "--manifest",
        manifest.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}
