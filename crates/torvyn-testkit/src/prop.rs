//! Property-based tests of compiled components and pipelines, built on
//! [`proptest`](mod@proptest).
//!
//! Strategies generate [`TestElement`]s (bytes, UTF-8 text, JSON from a
//! strategy of your own or a schema-less generator, content types,
//! timestamps, numbered sequences); [`PropTest`] feeds them to a compiled
//! component, a fresh instance per case, and [`PipelineProp`] feeds generated
//! input streams to a [`Pipeline`]. Besides the author's property, every case
//! checks the built-in ones:
//!
//! - the component never traps (panics, `unreachable`, contract violations);
//! - it never exceeds its limits (time, memory, fuel: [`Limits`]);
//! - it never returns `fatal`, unless [`allow_fatal`](PropTest::allow_fatal);
//! - every element is accounted for (one answer per element; in a pipeline,
//!   every element delivered, dropped, failed or dead-lettered).
//!
//! On a failure proptest shrinks the input to the smallest one that still
//! fails, and the panic message shows the component's error (with its panic
//! message and backtrace) and the input as a ready-to-paste regression test.
//! Failing cases are persisted like proptest does (`proptest-regressions/`
//! next to the test's source; commit the file) and replayed first on the next
//! run. `PROPTEST_CASES` overrides the number of cases.
//!
//! ```no_run
//! use torvyn_testkit::prop::{self, PropTest};
//! use torvyn_testkit::Component;
//!
//! let component = Component::build(env!("CARGO_MANIFEST_DIR")).unwrap();
//! PropTest::new(&component)
//!     .config(r#"{"min_len": 3}"#)
//!     .cases(32)
//!     .assert(prop::text(0..16), |element, outcome| {
//!         // the author's property: long enough texts pass, short ones are dropped
//!         let long = element.payload().len() >= 3;
//!         prop::ensure(outcome.passed() == Some(long), "passes exactly the long ones")
//!     });
//! ```

// proptest's `TestError` carries the failing case (a `TestElement`, or a whole
// input stream) by value: the large `Err` is proptest's design, not ours.
#![allow(clippy::result_large_err)]

use std::fmt::{self, Write as _};
use std::sync::Arc;

use proptest::collection::{SizeRange, vec};
use proptest::prelude::*;
use proptest::test_runner::{
    Config, FileFailurePersistence, RngSeed, TestCaseError, TestError, TestRunner,
};

pub use proptest;

use crate::component::{Component, Instance, with_quick_traps};
use crate::element::{Output, ProcessError, Processed, Signal, TestElement};
use crate::error::{Error, ErrorKind};
use crate::host::Limits;
use crate::pipeline::{Pipeline, RunResult};
use crate::role::Role;

/// The cases a property runs when neither [`PropTest::cases`] nor
/// `PROPTEST_CASES` says otherwise: few, so that it stays quick in CI.
pub const DEFAULT_CASES: u32 = 32;

/// Shrinking steps allowed at least, however few the cases.
const MIN_SHRINK_ITERS: u32 = 1024;

// ---------------------------------------------------------------- strategies

/// Elements carrying arbitrary bytes (`application/octet-stream`), of a
/// length in `len` (`0..64`, `8`, `..=32`, ...). Shrinks towards fewer and
/// smaller bytes.
pub fn bytes(len: impl Into<SizeRange>) -> BoxedStrategy<TestElement> {
    vec(any::<u8>(), len).prop_map(TestElement::bytes).boxed()
}

/// Elements carrying arbitrary UTF-8 text of `len` characters
/// (`text/plain; charset=utf-8`).
pub fn text(len: impl Into<SizeRange>) -> BoxedStrategy<TestElement> {
    vec(any::<char>(), len)
        .prop_map(|chars| TestElement::text(chars.into_iter().collect::<String>()))
        .boxed()
}

/// Text elements from a string strategy of your own; a `&str` is a regular
/// expression (`text_from("[a-z#]{0,16}")`).
pub fn text_from(strategy: impl Strategy<Value = String> + 'static) -> BoxedStrategy<TestElement> {
    strategy.prop_map(TestElement::text).boxed()
}

