//! The edit-sequence property shared by the property tests and the fuzz target (`fuzz/`): a [`Harness`] drives
//! a [`Document`] with batches of editor changes and, after every batch, checks it against a plain `String`
//! model and a fresh parse. Not part of the crate's API for the rest of the project.
//!
//! What is compared after each step:
//! - the text, byte for byte, and the version;
//! - every node of the tree: byte ranges nested and ordered, inside the text, the root covering what a fresh
//!   parse's root covers, and tree-sitter's row/column points equal to the ones its own lexer would give
//!   (rows count `\n` only), so the `InputEdit` bookkeeping is checked node by node;
//! - the whole tree (`to_sexp`) against a fresh parse whenever either of them is free of syntax errors. When
//!   both contain errors, tree-sitter's error recovery depends on the parse history (see docs/architecture.md),
//!   so only the structural checks above apply, plus "the fresh parse has an error iff ours has one";
//! - none of the tree comparisons for a [provisional](Document::is_provisional) tree (one reparsed from a tree
//!   with errors): tree-sitter can reuse tokens from such a tree that a fresh parse would not make, so only the
//!   structural checks apply. After [`Harness::pause`] (the LSP's pause in typing) the document must have
//!   settled to exactly the fresh parse's tree, errors and all.
//!
//! Positions are computed here from the model string with an independent implementation of LSP's line breaks
//! (`\n`, `\r\n`, `\r`) and column units, so the document's own position conversion is under test too.

use crate::position::PositionEncoding;
use crate::{Document, Language, Position, TextChange};

/// Where a change starts.
#[derive(Clone, Debug)]
pub enum Anchor {
    /// The n-th addressable offset (modulo their count).
    Offset(usize),
    /// The end of the text.
    Eof,
    /// The start of the n-th line (modulo the line count).
    LineStart(usize),
}

/// One change of a batch, resolved against the text the previous change of the batch left.
#[derive(Clone, Debug)]
pub enum Edit {
    /// Replace `len` addressable characters from `at` (clamped to the end) with `text`.
    Range {
        at: Anchor,
        len: usize,
        text: String,
    },
    /// Delete from `at` to the start of a line `lines` further down (a deletion spanning lines), inserting `text`.
    Lines {
        at: Anchor,
        lines: usize,
        text: String,
    },
    /// A full-text replacement (no range).
    Full(String),
    /// Reverts the newest change not yet reverted (as a ranged change, the way an editor's undo arrives), so
    /// sequences keep coming back to text that parses and trees are compared whole more often.
    Undo,
}

/// How to revert a change.
enum Inverse {
    Range {
        start: usize,
        end: usize,
        removed: String,
    },
    Full(String),
}

/// Counts of what a harness did, for reports.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Batches applied (one `didChange` each); every one is followed by the full check.
    pub steps: u64,
    /// Individual changes inside those batches.
    pub changes: u64,
    /// Steps where both trees had errors, so the trees were compared structurally only.
    pub structural_only: u64,
    /// Steps that left a provisional tree, compared structurally only.
    pub provisional: u64,
    /// Pauses that settled a provisional tree, compared whole with a fresh parse.
    pub settled: u64,
}

pub struct Harness {
    language: Language,
    encoding: PositionEncoding,
    document: Document,
    model: String,
    version: i32,
    undo: Vec<Inverse>,
    pub stats: Stats,
}

impl Harness {
    pub fn new(language: Language, text: &str, encoding: PositionEncoding) -> Self {
        let document = Document::new(language, text, 0).expect("the grammar loads");
        Self {
            language,
            encoding,
            document,
            model: text.to_string(),
            version: 0,
            undo: Vec::new(),
            stats: Stats::default(),
        }
    }

    pub fn text(&self) -> &str {
        &self.model
    }

