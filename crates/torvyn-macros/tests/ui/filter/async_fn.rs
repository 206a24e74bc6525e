use torvyn_guest::prelude::*;

#[torvyn::filter]
async fn keep(element: &Element<'_>) -> bool {
    element.sequence() < 10
}

fn main() {}
