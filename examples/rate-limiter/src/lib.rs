//! Rate limiter: passes at most `max_per_second` elements per window of
//! `window_ms`, using the timestamps the runtime puts on each element.
//! Config (JSON, all optional): `{"max_per_second": 100, "window_ms": 1000}`.

use serde::Deserialize;
use torvyn_guest::prelude::*;

/// Configuration of the limiter.
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Elements allowed per window.
    pub max_per_second: u64,
    /// Window length in milliseconds.
    pub window_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_per_second: 100,
            window_ms: 1000,
        }
    }
}

/// Sliding-window state.
pub struct RateLimiter {
    config: Config,
    window_start_ns: u64,
    window_count: u64,
    passed: u64,
    dropped: u64,
}

#[torvyn::filter]
impl RateLimiter {
    fn init(config: Config) -> Result<Self> {
        if config.max_per_second == 0 {
            return Err(Error::invalid_input(
                "`max_per_second` must be greater than 0",
            ));
        }
        Ok(Self {
            config,
            window_start_ns: 0,
            window_count: 0,
            passed: 0,
            dropped: 0,
        })
    }

    fn evaluate(&mut self, element: &Element) -> bool {
        let now = element.timestamp_ns();
        if now.saturating_sub(self.window_start_ns) > self.config.window_ms * 1_000_000 {
            self.window_start_ns = now;
            self.window_count = 0;
        }
        self.window_count += 1;
        let pass = self.window_count <= self.config.max_per_second;
        if pass {
            self.passed += 1
        } else {
            self.dropped += 1
        }
        pass
    }

    fn teardown(&mut self) {
        info!(
            "rate limiter: {} passed, {} dropped",
            self.passed, self.dropped
        );
    }
}

#[cfg(test)]
mod tests;
