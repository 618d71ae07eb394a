use dsr_core::kb::PathGroupKind;
use dsr_core::{declare_rule, Confidence, Finding, Fix, Language, Rule, RuleMeta, TextRange};
use dsr_semantic::facts::{ContextKind, ContextSource};
use dsr_semantic::models::locks::words;
use dsr_semantic::models::remote::RemoteCalls;
use dsr_semantic::tree_sitter::Node;
use dsr_semantic::RuleContext;
use dsr_syntax::node;

use crate::shared::compact_text;

declare_rule! {
    /// ## What it finds
    /// A wait that a cancelled caller cannot interrupt. Go, in a function that has a `context.Context` or an
    /// `*http.Request` (or is nested in one): a `select` whose cases are all channel operations — no
    /// `default`, no `<-ctx.Done()`, no `time.After`/timer/ticker case, no shutdown channel; and a bare
    /// receive `<-ch` whose channel a goroutine of the same function fills after a remote call that is not
    /// given the context. Rust: a `tokio::select!` inside a loop, in a function that receives a cancellation
    /// token, a shutdown receiver or a timeout, with no branch on it (nor a sleep or timeout); and a blocking
    /// `std::sync::mpsc` (or crossbeam/flume) `recv()` or a `std::thread::JoinHandle::join()` called in async
    /// code, where it blocks the executor thread.
    ///
    /// ## Why it fails under partial failure
    /// Cancellation is how a caller that has given up — a client that disconnected, a deadline that passed, a
    /// shutdown — frees the resources working for it. A wait that does not watch for it keeps the goroutine or
    /// task, its memory, its connections and its locks alive for as long as the thing it waits for takes: when a
    /// dependency hangs, abandoned requests pile up behind it until the service runs out of goroutines, file
    /// descriptors or memory, and a graceful shutdown hangs until it is killed. A blocking receive or join in
    /// async Rust is worse: it parks the executor thread itself, so every other task scheduled on it stalls too,
    /// and dropping the task cannot interrupt it.
    ///
    /// ## Known false positives
    /// A channel that is always answered promptly (filled by in-memory work, or by a remote call that is given
    /// the context and so returns when it is cancelled) is safe to receive from; such receives are not reported.
    /// A case on a channel named like a shutdown signal (`done`, `quit`, `stop`, `shutdown`, `closing`) counts
    /// as a way out. Rust receivers whose type the file does not show are reported with medium confidence when
    /// the file imports `std::sync::mpsc` (or uses `std::thread::spawn` for `join`) and the call is not awaited.
    ///
    /// ## Example
    /// ```go
    /// package worker
    ///
    /// import "context"
    ///
    /// func forward(ctx context.Context, jobs <-chan string, out chan<- string) {
    ///     for {
    ///         select {
    ///         case job := <-jobs:
    ///             out <- job
    ///         }
    ///     }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// package worker
    ///
    /// import "context"
    ///
    /// func forward(ctx context.Context, jobs <-chan string, out chan<- string) {
    ///     for {
    ///         select {
    ///         case job := <-jobs:
    ///             out <- job
    ///         case <-ctx.Done():
    ///             return
    ///         }
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Advice only: what to do on cancellation (return `ctx.Err()`, `break` out of a loop, drain and close) and
    /// what a Rust task should run instead of a blocking call (`spawn_blocking`, an async channel) depends on the
    /// surrounding code.
    ///
    /// ## Configuration
    /// None.
    ///
    /// ## References
    /// - Go blog, "Go Concurrency Patterns: Context" and "Pipelines and cancellation".
    /// - tokio documentation, `tokio::select!` ("Cancellation safety") and `tokio_util::sync::CancellationToken`;
    ///   "Bridging with sync code" (`spawn_blocking`).
    pub struct WaitIgnoresCancellation {
        code: "RES003",
        slug: "wait-ignores-cancellation",
        family: Resilience,
        languages: [Go, Rust],
        severity: Medium,
        impact: Availability,
        kind: Finding,
        fix: Never,
        scope: Function,
        reads: [RemoteCalls],
        roles: Clients,
    }
}

