//! `cargo xtask first-build`: how long the first `cargo test` of a newly
//! generated template takes, as an A/B in one run.
//!
//! A is the toolkit at `--base <rev>` (exported with `git archive`), B this
//! working tree. Each side generates the template (`--template`, default
//! `filter`) with its own templates and its `torvyn-*` dependencies pointing at
//! its own crates by path, with its own `Cargo.lock` (as template-tests do).
//! Then `cargo test` runs cold, each time in a fresh target directory, with the
//! same `CARGO_HOME` (the registry cache stays warm: each project's crates are
//! fetched before, and nothing is downloaded during, its timed runs:
//! `CARGO_NET_OFFLINE=true`), in the order A B B A so that a drift in the
//! machine's load weighs on both sides alike. It prints every run with the load
//! average before and after, each side's mean and the ratio B / A, of the
//! wall-clock time and of the CPU time (user + system of `cargo test` and all
//! it ran, from `/proc/self/stat`), which a shared machine's load disturbs far
//! less.
//!
//! The run is slow (several minutes per cold build): `--once` runs B then A
//! only (B first: a B that does not build fails before A's build is spent, and
//! B gets the colder page cache).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::release::{clean_cargo, run_checked};

/// The target: B's cold `cargo test` at most this fraction of A's.
const TARGET_RATIO: f64 = 0.7;

/// The options of `cargo xtask first-build`.
pub(crate) struct Options {
    base: String,
    template: String,
    work: Option<PathBuf>,
    once: bool,
}

impl Options {
    /// Parses `--base <rev>`, `--template <name>`, `--work-dir <dir>`, `--once`.
    pub(crate) fn parse(args: &[String]) -> Result<Self> {
        let mut options = Options {
            base: "main".to_string(),
            template: "filter".to_string(),
            work: None,
            once: false,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .cloned()
                    .with_context(|| format!("`{name}` needs a value"))
            };
            match arg.as_str() {
                "--base" => options.base = value("--base")?,
                "--template" => options.template = value("--template")?,
                "--work-dir" => options.work = Some(PathBuf::from(value("--work-dir")?)),
                "--once" => options.once = true,
                other => bail!(
                    "unknown argument `{other}` of first-build (expected --base <rev>, \
                     --template <name>, --work-dir <dir>, --once)"
                ),
            }
        }
        Ok(options)
    }
}

/// One side of the comparison.
struct Side {
    label: &'static str,
    /// The generated project.
    project: PathBuf,
    /// The wall-clock seconds of each cold `cargo test`.
    times: Vec<f64>,
    /// The CPU seconds (user + system) of each, when known.
    cpu: Vec<f64>,
}

