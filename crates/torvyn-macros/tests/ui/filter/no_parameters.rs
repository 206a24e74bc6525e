use torvyn_guest::prelude::*;

#[torvyn::filter]
fn keep() -> bool {
    true
}

fn main() {}
