//! The WASI interfaces the testkit puts in place of wasmtime-wasi's:
//! `wasi:clocks` (monotonic and wall), `wasi:io/poll` and `wasi:random`
//! (`random`, `insecure`, `insecure-seed`), each reading the instance's
//! [`TimeCtx`].

use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use rand::Rng;
use rand::rngs::StdRng;
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi::p2::bindings::clocks::{monotonic_clock, wall_clock};
use wasmtime_wasi::p2::bindings::io::poll as async_poll;
use wasmtime_wasi::p2::bindings::random::{insecure, insecure_seed, random};
use wasmtime_wasi::p2::bindings::sync::io::poll;
use wasmtime_wasi::runtime::in_tokio;

use super::{NO_WISH, TimeCtx};
use crate::host::HostState;
use crate::settings::ClockMode;

/// The most bytes one `get-random-bytes` call may ask for (as in wasmtime-wasi).
const MAX_RANDOM_BYTES: u64 = 64 << 20;

/// What the clock and poll interfaces see of the store.
struct TimeView<'a> {
    table: &'a mut ResourceTable,
    time: &'a mut TimeCtx,
}

struct Time;

impl HasData for Time {
    type Data<'a> = TimeView<'a>;
}

struct Random;

impl HasData for Random {
    type Data<'a> = &'a mut TimeCtx;
}

fn view(state: &mut HostState) -> TimeView<'_> {
    TimeView {
        table: &mut state.table,
        time: &mut state.time,
    }
}

/// Replace wasmtime-wasi's clocks, poll and random (already in `linker`) by
/// the testkit's.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    monotonic_clock::add_to_linker::<HostState, Time>(linker, view)?;
    wall_clock::add_to_linker::<HostState, Time>(linker, view)?;
    poll::add_to_linker::<HostState, Time>(linker, view)?;
    random::add_to_linker::<HostState, Random>(linker, |state| &mut state.time)?;
    insecure::add_to_linker::<HostState, Random>(linker, |state| &mut state.time)?;
    insecure_seed::add_to_linker::<HostState, Random>(linker, |state| &mut state.time)?;
    linker.allow_shadowing(false);
    Ok(())
}

impl monotonic_clock::Host for TimeView<'_> {
    fn now(&mut self) -> wasmtime::Result<u64> {
        Ok(self.time.monotonic_ns())
    }

    fn resolution(&mut self) -> wasmtime::Result<u64> {
        Ok(1)
    }

    fn subscribe_instant(&mut self, when: u64) -> wasmtime::Result<Resource<DynPollable>> {
        let ns = when.saturating_sub(self.time.monotonic_ns());
        self.time.sleep(self.table, ns)
    }

    fn subscribe_duration(&mut self, duration: u64) -> wasmtime::Result<Resource<DynPollable>> {
        self.time.sleep(self.table, duration)
    }
}

impl wall_clock::Host for TimeView<'_> {
    fn now(&mut self) -> wasmtime::Result<wall_clock::Datetime> {
        let since_epoch = match self.time.mode {
            ClockMode::Virtual => Duration::from_nanos(self.time.clock.now_ns()),
            ClockMode::Real => SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default(),
        };
        Ok(wall_clock::Datetime {
            seconds: since_epoch.as_secs(),
            nanoseconds: since_epoch.subsec_nanos(),
        })
    }

    fn resolution(&mut self) -> wasmtime::Result<wall_clock::Datetime> {
        Ok(wall_clock::Datetime {
            seconds: 0,
            nanoseconds: 1,
        })
    }
}

impl poll::Host for TimeView<'_> {
    fn poll(&mut self, pollables: Vec<Resource<DynPollable>>) -> wasmtime::Result<Vec<u32>> {
        let table = &mut *self.table;
        self.time.wait(
            "wasi:io/poll.poll",
            async_poll::Host::poll(table, pollables),
        )
    }
}

impl poll::HostPollable for TimeView<'_> {
    fn ready(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<bool> {
        let ready = in_tokio(async_poll::HostPollable::ready(&mut *self.table, pollable));
        // A check never waits, so a clock subscription's wish is not kept.
        self.time.wish.store(NO_WISH, Ordering::SeqCst);
        ready
    }

    fn block(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        let table = &mut *self.table;
        self.time.wait(
            "wasi:io/poll.pollable.block",
            async_poll::HostPollable::block(table, pollable),
        )
    }

    fn drop(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        async_poll::HostPollable::drop(&mut *self.table, pollable)
    }
}

pub(super) fn random_bytes(rng: &mut StdRng, len: u64) -> wasmtime::Result<Vec<u8>> {
    if len > MAX_RANDOM_BYTES {
        wasmtime::bail!(
            "the component asked `wasi:random` for {len} bytes at once; the host gives at \
             most {MAX_RANDOM_BYTES} per call"
        );
    }
    let mut bytes = vec![0; len as usize];
    rng.fill_bytes(&mut bytes);
    Ok(bytes)
}

impl random::Host for TimeCtx {
    fn get_random_bytes(&mut self, len: u64) -> wasmtime::Result<Vec<u8>> {
        random_bytes(&mut self.random, len)
    }

    fn get_random_u64(&mut self) -> wasmtime::Result<u64> {
        Ok(self.random.next_u64())
    }
}

impl insecure::Host for TimeCtx {
    fn get_insecure_random_bytes(&mut self, len: u64) -> wasmtime::Result<Vec<u8>> {
        random_bytes(&mut self.insecure, len)
    }

    fn get_insecure_random_u64(&mut self) -> wasmtime::Result<u64> {
        Ok(self.insecure.next_u64())
    }
}

impl insecure_seed::Host for TimeCtx {
    fn insecure_seed(&mut self) -> wasmtime::Result<(u64, u64)> {
        Ok(self.insecure_seed)
    }
}
