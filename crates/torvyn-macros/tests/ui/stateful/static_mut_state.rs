use torvyn_guest::prelude::*;

static mut TOTAL: u64 = 0;

#[derive(Default)]
struct Summer;

#[torvyn::sink]
impl Summer {
    fn push(&mut self, element: &Element) -> Backpressure {
        TOTAL += element.payload().size();
        Backpressure::Ready
    }
}

fn main() {}
