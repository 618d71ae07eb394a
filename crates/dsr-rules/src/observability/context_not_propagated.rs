use dsr_core::kb::PathGroupKind;
use dsr_core::{
    declare_rule, Applicability, Edit, Finding, Fix, Language, Rule, RuleMeta, TextRange,
};
use dsr_semantic::facts::{Call, ContextKind, ContextSource, Literal};
use dsr_semantic::tree_sitter::Node;
use dsr_semantic::{Question, RuleContext};
use dsr_syntax::node::{self, Mention};

use crate::shared::{compact_text, go_remove_import, ts_add_property};
use dsr_semantic::KbMatch;

declare_rule! {
    /// ## What it finds
    /// Work done on behalf of a caller that drops the caller's context. In Go: `context.Background()` or
    /// `context.TODO()` passed to a call (directly, or through a local variable) inside a function that has a
    /// `context.Context` parameter or an `*http.Request` — closures nested in such a function included. In
    /// TypeScript/JavaScript: a function that receives an `AbortSignal` (a parameter typed `AbortSignal`, a
    /// parameter or destructured field named `signal`, or an options parameter whose type has a `signal`) and
    /// calls `fetch` without passing a signal; likewise a route handler that receives a web `Request` (Next.js
    /// `export async function GET(request: Request)` in a `route.ts`), whose `request.signal` aborts when the
    /// client disconnects.
    ///
    /// ## Why it fails under partial failure
    /// A context carries three things across a call boundary: the caller's deadline, its cancellation and its
    /// trace. Starting from `context.Background()` throws all three away. When a client disconnects or an
    /// upstream timeout fires, the caller stops waiting but this call keeps running: it holds a database
    /// connection or a socket, does work nobody will read, and under overload that abandoned work is what keeps
    /// the service from recovering. Its spans are orphaned too, so the slow call that caused the incident does not
    /// show up in the request's trace. An `AbortSignal` that is received but not passed on to `fetch` fails the
    /// same way: Node's fetch keeps the request open for up to 300 s after the caller aborted.
    ///
    /// ## Known false positives
    /// Work that must outlive the request on purpose. A goroutine started with `go` inside a handler that runs on
    /// `context.Background()` is reported as an open question, not a finding: replacing it with `ctx` would be
    /// wrong (the goroutine would be cancelled when the handler returns); `context.WithoutCancel(ctx)` (Go 1.21)
    /// keeps the trace values and drops the cancellation, plus a timeout of its own. Calls in a `defer` (cleanup
    /// that must run after the caller gave up) and calls after `<-ctx.Done()` (a shutdown that starts once the
    /// context is cancelled) are not reported, nor a fresh context given its own deadline after the function
    /// waited for the caller's `Done()` in a `select`; a fresh context in a function that carries the caller's
    /// trace over (`trace.LinkFromContext(ctx)`, `trace.SpanContextFromContext(ctx)`: kb `trace-from-context`);
    /// and one whose comment block right above says it is meant (names `context.Background` and says why: "we
    /// use", "must", "outlive", …); and a fresh cancellable context only ever waited on (`<-stopped.Done()`), a
    /// stop signal rather than a context work runs on; a logger looked up from a fresh context (`GetLogger(
    /// context.Background(), …)`). A parameter named `_` says the context is ignored on
    /// purpose. In
    /// TypeScript, a `fetch` whose init comes from elsewhere (a variable that is not a local object literal, or a
    /// spread) is an open question; a `signal` set to another value is not reported when the received signal is
    /// used elsewhere in the function (it may be linked with `AbortSignal.any` or an event listener).
    ///
    /// Not reported in tool, frontend or build code (code roles): a command's caller is the person or job that ran
    /// it, and stopping it ends the process, so there is no request deadline or cancellation to carry
    /// (docs/precision.md, issue 13).
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
    /// func (s *Store) Load(ctx context.Context, id string) (*sql.Rows, error) {
    ///     return s.db.QueryContext(context.Background(), "SELECT * FROM orders WHERE id = $1", id)
    /// }
    /// ```
    ///
    /// ```ts
    /// export async function loadProfile(id: string, signal: AbortSignal) {
    ///   const res = await fetch(`/api/profiles/${id}`);
    ///   return res.json();
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
    /// func (s *Store) Load(ctx context.Context, id string) (*sql.Rows, error) {
    ///     return s.db.QueryContext(ctx, "SELECT * FROM orders WHERE id = $1", id)
    /// }
    /// ```
    ///
    /// ```ts
    /// export async function loadProfile(id: string, signal: AbortSignal) {
    ///   const res = await fetch(`/api/profiles/${id}`, { signal });
    ///   return res.json();
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Every edit is offered, never applied unattended (`maybe`): passing the caller's context or signal makes
    /// the call stop when the caller does, which changes behaviour exactly where the fresh context was chosen on
    /// purpose (a cleanup, a write that must finish). Go: the fix replaces `context.Background()`/
    /// `context.TODO()` with the function's context (`ctx`, or `r.Context()` for a handler); when that was the
    /// file's last use of the `context` package the import is removed in the same fix. TypeScript: adding
    /// `signal` to `fetch`'s init (or a `{ signal }` init); combining an existing, different signal with the
    /// received one (`AbortSignal.any([signal, …])`, Node 20.3+ and current browsers). Goroutines get advice.
    ///
    /// ## Configuration
    /// None.
    ///
    /// ## References
    /// - Go documentation, package `context`: "Do not store Contexts inside a struct type; instead, pass a
    ///   Context explicitly to each function that needs it", and `context.WithoutCancel`.
    /// - MDN, `AbortSignal` and `fetch()`'s `signal` option; `AbortSignal.any()`.
    /// - OpenTelemetry, "Context propagation".
    pub struct ContextNotPropagated {
        code: "OBS001",
        slug: "context-not-propagated",
        family: Observability,
        languages: [Go, TypeScript],
        severity: Medium,
        impact: Operability,
        kind: Finding,
        fix: Sometimes,
        scope: Function,
        reads: [Handlers],
        roles: ServiceClients,
    }
}

