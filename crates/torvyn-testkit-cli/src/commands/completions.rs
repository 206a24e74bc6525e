//! `completions <shell>`: a completion script for this command line
//! (clap_complete), printed to stdout.

use clap::{Args, ValueEnum};
use clap_complete::Shell;

use crate::cli::GlobalOpts;
use crate::command_prelude::Format;

#[derive(Args)]
#[command(after_help = "Example: torvyn-testkit completions bash > \
                        ~/.local/share/bash-completion/completions/torvyn-testkit")]
pub(crate) struct CompletionsArgs {
    /// The shell to write the script for.
    #[arg(value_enum)]
    shell: ShellKind,
}

/// The shells clap_complete writes scripts for (upstream's four, and elvish).
#[derive(Clone, Copy, ValueEnum)]
enum ShellKind {
    Bash,
    Zsh,
    Fish,
    #[value(name = "powershell")]
    PowerShell,
    Elvish,
}

/// `completions`: the script on stdout; with `--format json`, an error (a
/// script is not JSON).
pub(crate) fn exec(args: CompletionsArgs, global: &GlobalOpts) -> Result<(), String> {
    if global.format == Format::Json {
        return Err(
            "`completions` prints a shell script, not JSON; drop `--format json`".to_string(),
        );
    }
    let shell = match args.shell {
        ShellKind::Bash => Shell::Bash,
        ShellKind::Zsh => Shell::Zsh,
        ShellKind::Fish => Shell::Fish,
        ShellKind::PowerShell => Shell::PowerShell,
        ShellKind::Elvish => Shell::Elvish,
    };
    let mut command = crate::cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "torvyn-testkit", &mut script);
    // `completions bash | head`: a reader that is gone is not an error.
    match std::io::Write::write_all(&mut std::io::stdout().lock(), &script) {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(format!("cannot write the script: {err}"))
        }
        _ => Ok(()),
    }
}