/// Names of channels and parameters that carry a stop signal.
const STOP_WORDS: &[&str] = &[
    "done", "quit", "stop", "shutdown", "cancel", "closing", "close", "exit", "term", "abort",
    "kill", "dying", "timeout", "deadline", "ctx", "signal",
];

impl Rule<RuleContext<'_>> for WaitIgnoresCancellation {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        if ctx.tree.is_none() {
            return;
        }
        match ctx.language {
            Language::Go => check_go(ctx, sink),
            Language::Rust => check_rust(ctx, sink),
            _ => {}
        }
    }
}

fn is_stop_name(text: &str) -> bool {
    words(text)
        .iter()
        .any(|w| STOP_WORDS.iter().any(|s| w.starts_with(s)))
}

// ---------------------------------------------------------------------------------------------------------
// Go

fn check_go(ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
    for n in ctx
        .facts
        .nodes_of_kind(&["select_statement", "unary_expression"])
    {
        match n.kind() {
            "select_statement" => {
                let Some(source) = context_at(ctx, n) else {
                    continue;
                };
                check_select(ctx, n, &source, sink);
            }
            "unary_expression" if is_receive(ctx, n) && !in_select_case(ctx, n) => {
                let Some(source) = context_at(ctx, n) else {
                    continue;
                };
                check_receive(ctx, n, &source, ctx.remote_calls(), sink);
            }
            _ => {}
        }
    }
}

/// The caller's context visible at `n`: a `context.Context` or `*http.Request` parameter of its function or
/// of one it is nested in.
fn context_at(ctx: &RuleContext<'_>, n: Node<'_>) -> Option<ContextSource> {
    let function = ctx.facts.function_at(n.start_byte())?;
    ctx.facts.context_source(function, ctx.source)
}

fn is_receive(ctx: &RuleContext<'_>, n: Node<'_>) -> bool {
    n.child_by_field_name("operator")
        .is_some_and(|o| ctx.node_text(o) == "<-")
}

fn in_select_case(ctx: &RuleContext<'_>, n: Node<'_>) -> bool {
    let facts = ctx.facts;
    facts.parent(n).is_some_and(|p| {
        p.kind() == "communication_case"
            || p.kind() == "receive_statement"
                && facts
                    .parent(p)
                    .is_some_and(|c| c.kind() == "communication_case")
    })
}

fn check_select(
    ctx: &RuleContext<'_>,
    select: Node<'_>,
    source: &ContextSource,
    sink: &mut Vec<Finding>,
) {
    let cases: Vec<Node<'_>> = node::named_children(select)
        .filter(|c| c.kind().ends_with("_case"))
        .collect();
    if cases.is_empty() || cases.iter().any(|c| c.kind() == "default_case") {
        return;
    }
    let mut channels = Vec::new();
    for case in &cases {
        let Some(communication) = case.child_by_field_name("communication") else {
            return;
        };
        let channel = match communication.kind() {
            "send_statement" => communication.child_by_field_name("channel"),
            "receive_statement" => communication
                .child_by_field_name("right")
                .and_then(|r| r.child_by_field_name("operand")),
            "unary_expression" => communication.child_by_field_name("operand"),
            _ => None,
        };
        let Some(channel) = channel else { return };
        if is_way_out(ctx, select, channel) {
            return;
        }
        channels.push(format!("`{}`", compact_text(ctx, channel)));
    }
    let start = select.start_byte();
    let range = TextRange::new(start, (start + "select".len()).min(select.end_byte()));
    let shown = if channels.len() > 3 {
        format!(
            "{} and {} more",
            channels[..3].join(", "),
            channels.len() - 3
        )
    } else {
        channels.join(" and ")
    };
    let done = done_expression(source);
    ctx.finding(&WaitIgnoresCancellation::META, range)
        .title(format!(
            "`select` waits only on {shown}: `{}` being cancelled does not end the wait",
            source.expression
        ))
        .trigger("the caller gives up (client disconnect, deadline, shutdown) while no case is ready")
        .expected(format!(
            "a `case <-{done}:` (or a timer case) so the wait ends when the caller's context does"
        ))
        .actual(format!(
            "every case is a channel operation, so the goroutine stays blocked — with what it holds — until {} is ready, however long that takes",
            if channels.len() > 1 { format!("one of {shown}") } else { shown.clone() }
        ))
        .fix(Fix::advice(format!(
            "add `case <-{done}:` to the `select`, returning `{}` (or leaving the loop)",
            if source.kind == ContextKind::Request {
                format!("{}.Context().Err()", source.param)
            } else {
                format!("{}.Err()", source.expression)
            }
        )))
        .emit(sink);
}

