//! The timeline of a run: every call of every node with its element, every
//! change of a queue's length, every pause; recorded only when the pipeline
//! asks for it ([`Pipeline::record_timeline`](crate::Pipeline::record_timeline)).

use std::time::Instant;

use serde::Serialize;

use crate::host::guest_clock::VirtualClock;

/// How many calls a timeline keeps (the first ones); queue samples and marks
/// are bounded by the same number each. What is let go is counted in
/// [`Timeline::dropped`].
pub const TIMELINE_CAPACITY: usize = 200_000;

/// The width a call gets on the virtual clock, in nanoseconds: virtual time
/// does not pass during a call (unless the component sleeps), so each call is
/// drawn this wide, one after the other.
pub const VIRTUAL_CALL_NS: u64 = 1_000;

/// Which clock a [`Timeline`]'s times are on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimelineClock {
    /// The flow's virtual clock (the default clock mode): the same times on
    /// every run. Virtual time passes only between elements (the clock's step)
    /// and when a component sleeps, so each call is drawn
    /// [`VIRTUAL_CALL_NS`] wide, after the one before it.
    Virtual,
    /// Wall time since the run started (`--clock real`).
    Real,
}

impl TimelineClock {
    /// `virtual` or `real`.
    pub fn as_str(self) -> &'static str {
        match self {
            TimelineClock::Virtual => "virtual",
            TimelineClock::Real => "real",
        }
    }
}

/// One call of a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Call {
    /// The node, an index into [`Timeline::nodes`].
    pub node: usize,
    /// The contract function called (`pull`, `process`, `push`, `flush`, ...).
    pub function: &'static str,
    /// The element's sequence number (none for `flush` and `complete`).
    pub sequence: Option<u64>,
    /// The element's payload size in bytes (0 without an element).
    pub bytes: u64,
    /// When the call started, in nanoseconds on the timeline's clock.
    pub start_ns: u64,
    /// When it ended.
    pub end_ns: u64,
    /// The elements still queued for the node when the call started (on all
    /// its inputs, the element it works on not counted).
    pub queued: usize,
    /// What the call did with buffers.
    pub buffers: CallBuffers,
    /// The first bytes of the element's payload, as many as
    /// [`Pipeline::timeline_payload_bytes`](crate::Pipeline::timeline_payload_bytes)
    /// asks for (none by default).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub payload: Vec<u8>,
}

/// What one call did with buffers: the host's counts of the node's
/// component during the call (zero for the host-side nodes), and the copies
/// the flow made to send the element on several edges.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CallBuffers {
    /// Successful `allocate` calls.
    pub allocations: u64,
    /// The sum of those allocations' capacity hints.
    pub bytes_allocated: u64,
    /// `read` and `read-all` calls: copies into the component.
    pub reads: u64,
    /// Bytes those reads copied.
    pub bytes_read: u64,
    /// `clone-into-mutable` calls: host-side copies.
    pub clones: u64,
    /// Bytes those clones copied.
    pub bytes_cloned: u64,
    /// Copies of the element the flow made to send it on more than one edge
    /// (fan-out).
    pub fan_out_copies: u64,
}

impl CallBuffers {
    /// The counts between two snapshots of a component's
    /// [`Stats`](crate::Stats), `before` and `after` a call.
    pub(crate) fn between(before: &crate::Stats, after: &crate::Stats) -> Self {
        CallBuffers {
            allocations: after.allocations.saturating_sub(before.allocations),
            bytes_allocated: after.bytes_allocated.saturating_sub(before.bytes_allocated),
            reads: after.reads.saturating_sub(before.reads),
            bytes_read: after
                .payload_bytes_read
                .saturating_sub(before.payload_bytes_read),
            clones: after.clones.saturating_sub(before.clones),
            bytes_cloned: after.bytes_cloned.saturating_sub(before.bytes_cloned),
            fan_out_copies: 0,
        }
    }

    /// Whether the call allocated or copied nothing.
    pub fn is_empty(&self) -> bool {
        *self == CallBuffers::default()
    }
}

/// A queue's length after an element was queued on it or taken from it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QueueSample {
    /// The edge, an index into [`Timeline::edges`].
    pub edge: usize,
    /// When, in nanoseconds on the timeline's clock.
    pub at_ns: u64,
    /// How many elements the queue held.
    pub len: usize,
}

/// Something that happened at an instant: a sink answered `pause`, a source
/// was held back by a full queue or let go again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimelineMark {
    /// The node, an index into [`Timeline::nodes`].
    pub node: usize,
    /// When, in nanoseconds on the timeline's clock.
    pub at_ns: u64,
    /// What: `pause` (a sink's answer), `held` (a source's queue is full),
    /// `resumed` (it may go on).
    pub what: &'static str,
}

