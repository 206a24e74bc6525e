//! The proptest runner's settings shared by [`PropTest`](super::PropTest) and
//! [`PipelineProp`](super::PipelineProp): cases, seed, failure persistence and
//! shrinking.

use proptest::test_runner::{Config, FileFailurePersistence, RngSeed, TestRunner};

use super::DEFAULT_CASES;

/// Shrinking steps allowed at least, however few the cases.
const MIN_SHRINK_ITERS: u32 = 1024;

#[derive(Clone, Debug)]
pub(super) struct Settings {
    pub(super) cases: Option<u32>,
    pub(super) seed: Option<u64>,
    pub(super) persist: bool,
    pub(super) regressions_file: Option<&'static str>,
}

impl Settings {
    pub(super) fn new() -> Self {
        Settings {
            cases: None,
            seed: None,
            persist: true,
            regressions_file: None,
        }
    }

    pub(super) fn runner(&self, source_file: &'static str) -> TestRunner {
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
            // Beside the test file: `tests/prop.rs` gets
            // `tests/prop.proptest-regressions`. (proptest's default,
            // `SourceParallel`, looks for a `lib.rs` or `main.rs` above the
            // test file, finds none above `tests/`, says so on stderr on every
            // run and then uses this same file.)
            (true, None) => Some(Box::new(FileFailurePersistence::WithSource(
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
