use dsr_core::kb::ApiKind;
use dsr_core::{declare_rule, Confidence, Finding, Fix, Language, Rule, RuleMeta, TextRange};
use dsr_semantic::facts::Call;
use dsr_semantic::models::{def_use, RemoteCall};
use dsr_semantic::tree_sitter::Node;
use dsr_semantic::RuleContext;
use dsr_syntax::node;
use rustc_hash::FxHashSet;

use crate::shared::call_name;
use dsr_semantic::KbMatch;

declare_rule! {
    /// ## What it finds
    /// The failure of a remote call (HTTP, RPC, database, cache, queue, object store — as the knowledge base
    /// knows them, or a helper of the same file that makes one and returns its error) dropped without a trace.
    /// Go: `_ = call(…)`, `resp, _ := call(…)`, or an `err` assigned from the call and never read before it is
    /// overwritten or the function ends. Rust: `let _ = call(…).await;`, `call(…).await.ok();` as a statement,
    /// `if let Ok(…) = call(…)` without an `else`. TypeScript/JavaScript: an empty `catch {}` around a remote
    /// call, `.catch(() => {})` on its promise, or a remote call whose promise is neither awaited, returned nor
    /// handled.
    ///
    /// ## Why it fails under partial failure
    /// Partial failures are quiet: one replica times out, one write is rejected, one publish is refused by a full
    /// broker. When the error is dropped the caller carries on as if the write happened; the data is missing or
    /// stale and no log line, metric or alert says so. The incident is found days later by a customer, and the
    /// trail that would explain it was never written. A floating promise in Node is worse: its rejection is
    /// unhandled, which by default terminates the process.
    ///
    /// ## Known false positives
    /// Best-effort calls whose failure truly does not matter (a cache warm-up, a metrics push). Suppress them with
    /// the reason, which documents the decision. Closing a response body or a connection (`defer
    /// resp.Body.Close()`, `_ = conn.Close()`) is ignored on purpose and never reported; errors that are logged,
    /// returned, matched or passed to `?` are handled.
    ///
    /// ## Example
    /// ```go
    /// package orders
    ///
    /// import "database/sql"
    ///
    /// func markShipped(db *sql.DB, id string) {
    ///     _, _ = db.Exec("UPDATE orders SET shipped = true WHERE id = $1", id)
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// package orders
    ///
    /// import "database/sql"
    ///
    /// func markShipped(db *sql.DB, id string) error {
    ///     _, err := db.Exec("UPDATE orders SET shipped = true WHERE id = $1", id)
    ///     return err
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Advice only: whether to return the error, retry, or log and continue is the caller's decision.
    ///
    /// ## Configuration
    /// None.
    ///
    /// ## References
    /// - Go Code Review Comments, "Handle errors".
    /// - Node.js documentation, `--unhandled-rejections` (default `throw` since Node 15).
    /// - errcheck (Go) and clippy's `let_underscore_must_use`, `let_underscore_future`.
    pub struct RemoteErrorSwallowed {
        code: "OBS002",
        slug: "remote-error-swallowed",
        family: Observability,
        languages: [Go, Rust, TypeScript],
        severity: Medium,
        impact: Operability,
        kind: Finding,
        fix: Never,
        scope: Function,
        reads: [RemoteCalls, Retries],
    }
}

impl Rule<RuleContext<'_>> for RemoteErrorSwallowed {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        let remote = ctx.remote_calls();
        let mut seen = FxHashSet::default();
        if ctx.language.is_typescript() {
            check_ts_catches(ctx, sink, &mut seen);
        }
        for (index, call) in ctx.facts.calls.iter().enumerate() {
            let Some(reach) = remote.remote(index) else {
                continue;
            };
            if !counts(ctx, call, reach) || is_retried(ctx, index) {
                continue;
            }
            let found = match ctx.language {
                Language::Go => go_swallow(ctx, call),
                Language::Rust => rust_swallow(ctx, call),
                Language::TypeScript | Language::Tsx => ts_floating(ctx, call, reach),
                _ => None,
            };
            let Some((range, how)) = found else { continue };
            if !seen.insert(range.start) {
                continue;
            }
            emit(ctx, call, reach, range, &how, sink);
        }
    }
}

/// What a remote call reaches, for messages.
fn describe(kind: ApiKind) -> &'static str {
    match kind {
        ApiKind::Http => "HTTP request",
        ApiKind::Rpc => "RPC",
        ApiKind::Db => "database call",
        ApiKind::Cache => "cache call",
        ApiKind::Queue => "queue call",
        ApiKind::ObjectStore => "object-store call",
        ApiKind::Lock => "lock call",
        ApiKind::Socket => "connection",
        ApiKind::Local => "call",
    }
}

