//! Safe, typed Rust SDK for writing Torvyn streaming components.
