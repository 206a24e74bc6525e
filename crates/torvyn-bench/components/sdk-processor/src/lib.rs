//! Bench subject: upper-cases ASCII in place (reads the whole payload once into
//! an owned `Vec`, allocates an output of exactly its size, appends, freezes,
//! emits), written with the SDK's `#[torvyn::processor]`.

use torvyn_guest::prelude::*;

#[torvyn::processor]
fn upper(element: &Element) -> Result<Output> {
    let mut upper = element.payload().to_vec();
    upper.make_ascii_uppercase();
    Ok(Output::bytes(upper, element.content_type())?
        .with_sequence(element.sequence())
        .with_timestamp_ns(element.timestamp_ns()))
}
