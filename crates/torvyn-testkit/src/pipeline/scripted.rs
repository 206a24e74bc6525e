//! Scripted nodes: host-side stand-ins for components that pass, drop, fail,
//! pause and end with `fatal` by a seeded rule, so a flow's shape, its error
//! policies and its accounting can be tested without building any wasm.

use std::collections::BTreeMap;

use crate::element::{Output, ProcessError, Signal, TestElement};
use crate::error::{Error, ErrorKind};
use crate::role::Role;

/// A host-side node that behaves like a component of its role, deciding what
/// to do with each element by a seeded rule: the same seed, flow and settings
/// give the same run.
///
/// For every element call (retries included) the node draws a number from
/// its seed, the element's sequence number and the call's count. With
/// probability [`fails`](Self::fails) the call returns `invalid-input`; with
/// probability [`drops`](Self::drops) the element is dropped (a filter says
/// `false`, a processor `drop`, a router names no port); otherwise a filter
/// passes it, a processor emits its payload unchanged, a router sends it to a
/// seeded, non-empty set of its ports, an aggregator absorbs it (and emits one
/// aggregate every [`window`](Self::aggregator) elements, and the rest at
/// `flush`), and a sink receives it, answering `pause` with probability
/// [`pauses`](Self::pauses). [`fatal_at`](Self::fatal_at) makes the `n`th
/// element call return `fatal`, which ends the node like a component's.
/// [`at`](Self::at) scripts the element of one sequence number exactly
/// instead ([`Step`]).
///
/// ```
/// use torvyn_testkit::{ErrorPolicy, NodeSpec, Pipeline, Scripted, TestElement};
///
/// let run = Pipeline::new("scripted")
///     .source("input", (0..100).map(|n| TestElement::text(n.to_string())))
///     .node(
///         "flaky",
///         NodeSpec::scripted(Scripted::processor(7).drops(0.2).fails(0.1))
///             .policy(ErrorPolicy::Skip),
///     )
///     .collector("out")
///     .edge("input", "flaky")
///     .edge("flaky", "out")
///     .run()
///     .unwrap();
/// let flaky = run.node("flaky");
/// assert_eq!(flaky.received, 100);
/// assert!(flaky.dropped > 0 && flaky.failed > 0);
/// assert_eq!(flaky.emitted + flaky.dropped + flaky.failed, 100);
/// run.check_accounting().unwrap();
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Scripted {
    pub(crate) role: Role,
    seed: u64,
    drop_rate: f64,
    fail_rate: f64,
    pause_rate: f64,
    fatal_at: Option<u64>,
    window: u64,
    fail_complete: bool,
    at: BTreeMap<u64, Step>,
}

/// What a scripted node does with the element of one sequence number
/// ([`Scripted::at`]), instead of what its seeded rule draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// Pass it on: a filter passes, a processor emits, a router sends it to
    /// its seeded ports, an aggregator absorbs, a sink answers `ready`.
    Pass,
    /// Drop it (a filter says `false`, a processor `drop`, a router names
    /// no port); a sink or an aggregator takes it as [`Step::Pass`].
    Drop,
    /// The call fails with `invalid-input`.
    Fail,
    /// The call returns `fatal`, which ends the node (as
    /// [`Scripted::fatal_at`]).
    Fatal,
    /// A sink receives it and answers `pause`; other roles take it as
    /// [`Step::Pass`].
    Pause,
}

impl Scripted {
    fn new(role: Role, seed: u64) -> Self {
        Scripted {
            role,
            seed,
            drop_rate: 0.0,
            fail_rate: 0.0,
            pause_rate: 0.0,
            fatal_at: None,
            window: 1,
            fail_complete: false,
            at: BTreeMap::new(),
        }
    }

    /// A filter.
    pub fn filter(seed: u64) -> Self {
        Self::new(Role::Filter, seed)
    }

    /// A processor (emits each payload unchanged).
    pub fn processor(seed: u64) -> Self {
        Self::new(Role::Processor, seed)
    }

