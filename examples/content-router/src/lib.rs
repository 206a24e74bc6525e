//! Content-type router: JSON goes to `json`, text to `text`, everything else to
//! `other`; elements whose content type is listed in `audit` also go to the
//! `audit` port (fan-out of the same buffer); empty payloads are dropped.
//! Reads no payload bytes.
//!
//! Config: `{"audit": ["application/json"]}`.

use serde::Deserialize;
use torvyn_guest::prelude::*;

/// Configuration of the router.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Content types that are also sent to the `audit` port.
    pub audit: Vec<String>,
}

/// The router.
pub struct ContentRouter {
    config: Config,
}

#[torvyn::router]
impl ContentRouter {
    fn init(config: Config) -> Self {
        Self { config }
    }

    fn route(&mut self, element: &Element) -> Route {
        if element.payload().is_empty() {
            return Route::drop();
        }
        let content_type = element.content_type();
        let essence = content_type.split(';').next().unwrap_or("").trim();
        let port = match essence {
            "application/json" => "json",
            t if t.starts_with("text/") => "text",
            _ => "other",
        };
        if self.config.audit.iter().any(|a| a == essence) {
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

    fn router(audit: &[&str]) -> ContentRouter {
        ContentRouter::init(Config { audit: audit.iter().map(|s| s.to_string()).collect() })
    }

    #[test]
    fn routes_by_content_type_without_reading_the_payload() {
        let mut r = router(&[]);
        let json = ElementBuilder::new().json(&1).build();
        assert_eq!(r.route(&json).ports(), ["json"]);
        let text = ElementBuilder::new().text("hi").build();
        assert_eq!(r.route(&text).ports(), ["text"]);
        let bin = ElementBuilder::new().bytes(vec![1, 2]).content_type("image/png").build();
        assert_eq!(r.route(&bin).ports(), ["other"]);
        for element in [json, text, bin] {
            assert_eq!(element.payload().read_stats().reads, 0);
        }
    }

    #[test]
    fn fans_out_to_audit_and_drops_empty_payloads() {
        let mut r = router(&["application/json"]);
        let json = ElementBuilder::new().json(&1).build();
        assert_eq!(r.route(&json).ports(), ["json", "audit"]);
        let empty = ElementBuilder::new().content_type("application/json").build();
        assert!(r.route(&empty).ports().is_empty());
    }
}
