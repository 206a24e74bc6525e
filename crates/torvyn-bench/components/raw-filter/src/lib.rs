//! Bench subject: `sdk-filter` written by hand against wit-bindgen (same world,
//! same work: one `size()` call, no read).

wit_bindgen::generate!({
    world: "torvyn:filtering/content-filter@0.1.0",
    path: ["../../../../wit/streaming", "../../../../wit/filtering"],
    generate_all,
});

use exports::torvyn::filtering::filter::Guest as Filter;
use exports::torvyn::streaming::lifecycle::Guest as Lifecycle;
use torvyn::streaming::types::{ProcessError, StreamElement};

struct AtLeastFourBytes;

impl Filter for AtLeastFourBytes {
    fn evaluate(element: StreamElement<'_>) -> Result<bool, ProcessError> {
        Ok(element.payload.size() >= 4)
    }
}

impl Lifecycle for AtLeastFourBytes {
    fn init(_config: String) -> Result<(), ProcessError> {
        Ok(())
    }
    fn teardown() {}
}

export!(AtLeastFourBytes);
