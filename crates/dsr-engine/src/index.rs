//! Building the workspace index for a front end, the same for the CLI (in parallel, before any rule runs), the
//! language server (in the background) and the multi-file fixtures. Files are summarized a folder at a time:
//! each file once while what it asks of the other files' declarations is recorded (and answered "nothing");
//! then, with the folder's trees and facts still at hand, the files whose questions the folder's own
//! declarations answer (a Go method of a type another file of the package declares) once more, through those
//! declarations, recording the answers. Once every file's declarations are linked, only the files whose
//! questions the whole workspace answers otherwise than they were answered are summarized again from their
//! text; then everything is linked and propagated. Most files are parsed once.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use dsr_core::Language;
use dsr_semantic::facts::{FileFacts, WorkspaceTypes};
use dsr_semantic::index::{CallSite, EffectSite, RecordedQuestions, WorkspaceIndex};

use crate::engine::{Engine, IndexPass};
pub use dsr_semantic::index::{AnalysisReads, FileSummary};

/// Runs `task` for every index below `count`, sequentially or on a thread pool (the CLI passes rayon's);
/// each task says how many files it summarized (for progress).
pub type Mapper<'m> = &'m dyn Fn(&(dyn Fn(usize) -> usize + Sync), usize);

/// Indexes `files` (paths as the analyses will name them, relative to `root` or absolute); `read` gives a
/// file's text (`None`: skipped, as the intake says). The index can be changed and linked again (the language
/// server's).
pub fn build(
    engine: &Engine,
    root: PathBuf,
    files: &[(PathBuf, Language)],
    read: &(dyn Fn(&Path, Language) -> Option<String> + Sync),
    map: Mapper<'_>,
) -> WorkspaceIndex {
    build_with(engine, root, files, read, map, Lifetime::Changing, None)
}

/// As [`build`], for an index that answers one run and never changes (the CLI's): the same answers, in less
/// memory. Call sites that the workspace's declarations resolve to nothing are dropped as soon as the
/// declarations are linked, and the rest once they are linked; a file added or changed afterwards would need
/// them.
///
/// With a `store`, the summaries of unchanged files are taken from it instead of being parsed, and those made
/// are kept there: a file is parsed only when its text changed, or when the workspace's declarations answer
/// what its summary asked of them otherwise than when the summary was kept. The index is the one built
/// without a store.
pub fn build_once(
    engine: &Engine,
    root: PathBuf,
    files: &[(PathBuf, Language)],
    read: &(dyn Fn(&Path, Language) -> Option<String> + Sync),
    map: Mapper<'_>,
    store: Option<&dyn SummaryStore>,
) -> WorkspaceIndex {
    build_with(engine, root, files, read, map, Lifetime::Once, store)
}

/// Which summary of a file a [`SummaryStore`] keeps: the first, made without the workspace's declarations
/// (every question about them answered "nothing": a function of the file's path and text, and the tool and
/// configuration), or the one made again through the linked declarations (a function of those and of the
/// answers its questions got).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SummaryPass {
    First,
    Again,
}

/// Summaries kept between builds (the CLI keeps them in its result cache, for one tool and configuration).
/// Each is kept with the questions its facts asked of the workspace's declarations and the answers they got,
/// by the file's path and text: a kept summary is the one a build would make when the declarations answer
/// its questions alike.
pub trait SummaryStore: Sync {
    /// The summary kept for the file at `path` made of `text` in `pass`, with what it asked.
    fn get(
        &self,
        path: &Path,
        text: &str,
        pass: SummaryPass,
    ) -> Option<(FileSummary, AnalysisReads)>;
    /// Keeps a summary just made (before the build drops any of its call sites).
    fn put(
        &self,
        path: &Path,
        text: &str,
        pass: SummaryPass,
        summary: &FileSummary,
        reads: &AnalysisReads,
    );
}

/// Whether the index will be changed and linked again after it is built.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lifetime {
    Changing,
    Once,
}

/// How many files of a folder are summarized together, their trees and facts held while the part's own
/// declarations answer its files' questions. One: each file's own declarations answer its questions from the
/// tree at hand. Measured on a quiet machine on the 9,422-file tree of docs/performance.md, parts of up to
/// 1 MB of source cost 9.0–9.9 s of wall time for the index against 7.9–8.5 s with one file per part (CPU
/// 13.6–14.9 s against 12.8–13.4 s; main before the folder pass: 7.1–8.6 s, 13.5–15.6 s): the trees a larger
/// part holds cost more than the second parses they save.
const FILES_PER_PART: usize = 1;

/// A file's summary and the questions it was made with (the answers it got).
struct Summarized {
    summary: FileSummary,
    questions: Arc<RecordedQuestions>,
    /// Summarized a second time through its folder's declarations.
    in_folder: bool,
}

