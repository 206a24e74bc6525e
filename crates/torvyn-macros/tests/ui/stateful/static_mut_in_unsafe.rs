use torvyn_guest::prelude::*;

static mut SEEN: u64 = 0;

// Compiles without the check: `unsafe` silences E0133.
#[torvyn::filter]
fn every_other(_element: &Element) -> bool {
    unsafe {
        SEEN += 1;
        SEEN % 2 == 1
    }
}

fn main() {}
