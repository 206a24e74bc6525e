use torvyn_guest::prelude::*;

#[derive(Default)]
struct Limiter;

#[torvyn::filter]
impl Limiter {
    fn evaluate(&mut self, element: &Element) -> bool {
        element.sequence() < 10
    }

    fn teardown(&mut self, reason: &str) {
        let _ = reason;
    }
}

fn main() {}
