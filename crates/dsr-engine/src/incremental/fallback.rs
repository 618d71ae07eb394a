//! When slices cost more than the whole file: the bound that keeps an edit's analysis no dearer than one
//! from-scratch analysis.
//!
//! A slice holds its owner and everything the owner's findings can depend on. In files shaped like real
//! services (one big type whose methods call each other and write the same fields) those closures reach most
//! of the file, and an edit to a method changes every slice that holds it: the plan then asks for several
//! near-whole-file analyses, each with its own parse. Before running the slices, the analysis compares what
//! they are predicted to cost with what the whole file costs, both priced from this document's own timings
//! ([`Prices`]); past it, it analyses their union once when that costs less than the file, else the file once
//! on the document's tree (no parse), and cuts that result into the slices' cache entries, exactly as when a
//! document is opened.

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

/// How a slice will be parsed ([`super::parse_slice`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Parse {
    /// From the last slice's tree: the same chunks, a keystroke apart.
    FromLast,
    /// From the document's tree edited into the slice's layout.
    FromDocument,
    /// From nothing: the slice holds a syntax error of the document, or a fresh parse is priced cheaper than
    /// one from the document's tree (a small slice of a large file).
    Fresh,
}

impl Parse {
    /// What this parse costs per [`Parse::units`], before the document's own timings say otherwise, as a
    /// multiple of the whole-file analysis per byte. A fresh parse costs about twice the whole-file analysis
    /// of the same bytes (callgrind on five files of the latency corpus, lsp.md, seventh round); a parse from
    /// the document's tree about as much as the whole-file analysis of its units; one from the last slice's
    /// tree (the same slice, a keystroke later) next to nothing.
    fn prior(self) -> f64 {
        match self {
            Parse::FromLast => 0.0,
            Parse::FromDocument => 1.0,
            Parse::Fresh => 2.0,
        }
    }

    /// What this parse's cost grows with, for a slice of `bytes` priced bytes in a file of `source_len`
    /// bytes. A parse from the document's tree first edits that tree into the slice's layout (every run the
    /// slice leaves out deleted: tree-sitter copies and shifts the nodes each edit crosses) and drops the
    /// edited copy after the parse, which costs with the document as much as with the slice: measured on
    /// typeorm's mongodb/typings.ts (9,023 lines), a slice of 0.8% of the file parsed so cost 1.1 whole-file
    /// analyses, half of it in `Tree::edit`. Weighted so that a slice of the whole file costs 1.5 times its
    /// bytes (the seventh round's union of 0.985 of sublist.go) and a small slice 0.4 of the file's.
    fn units(self, bytes: usize, source_len: usize) -> f64 {
        match self {
            Parse::FromDocument => 1.1 * bytes as f64 + 0.4 * source_len as f64,
            Parse::FromLast | Parse::Fresh => bytes as f64,
        }
    }
}

/// The bytes a slice's analysis is priced by: its chunks' full lengths (statements left out are not
/// subtracted), cheap to sum, the same measure for a prediction and for the timing it is learned from.
pub(super) fn priced_bytes(chunks: &[Chunk], slice: &SliceSpec) -> usize {
    held_bytes(chunks, &slice.chunks)
}

fn held_bytes(chunks: &[Chunk], held: &[usize]) -> usize {
    held.iter().map(|&index| chunks[index].range.len()).sum()
}

/// What this document's analyses cost, learned from its own timings (the analysing thread's CPU time, which a
/// loaded machine does not inflate), in nanoseconds: what [`strategy`] predicts an edit's slices, their union
/// and the whole file to cost with. Before a kind of work is timed its price is a prior, a multiple of the
/// whole-file analysis per byte (the constants measured in the seventh round); the whole-file analysis itself
/// is timed first, when the document is opened (its seeding analysis). Each rate is bytes-weighted and
/// smoothed over the last few timings ([`Rate`]); the first timing is weighed against the prior as one
/// timing of the same size.
#[derive(Clone, Debug, Default)]
pub(super) struct Prices {
    /// Facts and rules on the document's tree, per byte of the file.
    whole: Rate,
    /// Cutting a whole-file result into the slices' entries ([`super::seed`]), per byte of the file.
    seeding: Rate,
    /// A slice's parse, per [`Parse::units`], by the kind [`Prices::parse_of`] priced it with.
    parse: [Rate; 3],
    /// A slice's analysis (laying out its text, facts and rules on its tree), per priced byte, beyond
    /// [`SLICE_ALLOWANCE`].
    slice: Rate,
    /// Never learn: price by the priors alone (tests that assert a choice, which timings would make depend
    /// on the machine).
    fixed: bool,
}

