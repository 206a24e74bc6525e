//! The per-instance resource limits: call time, memory, fuel, host
//! buffers, output capture.

use std::time::Duration;

/// Resource limits for one component instance.
///
/// ```
/// use std::time::Duration;
/// use torvyn_testkit::Limits;
///
/// let limits = Limits::default().call_timeout(Duration::from_millis(200)).memory(32 << 20);
/// assert_eq!(limits.memory_bytes(), 32 << 20);
/// ```
///
/// # Which limit wins
///
/// The time limit measures the component's own execution: the CPU time of
/// the thread running the call (its wasm and the host functions it calls), not
/// wall-clock time, so how busy the machine is does not change which error a
/// test sees. A call that hits its memory limit reports
/// [`OutOfMemory`](crate::ErrorKind::OutOfMemory) even if the time limit
/// passes before it returns; fuel is counted exactly, so with both a fuel
/// budget and a time limit, whichever the component uses up first is reported.
/// The wall-clock backstop ([`wall_timeout`](Self::wall_timeout)) only fires
/// for a call that gets far less CPU time than wall-clock time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    pub(crate) call_timeout: Duration,
    pub(crate) wall_timeout: Option<Duration>,
    pub(crate) memory: u64,
    pub(crate) fuel: Option<u64>,
    pub(crate) host_buffers: Option<u64>,
    pub(crate) capture: u64,
}

impl Default for Limits {
    /// 5 s of CPU time per call (with a wall-clock backstop of 60 s), 64 MiB
    /// of linear memory, no fuel metering, a host-buffer budget equal to the
    /// memory limit, 16 MiB of captured stdout and of stderr.
    fn default() -> Self {
        Limits {
            call_timeout: Duration::from_secs(5),
            wall_timeout: None,
            memory: 64 << 20,
            fuel: None,
            host_buffers: None,
            capture: super::capture::DEFAULT_CAPTURE_LIMIT,
        }
    }
}

impl Limits {
    /// Limit the time of every call into the component (init, each element
    /// call, flush, complete, teardown), measured as the CPU time the call
    /// uses, so the limit does not depend on the machine's load. Rounded up to
    /// 10 ms. Waiting uses no CPU: a call's waits in the host (a sleep or a
    /// poll with [`ClockMode::Real`](crate::ClockMode::Real), a socket)
    /// are cut off once `timeout` of wall-clock time has passed since its
    /// first wait ([`ErrorKind::Blocked`](crate::ErrorKind::Blocked)).
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// The wall-clock backstop of every call: a call running this long is
    /// stopped even if it used less CPU time than
    /// [`call_timeout`](Self::call_timeout) (a machine so overloaded that the
    /// call gets almost no CPU). Default: 12 times `call_timeout`, at least 60 s.
    pub fn wall_timeout(mut self, timeout: Duration) -> Self {
        self.wall_timeout = Some(timeout);
        self
    }

    /// Keep at most `bytes` of the component's stdout, and as much of its
    /// stderr (default 16 MiB each). Past it, writes still succeed for the
    /// component, their bytes are discarded, and the captured text ends with
    /// a line naming the stream, the node and the limit.
    pub fn capture(mut self, bytes: u64) -> Self {
        self.capture = bytes;
        self
    }

    /// The wall-clock backstop in force: the one set, or 12 times
    /// `call_timeout` and at least 60 s.
    pub fn wall_timeout_value(&self) -> Duration {
        self.wall_timeout.unwrap_or_else(|| {
            self.call_timeout
                .saturating_mul(12)
                .max(Duration::from_secs(60))
        })
    }

    /// The capture limit of stdout and of stderr, in bytes.
    pub fn capture_bytes(&self) -> u64 {
        self.capture
    }

    /// Limit the component's linear memory to `bytes`.
    pub fn memory(mut self, bytes: u64) -> Self {
        self.memory = bytes;
        self
    }

    /// Meter fuel (roughly, wasm instructions) and give every call `fuel` units,
    /// refilled before each call. `None` turns metering off (the default).
    pub fn fuel(mut self, fuel: Option<u64>) -> Self {
        self.fuel = fuel;
        self
    }

    /// Limit the bytes of host buffers the component may hold at once: buffers
    /// it allocated (`allocate`, by capacity) or cloned (`clone-into-mutable`)
    /// and has neither dropped nor returned as an output. Default: the memory
    /// limit ([`memory`](Self::memory)), so a component cannot make the host
    /// hold more than it could hold itself.
    ///
    /// ```
    /// use torvyn_testkit::Limits;
    ///
    /// assert_eq!(Limits::default().memory(16 << 20).host_buffer_bytes(), 16 << 20);
    /// assert_eq!(Limits::default().host_buffers(1 << 30).host_buffer_bytes(), 1 << 30);
    /// ```
    pub fn host_buffers(mut self, bytes: u64) -> Self {
        self.host_buffers = Some(bytes);
        self
    }

    /// The host-buffer budget in bytes (the memory limit unless set with
    /// [`host_buffers`](Self::host_buffers)).
    pub fn host_buffer_bytes(&self) -> u64 {
        self.host_buffers.unwrap_or(self.memory)
    }

    /// The per-call time limit.
    pub fn call_timeout_value(&self) -> Duration {
        self.call_timeout
    }

    /// The memory limit in bytes.
    pub fn memory_bytes(&self) -> u64 {
        self.memory
    }

    /// The per-call fuel budget, if metered.
    pub fn fuel_budget(&self) -> Option<u64> {
        self.fuel
    }
}
