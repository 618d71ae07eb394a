use std::path::Path;

use dsr_core::config::SqlDatabase;
use dsr_core::finding::code_span;
use dsr_core::kb::{
    MigrationKnowledge, MigrationOperation as Operation, MigrationVerdict as Verdict,
};
use dsr_core::{
    declare_rule, Applicability, Edit, Finding, Fix, Language, Rule, RuleMeta, TextRange,
};
use dsr_semantic::facts::StringLiteral;
use dsr_semantic::sql_dialect::{code_dialect, sql_file_dialect, DialectEvidence, InferredDialect};
use dsr_semantic::RuleContext;
use rustc_hash::{FxHashMap, FxHashSet};
use sqlparser::ast::{
    AlterColumnOperation, AlterTable, AlterTableOperation, ColumnDef, ColumnOption, CreateIndex,
    Expr, Ident, ObjectName, ObjectType, RenameTableNameKind, Spanned, Statement, TableConstraint,
};
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::Token;

use crate::sql::{parse_script_where, LiteralMap, SqlScript, SqlStatement};

declare_rule! {
    /// ## What it finds
    /// Migrations that break the previous release still serving during a rollout, or lock a busy table while
    /// it is rewritten or indexed. The statements: `DROP COLUMN`, `RENAME COLUMN`, `RENAME TO` (a table), `ALTER COLUMN … TYPE` (MySQL: `MODIFY`/`CHANGE`),
    /// `ALTER COLUMN … SET NOT NULL`, `ADD COLUMN … NOT NULL` without a `DEFAULT`, `DROP TABLE`, and Postgres
    /// `CREATE INDEX` without `CONCURRENTLY` on an existing table. It reads `.sql` migration files and SQL
    /// strings in Go, Rust and TypeScript, parsed with sqlparser (PostgreSQL, then MySQL, then generic SQL,
    /// statement by statement so one unreadable statement hides nothing else).
    ///
    /// What a statement does depends on the database, so each file's database is inferred first, strongest
    /// evidence first: `[sql.paths]` in the configuration; the path (a folder or file-name part `mysql`,
    /// `postgres`, `sqlite`, `clickhouse`, as golang-migrate and openfga-style layouts keep one migration set per
    /// database); syntax only one database writes (ClickHouse table engines and `ON CLUSTER`, SQLite
    /// `AUTOINCREMENT`, MySQL backquotes, `ENGINE=InnoDB`, `AUTO_INCREMENT`) or, in code, the driver imported;
    /// `[sql] dialect`; else PostgreSQL. Then, per database:
    ///
    /// | statement | PostgreSQL | MySQL | SQLite | ClickHouse | other |
    /// |---|---|---|---|---|---|
    /// | drop or rename a column, rename a table | finding | finding | question | question | question |
    /// | `DROP TABLE` | finding | finding | question | – | question |
    /// | `ADD COLUMN … NOT NULL` without a default | finding | finding | – | – | – |
    /// | `ALTER COLUMN … TYPE`, `SET NOT NULL` | finding | – | – | – | – |
    /// | `MODIFY`/`CHANGE` a column's definition | – | finding | – | – | – |
    /// | `MODIFY` to an `ENUM`/`SET` | – | – | – | – | – |
    /// | `CREATE INDEX` without `CONCURRENTLY` | finding | – | – | – | – |
    ///
    /// MySQL's InnoDB builds indexes online and appends `ENUM` members instantly (MySQL 8), so neither is
    /// reported there, and `CONCURRENTLY` is never suggested outside PostgreSQL. On SQLite, ClickHouse and
    /// databases the rule knows nothing about it makes no lock or rewrite claim: a change that breaks the old
    /// version is an open question (an embedded SQLite is migrated by each instance, so no old version may
    /// share it), and ClickHouse's `DROP TABLE` is left alone (its migrations drop and recreate materialized
    /// views that way).
    ///
    /// A file is a migration when a folder on its path is named `migrations`/`migration`/`migrate` (or ends in
    /// `migrations`, like `db_migrations`), when its name is versioned (`0001_add_orders.sql`,
    /// `20240101120000_x.sql`, `000001_x.up.sql`, `up.sql`, Flyway's `V3__x.sql` and `R__x.sql`), or when it
    /// carries goose, sql-migrate or dbmate section markers (`-- +goose Up`, `-- +migrate Up`,
    /// `-- migrate:up`). In code, a string is a migration when its file is, or when a function around it is
    /// named like one (`up`, `Up00002`, `upAddIndex`, `migrate…`, TypeORM's `up(queryRunner)`, knex's
    /// `exports.up`). Rollbacks are skipped: `.down.sql`, `down.sql`, Flyway undo files (`U3__x.sql`),
    /// `-- +goose Down` sections and `down…` functions undo what their migration added, which no old version
    /// depends on. Test code is skipped. DDL anywhere else (a `.sql` file outside a migrations folder, a schema
    /// created at startup) is reported as an open question: whether it runs against a live database during a
    /// rollout is not visible in the code.
    ///
    /// Changes to a table created earlier in the same file (or, in code, the same string or migration
    /// function) are fine, and so are changes to a column added earlier there: no running version knows them.
    ///
    /// ## Why it fails under partial failure
    /// A deployment is never atomic. During a rolling deploy, a canary, or after a code rollback, the previous
    /// release keeps serving traffic against the migrated schema, and a migration that runs before the deploy
    /// meets code that has never heard of it. A dropped or renamed column or table makes every query of the old
    /// version that names it fail at once; a NOT NULL column without a default rejects the old version's inserts;
    /// and the data is gone, so rolling the code back does not help. Other changes hold locks that stop the
    /// service without breaking it: a type change rewrites the table under an ACCESS EXCLUSIVE lock, `SET NOT
    /// NULL` scans it under one, and a plain `CREATE INDEX` blocks every write for the whole build. Requests
    /// queue behind the lock, time out, and are retried into it.
    ///
    /// ## Known false positives
    /// The contract step of an expand/contract change — dropping a column no running version uses any more —
    /// looks exactly like the unsafe drop: the rule cannot see that the code stopped using it releases ago.
    /// Suppress it, with the release that stopped using it as the reason. Likewise `SET NOT NULL` after a
    /// `CHECK (… IS NOT NULL)` validated in an earlier migration file (one validated earlier in the same file is
    /// recognised), type changes Postgres does without a rewrite (widening `varchar(n)`, `varchar` to `text`),
    /// and migrations of tables known to be tiny. A migration set whose database neither its path nor its syntax
    /// shows is judged as PostgreSQL: a project whose Prisma schema, migration tool configuration or driver
    /// (in another file) says MySQL should set `[sql] dialect`, since one file's analysis does not see those.
    /// A MySQL `MODIFY` to an `ENUM` that reorders or removes members is not reported (an append cannot be told
    /// from it without the earlier definition).
    ///
    /// ## Example
    /// ```sql
    /// -- +goose Up
    /// ALTER TABLE orders DROP COLUMN legacy_total;
    /// ```
    ///
    /// ## Use instead
    /// ```sql
    /// -- +goose Up
    /// -- Expand: the new column is nullable, so the running version's inserts still work.
    /// ALTER TABLE orders ADD COLUMN total_cents bigint;
    ///
    /// -- Contract, in a migration of a later release, once no running version reads legacy_total:
    /// -- distsys-review: ignore[OPS001] release 41 stopped reading and writing legacy_total
    /// ALTER TABLE orders DROP COLUMN legacy_total;
    /// ```
    ///
    /// ## Fix safety
    /// Advice for every statement but `CREATE INDEX`: expand/contract spans several releases, and which one
    /// this migration belongs to is not in the code. For `CREATE INDEX` the fix inserts `CONCURRENTLY`, applied
    /// only on request: `CREATE INDEX CONCURRENTLY` cannot run inside a transaction block, so the migration has to
    /// run outside one (goose: `-- +goose NO TRANSACTION`; golang-migrate: a file holding only that statement),
    /// and a build that fails leaves an INVALID index to drop before retrying.
    ///
    /// ## Configuration
    /// `[sql] dialect = "postgres" | "mysql" | "sqlite" | "clickhouse" | "other"` sets the database of files
    /// with no evidence of their own, and `[sql.paths]` (`"db/analytics/**" = "clickhouse"`) the database of a
    /// folder, over every other evidence. Migration files are recognised by path and name as described above;
    /// suppress a statement with `-- distsys-review: ignore[OPS001] reason` on the line above it. To review
    /// only new migrations, `check --diff` and `--baseline` (docs/cli.md).
    ///
    /// ## References
    /// - PostgreSQL documentation, "ALTER TABLE" (lock levels; `SET NOT NULL` and a validated `CHECK`
    ///   constraint) and "CREATE INDEX — Building Indexes Concurrently".
    /// - Danilo Sato, "ParallelChange" (martinfowler.com, 2014): expand/contract.
    /// - MySQL documentation, "Online DDL Operations".
    pub struct UnsafeMigration {
        code: "OPS001",
        slug: "unsafe-migration",
        family: Operations,
        languages: [Sql, Go, Rust, TypeScript],
        severity: High,
        impact: Availability,
        kind: Finding,
        fix: Sometimes,
        scope: Function,
        reads: [],
    }
}