/// Strict about what is a remote call: library calls the knowledge base marks remote, and same-file helpers only
/// when their signature passes a failure back (Go `error`, Rust `Result`, TS `async`). Closing a body or a
/// connection fails harmlessly and is skipped.
fn counts(ctx: &RuleContext<'_>, call: &Call<'_>, reach: &RemoteCall) -> bool {
    if reach.kind == ApiKind::Local {
        return false;
    }
    let method = call.method.as_deref().unwrap_or("");
    if matches!(
        method,
        "Close"
            | "close"
            | "Shutdown"
            | "shutdown"
            | "Release"
            | "release"
            | "Disconnect"
            | "disconnect"
            | "quit"
            | "Quit"
            | "end"
            | "destroy"
    ) {
        return false;
    }
    let Some(helper) = reach.via else {
        return call.path.is_some() || receiver_is_client(ctx, call);
    };
    let Some(function) = ctx.facts.functions.get(helper) else {
        return false;
    };
    match ctx.language {
        Language::Go => function
            .node
            .child_by_field_name("result")
            .is_some_and(|r| ctx.node_text(r).contains("error")),
        Language::Rust => function
            .node
            .child_by_field_name("return_type")
            .is_some_and(|r| ctx.node_text(r).contains("Result")),
        _ => function.is_async,
    }
}

fn emit(
    ctx: &RuleContext<'_>,
    call: &Call<'_>,
    reach: &RemoteCall,
    range: TextRange,
    how: &str,
    sink: &mut Vec<Finding>,
) {
    let name = call_name(&call.callee_text);
    let what = describe(reach.kind);
    let mut builder = ctx
        .finding(&RemoteErrorSwallowed::META, range)
        .title(format!("failure of `{name}` ({what}) dropped: {how}"))
        .trigger(format!("the {what} fails (timeout, refused connection, rejected write)"))
        .expected("the error returned, retried, or at least logged with enough context to find it")
        .actual(format!("{how}, so the caller carries on as if `{name}` succeeded and nothing records the failure"))
        .evidence(call.range(), "remote call")
        .fix(Fix::advice("handle the error: return it to the caller, retry with backoff, or log it with the request's context; suppress with a reason if the call is truly best-effort"));
    if reach.via.is_some() {
        builder = builder.confidence(Confidence::Medium).evidence(
            TextRange::of(ctx.facts.calls[reach.call].node),
            "the helper's remote call",
        );
    }
    builder.emit(sink);
}

/// The outermost expression of the method chain a call starts (`rdb.Get(ctx, k).Result()`,
/// `client.get(u).send().await`), looking through `.await`.
fn chain_top<'t>(ctx: &RuleContext<'_>, call: Node<'t>) -> Node<'t> {
    let mut current = call;
    for _ in 0..16 {
        let Some(parent) = current.parent() else {
            break;
        };
        match parent.kind() {
            "await_expression" | "parenthesized_expression" => current = parent,
            "selector_expression" | "field_expression" | "member_expression" => {
                let Some(outer) = parent.parent().filter(|p| p.kind() == "call_expression") else {
                    break;
                };
                // `.ok()`, `.catch()`, `.then()` are judged by the caller, not absorbed.
                let method = parent
                    .child_by_field_name("field")
                    .or_else(|| parent.child_by_field_name("property"))
                    .map(|f| ctx.node_text(f))
                    .unwrap_or("");
                if matches!(method, "ok" | "catch" | "then" | "finally") {
                    break;
                }
                current = outer;
            }
            _ => break,
        }
    }
    current
}

/// Transaction methods whose deferred call is a safety net: after a commit it fails with "transaction already
/// done" by design (`sql.ErrTxDone`, pgx's `ErrTxClosed`), so its error says nothing.
const DEFERRED_SAFETY_NETS: &[&str] = &["Rollback"];

