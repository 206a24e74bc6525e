use torvyn_guest::prelude::*;

#[torvyn::filter]
fn keep(element: &Element) -> u64 {
    element.sequence()
}

fn main() {}
