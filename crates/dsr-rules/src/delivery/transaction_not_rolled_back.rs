use dsr_core::{
    declare_rule, Applicability, Edit, Finding, Fix, Language, Rule, RuleMeta, TextRange,
};
use dsr_semantic::models::control_flow::{
    can_reach, closures_between, contains, statement_exit, statements,
};
use dsr_semantic::models::messaging::transaction::{Transaction, TxStyle};
use dsr_semantic::tree_sitter::Node;
use dsr_semantic::RuleContext;
use dsr_syntax::node;

use crate::shared::indentation_at;

declare_rule! {
    /// ## What it finds
    /// A transaction that a return path leaves open:
    /// - Go: `tx, err := db.Begin(…)`/`BeginTx(…)` (database/sql, sqlx, pgx) with a `return` after it that is
    ///   reached without `tx.Commit()` or `tx.Rollback()` and with no `defer tx.Rollback()`;
    /// - Rust: `BEGIN` sent as SQL text (`sqlx::query("BEGIN")`, tokio-postgres `batch_execute("BEGIN")`) with
    ///   a `?` or `return` before `COMMIT`/`ROLLBACK`. sqlx's `pool.begin()`, sea-orm's `begin()` and
    ///   tokio-postgres's `transaction()` roll back when dropped, and diesel's `transaction(|conn| …)` rolls back
    ///   when the closure fails: those are fine;
    /// - TypeScript: `BEGIN` sent with a pg client's `query` (or mysql2's `beginTransaction()`, knex's
    ///   `await knex.transaction()`) followed by queries that can throw with no `catch` that sends `ROLLBACK`, or
    ///   a pooled client that an error path never `release()`s.
    ///
    /// ## Why it fails under partial failure
    /// Errors are exactly when the early return is taken — a constraint violation, a timeout, a lost
    /// connection. An open transaction keeps its connection checked out and its row locks held: the pool runs
    /// dry under an error burst, and other requests block on the locks until the database's idle timeout kills
    /// the session (Postgres never does by default). A connection returned to a pool inside an open (often
    /// aborted) transaction poisons the next request that gets it.
    ///
    /// ## Known false positives
    /// A transaction handed to another function to finish (returned, stored in a struct, passed to a goroutine)
    /// is not reported. A helper that rolls back when given the transaction in a `return` statement
    /// (`return rollback(tx, err)`) counts as ending it.
    ///
    /// ## Example
    /// ```go
    /// import "database/sql"
    ///
    /// func Transfer(ctx context.Context, db *sql.DB, from, to string, amount int) error {
    ///     tx, err := db.BeginTx(ctx, nil)
    ///     if err != nil {
    ///         return err
    ///     }
    ///     if _, err := tx.ExecContext(ctx, "UPDATE accounts SET balance = balance - $1 WHERE id = $2", amount, from); err != nil {
    ///         return err
    ///     }
    ///     if _, err := tx.ExecContext(ctx, "UPDATE accounts SET balance = balance + $1 WHERE id = $2", amount, to); err != nil {
    ///         return err
    ///     }
    ///     return tx.Commit()
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// import "database/sql"
    ///
    /// func Transfer(ctx context.Context, db *sql.DB, from, to string, amount int) error {
    ///     tx, err := db.BeginTx(ctx, nil)
    ///     if err != nil {
    ///         return err
    ///     }
    ///     defer tx.Rollback() // a no-op once Commit has succeeded
    ///     if _, err := tx.ExecContext(ctx, "UPDATE accounts SET balance = balance - $1 WHERE id = $2", amount, from); err != nil {
    ///         return err
    ///     }
    ///     if _, err := tx.ExecContext(ctx, "UPDATE accounts SET balance = balance + $1 WHERE id = $2", amount, to); err != nil {
    ///         return err
    ///     }
    ///     return tx.Commit()
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Go: the fix inserts `defer tx.Rollback()` (pgx: `defer tx.Rollback(ctx)`) right after the `if err != nil`
    /// check of the begin call. It is applied by fix-all: a rollback after a successful `Commit` returns
    /// `sql.ErrTxDone` (pgx: `ErrTxClosed`) and changes nothing, the ignored error is deliberate, and handles that
    /// leave the function are never reported. Without an error check right after the begin, the handle may be
    /// nil when the deferred call runs, so the fix is advice. Rust and TypeScript: advice (use a transaction
    /// handle that rolls back on drop; `try`/`catch` with `ROLLBACK` and `release()` in `finally`).
    ///
    /// ## Configuration
    /// Your own transaction helpers can be declared in `[[effects]]` with `role = "tx-begin"`, `"tx-commit"`,
    /// `"tx-rollback"` (and `rollback = "Rollback()"` for the fix).
    ///
    /// ## References
    /// - Go, `database/sql` documentation for `Tx`: "defer tx.Rollback() … The rollback will be ignored if the tx
    ///   has been committed later in the function."
    /// - node-postgres, "Transactions": `BEGIN`, `COMMIT`, `ROLLBACK` in `try`/`catch`, `client.release()` in
    ///   `finally`.
    /// - sqlx `Transaction`: "If neither are called before the transaction goes out-of-scope, rollback is called."
    pub struct TransactionNotRolledBack {
        code: "DEL004",
        slug: "transaction-not-rolled-back",
        family: Delivery,
        languages: [Go, Rust, TypeScript],
        severity: High,
        impact: Availability,
        kind: Finding,
        fix: Sometimes,
        scope: Function,
        reads: [Messaging],
    }
}

