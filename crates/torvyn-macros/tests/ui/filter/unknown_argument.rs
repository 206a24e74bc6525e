use torvyn_guest::prelude::*;

#[torvyn::filter(name = "keep")]
fn keep(element: &Element) -> bool {
    element.sequence() < 10
}

fn main() {}
