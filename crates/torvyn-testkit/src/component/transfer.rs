//! Moving elements between the host and an instance: an element in as
//! borrowed handles for one call, an output's owned buffer out to the host.

use wasmtime::component::Resource;

use super::Instance;
use crate::element::{Meta, Output, TestElement};
use crate::error::{Error, ErrorKind};
use crate::host::bindings::torvyn::streaming::types as wit;
use crate::host::{BufferRes, FlowContextRes};

/// The pushed handles of an element passed to a call, removed afterwards.
pub(super) struct Pushed {
    pub(super) payload: u32,
    pub(super) context: u32,
}

impl Instance {
    pub(super) fn push_element(
        &mut self,
        element: TestElement,
    ) -> Result<(wit::StreamElement, Pushed), wasmtime::component::ResourceTableError> {
        let flow_id = self.flow_id.clone();
        let table = &mut self.store.data_mut().table;
        let payload = table.push(BufferRes {
            bytes: element.payload,
            content_type: element.content_type.clone(),
            charge: 0,
        })?;
        let context = table.push(FlowContextRes {
            trace_id: element.trace_id,
            span_id: element.span_id,
            deadline_ns: element.deadline_ns,
            flow_id,
        })?;
        let pushed = Pushed {
            payload: payload.rep(),
            context: context.rep(),
        };
        let stream_element = wit::StreamElement {
            meta: wit::ElementMeta {
                sequence: element.sequence,
                timestamp_ns: element.timestamp_ns,
                content_type: element.content_type,
            },
            payload: Resource::new_borrow(pushed.payload),
            context: Resource::new_borrow(pushed.context),
        };
        Ok((stream_element, pushed))
    }

    pub(super) fn output(
        &mut self,
        call: &'static str,
        output: wit::OutputElement,
    ) -> Result<Output, Error> {
        let buffer = self
            .store
            .data_mut()
            .table
            .delete(output.payload)
            .map_err(|err| {
                self.error(
                    call,
                    ErrorKind::Trap {
                        message: format!("the output's payload is not a live buffer: {err}"),
                        panic: None,
                    },
                )
            })?;
        // The buffer moves to the host: it no longer counts against the component.
        self.store.data_mut().buffers.release(buffer.charge);
        Ok(Output {
            payload: buffer.bytes,
            content_type: buffer.content_type,
            meta: Meta {
                sequence: output.meta.sequence,
                timestamp_ns: output.meta.timestamp_ns,
                content_type: output.meta.content_type,
            },
        })
    }
}
