//! Strategies that generate elements, their parts and numbered streams.

use std::fmt;

use proptest::collection::{SizeRange, vec};
use proptest::prelude::*;

use crate::element::TestElement;

/// Elements carrying arbitrary bytes (`application/octet-stream`), of a
/// length in `len` (`0..64`, `8`, `..=32`, ...). Shrinks towards fewer and
/// smaller bytes.
///
/// ```
/// use torvyn_testkit::prop;
/// use torvyn_testkit::prop::proptest::strategy::{Strategy, ValueTree};
/// use torvyn_testkit::prop::proptest::test_runner::TestRunner;
///
/// let mut runner = TestRunner::deterministic();
/// let element = prop::bytes(0..8).new_tree(&mut runner).unwrap().current();
/// assert!(element.payload().len() < 8);
/// assert_eq!(element.content_type_str(), "application/octet-stream");
/// ```
pub fn bytes(len: impl Into<SizeRange>) -> BoxedStrategy<TestElement> {
    vec(any::<u8>(), len).prop_map(TestElement::bytes).boxed()
}

/// Elements carrying arbitrary UTF-8 text of `len` characters
/// (`text/plain; charset=utf-8`).
///
/// ```
/// use torvyn_testkit::prop;
/// use torvyn_testkit::prop::proptest::strategy::{Strategy, ValueTree};
/// use torvyn_testkit::prop::proptest::test_runner::TestRunner;
///
/// let mut runner = TestRunner::deterministic();
/// let element = prop::text(1..=4).new_tree(&mut runner).unwrap().current();
/// let chars = std::str::from_utf8(element.payload().as_bytes()).unwrap().chars().count();
/// assert!((1..=4).contains(&chars));
/// ```
pub fn text(len: impl Into<SizeRange>) -> BoxedStrategy<TestElement> {
    vec(any::<char>(), len)
        .prop_map(|chars| TestElement::text(chars.into_iter().collect::<String>()))
        .boxed()
}

/// Text elements from a string strategy of your own; a `&str` is a regular
/// expression (`text_from("[a-z#]{0,16}")`).
///
/// ```
/// use torvyn_testkit::prop;
/// use torvyn_testkit::prop::proptest::strategy::{Strategy, ValueTree};
/// use torvyn_testkit::prop::proptest::test_runner::TestRunner;
///
/// let mut runner = TestRunner::deterministic();
/// let element = prop::text_from("[a-c#]{2}").new_tree(&mut runner).unwrap().current();
/// assert_eq!(element.payload().len(), 2);
/// assert!(element.payload().as_bytes().iter().all(|b| b"abc#".contains(b)));
/// ```
pub fn text_from(strategy: impl Strategy<Value = String> + 'static) -> BoxedStrategy<TestElement> {
    strategy.prop_map(TestElement::text).boxed()
}

/// Schema-less JSON values: null, booleans, integers, finite floats, strings,
/// and arrays and objects of those, nested up to three levels.
///
/// ```
/// use torvyn_testkit::prop;
/// use torvyn_testkit::prop::proptest::strategy::{Strategy, ValueTree};
/// use torvyn_testkit::prop::proptest::test_runner::TestRunner;
///
/// let mut runner = TestRunner::deterministic();
/// let value = prop::json_value().new_tree(&mut runner).unwrap().current();
/// assert!(serde_json::to_string(&value).is_ok());
/// ```
pub fn json_value() -> BoxedStrategy<serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-z0-9 ]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z]{1,8}", inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
    .boxed()
}

/// JSON elements (`application/json`) from a strategy of JSON values: your
/// own, or [`json_value`].
///
/// ```
/// use torvyn_testkit::prop;
/// use torvyn_testkit::prop::proptest::strategy::{Strategy, ValueTree};
/// use torvyn_testkit::prop::proptest::test_runner::TestRunner;
///
/// let mut runner = TestRunner::deterministic();
/// let element = prop::json(prop::json_value()).new_tree(&mut runner).unwrap().current();
/// assert_eq!(element.content_type_str(), "application/json");
/// let _: serde_json::Value = serde_json::from_slice(element.payload().as_bytes()).unwrap();
/// ```
pub fn json(
    values: impl Strategy<Value = serde_json::Value> + 'static,
) -> BoxedStrategy<TestElement> {
    values.prop_map(TestElement::json).boxed()
}

/// JSON elements from a strategy of any serializable value (a struct of your
/// own, generated with proptest's `any` or a hand-written strategy). Values
/// serde_json cannot serialize become `null`.
///
/// ```
/// use torvyn_testkit::prop;
/// use torvyn_testkit::prop::proptest::strategy::{Strategy, ValueTree};
/// use torvyn_testkit::prop::proptest::test_runner::TestRunner;
///
/// let mut runner = TestRunner::deterministic();
/// let element = prop::json_of((0u8..10, "[a-z]{1,3}")).new_tree(&mut runner).unwrap().current();
/// let (n, name): (u8, String) = serde_json::from_slice(element.payload().as_bytes()).unwrap();
/// assert!(n < 10 && !name.is_empty());
/// ```
pub fn json_of<T: serde::Serialize + fmt::Debug + 'static>(
    values: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<TestElement> {
    values
        .prop_map(|value| TestElement::json(serde_json::to_value(&value).unwrap_or_default()))
        .boxed()
}

