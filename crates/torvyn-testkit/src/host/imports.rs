//! The host side of the contract's imports: `types` (buffers, mutable
//! buffers, the flow context), `buffer-allocator` and `capability-query`.

use wasmtime::component::Resource;

use super::bindings::torvyn::streaming::types::{self as wit, BufferError};
use super::{BufferRes, FlowContextRes, HostState, MutableBufferRes, bindings};
use crate::element::{MAX_BUFFER_BYTES, Payload};
use crate::settings::ALL_CAPABILITIES;

impl wit::HostBuffer for HostState {
    fn size(&mut self, buffer: Resource<BufferRes>) -> wasmtime::Result<u64> {
        Ok(self.table.get(&buffer)?.bytes.len() as u64)
    }

    fn content_type(&mut self, buffer: Resource<BufferRes>) -> wasmtime::Result<String> {
        Ok(self.table.get(&buffer)?.content_type.clone())
    }

    fn read(
        &mut self,
        buffer: Resource<BufferRes>,
        offset: u64,
        len: u64,
    ) -> wasmtime::Result<Vec<u8>> {
        let bytes = self.table.get(&buffer)?.bytes.as_bytes();
        let size = bytes.len() as u64;
        let start = offset.min(size);
        let end = offset.saturating_add(len).min(size);
        let out = bytes[start as usize..end as usize].to_vec();
        self.stats.reads += 1;
        self.stats.payload_bytes_read += out.len() as u64;
        Ok(out)
    }

    fn read_all(&mut self, buffer: Resource<BufferRes>) -> wasmtime::Result<Vec<u8>> {
        let out = self.table.get(&buffer)?.bytes.as_bytes().to_vec();
        self.stats.reads += 1;
        self.stats.payload_bytes_read += out.len() as u64;
        Ok(out)
    }

    fn drop(&mut self, buffer: Resource<BufferRes>) -> wasmtime::Result<()> {
        let buffer = self.table.delete(buffer)?;
        self.buffers.release(buffer.charge);
        Ok(())
    }
}

impl wit::HostMutableBuffer for HostState {
    fn write(
        &mut self,
        buffer: Resource<MutableBufferRes>,
        offset: u64,
        bytes: Vec<u8>,
    ) -> wasmtime::Result<Result<(), BufferError>> {
        let buffer = self.live_mut(&buffer, "write")?;
        let Some(end) = offset.checked_add(bytes.len() as u64) else {
            return Ok(Err(BufferError::OutOfBounds));
        };
        if end > buffer.capacity {
            return Ok(Err(BufferError::CapacityExceeded));
        }
        if offset > buffer.bytes.len() as u64 {
            return Ok(Err(BufferError::OutOfBounds));
        }
        let (offset, end) = (offset as usize, end as usize);
        if end > buffer.bytes.len() {
            buffer.bytes.resize(end, 0);
        }
        buffer.bytes[offset..end].copy_from_slice(&bytes);
        Ok(Ok(()))
    }

    fn append(
        &mut self,
        buffer: Resource<MutableBufferRes>,
        bytes: Vec<u8>,
    ) -> wasmtime::Result<Result<(), BufferError>> {
        let buffer = self.live_mut(&buffer, "append")?;
        if buffer.bytes.len() as u64 + bytes.len() as u64 > buffer.capacity {
            return Ok(Err(BufferError::CapacityExceeded));
        }
        buffer.bytes.extend_from_slice(&bytes);
        Ok(Ok(()))
    }

    fn size(&mut self, buffer: Resource<MutableBufferRes>) -> wasmtime::Result<u64> {
        Ok(self.live_mut(&buffer, "size")?.bytes.len() as u64)
    }

    fn capacity(&mut self, buffer: Resource<MutableBufferRes>) -> wasmtime::Result<u64> {
        Ok(self.live_mut(&buffer, "capacity")?.capacity)
    }

    fn set_content_type(
        &mut self,
        buffer: Resource<MutableBufferRes>,
        content_type: String,
    ) -> wasmtime::Result<()> {
        self.live_mut(&buffer, "set-content-type")?.content_type = content_type;
        Ok(())
    }

