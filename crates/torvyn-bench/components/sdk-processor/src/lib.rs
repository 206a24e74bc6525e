//! Bench subject: upper-cases ASCII (reads the whole payload once, allocates an
//! output of exactly its size, appends, freezes, emits), written with the SDK's
//! `#[torvyn::processor]`.

use torvyn_guest::prelude::*;

#[torvyn::processor]
fn upper(element: &Element) -> Result<Output> {
    let upper = element.bytes().to_ascii_uppercase();
    Ok(Output::bytes(upper, element.content_type())?
        .with_sequence(element.sequence())
        .with_timestamp_ns(element.timestamp_ns()))
}
