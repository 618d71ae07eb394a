//! The transaction model: where a transaction begins, what it is driven through (a handle such as Go's `tx`, a
//! client that was sent `BEGIN`, or a closure the library runs inside it), where it commits, rolls back or gives
//! its connection back, whether a rollback is deferred, and whether it cleans up by itself (sqlx's and sea-orm's
//! handles roll back when dropped; diesel's and knex's closures roll back when they fail).

use dsr_syntax::{node, Language};
use tree_sitter::Node;

use super::syntax::{calls_within, parameter_patterns, pattern_names, string_value};
use super::writes::{call_at, root_name, sql_statement, sql_text, SqlKind};
use crate::facts::{Call, FileFacts};
use crate::kb::KbMatch;
use crate::models::control_flow::contains;
use dsr_core::kb::{ApiKind, ApiRole, KnowledgeBase};

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TxStyle {
    /// `tx, err := db.BeginTx(…)`, `let mut tx = pool.begin().await?`, `const trx = await knex.transaction()`,
    /// mysql2's `conn.beginTransaction()` (the connection is the handle).
    Handle,
    /// `BEGIN` sent as SQL text on a client: pg's `client.query("BEGIN")`, `sqlx::query("BEGIN").execute(&mut *c)`.
    SqlText,
    /// A closure (or a list of operations) the library runs in a transaction it ends itself: diesel
    /// `conn.transaction(|conn| …)`, knex `knex.transaction(async trx => …)`, prisma `$transaction(…)`.
    Scoped,
}

#[derive(Clone, Debug)]
pub struct Transaction<'t> {
    /// The function the transaction begins in (index into `FileFacts::functions`).
    pub function: Option<usize>,
    /// The begin call (index into `FileFacts::calls`).
    pub begin: usize,
    pub style: TxStyle,
    /// The name the transaction is driven through: the handle, the client sent `BEGIN`, or the closure's first
    /// parameter.
    pub handle: Option<String>,
    /// The statement holding the begin call (the `tx, err := …` line).
    pub statement: Node<'t>,
    /// Scoped transactions: the closure or list run inside.
    pub body: Option<Node<'t>>,
    /// The handle rolls back when dropped, or the closure form ends the transaction itself.
    pub rolls_back_itself: bool,
    /// How a rollback of the handle is spelled (`Rollback()`, `Rollback(ctx)`), from the knowledge base.
    pub rollback_spelling: Option<String>,
    /// Commit, rollback and release calls on the handle (indexes into `FileFacts::calls`), in source order.
    pub commits: Vec<usize>,
    pub rollbacks: Vec<usize>,
    pub releases: Vec<usize>,
    /// A `defer` whose call (or deferred closure) rolls the handle back.
    pub deferred_rollback: Option<Node<'t>>,
    /// The handle leaves the function: returned, stored in a field, sent, or handed to a goroutine.
    pub escapes: bool,
}

impl<'t> Transaction<'t> {
    /// Whether a call runs inside this transaction: in its closure, or on its handle (as the receiver or as the
    /// executor argument, `execute(&mut *tx)`) after it began — for `BEGIN` text, before the `COMMIT`.
    pub fn covers(&self, facts: &FileFacts<'t>, call: &Call<'t>, source: &str) -> bool {
        if let Some(body) = self.body {
            return contains(body, call.node);
        }
        let begin = &facts.calls[self.begin];
        let Some(handle) = self.handle.as_deref() else {
            return false;
        };
        if call.node.start_byte() < begin.node.end_byte() || call.function != begin.function {
            return false;
        }
        if self.style == TxStyle::SqlText {
            let ended = self
                .commits
                .iter()
                .chain(&self.rollbacks)
                .map(|c| facts.calls[*c].node.start_byte())
                .filter(|end| *end > begin.node.start_byte())
                .min();
            if ended.is_some_and(|end| call.node.start_byte() > end) {
                return false;
            }
        }
        executor_names(call, source).iter().any(|n| n == handle)
    }
}

/// The names a database call runs on: its receiver's root and its arguments' roots (sqlx passes the executor as
/// an argument).
fn executor_names(call: &Call<'_>, source: &str) -> Vec<String> {
    call.receiver
        .iter()
        .chain(call.args.iter())
        .filter_map(|n| root_name(*n, source))
        .collect()
}

