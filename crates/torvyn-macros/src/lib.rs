//! Attribute macros that turn plain Rust into Torvyn components.
#![forbid(unsafe_code)]
