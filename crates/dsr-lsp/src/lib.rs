//! The distsys-review language server: live findings while typing.
//!
//! Shape (STYLE.md §9): a session (negotiated encoding, client capabilities, settings), a document index
//! (uri → text, tree, version, latest analysis with its diagnostics and fixes), and a scheduler (mutations applied
//! in order, analysis on snapshots in the blocking pool, stale results dropped). Only this crate knows LSP:
//! findings become diagnostics, hovers and code actions in [`convert`], [`hover`] and [`code_actions`].
//!
//! Entry points: [`run_stdio`] for the binary, [`serve`] for any pair of streams (tests).

mod code_actions;
mod configs;
mod convert;
mod hover;
mod index;
mod index_slot;
mod pools;
mod queue;
mod server;
pub mod settings;
mod state;
mod stdout;
mod sync;
mod timeline;
mod transport;
mod walk;
mod workspace;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tower_lsp_server::{LspService, Server as LspServer};

pub use server::{DocumentState, DOCUMENT_STATE_METHOD, EXPLAIN_COMMAND};

/// How the server is run.
#[derive(Clone, Default)]
pub struct LspOptions {
    /// A configuration file to use for every document instead of discovering `distsys-review.toml`.
    pub config: Option<PathBuf>,
    /// The rules to run instead of the catalog's (tests: a rule that panics).
    pub registry: Option<&'static [dsr_semantic::RegisteredRule]>,
}

impl std::fmt::Debug for LspOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LspOptions")
            .field("config", &self.config)
            .field("registry", &self.registry.map(<[_]>::len))
            .finish()
    }
}

/// How often the client's process is checked for being alive (LSP `processId`).
const CLIENT_WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// Serves LSP on stdin/stdout until `exit` or the end of input, and returns the process exit code: 0 after a
/// `shutdown` request, 1 otherwise (the LSP specification's rule for `exit`).
pub fn run_stdio(options: LspOptions) -> anyhow::Result<i32> {
    timeline::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("dsr-lsp")
        .on_thread_start(pools::message_path_thread)
        .build()?;
    let code = runtime.block_on(serve(tokio::io::stdin(), stdout::output(), options));
    // Blocking tasks (a stdin read, a long analysis) would hold up a graceful runtime shutdown.
    runtime.shutdown_timeout(Duration::from_millis(100));
    Ok(code)
}

/// Serves LSP over the given streams; returns the exit code as [`run_stdio`] does.
pub async fn serve<I, O>(input: I, output: O, options: LspOptions) -> i32
where
    I: AsyncRead + Unpin + Send + 'static,
    O: AsyncWrite + Unpin + Send + 'static,
{
    let mut state_slot = None;
    let backlog = Arc::new(transport::Backlog::default());
    let (service, socket) = LspService::build(|client| {
        let configs = configs::ConfigStore::with_registry(
            options.config,
            options.registry.unwrap_or_else(dsr_rules::registry),
        );
        let state =
            Arc::new_cyclic(|me| state::State::new(client, configs, backlog.clone(), me.clone()));
        state_slot = Some(state.clone());
        server::Server::new(state)
    })
    .custom_method(DOCUMENT_STATE_METHOD, server::Server::document_state)
    .finish();
    let Some(state) = state_slot else {
        unreachable!("LspService::build calls the constructor")
    };
    // Frames from the client go through the guard in `transport`; the server's replies, the guard's error
    // answers and the publisher's diagnostics share one writer.
    let (frames_tx, frames_rx) = mpsc::channel(256);
    tokio::spawn(state.clone().run_publisher(frames_tx.clone()));
    tokio::spawn(workspace::run_jobs(state.clone()));

    let (to_server, server_input) = tokio::io::duplex(1 << 20);
    let (server_output, from_server) = tokio::io::duplex(1 << 20);
    let writer = tokio::spawn(transport::write_frames(output, frames_rx));
    let input_pump = tokio::spawn(transport::pump_input(
        input,
        to_server,
        frames_tx.clone(),
        backlog,
    ));
    let output_pump = tokio::spawn(transport::pump_output(from_server, frames_tx));

    LspServer::new(server_input, server_output, socket)
        .serve(service)
        .await;

    input_pump.abort();
    state.close_queues();
    let _ = output_pump.await;
    // Flush what the server said last (the `shutdown` response) before the process ends.
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    let code = if state.shutdown_requested.load(Ordering::SeqCst) {
        0
    } else {
        1
    };
    tracing::info!("exiting with code {code}");
    code
}

/// Exits when the client's process is gone (LSP `processId`), so an editor that crashes leaves no server behind.
fn watch_client_process(pid: u32) {
    if !process_alive(pid) {
        // A client in another PID namespace (a container) passes an id we cannot see: watching it would kill us.
        tracing::warn!("the client's process {pid} is not visible from here; not watching it");
        return;
    }
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(CLIENT_WATCH_INTERVAL).await;
            if !process_alive(pid) {
                tracing::error!("the client process {pid} is gone; exiting");
                std::process::exit(1);
            }
        }
    });
}

#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    // Signal 0 checks for existence; EPERM means it exists but belongs to someone else.
    // SAFETY: kill with signal 0 sends nothing; it only reports whether the process exists.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    true
}