impl Rule<RuleContext<'_>> for UnsafeMigration {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        // Migrations under a test folder build throwaway test databases, even when `[scope]` includes tests.
        if crate::shared::is_test_file(ctx) {
            return;
        }
        if ctx.language == Language::Sql {
            check_sql_file(ctx, sink);
        } else {
            check_code(ctx, sink);
        }
    }
}

/// What a piece of SQL is, as far as its place in the project shows.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Role {
    /// Applied to a live database during a deploy: findings.
    Migration,
    /// Undoes a migration: nothing is reported.
    Rollback,
    /// Not recognisably either: open questions.
    Unknown,
}

fn check_sql_file(ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
    let role = path_role(ctx.path);
    if role == Role::Rollback {
        return;
    }
    let script = parse_script_where(ctx.source, starts_ddl);
    let dialect = sql_file_dialect(ctx.path, &script.statements, ctx.sql_settings);
    // A goose/sql-migrate/dbmate section marker decides for the statements after it, whatever the path says.
    let sections = sections(&script);
    let unit = Unit {
        script,
        map: None,
        role,
    };
    let mut schema = Schema::default();
    schema.collect_views(&unit.script);
    for statement in &unit.script.statements {
        let role = match section_at(&sections, statement.range.start) {
            Some(true) => Role::Migration,
            Some(false) => Role::Rollback,
            None => role,
        };
        let issues = schema.review(statement);
        if role != Role::Rollback {
            for issue in issues {
                emit(ctx, &unit, role, &dialect, &issue, sink);
            }
        }
    }
}

