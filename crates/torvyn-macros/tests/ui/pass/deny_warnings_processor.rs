#![deny(warnings, clippy::all, clippy::pedantic, missing_docs, unused_qualifications)]
//! A stateless processor.
use torvyn_guest::prelude::*;

/// Upper-cases text.
#[torvyn::processor]
pub fn upper(element: &Element) -> Result<Output> {
    Output::text(element.text()?.to_uppercase())
}

fn main() {}