/// Schema-less JSON values: null, booleans, integers, finite floats, strings,
/// and arrays and objects of those, nested up to three levels.
pub fn json_value() -> BoxedStrategy<serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-z0-9 ]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z]{1,8}", inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
    .boxed()
}

/// JSON elements (`application/json`) from a strategy of JSON values: your
/// own, or [`json_value`].
pub fn json(
    values: impl Strategy<Value = serde_json::Value> + 'static,
) -> BoxedStrategy<TestElement> {
    values.prop_map(TestElement::json).boxed()
}

/// JSON elements from a strategy of any serializable value (a struct of your
/// own, generated with proptest's `any` or a hand-written strategy). Values
/// serde_json cannot serialize become `null`.
pub fn json_of<T: serde::Serialize + fmt::Debug + 'static>(
    values: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<TestElement> {
    values
        .prop_map(|value| TestElement::json(serde_json::to_value(&value).unwrap_or_default()))
        .boxed()
}

/// Common content types (JSON, text, octet-stream, CSV, protobuf, and an
/// unusual one).
pub fn content_type() -> BoxedStrategy<String> {
    prop_oneof![
        Just("application/json".to_string()),
        Just("text/plain; charset=utf-8".to_string()),
        Just("application/octet-stream".to_string()),
        Just("text/csv".to_string()),
        Just("application/x-protobuf".to_string()),
        Just("application/vnd.example+json; version=2".to_string()),
    ]
    .boxed()
}

/// Timestamps in nanoseconds, from 0 up to about a year.
pub fn timestamp_ns() -> BoxedStrategy<u64> {
    (0u64..(365 * 24 * 3600 * 1_000_000_000)).boxed()
}

/// Any element: bytes, text or JSON, sometimes with another content type,
/// with a generated sequence number and timestamp.
pub fn element() -> BoxedStrategy<TestElement> {
    let payload = prop_oneof![bytes(0..64), text(0..32), json(json_value())];
    (
        payload,
        proptest::option::of(content_type()),
        any::<u64>(),
        timestamp_ns(),
    )
        .prop_map(|(element, content_type, sequence, timestamp)| {
            let element = element.sequence(sequence).timestamp_ns(timestamp);
            match content_type {
                Some(content_type) => element.content_type(content_type),
                None => element,
            }
        })
        .boxed()
}

/// A stream of `len` elements from `elements`, numbered 0, 1, 2, ... with
/// increasing timestamps (gaps of up to a second), as a source would produce
/// them. Shrinks by removing elements (renumbering the rest) and shrinking
/// each one.
pub fn sequence(
    elements: impl Strategy<Value = TestElement> + 'static,
    len: impl Into<SizeRange>,
) -> BoxedStrategy<Vec<TestElement>> {
    vec((elements, 0u64..1_000_000_000), len)
        .prop_map(|items| {
            let mut timestamp = 0u64;
            items
                .into_iter()
                .enumerate()
                .map(|(index, (element, gap))| {
                    timestamp = timestamp.saturating_add(gap);
                    element.sequence(index as u64).timestamp_ns(timestamp)
                })
                .collect()
        })
        .boxed()
}

/// A property's verdict: `Ok(())` or the reason it does not hold.
pub type Verdict = Result<(), String>;

/// `Ok(())` when `condition` holds, otherwise `Err(message)`: the usual last
/// line of a property.
pub fn ensure(condition: bool, message: impl fmt::Display) -> Verdict {
    if condition {
        Ok(())
    } else {
        Err(message.to_string())
    }
}

// ------------------------------------------------------------------ outcomes

/// What a component answered for one element.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// A filter's `evaluate`: pass (`true`) or drop.
    Evaluated(bool),
    /// A processor's `process`.
    Processed(Processed),
    /// A router's `route`: the ports.
    Routed(Vec<String>),
    /// An aggregator's `ingest`.
    Ingested(Option<Output>),
    /// A sink's `push`.
    Pushed(Signal),
    /// A `process-error` (not `fatal`, unless allowed).
    Failed(ProcessError),
}

impl Outcome {
    /// A filter's answer, `None` for other roles and errors.
    pub fn passed(&self) -> Option<bool> {
        match self {
            Outcome::Evaluated(pass) => Some(*pass),
            _ => None,
        }
    }

