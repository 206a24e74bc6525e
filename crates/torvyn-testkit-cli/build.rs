//! Rebuilds the command line when its copy of the templates changes:
//! `include_dir!` (`init`'s embedded templates) does not tell cargo which
//! files it read, so without this `cargo xtask sync-templates` would leave a
//! binary with the old templates.

fn main() {
    println!("cargo:rerun-if-changed=templates");
}
