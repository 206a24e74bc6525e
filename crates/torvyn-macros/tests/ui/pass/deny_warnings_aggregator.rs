#![deny(warnings, clippy::all, clippy::pedantic, missing_docs, unused_qualifications)]
//! An aggregator whose init takes no config.
use torvyn_guest::prelude::*;

/// Sums sequence numbers.
pub struct Sum {
    total: u64,
}

#[torvyn::aggregator]
impl Sum {
    fn init() -> Self {
        Self { total: 0 }
    }

    fn ingest(&mut self, element: &Element) -> Option<Output> {
        self.total += element.sequence();
        None
    }

    fn flush(&mut self) -> Result<Vec<Output>> {
        Ok(vec![Output::json(&self.total)?])
    }

    fn teardown(&mut self) {
        self.total = 0;
    }
}

fn main() {}