    fn freeze(
        &mut self,
        buffer: Resource<MutableBufferRes>,
    ) -> wasmtime::Result<Resource<BufferRes>> {
        let buffer = self.live_mut(&buffer, "freeze")?;
        buffer.frozen = true;
        let frozen = BufferRes {
            bytes: Payload::from(std::mem::take(&mut buffer.bytes)),
            content_type: std::mem::take(&mut buffer.content_type),
            charge: std::mem::take(&mut buffer.charge),
        };
        Ok(self.table.push(frozen)?)
    }

    fn drop(&mut self, buffer: Resource<MutableBufferRes>) -> wasmtime::Result<()> {
        let buffer = self.table.delete(buffer)?;
        self.buffers.release(buffer.charge);
        Ok(())
    }
}

impl wit::HostFlowContext for HostState {
    fn trace_id(&mut self, context: Resource<FlowContextRes>) -> wasmtime::Result<String> {
        Ok(self.table.get(&context)?.trace_id.text().into_owned())
    }

    fn span_id(&mut self, context: Resource<FlowContextRes>) -> wasmtime::Result<String> {
        Ok(self.table.get(&context)?.span_id.clone())
    }

    fn deadline_ns(&mut self, context: Resource<FlowContextRes>) -> wasmtime::Result<u64> {
        Ok(self.table.get(&context)?.deadline_ns)
    }

    fn flow_id(&mut self, context: Resource<FlowContextRes>) -> wasmtime::Result<String> {
        Ok(self.table.get(&context)?.flow_id.to_string())
    }

    fn drop(&mut self, context: Resource<FlowContextRes>) -> wasmtime::Result<()> {
        self.table.delete(context)?;
        Ok(())
    }
}

impl wit::Host for HostState {}

impl bindings::torvyn::streaming::buffer_allocator::Host for HostState {
    fn allocate(
        &mut self,
        capacity_hint: u64,
    ) -> wasmtime::Result<Result<Resource<MutableBufferRes>, BufferError>> {
        if let Some(error) = self.injected_failure() {
            return Ok(Err(error));
        }
        if capacity_hint > MAX_BUFFER_BYTES {
            self.stats.failed_allocations += 1;
            return Ok(Err(BufferError::AllocationFailed(format!(
                "capacity hint of {capacity_hint} bytes exceeds the 16 MiB per-buffer limit"
            ))));
        }
        if let Err(denial) = self.buffers.charge(capacity_hint, &mut self.stats) {
            return Ok(Err(BufferError::AllocationFailed(denial.reason())));
        }
        self.stats.allocations += 1;
        self.stats.bytes_allocated += capacity_hint;
        let buffer = MutableBufferRes {
            bytes: Vec::with_capacity(capacity_hint as usize),
            capacity: capacity_hint,
            content_type: String::new(),
            frozen: false,
            charge: capacity_hint,
        };
        Ok(Ok(self.table.push(buffer)?))
    }

    fn clone_into_mutable(
        &mut self,
        source: Resource<BufferRes>,
    ) -> wasmtime::Result<Result<Resource<MutableBufferRes>, BufferError>> {
        if let Some(error) = self.injected_failure() {
            return Ok(Err(error));
        }
        let size = self.table.get(&source)?.bytes.len() as u64;
        if let Err(denial) = self.buffers.charge(size, &mut self.stats) {
            return Ok(Err(BufferError::AllocationFailed(denial.reason())));
        }
        let source = self.table.get(&source)?;
        let bytes = source.bytes.as_bytes().to_vec();
        let content_type = source.content_type.clone();
        self.stats.clones += 1;
        self.stats.bytes_cloned += bytes.len() as u64;
        let buffer = MutableBufferRes {
            capacity: bytes.len() as u64,
            bytes,
            content_type,
            frozen: false,
            charge: size,
        };
        Ok(Ok(self.table.push(buffer)?))
    }
}

impl bindings::torvyn::capabilities::capability_query::Host for HostState {
    fn has_capability(&mut self, name: String) -> wasmtime::Result<bool> {
        Ok(self.grants.contains(&name) || self.grants.contains(ALL_CAPABILITIES))
    }
}
