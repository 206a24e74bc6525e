//! The generated code must not use the author's `Result`, `Option`, `Ok`, `Vec`
//! or `String`.
use torvyn_guest::prelude::*;

#[allow(dead_code)]
type Result = ();
#[allow(dead_code)]
enum Option {
    Nothing,
}
#[allow(dead_code)]
struct Ok;
#[allow(dead_code)]
struct Some;
#[allow(dead_code)]
struct Vec;
#[allow(dead_code)]
struct String;
#[allow(dead_code)]
struct Default;

#[derive(serde::Deserialize)]
struct Config {
    every: u64,
}

struct Batcher {
    every: u64,
    n: u64,
}

#[torvyn::aggregator]
impl Batcher {
    fn init(config: Config) -> torvyn_guest::Result<Self> {
        core::result::Result::Ok(Self { every: config.every, n: 0 })
    }

    fn ingest(&mut self, _element: &Element) -> torvyn_guest::Result<core::option::Option<Output>> {
        self.n += 1;
        if self.n % self.every == 0 {
            Output::text("batch").map(core::option::Option::Some)
        } else {
            core::result::Result::Ok(core::option::Option::None)
        }
    }

    fn flush(&mut self) -> std::vec::Vec<Output> {
        std::vec::Vec::new()
    }
}

fn main() {}
