//! Adding a component to a generated pipeline project, the way its README and
//! the guide say: `cargo generate --path <toolkit>/templates/<role>
//! --destination components --name <name> --define in_workspace=true` in the
//! project. The new crate is a member through `members = ["components/*"]`,
//! and the project's `cargo test` builds and runs its tests with the others.
//!
//! Run: `cargo test -p template-tests --test it add_component::` (needs
//! cargo-generate: `./scripts/setup.sh`).

use std::path::Path;
use std::process::Command;

use template_tests::{cargo_test, generate_into, work_dir, workspace_root};

use crate::serial;

/// `cargo generate` of a role template in `dir`, as a user would type it.
fn cargo_generate(dir: &Path, template: &str, args: &[&str]) -> std::process::Output {
    Command::new("cargo")
        .arg("generate")
        .arg("--path")
        .arg(workspace_root().join("templates").join(template))
        .args(["--silent", "--vcs", "none"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("cargo runs")
}

/// Tests that passed in the test binary of package `package` (cargo's
/// `Running <target> (.../deps/<crate>-<hash>)` line, then `test result:`).
fn passed_in_package(output: &str, package: &str, target: &str) -> u64 {
    // cargo runs a package's test binaries one after another, its library's
    // unit tests first; an integration test's binary is named after its file
    // (`deps/wasm-<hash>`), so the package is the one of the last
    // `unittests` binary seen.
    let binary = format!("deps/{}-", package.replace('-', "_"));
    let mut in_package = false;
    let mut current = false;
    let mut passed = 0;
    for line in output.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("Running ") {
            if rest.starts_with("unittests ") {
                in_package = rest.contains(&binary);
            }
            current = in_package && rest.starts_with(target);
        } else if let Some(rest) = line.strip_prefix("test result: ")
            && current
        {
            passed += rest
                .split(';')
                .find_map(|part| {
                    part.trim()
                        .trim_start_matches("ok.")
                        .trim()
                        .strip_suffix(" passed")
                })
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
            current = false;
        }
    }
    passed
}

#[test]
fn a_processor_generated_into_components_joins_the_pipeline_workspace() {
    let _serial = serial();
    let root = workspace_root();
    let project = generate_into(
        "pipeline",
        "grow",
        Some(&root),
        &work_dir().join("gen-add-component"),
    )
    .unwrap_or_else(|err| panic!("{err}"));
    std::fs::copy(root.join("Cargo.lock"), project.join("Cargo.lock")).unwrap();
    let root_manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();

    let torvyn_path = format!("torvyn_path={}", root.display());
    let out = cargo_generate(
        &project,
        "processor",
        &[
            "--destination",
            "components",
            "--name",
            "upper",
            "--define",
            "in_workspace=true",
            "--define",
            &torvyn_path,
        ],
    );
    assert!(
        out.status.success(),
        "the README's one-liner failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest = std::fs::read_to_string(project.join("components/upper/Cargo.toml")).unwrap();
    assert!(
        !manifest.contains("[workspace]") && !manifest.contains("[profile"),
        "in_workspace=true leaves out the template's workspace and profile:\n{manifest}"
    );
    assert!(manifest.contains("serde_json = \"1\""), "{manifest}");
    assert_eq!(
        std::fs::read_to_string(project.join("Cargo.toml")).unwrap(),
        root_manifest,
        "the project's Cargo.toml is left as it was (the glob makes the crate a member)"
    );
    assert!(template_tests::unexpanded_placeholders(&project).is_empty());

    let run = cargo_test(&project).unwrap_or_else(|err| panic!("{err}"));
    eprintln!(
        "pipeline with an added component: {} passed in {:.1?}",
        run.passed, run.elapsed
    );
    assert!(
        run.failed == 0,
        "`cargo test` of the pipeline with `upper` added failed:\n{}\n\nthe whole log:\n{}",
        run.failures(),
        run.output
    );
    for problem in [
        "multiple workspace roots",
        "profiles for the non root package",
    ] {
        assert!(!run.output.contains(problem), "{problem}:\n{}", run.output);
    }
    assert!(run.warnings_in("upper").is_empty(), "{}", run.output);
    assert!(
        passed_in_package(&run.output, "upper", "unittests src/lib.rs") >= 3,
        "the new component's unit tests ran:\n{}",
        run.output
    );
    assert!(
        passed_in_package(&run.output, "upper", "tests/wasm.rs") >= 1,
        "the new component's compiled-wasm test ran:\n{}",
        run.output
    );
    assert!(
        run.passed_in("tests/flow.rs") >= 3,
        "the flow still runs: {:?}",
        run.targets
    );
}

/// Without `in_workspace`, a role template is still a standalone project with
/// its own `[workspace]` and release profile.
#[test]
fn role_templates_stay_standalone_by_default() {
    let destination = work_dir().join("gen-standalone");
    if destination.exists() {
        std::fs::remove_dir_all(&destination).unwrap();
    }
    std::fs::create_dir_all(&destination).unwrap();
    for template in [
        "filter",
        "processor",
        "source",
        "sink",
        "router",
        "aggregator",
    ] {
        let out = cargo_generate(&destination, template, &["--name", template]);
        assert!(
            out.status.success(),
            "`{template}`: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let manifest =
            std::fs::read_to_string(destination.join(template).join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains("\n[workspace]\n") && manifest.contains("[profile.release]"),
            "`{template}`:\n{manifest}"
        );
        // Above `[dev-dependencies]`: a normal dependency of the component.
        let dev = manifest.find("[dev-dependencies]").unwrap();
        let json = manifest.find("serde_json = \"1\"").unwrap();
        assert!(
            json < dev,
            "`{template}`: serde_json is a normal dependency:\n{manifest}"
        );
    }
}
