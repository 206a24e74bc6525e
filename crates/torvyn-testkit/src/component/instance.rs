//! A running instance: its calls (limits armed, traps and `process-error`s
//! turned into [`Error`]s), its captured output, fault switches and teardown.

use wasmtime::Store;

use super::Component;
use super::exports::Exports;
use super::trap::{LogLine, classify, failure_label, from_wit, parse_logs};
use crate::element::{MAX_BUFFER_BYTES, Output, ProcessError, Processed, Signal, TestElement};
use crate::error::{Error, ErrorKind};
use crate::host::bindings::torvyn::streaming::types as wit;
use crate::host::{HostState, Limits, Stats};
use crate::role::Role;

/// A running component instance, called element by element.
///
/// Each call returns the component's answer as plain values, or an [`Error`]
/// naming the component and the call: a `process-error` it returned, a trap
/// (with its panic message), a time-limit or memory-limit hit. After a trap or
/// `fatal` the instance refuses further calls. `teardown` runs on drop.
///
/// ```no_run
/// use torvyn_testkit::{Component, TestElement};
///
/// let mut processor = Component::build(env!("CARGO_MANIFEST_DIR"))?.instantiate("")?;
/// let output = processor.process(TestElement::text("hi"))?.output();
/// assert_eq!(output.as_ref().and_then(|o| o.text()), Some("HI"));
/// let stats = processor.stats();
/// assert_eq!((stats.reads, stats.allocations), (1, 1));
/// processor.fail_next_allocation(); // the next allocation is refused
/// assert!(processor.process(TestElement::text("again")).is_err());
/// for line in processor.logs() {
///     println!("{line:?}");
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Instance {
    pub(super) component: Component,
    pub(super) name: String,
    pub(super) role: Role,
    pub(super) store: Store<HostState>,
    pub(super) exports: Exports,
    pub(super) limits: Limits,
    /// Shared by every element's flow context (`flow-id`).
    pub(super) flow_id: std::sync::Arc<str>,
    pub(super) terminated: Option<String>,
    pub(super) torn_down: bool,
    /// Element calls made so far (`pull` included).
    pub(super) element_calls: u64,
    /// Which element call (counted like `element_calls`) fails, with what.
    pub(super) fail_call: Option<(u64, ProcessError)>,
    /// A teardown that failed before [`Instance::teardown`] could report it.
    pub(super) teardown_error: Option<Error>,
    /// Where elements are lent to calls (after the first element call).
    pub(super) lent: Option<super::transfer::Lent>,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("stats", &self.store.data().stats)
            .finish_non_exhaustive()
    }
}

/// Arm the per-call limits: the time limit (checked at every epoch tick, see
/// `host::deadline`), the captured stderr's mark and (when metered) fuel.
pub(super) fn arm_call_limits(store: &mut Store<HostState>, limits: &Limits) {
    let state = store.data_mut();
    state.time.start_call(limits.call_timeout);
    state.clock.arm();
    state.stderr.mark();
    // A refusal of an earlier call explains none of this call's traps.
    state.buffers.denied = None;
    store.set_epoch_deadline(1);
    if let Some(fuel) = limits.fuel {
        // Setting fuel only fails when metering is off, and it is on here.
        let _ = store.set_fuel(fuel);
    }
}

impl Instance {
    /// The instance's name, used in error messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The component's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// What the component did through the host so far: payload bytes read,
    /// reads, allocations.
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// # let mut filter = Component::build("my-filter")?.instantiate("")?;
    /// filter.evaluate(TestElement::text("hello"))?;
    /// let stats = filter.stats();
    /// assert_eq!(stats.payload_bytes_read, 0, "it decided on metadata alone");
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn stats(&self) -> Stats {
        self.store.data().stats.clone()
    }

    /// The instance's virtual clock: what `wasi:clocks` reads with
    /// [`ClockMode::Virtual`](crate::ClockMode::Virtual) (sleeps and element timestamps move it).
    pub fn virtual_time(&self) -> std::time::Duration {
        self.store.data().time.virtual_now()
    }

