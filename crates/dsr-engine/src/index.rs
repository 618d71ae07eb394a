//! Building the workspace index for a front end: the same two passes for the CLI (in parallel, before any rule
//! runs) and the language server (in the background): every file's declarations, linked, so that receivers
//! bind to types other files declare; then every file's effects and calls with those bindings, linked and
//! propagated.

use std::path::{Path, PathBuf};

use dsr_core::Language;
use dsr_semantic::index::{FileSummary, WorkspaceIndex};

use crate::engine::{Engine, IndexPass};

/// Runs `task` for every index below `count` and collects the results in order: sequentially, or on a thread
/// pool (the CLI passes rayon's).
pub type Mapper<'m> =
    &'m dyn Fn(&(dyn Fn(usize) -> Option<FileSummary> + Sync), usize) -> Vec<Option<FileSummary>>;

/// Indexes `files` (paths as the analyses will name them, relative to `root` or absolute); `read` gives a
/// file's text (`None`: skipped, as the intake says).
pub fn build(
    engine: &Engine,
    root: PathBuf,
    files: &[(PathBuf, Language)],
    read: &(dyn Fn(&Path, Language) -> Option<String> + Sync),
    map: Mapper<'_>,
) -> WorkspaceIndex {
    let mut index = WorkspaceIndex::with_root(root);
    let files: Vec<&(PathBuf, Language)> = files
        .iter()
        .filter(|(_, language)| *language != Language::Sql)
        .collect();
    let summarize = |pass: IndexPass<'_>, i: usize| {
        let (path, language) = files[i];
        let text = read(path, *language)?;
        Some(engine.summarize_source(path, *language, &text, pass))
    };
    let declarations = map(&|i| summarize(IndexPass::Declarations, i), files.len());
    for (summary, (path, _)) in declarations.into_iter().zip(&files) {
        if let Some(summary) = summary {
            index.insert(path.clone(), summary);
        }
    }
    index.link();
    let types = index.snapshot();
    let summaries = map(
        &|i| summarize(IndexPass::Effects(Some(&types)), i),
        files.len(),
    );
    for (summary, (path, _)) in summaries.into_iter().zip(&files) {
        if let Some(summary) = summary {
            index.insert(path.clone(), summary);
        }
    }
    index.link();
    index
}

/// A [`Mapper`] that runs on the calling thread.
pub fn sequential(
    task: &(dyn Fn(usize) -> Option<FileSummary> + Sync),
    count: usize,
) -> Vec<Option<FileSummary>> {
    (0..count).map(task).collect()
}