fn build_with(
    engine: &Engine,
    root: PathBuf,
    files: &[(PathBuf, Language)],
    read: &(dyn Fn(&Path, Language) -> Option<String> + Sync),
    map: Mapper<'_>,
    lifetime: Lifetime,
    store: Option<&dyn SummaryStore>,
) -> WorkspaceIndex {
    let mut index = WorkspaceIndex::with_root(root);
    let files: Vec<&(PathBuf, Language)> = files
        .iter()
        .filter(|(_, language)| *language != Language::Sql)
        .collect();
    let folders = folders(&files);
    let slots: Vec<Mutex<Option<Summarized>>> = files.iter().map(|_| Mutex::default()).collect();
    {
        let layout = &index;
        map(
            &|g| {
                let folder = &folders[g];
                for (i, summarized) in summarize_folder(engine, layout, &files, folder, read, store)
                {
                    *lock(&slots[i]) = Some(summarized);
                }
                folder.len()
            },
            folders.len(),
        );
    }
    // Each first summary is split: its declarations go into the index (moved, not copied: the declarations of
    // every file are most of what the first pass holds besides call sites), what its functions do waits beside
    // it until the declarations are linked, then both are put together again.
    let mut bodies: Vec<Option<Vec<Body>>> = Vec::with_capacity(files.len());
    let mut questions: Vec<Option<Arc<RecordedQuestions>>> = Vec::with_capacity(files.len());
    let mut in_folder = Vec::with_capacity(files.len());
    for (slot, (path, _)) in slots.into_iter().zip(&files) {
        let summarized = slot
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        in_folder.push(summarized.as_ref().is_some_and(|s| s.in_folder));
        match summarized {
            Some(Summarized {
                mut summary,
                questions: asked,
                ..
            }) => {
                bodies.push(Some(take_bodies(&mut summary)));
                questions.push(Some(asked));
                // The declarations alone answer the questions: linked without calls, nothing is resolved or
                // propagated.
                index.insert(path.clone(), summary);
            }
            None => {
                bodies.push(None);
                questions.push(None);
            }
        }
    }
    // The link allocates on this thread: the pages the workers freed (trees, facts) are of their own arenas.
    release_freed_memory();
    note_memory("first summaries made, declarations inserted");
    index.link();
    let declarations = index.snapshot();
    note_memory("declarations linked");
    // Only files whose summary the declarations change: one each of whose questions the workspace answers as
    // it was answered would be summarized the same. A file the index gives no view (no module to place it
    // in) is summarized as without a workspace, which differs from recording in what a Go method's receiver
    // is taken for.
    let again: Vec<usize> = (0..files.len())
        .filter(|&i| {
            let Some(asked) = questions[i].as_ref().filter(|q| !q.is_empty()) else {
                return false;
            };
            let (path, language) = files[i];
            match declarations.view(path, *language) {
                Some(view) => asked.any_answered_differently(&*view),
                None => true,
            }
        })
        .collect();
    if tracing::enabled!(tracing::Level::DEBUG) {
        // Which questions the workspace answers otherwise: where the files summarized again come from.
        let mut by_kind = [[0usize; 3]; 4];
        for &i in &again {
            let (path, language) = files[i];
            let (Some(asked), Some(view)) = (&questions[i], declarations.view(path, *language))
            else {
                continue;
            };
            let counts = asked.answered_differently_by_kind(&*view);
            let row = match language {
                Language::Go => 0,
                Language::Rust => 1,
                Language::TypeScript => 2,
                _ => 3,
            };
            for (kind, count) in counts.iter().enumerate() {
                by_kind[row][kind] += usize::from(*count > 0);
            }
        }
        tracing::debug!(
            "files summarized again, by language (Go, Rust, TS, TSX/JS) and by the kind of question answered otherwise (field, canonical, return type): {by_kind:?}"
        );
    }
    drop(questions);
    // Their first summaries' bodies go before the second summaries are made.
    for &i in &again {
        bodies[i] = None;
    }
    if lifetime == Lifetime::Once {
        for (body, (path, _)) in bodies.iter_mut().zip(&files) {
            if let (Some(body), Some(declared)) = (body, index.summary(path)) {
                let mut calls: Vec<Vec<CallSite>> =
                    body.iter_mut().map(|b| std::mem::take(&mut b.1)).collect();
                declarations.keep_resolvable_calls_of(path, declared, &mut calls);
                for (b, kept) in body.iter_mut().zip(calls) {
                    b.1 = kept;
                }
            }
        }
        release_freed_memory();
    }
    note_memory("first summaries' calls kept that resolve");
    let second: Vec<Mutex<Option<FileSummary>>> = again.iter().map(|_| Mutex::default()).collect();
    map(
        &|k| {
            let (path, language) = files[again[k]];
            let Some(text) = read(path, *language) else {
                return 1;
            };
            let mut summary = summarize_again(engine, &declarations, path, *language, &text, store);
            if lifetime == Lifetime::Once {
                declarations.keep_resolvable_calls(path, &mut summary);
            }
            *lock(&second[k]) = Some(summary);
            1
        },
        again.len(),
    );
    tracing::debug!(
        files = files.len(),
        summarized_in_folder = in_folder.iter().filter(|&&f| f).count(),
        summarized_again = again.len(),
        summarized_again_after_folder = again.iter().filter(|&&i| in_folder[i]).count(),
        "workspace index"
    );
    note_memory("second summaries made");
    drop(declarations);
    // The declarations come back out of the index and are put together with what their functions do.
    let mut declared = index.take_summaries();
    let mut summaries: Vec<Option<FileSummary>> = Vec::with_capacity(files.len());
    for (body, (path, _)) in bodies.into_iter().zip(&files) {
        summaries.push(match (body, declared.remove(path)) {
            (Some(body), Some(mut summary)) => {
                put_bodies(&mut summary, body);
                Some(summary)
            }
            _ => None,
        });
    }
    drop(declared);
    for (summary, &i) in second.into_iter().zip(&again) {
        summaries[i] = summary
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
    }
    for (summary, (path, _)) in summaries.into_iter().zip(&files) {
        if let Some(summary) = summary {
            index.insert(path.clone(), summary);
        }
    }
    release_freed_memory();
    index.link();
    note_memory("linked");
    if lifetime == Lifetime::Once {
        index.drop_call_sites();
        release_freed_memory();
    }
    note_memory("built");
    index
}