/// SQL strings in Go, Rust and TypeScript. Strings of one function share what they create (a migration
/// function that creates a table and then indexes it); top-level strings stand alone.
fn check_code(ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
    let path_role = path_role(ctx.path);
    // Go's blank imports (`_ "github.com/go-sql-driver/mysql"`) and `require("mysql2")` bind no name, so the
    // import strings count too.
    let modules = ctx
        .facts
        .imports
        .iter()
        .map(|i| i.path.as_str())
        .chain(ctx.facts.strings.iter().map(|s| s.value.as_str()));
    let dialect = code_dialect(ctx.path, modules, ctx.sql_settings);
    let mut schemas: FxHashMap<usize, Schema> = FxHashMap::default();
    let mut units: Vec<(Option<usize>, Unit)> = Vec::new();
    for literal in &ctx.facts.strings {
        if !may_hold_ddl(&literal.value) {
            continue;
        }
        let script = parse_script_where(&literal.value, starts_ddl);
        if !script.statements.iter().any(|s| is_ddl(&s.statement))
            || literal_in_rust_test(ctx, literal)
        {
            continue;
        }
        let role = match function_role(ctx, literal.function) {
            Some(role) => role,
            None => path_role,
        };
        let map = LiteralMap::new(
            literal.range,
            ctx.text(literal.range),
            &literal.value,
            ctx.language,
        );
        if let Some(function) = literal.function {
            schemas.entry(function).or_default().collect_views(&script);
        }
        units.push((
            literal.function,
            Unit {
                script,
                map: Some(map),
                role,
            },
        ));
    }
    for (function, unit) in &units {
        let mut alone = Schema::default();
        let schema = match function {
            Some(function) => schemas.entry(*function).or_default(),
            None => {
                alone.collect_views(&unit.script);
                &mut alone
            }
        };
        for statement in &unit.script.statements {
            let issues = schema.review(statement);
            if unit.role != Role::Rollback {
                for issue in issues {
                    emit(ctx, unit, unit.role, &dialect, &issue, sink);
                }
            }
        }
    }
}

/// One SQL text: a whole file, or the value of one string literal and how to map it back to the source.
struct Unit {
    script: SqlScript,
    map: Option<LiteralMap>,
    role: Role,
}

impl Unit {
    fn source_range(&self, range: TextRange) -> TextRange {
        match &self.map {
            Some(map) => map.range(range),
            None => range,
        }
    }

    fn source_offset(&self, offset: usize) -> Option<usize> {
        match &self.map {
            Some(map) => map.offset(offset),
            None => Some(offset),
        }
    }
}

/// What the statements read so far created: changes to those are safe, since no running version uses them.
#[derive(Default)]
struct Schema {
    tables: FxHashSet<String>,
    /// (table, column) → whether it was added with a default.
    columns: FxHashMap<(String, String), bool>,
    /// (table, constraint) → the column a `CHECK (column IS NOT NULL)` covers, and whether it is validated.
    not_null_checks: FxHashMap<(String, String), (String, bool)>,
    /// Views created anywhere in the same file or function (the compatibility view of a table rename).
    views: FxHashSet<String>,
}

/// One unsafe change, with the range of its statement or clause in the SQL text.
struct Issue {
    kind: IssueKind,
    /// The statement or clause as SQL, for the message.
    clause: String,
    range: TextRange,
    /// Where `CONCURRENTLY` goes, in the SQL text.
    concurrently_at: Option<usize>,
}

enum IssueKind {
    DropColumn {
        column: String,
    },
    RenameColumn {
        old: String,
        new: String,
    },
    RenameTable {
        old: String,
        new: String,
    },
    ChangeType {
        table: String,
        column: String,
    },
    /// MySQL `MODIFY`/`CHANGE` keeping the name: a new type or nullability.
    Redefine {
        table: String,
        column: String,
        /// The new type is an `ENUM`/`SET`: appending a member is instant on MySQL 8, and which members were
        /// there before is in an earlier migration.
        to_enum: bool,
    },
    SetNotNull {
        table: String,
        column: String,
    },
    AddRequiredColumn {
        table: String,
        column: String,
    },
    DropTable {
        table: String,
    },
    CreateIndex {
        table: String,
    },
}

impl Schema {
    fn collect_views(&mut self, script: &SqlScript) {
        for statement in &script.statements {
            if let Statement::CreateView(view) = &statement.statement {
                self.views.insert(key(&view.name));
            }
        }
    }

    /// The issues of one statement, then what it creates.
    fn review(&mut self, statement: &SqlStatement) -> Vec<Issue> {
        let mut issues = Vec::new();
        let whole = |kind, clause: String| Issue {
            kind,
            clause,
            range: statement.range,
            concurrently_at: None,
        };
        match &statement.statement {
            Statement::CreateTable(create) => {
                self.tables.insert(key(&create.name));
            }
            Statement::AlterTable(alter) => self.review_alter(statement, alter, &mut issues),
            Statement::Drop {
                object_type: ObjectType::Table,
                names,
                ..
            } => {
                let existing: Vec<&ObjectName> = names
                    .iter()
                    .filter(|n| !self.tables.contains(&key(n)))
                    .collect();
                if !existing.is_empty() {
                    let table = existing
                        .iter()
                        .map(|n| display_name(n))
                        .collect::<Vec<_>>()
                        .join("`, `");
                    issues.push(whole(
                        IssueKind::DropTable { table },
                        statement.statement.to_string(),
                    ));
                }
                for name in names {
                    self.tables.remove(&key(name));
                }
            }
            Statement::RenameTable(renames) => {
                for rename in renames {
                    let old = key(&rename.old_name);
                    if self.tables.remove(&old) {
                        self.tables.insert(key(&rename.new_name));
                    } else if !self.views.contains(&old) {
                        issues.push(whole(
                            IssueKind::RenameTable {
                                old: display_name(&rename.old_name),
                                new: display_name(&rename.new_name),
                            },
                            format!("RENAME TABLE {} TO {}", rename.old_name, rename.new_name),
                        ));
                    }
                }
            }
            Statement::CreateIndex(index)
                if !index.concurrently && !self.tables.contains(&key(&index.table_name)) =>
            {
                issues.push(Issue {
                    kind: IssueKind::CreateIndex {
                        table: display_name(&index.table_name),
                    },
                    clause: index_clause(index),
                    range: statement.range,
                    concurrently_at: statement
                        .tokens
                        .iter()
                        .find(|t| is_keyword(&t.token, Keyword::INDEX))
                        .map(|t| t.range.end),
                });
            }
            _ => {}
        }
        issues
    }

