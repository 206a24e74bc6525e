//! Bench subject: `sdk-source` written by hand against wit-bindgen (same world,
//! same work per element: `allocate` of the exact size, `append`,
//! `set-content-type`, `freeze`, emit). Config: `{"count": N, "size": N}`,
//! read with a few lines of code instead of serde (init is not per element).

wit_bindgen::generate!({
    world: "torvyn:streaming/data-source@0.1.0",
    path: ["../../../../wit/streaming"],
    generate_all,
});

use std::cell::Cell;

use exports::torvyn::streaming::lifecycle::Guest as Lifecycle;
use exports::torvyn::streaming::source::Guest as Source;
use torvyn::streaming::buffer_allocator::allocate;
use torvyn::streaming::types::{
    BackpressureSignal, BufferError, ElementMeta, OutputElement, ProcessError,
};

thread_local! {
    static SIZE: Cell<usize> = const { Cell::new(0) };
    static LEFT: Cell<u64> = const { Cell::new(0) };
}

/// The number after `"key":` in a flat JSON object.
fn number(config: &str, key: &str) -> Option<u64> {
    let at = config.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = config[at..].trim_start().strip_prefix(':')?.trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

struct Emit;

fn internal(err: BufferError) -> ProcessError {
    ProcessError::Internal(format!("{err:?}"))
}

impl Source for Emit {
    fn pull() -> Result<Option<OutputElement>, ProcessError> {
        let left = LEFT.get();
        if left == 0 {
            return Ok(None);
        }
        LEFT.set(left - 1);
        let payload = vec![b'a'; SIZE.get()];
        let out = allocate(payload.len() as u64).map_err(internal)?;
        out.append(&payload).map_err(internal)?;
        out.set_content_type("application/octet-stream");
        Ok(Some(OutputElement {
            meta: ElementMeta {
                sequence: 0,
                timestamp_ns: 0,
                content_type: "application/octet-stream".to_string(),
            },
            payload: out.freeze(),
        }))
    }

    fn notify_backpressure(_signal: BackpressureSignal) {}
}

impl Lifecycle for Emit {
    fn init(config: String) -> Result<(), ProcessError> {
        let (Some(count), Some(size)) = (number(&config, "count"), number(&config, "size")) else {
            return Err(ProcessError::InvalidInput(
                "config must be {\"count\": N, \"size\": N}".to_string(),
            ));
        };
        LEFT.set(count);
        SIZE.set(usize::try_from(size).unwrap_or(usize::MAX));
        Ok(())
    }
    fn teardown() {}
}

export!(Emit);
