//! The authors' guide, `docs/guide.md`, as this crate's documentation: `cargo
//! test -p guide-tests --doc` compiles (and, unless marked `no_run`, runs) every
//! Rust code block in it, so the guide cannot rot.
#![doc = include_str!("../../guide.md")]

/// The repository's `README.md`: its code blocks are compiled here too, so the
/// first taste of the toolkit cannot rot either.
#[doc = include_str!("../../../README.md")]
pub mod readme {}
