//! Building the workspace index for a front end, the same for the CLI (in parallel, before any rule runs), the
//! language server (in the background) and the multi-file fixtures: every file summarized once while what it
//! asks of the other files' declarations is recorded (and answered "nothing"); the declarations linked; then
//! only the files whose questions the linked declarations answer summarized again, with receivers bound to
//! the types other files declare; everything linked and propagated. A file that asks nothing the workspace
//! answers is parsed once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dsr_core::Language;
use dsr_semantic::index::{FileSummary, RecordedQuestions, WorkspaceIndex};

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
    let questions: Vec<Arc<RecordedQuestions>> = files
        .iter()
        .map(|_| Arc::new(RecordedQuestions::new()))
        .collect();
    let mut summaries: Vec<Option<FileSummary>> = map(
        &|i| {
            let (path, language) = files[i];
            let text = read(path, *language)?;
            Some(engine.summarize_source(
                path,
                *language,
                &text,
                IndexPass::Recording(&questions[i]),
            ))
        },
        files.len(),
    );
    // The declarations alone answer the questions: linked without calls, nothing is resolved or propagated.
    for (summary, (path, _)) in summaries.iter().zip(&files) {
        if let Some(summary) = summary {
            index.insert(path.clone(), summary.declarations_only());
        }
    }
    index.link();
    let declarations = index.snapshot();
    // Only files whose summary the declarations change: one that asked nothing the workspace answers would
    // be summarized the same. A file the index gives no view (no module to place it in) is summarized as
    // without a workspace, which differs from recording in what a Go method's receiver is taken for.
    let again: Vec<usize> = (0..files.len())
        .filter(|&i| summaries[i].is_some() && !questions[i].is_empty())
        .filter(|&i| {
            let (path, language) = files[i];
            match declarations.view(path, *language) {
                Some(view) => questions[i].any_answered(&*view),
                None => true,
            }
        })
        .collect();
    drop(questions);
    // Their first summaries go before the second ones are made.
    for &i in &again {
        summaries[i] = None;
    }
    let second = map(
        &|k| {
            let (path, language) = files[again[k]];
            let text = read(path, *language)?;
            Some(engine.summarize_source(
                path,
                *language,
                &text,
                IndexPass::Effects(Some(&declarations)),
            ))
        },
        again.len(),
    );
    tracing::debug!(
        files = files.len(),
        summarized_again = again.len(),
        "workspace index"
    );
    drop(declarations);
    for (summary, &i) in second.into_iter().zip(&again) {
        summaries[i] = summary;
    }
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