/// What a run recorded with
/// [`Pipeline::record_timeline`](crate::Pipeline::record_timeline)
/// ([`RunResult::timeline`](crate::RunResult::timeline)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Timeline {
    /// The clock its times are on.
    pub clock: TimelineClock,
    /// The node names, in the order the nodes were added.
    pub nodes: Vec<String>,
    /// The edges as `(from, port, to)`, in the order they were added.
    pub edges: Vec<(String, String, String)>,
    /// Every call, in the order they started.
    pub calls: Vec<Call>,
    /// Every change of a queue's length, in order.
    pub queues: Vec<QueueSample>,
    /// Pauses, in order.
    pub marks: Vec<TimelineMark>,
    /// Entries let go because the timeline was full ([`TIMELINE_CAPACITY`]).
    pub dropped: u64,
}

impl Timeline {
    /// The queue samples of edge `edge` as `(at_ns, len)`.
    pub fn queue_of(&self, edge: usize) -> impl Iterator<Item = (u64, usize)> + '_ {
        self.queues
            .iter()
            .filter(move |sample| sample.edge == edge)
            .map(|sample| (sample.at_ns, sample.len))
    }

    /// The elements that spent longest in the flow, slowest first, at most
    /// `count`: `(sequence, first call's start to last call's end in ns,
    /// calls)`. Ties go to the lower sequence number.
    pub fn slowest_elements(&self, count: usize) -> Vec<(u64, u64, usize)> {
        let mut spans: std::collections::BTreeMap<u64, (u64, u64, usize)> = Default::default();
        for call in &self.calls {
            let Some(sequence) = call.sequence else {
                continue;
            };
            let span = spans
                .entry(sequence)
                .or_insert((call.start_ns, call.end_ns, 0));
            span.0 = span.0.min(call.start_ns);
            span.1 = span.1.max(call.end_ns);
            span.2 += 1;
        }
        let mut spans: Vec<(u64, u64, usize)> = spans
            .into_iter()
            .map(|(sequence, (start, end, calls))| (sequence, end.saturating_sub(start), calls))
            .collect();
        spans.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        spans.truncate(count);
        spans
    }
}

/// The positions of `nodes` in flow order: each node after the nodes feeding
/// it (by `edges`, `(from, port, to)`), ties in the given order; nodes on a
/// cycle last.
pub(crate) fn flow_order<S: AsRef<str>>(nodes: &[S], edges: &[(S, S, S)]) -> Vec<usize> {
    let index = |name: &str| nodes.iter().position(|node| node.as_ref() == name);
    let mut feeding = vec![0usize; nodes.len()];
    for (_, _, to) in edges {
        if let Some(to) = index(to.as_ref()) {
            feeding[to] += 1;
        }
    }
    let mut placed = vec![false; nodes.len()];
    let mut order = Vec::with_capacity(nodes.len());
    while order.len() < nodes.len() {
        let next = (0..nodes.len())
            .find(|&n| !placed[n] && feeding[n] == 0)
            .or_else(|| (0..nodes.len()).find(|&n| !placed[n]));
        let Some(n) = next else {
            break;
        };
        placed[n] = true;
        order.push(n);
        for (from, _, to) in edges {
            if from.as_ref() == nodes[n].as_ref()
                && let Some(to) = index(to.as_ref())
            {
                feeding[to] = feeding[to].saturating_sub(1);
            }
        }
    }
    order
}

/// When a call started, as the recorder reads it.
pub(crate) struct Started {
    virtual_ns: u64,
    real: Option<Instant>,
}

/// Records a [`Timeline`] during a run. Present only when asked for.
pub(crate) struct Recorder {
    timeline: Timeline,
    clock: Option<VirtualClock>,
    started: Instant,
    /// The end of the last call on the virtual clock: the next starts no earlier.
    cursor: u64,
    /// How many bytes of each payload a call keeps ([`Call::payload`]).
    payload_bytes: usize,
}

impl Recorder {
    /// A recorder on the flow's virtual clock (`Some`) or the wall clock.
    pub(crate) fn new(
        clock: Option<VirtualClock>,
        nodes: Vec<String>,
        edges: Vec<(String, String, String)>,
        payload_bytes: usize,
    ) -> Self {
        Recorder {
            timeline: Timeline {
                clock: if clock.is_some() {
                    TimelineClock::Virtual
                } else {
                    TimelineClock::Real
                },
                nodes,
                edges,
                calls: Vec::new(),
                queues: Vec::new(),
                marks: Vec::new(),
                dropped: 0,
            },
            cursor: clock.as_ref().map_or(0, VirtualClock::now_ns),
            clock,
            started: Instant::now(),
            payload_bytes,
        }
    }