    fn review_alter(
        &mut self,
        statement: &SqlStatement,
        alter: &AlterTable,
        issues: &mut Vec<Issue>,
    ) {
        let table = key(&alter.name);
        let table_text = display_name(&alter.name);
        let clauses = clause_ranges(statement, alter);
        for (index, operation) in alter.operations.iter().enumerate() {
            let range = clauses
                .as_ref()
                .and_then(|c| c.get(index).copied())
                .unwrap_or(statement.range);
            if self.tables.contains(&table) {
                if let AlterTableOperation::RenameTable { table_name } = operation {
                    let (RenameTableNameKind::To(name) | RenameTableNameKind::As(name)) =
                        table_name;
                    self.tables.insert(key(name));
                }
                continue;
            }
            let clause = format!("ALTER TABLE {} {operation}", alter.name);
            let column_is_new = |column: &Ident| {
                self.columns
                    .contains_key(&(table.clone(), ident_key(column)))
            };
            let kind = match operation {
                AlterTableOperation::DropColumn { column_names, .. } => {
                    let dropped: Vec<&Ident> =
                        column_names.iter().filter(|c| !column_is_new(c)).collect();
                    (!dropped.is_empty()).then(|| IssueKind::DropColumn {
                        column: dropped
                            .iter()
                            .map(|c| c.value.as_str())
                            .collect::<Vec<_>>()
                            .join("`, `"),
                    })
                }
                AlterTableOperation::RenameColumn {
                    old_column_name,
                    new_column_name,
                } => (!column_is_new(old_column_name)).then(|| IssueKind::RenameColumn {
                    old: old_column_name.value.clone(),
                    new: new_column_name.value.clone(),
                }),
                AlterTableOperation::RenameTable { table_name } => {
                    let (RenameTableNameKind::To(name) | RenameTableNameKind::As(name)) =
                        table_name;
                    (!self.views.contains(&table)).then(|| IssueKind::RenameTable {
                        old: table_text.clone(),
                        new: display_name(name),
                    })
                }
                AlterTableOperation::AlterColumn { column_name, op } => match op {
                    AlterColumnOperation::SetDataType { .. } if !column_is_new(column_name) => {
                        Some(IssueKind::ChangeType {
                            table: table_text.clone(),
                            column: column_name.value.clone(),
                        })
                    }
                    AlterColumnOperation::SetNotNull => {
                        let column = ident_key(column_name);
                        let has_default = self.columns.get(&(table.clone(), column.clone()));
                        let proven = self.not_null_checks.iter().any(|((t, _), (c, validated))| {
                            *t == table && *c == column && *validated
                        });
                        (has_default != Some(&true) && !proven).then(|| IssueKind::SetNotNull {
                            table: table_text.clone(),
                            column: column_name.value.clone(),
                        })
                    }
                    _ => None,
                },
                AlterTableOperation::ChangeColumn {
                    old_name,
                    new_name,
                    data_type,
                    ..
                } if !column_is_new(old_name) => {
                    Some(if ident_key(old_name) != ident_key(new_name) {
                        IssueKind::RenameColumn {
                            old: old_name.value.clone(),
                            new: new_name.value.clone(),
                        }
                    } else {
                        IssueKind::Redefine {
                            table: table_text.clone(),
                            column: old_name.value.clone(),
                            to_enum: is_enum(data_type),
                        }
                    })
                }
                AlterTableOperation::ModifyColumn {
                    col_name,
                    data_type,
                    ..
                } if !column_is_new(col_name) => Some(IssueKind::Redefine {
                    table: table_text.clone(),
                    column: col_name.value.clone(),
                    to_enum: is_enum(data_type),
                }),
                AlterTableOperation::AddColumn { column_def, .. } => (is_required(column_def)
                    && !has_value(column_def))
                .then(|| IssueKind::AddRequiredColumn {
                    table: table_text.clone(),
                    column: column_def.name.value.clone(),
                }),
                _ => None,
            };
            if let Some(kind) = kind {
                issues.push(Issue {
                    kind,
                    clause,
                    range,
                    concurrently_at: None,
                });
            }
            self.record_alter(&table, operation);
        }
    }

    /// What an `ALTER TABLE` operation on `table` adds to the schema.
    fn record_alter(&mut self, table: &str, operation: &AlterTableOperation) {
        match operation {
            AlterTableOperation::AddColumn { column_def, .. } => {
                self.columns.insert(
                    (table.to_string(), ident_key(&column_def.name)),
                    has_value(column_def),
                );
            }
            AlterTableOperation::AddConstraint {
                constraint: TableConstraint::Check(check),
                not_valid,
            } => {
                if let (Some(name), Expr::IsNotNull(column)) = (&check.name, check.expr.as_ref()) {
                    if let Expr::Identifier(column) = column.as_ref() {
                        self.not_null_checks.insert(
                            (table.to_string(), ident_key(name)),
                            (ident_key(column), !not_valid),
                        );
                    }
                }
            }
            // A column added earlier in the file and given a default before it is made NOT NULL (add nullable,
            // backfill, `SET DEFAULT`, `SET NOT NULL`): the old version's inserts, which do not name it, get the
            // default, as for a column added with one.
            AlterTableOperation::AlterColumn {
                column_name,
                op: AlterColumnOperation::SetDefault { .. },
            } => {
                if let Some(has_default) = self
                    .columns
                    .get_mut(&(table.to_string(), ident_key(column_name)))
                {
                    *has_default = true;
                }
            }
            AlterTableOperation::ValidateConstraint { name } => {
                if let Some(check) = self
                    .not_null_checks
                    .get_mut(&(table.to_string(), ident_key(name)))
                {
                    check.1 = true;
                }
            }
            _ => {}
        }
    }
}

