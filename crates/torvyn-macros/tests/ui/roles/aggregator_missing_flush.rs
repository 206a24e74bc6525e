use torvyn_guest::prelude::*;

#[derive(Default)]
struct Counter {
    n: u64,
}

#[torvyn::aggregator]
impl Counter {
    fn ingest(&mut self, element: &Element) -> Option<Output> {
        self.n += element.sequence();
        None
    }
}

fn main() {}
