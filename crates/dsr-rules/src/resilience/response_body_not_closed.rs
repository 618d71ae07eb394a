use dsr_core::kb::{ApiKind, ClientShape, HttpClient};
use dsr_core::{
    declare_rule, Applicability, Edit, Finding, Fix, Language, Rule, RuleMeta, TextRange,
};
use dsr_semantic::facts::Call;
use dsr_semantic::tree_sitter::Node;
use dsr_semantic::{Question, RuleContext};
use dsr_syntax::node;

use std::cell::OnceCell;
use std::collections::HashSet;

use crate::shared::{compact_text, indentation_at};
use dsr_semantic::KbMatch;

declare_rule! {
    /// ## What it finds
    /// A Go HTTP response whose body is never closed. The response comes from `resp, err := client.Do(req)`
    /// (or `http.Get`/`Head`/`Post`/`PostForm`, `http.DefaultClient.…`, those methods on an `*http.Client` the
    /// file declares) and,
    /// in that function, `resp.Body.Close()` is never called on the success path — neither deferred nor as a
    /// plain statement outside an early-return branch — and `resp` is neither returned nor passed on (to a
    /// function, a struct, a channel, another variable). Also a response discarded outright (`_, err :=
    /// http.Get(url)`, `http.Get(url)` as a statement).
    ///
    /// ## Why it fails under partial failure
    /// An unclosed body keeps its TCP connection checked out of the client's pool (and, over HTTP/1.1, a read
    /// goroutine alive): the transport cannot reuse it, so every request dials a new connection. Under normal
    /// load this is a slow leak; when a dependency slows down and requests pile up, the process runs out of file
    /// descriptors or ephemeral ports, dials start failing for every dependency, and the leak outlives the
    /// incident until the process restarts.
    ///
    /// ## Known false positives
    /// A response passed to another function (`decode(resp)`) or returned is that code's to close; a body passed
    /// to a function of this file that closes it, or to a function of another package, counts as handed over
    /// (functions of the standard library — `io.ReadAll`, `json.NewDecoder` — read without closing and do
    /// not). A deferred close whose error is ignored (`defer resp.Body.Close()`, `defer func() { _ =
    /// resp.Body.Close() }()`) is a close, and so is the close method handed to a helper that calls it
    /// (`defer closeQuietly(resp.Body.Close)`). A close inside an early-return branch only (`if resp.StatusCode !=
    /// 200 { resp.Body.Close(); return … }`) does not cover the success path and is reported.
    ///
    /// ## Example
    /// ```go
    /// package client
    ///
    /// import (
    ///     "encoding/json"
    ///     "net/http"
    /// )
    ///
    /// func fetchUser(c *http.Client, url string, out any) error {
    ///     resp, err := c.Get(url)
    ///     if err != nil {
    ///         return err
    ///     }
    ///     return json.NewDecoder(resp.Body).Decode(out)
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// package client
    ///
    /// import (
    ///     "encoding/json"
    ///     "net/http"
    /// )
    ///
    /// func fetchUser(c *http.Client, url string, out any) error {
    ///     resp, err := c.Get(url)
    ///     if err != nil {
    ///         return err
    ///     }
    ///     defer resp.Body.Close()
    ///     return json.NewDecoder(resp.Body).Decode(out)
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// The fix inserts `defer resp.Body.Close()` right after the `if err != nil { … }` check that follows the
    /// call (never before it: on error `resp` is nil). It is offered, never applied unattended (`maybe`): a
    /// close the analysis cannot see (a helper in another file, a callee that takes over the response) would
    /// become a second close, and a body that reaches a goroutine or closure may still be read after the
    /// function returns. No edit, only advice, when the call is not
    /// followed by an error check that leaves the function, when the call is in a loop (a deferred close would
    /// keep every iteration's connection until the function returns: close at the end of each iteration), or
    /// when the response is discarded.
    ///
    /// ## Configuration
    /// None.
    ///
    /// ## References
    /// - Go documentation, `net/http`: "The caller must close the response body when finished with it" and
    ///   "If the Body is not both read to EOF and closed, the Client's underlying RoundTripper … may not be able
    ///   to re-use a persistent TCP connection".
    /// - `golang.org/x/tools/go/analysis/passes/bodyclose` (third-party linter with the same aim).
    pub struct ResponseBodyNotClosed {
        code: "RES007",
        slug: "response-body-not-closed",
        family: Resilience,
        languages: [Go],
        severity: High,
        impact: Availability,
        kind: Finding,
        fix: Sometimes,
        scope: Function,
        reads: [StoredValues],
        roles: Clients,
    }
}

