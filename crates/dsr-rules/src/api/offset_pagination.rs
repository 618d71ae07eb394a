use dsr_core::kb::ApiRole;
use dsr_core::{declare_rule, Finding, Fix, Language, Rule, RuleMeta, TextRange};
use dsr_semantic::facts::FileFacts;
use dsr_semantic::models::store::{
    computed_offset, fill_braces, fill_printf, looks_like_sql, parse_sql, sql_expression,
};
use dsr_semantic::tree_sitter::Node;
use dsr_semantic::KbMatch;
use dsr_semantic::RuleContext;
use dsr_syntax::node;

declare_rule! {
    /// ## What it finds
    /// Pagination by skipping rows: SQL text whose `OFFSET` (or MySQL's `LIMIT offset, n`) is a bind parameter
    /// or a computed value (`OFFSET $2`, `OFFSET %d`, `` OFFSET ${(page - 1) * size} ``, `" OFFSET " + skip`),
    /// and query-builder or ORM offsets (gorm `.Offset(n)`, knex/TypeORM/drizzle/kysely `.offset(n)`,
    /// TypeORM/mongoose `.skip(n)`, sea-orm/diesel `.offset(n)`) driven by a page number or a query parameter of
    /// the request.
    ///
    /// ## Why it fails under partial failure
    /// The database still reads and throws away every row before the offset, so page 10 000 costs 10 000 pages of
    /// work: a client (or crawler) walking deep pages turns into a slow-query storm exactly when the table is
    /// large. And an offset counts rows, not positions: rows inserted or deleted between two requests shift every
    /// later page, so clients silently skip or repeat items — a sync job that pages through changes misses some.
    ///
    /// ## Known false positives
    /// A literal offset (`OFFSET 0`, `OFFSET 20`) is not reported. Admin screens over small, bounded tables can
    /// afford offsets: suppress with the reason. Builder offsets are only reported when their value comes from a
    /// page number or the request's query, so internal batch loops are not.
    ///
    /// ## Example
    /// ```go
    /// package orders
    ///
    /// import (
    ///     "context"
    ///     "database/sql"
    /// )
    ///
    /// func list(ctx context.Context, db *sql.DB, page, size int) (*sql.Rows, error) {
    ///     return db.QueryContext(ctx, "SELECT id, total FROM orders ORDER BY id LIMIT $1 OFFSET $2", size, (page-1)*size)
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// package orders
    ///
    /// import (
    ///     "context"
    ///     "database/sql"
    /// )
    ///
    /// // Keyset pagination: the client sends back the last id it saw.
    /// func list(ctx context.Context, db *sql.DB, after int64, size int) (*sql.Rows, error) {
    ///     return db.QueryContext(ctx, "SELECT id, total FROM orders WHERE id > $1 ORDER BY id LIMIT $2", after, size)
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Advice only: keyset pagination changes the API (a cursor instead of a page number) and needs an index on
    /// the ordering columns.
    ///
    /// ## Configuration
    /// None.
    ///
    /// ## References
    /// - Markus Winand, *Use The Index, Luke*, "Paging Through Results" (the seek method).
    /// - PostgreSQL documentation, `LIMIT` and `OFFSET`: "the rows skipped by an OFFSET clause still have to be
    ///   computed inside the server".
    pub struct OffsetPagination {
        code: "API001",
        slug: "offset-pagination",
        family: Api,
        languages: [Go, Rust, TypeScript],
        severity: Low,
        impact: Availability,
        kind: Finding,
        fix: Never,
        scope: Function,
        reads: [Store],
        roles: Servers,
    }
}

const ADVICE: &str = "page by key instead: `WHERE (created_at, id) < ($1, $2) ORDER BY created_at DESC, id DESC LIMIT $3`, returning the last row's key as the next cursor";

impl Rule<RuleContext<'_>> for OffsetPagination {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        let Some(tree) = ctx.tree else { return };
        if ctx.language == Language::Sql {
            return;
        }
        let mut reported: Vec<TextRange> = Vec::new();
        for string in &ctx.facts.strings {
            if !string.value.to_ascii_lowercase().contains("offset") && !string.value.contains(',')
            {
                continue;
            }
            let Some(literal) = tree
                .root_node()
                .descendant_for_byte_range(string.range.start, string.range.end)
            else {
                continue;
            };
            check_sql(ctx, literal, &string.value, &mut reported, sink);
        }
        if ctx.language.is_typescript() {
            for template in ctx
                .facts
                .nodes_of_kind(&["template_string"])
                .filter(|n| ctx.node_text(*n).to_ascii_lowercase().contains("offset"))
            {
                check_sql(ctx, template, "", &mut reported, sink);
            }
        }
        check_builders(ctx, sink);
    }
}

