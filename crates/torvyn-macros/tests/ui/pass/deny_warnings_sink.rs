#![deny(warnings, clippy::all, clippy::pedantic, missing_docs, unused_qualifications)]
//! A stateful sink with `Default` state and no `init`.
use torvyn_guest::prelude::*;

/// Counts elements.
#[derive(Default)]
pub struct Count {
    n: u64,
}

#[torvyn::sink]
impl Count {
    fn push(&mut self, _element: &Element) -> Result<Backpressure> {
        self.n += 1;
        Ok(Backpressure::Ready)
    }

    fn complete(&mut self) -> Result<()> {
        info!("{} elements", self.n);
        Ok(())
    }
}

fn main() {}
