use dsr_core::kb::{ApiKind, CallKinds, PathGroupKind};
use dsr_core::{declare_rule, Confidence, Finding, Fix, Language, Rule, RuleMeta, TextRange};
use dsr_semantic::facts::Call;
use dsr_semantic::models::error_fate::{self, Discard, Dropped, ErrorFate, Question};
use dsr_semantic::models::RemoteCall;
use dsr_semantic::tree_sitter::Node;
use dsr_semantic::RuleContext;
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
    /// returned, matched or passed to `?` are handled. A failure discarded right before the function leaves with
    /// another error (`let _ = record_error(…).await; return Err(e);`) is bookkeeping of that error and is not
    /// reported, nor a script's entry call at the top of a module (`main();`), whose rejection ends Node.
    /// A TypeScript request whose failure is caught silently and that is raced against a timer
    /// (`Promise.race([fetch(…).catch(() => null), new Promise((r) => setTimeout(r, 150))])`) is not waited for
    /// on purpose (a fire-and-forget hand-off): an open question, does anything notice when it fails (a sweep
    /// of pending work, the receiver)?
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
        let mut retried = None;
        for (index, call) in ctx.facts.calls.iter().enumerate() {
            let Some(reach) = remote.remote(index) else {
                continue;
            };
            if !counts(ctx, call, reach)
                || retried
                    .get_or_insert_with(|| retried_calls(ctx))
                    .contains(&index)
            {
                continue;
            }
            let Some(dropped) = swallowed(ctx, call, reach) else {
                continue;
            };
            if !seen.insert(dropped.range.start) {
                continue;
            }
            emit(ctx, call, reach, dropped, sink);
        }
    }
}

/// Where and how a call's failure is dropped.
struct Swallowed {
    range: TextRange,
    how: String,
    /// The `Promise.race` with a timer the caught promise is an element of: not waited for on purpose.
    raced: Option<TextRange>,
}

/// Where and how the shared error-fate model says the call's failure is dropped without a trace, if it is.
fn swallowed(ctx: &RuleContext<'_>, call: &Call<'_>, reach: &RemoteCall) -> Option<Swallowed> {
    let scope = call
        .function
        .map(|f| ctx.facts.functions[ctx.facts.outermost_function(f)].node)
        .or_else(|| ctx.facts.nodes().first().copied())
        .unwrap_or(call.node);
    let question = Question {
        value: error_fate::result_value(ctx.facts, call.node, ctx.source),
        scope,
        hands_back: error_fate::hands_nothing_back,
        returns_promise: ctx.language.is_typescript() && returns_promise(ctx, call, reach),
    };
    let (at, how) = match error_fate::fate_of(ctx.facts, call, question, ctx.source) {
        ErrorFate::Discarded(Discard {
            at,
            how,
            through: None,
        }) => (at, how),
        // `if let Ok(v) = call()` with no `else`.
        ErrorFate::Branch {
            check,
            failure: None,
            through: None,
            ..
        } if ctx.language == Language::Rust => {
            let condition = check.child_by_field_name("condition")?;
            return Some(Swallowed {
                range: TextRange::of(condition),
                how: "`if let Ok(…)` has no `else`, so the `Err` is ignored".to_string(),
                raced: None,
            });
        }
        // `try { await call() } catch {}`.
        ErrorFate::Branch {
            failure: Some(handler),
            empty: true,
            ..
        } if ctx.language.is_typescript() => {
            return Some(Swallowed {
                range: TextRange::of(handler),
                how: "the `catch` block around it is empty".to_string(),
                raced: None,
            })
        }
        _ => return None,
    };
    // A failure discarded right before the function leaves with another error (`let _ = record(e); return
    // Err(e)`) is best-effort bookkeeping of that error, which the caller learns of anyway.
    if matches!(how, Dropped::Blank { .. } | Dropped::LetBlank { .. })
        && error_fate::on_failure_path(ctx.facts, at, ctx.source)
    {
        return None;
    }
    let raced = match how {
        Dropped::Caught { raced, .. } => raced.map(TextRange::of),
        _ => None,
    };
    let (range, how) = match how {
        Dropped::Blank { every_value: true } => Some((
            TextRange::of(at),
            "its error is discarded with `_ =`".to_string(),
        )),
        Dropped::Blank { every_value: false } => Some((
            TextRange::of(at),
            "its error is discarded with `_`".to_string(),
        )),
        Dropped::NeverRead {
            variable,
            named_as_error: true,
        } if ctx.language == Language::Go => Some((
            TextRange::of(variable),
            format!("`{}` is assigned and never read", ctx.node_text(variable)),
        )),
        Dropped::LetBlank { named: false } => Some((
            TextRange::of(at),
            "its `Result` is discarded with `let _ =`".to_string(),
        )),
        Dropped::Converted {
            method,
            as_statement: true,
        } if ctx.node_text(method) == "ok" => Some((
            TextRange::of(at),
            "its `Result` is turned into an `Option` with `.ok()` and dropped".to_string(),
        )),
        Dropped::Caught {
            handler: Some(handler),
            silent: true,
            ..
        } => Some((TextRange::of(handler), caught_by(ctx, handler))),
        // A script's entry call at the top of the module (`main();`): an unhandled rejection ends the Node
        // process with the error (the default since Node 15), so the failure is not swallowed.
        Dropped::Floating
            if reach.via.is_some()
                && ctx
                    .facts
                    .parent(call.node)
                    .and_then(|statement| ctx.facts.parent(statement))
                    .is_some_and(|p| p.kind() == "program") =>
        {
            None
        }
        Dropped::Floating => Some((
            call.range(),
            "its promise is neither awaited, returned nor handled".to_string(),
        )),
        _ => None,
    }?;
    Some(Swallowed { range, how, raced })
}

