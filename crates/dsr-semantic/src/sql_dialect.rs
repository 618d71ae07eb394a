//! Which database a piece of SQL is written for, inferred from the evidence one file shows, strongest first:
//!
//! 1. the configuration's `[sql.paths]` (a glob the team wrote for this folder);
//! 2. the path: a folder or a part of the file name naming a database (`migrations/mysql/001_x.sql`,
//!    `000001_init.sqlite.up.sql`, `pkg/clickhouse/migrations/…`), innermost first, as golang-migrate and
//!    openfga-style layouts keep one migration set per database;
//! 3. the text: syntax only one database writes (ClickHouse table engines and `ON CLUSTER`, SQLite's
//!    `AUTOINCREMENT` and `WITHOUT ROWID`, MySQL's backquotes, `ENGINE=InnoDB`, `AUTO_INCREMENT`, a statement
//!    only MySQL's parser reads), or in code the database driver the file imports;
//! 4. the configuration's `[sql] dialect`;
//! 5. else PostgreSQL, assumed (what the migration rules were written for).
//!
//! Project-wide evidence — a Prisma schema's `provider`, golang-migrate/sqlx/knex/TypeORM configuration, the
//! driver imported by other files of the project, sibling migration files — is not visible to the analysis of
//! one file; it belongs to a workspace index that does not exist yet.

use std::path::Path;

use dsr_core::config::{SqlDatabase, SqlSettings};
use dsr_core::kb::MigrationKnowledge;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::Token;

use crate::sql::{SqlDialect, SqlStatement};

/// The database of a file and the evidence that decided it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InferredDialect {
    pub database: SqlDatabase,
    pub evidence: DialectEvidence,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DialectEvidence {
    /// A `[sql.paths]` pattern matched.
    ConfigPath,
    /// A folder or file-name part, e.g. `mysql`.
    Path(String),
    /// Syntax only this database writes, e.g. "`ENGINE = InnoDB`".
    Syntax(&'static str),
    /// An imported driver module, e.g. `github.com/go-sql-driver/mysql`.
    Driver(String),
    /// `[sql] dialect`.
    ConfigDefault,
    /// Nothing said otherwise.
    Assumed,
}

impl InferredDialect {
    /// Whether the file itself (or a `[sql.paths]` pattern) named the database, rather than a project default.
    pub fn is_explicit(&self) -> bool {
        !matches!(
            self.evidence,
            DialectEvidence::ConfigDefault | DialectEvidence::Assumed
        )
    }
}

/// The dialect of a `.sql` file from its path, its parsed statements and the configuration.
pub fn sql_file_dialect(
    path: &Path,
    statements: &[SqlStatement],
    settings: Option<&SqlSettings>,
) -> InferredDialect {
    infer(path, settings, || syntax_evidence(statements))
}

/// The dialect of SQL strings in a Go, Rust or TypeScript file from its path, the modules it imports (import
/// paths and string literals, since Go's blank imports and `require("mysql2")` bind no name) and the
/// configuration.
pub fn code_dialect<'m>(
    path: &Path,
    modules: impl Iterator<Item = &'m str>,
    settings: Option<&SqlSettings>,
) -> InferredDialect {
    infer(path, settings, || driver_evidence(modules))
}

fn infer(
    path: &Path,
    settings: Option<&SqlSettings>,
    content: impl FnOnce() -> Option<(SqlDatabase, DialectEvidence)>,
) -> InferredDialect {
    let found = settings
        .and_then(|s| s.dialect_for_path(path))
        .map(|database| (database, DialectEvidence::ConfigPath))
        .or_else(|| path_evidence(path))
        .or_else(content)
        .or_else(|| {
            settings
                .and_then(|s| s.dialect)
                .map(|database| (database, DialectEvidence::ConfigDefault))
        })
        .unwrap_or((SqlDatabase::PostgreSql, DialectEvidence::Assumed));
    InferredDialect {
        database: found.0,
        evidence: found.1,
    }
}

/// A folder or file-name part naming a database, innermost first: `mysql`, `postgres`, `sqlite`, `clickhouse`
/// (and their spellings `postgresql`, `pg`, `mariadb`, `sqlite3`), split on `_`, `-`, `.`.
fn path_evidence(path: &Path) -> Option<(SqlDatabase, DialectEvidence)> {
    let components: Vec<&str> = path
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect();
    components.iter().rev().find_map(|component| {
        component
            .split(['_', '-', '.'])
            .find_map(|part| SqlDatabase::parse(part).filter(|d| *d != SqlDatabase::Other))
            .map(|database| (database, DialectEvidence::Path(component.to_string())))
    })
}

