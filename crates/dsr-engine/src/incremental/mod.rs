//! Analysis proportional to the edit: the findings of a file assembled from *slices*, each re-run only when
//! its text changed.
//!
//! The file is cut into top-level [chunks](chunks) (a function, a method, an `impl` block, a class, a type, a
//! variable, an import, a top-level statement, each with the comments before it). A chunk's findings are
//! computed on a slice of the file: the chunks they can depend on, in file order, each run of chunks or
//! statements left out replaced by one line break (offsets map back piece by piece):
//!
//! - the *global* chunks: package clause, imports, `use` declarations, and whatever this module cannot scope
//!   (top-level macro invocations, ERROR nodes);
//! - the chunk itself and, transitively, every chunk whose names it calls (same-file helpers whose remote calls
//!   the effect model propagates to their callers) or mentions as declarations (types, package-level
//!   variables and constants, and what those mention);
//! - the chunks that mention it as a value (a router that registers it as a handler, a callback passed to a
//!   retry library), with the declarations they mention, but not their callees, and without their top-level
//!   statements that mention other functions of the file and not this one (the other registrations);
//! - the chunks that assign to the same package-level variable or struct field, and a declaration's writers;
//! - if `main` reaches the chunk through calls, the chunks on the way;
//! - for top-level statements (TS module code), all the other top-level statements, which run together.
//!
//! A slice is identified by the texts of its chunks; its result (findings, comments, rule failures) is cached
//! under that identity, with positions relative to its chunks, and moved to where those chunks are now. An
//! empty cache is filled from one whole-file analysis, cut into what each slice would give. A
//! one-character edit inside a function changes one chunk: the slices that contain it are analysed again
//! (that function with its helpers and declarations, and the callers that pull it in), every other slice's
//! findings are reused.
//!
//! Exactness is a tested property, not an assumption: for every rule fixture and sample file, the assembled
//! findings must equal those of [`Engine::analyze`] on the whole file, before and after random edits
//! (crates/dsr-rules/tests/incremental.rs). A rule whose findings depend on a chunk that none of the links
//! above reaches breaks that test; the few that do by design are listed there, and the language server's
//! confirming whole-file pass settles them.

mod chunks;
mod fallback;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use dsr_syntax::{Language, TextRange};
use rustc_hash::{FxHashMap, FxHashSet, FxHasher};
use std::hash::Hasher;
use tree_sitter::Tree;

use crate::cancel::{Cancellation, Cancelled};
use crate::engine::{Analysis, AnalysisInput, Engine, Prescan, RawAnalysis, RuleFailure};
use chunks::{Chunk, ChunkNames, Kinds, Role};
use dsr_core::finding::Finding;
use dsr_core::rule::Model;
use dsr_semantic::roles::CodeRoles;
use dsr_semantic::FileFacts;

/// What the analysis of one document keeps between versions. One per document; start with
/// [`IncrementalCache::default`].
#[derive(Default)]
pub struct IncrementalCache {
    /// Analyse every slice even when the cache is empty, instead of seeding it from one whole-file analysis
    /// (for the exactness test, which must see what the slices alone give).
    slices_only: bool,
    /// Analyse the slices an edit needs even when they cost more than the whole file (benchmarks compare).
    no_whole_file_fallback: bool,
    key: Option<CacheKey>,
    names: FxHashMap<u64, Arc<ChunkNames>>,
    slices: FxHashMap<u64, Arc<SliceResult>>,
    /// Results of recent versions' slices that the current version does not use ([`IncrementalCache::keep`]):
    /// a keystroke deleted again, a `(` typed and removed, an undo, return to them instead of analysing again.
    earlier: FxHashMap<u64, Arc<SliceResult>>,
    plan: Option<Plan>,
    /// The plan of the version before, when this version's had to be made anew: typing a letter into a name
    /// changes what a chunk mentions, and deleting it again returns to the plan before.
    earlier_plan: Option<Plan>,
    last_slice: Option<LastSlice>,
    /// What this document's analyses cost, learned from their timings: what the choice between slices, their
    /// union and the whole file is priced with ([`fallback::strategy`]). Kept when the cache is emptied (a new
    /// index generation, a directive typed): the document's costs stay about the same.
    prices: fallback::Prices,
    /// The results of the last few versions analysed whole without a plan, with their text, which left no
    /// slices to return to: typing a letter, deleting it and typing it again comes back to one. Found by
    /// comparing the texts (a length compared first, then bytes: cheaper than hashing the text, and exact).
    unplanned: Vec<(String, Analysis)>,
    stats: IncrementalStats,
}

/// How many results of versions analysed whole without a plan a cache keeps.
const UNPLANNED_KEPT: usize = 2;

/// What analysing a slice updates in the document's cache besides its result: the last slice parsed (the next
/// one's parse starts from its tree) and the prices learned from the slice's timings.
struct SliceMemory<'a> {
    last_slice: &'a mut Option<LastSlice>,
    prices: &'a mut fallback::Prices,
}

/// Which chunks each chunk's findings are computed with, kept while the links between chunks stay the same:
/// the usual keystroke changes a chunk's text but neither what the file defines nor which of those
/// definitions the chunk mentions, and then planning costs one comparison per changed chunk.
struct Plan {
    /// The text hash of each chunk the plan was made for.
    hashes: Vec<u64>,
    /// Every chunk's role and defined names, hashed together.
    definitions: u64,
    definers: FxHashMap<u64, Vec<usize>>,
    /// Per chunk, its mentions that name a definition of the file, hashed.
    links: Vec<u64>,
    /// Per owner chunk, its slice (owners with the same slice share one entry).
    slices: Vec<Arc<SliceSpec>>,
    /// Chunks some slice holds with statements left out: a change to one of them moves those statements.
    reduced: FxHashSet<usize>,
}

/// The kinds of dependency between chunks a slice follows, beyond the global chunks, the declarations a chunk
/// mentions and the module's top-level statements (which every rule needs): the union of what the models the
/// enabled rules read look at outside a function ([`Links::of_model`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Links {
    /// The functions a chunk calls (a helper's remote calls are its callers').
    callees: bool,
    /// The chunks that mention a function as a value (a router registering a handler, a callback passed to a
    /// retry library).
    referrers: bool,
    /// The chunks that assign to the same package-level variable or struct field.
    writers: bool,
    /// For a function `main` reaches through calls, the functions on the way.
    entry_paths: bool,
}

impl Links {
    fn of_model(model: Model) -> Links {
        let callees = Links {
            callees: true,
            ..Links::default()
        };
        match model {
            Model::RemoteCalls | Model::Locks | Model::Store | Model::Time => callees,
            Model::Retries | Model::Loops | Model::Messaging => Links {
                referrers: true,
                ..callees
            },
            Model::Handlers => Links {
                referrers: true,
                entry_paths: true,
                ..callees
            },
            Model::StoredValues => Links {
                writers: true,
                ..Links::default()
            },
        }
    }

    fn union(self, other: Links) -> Links {
        Links {
            callees: self.callees || other.callees,
            referrers: self.referrers || other.referrers,
            writers: self.writers || other.writers,
            entry_paths: self.entry_paths || other.entry_paths,
        }
    }

    /// What the rules that run on `language` need.
    pub(crate) fn for_rules(engine: &Engine, language: Language) -> Links {
        engine
            .rules()
            .iter()
            .map(|rule| rule.meta())
            .filter(|meta| meta.applies_to(language))
            .flat_map(|meta| meta.reads.iter().copied())
            .map(Links::of_model)
            .fold(Links::default(), Links::union)
    }
}

impl Plan {
    fn new(chunks: &[Chunk], definitions: u64, links: Links) -> Self {
        let graph = Graph::new(chunks, links);
        let mut distinct: FxHashMap<SliceSpec, Arc<SliceSpec>> = FxHashMap::default();
        let slices: Vec<Arc<SliceSpec>> = (0..chunks.len())
            .map(|owner| {
                let slice = graph.slice(chunks, owner);
                distinct
                    .entry(slice)
                    .or_insert_with_key(|slice| Arc::new(slice.clone()))
                    .clone()
            })
            .collect();
        let links = (0..chunks.len())
            .map(|index| resolved_links(chunks, &graph.definers, index))
            .collect();
        let reduced = slices
            .iter()
            .flat_map(|slice| slice.left_out.iter().map(|(chunk, _)| *chunk))
            .collect();
        Plan {
            reduced,
            hashes: chunks.iter().map(|chunk| chunk.hash).collect(),
            definitions,
            definers: graph.definers,
            links,
            slices,
        }
    }

    /// Whether this plan still holds for `chunks`; if so, records their hashes.
    fn still_holds(&mut self, chunks: &[Chunk], definitions: u64) -> bool {
        if self.hashes.len() != chunks.len() || self.definitions != definitions {
            return false;
        }
        for (index, chunk) in chunks.iter().enumerate() {
            if chunk.hash != self.hashes[index]
                && (self.reduced.contains(&index)
                    || resolved_links(chunks, &self.definers, index) != self.links[index])
            {
                return false;
            }
        }
        for (index, chunk) in chunks.iter().enumerate() {
            self.hashes[index] = chunk.hash;
        }
        true
    }
}

/// What the file defines: every chunk's role and defined names.
fn definitions(chunks: &[Chunk]) -> u64 {
    let mut hasher = FxHasher::default();
    for (index, chunk) in chunks.iter().enumerate() {
        hasher.write_u8(chunk.role() as u8);
        hasher.write_u8(u8::from(chunk.names.module_body));
        hasher.write_usize(chunk.names.defines.len());
        for &name in &chunk.names.defines {
            hasher.write_u64(name);
        }
        hasher.write_usize(chunk.names.fields.len());
        for &name in &chunk.names.fields {
            hasher.write_u64(name);
        }
        hasher.write_usize(chunk.container.map_or(usize::MAX, |head| index - head));
    }
    hasher.finish()
}

/// The mentions of chunk `index` that name a definition of the file: all the graph reads of the chunk besides
/// what [`definitions`] covers.
fn resolved_links(chunks: &[Chunk], definers: &FxHashMap<u64, Vec<usize>>, index: usize) -> u64 {
    let names = &chunks[index].names;
    let mut hasher = FxHasher::default();
    for (kind, list) in [
        (0u8, &names.calls),
        (1, &names.values),
        (2, &names.writes),
        (3, &names.variable_writes),
        (4, &names.role_bodies),
    ] {
        hasher.write_u8(kind);
        for &name in list {
            if definers.contains_key(&name) {
                hasher.write_u64(name);
            }
        }
    }
    hasher.finish()
}

#[derive(Clone, PartialEq, Eq)]
struct CacheKey {
    engine: u64,
    /// The workspace index's generation as this file sees it: slices analysed with another index may resolve
    /// calls differently. A relink after a change of this file alone that left the rest of the index as it was
    /// keeps it (the open document's own summary, taken in after each pause, would otherwise empty the cache).
    index: u64,
    language: Language,
    path: PathBuf,
    disabled: Vec<String>,
    /// What the rules may skip on a slice ([`Prescan`]): the rules whose findings no role of the slice's code
    /// would keep, as the whole-file analysis skips them, unless the file may hold a suppression directive
    /// (one that hides such a finding still hides something). A result computed without a skipped rule's
    /// findings lacks only findings `finish` drops; a directive typed in anywhere changes the key, so such
    /// results are never assembled with a directive that could have matched what they lack.
    prescan: Prescan,
}

/// How much of the last analysis was reused, for logs and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IncrementalStats {
    /// Time spent cutting the file into chunks, planning slices, analysing slices, and assembling.
    pub phases: [std::time::Duration; 4],
    pub chunks: usize,
    pub slices: usize,
    /// Slices analysed for this version (the rest came from the cache).
    pub slices_analysed: usize,
    /// Bytes of source in the analysed slices (the file's size when it was analysed whole).
    pub bytes_analysed: usize,
    /// This version was analysed as one whole file, because the slices it needed would have cost more.
    pub whole_file: bool,
    /// How many of the slices this version needed were analysed together, as one slice holding all their
    /// chunks, because one by one they would have cost more than the file and their union less (0: none).
    pub union_of: usize,
    /// The plan (which chunks each slice holds) was made anew for this version: what the file defines, or what
    /// a changed chunk mentions of it, changed.
    pub plan_rebuilt: bool,
    /// The analysis was cancelled before its end ([`Engine::analyze_incremental_until`]): no result.
    pub cancelled: bool,
}

