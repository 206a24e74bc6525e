//! Build, run and test Torvyn components and pipelines from `cargo test`.