    fn real_ns(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Now, for an instant (a queue sample, a mark).
    fn now(&self) -> u64 {
        match &self.clock {
            Some(clock) => clock.now_ns().max(self.cursor),
            None => self.real_ns(),
        }
    }

    /// A call starts; on the virtual clock, no earlier than `at_least_ns`
    /// (an element call moves the clock to the element's timestamp).
    pub(crate) fn start(&self, at_least_ns: u64) -> Started {
        match &self.clock {
            Some(clock) => Started {
                virtual_ns: clock.now_ns().max(at_least_ns),
                real: None,
            },
            None => Started {
                virtual_ns: 0,
                real: Some(Instant::now()),
            },
        }
    }

    /// The first bytes of `payload` a call keeps (none unless asked for).
    pub(crate) fn head(&self, payload: &[u8]) -> Vec<u8> {
        payload[..payload.len().min(self.payload_bytes)].to_vec()
    }

    /// The last call recorded, to add what is known only after it (the
    /// copies of a source's element sent on several edges).
    pub(crate) fn last_call(&mut self) -> Option<&mut Call> {
        self.timeline.calls.last_mut()
    }

    /// The call begun at `started` ended: the call recorded, to fill in its
    /// details (`None` when the timeline is full).
    pub(crate) fn call(
        &mut self,
        started: Started,
        node: usize,
        function: &'static str,
        sequence: Option<u64>,
        bytes: u64,
    ) -> Option<&mut Call> {
        let (start_ns, end_ns) = match (&self.clock, started.real) {
            (Some(clock), _) => {
                let start = started.virtual_ns.max(self.cursor);
                let end = clock.now_ns().max(start + VIRTUAL_CALL_NS);
                self.cursor = end;
                (start, end)
            }
            (None, Some(real)) => {
                let start =
                    u64::try_from(real.duration_since(self.started).as_nanos()).unwrap_or(0);
                (start, self.real_ns().max(start))
            }
            (None, None) => return None,
        };
        if self.timeline.calls.len() >= TIMELINE_CAPACITY {
            self.timeline.dropped += 1;
            return None;
        }
        self.timeline.calls.push(Call {
            node,
            function,
            sequence,
            bytes,
            start_ns,
            end_ns,
            queued: 0,
            buffers: CallBuffers::default(),
            payload: Vec::new(),
        });
        self.timeline.calls.last_mut()
    }

    /// Edge `edge`'s queue now holds `len` elements.
    pub(crate) fn queue(&mut self, edge: usize, len: usize) {
        if self.timeline.queues.len() >= TIMELINE_CAPACITY {
            self.timeline.dropped += 1;
            return;
        }
        let at_ns = self.now();
        self.timeline.queues.push(QueueSample { edge, at_ns, len });
    }

    /// Node `node` paused, was held or resumed.
    pub(crate) fn mark(&mut self, node: usize, what: &'static str) {
        if self.timeline.marks.len() >= TIMELINE_CAPACITY {
            self.timeline.dropped += 1;
            return;
        }
        let at_ns = self.now();
        self.timeline.marks.push(TimelineMark { node, at_ns, what });
    }

    /// The timeline recorded.
    pub(crate) fn finish(self) -> Timeline {
        self.timeline
    }
}

impl crate::pipeline::Pipeline {
    /// Record the run's timeline (off by default): every call of every node
    /// with its element's sequence number and payload size, every change of a
    /// queue's length, every pause, in
    /// [`RunResult::timeline`](crate::RunResult::timeline), for
    /// [`RunResult::chrome_trace`](crate::RunResult::chrome_trace)
    /// and the HTML report (`html_report`). Times are on the flow's
    /// virtual clock unless components read the real one
    /// ([`Pipeline::clock_mode`](crate::Pipeline::clock_mode)).
    /// A run that does not record does no timeline work at all.
    ///
    /// ```
    /// use torvyn_testkit::TestElement;
    /// use torvyn_testkit::Pipeline;
    ///
    /// let run = Pipeline::new("demo")
    ///     .source("in", [TestElement::text("ab")])
    ///     .collector("out")
    ///     .edge("in", "out")
    ///     .record_timeline(true)
    ///     .run()?;
    /// let timeline = run.timeline.as_ref().expect("recorded");
    /// let calls: Vec<_> = timeline.calls.iter().map(|c| (c.function, c.sequence, c.bytes)).collect();
    /// assert_eq!(calls[..2], [("pull", Some(0), 2), ("push", Some(0), 2)]);
    /// assert!(run.chrome_trace().unwrap().contains(r#""clock":"virtual""#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn record_timeline(mut self, on: bool) -> Self {
        self.record_timeline = on;
        self
    }

    /// With [`record_timeline`](Self::record_timeline): keep the first
    /// `bytes` bytes of the payload of every element call on the timeline
    /// ([`Call::payload`]), for the payload previews of
    /// [`RunResult::trace_view`](crate::RunResult::trace_view). None by
    /// default.
    ///
    /// ```
    /// use torvyn_testkit::{Pipeline, TestElement};
    ///
    /// let run = Pipeline::new("demo")
    ///     .source("in", [TestElement::text("hello")])
    ///     .collector("out")
    ///     .edge("in", "out")
    ///     .record_timeline(true)
    ///     .timeline_payload_bytes(3)
    ///     .run()?;
    /// let timeline = run.timeline.as_ref().expect("recorded");
    /// assert_eq!(timeline.calls[1].payload, b"hel");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn timeline_payload_bytes(mut self, bytes: usize) -> Self {
        self.timeline_payload_bytes = bytes;
        self
    }
}