    /// Move the virtual clock forward by `by`, as if that much time passed
    /// between calls (shared with the other nodes of a pipeline).
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// # let mut processor = Component::build("my-processor")?.instantiate("")?;
    /// let before = processor.virtual_time();
    /// processor.advance_virtual_time(std::time::Duration::from_secs(60)); // a window closes
    /// assert!(processor.virtual_time() >= before + std::time::Duration::from_secs(60));
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn advance_virtual_time(&mut self, by: std::time::Duration) {
        self.store.data().time.advance(by);
    }

    /// Everything the component wrote to stdout. Past the capture limit
    /// ([`Limits::capture`], 16 MiB by default) the rest is discarded and the
    /// text ends with a line saying so:
    /// `[torvyn-testkit: stdout capture limit of 16 MiB reached by node `x`; ...]`.
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// # let mut sink = Component::build("my-sink")?.instantiate("")?;
    /// sink.push(TestElement::text("shown"))?;
    /// assert_eq!(sink.stdout(), "shown\n");
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn stdout(&self) -> String {
        self.store.data().stdout.text(&self.name)
    }

    /// Everything the component wrote to stderr (log lines and panic
    /// messages), truncated like [`stdout`](Self::stdout).
    pub fn stderr(&self) -> String {
        self.store.data().stderr.text(&self.name)
    }

    /// The `torvyn_guest::log` lines the component wrote, in order.
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// # let mut filter = Component::build("my-filter")?.instantiate("")?;
    /// filter.teardown()?;
    /// let logs = filter.logs(); // `torvyn_guest::log` lines
    /// assert!(logs.iter().any(|line| line.level == "info" && line.message.contains("passed")));
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn logs(&self) -> Vec<LogLine> {
        parse_logs(&self.stderr())
    }

    /// Fault injection: the next `count` allocations (`allocate` or
    /// `clone-into-mutable`) fail with `allocation-failed`. To fail the
    /// allocations `init` makes, use [`InstanceOptions::fail_allocations`](super::InstanceOptions::fail_allocations).
    pub fn fail_next_allocations(&mut self, count: u32) {
        self.store.data_mut().fail_allocations = count;
    }

    /// Fault injection: the next allocation fails with `allocation-failed`.
    pub fn fail_next_allocation(&mut self) {
        self.fail_next_allocations(1);
    }

    /// Fault injection: the `nth` element call from now (1 = the next one)
    /// returns `error` without reaching the component (before instantiating:
    /// [`InstanceOptions::fail_call`](super::InstanceOptions::fail_call)).
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// # let mut processor = Component::build("my-processor")?.instantiate("")?;
    /// processor.fail_call(1, torvyn_testkit::ProcessError::Unavailable("db down".into()));
    /// processor.process(TestElement::text("first"))?; // call 0 runs
    /// let err = processor.process(TestElement::text("second")).unwrap_err();
    /// assert!(err.process_error().is_some());
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn fail_call(&mut self, nth: u64, error: ProcessError) {
        self.fail_call = Some((self.element_calls + nth.max(1), error));
    }

    /// Call `init(config)`. [`Component::instantiate`] already did, unless the
    /// options said [`skip_init`](super::InstanceOptions::skip_init).
    ///
    /// A component without `lifecycle` accepts only an empty config.
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// #
    /// let mut filter = Component::build("my-filter")?
    ///     .options()
    ///     .skip_init()
    ///     .instantiate()?;
    /// filter.init(r#"{"min_len": 3}"#)?;
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn init(&mut self, config: &str) -> Result<(), Error> {
        let Some(lifecycle) = self.exports.lifecycle.clone() else {
            if super::options::is_blank_config(config) {
                return Ok(());
            }
            return Err(self.error(
                "init",
                ErrorKind::Config(
                    "the component exports no `lifecycle`, so it cannot receive a config; \
                     remove the config or export `torvyn:streaming/lifecycle`"
                        .into(),
                ),
            ));
        };
        self.call("init", |store| lifecycle.call_init(store, config))
    }

    /// Filter: `evaluate`. `true` passes the element on, `false` drops it.
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// # let mut filter = Component::build("my-filter")?.instantiate("")?;
    /// assert!(filter.evaluate(TestElement::text("hello"))?);
    /// assert!(!filter.evaluate(TestElement::bytes(vec![0; 1 << 20]))?);
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn evaluate(&mut self, element: impl Into<TestElement>) -> Result<bool, Error> {
        self.evaluate_lent(&mut element.into())
    }