fn go_swallow(ctx: &RuleContext<'_>, call: &Call<'_>) -> Option<(TextRange, String)> {
    if call
        .method
        .as_deref()
        .is_some_and(|m| DEFERRED_SAFETY_NETS.contains(&m))
        && node::ancestors(call.node).any(|a| a.kind() == "defer_statement")
    {
        return None;
    }
    let top = chain_top(ctx, call.node);
    let list = top.parent().filter(|p| p.kind() == "expression_list")?;
    let statement = list
        .parent()
        .filter(|s| matches!(s.kind(), "short_var_declaration" | "assignment_statement"))?;
    if statement.child_by_field_name("right")?.id() != list.id()
        || node::named_children(list).count() != 1
    {
        return None;
    }
    let targets: Vec<Node<'_>> =
        node::named_children(statement.child_by_field_name("left")?).collect();
    let last = *targets.last()?;
    let last_name = ctx.node_text(last);
    if targets.iter().all(|t| ctx.node_text(*t) == "_") {
        return Some((
            TextRange::of(statement),
            "its error is discarded with `_ =`".to_string(),
        ));
    }
    if last_name == "_" {
        return Some((
            TextRange::of(statement),
            "its error is discarded with `_`".to_string(),
        ));
    }
    let is_error_name =
        last_name == "err" || last_name.ends_with("Err") || last_name.ends_with("err");
    if last.kind() != "identifier" || !is_error_name {
        return None;
    }
    if go_error_read(ctx, call, statement, last_name) {
        return None;
    }
    Some((
        TextRange::of(last),
        format!("`{last_name}` is assigned and never read"),
    ))
}

/// Whether the error variable assigned by `statement` is read on some path before it is assigned again: the
/// shared def-use, so an `err` set in each branch of an `if`/`switch` and checked after them is read.
fn go_error_read(ctx: &RuleContext<'_>, call: &Call<'_>, statement: Node<'_>, name: &str) -> bool {
    let Some(function) = call.function.map(|f| ctx.facts.outermost_function(f)) else {
        return true;
    };
    let f = &ctx.facts.functions[function];
    // A named result is read by every bare `return`.
    if f.node.child_by_field_name("result").is_some_and(|r| {
        node::descendants(r).any(|n| n.kind() == "identifier" && ctx.node_text(n) == name)
    }) {
        return true;
    }
    def_use::read_later(statement, name, f.node, ctx.source, ctx.language)
}

fn rust_swallow(ctx: &RuleContext<'_>, call: &Call<'_>) -> Option<(TextRange, String)> {
    let top = chain_top(ctx, call.node);
    let parent = top.parent()?;
    match parent.kind() {
        "let_declaration" => {
            let pattern = parent.child_by_field_name("pattern")?;
            (ctx.node_text(pattern) == "_" && parent.child_by_field_name("value")?.id() == top.id())
                .then(|| {
                    (
                        TextRange::of(parent),
                        "its `Result` is discarded with `let _ =`".to_string(),
                    )
                })
        }
        "field_expression" => {
            let method = ctx.node_text(parent.child_by_field_name("field")?);
            let ok_call = parent.parent().filter(|c| c.kind() == "call_expression")?;
            (method == "ok"
                && ok_call
                    .parent()
                    .is_some_and(|s| s.kind() == "expression_statement"))
            .then(|| {
                (
                    TextRange::of(ok_call),
                    "its `Result` is turned into an `Option` with `.ok()` and dropped".to_string(),
                )
            })
        }
        "let_condition" => {
            let pattern = parent.child_by_field_name("pattern")?;
            if !ctx.node_text(pattern).starts_with("Ok(") {
                return None;
            }
            let if_expression = parent.parent().filter(|i| i.kind() == "if_expression")?;
            if if_expression.child_by_field_name("alternative").is_some() {
                return None;
            }
            Some((
                TextRange::of(parent),
                "`if let Ok(…)` has no `else`, so the `Err` is ignored".to_string(),
            ))
        }
        _ => None,
    }
}

/// A remote call whose promise is the whole statement: neither awaited, returned, nor given a handler.
fn ts_floating(
    ctx: &RuleContext<'_>,
    call: &Call<'_>,
    reach: &RemoteCall,
) -> Option<(TextRange, String)> {
    call.node
        .parent()
        .filter(|p| p.kind() == "expression_statement")?;
    // A helper that catches its own remote call's failure returns a promise that does not reject.
    if let Some(helper) = reach.via {
        let helper_range = ctx.facts.functions.get(helper)?.range();
        let inner = ctx.facts.calls.get(reach.call)?.node;
        let caught = node::ancestors(inner)
            .take_while(|a| helper_range.contains_range(TextRange::of(*a)))
            .any(|a| a.kind() == "try_statement");
        if caught {
            return None;
        }
    }
    let path = call.path.as_deref().unwrap_or("");
    // Node's http/https/net APIs return emitters, not promises; a callback argument handles the result.
    if ["http.", "https.", "net.", "dgram.", "tls."]
        .iter()
        .any(|m| path.starts_with(m))
        || call.args.iter().any(|a| {
            matches!(
                a.kind(),
                "arrow_function" | "function_expression" | "function"
            )
        })
    {
        return None;
    }
    Some((
        call.range(),
        "its promise is neither awaited, returned nor handled".to_string(),
    ))
}

