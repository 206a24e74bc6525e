//! [`PropTest`]: a property test of one compiled component, element by
//! element, with the built-in properties.

use std::fmt::Write as _;

use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestError};

use super::settings::Settings;
use super::to_code::raw_string;
use super::{PropFailure, Verdict};
use crate::component::{Component, Instance, with_quick_traps};
use crate::element::{Answer, ProcessError, TestElement};
use crate::error::{Error, ErrorKind};
use crate::host::Limits;
use crate::role::Role;

/// A property test of one compiled component, element by element.
///
/// Each case instantiates the component afresh (with the config and limits),
/// feeds it the generated element or sequence with the call of its role
/// (`evaluate`, `process`, `route`, `ingest`, `push`; then `flush` or
/// `complete` and `teardown`), checks the built-in properties and then the
/// author's. A source takes no input: test it in a [`PipelineProp`](super::PipelineProp).
///
/// ```no_run
/// use std::time::Duration;
/// use torvyn_testkit::prop::{self, PropTest};
/// use torvyn_testkit::{Component, Limits};
///
/// let component = Component::build(env!("CARGO_MANIFEST_DIR")).unwrap();
/// let test = PropTest::new(&component)
///     .config(r#"{"max_bytes": 16}"#)                  // given to `init`, every case
///     .limits(Limits::default().call_timeout(Duration::from_millis(200)))
///     .cases(64)                                        // PROPTEST_CASES when not set
///     .seed(7);                                         // the same cases every run
/// // One element per case: panics with the shrunk input and a test to paste.
/// test.assert(prop::bytes(0..32), |element, outcome| {
///     let small = element.payload().len() <= 16;
///     prop::ensure(outcome.passed() == Some(small), "passes exactly the small ones")
/// });
/// // A stream per case, to one instance; `check_sequence` returns the failure.
/// let failure = test.check_sequence(prop::sequence(prop::text(0..8), 0..10), |input, outcomes| {
///     prop::ensure(outcomes.len() == input.len(), "one answer per element")
/// });
/// assert!(failure.is_ok());
/// ```
#[derive(Clone, Debug)]
pub struct PropTest {
    component: Component,
    config: String,
    limits: Limits,
    allow_fatal: bool,
    settings: Settings,
}

impl PropTest {
    /// A property test of `component` with an empty config, default
    /// [`Limits`], [`DEFAULT_CASES`](super::DEFAULT_CASES) cases and failures persisted next to the
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
    /// [`DEFAULT_CASES`](super::DEFAULT_CASES)).
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

    /// Persist failing cases in this file instead of the default, the test
    /// file's path with the extension `.proptest-regressions`
    /// (`tests/prop.proptest-regressions` for `tests/prop.rs`).
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
        property: impl Fn(&TestElement, &Answer) -> Verdict,
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

    /// Check `property` for sequences from `sequences` (see [`sequence`](super::sequence)),
    /// all fed to one instance: `Err` with the minimal failing sequence.
    #[track_caller]
    pub fn check_sequence<S>(
        &self,
        sequences: S,
        property: impl Fn(&[TestElement], &[Answer]) -> Verdict,
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
    pub fn assert<S>(&self, elements: S, property: impl Fn(&TestElement, &Answer) -> Verdict)
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
        property: impl Fn(&[TestElement], &[Answer]) -> Verdict,
    ) where
        S: Strategy<Value = Vec<TestElement>>,
    {
        if let Err(failure) = self.check_sequence(sequences, property) {
            panic!("{failure}");
        }
    }

