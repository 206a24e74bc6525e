//! Ctrl+C during `run`, `trace` or `bench`: the first stops the flow the way
//! a limit does (its sources are not pulled again, the elements in flight run
//! to the end, every node is torn down, and the verb prints its usual
//! summary), and the process then exits with 130; a second Ctrl+C exits at
//! once.

use std::sync::OnceLock;

use torvyn_testkit::Interrupt;

/// The exit code after an interrupt: 128 + SIGINT, as a shell reports it.
pub(crate) const EXIT_CODE: u8 = 130;

static SWITCH: OnceLock<Interrupt> = OnceLock::new();

/// The process's interrupt switch, for `Pipeline::interrupt_with`; the first
/// call installs the Ctrl+C handler.
pub(crate) fn switch() -> Interrupt {
    SWITCH
        .get_or_init(|| {
            let interrupt = Interrupt::new();
            let handler = interrupt.clone();
            // ctrlc runs the handler on a thread of its own, not in the
            // signal's context: printing is fine there.
            let installed = ctrlc::set_handler(move || {
                if handler.is_interrupted() {
                    std::process::exit(EXIT_CODE.into());
                }
                handler.interrupt();
                eprintln!(
                    "\ntorvyn-testkit: interrupted: the sources are not pulled again; the \
                     elements in flight finish and every node is torn down (Ctrl+C again \
                     exits at once)"
                );
            });
            if let Err(err) = installed {
                eprintln!(
                    "torvyn-testkit: warning: cannot handle Ctrl+C ({err}): it will end the \
                     run without a summary or teardown"
                );
            }
            interrupt
        })
        .clone()
}

/// Whether Ctrl+C stopped a run of this process.
pub(crate) fn requested() -> bool {
    SWITCH.get().is_some_and(Interrupt::is_interrupted)
}
