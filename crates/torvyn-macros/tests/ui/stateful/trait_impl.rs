use torvyn_guest::prelude::*;

struct Limiter;

#[torvyn::filter]
impl Default for Limiter {
    fn default() -> Self {
        Limiter
    }
}

fn main() {}
