//! When slices cost more than the whole file: the bound that keeps an edit's analysis no dearer than one
//! from-scratch analysis.
//!
//! A slice holds its owner and everything the owner's findings can depend on. In files shaped like real
//! services (one big type whose methods call each other and write the same fields) those closures reach most
//! of the file, and an edit to a method changes every slice that holds it: the plan then asks for several
//! near-whole-file analyses, each with its own parse. Before running the slices, the analysis compares what
//! they would read with the file's size; past it, it analyses their union once when that reads less than the
//! file, else the file once on the document's tree (no parse), and cuts that result into the slices' cache
//! entries, exactly as when a document is opened.

use std::path::Path;
use std::sync::Arc;

use dsr_syntax::{Language, TextRange};
use rustc_hash::FxHashMap;
use tree_sitter::Tree;

use super::IncrementalStats;
use super::{
    chunks::Chunk, rebased, seed, DocumentErrors, IncrementalCache, LastSlice, SliceResult,
    SliceSpec,
};
use crate::cancel::{Cancellation, Cancelled};
use crate::engine::{Analysis, AnalysisInput, Engine, Prescan, RawAnalysis};

/// What analysing a slice costs, in bytes of whole-file analysis (facts and rules on the document's tree):
/// its bytes, its parse, and the fixed cost of an analysis (facts, every rule's setup), about a small function's
/// worth. The parse is what decides: measured with callgrind on five files of the latency corpus (three Go,
/// one Rust, one TypeScript; lsp.md, seventh round), a fresh parse costs about twice the whole-file analysis
/// of the same bytes, and a slice's parse from the document's tree edited into its layout (every slice an
/// edit needs in a new place) 0.9–4.9 times the slice's analysis, 1.5 at the median; only a slice parsed from
/// the last slice's tree (the same slice, a keystroke later) costs next to nothing. One constant cannot fit
/// every file (0.8–4.4 times the whole-file analysis per byte on those five): a file whose rules are few
/// (a test file) parses dearer than this says.
fn slice_cost(bytes: usize, parse: Parse) -> usize {
    let parse = match parse {
        Parse::FromLast => 0,
        Parse::FromDocument => bytes + bytes / 2,
        Parse::Fresh => 2 * bytes,
    };
    bytes + parse + SLICE_ALLOWANCE
}

/// How a slice will be parsed ([`super::parse_slice`]).
#[derive(Clone, Copy)]
enum Parse {
    /// From the last slice's tree: the same chunks, a keystroke apart.
    FromLast,
    /// From the document's tree edited into the slice's layout.
    FromDocument,
    /// From nothing: the slice holds a syntax error of the document.
    Fresh,
}

impl Parse {
    fn of(
        slice: &SliceSpec,
        chunks: &[Chunk],
        errors: &DocumentErrors,
        last: Option<&LastSlice>,
    ) -> Parse {
        if errors.held_by(chunks, slice) {
            Parse::Fresh
        } else if last.is_some_and(|last| {
            last.chunk_count == chunks.len()
                && last.chunks == slice.chunks
                && !last.tree.root_node().has_error()
        }) {
            Parse::FromLast
        } else {
            Parse::FromDocument
        }
    }
}

/// The fixed cost of analysing a slice, in bytes of whole-file analysis.
const SLICE_ALLOWANCE: usize = 512;

/// How the slices an edit needs (those the cache lacks) are analysed.
pub(super) enum Strategy {
    /// Each on its own: together they read no more than the file.
    Slices,
    /// All together, as one slice holding every chunk any of them holds: they overlap (the methods of one type
    /// that call each other share their callees), so their union reads less than they do one by one, and less
    /// than the file.
    Union(SliceSpec),
    /// The whole file once, on the document's tree: cheaper than the slices and than their union.
    WholeFile,
}

