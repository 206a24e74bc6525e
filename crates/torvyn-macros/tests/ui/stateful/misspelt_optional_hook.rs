use torvyn_guest::prelude::*;

#[derive(Default)]
struct Tally {
    seen: u64,
}

#[torvyn::sink]
impl Tally {
    fn push(&mut self, _element: &Element) -> Backpressure {
        self.seen += 1;
        Backpressure::Ready
    }

    // Never called without the check: the hook is `complete`.
    fn complet(&mut self) -> Result<()> {
        info!("{} elements", self.seen);
        Ok(())
    }

    // A helper whose name is far from every hook is fine.
    fn reset(&mut self) {
        self.seen = 0;
    }
}

fn main() {}