    /// Applies one batch and checks everything; `Err` describes the first disagreement.
    pub fn step(&mut self, batch: &[Edit]) -> Result<(), String> {
        let mut changes = Vec::with_capacity(batch.len());
        for edit in batch {
            let (range, text) = match edit {
                Edit::Full(text) => (None, text.clone()),
                Edit::Undo => match self.undo.pop() {
                    Some(Inverse::Full(text)) => (None, text),
                    Some(Inverse::Range {
                        mut start,
                        mut end,
                        mut removed,
                    }) => {
                        // The change may have joined a `\r` and a `\n` at one of its ends: an editor cannot name
                        // the offset between them, so the undo covers the whole line break.
                        if splits_crlf(&self.model, start) {
                            start -= 1;
                            removed.insert(0, '\r');
                        }
                        if splits_crlf(&self.model, end) {
                            end += 1;
                            removed.push('\n');
                        }
                        (Some((start, end)), removed)
                    }
                    None => (Some((0, 0)), String::new()),
                },
                Edit::Range { at, len, text } => {
                    let offsets = addressable(&self.model);
                    let start = resolve(&self.model, &offsets, at);
                    let index = offsets.partition_point(|&o| o < start);
                    let end = offsets[(index + len).min(offsets.len() - 1)];
                    (Some((start, end)), text.clone())
                }
                Edit::Lines { at, lines, text } => {
                    let offsets = addressable(&self.model);
                    let start = resolve(&self.model, &offsets, at);
                    let starts = line_starts(&self.model);
                    let line = starts.partition_point(|&s| s <= start) - 1;
                    let end = starts
                        .get(line + (*lines).max(1))
                        .copied()
                        .unwrap_or(self.model.len());
                    (Some((start, end.max(start))), text.clone())
                }
            };
            let is_undo = matches!(edit, Edit::Undo);
            let range = match range {
                None => {
                    let previous = std::mem::replace(&mut self.model, text.clone());
                    if !is_undo {
                        self.undo.push(Inverse::Full(previous));
                    }
                    None
                }
                Some((start, end)) => {
                    let positions = (
                        lsp_position(&self.model, start, self.encoding),
                        lsp_position(&self.model, end, self.encoding),
                    );
                    let removed = self.model[start..end].to_string();
                    self.model.replace_range(start..end, &text);
                    if !is_undo {
                        self.undo.push(Inverse::Range {
                            start,
                            end: start + text.len(),
                            removed,
                        });
                    }
                    Some(positions)
                }
            };
            changes.push(TextChange { range, text });
        }
        self.version += 1;
        self.document
            .apply_changes(&changes, self.version, self.encoding)
            .map_err(|err| format!("apply_changes({changes:?}) failed: {err}"))?;
        self.stats.steps += 1;
        self.stats.changes += changes.len() as u64;
        self.check()
            .map_err(|problem| format!("{problem}\nafter {changes:?}\ntext: {:?}", self.model))
    }

    /// A pause in typing: the document settles, after which its tree must be the fresh parse's, exactly.
    pub fn pause(&mut self) -> Result<(), String> {
        if !self.document.is_provisional() {
            return Ok(());
        }
        self.document.settle();
        self.stats.settled += 1;
        if self.document.is_provisional() {
            return Err("still provisional after settle()".into());
        }
        let ours = self.document.tree().map(|tree| tree.root_node().to_sexp());
        let fresh = Document::new(self.language, &self.model, 0).expect("the grammar loads");
        let theirs = fresh.tree().map(|tree| tree.root_node().to_sexp());
        if ours != theirs {
            return Err(format!(
                "a settled tree differs from a fresh parse:\n  ours:  {ours:?}\n  fresh: {theirs:?}\ntext: {:?}",
                self.model
            ));
        }
        Ok(())
    }

