//! The workspace index: every file's [`FileSummary`], with calls and types resolved across files by each
//! language's scoping and effects propagated from callees to callers, so that a rule can see through a call
//! into another file (a retry loop around a helper that POSTs, a body closed by a helper, a client built with
//! a timeout in another package).
//!
//! - **Names.** A function or type is keyed by its qualified name: Go `<package import path>.<Name>` and
//!   `<package>.<Type>.<Method>` (the import path from the nearest `go.mod`, so a key is the canonical path a
//!   caller's import resolves to); Rust `<crate>::<module>::<Name>` and `…::<Type>::<method>` (the crate from
//!   the nearest `Cargo.toml`, the module from the file's place under `src/`); TypeScript
//!   `<file without extension>#<Name>` and `#<Class>.<method>`.
//! - **Calls** resolve by path (through the caller's imports: Go import paths, Rust `use` and `crate::`/
//!   `self::`/`super::` paths and workspace crates, TS relative imports, `index` files and tsconfig
//!   `paths`), by the receiver's type (also a type another file declares), by name in the same Go package,
//!   and, for a method whose receiver is not known, by the method's name in the same package or crate: one
//!   definition gives medium confidence, several give low confidence and only the effects they all share.
//! - **Propagation.** Each function's effects flow to its callers, mapped through the arguments for effects
//!   on parameters (a body closed, a context passed on), to a fixed point of at most [`MAX_DEPTH`] calls;
//!   each propagated effect keeps the file and range where it happens, for a finding's evidence.
//! - **The file being analysed** is left out of its own lookups: its own functions are resolved by the
//!   same-file models from its current text, and its summary in the index may be older.

pub mod layout;
pub mod questions;
pub mod summarize;
pub mod summary;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dsr_core::finding::Confidence;
use dsr_syntax::{Language, TextRange};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::facts::{Call, FileFacts, ReceiverType, WorkspaceTypes};
pub use layout::{is_manifest, Layout, Place, MANIFESTS};
use questions::CallQuery;
pub use questions::{AnalysisReads, CallKey, IndexLookup, RecordedQuestions};
pub use summary::{
    Arg, CallSite, Effect, EffectSite, FileSummary, FunctionSummary, ParamSummary, TypeRef,
    TypeSummary, WriteKind,
};

/// How many calls an effect travels up: deep enough for wrappers of wrappers, bounded so that a large call
/// graph settles quickly.
pub const MAX_DEPTH: u8 = 8;

/// An effect of a function, where it happens and how sure the chain to it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Propagated {
    pub effect: Effect,
    /// The file (index into the index's files) and range where the effect happens.
    pub file: usize,
    pub range: TextRange,
    pub confidence: Confidence,
    /// How many calls away from the function it was found in (0: the function itself).
    pub depth: u8,
}

/// All summaries of a workspace, linked.
#[derive(Debug, Default)]
pub struct WorkspaceIndex {
    layout: Arc<Layout>,
    files: FxHashMap<PathBuf, (Arc<FileSummary>, Option<Place>)>,
    linked: Arc<Linked>,
    generation: u64,
}

/// The summaries with their names resolved and effects propagated; shared by the views handed to analyses.
#[derive(Debug, Default)]
pub struct Linked {
    files: Vec<LinkedFile>,
    /// What the files declare, by name: depends on the declarations only, so a relink after a change that
    /// keeps them shares it with the previous generation.
    names: Arc<Names>,
    /// Per file, per function: its effects after propagation.
    effects: Vec<Vec<Vec<Propagated>>>,
    /// Per file: the files whose functions call into it.
    dependents: Arc<Vec<FxHashSet<usize>>>,
    /// Parameters (file, function, parameter) every caller of the workspace gives a value that bounds time
    /// ([`Arg::Bounded`], or a parameter of its own that is bounded so), with one such call (file, range).
    bounded_params: Arc<BoundedParams>,
    /// Every call site that resolves, with its targets: kept so that a change of one file's effects
    /// resolves that file's call sites only.
    edges: Vec<Edge>,
    /// Whether `edges` hold every resolved call site (not after [`WorkspaceIndex::drop_call_sites`]).
    relinkable: bool,
    generation: u64,
    /// When this generation was linked after one file's change that left everything its own analysis reads of
    /// the index as it was (every other file's effects, the bounded parameters, what the other files declare
    /// under each name; [`Linked::keep_view_generation`]): that file, and the generation since which its view
    /// has not changed. An edit inside a function of an open document that nothing else calls — or renaming
    /// one, which links the index anew — changes only that file's own entries, and its analyses cached under
    /// the older generation stay valid ([`IndexSnapshot::view_generation`]).
    view_unchanged_for: Option<(usize, u64)>,
}

/// Parameters (file, function, parameter) that every caller bounds in time, with one such call (file, range).
type BoundedParams = FxHashMap<(usize, usize, usize), (usize, TextRange)>;

/// A resolved call site: the caller's file, function and call site, and what it reaches.
type Edge = (usize, usize, usize, Targets);

/// The declaration tables of a linked index.
#[derive(Debug, Default)]
struct Names {
    by_path: FxHashMap<PathBuf, usize>,
    /// Files by their file name, for finding one named by a path relative to its project.
    by_name: FxHashMap<std::ffi::OsString, Vec<usize>>,
    functions: FxHashMap<String, Vec<(usize, usize)>>,
    /// Methods by (package or crate, method name), for receivers of unknown type.
    methods: FxHashMap<(String, String), Vec<(usize, usize)>>,
    types: FxHashMap<String, (usize, usize)>,
    values: FxHashMap<String, (usize, usize)>,
    reexports: FxHashMap<String, (usize, usize)>,
    /// TS module keys (paths without extension) that exist.
    ts_modules: FxHashSet<PathBuf>,
    rust_crates: FxHashSet<String>,
}

impl Names {
    /// Whether every name resolves alike in both tables apart from file `id`'s own declarations (among the
    /// same files with the same ids): what a view of the index without `id` finds by name is then the same.
    fn same_apart_from(&self, other: &Names, id: usize) -> bool {
        fn single<K: Eq + std::hash::Hash>(
            a: &FxHashMap<K, (usize, usize)>,
            b: &FxHashMap<K, (usize, usize)>,
            id: usize,
        ) -> bool {
            let others =
                |m: &FxHashMap<K, (usize, usize)>| m.values().filter(|e| e.0 != id).count();
            others(a) == others(b)
                && a.iter()
                    .filter(|(_, e)| e.0 != id)
                    .all(|(k, e)| b.get(k) == Some(e))
        }
        fn many<K: Eq + std::hash::Hash>(
            a: &FxHashMap<K, Vec<(usize, usize)>>,
            b: &FxHashMap<K, Vec<(usize, usize)>>,
            id: usize,
        ) -> bool {
            let others = |list: Option<&Vec<(usize, usize)>>| {
                list.into_iter()
                    .flatten()
                    .filter(|e| e.0 != id)
                    .copied()
                    .collect::<Vec<_>>()
            };
            a.iter()
                .all(|(k, list)| others(Some(list)) == others(b.get(k)))
                && b.iter()
                    .all(|(k, list)| others(Some(list)) == others(a.get(k)))
        }
        self.by_path == other.by_path
            && self.by_name == other.by_name
            && self.ts_modules == other.ts_modules
            && self.rust_crates == other.rust_crates
            && single(&self.types, &other.types, id)
            && single(&self.values, &other.values, id)
            && single(&self.reexports, &other.reexports, id)
            && many(&self.functions, &other.functions, id)
            && many(&self.methods, &other.methods, id)
    }
}