/// Whether a TypeScript remote call gives a promise that can reject: Node's `http`/`https`/`net` APIs return
/// emitters (kb group `event-emitter`), a callback argument takes the result, and a helper that catches its own
/// remote call's failure returns a promise that does not reject.
fn returns_promise(ctx: &RuleContext<'_>, call: &Call<'_>, reach: &RemoteCall) -> bool {
    // The helper's promise rejects only when its remote call's failure propagates out of it.
    if let Some(helper) = reach.via {
        let (Some(function), Some(inner)) = (
            ctx.facts.functions.get(helper),
            ctx.facts.calls.get(reach.call),
        ) else {
            return false;
        };
        let question = Question {
            value: inner.node,
            scope: function.node,
            hands_back: error_fate::hands_nothing_back,
            returns_promise: false,
        };
        if error_fate::fate_of(ctx.facts, inner, question, ctx.source) != ErrorFate::Propagated {
            return false;
        }
    }
    let emitter = call.path.as_deref().is_some_and(|path| {
        ctx.kb
            .is_in_group(ctx.language, path, PathGroupKind::EventEmitter)
    });
    !emitter
        && !call.args.iter().any(|a| {
            matches!(
                a.kind(),
                "arrow_function" | "function_expression" | "function"
            )
        })
}

/// How a silent `.catch` handler drops the failure, quoting it when short: an empty body (`() => {}`), or a value
/// nobody reads (`() => null`).
fn caught_by(ctx: &RuleContext<'_>, handler: Node<'_>) -> String {
    let text = ctx.node_text(handler);
    let quoted = if text.len() <= 24 && !text.contains('\n') {
        text
    } else {
        "…"
    };
    let empty_body = handler
        .child_by_field_name("body")
        .is_some_and(|body| body.kind() == "statement_block");
    if empty_body {
        format!("its rejection is caught by an empty `.catch({quoted})`")
    } else {
        format!("its rejection is caught by `.catch({quoted})`, which turns it into a value nobody reads")
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
    if CallKinds::builtin()
        .clients
        .closing_methods
        .iter()
        .any(|m| m == method)
    {
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
    dropped: Swallowed,
    sink: &mut Vec<Finding>,
) {
    let Swallowed { range, how, raced } = dropped;
    let name = call_name(&call.callee_text);
    let what = describe(reach.kind);
    if let Some(race) = raced {
        // Raced against a timer: the caller goes on after a moment whatever happens, so not reporting the
        // failure is the design. Whether anything notices it (a sweep that resubmits pending work, the receiver's
        // own log) is elsewhere: a question, not a finding (docs/precision.md, issue 13, fourth pass).
        ctx.finding(&RemoteErrorSwallowed::META, range)
            .open_question()
            .confidence(Confidence::Medium)
            .title(format!("`{name}` ({what}) is raced against a timer and not waited for, and its failure is dropped ({how}): does anything notice when it fails?"))
            .trigger(format!("the {what} fails (timeout, refused connection, rejected write)"))
            .expected("a failure of work started and not waited for is noticed somewhere: logged here, retried by a sweep of pending work, or reported by the receiver")
            .actual(format!("{how}, and the caller stopped waiting after the timer: if nothing else watches the work, it is lost without a trace"))
            .evidence(call.range(), "remote call")
            .evidence(race, "raced against a timer here")
            .fix(Fix::advice("log the failure in the `.catch` (the caller still need not wait), or make sure a sweep retries work whose submission failed"))
            .emit(sink);
        return;
    }
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
            let queues = link.method.as_deref().is_some_and(|m| {
                CallKinds::builtin()
                    .clients
                    .queueing_methods
                    .iter()
                    .any(|q| q == m)
            });
            if queues {
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
    CallKinds::builtin()
        .clients
        .names
        .iter()
        .any(|n| lower.contains(n.as_str()))
}

/// The call whose node is `n`, through the shared by-node index of the remote-effects model.
fn call_at<'c, 't>(ctx: &'c RuleContext<'t>, n: Node<'_>) -> Option<&'c Call<'t>> {
    let index = ctx.remote_calls().call_index(n)?;
    ctx.facts.calls.get(index)
}

/// The calls a retry loop sends round again on failure: handled by the retry (RES004–RES006 judge the loop).
/// Collected once per file (a scan of every loop per remote call grew with the square of the file).
fn retried_calls(ctx: &RuleContext<'_>) -> FxHashSet<usize> {
    ctx.retries()
        .loops
        .iter()
        .flat_map(|l| l.retried.iter().copied())
        .collect()
}