/// A file's summary through the linked declarations, from `store` when it kept one whose questions they answer
/// alike, else made (and kept there).
fn summarize_again(
    engine: &Engine,
    declarations: &dsr_semantic::index::IndexSnapshot,
    path: &Path,
    language: Language,
    text: &str,
    store: Option<&dyn SummaryStore>,
) -> FileSummary {
    // A file the index gives no view is summarized as without a workspace: nothing asked, nothing kept.
    let (Some(store), Some(view)) = (store, declarations.view(path, language)) else {
        return engine.summarize_source(
            path,
            language,
            text,
            IndexPass::Effects(Some(declarations)),
        );
    };
    if let Some((summary, reads)) = store.get(path, text, SummaryPass::Again) {
        if !reads.answered_differently(&view) {
            return summary;
        }
    }
    // Through a recorder answering as the declarations do: the same summary, with what it asked.
    let questions = Arc::new(RecordedQuestions::answering_with(view));
    let summary = engine.summarize_source(path, language, text, IndexPass::Recording(&questions));
    store.put(path, text, SummaryPass::Again, &summary, &questions.reads());
    summary
}

/// What one function of a summary does: its effects and its calls.
type Body = (Vec<EffectSite>, Vec<CallSite>);

/// Takes what each function does out of a summary, leaving its declarations.
fn take_bodies(summary: &mut FileSummary) -> Vec<Body> {
    summary
        .functions
        .iter_mut()
        .map(|f| (std::mem::take(&mut f.effects), std::mem::take(&mut f.calls)))
        .collect()
}

/// Puts back what [`take_bodies`] took.
fn put_bodies(summary: &mut FileSummary, bodies: Vec<Body>) {
    for (function, (effects, calls)) in summary.functions.iter_mut().zip(bodies) {
        function.effects = effects;
        function.calls = calls;
    }
}

/// Hands the heap's free pages back to the system (glibc keeps them otherwise: the first pass's call sites,
/// dropped once the declarations are linked, would count in the process's resident memory to the end of the
/// run). Only where the allocator is glibc's.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` has no preconditions; it only returns free memory of the heap to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Logs the process's resident memory now and at its peak (Linux; debug level only), at the stages of a build:
/// where the index's memory goes.
fn note_memory(stage: &str) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return;
    };
    let kib = |field: &str| {
        status
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    tracing::debug!(
        rss_mib = kib("VmRSS:") / 1024,
        peak_mib = kib("VmHWM:") / 1024,
        "workspace index memory: {stage}"
    );
}

