use torvyn_guest::prelude::*;

#[derive(Default)]
struct Limiter {
    seen: u64,
}

// Two mistakes in two methods: both are reported, neither hides the other,
// and `evaluate` (present, only without `self`) is not reported as missing.
#[torvyn::filter]
impl Limiter {
    fn evaluate(element: &Element) -> bool {
        element.sequence() < 10
    }

    fn teardown(self) {
        let _ = self.seen;
    }
}

fn main() {}