impl Rule<RuleContext<'_>> for ResponseBodyNotClosed {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        if ctx.language != Language::Go {
            return;
        }
        let client_fields = OnceCell::new();
        for call in &ctx.facts.calls {
            if returns_response(ctx, call, &client_fields) {
                check_call(ctx, call, sink);
            }
        }
    }
}

/// Calls that return an `*http.Response`: the knowledge base's `net/http` calls (`http.Get`, `client.Do`),
/// and `Get`/`Head`/`Post`/`PostForm` on a value the file declares as an `http.Client`. `client_fields` holds
/// the names of the struct fields the file declares as an `http.Client`, found on first need.
fn returns_response<'s>(
    ctx: &RuleContext<'s>,
    call: &Call<'_>,
    client_fields: &OnceCell<HashSet<&'s str>>,
) -> bool {
    let facts = ctx.facts;
    let Some(client) = go_http_client(ctx) else {
        return false;
    };
    let Some(method) = call
        .method
        .as_deref()
        .or_else(|| call.path.as_deref().and_then(|p| p.rsplit('.').next()))
    else {
        return false;
    };
    if !client.request_methods.iter().any(|m| m == method) {
        return false;
    }
    if let Some(path) = call.path.as_deref() {
        return client.owns(path)
            && ctx
                .kb
                .api(ctx.language, path)
                .is_some_and(|api| api.kind == ApiKind::Http && api.remote);
    }
    let Some(receiver) = call.receiver else {
        return false;
    };
    if client.prepared_request_methods.iter().any(|m| m == method) {
        // go-redis and redigo have a `Do` too; net/http's takes the request alone.
        return call.args.len() == 1
            && ctx
                .kb
                .call(facts, call)
                .is_some_and(|api| api.kind == ApiKind::Http)
            && !is_other_client(ctx, call, receiver);
    }
    is_http_client(ctx, call, receiver, client_fields)
}

/// The receiver is declared as an `http.Client`: a parameter or field of type `*http.Client`, a local built
/// from an `http.Client{…}` literal, or `http.DefaultClient`.
fn is_http_client<'s>(
    ctx: &RuleContext<'s>,
    call: &Call<'_>,
    receiver: Node<'_>,
    client_fields: &OnceCell<HashSet<&'s str>>,
) -> bool {
    let facts = ctx.facts;
    let Some(client) = go_http_client(ctx) else {
        return false;
    };
    let named =
        |name: &Option<String>, path: Option<&str>| path.is_some() && path == name.as_deref();
    let is_default_client = |t: Option<&str>| named(&client.default_client, t);
    let is_client_path = |t: Option<&str>| named(&client.client_type, t);
    let text = compact_text(ctx, receiver);
    if is_default_client(facts.resolve(&text).as_deref()) {
        return true;
    }
    let is_client_type = |t: &str| {
        let bare = t.trim_start_matches('*');
        is_client_path(facts.resolve(bare).as_deref())
    };
    match receiver.kind() {
        "identifier" => {
            let mut current = call.function;
            while let Some(index) = current {
                let function = &facts.functions[index];
                if let Some(p) = function.params.iter().find(|p| p.name == text) {
                    return is_client_path(p.type_path.as_deref());
                }
                current = function.parent;
            }
            facts
                .declared_value(call.function, &text, call.node.start_byte())
                .is_some_and(|value| {
                    let value = if value.kind() == "unary_expression" {
                        value.named_child(0).unwrap_or(value)
                    } else {
                        value
                    };
                    facts
                        .literals
                        .iter()
                        .any(|l| l.node == value && is_client_path(l.type_path.as_deref()))
                        || is_default_client(facts.resolve(&compact_text(ctx, value)).as_deref())
                })
        }
        "selector_expression" => {
            let Some(field) = receiver.child_by_field_name("field") else {
                return false;
            };
            // Once per file, not once per call: a test file makes thousands of `x.y.Get(…)` calls.
            client_fields
                .get_or_init(|| {
                    facts
                        .nodes_of_kind(&["field_declaration"])
                        .filter(|n| {
                            n.child_by_field_name("type")
                                .is_some_and(|t| is_client_type(&compact_text(ctx, t)))
                        })
                        .flat_map(|n| {
                            let mut cursor = n.walk();
                            let names: Vec<&'s str> = n
                                .children_by_field_name("name", &mut cursor)
                                .map(|x| ctx.node_text(x))
                                .collect();
                            names
                        })
                        .collect()
                })
                .contains(ctx.node_text(field))
        }
        _ => false,
    }
}

