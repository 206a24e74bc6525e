use torvyn_guest::prelude::*;

#[torvyn::filter]
struct Limiter {
    seen: u64,
}

fn main() {}