/// ClickHouse's table engines besides the `MergeTree` family.
const CLICKHOUSE_ENGINES: &[&str] = &[
    "distributed",
    "kafka",
    "tinylog",
    "stripelog",
    "log",
    "buffer",
    "dictionary",
];
/// MySQL's storage engines.
const MYSQL_ENGINES: &[&str] = &["innodb", "myisam", "aria", "rocksdb", "ndb", "ndbcluster"];

/// Syntax that only one database writes. ClickHouse and SQLite are looked for first: both also accept
/// backquoted names, which on their own mean MySQL.
fn syntax_evidence(statements: &[SqlStatement]) -> Option<(SqlDatabase, DialectEvidence)> {
    let words = || {
        statements.iter().flat_map(|s| {
            s.tokens
                .iter()
                .enumerate()
                .map(move |(i, t)| (s, i, &t.token))
        })
    };
    let word_at = |statement: &SqlStatement, index: usize| match statement.tokens.get(index) {
        Some(t) => match &t.token {
            Token::Word(word) => Some(word.value.to_ascii_lowercase()),
            _ => None,
        },
        None => None,
    };
    // `ENGINE = X` or `ENGINE X`: the word after ENGINE, skipping an `=`.
    let engine_of = |statement: &SqlStatement, index: usize| {
        let next = match statement.tokens.get(index + 1).map(|t| &t.token) {
            Some(Token::Eq) => index + 2,
            _ => index + 1,
        };
        word_at(statement, next)
    };
    let mut mysql = None;
    let mut sqlite = None;
    for (statement, index, token) in words() {
        let Token::Word(word) = token else { continue };
        if word.quote_style.is_none() {
            match word.keyword {
                Keyword::ENGINE => match engine_of(statement, index) {
                    Some(engine)
                        if engine.ends_with("mergetree")
                            || CLICKHOUSE_ENGINES.contains(&engine.as_str()) =>
                    {
                        return Some((
                            SqlDatabase::ClickHouse,
                            DialectEvidence::Syntax("a ClickHouse table engine"),
                        ));
                    }
                    Some(engine) if MYSQL_ENGINES.contains(&engine.as_str()) => {
                        mysql.get_or_insert("`ENGINE = InnoDB`");
                    }
                    _ => {}
                },
                Keyword::CLUSTER
                    if index > 0 && word_at(statement, index - 1).as_deref() == Some("on") =>
                {
                    return Some((
                        SqlDatabase::ClickHouse,
                        DialectEvidence::Syntax("`ON CLUSTER`"),
                    ));
                }
                Keyword::AUTOINCREMENT => {
                    sqlite.get_or_insert("`AUTOINCREMENT`");
                }
                Keyword::ROWID
                    if index > 0 && word_at(statement, index - 1).as_deref() == Some("without") =>
                {
                    sqlite.get_or_insert("`WITHOUT ROWID`");
                }
                Keyword::AUTO_INCREMENT => {
                    mysql.get_or_insert("`AUTO_INCREMENT`");
                }
                _ if word.value == "LowCardinality" || word.value == "DateTime64" => {
                    return Some((
                        SqlDatabase::ClickHouse,
                        DialectEvidence::Syntax("a ClickHouse column type"),
                    ));
                }
                _ => {}
            }
        } else if word.quote_style == Some('`') {
            mysql.get_or_insert("backquoted names");
        }
    }
    if let Some(what) = sqlite {
        return Some((SqlDatabase::Sqlite, DialectEvidence::Syntax(what)));
    }
    if mysql.is_none() && statements.iter().any(|s| s.dialect == SqlDialect::MySql) {
        mysql = Some("a statement only MySQL's grammar reads");
    }
    mysql.map(|what| (SqlDatabase::MySql, DialectEvidence::Syntax(what)))
}

