//! The `distsys-review` command line: `check` a tree, list the `rules`, `explain` one. Every subcommand is one
//! module under `commands/`; the renderers of `check` are one module per format under `report/`.
//!
//! Exit codes: 0 nothing at or above the `--fail-on` threshold, 1 findings at or above it, 2 a usage or
//! configuration error (clap uses 2 for usage errors too).

mod baseline;
mod cache;
mod changed_lines;
mod commands;
mod report;
mod scan;
mod schedule;
mod survey;
mod terminal;

use std::process::ExitCode;

use clap::Parser;

/// Find distributed-systems defects (missing timeouts, retries without backoff, unbounded queues, unsafe
/// migrations, ...) in Go, Rust, TypeScript/JavaScript and SQL.
#[derive(Debug, Parser)]
#[command(name = "distsys-review", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: commands::Command,
}

/// How a run ended; the process exit code.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Nothing at or above the threshold.
    Success,
    /// Findings at or above the threshold.
    Failure,
    /// A usage or configuration error.
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(match status {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Error => 2,
        })
    }
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    match cli.command.run() {
        Ok(status) => status.into(),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitStatus::Error.into()
        }
    }
}

/// Logs go to stderr and are off unless `DSR_LOG` asks for them (`DSR_LOG=debug`): what a user needs to know
/// (skipped files, rule failures) is printed as warnings by the commands themselves.
fn init_logging() {
    let Ok(filter) = std::env::var("DSR_LOG") else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
