use torvyn_guest::prelude::*;

struct Config {
    max: u64,
}

struct Limiter {
    max: u64,
}

#[torvyn::filter]
impl Limiter {
    fn init(config: Config) -> Self {
        Self { max: config.max }
    }

    fn evaluate(&mut self, element: &Element) -> bool {
        element.sequence() < self.max
    }
}

fn main() {}
