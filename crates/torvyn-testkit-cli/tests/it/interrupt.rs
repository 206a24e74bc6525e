//! Ctrl+C during a run: the first SIGINT stops pulling the sources, lets the
//! elements in flight finish, tears every node down, prints the usual report
//! (with `"interrupted": true` in JSON) and exits with 130; a second one exits
//! at once. The subject is an endless source, a processor whose teardown
//! panics (`panic`: its error shows the teardown ran) or loops (`loop`), and
//! a sink.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{fixture_wasm, temp_dir, text};

fn endless_manifest(teardown: &str) -> PathBuf {
    let dir = temp_dir("interrupt");
    let manifest = dir.join("Torvyn.toml");
    let node = |name: &str, wasm: &str, interface: &str, config: &str| {
        format!(
            "[flow.main.nodes.{name}]\ncomponent = \"file://{}\"\ninterface = \
             \"torvyn:streaming/{interface}\"\nconfig = \"{config}\"\n\n",
            fixture_wasm(wasm).display()
        )
    };
    let text = format!(
        "[torvyn]\nname = \"endless\"\nversion = \"0.1.0\"\ncontract_version = \"0.1.0\"\n\n{}{}{}\
         [[flow.main.edges]]\nfrom = {{ node = \"numbers\", port = \"output\" }}\n\
         to = {{ node = \"wait\", port = \"input\" }}\n\n\
         [[flow.main.edges]]\nfrom = {{ node = \"wait\", port = \"output\" }}\n\
         to = {{ node = \"out\", port = \"input\" }}\n",
        node("numbers", "raw-endless-source", "source", ""),
        node("wait", "raw-wait-processor", "processor", teardown),
        node("out", "raw-stdout-sink", "sink", ""),
    );
    std::fs::write(&manifest, text).unwrap();
    manifest
}

/// `torvyn-testkit run` on `manifest`, writing what the sink receives to
/// `delivered`, once elements flow.
fn start(manifest: &Path, delivered: &Path) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_torvyn-testkit"))
        .env("TORVYN_BUILD_QUIET", "1")
        .args(["run", "--format", "json", "--manifest"])
        .arg(manifest)
        .arg("--output")
        .arg(delivered)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let waiting = Instant::now();
    while std::fs::metadata(delivered).map_or(true, |meta| meta.len() == 0) {
        assert!(
            waiting.elapsed() < Duration::from_secs(60),
            "no element reached the sink"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn sigint(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn ctrl_c_stops_the_run_with_its_summary_teardown_and_exit_code_130() {
    let manifest = endless_manifest("panic");
    let delivered = manifest.with_file_name("delivered.jsonl");
    let child = start(&manifest, &delivered);
    sigint(&child);
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    // The partial report, marked as interrupted, and complete: every element
    // the source made was delivered, none was lost in flight.
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["interrupted"], true, "{report}");
    let elements = report["elements"].as_u64().unwrap();
    assert!(elements > 0);
    assert_eq!(report["nodes"]["out"]["in"], elements, "{report}");
    let lines = std::fs::read_to_string(&delivered).unwrap().lines().count();
    assert_eq!(lines as u64, elements);
    // Every node was torn down: `wait`'s teardown ran (and panicked).
    assert!(
        report["teardown_errors"]["wait"]
            .as_str()
            .is_some_and(|error| error.contains("teardown failed on purpose")),
        "{report}"
    );
    assert!(
        stderr.contains(&format!(
            "torvyn-testkit: interrupted (Ctrl+C): the sources were not pulled again after \
             {elements} elements; the elements in flight ran to the end and every node was \
             torn down"
        )),
        "{stderr}"
    );
}

#[test]
fn a_second_ctrl_c_exits_at_once() {
    // `wait`'s teardown loops until its 5 s time limit: the first Ctrl+C
    // starts it, the second does not wait for it.
    let manifest = endless_manifest("loop");
    let delivered = manifest.with_file_name("delivered.jsonl");
    let child = start(&manifest, &delivered);
    sigint(&child);
    std::thread::sleep(Duration::from_millis(500));
    sigint(&child);
    let second = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert!(
        second.elapsed() < Duration::from_secs(4),
        "the second Ctrl+C took {:?} to end the process",
        second.elapsed()
    );
    // It ended before the report: nothing on stdout.
    assert_eq!(text(&out.stdout), "");
}

/// Whether process `pid` has installed its Ctrl+C handler: the `ctrlc`
/// crate's thread, named `ctrl-c`, is running.
#[cfg(target_os = "linux")]
fn handles_ctrl_c(pid: u32) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| name.trim() == "ctrl-c")
        })
}

#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_stops_bench_with_the_figures_so_far() {
    let manifest = endless_manifest("");
    let child = Command::new(env!("CARGO_BIN_EXE_torvyn-testkit"))
        .env("TORVYN_BUILD_QUIET", "1")
        .args([
            "bench",
            "--format",
            "json",
            "--warmup",
            "0s",
            "--duration",
            "60s",
        ])
        .args(["--baseline", "never"])
        .arg("--manifest")
        .arg(&manifest)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let waiting = Instant::now();
    while !handles_ctrl_c(child.id()) {
        assert!(
            waiting.elapsed() < Duration::from_secs(60),
            "no Ctrl+C handler"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let the first run pull some elements.
    std::thread::sleep(Duration::from_millis(300));
    sigint(&child);
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["interrupted"], true, "{report}");
    assert!(report["elements"].as_u64().unwrap() > 0, "{report}");
    assert!(
        stderr.contains(
            "bench interrupted (Ctrl+C) after 1 measured runs; the figures cover \
                         those, and no baseline or profile is written"
        ),
        "{stderr}"
    );
    assert!(!manifest.with_file_name(".torvyn").exists());
}