    /// The element the component emitted (processor `emit`, aggregator output).
    pub fn output(&self) -> Option<&Output> {
        match self {
            Outcome::Processed(Processed::Emit(output)) => Some(output),
            Outcome::Ingested(Some(output)) => Some(output),
            _ => None,
        }
    }

    /// The `process-error` the component returned, if it did.
    pub fn error(&self) -> Option<&ProcessError> {
        match self {
            Outcome::Failed(error) => Some(error),
            _ => None,
        }
    }
}

// -------------------------------------------------------------------- runner

#[derive(Clone, Debug)]
struct Settings {
    cases: Option<u32>,
    seed: Option<u64>,
    persist: bool,
    regressions_file: Option<&'static str>,
}

impl Settings {
    fn new() -> Self {
        Settings {
            cases: None,
            seed: None,
            persist: true,
            regressions_file: None,
        }
    }

    fn runner(&self, source_file: &'static str) -> TestRunner {
        let mut config = Config {
            source_file: Some(source_file),
            ..Config::default()
        };
        config.cases = match self.cases {
            Some(cases) => cases,
            None if std::env::var_os("PROPTEST_CASES").is_some() => config.cases,
            None => DEFAULT_CASES,
        };
        config.failure_persistence = match (self.persist, self.regressions_file) {
            (false, _) => None,
            (true, Some(file)) => Some(Box::new(FileFailurePersistence::Direct(file))),
            (true, None) => Some(Box::new(FileFailurePersistence::SourceParallel(
                "proptest-regressions",
            ))),
        };
        if std::env::var_os("PROPTEST_MAX_SHRINK_ITERS").is_none() {
            // proptest's default is 4 per case, which leaves nothing for
            // replaying a persisted failure with few cases; shrinking a
            // component's input is cheap (an instance per step).
            config.max_shrink_iters = config.cases.saturating_mul(4).max(MIN_SHRINK_ITERS);
        }
        if let Some(seed) = self.seed {
            config.rng_seed = RngSeed::Fixed(seed);
        }
        TestRunner::new(config)
    }
}

/// A property test of one compiled component, element by element.
///
/// Each case instantiates the component afresh (with the config and limits),
/// feeds it the generated element or sequence with the call of its role
/// (`evaluate`, `process`, `route`, `ingest`, `push`; then `flush` or
/// `complete` and `teardown`), checks the built-in properties and then the
/// author's. A source takes no input: test it in a [`PipelineProp`].
#[derive(Clone, Debug)]
pub struct PropTest {
    component: Component,
    config: String,
    limits: Limits,
    allow_fatal: bool,
    settings: Settings,
}

/// A property that failed: the minimal input proptest shrank it to, why it
/// fails, and that input as a regression test. The `Display` shows all three.
#[derive(Clone, Debug)]
pub struct PropFailure {
    /// The smallest failing input (one element for single-element properties).
    pub input: Vec<TestElement>,
    /// Why it fails: the component's error (panic message, backtrace) or the
    /// property's message.
    pub reason: String,
    /// The input as a ready-to-paste `#[test]`.
    pub regression: String,
}

impl fmt::Display for PropFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "property failed: {}", self.reason)?;
        let count = self.input.len();
        writeln!(
            f,
            "\nminimal failing input ({count} element{}), as a regression test:\n",
            if count == 1 { "" } else { "s" }
        )?;
        f.write_str(&self.regression)
    }
}

impl std::error::Error for PropFailure {}

impl PropTest {
    /// A property test of `component` with an empty config, default
    /// [`Limits`], [`DEFAULT_CASES`] cases and failures persisted next to the
    /// calling test's source.
    pub fn new(component: &Component) -> Self {
        PropTest {
            component: component.clone(),
            config: String::new(),
            limits: Limits::default(),
            allow_fatal: false,
            settings: Settings::new(),
        }
    }

    /// The config given to `init` in every case.
    pub fn config(mut self, config: impl Into<String>) -> Self {
        self.config = config.into();
        self
    }

    /// The limits of every instance (exceeding them fails the property).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// How many generated cases to run (`PROPTEST_CASES` when not set, else
    /// [`DEFAULT_CASES`]).
    pub fn cases(mut self, cases: u32) -> Self {
        self.settings.cases = Some(cases);
        self
    }