/// `try { await remote() } catch {}` and `remote().catch(() => {})`.
fn check_ts_catches(ctx: &RuleContext<'_>, sink: &mut Vec<Finding>, seen: &mut FxHashSet<usize>) {
    let remote = ctx.remote_calls();
    let Some(tree) = ctx.tree else { return };
    for n in node::descendants(tree.root_node()) {
        match n.kind() {
            "try_statement" => {
                let (Some(body), Some(handler)) = (
                    n.child_by_field_name("body"),
                    n.child_by_field_name("handler"),
                ) else {
                    continue;
                };
                let Some(catch_body) = handler.child_by_field_name("body") else {
                    continue;
                };
                if !is_empty_block(catch_body) {
                    continue;
                }
                let function = ctx.facts.function_at(n.start_byte());
                let body_range = TextRange::of(body);
                let found = ctx.facts.calls.iter().enumerate().find(|(i, c)| {
                    body_range.contains_range(c.range())
                        && ctx.facts.function_at(c.node.start_byte()) == function
                        && remote.remote(*i).is_some_and(|r| counts(ctx, c, r))
                });
                let Some((index, call)) = found else { continue };
                if is_retried(ctx, index) {
                    continue;
                }
                let Some(reach) = remote.remote(index) else {
                    continue;
                };
                let range = TextRange::new(handler.start_byte(), catch_body.start_byte() + 1);
                if seen.insert(range.start) {
                    emit(
                        ctx,
                        call,
                        reach,
                        TextRange::of(handler),
                        "the `catch` block around it is empty",
                        sink,
                    );
                }
            }
            "call_expression" => {
                let Some(call) = call_at(ctx, n) else {
                    continue;
                };
                if call.method.as_deref() != Some("catch") {
                    continue;
                }
                let Some(handler) = call.args.first() else {
                    continue;
                };
                if !is_empty_handler(ctx, *handler) {
                    continue;
                }
                // The remote call somewhere down the receiver chain.
                let mut receiver = call.receiver;
                let mut found = None;
                for _ in 0..16 {
                    let Some(r) = receiver else { break };
                    let r = if r.kind() == "await_expression"
                        || r.kind() == "parenthesized_expression"
                    {
                        r.named_child(0).unwrap_or(r)
                    } else {
                        r
                    };
                    let Some(index) = ctx.remote_calls().call_index(r) else {
                        break;
                    };
                    let c = &ctx.facts.calls[index];
                    if let Some(reach) = remote.remote(index).filter(|reach| counts(ctx, c, reach))
                    {
                        found = Some((c, reach));
                        break;
                    }
                    receiver = c.receiver;
                }
                let Some((remote_call, reach)) = found else {
                    continue;
                };
                if failure_value_is_read(ctx, n, *handler) {
                    continue;
                }
                if seen.insert(handler.start_byte()) {
                    emit(
                        ctx,
                        remote_call,
                        reach,
                        TextRange::of(*handler),
                        "its rejection is caught by an empty `.catch(() => {})`",
                        sink,
                    );
                }
            }
            _ => {}
        }
    }
}

/// `const row = await call().catch(() => null)` with `row` read later (`if (!row) throw …`): the handler turns
/// the failure into a value the code goes on to look at, so the failure is not dropped.
fn failure_value_is_read(ctx: &RuleContext<'_>, catch_call: Node<'_>, handler: Node<'_>) -> bool {
    let returns_value = handler
        .child_by_field_name("body")
        .is_some_and(|b| b.kind() != "statement_block");
    if !returns_value {
        return false;
    }
    let mut value = catch_call;
    while let Some(parent) = value
        .parent()
        .filter(|p| matches!(p.kind(), "await_expression" | "parenthesized_expression"))
    {
        value = parent;
    }
    let Some(declarator) = value
        .parent()
        .filter(|p| p.kind() == "variable_declarator")
        .filter(|d| d.child_by_field_name("value") == Some(value))
    else {
        return false;
    };
    let Some(name) = declarator
        .child_by_field_name("name")
        .filter(|n| n.kind() == "identifier")
    else {
        return false;
    };
    let Some(statement) = declarator.parent() else {
        return false;
    };
    let Some(function) = node::ancestors(statement)
        .find(|a| node::function_kinds(ctx.language).contains(&a.kind()))
        .or_else(|| ctx.tree.map(|t| t.root_node()))
    else {
        return false;
    };
    def_use::read_later(
        statement,
        ctx.node_text(name),
        function,
        ctx.source,
        ctx.language,
    )
}

