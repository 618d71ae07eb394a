//! `distsys-review lsp`: serves the Language Server Protocol on stdin/stdout. Logs go to stderr or `--log-file`,
//! never to stdout, which carries the protocol.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use tracing_subscriber::EnvFilter;

#[derive(Debug, clap::Args)]
pub struct LspArgs {
    /// Write logs to this file instead of stderr (level from `DISTSYS_REVIEW_LOG`, default `info`).
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// Use this configuration file for every document instead of discovering `distsys-review.toml`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Accepted for clients that pass it (vscode-languageclient); stdio is the only transport.
    #[arg(long, hide = true)]
    pub stdio: bool,
}

pub fn run(args: LspArgs) -> anyhow::Result<ExitCode> {
    let filter = EnvFilter::try_from_env("DISTSYS_REVIEW_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false);
    match &args.log_file {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open the log file {}", path.display()))?;
            builder.with_writer(std::sync::Mutex::new(file)).init();
        }
        None => builder.with_writer(std::io::stderr).init(),
    }
    let code = dsr_lsp::run_stdio(dsr_lsp::LspOptions { config: args.config })?;
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}