    /// Let the component return `fatal` (it then gets no more elements of that
    /// case) instead of failing the property.
    pub fn allow_fatal(mut self, allow: bool) -> Self {
        self.allow_fatal = allow;
        self
    }

    /// Generate from a fixed seed, the same cases every run (default: a
    /// random seed per run, as proptest does).
    pub fn seed(mut self, seed: u64) -> Self {
        self.settings.seed = Some(seed);
        self
    }

    /// Do not persist failing cases (nor replay persisted ones).
    pub fn no_persistence(mut self) -> Self {
        self.settings.persist = false;
        self
    }

    /// Persist failing cases in this file instead of
    /// `proptest-regressions/<test file>.txt`.
    pub fn regressions_file(mut self, path: &'static str) -> Self {
        self.settings.regressions_file = Some(path);
        self
    }

    /// Check `property` for single elements from `elements`: `Err` with the
    /// minimal failing element when a case fails.
    #[track_caller]
    pub fn check<S>(
        &self,
        elements: S,
        property: impl Fn(&TestElement, &Outcome) -> Verdict,
    ) -> Result<(), PropFailure>
    where
        S: Strategy<Value = TestElement>,
    {
        let source_file = std::panic::Location::caller().file();
        let mut runner = self.settings.runner(source_file);
        let result = with_quick_traps(|| {
            runner.run(&elements, |element| {
                let outcomes = self
                    .feed(std::slice::from_ref(&element))
                    .map_err(TestCaseError::fail)?;
                match outcomes.first() {
                    Some(outcome) => property(&element, outcome).map_err(TestCaseError::fail),
                    None => Err(TestCaseError::fail("the element got no answer")),
                }
            })
        });
        self.finish(result.map_err(|err| match err {
            TestError::Abort(reason) => TestError::Abort(reason),
            TestError::Fail(reason, element) => TestError::Fail(reason, vec![element]),
        }))
    }

    /// Check `property` for sequences from `sequences` (see [`sequence`]),
    /// all fed to one instance: `Err` with the minimal failing sequence.
    #[track_caller]
    pub fn check_sequence<S>(
        &self,
        sequences: S,
        property: impl Fn(&[TestElement], &[Outcome]) -> Verdict,
    ) -> Result<(), PropFailure>
    where
        S: Strategy<Value = Vec<TestElement>>,
    {
        let source_file = std::panic::Location::caller().file();
        let mut runner = self.settings.runner(source_file);
        let result = with_quick_traps(|| {
            runner.run(&sequences, |elements| {
                let outcomes = self.feed(&elements).map_err(TestCaseError::fail)?;
                property(&elements, &outcomes).map_err(TestCaseError::fail)
            })
        });
        self.finish(result)
    }

    /// [`check`](Self::check), panicking with the failure (for `#[test]`s).
    #[track_caller]
    pub fn assert<S>(&self, elements: S, property: impl Fn(&TestElement, &Outcome) -> Verdict)
    where
        S: Strategy<Value = TestElement>,
    {
        if let Err(failure) = self.check(elements, property) {
            panic!("{failure}");
        }
    }

    /// [`check_sequence`](Self::check_sequence), panicking with the failure.
    #[track_caller]
    pub fn assert_sequence<S>(
        &self,
        sequences: S,
        property: impl Fn(&[TestElement], &[Outcome]) -> Verdict,
    ) where
        S: Strategy<Value = Vec<TestElement>>,
    {
        if let Err(failure) = self.check_sequence(sequences, property) {
            panic!("{failure}");
        }
    }

    fn finish(&self, result: Result<(), TestError<Vec<TestElement>>>) -> Result<(), PropFailure> {
        match result {
            Ok(()) => Ok(()),
            Err(TestError::Abort(reason)) => Err(PropFailure {
                input: Vec::new(),
                reason: format!("proptest gave up: {reason}"),
                regression: String::new(),
            }),
            Err(TestError::Fail(reason, input)) => {
                let regression = self.regression(&input);
                // The cases ran without source-level backtraces (fast traps);
                // run the minimal input once more with them, for the report.
                let reason = match self.feed(&input) {
                    Err(detailed) => detailed,
                    Ok(_) => reason.message().to_string(),
                };
                Err(PropFailure {
                    input,
                    reason,
                    regression,
                })
            }
        }
    }

