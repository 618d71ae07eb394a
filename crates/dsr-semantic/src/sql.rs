//! SQL text as rules see it: a script (a `.sql` file, or the value of a string literal in code) split into
//! statements, each parsed by sqlparser with a dialect fallback, with byte ranges for statements and tokens; and
//! the mapping from offsets in a string literal's decoded value back into the source. Tokens, their byte ranges
//! and the comments come from [`dsr_core::sql`], which the suppressions of `.sql` files read too.
//!
//! Splitting comes first and parsing is per statement, so one statement sqlparser cannot read (a vendor
//! extension, a syntax error) hides nothing else. Nothing here panics on any input: sqlparser is called behind
//! `catch_unwind`, and locations that do not fall in the text are dropped.

use std::panic::{catch_unwind, AssertUnwindSafe};

use dsr_core::sql::{comment_text, tokenize_script, Locator, ScriptTokens};
pub use dsr_core::sql::{SqlComment, SqlDialect};
use dsr_syntax::{Language, TextRange};
use sqlparser::ast::Statement;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Span, Token, TokenWithSpan, Tokenizer};

/// A token that is not whitespace or a comment, with its place in the script.
#[derive(Clone, Debug)]
pub struct SqlToken {
    pub token: Token,
    pub range: TextRange,
    /// sqlparser's location of the token (relative to the script, or to the statement when a dialect other
    /// than the script's tokenized it again); only compared with the spans of the same statement's AST.
    span: Span,
}

/// One statement of a script.
#[derive(Clone, Debug)]
pub struct SqlStatement {
    pub statement: Statement,
    /// From the first token to the last, without the `;`.
    pub range: TextRange,
    pub tokens: Vec<SqlToken>,
    /// The first dialect that read it: MySQL means PostgreSQL could not.
    pub dialect: SqlDialect,
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
    parse_script_where(text, |_| true)
}

/// [`parse_script`], parsing only the statements whose first token passes `wanted` (a rule that only cares about
/// DDL skips the cost of parsing every `INSERT` of a data migration). Skipped statements are in neither list.
pub fn parse_script_where(text: &str, wanted: impl Fn(&Token) -> bool) -> SqlScript {
    let mut script = SqlScript::default();
    let ScriptTokens {
        tokens,
        complete,
        dialect,
    } = tokenize_script(text);
    // Offsets are taken in token order, so the locator only ever walks forward.
    let mut locator = Locator::new(text);
    let mut chunk: Vec<SqlToken> = Vec::new();
    let mut chunks: Vec<Vec<SqlToken>> = Vec::new();
    let mut skipping = false;
    for token in tokens {
        let Some(range) = locator.range(&token) else {
            continue;
        };
        if let Some(comment) = comment_text(&token.token) {
            script.comments.push(SqlComment {
                range,
                text: comment.to_string(),
            });
            continue;
        }
        let span = token.span;
        match token.token {
            Token::SemiColon => {
                chunks.push(std::mem::take(&mut chunk));
                skipping = false;
            }
            Token::Whitespace(_) | Token::EOF => {}
            _ if skipping => {}
            token if chunk.is_empty() && !wanted(&token) => skipping = true,
            token => chunk.push(SqlToken { token, range, span }),
        }
    }
    // The last statement needs no `;`, unless the tokenizer stopped in the middle of it.
    if complete {
        chunks.push(chunk);
    }
    for tokens in chunks {
        let (Some(first), Some(last)) = (tokens.first(), tokens.last()) else {
            continue;
        };
        let range = TextRange::new(first.range.start, last.range.end);
        match parse_statement(text, range, tokens, dialect) {
            Some(statement) => script.statements.push(statement),
            None => script.unparsed.push(range),
        }
    }
    script
}

