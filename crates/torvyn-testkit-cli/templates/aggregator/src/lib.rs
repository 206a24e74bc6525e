//! {{project-name}}: a Torvyn aggregator.
//!
//! Collects text elements into batches of `batch` and emits each full batch
//! as one JSON array of strings; when upstream is done, `flush` emits the last,
//! partial batch. Non-UTF-8 input is `invalid-input`.
//!
//! Config: `{"batch": 10}` (optional).

use serde::Deserialize;
use torvyn_guest::prelude::*;

/// The node's configuration: the JSON string from `Torvyn.toml`, typed.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Elements per batch (at least 1).
    pub batch: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self { batch: 10 }
    }
}

/// The aggregator's state: the batch being collected.
pub struct Aggregator {
    batch: usize,
    pending: Vec<String>,
}

impl Aggregator {
    fn emit(&mut self) -> Result<Output> {
        let batch = std::mem::take(&mut self.pending);
        Output::json(&batch)
    }
}

#[torvyn::aggregator]
impl Aggregator {
    /// Called once with the node's config, before any element.
    fn init(config: Config) -> Result<Self> {
        if config.batch == 0 {
            return Err(Error::invalid_input("`batch` must be at least 1"));
        }
        Ok(Self {
            batch: config.batch,
            pending: Vec::with_capacity(config.batch),
        })
    }

    /// Takes one element; may emit an output at once.
    fn ingest(&mut self, element: &Element) -> Result<Option<Output>> {
        self.pending.push(element.text()?.to_string());
        if self.pending.len() == self.batch {
            self.emit().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Called once upstream is done: emits what is left.
    fn flush(&mut self) -> Result<Vec<Output>> {
        if self.pending.is_empty() {
            Ok(Vec::new())
        } else {
            Ok(vec![self.emit()?])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use torvyn_guest::testing::ElementBuilder;

    fn text(s: &str) -> Element<'static> {
        ElementBuilder::new().text(s).build()
    }

    #[test]
    fn emits_full_batches_and_flushes_the_rest() {
        let mut a =
            Aggregator::init(torvyn_guest::config::parse(r#"{"batch": 2}"#).unwrap()).unwrap();
        assert!(a.ingest(&text("a")).unwrap().is_none());
        let full = a.ingest(&text("b")).unwrap().unwrap();
        assert_eq!(full.to_json::<Vec<String>>().unwrap(), ["a", "b"]);
        assert!(a.ingest(&text("c")).unwrap().is_none());
        let rest = a.flush().unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].to_json::<Vec<String>>().unwrap(), ["c"]);
        assert!(a.flush().unwrap().is_empty(), "nothing left after a flush");
    }

    #[test]
    fn rejects_binary_input_and_zero_batches() {
        let mut a = Aggregator::init(Config::default()).unwrap();
        let binary = ElementBuilder::new().bytes(vec![0xff]).build();
        assert_eq!(
            a.ingest(&binary).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        let err = Aggregator::init(Config { batch: 0 }).err().unwrap();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
}
