//! Time and randomness as a component sees them, and the bound on calls that
//! block in the host.
//!
//! What a component sees in each mode is on [`ClockMode`]'s documentation.

mod wasi;

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use wasmtime::component::{Resource, ResourceTable};
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};
use wasmtime_wasi::runtime::in_tokio;

use crate::settings::{ClockMode, DEFAULT_RANDOM_SEED};

pub(crate) use wasi::add_to_linker;

/// No deadline wished for (see [`TimeCtx::wish`]).
const NO_WISH: u64 = u64::MAX;

/// A virtual clock in nanoseconds, shared by the instances of one flow.
#[derive(Clone, Debug, Default)]
pub(crate) struct VirtualClock(Arc<AtomicU64>);

impl VirtualClock {
    pub(crate) fn starting_at(ns: u64) -> Self {
        VirtualClock(Arc::new(AtomicU64::new(ns)))
    }

    pub(crate) fn now_ns(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Move the clock to `ns` unless it is already past it.
    pub(crate) fn advance_to(&self, ns: u64) {
        self.0.fetch_max(ns, Ordering::SeqCst);
    }
}

/// How an instance's time and randomness are set up (part of `InstanceOptions`).
#[derive(Clone, Debug, Default)]
pub(crate) struct TimeOptions {
    pub(crate) mode: ClockMode,
    pub(crate) seed: Option<u64>,
    /// The flow's shared clock; a new clock at 0 when `None`.
    pub(crate) clock: Option<VirtualClock>,
}

impl TimeOptions {
    /// The context of an instance named `name`.
    pub(crate) fn context(&self, name: &str) -> TimeCtx {
        let seed = self.seed.unwrap_or(DEFAULT_RANDOM_SEED) ^ fingerprint(name);
        let mut seeder = StdRng::seed_from_u64(seed);
        TimeCtx {
            mode: self.mode,
            clock: self.clock.clone().unwrap_or_default(),
            origin: Instant::now(),
            wish: Arc::new(AtomicU64::new(NO_WISH)),
            random: StdRng::seed_from_u64(seeder.next_u64()),
            insecure: StdRng::seed_from_u64(seeder.next_u64()),
            insecure_seed: (seeder.next_u64(), seeder.next_u64()),
            call_deadline: CallDeadline::NotYet,
            call_limit: Duration::ZERO,
        }
    }
}

/// A stable 64-bit FNV-1a hash: every instance of a flow gets its own random
/// stream, and the runner's trace ids name their flow.
pub(crate) fn fingerprint(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One instance's clocks, generators and current call deadline.
pub(crate) struct TimeCtx {
    mode: ClockMode,
    clock: VirtualClock,
    /// Real mode: the monotonic clock's zero.
    origin: Instant,
    /// Virtual mode: the earliest clock deadline a pending wait is waiting for.
    wish: Arc<AtomicU64>,
    random: StdRng,
    insecure: StdRng,
    insecure_seed: (u64, u64),
    call_deadline: CallDeadline,
    call_limit: Duration,
}

/// When the current call's waits are cut off.
#[derive(Clone, Copy)]
enum CallDeadline {
    /// The call has not waited yet (no clock read at the call's start).
    NotYet,
    /// Its first wait started; waits end here (`None`: the limit is too far
    /// away to be an `Instant`).
    At(Option<Instant>),
}

impl Default for TimeCtx {
    fn default() -> Self {
        TimeOptions::default().context("")
    }
}

impl TimeCtx {
    /// A call starts: its waits in the host end when `limit` of wall time
    /// has passed since the first of them.
    pub(crate) fn start_call(&mut self, limit: Duration) {
        self.call_limit = limit;
        self.call_deadline = CallDeadline::NotYet;
    }

    /// An element call: the clock moves forward to the element's timestamp.
    pub(crate) fn observe(&self, timestamp_ns: u64) {
        if self.mode == ClockMode::Virtual {
            self.clock.advance_to(timestamp_ns);
        }
    }

    /// The virtual clock, in nanoseconds.
    pub(crate) fn virtual_now(&self) -> Duration {
        Duration::from_nanos(self.clock.now_ns())
    }

    /// Advance the virtual clock by `by`.
    pub(crate) fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.clock
            .advance_to(self.clock.now_ns().saturating_add(by));
    }

    fn monotonic_ns(&self) -> u64 {
        match self.mode {
            ClockMode::Virtual => self.clock.now_ns(),
            ClockMode::Real => u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX),
        }
    }