/// Parses the statement at `range` with the first dialect that reads all of it. `tokens` come from the
/// script's tokenizer (`tokenized_with`); other dialects tokenize the statement's text again, since they split
/// some things differently (backquotes, `#` comments).
fn parse_statement(
    text: &str,
    range: TextRange,
    tokens: Vec<SqlToken>,
    tokenized_with: SqlDialect,
) -> Option<SqlStatement> {
    let statement_text = text.get(range.start..range.end)?;
    let mut tokens = Some(tokens);
    for dialect in SqlDialect::ORDER {
        let candidate = if dialect == tokenized_with {
            tokens.take()
        } else {
            retokenize(statement_text, range.start, dialect)
        };
        let Some(candidate) = candidate else { continue };
        let input = candidate
            .iter()
            .map(|t| TokenWithSpan {
                token: t.token.clone(),
                span: t.span,
            })
            .collect();
        let parsed = catch_unwind(AssertUnwindSafe(|| {
            let mut statements = Parser::new(dialect.dialect())
                .with_tokens_with_locations(input)
                .parse_statements()
                .ok()?;
            if statements.len() == 1 {
                statements.pop()
            } else {
                None
            }
        }));
        if let Ok(Some(statement)) = parsed {
            return Some(SqlStatement {
                statement,
                range,
                tokens: candidate,
                dialect,
            });
        }
    }
    None
}

