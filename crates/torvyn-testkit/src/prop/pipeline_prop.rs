//! [`PipelineProp`]: a property test of a pipeline fed generated input streams.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestError};

use super::settings::Settings;
use super::{PropFailure, Verdict};
use crate::component::with_quick_traps;
use crate::element::TestElement;
use crate::pipeline::{Pipeline, RunResult};

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
