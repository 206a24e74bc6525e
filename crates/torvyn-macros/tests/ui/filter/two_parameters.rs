use torvyn_guest::prelude::*;

#[torvyn::filter]
fn keep(element: &Element, limit: u64) -> bool {
    element.sequence() < limit
}

fn main() {}
