//! Rate limiter: passes at most `max_per_second` elements per `window_ms` window,
//! timed by the timestamps the runtime puts on elements.

use serde::Deserialize;
use torvyn_guest::prelude::*;

/// `{"max_per_second": 100, "window_ms": 1000}`, both optional.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    max_per_second: Option<u64>,
    window_ms: Option<u64>,
}

/// Sliding-window state, plus totals for the teardown log.
struct RateLimiter {
    max: u64,
    window_ns: u64,
    window_start_ns: u64,
    in_window: u64,
    passed: u64,
    dropped: u64,
}

#[torvyn::filter]
impl RateLimiter {
    fn init(config: Config) -> Result<Self> {
        let max = config.max_per_second.unwrap_or(100);
        if max == 0 {
            return Err(Error::invalid_input("`max_per_second` must be greater than 0"));
        }
        let window_ns = config.window_ms.unwrap_or(1000) * 1_000_000;
        Ok(Self { max, window_ns, window_start_ns: 0, in_window: 0, passed: 0, dropped: 0 })
    }

    fn evaluate(&mut self, element: &Element) -> bool {
        let now = element.timestamp_ns();
        if now.saturating_sub(self.window_start_ns) > self.window_ns {
            (self.window_start_ns, self.in_window) = (now, 0);
        }
        self.in_window += 1;
        let pass = self.in_window <= self.max;
        *if pass { &mut self.passed } else { &mut self.dropped } += 1;
        pass
    }

    fn teardown(&mut self) {
        info!("rate limiter: {} passed, {} dropped", self.passed, self.dropped);
    }
}

#[cfg(test)]
mod tests;
