use torvyn_guest::prelude::*;

#[torvyn::filter]
fn keep(payload: &[u8]) -> bool {
    !payload.is_empty()
}

fn main() {}
