use torvyn_guest::prelude::*;

#[torvyn::filter(crate = ::torvyn_guest, crate = ::torvyn_guest)]
fn keep(element: &Element) -> bool {
    element.sequence() < 10
}

fn main() {}