    fn check(&mut self) -> Result<(), String> {
        let text = self.document.text();
        if text != self.model {
            return Err(format!(
                "text differs from the model: {text:?} != {:?}",
                self.model
            ));
        }
        if self.document.version() != self.version {
            return Err("version not updated".into());
        }
        let Some(tree) = self.document.tree() else {
            return if self.language.grammar().is_some() {
                Err("a code document lost its tree".into())
            } else {
                Ok(())
            };
        };
        let fresh = Document::new(self.language, &self.model, 0).expect("the grammar loads");
        let Some(fresh_tree) = fresh.tree() else {
            return Err("a fresh parse gave no tree".into());
        };
        let (ours, theirs) = (tree.root_node(), fresh_tree.root_node());
        check_node(ours, &self.model, &points(&self.model))?;
        if ours.byte_range() != theirs.byte_range() {
            return Err(format!(
                "root covers {:?}, a fresh parse's root {:?}",
                ours.byte_range(),
                theirs.byte_range()
            ));
        }
        if self.document.is_provisional() {
            self.stats.provisional += 1;
            return Ok(());
        }
        if ours.has_error() != theirs.has_error() {
            return Err(format!(
                "incremental tree has_error={} but a fresh parse has_error={}",
                ours.has_error(),
                theirs.has_error()
            ));
        }
        if ours.has_error() {
            self.stats.structural_only += 1;
        } else if ours.to_sexp() != theirs.to_sexp() {
            return Err(format!(
                "tree differs from a fresh parse:\n  ours:  {}\n  fresh: {}",
                ours.to_sexp(),
                theirs.to_sexp()
            ));
        }
        Ok(())
    }
}

fn splits_crlf(text: &str, offset: usize) -> bool {
    text[..offset].ends_with('\r') && text[offset..].starts_with('\n')
}

/// Offsets an editor can name: character boundaries except between the `\r` and `\n` of a CRLF.
fn addressable(text: &str) -> Vec<usize> {
    text.char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .filter(|&i| !splits_crlf(text, i))
        .collect()
}

fn resolve(text: &str, offsets: &[usize], anchor: &Anchor) -> usize {
    match anchor {
        Anchor::Offset(n) => offsets[n % offsets.len()],
        Anchor::Eof => text.len(),
        Anchor::LineStart(n) => {
            let starts = line_starts(text);
            starts[n % starts.len()]
        }
    }
}

/// The byte offset where each LSP line starts (breaks: `\r\n`, `\n`, `\r`).
fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                starts.push(i + 2);
                i += 2;
            }
            b'\r' | b'\n' => {
                starts.push(i + 1);
                i += 1;
            }
            _ => i += 1,
        }
    }
    starts
}

fn lsp_position(text: &str, offset: usize, encoding: PositionEncoding) -> Position {
    let starts = line_starts(text);
    let line = starts.partition_point(|&s| s <= offset) - 1;
    let prefix = &text[starts[line]..offset];
    let character = match encoding {
        PositionEncoding::Utf8 => prefix.len(),
        PositionEncoding::Utf16 => prefix.encode_utf16().count(),
        PositionEncoding::Utf32 => prefix.chars().count(),
    };
    Position::new(line as u32, character as u32)
}

/// Tree-sitter's point for every byte offset (rows count `\n` only; columns are bytes).
fn points(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(text.len() + 1);
    let (mut row, mut column) = (0, 0);
    for &byte in text.as_bytes() {
        out.push((row, column));
        if byte == b'\n' {
            row += 1;
            column = 0;
        } else {
            column += 1;
        }
    }
    out.push((row, column));
    out
}

fn check_node(
    node: tree_sitter::Node<'_>,
    text: &str,
    points: &[(usize, usize)],
) -> Result<(), String> {
    let (start, end) = (node.start_byte(), node.end_byte());
    if start > end || end > text.len() {
        return Err(format!(
            "{} has range {start}..{end} in a text of {} bytes",
            node.kind(),
            text.len()
        ));
    }
    for (offset, point) in [(start, node.start_position()), (end, node.end_position())] {
        let want = points[offset];
        if (point.row, point.column) != want {
            return Err(format!(
                "{} at byte {offset} has point {}:{}, the text says {}:{}",
                node.kind(),
                point.row,
                point.column,
                want.0,
                want.1
            ));
        }
    }
    let mut cursor = node.walk();
    let mut previous_end = start;
    for child in node.children(&mut cursor) {
        if child.start_byte() < previous_end || child.end_byte() > end {
            return Err(format!(
                "{} child {} at {:?} is outside {start}..{end} or overlaps its sibling (ends {previous_end})",
                node.kind(),
                child.kind(),
                child.byte_range()
            ));
        }
        previous_end = child.end_byte();
        check_node(child, text, points)?;
    }
    Ok(())
}