impl Rule<RuleContext<'_>> for TransactionNotRolledBack {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        for tx in ctx.transactions() {
            if tx.rolls_back_itself || tx.style == TxStyle::Scoped || tx.handle.is_none() {
                continue;
            }
            match ctx.language {
                Language::Go if tx.style == TxStyle::Handle => check_go(ctx, tx, sink),
                Language::Rust => check_rust(ctx, tx, sink),
                Language::TypeScript | Language::Tsx => check_typescript(ctx, tx, sink),
                _ => {}
            }
        }
    }
}

/// The calls that end the transaction (commit or rollback), as nodes.
fn ends<'t>(ctx: &RuleContext<'t>, tx: &Transaction<'t>) -> Vec<Node<'t>> {
    tx.commits
        .iter()
        .chain(&tx.rollbacks)
        .map(|c| ctx.facts.calls[*c].node)
        .collect()
}

/// Whether something in `list` has run on every way to `exit` as far as the structure shows: it is inside the
/// exit, or it comes before it on a path that reaches it.
fn ended_before(ctx: &RuleContext<'_>, list: &[Node<'_>], exit: Node<'_>) -> bool {
    list.iter()
        .any(|end| contains(exit, *end) || can_reach(ctx.facts, *end, exit, ctx.source))
}

fn scope_of<'t>(ctx: &RuleContext<'t>, tx: &Transaction<'t>) -> Option<Node<'t>> {
    tx.function.map(|f| ctx.facts.functions[f].node)
}

