//! `--help` says where builds and caches go (never next to the binary).

use crate::support::{Cli, temp};

#[test]
fn help_names_the_build_and_cache_directories() {
    let cache_home = temp("cache-home");
    let out = Cli::new("--help")
        .env("XDG_CACHE_HOME", &cache_home)
        .env_remove("TORVYN_WASM_TARGET_DIR")
        .output();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("target/torvyn-wasm/"), "{help}");
    assert!(help.contains("TORVYN_WASM_TARGET_DIR"), "{help}");
    if cfg!(target_os = "linux") {
        let compiled = cache_home.join("torvyn-testkit").join("compiled");
        assert!(
            help.contains(&compiled.display().to_string()),
            "{help}\ndoes not name {}",
            compiled.display()
        );
    }
    // Nothing was created by asking for help.
    assert!(!cache_home.exists());
}