fn lock<T>(slot: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned slot only means a task panicked after filling it: what it holds is whole.
    slot.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The files (by index into `files`) grouped by the folder they are in, each in the order of `files`.
fn folders(files: &[&(PathBuf, Language)]) -> Vec<Vec<usize>> {
    let mut by_folder: rustc_hash::FxHashMap<&Path, usize> = rustc_hash::FxHashMap::default();
    let mut folders: Vec<Vec<usize>> = Vec::new();
    for (i, (path, _)) in files.iter().enumerate() {
        let folder = path.parent().unwrap_or(Path::new(""));
        let at = *by_folder.entry(folder).or_insert_with(|| {
            folders.push(Vec::new());
            folders.len() - 1
        });
        folders[at].push(i);
    }
    // The largest first, so that a large folder does not start last while the other threads run out of work.
    folders.sort_by_key(|folder| std::cmp::Reverse(folder.len()));
    folders
}

/// Summarizes the files of one folder (in parts of [`FILES_PER_PART`] files): each once while recording its
/// questions, then those whose questions the part's own declarations answer once more through them, from the
/// same trees and facts. `layout` lends its workspace layout to the part's declarations.
fn summarize_folder(
    engine: &Engine,
    layout: &WorkspaceIndex,
    files: &[&(PathBuf, Language)],
    folder: &[usize],
    read: &(dyn Fn(&Path, Language) -> Option<String> + Sync),
    store: Option<&dyn SummaryStore>,
) -> Vec<(usize, Summarized)> {
    let texts: Vec<(usize, String)> = folder
        .iter()
        .filter_map(|&i| {
            let (path, language) = files[i];
            read(path, *language).map(|text| (i, text))
        })
        .collect();
    let mut out = Vec::with_capacity(texts.len());
    for part in texts.chunks(FILES_PER_PART) {
        summarize_part(engine, layout, files, part, store, &mut out);
    }
    out
}

fn summarize_part(
    engine: &Engine,
    layout: &WorkspaceIndex,
    files: &[&(PathBuf, Language)],
    texts: &[(usize, String)],
    store: Option<&dyn SummaryStore>,
    out: &mut Vec<(usize, Summarized)>,
) {
    let limit = engine.config().limits.parse_timeout;
    // The trees of the files that may be summarized again (set once each, borrowed by their facts then).
    let trees: Vec<std::cell::OnceCell<Option<tree_sitter::Tree>>> =
        texts.iter().map(|_| std::cell::OnceCell::new()).collect();
    // Per parsed file (by position in `texts`): whether its tree is kept, and its summary.
    let mut held: Vec<(usize, bool, Summarized)> = Vec::with_capacity(texts.len());
    // A kept first summary stands for one made here only in a part of one file: a larger part summarizes its
    // files again through each other's declarations, from their trees.
    let store = store.filter(|_| texts.len() == 1);
    for (k, (i, text)) in texts.iter().enumerate() {
        let (path, language) = files[*i];
        if let Some((summary, reads)) =
            store.and_then(|store| store.get(path, text, SummaryPass::First))
        {
            let questions = Arc::new(RecordedQuestions::from_reads(&reads));
            out.push((
                *i,
                Summarized {
                    summary,
                    questions,
                    in_folder: false,
                },
            ));
            continue;
        }
        let questions = Arc::new(RecordedQuestions::new());
        // A file that does not parse in time has an empty summary that asks nothing (as `summarize_source`).
        let Ok(parsed) = crate::parse::parse(*language, text, limit) else {
            let summary = FileSummary::default();
            out.push((
                *i,
                Summarized {
                    summary,
                    questions,
                    in_folder: false,
                },
            ));
            continue;
        };
        let facts = FileFacts::compute_in_workspace(
            *language,
            parsed.as_ref(),
            text,
            Some(questions.clone() as Arc<dyn WorkspaceTypes>),
        );
        let summary = engine.summarize_facts(path, *language, text, parsed.as_ref(), &facts);
        drop(facts);
        if let Some(store) = store {
            store.put(path, text, SummaryPass::First, &summary, &questions.reads());
        }
        // Only the tree of a file that asked what its folder may answer is kept; the others go at once, so
        // that the next file is parsed into memory still in the cache.
        let kept = questions.may_be_answered_nearby();
        if kept {
            let _ = trees[k].set(parsed);
        }
        held.push((
            k,
            kept,
            Summarized {
                summary,
                questions,
                in_folder: false,
            },
        ));
    }
    if held.iter().any(|(_, kept, _)| *kept) && held.len() > 1 {
        let mut part = layout.sharing_layout();
        for (k, _, summarized) in &held {
            let path = &files[texts[*k].0].0;
            part.insert(path.clone(), summarized.summary.declarations_only());
        }
        part.link();
        let declarations = part.snapshot();
        for (k, kept, summarized) in &mut held {
            if !*kept {
                continue;
            }
            let (i, text) = &texts[*k];
            let (path, language) = files[*i];
            let Some(view) = declarations.view(path, *language) else {
                continue;
            };
            if !summarized.questions.any_answered_differently(&*view) {
                continue;
            }
            // Summarized again from the kept tree (no parse), through the part's declarations.
            let questions = Arc::new(RecordedQuestions::answering_with(view));
            let tree = trees[*k].get().and_then(Option::as_ref);
            let facts = FileFacts::compute_in_workspace(
                *language,
                tree,
                text,
                Some(questions.clone() as Arc<dyn WorkspaceTypes>),
            );
            summarized.summary = engine.summarize_facts(path, *language, text, tree, &facts);
            summarized.questions = questions;
            summarized.in_folder = true;
        }
    }
    for (k, _, summarized) in held {
        out.push((texts[k].0, summarized));
    }
}

/// A [`Mapper`] that runs on the calling thread.
pub fn sequential(task: &(dyn Fn(usize) -> usize + Sync), count: usize) {
    for i in 0..count {
        task(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsr_core::config::Config;

    /// The workspace the tests build: the Go module `example.com/shop`, and the Rust crate `shop` with
    /// `with_crate`.
    fn shop_workspace(root: &Path, with_crate: bool) {
        write(root, "go.mod", "module example.com/shop\n");
        if with_crate {
            write(
                root,
                "Cargo.toml",
                "[package]\nname = \"shop\"\nversion = \"0.1.0\"\n",
            );
        }
    }

    fn read_file(path: &Path, _: Language) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }

    fn write(root: &Path, relative: &str, text: &str) -> (PathBuf, Language) {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("a folder");
        std::fs::write(&path, text).expect("written");
        let language = Language::from_path(&path).unwrap_or(Language::Go);
        (path, language)
    }

    /// The shop workspace's source files, written under `root` (with [`shop_workspace`]'s manifests): a Go type
    /// in one file with its methods and a factory in others, a file that asks nothing of the workspace, a Rust
    /// field of a client type, a TypeScript client re-exported.
    fn shop_files(root: &Path) -> Vec<(PathBuf, Language)> {
        vec![
            // A type in one file, its methods and a factory in others: their receivers need the declarations.
            write(root, "billing/types.go", "package billing\n\nimport \"net/http\"\n\ntype Gateway struct {\n\tclient *http.Client\n}\n"),
            write(root, "billing/gateway.go", "package billing\n\nimport \"net/http\"\n\nfunc (g *Gateway) Capture(url string) error {\n\treq, _ := http.NewRequest(http.MethodPost, url, nil)\n\tresp, err := g.client.Do(req)\n\tif err != nil {\n\t\treturn err\n\t}\n\treturn resp.Body.Close()\n}\n\nfunc Close(resp *http.Response) { resp.Body.Close() }\n"),
            write(root, "billing/factory.go", "package billing\n\nimport (\n\t\"net/http\"\n\t\"time\"\n)\n\nfunc NewClient() *http.Client {\n\treturn &http.Client{Timeout: 10 * time.Second}\n}\n"),
            // Nothing to ask of the workspace: kept.
            write(root, "orders/plain.go", "package orders\n\nfunc Sum(a, b int) int { return a + b }\n"),
            write(root, "orders/checkout.go", "package orders\n\nimport \"example.com/shop/billing\"\n\nfunc Checkout(g *billing.Gateway, url string) error {\n\tc := billing.NewClient()\n\t_, err := c.Get(url)\n\tif err != nil {\n\t\treturn err\n\t}\n\treturn g.Capture(url)\n}\n"),
            write(root, "src/lib.rs", "pub mod client;\npub mod orders;\n"),
            write(root, "src/client.rs", "pub struct Api {\n    pub http: reqwest::Client,\n}\n"),
            write(root, "src/orders.rs", "use crate::client::Api;\n\npub async fn place(api: &Api, url: &str) {\n    let _ = api.http.post(url).send().await;\n}\n"),
            write(root, "web/http.ts", "import axios from \"axios\";\nexport const api = axios.create({ timeout: 5000 });\n"),
            write(root, "web/index.ts", "export { api } from \"./http\";\n"),
            write(root, "web/orders.ts", "import { api } from \"./index\";\nexport async function place(url: string) {\n  return api.post(url, {});\n}\n"),
        ]
    }

    /// A file keeps its first summary only when a second one would be the same: the index built with the
    /// recorded questions equals the one built by summarizing every file again with the declarations.
    #[test]
    fn keeping_first_summaries_changes_nothing() {
        let temp = tempfile::tempdir().expect("a temporary folder");
        let root = temp.path();
        shop_workspace(root, true);
        let files = shop_files(root);
        let engine = Engine::new(&[], Config::default());
        let read = read_file;
        let built = build(&engine, root.to_path_buf(), &files, &read, &sequential);

        let mut declarations = WorkspaceIndex::with_root(root.to_path_buf());
        for (path, language) in &files {
            let text = std::fs::read_to_string(path).expect("a file");
            let alone = engine.summarize_source(path, *language, &text, IndexPass::Effects(None));
            declarations.insert(path.clone(), alone.declarations_only());
        }
        declarations.link();
        let snapshot = declarations.snapshot();
        let mut kept = 0;
        for (path, language) in &files {
            let text = std::fs::read_to_string(path).expect("a file");
            let again = engine.summarize_source(
                path,
                *language,
                &text,
                IndexPass::Effects(Some(&snapshot)),
            );
            let alone = engine.summarize_source(path, *language, &text, IndexPass::Effects(None));
            assert_eq!(built.summary(path), Some(&again), "{}", path.display());
            kept += usize::from(again == alone);
        }
        // Both kinds are exercised: files the declarations change and files they do not.
        assert!(kept > 0 && kept < files.len(), "{kept} of {}", files.len());
    }

    /// What a [`MemoryStore`] keeps: by path and whether it is the first summary, the text, summary and reads.
    type Kept = std::collections::HashMap<(PathBuf, bool), (String, FileSummary, AnalysisReads)>;

    /// A [`SummaryStore`] in memory, counting what it is asked.
    #[derive(Default)]
    struct MemoryStore {
        kept: Mutex<Kept>,
        taken: std::sync::atomic::AtomicUsize,
        made: std::sync::atomic::AtomicUsize,
    }

    impl MemoryStore {
        /// (taken, made) since the last call.
        fn counts(&self) -> (usize, usize) {
            use std::sync::atomic::Ordering::Relaxed;
            (self.taken.swap(0, Relaxed), self.made.swap(0, Relaxed))
        }
    }

    impl SummaryStore for MemoryStore {
        fn get(
            &self,
            path: &Path,
            text: &str,
            pass: SummaryPass,
        ) -> Option<(FileSummary, AnalysisReads)> {
            let kept = lock(&self.kept);
            let (kept_text, summary, reads) =
                kept.get(&(path.to_path_buf(), pass == SummaryPass::First))?;
            (kept_text == text).then(|| {
                self.taken
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                (summary.clone(), reads.clone())
            })
        }

        fn put(
            &self,
            path: &Path,
            text: &str,
            pass: SummaryPass,
            summary: &FileSummary,
            reads: &AnalysisReads,
        ) {
            self.made.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            lock(&self.kept).insert(
                (path.to_path_buf(), pass == SummaryPass::First),
                (text.to_string(), summary.clone(), reads.clone()),
            );
        }
    }

    /// An index built from kept summaries is the index built from the files: the same summaries, effects and
    /// dependents, before and after a change to one file; only the changed file is summarized again (those
    /// whose questions the declarations answer otherwise too: here a type's file, whose fields its users ask
    /// about).
    #[test]
    fn summaries_from_the_store_give_the_index_made_from_the_files() {
        let temp = tempfile::tempdir().expect("a temporary folder");
        let root = temp.path();
        shop_workspace(root, true);
        let files = shop_files(root);
        let engine = Engine::new(&[], Config::default());
        let read = read_file;
        let store = MemoryStore::default();
        let same = |stored: &WorkspaceIndex, fresh: &WorkspaceIndex| {
            for (path, _) in &files {
                assert_eq!(
                    stored.summary(path),
                    fresh.summary(path),
                    "{}",
                    path.display()
                );
                assert_eq!(
                    stored.effects_of(path),
                    fresh.effects_of(path),
                    "{}",
                    path.display()
                );
                assert_eq!(
                    stored.dependents(path),
                    fresh.dependents(path),
                    "{}",
                    path.display()
                );
            }
        };
        let root = root.to_path_buf();
        let filled = build_once(
            &engine,
            root.clone(),
            &files,
            &read,
            &sequential,
            Some(&store),
        );
        let fresh = build_once(&engine, root.clone(), &files, &read, &sequential, None);
        same(&filled, &fresh);
        let (taken, made) = store.counts();
        assert_eq!(taken, 0);
        // Every first summary, and the second ones of the files whose questions the declarations answer.
        assert!(made > files.len(), "{made}");
        let again = made - files.len();

        let stored = build_once(
            &engine,
            root.clone(),
            &files,
            &read,
            &sequential,
            Some(&store),
        );
        same(&stored, &fresh);
        assert_eq!(
            store.counts(),
            (files.len() + again, 0),
            "nothing made again"
        );

        // One file changes (its method moves down a line): it alone is summarized again.
        write(
            &root,
            "billing/gateway.go",
            &format!(
                "// Gateway.\n{}",
                std::fs::read_to_string(root.join("billing/gateway.go")).expect("a file")
            ),
        );
        let stored = build_once(
            &engine,
            root.clone(),
            &files,
            &read,
            &sequential,
            Some(&store),
        );
        let fresh = build_once(&engine, root.clone(), &files, &read, &sequential, None);
        same(&stored, &fresh);
        let (_, made) = store.counts();
        assert!((1..=2).contains(&made), "{made}");

        // A declaration the others ask about changes (the field's type): its users are summarized again.
        write(&root, "billing/types.go", "package billing\n\nimport \"net/http\"\n\ntype Gateway struct {\n\tclient *http.Transport\n}\n");
        let stored = build_once(
            &engine,
            root.clone(),
            &files,
            &read,
            &sequential,
            Some(&store),
        );
        let fresh = build_once(&engine, root.clone(), &files, &read, &sequential, None);
        same(&stored, &fresh);
        let (_, made) = store.counts();
        assert!(made >= 2, "{made}");
    }

    /// Facts that flow into a callee: a parameter every caller gives a bound in time (a client built with a
    /// timeout, a context with a deadline), also through a caller that passes on its own parameter; a Rust
    /// method's `self` is no argument. One caller without a bound, or none known, leaves it unbounded.
    #[test]
    fn parameters_every_caller_bounds() {
        let temp = tempfile::tempdir().expect("a temporary folder");
        let root = temp.path();
        shop_workspace(root, true);
        let files = vec![
            write(root, "src/lib.rs", "pub mod gateway;\npub mod orders;\n"),
            write(root, "src/gateway.rs", "pub struct Gateway;\n\nimpl Gateway {\n    pub async fn send(&self, client: &reqwest::Client, url: &str) {\n        let _ = client.post(url).send().await;\n    }\n    pub async fn fetch(&self, client: &reqwest::Client, url: &str) {\n        let _ = client.get(url).send().await;\n    }\n}\n"),
            write(root, "src/orders.rs", "use crate::gateway::Gateway;\nuse std::time::Duration;\n\npub async fn place(g: &Gateway, url: &str) {\n    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();\n    g.send(&client, url).await;\n    g.fetch(&client, url).await;\n}\n\npub async fn list(g: &Gateway, url: &str) {\n    g.fetch(&reqwest::Client::new(), url).await;\n}\n"),
            write(root, "billing/forward.go", "package billing\n\nimport \"context\"\n\nfunc Forward(ctx context.Context, u string) {}\n\nfunc Relay(ctx context.Context, u string) { Forward(ctx, u) }\n"),
            write(root, "orders/checkout.go", "package orders\n\nimport (\n\t\"context\"\n\t\"time\"\n\n\t\"example.com/shop/billing\"\n)\n\nfunc Checkout(parent context.Context, u string) {\n\tctx, cancel := context.WithTimeout(parent, time.Second)\n\tdefer cancel()\n\tbilling.Relay(ctx, u)\n}\n"),
        ];
        let engine = Engine::new(&[], Config::default());
        let read = read_file;
        let index = build(&engine, root.to_path_buf(), &files, &read, &sequential);
        let snapshot = index.snapshot();
        let bounded = |file: &str, language: Language, function: &str, param: usize| {
            let view = snapshot.view(&root.join(file), language).expect("a view");
            view.bounded_by_callers(function, param)
                .map(|(path, _)| path.to_path_buf())
        };
        assert_eq!(
            bounded("src/gateway.rs", Language::Rust, "Gateway::send", 1),
            Some(root.join("src/orders.rs"))
        );
        // `list` passes a client without a timeout.
        assert_eq!(
            bounded("src/gateway.rs", Language::Rust, "Gateway::fetch", 1),
            None
        );
        assert_eq!(
            bounded("src/gateway.rs", Language::Rust, "Gateway::send", 2),
            None
        );
        // Through `Relay`, which passes on the context its only caller gives it a deadline.
        assert_eq!(
            bounded("billing/forward.go", Language::Go, "Forward", 0),
            Some(root.join("orders/checkout.go"))
        );
        assert!(bounded("billing/forward.go", Language::Go, "Relay", 0).is_some());
        assert_eq!(
            bounded("orders/checkout.go", Language::Go, "Checkout", 0),
            None
        );
    }

    /// The index built for one run answers as the one that can change: the same effects for every function.
    #[test]
    fn an_index_built_once_answers_the_same() {
        let temp = tempfile::tempdir().expect("a temporary folder");
        let root = temp.path();
        shop_workspace(root, false);
        let files = vec![
            write(root, "billing/gateway.go", "package billing\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n)\n\nfunc Capture(url string) error {\n\tresp, err := http.Post(url, \"application/json\", nil)\n\tif err != nil {\n\t\treturn fmt.Errorf(\"capture: %w\", err)\n\t}\n\treturn resp.Body.Close()\n}\n"),
            write(root, "orders/checkout.go", "package orders\n\nimport (\n\t\"strings\"\n\n\t\"example.com/shop/billing\"\n)\n\nfunc Checkout(url string) error {\n\treturn retry(func() error { return billing.Capture(strings.TrimSpace(url)) })\n}\n\nfunc retry(f func() error) error { return f() }\n\nfunc Twice(url string) error {\n\tif err := Checkout(url); err != nil {\n\t\treturn Checkout(url)\n\t}\n\treturn nil\n}\n"),
        ];
        let engine = Engine::new(&[], Config::default());
        let read = read_file;
        let changing = build(&engine, root.to_path_buf(), &files, &read, &sequential);
        let once = build_once(
            &engine,
            root.to_path_buf(),
            &files,
            &read,
            &sequential,
            None,
        );
        for (path, _) in &files {
            assert_eq!(
                changing.effects_of(path),
                once.effects_of(path),
                "{}",
                path.display()
            );
            assert_eq!(changing.dependents(path), once.dependents(path));
            let calls = |index: &WorkspaceIndex| {
                index.summary(path).map_or(0, |s| {
                    s.functions.iter().map(|f| f.calls.len()).sum::<usize>()
                })
            };
            assert!(calls(&changing) > 0);
            assert_eq!(calls(&once), 0);
        }
        let twice = once
            .effects_of(&root.join("orders/checkout.go"))
            .into_iter()
            .find(|(name, _)| name == "Twice")
            .expect("Twice");
        assert!(twice.1.iter().any(|e| e.is_remote()), "{twice:?}");
    }

    /// A change to a file's effects that keeps its declarations links again by resolving that file's call
    /// sites only, and gives what a full link of the same summaries gives; a new declaration links anew.
    #[test]
    fn relinking_one_file_equals_a_full_link() {
        let temp = tempfile::tempdir().expect("a temporary folder");
        let root = temp.path();
        shop_workspace(root, false);
        let gateway = "package billing\n\nimport \"net/http\"\n\nfunc Capture(url, key string) error {\n\treq, err := http.NewRequest(http.MethodPost, url, nil)\n\tif err != nil {\n\t\treturn err\n\t}\n\tKEY\tresp, err := http.DefaultClient.Do(req)\n\tif err != nil {\n\t\treturn err\n\t}\n\treturn resp.Body.Close()\n}\n";
        let files = vec![
            write(root, "billing/gateway.go", &gateway.replace("KEY", "")),
            write(root, "orders/checkout.go", "package orders\n\nimport \"example.com/shop/billing\"\n\nfunc Checkout(url string) error {\n\treturn billing.Capture(url, \"k\")\n}\n\nfunc Twice(url string) error {\n\tif err := Checkout(url); err != nil {\n\t\treturn Checkout(url)\n\t}\n\treturn nil\n}\n"),
        ];
        let engine = Engine::new(&[], Config::default());
        let read = read_file;
        let mut index = build(&engine, root.to_path_buf(), &files, &read, &sequential);
        let before = index.snapshot();
        let duplicates = |index: &WorkspaceIndex| {
            index
                .effects_of(&root.join("orders/checkout.go"))
                .into_iter()
                .flat_map(|(_, effects)| effects)
                .any(|e| {
                    matches!(
                        e,
                        dsr_semantic::index::Effect::Remote {
                            duplicate: Some(_),
                            ..
                        }
                    )
                })
        };
        assert!(duplicates(&index));
        // The callee now sends an idempotency key: its effects change, its declarations do not.
        let keyed = write(
            root,
            "billing/gateway.go",
            &gateway.replace("KEY", "req.Header.Set(\"Idempotency-Key\", key)\n"),
        );
        let text = std::fs::read_to_string(&keyed.0).expect("a file");
        let summary = engine.summarize_source(
            &keyed.0,
            Language::Go,
            &text,
            IndexPass::Effects(Some(&before)),
        );
        index.insert(keyed.0.clone(), summary);
        index.link();
        assert!(index.snapshot().shares_declarations_with(&before));
        assert!(!duplicates(&index));
        let full = build(&engine, root.to_path_buf(), &files, &read, &sequential);
        for (path, _) in &files {
            assert_eq!(
                index.effects_of(path),
                full.effects_of(path),
                "{}",
                path.display()
            );
            assert_eq!(index.dependents(path), full.dependents(path));
        }
        // A new function is a new declaration: linked anew.
        let relinked = index.snapshot();
        let added = write(
            root,
            "billing/refund.go",
            "package billing\n\nfunc Refund() {}\n",
        );
        let text = std::fs::read_to_string(&added.0).expect("a file");
        let summary = engine.summarize_source(
            &added.0,
            Language::Go,
            &text,
            IndexPass::Effects(Some(&relinked)),
        );
        index.insert(added.0, summary);
        index.link();
        assert!(!index.snapshot().shares_declarations_with(&relinked));
    }

    /// A link after one file's change keeps that file's view generation when nothing else of the index
    /// changed (its incremental caches stay valid) — also when the change renamed a function nothing else
    /// calls, which links the index anew — and moves it when another file's effects did.
    #[test]
    fn a_change_seen_only_by_its_own_file_keeps_its_view_generation() {
        let temp = tempfile::tempdir().expect("a temporary folder");
        let root = temp.path();
        shop_workspace(root, false);
        let gateway = "package billing\n\nimport \"net/http\"\n\nfunc Capture(url, key string) error {\n\treq, err := http.NewRequest(http.MethodPost, url, nil)\n\tif err != nil {\n\t\treturn err\n\t}\n\tKEY\tresp, err := http.DefaultClient.Do(req)\n\tif err != nil {\n\t\treturn err\n\t}\n\treturn resp.Body.Close()\n}\n";
        let checkout = "package orders\n\nimport \"example.com/shop/billing\"\n\nfunc Checkout(url string) error {\n\treturn billing.Capture(url, \"k\")\n}\n\nfunc Twice(url string) error {\n\tif err := Checkout(url); err != nil {\n\t\tLOCALreturn Checkout(url)\n\t}\n\treturn nil\n}\n";
        let files = vec![
            write(root, "billing/gateway.go", &gateway.replace("KEY", "")),
            write(root, "orders/checkout.go", &checkout.replace("LOCAL", "")),
        ];
        let engine = Engine::new(&[], Config::default());
        let mut index = build(&engine, root.to_path_buf(), &files, &read_file, &sequential);
        let change = |index: &mut WorkspaceIndex, relative: &str, text: &str| {
            let (path, _) = write(root, relative, text);
            let summary = engine.summarize_source(
                &path,
                Language::Go,
                text,
                IndexPass::Effects(Some(&index.snapshot())),
            );
            index.insert(path, summary);
            index.link();
        };
        let (gateway_path, checkout_path) = (
            root.join("billing/gateway.go"),
            root.join("orders/checkout.go"),
        );
        // The callee's effects change, and with them its caller's: the callee's view changed too (its callers'
        // effects are part of it), and so did the caller's.
        let before = index.generation();
        change(
            &mut index,
            "billing/gateway.go",
            &gateway.replace("KEY", "req.Header.Set(\"Idempotency-Key\", key)\n"),
        );
        let snapshot = index.snapshot();
        assert_eq!(snapshot.view_generation(&gateway_path), index.generation());
        assert_eq!(snapshot.view_generation(&checkout_path), index.generation());
        assert_ne!(index.generation(), before);
        // The caller, which nothing calls, changes its effects: only its own entries change, so its view is
        // the one of the generation before; the callee's is the new one.
        let kept = index.generation();
        change(
            &mut index,
            "orders/checkout.go",
            &checkout.replace("LOCAL", "billing.Capture(url, \"again\")\n\t\t"),
        );
        let snapshot = index.snapshot();
        assert_ne!(index.generation(), kept);
        assert_eq!(snapshot.view_generation(&checkout_path), kept);
        assert_eq!(snapshot.view_generation(&gateway_path), index.generation());
        // And again: still the same view for the caller.
        change(
            &mut index,
            "orders/checkout.go",
            &checkout.replace("LOCAL", ""),
        );
        assert_eq!(index.snapshot().view_generation(&checkout_path), kept);
        // Renaming a function nothing else calls changes what the file declares, so the index is linked anew,
        // but nothing the file's own analysis reads of it: still the same view.
        let before_rename = index.snapshot();
        change(
            &mut index,
            "orders/checkout.go",
            &checkout.replace("LOCAL", "").replace("Twice", "Thrice"),
        );
        let snapshot = index.snapshot();
        assert!(!snapshot.shares_declarations_with(&before_rename));
        assert_eq!(snapshot.view_generation(&checkout_path), kept);
        assert_eq!(snapshot.view_generation(&gateway_path), index.generation());
        // Renaming the callee another file calls: the caller's call no longer resolves, its effects change,
        // and so does the callee's view.
        let gateway_before = snapshot.view_generation(&gateway_path);
        change(
            &mut index,
            "billing/gateway.go",
            &gateway
                .replace("KEY", "req.Header.Set(\"Idempotency-Key\", key)\n")
                .replace("Capture", "Charge"),
        );
        let snapshot = index.snapshot();
        assert_ne!(snapshot.view_generation(&gateway_path), gateway_before);
        assert_eq!(snapshot.view_generation(&gateway_path), index.generation());
    }
}