/// Go's `net/http` as the knowledge base describes it (its request methods, client type, default client).
fn go_http_client<'k>(ctx: &RuleContext<'k>) -> Option<&'k HttpClient> {
    ctx.kb
        .http_client_shaped(ctx.language, ClientShape::ClientField)
}

/// A `Do` whose receiver the file shows to be something other than an HTTP client (a Redis client built by
/// `redis.NewClient`).
fn is_other_client(ctx: &RuleContext<'_>, call: &Call<'_>, receiver: Node<'_>) -> bool {
    if receiver.kind() != "identifier" {
        return false;
    }
    let name = ctx.node_text(receiver);
    let facts = ctx.facts;
    let mut current = call.function;
    while let Some(index) = current {
        let function = &facts.functions[index];
        if let Some(p) = function.params.iter().find(|p| p.name == name) {
            return p
                .type_path
                .as_deref()
                .is_some_and(|t| go_http_client(ctx).is_some_and(|c| !c.owns(t)));
        }
        current = function.parent;
    }
    false
}

fn check_call<'t>(ctx: &RuleContext<'t>, call: &Call<'t>, sink: &mut Vec<Finding>) {
    let facts = ctx.facts;
    let Some(parent) = facts.parent(call.node) else {
        return;
    };
    let shown = compact_text(ctx, call.callee);
    match parent.kind() {
        // `return c.Do(req)`, `f(c.Do(req))`: handed on as it is.
        "return_statement" | "argument_list" => return,
        "expression_statement" => {
            report_discarded(ctx, call, &shown, sink);
            return;
        }
        "expression_list" => {}
        _ => return,
    }
    let Some(statement) = facts.parent(parent).filter(|s| {
        matches!(
            s.kind(),
            "short_var_declaration" | "assignment_statement" | "var_spec"
        )
    }) else {
        return;
    };
    let targets: Vec<String> = facts
        .assignments_within(TextRange::of(statement))
        .filter(|a| a.node == statement && a.value == Some(call.node))
        .map(|a| a.target.clone())
        .collect();
    let Some(resp) = targets.first() else { return };
    if resp == "_" {
        report_discarded(ctx, call, &shown, sink);
        return;
    }
    let Some(function) = call.function else {
        return;
    };
    let scope = facts.functions[function].node;
    let uses = Uses::collect(ctx, scope, statement, resp);
    if uses.closed || uses.passed_on {
        return;
    }
    let err = targets.get(1).map(String::as_str);
    let fix = fix(ctx, call, statement, resp, err, uses.escapes);
    let mut builder = ctx
        .finding(&ResponseBodyNotClosed::META, TextRange::of(call.callee))
        .title(if uses.early_close.is_some() {
            format!("`{resp}.Body` from `{shown}` is closed only on an early return: each successful call keeps a connection out of the pool")
        } else {
            format!("`{resp}.Body` from `{shown}` is never closed: each call keeps a connection out of the pool")
        })
        .trigger("requests keep coming (or a dependency slows down and they pile up) while every response holds on to its connection")
        .expected(format!(
            "`defer {resp}.Body.Close()` right after the error check, or `{resp}` handed to code that closes it"
        ))
        .actual(format!(
            "`{resp}.Body` is not closed on the success path and `{resp}` is not returned or passed on, so its connection is never reused: the client dials a new one per request until file descriptors or ports run out"
        ));
    if let Some(close) = uses.early_close {
        builder = builder.evidence(close, "closed only on this early-return path");
    }
    builder.fix(fix).emit(sink);
}

