use super::*;
use torvyn_guest::testing::{self, ElementBuilder};

const MS: u64 = 1_000_000;

fn at(ms: u64) -> Element<'static> {
    ElementBuilder::new().timestamp_ns(ms * MS).build()
}

fn limiter(config: &str) -> Result<RateLimiter> {
    RateLimiter::init(torvyn_guest::config::parse_or_default(config)?)
}

#[test]
fn passes_up_to_the_limit_per_window() {
    let mut limiter = limiter(r#"{"max_per_second": 2, "window_ms": 100}"#).unwrap();
    let decisions: Vec<bool> =
        [1, 2, 3, 50, 102, 103, 104].into_iter().map(|t| limiter.evaluate(&at(t))).collect();
    assert_eq!(decisions, [true, true, false, false, true, true, false]);
    assert_eq!((limiter.passed, limiter.dropped), (4, 3));
    testing::take_logs();
    limiter.teardown();
    assert_eq!(testing::take_logs(), ["[info] rate limiter: 4 passed, 3 dropped"]);
}

#[test]
fn config_is_typed_with_defaults() {
    let defaults = limiter("").unwrap();
    assert_eq!((defaults.max, defaults.window_ns), (100, 1000 * MS));
    let partial = limiter(r#"{"window_ms": 5}"#).unwrap();
    assert_eq!((partial.max, partial.window_ns), (100, 5 * MS));
    let err = limiter(r#"{"max_per_second": "ten"}"#).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("field `max_per_second`"), "{err}");
    assert!(err.message().contains("line 1 column"), "{err}");
    let err = limiter(r#"{"max_per_sec": 1}"#).err().unwrap();
    assert!(err.message().contains("unknown field `max_per_sec`"), "{err}");
}

#[test]
fn zero_rate_is_rejected() {
    let err = limiter(r#"{"max_per_second": 0}"#).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn reads_no_payload() {
    let mut limiter = limiter("").unwrap();
    let element = ElementBuilder::new().text("payload").timestamp_ns(1).build();
    limiter.evaluate(&element);
    assert_eq!(element.payload().read_stats().reads, 0);
}
