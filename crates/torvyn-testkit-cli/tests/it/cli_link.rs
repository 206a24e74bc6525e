//! Upstream's `check --strict`, `link`, `inspect --show` and `doctor`, over
//! the fixtures and examples other areas build already.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{Cli, example_path, fixture_wasm, flow_project, temp_dir, text};

/// The CLI run in `dir` (for a manifest given by a relative path).
fn cli_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_torvyn-testkit"))
        .args(args)
        .current_dir(dir)
        .env("TORVYN_BUILD_QUIET", "1")
        .output()
        .unwrap()
}

/// A project in `dir` whose components are copies in `dir/components`,
/// named `file://./components/<name>.wasm`: `source` (raw-bytes-source) ->
/// `mid` (declared `mid_interface`, the fixture `mid_fixture`) -> `out`
/// (raw-stdout-sink), plus `extra` manifest text.
fn project(dir: &Path, mid_fixture: &str, mid_interface: &str, extra: &str) {
    let components = dir.join("components");
    std::fs::create_dir_all(&components).unwrap();
    for (name, fixture) in [
        ("source", "raw-bytes-source"),
        ("mid", mid_fixture),
        ("out", "raw-stdout-sink"),
    ] {
        std::fs::copy(
            fixture_wasm(fixture),
            components.join(format!("{name}.wasm")),
        )
        .unwrap();
    }
    std::fs::write(
        dir.join("Torvyn.toml"),
        format!(
            r#"[torvyn]
name = "linking"
version = "0.1.0"
contract_version = "0.1.0"
{extra}
[flow.main.nodes.source]
component = "file://./components/source.wasm"
interface = "torvyn:streaming/source"
config = '7b7d'

[flow.main.nodes.mid]
component = "file://./components/mid.wasm"
interface = "{mid_interface}"

[flow.main.nodes.out]
component = "file://./components/out.wasm"
interface = "torvyn:streaming/sink"

[[flow.main.edges]]
from = {{ node = "source", port = "output" }}
to = {{ node = "mid", port = "input" }}

[[flow.main.edges]]
from = {{ node = "mid", port = "output" }}
to = {{ node = "out", port = "input" }}
"#
        ),
    )
    .unwrap();
}

