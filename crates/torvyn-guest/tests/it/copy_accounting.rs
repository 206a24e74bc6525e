//! `Output::copy_of` is counted the same natively and on the reference host: a
//! clone of the payload's size, no allocation, no payload read.

use torvyn_guest::Output;
use torvyn_guest::testing::{self, ElementBuilder};
use torvyn_testkit::{Component, TestElement};

#[test]
fn copy_of_is_a_clone_natively_and_on_the_host() {
    // Natively, with the SDK's fakes.
    let element = ElementBuilder::new().text("hello").build();
    testing::take_allocations();
    let out = Output::copy_of(&element).unwrap();
    assert_eq!(out.to_text().unwrap(), "hello");
    let native = (
        testing::take_allocations(),
        testing::take_clones(),
        element.payload().read_stats().reads,
    );
    assert_eq!(native, (vec![], vec![5], 0));

    // On the reference host, the same call in a compiled component.
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/copy-processor");
    let component = Component::build(dir).unwrap_or_else(|err| panic!("{err}"));
    let mut processor = component.instantiate("").unwrap();
    let output = processor.process(TestElement::text("hello")).unwrap();
    assert_eq!(output.output().expect("an output").text(), Some("hello"));
    let stats = processor.stats();
    assert_eq!(
        (stats.allocations, stats.bytes_allocated),
        (native.0.len() as u64, native.0.iter().sum::<u64>()),
        "allocations agree: {stats:?}"
    );
    assert_eq!(
        (stats.clones, stats.bytes_cloned),
        (native.1.len() as u64, native.1.iter().sum::<u64>()),
        "clones agree: {stats:?}"
    );
    assert_eq!(stats.reads, native.2, "reads agree: {stats:?}");
}
