//! When slices cost more than the whole file: the bound that keeps an edit's analysis no dearer than one
//! from-scratch analysis.
//!
//! A slice holds its owner and everything the owner's findings can depend on. In files shaped like real
//! services (one big type whose methods call each other and write the same fields) those closures reach most
//! of the file, and an edit to a method changes every slice that holds it: the plan then asks for several
//! near-whole-file analyses, each with its own parse. Before running the slices, the analysis compares what
//! they would read with the file's size; past it, it analyses the file once on the document's tree (no parse)
//! and cuts that result into the slices' cache entries, exactly as when a document is opened.

use std::path::Path;
use std::sync::Arc;

use dsr_syntax::Language;
use rustc_hash::FxHashMap;
use tree_sitter::Tree;

use super::{chunks::Chunk, seed, IncrementalCache, SliceResult, SliceSpec};
use crate::engine::{Analysis, Engine, RawAnalysis};

/// What analysing a slice costs beyond its bytes, in bytes of whole-file analysis: its own parse (a fresh
/// parse costs about half as much per byte as the rules) and the fixed cost of an analysis (facts, every
/// rule's setup), about a small function's worth.
fn slice_cost(bytes: usize) -> usize {
    bytes + bytes / 2 + 512
}

/// Whether analysing `pending` (the slices the cache lacks) would cost more than one whole-file analysis of
/// `source_len` bytes.
pub(super) fn whole_file_is_cheaper<'a>(
    source_len: usize,
    chunks: &[Chunk],
    pending: impl Iterator<Item = &'a SliceSpec>,
) -> bool {
    let mut cost = 0;
    for slice in pending {
        // The chunks' full lengths: an upper bound of the slice's text (statements left out are not
        // subtracted), cheap to sum.
        let bytes: usize = slice
            .chunks
            .iter()
            .map(|&index| chunks[index].range.len())
            .sum();
        cost += slice_cost(bytes);
        if cost > source_len {
            return true;
        }
    }
    false
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
        chunks: &[Chunk],
        slices: &FxHashMap<u64, Arc<SliceSpec>>,
        owner_slice: &[u64],
        cache: &mut IncrementalCache,
    ) -> Analysis {
        let whole = self.run_rules(path, language, source, Some(tree), disabled);
        cache.slices = if whole.failures.is_empty() {
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
        let roles = whole.roles.clone().unwrap_or_default();
        self.finish(source, whole, || roles)
    }
}
