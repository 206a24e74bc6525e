//! The single-threaded cell that holds a stateful component's state.
//!
//! Generated glue keeps one `StateCell<T>` in a `std::thread_local!` (a wasm
//! component instance is single-threaded), so no `static mut` and no `unsafe`
//! is involved. A handler that re-enters the component while another handler
//! holds the state panics with a message, which traps the instance cleanly.

use std::cell::RefCell;

use crate::{Error, Result};

enum Slot<T> {
    Empty,
    Ready(T),
    TornDown,
}

/// How a handler gets its state when `init` has not run.
pub enum Missing<T> {
    /// The component has an `init`; calling a handler first is an error.
    InitRequired,
    /// The state is made with this function (`T::default`).
    Create(fn() -> T),
}

/// The state of a stateful component (used by the generated glue).
pub struct StateCell<T> {
    slot: RefCell<Slot<T>>,
}

impl<T> Default for StateCell<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> StateCell<T> {
    /// An empty cell.
    pub const fn new() -> Self {
        Self {
            slot: RefCell::new(Slot::Empty),
        }
    }

    fn borrow(&self, call: &str) -> std::cell::RefMut<'_, Slot<T>> {
        match self.slot.try_borrow_mut() {
            Ok(slot) => slot,
            Err(_) => panic!(
                "torvyn: re-entrant call to `{call}` while another handler of this component \
                 is running; component state cannot be borrowed twice"
            ),
        }
    }

    /// Store the state made by `init` (replacing any earlier one).
    ///
    /// # Errors
    /// Whatever `init` returns.
    pub fn init(&self, init: impl FnOnce() -> Result<T>) -> Result<()> {
        let value = init()?;
        *self.borrow("init") = Slot::Ready(value);
        Ok(())
    }

    /// Run `handler` on the state.
    ///
    /// # Errors
    /// [`ErrorKind::Internal`](crate::ErrorKind::Internal) when the state is
    /// missing (handler called before a required `init`, or after `teardown`),
    /// otherwise whatever `handler` returns.
    ///
    /// # Panics
    /// On re-entrant use, with a message naming `call`.
    pub fn with<R>(
        &self,
        call: &str,
        missing: Missing<T>,
        handler: impl FnOnce(&mut T) -> Result<R>,
    ) -> Result<R> {
        let mut slot = self.borrow(call);
        match (&mut *slot, missing) {
            (Slot::Ready(_), _) => {}
            (Slot::Empty, Missing::Create(make)) => *slot = Slot::Ready(make()),
            (Slot::Empty, Missing::InitRequired) => {
                return Err(Error::internal(format!(
                    "`{call}` was called before `init`: this component needs its config; \
                     the runtime must call `lifecycle.init` first"
                )));
            }
            (Slot::TornDown, _) => {
                return Err(Error::internal(format!(
                    "`{call}` was called after `teardown`"
                )));
            }
        }
        match &mut *slot {
            Slot::Ready(state) => handler(state),
            _ => unreachable!("state was just made ready"),
        }
    }

    /// Run `teardown` on the state (if any) and drop it; later calls fail.
    pub fn teardown(&self, teardown: impl FnOnce(&mut T)) {
        let mut slot = self.borrow("teardown");
        if let Slot::Ready(state) = &mut *slot {
            teardown(state);
        }
        *slot = Slot::TornDown;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn handler_before_required_init_is_internal() {
        let cell = StateCell::<u32>::new();
        let err = cell
            .with("evaluate", Missing::InitRequired, |_| Ok(()))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Internal);
        assert!(err.message().contains("before `init`"), "{err}");
        cell.init(|| Ok(4)).unwrap();
        assert_eq!(
            cell.with("evaluate", Missing::InitRequired, |n| {
                *n += 1;
                Ok(*n)
            }),
            Ok(5)
        );
        cell.teardown(|n| *n = 0);
        let err = cell.with("evaluate", Missing::InitRequired, |_| Ok(()));
        assert!(err.unwrap_err().message().contains("after `teardown`"));
    }

    #[test]
    fn default_state_is_created_on_first_use() {
        let cell = StateCell::<Vec<u8>>::new();
        cell.with("push", Missing::Create(Vec::new), |v| {
            v.push(1);
            Ok(())
        })
        .unwrap();
        assert_eq!(
            cell.with("push", Missing::Create(Vec::new), |v| Ok(v.len())),
            Ok(1)
        );
    }

    #[test]
    #[should_panic(expected = "re-entrant call to `flush`")]
    fn reentrant_use_panics_with_a_message() {
        let cell = StateCell::<u8>::new();
        cell.init(|| Ok(0)).unwrap();
        let _ = cell.with("ingest", Missing::InitRequired, |_| {
            cell.with("flush", Missing::InitRequired, |_| Ok(()))
        });
    }
}
