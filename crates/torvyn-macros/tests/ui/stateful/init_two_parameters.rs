use torvyn_guest::prelude::*;

struct Limiter {
    max: u64,
}

#[torvyn::filter]
impl Limiter {
    fn init(max: u64, min: u64) -> Self {
        Self { max: max + min }
    }

    fn evaluate(&mut self, element: &Element) -> bool {
        element.sequence() < self.max
    }
}

fn main() {}