/// The source ranges of an `ALTER TABLE`'s operations: its tokens after the table name, split on top-level
/// commas. `None` when the split does not give one part per operation (or for a single operation, which is
/// reported on the whole statement).
fn clause_ranges(statement: &SqlStatement, alter: &AlterTable) -> Option<Vec<TextRange>> {
    if alter.operations.len() < 2 {
        return None;
    }
    let name = statement.range_of_span(alter.name.span())?;
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut current: Option<TextRange> = None;
    for token in &statement.tokens[statement.token_index_at(name.end)..] {
        match token.token {
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket => depth = depth.saturating_sub(1),
            Token::Comma if depth == 0 => {
                parts.extend(current.take());
                continue;
            }
            _ => {}
        }
        current = Some(match current {
            Some(range) => TextRange::new(range.start, token.range.end),
            None => token.range,
        });
    }
    parts.extend(current);
    (parts.len() == alter.operations.len()).then_some(parts)
}

impl IssueKind {
    fn operation(&self) -> Operation {
        match self {
            IssueKind::DropColumn { .. } => Operation::DropColumn,
            IssueKind::RenameColumn { .. } => Operation::RenameColumn,
            IssueKind::RenameTable { .. } => Operation::RenameTable,
            IssueKind::DropTable { .. } => Operation::DropTable,
            IssueKind::AddRequiredColumn { .. } => Operation::AddRequiredColumn,
            IssueKind::ChangeType { .. } => Operation::ChangeType,
            IssueKind::SetNotNull { .. } => Operation::SetNotNull,
            IssueKind::Redefine { to_enum: false, .. } => Operation::Redefine,
            IssueKind::Redefine { to_enum: true, .. } => Operation::RedefineEnum,
            IssueKind::CreateIndex { .. } => Operation::CreateIndex,
        }
    }
}

fn verdict(operation: Operation, database: SqlDatabase) -> Verdict {
    MigrationKnowledge::builtin().verdict(operation, database)
}

/// How the dialect was decided, for the text of an open question.
fn evidence_text(dialect: &InferredDialect) -> String {
    match &dialect.evidence {
        DialectEvidence::ConfigPath => "by `[sql.paths]` in the configuration".into(),
        DialectEvidence::Path(part) => format!("by its path (`{part}`)"),
        DialectEvidence::Syntax(what) => format!("by its syntax ({what})"),
        DialectEvidence::Driver(module) => format!("by the driver it imports (`{module}`)"),
        DialectEvidence::ConfigDefault => "by `[sql] dialect` in the configuration".into(),
        DialectEvidence::Assumed => "by default".into(),
    }
}

fn emit(
    ctx: &RuleContext<'_>,
    unit: &Unit,
    role: Role,
    dialect: &InferredDialect,
    issue: &Issue,
    sink: &mut Vec<Finding>,
) {
    let verdict = verdict(issue.kind.operation(), dialect.database);
    if verdict == Verdict::Silent {
        return;
    }
    let text = describe(issue, dialect.database);
    let range = unit.source_range(issue.range);
    let mut builder = ctx.finding(&UnsafeMigration::META, range);
    let (title, trigger) = match (role, verdict) {
        (Role::Migration, Verdict::Report) => (text.title, text.trigger.to_string()),
        (Role::Migration, _) => (
            format!("if the previous release shares this database: {}", text.title),
            format!(
                "this migration is for {} ({}), and whether the previous release keeps running against the \
                 same database during a rollout is not visible (an embedded database is migrated per \
                 instance); if it does, {}",
                dialect.database.name(),
                evidence_text(dialect),
                text.trigger
            ),
        ),
        _ => (
            format!("if this runs as a migration: {}", text.title),
            format!(
                "this SQL is not in a recognisable migration (a migrations folder, a versioned file, an `up` \
                 function), so it is open whether it runs against a live database; if it does, {}",
                text.trigger
            ),
        ),
    };
    if role != Role::Migration || verdict == Verdict::Ask {
        builder = builder.open_question();
    }
    let edit = issue
        .concurrently_at
        .and_then(|at| unit.source_offset(at))
        .map(|at| Edit::insert(at, " CONCURRENTLY"));
    let fix = match edit {
        Some(edit) => Fix::edits(text.advice, Applicability::Maybe, vec![edit]),
        None => Fix::advice(text.advice),
    };
    builder
        .title(title)
        .trigger(trigger)
        .expected(text.expected)
        .actual(text.actual)
        .fix(fix)
        .emit(sink);
}

struct Text {
    title: String,
    trigger: &'static str,
    expected: String,
    actual: String,
    advice: String,
}

const ROLLOUT: &str =
    "the migration runs while instances of the previous release still serve traffic (a rolling deploy, a \
     canary, a rollback of the code)";