/// SQL text at `literal` (its value `value`; for templates, rebuilt), read through the expression it is part of.
fn check_sql(
    ctx: &RuleContext<'_>,
    literal: Node<'_>,
    value: &str,
    reported: &mut Vec<TextRange>,
    sink: &mut Vec<Finding>,
) {
    let facts = ctx.facts;
    let function = facts.function_at(literal.start_byte());
    // The whole concatenation the literal is part of (`"… OFFSET " + skip`).
    let mut whole = literal;
    while let Some(parent) = facts.parent(whole) {
        let is_concat = parent.kind() == "binary_expression"
            && parent
                .child_by_field_name("operator")
                .is_some_and(|o| ctx.node_text(o) == "+");
        if !is_concat {
            break;
        }
        whole = parent;
    }
    let text = if whole != literal || literal.kind() == "template_string" {
        sql_expression(facts, ctx.source, function, whole, 0).map(|(t, _)| t)
    } else {
        Some(fill(ctx, literal, value))
    };
    let Some(text) = text else { return };
    if !looks_like_sql(&text) {
        return;
    }
    let range = TextRange::of(whole);
    if reported
        .iter()
        .any(|r| r.contains_range(range) || range.contains_range(*r))
    {
        return;
    }
    let Some(offset) = parse_sql(&text).and_then(|s| computed_offset(&s)) else {
        return;
    };
    reported.push(range);
    let shown = if offset == dsr_semantic::models::store::SQL_HOLE {
        "a value the code computes".to_string()
    } else {
        format!("`{offset}`")
    };
    ctx.finding(&OffsetPagination::META, range)
        .title(format!("query pages with `OFFSET` bound to {shown}: deep pages scan every skipped row, and rows written between requests shift pages"))
        .trigger("a client walks deep pages of a large table, or rows are inserted or deleted while it pages")
        .expected("each page found through an index from the last key seen (keyset pagination)")
        .actual("the database reads and discards every row before the offset, and a changed row count skips or repeats items")
        .evidence(range, "SQL with a computed OFFSET")
        .fix(Fix::advice(ADVICE))
        .emit(sink);
}

/// A literal's value with format placeholders turned into computed parts: Go `%d` (in `fmt.Sprintf`), Rust
/// `{}` (in `format!`).
fn fill(ctx: &RuleContext<'_>, literal: Node<'_>, value: &str) -> String {
    let in_format = ctx.facts.ancestors(literal).take(4).any(|a| {
        (a.kind() == "call_expression"
            && a.child_by_field_name("function")
                .is_some_and(|f| ctx.node_text(f).ends_with("Sprintf")))
            || a.kind() == "macro_invocation"
    });
    if !in_format {
        return value.to_string();
    }
    match ctx.language {
        Language::Go => fill_printf(value),
        Language::Rust => fill_braces(value),
        _ => value.to_string(),
    }
}

/// Words that show a value comes from the request's page number or query string.
fn from_request(words: &[String]) -> bool {
    words.iter().any(|w| {
        let w = w.to_ascii_lowercase();
        w.contains("page")
            || matches!(
                w.as_str(),
                "query" | "params" | "searchparams" | "queryparam" | "defaultquery" | "formvalue"
            )
    })
}

fn check_builders(ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
    let facts = ctx.facts;
    for call in &facts.calls {
        if call.receiver.is_none() {
            continue;
        }
        let Some(arg) = call.args.first().copied() else {
            continue;
        };
        if matches!(arg.kind(), "int_literal" | "integer_literal" | "number") {
            continue;
        }
        if ctx.kb.role_of(facts, call, &[ApiRole::Offset]).is_none() {
            continue;
        }
        let words = value_words(ctx, facts, call.function, arg, 0);
        if !from_request(&words) {
            continue;
        }
        let method = call.method.as_deref().unwrap_or("offset");
        ctx.finding(&OffsetPagination::META, call.range())
            .title(format!("`.{method}({})` pages by skipping rows from the request's page: deep pages scan every skipped row, and rows written between requests shift pages", ctx.node_text(arg)))
            .trigger("a client walks deep pages of a large table, or rows are inserted or deleted while it pages")
            .expected("each page found through an index from the last key seen (keyset pagination)")
            .actual("the database reads and discards every row before the offset, and a changed row count skips or repeats items")
            .evidence(TextRange::of(arg), "offset computed from the request")
            .fix(Fix::advice(ADVICE))
            .emit(sink);
    }
}

/// The identifiers and member names of an expression, following locals to the value they were declared with.
fn value_words(
    ctx: &RuleContext<'_>,
    facts: &FileFacts<'_>,
    function: Option<usize>,
    expression: Node<'_>,
    depth: usize,
) -> Vec<String> {
    let mut words = Vec::new();
    for n in node::descendants(expression) {
        if !matches!(
            n.kind(),
            "identifier"
                | "property_identifier"
                | "field_identifier"
                | "shorthand_property_identifier"
        ) {
            continue;
        }
        let word = ctx.node_text(n).to_string();
        if n.kind() == "identifier" && depth < 3 {
            if let Some(value) = facts.declared_value(function, &word, n.start_byte()) {
                if value != expression {
                    words.extend(value_words(ctx, facts, function, value, depth + 1));
                }
            }
        }
        words.push(word);
    }
    words
}
