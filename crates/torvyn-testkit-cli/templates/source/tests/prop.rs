//! A property test of the compiled component: a source takes no input, so the
//! generated values here are its configs (with proptest, re-exported by
//! `torvyn_testkit::prop`): every count gives exactly that many records,
//! numbered from 0. A failure is shrunk to the smallest count.
//! `PROPTEST_CASES=1000 cargo test --test prop` runs more cases.

use torvyn_testkit::Component;
use torvyn_testkit::prop::proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn emits_exactly_count_records(count in 0u64..40) {
        let component = Component::build(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or_else(|err| panic!("building the component failed:\n{err}"));
        let mut source = component
            .instantiate_with(&serde_json::json!({"count": count, "label": "p"}))
            .unwrap();
        let records = source.pull_all().unwrap();
        prop_assert_eq!(records.len() as u64, count);
        for (n, record) in records.iter().enumerate() {
            let value: serde_json::Value = record.json().unwrap();
            prop_assert_eq!(&value["n"], &serde_json::json!(n));
        }
    }
}
