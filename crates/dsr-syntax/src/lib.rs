//! The syntax layer of distsys-review: which languages we read, a [`Document`] that keeps a rope and a
//! tree-sitter tree in step under incremental edits, conversions between byte offsets and editor positions in
//! every LSP encoding, and small helpers over syntax nodes.
//!
//! Invariant: this crate knows nothing of rules, findings or LSP types. Every range it hands out is a byte
//! range into the document text; turning that into a line/column is done by [`position`] against the rope, never
//! from tree-sitter's row/column points (which count only `\n` as a line break, where LSP also counts `\r`).

#[doc(hidden)]
pub mod conformance;
mod document;
mod kinds;
mod language;
pub mod node;
pub mod position;

pub use document::{
    parse_bounded, parse_rope, parse_str_bounded, Document, EditError, ParseLimits, ParseOutcome,
    ParseStop, PendingParse, TextChange, DEFAULT_PARSE_TIMEOUT,
};
pub use kinds::{field, field_id, kind, kind_name, KindSet};
pub use language::Language;
pub use position::{Position, PositionEncoding, PositionError};
pub use ropey::Rope;
pub use tree_sitter;

/// A half-open byte range into a source text.
#[derive(
    Copy,
    Clone,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct TextRange {
    pub start: usize,
    pub end: usize,
}

impl TextRange {
    pub const fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    pub fn of(node: tree_sitter::Node<'_>) -> Self {
        Self::new(node.start_byte(), node.end_byte())
    }

    pub const fn len(self) -> usize {
        self.end - self.start
    }

    pub const fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// Whether `offset` lies inside the range; an empty range contains its own position.
    pub const fn contains(self, offset: usize) -> bool {
        (self.start <= offset && offset < self.end) || (self.start == offset && self.end == offset)
    }

    pub const fn contains_range(self, other: TextRange) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    pub const fn intersects(self, other: TextRange) -> bool {
        self.start < other.end && other.start < self.end
    }
}

impl From<std::ops::Range<usize>> for TextRange {
    fn from(range: std::ops::Range<usize>) -> Self {
        Self::new(range.start, range.end)
    }
}