/// `ctx.Done()`, `r.Context().Done()`.
fn done_expression(source: &ContextSource) -> String {
    format!("{}.Done()", source.expression)
}

/// A case that ends the wait on cancellation or after a time: `ctx.Done()` (any `….Done()`), `time.After`,
/// `time.Tick`, a timer's or ticker's `.C`, a channel named like a stop signal, or a local holding one.
fn is_way_out(ctx: &RuleContext<'_>, select: Node<'_>, channel: Node<'_>) -> bool {
    match channel.kind() {
        "call_expression" => {
            let Some(callee) = channel.child_by_field_name("function") else {
                return false;
            };
            let text = compact_text(ctx, callee);
            let last = text.rsplit('.').next().unwrap_or(&text);
            matches!(last, "Done" | "After" | "Tick" | "Dying" | "Closed") || is_stop_name(&text)
        }
        "selector_expression" => {
            let field = channel
                .child_by_field_name("field")
                .map(|f| ctx.node_text(f))
                .unwrap_or_default();
            field == "C" || is_stop_name(field)
        }
        "identifier" => {
            let name = ctx.node_text(channel);
            if is_stop_name(name) {
                return true;
            }
            let function = ctx.facts.function_at(select.start_byte());
            ctx.facts
                .declared_value(function, name, select.start_byte())
                .is_some_and(|value| value.kind() != "identifier" && is_way_out(ctx, select, value))
        }
        "parenthesized_expression" => node::named_children(channel)
            .next()
            .is_some_and(|inner| is_way_out(ctx, select, inner)),
        _ => false,
    }
}

/// `<-ch` where a goroutine of the same function sends on `ch` after a remote call not given the context.
fn check_receive(
    ctx: &RuleContext<'_>,
    receive: Node<'_>,
    source: &ContextSource,
    remote: &RemoteCalls,
    sink: &mut Vec<Finding>,
) {
    let facts = ctx.facts;
    let Some(channel) = receive.child_by_field_name("operand") else {
        return;
    };
    if !matches!(channel.kind(), "identifier" | "selector_expression") {
        return;
    }
    let channel_text = compact_text(ctx, channel);
    let Some(function) = facts.function_at(receive.start_byte()) else {
        return;
    };
    let scope = facts.functions[facts.outermost_function(function)].node;
    let producer = node::descendants(scope)
        .filter(|n| n.kind() == "go_statement")
        .filter(|g| g.start_byte() < receive.start_byte())
        .find_map(|go| filling_remote_call(ctx, go, &channel_text, source, remote));
    let Some((go, remote_call)) = producer else {
        return;
    };
    let done = done_expression(source);
    ctx.finding(&WaitIgnoresCancellation::META, TextRange::of(receive))
        .title(format!(
            "`<-{channel_text}` waits for a goroutine's remote call with no way out: `{}` being cancelled does not end the wait",
            source.expression
        ))
        .trigger("the remote call hangs or is slow while the caller gives up (client disconnect, deadline, shutdown)")
        .expected(format!(
            "the receive sits in a `select` with `case <-{done}:`, and the remote call is given the context"
        ))
        .actual(format!(
            "the receive blocks until the goroutine sends, and the goroutine's remote call does not get `{}`, so both stay alive as long as the dependency takes",
            source.expression
        ))
        .evidence(TextRange::of(go), "the goroutine that fills the channel")
        .evidence(facts.calls[remote_call].range(), "remote call made without the context")
        .fix(Fix::advice(format!(
            "wait with `select {{ case v := <-{channel_text}: …; case <-{done}: return … }}`, and pass the context to the remote call so the goroutine ends too (make the channel buffered so that its send never blocks)"
        )))
        .emit(sink);
}