    /// A router over the ports of its outgoing edges.
    pub fn router(seed: u64) -> Self {
        Self::new(Role::Router, seed)
    }

    /// An aggregator emitting one aggregate per `window` absorbed elements
    /// (at least 1), and one more at `flush` if any are left.
    pub fn aggregator(seed: u64, window: u64) -> Self {
        let mut script = Self::new(Role::Aggregator, seed);
        script.window = window.max(1);
        script
    }

    /// A sink.
    pub fn sink(seed: u64) -> Self {
        Self::new(Role::Sink, seed)
    }

    /// The probability (0 to 1) that an element is dropped.
    pub fn drops(mut self, probability: f64) -> Self {
        self.drop_rate = probability.clamp(0.0, 1.0);
        self
    }

    /// The probability (0 to 1) that a call fails with `invalid-input`.
    pub fn fails(mut self, probability: f64) -> Self {
        self.fail_rate = probability.clamp(0.0, 1.0);
        self
    }

    /// The probability (0 to 1) that a sink answers `pause`.
    pub fn pauses(mut self, probability: f64) -> Self {
        self.pause_rate = probability.clamp(0.0, 1.0);
        self
    }

    /// The `nth` element call (1-based, retries included) returns `fatal`.
    pub fn fatal_at(mut self, nth: u64) -> Self {
        self.fatal_at = Some(nth);
        self
    }

    /// Every call on the element with flow sequence number `sequence`
    /// (retries included) does `step`, whatever the seeded rule would draw:
    /// a script by sequence numbers, for tests that need exact behaviour
    /// (the differential tests against upstream's reactor use it).
    ///
    /// ```
    /// use torvyn_testkit::TestElement;
    /// use torvyn_testkit::{ErrorPolicy, NodeSpec, Pipeline, Scripted, Step};
    ///
    /// let run = Pipeline::new("exact")
    ///     .source("input", (0..4).map(|n| TestElement::text(n.to_string())))
    ///     .node("p", NodeSpec::scripted(Scripted::processor(0).at(1, Step::Drop).at(2, Step::Fail))
    ///         .policy(ErrorPolicy::Skip))
    ///     .node("out", NodeSpec::scripted(Scripted::sink(0).at(3, Step::Pause)))
    ///     .edge("input", "p")
    ///     .edge("p", "out")
    ///     .run()?;
    /// assert_eq!((run.node("p").dropped, run.node("p").failed), (1, 1));
    /// assert_eq!(run.node("out").delivered, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn at(mut self, sequence: u64, step: Step) -> Self {
        self.at.insert(sequence, step);
        self
    }

    /// `flush` (aggregators) or `complete` (sinks) returns `internal`.
    pub fn fails_complete(mut self) -> Self {
        self.fail_complete = true;
        self
    }
}

/// What a scripted call did with an element.
pub(crate) enum Action {
    Emit(Option<Vec<String>>),
    Dropped,
    Absorbed(Option<TestElement>),
    Delivered(Signal),
}

/// A scripted node while a flow runs.
pub(crate) struct ScriptState {
    script: Scripted,
    calls: u64,
    absorbed: u64,
    terminated: Option<String>,
}

impl ScriptState {
    pub(crate) fn new(script: Scripted) -> Self {
        ScriptState {
            script,
            calls: 0,
            absorbed: 0,
            terminated: None,
        }
    }

    fn error(name: &str, role: Role, call: &'static str, kind: ErrorKind) -> Error {
        Error::new(name, kind).at(Some(role), call)
    }

    /// A uniform draw in [0, 1) from the seed, the element and the call count.
    fn draw(&self, sequence: u64, salt: u64) -> f64 {
        let mixed = splitmix(
            self.script.seed
                ^ splitmix(sequence.wrapping_add(0x9e37_79b9))
                ^ splitmix(self.calls.wrapping_mul(31).wrapping_add(salt)),
        );
        (mixed >> 11) as f64 / (1u64 << 53) as f64
    }

