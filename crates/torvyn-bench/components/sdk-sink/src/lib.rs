//! Bench subject: counts the elements and payload bytes it receives (reads no
//! payload) and always answers `ready`. Written with `#[torvyn::sink]`.

use torvyn_guest::prelude::*;

/// The sink's state: what it received.
#[derive(Default)]
struct Count {
    elements: u64,
    bytes: u64,
}

#[torvyn::sink]
impl Count {
    fn push(&mut self, element: &Element) -> Backpressure {
        self.elements += 1;
        self.bytes += element.payload().size();
        Backpressure::Ready
    }

    fn complete(&mut self) -> Result<()> {
        info!("{} elements, {} bytes", self.elements, self.bytes);
        Ok(())
    }
}
