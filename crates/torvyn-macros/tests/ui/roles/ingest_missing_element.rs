use torvyn_guest::prelude::*;

#[derive(Default)]
struct Counter {
    n: u64,
}

#[torvyn::aggregator]
impl Counter {
    fn ingest(&mut self) -> Option<Output> {
        self.n += 1;
        None
    }

    fn flush(&mut self) -> Vec<Output> {
        Vec::new()
    }
}

fn main() {}
