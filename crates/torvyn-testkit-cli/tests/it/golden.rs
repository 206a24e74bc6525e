//! Golden runs from the command line: `run --expect golden.jsonl` compares
//! what the sinks received with a golden file, `--bless` rewrites it (the
//! library side, `Golden`, is tested in the testkit's `tests/it/superpowers.rs`).

use crate::support::{Cli, flow_project, temp};

#[test]
fn the_cli_compares_with_expect_and_rewrites_with_bless() {
    let manifest = flow_project();
    let expected = temp("cli-expected.jsonl");
    let _ = std::fs::remove_file(&expected);
    let run = |extra: &[&str]| {
        Cli::new("run")
            .manifest(&manifest)
            .arg("--expect")
            .arg(&expected)
            .args(extra)
            .env_remove("TORVYN_BLESS")
            .output()
    };
    let missing = run(&[]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("--bless"));

    let blessed = run(&["--bless"]);
    assert!(
        blessed.status.success(),
        "{}",
        String::from_utf8_lossy(&blessed.stderr)
    );
    let text = std::fs::read_to_string(&expected).unwrap();
    // Six lines go in, the rate limiter passes four.
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(!text.contains("timestamp"), "{text}");

    let matched = run(&[]);
    assert!(
        matched.status.success(),
        "{}",
        String::from_utf8_lossy(&matched.stderr)
    );

    std::fs::write(&expected, text.replacen(r#""n":0"#, r#""n":7"#, 1)).unwrap();
    let differs = run(&[]);
    assert_eq!(differs.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&differs.stderr);
    assert!(stderr.contains("first difference at element 0"), "{stderr}");
    assert!(
        stderr.contains("json $.n: expected 7, received 0"),
        "{stderr}"
    );
}