impl Rule<RuleContext<'_>> for ContextNotPropagated {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        match ctx.language {
            Language::Go => check_go(ctx, sink),
            Language::TypeScript | Language::Tsx => check_ts(ctx, sink),
            _ => {}
        }
    }
}

/// How the fresh context reaches a call.
enum Use<'t> {
    /// `f(context.Background())`: the call it is passed to.
    Argument(Node<'t>),
    /// `bg := context.Background()` and later `f(bg)`: the variable and the first call it is passed to.
    Variable(String, Node<'t>),
}

struct GoCandidate<'t> {
    call: usize,
    source: ContextSource,
    usage: Use<'t>,
    /// Started by a `go` statement between the call and the function that has the context.
    detached: bool,
}

fn check_go(ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
    let facts = ctx.facts;
    let mut candidates = Vec::new();
    for (index, call) in facts.calls.iter().enumerate() {
        if !(call.path_is("context.Background") || call.path_is("context.TODO")) {
            continue;
        }
        let Some(function) = call.function else {
            continue;
        };
        let Some(source) = facts.context_source(function, ctx.source) else {
            continue;
        };
        let Some(usage) = go_use(ctx, call) else {
            continue;
        };
        let scope = facts.functions[source.function].node;
        let between: Vec<_> = facts
            .ancestors(call.node)
            .take_while(|n| *n != scope)
            .collect();
        if between.iter().any(|n| n.kind() == "defer_statement")
            || runs_after_done(ctx, call.node, &between, &source)
            || detached_on_purpose(ctx, call, &usage, &source)
        {
            continue;
        }
        // `go f(context.Background())`, or `bg := context.Background()` then `go f(bg)`.
        let receiver_in_goroutine = match &usage {
            Use::Variable(_, receiver) => facts
                .ancestors(*receiver)
                .take_while(|n| *n != scope)
                .any(|n| n.kind() == "go_statement"),
            Use::Argument(_) => false,
        };
        let detached = receiver_in_goroutine || between.iter().any(|n| n.kind() == "go_statement");
        candidates.push(GoCandidate {
            call: index,
            source,
            usage,
            detached,
        });
    }
    let mut imports = ImportUses::default();
    for candidate in &candidates {
        report_go(ctx, candidate, &candidates, &mut imports, sink);
    }
    check_go_callees(ctx, sink);
}

