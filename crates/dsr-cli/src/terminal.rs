//! Terminal concerns: whether to colour, and the one format of warnings on stderr.

use std::io::IsTerminal;

/// `--color`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether output to stdout should carry ANSI colours. `to_file`: output goes to `--output FILE`.
    pub fn use_color(self, to_file: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                // https://no-color.org: set and not empty disables colour.
                let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
                let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
                !to_file && !no_color && !dumb && std::io::stdout().is_terminal()
            }
        }
    }
}

/// A warning on stderr: something was skipped or went wrong, and the run goes on.
pub fn warn(message: impl std::fmt::Display) {
    eprintln!("warning: {message}");
}
