//! The flow's sink: counts the numbers it receives and adds them up, and logs
//! both when the flow completes.

use torvyn_guest::prelude::*;

/// The sink's state.
#[derive(Default)]
pub struct Counter {
    count: u64,
    sum: u64,
}

#[torvyn::sink]
impl Counter {
    fn push(&mut self, element: &Element) -> Result<Backpressure> {
        let n: u64 = element
            .text()?
            .trim()
            .parse()
            .map_err(|_| Error::invalid_input("not a number"))?;
        self.count += 1;
        self.sum += n;
        Ok(Backpressure::Ready)
    }

    fn complete(&mut self) -> Result<()> {
        info!("counter: {} numbers, sum {}", self.count, self.sum);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use torvyn_guest::testing::{self, ElementBuilder};

    #[test]
    fn counts_and_sums() {
        let mut sink = Counter::default();
        for n in [2, 4, 6] {
            let element = ElementBuilder::new().text(n.to_string()).build();
            assert_eq!(sink.push(&element).unwrap(), Backpressure::Ready);
        }
        testing::take_logs();
        sink.complete().unwrap();
        assert_eq!(testing::take_logs(), ["[info] counter: 3 numbers, sum 12"]);
    }
}
