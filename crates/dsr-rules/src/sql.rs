//! SQL text as rules see it: a script (a `.sql` file, or the value of a string literal in code) split into
//! statements, each parsed by sqlparser with a dialect fallback, with byte ranges for statements and tokens; and
//! the mapping from offsets in a string literal's decoded value back into the source.
//!
//! Splitting comes first and parsing is per statement, so one statement sqlparser cannot read (a vendor
//! extension, a syntax error) hides nothing else. Nothing here panics on any input: sqlparser is called behind
//! `catch_unwind`, and locations that do not fall in the text are dropped.

use std::panic::{catch_unwind, AssertUnwindSafe};

use dsr_core::{Language, TextRange};
use sqlparser::ast::Statement;
use sqlparser::dialect::{Dialect, GenericDialect, MySqlDialect, PostgreSqlDialect};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Location, Span, Token, TokenWithSpan, Tokenizer, Whitespace};

/// The dialect that parsed a statement, in the order they are tried.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SqlDialect {
    PostgreSql,
    MySql,
    Generic,
}

impl SqlDialect {
    pub const ORDER: [SqlDialect; 3] = [SqlDialect::PostgreSql, SqlDialect::MySql, SqlDialect::Generic];

    fn dialect(self) -> &'static dyn Dialect {
        match self {
            SqlDialect::PostgreSql => &PostgreSqlDialect {},
            SqlDialect::MySql => &MySqlDialect {},
            SqlDialect::Generic => &GenericDialect {},
        }
    }
}

/// A token that is not whitespace or a comment, with its place in the script.
#[derive(Clone, Debug)]
pub struct SqlToken {
    pub token: Token,
    pub range: TextRange,
    /// sqlparser's location of the token, relative to the statement's text.
    span: Span,
}

/// One statement of a script.
#[derive(Clone, Debug)]
pub struct SqlStatement {
    pub statement: Statement,
    /// From the first token to the last, without the `;`.
    pub range: TextRange,
    pub tokens: Vec<SqlToken>,
    pub dialect: SqlDialect,
    /// Whether the dialects tried before `dialect` rejected it (a statement only MySQL reads is MySQL).
    pub only_parsed_by_later_dialects: bool,
}

impl SqlStatement {
    /// The script range of an AST span (sqlparser gives identifiers, not keywords, a span): found through the
    /// token that starts or ends at that location.
    pub fn range_of_span(&self, span: Span) -> Option<TextRange> {
        let start = self
            .tokens
            .iter()
            .find(|t| t.span.start == span.start)?
            .range
            .start;
        let end = self
            .tokens
            .iter()
            .find(|t| t.span.end == span.end)?
            .range
            .end;
        (start <= end).then(|| TextRange::new(start, end))
    }

    /// The index of the first token at or after script offset `offset`.
    pub fn token_index_at(&self, offset: usize) -> usize {
        self.tokens.partition_point(|t| t.range.start < offset)
    }
}

/// A comment of the script (`-- …` or `/* … */`), with its text without the markers.
#[derive(Clone, Debug)]
pub struct SqlComment {
    pub range: TextRange,
    pub text: String,
}

/// A script split into statements.
#[derive(Clone, Debug, Default)]
pub struct SqlScript {
    /// The statements some dialect could parse, in order.
    pub statements: Vec<SqlStatement>,
    /// Statements no dialect could parse.
    pub unparsed: Vec<TextRange>,
    pub comments: Vec<SqlComment>,
}

