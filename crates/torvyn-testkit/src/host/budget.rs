//! What an instance may hold: linear memory (the wasmtime resource limiter)
//! and host buffers, per instance and per flow.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use wasmtime::ResourceLimiter;

use super::Stats;
use crate::units::human_bytes;

/// Memory accounting for one instance: denies growth beyond the limit and
/// remembers that it did, so the trap that follows is reported as exhaustion.
pub(crate) struct MemoryLimiter {
    pub(crate) limit: u64,
    pub(crate) denied: Option<u64>,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let desired = desired as u64;
        if desired > self.limit {
            self.denied = Some(desired);
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// The bytes of host buffers a whole flow holds: every instance's buffers
/// (as in [`BufferBudget`]) and the payloads queued between nodes.
#[derive(Debug)]
pub(crate) struct FlowBuffers {
    held: AtomicU64,
    pub(crate) limit: u64,
}

impl FlowBuffers {
    pub(crate) fn new(limit: u64) -> Arc<Self> {
        Arc::new(FlowBuffers {
            held: AtomicU64::new(0),
            limit,
        })
    }

    pub(crate) fn held(&self) -> u64 {
        self.held.load(Ordering::Relaxed)
    }

    pub(crate) fn add(&self, bytes: u64) {
        self.held.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn release(&self, bytes: u64) {
        // Saturating: a release never exceeds what was added, but never wrap.
        let _ = self
            .held
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                Some(held.saturating_sub(bytes))
            });
    }
}

/// Why an allocation was refused by a host-buffer budget.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BufferDenial {
    /// The budget that was hit.
    pub(crate) budget: u64,
    /// Bytes held (by the instance, or by the flow) before the request.
    pub(crate) held: u64,
    /// Bytes asked for.
    pub(crate) requested: u64,
    /// Whether the flow's budget (not the instance's) was hit.
    pub(crate) flow: bool,
}

impl BufferDenial {
    /// The `allocation-failed` reason the component receives.
    pub(crate) fn reason(&self) -> String {
        let (held, requested, budget) = (
            human_bytes(self.held),
            human_bytes(self.requested),
            human_bytes(self.budget),
        );
        if self.flow {
            format!(
                "host-buffer budget exceeded: the flow holds {held} of host buffers and this \
                 component asked for {requested} more, over the flow's budget of {budget} \
                 (`Pipeline::host_buffer_budget`)"
            )
        } else {
            format!(
                "host-buffer budget exceeded: this component holds {held} of host buffers \
                 (allocated or cloned, and neither dropped nor returned) and asked for \
                 {requested} more, over its budget of {budget}; drop buffers it no longer \
                 needs, or raise the budget (`Limits::host_buffers`, `max_memory` in Torvyn.toml)"
            )
        }
    }
}

/// Host-buffer accounting for one instance: what its buffers hold, against its
/// budget and its flow's.
pub(crate) struct BufferBudget {
    pub(crate) held: u64,
    pub(crate) limit: u64,
    pub(crate) flow: Option<Arc<FlowBuffers>>,
    pub(crate) denied: Option<BufferDenial>,
}

impl BufferBudget {
    /// Charge `bytes`, or refuse when a budget would be exceeded. A refusal is
    /// remembered until the next call starts: if the component then traps
    /// (say, by unwrapping the `allocation-failed` it got), the trap is
    /// reported as the budget it hit.
    pub(super) fn charge(&mut self, bytes: u64, stats: &mut Stats) -> Result<(), BufferDenial> {
        let wanted = self.held.saturating_add(bytes);
        let denial = if wanted > self.limit {
            Some(BufferDenial {
                budget: self.limit,
                held: self.held,
                requested: bytes,
                flow: false,
            })
        } else {
            self.flow.as_ref().and_then(|flow| {
                let held = flow.held();
                (held.saturating_add(bytes) > flow.limit).then_some(BufferDenial {
                    budget: flow.limit,
                    held,
                    requested: bytes,
                    flow: true,
                })
            })
        };
        if let Some(denial) = denial {
            self.denied = Some(denial);
            stats.failed_allocations += 1;
            return Err(denial);
        }
        self.held = wanted;
        stats.host_buffer_bytes_peak = stats.host_buffer_bytes_peak.max(wanted);
        if let Some(flow) = &self.flow {
            flow.add(bytes);
        }
        Ok(())
    }

    pub(crate) fn release(&mut self, bytes: u64) {
        let bytes = bytes.min(self.held);
        self.held -= bytes;
        if let Some(flow) = &self.flow {
            flow.release(bytes);
        }
    }
}

impl Drop for BufferBudget {
    fn drop(&mut self) {
        // The instance's buffers go with its store.
        let held = self.held;
        self.release(held);
    }
}
