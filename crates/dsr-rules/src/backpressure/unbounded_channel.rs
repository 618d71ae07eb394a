use dsr_core::{declare_rule, Confidence, Fix, Language, Rule, RuleMeta, TextRange};
use dsr_semantic::facts::{Assignment, Binding, Call, FileFacts};
use dsr_semantic::tree_sitter::Node;
use dsr_semantic::RuleContext;
use dsr_syntax::node;

use crate::shared::compact_text;

declare_rule! {
    /// ## What it finds
    /// A queue between two parts of a process that never says no: Rust's unbounded channels
    /// (`tokio::sync::mpsc::unbounded_channel`, `std::sync::mpsc::channel`, `crossbeam_channel::unbounded`,
    /// `flume::unbounded`, `futures::channel::mpsc::unbounded`, `async_channel::unbounded`) and, in Go, a slice
    /// used as a queue (appended to by a producer goroutine, re-sliced by the consumer) with no length check.
    ///
    /// ## Why it fails under partial failure
    /// When the consumer slows down — its database is degraded, a downstream call times out — the producer keeps
    /// going at full speed and the queue absorbs the difference in memory. Nothing pushes back on the producer, so
    /// the service looks healthy until it is OOM-killed, and everything queued is lost with it. A bounded queue
    /// turns the same overload into backpressure (the sender waits) or an explicit, observable rejection.
    ///
    /// ## Known false positives
    /// A channel whose producer is itself bounded (a fixed number of messages) cannot grow; suppress it with the
    /// reason. Not reported: a channel that only carries `()` (a signal); one owned by a type that counts what it
    /// holds against a capacity (an atomic `fetch_add`/`fetch_update` checked before the send, rejecting when
    /// full); and a request/response channel, whose consumer answers each message through a reply sender the
    /// message carries (`for Job { input, reply } in rx { … reply.send(out) }`) — each sender waits for its
    /// answer, so the queue holds at most one message per waiting caller. In Go, only slices appended to from a
    /// goroutine and re-sliced elsewhere are reported, with medium confidence.
    ///
    /// Not reported in tool, frontend or build code (code roles): a backlog there costs the memory of one run
    /// of a CLI or one tab, not a service's (docs/precision.md, issue 13).
    ///
    /// ## Example
    /// ```rust
    /// use tokio::sync::mpsc;
    ///
    /// fn start() {
    ///     let (tx, rx) = mpsc::unbounded_channel::<Job>();
    ///     spawn_workers(rx);
    ///     accept(tx);
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```rust
    /// use tokio::sync::mpsc;
    ///
    /// fn start() {
    ///     // Senders wait (`send().await`) or fail fast (`try_send`) when 1024 jobs are pending.
    ///     let (tx, rx) = mpsc::channel::<Job>(1024);
    ///     spawn_workers(rx);
    ///     accept(tx);
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Advice only: a bounded channel makes `send` asynchronous or fallible, so every sender has to decide what
    /// to do when the queue is full (wait, drop, reject with 503). That decision is not mechanical.
    ///
    /// ## Configuration
    /// None.
    ///
    /// ## References
    /// - tokio documentation, `tokio::sync::mpsc`: "unbounded channels … can lead to memory exhaustion".
    /// - Fred Hébert, "Queues Don't Fix Overload" (2014).
    pub struct UnboundedChannel {
        code: "BKP001",
        slug: "unbounded-channel",
        family: Backpressure,
        languages: [Rust, Go],
        severity: Medium,
        impact: Availability,
        kind: Finding,
        fix: Never,
        scope: File,
        reads: [StoredValues],
        roles: ServiceClients,
        // Rust: a channel constructor of the knowledge base; Go: a slice appended to (and re-sliced).
        requires: [KbUnboundedChannel, Callee("append")],
    }
}

impl Rule<RuleContext<'_>> for UnboundedChannel {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<dsr_core::Finding>) {
        match ctx.language {
            Language::Rust => check_rust(ctx, sink),
            Language::Go => check_go(ctx, sink),
            _ => {}
        }
    }
}

fn check_rust(ctx: &RuleContext<'_>, sink: &mut Vec<dsr_core::Finding>) {
    // Whether a function of the file counts against a capacity before it sends: the same answer for every
    // channel of the file, so worked out once (per channel it was a scan of every call, and of every call again
    // per counter).
    let counts_before_sending = std::cell::OnceCell::new();
    for call in &ctx.facts.calls {
        let Some(path) = call.path.as_deref() else {
            continue;
        };
        let Some(channel) = ctx.kb.unbounded_channel(ctx.language, path) else {
            continue;
        };
        if carries_only_signals(ctx, call)
            || counted_capacity(ctx, call, &counts_before_sending)
            || replies_per_message(ctx, call)
        {
            continue;
        }
        let bounded = &channel.bounded;
        ctx.finding(&UnboundedChannel::META, TextRange::of(call.callee))
            .title(format!("`{path}` queues without limit"))
            .trigger("the consumer slows down (a degraded dependency, a slow disk) while producers keep sending")
            .expected("a bounded queue that makes producers wait or reject work when it is full")
            .actual(format!("`{}` accepts every message, so pending work grows in memory until the process is OOM-killed and loses all of it", call.callee_text))
            .evidence(call.range(), "unbounded channel created here")
            .fix(Fix::advice(format!("use `{bounded}` and decide what a full queue means for each sender (wait, drop, or reject)")))
            .emit(sink);
    }
}

/// A channel that only ever carries `()` is a signal (shutdown, ready, abort), not a backlog of work: it holds at
/// most one message per signalling sender. Said by its type (`unbounded_channel::<()>()`) or by every send on its
/// sender (`let (tx, rx) = unbounded_channel(); … tx.send(())`).
fn carries_only_signals(ctx: &RuleContext<'_>, call: &Call<'_>) -> bool {
    if call.callee_text.ends_with("::<()>") {
        return true;
    }
    let facts = ctx.facts;
    let Some(Binding::Variable {
        name,
        function,
        from,
    }) = facts.binding_of(call.node, ctx.source)
    else {
        return false;
    };
    // `(tx, rx)`: the sender is the first element of the pattern.
    let Some(sender) = name
        .strip_prefix('(')
        .and_then(|inner| inner.split(',').next())
        .filter(|s| !s.is_empty())
    else {
        return false;
    };
    let sender = Binding::Variable {
        name: sender.trim_start_matches("mut").to_string(),
        function,
        from,
    };
    let mut sends = facts
        .calls_on(&sender)
        .filter(|c| c.method.as_deref() == Some("send"))
        .peekable();
    sends.peek().is_some()
        && sends.all(|c| matches!(c.args.as_slice(), [only] if compact_text(ctx, *only) == "()"))
}

/// A request/response channel: the consumer takes each message apart and answers through a reply sender the
/// message carries (`for Job { input, reply } in rx { … reply.send(out) }`, `while let Some(req) =
/// rx.recv().await { … req.reply.send(out) }`). The sender of each message holds the other end and waits on it
/// (`tx.send(Job { input, reply })?; reply_rx.await`), so the queue holds at most one message per waiting
/// caller: its depth is bounded by the callers' own concurrency, not by a producer's rate. Found on the
/// channel's receiver, the second name of the `let (tx, rx)` pattern, where the function that made it consumes it
/// (in a closure or task it spawns too).
fn replies_per_message(ctx: &RuleContext<'_>, call: &Call<'_>) -> bool {
    let facts = ctx.facts;
    let Some(Binding::Variable { name, function, .. }) = facts.binding_of(call.node, ctx.source)
    else {
        return false;
    };
    let Some(receiver) = name
        .strip_prefix('(')
        .and_then(|inner| inner.strip_suffix(')'))
        .and_then(|inner| inner.split(',').nth(1))
        .map(|r| r.trim_start_matches("mut"))
        .filter(|r| !r.is_empty())
    else {
        return false;
    };
    let Some(scope) = function.map(|f| facts.functions[facts.outermost_function(f)].range()) else {
        return false;
    };
    facts
        .nodes_within(scope)
        .iter()
        .copied()
        .filter(|n| matches!(n.kind(), "for_expression" | "while_expression"))
        .filter(|n| {
            scope.contains_range(TextRange::of(*n)) && n.start_byte() > call.node.end_byte()
        })
        .any(|consumer| {
            let Some((message, body)) = received_message(ctx, consumer, receiver) else {
                return false;
            };
            let (bound, whole) = message_bindings(ctx, message);
            let body = TextRange::of(body);
            facts.calls_within(body).any(|reply| {
                reply.method.as_deref() == Some("send")
                    && reply.receiver.is_some_and(|r| match r.kind() {
                        "identifier" => bound.iter().any(|b| b == ctx.node_text(r)),
                        // `req.reply.send(out)`: a field of the message itself.
                        "field_expression" => r
                            .child_by_field_name("value")
                            .is_some_and(|v| whole.as_deref() == Some(ctx.node_text(v))),
                        _ => false,
                    })
            })
        })
}

/// The pattern each message of `receiver` is bound to by the loop `consumer`, and the loop's body:
/// `for PAT in rx`, `while let Some(PAT) = rx.recv().await`, `while let Ok(PAT) = rx.recv()`.
fn received_message<'t>(
    ctx: &RuleContext<'_>,
    consumer: Node<'t>,
    receiver: &str,
) -> Option<(Node<'t>, Node<'t>)> {
    let body = consumer.child_by_field_name("body")?;
    match consumer.kind() {
        "for_expression" => {
            let value = consumer.child_by_field_name("value")?;
            let value = compact_text(ctx, value);
            let value = value.trim_start_matches('&').trim_start_matches("mut");
            if value != receiver {
                return None;
            }
            Some((consumer.child_by_field_name("pattern")?, body))
        }
        _ => {
            let condition = consumer.child_by_field_name("condition")?;
            if condition.kind() != "let_condition" {
                return None;
            }
            let value = condition.child_by_field_name("value")?;
            let value = compact_text(ctx, value);
            let received = [".recv().await", ".recv()", ".recv_async().await"]
                .iter()
                .any(|suffix| value.strip_suffix(suffix) == Some(receiver));
            if !received {
                return None;
            }
            // `Some(PAT)` / `Ok(PAT)`: the message is the variant's one field.
            let wrapped = condition.child_by_field_name("pattern")?;
            let inner = (wrapped.kind() == "tuple_struct_pattern")
                .then(|| node::named_children(wrapped).nth(1))
                .flatten()?;
            Some((inner, body))
        }
    }
}

