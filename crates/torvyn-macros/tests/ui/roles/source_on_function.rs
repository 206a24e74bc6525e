use torvyn_guest::prelude::*;

#[torvyn::source]
fn pull() -> Option<Output> {
    None
}

fn main() {}
