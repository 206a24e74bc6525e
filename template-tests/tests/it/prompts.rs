//! Every template generates without a terminal (stdin not a terminal, as in
//! a script or CI) when every value is given with `--define`, or with
//! `--silent`; and every placeholder (a question cargo-generate asks) is
//! documented in `templates/README.md` and the guide.
//!
//! Run: `cargo test -p template-tests --test it prompts::` (needs cargo-generate;
//! a few seconds).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use template_tests::{check_cargo_generate, unexpanded_placeholders, work_dir, workspace_root};

const TEMPLATES: [&str; 7] = [
    "filter",
    "processor",
    "source",
    "sink",
    "router",
    "aggregator",
    "pipeline",
];

/// The placeholders of `template`, from its `cargo-generate.toml`
/// (`[placeholders.<name>]` tables).
fn placeholders(template: &str) -> Vec<String> {
    let path = workspace_root()
        .join("templates")
        .join(template)
        .join("cargo-generate.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("[placeholders."))
        .filter_map(|rest| rest.strip_suffix(']'))
        .map(str::to_string)
        .collect()
}

/// `cargo generate` of `template` as `name` into a fresh `dir`, with `args`,
/// stdin, stdout and stderr not a terminal.
fn generate(template: &str, name: &str, dir: &Path, args: &[String]) -> (Output, PathBuf) {
    if dir.exists() {
        std::fs::remove_dir_all(dir).unwrap();
    }
    std::fs::create_dir_all(dir).unwrap();
    let out = Command::new("cargo")
        .arg("generate")
        .arg("--path")
        .arg(workspace_root().join("templates").join(template))
        .args(["--name", name, "--vcs", "none", "--destination"])
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (out, dir.join(name))
}

fn assert_generated(template: &str, how: &str, out: &Output, project: &Path) {
    assert!(
        out.status.success() && project.join("Cargo.toml").is_file(),
        "`{template}` {how}: cargo generate failed without a terminal:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        unexpanded_placeholders(project).is_empty(),
        "`{template}` {how}"
    );
}

#[test]
fn every_template_generates_without_a_terminal_given_every_value_or_silent() {
    check_cargo_generate().unwrap_or_else(|err| panic!("{err}"));
    let root = workspace_root();
    for template in TEMPLATES {
        let base = work_dir().join("gen-prompts").join(template);
        // Every value given, no `--silent`.
        let defines: Vec<String> = placeholders(template)
            .iter()
            .flat_map(|name| {
                let value = match name.as_str() {
                    "torvyn_path" => root.display().to_string(),
                    "in_workspace" => "false".to_string(),
                    other => {
                        panic!("`{template}` has a placeholder this test does not know: {other}")
                    }
                };
                ["--define".to_string(), format!("{name}={value}")]
            })
            .collect();
        let (out, project) = generate(template, "defined", &base.join("defined"), &defines);
        assert_generated(template, "with every --define", &out, &project);
        let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains(&format!(
                "path = \"{}/crates/torvyn-testkit\"",
                root.display()
            )),
            "`{template}`:\n{manifest}"
        );
        // `--silent`: the defaults.
        let (out, project) = generate(
            template,
            "silent",
            &base.join("silent"),
            &["--silent".to_string()],
        );
        assert_generated(template, "with --silent", &out, &project);
    }
}

/// What the docs warn about: a value not given is a question, and without a
/// terminal cargo-generate fails on it (so the docs say to give every value,
/// or `--silent`).
#[test]
fn a_value_not_given_is_a_question_that_fails_without_a_terminal() {
    check_cargo_generate().unwrap_or_else(|err| panic!("{err}"));
    let dir = work_dir().join("gen-prompts").join("missing");
    let (out, _) = generate(
        "filter",
        "missing",
        &dir,
        &[
            "--define".to_string(),
            format!("torvyn_path={}", workspace_root().display()),
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a terminal"), "{stderr}");
}

#[test]
fn every_placeholder_is_documented_in_the_templates_readme_and_the_guide() {
    let root = workspace_root();
    let readme = std::fs::read_to_string(root.join("templates/README.md")).unwrap();
    let guide = std::fs::read_to_string(root.join("docs/guide.md")).unwrap();
    for template in TEMPLATES {
        let names = placeholders(template);
        assert!(!names.is_empty(), "`{template}` has no placeholders?");
        for name in names {
            let row = format!("| `{name}` |");
            assert!(
                readme.contains(&row),
                "templates/README.md does not document `{name}` of `{template}`"
            );
            assert!(
                guide.contains(&row),
                "docs/guide.md does not document `{name}` of `{template}`"
            );
        }
    }
}