/// What a message pattern binds: the names its struct pattern gives the fields (`Job { input, cb }`, `Job { cb:
/// reply, .. }`), and the whole message's name when it binds one (`job`).
fn message_bindings(ctx: &RuleContext<'_>, pattern: Node<'_>) -> (Vec<String>, Option<String>) {
    match pattern.kind() {
        "identifier" => (Vec::new(), Some(ctx.node_text(pattern).to_string())),
        "struct_pattern" => {
            let names = node::named_children(pattern)
                .filter(|f| f.kind() == "field_pattern")
                .filter_map(|f| {
                    f.child_by_field_name("pattern")
                        .or_else(|| f.child_by_field_name("name"))
                })
                .filter(|n| matches!(n.kind(), "identifier" | "shorthand_field_identifier"))
                .map(|n| ctx.node_text(n).to_string())
                .collect();
            (names, None)
        }
        _ => (Vec::new(), None),
    }
}

/// The update methods of the standard atomics (`std::sync::atomic`) that a counted capacity is checked with.
const ATOMIC_COUNTERS: &[&str] = &[
    "fetch_add",
    "fetch_update",
    "compare_exchange",
    "compare_exchange_weak",
];

/// A channel owned by a type that counts what it holds against a capacity: the channel is made in a function
/// that builds a struct (`Self { tx, len: AtomicUsize::new(0), cap }`), and a function of the file bumps an
/// atomic counter before it sends, leaving with an error when the counter is full (`?`, or a `return`). The
/// bound is there, enforced around the channel rather than by it.
fn counted_capacity(
    ctx: &RuleContext<'_>,
    call: &Call<'_>,
    counts_before_sending: &std::cell::OnceCell<bool>,
) -> bool {
    let facts = ctx.facts;
    // The outermost function: the channel may be made in a closure (`array::from_fn(|_| unbounded())`).
    let Some(maker) = call
        .function
        .map(|f| facts.functions[facts.outermost_function(f)].node)
    else {
        return false;
    };
    if !node::descendants(maker).any(|n| n.kind() == "struct_expression") {
        return false;
    }
    *counts_before_sending.get_or_init(|| counts_before_sending_in(facts))
}

