//! A property test of the whole flow: generated streams of numbers replace the
//! `numbers` source, and every run must keep exactly the even ones, in order.
//! `torvyn_testkit::prop::PipelineProp` also checks that the flow does not fail
//! (no trap, limit or `fatal` in any node) and that every element is accounted
//! for; a failure is shrunk to the shortest stream and printed to paste.
//! `PROPTEST_CASES=1000 cargo test --test prop` runs more cases.

use torvyn_testkit::prop::{self, PipelineProp};
use torvyn_testkit::{NodeSpec, Pipeline, TestElement};

#[test]
fn the_flow_keeps_exactly_the_even_numbers() {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Torvyn.toml");
    let flow =
        Pipeline::from_manifest(manifest, Some("main")).unwrap_or_else(|err| panic!("{err}"));
    let numbers = prop::text_from("[0-9]{1,6}");
    PipelineProp::new(move |input: Vec<TestElement>| {
        flow.clone().replace("numbers", NodeSpec::source(input))
    })
    .cases(12)
    .assert(prop::sequence(numbers, 0..16), |input, run| {
        let evens: Vec<String> = input
            .iter()
            .map(|element| String::from_utf8_lossy(element.payload().as_bytes()).into_owned())
            .filter(|text| text.parse::<u64>().is_ok_and(|n| n % 2 == 0))
            .collect();
        prop::ensure(
            run.received_text("counter") == evens,
            "keeps the even numbers, in order",
        )
    });
}
