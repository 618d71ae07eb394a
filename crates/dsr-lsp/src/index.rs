//! The workspace index in the server: built in the background when the session starts (with work-done
//! progress), updated when an open document's edits pause and when a closed file changes on disk. When a
//! file's effects or declarations change, the open documents that call into it are analysed again, so that a
//! caller's diagnostics follow its callee's edits. The analysis itself is the engine's
//! ([`dsr_engine::index`]); this module only decides when.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dsr_core::Language;
use dsr_engine::IndexPass;
use dsr_semantic::index::FileSummary;
use tower_lsp_server::ls_types::{
    NumberOrString, WorkDoneProgress, WorkDoneProgressBegin, WorkDoneProgressEnd,
    WorkDoneProgressReport,
};

use crate::pools::Work;
use crate::state::{Doc, State};
use crate::sync::lock;

/// Builds the index of every file of the workspace folders, then analyses the open documents again with it.
pub async fn build(state: Arc<State>, token: Option<NumberOrString>) {
    crate::walk::progress(
        &state,
        &token,
        WorkDoneProgress::Begin(WorkDoneProgressBegin {
            title: "distsys-review: indexing the workspace".into(),
            cancellable: Some(false),
            message: Some("listing files".into()),
            percentage: Some(0),
        }),
    )
    .await;
    let done = Arc::new(AtomicUsize::new(0));
    let total = Arc::new(AtomicUsize::new(0));
    let task = {
        let state = state.clone();
        let done = done.clone();
        let total = total.clone();
        crate::pools::spawn_blocking(crate::pools::Work::Background, move || {
            build_blocking(&state, &done, &total)
        })
    };
    tokio::pin!(task);
    let indexed = loop {
        tokio::select! {
            result = &mut task => break result.unwrap_or_default(),
            () = tokio::time::sleep(Duration::from_millis(200)) => {
                let (done, total) = (done.load(Ordering::Relaxed), total.load(Ordering::Relaxed));
                crate::walk::progress(
                    &state,
                    &token,
                    WorkDoneProgress::Report(WorkDoneProgressReport {
                        cancellable: Some(false),
                        message: Some(format!("{done}/{total} files")),
                        percentage: Some(crate::walk::percent(done, total)),
                    }),
                )
                .await;
            }
        }
    };
    state.refresh(None);
    crate::walk::progress(
        &state,
        &token,
        WorkDoneProgress::End(WorkDoneProgressEnd {
            message: Some(format!("{indexed} files indexed")),
        }),
    )
    .await;
}

/// Returns how many files the index holds.
fn build_blocking(state: &Arc<State>, done: &AtomicUsize, total: &AtomicUsize) -> usize {
    let folders = state.session().folders;
    let Some(root) = folders.first().cloned() else {
        return 0;
    };
    let started = std::time::Instant::now();
    let paths = crate::walk::workspace_files(&folders, crate::walk::skip_dir(state.clone()));
    let files: Vec<(PathBuf, Language)> = paths
        .into_iter()
        .filter_map(|p| Language::from_path(&p).map(|l| (p, l)))
        .filter(|(path, _)| {
            let key = state.configs.key_for(Some(path), &folders);
            let engine = state.engine_for(&key);
            !crate::state::intake(&engine, &key).is_excluded(path)
        })
        .collect();
    // Both passes count: declarations, then effects.
    total.store(files.len() * 2, Ordering::Relaxed);
    let key = state.configs.key_for(Some(&root.join("x")), &folders);
    let engine = state.engine_for(&key);
    let read = |path: &Path, language: Language| {
        let key = state.configs.key_for(Some(path), &folders);
        let engine = state.engine_for(&key);
        crate::state::intake(&engine, &key)
            .read(path, language)
            .ok()
    };
    let map: dsr_engine::index::Mapper<'_> = &|task, count| {
        for i in 0..count {
            done.fetch_add(task(i), Ordering::Relaxed);
        }
    };
    let index = dsr_engine::index::build(&engine, root, &files, &read, map);
    let indexed = index.len();
    tracing::info!(
        "workspace index: {indexed} files in {:?}",
        started.elapsed()
    );
    state.index.publish(&index);
    *lock(&state.index.index) = Some(index);
    indexed
}

