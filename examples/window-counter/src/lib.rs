//! Windowed counter: counts elements per content type; every `window` elements
//! it emits `{"window": n, "count": window, "by_content_type": {...}}`, and at
//! flush it emits the partial last window (if any).
//!
//! Config: `{"window": 100}`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use torvyn_guest::prelude::*;

/// Configuration of the counter.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Elements per window (at least 1).
    pub window: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self { window: 10 }
    }
}

/// One emitted summary.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Summary {
    /// Index of the window, from 0.
    pub window: u64,
    /// Elements in the window.
    pub count: u64,
    /// Elements per content type.
    pub by_content_type: BTreeMap<String, u64>,
}

/// The counter's state.
pub struct WindowCounter {
    size: u64,
    index: u64,
    count: u64,
    by_content_type: BTreeMap<String, u64>,
}

impl WindowCounter {
    fn summary(&mut self) -> Result<Output> {
        let summary = Summary {
            window: self.index,
            count: std::mem::take(&mut self.count),
            by_content_type: std::mem::take(&mut self.by_content_type),
        };
        self.index += 1;
        Output::json(&summary)
    }
}

#[torvyn::aggregator]
impl WindowCounter {
    fn init(config: Config) -> Result<Self> {
        if config.window == 0 {
            return Err(Error::invalid_input("`window` must be at least 1"));
        }
        Ok(Self { size: config.window, index: 0, count: 0, by_content_type: BTreeMap::new() })
    }

    fn ingest(&mut self, element: &Element) -> Result<Option<Output>> {
        self.count += 1;
        *self.by_content_type.entry(element.content_type().to_string()).or_default() += 1;
        if self.count == self.size { self.summary().map(Some) } else { Ok(None) }
    }

    fn flush(&mut self) -> Result<Vec<Output>> {
        if self.count == 0 { Ok(Vec::new()) } else { Ok(vec![self.summary()?]) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use torvyn_guest::testing::ElementBuilder;

    #[test]
    fn emits_full_windows_and_flushes_the_rest() {
        let mut c = WindowCounter::init(Config { window: 2 }).unwrap();
        let json = || ElementBuilder::new().json(&1).build();
        let text = || ElementBuilder::new().text("x").build();
        assert!(c.ingest(&json()).unwrap().is_none());
        let first: Summary = c.ingest(&text()).unwrap().unwrap().to_json().unwrap();
        assert_eq!(first.window, 0);
        assert_eq!(first.count, 2);
        assert_eq!(first.by_content_type["application/json"], 1);
        assert!(c.ingest(&json()).unwrap().is_none());
        let rest = c.flush().unwrap();
        assert_eq!(rest.len(), 1);
        let last: Summary = rest[0].to_json().unwrap();
        assert_eq!((last.window, last.count), (1, 1));
        assert!(c.flush().unwrap().is_empty(), "nothing left after a flush");
    }

    #[test]
    fn zero_window_is_invalid_config() {
        let err = WindowCounter::init(Config { window: 0 }).err().unwrap();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
}
