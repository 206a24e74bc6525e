//! `--help` says where builds and caches go (never next to the binary).

use crate::support::{Cli, temp};

#[test]
fn help_names_the_build_and_cache_directories() {
    let cache_home = temp("cache-home");
    let out = Cli::new("--help")
        .env("XDG_CACHE_HOME", &cache_home)
        .env_remove("TORVYN_WASM_TARGET_DIR")
        .output();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("target/torvyn-wasm/"), "{help}");
    assert!(help.contains("TORVYN_WASM_TARGET_DIR"), "{help}");
    if cfg!(target_os = "linux") {
        let compiled = cache_home.join("torvyn-testkit").join("compiled");
        assert!(
            help.contains(&compiled.display().to_string()),
            "{help}\ndoes not name {}",
            compiled.display()
        );
    }
    // Nothing was created by asking for help.
    assert!(!cache_home.exists());
}

/// The README's table "Coming from Torvyn's command line" against `--help`:
/// every upstream command in its first column is a verb here, and every
/// upstream option of a row is in that verb's `--help` (the global ones in
/// the top-level help), unless the row says this CLI has no such option
/// (`—`) or answers it with an error (`exit 1`).
#[test]
fn every_upstream_option_in_the_readme_table_is_in_the_help() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let section = readme
        .split("## Coming from Torvyn's command line")
        .nth(1)
        .expect("README.md has the section `Coming from Torvyn's command line`");
    let rows: Vec<Vec<&str>> = section
        .lines()
        .take_while(|line| !line.starts_with("## "))
        .filter(|line| {
            line.starts_with("| `") || line.starts_with("| Ctrl") || line.starts_with("| —")
        })
        .map(|line| line.split(" | ").collect())
        .collect();
    assert!(rows.len() > 30, "the table has {} rows", rows.len());
    let mut verb = String::new();
    let mut checked = 0;
    for row in &rows {
        let (upstream, ours) = (row[0].trim_start_matches("| "), row[1]);
        if let Some(rest) = upstream.strip_prefix("`torvyn ") {
            verb = rest.split([' ', '`', ',']).next().unwrap().to_string();
        } else if let Some(first) = upstream.strip_prefix('`')
            && !first.starts_with('-')
        {
            verb = first.split([' ', '`']).next().unwrap().to_string();
        }
        if ours.starts_with('—') || ours.starts_with("exit 1") || !upstream.contains("--") {
            continue;
        }
        let global = upstream.contains("(global)");
        let help = if global {
            Cli::new("--help").output()
        } else {
            Cli::new(&verb).arg("--help").output()
        };
        assert!(help.status.success(), "`{verb} --help` failed");
        let help = String::from_utf8_lossy(&help.stdout);
        for option in upstream
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|word| word.starts_with("--") && word.len() > 2)
        {
            assert!(
                help.contains(option),
                "README's row `{upstream}` names {option}, which `torvyn-testkit {}--help` \
                 does not list",
                if global {
                    String::new()
                } else {
                    format!("{verb} ")
                }
            );
            checked += 1;
        }
    }
    assert!(checked > 35, "only {checked} options were checked");
    // The verbs upstream has and this CLI answers, even if only to refuse.
    for verb in [
        "init",
        "check",
        "link",
        "run",
        "trace",
        "bench",
        "pack",
        "publish",
        "inspect",
        "doctor",
        "completions",
    ] {
        assert!(
            Cli::new(verb).arg("--help").output().status.success(),
            "no verb `{verb}`"
        );
    }
}