impl IncrementalCache {
    /// The result cached for the slice `id`, of this version or a recent one. A slice's identity is the texts
    /// of its chunks (and the statements left out), and its result is stored relative to those chunks, so a
    /// result of any earlier version with the same identity is this version's.
    fn cached(&self, id: &u64) -> Option<&Arc<SliceResult>> {
        self.slices.get(id).or_else(|| self.earlier.get(id))
    }

    /// Keeps `results` as the current version's slices; the previous version's that it does not use go to
    /// [`IncrementalCache::earlier`], which holds about as many entries as the file has slices (beyond that it
    /// starts again from the ones just displaced).
    fn keep(&mut self, results: FxHashMap<u64, Arc<SliceResult>>) {
        let displaced = std::mem::replace(&mut self.slices, results);
        let current = &self.slices;
        if self.earlier.len() + displaced.len() > 2 * current.len() + 64 {
            self.earlier.clear();
        }
        self.earlier.extend(
            displaced
                .into_iter()
                .filter(|(id, _)| !current.contains_key(id)),
        );
        self.earlier.retain(|id, _| !current.contains_key(id));
    }

    /// What a cancelled analysis leaves: the plan and the chunks' names as a complete one would (the next version
    /// most likely keeps them), and the slices it finished among the recent results, not as the current
    /// version's (the slices it did not reach would then look unanalysed, or the cache empty).
    fn stopped(
        &mut self,
        plan: Plan,
        chunks: &[Chunk],
        finished: FxHashMap<u64, Arc<SliceResult>>,
        mut stats: IncrementalStats,
    ) {
        self.plan = Some(plan);
        remember_names(&mut self.names, chunks);
        self.earlier.extend(
            finished
                .into_iter()
                .filter(|(id, _)| !self.slices.contains_key(id)),
        );
        stats.cancelled = true;
        self.stats = stats;
    }

    /// A cache that never seeds itself from a whole-file analysis: every slice is analysed as a slice.
    pub fn slices_only() -> Self {
        Self {
            slices_only: true,
            ..Self::default()
        }
    }

    /// A cache that analyses the slices an edit needs even when one whole-file analysis would cost less: what
    /// incremental analysis cost before that bound, for benchmarks.
    pub fn without_whole_file_fallback() -> Self {
        Self {
            no_whole_file_fallback: true,
            ..Self::default()
        }
    }

    pub fn stats(&self) -> IncrementalStats {
        self.stats
    }

    /// How the slices of `slices` this cache lacks are best analysed, by this document's prices
    /// ([`fallback::strategy`]).
    fn strategy(
        &self,
        source_len: usize,
        chunks: &[Chunk],
        errors: &DocumentErrors,
        slices: &FxHashMap<u64, Arc<SliceSpec>>,
    ) -> fallback::Strategy {
        fallback::strategy(
            source_len,
            chunks,
            errors,
            self.last_slice.as_ref(),
            &self.prices,
            slices
                .iter()
                .filter(|(id, _)| self.cached(id).is_none())
                .map(|(_, slice)| &**slice),
        )
    }

    /// A cache whose choice between slices, their union and the whole file is priced by the priors alone,
    /// never by timings: for tests that assert which it chose.
    #[cfg(test)]
    fn priced_by_priors() -> Self {
        Self {
            prices: fallback::Prices::fixed(),
            ..Self::default()
        }
    }
}

/// The chunks a slice holds (sorted, in file order), and for chunks held only because they mention the owner
/// as a value, the statements left out: those that mention other functions of the file and not the owner (in
/// a `routes` function, the registrations of the other handlers).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SliceSpec {
    chunks: Vec<usize>,
    /// (chunk, statement ranges relative to the chunk's start), sorted by chunk and range.
    left_out: Vec<(usize, Vec<TextRange>)>,
    /// `left_out` hashed once: a slice's identity is computed on every edit, and a `routes` function leaves
    /// out hundreds of statements in each handler's slice.
    left_out_hash: u64,
}

impl SliceSpec {
    /// `chunks` sorted; `left_out` in any order.
    fn new(chunks: Vec<usize>, mut left_out: Vec<(usize, Vec<TextRange>)>) -> Self {
        left_out.sort_unstable_by_key(|(chunk, _)| *chunk);
        let mut hasher = FxHasher::default();
        for (chunk, ranges) in &left_out {
            hasher.write_usize(*chunk);
            for range in ranges {
                hasher.write_usize(range.start);
                hasher.write_usize(range.end);
            }
        }
        SliceSpec {
            chunks,
            left_out,
            left_out_hash: hasher.finish(),
        }
    }

    /// The statements of `chunk` this slice leaves out (none when it holds the chunk whole).
    fn left_out_of(&self, chunk: usize) -> &[TextRange] {
        self.left_out
            .binary_search_by_key(&chunk, |(c, _)| *c)
            .ok()
            .map(|at| self.left_out[at].1.as_slice())
            .unwrap_or_default()
    }

    /// One slice holding everything each of `slices` holds: every chunk any of them holds, with only the
    /// statements all of those that hold it leave out.
    fn union<'a>(slices: impl Iterator<Item = &'a SliceSpec> + Clone) -> SliceSpec {
        let mut chunks: Vec<usize> = slices
            .clone()
            .flat_map(|slice| slice.chunks.iter().copied())
            .collect();
        chunks.sort_unstable();
        chunks.dedup();
        let left_out = chunks
            .iter()
            .filter_map(|&chunk| {
                let mut holders = slices
                    .clone()
                    .filter(|slice| slice.chunks.binary_search(&chunk).is_ok());
                let mut common: Vec<TextRange> = holders.next()?.left_out_of(chunk).to_vec();
                for holder in holders {
                    let theirs = holder.left_out_of(chunk);
                    common.retain(|range| theirs.contains(range));
                }
                (!common.is_empty()).then_some((chunk, common))
            })
            .collect();
        SliceSpec::new(chunks, left_out)
    }
}

/// A run of one chunk's text in a slice's text.
#[derive(Debug, Clone, Copy)]
struct Piece {
    /// Where the run is in the slice's text.
    slice: TextRange,
    /// The ordinal, within the slice's chunks, of the chunk it comes from.
    ordinal: usize,
    /// Where the run starts within its chunk.
    offset: usize,
}

/// How a slice's text is laid out: its chunks in file order, one line break for each run of chunks left out
/// and for each run of statements left out of a chunk. Nothing a rule reports may depend on absolute rows (the
/// exactness test inserts line breaks above cached findings), so rows need not be kept, and a slice stays as
/// small as what it holds. Writes the text to `text` if given.
fn layout(
    chunks: &[Chunk],
    spec: &SliceSpec,
    source: &str,
    mut text: Option<&mut String>,
) -> Vec<Piece> {
    let mut pieces = Vec::with_capacity(spec.chunks.len());
    let mut length = 0;
    let mut next = 0;
    let mut emit = |run: &str, length: &mut usize| {
        if let Some(text) = text.as_deref_mut() {
            text.push_str(run);
        }
        *length += run.len();
    };
    for (ordinal, &index) in spec.chunks.iter().enumerate() {
        if index > next {
            emit("\n", &mut length);
        }
        next = index + 1;
        let range = chunks[index].range;
        let chunk_text = source.get(range.start..range.end).unwrap_or_default();
        let left_out = spec.left_out_of(index);
        let mut kept_from = 0;
        for gap in left_out.iter().chain(std::iter::once(&TextRange::new(
            chunk_text.len(),
            chunk_text.len(),
        ))) {
            let end = gap.start.min(chunk_text.len());
            if end < kept_from {
                continue;
            }
            if kept_from > 0 {
                emit("\n", &mut length);
            }
            let start = length;
            emit(
                chunk_text.get(kept_from..end).unwrap_or_default(),
                &mut length,
            );
            pieces.push(Piece {
                slice: TextRange::new(start, length),
                ordinal,
                offset: kept_from,
            });
            kept_from = gap.end.min(chunk_text.len());
        }
    }
    pieces
}

/// The result of analysing one slice, in the slice's coordinates.
#[derive(Debug)]
struct SliceResult {
    /// How the slice's text is made of its chunks.
    pieces: Vec<Piece>,
    /// Findings with the ordinal of the chunk they are in.
    findings: Vec<(usize, Finding)>,
    comments: Vec<(usize, TextRange)>,
    failures: Vec<RuleFailure>,
}

impl SliceResult {
    /// The piece holding `offset` (a range's end may be a piece's end).
    fn piece(&self, offset: usize) -> Piece {
        let after = self.pieces.partition_point(|p| p.slice.start <= offset);
        let index = after.saturating_sub(1);
        match self.pieces.get(index) {
            // In the line breaks standing for what was left out: only a rule bug points there.
            Some(piece) if offset > piece.slice.end && after < self.pieces.len() => {
                self.pieces[after]
            }
            Some(piece) => *piece,
            None => Piece {
                slice: TextRange::new(0, 0),
                ordinal: 0,
                offset: 0,
            },
        }
    }

    /// The ordinal of the chunk holding `offset`.
    fn ordinal(&self, offset: usize) -> usize {
        self.piece(offset).ordinal
    }

    /// Where `offset` of the slice `slice` (whose result this is) is in the file whose chunks are `chunks`.
    fn file_offset(&self, chunks: &[Chunk], slice: &SliceSpec, offset: usize) -> usize {
        let piece = self.piece(offset);
        chunks[slice.chunks[piece.ordinal]].range.start
            + piece.offset
            + offset
                .saturating_sub(piece.slice.start)
                .min(piece.slice.len())
    }
}

fn kinds(language: Language) -> &'static Kinds {
    static KINDS: [OnceLock<Kinds>; 4] = [
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
    ];
    let index = match language {
        Language::Go => 0,
        Language::Rust => 1,
        Language::TypeScript => 2,
        Language::Tsx | Language::Sql => 3,
    };
    KINDS[index].get_or_init(|| Kinds::new(language))
}

thread_local! {
    static PARSERS: RefCell<FxHashMap<Language, tree_sitter::Parser>> = RefCell::new(FxHashMap::default());
}

/// The last slice parsed for a document, which the next one is parsed from: typing in a function changes its
/// slice's text by the keystroke, and tree-sitter then re-reads only around it. (A fresh parse is most of what
/// analysing a Rust slice costs: the grammar parses about 4 MB/s here.)
struct LastSlice {
    text: String,
    tree: Tree,
    /// The chunks it held, and how many chunks the file had: a pending slice holding the same chunks of a file
    /// cut the same way is this one with a keystroke, parsed from its tree for next to nothing
    /// ([`fallback::strategy`] prices it so).
    chunks: Vec<usize>,
    chunk_count: usize,
}

/// Parses a slice's text, from the last slice's tree when that had no syntax error. A tree reparsed from one
/// with errors may differ from a fresh parse (see `Document::is_provisional`), and so may one that comes out
/// with errors; those are parsed fresh, so a slice's tree is always the one a fresh parse gives.
///
/// When the last slice's text differs from this one by more than a few lines (another function's slice, or a
/// union of other slices: the keystroke's union after the deletion's), tree-sitter would re-read all of that
/// difference; `document` then gives the document's own tree edited into this slice's layout (each run left
/// out deleted, [`document_tree_as_slice`]), from which only the places where runs were left out are re-read.
///
/// `fresh`: parse from nothing. A slice holding a syntax error of the document comes out with an error, which a
/// reparse from another tree would only find out to parse it fresh after (two parses with error recovery, the
/// dearest kind); and a small slice of a large file parses fresh for less than the document's tree costs to
/// edit into its layout ([`fallback::Prices::parse_of`]).
fn parse_slice(
    language: Language,
    text: &str,
    last: &mut Option<LastSlice>,
    document: impl FnOnce() -> Option<Tree>,
    fresh: bool,
    cancel: Cancellation<'_>,
) -> Result<Option<Tree>, Cancelled> {
    let from_last = last
        .as_ref()
        .filter(|last| !fresh && !last.tree.root_node().has_error())
        .map(|last| (last, difference(&last.text, text)));
    let near = |edit: &tree_sitter::InputEdit| {
        let changed = (edit.old_end_byte - edit.start_byte) + (edit.new_end_byte - edit.start_byte);
        changed <= NEAR_LAST_SLICE.max(text.len() / 32)
    };
    let from = match from_last {
        _ if fresh => None,
        Some((last, edit)) if near(&edit) => {
            let mut tree = last.tree.clone();
            tree.edit(&edit);
            Some(tree)
        }
        from_last => document().or_else(|| {
            from_last.map(|(last, edit)| {
                let mut tree = last.tree.clone();
                tree.edit(&edit);
                tree
            })
        }),
    };
    let tree = match parse(language, text, from.as_ref(), cancel)? {
        Some(tree) if from.is_some() && tree.root_node().has_error() => {
            parse(language, text, None, cancel)?
        }
        tree => tree,
    };
    let Some(tree) = tree else {
        return Ok(None);
    };
    match last {
        Some(last) => {
            last.text.clear();
            last.text.push_str(text);
            last.tree = tree.clone();
        }
        None => {
            *last = Some(LastSlice {
                text: text.to_string(),
                tree: tree.clone(),
                chunks: Vec::new(),
                chunk_count: 0,
            })
        }
    }
    Ok(Some(tree))
}

