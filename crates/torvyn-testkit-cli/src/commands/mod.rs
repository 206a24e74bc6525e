//! The verbs, one module each (cargo's `commands/`): its arguments (a clap
//! `Args` struct, using the shared ones of `command_prelude.rs`) and its
//! `exec(args, &GlobalOpts)`, which gets the global options (`--format`,
//! `-q`, `-v`, `--color`). A new verb is a module here and one line in
//! `verbs!` below.

use clap::Subcommand;

use crate::cli::GlobalOpts;

mod bench;
mod check;
mod completions;
mod init;
mod inspect;
mod pack;
mod publish;
mod run;
mod test;
mod trace;

/// Makes, from the table of verbs, the `Command` enum (a variant's doc is the
/// verb's help) and its dispatch to each module's `exec`.
macro_rules! verbs {
    ($( $(#[$doc:meta])* $verb:ident($module:ident::$args:ident), )*) => {
        #[derive(Subcommand)]
        pub(crate) enum Command {
            $( $(#[$doc])* $verb($module::$args), )*
        }

        impl Command {
            /// Run the verb with the global options.
            pub(crate) fn exec(self, global: &GlobalOpts) -> Result<(), String> {
                match self {
                    $( Command::$verb(args) => $module::exec(args, global), )*
                }
            }
        }
    };
}

verbs! {
    /// Execute a flow and print per-node counts.
    Run(run::RunArgs),
    /// Execute a flow and print what happened to every element.
    Trace(trace::TraceArgs),
    /// Execute a flow repeatedly and print throughput and latency.
    Bench(bench::BenchArgs),
    /// Validate the manifest, type-check every node's component against the
    /// contract and its declared interface, and call each node's `init` with
    /// its config, without pulling elements (exit code 1 on any problem).
    Check(check::CheckArgs),
    /// Run one component (a crate directory or a `.wasm`) on elements given on
    /// the command line, without a manifest, and print what it did with each.
    Test(test::TestArgs),
    /// Print a component's role, imports and exports, and type-check them
    /// against the Torvyn 0.1 contract (exit code 1 on any mismatch).
    Inspect(inspect::InspectArgs),
    /// Create a new project from this toolkit's templates (embedded in the
    /// binary): a component of one role, or a pipeline project.
    Init(init::InitArgs),
    /// Print a shell completion script for this command line to stdout.
    Completions(completions::CompletionsArgs),
    /// Not part of this toolkit: use upstream's `torvyn pack` (OCI artifacts).
    Pack(pack::PackArgs),
    /// Not part of this toolkit: use upstream's `torvyn publish` (OCI registries).
    Publish(publish::PublishArgs),
}