    pub(super) fn evaluate_lent(&mut self, element: &mut TestElement) -> Result<bool, Error> {
        let filter = self.export(|e| e.filter.clone(), Role::Filter, "evaluate")?;
        self.element_call("evaluate", element, |store, element| {
            filter.call_evaluate(store, element)
        })
    }

    /// Processor: `process`. Emits an output or drops the element.
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// # let mut processor = Component::build("my-processor")?.instantiate("")?;
    /// match processor.process(TestElement::text("hi"))? {
    ///     Processed::Emit(output) => assert_eq!(output.text(), Some("HI")),
    ///     Processed::Drop => panic!("dropped"),
    /// }
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn process(&mut self, element: impl Into<TestElement>) -> Result<Processed, Error> {
        self.process_lent(&mut element.into())
    }

    pub(super) fn process_lent(&mut self, element: &mut TestElement) -> Result<Processed, Error> {
        let processor = self.export(|e| e.processor.clone(), Role::Processor, "process")?;
        let result = self.element_call("process", element, |store, element| {
            processor.call_process(store, element)
        })?;
        match result {
            wit::ProcessResult::Emit(output) => {
                Ok(Processed::Emit(self.output("process", output)?))
            }
            wit::ProcessResult::Drop => Ok(Processed::Drop),
        }
    }

    /// Router: `route`. The port names (several = fan-out, none = drop).
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// # let mut router = Component::build("my-router")?.instantiate("")?;
    /// assert_eq!(router.route(TestElement::text("small"))?, ["small"]);
    /// assert!(router.route(TestElement::text(""))?.is_empty(), "no port: dropped");
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn route(&mut self, element: impl Into<TestElement>) -> Result<Vec<String>, Error> {
        self.route_lent(&mut element.into())
    }

    pub(super) fn route_lent(&mut self, element: &mut TestElement) -> Result<Vec<String>, Error> {
        let router = self.export(|e| e.router.clone(), Role::Router, "route")?;
        self.element_call("route", element, |store, element| {
            router.call_route(store, element)
        })
    }

    /// Aggregator: `ingest`. May emit an output.
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// # let mut aggregator = Component::build("my-aggregator")?.instantiate("")?;
    /// assert_eq!(aggregator.ingest(TestElement::text("a"))?, None); // held
    /// let rest: Vec<Output> = aggregator.flush()?;
    /// assert_eq!(rest.len(), 1);
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn ingest(&mut self, element: impl Into<TestElement>) -> Result<Option<Output>, Error> {
        self.ingest_lent(&mut element.into())
    }

    pub(super) fn ingest_lent(
        &mut self,
        element: &mut TestElement,
    ) -> Result<Option<Output>, Error> {
        let aggregator = self.export(|e| e.aggregator.clone(), Role::Aggregator, "ingest")?;
        let output = self.element_call("ingest", element, |store, element| {
            aggregator.call_ingest(store, element)
        })?;
        output
            .map(|output| self.output("ingest", output))
            .transpose()
    }

    /// Aggregator: `flush`. Emits what the aggregator still holds.
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// # let mut aggregator = Component::build("my-aggregator")?.instantiate("")?;
    /// aggregator.ingest(TestElement::text("a"))?;
    /// let rest = aggregator.flush()?;
    /// assert_eq!(rest[0].text(), Some(r#"["a"]"#));
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn flush(&mut self) -> Result<Vec<Output>, Error> {
        let aggregator = self.export(|e| e.aggregator.clone(), Role::Aggregator, "flush")?;
        let outputs = self.call("flush", |store| aggregator.call_flush(store))?;
        outputs
            .into_iter()
            .map(|output| self.output("flush", output))
            .collect()
    }

    /// Source: `pull`. The next output, or `None` once the source is exhausted.
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// # let mut source = Component::build("my-source")?.instantiate("")?;
    /// while let Some(output) = source.pull()? {
    ///     println!("{:?}", output.text());
    /// }
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn pull(&mut self) -> Result<Option<Output>, Error> {
        let source = self.export(|e| e.source.clone(), Role::Source, "pull")?;
        if let Some(error) = self.injected_failure() {
            return Err(self.process_error("pull", error, true));
        }
        let output = self.call("pull", |store| source.call_pull(store))?;
        output.map(|output| self.output("pull", output)).transpose()
    }