/// How many bytes a slice may differ from the last one parsed (more when the slice is large: a thirty-second of
/// it) for its parse to start from the last one's tree rather than from the document's.
const NEAR_LAST_SLICE: usize = 4096;

/// The document's tree (of `source`, without syntax errors) edited into the layout of a slice: every run of
/// the file outside the slice's `pieces` replaced by what the slice has there (a line break, or nothing), the
/// edits applied from the end of the file so each is in the coordinates of the text before it. A parse of the
/// slice's `text` from it re-reads only around those places; its result is a fresh parse's, as any reparse
/// from an error-free tree ([`parse_slice`] checks it has no error, else parses fresh).
fn document_tree_as_slice(
    document: &Tree,
    source: &str,
    chunks: &[Chunk],
    slice: &SliceSpec,
    pieces: &[Piece],
    text: &str,
) -> Option<Tree> {
    if document.root_node().has_error() {
        return None;
    }
    // (file range replaced, slice range replacing it), in file order.
    let mut replaced: Vec<(TextRange, TextRange)> = Vec::with_capacity(pieces.len() + 1);
    let (mut file_at, mut slice_at) = (0, 0);
    for piece in pieces {
        let start = chunks[*slice.chunks.get(piece.ordinal)?].range.start + piece.offset;
        if start < file_at {
            return None;
        }
        replaced.push((
            TextRange::new(file_at, start),
            TextRange::new(slice_at, piece.slice.start),
        ));
        file_at = start + piece.slice.len();
        slice_at = piece.slice.end;
    }
    replaced.push((
        TextRange::new(file_at, source.len()),
        TextRange::new(slice_at, text.len()),
    ));
    replaced.retain(|(file, slice)| !(file.is_empty() && slice.is_empty()));
    // Rows and columns of the replaced runs' ends, from one pass over the file.
    let bytes = source.as_bytes();
    let mut points = Vec::with_capacity(2 * replaced.len());
    let (mut row, mut line_start, mut scanned) = (0, 0, 0);
    for offset in replaced.iter().flat_map(|(file, _)| [file.start, file.end]) {
        for newline in memchr::memchr_iter(b'\n', bytes.get(scanned..offset)?) {
            row += 1;
            line_start = scanned + newline + 1;
        }
        scanned = offset;
        points.push(tree_sitter::Point::new(row, offset - line_start));
    }
    let mut tree = document.clone();
    for (index, (file, slice)) in replaced.iter().enumerate().rev() {
        let inserted = text.get(slice.start..slice.end)?;
        let start_position = points[2 * index];
        let new_end_position = match memchr::memrchr(b'\n', inserted.as_bytes()) {
            Some(last) => tree_sitter::Point::new(
                start_position.row + memchr::memchr_iter(b'\n', inserted.as_bytes()).count(),
                inserted.len() - last - 1,
            ),
            None => {
                tree_sitter::Point::new(start_position.row, start_position.column + inserted.len())
            }
        };
        tree.edit(&tree_sitter::InputEdit {
            start_byte: file.start,
            old_end_byte: file.end,
            new_end_byte: file.start + inserted.len(),
            start_position,
            old_end_position: points[2 * index + 1],
            new_end_position,
        });
    }
    Some(tree)
}

/// The edit that turns `old` into `new`: the bytes between their common prefix and common suffix.
fn difference(old: &str, new: &str) -> tree_sitter::InputEdit {
    let (old, new) = (old.as_bytes(), new.as_bytes());
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let point = |text: &[u8], offset: usize| {
        let before = &text[..offset];
        let row = before.iter().filter(|&&b| b == b'\n').count();
        let column = before.len()
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |at| at + 1);
        tree_sitter::Point::new(row, column)
    };
    let (old_end, new_end) = (old.len() - suffix, new.len() - suffix);
    tree_sitter::InputEdit {
        start_byte: prefix,
        old_end_byte: old_end,
        new_end_byte: new_end,
        start_position: point(new, prefix),
        old_end_position: point(old, old_end),
        new_end_position: point(new, new_end),
    }
}

/// Where the document's syntax errors are (ERROR and MISSING nodes), to tell which slices hold one: such a slice
/// is parsed fresh ([`parse_slice`]), and a union of slices holding one is priced with its parse
/// ([`fallback::strategy`]). Empty for an error-free tree, found without walking it.
struct DocumentErrors(Vec<TextRange>);

impl DocumentErrors {
    fn of(tree: &Tree) -> Self {
        let mut errors = Vec::new();
        let mut stack = vec![tree.root_node()];
        while let Some(node) = stack.pop() {
            if node.is_error() || node.is_missing() {
                errors.push(TextRange::new(node.start_byte(), node.end_byte()));
            } else if node.has_error() {
                let mut cursor = node.walk();
                stack.extend(node.children(&mut cursor));
            }
        }
        DocumentErrors(errors)
    }

    /// Whether an error touches one of the chunks `held` (indices into `chunks`).
    fn held_by_chunks(&self, chunks: &[Chunk], held: &[usize]) -> bool {
        !self.0.is_empty()
            && held.iter().any(|&index| {
                let range = chunks[index].range;
                self.0
                    .iter()
                    .any(|error| error.start <= range.end && range.start <= error.end)
            })
    }
}

/// Parses `text` (from `old_tree`, edited to match it), stopping when `cancel` says so; `Ok(None)` when the
/// language has no grammar or the parser gives nothing.
fn parse(
    language: Language,
    text: &str,
    old_tree: Option<&Tree>,
    cancel: Cancellation<'_>,
) -> Result<Option<Tree>, Cancelled> {
    PARSERS.with(|parsers| {
        let mut parsers = parsers.borrow_mut();
        let parser = match parsers.entry(language) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                let mut parser = tree_sitter::Parser::new();
                let Some(grammar) = language.grammar() else {
                    return Ok(None);
                };
                if parser.set_language(&grammar).is_err() {
                    return Ok(None);
                }
                entry.insert(parser)
            }
        };
        if cancel.is_cancellable() {
            let bytes = text.as_bytes();
            let mut read = |offset: usize, _: tree_sitter::Point| -> &[u8] {
                bytes.get(offset..).unwrap_or_default()
            };
            let mut progress = |_: &tree_sitter::ParseState| {
                if cancel.is_cancelled() {
                    std::ops::ControlFlow::Break(())
                } else {
                    std::ops::ControlFlow::Continue(())
                }
            };
            let tree = parser.parse_with_options(
                &mut read,
                old_tree,
                Some(tree_sitter::ParseOptions::new().progress_callback(&mut progress)),
            );
            if tree.is_none() {
                // A stopped parse would otherwise resume, with its old text, on the next call.
                parser.reset();
                cancel.check()?;
            }
            Ok(tree)
        } else {
            Ok(parser.parse(text, old_tree))
        }
    })
}

/// Which chunks each chunk's findings depend on.
struct Graph {
    definers: FxHashMap<u64, Vec<usize>>,
    /// Callees, and declarations mentioned (from a declaration: everything mentioned).
    forward: Vec<Vec<usize>>,
    /// Chunks that mention this one as a value, and those that name it as a command's body (always: its code role
    /// depends on them).
    referrers: Vec<Vec<usize>>,
    /// The other chunks that write a package-level variable or struct field this one writes.
    co_writers: Vec<Vec<usize>>,
    /// Per container head, its shell: the head, the closing part, and members that define no name.
    shells: FxHashMap<usize, Vec<usize>>,
    globals: Vec<usize>,
    /// For a function `main` reaches through calls: the functions on the way (the handlers model asks whether a
    /// server runs "in main", directly or through helpers of the file).
    entry_paths: FxHashMap<usize, Vec<usize>>,
}

impl Graph {
    fn new(chunks: &[Chunk], links: Links) -> Self {
        let mut definers: FxHashMap<u64, Vec<usize>> = FxHashMap::default();
        let mut globals = Vec::new();
        for (index, chunk) in chunks.iter().enumerate() {
            if chunk.role() == Role::Global {
                globals.push(index);
                continue;
            }
            for &name in &chunk.names.defines {
                definers.entry(name).or_default().push(index);
            }
        }
        // A container's parts need its shell to be a class again; `new A()` runs A's constructor.
        let mut shells: FxHashMap<usize, Vec<usize>> = FxHashMap::default();
        let mut constructors: FxHashMap<usize, usize> = FxHashMap::default();
        let constructor = chunks::text_hash("constructor");
        for (index, chunk) in chunks.iter().enumerate() {
            let Some(head) = chunk.container else {
                continue;
            };
            // Members that define a name (fields, associated constants) are context for the methods that
            // mention them, like any declaration; the rest (the head, the closing part, a static block) is the
            // shell.
            if index == head || (chunk.role() != Role::Item && chunk.names.defines.is_empty()) {
                shells.entry(head).or_default().push(index);
            } else if chunk.names.defines.contains(&constructor) {
                constructors.insert(head, index);
            }
        }
        let mut forward = vec![Vec::new(); chunks.len()];
        let mut referrers = vec![Vec::new(); chunks.len()];
        for (index, chunk) in chunks.iter().enumerate() {
            if chunk.role() == Role::Global {
                continue;
            }
            let nameless = chunk.names.module_body;
            // The module's top-level statements call each other through `MODULE_BODY`: they run together,
            // whatever the rules read.
            for name in &chunk.names.calls {
                if !links.callees && *name != chunks::MODULE_BODY {
                    continue;
                }
                for &other in definers.get(name).into_iter().flatten() {
                    if other != index {
                        forward[index].push(other);
                        forward[index].extend(constructors.get(&other));
                    }
                }
            }
            for name in &chunk.names.values {
                for &other in definers.get(name).into_iter().flatten() {
                    if other == index {
                        continue;
                    }
                    let other_role = chunks[other].role();
                    if other_role == Role::Declaration || chunk.role() == Role::Declaration {
                        forward[index].push(other);
                    }
                    if links.referrers && (other_role == Role::Item || nameless) {
                        referrers[other].push(index);
                    }
                }
            }
            // A function named as a command's body is tool code because of this chunk's literal (code roles):
            // whatever the rules read, its slices hold the chunk that names it.
            for name in &chunk.names.role_bodies {
                for &other in definers.get(name).into_iter().flatten() {
                    if other != index && chunks[other].role() == Role::Item {
                        referrers[other].push(index);
                    }
                }
            }
        }
        // Writes to a package-level variable or a struct field: the declaration's findings depend on its writers
        // (a client given its timeout in `init`), and each writer's on the others (a slice field appended to in
        // one method and re-sliced in another is a queue). A field is written through a field target (`s.f =
        // …`), a variable through a name (`x = …`): a local `buf` does not write the field `buf`. Writers are
        // not followed further: the writers of what a co-writer or a callee writes are not the owner's concern.
        let mut writers: FxHashMap<(bool, u64), Vec<usize>> = FxHashMap::default();
        for (index, chunk) in chunks.iter().enumerate().filter(|_| links.writers) {
            let writes = chunk.names.writes.iter().map(|name| (true, name));
            let variable_writes = chunk.names.variable_writes.iter().map(|name| (false, name));
            for (field, name) in writes.chain(variable_writes) {
                let declarations = definers.get(name).into_iter().flatten().filter(|&&d| {
                    d != index
                        && chunks[d].role() == Role::Declaration
                        && chunks[d].names.fields.binary_search(name).is_ok() == field
                });
                let mut declared = false;
                for &declaration in declarations {
                    referrers[declaration].push(index);
                    declared = true;
                }
                if declared {
                    writers.entry((field, *name)).or_default().push(index);
                }
            }
        }
        let mut co_writers = vec![Vec::new(); chunks.len()];
        for group in writers.values() {
            for &a in group {
                co_writers[a].extend(group.iter().copied().filter(|&b| b != a));
            }
        }
        for list in forward
            .iter_mut()
            .chain(referrers.iter_mut())
            .chain(co_writers.iter_mut())
        {
            list.sort_unstable();
            list.dedup();
        }
        let entry_paths = if links.entry_paths {
            entry_paths(chunks, &definers, &forward)
        } else {
            FxHashMap::default()
        };
        Self {
            definers,
            forward,
            referrers,
            co_writers,
            shells,
            globals,
            entry_paths,
        }
    }