#[test]
fn check_warns_and_strict_makes_the_warnings_errors() {
    let dir = temp_dir("strict");
    project(
        &dir,
        "raw-context-echo",
        "torvyn:streaming/processor",
        r#"
[[component]]
name = "spare"
path = "components/spare"

[runtime]
worker_threads = 2

[security.grants.ghost]
capabilities = ["wasi-random"]
"#,
    );
    let out = cli_in(&dir, &["check", "--manifest", "Torvyn.toml"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    // `file://./components/x` is printed as written, not `././components/x`.
    assert!(
        stdout.contains("ok  flow.main.nodes.mid: processor (./components/mid.wasm)"),
        "{stdout}"
    );
    assert!(!stdout.contains("././"), "{stdout}");
    assert!(stdout.contains("no problems, 3 warnings"), "{stdout}");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("warning: "))
        .collect();
    assert_eq!(warnings.len(), 3, "{stderr}");
    for expected in [
        "component[0]: the component `spare` is run by no node of any flow",
        "security.grants.ghost: `ghost` names no node and no `[[component]]`",
        "accepted, not used by the reference host: runtime.worker_threads",
    ] {
        assert!(
            warnings.iter().any(|warning| warning.contains(expected)),
            "no warning `{expected}` in:\n{stderr}"
        );
    }
    // With their place in the file.
    assert!(
        stderr.contains("warning: Torvyn.toml:6:1: component[0]:"),
        "{stderr}"
    );

    // (`--no-init`: the warnings come from the manifest.)
    let out = cli_in(
        &dir,
        &[
            "check",
            "--strict",
            "--no-init",
            "--manifest",
            "Torvyn.toml",
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr
            .lines()
            .filter(|line| line.starts_with("error: ")
                && line.ends_with("(a warning; `--strict` makes it an error)"))
            .count(),
        3,
        "{stderr}"
    );
    assert!(stderr.contains("Torvyn.toml: 3 problems"), "{stderr}");
}

#[test]
fn link_checks_every_edge_of_a_compatible_flow() {
    let manifest = flow_project();
    let out = Cli::new("link")
        .manifest(&manifest)
        .arg("--detail")
        .output();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains("Flow \"main\" links successfully (4 components, 3 edges, 0 errors)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "ok  limit:output -> enrich:input  (filter torvyn:filtering/filter@0.1.0 -> \
             processor torvyn:streaming/processor@0.1.0)"
        ),
        "{stdout}"
    );
    // `--detail`: the consumer's contract functions, and each node's imports.
    assert!(
        stdout.contains(
            "in  process: func(input: stream-element) -> result<process-result, process-error>"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("node `count` (") && stdout.contains("imports satisfied by the host"),
        "{stdout}"
    );
}

#[test]
fn link_names_the_edge_a_sink_cannot_feed() {
    let dir = temp_dir("link-bad");
    // `mid` says processor, but its component is a sink.
    project(&dir, "raw-stdout-sink", "torvyn:streaming/processor", "");
    let out = cli_in(&dir, &["link", "--manifest", "Torvyn.toml"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "error: edge mid:output -> out:input: `mid` is a sink (it exports \
             `torvyn:streaming/sink@0.1.0`), which produces no output"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "error: node `mid`: `interface` is `torvyn:streaming/processor`, but \
             ./components/mid.wasm is a sink"
        ),
        "{stderr}"
    );
    assert!(
        stdout.contains("ok  source:output -> mid:input"),
        "{stdout}"
    );
    assert!(stdout.contains("ERR mid:output -> out:input"), "{stdout}");
    assert!(stderr.contains("flow `main` did not link"), "{stderr}");

    let out = cli_in(
        &dir,
        &["link", "--manifest", "Torvyn.toml", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["all_linked"], false);
    let flow = &report["flows"][0];
    assert_eq!(
        (&flow["name"], &flow["linked"]),
        (&"main".into(), &false.into())
    );
    assert_eq!(
        (&flow["component_count"], &flow["edge_count"]),
        (&3.into(), &2.into())
    );
    let (good, bad) = (&flow["edges"][0], &flow["edges"][1]);
    assert_eq!(
        (&good["from"], &good["compatible"]),
        (&"source:output".into(), &true.into())
    );
    assert_eq!(good["producer"]["contract_version"], "0.1.0");
    assert_eq!(
        (&bad["from"], &bad["compatible"]),
        (&"mid:output".into(), &false.into())
    );
    assert_eq!(bad["producer"]["role"], "sink");
    assert_eq!(flow["diagnostics"].as_array().unwrap().len(), 2, "{flow}");
    assert!(
        flow["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|node| node["imports_satisfied"] == true),
        "{flow}"
    );
}

#[test]
fn link_names_a_node_whose_imports_the_host_lacks() {
    let dir = temp_dir("link-import");
    // A filter importing `fixture:telemetry/counters@0.1.0`, which no host has.
    project(&dir, "raw-missing-import", "torvyn:filtering/filter", "");
    let out = cli_in(&dir, &["link", "--manifest", "Torvyn.toml"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: node `mid`: an import the host does not satisfy: ")
            && stderr.contains("fixture:telemetry/counters@0.1.0"),
        "{stderr}"
    );
    // The edges themselves are fine.
    assert!(stdout.contains("ok  mid:output -> out:input"), "{stdout}");
    assert!(
        stdout
            .contains("node `mid` (./components/mid.wasm): imports NOT all satisfied by the host"),
        "{stdout}"
    );
}

#[test]
fn link_components_dir_replaces_the_builds() {
    let dir = temp_dir("link-components");
    let build = |name: &str| -> PathBuf {
        torvyn_testkit::build_component(example_path(name)).unwrap_or_else(|err| panic!("{err}"))
    };
    std::fs::copy(build("line-source"), dir.join("lines.wasm")).unwrap();
    std::fs::copy(build("rate-limiter"), dir.join("limiter.wasm")).unwrap();
    std::fs::copy(build("json-enricher"), dir.join("enricher.wasm")).unwrap();
    let manifest = flow_project();
    // No `counter.wasm`: named, not built.
    let out = Cli::new("link")
        .manifest(&manifest)
        .arg("--components")
        .arg(&dir)
        .output();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("node `count`: the component `counter` has no ")
            && stderr.contains("counter.wasm in --components"),
        "{stderr}"
    );
    // A source as `counter.wasm`: the edge into it is named.
    std::fs::copy(fixture_wasm("raw-bytes-source"), dir.join("counter.wasm")).unwrap();
    let out = Cli::new("link")
        .manifest(&manifest)
        .arg("--components")
        .arg(&dir)
        .output();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: edge enrich:output -> count:input: `count` is a source"),
        "{stderr}"
    );
}

#[test]
fn inspect_show_prints_one_section() {
    let wasm = fixture_wasm("raw-filter");
    let show = |section: &str, format: &str| {
        let out = Cli::new("inspect")
            .arg(&wasm)
            .args(["--show", section])
            .format(format)
            .output();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let size: serde_json::Value = serde_json::from_str(&show("size", "json")).unwrap();
    let keys: Vec<&String> = size.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["component", "size"]);
    let total = std::fs::metadata(&wasm).unwrap().len();
    assert_eq!(size["size"]["total_bytes"], total);
    let parts: u64 = size["size"]["core_modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|bytes| bytes.as_u64().unwrap())
        .chain(
            size["size"]["custom_sections"]
                .as_array()
                .unwrap()
                .iter()
                .map(|section| section["bytes"].as_u64().unwrap()),
        )
        .sum::<u64>()
        + size["size"]["other_bytes"].as_u64().unwrap();
    assert_eq!(parts, total);

    let imports = show("imports", "text");
    assert!(
        imports.contains("imports:\n  torvyn:streaming/types@0.1.0"),
        "{imports}"
    );
    assert!(!imports.contains("exports:"), "{imports}");
    let interfaces = show("interfaces", "text");
    assert!(
        interfaces.contains("exports:\n  torvyn:filtering/filter@0.1.0"),
        "{interfaces}"
    );
    assert!(interfaces.contains("imports:"), "{interfaces}");
    assert!(!interfaces.contains("size:"), "{interfaces}");
    let capabilities = show("capabilities", "text");
    assert!(
        capabilities.contains("capabilities required: none"),
        "{capabilities}"
    );
    let metadata = show("metadata", "text");
    assert!(
        metadata.contains("processed-by: ") && metadata.contains("rustc"),
        "{metadata}"
    );
    let contracts = show("contracts", "text");
    assert!(
        contracts.contains("  torvyn:filtering@0.1.0\n"),
        "{contracts}"
    );
    assert!(
        contracts.contains("contract:  matches Torvyn 0.1 and links on this host"),
        "{contracts}"
    );
    // Upstream's `benchmarks` has nothing to show here: not a value.
    let out = Cli::new("inspect")
        .arg(&wasm)
        .args(["--show", "benchmarks"])
        .output();
    assert_eq!(out.status.code(), Some(2));
}

/// A directory of links to the programs named, found on this PATH.
#[cfg(unix)]
fn path_with(programs: &[&str]) -> PathBuf {
    let dir = temp_dir("bin");
    let path = std::env::var_os("PATH").unwrap_or_default();
    for program in programs {
        if let Some(found) = std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|file| file.is_file())
        {
            std::os::unix::fs::symlink(found, dir.join(program)).unwrap();
        }
    }
    dir
}

#[cfg(unix)]
#[test]
fn doctor_passes_here_and_names_what_a_path_hides() {
    let out = Cli::new("doctor").output();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("ok   rustc: rustc 1."), "{stdout}");
    assert!(stdout.contains("ok   wasm-component-ld: "), "{stdout}");
    assert!(stdout.contains("ok   versions: CLI "), "{stdout}");

    // Without cargo-generate on PATH: a warning with the install command.
    let bin = path_with(&["rustc", "rustup", "cargo", "df"]);
    let out = Cli::new("doctor").env("PATH", &bin).output();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(
            "warn cargo-generate: not found on PATH (needed to start a component from a template)\n      \
             fix: `cargo install --locked cargo-generate --version 0.23.14`"
        ),
        "{stdout}"
    );
    let out = Cli::new("doctor").env("PATH", &bin).format("json").output();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let generate = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["name"] == "cargo-generate")
        .unwrap();
    assert_eq!(generate["passed"], false);
    assert_eq!(generate["required"], false);

    // Without rustc: required, so exit code 1.
    let empty = temp_dir("empty");
    let out = Cli::new("doctor").env("PATH", &empty).output();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL rustc: not found on PATH\n      fix: install Rust with rustup"),
        "{stdout}"
    );
}