/// A `go` statement whose goroutine sends on `channel` and makes a remote call that is not given the caller's
/// context: (the statement, the remote call).
fn filling_remote_call<'t>(
    ctx: &RuleContext<'t>,
    go: Node<'t>,
    channel: &str,
    source: &ContextSource,
    remote: &RemoteCalls,
) -> Option<(Node<'t>, usize)> {
    let facts = ctx.facts;
    let range = TextRange::of(go);
    let sends = node::descendants(go).any(|n| {
        n.kind() == "send_statement"
            && n.child_by_field_name("channel")
                .is_some_and(|c| compact_text(ctx, c) == channel)
    });
    let passes_channel = facts
        .calls_within(range)
        .any(|c| c.args.iter().any(|a| compact_text(ctx, *a) == channel));
    if !sends && !passes_channel {
        return None;
    }
    // A goroutine that gets the context returns when it is cancelled, and so does its send.
    let gets_context =
        node::descendants(go).any(|n| n.kind() == "identifier" && ctx.node_text(n) == source.param);
    if gets_context {
        return None;
    }
    let remote_call = facts
        .call_indexes_within(range)
        .find(|i| remote.remote(*i).is_some())?;
    Some((go, remote_call))
}

// ---------------------------------------------------------------------------------------------------------
// Rust

fn check_rust(ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
    let facts = ctx.facts;
    for call in &facts.calls {
        if matches!(
            call.path.as_deref(),
            Some("tokio::select!" | "futures::select!")
        ) {
            check_tokio_select(ctx, call.node, sink);
            continue;
        }
        let Some(method) = call.method.as_deref() else {
            continue;
        };
        if !matches!(method, "recv" | "join") || !call.args.is_empty() {
            continue;
        }
        if ctx
            .facts
            .parent(call.node)
            .is_some_and(|p| matches!(p.kind(), "await_expression" | "arguments"))
        {
            continue;
        }
        if !in_async_context(ctx, call.node) {
            continue;
        }
        let Some(receiver) = call.receiver else {
            continue;
        };
        let Some(confidence) = blocking_receiver(ctx, call, receiver, method) else {
            continue;
        };
        report_blocking(ctx, call, method, confidence, sink);
    }
}

/// The nearest async boundary decides: an `async` block or `async fn`/closure is async code, a plain closure
/// (what `spawn_blocking` runs) or `fn` is not.
fn in_async_context(ctx: &RuleContext<'_>, n: Node<'_>) -> bool {
    for a in ctx.facts.ancestors(n) {
        match a.kind() {
            "async_block" => return true,
            "function_item" | "closure_expression" => {
                return ctx
                    .facts
                    .function_index(a)
                    .is_some_and(|f| ctx.facts.functions[f].is_async);
            }
            _ => {}
        }
    }
    false
}