/// Splits `text` on top-level `;` and parses each statement, trying PostgreSQL, then MySQL, then the generic
/// dialect. Text after a tokenizer error (an unterminated quote) is left out.
pub fn parse_script(text: &str) -> SqlScript {
    let mut script = SqlScript::default();
    let (tokens, complete) = split_tokens(text);
    let mut locator = Locator::new(text);
    let mut chunk: Option<(Location, Location)> = None;
    let mut chunks: Vec<TextRange> = Vec::new();
    let mut close = |chunk: &mut Option<(Location, Location)>, locator: &mut Locator<'_>| {
        if let Some((start, end)) = chunk.take() {
            if let (Some(start), Some(end)) = (locator.offset(start), locator.offset(end)) {
                if start < end {
                    chunks.push(TextRange::new(start, end));
                }
            }
        }
    };
    for token in &tokens {
        match &token.token {
            Token::SemiColon => close(&mut chunk, &mut locator),
            Token::Whitespace(
                whitespace @ (Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_)),
            ) => {
                let start = locator.offset(token.span.start);
                let end = locator.offset(token.span.end);
                if let (Some(start), Some(end)) = (start, end) {
                    let text = match whitespace {
                        Whitespace::SingleLineComment { comment, .. } => comment.clone(),
                        Whitespace::MultiLineComment(comment) => comment.clone(),
                        _ => String::new(),
                    };
                    script.comments.push(SqlComment {
                        range: TextRange::new(start, end.max(start)),
                        text,
                    });
                }
            }
            Token::Whitespace(_) | Token::EOF => {}
            _ => match &mut chunk {
                Some((_, end)) => *end = token.span.end,
                None => chunk = Some((token.span.start, token.span.end)),
            },
        }
    }
    // The last statement needs no `;`, unless the tokenizer stopped in the middle of it.
    if complete {
        close(&mut chunk, &mut locator);
    }
    for range in chunks {
        match parse_statement(&text[range.start..range.end], range.start) {
            Some(statement) => script.statements.push(statement),
            None => script.unparsed.push(range),
        }
    }
    script
}

/// Tokens of the whole text with the first dialect whose tokenizer accepts it, else what PostgreSQL's tokenizer
/// read before its error (and `false`).
fn split_tokens(text: &str) -> (Vec<TokenWithSpan>, bool) {
    let mut partial = None;
    for dialect in SqlDialect::ORDER {
        let mut buf = Vec::new();
        let result = catch_unwind(AssertUnwindSafe(|| {
            Tokenizer::new(dialect.dialect(), text)
                .with_unescape(false)
                .tokenize_with_location_into_buf(&mut buf)
                .is_ok()
        }));
        match result {
            Ok(true) => return (buf, true),
            _ if partial.is_none() => partial = Some(buf),
            _ => {}
        }
    }
    (partial.unwrap_or_default(), false)
}

/// Parses one statement's text (at script offset `base`) with the first dialect that reads all of it.
fn parse_statement(text: &str, base: usize) -> Option<SqlStatement> {
    for (index, dialect) in SqlDialect::ORDER.into_iter().enumerate() {
        let parsed = catch_unwind(AssertUnwindSafe(|| {
            let tokens = Tokenizer::new(dialect.dialect(), text)
                .tokenize_with_location()
                .ok()?;
            let mut statements = Parser::new(dialect.dialect())
                .with_tokens_with_locations(tokens.clone())
                .parse_statements()
                .ok()?;
            (statements.len() == 1).then(|| (statements.pop(), tokens))
        }));
        let Ok(Some((Some(statement), tokens))) = parsed else {
            continue;
        };
        let mut locator = Locator::new(text);
        let tokens = tokens
            .into_iter()
            .filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
            .filter_map(|t| {
                let start = locator.offset(t.span.start)?;
                let end = locator.offset(t.span.end)?;
                Some(SqlToken {
                    token: t.token,
                    range: TextRange::new(base + start, base + end.max(start)),
                    span: t.span,
                })
            })
            .collect();
        return Some(SqlStatement {
            statement,
            range: TextRange::new(base, base + text.len()),
            tokens,
            dialect,
            only_parsed_by_later_dialects: index > 0,
        });
    }
    None
}

/// Turns sqlparser locations (1-based lines split on `\n`, 1-based character columns) into byte offsets. Walks
/// forward from the last answer, so a pass over a script's tokens in order is linear even on one long line.
struct Locator<'a> {
    text: &'a str,
    line: u64,
    column: u64,
    offset: usize,
}

