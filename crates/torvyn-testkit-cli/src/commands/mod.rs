//! The verbs, one module each (cargo's `commands/`): its arguments (a clap
//! `Args` struct, using the shared ones of `command_prelude.rs`) and its
//! `exec(args, &GlobalOpts)`, which gets the global options (`--format`,
//! `-q`, `-v`, `--color`). A new verb is a module here and one line in
//! `verbs!` below.

use clap::Subcommand;

use crate::cli::GlobalOpts;

mod bench;
pub(crate) mod check;
mod completions;
mod doctor;
mod init;
mod inspect;
mod link;
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
    /// Check that every flow's components fit together without running them:
    /// for each edge, that the producer outputs what the consumer takes (roles,
    /// contract interfaces and versions; the WIT functions with `--detail`),
    /// and that each node's imports are satisfied by the host (exit code 1
    /// naming each incompatible edge or node).
    Link(link::LinkArgs),
    /// Print a component's role, imports and exports, and type-check them
    /// against the Torvyn 0.1 contract (exit code 1 on any mismatch); its
    /// size, capabilities and metadata too (`--show` picks one section).
    Inspect(inspect::InspectArgs),
    /// Check what building and testing components needs on this machine
    /// (rustc against the MSRV, the wasm32-wasip2 target or the build-std
    /// fallback, wasm-component-ld, cargo-generate, disk space, the CLI's
    /// version against the project's torvyn-testkit) and say how to fix each
    /// (exit code 1 when something required is missing).
    Doctor(doctor::DoctorArgs),
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
