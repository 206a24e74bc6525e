//! Counting sink: counts elements and payload bytes, asks the runtime to pause
//! after every `pause_every` elements, and logs the totals at `complete`.
//!
//! Config: `{"pause_every": 3}` (0 never pauses).
//!
//! This example depends on the SDK under the name `torvyn`
//! (`torvyn = { package = "torvyn-guest", .. }`), so it writes `torvyn::...`.

use serde::Deserialize;
use torvyn::log::info;
use torvyn::{Backpressure, Element, Result};

/// Configuration of the sink.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Pause after every this many elements (0 = never).
    pub pause_every: u64,
}

/// The sink's counters.
pub struct CountingSink {
    pause_every: u64,
    elements: u64,
    bytes: u64,
}

#[torvyn::sink]
impl CountingSink {
    fn init(config: Config) -> Self {
        Self { pause_every: config.pause_every, elements: 0, bytes: 0 }
    }

    fn push(&mut self, element: &Element) -> Backpressure {
        self.elements += 1;
        self.bytes += element.payload().size();
        if self.pause_every != 0 && self.elements.is_multiple_of(self.pause_every) {
            Backpressure::Pause
        } else {
            Backpressure::Ready
        }
    }

    fn complete(&mut self) -> Result<()> {
        info!("counting sink: {} elements, {} bytes", self.elements, self.bytes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use torvyn::testing::{self, ElementBuilder};

    #[test]
    fn pauses_every_n_and_counts_bytes_without_copying() {
        let mut sink = CountingSink::init(Config { pause_every: 2 });
        let element = ElementBuilder::new().text("abc").build();
        let signals: Vec<Backpressure> = (0..4).map(|_| sink.push(&element)).collect();
        use Backpressure::{Pause, Ready};
        assert_eq!(signals, [Ready, Pause, Ready, Pause]);
        assert_eq!((sink.elements, sink.bytes), (4, 12));
        assert_eq!(element.payload().read_stats().reads, 0, "size() copies nothing");
        testing::take_logs();
        sink.complete().unwrap();
        assert_eq!(testing::take_logs(), ["[info] counting sink: 4 elements, 12 bytes"]);
    }

    #[test]
    fn zero_never_pauses() {
        let mut sink = CountingSink::init(Config::default());
        let element = ElementBuilder::new().build();
        assert!((0..10).all(|_| sink.push(&element) == Backpressure::Ready));
    }
}
