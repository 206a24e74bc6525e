//! Bench subject: emits `count` elements of `size` bytes each
//! (`application/octet-stream`), then ends. Written with `#[torvyn::source]`.
//!
//! Config: `{"count": 100000, "size": 64}`.

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
}

/// The source's state: the payload it repeats and how many are left.
struct Emit {
    payload: Vec<u8>,
    left: u64,
}

#[torvyn::source]
impl Emit {
    fn init(config: Config) -> Self {
        Self { payload: vec![b'a'; config.size], left: config.count }
    }

    fn pull(&mut self) -> Result<Option<Output>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        Ok(Some(Output::bytes(&self.payload, "application/octet-stream")?))
    }
}
