//! Running cargo: its JSON messages, the compiler's diagnostics, the time
//! limit and the `.wasm` artifact.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cargo_metadata::Message;

use super::{BuildError, BuildErrorKind, Toolchain, io_error, progress};

/// Run cargo, collect its JSON messages and return the component's path.
pub(super) fn run_cargo(
    command: &mut Command,
    manifest: &Path,
    timeout: Duration,
) -> Result<PathBuf, BuildError> {
    let mut child = command.spawn().map_err(|err| {
        BuildError::new(
            BuildErrorKind::Io,
            format!("cannot start cargo: {err}"),
            "make sure `cargo` is on PATH (or set CARGO)".to_string(),
        )
    })?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let messages = std::thread::spawn(move || {
        let mut diagnostics = String::new();
        let mut artifacts = Vec::new();
        for message in Message::parse_stream(BufReader::new(stdout)).flatten() {
            match message {
                Message::CompilerMessage(msg) => {
                    use cargo_metadata::diagnostic::DiagnosticLevel;
                    if matches!(
                        msg.message.level,
                        DiagnosticLevel::Error | DiagnosticLevel::Ice
                    ) {
                        diagnostics += msg
                            .message
                            .rendered
                            .as_deref()
                            .unwrap_or(&msg.message.message);
                    }
                }
                Message::CompilerArtifact(artifact) => artifacts.push(artifact),
                _ => {}
            }
        }
        (diagnostics, artifacts)
    });
    let own = progress::package_name(manifest);
    let stderr_reader = std::thread::spawn(move || progress::pass_through(&mut stderr, &own));

    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(BuildError::new(
                    BuildErrorKind::Timeout,
                    format!(
                        "building {} took longer than {} s and was stopped",
                        manifest.display(),
                        timeout.as_secs()
                    ),
                    "raise TORVYN_BUILD_TIMEOUT_SECS if the machine is slow, or look for a build \
                     script that never finishes"
                        .to_string(),
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(err) => return Err(io_error(manifest, err)),
        }
    };
    let (diagnostics, artifacts) = messages.join().unwrap_or_default();
    let stderr = stderr_reader.join().unwrap_or_default();

    if !status.success() {
        let mut text = diagnostics;
        // Cargo's own errors (bad manifest, unresolvable dependency) are on stderr.
        let cargo_errors: Vec<&str> = stderr
            .lines()
            .skip_while(|line| !line.trim_start().starts_with("error"))
            .collect();
        if !cargo_errors.is_empty() {
            if !text.is_empty() {
                text.push('\n');
            }
            text += &cargo_errors.join("\n");
        }
        if text.trim().is_empty() {
            text = stderr;
        }
        return Err(BuildError {
            diagnostics: text,
            ..BuildError::new(
                BuildErrorKind::CompileFailed,
                format!("cargo could not build the component {}", manifest.display()),
                "fix the errors above in the component crate; a `cargo check --target \
                 wasm32-wasip2` in its directory shows the same messages"
                    .to_string(),
            )
        });
    }

    artifacts
        .iter()
        .filter(|artifact| artifact.manifest_path.as_std_path() == manifest)
        .filter(|artifact| {
            artifact
                .target
                .kind
                .contains(&cargo_metadata::TargetKind::CDyLib)
        })
        .flat_map(|artifact| artifact.filenames.iter())
        .find(|file| file.extension() == Some("wasm"))
        .map(|file| file.clone().into_std_path_buf())
        .ok_or_else(|| {
            BuildError::new(
                BuildErrorKind::NoArtifact,
                format!(
                    "{} built, but produced no `.wasm` component",
                    manifest.display()
                ),
                "add `[lib] crate-type = [\"cdylib\"]` (or `[\"cdylib\", \"rlib\"]`) to the \
                 crate's Cargo.toml"
                    .to_string(),
            )
        })
}

pub(super) fn render_command(command: &Command, toolchain: &Toolchain) -> String {
    let mut text = String::new();
    for (key, value) in command.get_envs() {
        if let Some(value) = value
            && *toolchain == Toolchain::DebianFallback
            && key != "PATH"
        {
            text += &format!("{}={} ", key.to_string_lossy(), value.to_string_lossy());
        }
    }
    text += &command.get_program().to_string_lossy();
    for arg in command.get_args() {
        text.push(' ');
        text += &arg.to_string_lossy();
    }
    text
}