/// The fixed cost of analysing a slice (facts, every rule's setup), about a small function's worth, in bytes
/// of whole-file analysis: not learned (one timing cannot tell it from the per-byte cost), subtracted from each
/// slice's timing before its per-byte cost is learned.
const SLICE_ALLOWANCE: f64 = 512.0;

/// How much of its weight a rate's past loses at each timing: the last four or five timings decide.
const LEARNING: f64 = 0.3;

/// The nanoseconds per byte assumed before any whole-file analysis was timed (only the ratios matter then: a
/// cache that never seeds, or whose seeding was cancelled).
const UNTIMED_WHOLE: f64 = 1.0;

/// A cost per byte learned from timings: time and bytes summed, both decayed by [`LEARNING`] at each timing,
/// so a large slice weighs more than a small one and old timings fade.
#[derive(Clone, Copy, Debug, Default)]
struct Rate {
    nanos: f64,
    bytes: f64,
}

impl Rate {
    fn per_byte(&self, prior: f64) -> f64 {
        if self.bytes > 0.0 {
            self.nanos / self.bytes
        } else {
            prior
        }
    }

    fn observe(&mut self, nanos: f64, bytes: usize, prior: Option<f64>) {
        let bytes = bytes.max(1) as f64;
        if self.bytes <= 0.0 {
            match prior {
                // The prior counts as one timing of the same size.
                Some(prior) => {
                    self.nanos = prior * bytes;
                    self.bytes = bytes;
                }
                // Without one, the first timing is the rate.
                None => {
                    self.nanos = nanos;
                    self.bytes = bytes;
                    return;
                }
            }
        }
        self.nanos = self.nanos * (1.0 - LEARNING) + nanos;
        self.bytes = self.bytes * (1.0 - LEARNING) + bytes;
    }
}

impl Prices {
    /// Prices that never learn: the priors alone.
    #[cfg(test)]
    pub(super) fn fixed() -> Self {
        Prices {
            fixed: true,
            ..Prices::default()
        }
    }

    fn whole_per_byte(&self) -> f64 {
        self.whole.per_byte(UNTIMED_WHOLE)
    }

    /// The predicted cost of analysing the file whole on the document's tree and cutting the result into the
    /// slices' entries.
    pub(super) fn whole_file(&self, source_len: usize) -> f64 {
        let whole = self.whole_per_byte();
        // Seeding before it was timed: about 1% of the analysis (v3_server.go, seventh round).
        (whole + self.seeding.per_byte(whole / 100.0)) * source_len as f64
    }

    /// How a slice holding the chunks `held` (sorted indices into `chunks`) of a file of `source_len` bytes
    /// will be parsed: fresh when it holds a syntax error of the document, from the last slice's tree when it
    /// holds the same chunks of a file cut the same way, else whichever of a fresh parse and a parse from the
    /// document's tree is priced cheaper.
    pub(super) fn parse_of(
        &self,
        held: &[usize],
        chunks: &[Chunk],
        errors: &DocumentErrors,
        last: Option<&LastSlice>,
        source_len: usize,
    ) -> Parse {
        if errors.held_by_chunks(chunks, held) {
            return Parse::Fresh;
        }
        if last.is_some_and(|last| {
            last.chunk_count == chunks.len()
                && last.chunks == held
                && !last.tree.root_node().has_error()
        }) {
            return Parse::FromLast;
        }
        let bytes = held_bytes(chunks, held);
        if self.parse(Parse::Fresh, bytes, source_len)
            < self.parse(Parse::FromDocument, bytes, source_len)
        {
            Parse::Fresh
        } else {
            Parse::FromDocument
        }
    }

    /// The predicted cost of parsing a slice of `bytes` priced bytes of a file of `source_len` as `parse`.
    fn parse(&self, parse: Parse, bytes: usize, source_len: usize) -> f64 {
        let prior = parse.prior() * self.whole_per_byte();
        self.parse[parse as usize].per_byte(prior) * parse.units(bytes, source_len)
    }

    /// The predicted cost of analysing a slice of `bytes` priced bytes of a file of `source_len` bytes, parsed
    /// as `parse`.
    pub(super) fn slice(&self, bytes: usize, parse: Parse, source_len: usize) -> f64 {
        let whole = self.whole_per_byte();
        self.parse(parse, bytes, source_len)
            + self.slice.per_byte(whole) * bytes as f64
            + SLICE_ALLOWANCE * whole
    }

