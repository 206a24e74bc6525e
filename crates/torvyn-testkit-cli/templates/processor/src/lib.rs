//! {{project-name}}: a Torvyn processor.
//!
//! Turns each UTF-8 text element into a new text element: `prefix` followed by
//! the text, upper-cased when `uppercase` is set. Input that is not UTF-8 is
//! rejected as `invalid-input` (the runtime's error policy decides whether the
//! element is skipped, retried or fails the flow); empty input is dropped.
//!
//! Config: `{"prefix": "> ", "uppercase": true}` (all optional).

use serde::Deserialize;
use torvyn_guest::prelude::*;

/// The node's configuration: the JSON string from `Torvyn.toml`, typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Written before every text.
    pub prefix: String,
    /// Upper-case the text.
    pub uppercase: bool,
}

/// The processor's state: its configuration.
pub struct Processor {
    config: Config,
}

#[torvyn::processor]
impl Processor {
    /// Called once with the node's config, before any element.
    fn init(config: Config) -> Self {
        Self { config }
    }

    /// Emits one output per input; `Ok(None)` drops the element.
    fn process(&mut self, element: &Element) -> Result<Option<Output>> {
        if element.payload().is_empty() {
            return Ok(None);
        }
        // One copy of the payload into the component (cached by the SDK).
        let text = element.text()?;
        let body = if self.config.uppercase {
            text.to_uppercase()
        } else {
            text.to_string()
        };
        let output = Output::text(format!("{}{body}", self.config.prefix))?;
        Ok(Some(output.with_sequence(element.sequence())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use torvyn_guest::testing::{self, ElementBuilder};

    fn processor(config: &str) -> Processor {
        Processor::init(torvyn_guest::config::parse_or_default(config).unwrap())
    }

    #[test]
    fn prefixes_and_uppercases_text() {
        let mut p = processor(r#"{"prefix": "> ", "uppercase": true}"#);
        let element = ElementBuilder::new().text("hello").sequence(3).build();
        testing::take_allocations();
        let output = p.process(&element).unwrap().unwrap();
        assert_eq!(output.to_text().unwrap(), "> HELLO");
        assert_eq!(output.content_type(), torvyn_guest::TEXT_PLAIN);
        assert_eq!(output.meta().sequence, 3);
        assert_eq!(element.payload().read_stats().reads, 1, "one payload copy");
        assert_eq!(testing::take_allocations(), [7], "one output buffer");
    }

    #[test]
    fn drops_empty_and_rejects_binary_input() {
        let mut p = processor("");
        let empty = ElementBuilder::new().text("").build();
        assert!(p.process(&empty).unwrap().is_none());
        let binary = ElementBuilder::new().bytes(vec![0xff, 0xfe]).build();
        let err = p.process(&binary).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn allocation_failure_is_reported() {
        let mut p = processor("");
        testing::fail_next_allocation("out of memory");
        let element = ElementBuilder::new().text("x").build();
        let err = p.process(&element).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable);
    }
}
