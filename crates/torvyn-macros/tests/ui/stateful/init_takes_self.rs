use torvyn_guest::prelude::*;

#[derive(Default)]
struct Limiter {
    max: u64,
}

#[torvyn::filter]
impl Limiter {
    fn init(&mut self, max: u64) -> Result<()> {
        self.max = max;
        Ok(())
    }

    fn evaluate(&mut self, element: &Element) -> bool {
        element.sequence() < self.max
    }
}

fn main() {}
