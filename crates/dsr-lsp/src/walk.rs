//! Walking the workspace folders and reporting how far a walk got: what the index build and the workspace
//! check (workspace scope) share.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dsr_core::Language;
use tower_lsp_server::ls_types::notification::Progress;
use tower_lsp_server::ls_types::{
    NumberOrString, ProgressParams, ProgressParamsValue, WorkDoneProgress,
};

use crate::state::State;

/// The directories a walk of the workspace prunes: those the intake of the configuration in force there skips
/// (vendored, excluded).
pub(crate) fn skip_dir(state: Arc<State>) -> impl Fn(&Path) -> bool + Send + Sync + 'static {
    move |dir: &Path| {
        let key = state
            .configs
            .key_for(Some(&dir.join("x")), &state.session().folders);
        let engine = state.engine_for(&key);
        crate::state::intake(&engine, &key).skip_dir(dir).is_some()
    }
}

/// Files of the workspace folders that we check: `.gitignore`d and hidden files left out, and the directories
/// `skip_dir` names (the intake's: vendored or excluded) pruned; the intake judges each file later.
/// Symbolic links are neither followed into directories nor listed: the walk stays inside the folders.
pub(crate) fn workspace_files(
    folders: &[PathBuf],
    skip_dir: impl Fn(&Path) -> bool + Send + Sync + 'static,
) -> Vec<PathBuf> {
    let skip_dir = Arc::new(skip_dir);
    let mut files = Vec::new();
    for folder in folders {
        let skip_dir = skip_dir.clone();
        let walker = ignore::WalkBuilder::new(folder)
            // .gitignore applies even outside a git checkout.
            .require_git(false)
            .follow_links(false)
            .filter_entry(move |entry| {
                entry.depth() == 0
                    || !entry.file_type().is_some_and(|t| t.is_dir())
                    || !skip_dir(entry.path())
            })
            .build();
        for entry in walker {
            match entry {
                Ok(entry) => {
                    let path = entry.path();
                    // `is_file` of an unfollowed entry is false for a symbolic link, wherever it points.
                    if entry.file_type().is_some_and(|t| t.is_file())
                        && Language::from_path(path).is_some()
                    {
                        files.push(path.to_path_buf());
                    }
                }
                Err(err) => tracing::warn!("workspace walk: {err}"),
            }
        }
    }
    files.sort();
    files.dedup();
    files
}

/// Reports work-done progress under `token`, when the client gave one.
pub(crate) async fn progress(
    state: &State,
    token: &Option<NumberOrString>,
    value: WorkDoneProgress,
) {
    if let Some(token) = token {
        state
            .client
            .send_notification::<Progress>(ProgressParams {
                token: token.clone(),
                value: ProgressParamsValue::WorkDone(value),
            })
            .await;
    }
}

/// How far `done` of `total` is, in percent (100 for an empty walk).
pub(crate) fn percent(done: usize, total: usize) -> u32 {
    (done * 100)
        .checked_div(total)
        .map_or(100, |p| u32::try_from(p).unwrap_or(100))
}
