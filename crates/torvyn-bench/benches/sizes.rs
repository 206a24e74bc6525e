//! Component sizes (not timed): every subject built with cargo's default
//! `release` profile, the guide's recommended profile (`release-small`: opt-level
//! 3, lto, one codegen unit, strip, panic=abort) and the same with opt-level
//! "z" (`release-z`). Prints a table and writes `<target>/torvyn-bench/sizes.json`.

use torvyn_bench::{Subject, build_with_profile, write_record};

const PROFILES: [&str; 3] = ["release", "release-small", "release-z"];

fn main() -> anyhow::Result<()> {
    let mut record = serde_json::Map::new();
    println!(
        "{:<16}{:>12}{:>16}{:>12}",
        "component", "release", "release-small", "release-z"
    );
    for subject in Subject::ALL {
        let mut sizes = serde_json::Map::new();
        let mut row = format!("{:<16}", subject.name());
        for (profile, width) in PROFILES.into_iter().zip([12, 16, 12]) {
            let wasm = if profile == "release" {
                subject.build_release()?
            } else {
                build_with_profile(subject, profile)?
            };
            let bytes = std::fs::metadata(&wasm)?.len();
            sizes.insert(profile.to_string(), bytes.into());
            row += &format!("{bytes:>width$}");
        }
        println!("{row}");
        record.insert(subject.name().to_string(), sizes.into());
    }
    write_record("sizes.json", &record)?;
    Ok(())
}