impl State {
    /// Takes a new text of a file into the index (an open document whose edits paused, with its tree when that
    /// is the one a fresh parse gives, so that it is not parsed again; a closed file that changed on disk). When
    /// what other files see of it changed, the index is linked again and the open documents that call into it
    /// are analysed again.
    pub fn reindex(
        self: &Arc<Self>,
        path: &Path,
        language: Language,
        text: &str,
        tree: Option<&dsr_syntax::tree_sitter::Tree>,
    ) {
        if language == Language::Sql {
            return;
        }
        let folders = self.session().folders;
        let key = self.configs.key_for(Some(path), &folders);
        let engine = self.engine_for(&key);
        let dependents = {
            let mut guard = lock(&self.index.index);
            let Some(index) = guard.as_mut() else {
                return;
            };
            let declarations = index.snapshot();
            let started = std::time::Instant::now();
            let pass = IndexPass::Effects(Some(&declarations));
            let summary = match tree {
                Some(tree) => engine.summarize(path, language, text, Some(tree), pass),
                None => engine.summarize_source(path, language, text, pass),
            };
            let before = index.summary(path).map(visible);
            let changed = before.as_ref() != Some(&visible(&summary));
            index.insert(path.to_path_buf(), summary);
            if !changed {
                // Only ranges moved: no analysis of another file can change, so the linked index (and the
                // incremental caches keyed by its generation) stay; its ranges in this file catch up at the
                // next real change.
                return;
            }
            let summarized = started.elapsed();
            index.link();
            let linked = started.elapsed() - summarized;
            self.index.publish(index);
            let dependents = index.dependents(path);
            // Read by `cargo bench -p dsr-cli --bench lsp -- index`.
            tracing::info!(
                "reindexed {}: summarized in {} µs, linked in {} µs ({}), {} dependent file(s)",
                path.display(),
                summarized.as_micros(),
                linked.as_micros(),
                if index.snapshot().shares_declarations_with(&declarations) {
                    "its call sites only"
                } else {
                    "everything"
                },
                dependents.len()
            );
            dependents
        };
        self.reanalyse(&dependents);
    }

    /// A manifest changed (a `go.mod`'s module path, a `Cargo.toml`'s package name, a `tsconfig.json`'s
    /// aliases): the names of the files below it may have moved, and with them what every summary made
    /// through the declarations resolved, so the index is built again as when the session started (as a
    /// changed configuration does; the open documents are analysed again when it is done), and in the
    /// workspace scope the closed files are checked again. Manifests change seldom; the index is built in the
    /// background, the old one serving meanwhile.
    pub fn manifests_changed(self: &Arc<Self>) {
        let settings = self.settings();
        tracing::info!("a manifest changed: the workspace index is built again");
        if settings.index && !self.session().folders.is_empty() {
            self.job(crate::state::Job::BuildIndex);
        }
        if settings.scope == crate::settings::Scope::Workspace {
            self.job(crate::state::Job::IndexWorkspace);
        }
    }

    /// A file went away.
    pub fn unindex(self: &Arc<Self>, path: &Path) {
        let dependents = {
            let mut guard = lock(&self.index.index);
            let Some(index) = guard.as_mut() else {
                return;
            };
            let dependents = index.dependents(path);
            if !index.remove(path) {
                return;
            }
            index.link();
            self.index.publish(index);
            dependents
        };
        self.reanalyse(&dependents);
    }

    /// Analyses again the open documents at `paths`, publishing where their findings change.
    fn reanalyse(self: &Arc<Self>, paths: &[PathBuf]) {
        if !paths.is_empty() {
            tracing::debug!(
                "callees changed: {} dependent file(s) analysed again",
                paths.len()
            );
            self.refresh_with(Some(paths), Work::Edit);
        }
    }

    /// Once an open document's edits pause, takes its text into the index (off the keystroke's path: a
    /// summary costs about an analysis of the whole file).
    pub fn reindex_later(self: &Arc<Self>, doc: &Arc<Mutex<Doc>>) {
        if self.index.snapshot().is_none() {
            return;
        }
        let seq = lock(doc).seq;
        let state = self.clone();
        let doc = doc.clone();
        tokio::spawn(async move {
            tokio::time::sleep(REINDEX_AFTER).await;
            let taken = {
                let d = lock(&doc);
                (d.seq == seq && !d.desynced)
                    .then(|| {
                        // A tree reparsed from one with syntax errors may differ from a fresh parse: the
                        // summary then parses the text itself.
                        let tree = (!d.document.is_provisional())
                            .then(|| d.document.tree().cloned())
                            .flatten();
                        d.path.clone().map(|p| {
                            (
                                p,
                                d.document.language(),
                                d.document.rope().to_string(),
                                tree,
                            )
                        })
                    })
                    .flatten()
            };
            if let Some((path, language, text, tree)) = taken {
                // On the edit pool: the open callers wait for it (on a busy machine a background thread
                // gets a small share of a core, the tail of a dependent's republication).
                let _ = crate::pools::spawn_blocking(crate::pools::Work::Edit, move || {
                    state.reindex(&path, language, &text, tree.as_ref())
                })
                .await;
            }
        });
    }
}

/// How long an open document's edits must pause before its new text goes into the index.
const REINDEX_AFTER: Duration = Duration::from_millis(300);

/// What other files see of a summary: everything but where things are.
fn visible(summary: &FileSummary) -> FileSummary {
    let mut visible = summary.clone();
    for function in &mut visible.functions {
        function.range = Default::default();
        for effect in &mut function.effects {
            effect.range = Default::default();
        }
        for call in &mut function.calls {
            call.range = Default::default();
        }
    }
    visible
}
