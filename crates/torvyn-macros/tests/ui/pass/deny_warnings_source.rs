#![deny(warnings, clippy::all, clippy::pedantic, missing_docs, unused_qualifications)]
//! A stateful source with a typed config.
use torvyn_guest::prelude::*;

/// How many elements.
#[derive(serde::Deserialize)]
pub struct Config {
    count: u64,
}

/// Counts down.
pub struct Countdown {
    left: u64,
}

#[torvyn::source]
impl Countdown {
    fn init(config: Config) -> Self {
        Self { left: config.count }
    }

    fn pull(&mut self) -> Result<Option<Output>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        Output::text(self.left.to_string()).map(Some)
    }

    fn notify_backpressure(&mut self, signal: Backpressure) {
        debug!("{signal:?}");
    }
}

fn main() {}
