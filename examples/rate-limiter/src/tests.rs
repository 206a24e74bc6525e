use super::*;
use torvyn_guest::testing::{self, ElementBuilder};

const MS: u64 = 1_000_000;

fn at(ms: u64) -> Element<'static> {
    ElementBuilder::new().timestamp_ns(ms * MS).build()
}

#[test]
fn passes_up_to_the_limit_per_window() {
    let mut limiter = RateLimiter::init(Config {
        max_per_second: 2,
        window_ms: 100,
    })
    .unwrap();
    let decisions: Vec<bool> = [1, 2, 3, 50, 102, 103, 104]
        .into_iter()
        .map(|t| limiter.evaluate(&at(t)))
        .collect();
    assert_eq!(decisions, [true, true, false, false, true, true, false]);
    assert_eq!((limiter.passed, limiter.dropped), (4, 3));
    testing::take_logs();
    limiter.teardown();
    assert_eq!(
        testing::take_logs(),
        ["[info] rate limiter: 4 passed, 3 dropped"]
    );
}

#[test]
fn config_is_typed_with_defaults() {
    let config: Config = torvyn_guest::config::parse_or_default("").unwrap();
    assert_eq!((config.max_per_second, config.window_ms), (100, 1000));
    let config: Config = torvyn_guest::config::parse(r#"{"window_ms": 5}"#).unwrap();
    assert_eq!((config.max_per_second, config.window_ms), (100, 5));
    let err = torvyn_guest::config::parse::<Config>(r#"{"max_per_second": "ten"}"#)
        .err()
        .unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("field `max_per_second`"), "{err}");
    assert!(err.message().contains("line 1 column"), "{err}");
}

#[test]
fn zero_rate_is_rejected() {
    let err = RateLimiter::init(Config {
        max_per_second: 0,
        window_ms: 1,
    })
    .err()
    .unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn reads_no_payload() {
    let mut limiter = RateLimiter::init(Config::default()).unwrap();
    let element = ElementBuilder::new()
        .text("payload")
        .timestamp_ns(1)
        .build();
    limiter.evaluate(&element);
    assert_eq!(element.payload().read_stats().reads, 0);
}
