use torvyn_guest::prelude::*;

#[derive(Default)]
struct Keep;

#[torvyn::filter]
impl Keep {
    fn evaluate(&mut self, element: &Element) -> bool {
        element.sequence() < 10
    }
}

#[derive(Default)]
struct Shout;

#[torvyn::processor]
impl Shout {
    fn process(&mut self, element: &Element) -> Result<Option<Output>> {
        Ok(Some(Output::text(element.text()?.to_uppercase())?))
    }
}

fn main() {}