    /// An element call: `ports` are a router's ports (deduplicated).
    pub(crate) fn call(
        &mut self,
        name: &str,
        element: &TestElement,
        ports: &[String],
    ) -> Result<Action, Error> {
        let role = self.script.role;
        let call = role.element_call();
        if let Some(reason) = &self.terminated {
            return Err(Self::error(
                name,
                role,
                call,
                ErrorKind::Terminated {
                    reason: reason.clone(),
                },
            ));
        }
        self.calls += 1;
        let process = |error: ProcessError| {
            Self::error(
                name,
                role,
                call,
                ErrorKind::Process {
                    error,
                    injected: false,
                },
            )
        };
        let step = self.script.at.get(&element.sequence).copied();
        if self.script.fatal_at == Some(self.calls) || step == Some(Step::Fatal) {
            self.terminated = Some(format!("it returned fatal from `{call}`"));
            return Err(process(ProcessError::Fatal(format!(
                "scripted fatal at call {}",
                self.calls
            ))));
        }
        let sequence = element.sequence;
        let draw = self.draw(sequence, 1);
        if step.map_or(draw < self.script.fail_rate, |step| step == Step::Fail) {
            return Err(process(ProcessError::InvalidInput(format!(
                "scripted failure of element #{sequence}"
            ))));
        }
        let dropped = step.map_or(
            draw < self.script.fail_rate + self.script.drop_rate,
            |step| step == Step::Drop,
        );
        Ok(match role {
            Role::Filter | Role::Processor if dropped => Action::Dropped,
            Role::Filter | Role::Processor => Action::Emit(None),
            Role::Router if dropped || ports.is_empty() => Action::Dropped,
            Role::Router => {
                let bits = splitmix(self.script.seed ^ sequence ^ self.calls.rotate_left(17));
                let mut chosen: Vec<String> = ports
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| (bits >> (i % 64)) & 1 == 1)
                    .map(|(_, port)| port.clone())
                    .collect();
                if chosen.is_empty() {
                    chosen.push(ports[(bits % ports.len() as u64) as usize].clone());
                }
                Action::Emit(Some(chosen))
            }
            Role::Aggregator => {
                self.absorbed += 1;
                if self.absorbed.is_multiple_of(self.script.window) {
                    Action::Absorbed(Some(self.aggregate(self.script.window)))
                } else {
                    Action::Absorbed(None)
                }
            }
            Role::Sink => {
                let pause = step.map_or_else(
                    || self.draw(sequence, 2) < self.script.pause_rate,
                    |step| step == Step::Pause,
                );
                Action::Delivered(if pause { Signal::Pause } else { Signal::Ready })
            }
            Role::Source => Action::Dropped,
        })
    }

    fn aggregate(&self, count: u64) -> TestElement {
        TestElement::text(format!("aggregate of {count}"))
    }

    /// `flush` (aggregators: what is left) or `complete` (sinks).
    pub(crate) fn complete(&mut self, name: &str) -> Result<Vec<Output>, Error> {
        let role = self.script.role;
        let call = if role == Role::Aggregator {
            "flush"
        } else {
            "complete"
        };
        if self.terminated.is_some() {
            return Ok(Vec::new());
        }
        if self.script.fail_complete {
            return Err(Self::error(
                name,
                role,
                call,
                ErrorKind::Process {
                    error: ProcessError::Internal(format!("scripted failure of `{call}`")),
                    injected: false,
                },
            ));
        }
        let left = self.absorbed % self.script.window;
        if role != Role::Aggregator || left == 0 {
            return Ok(Vec::new());
        }
        self.absorbed -= left;
        let element = self.aggregate(left);
        Ok(vec![Output {
            payload: element.payload,
            content_type: element.content_type.clone(),
            meta: crate::element::Meta {
                sequence: 0,
                timestamp_ns: 0,
                content_type: element.content_type,
            },
        }])
    }
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash of `x`.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