fn check_go<'t>(ctx: &RuleContext<'t>, tx: &Transaction<'t>, sink: &mut Vec<Finding>) {
    if tx.escapes {
        return;
    }
    let Some(scope) = scope_of(ctx, tx) else {
        return;
    };
    let Some(handle) = tx.handle.as_deref() else {
        return;
    };
    let begin = &ctx.facts.calls[tx.begin];
    let err_check = go_err_check(ctx, tx.statement);
    let ends = ends(ctx, tx);
    let mut open_exits: Vec<Node<'_>> = Vec::new();
    for exit in node::descendants(scope).filter(|n| n.kind() == "return_statement") {
        if exit.start_byte() < tx.statement.end_byte()
            || !closures_between(ctx.facts, exit, scope).is_empty()
            || err_check.is_some_and(|c| contains(c, exit))
        {
            continue;
        }
        if tx
            .deferred_rollback
            .is_some_and(|d| can_reach(ctx.facts, d, exit, ctx.source))
            || ended_before(ctx, &ends, exit)
            || hands_over(ctx, exit, handle)
        {
            continue;
        }
        open_exits.push(exit);
    }
    // Falling off the end of a function without results is a return too.
    if let Some(body) = scope.child_by_field_name("body") {
        let last = statements(body).last().copied();
        let falls_off = last.is_some_and(|l| {
            l.start_byte() > tx.statement.end_byte()
                && statement_exit(ctx.facts, l, ctx.source).is_none()
        }) && scope.child_by_field_name("result").is_none();
        let top_level_end = statements(body)
            .iter()
            .any(|s| ends.iter().any(|e| contains(*s, *e)));
        if falls_off && tx.deferred_rollback.is_none() && !top_level_end {
            if let Some(last) = last {
                open_exits.push(last);
            }
        }
    }
    let Some(first) = open_exits.first().copied() else {
        return;
    };
    let spelling = tx
        .rollback_spelling
        .clone()
        .unwrap_or_else(|| "Rollback()".to_string());
    let begin_text = ctx.node_text(begin.callee);
    let exit_text = if first.kind() == "return_statement" {
        // No line numbers in messages: the evidence points at the exit, and a message must not change when a
        // line is added above the function (incremental analysis reuses it).
        format!("`{}` runs", compact(ctx.node_text(first)))
    } else {
        "the function ends".to_string()
    };
    let fix = match err_check {
        Some(check) => {
            let indent = indentation_at(ctx.source, tx.statement.start_byte());
            let first_arg = begin.args.first().map(|a| a.kind());
            let plain_context = !spelling.contains('(') || spelling.ends_with("()")
                || matches!(first_arg, Some("identifier" | "selector_expression"));
            Fix::edits(
                format!("add `defer {handle}.{spelling}` after the error check"),
                if plain_context { Applicability::Always } else { Applicability::Maybe },
                vec![Edit::insert(check.end_byte(), format!("\n{indent}defer {handle}.{spelling}"))],
            )
        }
        None => Fix::advice(format!(
            "check the error of `{begin_text}`, then `defer {handle}.{spelling}` so every return path ends the transaction"
        )),
    };
    let mut builder = ctx
        .finding(&TransactionNotRolledBack::META, TextRange::of(begin.node))
        .title(format!(
            "transaction `{handle}` from `{begin_text}` is neither committed nor rolled back when {exit_text}"
        ))
        .trigger("a statement in the transaction fails (constraint violation, timeout, lost connection) and the function returns early")
        .expected(format!("every path after `{begin_text}` ends the transaction: `defer {handle}.{spelling}` right after the error check"))
        .actual(format!("this path returns with `{handle}` open: its connection stays checked out and its locks held until the database gives up on the session"))
        .fix(fix);
    for exit in &open_exits {
        let note = if exit.kind() == "return_statement" {
            "returns with the transaction open"
        } else {
            "the function ends after this with the transaction open"
        };
        builder = builder.evidence(TextRange::of(*exit), note);
    }
    builder.emit(sink);
}