fn report_discarded(ctx: &RuleContext<'_>, call: &Call<'_>, shown: &str, sink: &mut Vec<Finding>) {
    ctx.finding(&ResponseBodyNotClosed::META, TextRange::of(call.callee))
        .title(format!(
            "the response of `{shown}` is discarded without closing its body: each call leaks a connection"
        ))
        .trigger("the call runs repeatedly (or a dependency slows down and calls pile up)")
        .expected("the response is kept and its body closed (`defer resp.Body.Close()`), even when only the error matters")
        .actual("the response is thrown away with its body open, so its connection is never returned to the pool: the client dials a new one per call until file descriptors or ports run out")
        .fix(Fix::advice(
            "keep the response and close it: `resp, err := …; if err != nil { return err }; defer resp.Body.Close()` (drain it with `io.Copy(io.Discard, resp.Body)` to reuse the connection)",
        ))
        .emit(sink);
}

/// What the function does with the response after the call.
#[derive(Default)]
struct Uses {
    /// `resp.Body.Close()` deferred, or called outside an early-return branch.
    closed: bool,
    /// Returned, passed to a function, stored, sent: someone else's to close.
    passed_on: bool,
    /// The body reaches a goroutine or closure (a deferred close could cut a late reader short).
    escapes: bool,
    /// A close found only in an early-return branch.
    early_close: Option<TextRange>,
}

impl Uses {
    fn collect<'t>(
        ctx: &RuleContext<'t>,
        scope: Node<'t>,
        statement: Node<'t>,
        resp: &str,
    ) -> Uses {
        let mut uses = Uses::default();
        let after = statement.end_byte();
        let body = format!("{resp}.Body");
        // Locals holding the body (`body := resp.Body`) close it too.
        let mut bodies = vec![body.clone()];
        for a in ctx.facts.assignments_within(TextRange::of(scope)) {
            if a.value.is_some_and(|v| compact_text(ctx, v) == body) {
                bodies.push(a.target.clone());
            }
        }
        for n in node::descendants(scope) {
            if n.start_byte() < after {
                continue;
            }
            match n.kind() {
                "call_expression" => {
                    let Some(callee) = n.child_by_field_name("function") else {
                        continue;
                    };
                    let callee_text = compact_text(ctx, callee);
                    if let Some(closed) = callee_text.strip_suffix(".Close") {
                        if bodies.iter().any(|b| b == closed) {
                            if is_deferred(ctx, n, scope) || !in_early_exit(ctx, n, scope) {
                                uses.closed = true;
                            } else {
                                uses.early_close.get_or_insert(TextRange::of(n));
                            }
                        }
                        continue;
                    }
                    let passed_at = n.child_by_field_name("arguments").and_then(|a| {
                        node::named_children(a).position(|x| {
                            let text = compact_text(ctx, x);
                            text == body || text == resp
                        })
                    });
                    // A helper (in this file or, through the workspace index, another) that closes it.
                    let closes = passed_at.is_some_and(|arg| {
                        ctx.facts
                            .calls
                            .iter()
                            .find(|c| c.node == n)
                            .and_then(|c| ctx.ask(c, Question::ClosesBody { arg }))
                            .is_some_and(|a| a.holds)
                    });
                    if closes {
                        if is_deferred(ctx, n, scope) || !in_early_exit(ctx, n, scope) {
                            uses.closed = true;
                        } else {
                            uses.early_close.get_or_insert(TextRange::of(n));
                        }
                        continue;
                    }
                    let passes_body = n
                        .child_by_field_name("arguments")
                        .map(|a| node::named_children(a).any(|x| compact_text(ctx, x) == body))
                        .unwrap_or(false);
                    if passes_body && hands_over(ctx, callee) {
                        uses.passed_on = true;
                    }
                }
                "identifier" if ctx.node_text(n) == resp && is_passed_on(ctx, n) => {
                    uses.passed_on = true;
                }
                // `defer closeQuietly(resp.Body.Close)`, `defer errs.Capture(&err, resp.Body.Close, …)`: the
                // close is handed to a helper that calls it.
                "selector_expression"
                    if ctx
                        .facts
                        .parent(n)
                        .is_some_and(|p| p.kind() == "argument_list")
                        && compact_text(ctx, n)
                            .strip_suffix(".Close")
                            .is_some_and(|closed| bodies.iter().any(|b| b == closed)) =>
                {
                    if is_deferred(ctx, n, scope) || !in_early_exit(ctx, n, scope) {
                        uses.closed = true;
                    } else {
                        uses.early_close.get_or_insert(TextRange::of(n));
                    }
                }
                "selector_expression" if compact_text(ctx, n) == body => {
                    let in_goroutine = ctx
                        .facts
                        .ancestors(n)
                        .take_while(|a| *a != scope)
                        .any(|a| matches!(a.kind(), "go_statement" | "func_literal"));
                    if in_goroutine {
                        uses.escapes = true;
                    }
                }
                _ => {}
            }
        }
        uses.escapes |= bodies.len() > 1;
        uses
    }
}

