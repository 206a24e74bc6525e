//! Line source: emits each non-empty line of the configured `text` as a
//! `text/plain` element, then ends. While downstream asks it to pause, `pull`
//! returns nothing new only if `respect_pause` is set (the runtime normally
//! stops pulling by itself).
//!
//! Config: `{"text": "a\nb\nc", "skip_empty": true}`.

use serde::Deserialize;
use torvyn_guest::prelude::*;

/// Configuration of the source.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The text to split into lines.
    pub text: String,
    /// Skip empty lines (default true).
    #[serde(default = "yes")]
    pub skip_empty: bool,
}

fn yes() -> bool {
    true
}

/// The source's state: the remaining lines.
pub struct LineSource {
    lines: std::vec::IntoIter<String>,
    paused: bool,
    emitted: u64,
}

#[torvyn::source]
impl LineSource {
    fn init(config: Config) -> Self {
        let lines: Vec<String> = config
            .text
            .lines()
            .filter(|l| !(config.skip_empty && l.trim().is_empty()))
            .map(str::to_string)
            .collect();
        Self { lines: lines.into_iter(), paused: false, emitted: 0 }
    }

    fn pull(&mut self) -> Result<Option<Output>> {
        let Some(line) = self.lines.next() else {
            return Ok(None);
        };
        let output = Output::text(line)?.with_sequence(self.emitted);
        self.emitted += 1;
        Ok(Some(output))
    }

    fn notify_backpressure(&mut self, signal: Backpressure) {
        self.paused = signal == Backpressure::Pause;
        debug!("line source: {signal:?} after {} lines", self.emitted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use torvyn_guest::testing;

    #[test]
    fn emits_lines_then_ends() {
        let config: Config = serde_json::from_str(r#"{"text": "a\n\nbc\n"}"#).unwrap();
        let mut source = LineSource::init(config);
        testing::take_allocations();
        let first = source.pull().unwrap().unwrap();
        assert_eq!(first.to_text().unwrap(), "a");
        assert_eq!(first.content_type(), torvyn_guest::TEXT_PLAIN);
        let second = source.pull().unwrap().unwrap();
        assert_eq!((second.to_text().unwrap().as_str(), second.meta().sequence), ("bc", 1));
        assert!(source.pull().unwrap().is_none());
        assert!(source.pull().unwrap().is_none(), "stays exhausted");
        assert_eq!(testing::take_allocations(), [1, 2]);
    }

    #[test]
    fn keeps_empty_lines_when_asked_and_tracks_backpressure() {
        let config: Config =
            serde_json::from_str(r#"{"text": "a\n\nb", "skip_empty": false}"#).unwrap();
        let mut source = LineSource::init(config);
        source.notify_backpressure(Backpressure::Pause);
        assert!(source.paused);
        source.notify_backpressure(Backpressure::Ready);
        assert!(!source.paused);
        let texts: Vec<String> =
            std::iter::from_fn(|| source.pull().unwrap()).map(|o| o.to_text().unwrap()).collect();
        assert_eq!(texts, ["a", "", "b"]);
    }
}
