//! Bench subject: `sdk-processor` written by hand against wit-bindgen (same
//! world, same work: `read-all`, upper-case ASCII, `allocate` of the exact size,
//! `append`, `set-content-type`, `freeze`, emit).

wit_bindgen::generate!({
    world: "torvyn:streaming/managed-transform@0.1.0",
    path: ["../../../../wit/streaming"],
    generate_all,
});

use exports::torvyn::streaming::lifecycle::Guest as Lifecycle;
use exports::torvyn::streaming::processor::Guest as Processor;
use torvyn::streaming::buffer_allocator::allocate;
use torvyn::streaming::types::{
    BufferError, OutputElement, ProcessError, ProcessResult, StreamElement,
};

struct Upper;

fn internal(err: BufferError) -> ProcessError {
    ProcessError::Internal(format!("{err:?}"))
}

impl Processor for Upper {
    fn process(input: StreamElement<'_>) -> Result<ProcessResult, ProcessError> {
        let mut bytes = input.payload.read_all();
        bytes.make_ascii_uppercase();
        let out = allocate(bytes.len() as u64).map_err(internal)?;
        out.append(&bytes).map_err(internal)?;
        out.set_content_type(&input.meta.content_type);
        Ok(ProcessResult::Emit(OutputElement {
            meta: input.meta.clone(),
            payload: out.freeze(),
        }))
    }
}

impl Lifecycle for Upper {
    fn init(_config: String) -> Result<(), ProcessError> {
        Ok(())
    }
    fn teardown() {}
}

export!(Upper);
