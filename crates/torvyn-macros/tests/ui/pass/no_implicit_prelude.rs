#![no_implicit_prelude]

struct Counter {
    seen: u64,
}

#[derive(::serde::Deserialize)]
struct Config {
    start: u64,
}

#[::torvyn_guest::filter]
impl Counter {
    fn init(config: Config) -> ::torvyn_guest::Result<Self> {
        ::core::result::Result::Ok(Self { seen: config.start })
    }

    fn evaluate(&mut self, element: &::torvyn_guest::Element) -> bool {
        self.seen += 1;
        element.sequence() % 2 == 0
    }

    fn teardown(&mut self) {}
}

fn main() {}