    /// Run one case: a fresh instance, every element, the end-of-stream call
    /// and teardown, with the built-in properties checked.
    fn feed(&self, elements: &[TestElement]) -> Result<Vec<Outcome>, String> {
        let role = self.component.role();
        if role == Role::Source {
            return Err(format!(
                "component `{}` is a source, which takes no input elements; property-test \
                 it in a pipeline (`prop::PipelineProp`)",
                self.component.name()
            ));
        }
        let mut instance = self
            .component
            .options()
            .config(self.config.clone())
            .limits(self.limits.clone())
            .instantiate()
            .map_err(|err| err.to_string())?;
        let mut outcomes = Vec::with_capacity(elements.len());
        for element in elements {
            if instance.is_terminated() {
                // After an allowed `fatal` the component gets no more elements;
                // the host fails them, which accounts for them.
                outcomes.push(Outcome::Failed(ProcessError::Fatal(
                    "not delivered: the component returned fatal earlier".into(),
                )));
                continue;
            }
            let answer = call(&mut instance, role, element.clone());
            outcomes.push(self.judge(answer)?);
        }
        if !instance.is_terminated() {
            let end = match role {
                Role::Aggregator => instance.flush().map(drop),
                Role::Sink => instance.complete(),
                _ => Ok(()),
            };
            if let Err(err) = end {
                self.judge_error(&err)?;
            }
        }
        if let Err(err) = instance.teardown() {
            self.judge_error(&err)?;
        }
        if outcomes.len() != elements.len() {
            return Err(format!(
                "{} elements went in but {} were answered",
                elements.len(),
                outcomes.len()
            ));
        }
        Ok(outcomes)
    }

    fn judge(&self, answer: Result<Outcome, Error>) -> Result<Outcome, String> {
        let err = match answer {
            Ok(outcome) => return Ok(outcome),
            Err(err) => err,
        };
        self.judge_error(&err)?;
        match err.process_error() {
            Some(error) => Ok(Outcome::Failed(error.clone())),
            None => Err(err.to_string()),
        }
    }

    fn judge_error(&self, err: &Error) -> Result<(), String> {
        match err.kind() {
            ErrorKind::Process { error, .. } if !error.is_fatal() || self.allow_fatal => Ok(()),
            ErrorKind::Process { .. } => Err(format!(
                "{err}\n(a component must not return `fatal` for an element it was given; \
                 if it may, say so with `PropTest::allow_fatal(true)`)"
            )),
            _ => Err(err.to_string()),
        }
    }

    fn regression(&self, input: &[TestElement]) -> String {
        let role = self.component.role();
        let mut code = String::new();
        code.push_str("#[test]\nfn regression() {\n");
        code.push_str("    use torvyn_testkit::{Component, TestElement};\n");
        code.push_str(
            "    let component = Component::build(env!(\"CARGO_MANIFEST_DIR\")).unwrap();\n",
        );
        let _ = writeln!(
            code,
            "    let mut instance = component.instantiate({}).unwrap();",
            raw_string(&self.config)
        );
        let method = match role {
            Role::Filter => "evaluate",
            Role::Processor => "process",
            Role::Router => "route",
            Role::Aggregator => "ingest",
            Role::Sink => "push",
            Role::Source => "pull",
        };
        for element in input {
            let _ = writeln!(
                code,
                "    instance.{method}({}).unwrap();",
                element.to_code()
            );
        }
        match role {
            Role::Aggregator => code.push_str("    instance.flush().unwrap();\n"),
            Role::Sink => code.push_str("    instance.complete().unwrap();\n"),
            _ => {}
        }
        code.push_str("}\n");
        code
    }
}

fn call(instance: &mut Instance, role: Role, element: TestElement) -> Result<Outcome, Error> {
    Ok(match role {
        Role::Filter => Outcome::Evaluated(instance.evaluate(element)?),
        Role::Processor => Outcome::Processed(instance.process(element)?),
        Role::Router => Outcome::Routed(instance.route(element)?),
        Role::Aggregator => Outcome::Ingested(instance.ingest(element)?),
        Role::Sink => Outcome::Pushed(instance.push(element)?),
        Role::Source => Outcome::Evaluated(false),
    })
}