impl<'a> Locator<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            line: 1,
            column: 1,
            offset: 0,
        }
    }

    fn offset(&mut self, location: Location) -> Option<usize> {
        if location.line == 0 || location.column == 0 {
            return None;
        }
        if (location.line, location.column) < (self.line, self.column) {
            *self = Self::new(self.text);
        }
        while self.line < location.line {
            let rest = &self.text[self.offset..];
            let newline = rest.find('\n')?;
            self.offset += newline + 1;
            self.line += 1;
            self.column = 1;
        }
        let mut chars = self.text[self.offset..].chars();
        while self.column < location.column {
            match chars.next() {
                Some('\n') | None => return None,
                Some(c) => {
                    self.offset += c.len_utf8();
                    self.column += 1;
                }
            }
        }
        Some(self.offset)
    }
}

/// Offsets in a string literal's decoded value mapped back to the source. Built from the literal as written and
/// the value the facts decoded; when the two cannot be lined up (an escape this mapping does not model), every
/// offset maps to the whole literal and [`LiteralMap::is_exact`] is false.
#[derive(Clone, Debug)]
pub struct LiteralMap {
    literal: TextRange,
    /// For each char of the value: (offset in the value, offset in the source); then (value length, body end).
    points: Vec<(usize, usize)>,
}

impl LiteralMap {
    /// `raw` is the source text of the literal at `literal`, `value` its decoded value.
    pub fn new(literal: TextRange, raw: &str, value: &str, language: Language) -> Self {
        let points = body(raw, language)
            .and_then(|(body_start, body, escapes)| {
                let mut points = Vec::with_capacity(value.len() + 1);
                let mut decoded = String::with_capacity(body.len());
                let mut chars = body.char_indices().peekable();
                while let Some((at, ch)) = chars.next() {
                    let source = literal.start + body_start + at;
                    if ch != '\\' || !escapes {
                        points.push((decoded.len(), source));
                        decoded.push(ch);
                        continue;
                    }
                    // The facts' unescaping: `\n`, `\t`, `\r`, a backslash-newline dropped, any other char kept.
                    match chars.next().map(|(_, c)| c) {
                        Some('\n') => {}
                        Some(escaped) => {
                            points.push((decoded.len(), source));
                            decoded.push(match escaped {
                                'n' => '\n',
                                't' => '\t',
                                'r' => '\r',
                                other => other,
                            });
                        }
                        None => {
                            points.push((decoded.len(), source));
                            decoded.push('\\');
                        }
                    }
                }
                points.push((decoded.len(), literal.start + body_start + body.len()));
                (decoded == value).then_some(points)
            })
            .unwrap_or_default();
        Self { literal, points }
    }

    pub fn is_exact(&self) -> bool {
        !self.points.is_empty()
    }

    /// The source offset of value offset `at` (a char boundary of the value).
    pub fn offset(&self, at: usize) -> Option<usize> {
        let index = self.points.binary_search_by_key(&at, |p| p.0).ok()?;
        Some(self.points[index].1)
    }

    /// The source range of a value range; the whole literal when the mapping is not exact.
    pub fn range(&self, range: TextRange) -> TextRange {
        match (self.offset(range.start), self.offset(range.end)) {
            (Some(start), Some(end)) if start <= end => TextRange::new(start, end),
            _ => self.literal,
        }
    }
}

/// The body of a literal as written: (offset of the body in `raw`, body, whether backslash escapes apply).
/// Knows Go (`"…"`, `` `…` ``), Rust (`"…"`, `b"…"`, `r#"…"#`) and TypeScript (`'…'`, `"…"`, `` `…` ``).
fn body(raw: &str, language: Language) -> Option<(usize, &str, bool)> {
    let (rest, is_raw) = match language {
        Language::Rust => {
            let after_b = raw.strip_prefix('b').unwrap_or(raw);
            match after_b.strip_prefix('r') {
                Some(rest) => (rest, true),
                None => (after_b, false),
            }
        }
        _ => (raw, false),
    };
    let hashes = rest.len() - rest.trim_start_matches('#').len();
    let rest = &rest[hashes..];
    let quote = rest.chars().next()?;
    if !matches!(quote, '"' | '\'' | '`') {
        return None;
    }
    let open = raw.len() - rest.len() + 1;
    let close = 1 + hashes;
    let body = raw.get(open..raw.len().checked_sub(close)?)?;
    // Go's backquoted strings and Rust's raw strings have no escapes; TypeScript's template strings do.
    let escapes = !is_raw && !(language == Language::Go && quote == '`');
    Some((open, body, escapes))
}
