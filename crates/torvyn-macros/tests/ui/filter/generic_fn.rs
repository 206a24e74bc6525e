use torvyn_guest::prelude::*;

#[torvyn::filter]
fn keep<T: Default>(element: &Element) -> bool {
    let _ = T::default();
    element.sequence() < 10
}

fn main() {}