    /// The slice the findings of `owner` are computed on.
    fn slice(&self, chunks: &[Chunk], owner: usize) -> SliceSpec {
        let mut left_out = Vec::new();
        let mut seen: FxHashSet<usize> = self.globals.iter().copied().collect();
        seen.insert(owner);
        if chunks[owner].role() != Role::Global {
            // The owner and the chunks that write what it writes, with what they call and mention.
            let mut stack = vec![owner];
            for &writer in &self.co_writers[owner] {
                if seen.insert(writer) {
                    stack.push(writer);
                }
            }
            while let Some(at) = stack.pop() {
                for &next in &self.forward[at] {
                    if seen.insert(next) {
                        stack.push(next);
                    }
                }
            }
            let on_entry_path: Vec<usize> = self
                .entry_paths
                .get(&owner)
                .into_iter()
                .flatten()
                .copied()
                .collect();
            for &referrer in self.referrers[owner].iter() {
                if !seen.contains(&referrer) && !on_entry_path.contains(&referrer) {
                    let statements = self.other_functions_statements(chunks, owner, referrer);
                    if !statements.is_empty() {
                        left_out.push((referrer, statements));
                    }
                }
            }
            for &referrer in self.referrers[owner].iter().chain(&on_entry_path) {
                let mut stack = vec![referrer];
                seen.insert(referrer);
                while let Some(at) = stack.pop() {
                    for &next in &self.forward[at] {
                        if chunks[next].role() == Role::Declaration && seen.insert(next) {
                            stack.push(next);
                        }
                    }
                }
            }
        }
        // The shells of the containers whose parts the slice holds, with what the shells call and mention (a
        // field's type, the helper that initialises it), and their shells in turn.
        let mut stack = Vec::new();
        let heads: Vec<usize> = seen.iter().filter_map(|&at| chunks[at].container).collect();
        for head in heads {
            self.add_shell(head, &mut seen, &mut stack);
        }
        while let Some(at) = stack.pop() {
            if let Some(head) = chunks[at].container {
                self.add_shell(head, &mut seen, &mut stack);
            }
            for &next in &self.forward[at] {
                if seen.insert(next) {
                    stack.push(next);
                }
            }
        }
        let mut slice: Vec<usize> = seen.into_iter().collect();
        slice.sort_unstable();
        SliceSpec::new(slice, left_out)
    }

    /// Adds the shell of the container `head` to a slice's chunks, and to `stack` what it adds.
    fn add_shell(&self, head: usize, seen: &mut FxHashSet<usize>, stack: &mut Vec<usize>) {
        for &part in self.shells.get(&head).into_iter().flatten() {
            if seen.insert(part) {
                stack.push(part);
            }
        }
    }

    /// The statements of `referrer` that mention other functions of the file and not `owner`.
    fn other_functions_statements(
        &self,
        chunks: &[Chunk],
        owner: usize,
        referrer: usize,
    ) -> Vec<TextRange> {
        let owner_names = &chunks[owner].names.defines;
        chunks[referrer]
            .names
            .statements
            .iter()
            .filter(|statement| {
                !statement
                    .names
                    .iter()
                    .any(|name| owner_names.contains(name))
                    && statement.names.iter().any(|name| {
                        self.definers.get(name).is_some_and(|definers| {
                            definers
                                .iter()
                                .any(|&d| d != referrer && chunks[d].role() == Role::Item)
                        })
                    })
            })
            .map(|statement| statement.range)
            .collect()
    }
}

/// For each chunk that a `main` function reaches through forward links, the chunks on the paths from `main`
/// to it (`main` included).
fn entry_paths(
    chunks: &[Chunk],
    definers: &FxHashMap<u64, Vec<usize>>,
    forward: &[Vec<usize>],
) -> FxHashMap<usize, Vec<usize>> {
    let mut paths = FxHashMap::default();
    let mains: Vec<usize> = definers
        .get(&chunks::text_hash("main"))
        .into_iter()
        .flatten()
        .copied()
        .filter(|&m| chunks[m].role() == Role::Item)
        .collect();
    if mains.is_empty() {
        return paths;
    }
    let mut reached: FxHashSet<usize> = mains.iter().copied().collect();
    let mut stack = mains.clone();
    while let Some(at) = stack.pop() {
        for &next in &forward[at] {
            if reached.insert(next) {
                stack.push(next);
            }
        }
    }
    let mut backward: FxHashMap<usize, Vec<usize>> = FxHashMap::default();
    for &from in &reached {
        for &to in &forward[from] {
            backward.entry(to).or_default().push(from);
        }
    }
    for &target in &reached {
        if mains.contains(&target) {
            continue;
        }
        let mut on_path: FxHashSet<usize> = FxHashSet::default();
        let mut stack = vec![target];
        while let Some(at) = stack.pop() {
            for &from in backward.get(&at).into_iter().flatten() {
                if on_path.insert(from) {
                    stack.push(from);
                }
            }
        }
        on_path.remove(&target);
        let mut on_path: Vec<usize> = on_path.into_iter().collect();
        on_path.sort_unstable();
        paths.insert(target, on_path);
    }
    paths
}

fn identity(chunks: &[Chunk], slice: &SliceSpec) -> u64 {
    let mut hasher = FxHasher::default();
    for &index in &slice.chunks {
        hasher.write_u64(chunks[index].hash);
    }
    hasher.write_usize(slice.chunks.len());
    // The chunks' texts are hashed above; which statements are left out, once per plan.
    hasher.write_u64(slice.left_out_hash);
    hasher.finish()
}

/// A plan's slices by identity, and each owner chunk's slice identity: owners grouped by the slice they are
/// computed on (top-level statements share one).
#[allow(clippy::type_complexity)]
fn grouped(plan: &Plan, chunks: &[Chunk]) -> (FxHashMap<u64, Arc<SliceSpec>>, Vec<u64>) {
    let mut slices: FxHashMap<u64, Arc<SliceSpec>> = FxHashMap::default();
    let mut identities: FxHashMap<*const SliceSpec, u64> = FxHashMap::default();
    let mut owner_slice = Vec::with_capacity(chunks.len());
    for slice in &plan.slices {
        let id = *identities
            .entry(Arc::as_ptr(slice))
            .or_insert_with(|| identity(chunks, slice));
        slices.entry(id).or_insert_with(|| slice.clone());
        owner_slice.push(id);
    }
    (slices, owner_slice)
}

impl Engine {
    /// [`Engine::analyze`], reusing what `cache` holds from the previous versions of the same document: only
    /// the slices whose text changed are analysed. The result equals the whole-file analysis (see the module
    /// docs for how that is kept true).
    pub fn analyze_incremental(
        &self,
        input: AnalysisInput<'_>,
        cache: &mut IncrementalCache,
    ) -> Analysis {
        self.analyze_incremental_until(input, cache, Cancellation::NEVER)
            .unwrap_or_default()
    }

