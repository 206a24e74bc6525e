use torvyn_guest::prelude::*;

#[derive(Default)]
struct PassThrough;

#[torvyn::processor]
impl PassThrough {
    fn process(&mut self, element: &Element) -> Option<&Element> {
        Some(element)
    }
}

fn main() {}