/// The `if err != nil { … return }` after the begin statement that checks the begin's error: the first `if` of
/// the same block reading `err` and returning, with no statement between them that assigns `err` again
/// (metrics or tracing may sit between the begin and its check). Returns inside it have no transaction to end.
fn go_err_check<'t>(ctx: &RuleContext<'t>, statement: Node<'t>) -> Option<Node<'t>> {
    let err = statement
        .child_by_field_name("left")
        .and_then(|l| node::named_children(l).nth(1))
        .map(|e| ctx.node_text(e))?;
    if err == "_" {
        return None;
    }
    let is_err = |i: Node<'_>| i.kind() == "identifier" && ctx.node_text(i) == err;
    let mut next = statement.next_named_sibling();
    while let Some(current) = next {
        let reads_err = || {
            current
                .child_by_field_name("condition")
                .is_some_and(|c| node::descendants(c).any(is_err))
        };
        let returns = || {
            current
                .child_by_field_name("consequence")
                .is_some_and(|b| node::descendants(b).any(|s| s.kind() == "return_statement"))
        };
        if current.kind() == "if_statement" && reads_err() && returns() {
            return Some(current);
        }
        let assigns_err = node::descendants(current)
            .filter(|n| matches!(n.kind(), "assignment_statement" | "short_var_declaration"))
            .any(|n| {
                n.child_by_field_name("left")
                    .is_some_and(|l| node::named_children(l).any(is_err))
            });
        if assigns_err || current.kind() == "return_statement" {
            return None;
        }
        next = current.next_named_sibling();
    }
    None
}

/// `return finish(tx, err)`: the handle is given to a helper on the way out.
fn hands_over(ctx: &RuleContext<'_>, exit: Node<'_>, handle: &str) -> bool {
    node::descendants(exit).any(|n| {
        n.kind() == "argument_list"
            && node::named_children(n)
                .any(|a| a.kind() == "identifier" && ctx.node_text(a) == handle)
    })
}

fn check_rust<'t>(ctx: &RuleContext<'t>, tx: &Transaction<'t>, sink: &mut Vec<Finding>) {
    if tx.style != TxStyle::SqlText {
        return;
    }
    let Some(scope) = scope_of(ctx, tx) else {
        return;
    };
    let handle = tx.handle.as_deref().unwrap_or_default();
    let begin = &ctx.facts.calls[tx.begin];
    let ends = ends(ctx, tx);
    let open = node::descendants(scope).find(|exit| {
        matches!(exit.kind(), "try_expression" | "return_expression")
            && exit.start_byte() > tx.statement.end_byte()
            && closures_between(ctx.facts, *exit, scope).is_empty()
            && !ended_before(ctx, &ends, *exit)
    });
    let Some(exit) = open else { return };
    let how = if exit.kind() == "try_expression" {
        format!("the `?` of `{}`", compact(ctx.node_text(exit)))
    } else {
        format!("`{}`", compact(ctx.node_text(exit)))
    };
    ctx.finding(&TransactionNotRolledBack::META, TextRange::of(begin.node))
        .title(format!(
            "`BEGIN` on `{handle}` is not rolled back when {how} returns early: the connection stays inside the open transaction, holding its locks"
        ))
        .trigger("a statement after `BEGIN` fails and `?` returns the error")
        .expected("a transaction handle that rolls back when dropped (`pool.begin()` / `conn.begin()` in sqlx, `transaction()` in tokio-postgres), or `ROLLBACK` on every error path")
        .actual(format!("the early return skips `ROLLBACK`, so `{handle}` keeps the transaction (and its locks) open for whoever uses the connection next"))
        .evidence(TextRange::of(exit), "returns without `ROLLBACK`")
        .fix(Fix::advice(format!("replace the `BEGIN` text with a transaction handle (`let mut tx = {handle}.begin().await?;` … `tx.commit().await?`): it rolls back when dropped")))
        .emit(sink);
}

