//! {{project-name}}: a Torvyn sink.
//!
//! Counts the elements and payload bytes it receives, asks the runtime to
//! pause after every `pause_every` elements (backpressure), and logs the totals
//! when the flow completes. It reads only payload sizes, so it copies nothing.
//!
//! Config: `{"pause_every": 100}` (optional; 0 never pauses).

use serde::Deserialize;
use torvyn_guest::prelude::*;

/// The node's configuration: the JSON string from `Torvyn.toml`, typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Ask for a pause after every this many elements (0 = never).
    pub pause_every: u64,
}

/// The sink's state: its counters.
pub struct Sink {
    pause_every: u64,
    elements: u64,
    bytes: u64,
}

#[torvyn::sink]
impl Sink {
    /// Called once with the node's config, before any element.
    fn init(config: Config) -> Self {
        Self {
            pause_every: config.pause_every,
            elements: 0,
            bytes: 0,
        }
    }

    /// Receives one element; the return value is the backpressure signal.
    fn push(&mut self, element: &Element) -> Backpressure {
        self.elements += 1;
        self.bytes += element.payload().size();
        if self.pause_every != 0 && self.elements.is_multiple_of(self.pause_every) {
            Backpressure::Pause
        } else {
            Backpressure::Ready
        }
    }

    /// Called once when upstream is done.
    fn complete(&mut self) -> Result<()> {
        info!("{{project-name}}: {} elements, {} bytes", self.elements, self.bytes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use torvyn_guest::testing::{self, ElementBuilder};

    #[test]
    fn counts_and_pauses_every_n() {
        let mut sink = Sink::init(torvyn_guest::config::parse(r#"{"pause_every": 2}"#).unwrap());
        let element = ElementBuilder::new().text("abc").build();
        let signals: Vec<Backpressure> = (0..3).map(|_| sink.push(&element)).collect();
        assert_eq!(
            signals,
            [
                Backpressure::Ready,
                Backpressure::Pause,
                Backpressure::Ready
            ]
        );
        assert_eq!(element.payload().read_stats().reads, 0, "no payload copies");
        testing::take_logs();
        sink.complete().unwrap();
        assert_eq!(
            testing::take_logs(),
            ["[info] {{project-name}}: 3 elements, 9 bytes"]
        );
    }

    #[test]
    fn default_config_never_pauses() {
        let mut sink = Sink::init(torvyn_guest::config::parse_or_default("").unwrap());
        let element = ElementBuilder::new().build();
        assert!((0..10).all(|_| sink.push(&element) == Backpressure::Ready));
    }
}