fn describe(issue: &Issue, database: SqlDatabase) -> Text {
    let clause = code(&issue.clause);
    match &issue.kind {
        IssueKind::DropColumn { column } => Text {
            title: format!("{clause} breaks the old version still reading `{column}` during the rollout"),
            trigger: ROLLOUT,
            expected: "a column is dropped only once no running version reads or writes it (expand/contract)"
                .into(),
            actual: format!(
                "queries of the old version that name `{column}` fail as soon as it is gone, and its data goes \
                 with it, so rolling the code back cannot bring it back"
            ),
            advice: format!(
                "contract in two releases: stop reading and writing `{column}`, deploy that everywhere, then \
                 drop the column in a later migration (and suppress this there, naming that release)"
            ),
        },
        IssueKind::RenameColumn { old, new } => Text {
            title: format!("{clause} breaks the old version still using `{old}` during the rollout"),
            trigger: ROLLOUT,
            expected: "both names keep working while the old and the new version run side by side".into(),
            actual: format!(
                "queries of the old version that name `{old}` fail from the moment the rename commits, and \
                 queries of the new version that name `{new}` fail if they run before it"
            ),
            advice: format!(
                "expand/contract: add `{new}`, write both columns, backfill `{new}` from `{old}`, switch reads \
                 to `{new}`, and drop `{old}` in a later release"
            ),
        },
        IssueKind::RenameTable { old, new } => Text {
            title: format!("{clause} breaks the old version still querying `{old}` during the rollout"),
            trigger: ROLLOUT,
            expected: "the old table name keeps working while the old version runs".into(),
            actual: format!("every query of the old version on `{old}` fails from the moment the rename commits"),
            advice: format!(
                "keep the old name working: create `CREATE VIEW {old} AS SELECT * FROM {new}` in the same \
                 migration (in PostgreSQL and MySQL a simple view accepts writes too), and drop the view once no version uses \
                 `{old}`"
            ),
        },
        IssueKind::ChangeType { table, column } => Text {
            title: format!(
                "{clause} rewrites `{table}` under an exclusive lock and changes `{column}` under the running version"
            ),
            trigger: ROLLOUT,
            expected: "a type change done as expand/contract, with the table available throughout".into(),
            actual: format!(
                "unless the new type is binary-compatible (widening a `varchar`), Postgres rewrites `{table}` and \
                 its indexes holding an ACCESS EXCLUSIVE lock, so every read and write waits; code of the old \
                 version that expects the old type of `{column}` can fail to read or write it"
            ),
            advice: format!(
                "add a column of the new type, write both, backfill in batches, switch reads, then drop \
                 `{column}` in a later release"
            ),
        },
        IssueKind::Redefine { table, column, .. } => Text {
            title: format!("{clause} redefines `{column}` under the running version"),
            trigger: ROLLOUT,
            expected: "a type or nullability change done as expand/contract, with the table available throughout"
                .into(),
            actual: format!(
                "MySQL rebuilds `{table}` for a type or nullability change (ALGORITHM=COPY blocks writes for the \
                 whole copy), and the old version keeps writing values that fit the old definition of `{column}`"
            ),
            advice: format!(
                "add a column with the new definition, write both, backfill in batches, switch reads, then drop \
                 `{column}` in a later release"
            ),
        },
        IssueKind::SetNotNull { table, column } => Text {
            title: format!(
                "{clause} scans `{table}` under an exclusive lock and rejects the old version's rows without `{column}`"
            ),
            trigger: ROLLOUT,
            expected: format!(
                "NOT NULL enforced without a long lock, once every running version writes `{column}`"
            ),
            actual: format!(
                "Postgres checks every row while holding an ACCESS EXCLUSIVE lock, so all reads and writes of \
                 `{table}` wait for the scan; afterwards every insert of the old version that leaves `{column}` \
                 null fails"
            ),
            advice: format!(
                "add `CHECK ({column} IS NOT NULL) NOT VALID`, run `VALIDATE CONSTRAINT` in a later migration (it \
                 does not block reads or writes), then `SET NOT NULL` skips the scan (Postgres 12+)"
            ),
        },
        IssueKind::AddRequiredColumn { table, column } => Text {
            title: format!(
                "{clause} has no default: existing rows and the old version's inserts cannot fill `{column}`"
            ),
            trigger: ROLLOUT,
            expected: "a new column that the old version's writes can leave out".into(),
            actual: format!(
                "Postgres refuses to add it while `{table}` has rows; where it succeeds (an empty table, MySQL \
                 filling in an implicit default), every insert of the old version, which does not know \
                 `{column}`, fails"
            ),
            advice: if database == SqlDatabase::MySql {
                format!(
                    "give `{column}` a `DEFAULT` (MySQL 8 adds a column with a default instantly), or add it \
                     nullable, backfill, and make it NOT NULL in a later release once every version writes it"
                )
            } else {
                format!(
                    "give `{column}` a `DEFAULT` (instant for a constant default since Postgres 11), or add it \
                     nullable, backfill, and enforce NOT NULL with `CHECK … NOT VALID` + `VALIDATE CONSTRAINT` \
                     once every version writes it"
                )
            },
        },
        IssueKind::DropTable { table } => Text {
            title: format!("{clause} breaks the old version still reading `{table}` during the rollout"),
            trigger: ROLLOUT,
            expected: "a table is dropped only once no running version uses it".into(),
            actual: format!(
                "every query of the old version on `{table}` fails as soon as it is dropped, and its data cannot \
                 be brought back by rolling the code back"
            ),
            advice: format!(
                "stop using `{table}` in one release, deploy it everywhere, then drop the table in a later \
                 migration (renaming it aside first keeps an escape hatch)"
            ),
        },
        IssueKind::CreateIndex { table } => Text {
            title: format!("{clause} blocks writes to `{table}` while the index builds"),
            trigger: "the migration runs against a populated table while the service is taking writes",
            expected: "an index built without blocking writes".into(),
            actual: format!(
                "a plain CREATE INDEX holds a SHARE lock on `{table}` for the whole build: every insert, update \
                 and delete waits (minutes on a large table), and the running version's requests time out \
                 behind it"
            ),
            advice: "use `CREATE INDEX CONCURRENTLY`; it cannot run inside a transaction block, so the migration \
                     must run outside one (goose: `-- +goose NO TRANSACTION`), and a failed build leaves an \
                     INVALID index to drop before retrying"
                .into(),
        },
    }
}