fn check_typescript<'t>(ctx: &RuleContext<'t>, tx: &Transaction<'t>, sink: &mut Vec<Finding>) {
    let Some(scope) = scope_of(ctx, tx) else {
        return;
    };
    let handle = tx.handle.as_deref().unwrap_or_default();
    let begin = &ctx.facts.calls[tx.begin];
    let facts = ctx.facts;
    let rollbacks: Vec<Node<'_>> = tx.rollbacks.iter().map(|c| facts.calls[*c].node).collect();
    let releases: Vec<Node<'_>> = tx.releases.iter().map(|c| facts.calls[*c].node).collect();
    let commit_at = tx
        .commits
        .iter()
        .map(|c| facts.calls[*c].node.start_byte())
        .filter(|c| *c > begin.node.end_byte())
        .min()
        .unwrap_or(usize::MAX);
    // Paths out on failure: anything awaited between BEGIN and COMMIT can throw; explicit throws and returns.
    let exits = node::descendants(scope).filter(|n| {
        matches!(
            n.kind(),
            "await_expression" | "throw_statement" | "return_statement"
        ) && n.start_byte() > tx.statement.end_byte()
            && n.start_byte() < commit_at
            && closures_between(ctx.facts, *n, scope).is_empty()
    });
    for exit in exits {
        let rolled_back = in_try_with(ctx, exit, scope, "handler", &rollbacks)
            || in_try_with(ctx, exit, scope, "finalizer", &rollbacks)
            || ended_before(ctx, &rollbacks, exit);
        // The function manages the client's release only if it releases it somewhere.
        let released = releases.is_empty()
            || in_try_with(ctx, exit, scope, "finalizer", &releases)
            || in_try_with(ctx, exit, scope, "handler", &releases)
            || ended_before(ctx, &releases, exit);
        if rolled_back && released {
            continue;
        }
        let what = match (rolled_back, released) {
            (false, false) => "neither rolled back nor released: the pooled client stays checked out, holding its locks",
            (false, true) => "not rolled back: the client goes back to the pool inside the open transaction",
            _ => "rolled back but `release()` is skipped: the pooled client leaks",
        };
        let fix = format!(
            "wrap the transaction in `try {{ … await {handle}.query(\"COMMIT\") }} catch (e) {{ await {handle}.query(\"ROLLBACK\"); throw e }} finally {{ {handle}.release() }}`"
        );
        ctx.finding(&TransactionNotRolledBack::META, TextRange::of(begin.node))
            .title(format!(
                "if {} throws, the transaction begun on `{handle}` is {what}",
                exit_label(ctx, exit),
            ))
            .trigger("a query after `BEGIN` fails (constraint violation, timeout, lost connection)")
            .expected(
                "`ROLLBACK` in a `catch` and `release()` in `finally` on every path after `BEGIN`",
            )
            .actual(format!(
                "the error leaves the function without ending the transaction on `{handle}`"
            ))
            .evidence(
                TextRange::of(exit),
                "can throw here with the transaction open",
            )
            .fix(Fix::advice(fix))
            .emit(sink);
        return;
    }
}

/// `client.query` for `await client.query(…)`, `the \`throw\`` for a throw.
fn exit_label(ctx: &RuleContext<'_>, exit: Node<'_>) -> String {
    match exit.kind() {
        "await_expression" => {
            let awaited = node::named_children(exit).next();
            let callee = awaited
                .filter(|a| a.kind() == "call_expression")
                .and_then(|c| c.child_by_field_name("function"));
            match callee {
                Some(callee) => format!("`{}`", compact(ctx.node_text(callee))),
                None => "the awaited call".to_string(),
            }
        }
        "throw_statement" => "the `throw`".to_string(),
        _ => "the `return`".to_string(),
    }
}

/// `exit` sits in the body of a `try` (within `scope`) whose `handler`/`finalizer` holds one of `calls`.
fn in_try_with(
    ctx: &RuleContext<'_>,
    exit: Node<'_>,
    scope: Node<'_>,
    part: &str,
    calls: &[Node<'_>],
) -> bool {
    ctx.facts
        .ancestors(exit)
        .take_while(|a| *a != scope)
        .filter(|a| a.kind() == "try_statement")
        .filter(|t| {
            t.child_by_field_name("body")
                .is_some_and(|b| contains(b, exit))
                || part == "finalizer"
        })
        .any(|t| {
            t.child_by_field_name(part)
                .is_some_and(|h| calls.iter().any(|c| contains(h, *c)))
        })
}

fn compact(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
