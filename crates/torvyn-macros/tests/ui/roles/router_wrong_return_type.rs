use torvyn_guest::prelude::*;

#[torvyn::router]
fn route(element: &Element) -> u32 {
    element.sequence() as u32
}

fn main() {}
