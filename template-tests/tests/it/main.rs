//! The templates' tests: one test binary, one module per area. Run one area
//! with `cargo test -p template-tests --test it templates::`.

use std::sync::{Mutex, MutexGuard};

mod add_component;
mod failures;
mod prompts;
mod templates;

/// Held while a test runs cargo in generated projects: they share one target
/// directory (`template_tests::work_dir`), so their builds would wait for
/// each other's lock anyway; one at a time keeps each run's time and output
/// its own. (`add_component` and `templates` were two test binaries, run one
/// after the other; in one binary they would run at once.)
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
