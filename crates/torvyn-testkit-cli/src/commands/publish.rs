//! `publish`: upstream `torvyn`'s registry verb, which this toolkit leaves
//! out (see `pack.rs`).

use clap::Args;

use crate::cli::GlobalOpts;

// Whatever upstream's options were given (they are not read).
#[derive(Args)]
pub(crate) struct PublishArgs {
    #[arg(hide = true, trailing_var_arg = true, allow_hyphen_values = true)]
    _upstream_args: Vec<String>,
}

/// `publish`: always an error naming upstream's `torvyn publish`.
pub(crate) fn exec(_args: PublishArgs, _global: &GlobalOpts) -> Result<(), String> {
    Err(super::pack::not_here(
        "publish",
        "pushing artifacts to a registry",
    ))
}
