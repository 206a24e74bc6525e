//! Plain values that the manifest, the host and the pipeline share: which
//! clocks a component reads ([`ClockMode`]), what a node does on an error
//! ([`ErrorPolicy`]) and a producer at a full queue ([`BackpressurePolicy`]),
//! and the grant of every capability. They import nothing of the crate, so the
//! `Torvyn.toml` parser uses them without knowing the wasmtime host.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Which clocks a component reads through `wasi:clocks`.
///
/// - **Virtual time (the default).** `wasi:clocks/monotonic-clock` and
///   `wasi:clocks/wall-clock` both read a virtual clock, in nanoseconds (the
///   wall clock as time since the Unix epoch). A sleep, or a `wasi:io/poll` on a
///   clock subscription, advances the virtual clock to the subscription's
///   deadline and returns at once, so a component that sleeps for an hour
///   finishes in microseconds, and reads the same times on every run. Element
///   calls move the clock forward to the element's timestamp; in a pipeline all
///   nodes share the flow's clock, which starts at the flow's first timestamp
///   ([`Timestamps`](crate::Timestamps)).
/// - **Real time** ([`ClockMode::Real`]): the host's clocks. A sleep or a poll
///   really waits, but never past the call's time limit: when the per-call
///   limit's wall time runs out while the component waits, the call fails with
///   [`ErrorKind::Blocked`](crate::ErrorKind::Blocked). That wall time counts from the call's first wait
///   (the time before it is CPU time, which the per-call CPU limit bounds), so
///   a call that never waits reads no clock for it.
/// - **Seeded random.** `wasi:random/random`, `insecure` and `insecure-seed`
///   are deterministic generators seeded from the instance's seed
///   ([`DEFAULT_RANDOM_SEED`] unless set) and its name: the same seed and name
///   give the same bytes on every run.
///
/// Whatever the mode, a wait on anything else (a socket, with network granted)
/// is cut off at the call's time limit too; stdin is always empty (a read
/// returns end-of-file at once).
///
/// ```
/// use torvyn_testkit::ClockMode;
///
/// assert_eq!(ClockMode::default(), ClockMode::Virtual);
/// assert_eq!("real".parse::<ClockMode>(), Ok(ClockMode::Real));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClockMode {
    /// The flow's virtual clock (the default): sleeps and clock waits advance
    /// it and return at once; every run sees the same times.
    #[default]
    Virtual,
    /// The host's real clocks: sleeps and clock waits really wait, cut off at
    /// the call's time limit.
    Real,
}

impl ClockMode {
    /// The name as written in `Torvyn.toml` and on the command line
    /// (`"virtual"`, `"real"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ClockMode::Virtual => "virtual",
            ClockMode::Real => "real",
        }
    }
}

impl fmt::Display for ClockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ClockMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "virtual" => Ok(ClockMode::Virtual),
            "real" => Ok(ClockMode::Real),
            _ => Err(format!(
                "`{text}` is not a clock mode; use `virtual` (the default) or `real`"
            )),
        }
    }
}

/// The seed of every instance's `wasi:random` generators unless one is set
/// (`InstanceOptions::random_seed`, `Pipeline::random_seed`, `random_seed` in
/// `Torvyn.toml`'s `[testkit]`, `--random-seed`).
pub const DEFAULT_RANDOM_SEED: u64 = 0;

/// The grant of every capability: `has-capability` answers true for any
/// name, and the network is open. What `Torvyn.toml`'s
/// `[security] default_capability_policy = "allow-all"` grants each node.
pub const ALL_CAPABILITIES: &str = "*";

/// What a node does when a call on an element fails.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorPolicy {
    /// Stop the flow with the error (the default).
    #[default]
    FailFlow,
    /// Count the element as failed and go on.
    Skip,
    /// Call again with the same element up to this many more times, then fail the flow.
    /// `fatal`, traps and limit hits are never retried.
    Retry(u32),
    /// Put the element and its error on the dead-letter list and go on.
    DeadLetter,
}

impl fmt::Display for ErrorPolicy {
    /// The name as written on the command line: `fail-flow`, `skip`,
    /// `dead-letter`, `retry=N`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorPolicy::FailFlow => f.write_str("fail-flow"),
            ErrorPolicy::Skip => f.write_str("skip"),
            ErrorPolicy::Retry(count) => write!(f, "retry={count}"),
            ErrorPolicy::DeadLetter => f.write_str("dead-letter"),
        }
    }
}

impl std::str::FromStr for ErrorPolicy {
    type Err = String;

    /// `fail-flow`, `skip`, `dead-letter` or `retry=N` (N from 1), as the
    /// CLI's `--on-error` takes them (`Torvyn.toml` writes the last
    /// `{ retry = N }`).
    ///
    /// ```
    /// use torvyn_testkit::ErrorPolicy;
    ///
    /// assert_eq!("skip".parse(), Ok(ErrorPolicy::Skip));
    /// assert_eq!("retry=3".parse(), Ok(ErrorPolicy::Retry(3)));
    /// assert_eq!(ErrorPolicy::Retry(3).to_string(), "retry=3");
    /// assert!("retry".parse::<ErrorPolicy>().unwrap_err().contains("retry=N"));
    /// ```
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        const FORMS: &str = "use `fail-flow`, `skip`, `dead-letter` or `retry=N` (N at least 1)";
        if let Some(policy) = ErrorPolicy::by_name(text) {
            return Ok(policy);
        }
        match text.strip_prefix("retry=") {
            Some(count) => match count.trim().parse::<u32>() {
                Ok(count) if count >= 1 => Ok(ErrorPolicy::Retry(count)),
                _ => Err(format!(
                    "`{text}`: the number of retries must be a whole number from 1 to {}; {FORMS}",
                    u32::MAX
                )),
            },
            None => Err(format!("`{text}` is not an error policy; {FORMS}")),
        }
    }
}

impl ErrorPolicy {
    /// The policies written as a bare name, the same in `Torvyn.toml`'s
    /// `on_error` and the CLI's `--on-error`: `fail-flow`, `skip`,
    /// `dead-letter` (a retry needs its count).
    pub(crate) fn by_name(name: &str) -> Option<Self> {
        match name {
            "fail-flow" => Some(ErrorPolicy::FailFlow),
            "skip" => Some(ErrorPolicy::Skip),
            "dead-letter" => Some(ErrorPolicy::DeadLetter),
            _ => None,
        }
    }
}

/// What a producer does when one of its outgoing queues is full
/// (`backpressure_policy`, written in kebab-case).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackpressurePolicy {
    /// `block-producer`: the producer is not called until there is room (the default).
    #[default]
    BlockProducer,
    /// `drop-oldest`: the oldest queued element is dropped to make room (traced).
    DropOldest,
    /// `drop-newest`: the new element is dropped (traced).
    DropNewest,
    /// `error`: the flow fails.
    Error,
}

impl BackpressurePolicy {
    /// The name as written in `Torvyn.toml` (`"block-producer"`).
    pub fn as_str(self) -> &'static str {
        match self {
            BackpressurePolicy::BlockProducer => "block-producer",
            BackpressurePolicy::DropOldest => "drop-oldest",
            BackpressurePolicy::DropNewest => "drop-newest",
            BackpressurePolicy::Error => "error",
        }
    }
}

impl fmt::Display for BackpressurePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
