//! The subcommands, one module each. Adding one is a module with an `Args` struct implementing [`Run`] and one
//! line in the [`subcommands!`] list below (e.g. `Lsp(lsp::LspArgs)`).

mod check;
mod explain;
mod init;
mod lsp;
mod rules;

use crate::ExitStatus;

/// What every subcommand's arguments do.
pub trait Run {
    fn run(self) -> anyhow::Result<ExitStatus>;
}

/// A boxed subcommand's arguments (a large one, so that `Command` stays small) run as themselves.
impl<T: Run> Run for Box<T> {
    fn run(self) -> anyhow::Result<ExitStatus> {
        (*self).run()
    }
}

/// Declares the clap subcommand enum and its dispatch from one list, so a new subcommand is one line here.
macro_rules! subcommands {
    ($($(#[$attr:meta])* $variant:ident($args:ty),)*) => {
        #[derive(Debug, clap::Subcommand)]
        pub enum Command {
            $($(#[$attr])* $variant($args),)*
        }

        impl Command {
            pub fn run(self) -> anyhow::Result<ExitStatus> {
                match self {
                    $(Command::$variant(args) => Run::run(args),)*
                }
            }
        }
    };
}

subcommands! {
    /// Check files and directories for distributed-systems defects.
    Check(Box<check::CheckArgs>),
    /// List the rules: code, name, family, default severity, languages, summary.
    Rules(rules::RulesArgs),
    /// Print a rule's documentation page (by code or name).
    Explain(explain::ExplainArgs),
    /// Write a commented distsys-review.toml for the repository: languages, SQL dialect, components and
    /// stores found, TODOs for invariants and SLOs.
    Init(init::InitArgs),
    /// Serve the Language Server Protocol on stdin/stdout (logs to stderr or --log-file).
    Lsp(lsp::LspArgs),
}
