//! Upstream torvyn's command line, here: the global options (`-v`, `-q`,
//! `--format human|json`, `--color`) on every verb, `init` from the embedded
//! templates, `completions`, and `pack`/`publish` answering that they are not
//! part of this toolkit. (That `init` writes exactly what `cargo generate`
//! writes, and that each project's `cargo test` passes, is template-tests'.)

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::support::{Cli, cli, flow_project, temp_dir, text};

/// The templates by upstream's names, and the file each one's project has
/// that tells it apart.
const TEMPLATES: [(&str, &str); 7] = [
    ("source", "tests/wasm.rs"),
    ("sink", "tests/wasm.rs"),
    ("transform", "tests/wasm.rs"),
    ("filter", "tests/wasm.rs"),
    ("router", "tests/wasm.rs"),
    ("aggregator", "tests/wasm.rs"),
    ("full-pipeline", "Torvyn.toml"),
];

/// `torvyn-testkit <args>` in `dir`.
fn cli_in(dir: &Path, args: &[&str]) -> Output {
    let (first, rest) = args.split_first().expect("a verb");
    Cli::new(first).args(rest).current_dir(dir).output()
}

#[test]
fn help_lists_every_upstream_command_and_global_option() {
    let out = cli(&["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for verb in [
        "init",
        "check",
        "run",
        "trace",
        "bench",
        "inspect",
        "completions",
        "pack",
        "publish",
    ] {
        assert!(
            help.lines().any(|line| line.trim_start().starts_with(verb)),
            "no `{verb}` in:\n{help}"
        );
    }
    for option in [
        "-v, --verbose",
        "-q, --quiet",
        "--format <FORMAT>",
        "--color <WHEN>",
    ] {
        assert!(help.contains(option), "no `{option}` in:\n{help}");
    }
    assert!(
        help.contains("Not part of this toolkit: upstream torvyn's `pack` and `publish`"),
        "{help}"
    );
    // The global options are on every verb's help too.
    let out = cli(&["inspect", "--help"]);
    let help = text(&out.stdout);
    for option in ["--quiet", "--format", "--color", "--verbose"] {
        assert!(help.contains(option), "no `{option}` in:\n{help}");
    }

    let out = cli(&["init", "--help"]);
    let help = text(&out.stdout);
    for option in [
        "[PROJECT_NAME]",
        "-t, --template <TEMPLATE>",
        "-l, --language <LANGUAGE>",
        "--no-git",
        "--no-example",
        "--contract-version <VERSION>",
        "[default: 0.1.0]",
        "--force",
        "[default: transform]",
        "[default: rust]",
    ] {
        assert!(help.contains(option), "no `{option}` in:\n{help}");
    }
    for (template, _) in TEMPLATES {
        assert!(
            help.contains(&format!("- {template}:")),
            "no `{template}`:\n{help}"
        );
    }
}

#[test]
fn init_creates_every_template_by_upstreams_names() {
    let dir = temp_dir("projects");
    for (template, marker) in TEMPLATES {
        let name = format!("my-{template}");
        let out = cli_in(&dir, &["init", &name, "--template", template, "--no-git"]);
        assert!(out.status.success(), "{template}: {}", text(&out.stderr));
        let project = dir.join(&name);
        assert!(project.join(marker).is_file(), "{template}: no {marker}");
        let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "{manifest}"
        );
        // The default: crates.io's 0.1, as cargo-generate without torvyn_path.
        assert!(manifest.contains("torvyn-guest = \"0.1\""), "{manifest}");
        assert!(!project.join("cargo-generate.toml").exists());
        assert!(
            !project.join(".git").exists(),
            "{template}: --no-git made a repository"
        );
        let stdout = text(&out.stdout);
        assert!(
            stdout.contains("next steps:") && stdout.contains("cargo test"),
            "{stdout}"
        );
    }
    // The default template is upstream's: `transform` (this toolkit's processor).
    let out = cli_in(&dir, &["init", "plain", "--no-git"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lib = std::fs::read_to_string(dir.join("plain/src/lib.rs")).unwrap();
    assert!(lib.contains("processor"), "{lib}");
}

#[test]
fn init_with_a_torvyn_path_depends_on_that_checkout() {
    let dir = temp_dir("local");
    let out = cli_in(
        &dir,
        &[
            "init",
            "p",
            "-t",
            "full-pipeline",
            "--no-git",
            "--torvyn-path",
            "/opt/toolkit",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let manifest = std::fs::read_to_string(dir.join("p/Cargo.toml")).unwrap();
    assert!(
        manifest.contains("torvyn-testkit = { path = \"/opt/toolkit/crates/torvyn-testkit\" }"),
        "{manifest}"
    );
}

#[test]
fn init_reports_json_and_quiet_drops_the_next_steps() {
    let dir = temp_dir("json");
    let out = cli_in(
        &dir,
        &["init", "j", "--format", "json", "-t", "sink", "--no-git"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["project_name"], "j");
    assert_eq!(report["template"], "sink");
    assert_eq!(report["toolkit_template"], "sink");
    assert_eq!(report["directory"], "j");
    assert_eq!(report["git_initialized"], false);
    let files: Vec<&str> = report["files_created"]
        .as_array()
        .unwrap()
        .iter()
        .map(|file| file.as_str().unwrap())
        .collect();
    assert!(
        files.contains(&"Cargo.toml") && files.contains(&"src/lib.rs"),
        "{files:?}"
    );
    for file in &files {
        assert!(dir.join("j").join(file).is_file(), "{file}");
    }

    // `text` is `human`, before or after the verb; `-q` keeps the result.
    let out = cli_in(&dir, &["--format", "text", "-q", "init", "q", "--no-git"]);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success() && stdout.starts_with("created project `q`"),
        "{stdout}"
    );
    assert!(!stdout.contains("next steps"), "{stdout}");
}

#[test]
fn init_refuses_a_non_empty_directory_unless_forced() {
    let dir = temp_dir("force");
    std::fs::create_dir_all(dir.join("taken")).unwrap();
    std::fs::write(dir.join("taken/notes.txt"), "mine").unwrap();
    std::fs::write(dir.join("taken/Cargo.toml"), "old").unwrap();
    let out = cli_in(&dir, &["init", "taken", "--no-git"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("directory `taken` already exists and is not empty; use --force"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("taken/Cargo.toml")).unwrap(),
        "old"
    );

    let out = cli_in(&dir, &["init", "taken", "--no-git", "--force"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        std::fs::read_to_string(dir.join("taken/Cargo.toml"))
            .unwrap()
            .contains("name = \"taken\"")
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("taken/notes.txt")).unwrap(),
        "mine"
    );

    // Without a name: the current directory, named after it; empty is fine.
    let here = temp_dir("here-project");
    let out = cli_in(&here, &["init", "--no-git", "-t", "filter"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        std::fs::read_to_string(here.join("Cargo.toml"))
            .unwrap()
            .contains("name = \"here-project\"")
    );
    let out = cli_in(&here, &["init", "--no-git"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

#[test]
fn init_rejects_other_languages_contract_versions_and_bad_names() {
    let dir = temp_dir("errors");
    let cases: [(&[&str], &str); 4] = [
        (
            &["init", "a", "--language", "go"],
            "--language go: this toolkit's templates are Rust only",
        ),
        (
            &["init", "a", "-l", "python"],
            "--language python: this toolkit's templates are Rust only",
        ),
        (
            &["init", "a", "--contract-version", "0.2.0"],
            "--contract-version 0.2.0: the templates target the Torvyn 0.1.0 contract",
        ),
        (
            &["init", "1st"],
            "the project name `1st` starts with a hyphen or a digit",
        ),
    ];
    for (args, message) in cases {
        let out = cli_in(&dir, args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    let out = cli_in(&dir, &["init", "a", "--template", "cobol"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "an error created files"
    );
}

#[test]
fn init_makes_a_git_repository_and_warns_without_git() {
    let dir = temp_dir("git");
    let has_git = std::process::Command::new("git")
        .arg("--version")
        .output()
        .is_ok();
    if has_git {
        let out = cli_in(&dir, &["--format", "json", "init", "g"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["git_initialized"], true);
        assert!(dir.join("g/.git").is_dir());
    }
    // No git on PATH: the project is made, with a warning.
    let out = Cli::new("init")
        .args(["nogit", "--format", "json"])
        .current_dir(&dir)
        .env("PATH", temp_dir("empty-path"))
        .output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["git_initialized"], false);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("warning: the project is not a git repository: cannot run git"),
        "{stderr}"
    );
    assert!(dir.join("nogit/Cargo.toml").is_file() && !dir.join("nogit/.git").exists());
}

#[test]
fn completions_are_written_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = cli(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        assert!(script.contains("torvyn-testkit"), "{shell}:\n{script}");
        assert!(
            script.contains("inspect") && script.contains("template"),
            "{shell}:\n{script}"
        );
    }
    let out = cli(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    let out = cli(&["--format", "json", "completions", "bash"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("prints a shell script, not JSON"));
}

#[test]
fn pack_and_publish_say_they_are_not_part_of_this_toolkit() {
    for (args, upstream) in [
        (&["pack"][..], "use `torvyn pack`"),
        (&["pack", "--tag", "v1", "--sign"][..], "use `torvyn pack`"),
        (&["publish", "--dry-run"][..], "use `torvyn publish`"),
    ] {
        let out = cli(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("is not part of this toolkit") && stderr.contains(upstream),
            "{stderr}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn global_options_parse_as_upstreams() {
    // `-v` and `-q` exclude each other, as upstream's.
    let out = cli(&["-v", "-q", "completions", "bash"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot be used with"));
    // `--color` colours the parser's messages, and only when asked.
    let out = cli(&["--color", "always", "run", "--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("\u{1b}["),
        "{}",
        text(&out.stderr)
    );
    let out = cli(&["run", "--bogus", "--color=never"]);
    assert!(
        !text(&out.stderr).contains("\u{1b}["),
        "{}",
        text(&out.stderr)
    );
    // The flag wins over `NO_COLOR` (no-color.org).
    let out = Cli::new("--color")
        .args(["always", "--help"])
        .env("NO_COLOR", "1")
        .output();
    assert!(text(&out.stdout).contains("\u{1b}["));
    let out = Cli::new("--help").env("NO_COLOR", "1").output();
    assert!(!text(&out.stdout).contains("\u{1b}["));
    // `--format` takes upstream's values and `text`.
    let out = cli(&["--format", "yaml", "completions", "bash"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn run_quiet_and_prefix_nodes_and_graph_with_json_are_refused() {
    let manifest = flow_project();
    let manifest = manifest.to_str().unwrap();
    let out = cli(&["run", "--manifest", manifest, "-q", "--prefix-nodes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("--prefix-nodes marks the components' lines, which -q/--quiet hides")
    );
    for verb in ["run", "check"] {
        let out = cli(&[
            verb,
            "--manifest",
            manifest,
            "--graph",
            "dot",
            "--format",
            "json",
        ]);
        assert_eq!(out.status.code(), Some(1), "{verb}");
        assert!(
            text(&out.stderr).contains("--graph prints the graph"),
            "{verb}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn check_prints_json_and_quiet_drops_the_ok_lines() {
    let manifest = flow_project();
    let manifest = manifest.to_str().unwrap();
    let out = cli(&["check", "--manifest", manifest, "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["problems"], serde_json::json!([]));
    let ok = report["ok"].as_array().unwrap();
    assert_eq!(ok.len(), 4, "{report}");
    assert!(
        ok.iter()
            .any(|node| node["node"] == "flow.main.nodes.count" && node["role"] == "sink"),
        "{report}"
    );

    let out = cli(&["check", "--manifest", manifest, "-q"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        !stdout.contains("ok  ") && stdout.ends_with(": no problems\n"),
        "{stdout}"
    );
}

#[test]
fn init_empty_writes_upstreams_skeleton_which_checks() {
    let dir = temp_dir("empty");
    let out = cli_in(&dir, &["init", "bare", "-t", "empty", "--no-git"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout)
            .starts_with("created project `bare` from template `empty` (upstream's skeleton)"),
        "{}",
        text(&out.stdout)
    );
    let project = dir.join("bare");
    assert_eq!(
        std::fs::read_to_string(project.join("Torvyn.toml")).unwrap(),
        "[torvyn]\nname = \"bare\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n"
    );
    assert_eq!(
        std::fs::read_to_string(project.join(".gitignore")).unwrap(),
        "target/\n.torvyn/\n*.wasm\n"
    );
    let mut files: Vec<_> = std::fs::read_dir(&project)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    files.sort();
    assert_eq!(files, [".gitignore", "Torvyn.toml"]);
    // The manifest is a valid one: `check` finds no problem.
    let out = cli_in(&project, &["check"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}