#[derive(Debug)]
struct LinkedFile {
    path: PathBuf,
    summary: Arc<FileSummary>,
    place: Option<Place>,
}

/// The functions a call may reach and how sure that is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Targets {
    pub functions: Vec<(usize, usize)>,
    pub confidence: Confidence,
}

impl WorkspaceIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// An index whose files may be named relative to `root` (manifests are looked up from there).
    pub fn with_root(root: PathBuf) -> Self {
        WorkspaceIndex {
            layout: Arc::new(Layout::with_root(root)),
            ..Self::default()
        }
    }

    /// An empty index over the same workspace layout (its manifests read once for both).
    pub fn sharing_layout(&self) -> Self {
        WorkspaceIndex {
            layout: self.layout.clone(),
            ..Self::default()
        }
    }

    /// Adds or replaces a file's summary. Call [`WorkspaceIndex::link`] after a batch of changes.
    pub fn insert(&mut self, path: PathBuf, summary: FileSummary) {
        let place = summary
            .language
            .and_then(|language| self.layout.place(&path, language));
        self.files.insert(path, (Arc::new(summary), place));
    }

    pub fn remove(&mut self, path: &Path) -> bool {
        self.files.remove(path).is_some()
    }

    /// The summary last inserted for a file.
    pub fn summary(&self, path: &Path) -> Option<&FileSummary> {
        self.files.get(path).map(|(s, _)| &**s)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Changes with every [`WorkspaceIndex::link`]: results computed with an older index are stale. Unique in
    /// the process, not only in this index: an index built again (a manifest changed) must not share a number
    /// with the one it replaces, whose results engines and caches keep by it.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Resolves every call and propagates effects, after inserts and removals.
    pub fn link(&mut self) {
        self.generation = next_generation();
        if let Some(changed) = self.changed_keeping_declarations() {
            let next = self.linked.relink(&changed, self.generation);
            self.linked = Arc::new(next);
            return;
        }
        // One file whose declarations changed (an open document's method renamed): linked anew, but its own
        // view may still be the previous generation's.
        let only_changed = self.only_changed_file();
        let previous = only_changed.map(|_| self.linked.clone());
        let mut paths: Vec<&PathBuf> = self.files.keys().collect();
        // A stable order: file ids, and so which of two equal effects is kept, do not depend on hashing.
        paths.sort();
        let files = paths
            .into_iter()
            .map(|path| {
                let (summary, place) = &self.files[path];
                LinkedFile {
                    path: path.clone(),
                    summary: summary.clone(),
                    place: place.clone(),
                }
            })
            .collect();
        // The old tables go before the new ones are built (snapshots handed out keep theirs).
        self.linked = Arc::default();
        let mut linked = Linked::build(files, self.generation);
        if let (Some(id), Some(previous)) = (only_changed, previous) {
            linked.keep_view_generation(&previous, id);
        }
        self.linked = Arc::new(linked);
    }

    /// The one file whose summary changed since the last link, in place and among the same files (so with
    /// the same id in the next link); `None` when files were added or removed, or more than one changed.
    fn only_changed_file(&self) -> Option<usize> {
        let linked = &self.linked;
        if linked.files.len() != self.files.len() {
            return None;
        }
        let mut changed = None;
        for (path, (summary, place)) in &self.files {
            let &id = linked.names.by_path.get(path)?;
            let old = &linked.files[id];
            if old.place != *place {
                return None;
            }
            if !Arc::ptr_eq(&old.summary, summary) && changed.replace(id).is_some() {
                return None;
            }
        }
        changed
    }

    /// The files whose summaries changed since the last link (by id in the linked index, with the new
    /// summary), when none was added or removed and none changed what it declares; `None` when the index
    /// must be linked anew.
    fn changed_keeping_declarations(&self) -> Option<Vec<(usize, Arc<FileSummary>)>> {
        let linked = &self.linked;
        if !linked.relinkable || linked.files.is_empty() || linked.files.len() != self.files.len() {
            return None;
        }
        let mut changed = Vec::new();
        for (path, (summary, place)) in &self.files {
            let &id = linked.names.by_path.get(path)?;
            let old = &linked.files[id];
            if Arc::ptr_eq(&old.summary, summary) {
                continue;
            }
            if old.place != *place || !same_declarations(&old.summary, summary) {
                return None;
            }
            changed.push((id, summary.clone()));
        }
        changed.sort_by_key(|(id, _)| *id);
        Some(changed)
    }

    /// The paths of the files whose findings may change when `path`'s effects change: those that call into it,
    /// directly or through others.
    pub fn dependents(&self, path: &Path) -> Vec<PathBuf> {
        let linked = &self.linked;
        let Some(&start) = linked.names.by_path.get(path) else {
            return Vec::new();
        };
        let mut seen = FxHashSet::default();
        let mut stack = vec![start];
        while let Some(file) = stack.pop() {
            for &caller in &linked.dependents[file] {
                if caller != start && seen.insert(caller) {
                    stack.push(caller);
                }
            }
        }
        let mut out: Vec<PathBuf> = seen
            .into_iter()
            .map(|f| linked.files[f].path.clone())
            .collect();
        out.sort();
        out
    }

    /// The effects of every function of a file after propagation, by function name, for comparing two
    /// versions of the index (did a callee's effects change?).
    pub fn effects_of(&self, path: &Path) -> Vec<(String, Vec<Effect>)> {
        let linked = &self.linked;
        let Some(&file) = linked.names.by_path.get(path) else {
            return Vec::new();
        };
        linked.files[file]
            .summary
            .functions
            .iter()
            .zip(&linked.effects[file])
            .map(|(f, effects)| {
                (
                    f.name.clone(),
                    effects.iter().map(|e| e.effect.clone()).collect(),
                )
            })
            .collect()
    }

    /// What an analysis of the file at `path` asks the index through.
    pub fn view(&self, path: &Path, language: Language) -> Option<Arc<IndexView>> {
        self.snapshot().view(path, language)
    }

    /// The linked index as it is now, cheap to clone and to hand to analyses on other threads while the
    /// index itself goes on changing.
    pub fn snapshot(&self) -> IndexSnapshot {
        IndexSnapshot {
            layout: self.layout.clone(),
            linked: self.linked.clone(),
        }
    }
}

/// A generation no index of this process had: they are compared for equality only, and a number shared by two
/// indexes (each counting from zero) made an engine keep the older one's snapshot as current.
fn next_generation() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// A linked index at one generation.
#[derive(Clone, Debug)]
pub struct IndexSnapshot {
    layout: Arc<Layout>,
    linked: Arc<Linked>,
}