    /// [`Engine::analyze_incremental`] that stops between units of work (slices, rules, the slice parser's
    /// steps) once `cancel` says so. A cancelled analysis leaves the cache as the last complete one left it,
    /// with the results of the slices it did finish kept among the recent ones
    /// ([`IncrementalCache::earlier`]): the next version reuses them where its slices have the same text.
    pub fn analyze_incremental_until(
        &self,
        input: AnalysisInput<'_>,
        cache: &mut IncrementalCache,
        cancel: Cancellation<'_>,
    ) -> Result<Analysis, Cancelled> {
        let AnalysisInput {
            path,
            language,
            source,
            tree,
            disabled,
        } = input;
        let Some(tree) = tree.filter(|_| language != Language::Sql) else {
            cache.stats = IncrementalStats::default();
            return self.analyze_until(input, cancel);
        };
        // A superseded analysis costs no chunking either.
        if let Err(cancelled) = cancel.check() {
            cache.stats = IncrementalStats {
                cancelled: true,
                ..IncrementalStats::default()
            };
            return Err(cancelled);
        }
        let key = CacheKey {
            engine: self.id(),
            index: self.index_view_generation(path),
            language,
            path: path.to_path_buf(),
            disabled: disabled.iter().map(|code| code.to_string()).collect(),
            prescan: if dsr_core::suppression::may_hold_directive(source) {
                Prescan::Nothing
            } else {
                Prescan::OutOfRole
            },
        };
        let prescan = key.prescan;
        if cache.key.as_ref() != Some(&key) {
            // The results go; what depends only on the text and the engine's rules stays when those are the
            // same (a new index generation after the document's reindex, a directive typed, a rule disabled):
            // the chunks' names, the plans (the links they follow are the rules', whichever are disabled) and
            // the last slice's tree. Without them the first edit after each pause paid for the names and the
            // plan of every chunk on top of its whole-file analysis, 1.5 to 2 whole-file analyses.
            let same_code = cache.key.as_ref().is_some_and(|old| {
                old.engine == key.engine && old.language == key.language && old.path == key.path
            });
            let old = std::mem::take(cache);
            *cache = IncrementalCache {
                key: Some(key),
                slices_only: old.slices_only,
                no_whole_file_fallback: old.no_whole_file_fallback,
                prices: old.prices,
                ..IncrementalCache::default()
            };
            if same_code {
                cache.names = old.names;
                cache.plan = old.plan;
                cache.earlier_plan = old.earlier_plan;
                cache.last_slice = old.last_slice;
            }
        }
        let started = std::time::Instant::now();
        if let Some((_, kept)) = cache.unplanned.iter().find(|(text, _)| text == source) {
            cache.stats = IncrementalStats::default();
            return Ok(kept.clone());
        }
        let chunks = chunks::chunk(language, kinds(language), tree, source, &cache.names);
        let chunked = started.elapsed();
        let definitions = definitions(&chunks);
        // Fixed for a cache: the engine, and so its rules, is part of the cache key.
        let links = Links::for_rules(self, language);
        let (mut current, mut earlier) = (cache.plan.take(), cache.earlier_plan.take());
        let holds = |plan: &mut Option<Plan>| {
            plan.as_mut()
                .is_some_and(|plan| plan.still_holds(&chunks, definitions))
        };
        let kept = if holds(&mut current) {
            Some(true)
        } else if holds(&mut earlier) {
            Some(false)
        } else {
            None
        };
        if kept.is_none()
            && !cache.slices.is_empty()
            && !cache.slices_only
            && !cache.no_whole_file_fallback
            && chunks.len() > 1
        {
            // The plan must be made anew (a letter typed into a name changes what its chunk mentions). In a
            // file whose slices reach most of it, that costs half a whole-file analysis, and the edit then
            // falls back to the whole file anyway: price the edit with the last plan's slices first (the
            // file cut into as many chunks, its slices holding what they held), and when that says the whole
            // file, analyse it without a plan. The plans stay as they were: deleting the letter again returns
            // to the last one, and its results are still the cache's.
            if let Some(last) = current
                .as_ref()
                .filter(|plan| plan.hashes.len() == chunks.len())
            {
                let (slices, _) = grouped(last, &chunks);
                let errors = DocumentErrors::of(tree);
                let predicted = cache.strategy(source.len(), &chunks, &errors, &slices);
                if matches!(predicted, fallback::Strategy::WholeFile) {
                    (cache.plan, cache.earlier_plan) = (current, earlier);
                    remember_names(&mut cache.names, &chunks);
                    let input = AnalysisInput {
                        path,
                        language,
                        source,
                        tree: Some(tree),
                        disabled,
                    };
                    let planned = started.elapsed();
                    let analysis = self.analyze_whole_file_unplanned(input, prescan, cache, cancel);
                    let finished = started.elapsed();
                    cache.stats = IncrementalStats {
                        chunks: chunks.len(),
                        whole_file: true,
                        bytes_analysed: source.len(),
                        cancelled: analysis.is_err(),
                        phases: [
                            chunked,
                            planned - chunked,
                            finished - planned,
                            Default::default(),
                        ],
                        ..IncrementalStats::default()
                    };
                    if let Ok(analysis) = &analysis {
                        if cache.unplanned.len() == UNPLANNED_KEPT {
                            cache.unplanned.remove(0);
                        }
                        cache.unplanned.push((source.to_string(), analysis.clone()));
                    }
                    return analysis;
                }
            }
        }
        let (kept, displaced) = match kept {
            Some(true) => (current, earlier),
            Some(false) => (earlier, current),
            None => (None, current),
        };
        cache.earlier_plan = displaced;
        let plan_rebuilt = kept.is_none();
        let plan = kept.unwrap_or_else(|| Plan::new(&chunks, definitions, links));
        let (slices, owner_slice) = grouped(&plan, &chunks);

        let planned = started.elapsed();
        let mut stats = IncrementalStats {
            chunks: chunks.len(),
            slices: slices.len(),
            plan_rebuilt,
            ..IncrementalStats::default()
        };
        // With nothing cached (a document just opened, another configuration), or when the slices this edit
        // changed would together read more than the file (methods of one big type that call each other), one
        // whole-file analysis is cheaper, and its findings are what the slices would give (the exactness
        // property): it is this version's result and fills the cache, so later edits re-analyse only the
        // slices they change.
        let seeding = cache.slices.is_empty();
        let errors = DocumentErrors::of(tree);
        let strategy =
            if cache.slices_only || chunks.len() <= 1 || (!seeding && cache.no_whole_file_fallback)
            {
                fallback::Strategy::Slices
            } else {
                cache.strategy(source.len(), &chunks, &errors, &slices)
            };
        let mut results: FxHashMap<u64, Arc<SliceResult>> = FxHashMap::default();
        if let Err(cancelled) = cancel.check() {
            cache.stopped(plan, &chunks, results, stats);
            return Err(cancelled);
        }
        match strategy {
            fallback::Strategy::WholeFile => {
                let analysis = match self.analyze_whole_file_instead(
                    path,
                    language,
                    source,
                    tree,
                    disabled,
                    prescan,
                    &chunks,
                    &slices,
                    &owner_slice,
                    cache,
                    cancel,
                ) {
                    Ok(analysis) => analysis,
                    Err(cancelled) => {
                        cache.stopped(plan, &chunks, results, stats);
                        return Err(cancelled);
                    }
                };
                cache.plan = Some(plan);
                remember_names(&mut cache.names, &chunks);
                let finished = started.elapsed();
                stats.whole_file = true;
                stats.bytes_analysed = source.len();
                stats.phases = [
                    chunked,
                    planned - chunked,
                    finished - planned,
                    Default::default(),
                ];
                cache.stats = stats;
                return Ok(analysis);
            }
            fallback::Strategy::Union(union) => {
                let pending: FxHashMap<u64, Arc<SliceSpec>> = slices
                    .iter()
                    .filter(|(id, _)| cache.cached(id).is_none())
                    .map(|(id, slice)| (*id, slice.clone()))
                    .collect();
                stats.slices_analysed += 1;
                stats.union_of = pending.len();
                match self.analyze_union(
                    path,
                    language,
                    source,
                    tree,
                    &chunks,
                    &union,
                    &pending,
                    &owner_slice,
                    disabled,
                    prescan,
                    &errors,
                    &mut stats,
                    SliceMemory {
                        last_slice: &mut cache.last_slice,
                        prices: &mut cache.prices,
                    },
                    cancel,
                ) {
                    Ok(union_results) => results = union_results,
                    Err(cancelled) => {
                        cache.stopped(plan, &chunks, results, stats);
                        return Err(cancelled);
                    }
                }
            }
            fallback::Strategy::Slices => {}
        }
        for (&id, slice) in &slices {
            if results.contains_key(&id) {
                continue;
            }
            let result = match cache.cached(&id) {
                Some(result) => result.clone(),
                None => {
                    stats.slices_analysed += 1;
                    let analysed = self.analyze_slice(
                        path,
                        language,
                        source,
                        tree,
                        &chunks,
                        slice,
                        disabled,
                        prescan,
                        &errors,
                        &mut stats,
                        SliceMemory {
                            last_slice: &mut cache.last_slice,
                            prices: &mut cache.prices,
                        },
                        cancel,
                    );
                    match analysed {
                        Ok(result) => Arc::new(result),
                        Err(cancelled) => {
                            cache.stopped(plan, &chunks, results, stats);
                            return Err(cancelled);
                        }
                    }
                }
            };
            results.insert(id, result);
        }

        let analysed = started.elapsed();
        let mut raw = RawAnalysis::default();
        for (owner, id) in owner_slice.iter().enumerate() {
            let slice = &slices[id];
            let result = &results[id];
            let Ok(ordinal) = slice.chunks.binary_search(&owner) else {
                continue;
            };
            let rebase = |offset: usize| result.file_offset(&chunks, slice, offset);
            for (_, finding) in result.findings.iter().filter(|(o, _)| *o == ordinal) {
                raw.findings.push(rebased(finding, &rebase));
            }
            for (_, comment) in result.comments.iter().filter(|(o, _)| *o == ordinal) {
                raw.comments
                    .push(TextRange::new(rebase(comment.start), rebase(comment.end)));
            }
        }
        for result in results.values() {
            for failure in &result.failures {
                if !raw.failures.iter().any(|f| f.rule == failure.rule) {
                    raw.failures.push(failure.clone());
                }
            }
        }
        raw.comments.sort_by_key(|range| range.start);
        raw.findings
            .retain(|f| f.range.start <= f.range.end && f.range.end <= source.len());

        cache.plan = Some(plan);
        remember_names(&mut cache.names, &chunks);
        cache.keep(results);
        // Suppression findings need the roles of the whole file, which no slice has; they are rare, so the file's
        // facts are computed only when there are some.
        let analysis = self.finish(source, raw, || {
            let facts = FileFacts::compute(language, Some(tree), source);
            CodeRoles::compute(path, &facts, source)
        });
        let finished = started.elapsed();
        stats.phases = [
            chunked,
            planned - chunked,
            analysed - planned,
            finished - analysed,
        ];
        cache.stats = stats;
        Ok(analysis)
    }

    #[allow(clippy::too_many_arguments)]
    fn analyze_slice(
        &self,
        path: &Path,
        language: Language,
        source: &str,
        document: &Tree,
        chunks: &[Chunk],
        slice: &SliceSpec,
        disabled: &[&str],
        prescan: Prescan,
        errors: &DocumentErrors,
        stats: &mut IncrementalStats,
        memory: SliceMemory<'_>,
        cancel: Cancellation<'_>,
    ) -> Result<SliceResult, Cancelled> {
        let SliceMemory { last_slice, prices } = memory;
        let started = fallback::thread_cpu();
        let parse_kind = prices.parse_of(
            &slice.chunks,
            chunks,
            errors,
            last_slice.as_ref(),
            source.len(),
        );
        let mut text = String::new();
        let pieces = layout(chunks, slice, source, Some(&mut text));
        stats.bytes_analysed += text.len();
        let laid_out = fallback::thread_cpu();
        let tree = parse_slice(
            language,
            &text,
            last_slice,
            || document_tree_as_slice(document, source, chunks, slice, &pieces, &text),
            parse_kind == fallback::Parse::Fresh,
            cancel,
        )?;
        if let (Some(last), Some(_)) = (last_slice.as_mut(), &tree) {
            last.chunks.clone_from(&slice.chunks);
            last.chunk_count = chunks.len();
        }
        let parsed = fallback::thread_cpu();
        let input = AnalysisInput {
            path,
            language,
            source: &text,
            tree: tree.as_ref(),
            disabled,
        };
        let raw = self.run_rules(input, cancel, prescan)?;
        let analysed = fallback::thread_cpu();
        prices.slice_timed(
            fallback::priced_bytes(chunks, slice),
            parse_kind,
            source.len(),
            parsed.saturating_sub(laid_out),
            analysed.saturating_sub(parsed) + laid_out.saturating_sub(started),
        );
        let mut result = SliceResult {
            pieces,
            findings: Vec::new(),
            comments: Vec::new(),
            failures: raw.failures,
        };
        result.findings = raw
            .findings
            .into_iter()
            .map(|finding| (result.ordinal(finding.range.start), finding))
            .collect();
        // Comments are kept for suppressions only, so only those that may be directives.
        result.comments = raw
            .comments
            .into_iter()
            .filter(|&comment| dsr_core::suppression::may_be_directive(&text, comment))
            .map(|comment| (result.ordinal(comment.start), comment))
            .collect();
        Ok(result)
    }
}

/// The results of whole-file analysis cut into the results each slice would give: every finding and comment
/// goes to the slice of the chunk it starts in, its ranges in that slice's coordinates (chunks laid out as
/// [`Engine::analyze_slice`] lays them out). A slice one of whose findings points into a chunk the slice does
/// not hold (evidence in another function) is left out, to be analysed as a slice when it is needed.
fn seed(
    source: &str,
    chunks: &[Chunk],
    slices: &FxHashMap<u64, Arc<SliceSpec>>,
    owner_slice: &[u64],
    whole: RawAnalysis,
) -> FxHashMap<u64, Arc<SliceResult>> {
    let mut owners: FxHashMap<u64, Vec<usize>> = FxHashMap::default();
    for (owner, id) in owner_slice.iter().enumerate() {
        owners.entry(*id).or_default().push(owner);
    }
    let chunk_of = |offset: usize| {
        chunks
            .partition_point(|chunk| chunk.range.start <= offset)
            .saturating_sub(1)
    };
    let mut findings: FxHashMap<usize, Vec<Finding>> = FxHashMap::default();
    for finding in whole.findings {
        findings
            .entry(chunk_of(finding.range.start))
            .or_default()
            .push(finding);
    }
    let mut comments: FxHashMap<usize, Vec<TextRange>> = FxHashMap::default();
    for comment in whole.comments {
        if !dsr_core::suppression::may_be_directive(source, comment) {
            continue;
        }
        comments
            .entry(chunk_of(comment.start))
            .or_default()
            .push(comment);
    }
    let mut seeded = FxHashMap::default();
    'slices: for (&id, slice) in slices {
        let pieces = layout(chunks, slice, source, None);
        // File offset to slice offset, if the slice holds it (`in_chunk` tells a range's end, which may be its
        // chunk's end, from the start of the next chunk).
        let to_slice = |offset: usize, in_chunk: usize| {
            let index = chunk_of(in_chunk);
            let ordinal = slice.chunks.binary_search(&index).ok()?;
            let within = offset - chunks[index].range.start;
            pieces
                .iter()
                .find(|p| {
                    p.ordinal == ordinal && p.offset <= within && within <= p.offset + p.slice.len()
                })
                .map(|p| p.slice.start + within - p.offset)
        };
        let range = |r: TextRange| {
            let last = if r.end > r.start { r.end - 1 } else { r.start };
            Some(TextRange::new(
                to_slice(r.start, r.start)?,
                to_slice(r.end, last)?,
            ))
        };
        let mut result = SliceResult {
            pieces: pieces.clone(),
            findings: Vec::new(),
            comments: Vec::new(),
            failures: Vec::new(),
        };
        for &owner in owners.get(&id).into_iter().flatten() {
            let Ok(ordinal) = slice.chunks.binary_search(&owner) else {
                continue 'slices;
            };
            for finding in findings.get(&owner).into_iter().flatten() {
                let mut moved = finding.clone();
                let Some(at) = range(moved.range) else {
                    continue 'slices;
                };
                moved.range = at;
                for evidence in moved.evidence.iter_mut().filter(|e| e.path.is_none()) {
                    let Some(at) = range(evidence.range) else {
                        continue 'slices;
                    };
                    evidence.range = at;
                }
                for edit in moved.fix.iter_mut().flat_map(|fix| fix.edits.iter_mut()) {
                    let Some(at) = range(edit.range) else {
                        continue 'slices;
                    };
                    edit.range = at;
                }
                result.findings.push((ordinal, moved));
            }
            for &comment in comments.get(&owner).into_iter().flatten() {
                let Some(at) = range(comment) else {
                    continue 'slices;
                };
                result.comments.push((ordinal, at));
            }
        }
        seeded.insert(id, Arc::new(result));
    }
    seeded
}

/// Keeps the names of the current chunks' texts. Names of texts seen lately stay (typing then deleting a
/// character comes back to one), up to about as many again as the file has chunks; past that, only the current
/// chunks' are kept.
fn remember_names(names: &mut FxHashMap<u64, Arc<ChunkNames>>, chunks: &[Chunk]) {
    if names.len() > 2 * chunks.len() + 64 {
        names.clear();
    }
    for chunk in chunks {
        names
            .entry(chunk.hash)
            .or_insert_with(|| chunk.names.clone());
    }
}