    /// Source: pull until `None` and return every output.
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// # let mut source = Component::build("my-source")?.instantiate("")?;
    /// let outputs = source.pull_all()?;
    /// assert!(outputs.iter().all(|o| o.content_type == "application/json"));
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn pull_all(&mut self) -> Result<Vec<Output>, Error> {
        let mut outputs = Vec::new();
        while let Some(output) = self.pull()? {
            outputs.push(output);
        }
        Ok(outputs)
    }

    /// Source: `notify-backpressure`.
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// # let mut source = Component::build("my-source")?.instantiate("")?;
    /// source.notify_backpressure(Signal::Pause)?;
    /// source.notify_backpressure(Signal::Ready)?;
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn notify_backpressure(&mut self, signal: Signal) -> Result<(), Error> {
        let source = self.export(|e| e.source.clone(), Role::Source, "notify-backpressure")?;
        let signal = match signal {
            Signal::Ready => wit::BackpressureSignal::Ready,
            Signal::Pause => wit::BackpressureSignal::Pause,
        };
        self.call("notify-backpressure", |store| {
            source.call_notify_backpressure(store, signal).map(Ok)
        })
    }

    /// Sink: `push`. `Ready` or `Pause`.
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// # let mut sink = Component::build("my-sink")?.instantiate("")?;
    /// assert_eq!(sink.push(TestElement::text("a"))?, Signal::Ready);
    /// sink.complete()?;
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn push(&mut self, element: impl Into<TestElement>) -> Result<Signal, Error> {
        self.push_lent(&mut element.into())
    }

    pub(super) fn push_lent(&mut self, element: &mut TestElement) -> Result<Signal, Error> {
        let sink = self.export(|e| e.sink.clone(), Role::Sink, "push")?;
        let signal = self.element_call("push", element, |store, element| {
            sink.call_push(store, element)
        })?;
        Ok(match signal {
            wit::BackpressureSignal::Ready => Signal::Ready,
            wit::BackpressureSignal::Pause => Signal::Pause,
        })
    }

    /// Sink: `complete`, after the last element.
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// # let mut sink = Component::build("my-sink")?.instantiate("")?;
    /// sink.push(TestElement::text("last"))?;
    /// sink.complete()?; // after the last element
    /// sink.teardown()?;
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn complete(&mut self) -> Result<(), Error> {
        let sink = self.export(|e| e.sink.clone(), Role::Sink, "complete")?;
        self.call("complete", |store| sink.call_complete(store))
    }

    /// Call `teardown` now (otherwise it runs on drop). It runs once, with
    /// the same limits as every call; later calls do nothing, and element
    /// calls after it are refused. Logs and stats stay readable. Components
    /// without `lifecycle` have nothing to tear down.
    ///
    /// A teardown that traps, hits a limit or is blocked is an `Err` naming
    /// the call `teardown`, also when the host ran it earlier (after the
    /// component returned `fatal`); on drop, a failing teardown is written to
    /// stderr as a warning. An instance that trapped or hit a limit cannot be
    /// entered again, so it gets no teardown.
    ///
    /// ```no_run
    /// use torvyn_testkit::{Component, Output, Processed, Signal, TestElement};
    ///
    /// # let mut filter = Component::build("my-filter")?.instantiate("")?;
    /// filter.evaluate(TestElement::text("x"))?;
    /// filter.teardown()?; // or on drop
    /// assert!(filter.is_terminated());
    /// # Ok::<(), torvyn_testkit::Error>(())
    /// ```
    pub fn teardown(&mut self) -> Result<(), Error> {
        if let Some(error) = self.teardown_error.take() {
            return Err(error);
        }
        self.teardown_once()
    }

    fn teardown_once(&mut self) -> Result<(), Error> {
        if self.torn_down {
            return Ok(());
        }
        self.torn_down = true;
        let Some(lifecycle) = self.exports.lifecycle.clone() else {
            return Ok(());
        };
        if self.terminated.is_some() && self.store.data().memory.denied.is_some() {
            return Ok(());
        }
        let was = self.terminated.take();
        let result = self.call("teardown", |store| lifecycle.call_teardown(store).map(Ok));
        self.terminated = Some(was.unwrap_or_else(|| "it was torn down".into()));
        result
    }