/// Whether `receiver.recv()` / `receiver.join()` blocks: the receiver comes from `std::sync::mpsc::channel`,
/// crossbeam or flume, or a `std::thread::spawn` handle (high confidence); or its origin is not in the file but
/// the file imports the blocking API (a module of the kb's group) and no async channel (medium).
fn blocking_receiver(
    ctx: &RuleContext<'_>,
    call: &dsr_semantic::facts::Call<'_>,
    receiver: Node<'_>,
    method: &str,
) -> Option<Confidence> {
    let facts = ctx.facts;
    let (origin, typed_as) = match method {
        "recv" => (
            PathGroupKind::BlockingChannel,
            PathGroupKind::BlockingReceiver,
        ),
        _ => (PathGroupKind::ThreadSpawn, PathGroupKind::ThreadHandle),
    };
    let blocking_origin = |path: &str| ctx.kb.is_in_group(ctx.language, path, origin);
    let origin_call = |value: Node<'_>| -> Option<String> {
        let mut current = value;
        // `thread::spawn(…)`, `Builder::new().spawn(…)?`, `….unwrap()`.
        for _ in 0..8 {
            let inner = match current.kind() {
                "try_expression" | "parenthesized_expression" => current.named_child(0),
                "call_expression" => {
                    let c = &facts.calls[facts.call_index(current)?];
                    if let Some(path) = &c.path {
                        return Some(path.clone());
                    }
                    c.receiver
                }
                _ => None,
            };
            current = inner?;
        }
        None
    };
    if receiver.kind() == "call_expression" {
        if let Some(path) = origin_call(receiver) {
            return blocking_origin(&path).then_some(Confidence::High);
        }
    }
    if receiver.kind() == "identifier" {
        let name = ctx.node_text(receiver);
        // `let (tx, rx) = mpsc::channel();` binds through a tuple pattern.
        let declared = facts
            .assignments
            .iter()
            .filter(|a| a.declares && a.node.start_byte() < call.node.start_byte())
            .filter(|a| {
                a.target == name
                    || a.target.starts_with('(')
                        && a.target
                            .trim_matches(['(', ')'])
                            .split(',')
                            .any(|part| part.trim_start_matches("mut") == name)
            })
            .filter(|a| a.function.is_none() || a.function == call.function)
            .max_by_key(|a| a.node.start_byte())
            .and_then(|a| a.value);
        if let Some(value) = declared {
            if let Some(path) = origin_call(value) {
                return blocking_origin(&path).then_some(Confidence::High);
            }
            return None;
        }
        let typed = facts.function_at(call.node.start_byte()).and_then(|f| {
            facts.functions[f]
                .params
                .iter()
                .find(|p| p.name == name)
                .and_then(|p| p.type_path.clone())
        });
        if let Some(path) = typed {
            let blocking = ctx.kb.is_in_group(ctx.language, &path, typed_as);
            return blocking.then_some(Confidence::High);
        }
    }
    // A group's modules are its paths less the last segment (`std::sync::mpsc::channel` → `std::sync::mpsc`).
    let imports_module_of = |group: PathGroupKind| {
        ctx.kb.group_paths(ctx.language, group).any(|path| {
            let module = path.rsplit_once("::").map_or(path, |(module, _)| module);
            facts.imports_module(module)
        })
    };
    let inferred = match method {
        "recv" => {
            imports_module_of(PathGroupKind::BlockingChannel)
                && !imports_module_of(PathGroupKind::AsyncChannel)
        }
        _ => {
            facts
                .calls
                .iter()
                .any(|c| c.path.as_deref().is_some_and(&blocking_origin))
                || imports_module_of(PathGroupKind::ThreadSpawn)
        }
    };
    inferred.then_some(Confidence::Medium)
}

fn report_blocking(
    ctx: &RuleContext<'_>,
    call: &dsr_semantic::facts::Call<'_>,
    method: &str,
    confidence: Confidence,
    sink: &mut Vec<Finding>,
) {
    let written = format!("{}()", call.callee_text);
    let (until, advice) = match method {
        "recv" => (
            "a message arrives",
            "use a `tokio::sync::mpsc` channel and `rx.recv().await` (add a `select!` branch on the cancellation token), or move the blocking receive into `tokio::task::spawn_blocking`",
        ),
        _ => (
            "the thread finishes",
            "run the work with `tokio::task::spawn_blocking` and `.await` its handle (with a timeout or a cancellation branch)",
        ),
    };
    ctx.finding(&WaitIgnoresCancellation::META, call.range())
        .title(format!(
            "`{written}` blocks the async executor: the worker thread stalls until {until}, and cancelling the task cannot interrupt it"
        ))
        .confidence(confidence)
        .trigger(format!("{until} late or never (a stuck producer, a hung thread)"))
        .expected("async code waits with `.await` on an async primitive, so the executor can run other tasks and dropping the task ends the wait")
        .actual(format!(
            "`{written}` is a blocking call inside async code: it parks an executor thread, stalling every task scheduled on it, and no timeout or cancellation can reach it"
        ))
        .fix(Fix::advice(advice))
        .emit(sink);
}

