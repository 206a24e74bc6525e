//! Run limits (elements, wall time, virtual time) and the flow's clock and seed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, RunLimit};
use crate::host::guest_clock::{TimeOptions, VirtualClock};
use crate::settings::ClockMode;

/// How long a run may take when no limit is set ([`Pipeline::timeout`],
/// [`Pipeline::max_elements`]): a flow whose source never ends stops after this
/// much wall time with [`RunLimit::DefaultWallTime`].
///
/// [`Pipeline::timeout`]: super::Pipeline::timeout
/// [`Pipeline::max_elements`]: super::Pipeline::max_elements
pub const DEFAULT_RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// A switch that stops a running flow from outside, as Ctrl+C does in the
/// command line: give a clone to [`Pipeline::interrupt_with`] and call
/// [`interrupt`](Self::interrupt) from another thread (or a signal handler).
/// The run then stops pulling its sources, runs the elements already in the
/// flow to the end, tears every node down, and ends with
/// [`ErrorKind::Stopped`](crate::ErrorKind::Stopped) and
/// [`RunLimit::Interrupted`], whose report holds what happened until then.
///
/// ```
/// use torvyn_testkit::Interrupt;
///
/// let interrupt = Interrupt::new();
/// let handle = interrupt.clone();
/// std::thread::spawn(move || handle.interrupt()).join().unwrap();
/// assert!(interrupt.is_interrupted());
/// ```
///
/// [`Pipeline::interrupt_with`]: super::Pipeline::interrupt_with
#[derive(Clone, Debug, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// A switch not yet thrown.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ask every run that watches this switch to stop (safe to call from
    /// any thread, any number of times).
    pub fn interrupt(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`interrupt`](Self::interrupt) was called.
    pub fn is_interrupted(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// The run-wide settings of a [`Pipeline`](super::Pipeline).
#[derive(Clone, Debug, Default)]
pub(crate) struct RunOptions {
    pub(crate) max_elements: Option<u64>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_virtual_time: Option<Duration>,
    pub(crate) clock_mode: ClockMode,
    pub(crate) random_seed: Option<u64>,
    pub(crate) interrupt: Option<Interrupt>,
}

/// Watches a run's limits and holds the flow's virtual clock.
pub(super) struct Guard {
    options: RunOptions,
    started: Instant,
    clock: VirtualClock,
    virtual_start: u64,
    produced: u64,
    cut: bool,
    interrupted: bool,
    /// The epoch thread's tick count when the wall clock was last read.
    read_at_tick: Option<u64>,
}

impl Guard {
    pub(super) fn new(options: RunOptions, start_ns: u64) -> Self {
        Guard {
            options,
            started: Instant::now(),
            clock: VirtualClock::starting_at(start_ns),
            virtual_start: start_ns,
            produced: 0,
            cut: false,
            interrupted: false,
            read_at_tick: None,
        }
    }

    /// The clock mode, seed and shared clock of every instance of the flow.
    pub(super) fn time_options(&self) -> TimeOptions {
        TimeOptions {
            mode: self.options.clock_mode,
            seed: self.options.random_seed,
            clock: Some(self.clock.clone()),
        }
    }

    /// The flow's virtual clock when components read it (the default), for
    /// the timeline.
    pub(super) fn virtual_clock(&self) -> Option<VirtualClock> {
        (self.options.clock_mode == ClockMode::Virtual).then(|| self.clock.clone())
    }

    /// Whether a source may be pulled again; once the element limit is
    /// reached it may not, and the run ends as stopped.
    pub(super) fn may_pull(&mut self) -> bool {
        if self
            .options
            .interrupt
            .as_ref()
            .is_some_and(Interrupt::is_interrupted)
        {
            self.interrupted = true;
            return false;
        }
        match self.options.max_elements {
            Some(max) if self.produced >= max => {
                self.cut = true;
                false
            }
            _ => true,
        }
    }

    /// A source produced an element.
    pub(super) fn produced(&mut self) {
        self.produced += 1;
    }

    /// Stop the run if it is past its time limits. The wall clock is read at
    /// most once per tick of the epoch thread (10 ms) while one runs (a check
    /// before every pull would otherwise cost a clock read per element), and
    /// every time when none does (a flow of host-side nodes only).
    pub(super) fn check(&mut self) -> Result<(), Error> {
        let tick = crate::host::ticks();
        let mut limit = None;
        if tick.is_none() || tick != self.read_at_tick {
            self.read_at_tick = tick;
            let elapsed = self.started.elapsed();
            limit = match self.options.timeout {
                Some(timeout) if elapsed >= timeout => Some(RunLimit::WallTime(timeout)),
                None if elapsed >= DEFAULT_RUN_TIMEOUT => {
                    Some(RunLimit::DefaultWallTime(DEFAULT_RUN_TIMEOUT))
                }
                _ => None,
            };
        }
        let limit = limit.or_else(|| {
            let max = self.options.max_virtual_time?;
            let passed = self.clock.now_ns().saturating_sub(self.virtual_start);
            (Duration::from_nanos(passed) > max).then_some(RunLimit::VirtualTime(max))
        });
        match limit {
            Some(limit) => Err(stopped(limit)),
            None => Ok(()),
        }
    }

    /// The run moved everything to the end: stopped if an interrupt or the
    /// element limit cut a source off.
    pub(super) fn finished(&self) -> Result<(), Error> {
        if self.interrupted {
            return Err(stopped(RunLimit::Interrupted));
        }
        match self.options.max_elements {
            Some(max) if self.cut => Err(stopped(RunLimit::Elements(max))),
            _ => Ok(()),
        }
    }
}

fn stopped(limit: RunLimit) -> Error {
    Error::new("", ErrorKind::Stopped { limit })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_limit_the_default_budget_says_which_limits_to_set() {
        let message = stopped(RunLimit::DefaultWallTime(DEFAULT_RUN_TIMEOUT)).to_string();
        assert_eq!(
            message,
            "ran for 60s, the default time budget of a run, without finishing (a source that \
             never ends?); bound the run with `Pipeline::max_elements` (`--max-elements N`), \
             or give it more time with `Pipeline::timeout` (`--timeout DURATION`)"
        );
    }

    #[test]
    fn the_element_limit_stops_pulls_and_the_run() {
        let mut guard = Guard::new(
            RunOptions {
                max_elements: Some(2),
                ..RunOptions::default()
            },
            0,
        );
        assert!(guard.finished().is_ok());
        for _ in 0..2 {
            assert!(guard.may_pull());
            guard.produced();
        }
        assert!(!guard.may_pull());
        let err = guard.finished().unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::Stopped {
                limit: RunLimit::Elements(2)
            }
        ));
    }

    #[test]
    fn the_virtual_time_limit_reads_the_flow_clock() {
        let mut guard = Guard::new(
            RunOptions {
                max_virtual_time: Some(Duration::from_secs(1)),
                ..RunOptions::default()
            },
            5,
        );
        assert!(guard.check().is_ok());
        guard.clock.advance_to(5 + 2_000_000_000);
        let err = guard.check().unwrap_err();
        assert!(err.to_string().contains("virtual clock passed 1s"), "{err}");
    }
}