/// Common content types (JSON, text, octet-stream, CSV, protobuf, and an
/// unusual one).
///
/// ```
/// use torvyn_testkit::prop;
/// use torvyn_testkit::prop::proptest::strategy::{Strategy, ValueTree};
/// use torvyn_testkit::prop::proptest::test_runner::TestRunner;
///
/// let mut runner = TestRunner::deterministic();
/// let content_type = prop::content_type().new_tree(&mut runner).unwrap().current();
/// assert!(content_type.contains('/'));
/// ```
pub fn content_type() -> BoxedStrategy<String> {
    prop_oneof![
        Just("application/json".to_string()),
        Just("text/plain; charset=utf-8".to_string()),
        Just("application/octet-stream".to_string()),
        Just("text/csv".to_string()),
        Just("application/x-protobuf".to_string()),
        Just("application/vnd.example+json; version=2".to_string()),
    ]
    .boxed()
}

/// Timestamps in nanoseconds, from 0 up to about a year.
///
/// ```
/// use torvyn_testkit::prop;
/// use torvyn_testkit::prop::proptest::strategy::{Strategy, ValueTree};
/// use torvyn_testkit::prop::proptest::test_runner::TestRunner;
///
/// let mut runner = TestRunner::deterministic();
/// let timestamp = prop::timestamp_ns().new_tree(&mut runner).unwrap().current();
/// assert!(timestamp < 366 * 24 * 3600 * 1_000_000_000);
/// ```
pub fn timestamp_ns() -> BoxedStrategy<u64> {
    (0u64..(365 * 24 * 3600 * 1_000_000_000)).boxed()
}

/// Any element: bytes, text or JSON, sometimes with another content type,
/// with a generated sequence number and timestamp.
///
/// ```
/// use torvyn_testkit::prop;
/// use torvyn_testkit::prop::proptest::strategy::{Strategy, ValueTree};
/// use torvyn_testkit::prop::proptest::test_runner::TestRunner;
///
/// let mut runner = TestRunner::deterministic();
/// let element = prop::element().new_tree(&mut runner).unwrap().current();
/// assert!(!element.content_type_str().is_empty());
/// ```
pub fn element() -> BoxedStrategy<TestElement> {
    let payload = prop_oneof![bytes(0..64), text(0..32), json(json_value())];
    (
        payload,
        proptest::option::of(content_type()),
        any::<u64>(),
        timestamp_ns(),
    )
        .prop_map(|(element, content_type, sequence, timestamp)| {
            let element = element.sequence(sequence).timestamp_ns(timestamp);
            match content_type {
                Some(content_type) => element.content_type(content_type),
                None => element,
            }
        })
        .boxed()
}

/// A stream of `len` elements from `elements`, numbered 0, 1, 2, ... with
/// increasing timestamps (gaps of up to a second), as a source would produce
/// them. Shrinks by removing elements (renumbering the rest) and shrinking
/// each one.
///
/// ```
/// use torvyn_testkit::prop;
/// use torvyn_testkit::prop::proptest::strategy::{Strategy, ValueTree};
/// use torvyn_testkit::prop::proptest::test_runner::TestRunner;
///
/// let mut runner = TestRunner::deterministic();
/// let stream = prop::sequence(prop::text(0..4), 3).new_tree(&mut runner).unwrap().current();
/// let numbers: Vec<u64> = stream.iter().map(|e| e.sequence_number()).collect();
/// assert_eq!(numbers, [0, 1, 2]);
/// ```
pub fn sequence(
    elements: impl Strategy<Value = TestElement> + 'static,
    len: impl Into<SizeRange>,
) -> BoxedStrategy<Vec<TestElement>> {
    vec((elements, 0u64..1_000_000_000), len)
        .prop_map(|items| {
            let mut timestamp = 0u64;
            items
                .into_iter()
                .enumerate()
                .map(|(index, (element, gap))| {
                    timestamp = timestamp.saturating_add(gap);
                    element.sequence(index as u64).timestamp_ns(timestamp)
                })
                .collect()
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::test_runner::TestRunner;

    #[test]
    fn sequences_are_numbered_with_increasing_timestamps() {
        let mut runner = TestRunner::deterministic();
        for _ in 0..20 {
            let stream = sequence(text(0..4), 0..8)
                .new_tree(&mut runner)
                .unwrap()
                .current();
            for (index, element) in stream.iter().enumerate() {
                assert_eq!(element.sequence_number(), index as u64);
            }
            assert!(
                stream
                    .windows(2)
                    .all(|pair| pair[0].timestamp_ns_value() <= pair[1].timestamp_ns_value())
            );
        }
    }
}