/// Runs the A/B and prints the result; fails when a build or test fails.
pub(crate) fn run(root: &Path, options: &Options) -> Result<()> {
    let work = match &options.work {
        Some(dir) => dir.clone(),
        None => crate::target_dir(root).join("first-build"),
    };
    if work.exists() {
        std::fs::remove_dir_all(&work)
            .with_context(|| format!("cannot clean {}", work.display()))?;
    }
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let work = work.canonicalize()?;

    let rev = git(root, &["rev-parse", "--short", &options.base]).with_context(|| {
        format!(
            "`--base {}` is not a revision of this repository",
            options.base
        )
    })?;
    let head = git(root, &["rev-parse", "--short", "HEAD"])?;
    let dirty = !git(root, &["status", "--porcelain", "--untracked-files=no"])?.is_empty();
    let base_tree = work.join(format!("base-{rev}"));
    export(root, &rev, &base_tree)?;

    let template = &options.template;
    let mut sides = [
        Side {
            label: "A",
            project: generate(&base_tree, &work.join("a"), template)?,
            times: Vec::new(),
            cpu: Vec::new(),
        },
        Side {
            label: "B",
            project: generate(root, &work.join("b"), template)?,
            times: Vec::new(),
            cpu: Vec::new(),
        },
    ];
    println!(
        "xtask first-build: template `{template}`; A = {rev} (--base {}), B = this tree \
         ({head}{}); work dir {}",
        options.base,
        if dirty {
            " with uncommitted changes"
        } else {
            ""
        },
        work.display()
    );
    println!(
        "xtask first-build: {} cores, load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );

    let order: &[usize] = if options.once { &[1, 0] } else { &[0, 1, 1, 0] };
    for (run, &side) in order.iter().enumerate() {
        let side = &mut sides[side];
        let target = work.join(format!("target-{}-{run}", side.label));
        let log = work.join(format!("cargo-test-{}-{run}.log", side.label));
        let load_before = load_average();
        let cpu_before = children_cpu_seconds();
        let seconds = cold_test(&side.project, &target, &log)?;
        let cpu = cpu_before
            .zip(children_cpu_seconds())
            .map(|(before, after)| after - before);
        println!(
            "xtask first-build: run {} ({}): cold `cargo test` {seconds:.1} s, CPU {} \
             (load average before {load_before}, after {}; log {})",
            run + 1,
            side.label,
            cpu.map_or("unknown".to_string(), |cpu| format!("{cpu:.1} s")),
            load_average(),
            log.display()
        );
        side.times.push(seconds);
        side.cpu.extend(cpu);
        // A cold target directory of a template is about 2 GB.
        std::fs::remove_dir_all(&target)
            .with_context(|| format!("cannot remove {}", target.display()))?;
    }

    let mean = |times: &[f64]| times.iter().sum::<f64>() / times.len() as f64;
    let (a, b) = (mean(&sides[0].times), mean(&sides[1].times));
    let ratio = b / a;
    println!(
        "xtask first-build: A {a:.1} s (runs {}), B {b:.1} s (runs {}); B / A = {ratio:.2} \
         (target <= {TARGET_RATIO}: {})",
        list(&sides[0].times),
        list(&sides[1].times),
        if ratio <= TARGET_RATIO {
            "met"
        } else {
            "missed"
        }
    );
    std::fs::remove_dir_all(&base_tree)
        .with_context(|| format!("cannot remove {}", base_tree.display()))?;
    Ok(())
}

/// `git <args>` in `root`, its trimmed standard output.
fn git(root: &Path, args: &[&str]) -> Result<String> {
    let output = run_checked(
        Command::new("git").args(args).current_dir(root),
        &format!("`git {}`", args.join(" ")),
    )?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Writes the tree of `rev` into the fresh directory `into` (`git archive`).
fn export(root: &Path, rev: &str, into: &Path) -> Result<()> {
    std::fs::create_dir_all(into)?;
    let mut archive = Command::new("git")
        .args(["archive", "--format=tar", rev])
        .current_dir(root)
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run `git archive`")?;
    let stdout = archive
        .stdout
        .take()
        .context("no output of `git archive`")?;
    let untar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(into)
        .stdin(stdout)
        .status()
        .context("cannot run `tar -x`")?;
    let archived = archive.wait()?;
    if !archived.success() || !untar.success() {
        bail!(
            "cannot export {rev} into {} (git archive | tar -x)",
            into.display()
        );
    }
    Ok(())
}

/// Generates `<tree>/templates/<template>` into `destination` with the
/// toolkit's crates at `tree` by path and `tree`'s `Cargo.lock`.
fn generate(tree: &Path, destination: &Path, template: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(destination)?;
    let name = format!("first-build-{template}");
    run_checked(
        clean_cargo()
            .arg("generate")
            .arg("--path")
            .arg(tree.join("templates").join(template))
            .args(["--name", &name, "--silent", "--vcs", "none"])
            .arg("--define")
            .arg(format!("torvyn_path={}", tree.display()))
            .arg("--destination")
            .arg(destination),
        &format!(
            "`cargo generate --path {}/templates/{template}` (cargo-generate is installed by \
             ./scripts/setup.sh)",
            tree.display()
        ),
    )?;
    let project = destination.join(&name);
    std::fs::copy(tree.join("Cargo.lock"), project.join("Cargo.lock"))
        .with_context(|| format!("cannot copy {}/Cargo.lock", tree.display()))?;
    // The timed test runs offline: fetch what the lock names first, for every
    // platform (the base revision's lock may name versions no build here
    // downloaded), so that the timing never includes a download and never
    // fails for one.
    run_checked(
        clean_cargo()
            .arg("fetch")
            .env("CARGO_NET_OFFLINE", "false")
            .current_dir(&project),
        &format!("`cargo fetch` in {}", project.display()),
    )?;
    Ok(project)
}

/// `cargo test` in `project` with the fresh target directory `target`, offline;
/// its output goes to `log`. Returns the wall-clock seconds.
fn cold_test(project: &Path, target: &Path, log: &Path) -> Result<f64> {
    if target.exists() {
        std::fs::remove_dir_all(target)?;
    }
    let started = Instant::now();
    let output = clean_cargo()
        .arg("test")
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_NET_OFFLINE", "true")
        .current_dir(project)
        .output()
        .with_context(|| format!("cannot run `cargo test` in {}", project.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::write(log, &text).with_context(|| format!("cannot write {}", log.display()))?;
    if !output.status.success() {
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "`cargo test` in {} failed ({}); the end of {}:\n{}",
            project.display(),
            output.status,
            log.display(),
            tail.join("\n")
        );
    }
    Ok(seconds)
}

/// The 1, 5 and 15 minute load averages (`/proc/loadavg`), or `unknown`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_string())
}

/// The user + system CPU seconds of this process's waited-for children and
/// their descendants (`cutime` + `cstime` of `/proc/self/stat`, in the kernel's
/// fixed 100 ticks per second), or `None` where there is no `/proc`.
fn children_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name (which may hold spaces), from field 3.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |field: usize| fields.get(field - 3)?.parse::<u64>().ok();
    Some((ticks(16)? + ticks(17)?) as f64 / 100.0)
}

/// `12.3 s, 45.6 s`.
fn list(times: &[f64]) -> String {
    times
        .iter()
        .map(|seconds| format!("{seconds:.1} s"))
        .collect::<Vec<_>>()
        .join(", ")
}