/// One level down, through the workspace index: a function that has its caller's context calls a function of
/// another file without passing it, and that function starts its calls on `context.Background()`.
fn check_go_callees(ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
    if ctx.index.is_none() {
        return;
    }
    let facts = ctx.facts;
    for call in &facts.calls {
        let Some(function) = call.function else {
            continue;
        };
        let Some(source) = facts.context_source(function, ctx.source) else {
            continue;
        };
        let names = [source.param.as_str()];
        let passes = call
            .args
            .iter()
            .any(|a| node::mentions(*a, &names, ctx.source, Mention::VariableOrField));
        let detached = facts
            .ancestors(call.node)
            .take_while(|n| *n != facts.functions[source.function].node)
            .any(|n| matches!(n.kind(), "go_statement" | "defer_statement"));
        if passes || detached {
            continue;
        }
        // The callee itself starts the fresh context: deeper down, a layer in between (a cache, a lazily built
        // shared client) often detaches on purpose, and the call cannot be blamed for it.
        let Some(answer) = ctx
            .ask(call, Question::DropsCtx)
            .filter(|a| a.holds && a.depth == 0)
        else {
            continue;
        };
        let shown = compact_text(ctx, call.callee);
        let mut finding = ctx
            .finding(&ContextNotPropagated::META, TextRange::of(call.callee))
            .title(format!(
                "`{shown}` is not given `{}` and starts its work on `context.Background()`: the caller's deadline, cancellation and trace stop here",
                source.expression
            ))
            .trigger("the caller gives up (client disconnect, deadline) or its trace is followed across this call")
            .expected(format!("`{shown}` takes a `context.Context` and is passed `{}`", source.expression))
            .actual(format!("`{shown}` has no context parameter and its callee makes its calls on a fresh context: they outlive the request and leave the trace"))
            .confidence(answer.confidence.min(dsr_core::Confidence::Medium));
        if let Some(evidence) = answer.evidence {
            finding = finding.evidence_at(evidence);
        }
        finding
            .fix(Fix::advice(format!(
                "add a `ctx context.Context` first parameter to `{shown}`'s function, pass `{}` here, and use it instead of `context.Background()` there",
                source.expression
            )))
            .emit(sink);
    }
}

/// `GetLogger(context.Background(), …)`: a logger looked up from a context does no work the caller could
/// cancel; at most one log line loses its trace correlation.
fn fetches_a_logger(ctx: &RuleContext<'_>, receiver: Node<'_>) -> bool {
    receiver
        .child_by_field_name("function")
        .map(|f| compact_text(ctx, f))
        .is_some_and(|callee| {
            let last = callee
                .rsplit('.')
                .next()
                .unwrap_or(&callee)
                .to_ascii_lowercase();
            last.ends_with("logger")
        })
}

/// `stopped, stop := context.WithCancel(context.Background())` whose context is only ever waited on
/// (`<-stopped.Done()`, `stopped.Err()`): a "this stopped" signal next to the caller's own `Done()`, not a
/// context any work runs on.
fn only_signals_stop(ctx: &RuleContext<'_>, receiver: Node<'_>, scope: TextRange) -> bool {
    let facts = ctx.facts;
    let Some(statement) = facts
        .parent(receiver)
        .and_then(|list| facts.parent(list))
        .filter(|s| matches!(s.kind(), "short_var_declaration" | "assignment_statement"))
    else {
        return false;
    };
    let Some(name) = statement
        .child_by_field_name("left")
        .and_then(|l| node::named_children(l).next())
        .filter(|n| n.kind() == "identifier")
        .map(|n| ctx.node_text(n))
    else {
        return false;
    };
    // The identifiers after the statement, up to the end of the function: a binary search in the recorded ones.
    let first = facts
        .identifiers
        .partition_point(|(range, _)| range.start < statement.end_byte());
    let mut uses = facts.identifiers[first..]
        .iter()
        .take_while(|(range, _)| range.end <= scope.end)
        .map(|(_, n)| *n)
        .filter(|n| n.kind() == "identifier" && ctx.node_text(*n) == name)
        .peekable();
    uses.peek().is_some()
        && uses.all(|n| {
            facts.parent(n).is_some_and(|selector| {
                selector.kind() == "selector_expression"
                    && selector
                        .child_by_field_name("field")
                        .is_some_and(|f| matches!(ctx.node_text(f), "Done" | "Err"))
            })
        })
}

/// Words with which a comment says a fresh context is meant (`Therefore, we use context.Background here`).
const JUSTIFYING_WORDS: &[&str] = &[
    "we use",
    "on purpose",
    "intentional",
    "deliberate",
    "therefore",
    "so that",
    "must ",
    "should ",
    "outlive",
    "even if",
    "even when",
];

