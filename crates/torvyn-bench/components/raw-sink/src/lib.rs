//! Bench subject: `sdk-sink` written by hand against wit-bindgen (same world,
//! same work per element: one `size()` call, no read, answers `ready`).

wit_bindgen::generate!({
    world: "torvyn:streaming/data-sink@0.1.0",
    path: ["../../../../wit/streaming"],
    generate_all,
});

use std::cell::Cell;

use exports::torvyn::streaming::lifecycle::Guest as Lifecycle;
use exports::torvyn::streaming::sink::Guest as Sink;
use torvyn::streaming::types::{BackpressureSignal, ProcessError, StreamElement};

thread_local! {
    static ELEMENTS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

struct Count;

impl Sink for Count {
    fn push(element: StreamElement<'_>) -> Result<BackpressureSignal, ProcessError> {
        ELEMENTS.set(ELEMENTS.get() + 1);
        BYTES.set(BYTES.get() + element.payload.size());
        Ok(BackpressureSignal::Ready)
    }

    fn complete() -> Result<(), ProcessError> {
        eprintln!("[info] {} elements, {} bytes", ELEMENTS.get(), BYTES.get());
        Ok(())
    }
}

impl Lifecycle for Count {
    fn init(_config: String) -> Result<(), ProcessError> {
        Ok(())
    }
    fn teardown() {}
}

export!(Count);