/// A function of the file bumps an atomic counter, leaves with an error when it is full (`?`, or a `return`),
/// and sends after it.
fn counts_before_sending_in(facts: &FileFacts<'_>) -> bool {
    facts.calls.iter().any(|counter| {
        let checked = || {
            // The recorded parents: tree-sitter's `parent` descends from the root on every step.
            facts
                .ancestors(counter.node)
                .take_while(|a| Some(*a) != counter.function.map(|f| facts.functions[f].node))
                .any(|a| match a.kind() {
                    "try_expression" => true,
                    "if_expression" => a.child_by_field_name("consequence").is_some_and(|body| {
                        node::descendants(body).any(|n| n.kind() == "return_expression")
                    }),
                    _ => false,
                })
        };
        // The counter's own function's calls (a binary search), not every call of the file.
        let same_function: Box<dyn Iterator<Item = &Call<'_>>> = match counter.function {
            Some(f) => Box::new(facts.calls_in(f)),
            None => Box::new(facts.calls.iter()),
        };
        counter
            .method
            .as_deref()
            .is_some_and(|m| ATOMIC_COUNTERS.contains(&m))
            && checked()
            && same_function.into_iter().any(|send| {
                send.function == counter.function
                    && send.node.start_byte() > counter.node.end_byte()
                    && matches!(send.method.as_deref(), Some("send" | "try_send"))
            })
    })
}

