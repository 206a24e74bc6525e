//! {{project-name}}: a Torvyn filter.
//!
//! Passes elements whose content type is in `allow` (all types when `allow` is
//! empty) and whose payload is at most `max_bytes` long. It looks only at the
//! element's metadata and payload size, so it copies no payload bytes.
//!
//! Config: `{"allow": ["application/json"], "max_bytes": 65536}` (all optional).

use serde::Deserialize;
use torvyn_guest::prelude::*;

/// The node's configuration: the JSON string from `Torvyn.toml`, typed.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Content types to pass (compared without parameters such as `; charset`);
    /// empty passes every type.
    pub allow: Vec<String>,
    /// Largest payload passed, in bytes.
    pub max_bytes: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            max_bytes: 16 * 1024 * 1024,
        }
    }
}

/// The filter's state: its configuration and counters.
pub struct Filter {
    config: Config,
    passed: u64,
    dropped: u64,
}

#[torvyn::filter]
impl Filter {
    /// Called once with the node's config, before any element.
    fn init(config: Config) -> Result<Self> {
        if config.allow.iter().any(|t| t.trim().is_empty()) {
            return Err(Error::invalid_input(
                "`allow` contains an empty content type",
            ));
        }
        Ok(Self {
            config,
            passed: 0,
            dropped: 0,
        })
    }

    /// `true` passes the element on, `false` drops it.
    fn evaluate(&mut self, element: &Element) -> bool {
        let essence = element
            .content_type()
            .split(';')
            .next()
            .unwrap_or("")
            .trim();
        let type_ok =
            self.config.allow.is_empty() || self.config.allow.iter().any(|t| t == essence);
        let pass = type_ok && element.payload().size() <= self.config.max_bytes;
        if pass {
            self.passed += 1;
        } else {
            self.dropped += 1;
        }
        pass
    }

    /// Called once at the end of the flow.
    fn teardown(&mut self) {
        info!(
            "{{project-name}}: {} passed, {} dropped",
            self.passed, self.dropped
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use torvyn_guest::testing::{self, ElementBuilder};

    fn filter(config: &str) -> Filter {
        Filter::init(torvyn_guest::config::parse_or_default(config).unwrap()).unwrap()
    }

    #[test]
    fn passes_allowed_types_up_to_the_size_limit() {
        let mut f = filter(r#"{"allow": ["application/json"], "max_bytes": 8}"#);
        let small_json = ElementBuilder::new().json(&[1, 2]).build();
        let big_json = ElementBuilder::new().json(&"a long string").build();
        let text = ElementBuilder::new().text("hi").build();
        assert!(f.evaluate(&small_json));
        assert!(!f.evaluate(&big_json));
        assert!(!f.evaluate(&text));
        for element in [small_json, big_json, text] {
            assert_eq!(element.payload().read_stats().reads, 0, "no payload copies");
        }
        testing::take_logs();
        f.teardown();
        assert_eq!(
            testing::take_logs(),
            ["[info] {{project-name}}: 1 passed, 2 dropped"]
        );
    }

    #[test]
    fn empty_config_passes_everything() {
        let mut f = filter("");
        let element = ElementBuilder::new()
            .bytes(vec![0; 3])
            .content_type("image/png")
            .build();
        assert!(f.evaluate(&element));
    }

    #[test]
    fn config_errors_are_invalid_input() {
        let err = torvyn_guest::config::parse::<Config>(r#"{"max_bytes": "ten"}"#)
            .err()
            .unwrap();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().contains("max_bytes"), "{err}");
        let err = Filter::init(Config {
            allow: vec![" ".into()],
            ..Config::default()
        })
        .err()
        .unwrap();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
}
