//! Reading SQL text into tokens with byte ranges: the one tokenization both the suppression comments of a `.sql`
//! file and the semantic layer's statement parsing (`dsr_semantic::sql`) start from, so both see the same
//! comments. sqlparser is called behind `catch_unwind`; locations that do not fall in the text are dropped.

use std::panic::{catch_unwind, AssertUnwindSafe};

use dsr_syntax::TextRange;
use sqlparser::dialect::{Dialect, GenericDialect, MySqlDialect, PostgreSqlDialect};
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer, Whitespace};

/// The database a SQL migration is written for, as far as this tool tells them apart.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum SqlDatabase {
    PostgreSql,
    /// MySQL and MariaDB.
    MySql,
    Sqlite,
    ClickHouse,
    /// Any other database: nothing engine-specific is claimed about it.
    Other,
}

impl SqlDatabase {
    /// The names accepted in `[sql]` (and recognised in paths by the dialect model).
    pub fn parse(name: &str) -> Option<SqlDatabase> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" | "pg" => SqlDatabase::PostgreSql,
            "mysql" | "mariadb" => SqlDatabase::MySql,
            "sqlite" | "sqlite3" => SqlDatabase::Sqlite,
            "clickhouse" => SqlDatabase::ClickHouse,
            "other" => SqlDatabase::Other,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            SqlDatabase::PostgreSql => "PostgreSQL",
            SqlDatabase::MySql => "MySQL",
            SqlDatabase::Sqlite => "SQLite",
            SqlDatabase::ClickHouse => "ClickHouse",
            SqlDatabase::Other => "another database",
        }
    }
}

/// The dialect that read a script or parsed a statement, in the order they are tried.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SqlDialect {
    PostgreSql,
    MySql,
    Generic,
}

impl SqlDialect {
    pub const ORDER: [SqlDialect; 3] = [
        SqlDialect::PostgreSql,
        SqlDialect::MySql,
        SqlDialect::Generic,
    ];

    /// sqlparser's dialect.
    pub fn dialect(self) -> &'static dyn Dialect {
        match self {
            SqlDialect::PostgreSql => &PostgreSqlDialect {},
            SqlDialect::MySql => &MySqlDialect {},
            SqlDialect::Generic => &GenericDialect {},
        }
    }
}

/// A script's tokens, whitespace and comments included.
pub struct ScriptTokens {
    pub tokens: Vec<TokenWithSpan>,
    /// Whether the tokenizer read the whole text (else it stopped at an error, such as an unterminated quote).
    pub complete: bool,
    /// The dialect whose tokenizer read it.
    pub dialect: SqlDialect,
}

/// Tokens of the whole text with the first dialect whose tokenizer accepts it, else what PostgreSQL's tokenizer
/// read before its error.
pub fn tokenize_script(text: &str) -> ScriptTokens {
    let mut partial = None;
    for dialect in SqlDialect::ORDER {
        let mut buf = Vec::new();
        let result = catch_unwind(AssertUnwindSafe(|| {
            Tokenizer::new(dialect.dialect(), text)
                .tokenize_with_location_into_buf(&mut buf)
                .is_ok()
        }));
        match result {
            Ok(true) => {
                return ScriptTokens {
                    tokens: buf,
                    complete: true,
                    dialect,
                }
            }
            _ if partial.is_none() => partial = Some(buf),
            _ => {}
        }
    }
    ScriptTokens {
        tokens: partial.unwrap_or_default(),
        complete: false,
        dialect: SqlDialect::PostgreSql,
    }
}

/// The text of a comment token (`-- …`, `# …`, `/* … */`) without its markers; `None` for any other token.
pub fn comment_text(token: &Token) -> Option<&str> {
    match token {
        Token::Whitespace(Whitespace::SingleLineComment { comment, .. })
        | Token::Whitespace(Whitespace::MultiLineComment(comment)) => Some(comment),
        _ => None,
    }
}

/// A comment of a script, with its text without the markers.
#[derive(Clone, Debug)]
pub struct SqlComment {
    pub range: TextRange,
    pub text: String,
}

/// The comments of a SQL script, as [`tokenize_script`] reads it; those before a tokenizer error when it stops.
pub fn comments(text: &str) -> Vec<SqlComment> {
    let mut locator = Locator::new(text);
    tokenize_script(text)
        .tokens
        .into_iter()
        .filter_map(|token| {
            let comment = comment_text(&token.token)?;
            let range = locator.range(&token)?;
            Some(SqlComment {
                range,
                text: comment.to_string(),
            })
        })
        .collect()
}

/// Turns sqlparser locations (1-based lines split on `\n`, 1-based character columns) into byte offsets. Walks
/// forward from the last answer, so a pass over a script's tokens in order is linear even on one long line.
pub struct Locator<'a> {
    text: &'a str,
    line: u64,
    column: u64,
    offset: usize,
}

impl<'a> Locator<'a> {
    pub fn new(text: &'a str) -> Self {
        Self {
            text,
            line: 1,
            column: 1,
            offset: 0,
        }
    }

    /// The byte offset of a location; `None` when it is not in the text.
    pub fn offset(&mut self, location: Location) -> Option<usize> {
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

    /// The byte range of a token (never reversed).
    pub fn range(&mut self, token: &TokenWithSpan) -> Option<TextRange> {
        let start = self.offset(token.span.start)?;
        let end = self.offset(token.span.end)?;
        Some(TextRange::new(start, end.max(start)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_found_by_the_tokenizer() {
        let source = "-- distsys-review: ignore[OPS001] table is empty\nDROP TABLE t; /* x */\n";
        let comments = comments(source);
        assert_eq!(comments.len(), 2);
        let range = |i: usize| comments[i].range.start..comments[i].range.end;
        assert!(source[range(0)].starts_with("-- distsys-review"));
        assert_eq!(&source[range(1)], "/* x */");
        assert_eq!(comments[1].text, " x ");
    }

    #[test]
    fn comments_after_multibyte_text_and_lone_carriage_returns_keep_their_offsets() {
        // sqlparser counts lines on `\n` only: a lone `\r` does not start one.
        let source = "SELECT 1;\r/* a */\nSELECT 'é'; /* b */\n";
        let found = comments(source);
        let texts: Vec<&str> = found
            .iter()
            .map(|c| &source[c.range.start..c.range.end])
            .collect();
        assert_eq!(texts, ["/* a */", "/* b */"]);
    }

    #[test]
    fn text_that_does_not_tokenize_keeps_the_comments_before_the_error() {
        let found = comments("-- kept\nSELECT 'unterminated");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].text.trim(), "kept");
    }
}