    /// A whole-file analysis of `bytes` took `spent`.
    pub(super) fn whole_file_timed(&mut self, bytes: usize, spent: std::time::Duration) {
        if self.fixed {
            return;
        }
        self.whole.observe(spent.as_nanos() as f64, bytes, None);
    }

    /// Cutting a whole-file result of `bytes` into the slices took `spent`.
    pub(super) fn seeding_timed(&mut self, bytes: usize, spent: std::time::Duration) {
        if self.fixed {
            return;
        }
        let prior = self.whole_per_byte() / 100.0;
        self.seeding
            .observe(spent.as_nanos() as f64, bytes, Some(prior));
    }

    /// A slice of `bytes` priced bytes of a file of `source_len` bytes, priced as parsed by `parse`, took
    /// `parsing` to parse and `analysing` to analyse.
    pub(super) fn slice_timed(
        &mut self,
        bytes: usize,
        parse: Parse,
        source_len: usize,
        parsing: std::time::Duration,
        analysing: std::time::Duration,
    ) {
        if self.fixed {
            return;
        }
        let whole = self.whole_per_byte();
        self.parse[parse as usize].observe(
            parsing.as_nanos() as f64,
            parse.units(bytes, source_len).round() as usize,
            Some(parse.prior() * whole),
        );
        let beyond_allowance = (analysing.as_nanos() as f64 - SLICE_ALLOWANCE * whole).max(0.0);
        self.slice.observe(beyond_allowance, bytes, Some(whole));
    }
}

/// The analysing thread's CPU time so far: what [`Prices`] learns from. A wall clock on a loaded machine
/// moves by whole scheduler slices while the thread waits.
pub(super) fn thread_cpu() -> std::time::Duration {
    crate::cpu::thread().unwrap_or_else(|| {
        // Elsewhere (or should the clock fail), the wall clock since the first call.
        static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        STARTED.get_or_init(std::time::Instant::now).elapsed()
    })
}

/// How the slices an edit needs (those the cache lacks) are analysed.
#[derive(Debug)]
pub(super) enum Strategy {
    /// Each on its own: together they cost no more than the file.
    Slices,
    /// All together, as one slice holding every chunk any of them holds: they overlap (the methods of one type
    /// that call each other share their callees), so their union costs less than they do one by one, and less
    /// than the file.
    Union(SliceSpec),
    /// The whole file once, on the document's tree (and its result cut into the slices' entries): cheaper than
    /// the slices and than their union.
    WholeFile,
}