impl WorkspaceIndex {
    /// Takes every summary out of the index, which is left empty over the same layout (snapshots taken before
    /// keep theirs, and a summary they share is cloned).
    pub fn take_summaries(&mut self) -> FxHashMap<PathBuf, FileSummary> {
        self.linked = Arc::default();
        self.generation = next_generation();
        std::mem::take(&mut self.files)
            .into_iter()
            .map(|(path, (summary, _))| {
                let summary = Arc::try_unwrap(summary).unwrap_or_else(|shared| (*shared).clone());
                (path, summary)
            })
            .collect()
    }

    /// Drops every call site, once linked: what propagation needed is in the linked effects, and an index that
    /// will not change (the CLI's, built once per run) needs none to answer. An index whose files change (the
    /// language server's) keeps them to link again. Snapshots taken before keep theirs.
    pub fn drop_call_sites(&mut self) {
        // The linked files and `files` share each summary: the map's copies go first, so that each summary has
        // one owner and is changed in place, then they come back.
        let paths: Vec<PathBuf> = self.files.keys().cloned().collect();
        let mut places = FxHashMap::default();
        for path in paths {
            if let Some((_, place)) = self.files.remove(&path) {
                places.insert(path, place);
            }
        }
        if let Some(linked) = Arc::get_mut(&mut self.linked) {
            // The edges name call sites that go: the next link resolves everything anew.
            linked.edges = Vec::new();
            linked.relinkable = false;
            for file in &mut linked.files {
                if let Some(summary) = Arc::get_mut(&mut file.summary) {
                    for function in &mut summary.functions {
                        function.calls = Vec::new();
                    }
                }
            }
        }
        for file in &self.linked.files {
            if let Some(place) = places.remove(&file.path) {
                self.files
                    .insert(file.path.clone(), (file.summary.clone(), place));
            }
        }
        // Files the linked tables do not hold (none after a link) come back unchanged.
        debug_assert!(places.is_empty());
    }
}

impl IndexSnapshot {
    /// Keeps only the call sites of a summary of the file at `path` that this index's declarations resolve
    /// (calls of the file's own functions included). Linking resolves a call by the names the workspace
    /// declares, which a summary's effects do not change: a call this index resolves to nothing resolves to
    /// nothing in any index of the same files, and the rest (most call sites: library calls the knowledge base
    /// does not describe, `unwrap`, `map`, `fmt.Sprintf`) need not be kept. Only for an index whose files will
    /// not change: a function added later would be reached by a call dropped here.
    pub fn keep_resolvable_calls(&self, path: &Path, summary: &mut FileSummary) {
        let mut calls: Vec<Vec<CallSite>> = summary
            .functions
            .iter_mut()
            .map(|f| std::mem::take(&mut f.calls))
            .collect();
        self.keep_resolvable_calls_of(path, summary, &mut calls);
        for (function, kept) in summary.functions.iter_mut().zip(calls) {
            function.calls = kept;
        }
    }

    /// [`IndexSnapshot::keep_resolvable_calls`] for call sites held apart from their summary: `calls` per
    /// function of `declared` (whose imports and place they are resolved through).
    pub fn keep_resolvable_calls_of(
        &self,
        path: &Path,
        declared: &FileSummary,
        calls: &mut [Vec<CallSite>],
    ) {
        let Some(place) = declared
            .language
            .and_then(|language| self.layout.place(path, language))
        else {
            return;
        };
        let resolver = Resolver {
            linked: &self.linked,
            place: &place,
            imports: &declared.imports,
            exclude: None,
        };
        for function in calls.iter_mut() {
            function.retain(|call| call.local.is_some() || resolver.site(call).is_some());
            function.shrink_to_fit();
        }
    }

    pub fn generation(&self) -> u64 {
        self.linked.generation
    }

    /// The generation since which the analysis of the file at `path` sees the same index ([`IndexSnapshot::view`]
    /// gives it the same answers): [`IndexSnapshot::generation`], or an older one when the changes since only
    /// touched that file's own entries. Results cached for the file under that generation are still valid.
    pub fn view_generation(&self, path: &Path) -> u64 {
        match self.linked.file_at(path) {
            Some(file) => self.linked.view_generation_of(file),
            None => self.linked.generation,
        }
    }

    /// Whether this snapshot and `other` share their declaration tables: the later was linked from the
    /// earlier by resolving only the changed files' call sites (for tests and measurements).
    pub fn shares_declarations_with(&self, other: &IndexSnapshot) -> bool {
        Arc::ptr_eq(&self.linked.names, &other.linked.names)
    }

    /// What an analysis of the file at `path` asks the index through: its place in the module system, and the
    /// linked index without the file itself.
    pub fn view(&self, path: &Path, language: Language) -> Option<Arc<IndexView>> {
        if self.linked.files.is_empty() {
            return None;
        }
        // The language server analyses a file under its path relative to its project; the index holds it by
        // its absolute path.
        let exclude = self.linked.file_at(path);
        let indexed = exclude.map_or(path, |file| self.linked.path(file));
        let place = self.layout.place(indexed, language)?;
        Some(Arc::new(IndexView {
            linked: self.linked.clone(),
            exclude,
            place,
            language,
            record: None,
        }))
    }

    /// [`IndexSnapshot::view`] that notes every question asked through it, with its answer, in `record`
    /// ([`RecordedQuestions::reads`]): what the analysis read of the index, to be asked again of a later index.
    pub fn recording_view(
        &self,
        path: &Path,
        language: Language,
        record: Arc<RecordedQuestions>,
    ) -> Option<Arc<IndexView>> {
        let view = self.view(path, language)?;
        let view = Arc::try_unwrap(view).ok()?;
        Some(Arc::new(IndexView {
            record: Some(record),
            ..view
        }))
    }
}

impl Linked {
    fn build(files: Vec<LinkedFile>, generation: u64) -> Linked {
        let mut names = Names::default();
        for (id, file) in files.iter().enumerate() {
            names.by_path.insert(file.path.clone(), id);
            if let Some(name) = file.path.file_name() {
                names.by_name.entry(name.to_owned()).or_default().push(id);
            }
            let Some(place) = &file.place else {
                continue;
            };
            match place {
                Place::Ts { module, .. } => {
                    names.ts_modules.insert(module.clone());
                }
                Place::Rust { krate, .. } => {
                    names.rust_crates.insert(krate.clone());
                }
                Place::Go { .. } => {}
            }
            for (index, function) in file.summary.functions.iter().enumerate() {
                names
                    .functions
                    .entry(key(place, &function.name))
                    .or_default()
                    .push((id, index));
                if let Some((_, method)) = function.name.rsplit_once(['.', ':']) {
                    names
                        .methods
                        .entry((scope(place), method.to_string()))
                        .or_default()
                        .push((id, index));
                }
            }
            for (index, ty) in file.summary.types.iter().enumerate() {
                names.types.insert(key(place, &ty.name), (id, index));
            }
            for (index, (name, _)) in file.summary.values.iter().enumerate() {
                names.values.insert(key(place, name), (id, index));
            }
            for (index, (name, _)) in file.summary.reexports.iter().enumerate() {
                names.reexports.insert(key(place, name), (id, index));
            }
        }
        let mut linked = Linked {
            generation,
            files,
            names: Arc::new(names),
            ..Linked::default()
        };
        let edges: Vec<Edge> = (0..linked.files.len())
            .flat_map(|id| linked.resolve_calls_of(id))
            .collect();
        linked.dependents = Arc::new(dependents(linked.files.len(), &edges));
        linked.bounded_params = Arc::new(bounded_params(&linked.files, &edges));
        linked.propagate(edges);
        linked
    }

