//! The `torvyn-testkit` command line (in progress).
fn main() {}
