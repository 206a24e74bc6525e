//! The flow's filter: passes the numbers divisible by `every`, drops the rest.
//! A payload that is not a number is `invalid-input`.
//!
//! Config: `{"every": 2}`.

use serde::Deserialize;
use torvyn_guest::prelude::*;

/// The node's configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Pass numbers divisible by this (at least 1).
    pub every: u64,
}

/// The filter's state: its divisor.
pub struct EveryNth {
    every: u64,
}

#[torvyn::filter]
impl EveryNth {
    fn init(config: Config) -> Result<Self> {
        if config.every == 0 {
            return Err(Error::invalid_input("`every` must be at least 1"));
        }
        Ok(Self {
            every: config.every,
        })
    }

    fn evaluate(&mut self, element: &Element) -> Result<bool> {
        let text = element.text()?;
        let n: u64 = text
            .trim()
            .parse()
            .map_err(|_| Error::invalid_input(format!("`{text}` is not a number")))?;
        Ok(n.is_multiple_of(self.every))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use torvyn_guest::testing::ElementBuilder;

    #[test]
    fn passes_multiples() {
        let mut f = EveryNth::init(Config { every: 3 }).unwrap();
        let passed: Vec<u64> = (0..7)
            .filter(|n| {
                let element = ElementBuilder::new().text(n.to_string()).build();
                f.evaluate(&element).unwrap()
            })
            .collect();
        assert_eq!(passed, [0, 3, 6]);
    }

    #[test]
    fn rejects_non_numbers_and_zero() {
        let mut f = EveryNth::init(Config { every: 2 }).unwrap();
        let element = ElementBuilder::new().text("two").build();
        assert_eq!(
            f.evaluate(&element).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        let err = EveryNth::init(Config { every: 0 }).err().unwrap();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
}
