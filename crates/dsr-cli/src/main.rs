//! The `distsys-review` command line. Only `lsp` exists on this branch; the other subcommands join this enum.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod lsp;

#[derive(Debug, Parser)]
#[command(name = "distsys-review", version, about = "Finds distributed-systems defects in Go, Rust, TypeScript and SQL")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the Language Server Protocol on stdin/stdout.
    Lsp(lsp::LspArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Lsp(args) => lsp::run(args),
    };
    result.unwrap_or_else(|err| {
        eprintln!("distsys-review: {err:#}");
        ExitCode::from(2)
    })
}
