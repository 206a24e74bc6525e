//! {{project-name}}: a Torvyn source.
//!
//! Emits `count` JSON records `{"n": 0, "label": "..."}`, `{"n": 1, ...}`, ...
//! and then reports that it is exhausted. The runtime pulls it until it
//! returns `None` and tells it about downstream backpressure.
//!
//! Config: `{"count": 10, "label": "tick"}` (all optional).

use serde::{Deserialize, Serialize};
use torvyn_guest::prelude::*;

/// The node's configuration: the JSON string from `Torvyn.toml`, typed.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// How many records to emit.
    pub count: u64,
    /// Written into every record.
    pub label: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            count: 10,
            label: "tick".to_string(),
        }
    }
}

/// One emitted record.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    /// Position of the record, from 0.
    pub n: u64,
    /// The configured label.
    pub label: String,
}

/// The source's state: where it is, and whether downstream asked to pause.
pub struct Source {
    config: Config,
    next: u64,
    paused: bool,
}

#[torvyn::source]
impl Source {
    /// Called once with the node's config, before the first pull.
    fn init(config: Config) -> Self {
        Self {
            config,
            next: 0,
            paused: false,
        }
    }

    /// The next element, or `None` once the source is exhausted.
    fn pull(&mut self) -> Result<Option<Output>> {
        if self.next >= self.config.count {
            return Ok(None);
        }
        let record = Record {
            n: self.next,
            label: self.config.label.clone(),
        };
        let output = Output::json(&record)?.with_sequence(self.next);
        self.next += 1;
        Ok(Some(output))
    }

    /// Downstream is full (`Pause`) or has room again (`Ready`). The runtime
    /// stops pulling by itself while paused; a source that talks to an
    /// external system would slow down here.
    fn notify_backpressure(&mut self, signal: Backpressure) {
        self.paused = signal == Backpressure::Pause;
        debug!("{{project-name}}: {signal:?} after {} records", self.next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use torvyn_guest::testing;

    #[test]
    fn emits_count_records_then_ends() {
        let config = torvyn_guest::config::parse(r#"{"count": 2, "label": "x"}"#).unwrap();
        let mut source = Source::init(config);
        let first = source.pull().unwrap().unwrap();
        assert_eq!(first.content_type(), torvyn_guest::APPLICATION_JSON);
        assert_eq!(
            first.to_json::<Record>().unwrap(),
            Record {
                n: 0,
                label: "x".into()
            }
        );
        let second = source.pull().unwrap().unwrap();
        assert_eq!(second.meta().sequence, 1);
        assert!(source.pull().unwrap().is_none());
        assert!(source.pull().unwrap().is_none(), "stays exhausted");
    }

    #[test]
    fn tracks_backpressure() {
        let mut source = Source::init(Config::default());
        source.notify_backpressure(Backpressure::Pause);
        assert!(source.paused);
        source.notify_backpressure(Backpressure::Ready);
        assert!(!source.paused);
    }

    #[test]
    fn allocation_failure_is_reported() {
        let mut source = Source::init(Config::default());
        testing::fail_next_allocation("out of memory");
        assert_eq!(source.pull().unwrap_err().kind(), ErrorKind::Unavailable);
    }
}