/// `finding` with every range in this file moved by `rebase`.
fn rebased(finding: &Finding, rebase: &impl Fn(usize) -> usize) -> Finding {
    let mut finding = finding.clone();
    let range = |r: TextRange| TextRange::new(rebase(r.start), rebase(r.end));
    finding.range = range(finding.range);
    for evidence in &mut finding.evidence {
        if evidence.path.is_none() {
            evidence.range = range(evidence.range);
        }
    }
    if let Some(fix) = &mut finding.fix {
        for edit in &mut fix.edits {
            edit.range = range(edit.range);
        }
    }
    finding
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use dsr_syntax::Document;

    use super::*;
    use dsr_core::rule::{Registered, Rule, RuleMeta};
    use dsr_core::Config;
    use dsr_semantic::RuleContext;

    dsr_core::declare_rule! {
        /// Test rule: reports every call to a function named `remote`, with evidence at the callee's
        /// definition when the file defines it.
        pub struct CallsRemote {
            code: "TST201",
            slug: "calls-remote",
            family: Meta,
            languages: [Go, Rust, TypeScript],
            severity: Low,
            impact: Operability,
            kind: Finding,
            fix: Never,
            scope: Function,
            reads: [RemoteCalls],
        }
    }

    impl Rule<RuleContext<'_>> for CallsRemote {
        fn meta(&self) -> &'static RuleMeta {
            &Self::META
        }

        fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
            let definition = ctx.facts.functions.iter().find(|f| f.name == "remote");
            for call in &ctx.facts.calls {
                if call.callee_text == "remote" {
                    let mut finding = ctx
                        .finding(&Self::META, TextRange::of(call.node))
                        .title("calls remote");
                    if let Some(definition) = definition {
                        finding = finding.evidence(TextRange::of(definition.node), "defined here");
                    }
                    finding.emit(sink);
                }
            }
        }
    }

    fn engine() -> Engine {
        let mut config = Config::default();
        config.override_selection(
            vec![dsr_core::config::Selector::parse("TST201", &["TST201"]).unwrap()],
            Vec::new(),
        );
        Engine::new(&[Registered::stable(&CallsRemote)], config)
    }

    fn analyze(engine: &Engine, source: &str, cache: &mut IncrementalCache) -> Analysis {
        let document = Document::new(Language::Go, source, 0).unwrap();
        engine.analyze_incremental(
            AnalysisInput::new(Path::new("a.go"), Language::Go, source, document.tree()),
            cache,
        )
    }

    fn go_chunks(source: &str) -> Vec<Chunk> {
        let document = Document::new(Language::Go, source, 0).unwrap();
        chunks::chunk(
            Language::Go,
            kinds(Language::Go),
            document.tree().unwrap(),
            source,
            &FxHashMap::default(),
        )
    }

    /// Slices are parsed from the last slice's tree; whatever the history, the tree is the fresh parse's.
    #[test]
    fn a_slice_parsed_from_the_last_one_equals_a_fresh_parse() {
        let texts = [
            "fn a() {\n    let body = 1;\n}\n",
            "fn a() {\n    let bodyx = 1;\n}\n",
            "fn a() {\n    let bodyx = 1;\n}\n\nfn b() {}\n",
            // Broken, then repaired: the broken tree is not reparsed from.
            "fn a() {\n    let bodyx = (1;\n}\n\nfn b() {}\n",
            "fn a() {\n    let bodyx = (1);\n}\n\nfn b() {}\n",
            "use x;\n\nfn c() -> u32 { 2 }\n",
            "use x;\n\nfn c() -> u32 { 2 }\n",
            "",
            "fn a() {}\n",
        ];
        let mut last = None;
        for text in texts {
            let tree = parse_slice(
                Language::Rust,
                text,
                &mut last,
                || None,
                false,
                Cancellation::NEVER,
            )
            .unwrap()
            .unwrap();
            let fresh = parse(Language::Rust, text, None, Cancellation::NEVER)
                .unwrap()
                .unwrap();
            assert_eq!(
                tree.root_node().to_sexp(),
                fresh.root_node().to_sexp(),
                "{text:?}"
            );
            assert_eq!(last.as_ref().map(|l| l.text.as_str()), Some(text));
        }
        let edit = difference("ab\ncd", "ab\nxcd");
        assert_eq!(
            (edit.start_byte, edit.old_end_byte, edit.new_end_byte),
            (3, 3, 4)
        );
        assert_eq!(
            (edit.start_position, edit.new_end_position),
            (tree_sitter::Point::new(1, 0), tree_sitter::Point::new(1, 1))
        );
    }

    const FILE: &str = "package p\n\nimport \"net/http\"\n\n// remote is a helper.\nfunc remote() { http.Get(\"u\") }\n\nfunc a() {\n\tremote()\n}\n\nfunc b() {\n\tx := 1\n\t_ = x\n}\n\nfunc c() {\n\tremote()\n}\n";

    /// Every slice (and the union of all of them) parsed from the document's tree edited into its layout is
    /// the tree a fresh parse of its text gives, positions included.
    #[test]
    fn a_slice_parsed_from_the_document_tree_equals_a_fresh_parse() {
        let class = "import axios from \"axios\";\n\nexport class Api extends Base {\n  private client = axios.create();\n\n  get() {\n    return this.send();\n  }\n\n  send() {\n    return this.client.get(\"u\");\n  }\n\n  other() {\n    return 1;\n  }\n}\n\nfunction free() {\n  return new Api().get();\n}\n";
        for (language, source) in [(Language::Go, FILE), (Language::TypeScript, class)] {
            let document = Document::new(language, source, 0).unwrap();
            let tree = document.tree().unwrap();
            let chunks = chunks::chunk(
                language,
                kinds(language),
                tree,
                source,
                &FxHashMap::default(),
            );
            let graph = Graph::new(&chunks, Links::for_rules(&engine(), language));
            let mut specs: Vec<SliceSpec> = (0..chunks.len())
                .map(|owner| graph.slice(&chunks, owner))
                .collect();
            specs.push(SliceSpec::union(specs.iter()));
            let mut compared = 0;
            for spec in &specs {
                let mut text = String::new();
                let pieces = layout(&chunks, spec, source, Some(&mut text));
                let Some(from) =
                    document_tree_as_slice(tree, source, &chunks, spec, &pieces, &text)
                else {
                    continue;
                };
                let parsed = parse(language, &text, Some(&from), Cancellation::NEVER)
                    .unwrap()
                    .unwrap();
                let fresh = parse(language, &text, None, Cancellation::NEVER)
                    .unwrap()
                    .unwrap();
                let shape = |tree: &Tree| {
                    let mut nodes = Vec::new();
                    let mut cursor = tree.walk();
                    'walk: loop {
                        let node = cursor.node();
                        nodes.push((
                            node.kind().to_string(),
                            node.byte_range(),
                            node.start_position(),
                            node.end_position(),
                        ));
                        if cursor.goto_first_child() || cursor.goto_next_sibling() {
                            continue;
                        }
                        while cursor.goto_parent() {
                            if cursor.goto_next_sibling() {
                                continue 'walk;
                            }
                        }
                        break;
                    }
                    nodes
                };
                assert_eq!(shape(&parsed), shape(&fresh), "{language}: {text}");
                compared += 1;
            }
            assert_eq!(compared, specs.len());
        }
    }

    #[test]
    fn chunks_tile_the_file_and_know_their_roles_and_names() {
        let chunks = go_chunks(FILE);
        let mut end = 0;
        for chunk in &chunks {
            assert_eq!(chunk.range.start, end, "chunks are contiguous");
            end = chunk.range.end;
        }
        assert_eq!(end, FILE.len());
        let roles: Vec<Role> = chunks.iter().map(Chunk::role).collect();
        assert_eq!(
            roles,
            [
                Role::Global,
                Role::Global,
                Role::Item,
                Role::Item,
                Role::Item,
                Role::Item
            ]
        );
        // The doc comment belongs to the function after it.
        assert!(FILE[chunks[2].range.start..chunks[2].range.end].contains("// remote is a helper."));
        let remote = chunks::text_hash("remote");
        assert_eq!(chunks[2].names.defines, [remote]);
        assert!(chunks[3].names.calls.contains(&remote));
        assert!(!chunks[4].names.calls.contains(&remote));
    }

    #[test]
    fn a_slice_holds_the_callees_and_an_edit_reanalyses_only_its_slices() {
        let engine = engine();
        let mut cache = IncrementalCache::slices_only();
        let first = analyze(&engine, FILE, &mut cache);
        assert_eq!(first.findings.len(), 2);
        assert_eq!(cache.stats().slices_analysed, cache.stats().slices);

        // An edit inside `b`, which nothing calls and which calls nothing: only b's slice is analysed.
        let edited = FILE.replace("x := 1", "x := 12345");
        let second = analyze(&engine, &edited, &mut cache);
        assert_eq!(cache.stats().slices_analysed, 1);
        // `c`'s finding moved by the four bytes added above it; `a`'s did not move.
        assert_eq!(second.findings[0].range, first.findings[0].range);
        assert_eq!(
            second.findings[1].range.start,
            first.findings[1].range.start + 4
        );
        let whole = engine.analyze_source(Path::new("a.go"), Language::Go, &edited);
        assert_eq!(second.findings, whole.findings);

        // An edit inside `remote` changes every slice that calls it: a's, c's and its own.
        let edited = edited.replace("http.Get(\"u\")", "http.Get(\"uv\")");
        let third = analyze(&engine, &edited, &mut cache);
        assert_eq!(cache.stats().slices_analysed, 3);
        let whole = engine.analyze_source(Path::new("a.go"), Language::Go, &edited);
        assert_eq!(third.findings, whole.findings);
        // The evidence in another chunk (the helper's definition) is in this version's coordinates.
        assert_eq!(
            &edited[third.findings[1].evidence[0].range.start..][..11],
            "func remote"
        );
    }

    #[test]
    fn a_new_engine_or_other_disabled_rules_start_from_an_empty_cache() {
        let mut cache = IncrementalCache::slices_only();
        analyze(&engine(), FILE, &mut cache);
        analyze(&engine(), FILE, &mut cache);
        assert_eq!(
            cache.stats().slices_analysed,
            cache.stats().slices,
            "another engine's results are not reused"
        );
    }

    /// Other disabled rules (as a new index generation) empty the results, not the plan: the edit after them
    /// is analysed whole without planning the file again, and equals the whole-file analysis.
    #[test]
    fn other_disabled_rules_keep_the_plan() {
        let engine = engine();
        let mut cache = IncrementalCache::priced_by_priors();
        analyze(&engine, FILE, &mut cache);
        assert!(cache.stats().plan_rebuilt);
        let edited = FILE.replace("x := 1", "x := 12");
        let input = AnalysisInput::new(Path::new("a.go"), Language::Go, &edited, None);
        let document = Document::new(Language::Go, &edited, 0).unwrap();
        let disabled = ["DSR999"];
        let analysis = engine.analyze_incremental(
            AnalysisInput {
                tree: document.tree(),
                disabled: &disabled,
                ..input
            },
            &mut cache,
        );
        let stats = cache.stats();
        assert!(stats.whole_file && !stats.plan_rebuilt, "{stats:?}");
        let whole = engine.analyze_source(Path::new("a.go"), Language::Go, &edited);
        assert_eq!(analysis.findings, whole.findings);
    }

    #[test]
    fn an_empty_cache_is_seeded_from_one_whole_file_analysis() {
        let engine = engine();
        // This file is so small that any slice costs more than the file; the bound is tested below.
        let mut cache = IncrementalCache::without_whole_file_fallback();
        let first = analyze(&engine, FILE, &mut cache);
        assert_eq!(cache.stats().slices_analysed, 0);
        assert_eq!(first.findings.len(), 2);
        // The seeded results are moved like analysed ones, and an edit analyses only its slice.
        let edited = FILE.replace("x := 1", "x := 12345");
        let second = analyze(&engine, &edited, &mut cache);
        assert_eq!(cache.stats().slices_analysed, 1);
        let whole = engine.analyze_source(Path::new("a.go"), Language::Go, &edited);
        assert_eq!(second.findings, whole.findings);
    }

    /// Links come from the models the rules read: a rule that reads remote effects gets the callees, one that
    /// reads nothing only the globals and the chunk itself.
    #[test]
    fn slices_follow_only_the_links_the_rules_models_need() {
        let chunks = go_chunks(FILE);
        let links = Links::for_rules(&engine(), Language::Go);
        assert_eq!(links, Links::of_model(Model::RemoteCalls));
        assert_eq!(
            Links::for_rules(&engine(), Language::Sql),
            Links::default(),
            "rules that do not run on the language need nothing"
        );
        let a = 3;
        assert_eq!(
            Graph::new(&chunks, links).slice(&chunks, a).chunks,
            [0, 1, 2, 3]
        );
        assert_eq!(
            Graph::new(&chunks, Links::default())
                .slice(&chunks, a)
                .chunks,
            [0, 1, 3]
        );
    }

    /// A function a command names as its body (`RunE: runStatus`) is tool code because of the literal (code
    /// roles): its slice holds the chunk that names it whatever the rules read, and an edit that stops naming
    /// it changes the plan.
    #[test]
    fn a_function_named_as_a_command_body_is_sliced_with_the_command() {
        let source = "package cmd

import \"github.com/spf13/cobra\"

            var Status = &cobra.Command{Use: \"status\", RunE: runStatus}

            func runStatus(cmd *cobra.Command, args []string) error { return nil }

            func other() { runStatus(nil, nil) }
";
        let chunks = go_chunks(source);
        let run_status = 3;
        let slice = Graph::new(&chunks, Links::default()).slice(&chunks, run_status);
        assert_eq!(slice.chunks, [0, 1, 2, 3], "the command's literal is held");
        let other = 4;
        assert_eq!(
            Graph::new(&chunks, Links::default())
                .slice(&chunks, other)
                .chunks,
            [0, 1, 4],
            "a caller without callee links holds no command"
        );
        let definers = Graph::new(&chunks, Links::default()).definers;
        let renamed = go_chunks(&source.replace("RunE: runStatus", "Args: runStatus"));
        assert_ne!(
            resolved_links(&chunks, &definers, 2),
            resolved_links(&renamed, &definers, 2),
            "naming it as a body is a link of its own"
        );
    }

    dsr_core::declare_rule! {
        /// Test rule: counts the files and slices it runs on, and reports every call to `remote`.
        pub struct CountsRuns {
            code: "TST202",
            slug: "counts-runs",
            family: Meta,
            languages: [Go],
            severity: Low,
            impact: Operability,
            kind: Finding,
            fix: Never,
            scope: Function,
            reads: [RemoteCalls],
        }
    }

    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    impl Rule<RuleContext<'_>> for CountsRuns {
        fn meta(&self) -> &'static RuleMeta {
            &Self::META
        }

        fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
            RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            for call in &ctx.facts.calls {
                if call.callee_text == "remote" {
                    ctx.finding(&Self::META, TextRange::of(call.node))
                        .title("calls remote")
                        .emit(sink);
                }
            }
        }
    }

    /// A test file (out of the default scope) costs its slices no rule, as it costs the whole-file analysis
    /// none: unless the file may hold a suppression directive, which then sees every rule's findings.
    #[test]
    fn rules_out_of_role_are_skipped_on_slices_as_on_the_whole_file() {
        let mut config = Config::default();
        config.override_selection(
            vec![dsr_core::config::Selector::parse("TST202", &["TST202"]).unwrap()],
            Vec::new(),
        );
        let engine = Engine::new(&[Registered::stable(&CountsRuns)], config);
        let runs = || RUNS.load(std::sync::atomic::Ordering::Relaxed);
        let analyze = |path: &str, source: &str, cache: &mut IncrementalCache| {
            let document = Document::new(Language::Go, source, 0).unwrap();
            let analysis = engine.analyze_incremental(
                AnalysisInput::new(Path::new(path), Language::Go, source, document.tree()),
                cache,
            );
            let whole = engine.analyze_source(Path::new(path), Language::Go, source);
            assert_eq!(analysis.findings, whole.findings, "{path}: {source}");
            analysis
        };
        // A long function besides, so that `b`'s slice costs less than the file.
        let mut file = String::from(FILE);
        file.push_str("\nfunc big() {\n");
        for line in 0..120 {
            file.push_str(&format!("\tv{line} := {line}\n\t_ = v{line}\n"));
        }
        file.push_str("}\n");
        let before = runs();
        let mut cache = IncrementalCache::priced_by_priors();
        analyze("a_test.go", &file, &mut cache);
        let edited = file.replace("x := 1", "x := 12");
        analyze("a_test.go", &edited, &mut cache);
        assert!(cache.stats().slices_analysed > 0);
        assert_eq!(runs(), before, "no rule runs on a test file's slices");
        // A directive anywhere: every rule runs again (it may hide a finding out of scope).
        let directive = edited.replace(
            "func b() {",
            "// distsys-review: ignore[TST202] a test\nfunc b() {",
        );
        analyze("a_test.go", &directive, &mut cache);
        assert!(runs() > before, "a directive makes the rules run");
        // A production file runs them on its slices.
        let mut cache = IncrementalCache::priced_by_priors();
        let found = analyze("a.go", &file, &mut cache);
        assert_eq!(found.findings.len(), 2);
        let before = runs();
        analyze("a.go", &edited, &mut cache);
        assert!(cache.stats().slices_analysed > 0);
        assert!(runs() > before);
    }

    #[test]
    fn an_edit_whose_slices_cost_more_than_the_file_is_analysed_as_the_whole_file() {
        let engine = engine();
        let mut cache = IncrementalCache::priced_by_priors();
        analyze(&engine, FILE, &mut cache);
        // `remote` is in three slices, together larger than the file.
        let edited = FILE.replace("http.Get(\"u\")", "http.Get(\"uv\")");
        let second = analyze(&engine, &edited, &mut cache);
        assert!(cache.stats().whole_file);
        assert_eq!(cache.stats().slices_analysed, 0);
        let whole = engine.analyze_source(Path::new("a.go"), Language::Go, &edited);
        assert_eq!(second.findings, whole.findings);
        // The whole-file result seeded the slices: the next edit elsewhere reuses them.
        let edited = edited.replace("x := 1", "x := 12345");
        let third = analyze(&engine, &edited, &mut cache);
        let whole = engine.analyze_source(Path::new("a.go"), Language::Go, &edited);
        assert_eq!(third.findings, whole.findings);
    }

    /// The same pending slice is analysed as a slice or the file as a whole depending on what this document's
    /// timings say they cost: a slice whose parse proves dear (a file of few rules) gives way to the whole
    /// file, and back when its parse proves cheap. No timed assertion: the timings are given.
    #[test]
    fn the_choice_follows_the_prices_learned_from_the_documents_timings() {
        use std::time::Duration;
        let mut source = String::from(FILE);
        source.push_str("\nfunc big() {\n");
        for line in 0..120 {
            source.push_str(&format!("\tv{line} := {line}\n\t_ = v{line}\n"));
        }
        source.push_str("}\n");
        let engine = engine();
        let chunks = go_chunks(&source);
        let plan = Plan::new(
            &chunks,
            definitions(&chunks),
            Links::for_rules(&engine, Language::Go),
        );
        let document = Document::new(Language::Go, &source, 0).unwrap();
        let errors = DocumentErrors::of(document.tree().unwrap());
        let b = chunks
            .iter()
            .position(|chunk| source[chunk.range.start..chunk.range.end].contains("func b"))
            .unwrap();
        let pending = &*plan.slices[b];
        let bytes = fallback::priced_bytes(&chunks, pending);
        assert!(bytes < source.len() / 10, "{bytes} of {}", source.len());
        let choose = |prices: &fallback::Prices| {
            fallback::strategy(
                source.len(),
                &chunks,
                &errors,
                None,
                prices,
                std::iter::once(pending),
            )
        };
        let mut prices = fallback::Prices::default();
        // One nanosecond a byte for the whole file; the slice's priors: a parse from the document's tree at
        // 1.5 times that. The slice is cheaper.
        prices.whole_file_timed(source.len(), Duration::from_nanos(source.len() as u64));
        assert!(matches!(choose(&prices), fallback::Strategy::Slices));
        // Its parses, fresh or from the document's tree, timed at 200 times the whole-file analysis per
        // byte of what they grow with: the whole file is cheaper.
        let analysing = Duration::from_nanos(bytes as u64 + 512);
        let timed = |prices: &mut fallback::Prices, per_byte: u64| {
            let fresh = Duration::from_nanos(per_byte * bytes as u64);
            let from_document =
                Duration::from_nanos(per_byte * (11 * bytes as u64 + 4 * source.len() as u64) / 10);
            for (parse, parsing) in [
                (fallback::Parse::Fresh, fresh),
                (fallback::Parse::FromDocument, from_document),
            ] {
                prices.slice_timed(bytes, parse, source.len(), parsing, analysing);
            }
        };
        for _ in 0..5 {
            timed(&mut prices, 200);
        }
        assert!(matches!(choose(&prices), fallback::Strategy::WholeFile));
        // Timed cheap again: the slice.
        for _ in 0..20 {
            timed(&mut prices, 0);
        }
        assert!(matches!(choose(&prices), fallback::Strategy::Slices));
    }

    /// An edit that changes what its chunk mentions needs a new plan; when the last plan's slices already
    /// price the edit as the whole file, it is analysed whole without one, and returning to the text before
    /// reuses the kept results (the plans and the cached slices stay as they were).
    #[test]
    fn an_edit_priced_whole_by_the_last_plan_is_analysed_without_a_new_one() {
        let engine = engine();
        let whole = |source: &str| engine.analyze_source(Path::new("a.go"), Language::Go, source);
        let mut cache = IncrementalCache::priced_by_priors();
        analyze(&engine, FILE, &mut cache);
        // `remote` now calls `b`: its links changed, and it is in three slices, together larger than the file.
        let edited = FILE.replace("http.Get(\"u\") }", "http.Get(\"u\"); b() }");
        let second = analyze(&engine, &edited, &mut cache);
        let stats = cache.stats();
        assert!(stats.whole_file && !stats.plan_rebuilt, "{stats:?}");
        assert_eq!(second.findings, whole(&edited).findings);
        let third = analyze(&engine, FILE, &mut cache);
        let stats = cache.stats();
        assert!(!stats.whole_file && !stats.plan_rebuilt, "{stats:?}");
        assert_eq!(stats.slices_analysed, 0);
        assert_eq!(third.findings, whole(FILE).findings);
        // Edited again: the version analysed without a plan is kept, and returned to without any work.
        let fourth = analyze(&engine, &edited, &mut cache);
        assert_eq!(cache.stats(), IncrementalStats::default());
        assert_eq!(fourth.findings, whole(&edited).findings);
        let fifth_text = edited.replace("x := 1", "x := 12");
        let fifth = analyze(&engine, &fifth_text, &mut cache);
        assert_eq!(fifth.findings, whole(&fifth_text).findings);
    }

    /// An analysis cancelled at any of its checks returns no result and leaves the cache whole: the next,
    /// complete analysis of the same text (or of the text edited again) equals the whole-file analysis, and the
    /// slices the cancelled one finished are reused.
    #[test]
    fn a_cancelled_analysis_leaves_the_cache_whole() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let engine = engine();
        let edited = FILE.replace("http.Get(\"u\")", "http.Get(\"uv\")");
        let again = edited.replace("x := 1", "x := 12");
        for slices_only in [true, false] {
            let mut stopped_somewhere = false;
            // Stop at the first check, the second, ... until the analysis finishes before being asked to stop.
            for stop_at in 0.. {
                let mut cache = match slices_only {
                    true => IncrementalCache::slices_only(),
                    false => IncrementalCache::priced_by_priors(),
                };
                analyze(&engine, FILE, &mut cache);
                let checks = AtomicUsize::new(0);
                let asks = || checks.fetch_add(1, Ordering::Relaxed) >= stop_at;
                let document = Document::new(Language::Go, &edited, 0).unwrap();
                let outcome = engine.analyze_incremental_until(
                    AnalysisInput::new(Path::new("a.go"), Language::Go, &edited, document.tree()),
                    &mut cache,
                    Cancellation::when(&asks),
                );
                let finished = outcome.is_ok();
                assert_eq!(cache.stats().cancelled, !finished);
                stopped_somewhere |= !finished;
                for text in [&edited, &again] {
                    let incremental = analyze(&engine, text, &mut cache);
                    let whole = engine.analyze_source(Path::new("a.go"), Language::Go, text);
                    assert_eq!(incremental.findings, whole.findings, "stopped at {stop_at}");
                }
                if finished {
                    assert_eq!(
                        outcome.map(|a| a.findings).ok(),
                        Some(
                            engine
                                .analyze_source(Path::new("a.go"), Language::Go, &edited)
                                .findings
                        )
                    );
                    break;
                }
            }
            assert!(stopped_somewhere);
        }
    }

    #[test]
    fn slices_that_overlap_past_the_file_are_analysed_as_their_union() {
        // `remote` is in five slices (its own and its four callers'), together larger than the file; their
        // union (the helper and its callers) is a small part of it: `big` is not in it.
        let mut source =
            String::from("package p\n\nimport \"net/http\"\n\nfunc remote() { http.Get(\"u\") }\n");
        for caller in ["a", "b", "c", "d"] {
            source.push_str(&format!(
                "\nfunc {caller}() {{\n\tfor {{\n\t\tremote()\n\t}}\n}}\n"
            ));
        }
        source.push_str("\nfunc big() {\n");
        for line in 0..120 {
            source.push_str(&format!("\tv{line} := {line}\n\t_ = v{line}\n"));
        }
        source.push_str("}\n");
        let engine = engine();
        let mut cache = IncrementalCache::priced_by_priors();
        analyze(&engine, &source, &mut cache);
        let edited = source.replace("http.Get(\"u\")", "http.Get(\"uv\")");
        let second = analyze(&engine, &edited, &mut cache);
        let stats = cache.stats();
        assert!(!stats.whole_file);
        assert_eq!(stats.union_of, 5);
        assert!(stats.bytes_analysed < edited.len() / 2, "{stats:?}");
        let whole = engine.analyze_source(Path::new("a.go"), Language::Go, &edited);
        assert_eq!(second.findings, whole.findings);
        // The union's result was cut into the five slices: an edit in one caller analyses only its slice.
        let edited = edited.replace("func a() {\n", "func a() {\n\t_ = 1\n");
        let third = analyze(&engine, &edited, &mut cache);
        assert!(!cache.stats().whole_file);
        assert_eq!(cache.stats().slices_analysed, 1);
        let whole = engine.analyze_source(Path::new("a.go"), Language::Go, &edited);
        assert_eq!(third.findings, whole.findings);
    }

    /// A class with methods is cut into its members: a method's slice holds the class's head and closing
    /// brace, the methods it calls and the fields it mentions, and not the others.
    #[test]
    fn a_class_is_cut_into_its_methods_around_its_shell() {
        let source = "import axios from \"axios\";\n\nexport class Api extends Base {\n  private client = axios.create();\n\n  // Fetches.\n  get() {\n    return this.send();\n  }\n\n  send() {\n    return this.client.get(\"u\");\n  }\n\n  other() {\n    return 1;\n  }\n}\n";
        let language = Language::TypeScript;
        let document = Document::new(language, source, 0).unwrap();
        let chunks = chunks::chunk(
            language,
            kinds(language),
            document.tree().unwrap(),
            source,
            &FxHashMap::default(),
        );
        let texts: Vec<&str> = chunks
            .iter()
            .map(|c| source[c.range.start..c.range.end].trim())
            .collect();
        assert_eq!(
            texts,
            [
                "import axios from \"axios\";",
                "export class Api extends Base {",
                "private client = axios.create();",
                "// Fetches.\n  get() {\n    return this.send();\n  }",
                "send() {\n    return this.client.get(\"u\");\n  }",
                "other() {\n    return 1;\n  }",
                "}",
            ]
        );
        assert!(chunks[1..].iter().all(|c| c.container == Some(1)));
        let roles: Vec<Role> = chunks.iter().map(Chunk::role).collect();
        use Role::*;
        assert_eq!(
            roles,
            [
                Global,
                Declaration,
                Declaration,
                Item,
                Item,
                Item,
                Declaration
            ]
        );
        let graph = Graph::new(&chunks, Links::for_rules(&engine(), language));
        let get = graph.slice(&chunks, 3);
        assert_eq!(
            get.chunks,
            [0, 1, 2, 3, 4, 6],
            "get with send and the shell"
        );
        let mut text = String::new();
        layout(&chunks, &get, source, Some(&mut text));
        assert!(
            !parse(language, &text, None, Cancellation::NEVER)
                .unwrap()
                .unwrap()
                .root_node()
                .has_error(),
            "the slice is a class again: {text}"
        );
        assert_eq!(graph.slice(&chunks, 5).chunks, [0, 1, 5, 6]);
    }

    /// A slice holding the function with a syntax error holds an error (it is parsed fresh at once, and a union
    /// holding it is priced with its parse); a slice without that function does not; an error-free tree has
    /// none.
    #[test]
    fn the_slices_that_hold_a_syntax_error_are_known() {
        let source = "package p\n\nfunc a() int {\n\treturn 1\n}\n\nfunc b() int {\n\treturn (a(\n}\n\nfunc c() int {\n\treturn 2\n}\n";
        let document = Document::new(Language::Go, source, 0).unwrap();
        let tree = document.tree().unwrap();
        assert!(tree.root_node().has_error());
        let chunks = go_chunks(source);
        let errors = DocumentErrors::of(tree);
        let holding = |text: &str| {
            let index = chunks
                .iter()
                .position(|chunk| source[chunk.range.start..chunk.range.end].contains(text))
                .unwrap();
            SliceSpec::new(vec![0, index], Vec::new())
        };
        assert!(errors.held_by_chunks(&chunks, &holding("return (a(").chunks));
        assert!(!errors.held_by_chunks(&chunks, &holding("return 2").chunks));
        let clean = Document::new(Language::Go, &source.replace("(a(", "a()"), 0).unwrap();
        assert!(DocumentErrors::of(clean.tree().unwrap()).0.is_empty());
    }

    #[test]
    fn a_registering_function_is_held_without_the_other_registrations() {
        let source = "package p\n\nimport \"net/http\"\n\nfunc a(w http.ResponseWriter, r *http.Request) {}\n\nfunc b(w http.ResponseWriter, r *http.Request) {}\n\nfunc routes(mux *http.ServeMux) {\n\tmux.HandleFunc(\"/a\", a)\n\tmux.HandleFunc(\"/b\", b)\n\thttp.ListenAndServe(\":8080\", mux)\n}\n";
        let chunks = go_chunks(source);
        let graph = Graph::new(
            &chunks,
            Links::for_rules(&engine(), Language::Go).union(Links::of_model(Model::Handlers)),
        );
        let slice = graph.slice(&chunks, 2);
        assert_eq!(slice.chunks, [0, 1, 2, 4], "a with routes, not b");
        assert_eq!(slice.left_out.len(), 1);
        let (routes, left_out) = &slice.left_out[0];
        let start = chunks[*routes].range.start;
        let dropped: Vec<&str> = left_out
            .iter()
            .map(|r| &source[start + r.start..start + r.end])
            .collect();
        assert_eq!(dropped, ["mux.HandleFunc(\"/b\", b)"]);
        let mut text = String::new();
        let pieces = layout(&chunks, &slice, source, Some(&mut text));
        assert!(text.contains("mux.HandleFunc(\"/a\", a)"));
        assert!(!text.contains("\"/b\""));
        assert!(
            text.contains("ListenAndServe"),
            "statements naming no function stay"
        );
        // Every piece maps back to the same text in the file.
        for piece in pieces {
            let chunk = chunks[slice.chunks[piece.ordinal]].range.start + piece.offset;
            assert_eq!(
                &text[piece.slice.start..piece.slice.end],
                &source[chunk..chunk + piece.slice.len()]
            );
        }
    }
}