    /// The next generation after some files' summaries changed without changing what they declare (the
    /// same functions in the same order with the same signatures, the same types, values, re-exports and
    /// imports): every other file's call sites resolve as before, so only the changed files' are resolved
    /// again, and effects are propagated anew. `changed` holds the new summaries by file id.
    fn relink(&self, changed: &[(usize, Arc<FileSummary>)], generation: u64) -> Linked {
        let mut files: Vec<LinkedFile> = self
            .files
            .iter()
            .map(|f| LinkedFile {
                path: f.path.clone(),
                summary: f.summary.clone(),
                place: f.place.clone(),
            })
            .collect();
        for (id, summary) in changed {
            files[*id].summary = summary.clone();
        }
        let mut linked = Linked {
            generation,
            files,
            names: self.names.clone(),
            ..Linked::default()
        };
        let is_changed = |file: usize| changed.iter().any(|(id, _)| *id == file);
        let mut edges: Vec<Edge> = self
            .edges
            .iter()
            .filter(|(file, ..)| !is_changed(*file))
            .cloned()
            .collect();
        // Which files depend on which, and the parameters every caller bounds, follow from the resolved call
        // sites with their arguments: when the changed files' are the same as before (an edit that changes
        // what a function does, not whom it calls with what), both are the previous generation's.
        let mut same_calls = true;
        for (id, _) in changed {
            let old: Vec<&Edge> = self.edges.iter().filter(|e| e.0 == *id).collect();
            let new = linked.resolve_calls_of(*id);
            same_calls = same_calls
                && old.len() == new.len()
                && old.iter().zip(&new).all(|(a, b)| {
                    let call = |linked: &Linked, e: &Edge| {
                        let c = &linked.files[e.0].summary.functions[e.1].calls[e.2];
                        (c.args.clone(), c.method.clone())
                    };
                    **a == *b && call(self, a) == call(&linked, b)
                });
            edges.extend(new);
        }
        // The same order as a full link's: propagation keeps the first of two equal effects.
        edges.sort_by_key(|&(file, function, site, _)| (file, function, site));
        if same_calls {
            linked.dependents = self.dependents.clone();
            linked.bounded_params = self.bounded_params.clone();
        } else {
            linked.dependents = Arc::new(dependents(linked.files.len(), &edges));
            linked.bounded_params = Arc::new(bounded_params(&linked.files, &edges));
        }
        linked.propagate(edges);
        if let [(id, _)] = changed {
            linked.keep_view_generation(self, *id);
        }
        linked
    }

    /// After file `id` alone changed since `previous`: keeps `id`'s view generation from `previous` when
    /// nothing its analysis reads of the index changed — every other file's effects, the bounded parameters,
    /// and (after a link anew, where the changed file's declarations changed) what the other files declare
    /// under each name. The file's view leaves its own entries out.
    fn keep_view_generation(&mut self, previous: &Linked, id: usize) {
        let others_unchanged = self.effects.len() == previous.effects.len()
            && self
                .effects
                .iter()
                .zip(&previous.effects)
                .enumerate()
                .all(|(file, (new, old))| file == id || new == old);
        let same_names = Arc::ptr_eq(&self.names, &previous.names)
            || self.names.same_apart_from(&previous.names, id);
        // The view asks for its own functions' bounded parameters by name: each such entry's function must
        // have the same name, found at the same place, in both.
        let (own, own_before) = (&self.files[id].summary, &previous.files[id].summary);
        let bounded_alike = *self.bounded_params == *previous.bounded_params
            && self
                .bounded_params
                .keys()
                .filter(|k| k.0 == id)
                .all(|&(_, function, _)| {
                    let name = own.functions.get(function).map(|f| f.name.as_str());
                    name.is_some()
                        && name == own_before.functions.get(function).map(|f| f.name.as_str())
                        && name.and_then(|n| own.function(n)) == Some(function)
                        && name.and_then(|n| own_before.function(n)) == Some(function)
                });
        if others_unchanged && same_names && bounded_alike {
            self.view_unchanged_for = Some((id, previous.view_generation_of(id)));
        }
    }

    /// The generation since which file `id`'s view of the index has not changed.
    fn view_generation_of(&self, id: usize) -> u64 {
        match self.view_unchanged_for {
            Some((file, since)) if file == id => since,
            _ => self.generation,
        }
    }

    /// The call sites of file `id` that resolve, with their targets.
    fn resolve_calls_of(&self, id: usize) -> Vec<Edge> {
        let file = &self.files[id];
        let Some(place) = &file.place else {
            return Vec::new();
        };
        let resolver = Resolver {
            linked: self,
            place,
            imports: &file.summary.imports,
            exclude: None,
        };
        let mut edges = Vec::new();
        for (index, function) in file.summary.functions.iter().enumerate() {
            for (site, call) in function.calls.iter().enumerate() {
                let targets = match call.local {
                    Some(local) => Targets {
                        functions: vec![(id, local)],
                        confidence: Confidence::High,
                    },
                    None => match resolver.site(call) {
                        Some(targets) => targets,
                        None => continue,
                    },
                };
                edges.push((id, index, site, targets));
            }
        }
        edges
    }