    /// Run one case on `input` as [`check`](Self::check) and
    /// [`check_sequence`](Self::check_sequence) run each (a fresh instance,
    /// every element, the end-of-stream call and teardown) and give the
    /// component's answers, one per element; `Err` says which built-in
    /// property fails (a trap, a limit hit, `fatal`, an element not answered),
    /// with the component's error. The regression test a failure prints
    /// calls this.
    ///
    /// ```no_run
    /// use torvyn_testkit::Answer;
    /// use torvyn_testkit::prop::PropTest;
    /// use torvyn_testkit::{Component, TestElement};
    ///
    /// let filter = Component::build(env!("CARGO_MANIFEST_DIR")).unwrap();
    /// let test = PropTest::new(&filter).config(r#"{"max_bytes": 4}"#);
    /// let answers = test.run_case(&[TestElement::text("hello")]).unwrap();
    /// assert_eq!(answers, [Answer::Evaluated(false)]);
    /// ```
    pub fn run_case(&self, input: &[TestElement]) -> Result<Vec<Answer>, String> {
        self.feed(input)
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
                // The cases ran without source-level backtraces (fast traps);
                // run the minimal input once more with them, for the report.
                let (reason, answers) = match self.feed(&input) {
                    Err(detailed) => (detailed, None),
                    Ok(answers) => (reason.message().to_string(), Some(answers)),
                };
                let regression = self.regression(&input, answers.as_deref(), &reason);
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
    fn feed(&self, elements: &[TestElement]) -> Result<Vec<Answer>, String> {
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
                outcomes.push(Answer::Failed(ProcessError::Fatal(
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

    fn judge(&self, answer: Result<Answer, Error>) -> Result<Answer, String> {
        let err = match answer {
            Ok(outcome) => return Ok(outcome),
            Err(err) => err,
        };
        self.judge_error(&err)?;
        match err.process_error() {
            Some(error) => Ok(Answer::Failed(error.clone())),
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

    /// The minimal failing input as a `#[test]` that fails as long as the
    /// component does: it runs the case again ([`run_case`](Self::run_case),
    /// which fails on a trap, a limit hit or `fatal`) and, when the author's
    /// property failed on the component's answers, asserts that the answers
    /// are no longer those.
    fn regression(
        &self,
        input: &[TestElement],
        answers: Option<&[Answer]>,
        reason: &str,
    ) -> String {
        let mut code = String::new();
        code.push_str("#[test]\nfn regression() {\n");
        code.push_str("    use torvyn_testkit::prop::PropTest;\n");
        code.push_str("    use torvyn_testkit::{Component, TestElement};\n\n");
        code.push_str(
            "    let component = Component::build(env!(\"CARGO_MANIFEST_DIR\")).unwrap();\n",
        );
        let mut test = String::from("PropTest::new(&component)");
        if !self.config.is_empty() {
            let _ = write!(test, ".config({})", raw_string(&self.config));
        }
        if self.allow_fatal {
            test.push_str(".allow_fatal(true)");
        }
        let _ = writeln!(code, "    let test = {test};");
        if self.limits != Limits::default() {
            code.push_str("    // Give `test` the property test's `.limits(..)` too.\n");
        }
        code.push_str("    let input: Vec<TestElement> = vec![\n");
        for element in input {
            let _ = writeln!(code, "        {},", element.to_code());
        }
        code.push_str("    ];\n");
        code.push_str(
            "    // A fresh instance, each element, the end of the stream, teardown; this\n    \
             // fails on a trap, a limit hit or `fatal`, with the component's error.\n",
        );
        code.push_str(
            "    let answers = test.run_case(&input).unwrap_or_else(|err| panic!(\"{err}\"));\n",
        );
        if let Some(answers) = answers {
            let _ = writeln!(
                code,
                "    // The property failed on these answers: fix the component (or the\n    \
                 // property), then assert the answers it should give.\n    \
                 assert_ne!(\n        format!(\"{{answers:?}}\"),\n        {},\n        \
                 \"the property failed: {{}}\",\n        {:?}\n    );",
                raw_string(&format!("{answers:?}")),
                reason
            );
        }
        code.push_str("}\n");
        code
    }
}

fn call(instance: &mut Instance, role: Role, element: TestElement) -> Result<Answer, Error> {
    Ok(match role {
        Role::Filter => Answer::Evaluated(instance.evaluate(element)?),
        Role::Processor => Answer::Processed(instance.process(element)?),
        Role::Router => Answer::Routed(instance.route(element)?),
        Role::Aggregator => Answer::Ingested(instance.ingest(element)?),
        Role::Sink => Answer::Pushed(instance.push(element)?),
        Role::Source => Answer::Evaluated(false),
    })
}
