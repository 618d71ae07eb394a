//! `distsys-review lsp`: serves the Language Server Protocol on stdin/stdout. Logs go to stderr or `--log-file`,
//! never to stdout, which carries the protocol.

use std::path::PathBuf;

use anyhow::Context;
use tracing_subscriber::EnvFilter;

use super::Run;
use crate::ExitStatus;

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

impl Run for LspArgs {
    /// 0 after `shutdown` then `exit`, 1 when the client exits without `shutdown` (as the LSP specification says).
    fn run(self) -> anyhow::Result<ExitStatus> {
        serve(self)
    }
}

fn serve(args: LspArgs) -> anyhow::Result<ExitStatus> {
    let filter =
        EnvFilter::try_from_env("DISTSYS_REVIEW_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false);
    match &args.log_file {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open the log file {}", path.display()))?;
            // `try_init`: `DSR_LOG` may already have set up stderr logging in main.
            let _ = builder.with_writer(std::sync::Mutex::new(file)).try_init();
        }
        None => {
            let _ = builder.with_writer(std::io::stderr).try_init();
        }
    }
    let code = dsr_lsp::run_stdio(dsr_lsp::LspOptions {
        config: args.config,
        registry: None,
    })?;
    Ok(if code == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
