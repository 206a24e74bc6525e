//! Where a build goes: the shared target directory, its build lock and the
//! per-project directory for a second crate of the same library name.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::{BuildError, BuildErrorKind, io_error};

/// Create `dir` and take its build lock (held until the returned file is dropped).
pub(super) fn lock_target_dir(dir: &Path) -> Result<File, BuildError> {
    std::fs::create_dir_all(dir).map_err(|err| io_error(dir, err))?;
    let lock_path = dir.join(".torvyn-build.lock");
    let lock = File::create(&lock_path).map_err(|err| io_error(&lock_path, err))?;
    lock.lock().map_err(|err| io_error(&lock_path, err))?;
    Ok(lock)
}

/// The directory of the shared target directory `shared` that builds the crate
/// at `manifest` (canonical): `shared` itself when no other crate with the same
/// library name has built there, else `shared/projects/<key>`, keyed by the
/// crate's workspace (see [`project_key`]).
///
/// Cargo names a `cdylib` by its library name alone (`deps/<name>.wasm`), so
/// two crates of one name in one target directory overwrite each other's
/// component, and cargo then takes the other crate's file for an up-to-date
/// build of the first. The owner of each name is recorded in
/// `shared/.torvyn-owners/<name>`; an owner whose manifest no longer exists
/// (a deleted temporary project) gives the name up.
pub(super) fn keyed_target_dir(shared: &Path, manifest: &Path) -> Result<PathBuf, BuildError> {
    let Some(name) = library_name(manifest) else {
        // Not a readable package manifest: cargo reports that error itself.
        return Ok(shared.to_path_buf());
    };
    let owners = shared.join(".torvyn-owners");
    std::fs::create_dir_all(&owners).map_err(|err| io_error(&owners, err))?;
    let record = owners.join(&name);
    let owner = std::fs::read_to_string(&record).ok().map(PathBuf::from);
    match owner {
        Some(owner) if owner == manifest => Ok(shared.to_path_buf()),
        Some(owner) if owner.is_file() => Ok(shared.join("projects").join(project_key(manifest))),
        _ => {
            let text = manifest.to_string_lossy();
            std::fs::write(&record, text.as_bytes()).map_err(|err| io_error(&record, err))?;
            Ok(shared.to_path_buf())
        }
    }
}

/// The library name cargo gives the crate at `manifest` (`[lib] name`, else the
/// package name with `-` as `_`), or `None` when the manifest cannot be read.
fn library_name(manifest: &Path) -> Option<String> {
    let text = std::fs::read_to_string(manifest).ok()?;
    let table: toml::Table = text.parse().ok()?;
    let lib_name = table
        .get("lib")
        .and_then(|lib| lib.get("name"))
        .and_then(|name| name.as_str());
    let name = match lib_name {
        Some(name) => name,
        None => table.get("package")?.get("name")?.as_str()?,
    };
    let name = name.replace('-', "_");
    // A file name: cargo allows only letters, digits, `-` and `_` here.
    name.chars()
        .all(|c| c.is_alphanumeric() || c == '_')
        .then_some(name)
}

/// `<workspace directory name>-<16 hex digits>` for the workspace of the crate
/// at `manifest` (its own directory when `cargo metadata` fails), the digits
/// a hash of the canonical workspace path. One key per workspace, so a
/// project's crates still share their dependencies' builds.
fn project_key(manifest: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let crate_dir = manifest.parent().unwrap_or(manifest).to_path_buf();
    let workspace = cargo_metadata::MetadataCommand::new()
        .manifest_path(manifest)
        .no_deps()
        .exec()
        .ok()
        .map(|metadata| metadata.workspace_root.into_std_path_buf())
        .and_then(|root| root.canonicalize().ok())
        .unwrap_or(crate_dir);
    // std's hasher is deterministic within a Rust release; a new release may
    // change the key, which costs one rebuild.
    let mut hasher = std::hash::DefaultHasher::new();
    workspace.hash(&mut hasher);
    let stem: String = workspace
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    format!("{stem}-{:016x}", hasher.finish())
}

/// The toolkit's directory in the platform's cache directory
/// (`~/.cache/torvyn-testkit` on Linux, `~/Library/Caches/torvyn-testkit` on
/// macOS, `%LOCALAPPDATA%\torvyn-testkit` on Windows), or `None` when the
/// platform has none. Holds compiled code when no test binary's target
/// directory is at hand, and component builds when the project's target
/// directory cannot be created.
pub fn platform_cache_dir() -> Option<PathBuf> {
    dirs::cache_dir().map(|dir| dir.join("torvyn-testkit"))
}

/// The cargo target directory (the one with cargo's `CACHEDIR.TAG`) of the
/// running program when it is a test binary (`<target>/<profile>/deps/<name>-<hash>`,
/// as `cargo test` builds them); `None` for any other program, such as the
/// `torvyn-testkit` command, even when it runs from a cargo target directory
/// (`target/debug/torvyn-testkit`): its builds belong to the project it
/// builds, not to the directory it happens to sit in.
pub(crate) fn test_binary_target_dir() -> Option<PathBuf> {
    test_binary_target(&std::env::current_exe().ok()?)
}

fn test_binary_target(exe: &Path) -> Option<PathBuf> {
    let deps = exe.parent()?;
    if deps.file_name()? != "deps" {
        return None;
    }
    deps.ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
}

/// `TORVYN_WASM_TARGET_DIR`, else `torvyn-wasm` inside the target directory of
/// the running test binary ([`test_binary_target_dir`]), else inside the
/// target directory `cargo metadata` reports for the component's crate (or,
/// when that cannot be created, the platform cache directory).
pub(super) fn shared_target_dir(manifest: &Path) -> Result<PathBuf, BuildError> {
    if let Some(dir) = std::env::var_os("TORVYN_WASM_TARGET_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = test_binary_target_dir() {
        return Ok(dir.join("torvyn-wasm"));
    }
    let metadata = cargo_metadata::MetadataCommand::new()
        .manifest_path(manifest)
        .no_deps()
        .exec()
        .map_err(|err| {
            BuildError::new(
                BuildErrorKind::NotACrate,
                format!("`cargo metadata` failed for {}: {err}", manifest.display()),
                "check that the Cargo.toml is valid".to_string(),
            )
        })?;
    let project = metadata
        .target_directory
        .into_std_path_buf()
        .join("torvyn-wasm");
    match std::fs::create_dir_all(&project) {
        Ok(()) => Ok(project),
        Err(err) => platform_cache_dir()
            .map(|dir| dir.join("torvyn-wasm"))
            .ok_or_else(|| io_error(&project, err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_test_binary_builds_in_its_own_target_directory() {
        let target = std::env::temp_dir().join(format!("torvyn-target-dir-{}", std::process::id()));
        std::fs::create_dir_all(target.join("debug/deps")).unwrap();
        std::fs::write(
            target.join("CACHEDIR.TAG"),
            "Signature: 8a477f597d28d172789f06886806bc55",
        )
        .unwrap();
        // `cargo test` binaries: in `deps/`.
        assert_eq!(
            test_binary_target(&target.join("debug/deps/wasm-0123456789abcdef")),
            Some(target.clone())
        );
        // The command, run from the target directory it was built in (or installed in).
        assert_eq!(
            test_binary_target(&target.join("debug/torvyn-testkit")),
            None
        );
        assert_eq!(
            test_binary_target(&target.join("release/torvyn-testkit")),
            None
        );
        // A `deps/` outside any cargo target directory.
        assert_eq!(test_binary_target(Path::new("/nowhere/deps/tool")), None);
        std::fs::remove_dir_all(&target).unwrap();
    }
}