type BuildPipeline = Arc<dyn Fn(Vec<TestElement>) -> Pipeline>;

/// A property test of a pipeline fed a generated input stream.
///
/// `build` makes the pipeline from the stream (typically
/// `Pipeline::from_manifest(..).replace("source", NodeSpec::source(input))` or
/// a builder with `.source("input", input)`). Each case runs it; the run must
/// not fail (a trap, a limit, `fatal`, or any error under the `fail-flow`
/// policy) and must account for every element; then the author's property is
/// checked on the [`RunResult`]. A failure shrinks the stream.
#[derive(Clone)]
pub struct PipelineProp {
    build: BuildPipeline,
    settings: Settings,
}

impl fmt::Debug for PipelineProp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipelineProp")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl PipelineProp {
    /// A property test of the pipeline `build` makes from each input stream.
    pub fn new(build: impl Fn(Vec<TestElement>) -> Pipeline + 'static) -> Self {
        PipelineProp {
            build: Arc::new(build),
            settings: Settings::new(),
        }
    }

    /// How many generated streams to run.
    pub fn cases(mut self, cases: u32) -> Self {
        self.settings.cases = Some(cases);
        self
    }

    /// Generate from a fixed seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.settings.seed = Some(seed);
        self
    }

    /// Do not persist failing cases (nor replay persisted ones).
    pub fn no_persistence(mut self) -> Self {
        self.settings.persist = false;
        self
    }

    /// Persist failing cases in this file.
    pub fn regressions_file(mut self, path: &'static str) -> Self {
        self.settings.regressions_file = Some(path);
        self
    }

    /// Check `property` on the run of every generated input stream.
    #[track_caller]
    pub fn check<S>(
        &self,
        streams: S,
        property: impl Fn(&[TestElement], &RunResult) -> Verdict,
    ) -> Result<(), PropFailure>
    where
        S: Strategy<Value = Vec<TestElement>>,
    {
        let source_file = std::panic::Location::caller().file();
        let mut runner = self.settings.runner(source_file);
        let result = with_quick_traps(|| {
            runner.run(&streams, |input| {
                let run = (self.build)(input.clone())
                    .run()
                    .map_err(|err| TestCaseError::fail(err.to_string()))?;
                let unaccounted = run.unaccounted();
                if !unaccounted.is_empty() {
                    return Err(TestCaseError::fail(format!(
                        "elements {unaccounted:?} were neither delivered, dropped, failed nor \
                     dead-lettered:\n{}",
                        run.trace
                    )));
                }
                property(&input, &run).map_err(TestCaseError::fail)
            })
        });
        match result {
            Ok(()) => Ok(()),
            Err(TestError::Abort(reason)) => Err(PropFailure {
                input: Vec::new(),
                reason: format!("proptest gave up: {reason}"),
                regression: String::new(),
            }),
            Err(TestError::Fail(reason, input)) => {
                let mut regression = String::from(
                    "// the input stream; feed it to the pipeline the property builds\n\
                     let input = vec![\n",
                );
                for element in &input {
                    let _ = writeln!(regression, "    {},", element.to_code());
                }
                regression.push_str("];\n");
                // Once more with source-level backtraces, for the report.
                let reason = match (self.build)(input.clone()).run() {
                    Err(err) => err.to_string(),
                    Ok(_) => reason.message().to_string(),
                };
                Err(PropFailure {
                    input,
                    reason,
                    regression,
                })
            }
        }
    }

    /// [`check`](Self::check), panicking with the failure.
    #[track_caller]
    pub fn assert<S>(&self, streams: S, property: impl Fn(&[TestElement], &RunResult) -> Verdict)
    where
        S: Strategy<Value = Vec<TestElement>>,
    {
        if let Err(failure) = self.check(streams, property) {
            panic!("{failure}");
        }
    }
}

// ------------------------------------------------------------ element as code