/// The database of the driver a file imports; drivers of several databases mean [`SqlDatabase::Other`]: the
/// strings could be for any of them, so nothing engine-specific is claimed.
fn driver_evidence<'m>(
    modules: impl Iterator<Item = &'m str>,
) -> Option<(SqlDatabase, DialectEvidence)> {
    let mut found: Option<(SqlDatabase, &str)> = None;
    for module in modules {
        let Some(database) = MigrationKnowledge::builtin()
            .driver
            .iter()
            .find(|driver| {
                module == driver.module
                    || module
                        .strip_prefix(driver.module.as_str())
                        .is_some_and(|rest| rest.starts_with("::") || rest.starts_with('/'))
            })
            .and_then(|driver| driver.database())
        else {
            continue;
        };
        match found {
            Some((seen, _)) if seen != database => {
                return Some((
                    SqlDatabase::Other,
                    DialectEvidence::Driver(format!("drivers of several databases ({module})")),
                ))
            }
            Some(_) => {}
            None => found = Some((database, module)),
        }
    }
    found.map(|(database, module)| (database, DialectEvidence::Driver(module.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::parse_script;

    fn file(path: &str, sql: &str) -> SqlDatabase {
        sql_file_dialect(Path::new(path), &parse_script(sql).statements, None).database
    }

    #[test]
    fn the_path_names_the_database() {
        for (path, database) in [
            ("assets/migrations/mysql/001_init.sql", SqlDatabase::MySql),
            (
                "assets/migrations/postgres/001_init.sql",
                SqlDatabase::PostgreSql,
            ),
            (
                "assets/migrations/sqlite/006_index.sql",
                SqlDatabase::Sqlite,
            ),
            ("pkg/clickhouse/migrations/001.sql", SqlDatabase::ClickHouse),
            ("db/000001_init.mysql.up.sql", SqlDatabase::MySql),
            ("db/mysql-legacy/postgres/1.sql", SqlDatabase::PostgreSql),
        ] {
            assert_eq!(file(path, "CREATE INDEX i ON t (a);"), database, "{path}");
        }
    }

    #[test]
    fn syntax_names_the_database_when_the_path_does_not() {
        let at = "db/migrations/001.sql";
        assert_eq!(
            file(at, "CREATE INDEX i ON t (a);"),
            SqlDatabase::PostgreSql
        );
        assert_eq!(
            file(at, "CREATE TABLE t (id int) ENGINE=InnoDB;"),
            SqlDatabase::MySql
        );
        assert_eq!(file(at, "ALTER TABLE `t` ADD `a` int;"), SqlDatabase::MySql);
        assert_eq!(
            file(at, "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT);"),
            SqlDatabase::Sqlite
        );
        assert_eq!(
            file(
                at,
                "CREATE TABLE t (id UInt64) ENGINE = ReplacingMergeTree() ORDER BY id;"
            ),
            SqlDatabase::ClickHouse
        );
        assert_eq!(
            file(
                at,
                "CREATE TABLE `t` (id UInt64) ENGINE = MergeTree ORDER BY id;"
            ),
            SqlDatabase::ClickHouse
        );
    }

    #[test]
    fn configuration_paths_win_and_the_configured_default_comes_last() {
        let config = dsr_core::Config::parse(
            Path::new("distsys-review.toml"),
            "[sql]\ndialect = \"mysql\"\n[sql.paths]\n\"legacy/**\" = \"sqlite\"\n",
            &[],
        )
        .unwrap();
        let dialect = |path: &str, sql: &str| {
            sql_file_dialect(
                Path::new(path),
                &parse_script(sql).statements,
                Some(&config.sql),
            )
        };
        let plain = "CREATE INDEX i ON t (a);";
        assert_eq!(
            dialect("legacy/postgres/1.sql", plain).database,
            SqlDatabase::Sqlite
        );
        assert_eq!(
            dialect("db/postgres/1.sql", plain).database,
            SqlDatabase::PostgreSql
        );
        let default = dialect("db/1.sql", plain);
        assert_eq!(default.database, SqlDatabase::MySql);
        assert!(!default.is_explicit());
    }

    #[test]
    fn code_follows_its_driver_unless_it_imports_several() {
        let dialect = |modules: &[&str]| {
            code_dialect(
                Path::new("internal/store.go"),
                modules.iter().copied(),
                None,
            )
            .database
        };
        assert_eq!(
            dialect(&["github.com/go-sql-driver/mysql"]),
            SqlDatabase::MySql
        );
        assert_eq!(dialect(&["rusqlite::Connection"]), SqlDatabase::Sqlite);
        assert_eq!(dialect(&["mysql2", "sqlite3"]), SqlDatabase::Other);
        assert_eq!(dialect(&["fmt"]), SqlDatabase::PostgreSql);
    }
}