fn is_empty_block(block: Node<'_>) -> bool {
    node::named_children(block).all(|c| c.kind() == "comment")
}

/// `() => {}`, `() => undefined`, `() => null`, `function () {}`.
fn is_empty_handler(ctx: &RuleContext<'_>, handler: Node<'_>) -> bool {
    if !matches!(
        handler.kind(),
        "arrow_function" | "function_expression" | "function"
    ) {
        return false;
    }
    let Some(body) = handler.child_by_field_name("body") else {
        return false;
    };
    match body.kind() {
        "statement_block" => is_empty_block(body),
        _ => matches!(
            ctx.node_text(body).trim(),
            "undefined" | "null" | "void 0" | "{}"
        ),
    }
}

/// Names of locals and fields that hold a client of a remote system (`s.db`, `this.redis`, `rdb`, `pool`).
const CLIENT_NAMES: &[&str] = &[
    "redis",
    "rdb",
    "db",
    "pool",
    "client",
    "conn",
    "sql",
    "pg",
    "knex",
    "prisma",
    "tx",
    "producer",
    "publisher",
    "kafka",
    "nats",
    "amqp",
    "s3",
    "bucket",
    "session",
    "http",
];

/// A method the knowledge base knows by name only (`set`, `get`, `Exec`) counts when its receiver is a client of
/// that library: built by the library in this file, a parameter typed with it, or a local/field named like a
/// client. A `Map`'s `set`, an ioredis pipeline's queued `del` or an express app's `set` are not remote.
fn receiver_is_client(ctx: &RuleContext<'_>, call: &Call<'_>) -> bool {
    let module = ctx
        .kb
        .call(ctx.facts, call)
        .and_then(|api| api.module.clone());
    match call.receiver {
        Some(receiver) => is_client(ctx, receiver, module.as_deref(), call.function, 0),
        None => false,
    }
}

fn is_client(
    ctx: &RuleContext<'_>,
    expr: Node<'_>,
    module: Option<&str>,
    function: Option<usize>,
    depth: usize,
) -> bool {
    if depth > 6 {
        return false;
    }
    let in_module = |path: &str| module.is_some_and(|m| path.starts_with(m));
    match expr.kind() {
        "await_expression"
        | "try_expression"
        | "parenthesized_expression"
        | "non_null_expression"
        | "reference_expression" => expr
            .named_child(0)
            .is_some_and(|inner| is_client(ctx, inner, module, function, depth + 1)),
        "call_expression" | "new_expression" => {
            let Some(link) = call_at(ctx, expr) else {
                return false;
            };
            // Pipelines and transactions queue commands; the error surfaces at `exec`.
            if matches!(
                link.method.as_deref(),
                Some("pipeline" | "multi" | "batch" | "Pipeline" | "TxPipeline")
            ) {
                return false;
            }
            if let Some(path) = link.path.as_deref() {
                return in_module(path);
            }
            link.receiver
                .is_some_and(|r| is_client(ctx, r, module, function, depth + 1))
        }
        "identifier" => {
            let name = ctx.node_text(expr);
            let mut current = function;
            while let Some(index) = current {
                let f = &ctx.facts.functions[index];
                if let Some(param) = f.params.iter().find(|p| p.name == name) {
                    return param.type_path.as_deref().is_some_and(in_module)
                        || is_client_name(name);
                }
                current = f.parent;
            }
            match ctx.facts.declared_value(function, name, expr.start_byte()) {
                Some(value) => is_client(ctx, value, module, function, depth + 1),
                None => is_client_name(name),
            }
        }
        "selector_expression" | "field_expression" | "member_expression" => {
            let field = expr
                .child_by_field_name("field")
                .or_else(|| expr.child_by_field_name("property"));
            field.is_some_and(|f| is_client_name(ctx.node_text(f)))
        }
        _ => false,
    }
}

fn is_client_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    CLIENT_NAMES.iter().any(|n| lower.contains(n))
}

/// The call whose node is `n`, through the shared by-node index of the remote-effects model.
fn call_at<'c, 't>(ctx: &'c RuleContext<'t>, n: Node<'_>) -> Option<&'c Call<'t>> {
    let index = ctx.remote_calls().call_index(n)?;
    ctx.facts.calls.get(index)
}

/// A failure that sends a retry loop round again is handled by the retry (RES004–RES006 judge the loop).
fn is_retried(ctx: &RuleContext<'_>, call: usize) -> bool {
    ctx.retries()
        .loops
        .iter()
        .any(|l| l.retried.contains(&call))
}
