//! Every template in `templates/` generates, with `torvyn-testkit init` (by
//! upstream's template name), the same bytes as with the real `cargo
//! generate`, and a project whose `cargo test` passes on the first try:
//! native unit tests and the compiled-wasm test both run and pass, and the
//! generated code is formatted, warning-free and clippy-clean.
//!
//! Run: `cargo test -p template-tests --test it templates::` (needs
//! cargo-generate: `./scripts/setup.sh`). The projects are serialised (see
//! [`serial`]).

use template_tests::{TestRun, cargo_clippy, cargo_fmt_check, cargo_test, generate};

use crate::serial;

/// Generates `template` as `name`, runs its `cargo test`, and checks that it
/// passed and that at least `min_unit` native unit tests and one test in each
/// of `wasm_tests` ran.
fn check(template: &str, name: &str, min_unit: u64, wasm_tests: &[&str]) -> TestRun {
    let _serial = serial();
    let project = generate(template, name).unwrap_or_else(|err| panic!("{err}"));
    let unexpanded = template_tests::unexpanded_placeholders(&project);
    assert!(
        unexpanded.is_empty(),
        "unexpanded template syntax in {unexpanded:?}"
    );
    cargo_fmt_check(&project).unwrap_or_else(|err| panic!("{err}"));
    let run = cargo_test(&project).unwrap_or_else(|err| panic!("{err}"));
    eprintln!(
        "template `{template}`: {} passed in {:.1?} ({:?})",
        run.passed, run.elapsed, run.targets
    );
    assert!(
        run.failed == 0,
        "`cargo test` of the project generated from `{template}` failed:\n{}\n\nthe whole log:\n{}",
        run.failures(),
        run.output
    );
    let warnings = run.warnings_in(name);
    assert!(
        warnings.is_empty(),
        "the project generated from `{template}` has warnings: {warnings:?}\n{}",
        run.output
    );
    let unit = run.passed_in("src/lib.rs");
    assert!(
        unit >= min_unit,
        "`{template}`: {unit} native unit tests passed, expected at least {min_unit}:\n{}",
        run.output
    );
    for wasm_test in wasm_tests {
        assert!(
            run.passed_in(wasm_test) >= 1,
            "`{template}`: no test in `{wasm_test}` passed:\n{}",
            run.output
        );
    }
    cargo_clippy(&project, name).unwrap_or_else(|err| panic!("{err}"));
    // The README's second command: the release profile builds a component.
    for crate_dir in component_crates(&project) {
        let (wasm, size) =
            template_tests::release_build(&crate_dir).unwrap_or_else(|err| panic!("{err}"));
        eprintln!(
            "template `{template}`: release {} ({size} bytes)",
            wasm.display()
        );
    }
    run
}

/// The component crates of a generated project: the project itself, or the
/// members in `components/` for the pipeline.
fn component_crates(project: &std::path::Path) -> Vec<std::path::PathBuf> {
    let components = project.join("components");
    if components.is_dir() {
        let mut crates: Vec<_> = std::fs::read_dir(&components)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        crates.sort();
        assert_eq!(crates.len(), 3, "{crates:?}");
        crates
    } else {
        vec![project.to_path_buf()]
    }
}

#[test]
fn filter_template() {
    check("filter", "my-filter", 3, &["tests/wasm.rs"]);
}

#[test]
fn processor_template() {
    check("processor", "my-processor", 3, &["tests/wasm.rs"]);
}

#[test]
fn source_template() {
    check("source", "my-source", 3, &["tests/wasm.rs"]);
}

#[test]
fn sink_template() {
    check("sink", "my-sink", 2, &["tests/wasm.rs"]);
}

#[test]
fn router_template() {
    check("router", "my-router", 3, &["tests/wasm.rs"]);
}

#[test]
fn aggregator_template() {
    check("aggregator", "my-aggregator", 2, &["tests/wasm.rs"]);
}

