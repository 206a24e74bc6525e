//! The one seam between the SDK and what it runs on, selected here once.
//!
//! - `wasm.rs` (wasm32): the contract's import bindings, the conversions to and
//!   from the host's types, and the export glue the attribute macros call.
//! - `native.rs` (every other target): test doubles behind the same names: an
//!   in-memory allocator, captured logs and capability grants, whose switches
//!   [`crate::testing`] re-exports.
//!
//! Both define the same items, used unqualified by the rest of the crate:
//! `Buffer` and `FlowContext` (a host element's payload and context; no value
//! exists natively), `MutableBuffer` (`append`, `capacity`, `finish`),
//! `FrozenBuffer` (`read_all`), `allocate`, `clone_into_mutable`,
//! `copy_into_mutable`, `has_capability`, `record_log`, the switches
//! (`take_allocations`, `take_clones`, `fail_next_allocation`, `take_logs`,
//! `grant_capability`) and `exports` (what `__private` re-exports for the
//! generated code). No other file checks `target_arch`.

#[cfg(target_arch = "wasm32")]
#[path = "wasm.rs"]
mod selected;

#[cfg(not(target_arch = "wasm32"))]
#[path = "native.rs"]
mod selected;

pub(crate) use selected::*;
// The doubles' switches, public through `testing` (the glob above gives them
// only crate visibility).
pub use selected::{
    fail_next_allocation, grant_capability, take_allocations, take_clones, take_logs,
};
