#![deny(warnings, clippy::all, clippy::pedantic, missing_docs, unused_qualifications)]
//! A stateful router.
use torvyn_guest::prelude::*;

/// Alternates between two ports.
#[derive(Default)]
pub struct Alternate {
    next: bool,
}

#[torvyn::router]
impl Alternate {
    fn route(&mut self, _element: &Element) -> &'static str {
        self.next = !self.next;
        if self.next { "a" } else { "b" }
    }
}

fn main() {}
