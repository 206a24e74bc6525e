//! What the areas share: where the fixtures and examples are, scratch
//! directories, and the lock that keeps the one test that loads every core
//! away from the tests that measure wall-clock time.

use std::path::{Path, PathBuf};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use torvyn_testkit::{Component, TestElement};

/// The testkit's fixture `name` (`tests/fixtures/<name>`, a crate or a file).
pub(crate) fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The fixture crate `name`, built and loaded.
pub(crate) fn fixture(name: &str) -> Component {
    Component::build(fixture_dir(name)).unwrap_or_else(|err| panic!("{err}"))
}

/// The example crate `name` (`examples/<name>` of the workspace).
pub(crate) fn example_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

/// The example crate `name`, built and loaded.
pub(crate) fn example(name: &str) -> Component {
    Component::build(example_dir(name)).unwrap_or_else(|err| panic!("{err}"))
}

/// `count` text elements: "0", "1", ...
pub(crate) fn numbers(count: u64) -> Vec<TestElement> {
    (0..count)
        .map(|n| TestElement::text(n.to_string()))
        .collect()
}

/// A directory `name` (created) in this test process's temporary directory.
/// Each area uses names of its own (`cost`, `graph-rules-<case>`, ...): all
/// areas share one process, so one name is one test's or one area's.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("torvyn-testkit-it-{}", std::process::id()))
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Tests that put bounds on wall-clock time and the test that keeps every
/// core busy on purpose (`cost::slow_allocation_...`) share one process:
/// the busy test holds this exclusively ([`busy_machine`]), the timed ones
/// share it ([`wall_clock`]), so they never overlap.
static MACHINE: RwLock<()> = RwLock::new(());

/// Held by a test that asserts how long something took (against wall-clock
/// time): no test keeps every core busy meanwhile.
pub(crate) fn wall_clock() -> RwLockReadGuard<'static, ()> {
    MACHINE
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Held by the test that keeps every core busy: no test that measures
/// wall-clock time runs meanwhile.
pub(crate) fn busy_machine() -> RwLockWriteGuard<'static, ()> {
    MACHINE
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