/// The tokens of one statement's text (at script offset `base`) in `dialect`, comments and whitespace left out.
fn retokenize(text: &str, base: usize, dialect: SqlDialect) -> Option<Vec<SqlToken>> {
    let tokens = catch_unwind(AssertUnwindSafe(|| {
        Tokenizer::new(dialect.dialect(), text)
            .tokenize_with_location()
            .ok()
    }))
    .ok()??;
    let mut locator = Locator::new(text);
    Some(
        tokens
            .into_iter()
            .filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
            .filter_map(|t| {
                let range = locator.range(&t)?;
                Some(SqlToken {
                    token: t.token,
                    range: TextRange::new(base + range.start, base + range.end),
                    span: t.span,
                })
            })
            .collect(),
    )
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
    let escapes = !(is_raw || (language == Language::Go && quote == '`'));
    Some((open, body, escapes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts<'a>(source: &'a str, script: &SqlScript) -> Vec<&'a str> {
        script
            .statements
            .iter()
            .map(|s| &source[s.range.start..s.range.end])
            .collect()
    }

    #[test]
    fn splits_statements_and_keeps_going_past_one_it_cannot_parse() {
        let source =
            "ALTER TABLE a DROP COLUMN b;\nTHIS IS NOT ( SQL;\n  DROP TABLE c -- trailing\n";
        let script = parse_script(source);
        assert_eq!(
            texts(source, &script),
            ["ALTER TABLE a DROP COLUMN b", "DROP TABLE c"]
        );
        assert_eq!(script.unparsed.len(), 1);
        assert_eq!(script.comments.len(), 1);
        assert_eq!(script.comments[0].text.trim(), "trailing");
    }

    #[test]
    fn semicolons_in_strings_and_dollar_quotes_do_not_split() {
        let source = "UPDATE a SET b = 'x;y';\nDO $$ BEGIN PERFORM 1; END $$;\nDROP TABLE c;";
        let script = parse_script(source);
        assert_eq!(script.statements.len() + script.unparsed.len(), 3);
        assert_eq!(texts(source, &script).last().copied(), Some("DROP TABLE c"));
    }

    #[test]
    fn falls_back_to_mysql_for_backquoted_names() {
        let source = "ALTER TABLE `orders` MODIFY COLUMN `amount` BIGINT NOT NULL;";
        let script = parse_script(source);
        let statement = &script.statements[0];
        assert_eq!(statement.dialect, SqlDialect::MySql);
    }

    #[test]
    fn token_ranges_count_characters_not_bytes() {
        let source = "-- é ü\nALTER TABLE «x» DROP COLUMN ö;";
        let script = parse_script(source);
        for statement in &script.statements {
            for token in &statement.tokens {
                assert!(source.get(token.range.start..token.range.end).is_some());
            }
        }
        let source = "/* ü */ DROP TABLE ü_table;";
        let script = parse_script(source);
        assert_eq!(texts(source, &script), ["DROP TABLE ü_table"]);
        let name = &script.statements[0].tokens.last().unwrap().range;
        assert_eq!(&source[name.start..name.end], "ü_table");
    }

    #[test]
    fn crlf_and_tabs_keep_ranges_exact() {
        let source = "DROP TABLE a;\r\n\tDROP TABLE b;\r\n";
        let script = parse_script(source);
        assert_eq!(texts(source, &script), ["DROP TABLE a", "DROP TABLE b"]);
    }

    #[test]
    fn parses_only_the_statements_asked_for() {
        let source = "INSERT INTO a VALUES (1);\nDROP TABLE b;\nSELECT 1";
        let script =
            parse_script_where(source, |t| matches!(t, Token::Word(w) if w.value == "DROP"));
        assert_eq!(texts(source, &script), ["DROP TABLE b"]);
        assert!(script.unparsed.is_empty());
    }

    #[test]
    fn an_unterminated_quote_keeps_the_statements_before_it() {
        let source = "DROP TABLE a;\nDROP TABLE b;\nSELECT 'open";
        let script = parse_script(source);
        assert_eq!(texts(source, &script), ["DROP TABLE a", "DROP TABLE b"]);
    }

    #[test]
    fn never_panics_on_any_prefix_of_a_migration() {
        let source = include_str!("../../dsr-rules/tests/fixtures/OPS001/0001_fire.sql");
        for end in (0..=source.len()).filter(|i| source.is_char_boundary(*i)) {
            let text = &source[..end];
            let script = parse_script(text);
            for statement in &script.statements {
                assert!(statement.range.end <= text.len());
                for token in &statement.tokens {
                    assert!(text.get(token.range.start..token.range.end).is_some());
                }
            }
        }
        for garbage in [
            "",
            ";;;",
            "$$",
            "'",
            "\"",
            "/*",
            "--",
            "`",
            "\u{0}",
            "(((((((((",
            "ALTER TABLE",
        ] {
            let _ = parse_script(garbage);
        }
        let deep = "SELECT ".to_string() + &"(".repeat(5000) + "1" + &")".repeat(5000);
        let _ = parse_script(&deep);
    }

    fn map(language: Language, raw: &str, value: &str) -> LiteralMap {
        LiteralMap::new(TextRange::new(10, 10 + raw.len()), raw, value, language)
    }

    #[test]
    fn maps_value_offsets_back_through_escapes() {
        // Go: `"a\"b\nc"` decodes to `a"b<newline>c`.
        let m = map(Language::Go, "\"a\\\"b\\nc\"", "a\"b\nc");
        assert!(m.is_exact());
        assert_eq!(m.offset(0), Some(11));
        assert_eq!(m.offset(1), Some(12)); // the escaped quote starts at its backslash
        assert_eq!(m.offset(2), Some(14));
        assert_eq!(m.offset(4), Some(17));
        assert_eq!(m.offset(5), Some(18)); // the end of the value is the closing quote
        assert_eq!(m.range(TextRange::new(1, 3)), TextRange::new(12, 15));
    }

    #[test]
    fn raw_literals_map_one_to_one() {
        let m = map(Language::Go, "`a\\nb`", "a\\nb");
        assert_eq!(m.offset(2), Some(13));
        let m = map(Language::Rust, "r#\"a\"b\"#", "a\"b");
        assert_eq!(m.offset(0), Some(13));
        assert_eq!(m.offset(3), Some(16));
        let m = map(Language::Rust, "b\"ab\"", "ab");
        assert_eq!(m.offset(1), Some(13));
        let m = map(Language::TypeScript, "`a\\`b`", "a`b");
        assert_eq!(m.offset(2), Some(14));
    }

    #[test]
    fn a_value_that_does_not_line_up_maps_to_the_whole_literal() {
        let m = map(Language::Go, "\"abc\"", "xyz");
        assert!(!m.is_exact());
        assert_eq!(m.offset(1), None);
        assert_eq!(m.range(TextRange::new(0, 2)), TextRange::new(10, 15));
    }
}