/// A fresh context the code detaches on purpose: given a deadline of its own after the caller's context was
/// waited out (`<-ctx.Done()`, then `context.WithTimeout(context.Background(), d)` for a shutdown), made in a
/// function that carries the caller's
/// trace over to it (`trace.LinkFromContext(ctx)`, the span context re-injected), or explained by the comment
/// right above it (`// … so we use context.Background here`).
fn detached_on_purpose(
    ctx: &RuleContext<'_>,
    call: &Call<'_>,
    usage: &Use<'_>,
    source: &ContextSource,
) -> bool {
    let facts = ctx.facts;
    let in_group = |c: &Call<'_>, kind: PathGroupKind| {
        c.path
            .as_deref()
            .is_some_and(|path| ctx.kb.is_in_group(ctx.language, path, kind))
    };
    let receiver = match usage {
        Use::Argument(outer) | Use::Variable(_, outer) => *outer,
    };
    let scope = facts.functions[source.function].range();
    if only_signals_stop(ctx, receiver, scope) || fetches_a_logger(ctx, receiver) {
        return true;
    }
    // After waiting for the caller's cancellation (`<-ctx.Done()`, a `select` case), the work left (a
    // shutdown, a drain) needs a deadline of its own: the caller's context is spent.
    let waited_for_done = || {
        facts.calls_within(scope).any(|c| {
            c.node.end_byte() <= call.node.start_byte()
                && c.method.as_deref() == Some("Done")
                && c.receiver
                    .is_some_and(|r| compact_text(ctx, r) == source.expression)
                && facts
                    .parent(c.node)
                    .is_some_and(|p| ctx.node_text(p).starts_with("<-"))
        })
    };
    if facts
        .call_index(receiver)
        .is_some_and(|c| in_group(&facts.calls[c], PathGroupKind::ContextWithDeadline))
        && waited_for_done()
    {
        return true;
    }
    let names = [source.param.clone()];
    let keeps_trace = facts.calls_within(scope).any(|c| {
        in_group(c, PathGroupKind::TraceFromContext)
            && c.args
                .iter()
                .any(|a| node::mentions(*a, &names, ctx.source, Mention::Variable))
    });
    if keeps_trace {
        return true;
    }
    // The comment block right above the statement (only whitespace between its comments and the statement), or
    // a comment on the statement's own line.
    let Some(statement) = facts.enclosing_statement(call.node) else {
        return false;
    };
    let line_end = ctx.source[statement.start_byte()..]
        .find('\n')
        .map_or(ctx.source.len(), |i| statement.start_byte() + i);
    // The comment must name the fresh context and say it is meant (a remark that merely mentions it is not a
    // justification).
    let mentions = |c: &TextRange| {
        let text = ctx.source[c.start..c.end].to_ascii_lowercase();
        text.contains("background") && JUSTIFYING_WORDS.iter().any(|w| text.contains(w))
    };
    // The comments on the statement's line, by binary search: a scan of every comment of the file per
    // candidate was quadratic.
    let first_on_line = facts
        .comments
        .partition_point(|c| c.start < statement.start_byte());
    if facts.comments[first_on_line..]
        .iter()
        .take_while(|c| c.start < line_end)
        .any(mentions)
    {
        return true;
    }
    let mut next_start = statement.start_byte();
    let before = facts.comments.partition_point(|c| c.end <= next_start);
    for comment in facts.comments[..before].iter().rev() {
        if !ctx.source[comment.end..next_start].trim().is_empty() {
            break;
        }
        next_start = comment.start;
    }
    next_start < statement.start_byte()
        && mentions(&TextRange::new(next_start, statement.start_byte()))
}

/// Where a `context.Background()` call's value goes: straight into a call, or into a local that a later call
/// of the same function receives.
fn go_use<'t>(ctx: &RuleContext<'t>, call: &Call<'t>) -> Option<Use<'t>> {
    let facts = ctx.facts;
    let parent = facts.parent(call.node)?;
    if parent.kind() == "argument_list" {
        return facts.parent(parent).map(Use::Argument);
    }
    // `bg := context.Background()` / `var bg = context.Background()`: one name, one value.
    let declaration = match parent.kind() {
        "expression_list" => facts.parent(parent)?,
        _ => return None,
    };
    let name_node = match declaration.kind() {
        "short_var_declaration" => declaration
            .child_by_field_name("left")
            .filter(|l| l.named_child_count() == 1)?
            .named_child(0)?,
        "var_spec" => declaration.child_by_field_name("name")?,
        _ => return None,
    };
    let name = ctx.node_text(name_node).to_string();
    // A later call of the same function, or of a closure nested in it: the calls inside its range.
    let function = &facts.functions[call.function?];
    let receiver = facts.calls_within(function.range()).find(|c| {
        c.node.start_byte() > call.node.end_byte()
            && c.args.iter().any(|a| ctx.node_text(*a) == name)
    })?;
    Some(Use::Variable(name, receiver.node))
}