/// SQL as a Markdown code span, shortened to a readable length.
fn code(sql: &str) -> String {
    const MAX: usize = 100;
    let mut text: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > MAX {
        text = text.chars().take(MAX).collect::<String>() + "…";
    }
    code_span(&text)
}

fn index_clause(index: &CreateIndex) -> String {
    format!(
        "CREATE {}INDEX {}ON {}",
        if index.unique { "UNIQUE " } else { "" },
        index
            .name
            .as_ref()
            .map(|n| format!("{n} "))
            .unwrap_or_default(),
        index.table_name
    )
}

/// A table's name for messages: its parts without quotes.
fn display_name(name: &ObjectName) -> String {
    name.0
        .iter()
        .map(|part| match part.as_ident() {
            Some(ident) => ident.value.clone(),
            None => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// A table's name for comparisons: the last part, case-folded unless quoted.
fn key(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(|part| part.as_ident())
        .map(ident_key)
        .unwrap_or_else(|| name.to_string())
}

fn ident_key(ident: &Ident) -> String {
    match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_lowercase(),
    }
}

fn is_keyword(token: &Token, keyword: Keyword) -> bool {
    matches!(token, Token::Word(word) if word.keyword == keyword && word.quote_style.is_none())
}

/// `NOT NULL`, or a `PRIMARY KEY`, which implies it.
fn is_required(column: &ColumnDef) -> bool {
    column.options.iter().any(|o| {
        matches!(
            o.option,
            ColumnOption::NotNull | ColumnOption::PrimaryKey(_)
        )
    })
}

/// Whether the database fills the column by itself: a default, a generated or identity column, a serial type,
/// MySQL's `AUTO_INCREMENT`.
fn has_value(column: &ColumnDef) -> bool {
    let serial = matches!(
        column.data_type.to_string().to_ascii_lowercase().as_str(),
        "serial" | "bigserial" | "smallserial" | "serial2" | "serial4" | "serial8"
    );
    serial
        || column.options.iter().any(|o| match &o.option {
            ColumnOption::Default(_)
            | ColumnOption::Generated { .. }
            | ColumnOption::Identity(_)
            | ColumnOption::Materialized(_)
            | ColumnOption::Alias(_) => true,
            ColumnOption::DialectSpecific(tokens) => tokens.iter().any(|t| {
                is_keyword(t, Keyword::AUTO_INCREMENT) || is_keyword(t, Keyword::AUTOINCREMENT)
            }),
            _ => false,
        })
}

/// Statements that change or create tables: a string holding none of them is not a migration.
fn is_ddl(statement: &Statement) -> bool {
    matches!(
        statement,
        Statement::AlterTable(_)
            | Statement::Drop {
                object_type: ObjectType::Table,
                ..
            }
            | Statement::RenameTable(_)
            | Statement::CreateIndex(_)
            | Statement::CreateTable(_)
            | Statement::CreateView(_)
    )
}

/// The first word of the statements worth parsing: data changes and queries are not this rule's business.
fn starts_ddl(token: &Token) -> bool {
    [
        Keyword::ALTER,
        Keyword::DROP,
        Keyword::CREATE,
        Keyword::RENAME,
    ]
    .iter()
    .any(|keyword| is_keyword(token, *keyword))
}

/// A cheap test before parsing: most string literals in code are not SQL at all.
fn may_hold_ddl(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    ["alter", "drop", "rename", "create"]
        .iter()
        .any(|word| lower.contains(word))
}

/// `ENUM(…)`/`SET(…)` column types.
fn is_enum(data_type: &sqlparser::ast::DataType) -> bool {
    matches!(
        data_type,
        sqlparser::ast::DataType::Enum(..) | sqlparser::ast::DataType::Set(_)
    )
}

/// goose, sql-migrate and dbmate section markers: (offset, whether an up section starts there).
fn sections(script: &SqlScript) -> Vec<(usize, bool)> {
    script
        .comments
        .iter()
        .filter_map(|comment| {
            let words: Vec<String> = comment
                .text
                .split_whitespace()
                .map(str::to_ascii_lowercase)
                .collect();
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            let up = match words.as_slice() {
                ["+goose" | "+migrate", "up", ..] | ["migrate:up", ..] => true,
                ["+goose" | "+migrate", "down", ..] | ["migrate:down", ..] => false,
                _ => return None,
            };
            Some((comment.range.start, up))
        })
        .collect()
}

fn section_at(sections: &[(usize, bool)], offset: usize) -> Option<bool> {
    sections
        .iter()
        .rev()
        .find(|(at, _)| *at <= offset)
        .map(|(_, up)| *up)
}

/// Migration or rollback by the file's folders and name; the same conventions hold for SQL and code files.
fn path_role(path: &Path) -> Role {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    let lower = stem.to_ascii_lowercase();
    if lower == "down" || lower.ends_with(".down") || flyway_version(stem, 'U') {
        return Role::Rollback;
    }
    let versioned = lower == "up"
        || lower.ends_with(".up")
        || flyway_version(stem, 'V')
        || stem.starts_with("R__")
        || numbered(stem);
    let in_folder = path
        .parent()
        .into_iter()
        .flat_map(|p| p.components())
        .filter_map(|c| c.as_os_str().to_str())
        .any(|folder| {
            let folder = folder.to_ascii_lowercase();
            folder == "migrate" || folder.ends_with("migrations") || folder.ends_with("migration")
        });
    if versioned || in_folder {
        Role::Migration
    } else {
        Role::Unknown
    }
}

/// `0001_init`, `20240101120000_add_orders`, `1700000000000-AddOrders` (TypeORM).
fn numbered(stem: &str) -> bool {
    let digits = stem.len() - stem.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    digits > 0 && matches!(stem.as_bytes().get(digits), Some(b'_' | b'-'))
}

/// Flyway's `V2__x` / `V2.1__x` (versioned) and `U2__x` (undo).
fn flyway_version(stem: &str, prefix: char) -> bool {
    let Some(rest) = stem
        .strip_prefix(prefix)
        .or_else(|| stem.strip_prefix(prefix.to_ascii_lowercase()))
    else {
        return false;
    };
    let Some((version, _)) = rest.split_once("__") else {
        return false;
    };
    version.starts_with(|c: char| c.is_ascii_digit())
        && version
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '_')
}

/// The role a function around a string gives it: the innermost function named like an up or down migration.
fn function_role(ctx: &RuleContext<'_>, mut function: Option<usize>) -> Option<Role> {
    while let Some(index) = function {
        let f = ctx.facts.functions.get(index)?;
        let name = if f.name == "<anonymous>" {
            binding_name(ctx, f.node)
        } else {
            Some(f.name.clone())
        };
        if let Some(role) = name.as_deref().and_then(name_role) {
            return Some(role);
        }
        function = f.parent;
    }
    None
}

/// The name an anonymous function is bound to: `exports.up = function…`, `const up = async () => …`,
/// `{ up: async () => … }`.
fn binding_name(
    ctx: &RuleContext<'_>,
    function: dsr_semantic::tree_sitter::Node<'_>,
) -> Option<String> {
    let parent = function.parent()?;
    let name = match parent.kind() {
        "assignment_expression" => parent.child_by_field_name("left")?,
        "variable_declarator" => parent.child_by_field_name("name")?,
        "pair" => parent.child_by_field_name("key")?,
        _ => return None,
    };
    Some(ctx.node_text(name).to_string())
}

fn name_role(name: &str) -> Option<Role> {
    let last = dsr_core::kb::last_segment(name).trim_matches(['"', '\'']);
    let lower = last.to_ascii_lowercase();
    let starts_word = |word: &str| {
        lower.starts_with(word) && !last[word.len()..].starts_with(|c: char| c.is_ascii_lowercase())
    };
    if ["down", "rollback", "revert", "undo"]
        .iter()
        .any(|w| starts_word(w))
        || (lower.contains("migrat") && lower.ends_with("down"))
    {
        return Some(Role::Rollback);
    }
    if starts_word("up") || lower.contains("migrat") {
        return Some(Role::Migration);
    }
    None
}

/// A Rust string literal inside a `#[test]` function or a `#[cfg(test)]` module.
fn literal_in_rust_test(ctx: &RuleContext<'_>, literal: &StringLiteral) -> bool {
    let Some(tree) = ctx.tree else { return false };
    tree.root_node()
        .descendant_for_byte_range(literal.range.start, literal.range.end)
        .is_some_and(|node| ctx.in_rust_test(node))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_migration_files_by_folder_and_name() {
        for (path, role) in [
            ("db/migrations/add_orders.sql", Role::Migration),
            ("db/migrate/add_orders.sql", Role::Migration),
            ("sql/db_migrations/x.sql", Role::Migration),
            ("sql/0001_add_orders.sql", Role::Migration),
            ("sql/20240101120000_add_orders.sql", Role::Migration),
            ("schema/000001_init.up.sql", Role::Migration),
            ("migrations/2024-01-01-000000_init/up.sql", Role::Migration),
            ("db/V3__orders.sql", Role::Migration),
            ("db/V3.1__orders.sql", Role::Migration),
            ("db/R__views.sql", Role::Migration),
            ("src/1700000000000-AddOrders.ts", Role::Migration),
            ("migrations/000001_init.down.sql", Role::Rollback),
            ("migrations/2024-01-01-000000_init/down.sql", Role::Rollback),
            ("db/U3__orders.sql", Role::Rollback),
            ("db/queries.sql", Role::Unknown),
            ("schema/tables.sql", Role::Unknown),
            ("src/store.go", Role::Unknown),
            ("src/2fa_handler.go", Role::Unknown),
            ("db/Version__x.sql", Role::Unknown),
        ] {
            assert_eq!(path_role(Path::new(path)), role, "{path}");
        }
    }

    #[test]
    fn recognises_migration_functions_by_name() {
        for (name, role) in [
            ("up", Some(Role::Migration)),
            ("Migration::up", Some(Role::Migration)),
            ("AddOrders1700.up", Some(Role::Migration)),
            ("Up00002", Some(Role::Migration)),
            ("upAddIndex", Some(Role::Migration)),
            ("up_add_index", Some(Role::Migration)),
            ("runMigrations", Some(Role::Migration)),
            ("exports.up", Some(Role::Migration)),
            ("down", Some(Role::Rollback)),
            ("downAddIndex", Some(Role::Rollback)),
            ("Down00002", Some(Role::Rollback)),
            ("migrateDown", Some(Role::Rollback)),
            ("rollbackOrders", Some(Role::Rollback)),
            ("update", None),
            ("upload", None),
            ("upsertOrder", None),
            ("download", None),
            ("shutdown", None),
            ("ensureSchema", None),
        ] {
            assert_eq!(name_role(name), role, "{name}");
        }
    }

    #[test]
    fn messages_quote_sql_as_code() {
        assert_eq!(code("DROP TABLE a"), "`DROP TABLE a`");
        assert_eq!(code("DROP TABLE `a`"), "`` DROP TABLE `a` ``");
        assert_eq!(code("ALTER TABLE a\n    DROP b"), "`ALTER TABLE a DROP b`");
        assert!(code(&"x ".repeat(200)).ends_with("…`"));
    }
}