    /// Pass on the last line of stdout and stderr that has no newline, to
    /// the output tap if there is one (the instance is ending).
    pub(crate) fn flush_output(&self) {
        let state = self.store.data();
        state.stdout.flush_tap();
        state.stderr.flush_tap();
    }

    /// Whether the instance can no longer be called: it trapped, hit a
    /// limit, returned `fatal`, or was torn down (every call then fails with
    /// [`ErrorKind::Terminated`]).
    pub fn is_terminated(&self) -> bool {
        self.terminated.is_some()
    }

    fn export<G>(
        &self,
        get: impl FnOnce(&Exports) -> Option<G>,
        role: Role,
        call: &'static str,
    ) -> Result<G, Error> {
        get(&self.exports).ok_or_else(|| self.error(call, ErrorKind::WrongRole { expected: role }))
    }

    pub(super) fn error(&self, call: &'static str, kind: ErrorKind) -> Error {
        Error::new(self.name.clone(), kind).at(Some(self.role), call)
    }

    fn process_error(&self, call: &'static str, error: ProcessError, injected: bool) -> Error {
        self.error(call, ErrorKind::Process { error, injected })
    }

    fn injected_failure(&mut self) -> Option<ProcessError> {
        self.element_calls += 1;
        match &self.fail_call {
            Some((nth, _)) if *nth == self.element_calls => self.fail_call.take().map(|(_, e)| e),
            _ => None,
        }
    }

    /// Run one call with limits armed, turning traps into errors and
    /// `process-error`s into [`ErrorKind::Process`].
    fn call<T>(
        &mut self,
        call: &'static str,
        f: impl FnOnce(&mut Store<HostState>) -> wasmtime::Result<Result<T, wit::ProcessError>>,
    ) -> Result<T, Error> {
        if let Some(reason) = &self.terminated {
            return Err(self.error(
                call,
                ErrorKind::Terminated {
                    reason: reason.clone(),
                },
            ));
        }
        arm_call_limits(&mut self.store, &self.limits);
        self.store.data_mut().stats.calls += 1;
        match f(&mut self.store) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => {
                let error = from_wit(error);
                if error.is_fatal() {
                    // The contract tears a node down after `fatal`; a failing
                    // teardown is kept for `teardown()` and the run report.
                    if let Err(failed) = self.teardown_once() {
                        self.teardown_error = Some(failed);
                    }
                    self.terminated = Some(format!("it returned {error} from `{call}`"));
                }
                Err(self.process_error(call, error, false))
            }
            Err(err) => {
                let frames = crate::backtrace::frames(&err);
                let (kind, source) = classify(&mut self.store, &self.limits, &self.component, err);
                // wasmtime cannot enter an instance that trapped: no teardown.
                self.torn_down = true;
                self.terminated = Some(format!(
                    "it failed earlier in `{call}` ({}) and gets no more calls",
                    failure_label(&kind)
                ));
                Err(self
                    .error(call, kind)
                    .with_source(source)
                    .with_backtrace(frames))
            }
        }
    }

    /// Lend `element` to one element call; it is the caller's again afterwards.
    fn element_call<T>(
        &mut self,
        call: &'static str,
        element: &mut TestElement,
        f: impl FnOnce(
            &mut Store<HostState>,
            &wit::StreamElement,
        ) -> wasmtime::Result<Result<T, wit::ProcessError>>,
    ) -> Result<T, Error> {
        if let Some(error) = self.injected_failure() {
            return Err(self.process_error(call, error, true));
        }
        self.store.data().time.observe(element.timestamp_ns);
        if element.payload.len() as u64 > MAX_BUFFER_BYTES {
            return Err(self.error(
                call,
                ErrorKind::ElementTooLarge {
                    bytes: element.payload.len() as u64,
                    limit: MAX_BUFFER_BYTES,
                    sequence: element.sequence,
                },
            ));
        }
        let stream_element = self.push_element(element).map_err(|err| {
            self.error(
                call,
                ErrorKind::Trap {
                    message: format!("the host could not store the element: {err}"),
                    panic: None,
                },
            )
        })?;
        let result = self.call(call, |store| f(store, &stream_element));
        self.take_back(element, stream_element);
        result
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // Best effort, as in the contract; a test that cares calls `teardown()`,
        // but a failure is never dropped silently.
        if let Err(error) = self.teardown() {
            eprintln!("torvyn-testkit: warning: {error}");
        }
    }
}
