use torvyn_guest::prelude::*;

#[torvyn::sink]
fn push(element: &Element) -> bool {
    element.sequence() > 0
}

fn main() {}
