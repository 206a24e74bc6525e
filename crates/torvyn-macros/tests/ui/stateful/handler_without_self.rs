use torvyn_guest::prelude::*;

#[derive(Default)]
struct Limiter;

#[torvyn::filter]
impl Limiter {
    fn evaluate(element: &Element) -> bool {
        element.sequence() < 10
    }
}

fn main() {}
