use torvyn_guest::prelude::*;

#[torvyn::processor]
fn pass_through<'a>(element: &'a Element<'a>) -> Option<&'a Element<'a>> {
    Some(element)
}

fn main() {}