/// Every transaction begun in the file.
pub fn transactions<'t>(
    facts: &FileFacts<'t>,
    kb: &KnowledgeBase,
    source: &str,
) -> Vec<Transaction<'t>> {
    let mut found = Vec::new();
    for (index, call) in facts.calls.iter().enumerate() {
        if let Some(api) = kb.role_of(facts, call, &[ApiRole::TxBegin]) {
            let statement = statement_of(facts, call.node);
            let closure = call.args.iter().copied().find(|a| {
                node::function_kinds(facts.language).contains(&a.kind()) || a.kind() == "array"
            });
            let mut tx = Transaction {
                function: call.function,
                begin: index,
                style: TxStyle::Handle,
                handle: None,
                statement,
                body: None,
                rolls_back_itself: api.rolls_back_itself,
                rollback_spelling: api.rollback.as_ref().map(|r| {
                    let first = call
                        .args
                        .first()
                        .map(|a| node::text(*a, source))
                        .unwrap_or("");
                    r.replace("{0}", first)
                }),
                commits: Vec::new(),
                rollbacks: Vec::new(),
                releases: Vec::new(),
                deferred_rollback: None,
                escapes: false,
            };
            if let Some(closure) = closure {
                tx.style = TxStyle::Scoped;
                tx.rolls_back_itself = true;
                tx.body = Some(closure);
                tx.handle = parameter_patterns(closure)
                    .first()
                    .and_then(|p| pattern_names(*p, source).into_iter().next());
            } else {
                tx.handle = bound_name(facts, call.node, source)
                    .or_else(|| call.receiver.and_then(|r| root_name(r, source)));
                collect_ends(facts, kb, &mut tx, source);
            }
            found.push(tx);
            continue;
        }
        // `BEGIN` as SQL text, on the outermost call of its chain.
        if !kb.call(facts, call).is_some_and(|a| a.kind == ApiKind::Db)
            || is_receiver_of_call(facts, call.node)
        {
            continue;
        }
        let Some(sql) = sql_text(facts, kb, call, source) else {
            continue;
        };
        if sql_statement(&sql).kind != SqlKind::Begin {
            continue;
        }
        let mut tx = Transaction {
            function: call.function,
            begin: index,
            style: TxStyle::SqlText,
            handle: sql_executor(facts, kb, call, source),
            statement: statement_of(facts, call.node),
            body: None,
            rolls_back_itself: false,
            rollback_spelling: None,
            commits: Vec::new(),
            rollbacks: Vec::new(),
            releases: Vec::new(),
            deferred_rollback: None,
            escapes: false,
        };
        collect_ends(facts, kb, &mut tx, source);
        found.push(tx);
    }
    found
}

/// The client a `BEGIN` text runs on: the receiver when the SQL is the call's own argument
/// (`client.query("BEGIN")`), the executor argument when it comes down the chain
/// (`sqlx::query("BEGIN").execute(&mut *conn)`).
fn sql_executor(
    facts: &FileFacts<'_>,
    kb: &KnowledgeBase,
    call: &Call<'_>,
    source: &str,
) -> Option<String> {
    let own = call
        .args
        .first()
        .is_some_and(|a| string_value(facts, *a).is_some());
    let in_chain = call
        .receiver
        .and_then(|r| call_at(facts, r))
        .is_some_and(|i| sql_text(facts, kb, &facts.calls[i], source).is_some());
    if in_chain && !own {
        call.args.first().and_then(|a| root_name(*a, source))
    } else {
        call.receiver.and_then(|r| root_name(r, source))
    }
}

fn is_receiver_of_call(facts: &FileFacts<'_>, n: Node<'_>) -> bool {
    facts.parent(n).is_some_and(|p| {
        matches!(
            p.kind(),
            "field_expression" | "member_expression" | "selector_expression"
        ) && facts
            .parent(p)
            .is_some_and(|c| c.kind() == "call_expression")
    })
}

/// The statement a call is part of.
fn statement_of<'t>(facts: &FileFacts<'t>, call: Node<'t>) -> Node<'t> {
    let statement_kinds: &[&str] = match facts.language {
        Language::Go => &[
            "short_var_declaration",
            "assignment_statement",
            "expression_statement",
            "var_declaration",
            "return_statement",
            "if_statement",
        ],
        Language::Rust => &["let_declaration", "expression_statement"],
        _ => &[
            "lexical_declaration",
            "variable_declaration",
            "expression_statement",
            "return_statement",
        ],
    };
    facts
        .ancestors(call)
        .find(|a| statement_kinds.contains(&a.kind()))
        .unwrap_or(call)
}

