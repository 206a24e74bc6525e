//! `pack` (and, in `publish.rs`, `publish`): upstream `torvyn`'s OCI
//! packaging and registry verbs, which this toolkit leaves out. They are
//! listed so that a Torvyn user typing them learns what to use instead, and
//! exit with 1.

use clap::Args;

use crate::cli::GlobalOpts;

// Whatever upstream's options were given (they are not read).
#[derive(Args)]
pub(crate) struct PackArgs {
    #[arg(hide = true, trailing_var_arg = true, allow_hyphen_values = true)]
    _upstream_args: Vec<String>,
}

/// The message of a verb this toolkit leaves out.
pub(super) fn not_here(verb: &str, what: &str) -> String {
    format!(
        "`{verb}` is not part of this toolkit: {what} is done by upstream Torvyn's command line; \
         use `torvyn {verb}` (cargo install torvyn-cli); this toolkit builds, runs and tests \
         components and flows"
    )
}

/// `pack`: always an error naming upstream's `torvyn pack`.
pub(crate) fn exec(_args: PackArgs, _global: &GlobalOpts) -> Result<(), String> {
    Err(not_here("pack", "packaging components as OCI artifacts"))
}