/// Writes an executable shell script.
#[cfg(unix)]
fn script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(unix)]
#[test]
fn doctor_fix_adds_a_missing_target_and_versions_must_agree() {
    // A rustc whose wasm32-wasip2 library directory is empty, and a rustup
    // that records what it is asked.
    let bin = temp_dir("fake-bin");
    let log = bin.join("rustup.log");
    script(
        &bin.join("rustc"),
        "case \"$*\" in\n\
         *target-libdir*) echo /nonexistent ;;\n\
         --version) echo 'rustc 1.95.0 (fake)' ;;\n\
         *) exit 1 ;;\n\
         esac\n",
    );
    script(
        &bin.join("rustup"),
        &format!("echo \"$*\" >> '{}'\n", log.display()),
    );
    let run = |fix: bool| {
        let mut cli = Cli::new("doctor").env("PATH", &bin);
        if fix {
            cli = cli.arg("--fix");
        }
        text(&cli.output().stdout)
    };
    let stdout = run(false);
    assert!(
        stdout.contains("wasm32-wasip2 target: rustup's wasm32-wasip2 target cannot build")
            && stdout.contains("fix: `rustup target add wasm32-wasip2` (`doctor --fix` runs it)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Run `torvyn-testkit doctor --fix`"),
        "{stdout}"
    );
    let asked = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!asked.contains("target add"), "{asked}");
    let stdout = run(true);
    let asked = std::fs::read_to_string(&log).unwrap();
    assert!(asked.contains("target add wasm32-wasip2"), "{asked}");
    assert!(
        stdout.contains("fixed: rustup target add wasm32-wasip2: done"),
        "{stdout}"
    );

    // A project locking another torvyn-testkit than the CLI's.
    let project = temp_dir("old-project");
    std::fs::write(
        project.join("Cargo.lock"),
        "version = 4\n\n[[package]]\nname = \"torvyn-testkit\"\nversion = \"0.0.9\"\n",
    )
    .unwrap();
    let out = cli_in(&project, &["doctor"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "FAIL versions: the CLI is {}, the project's tests use torvyn-testkit 0.0.9",
            env!("CARGO_PKG_VERSION")
        )),
        "{stdout}"
    );
}