/// What a callee summary would save, measured on real files (`DSR_SLICE_PROBE=<files or folders> cargo test
/// --release -p dsr-engine --lib callee_summary_probe -- --ignored --nocapture`): for a typed edit in a function
/// (each function weighted by its bytes, as a keystroke lands), the bytes of the union of the slices it
/// invalidates, as a fraction of the file (at most 1: past it the edit analyses the whole file), with
/// - `now`: slices holding their callees' text, so an edit invalidates every slice that reaches the function;
/// - `summary`: a caller's slice re-analysed only when it holds the function other than as a callee (a callee
///   summary that the edit left unchanged), the slices analysed as they are now;
/// - `summary, no text`: the same, with the callees' text out of every slice (only their summaries);
/// - `leaf stubs`: callees without any call held by their signature only (the one kind of callee no model
///   reads through its effects), the slices otherwise as now.
#[cfg(test)]
mod callee_summary_probe {
    use super::*;
    use dsr_syntax::Document;

    fn files(paths: &std::ffi::OsStr) -> Vec<PathBuf> {
        let mut files = Vec::new();
        let mut stack: Vec<PathBuf> = std::env::split_paths(paths).collect();
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                stack.extend(
                    std::fs::read_dir(&path)
                        .into_iter()
                        .flatten()
                        .flatten()
                        .map(|e| e.path()),
                );
            } else if Language::from_path(&path).is_some_and(|l| l != Language::Sql) {
                files.push(path);
            }
        }
        files.sort();
        files
    }

    #[test]
    #[ignore]
    fn callee_summary_probe() {
        let Some(paths) = std::env::var_os("DSR_SLICE_PROBE") else {
            return;
        };
        let all = Links {
            callees: true,
            referrers: true,
            writers: true,
            entry_paths: true,
        };
        let mut sums = [0.0; 4];
        let mut count = 0;
        for file in files(&paths) {
            let Some(language) = Language::from_path(&file) else {
                continue;
            };
            let Ok(source) = std::fs::read_to_string(&file) else {
                continue;
            };
            let Ok(document) = Document::new(language, &source, 0) else {
                continue;
            };
            let Some(tree) = document.tree() else {
                continue;
            };
            let chunks = chunks::chunk(
                language,
                kinds(language),
                tree,
                &source,
                &FxHashMap::default(),
            );
            let slices_of = |links: Links| -> Vec<FxHashSet<usize>> {
                let graph = Graph::new(&chunks, links);
                (0..chunks.len())
                    .map(|owner| graph.slice(&chunks, owner).chunks.into_iter().collect())
                    .collect()
            };
            let full = slices_of(all);
            let bare = slices_of(Links {
                callees: false,
                ..all
            });
            let leaf =
                |c: usize| chunks[c].role() == Role::Item && chunks[c].names.calls.is_empty();
            // Bytes of the union of `owners`' slices; a chunk held only as a stubbed leaf counts its first line.
            let union = |owners: &[usize], slices: &[FxHashSet<usize>], stubs: bool| -> f64 {
                let mut held: FxHashMap<usize, bool> = FxHashMap::default();
                for &owner in owners {
                    for &chunk in &slices[owner] {
                        let whole = !stubs || !leaf(chunk) || bare[owner].contains(&chunk);
                        *held.entry(chunk).or_default() |= whole;
                    }
                }
                let bytes: usize = held
                    .iter()
                    .map(|(&chunk, &whole)| {
                        let text = &source[chunks[chunk].range.start..chunks[chunk].range.end];
                        if whole {
                            text.len()
                        } else {
                            text.find('\n').unwrap_or(text.len())
                        }
                    })
                    .sum();
                (bytes as f64 / source.len() as f64).min(1.0)
            };
            let mut fractions = [0.0; 4];
            let mut weight = 0.0;
            for edited in 0..chunks.len() {
                if chunks[edited].role() != Role::Item || chunks[edited].container == Some(edited) {
                    continue;
                }
                let holders = |slices: &[FxHashSet<usize>], stubs: bool| -> Vec<usize> {
                    (0..chunks.len())
                        .filter(|&o| {
                            o == edited
                                || (slices[o].contains(&edited)
                                    && (!stubs || !leaf(edited) || bare[o].contains(&edited)))
                        })
                        .collect()
                };
                let w = chunks[edited].range.len() as f64;
                fractions[0] += w * union(&holders(&full, false), &full, false);
                fractions[1] += w * union(&holders(&bare, false), &full, false);
                fractions[2] += w * union(&holders(&bare, false), &bare, false);
                fractions[3] += w * union(&holders(&full, true), &full, true);
                weight += w;
            }
            if weight == 0.0 {
                continue;
            }
            let fractions = fractions.map(|f| f / weight);
            println!(
                "{:.3} {:.3} {:.3} {:.3} {}",
                fractions[0],
                fractions[1],
                fractions[2],
                fractions[3],
                file.display()
            );
            for (sum, f) in sums.iter_mut().zip(fractions) {
                *sum += f;
            }
            count += 1;
        }
        let mean = sums.map(|s| s / count.max(1) as f64);
        println!(
            "mean over {count} files: now {:.3}, summary {:.3}, summary, no text {:.3}, leaf stubs {:.3}",
            mean[0], mean[1], mean[2], mean[3]
        );
    }
}
