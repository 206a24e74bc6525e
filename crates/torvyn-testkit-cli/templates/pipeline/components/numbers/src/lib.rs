//! The flow's source: emits the numbers `0..count` as `text/plain` elements.
//!
//! Config: `{"count": 10}`.

use serde::Deserialize;
use torvyn_guest::prelude::*;

/// The node's configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// How many numbers to emit.
    pub count: u64,
}

/// The source's state: the next number.
pub struct Numbers {
    count: u64,
    next: u64,
}

#[torvyn::source]
impl Numbers {
    fn init(config: Config) -> Self {
        Self {
            count: config.count,
            next: 0,
        }
    }

    fn pull(&mut self) -> Result<Option<Output>> {
        if self.next == self.count {
            return Ok(None);
        }
        let output = Output::text(self.next.to_string())?.with_sequence(self.next);
        self.next += 1;
        Ok(Some(output))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emits_count_numbers_then_ends() {
        let mut source = Numbers::init(torvyn_guest::config::parse(r#"{"count": 3}"#).unwrap());
        let texts: Vec<String> = std::iter::from_fn(|| source.pull().unwrap())
            .map(|output| output.to_text().unwrap())
            .collect();
        assert_eq!(texts, ["0", "1", "2"]);
    }

    #[test]
    fn count_is_required() {
        let err = torvyn_guest::config::parse::<Config>("{}").err().unwrap();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().contains("count"), "{err}");
    }
}
