//! The README's demo: `cargo xtask demo`, the second command of its first
//! block, runs `torvyn-testkit run --manifest examples/demo/Torvyn.toml`, which
//! prints the output the README shows (every line but the run's wall-clock
//! duration).

use std::path::Path;
use std::process::Command;

/// The workspace root.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .expect("the CLI crate lives in crates/ of the workspace")
}

/// The fenced block that starts at the first line equal to `fence` (after
/// line `from`), and the line after its end.
fn block(lines: &[&str], fence: &str, from: usize) -> (Vec<String>, usize) {
    let start = lines[from..]
        .iter()
        .position(|line| *line == fence)
        .unwrap_or_else(|| panic!("README.md has no `{fence}` block after line {from}"))
        + from
        + 1;
    let len = lines[start..]
        .iter()
        .position(|line| line.starts_with("```"))
        .expect("the README's block is closed");
    let body = lines[start..start + len]
        .iter()
        .map(|line| line.to_string())
        .collect();
    (body, start + len + 1)
}

/// What is the same on every run: the duration's milliseconds are masked.
fn stable(line: &str) -> String {
    match line.strip_prefix("duration ") {
        Some(rest) => {
            let after_number = rest.split_once(' ').map_or("", |(_, after)| after);
            format!("duration <ms> {after_number}")
        }
        None => line.to_string(),
    }
}

#[test]
fn the_readme_demo_prints_what_the_readme_shows() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines: Vec<&str> = readme.lines().collect();
    let (commands, after) = block(&lines, "```sh", 0);
    let demo = commands
        .iter()
        .map(|line| line.split(" #").next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty())
        .nth(1)
        .expect("the README's first block has a second command, the demo");
    assert_eq!(
        demo, "cargo xtask demo",
        "the README's demo command changed"
    );
    // What `cargo xtask demo` runs after building the CLI (xtask/src/demo.rs).
    let args = ["run", "--manifest", "examples/demo/Torvyn.toml"];
    let xtask = std::fs::read_to_string(root().join("xtask/src/demo.rs")).unwrap();
    assert!(
        xtask.contains(&format!("ARGS: &[&str] = &{args:?};")),
        "xtask/src/demo.rs no longer runs `torvyn-testkit {}`; update this test",
        args.join(" ")
    );
    let (shown, _) = block(&lines, "```text", after);

    let out = Command::new(env!("CARGO_BIN_EXE_torvyn-testkit"))
        .args(args)
        .current_dir(root())
        .env("TORVYN_BUILD_QUIET", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "`{demo}` failed:\n{stderr}{stdout}");
    // What the components log (stderr, without the build's progress lines),
    // then the summary (stdout), as a terminal shows them.
    let printed: Vec<String> = stderr
        .lines()
        .filter(|line| !line.starts_with("torvyn-testkit: "))
        .chain(stdout.lines())
        .map(stable)
        .collect();
    let shown: Vec<String> = shown.iter().map(|line| stable(line)).collect();
    assert_eq!(
        printed, shown,
        "README.md's demo output differs from what `{demo}` prints; copy the real output into \
         README.md"
    );
}