/// The call sits in a `case <-ctx.Done():` or after a `<-ctx.Done()` statement: the caller's context is
/// known to be cancelled there, and a fresh one is what a shutdown or cleanup needs.
fn runs_after_done(
    ctx: &RuleContext<'_>,
    call: Node<'_>,
    between: &[Node<'_>],
    source: &ContextSource,
) -> bool {
    let is_done = |n: Node<'_>| {
        node::descendants(n).any(|d| {
            d.kind() == "call_expression"
                && d.child_by_field_name("function").is_some_and(|f| {
                    f.kind() == "selector_expression"
                        && f.child_by_field_name("field")
                            .is_some_and(|x| ctx.node_text(x) == "Done")
                        && f.child_by_field_name("operand")
                            .is_some_and(|o| compact_text(ctx, o) == source.expression)
                })
        })
    };
    let mut child = call;
    for ancestor in between {
        if ancestor.kind() == "communication_case"
            && ancestor
                .child_by_field_name("communication")
                .is_some_and(is_done)
        {
            return true;
        }
        if matches!(ancestor.kind(), "statement_list" | "block") {
            let before_done = node::named_children(*ancestor)
                .take_while(|s| s.end_byte() <= child.start_byte())
                .any(|s| {
                    s.kind() == "expression_statement"
                        && s.named_child(0).is_some_and(|e| {
                            e.kind() == "unary_expression" && ctx.node_text(e).starts_with("<-")
                        })
                        && is_done(s)
                });
            if before_done {
                return true;
            }
        }
        child = *ancestor;
    }
    false
}

fn report_go<'t>(
    ctx: &RuleContext<'t>,
    candidate: &GoCandidate<'_>,
    all: &[GoCandidate<'_>],
    imports: &mut ImportUses<'t>,
    sink: &mut Vec<Finding>,
) {
    let facts = ctx.facts;
    let call = &facts.calls[candidate.call];
    let fresh = format!("{}()", call.callee_text);
    let source = &candidate.source;
    let held = request_context_local(ctx, call, source);
    let expression = held.as_ref().unwrap_or(&source.expression);
    let receiver = match &candidate.usage {
        Use::Argument(outer) | Use::Variable(_, outer) => *outer,
    };
    let receiver_name = receiver
        .child_by_field_name("function")
        .map(|f| compact_text(ctx, f))
        .unwrap_or_default();
    let through = match &candidate.usage {
        Use::Argument(_) => String::new(),
        Use::Variable(name, _) => format!(" (through `{name}`)"),
    };
    let what = match source.kind {
        ContextKind::Request => format!("the request's context (`{expression}`)"),
        _ => format!("`{expression}`"),
    };
    let builder = ctx.finding(&ContextNotPropagated::META, call.range());
    let params = facts.functions[source.function]
        .node
        .child_by_field_name("parameters")
        .map(TextRange::of)
        .unwrap_or_else(|| facts.functions[source.function].range());
    let builder = builder.evidence(params, format!("`{}` is in scope here", source.param));
    if candidate.detached {
        builder
            .open_question()
            .title(format!("goroutine runs `{receiver_name}` on `{fresh}`{through}, detached from {what}: meant to outlive the caller?"))
            .trigger("the caller is cancelled or times out while the goroutine still runs, or someone follows the request's trace")
            .expected("work that outlives the request keeps the trace values and has a deadline of its own; work that does not is cancelled with the caller")
            .actual(format!("`{fresh}` has no deadline, no cancellation and no trace values, so this goroutine can run forever and its spans are orphaned"))
            .fix(Fix::advice(format!("if the work must outlive the request use `context.WithoutCancel({expression})` with a `context.WithTimeout` around it; otherwise pass {what}")))
            .emit(sink);
        return;
    }
    let edits = vec![Edit::replace(call.range(), expression.clone())];
    // Never unattended: the call then stops when the caller is cancelled, which may be exactly what the
    // detached context was there to prevent (a cleanup, a write that must finish).
    let mut edits = edits;
    let applicability = Applicability::Maybe;
    let mut fix_title = format!("pass `{expression}` instead of `{fresh}`");
    if let Some((spec, alone)) = imports.left_unused(ctx, call, all) {
        if alone {
            edits.push(go_remove_import(ctx.source, spec));
        } else {
            fix_title.push_str(" (remove the `context` import once no call uses it)");
        }
    }
    builder
        .title(format!("`{receiver_name}` runs on `{fresh}`{through} instead of {what}: the caller's deadline, cancellation and trace are dropped"))
        .trigger("the caller gives up (client disconnect, upstream timeout) or an incident is investigated through the request's trace")
        .expected(format!("calls made for the caller carry {what}, so they stop when the caller stops and show up in its trace; work that must outlive the caller uses `context.WithoutCancel({expression})`, which keeps the trace"))
        .actual(format!("`{receiver_name}` gets `{fresh}`, which is never cancelled and carries no deadline or trace values: it keeps running and holding resources after the caller has gone, and its spans are orphaned"))
        .fix(Fix::edits(fix_title, applicability, edits))
        .emit(sink);
}