    /// A pollable that is ready `ns` nanoseconds from now.
    fn sleep(
        &mut self,
        table: &mut ResourceTable,
        ns: u64,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        match self.mode {
            ClockMode::Virtual => {
                let sleep = VirtualSleep {
                    clock: self.clock.clone(),
                    wish: self.wish.clone(),
                    until: self.clock.now_ns().saturating_add(ns),
                };
                let sleep = table.push(sleep)?;
                subscribe(table, sleep)
            }
            ClockMode::Real => {
                let until = Instant::now().checked_add(Duration::from_nanos(ns));
                let sleep = table.push(RealSleep { until })?;
                subscribe(table, sleep)
            }
        }
    }

    /// Run a wait (`poll`, `block`) to its end. In virtual mode, a wait that
    /// only clock subscriptions can end advances the clock to the earliest of
    /// them. Any wait ends with [`Blocked`] at the call's deadline: the call
    /// limit after its first wait started.
    fn wait<T>(
        &mut self,
        what: &'static str,
        wait: impl Future<Output = wasmtime::Result<T>>,
    ) -> wasmtime::Result<T> {
        let wish = self.wish.clone();
        wish.store(NO_WISH, Ordering::SeqCst);
        let clock = self.clock.clone();
        let virtual_time = self.mode == ClockMode::Virtual;
        let deadline = match self.call_deadline {
            CallDeadline::At(deadline) => deadline,
            CallDeadline::NotYet => {
                let deadline = Instant::now().checked_add(self.call_limit);
                self.call_deadline = CallDeadline::At(deadline);
                deadline
            }
        };
        let blocked = Blocked {
            limit: self.call_limit,
            waiting_in: what,
            mode: self.mode,
        };
        in_tokio(async move {
            let mut wait = pin!(wait);
            let advancing = std::future::poll_fn(|cx| {
                loop {
                    if let Poll::Ready(result) = wait.as_mut().poll(cx) {
                        return Poll::Ready(result);
                    }
                    let wished = wish.swap(NO_WISH, Ordering::SeqCst);
                    if !virtual_time || wished == NO_WISH {
                        return Poll::Pending;
                    }
                    clock.advance_to(wished);
                }
            });
            match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline.into(), advancing)
                    .await
                    .unwrap_or_else(|_| Err(blocked.into())),
                None => advancing.await,
            }
        })
    }
}

/// The error of a call that was still waiting in the host at its deadline;
/// the instance classifies it as [`ErrorKind::Blocked`](crate::ErrorKind::Blocked).
#[derive(Debug)]
pub(crate) struct Blocked {
    pub(crate) limit: Duration,
    pub(crate) waiting_in: &'static str,
    pub(crate) mode: ClockMode,
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "still waiting in `{}` when the {:?} per-call time limit ran out",
            self.waiting_in, self.limit
        )
    }
}

impl std::error::Error for Blocked {}

/// A virtual-time subscription: ready once the clock reaches `until`; until
/// then it tells the wait what it waits for.
struct VirtualSleep {
    clock: VirtualClock,
    wish: Arc<AtomicU64>,
    until: u64,
}

#[wasmtime_wasi::async_trait]
impl Pollable for VirtualSleep {
    async fn ready(&mut self) {
        std::future::poll_fn(|_| {
            if self.clock.now_ns() >= self.until {
                Poll::Ready(())
            } else {
                self.wish.fetch_min(self.until, Ordering::SeqCst);
                Poll::Pending
            }
        })
        .await;
    }
}

/// A real-time subscription (`None`: too far in the future to represent).
struct RealSleep {
    until: Option<Instant>,
}

#[wasmtime_wasi::async_trait]
impl Pollable for RealSleep {
    async fn ready(&mut self) {
        match self.until {
            Some(until) => tokio::time::sleep_until(until.into()).await,
            None => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::wasi::random_bytes;
    use super::*;

    #[test]
    fn the_same_seed_and_name_give_the_same_bytes() {
        let options = TimeOptions {
            seed: Some(7),
            ..TimeOptions::default()
        };
        let bytes = |name: &str| random_bytes(&mut options.context(name).random, 16).unwrap();
        assert_eq!(bytes("a"), bytes("a"));
        assert_ne!(bytes("a"), bytes("b"));
        let other = TimeOptions {
            seed: Some(8),
            ..TimeOptions::default()
        };
        assert_ne!(
            bytes("a"),
            random_bytes(&mut other.context("a").random, 16).unwrap()
        );
    }

    #[test]
    fn the_virtual_clock_only_moves_forward() {
        let clock = VirtualClock::starting_at(10);
        clock.advance_to(5);
        assert_eq!(clock.now_ns(), 10);
        clock.advance_to(20);
        assert_eq!(clock.now_ns(), 20);
    }

    #[test]
    fn clock_modes_parse_and_print() {
        for mode in [ClockMode::Virtual, ClockMode::Real] {
            assert_eq!(mode.as_str().parse::<ClockMode>(), Ok(mode));
        }
        let err = "wall".parse::<ClockMode>().unwrap_err();
        assert!(err.contains("`wall` is not a clock mode"), "{err}");
    }
}