/// A use of `resp` that hands the response to other code: anything but reading a field (`resp.StatusCode`),
/// a nil comparison, or being assigned to.
fn is_passed_on<'t>(ctx: &RuleContext<'t>, n: Node<'t>) -> bool {
    let Some(parent) = ctx.facts.parent(n) else {
        return false;
    };
    match parent.kind() {
        "selector_expression" => parent.child_by_field_name("operand") != Some(n),
        "binary_expression" => {
            let other = node::named_children(parent).find(|c| *c != n);
            other.is_none_or(|o| ctx.node_text(o) != "nil")
        }
        "expression_list" => {
            // The left side of an assignment is a write, not a use.
            let statement = ctx.facts.parent(parent);
            !statement.is_some_and(|s| {
                matches!(s.kind(), "short_var_declaration" | "assignment_statement")
                    && s.child_by_field_name("left") == Some(parent)
            })
        }
        _ => true,
    }
}

/// Whether passing a body to `callee` hands it over: a function of this file that closes what it is given, or
/// a function of another module. The standard library's readers (`io.ReadAll`, `json.NewDecoder`) do not close
/// what they read.
fn hands_over(ctx: &RuleContext<'_>, callee: Node<'_>) -> bool {
    let facts = ctx.facts;
    let text = compact_text(ctx, callee);
    if let Some(path) = facts.resolve(&text) {
        let module = path.rsplit_once('.').map_or(path.as_str(), |(m, _)| m);
        let standard = !module.split('/').next().unwrap_or_default().contains('.');
        return !standard;
    }
    if callee.kind() == "identifier" {
        let local = facts
            .functions_named(&text)
            .map(|index| &facts.functions[index])
            .find(|f| f.name == text);
        return match local {
            Some(f) => {
                let param = f.params.first().map(|p| p.name.clone()).unwrap_or_default();
                f.body.is_some_and(|b| {
                    node::descendants(b).any(|n| {
                        n.kind() == "call_expression"
                            && n.child_by_field_name("function")
                                .is_some_and(|c| compact_text(ctx, c) == format!("{param}.Close"))
                    })
                })
            }
            // Another file of the package: trust it.
            None => true,
        };
    }
    false
}

fn is_deferred<'t>(ctx: &RuleContext<'t>, n: Node<'t>, scope: Node<'t>) -> bool {
    ctx.facts
        .ancestors(n)
        .take_while(|a| *a != scope)
        .any(|a| a.kind() == "defer_statement")
}