/// `ctx := r.Context()` earlier in the handler: pass that local rather than calling `r.Context()` again.
fn request_context_local(
    ctx: &RuleContext<'_>,
    call: &Call<'_>,
    source: &ContextSource,
) -> Option<String> {
    if source.kind != ContextKind::Request {
        return None;
    }
    let facts = ctx.facts;
    facts
        .assignments_within(facts.functions[source.function].range())
        .filter(|a| a.function == Some(source.function))
        .filter(|a| a.declares && a.node.end_byte() <= call.node.start_byte())
        // Declared in a block that also holds the call, so the name is in scope there.
        .filter(|a| {
            facts
                .parent(a.node)
                .is_some_and(|p| TextRange::of(p).contains_range(call.range()))
        })
        .filter(|a| {
            a.value
                .is_some_and(|v| compact_text(ctx, v) == source.expression)
        })
        .last()
        .map(|a| a.target.clone())
}

/// Per package local name (`context`), whether the fixes leave its import unused: asked once per file, not
/// once per finding (each answer looks at every reference to the package in the file).
#[derive(Default)]
struct ImportUses<'t> {
    answers: Vec<(String, Option<(Node<'t>, bool)>)>,
}

impl<'t> ImportUses<'t> {
    /// When the replaced call was the only reason for its package's import: the import spec, and whether this
    /// call is the package's only use (`true`: the fix removes the import; `false`: several fixes share it).
    fn left_unused(
        &mut self,
        ctx: &RuleContext<'t>,
        call: &Call<'_>,
        all: &[GoCandidate<'_>],
    ) -> Option<(Node<'t>, bool)> {
        let local = call
            .callee
            .child_by_field_name("operand")
            .map(|o| ctx.node_text(o))?;
        if let Some((_, answer)) = self.answers.iter().find(|(name, _)| name == local) {
            return *answer;
        }
        let answer = import_left_unused(ctx, local, all);
        self.answers.push((local.to_string(), answer));
        answer
    }
}

fn import_left_unused<'t>(
    ctx: &RuleContext<'t>,
    local: &str,
    all: &[GoCandidate<'_>],
) -> Option<(Node<'t>, bool)> {
    let import = ctx.facts.import(local)?;
    let root = ctx.tree?.root_node();
    let references = ctx.facts.go_package_references(ctx.source, local);
    // The replaced calls, in document order (candidates follow the calls' order) and never nested in one
    // another: a reference is fixed when the last of them starting at or before it contains it.
    let fixed: Vec<TextRange> = all
        .iter()
        .filter(|c| !c.detached)
        .map(|c| ctx.facts.calls[c.call].range())
        .collect();
    let remaining = references
        .iter()
        .filter(|r| {
            let after = fixed.partition_point(|f| f.start <= r.start);
            !after
                .checked_sub(1)
                .is_some_and(|last| fixed[last].contains_range(**r))
        })
        .count();
    if remaining > 0 {
        return None;
    }
    let spec = root
        .descendant_for_byte_range(import.range.start, import.range.end)
        .and_then(|n| node::enclosing(n, &["import_spec"]))?;
    Some((spec, references.len() == 1))
}

/// TS/JS: `fetch` calls (and any API whose kb entry has an `init` argument) in a function with an
/// `AbortSignal` that do not pass a signal.
fn check_ts(ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
    let facts = ctx.facts;
    for call in &facts.calls {
        let Some(init_index) = ctx
            .kb
            .candidates(facts, call)
            .find_map(|api| api.param("init"))
        else {
            continue;
        };
        let Some(function) = call.function else {
            continue;
        };
        // A route handler given a web `Request` has the client's disconnect as `request.signal`.
        let Some(source) = facts
            .context_source(function, ctx.source)
            .or_else(|| ctx.handlers().request_signal(facts, ctx.source, function))
        else {
            continue;
        };
        check_fetch(ctx, call, init_index, &source, sink);
    }
}

fn check_fetch<'t>(
    ctx: &RuleContext<'t>,
    call: &Call<'t>,
    init_index: usize,
    source: &ContextSource,
    sink: &mut Vec<Finding>,
) {
    let facts = ctx.facts;
    let expression = &source.expression;
    let property = if expression == "signal" {
        "signal".to_string()
    } else {
        format!("signal: {expression}")
    };
    let callee = &call.callee_text;
    let scope = &facts.functions[source.function];
    let params = scope
        .node
        .child_by_field_name("parameters")
        .or_else(|| scope.node.child_by_field_name("parameter"))
        .map(TextRange::of)
        .unwrap_or_else(|| scope.range());
    let builder = || {
        ctx.finding(&ContextNotPropagated::META, TextRange::of(call.callee))
            .evidence(params, format!("the caller's signal arrives here as `{expression}`"))
            .trigger("the caller aborts (the user navigates away, an upstream handler times out, a component unmounts)")
            .expected(format!("the request made on the caller's behalf is aborted with it (`{property}` in its init)"))
    };
    let unpassed = |b: dsr_semantic::FindingBuilder| {
        b.title(format!("`{callee}` ignores the `AbortSignal` this function receives (`{expression}`): an aborted caller leaves the request running"))
            .actual(format!("`{callee}` is given no signal, so it runs to completion after the caller has given up — Node's fetch for up to 300 s, a browser's for as long as the server takes — holding a socket for a response nobody reads"))
    };
    let Some(init) = call.args.get(init_index).copied() else {
        // `fetch(url)`: a Request object as the only argument may carry its own signal.
        let Some(first) = call.args.first().copied() else {
            return;
        };
        if let Some(request_init) = request_object_init(ctx, call, first) {
            match request_init {
                Some(literal) if literal.field("signal").is_some() || literal.has_spread => {}
                _ => unpassed(builder())
                    .fix(Fix::advice(format!(
                        "pass `{property}` in the `Request`'s init"
                    )))
                    .emit(sink),
            }
            return;
        }
        let last = call.args.last().copied().unwrap_or(first);
        unpassed(builder())
            .fix(Fix::edits(
                format!("pass `{{ {property} }}`"),
                // The request then aborts with its caller: a change of behaviour, offered only.
                Applicability::Maybe,
                vec![Edit::insert(last.end_byte(), format!(", {{ {property} }}"))],
            ))
            .emit(sink);
        return;
    };
    let literal = match init.kind() {
        "object" => facts.literal_of(init),
        "identifier" => {
            let name = ctx.node_text(init);
            facts
                .declared_value(call.function, name, call.node.start_byte())
                .filter(|v| v.kind() == "object")
                .and_then(|v| facts.literal_of(v))
        }
        _ => None,
    };
    let Some(literal) = literal else {
        builder()
            .open_question()
            .title(format!("does the init given to `{callee}` carry the received `AbortSignal` (`{expression}`)?"))
            .actual(format!("the init is `{}`, built elsewhere: the code here does not show whether it has a `signal`", ctx.node_text(init)))
            .fix(Fix::advice(format!("make sure the init has `{property}`")))
            .emit(sink);
        return;
    };
    if let Some(field) = literal.field("signal") {
        check_existing_signal(ctx, call, literal, field.value, source, builder(), sink);
        return;
    }
    if literal.has_spread {
        // `{ ...opts }` where the signal arrives inside `opts` passes it on.
        let spreads_source = node::named_children(literal.node)
            .filter(|m| m.kind() == "spread_element")
            .any(|m| {
                expression.starts_with(&format!(
                    "{}.",
                    compact_text(ctx, m).trim_start_matches("...")
                ))
            });
        if !spreads_source {
            builder()
                .open_question()
                .title(format!("does the spread in `{callee}`'s init carry the received `AbortSignal` (`{expression}`)?"))
                .actual("the init spreads another object, which may or may not hold a `signal`")
                .fix(Fix::advice(format!("add `{property}` after the spread")))
                .emit(sink);
        }
        return;
    }
    unpassed(builder())
        .fix(Fix::edits(
            format!("add `{property}` to the init"),
            Applicability::Maybe,
            vec![ts_add_property(ctx, literal.node, &property)],
        ))
        .emit(sink);
}

/// `fetch(new Request(url, init))` or `fetch(req)` with `const req = new Request(…)`: `Some(init literal)`
/// (`Some(None)` when the Request has no literal init); `None` when the argument is not a Request.
fn request_object_init<'a, 't>(
    ctx: &'a RuleContext<'t>,
    call: &Call<'t>,
    first: Node<'t>,
) -> Option<Option<&'a Literal<'t>>> {
    let value = match first.kind() {
        "identifier" => {
            ctx.facts
                .declared_value(call.function, ctx.node_text(first), call.node.start_byte())?
        }
        _ => first,
    };
    let request = ctx
        .facts
        .call_index(value)
        .map(|index| &ctx.facts.calls[index])
        .filter(|c| c.is_new && (c.callee_text == "Request" || c.path_is("Request")))?;
    Some(
        request
            .args
            .get(1)
            .and_then(|init| ctx.facts.literal_of(*init)),
    )
}

/// The init has a `signal` already: fine when it mentions the received one; when it does not and the
/// received signal is not used anywhere else in the function, the caller's abort is lost.
fn check_existing_signal(
    ctx: &RuleContext<'_>,
    call: &Call<'_>,
    literal: &Literal<'_>,
    value: Option<Node<'_>>,
    source: &ContextSource,
    builder: dsr_semantic::FindingBuilder,
    sink: &mut Vec<Finding>,
) {
    let expression = &source.expression;
    let Some(value) = value else {
        // Shorthand `signal`: the received one when that is its name.
        if expression != "signal" {
            report_other_signal(ctx, call, literal, None, source, builder, sink);
        }
        return;
    };
    if node::mentions(value, &[expression], ctx.source, Mention::Expression) {
        return;
    }
    report_other_signal(ctx, call, literal, Some(value), source, builder, sink);
}

fn report_other_signal(
    ctx: &RuleContext<'_>,
    call: &Call<'_>,
    literal: &Literal<'_>,
    value: Option<Node<'_>>,
    source: &ContextSource,
    builder: dsr_semantic::FindingBuilder,
    sink: &mut Vec<Finding>,
) {
    let expression = &source.expression;
    let scope = ctx.facts.functions[source.function].node;
    let Some(body) = scope.child_by_field_name("body") else {
        return;
    };
    // Used anywhere else (an `addEventListener("abort", …)`, `AbortSignal.any`): maybe linked; stay quiet.
    let root = expression.split('.').next().unwrap_or(expression);
    let used_elsewhere = node::descendants(body)
        .filter(|n| n.kind() == "identifier" || n.kind() == "shorthand_property_identifier")
        .filter(|n| !TextRange::of(literal.node).contains_range(TextRange::of(*n)))
        .any(|n| ctx.node_text(n) == root);
    if used_elsewhere {
        return;
    }
    let current = value.map_or("signal", |v| ctx.node_text(v));
    let edit = match value {
        Some(v) => Edit::replace(
            TextRange::of(v),
            format!("AbortSignal.any([{expression}, {current}])"),
        ),
        None => match literal.fields.iter().find(|f| f.name == "signal") {
            Some(field) => Edit::replace(
                TextRange::of(field.node),
                format!("signal: AbortSignal.any([{expression}, signal])"),
            ),
            None => return,
        },
    };
    builder
        .title(format!("`{}` is given its own signal (`{current}`) and drops the `AbortSignal` this function receives (`{expression}`)", call.callee_text))
        .actual(format!("the init's `signal` is `{current}`, which knows nothing of `{expression}`: when the caller aborts, this request keeps running"))
        .fix(Fix::edits(
            format!("combine both: `AbortSignal.any([{expression}, {current}])`"),
            Applicability::Maybe,
            vec![edit],
        ))
        .emit(sink);
}