    /// Effects flow from callees to callers along `edges`, to a fixed point or [`MAX_DEPTH`] rounds.
    fn propagate(&mut self, edges: Vec<Edge>) {
        let count = self.files.len();
        let mut effects: Vec<Vec<Vec<Propagated>>> = self
            .files
            .iter()
            .enumerate()
            .map(|(id, file)| {
                file.summary
                    .functions
                    .iter()
                    .map(|f| {
                        f.effects
                            .iter()
                            .map(|site| Propagated {
                                effect: site.effect.clone(),
                                file: id,
                                range: site.range,
                                confidence: Confidence::High,
                                depth: 0,
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        // Effect lists only grow: a call site whose targets' lists have not grown since it was last followed
        // would add nothing, and is skipped (the same result as following every call site every round). As
        // they only grow, the sum of their lengths tells whether any grew.
        let mut followed: Vec<Option<usize>> = vec![None; edges.len()];
        for _ in 0..MAX_DEPTH {
            let mut changed = false;
            for (edge, (file, function, site, targets)) in edges.iter().enumerate() {
                let lengths: usize = targets
                    .functions
                    .iter()
                    .map(|&(f, g)| effects[f][g].len())
                    .sum();
                if followed[edge] == Some(lengths) {
                    continue;
                }
                followed[edge] = Some(lengths);
                let call = &self.files[*file].summary.functions[*function].calls[*site];
                let reached = shared_effects(&effects, targets);
                for effect in reached {
                    if effect.depth + 1 > MAX_DEPTH {
                        continue;
                    }
                    let Some(mapped) = through_call(&effect.effect, &call.args) else {
                        continue;
                    };
                    let list = &mut effects[*file][*function];
                    if list.iter().any(|e| e.effect == mapped) {
                        continue;
                    }
                    list.push(Propagated {
                        effect: mapped,
                        depth: effect.depth + 1,
                        ..effect
                    });
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        tracing::debug!(
            files = count,
            functions = self
                .files
                .iter()
                .map(|f| f.summary.functions.len())
                .sum::<usize>(),
            call_sites = self
                .files
                .iter()
                .flat_map(|f| &f.summary.functions)
                .map(|f| f.calls.len())
                .sum::<usize>(),
            resolved_call_sites = edges.len(),
            "workspace index linked"
        );
        self.effects = effects;
        self.edges = edges;
        self.relinkable = true;
    }

    pub fn path(&self, file: usize) -> &Path {
        &self.files[file].path
    }

    /// The file held under `path`: its absolute path, or (the language server's relative paths) the one
    /// absolute path that ends with it.
    fn file_at(&self, path: &Path) -> Option<usize> {
        self.names
            .by_path
            .get(path)
            .copied()
            .or_else(|| self.by_relative_path(path))
    }

    /// The file held under an absolute path that ends with the relative `path` (one only).
    fn by_relative_path(&self, path: &Path) -> Option<usize> {
        if !path.is_relative() {
            return None;
        }
        let name = path.file_name()?;
        let mut found = self
            .names
            .by_name
            .get(name)?
            .iter()
            .copied()
            .filter(|&f| self.files[f].path.ends_with(path));
        let first = found.next()?;
        found.next().is_none().then_some(first)
    }

    pub fn function(&self, (file, function): (usize, usize)) -> &FunctionSummary {
        &self.files[file].summary.functions[function]
    }

    pub fn effects(&self, (file, function): (usize, usize)) -> &[Propagated] {
        &self.effects[file][function]
    }
}

/// Per file: the files whose functions call into it.
fn dependents(count: usize, edges: &[Edge]) -> Vec<FxHashSet<usize>> {
    let mut dependents = vec![FxHashSet::default(); count];
    for (id, _, _, targets) in edges {
        for &(callee_file, _) in &targets.functions {
            if callee_file != *id {
                dependents[callee_file].insert(*id);
            }
        }
    }
    dependents
}

/// Whether two summaries of a file declare the same things, as far as resolving other files' calls and
/// types goes: the same functions in the same order with the same signatures, the same types, values and
/// re-exports, the same imports and package. Where things are does not count.
fn same_declarations(a: &FileSummary, b: &FileSummary) -> bool {
    a.language == b.language
        && a.package == b.package
        && a.imports == b.imports
        && a.types == b.types
        && a.reexports == b.reexports
        && a.values == b.values
        && a.functions.len() == b.functions.len()
        && a.functions
            .iter()
            .zip(&b.functions)
            .all(|(x, y)| x.name == y.name && x.params == y.params && x.returns == y.returns)
}

/// The effects every target has (all of them when there is one), at the lower of the chain's and the
/// resolution's confidence.
fn shared_effects(effects: &[Vec<Vec<Propagated>>], targets: &Targets) -> Vec<Propagated> {
    let Some((&(file, function), rest)) = targets.functions.split_first() else {
        return Vec::new();
    };
    effects[file][function]
        .iter()
        .filter(|e| {
            rest.iter()
                .all(|&(f, g)| effects[f][g].iter().any(|o| o.effect == e.effect))
        })
        .map(|e| Propagated {
            confidence: e.confidence.min(targets.confidence),
            ..e.clone()
        })
        .collect()
}

/// A call into a function: the caller's file and function, and the call site.
type IncomingCall<'a> = (usize, usize, &'a CallSite);

/// The parameters every caller gives a value that bounds time: facts that flow into a callee (a context with a
/// deadline, a client built with a timeout). A caller that passes its own parameter counts when that parameter
/// is bounded by all of its callers in turn, to a fixed point of at most [`MAX_DEPTH`] rounds; a function
/// nobody in the workspace calls has no bounded parameter (its callers are elsewhere), and a call that may
/// reach several functions counts as a caller of each.
fn bounded_params(files: &[LinkedFile], edges: &[Edge]) -> BoundedParams {
    // Each callee's incoming call sites: (caller file, caller function, call), and the argument offset (a
    // Rust method's `self` is its first parameter and no argument).
    let mut incoming: FxHashMap<(usize, usize), Vec<IncomingCall<'_>>> = FxHashMap::default();
    for (file, function, site, targets) in edges {
        let call = &files[*file].summary.functions[*function].calls[*site];
        for &target in &targets.functions {
            incoming
                .entry(target)
                .or_default()
                .push((*file, *function, call));
        }
    }
    let mut bounded: FxHashMap<(usize, usize, usize), (usize, TextRange)> = FxHashMap::default();
    // Only callees some caller passes a value that bounds time, or a parameter, can have one.
    incoming.retain(|_, calls| {
        calls.iter().all(|(_, _, call)| {
            call.args
                .iter()
                .any(|a| matches!(a, Arg::Bounded | Arg::Param(_)))
        })
    });
    for _ in 0..MAX_DEPTH {
        let mut changed = false;
        for (&(file, function), calls) in &incoming {
            let params = &files[file].summary.functions[function].params;
            let offset = usize::from(params.first().is_some_and(|p| p.name == "self"));
            for param in offset..params.len() {
                if bounded.contains_key(&(file, function, param)) {
                    continue;
                }
                let mut evidence = None;
                let all = calls.iter().all(|&(caller_file, caller, call)| {
                    let shift = if call.method.is_some() { offset } else { 0 };
                    match call.args.get(param - shift) {
                        Some(Arg::Bounded) => {
                            evidence.get_or_insert((caller_file, call.range));
                            true
                        }
                        Some(Arg::Param(p)) => match bounded.get(&(caller_file, caller, *p)) {
                            Some(&at) => {
                                evidence.get_or_insert(at);
                                true
                            }
                            None => false,
                        },
                        _ => false,
                    }
                });
                if let (true, Some(at)) = (all, evidence) {
                    bounded.insert((file, function, param), at);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    bounded
}

/// What a callee's effect means for its caller, given what the caller passes: an effect on a parameter
/// becomes an effect on the caller's parameter it was given, or nothing. A timeout the callee sets on what it
/// builds says nothing about its callers.
fn through_call(effect: &Effect, args: &[Arg]) -> Option<Effect> {
    let param_of = |index: usize| match args.get(index) {
        Some(Arg::Param(caller)) => Some(*caller),
        _ => None,
    };
    match effect {
        Effect::ClosesBody { param } => param_of(*param).map(|param| Effect::ClosesBody { param }),
        Effect::PropagatesCtx { param } => {
            param_of(*param).map(|param| Effect::PropagatesCtx { param })
        }
        Effect::Ack { param: Some(p) } => Some(Effect::Ack {
            param: param_of(*p),
        }),
        Effect::SetsTimeout => None,
        other => Some(other.clone()),
    }
}

/// The key of a declaration named `name` (as the facts name it) in a file at `place`.
fn key(place: &Place, name: &str) -> String {
    match place {
        Place::Go { package } => format!("{package}.{name}"),
        Place::Rust { krate, module } => {
            let mut parts = vec![krate.as_str()];
            parts.extend(module.iter().map(String::as_str));
            parts.push(name);
            parts.join("::")
        }
        Place::Ts { module, .. } => format!("{}#{name}", module.display()),
    }
}

/// What methods of unknown receivers are looked for in: the Go package, the Rust crate; a TS module only.
fn scope(place: &Place) -> String {
    match place {
        Place::Go { package } => package.clone(),
        Place::Rust { krate, .. } => krate.clone(),
        Place::Ts { module, .. } => module.display().to_string(),
    }
}

/// Resolves names written in one file.
struct Resolver<'a> {
    linked: &'a Linked,
    place: &'a Place,
    /// The file's imports (`local → path`).
    imports: &'a [(String, String)],
    exclude: Option<usize>,
}

impl Resolver<'_> {
    /// The keys a name the file writes may stand for, most likely first: `resolved` is a path through the
    /// file's imports, `written` the name as the file wrote it.
    fn keys(&self, resolved: Option<&str>, written: Option<&str>) -> Vec<String> {
        let mut keys = Vec::new();
        match self.place {
            Place::Go { package } => {
                if let Some(path) = resolved {
                    keys.push(path.to_string());
                } else if let Some(name) = written {
                    keys.push(format!("{package}.{name}"));
                }
            }
            Place::Rust { krate, module } => {
                for text in resolved.into_iter().chain(written) {
                    let text = text.strip_prefix("::").unwrap_or(text);
                    let parts: Vec<&str> = text.split("::").collect();
                    match parts.first().copied() {
                        Some("crate") => keys.push(join(krate, &[], &parts[1..])),
                        Some("self") => keys.push(join(krate, module, &parts[1..])),
                        Some("super") => {
                            let ups = parts.iter().take_while(|p| **p == "super").count();
                            let base = &module[..module.len().saturating_sub(ups)];
                            keys.push(join(krate, base, &parts[ups..]));
                        }
                        Some(head) if self.linked.names.rust_crates.contains(head) => {
                            keys.push(text.to_string());
                        }
                        Some(_) => {
                            keys.push(join(krate, module, &parts));
                            keys.push(join(krate, &[], &parts));
                            keys.push(text.to_string());
                        }
                        None => {}
                    }
                }
            }
            Place::Ts { module, aliases } => {
                if let Some(path) = resolved {
                    if path.contains('#') {
                        keys.push(path.to_string());
                    } else {
                        // `./billing.charge`: a module and a member, or (a default import) the module alone.
                        let mut splits = vec![(path, "default")];
                        if let Some((m, member)) = path.rsplit_once('.') {
                            if !member.contains('/') && !m.is_empty() && !m.ends_with('.') {
                                splits.insert(0, (m, member));
                            }
                        }
                        for (specifier, member) in splits {
                            for file in self.ts_module(module, aliases, specifier) {
                                keys.push(format!("{}#{member}", file.display()));
                            }
                        }
                    }
                } else if let Some(name) = written {
                    keys.push(format!("{}#{name}", module.display()));
                }
            }
        }
        keys.dedup();
        keys
    }

    /// The module files a TS import specifier may name: relative to the importing file, through a tsconfig
    /// alias or `baseUrl`; the file itself or its directory's `index`.
    fn ts_module(
        &self,
        importer: &Path,
        aliases: &layout::TsAliases,
        specifier: &str,
    ) -> Vec<PathBuf> {
        let mut bases = Vec::new();
        if specifier.starts_with('.') {
            if let Some(dir) = importer.parent() {
                bases.push(layout::normalize(&dir.join(specifier)));
            }
        } else {
            for (prefix, dirs) in &aliases.paths {
                if let Some(rest) = specifier.strip_prefix(prefix.as_str()) {
                    bases.extend(dirs.iter().map(|d| layout::normalize(&d.join(rest))));
                }
            }
            if let Some(base) = &aliases.base {
                bases.push(layout::normalize(&base.join(specifier)));
            }
        }
        bases
            .into_iter()
            .flat_map(|b| {
                let b = layout::without_extension(&b);
                [b.clone(), b.join("index")]
            })
            .filter(|m| self.linked.names.ts_modules.contains(m))
            .collect()
    }

    fn lookup_function(&self, keys: &[String]) -> Vec<(usize, usize)> {
        self.lookup_function_within(keys, 4)
    }

    /// Functions by key, following re-exports (`export { capture } from "./gateway"` in an `index.ts`,
    /// `pub use billing::charge;`) at most `depth` times.
    fn lookup_function_within(&self, keys: &[String], depth: usize) -> Vec<(usize, usize)> {
        for k in keys {
            if let Some(found) = self.linked.names.functions.get(k) {
                let found: Vec<_> = found
                    .iter()
                    .copied()
                    .filter(|(f, _)| Some(*f) != self.exclude)
                    .collect();
                if !found.is_empty() {
                    return found;
                }
            }
            if depth == 0 {
                continue;
            }
            if let Some(&(file, index)) = self.linked.names.reexports.get(k) {
                let declaring = &self.linked.files[file];
                let Some(place) = &declaring.place else {
                    continue;
                };
                let (_, target) = &declaring.summary.reexports[index];
                let there = Resolver {
                    linked: self.linked,
                    place,
                    imports: &declaring.summary.imports,
                    exclude: self.exclude,
                };
                let found = there.lookup_function_within(
                    &there.keys(target.resolved.as_deref(), Some(&target.written)),
                    depth - 1,
                );
                if !found.is_empty() {
                    return found;
                }
            }
        }
        Vec::new()
    }

    /// The functions a call site of a summary reaches (not one of its own file's functions).
    fn site(&self, call: &CallSite) -> Option<Targets> {
        let receiver = call.receiver.as_ref().map(|r| match &r.resolved {
            Some(path) => ReceiverType::Resolved(path.clone()),
            None => ReceiverType::Written(r.written.clone()),
        });
        self.call(
            &call.callee,
            call.path.as_deref(),
            call.method.as_deref(),
            receiver.as_ref(),
        )
    }

    /// The functions a call reaches.
    fn call(
        &self,
        callee: &str,
        path: Option<&str>,
        method: Option<&str>,
        receiver: Option<&ReceiverType>,
    ) -> Option<Targets> {
        let exact = |functions: Vec<(usize, usize)>| {
            (!functions.is_empty()).then_some(Targets {
                confidence: if functions.len() == 1 {
                    Confidence::High
                } else {
                    Confidence::Low
                },
                functions,
            })
        };
        if let Some(path) = path {
            if let Some(found) = exact(self.lookup_function(&self.keys(Some(path), None))) {
                return Some(found);
            }
        }
        let separator = match self.place {
            Place::Rust { .. } => "::",
            _ => ".",
        };
        if let (Some(method), Some(receiver)) = (method, receiver) {
            let owners = match receiver {
                ReceiverType::Resolved(p) => self.keys(Some(p), None),
                ReceiverType::Written(w) => self.keys(self.import(w).as_deref(), Some(w)),
                ReceiverType::Unknown => Vec::new(),
            };
            let keys: Vec<String> = owners
                .iter()
                .map(|o| match self.place {
                    Place::Ts { .. } if o.contains('#') => format!("{o}.{method}"),
                    _ => format!("{o}{separator}{method}"),
                })
                .collect();
            if let Some(found) = exact(self.lookup_function(&keys)) {
                return Some(found);
            }
            // A library's type, or a type of the workspace without that method (an embedded type's, an
            // interface's): not found by name elsewhere.
            if matches!(receiver, ReceiverType::Resolved(_))
                || owners
                    .iter()
                    .any(|o| self.linked.names.types.contains_key(o))
            {
                return None;
            }
        }
        if method.is_none() && path.is_none() {
            // `helper(…)`: the same Go package, Rust module or TS module.
            let name = dsr_core::kb::last_segment(callee);
            if let Some(found) = exact(self.lookup_function(&self.keys(None, Some(name)))) {
                return Some(found);
            }
            if callee.contains("::") {
                if let Some(found) = exact(self.lookup_function(&self.keys(Some(callee), None))) {
                    return Some(found);
                }
            }
            return None;
        }
        // A method on a receiver of unknown type: by name in the same package or crate, never guessed between
        // several.
        let method = method?;
        if matches!(self.place, Place::Ts { .. }) {
            return None;
        }
        let found: Vec<(usize, usize)> = self
            .linked
            .names
            .methods
            .get(&(scope(self.place), method.to_string()))?
            .iter()
            .copied()
            .filter(|(f, _)| Some(*f) != self.exclude)
            .collect();
        match found.len() {
            0 => None,
            1 => Some(Targets {
                functions: found,
                confidence: Confidence::Medium,
            }),
            _ => Some(Targets {
                functions: found,
                confidence: Confidence::Low,
            }),
        }
    }

    fn import(&self, local: &str) -> Option<String> {
        let head = local.split(['.', ':']).next().unwrap_or(local);
        self.imports
            .iter()
            .rev()
            .find(|(l, _)| l == head)
            .map(|(_, path)| {
                let rest = &local[head.len()..];
                format!("{path}{rest}")
            })
    }

    /// A type another file declares, as a receiver type in this file's terms: a workspace key when it is the
    /// workspace's, the library's path when it is a library's.
    fn receiver_in(&self, declaring: usize, ty: &TypeRef) -> Option<ReceiverType> {
        let file = &self.linked.files[declaring];
        let place = file.place.as_ref()?;
        let there = Resolver {
            linked: self.linked,
            place,
            imports: &file.summary.imports,
            exclude: None,
        };
        let keys = there.keys(ty.resolved.as_deref(), Some(&ty.written));
        for k in &keys {
            if self.linked.names.types.contains_key(k)
                || self.linked.names.values.contains_key(k)
                || self.linked.names.reexports.contains_key(k)
            {
                return Some(ReceiverType::Resolved(k.clone()));
            }
        }
        match &ty.resolved {
            Some(path) => Some(ReceiverType::Resolved(path.clone())),
            None if ty.written.is_empty() => None,
            None => Some(ReceiverType::Written(ty.written.clone())),
        }
    }
}

fn join(krate: &str, module: &[String], rest: &[&str]) -> String {
    let mut parts = vec![krate];
    parts.extend(module.iter().map(String::as_str));
    parts.extend(rest.iter().copied());
    parts.join("::")
}

/// The index as one file's analysis sees it.
#[derive(Debug)]
pub struct IndexView {
    linked: Arc<Linked>,
    exclude: Option<usize>,
    place: Place,
    language: Language,
    /// Where the questions asked through this view are noted, when they are.
    record: Option<Arc<RecordedQuestions>>,
}

/// What the index knows about a call: the effects of the functions it reaches.
#[derive(Clone, Debug)]
pub struct CallEffects<'a> {
    pub targets: Targets,
    pub effects: Vec<Propagated>,
    pub linked: &'a Linked,
}

/// The digest of a remote effect found through the index, with its file by path (files' numbers differ
/// from one index to the next).
pub(crate) fn remote_digest((effect, path): &(Propagated, &Path)) -> u64 {
    questions::answer_digest(&(
        &effect.effect,
        path,
        effect.range,
        effect.confidence,
        effect.depth,
    ))
}

impl CallEffects<'_> {
    /// The first effect that satisfies `wanted`, the nearest first.
    pub fn find(&self, wanted: impl Fn(&Effect) -> bool) -> Option<&Propagated> {
        self.effects
            .iter()
            .filter(|e| wanted(&e.effect))
            .min_by_key(|e| e.depth)
    }

    pub fn path(&self, effect: &Propagated) -> &Path {
        self.linked.path(effect.file)
    }
}

impl IndexView {
    /// Resolves names as this file writes them; types are asked with canonical paths already, so they need
    /// no imports.
    fn resolver<'a>(&'a self, imports: &'a [(String, String)], exclude: bool) -> Resolver<'a> {
        Resolver {
            linked: &self.linked,
            place: &self.place,
            imports,
            exclude: self.exclude.filter(|_| exclude),
        }
    }

    /// The generation of the index this view was taken from.
    pub fn generation(&self) -> u64 {
        self.linked.generation
    }

    pub fn language(&self) -> Language {
        self.language
    }

    /// What a call of the file reaches in other files, if the index resolves it.
    pub fn call_effects(&self, facts: &FileFacts<'_>, call: &Call<'_>) -> Option<CallEffects<'_>> {
        self.recorded_call_lookup(
            facts,
            call,
            |view, query| view.call_effects_of(query),
            IndexLookup::CallEffects,
            CallEffects::digest,
        )
    }

    /// Asks `lookup` of a call of the file (none for a constructor call without a path, which resolves to
    /// nothing), and records the question as `question` with its answer's `digest` when this view records.
    fn recorded_call_lookup<'v, T>(
        &'v self,
        facts: &FileFacts<'_>,
        call: &Call<'_>,
        lookup: impl FnOnce(&'v Self, CallQuery<'_>) -> Option<T>,
        question: fn(CallKey) -> IndexLookup,
        digest: impl FnOnce(&T) -> u64,
    ) -> Option<T> {
        if call.is_new && call.path.is_none() {
            return None;
        }
        let receiver = call.receiver.map(|_| facts.receiver_type(call));
        let query = CallQuery {
            callee: &call.callee_text,
            path: call.path.as_deref(),
            method: call.method.as_deref(),
            receiver: receiver.as_ref(),
        };
        let found = lookup(self, query);
        if let Some(record) = &self.record {
            record.note_lookup(question(query.key()), found.as_ref().map(digest));
        }
        found
    }

    pub(crate) fn call_effects_of(&self, query: CallQuery<'_>) -> Option<CallEffects<'_>> {
        // The file's own imports resolved its calls' paths and receivers already.
        let resolver = self.resolver(&[], true);
        let targets = resolver.call(query.callee, query.path, query.method, query.receiver)?;
        let effects = shared_effects(&self.linked.effects, &targets);
        Some(CallEffects {
            targets,
            effects,
            linked: &self.linked,
        })
    }

    /// The most telling remote effect a call of the file reaches in other files — a write a repeat
    /// duplicates, then a mutation, then any, the nearest first — with the file it happens in: what the
    /// remote-calls model reads of [`IndexView::call_effects`]. Asked (and recorded) apart from it, since a
    /// call into a function that reaches nothing remote answers as a call the index does not resolve: an
    /// analysis that asked only this of a call holds whatever else the function does.
    pub fn remote_effect(
        &self,
        facts: &FileFacts<'_>,
        call: &Call<'_>,
    ) -> Option<(Propagated, &Path)> {
        self.recorded_call_lookup(
            facts,
            call,
            |view, query| view.remote_effect_of(query),
            IndexLookup::RemoteEffect,
            remote_digest,
        )
    }

    pub(crate) fn remote_effect_of(&self, query: CallQuery<'_>) -> Option<(Propagated, &Path)> {
        let effects = self.call_effects_of(query)?;
        let rank = |e: &Effect| match e {
            Effect::Remote {
                duplicate: Some(_), ..
            } => 3,
            Effect::Remote { mutation: true, .. } => 2,
            Effect::Remote { .. } => 1,
            _ => 0,
        };
        let best = effects
            .effects
            .iter()
            .filter(|e| rank(&e.effect) > 0)
            .max_by_key(|e| (rank(&e.effect), std::cmp::Reverse(e.depth)))?;
        Some((best.clone(), self.linked.path(best.file)))
    }
}

impl CallEffects<'_> {
    /// What an analysis can read of the answer, with files named by path (their numbers differ from one
    /// index to the next): the functions reached (name and range) and each effect where it happens.
    pub(crate) fn digest(&self) -> u64 {
        let functions: Vec<_> = self
            .targets
            .functions
            .iter()
            .map(|&target| {
                let function = self.linked.function(target);
                (self.linked.path(target.0), &function.name, function.range)
            })
            .collect();
        let effects: Vec<_> = self
            .effects
            .iter()
            .map(|e| {
                (
                    &e.effect,
                    self.linked.path(e.file),
                    e.range,
                    e.confidence,
                    e.depth,
                )
            })
            .collect();
        questions::answer_digest(&(self.targets.confidence, functions, effects))
    }
}

impl IndexView {
    /// Whether every caller in the workspace of this file's function `function` (as the facts name it) gives
    /// parameter `param` a value that bounds time (a context with a deadline, a signal that times out, options
    /// or a client with a timeout): the file and range of one such call. `None` when some caller does not, or
    /// no caller is known. The file's own callers are read from its summary in the index.
    pub fn bounded_by_callers(&self, function: &str, param: usize) -> Option<(&Path, TextRange)> {
        let found = self.bounded_by_callers_unrecorded(function, param);
        if let Some(record) = &self.record {
            record.note_lookup(
                IndexLookup::BoundedByCallers {
                    function: function.to_string(),
                    param,
                },
                found.as_ref().map(questions::answer_digest),
            );
        }
        found
    }

    pub(crate) fn bounded_by_callers_unrecorded(
        &self,
        function: &str,
        param: usize,
    ) -> Option<(&Path, TextRange)> {
        let file = self.exclude?;
        let index = self.linked.files[file].summary.function(function)?;
        let &(at, range) = self.linked.bounded_params.get(&(file, index, param))?;
        Some((self.linked.path(at), range))
    }
}

impl IndexView {
    /// Where another method of the type `owner` (as this file's function names give it: `Lock` of
    /// `Lock.Release`) takes a lock on `key` (as written, `l.key`), in another file of the same Go package or
    /// Rust crate: the file, the range of the claim and whether the lock expires. A TS class lives in one
    /// file, which its own analysis sees whole.
    pub fn lock_taken_by_type(&self, owner: &str, key: &str) -> Option<(&Path, TextRange, bool)> {
        let found = self.lock_taken_by_type_unrecorded(owner, key);
        if let Some(record) = &self.record {
            record.note_lookup(
                IndexLookup::LockTakenByType {
                    owner: owner.to_string(),
                    key: key.to_string(),
                },
                found.as_ref().map(questions::answer_digest),
            );
        }
        found
    }

    pub(crate) fn lock_taken_by_type_unrecorded(
        &self,
        owner: &str,
        key: &str,
    ) -> Option<(&Path, TextRange, bool)> {
        let scope_here = scope(&self.place);
        for (id, file) in self.linked.files.iter().enumerate() {
            if Some(id) == self.exclude
                || file.place.as_ref().map(scope).as_deref() != Some(scope_here.as_str())
            {
                continue;
            }
            for function in &file.summary.functions {
                let Some((type_name, _)) = function.name.rsplit_once(['.', ':']) else {
                    continue;
                };
                if type_name.trim_end_matches(':') != owner {
                    continue;
                }
                for site in &function.effects {
                    if let Effect::Lock {
                        acquire: true,
                        key: Some(taken),
                        expires,
                    } = &site.effect
                    {
                        if taken == key {
                            return Some((file.path.as_path(), site.range, *expires));
                        }
                    }
                }
            }
        }
        None
    }
}

impl WorkspaceTypes for IndexView {
    fn field_type(&self, owner: &ReceiverType, field: &str) -> Option<ReceiverType> {
        let resolver = self.resolver(&[], false);
        let keys = match owner {
            ReceiverType::Resolved(p) => resolver.keys(Some(p), None),
            ReceiverType::Written(w) => resolver.keys(None, Some(w)),
            ReceiverType::Unknown => return None,
        };
        let &(file, index) = keys.iter().find_map(|k| self.linked.names.types.get(k))?;
        if Some(file) == self.exclude {
            return None;
        }
        let ty = &self.linked.files[file].summary.types[index];
        let (_, field_type) = ty.fields.iter().find(|(name, _)| name == field)?;
        resolver.receiver_in(file, field_type)
    }

    fn canonical(&self, ty: &ReceiverType) -> Option<ReceiverType> {
        let resolver = self.resolver(&[], false);
        let keys = match ty {
            ReceiverType::Resolved(p) => resolver.keys(Some(p), None),
            ReceiverType::Written(w) => resolver.keys(None, Some(w)),
            ReceiverType::Unknown => return None,
        };
        for k in &keys {
            if let Some(&(file, index)) = self.linked.names.reexports.get(k) {
                let (_, target) = &self.linked.files[file].summary.reexports[index];
                return resolver.receiver_in(file, target);
            }
            if let Some(&(file, index)) = self.linked.names.values.get(k) {
                let (_, value) = &self.linked.files[file].summary.values[index];
                return value.resolved.clone().map(ReceiverType::Resolved);
            }
            if let Some(&(file, index)) = self.linked.names.types.get(k) {
                // A type the workspace declares is its own canonical name: calls on it resolve to the same
                // key under either name (see `Resolver::call`). Answering with a new name would only rename
                // it, and summarize the file a second time for nothing (`RecordedQuestions`).
                let declared = &self.linked.files[file].summary.types[index];
                return declared
                    .alias_of
                    .as_ref()
                    .and_then(|target| resolver.receiver_in(file, target));
            }
        }
        None
    }

    fn return_type(
        &self,
        callee: &str,
        path: Option<&str>,
        method: Option<&str>,
        receiver: Option<&ReceiverType>,
    ) -> Option<ReceiverType> {
        let resolver = self.resolver(&[], true);
        let targets = resolver.call(callee, path, method, receiver)?;
        let [target] = targets.functions.as_slice() else {
            return None;
        };
        let returns = self.linked.function(*target).returns.as_ref()?;
        resolver.receiver_in(target.0, returns)
    }
}