/// Inside the body of an `if` (or `else`) whose block ends by leaving: `return`, `panic`, `continue`,
/// `break`, `goto`, `log.Fatal…`, `os.Exit`.
fn in_early_exit<'t>(ctx: &RuleContext<'t>, n: Node<'t>, scope: Node<'t>) -> bool {
    ctx.facts
        .ancestors(n)
        .take_while(|a| *a != scope)
        .filter(|a| a.kind() == "block")
        .filter(|b| {
            ctx.facts
                .parent(*b)
                .is_some_and(|p| p.kind() == "if_statement")
        })
        .any(|b| {
            let list = node::named_children(b)
                .find(|c| c.kind() == "statement_list")
                .unwrap_or(b);
            node::named_children(list)
                .last()
                .is_some_and(|last| is_exit(ctx, last))
        })
}

fn is_exit(ctx: &RuleContext<'_>, statement: Node<'_>) -> bool {
    match statement.kind() {
        "return_statement" | "continue_statement" | "break_statement" | "goto_statement" => true,
        // `panic(…)`, `os.Exit(…)`, `log.Fatal…(…)`, `t.Fatal…(…)`.
        "expression_statement" => statement
            .named_child(0)
            .filter(|c| c.kind() == "call_expression")
            .and_then(|c| c.child_by_field_name("function"))
            .is_some_and(|f| {
                let text = compact_text(ctx, f);
                let last = text.rsplit('.').next().unwrap_or(&text);
                text == "panic" || text == "os.Exit" || last.starts_with("Fatal")
            }),
        _ => false,
    }
}

/// `defer resp.Body.Close()` after the `if err != nil { … }` that follows the call, when that check leaves the
/// function and the call is not in a loop.
fn fix<'t>(
    ctx: &RuleContext<'t>,
    call: &Call<'t>,
    statement: Node<'t>,
    resp: &str,
    err: Option<&str>,
    escapes: bool,
) -> Fix {
    let advice = format!(
        "close the body once the error is checked: `defer {resp}.Body.Close()` (in a loop, close it at the end of each iteration instead)"
    );
    let Some(err) = err.filter(|e| *e != "_") else {
        return Fix::advice(advice);
    };
    let function = call.function.map(|f| ctx.facts.functions[f].node);
    let in_loop = ctx
        .facts
        .ancestors(statement)
        .take_while(|a| Some(*a) != function)
        .any(|a| a.kind() == "for_statement");
    if in_loop {
        return Fix::advice(advice);
    }
    let mut next = statement.next_named_sibling();
    while let Some(n) = next.filter(|n| n.kind() == "comment") {
        next = n.next_named_sibling();
    }
    let Some(check) = next else {
        return Fix::advice(advice);
    };
    let checks_err = check.kind() == "if_statement"
        && check
            .child_by_field_name("condition")
            .is_some_and(|c| compact_text(ctx, c) == format!("{err}!=nil"))
        && check
            .child_by_field_name("consequence")
            .and_then(|b| {
                node::named_children(b)
                    .find(|c| c.kind() == "statement_list")
                    .or(Some(b))
            })
            .and_then(|list| node::named_children(list).last())
            .is_some_and(|last| is_exit(ctx, last))
        && check.child_by_field_name("alternative").is_none();
    if !checks_err {
        return Fix::advice(advice);
    }
    let indent = indentation_at(ctx.source, statement.start_byte());
    let edit = Edit::insert(
        check.end_byte(),
        format!("\n{indent}defer {resp}.Body.Close()"),
    );
    // Never unattended, escaping or not: a close the analysis did not see (through a helper in another file, by
    // a callee that takes the response) would become a second close, and closing ends a body another reader
    // may still stream.
    let caveat = if escapes {
        " (the body also reaches a goroutine or closure: make sure it is done reading first)"
    } else {
        ""
    };
    Fix::edits(
        format!("insert `defer {resp}.Body.Close()` after the error check{caveat}"),
        Applicability::Maybe,
        vec![edit],
    )
}
