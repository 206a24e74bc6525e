//! Moving elements between the host and an instance: an element in as
//! borrowed handles for one call, an output's owned buffer out to the host.

use wasmtime::component::Resource;

use std::sync::Arc;

use super::Instance;
use crate::element::{Meta, Output, Payload, TestElement, TraceId};
use crate::error::{Error, ErrorKind};
use crate::host::bindings::torvyn::streaming::types as wit;
use crate::host::{BufferRes, FlowContextRes};

/// The two table entries an element is lent through, made at the first
/// element call and reused by every later one: a borrow cannot outlive its
/// call, so a component never sees an earlier element's data through them.
pub(super) struct Lent {
    payload: u32,
    context: u32,
    /// Empty bytes, to leave in the payload entry between calls.
    empty: Payload,
}

impl Instance {
    /// Lend `element` to a call: its payload (shared, not copied) and flow
    /// context go into the instance's two lending entries, its content type
    /// moves into the metadata; [`Instance::take_back`] undoes it. An
    /// element call allocates nothing here once the entries hold content
    /// types as long as the element's.
    pub(super) fn push_element(
        &mut self,
        element: &mut TestElement,
    ) -> Result<wit::StreamElement, wasmtime::component::ResourceTableError> {
        let lent = match &self.lent {
            Some(lent) => (lent.payload, lent.context),
            None => {
                let table = &mut self.store.data_mut().table;
                let payload = table.push(BufferRes {
                    bytes: Payload::default(),
                    content_type: String::new(),
                    charge: 0,
                })?;
                let context = table.push(FlowContextRes {
                    trace_id: TraceId::default(),
                    span_id: String::new(),
                    deadline_ns: 0,
                    flow_id: Arc::clone(&self.flow_id),
                })?;
                let lent = Lent {
                    payload: payload.rep(),
                    context: context.rep(),
                    empty: Payload::default(),
                };
                let reps = (lent.payload, lent.context);
                self.lent = Some(lent);
                reps
            }
        };
        let table = &mut self.store.data_mut().table;
        let payload = table.get_mut(&Resource::<BufferRes>::new_own(lent.0))?;
        payload.bytes = element.payload.clone();
        payload.content_type.clone_from(&element.content_type);
        let context = table.get_mut(&Resource::<FlowContextRes>::new_own(lent.1))?;
        context.trace_id.clone_from(&element.trace_id);
        context.span_id.clone_from(&element.span_id);
        context.deadline_ns = element.deadline_ns;
        Ok(wit::StreamElement {
            meta: wit::ElementMeta {
                sequence: element.sequence,
                timestamp_ns: element.timestamp_ns,
                content_type: std::mem::take(&mut element.content_type),
            },
            payload: Resource::new_borrow(lent.0),
            context: Resource::new_borrow(lent.1),
        })
    }

    /// After the call: give `element` its content type back, and empty the
    /// payload entry, so it does not hold the element's bytes between calls.
    pub(super) fn take_back(
        &mut self,
        element: &mut TestElement,
        stream_element: wit::StreamElement,
    ) {
        element.content_type = stream_element.meta.content_type;
        if let Some(lent) = &self.lent {
            let empty = lent.empty.clone();
            let payload = Resource::<BufferRes>::new_own(lent.payload);
            if let Ok(payload) = self.store.data_mut().table.get_mut(&payload) {
                payload.bytes = empty;
            }
        }
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
