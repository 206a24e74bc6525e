use torvyn_guest::prelude::*;

#[torvyn::processor]
fn upper(element: &Element) -> Result<String> {
    Ok(element.text()?.to_uppercase())
}

fn main() {}
