use torvyn_guest::prelude::*;

struct Limiter;

impl Limiter {
    #[torvyn::filter]
    fn evaluate(&mut self, element: &Element) -> bool {
        element.sequence() < 10
    }
}

fn main() {}
