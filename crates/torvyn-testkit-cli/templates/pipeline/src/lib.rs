//! {{project-name}}: a Torvyn pipeline project.
//!
//! The components live in `components/`; the flow that connects them is
//! `Torvyn.toml`; `tests/flow.rs` runs the flow on the built components.