/// The cheapest way to analyse `pending`, for a file of `source_len` bytes. The slices one by one are kept
/// whenever they cost no more than the file (each is then cached on its own terms); past that, their union
/// when it costs less than the file. Each is priced with the parse it will get ([`slice_cost`]): before the
/// seventh round a slice's parse was priced at half its bytes and a union's not at all (on the grounds that
/// the next keystroke reparses it from the last one's tree), while an edit in a new place, the one that
/// does the work now that a letter typed and deleted returns to kept results, parses from the document's tree
/// at one and a half times its analysis: in nats-server's sublist.go a union of 0.985 of the file was
/// chosen over the file, and cost more than the whole-file analysis it replaced.
pub(super) fn strategy<'a>(
    source_len: usize,
    chunks: &[Chunk],
    errors: &DocumentErrors,
    last: Option<&LastSlice>,
    pending: impl Iterator<Item = &'a SliceSpec> + Clone,
) -> Strategy {
    // The chunks' full lengths: an upper bound of a slice's text (statements left out are not subtracted),
    // cheap to sum.
    let bytes = |slice: &SliceSpec| -> usize {
        slice
            .chunks
            .iter()
            .map(|&index| chunks[index].range.len())
            .sum()
    };
    let cost = |slice: &SliceSpec| slice_cost(bytes(slice), Parse::of(slice, chunks, errors, last));
    let mut total = 0;
    for slice in pending.clone() {
        total += cost(slice);
        if total > source_len {
            let union = SliceSpec::union(pending);
            return if cost(&union) < source_len {
                Strategy::Union(union)
            } else {
                Strategy::WholeFile
            };
        }
    }
    Strategy::Slices
}

impl Engine {
    /// One whole-file analysis on the document's tree, used as this version's result and cut into the slices'
    /// results for the next edits (slices whose findings point outside them are left to be analysed when
    /// needed).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn analyze_whole_file_instead(
        &self,
        path: &Path,
        language: Language,
        source: &str,
        tree: &Tree,
        disabled: &[&str],
        prescan: Prescan,
        chunks: &[Chunk],
        slices: &FxHashMap<u64, Arc<SliceSpec>>,
        owner_slice: &[u64],
        cache: &mut IncrementalCache,
        cancel: Cancellation<'_>,
    ) -> Result<Analysis, Cancelled> {
        let input = AnalysisInput {
            path,
            language,
            source,
            tree: Some(tree),
            disabled,
        };
        let whole = self.run_rules(input, cancel, prescan)?;
        let seeded = if whole.failures.is_empty() {
            let copy = RawAnalysis {
                findings: whole.findings.clone(),
                comments: whole.comments.clone(),
                failures: Vec::new(),
                roles: None,
            };
            seed(source, chunks, slices, owner_slice, copy)
        } else {
            // A rule failed on this version: nothing of it is worth keeping.
            FxHashMap::<u64, Arc<SliceResult>>::default()
        };
        cache.keep(seeded);
        let roles = whole.roles.clone().unwrap_or_default();
        Ok(self.finish(source, whole, || roles))
    }

    /// Analyses `union`, a slice holding every chunk of the slices in `pending`, once, and cuts its result
    /// into theirs as [`Engine::analyze_whole_file_instead`] cuts the file's: each of those slices holds
    /// everything its owners' findings depend on, and so does their union (as the file does), so the union
    /// gives each owner the findings its own slice gives. A slice whose findings point at a statement or chunk
    /// it does not hold is left out of the result, to be analysed on its own.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn analyze_union(
        &self,
        path: &Path,
        language: Language,
        source: &str,
        document: &Tree,
        chunks: &[Chunk],
        union: &SliceSpec,
        pending: &FxHashMap<u64, Arc<SliceSpec>>,
        owner_slice: &[u64],
        disabled: &[&str],
        prescan: Prescan,
        errors: &DocumentErrors,
        stats: &mut IncrementalStats,
        last_slice: &mut Option<LastSlice>,
        cancel: Cancellation<'_>,
    ) -> Result<FxHashMap<u64, Arc<SliceResult>>, Cancelled> {
        let result = self.analyze_slice(
            path, language, source, document, chunks, union, disabled, prescan, errors, stats,
            last_slice, cancel,
        )?;
        if !result.failures.is_empty() {
            // A rule failed on the union: each slice is analysed on its own, and fails or not on its terms.
            return Ok(FxHashMap::default());
        }
        let to_file = |offset: usize| result.file_offset(chunks, union, offset);
        let in_file = RawAnalysis {
            findings: result
                .findings
                .iter()
                .map(|(_, finding)| rebased(finding, &to_file))
                .collect(),
            comments: result
                .comments
                .iter()
                .map(|(_, comment)| TextRange::new(to_file(comment.start), to_file(comment.end)))
                .collect(),
            failures: Vec::new(),
            roles: None,
        };
        Ok(seed(source, chunks, pending, owner_slice, in_file))
    }
}
