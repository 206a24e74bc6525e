//! {{project-name}}: a Torvyn router.
//!
//! Sends elements to the output port `small` or `large` by payload size
//! (`large_bytes` is the threshold), also to `audit` when the content type is
//! listed in `audit` (fan-out: the same buffer goes to both ports, no copy),
//! and drops empty payloads. It reads no payload bytes.
//!
//! Config: `{"large_bytes": 1024, "audit": ["application/json"]}` (all optional).

use serde::Deserialize;
use torvyn_guest::prelude::*;

/// The node's configuration: the JSON string from `Torvyn.toml`, typed.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Payloads of at least this many bytes go to `large`.
    pub large_bytes: u64,
    /// Content types also sent to `audit`.
    pub audit: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            large_bytes: 1024,
            audit: Vec::new(),
        }
    }
}

/// The router's state: its configuration.
pub struct Router {
    config: Config,
}

#[torvyn::router]
impl Router {
    /// Called once with the node's config, before any element.
    fn init(config: Config) -> Result<Self> {
        if config.large_bytes == 0 {
            return Err(Error::invalid_input("`large_bytes` must be at least 1"));
        }
        Ok(Self { config })
    }

    /// The ports the element goes to: one, several (fan-out) or none (drop).
    fn route(&mut self, element: &Element) -> Route {
        let size = element.payload().size();
        if size == 0 {
            return Route::drop();
        }
        let port = if size >= self.config.large_bytes {
            "large"
        } else {
            "small"
        };
        if self
            .config
            .audit
            .iter()
            .any(|t| t == element.content_type())
        {
            Route::fan_out([port, "audit"])
        } else {
            Route::to(port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use torvyn_guest::testing::ElementBuilder;

    fn router(config: &str) -> Router {
        Router::init(torvyn_guest::config::parse_or_default(config).unwrap()).unwrap()
    }

    #[test]
    fn routes_by_size_and_fans_out_to_audit() {
        let mut r = router(r#"{"large_bytes": 4, "audit": ["application/json"]}"#);
        let small = ElementBuilder::new().text("abc").build();
        let large = ElementBuilder::new().text("abcd").build();
        let json = ElementBuilder::new().json(&[1, 2, 3]).build();
        assert_eq!(r.route(&small).ports(), ["small"]);
        assert_eq!(r.route(&large).ports(), ["large"]);
        assert_eq!(r.route(&json).ports(), ["large", "audit"]);
        for element in [small, large, json] {
            assert_eq!(element.payload().read_stats().reads, 0, "no payload copies");
        }
    }

    #[test]
    fn drops_empty_payloads() {
        let mut r = router("");
        let empty = ElementBuilder::new().build();
        assert!(r.route(&empty).ports().is_empty());
    }

    #[test]
    fn zero_threshold_is_invalid_config() {
        let err = Router::init(Config {
            large_bytes: 0,
            audit: Vec::new(),
        })
        .err()
        .unwrap();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
}
