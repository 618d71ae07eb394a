//! The workspace: the one background task that awaits the client (watcher registration, configuration pulls,
//! progress tokens), the walk that checks closed files with work-done progress, and file-watch events.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dsr_core::config::CONFIG_FILE_NAME;
use dsr_core::Language;
use tower_lsp_server::ls_types::{
    ConfigurationItem, DidChangeWatchedFilesRegistrationOptions, FileChangeType, FileEvent,
    FileSystemWatcher, GlobPattern, NumberOrString, Registration, Uri, WorkDoneProgress,
    WorkDoneProgressBegin, WorkDoneProgressEnd, WorkDoneProgressReport,
};

use crate::settings::{Scope, SECTION};
use crate::state::{Job, Publish, State};
use crate::walk::{percent, progress, skip_dir, workspace_files};

pub fn is_config_file(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|name| name == CONFIG_FILE_NAME)
}

/// The extensions of files we check, for the watcher's glob.
const EXTENSIONS: &str = "rs,go,ts,mts,cts,tsx,js,jsx,mjs,cjs,sql";

/// Runs the jobs that await the client, one at a time, so that no handler ever waits on the client and the
/// framework's handler slots cannot all block on responses (DESIGN §9).
pub async fn run_jobs(state: Arc<State>) {
    while let Some(job) = state.jobs.pop().await {
        match job {
            Job::RegisterWatchers => register_watchers(&state).await,
            Job::PullConfiguration => pull_configuration(&state).await,
            Job::BuildIndex => {
                let build = state.index_builds.fetch_add(1, Ordering::SeqCst) + 1;
                let token = progress_token(&state, "workspace-index", build).await;
                tokio::spawn(crate::index::build(state.clone(), token));
            }
            Job::IndexWorkspace => {
                let generation = state.index_generation.fetch_add(1, Ordering::SeqCst) + 1;
                let token = progress_token(&state, "index", generation).await;
                // The walk only sends notifications: it runs on its own so later jobs are not held up.
                tokio::spawn(index(state.clone(), generation, token));
            }
        }
    }
}

/// A work-done progress token `distsys-review/<name>/<n>`, if the client takes them.
async fn progress_token(state: &State, name: &str, n: u64) -> Option<NumberOrString> {
    if !state.session().caps.work_done_progress {
        return None;
    }
    let token = NumberOrString::String(format!("distsys-review/{name}/{n}"));
    match state.client.create_work_done_progress(token.clone()).await {
        Ok(()) => Some(token),
        Err(err) => {
            tracing::warn!("the client refused a progress token: {err}");
            None
        }
    }
}

async fn register_watchers(state: &State) {
    let watchers = vec![
        FileSystemWatcher {
            glob_pattern: GlobPattern::String(format!("**/{CONFIG_FILE_NAME}")),
            kind: None,
        },
        FileSystemWatcher {
            glob_pattern: GlobPattern::String(format!("**/*.{{{EXTENSIONS}}}")),
            kind: None,
        },
        FileSystemWatcher {
            glob_pattern: GlobPattern::String(format!(
                "**/{{{}}}",
                dsr_semantic::index::MANIFESTS.join(",")
            )),
            kind: None,
        },
    ];
    let registration = Registration {
        id: "distsys-review/watched-files".into(),
        method: "workspace/didChangeWatchedFiles".into(),
        register_options: serde_json::to_value(DidChangeWatchedFilesRegistrationOptions {
            watchers,
        })
        .ok(),
    };
    match state.client.register_capability(vec![registration]).await {
        Ok(()) => tracing::info!("file watchers registered"),
        Err(err) => tracing::warn!("file watchers not registered: {err}"),
    }
}

async fn pull_configuration(state: &Arc<State>) {
    let items = vec![ConfigurationItem {
        scope_uri: None,
        section: Some(SECTION.into()),
    }];
    match state.client.configuration(items).await {
        Ok(mut values) => {
            let value = values.pop().unwrap_or_default();
            state.apply_settings(&value);
        }
        Err(err) => tracing::warn!("workspace/configuration failed: {err}"),
    }
}