impl TestElement {
    /// The element as Rust code that builds it (`TestElement::text("hi")`,
    /// `TestElement::json(serde_json::json!({"n":1})).sequence(3)`, ...), for
    /// regression tests.
    ///
    /// ```
    /// use torvyn_testkit::TestElement;
    ///
    /// let element = TestElement::text("a#b").sequence(2);
    /// assert_eq!(element.to_code(), r#"TestElement::text("a#b").sequence(2)"#);
    /// ```
    pub fn to_code(&self) -> String {
        let bytes = self.payload.as_bytes();
        let (mut code, default_type) = match self.content_type.as_str() {
            "application/json" => match serde_json::from_slice::<serde_json::Value>(bytes) {
                Ok(value) if value.to_string().as_bytes() == bytes => {
                    let text = value.to_string();
                    let code =
                        if text.contains("\\u") || text.contains("\\b") || text.contains("\\f") {
                            format!(
                                "TestElement::json(serde_json::from_str({}).unwrap())",
                                raw_string(&text)
                            )
                        } else {
                            format!("TestElement::json(serde_json::json!({text}))")
                        };
                    (code, "application/json")
                }
                _ => bytes_code(bytes),
            },
            _ => match std::str::from_utf8(bytes) {
                Ok(text) if self.content_type.starts_with("text/") => (
                    format!("TestElement::text({text:?})"),
                    "text/plain; charset=utf-8",
                ),
                _ => bytes_code(bytes),
            },
        };
        if self.content_type != default_type {
            let _ = write!(code, ".content_type({:?})", self.content_type);
        }
        if self.sequence != 0 {
            let _ = write!(code, ".sequence({})", self.sequence);
        }
        if self.timestamp_ns != 0 {
            let _ = write!(code, ".timestamp_ns({})", self.timestamp_ns);
        }
        if !self.trace_id.is_empty() {
            let _ = write!(code, ".trace_id({:?})", self.trace_id);
        }
        if !self.span_id.is_empty() {
            let _ = write!(code, ".span_id({:?})", self.span_id);
        }
        if self.deadline_ns != 0 {
            let _ = write!(
                code,
                ".deadline(std::time::Duration::from_nanos({}))",
                self.deadline_ns
            );
        }
        code
    }
}

fn bytes_code(bytes: &[u8]) -> (String, &'static str) {
    (
        format!("TestElement::bytes(b\"{}\")", bytes.escape_ascii()),
        "application/octet-stream",
    )
}

/// `text` as a raw string literal with enough `#`s.
fn raw_string(text: &str) -> String {
    let mut hashes = 0;
    while text.contains(&format!("\"{}", "#".repeat(hashes))) {
        hashes += 1;
    }
    let hashes = "#".repeat(hashes);
    format!("r{hashes}\"{text}\"{hashes}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_print_as_code_that_builds_them() {
        assert_eq!(
            TestElement::json(serde_json::json!({"a": [1, "x\n"]})).to_code(),
            r#"TestElement::json(serde_json::json!({"a":[1,"x\n"]}))"#
        );
        assert_eq!(
            TestElement::bytes(vec![0, b'#', 255]).to_code(),
            r#"TestElement::bytes(b"\x00#\xff")"#
        );
        assert_eq!(
            TestElement::text("q\"")
                .content_type("text/csv")
                .timestamp_ns(5)
                .to_code(),
            r#"TestElement::text("q\"").content_type("text/csv").timestamp_ns(5)"#
        );
        assert_eq!(
            TestElement::json(serde_json::json!("\u{1}")).to_code(),
            r####"TestElement::json(serde_json::from_str(r#""\u0001""#).unwrap())"####
        );
    }

    #[test]
    fn raw_strings_get_enough_hashes() {
        assert_eq!(raw_string(r#"{"a":1}"#), r###"r#"{"a":1}"#"###);
        assert_eq!(raw_string("plain"), "r\"plain\"");
    }

    #[test]
    fn sequences_are_numbered_with_increasing_timestamps() {
        let mut runner = TestRunner::deterministic();
        for _ in 0..20 {
            let stream = sequence(text(0..4), 0..8)
                .new_tree(&mut runner)
                .unwrap()
                .current();
            for (index, element) in stream.iter().enumerate() {
                assert_eq!(element.sequence_number(), index as u64);
            }
            assert!(
                stream
                    .windows(2)
                    .all(|pair| pair[0].timestamp_ns_value() <= pair[1].timestamp_ns_value())
            );
        }
    }
}