#[test]
fn pipeline_template() {
    // Unit tests of the three components (each its own `src/lib.rs`) and the
    // flow checks.
    let run = check("pipeline", "my-pipeline", 5, &["tests/flow.rs"]);
    assert!(
        run.passed_in("tests/flow.rs") >= 3,
        "the three flow checks must run: {:?}",
        run.targets
    );
}

#[test]
fn templates_directory_has_exactly_these_templates() {
    let root = template_tests::workspace_root().join("templates");
    let mut found: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| root.join(name).join("cargo-generate.toml").is_file())
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            "aggregator",
            "filter",
            "pipeline",
            "processor",
            "router",
            "sink",
            "source"
        ],
        "a new template needs its test here"
    );
}

/// Without `torvyn_path`, every template depends on the published crates
/// (`0.1` from crates.io), and its manifests are valid (`cargo metadata
/// --no-deps` reads them without resolving the registry); `torvyn-testkit
/// init` without `--torvyn-path` generates the same bytes.
#[test]
fn default_dependencies_come_from_crates_io() {
    let _serial = serial();
    for template in [
        "filter",
        "processor",
        "source",
        "sink",
        "router",
        "aggregator",
        "pipeline",
    ] {
        let destination = template_tests::work_dir()
            .join("gen-crates-io")
            .join(template);
        let project = template_tests::generate_into(template, "from-crates-io", None, &destination)
            .unwrap_or_else(|err| panic!("{err}"));
        let init = template_tests::init_into(
            template,
            "from-crates-io",
            None,
            &template_tests::work_dir()
                .join("gen-crates-io-init")
                .join(template),
        )
        .unwrap_or_else(|err| panic!("{err}"));
        let differences = template_tests::tree_differences(&project, &init).unwrap();
        assert!(
            differences.is_empty(),
            "`init` and `cargo generate` of `{template}` differ:\n{}",
            differences.join("\n")
        );
        let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains("torvyn-guest = \"0.1\"")
                && manifest.contains("torvyn-testkit = \"0.1\""),
            "`{template}`:\n{manifest}"
        );
        assert!(
            !manifest.contains("path = \"/"),
            "`{template}`:\n{manifest}"
        );
        assert!(
            !manifest.contains("{{"),
            "unexpanded placeholder in `{template}`"
        );
        let out = std::process::Command::new("cargo")
            .args([
                "metadata",
                "--no-deps",
                "--format-version",
                "1",
                "--offline",
            ])
            .current_dir(&project)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`{template}`: cargo metadata failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `cargo generate --git <repository> templates/<role>` (the repository's
/// subfolder form) generates the same projects. The repository is this
/// checkout, so no network is used; cargo-generate clones its committed `HEAD`.
#[test]
fn git_subfolder_form_generates_every_template() {
    let root = template_tests::workspace_root();
    if !root.join(".git").exists() {
        eprintln!("not a git checkout: the `--git` form is not checked");
        return;
    }
    let _serial = serial();
    template_tests::check_cargo_generate().unwrap_or_else(|err| panic!("{err}"));
    for template in [
        "filter",
        "processor",
        "source",
        "sink",
        "router",
        "aggregator",
        "pipeline",
    ] {
        let destination = template_tests::work_dir().join("gen-git").join(template);
        if destination.exists() {
            std::fs::remove_dir_all(&destination).unwrap();
        }
        std::fs::create_dir_all(&destination).unwrap();
        let out = std::process::Command::new("cargo")
            .arg("generate")
            .arg("--git")
            .arg(&root)
            .arg(format!("templates/{template}"))
            .args(["--name", "via-git", "--silent", "--vcs", "none"])
            .arg("--destination")
            .arg(&destination)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`cargo generate --git . templates/{template}` failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let project = destination.join("via-git");
        let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains("name = \"via-git\""),
            "`{template}`:\n{manifest}"
        );
        assert!(project.join("README.md").is_file());
        assert!(
            template_tests::unexpanded_placeholders(&project).is_empty(),
            "`{template}`"
        );
    }
}