/// Checks every closed file of the workspace, publishing as it goes. Stops when a newer walk starts or the
/// scope goes back to open files.
async fn index(state: Arc<State>, generation: u64, token: Option<NumberOrString>) {
    let current = |state: &State| {
        state.index_generation.load(Ordering::SeqCst) == generation
            && state.settings().scope == Scope::Workspace
    };
    progress(
        &state,
        &token,
        WorkDoneProgress::Begin(WorkDoneProgressBegin {
            title: "distsys-review: checking the workspace".into(),
            cancellable: Some(false),
            message: Some("listing files".into()),
            percentage: Some(0),
        }),
    )
    .await;
    let folders = state.session().folders;
    let skip_dir = skip_dir(state.clone());
    let files = crate::pools::spawn_blocking(crate::pools::Work::Background, move || {
        workspace_files(&folders, skip_dir)
    })
    .await
    .unwrap_or_default();
    let total = files.len();
    let started = Instant::now();
    let mut last_report = Instant::now();
    let mut checked = 0usize;
    for (index, path) in files.into_iter().enumerate() {
        if !current(&state) {
            tracing::info!("workspace walk {generation} superseded");
            break;
        }
        if last_report.elapsed() > Duration::from_millis(100) {
            last_report = Instant::now();
            progress(
                &state,
                &token,
                WorkDoneProgress::Report(WorkDoneProgressReport {
                    cancellable: Some(false),
                    message: Some(format!("{index}/{total} files")),
                    percentage: Some(percent(index, total)),
                }),
            )
            .await;
        }
        let Some(uri) = Uri::from_file_path(&path) else {
            continue;
        };
        if state.documents.contains_key(&uri) {
            continue;
        }
        let state = state.clone();
        let _ = crate::pools::spawn_blocking(crate::pools::Work::Background, move || {
            state.check_closed_file(&uri, &path, false)
        })
        .await;
        checked += 1;
    }
    tracing::info!(
        "workspace walk {generation}: {checked} closed files checked in {:?}",
        started.elapsed()
    );
    progress(
        &state,
        &token,
        WorkDoneProgress::End(WorkDoneProgressEnd {
            message: Some(format!("{checked} files checked")),
        }),
    )
    .await;
}

/// Configuration files reload; a changed manifest (`go.mod`, `Cargo.toml`, `tsconfig.json`) moves the
/// index's names; closed source files are re-checked (workspace scope). Open documents are the editor's
/// business: their on-disk version does not matter.
pub fn watched_files_changed(state: &Arc<State>, changes: Vec<FileEvent>) {
    let mut config_changed = Vec::new();
    let mut manifest_changed = false;
    for change in changes {
        let Some(path) = crate::state::uri_to_path(&change.uri) else {
            continue;
        };
        if is_config_file(&path) {
            if !config_changed.contains(&path) {
                config_changed.push(path);
            }
            continue;
        }
        if dsr_semantic::index::is_manifest(&path) {
            manifest_changed = true;
            continue;
        }
        if state.documents.contains_key(&change.uri) {
            continue;
        }
        let Some(language) = Language::from_path(&path) else {
            continue;
        };
        // A closed file feeds the index whatever the scope: its callers may be open.
        {
            let state = state.clone();
            let path = path.clone();
            let deleted = change.typ == FileChangeType::DELETED;
            // On the edit pool: open callers wait for the index to take the change.
            crate::pools::spawn_blocking(crate::pools::Work::Edit, move || {
                if deleted {
                    state.unindex(&path);
                } else if let Ok(text) = std::fs::read_to_string(&path) {
                    state.reindex(&path, language, &text, None);
                }
            });
        }
        if state.settings().scope != Scope::Workspace {
            continue;
        }
        if change.typ == FileChangeType::DELETED {
            if state.workspace_published.remove(&change.uri).is_some() {
                state.publish(Publish::Clear(change.uri));
            }
        } else {
            let state = state.clone();
            let uri = change.uri;
            crate::pools::spawn_blocking(crate::pools::Work::Background, move || {
                state.check_closed_file(&uri, &path, false)
            });
        }
    }
    if manifest_changed {
        state.manifests_changed();
    }
    for path in config_changed {
        state.config_file_changed(&path);
    }
}
