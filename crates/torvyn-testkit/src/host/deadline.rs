//! The per-call time limit, measured as the CPU time of the calling thread, so
//! the error a test sees does not depend on how busy the machine is.
//!
//! Epoch interruption drives it: a background thread advances the engine's
//! epoch every [`TICK`](super::TICK), and a call's store has an epoch deadline
//! one tick ahead. When it passes (only while wasm runs), the store's epoch
//! callback ([`CallTimer::tick`]) compares the thread's CPU time since the
//! call's first tick with [`Limits::call_timeout`](super::Limits::call_timeout)
//! and the wall-clock time with the backstop
//! [`Limits::wall_timeout`](super::Limits::wall_timeout), and either extends the
//! deadline by one tick or interrupts the call. Nothing is measured when a call
//! starts (reading a thread's CPU clock is a system call, and most calls end
//! within a tick), so the limits are rounded up to one tick.
//!
//! The thread's CPU time includes the host functions the component calls (a
//! copy of a payload it reads is its work too), not the time the thread waits
//! for a core or sleeps.

use std::time::{Duration, Instant};

use wasmtime::UpdateDeadline;

/// Which limit interrupted a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fired {
    /// The call used `call_timeout` of CPU time.
    Cpu,
    /// The call ran `wall_timeout` of wall-clock time, having used `cpu` of CPU time.
    Wall { cpu: Duration },
}

/// The time accounting of the current call of one instance.
#[derive(Debug)]
pub(crate) struct CallTimer {
    cpu_limit: Duration,
    wall_limit: Duration,
    /// The clocks at the call's first tick; `None` until then.
    started: Option<(Option<Duration>, Instant)>,
    /// Which limit interrupted the call, if one did.
    pub(crate) fired: Option<Fired>,
}

impl CallTimer {
    pub(crate) fn new(cpu_limit: Duration, wall_limit: Duration) -> Self {
        CallTimer {
            cpu_limit,
            wall_limit,
            started: None,
            fired: None,
        }
    }

    /// A call starts (costs no clock read).
    pub(crate) fn arm(&mut self) {
        self.started = None;
        self.fired = None;
    }

    /// The epoch callback: go on for another tick while under both limits.
    pub(crate) fn tick(&mut self) -> UpdateDeadline {
        let wall_now = Instant::now();
        let cpu_now = thread_cpu_time();
        let Some((cpu_start, wall_start)) = self.started else {
            self.started = Some((cpu_now, wall_now));
            return UpdateDeadline::Continue(1);
        };
        let wall = wall_now.saturating_duration_since(wall_start);
        // Without a thread CPU clock (an unusual platform), wall time is the measure.
        let cpu = match (cpu_now, cpu_start) {
            (Some(now), Some(start)) => now.saturating_sub(start),
            _ => wall,
        };
        if cpu >= self.cpu_limit {
            self.fired = Some(Fired::Cpu);
            UpdateDeadline::Interrupt
        } else if wall >= self.wall_limit {
            self.fired = Some(Fired::Wall { cpu });
            UpdateDeadline::Interrupt
        } else {
            UpdateDeadline::Continue(1)
        }
    }
}

/// The CPU time the calling thread has used, if the platform can tell.
pub(crate) fn thread_cpu_time() -> Option<Duration> {
    cpu_time::ThreadTime::try_now()
        .ok()
        .map(|time| time.as_duration())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spin(duration: Duration) {
        let start = thread_cpu_time().expect("a thread CPU clock");
        while thread_cpu_time().expect("a thread CPU clock") - start < duration {
            std::hint::black_box(0u64);
        }
    }

    #[test]
    fn cpu_time_interrupts_and_sleeping_does_not() {
        let mut clock = CallTimer::new(Duration::from_millis(30), Duration::from_secs(60));
        clock.arm();
        assert!(matches!(clock.tick(), UpdateDeadline::Continue(1)));
        // Sleeping uses no CPU: not interrupted.
        std::thread::sleep(Duration::from_millis(50));
        assert!(matches!(clock.tick(), UpdateDeadline::Continue(1)));
        assert_eq!(clock.fired, None);
        spin(Duration::from_millis(35));
        assert!(matches!(clock.tick(), UpdateDeadline::Interrupt));
        assert_eq!(clock.fired, Some(Fired::Cpu));
        // A new call starts afresh.
        clock.arm();
        assert_eq!(clock.fired, None);
        assert!(matches!(clock.tick(), UpdateDeadline::Continue(1)));
    }

    #[test]
    fn the_wall_clock_backstop_interrupts_a_call_that_gets_no_cpu() {
        let mut clock = CallTimer::new(Duration::from_secs(60), Duration::from_millis(20));
        clock.arm();
        assert!(matches!(clock.tick(), UpdateDeadline::Continue(1)));
        std::thread::sleep(Duration::from_millis(30));
        assert!(matches!(clock.tick(), UpdateDeadline::Interrupt));
        assert!(
            matches!(clock.fired, Some(Fired::Wall { cpu }) if cpu < Duration::from_millis(20))
        );
    }
}