/// The name a call's result is bound to: `tx` in `tx, err := db.Begin()`, `let mut tx = pool.begin().await?`,
/// `const trx = await knex.transaction()`.
fn bound_name(facts: &FileFacts<'_>, call: Node<'_>, source: &str) -> Option<String> {
    let mut n = call;
    loop {
        let parent = facts.parent(n)?;
        match parent.kind() {
            "await_expression"
            | "try_expression"
            | "parenthesized_expression"
            | "expression_list" => n = parent,
            "short_var_declaration" | "assignment_statement" => {
                let left = parent.child_by_field_name("left")?;
                let first = node::named_children(left).next()?;
                return Some(node::text(first, source).to_string());
            }
            "let_declaration" | "variable_declarator" => {
                let pattern = parent
                    .child_by_field_name("pattern")
                    .or_else(|| parent.child_by_field_name("name"))?;
                return pattern_names(pattern, source).into_iter().next();
            }
            _ => return None,
        }
    }
}

fn collect_ends<'t>(
    facts: &FileFacts<'t>,
    kb: &KnowledgeBase,
    tx: &mut Transaction<'t>,
    source: &str,
) {
    let Some(handle) = tx.handle.clone() else {
        return;
    };
    let begin = facts.calls[tx.begin].node;
    let scope = tx
        .function
        .map(|f| facts.functions[f].node)
        .or_else(|| facts.parent(begin));
    let Some(scope) = scope else { return };
    let after_begin = dsr_syntax::TextRange::new(begin.end_byte(), scope.end_byte());
    for index in calls_within(facts, after_begin) {
        let call = &facts.calls[index];
        let on_handle =
            call.receiver.and_then(|r| root_name(r, source)).as_deref() == Some(handle.as_str());
        let role = match tx.style {
            TxStyle::SqlText => {
                if is_receiver_of_call(facts, call.node)
                    || !executor_names(call, source).contains(&handle)
                {
                    None
                } else if let Some(sql) = sql_text(facts, kb, call, source) {
                    match sql_statement(&sql).kind {
                        SqlKind::Commit => Some(ApiRole::TxCommit),
                        SqlKind::Rollback => Some(ApiRole::TxRollback),
                        _ => None,
                    }
                } else if on_handle {
                    kb.role_of(facts, call, &[ApiRole::Release])
                        .map(|_| ApiRole::Release)
                } else {
                    None
                }
            }
            _ if on_handle => kb
                .role_of(
                    facts,
                    call,
                    &[ApiRole::TxCommit, ApiRole::TxRollback, ApiRole::Release],
                )
                .and_then(|api| api.role),
            _ => None,
        };
        match role {
            Some(ApiRole::TxCommit) => tx.commits.push(index),
            Some(ApiRole::TxRollback) => {
                tx.rollbacks.push(index);
                if tx.deferred_rollback.is_none() {
                    tx.deferred_rollback =
                        crate::models::control_flow::deferred_by(facts, call.node, scope);
                }
            }
            Some(ApiRole::Release) => tx.releases.push(index),
            _ => {}
        }
    }
    if facts.language == Language::Go {
        tx.escapes = go_escapes(scope, begin, &handle, source);
    }
}

/// The handle is returned, stored in a field or map, sent on a channel, or handed to a goroutine: someone else
/// ends it.
fn go_escapes(scope: Node<'_>, begin: Node<'_>, handle: &str, source: &str) -> bool {
    let is_handle = |n: Node<'_>| n.kind() == "identifier" && node::text(n, source) == handle;
    // A handle the function does not declare belongs to an enclosing one (a closure assigning a captured
    // `tx, err = db.BeginTx(…)` inside a retry helper): the enclosing function ends it.
    let declares_handle = |n: Node<'_>| match n.kind() {
        "short_var_declaration" | "range_clause" => n
            .child_by_field_name("left")
            .is_some_and(|l| node::named_children(l).any(is_handle)),
        "var_spec" | "parameter_declaration" => node::named_children(n).any(is_handle),
        _ => false,
    };
    if !node::descendants(scope).any(declares_handle) {
        return true;
    }
    node::descendants(scope)
        .filter(|n| n.start_byte() > begin.end_byte())
        .any(|n| match n.kind() {
            "return_statement" => node::named_children(n)
                .flat_map(|list| {
                    if list.kind() == "expression_list" {
                        node::named_children(list).collect::<Vec<_>>()
                    } else {
                        vec![list]
                    }
                })
                .any(|value| {
                    is_handle(value)
                        || (value.kind() != "call_expression"
                            && node::descendants(value).any(is_handle))
                }),
            "assignment_statement" => {
                let stores = n
                    .child_by_field_name("left")
                    .is_some_and(|l| node::named_children(l).any(|t| t.kind() != "identifier"));
                stores
                    && n.child_by_field_name("right")
                        .is_some_and(|r| node::named_children(r).any(is_handle))
            }
            "send_statement" => n.child_by_field_name("value").is_some_and(is_handle),
            "go_statement" => node::descendants(n).any(is_handle),
            _ => false,
        })
}
