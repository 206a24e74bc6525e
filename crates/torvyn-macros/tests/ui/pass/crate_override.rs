use torvyn_guest::prelude::*;

#[torvyn::router(crate = ::torvyn_guest)]
fn by_type(element: &Element) -> Vec<&'static str> {
    if element.content_type() == "application/json" {
        vec!["json", "audit"]
    } else {
        vec![]
    }
}

fn main() {}
