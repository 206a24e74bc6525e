use torvyn_guest::prelude::*;

#[torvyn::filter]
fn keep(element: &Element) {
    let _ = element;
}

fn main() {}