/// `tokio::select!` in a loop of a function that receives a cancellation token, shutdown receiver or timeout,
/// with no branch on it, no sleep or timeout, and no stop-named future.
fn check_tokio_select(ctx: &RuleContext<'_>, select: Node<'_>, sink: &mut Vec<Finding>) {
    let facts = ctx.facts;
    let Some(function) = facts.function_at(select.start_byte()) else {
        return;
    };
    let in_loop = facts
        .ancestors(select)
        .take_while(|a| {
            !matches!(
                a.kind(),
                "function_item" | "closure_expression" | "async_block"
            )
        })
        .any(|a| {
            matches!(
                a.kind(),
                "loop_expression" | "while_expression" | "for_expression"
            )
        });
    if !in_loop || !in_async_context(ctx, select) {
        return;
    }
    let mut current = Some(function);
    let mut param = None;
    while let Some(index) = current {
        let f = &facts.functions[index];
        param = f
            .params
            .iter()
            .find(|p| is_cancellation_param(&p.name, &p.type_text));
        if param.is_some() {
            break;
        }
        current = f.parent;
    }
    let Some(param) = param else { return };
    let Some(tokens) = select
        .named_children(&mut select.walk())
        .find(|c| c.kind() == "token_tree")
    else {
        return;
    };
    let handled = node::descendants(tokens)
        .filter(|n| n.kind() == "identifier")
        .any(|n| {
            let text = ctx.node_text(n);
            text == param.name
                || matches!(
                    text,
                    "cancelled"
                        | "sleep"
                        | "sleep_until"
                        | "timeout"
                        | "timeout_at"
                        | "interval"
                        | "tick"
                        | "ctrl_c"
                )
                || is_stop_name(text)
        });
    if handled {
        return;
    }
    let callee = select.child_by_field_name("macro").unwrap_or(select);
    let branch = if param.type_text.contains("CancellationToken") {
        format!("_ = {}.cancelled() => break,", param.name)
    } else if param.type_text.contains("Duration") || param.type_text.contains("Instant") {
        format!("_ = tokio::time::sleep({}) => break,", param.name)
    } else {
        format!("_ = {}.recv() => break,", param.name)
    };
    ctx.finding(&WaitIgnoresCancellation::META, TextRange::of(callee))
        .title(format!(
            "`tokio::select!` in a loop has no branch for `{}`: cancelling it does not stop this loop",
            param.name
        ))
        .trigger("shutdown or cancellation is signalled while none of the selected futures completes")
        .expected(format!(
            "a branch on `{}` (or a timeout) in every `select!` the loop waits in",
            param.name
        ))
        .actual(format!(
            "the function receives `{}` but this `select!` never waits on it, so the task keeps waiting — and the shutdown that signalled it hangs — until another branch fires",
            param.name
        ))
        .fix(Fix::advice(format!("add a branch: `{branch}`")))
        .emit(sink);
}

/// A parameter that signals stop: a `CancellationToken`, a shutdown/stop receiver or future, a timeout.
fn is_cancellation_param(name: &str, type_text: &str) -> bool {
    if type_text.contains("CancellationToken") || type_text.contains("Shutdown") {
        return true;
    }
    let signal_type = ["Receiver", "Notify", "Future", "Signal", "Barrier"]
        .iter()
        .any(|t| type_text.contains(t));
    let time_type = type_text.contains("Duration") || type_text.contains("Instant");
    let name_words = words(name);
    let stop_name = name_words.iter().any(|w| {
        [
            "shutdown", "cancel", "stop", "quit", "term", "exit", "done", "close", "kill", "signal",
        ]
        .iter()
        .any(|s| w.starts_with(s))
    });
    let time_name = name_words
        .iter()
        .any(|w| w.starts_with("timeout") || w.starts_with("deadline"));
    signal_type && stop_name || time_type && time_name
}
