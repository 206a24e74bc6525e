//! Bench subject: passes elements whose payload has at least 4 bytes (one
//! `size()` call, no read), written with the SDK's `#[torvyn::filter]`.

use torvyn_guest::prelude::*;

#[torvyn::filter]
fn at_least_four_bytes(element: &Element) -> bool {
    element.payload().size() >= 4
}
