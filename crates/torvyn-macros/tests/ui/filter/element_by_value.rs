use torvyn_guest::prelude::*;

#[torvyn::filter]
fn keep(element: Element) -> bool {
    element.sequence() < 10
}

fn main() {}
