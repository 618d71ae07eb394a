//! Cooperative cancellation: an analysis whose result nobody will use stops at its next unit of work.
//!
//! The language server analyses each version of a document on one of two cores; when the next edit arrives
//! while the previous version's analysis runs, that result will be dropped anyway, and finishing it keeps a
//! core busy while the next version waits. The engine asks [`Cancellation::is_cancelled`] between units of
//! work (before and after the facts pass, between rules, between slices, and from the slice parser's progress
//! callback) and returns [`Cancelled`] instead of a partial result. What it keeps in a cache is always whole:
//! a slice's result is kept only when every rule ran on it.

/// Why an analysis returned without a result: whoever asked for it no longer wants it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancelled;

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("analysis cancelled")
    }
}

impl std::error::Error for Cancelled {}

/// Asked between units of work whether the analysis should stop. Cheap to copy; checking it should cost an
/// atomic load (the language server compares the document's latest change counter with the analysed one).
#[derive(Clone, Copy)]
pub struct Cancellation<'a> {
    asks: Option<&'a (dyn Fn() -> bool + Sync)>,
}

impl<'a> Cancellation<'a> {
    /// An analysis that always runs to its end (the CLI, requests that need an answer).
    pub const NEVER: Cancellation<'static> = Cancellation { asks: None };

    /// Stops when `asks` returns `true`.
    pub fn when(asks: &'a (dyn Fn() -> bool + Sync)) -> Self {
        Self { asks: Some(asks) }
    }

    /// Whether anything can stop the analysis: without it, checks cost nothing and parsers need no callback.
    pub fn is_cancellable(&self) -> bool {
        self.asks.is_some()
    }

    pub fn is_cancelled(&self) -> bool {
        self.asks.is_some_and(|asks| asks())
    }

    /// `Err(Cancelled)` when the analysis should stop: for `?` between units of work.
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }
}

impl std::fmt::Debug for Cancellation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cancellation")
            .field("cancellable", &self.asks.is_some())
            .finish()
    }
}
