//! Bench subject: emits `count` elements of `size` bytes each
//! (`application/octet-stream`), then ends. Written with `#[torvyn::source]`.
//!
//! Config: `{"count": 100000, "size": 64}`; with `"log": true` it also logs
//! two lines per element (the logging bench).

use serde::Deserialize;
use torvyn_guest::prelude::*;

/// Configuration of the source.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// How many elements to emit.
    count: u64,
    /// Payload size of each element, in bytes.
    size: usize,
    /// Log two lines per element.
    #[serde(default)]
    log: bool,
}

/// The source's state: the payload it repeats and how many are left.
struct Emit {
    payload: Vec<u8>,
    left: u64,
    log: bool,
}

#[torvyn::source]
impl Emit {
    fn init(config: Config) -> Self {
        Self { payload: vec![b'a'; config.size], left: config.count, log: config.log }
    }

    fn pull(&mut self) -> Result<Option<Output>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        if self.log {
            torvyn_guest::log::info!("pulling element, {} left", self.left);
            torvyn_guest::log::debug!("payload of {} bytes", self.payload.len());
        }
        Ok(Some(Output::bytes(&self.payload, "application/octet-stream")?))
    }
}