/// The cheapest way to analyse `pending`, for a file of `source_len` bytes, by the costs `prices` predicts.
/// The slices one by one are kept whenever they cost no more than the file (each is then cached on its own
/// terms); past that, their union when it costs less than the file. Each slice is priced with the parse it will
/// get ([`Prices::parse_of`]): an edit in a new place parses its slices from the document's tree, the dear kind, and
/// the keystroke after it from the last slice's tree, next to nothing. The choice changes only what the edit
/// costs, never its result: the slices, their union and the whole file give the same findings.
pub(super) fn strategy<'a>(
    source_len: usize,
    chunks: &[Chunk],
    errors: &DocumentErrors,
    last: Option<&LastSlice>,
    prices: &Prices,
    pending: impl Iterator<Item = &'a SliceSpec> + Clone,
) -> Strategy {
    let cost = |slice: &SliceSpec| {
        prices.slice(
            priced_bytes(chunks, slice),
            prices.parse_of(&slice.chunks, chunks, errors, last, source_len),
            source_len,
        )
    };
    let whole = prices.whole_file(source_len);
    let mut total = 0.0;
    for slice in pending.clone() {
        total += cost(slice);
        if total > whole {
            // The union's chunks first, to price it: the statements it leaves out (each chunk's holders
            // compared, the dear part of a union of hundreds of slices) only when it is chosen.
            let mut held = vec![false; chunks.len()];
            for slice in pending.clone() {
                for &index in &slice.chunks {
                    held[index] = true;
                }
            }
            let held: Vec<usize> = (0..chunks.len()).filter(|&index| held[index]).collect();
            let union_cost = prices.slice(
                held_bytes(chunks, &held),
                prices.parse_of(&held, chunks, errors, last, source_len),
                source_len,
            );
            return if union_cost < whole {
                Strategy::Union(SliceSpec::union(pending))
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
        let started = thread_cpu();
        let whole = self.run_rules(input, cancel, prescan)?;
        let analysed = thread_cpu();
        cache
            .prices
            .whole_file_timed(source.len(), analysed.saturating_sub(started));
        let seeded = if whole.failures.is_empty() {
            let copy = RawAnalysis {
                findings: whole.findings.clone(),
                comments: whole.comments.clone(),
                failures: Vec::new(),
                roles: None,
            };
            let seeded = seed(source, chunks, slices, owner_slice, copy);
            cache
                .prices
                .seeding_timed(source.len(), thread_cpu().saturating_sub(analysed));
            seeded
        } else {
            // A rule failed on this version: nothing of it is worth keeping.
            FxHashMap::<u64, Arc<SliceResult>>::default()
        };
        cache.keep(seeded);
        let roles = whole.roles.clone().unwrap_or_default();
        Ok(self.finish(source, whole, || roles))
    }

    /// One whole-file analysis on the document's tree, without a plan for this version: its result is not cut
    /// into slices (there are none to cut it into), and the cache keeps what it held. Timed like
    /// [`Engine::analyze_whole_file_instead`].
    pub(super) fn analyze_whole_file_unplanned(
        &self,
        input: AnalysisInput<'_>,
        prescan: Prescan,
        cache: &mut IncrementalCache,
        cancel: Cancellation<'_>,
    ) -> Result<Analysis, Cancelled> {
        let started = thread_cpu();
        let whole = self.run_rules(input, cancel, prescan)?;
        cache
            .prices
            .whole_file_timed(input.source.len(), thread_cpu().saturating_sub(started));
        let roles = whole.roles.clone().unwrap_or_default();
        Ok(self.finish(input.source, whole, || roles))
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
        memory: super::SliceMemory<'_>,
        cancel: Cancellation<'_>,
    ) -> Result<FxHashMap<u64, Arc<SliceResult>>, Cancelled> {
        let result = self.analyze_slice(
            path, language, source, document, chunks, union, disabled, prescan, errors, stats,
            memory, cancel,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rates_learn_from_recorded_timings() {
        let mut prices = Prices::default();
        // Untimed: the priors, in units of an untimed whole-file byte (seeding at a hundredth of it).
        assert_eq!(prices.whole_file(1000), 1010.0);
        // The first whole-file timing is the whole-file rate; the slices' priors are multiples of it.
        prices.whole_file_timed(1000, Duration::from_nanos(4000));
        assert_eq!(prices.whole_per_byte(), 4.0);
        assert_eq!(
            prices.slice(100, Parse::Fresh, 1000),
            (2.0 * 4.0 + 4.0) * 100.0 + SLICE_ALLOWANCE * 4.0
        );
        // From the document's tree, the parse grows with the file too.
        assert_eq!(
            prices.slice(100, Parse::FromDocument, 1000),
            4.0 * (110.0 + 400.0) + 4.0 * 100.0 + SLICE_ALLOWANCE * 4.0
        );
        // A slice whose fresh parse costs 60 per byte (fifteen times the whole-file analysis): the first
        // timing moves the rate from the prior towards it, later ones to it.
        let parsing = Duration::from_nanos(100 * 60);
        let analysing = Duration::from_nanos((SLICE_ALLOWANCE * 4.0) as u64 + 100 * 4);
        prices.slice_timed(100, Parse::Fresh, 1000, parsing, analysing);
        let first = prices.parse[Parse::Fresh as usize].per_byte(0.0);
        assert!(8.0 < first && first < 60.0, "{first}");
        for _ in 0..40 {
            prices.slice_timed(100, Parse::Fresh, 1000, parsing, analysing);
        }
        let learned = prices.parse[Parse::Fresh as usize].per_byte(0.0);
        assert!((learned - 60.0).abs() < 0.5, "{learned}");
        assert!((prices.slice.per_byte(0.0) - 4.0).abs() < 0.01);
        // Other kinds of parse keep their priors.
        assert_eq!(prices.parse[Parse::FromLast as usize].per_byte(-1.0), -1.0);
        assert_eq!(
            prices.parse[Parse::FromDocument as usize].per_byte(-1.0),
            -1.0
        );
        // Later whole-file timings are smoothed in.
        prices.whole_file_timed(1000, Duration::from_nanos(8000));
        let whole = prices.whole_per_byte();
        assert!(4.0 < whole && whole < 8.0, "{whole}");

        let mut fixed = Prices::fixed();
        fixed.whole_file_timed(1000, Duration::from_nanos(4000));
        fixed.slice_timed(100, Parse::Fresh, 1000, parsing, analysing);
        assert_eq!(fixed.whole_file(1000), 1010.0);
        assert_eq!(
            fixed.slice(100, Parse::Fresh, 1000),
            3.0 * 100.0 + SLICE_ALLOWANCE
        );
    }
}
