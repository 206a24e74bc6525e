#![deny(warnings, clippy::all, clippy::pedantic, missing_docs, unused_qualifications)]
//! A stateless filter with `Result`.
use torvyn_guest::prelude::*;

/// Keeps non-empty text.
#[torvyn::filter]
pub fn non_empty(element: &Element) -> Result<bool> {
    Ok(!element.text()?.is_empty())
}

fn main() {}