/// Go: `q = append(q, x)` inside a goroutine, `q = q[1:]` elsewhere, and no `len(q)` check next to the append.
fn check_go(ctx: &RuleContext<'_>, sink: &mut Vec<dsr_core::Finding>) {
    let facts = ctx.facts;
    // The re-slicing pops (`q = q[1:]`), found once: looking for a pop among every assignment of the file per
    // append was quadratic in large files, which append everywhere.
    let pops: Vec<&Assignment<'_>> = facts
        .assignments
        .iter()
        .filter(|a| a.value.is_some_and(|v| is_reslice_of(ctx, v, &a.target)))
        .collect();
    for push in facts.assignments.iter().filter(|a| !a.declares) {
        let Some(value) = push.value else { continue };
        if !is_append_to(ctx, value, &push.target) {
            continue;
        }
        // The pop must be the same variable: a local of the same name in another function is another queue.
        let is_local = !push.target.contains('.');
        let declaration =
            |a: &Assignment<'_>| facts.declaration_of(a.function, &a.target, a.node.start_byte());
        let pushed = declaration(push);
        if is_local && pushed.is_none() {
            continue;
        }
        let Some(pop) = pops
            .iter()
            .find(|a| a.target == push.target && (!is_local || declaration(a) == pushed))
        else {
            continue;
        };
        if !runs_in_goroutine(ctx, facts, push) || has_length_check(ctx, facts, push) {
            continue;
        }
        ctx.finding(&UnboundedChannel::META, TextRange::of(push.node))
            .title(format!("slice `{}` is used as a queue with no bound", push.target))
            .confidence(Confidence::Medium)
            .trigger("the consumer that re-slices the queue falls behind the producer goroutine")
            .expected("a bounded channel, or a length check that rejects or blocks when the queue is full")
            .actual(format!("a goroutine appends to `{}` with no length check, so the backlog grows in memory without limit", push.target))
            .evidence(TextRange::of(pop.node), "consumed here by re-slicing")
            .fix(Fix::advice(format!("replace the slice with a buffered channel (`make(chan T, n)`) or check `len({}) >= max` before appending", push.target)))
            .emit(sink);
    }
}

fn is_append_to(ctx: &RuleContext<'_>, value: Node<'_>, target: &str) -> bool {
    value.kind() == "call_expression"
        && value
            .child_by_field_name("function")
            .is_some_and(|f| ctx.node_text(f) == "append")
        && value
            .child_by_field_name("arguments")
            .and_then(|a| node::named_children(a).next())
            .is_some_and(|first| compact_text(ctx, first) == target)
}

fn is_reslice_of(ctx: &RuleContext<'_>, value: Node<'_>, target: &str) -> bool {
    value.kind() == "slice_expression"
        && value
            .child_by_field_name("operand")
            .is_some_and(|o| compact_text(ctx, o) == target)
        && value.child_by_field_name("start").is_some()
}

/// The append is in a `go func(){…}()` literal, or in a function/method some `go` statement of the file starts.
fn runs_in_goroutine(ctx: &RuleContext<'_>, facts: &FileFacts<'_>, push: &Assignment<'_>) -> bool {
    if node::ancestors(push.node).any(|n| n.kind() == "go_statement") {
        return true;
    }
    let Some(function) = push.function else {
        return false;
    };
    let name = &facts.functions[function].name;
    let short = name.rsplit('.').next().unwrap_or(name);
    let Some(tree) = ctx.tree else { return false };
    node::descendants(tree.root_node())
        .filter(|n| n.kind() == "go_statement")
        .filter_map(|n| node::named_children(n).next())
        .filter_map(|call| call.child_by_field_name("function"))
        .any(|callee| {
            let text = ctx.node_text(callee);
            text == short || text.ends_with(&format!(".{short}"))
        })
}

/// A `len(q)` anywhere in the appending function counts as a bound (a guard, a drop-oldest, a wait).
fn has_length_check(ctx: &RuleContext<'_>, facts: &FileFacts<'_>, push: &Assignment<'_>) -> bool {
    let scope = push
        .function
        .map(|f| facts.functions[f].node)
        .or_else(|| push.node.parent());
    let Some(scope) = scope else { return false };
    // The calls inside the scope (a binary search), not every call of the file per append.
    facts.calls_within(TextRange::of(scope)).any(|call| {
        call.callee_text == "len"
            && call
                .args
                .first()
                .is_some_and(|a| compact_text(ctx, *a) == push.target)
    })
}
