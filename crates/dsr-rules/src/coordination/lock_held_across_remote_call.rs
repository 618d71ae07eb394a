use dsr_core::kb::LockScope;
use dsr_core::{declare_rule, Confidence, Finding, Fix, Language, Rule, RuleMeta, TextRange};
use dsr_semantic::models::locks::Acquisition;
use dsr_semantic::models::remote::RemoteCalls;
use dsr_semantic::tree_sitter::Node;
use dsr_semantic::{FileFacts, RuleContext};
use dsr_syntax::node;

use crate::shared::compact_text;

declare_rule! {
    /// ## What it finds
    /// An in-process lock held while the code waits on something slow. Go: `mu.Lock()`/`mu.RLock()` on a
    /// `sync.Mutex`/`RWMutex` followed by a remote call before the matching `Unlock` (or after a `defer
    /// mu.Unlock()`). Rust: a `std::sync` (or parking_lot) `Mutex`/`RwLock` guard still alive at an `.await`;
    /// a tokio/futures `Mutex`/`RwLock` guard still alive at a remote call. TypeScript/JavaScript: an
    /// async-mutex `acquire()` not yet released, or a `runExclusive` callback, around a remote call — asked as an
    /// open question, since serialising callers is often the point there. A remote call is one the knowledge
    /// base marks as network I/O, or a call to a function of the same file that makes one.
    ///
    /// ## Why it fails under partial failure
    /// A lock turns the latency of whatever runs under it into everyone's latency. When the dependency behind
    /// the remote call slows down or hangs (no timeout, a partition, a pool exhausted), every goroutine or task
    /// that needs the same lock queues behind it — handlers unrelated to that dependency included — and the
    /// service's throughput collapses to one call at a time. In async Rust a `std::sync` guard held across an
    /// `.await` is worse: the task can be suspended while holding it, so another task on the same worker thread
    /// that blocks on the lock blocks the thread that would resume the holder — a deadlock — and the future is no
    /// longer `Send`.
    ///
    /// ## Known false positives
    /// A lock whose whole purpose is to serialise one remote operation (refreshing a shared token once instead of
    /// N times) is intended; the TypeScript form is asked as an open question for that reason, and Go/Rust
    /// findings can be suppressed with the reason. Not reported: a Go lock that serialises a fill of its owner's
    /// own state — the remote call runs only while a field of the owner is `nil` (a lazy initialisation), or after
    /// a re-check of the owner's state that returns early (a single flight: waiters take the holder's result); a
    /// Go lock with no `Unlock` in the function (it
    /// is handed to another function); calls in a `go` statement, a `defer`, a closure or a spawned `async` block;
    /// a Rust guard dropped (`drop(guard)`) or whose block ends before the `.await`; `let _ = m.lock()` (dropped at
    /// once); temporaries in an `if` condition (dropped before the body). Go locks whose type the file does not
    /// show (a field declared in another file) are reported with medium confidence when the file imports `sync`
    /// and no distributed lock library.
    ///
    /// ## Example
    /// ```go
    /// package cache
    ///
    /// import (
    ///     "net/http"
    ///     "sync"
    /// )
    ///
    /// type Prices struct {
    ///     mu     sync.Mutex
    ///     client *http.Client
    ///     byID   map[string]*http.Response
    /// }
    ///
    /// func (p *Prices) Refresh(req *http.Request) error {
    ///     p.mu.Lock()
    ///     defer p.mu.Unlock()
    ///     resp, err := p.client.Do(req)
    ///     if err != nil {
    ///         return err
    ///     }
    ///     p.byID[req.URL.Path] = resp
    ///     return nil
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// package cache
    ///
    /// import (
    ///     "net/http"
    ///     "sync"
    /// )
    ///
    /// type Prices struct {
    ///     mu     sync.Mutex
    ///     client *http.Client
    ///     byID   map[string]*http.Response
    /// }
    ///
    /// func (p *Prices) Refresh(req *http.Request) error {
    ///     resp, err := p.client.Do(req)
    ///     if err != nil {
    ///         return err
    ///     }
    ///     p.mu.Lock()
    ///     p.byID[req.URL.Path] = resp
    ///     p.mu.Unlock()
    ///     return nil
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Advice only: moving the call out of the critical section changes what the lock protects (another
    /// caller may now run the same call concurrently, or see state from before it), which needs a human to
    /// decide — often the answer is to copy what the call needs under the lock, call without it, and re-lock to
    /// apply the result, or to share one in-flight call (`singleflight`).
    ///
    /// ## Configuration
    /// None.
    ///
    /// ## References
    /// - tokio documentation, "Which kind of mutex should you use?" (`tokio::sync::Mutex`): a std mutex must not
    ///   be held across an `.await`.
    /// - clippy lint `await_holding_lock`.
    /// - Go `golang.org/x/sync/singleflight`.
    pub struct LockHeldAcrossRemoteCall {
        code: "LCK004",
        slug: "lock-held-across-remote-call",
        family: Coordination,
        languages: [Go, Rust, TypeScript],
        severity: Medium,
        impact: Availability,
        kind: Finding,
        fix: Never,
        scope: Function,
        reads: [Locks, RemoteCalls],
    }
}

impl Rule<RuleContext<'_>> for LockHeldAcrossRemoteCall {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        let locks = ctx.locks();
        if !locks
            .acquisitions
            .iter()
            .any(|a| a.scope == LockScope::Process)
        {
            return;
        }
        let remote = ctx.remote_calls();
        for acquisition in locks
            .acquisitions
            .iter()
            .filter(|a| a.scope == LockScope::Process)
        {
            match ctx.language {
                Language::Go => check_go(ctx, acquisition, remote, sink),
                Language::Rust => check_rust(ctx, acquisition, remote, sink),
                _ => check_typescript(ctx, acquisition, remote, sink),
            }
        }
    }
}

/// The calls of `region` made while the lock is still held: in the same function (or async block) as the
/// acquisition — `scope` — not in a `go`/`defer` statement, and with no release on their path before them.
fn held_calls<'t>(
    ctx: &RuleContext<'t>,
    acquisition: &Acquisition<'t, '_>,
    region: TextRange,
    scope: Option<Node<'t>>,
) -> Vec<usize> {
    let facts = ctx.facts;
    let releases: Vec<Node<'_>> = acquisition
        .releases
        .iter()
        .filter(|r| !r.deferred)
        .map(|r| facts.calls[r.call].node)
        .collect();
    let function = facts.calls[acquisition.call].function;
    // The calls in the region, by binary search: a scan of every call of the file per acquisition was
    // quadratic.
    facts
        .call_indexes_within(region)
        .map(|i| (i, &facts.calls[i]))
        // Cheap tests first: the same function, then the tree walks.
        .filter(|(i, c)| {
            *i != acquisition.call
                && c.function == function
                && context_of(ctx, c.node) == scope
                && !facts
                    .ancestors(c.node)
                    .take_while(|a| TextRange::of(*a).start >= region.start)
                    .any(|a| matches!(a.kind(), "go_statement" | "defer_statement"))
                && !released_before(facts, &releases, region.start, c.node.start_byte())
        })
        .map(|(i, _)| i)
        .collect()
}

/// A release between the acquisition and `at` whose block also holds `at`: on every path to `at`, the lock was
/// given back (an early `Unlock` inside an `if` that returns does not count for the code after the `if`).
fn released_before<'t>(
    facts: &FileFacts<'t>,
    releases: &[Node<'t>],
    start: usize,
    at: usize,
) -> bool {
    releases.iter().any(|release| {
        release.start_byte() > start
            && release.start_byte() < at
            && facts
                .enclosing_statement(*release)
                .and_then(|s| facts.parent(s))
                .is_some_and(|block| TextRange::of(block).contains(at))
    })
}

/// The function, closure or async block a node runs in.
fn context_of<'t>(ctx: &RuleContext<'t>, n: Node<'t>) -> Option<Node<'t>> {
    let kinds = node::function_kinds(ctx.language);
    ctx.facts
        .ancestors(n)
        .find(|a| kinds.contains(&a.kind()) || a.kind() == "async_block")
}

fn remote_calls(remote: &RemoteCalls, calls: &[usize]) -> Vec<usize> {
    calls
        .iter()
        .copied()
        .filter(|c| remote.remote(*c).is_some())
        .collect()
}

fn check_go<'t>(
    ctx: &RuleContext<'t>,
    acquisition: &Acquisition<'t, '_>,
    remote: &RemoteCalls,
    sink: &mut Vec<Finding>,
) {
    let facts = ctx.facts;
    // A lock no code of this function gives back is handed over to another function.
    if acquisition.releases.is_empty() {
        return;
    }
    let call = &facts.calls[acquisition.call];
    let Some(function) = call.function else {
        return;
    };
    let start = acquisition
        .statement
        .map_or(call.node.end_byte(), |s| s.end_byte());
    // An `Unlock` in the `Lock`'s own block ends the critical section for everything after it, a loop body's
    // included; releases in nested blocks only cover their own paths (see `released_before`).
    let block = acquisition.statement.and_then(|s| facts.parent(s));
    let end = acquisition
        .releases
        .iter()
        .filter(|r| !r.deferred)
        .map(|r| facts.calls[r.call].node)
        .filter(|r| r.start_byte() > start)
        .filter(|r| facts.enclosing_statement(*r).and_then(|s| facts.parent(s)) == block)
        .map(|r| r.start_byte())
        .min()
        .unwrap_or(facts.functions[function].range().end);
    let region = TextRange::new(start, end.max(start));
    let held = held_calls(ctx, acquisition, region, context_of(ctx, call.node));
    let calls: Vec<usize> = remote_calls(remote, &held)
        .into_iter()
        .filter(|c| {
            !acquisition.serialises_owner_fill(
                facts,
                ctx.source,
                region.start,
                facts.calls[*c].node,
            )
        })
        .collect();
    let Some(first) = calls.first() else { return };
    let lock = acquisition.lock.clone().unwrap_or_default();
    let library = acquisition.library().map_or("sync.Mutex", |l| &l.library);
    let deferred = acquisition.releases.iter().all(|r| r.deferred);
    let first_call = &facts.calls[*first];
    let mut builder = ctx
        .finding(&LockHeldAcrossRemoteCall::META, TextRange::of(call.callee))
        .title(format!(
            "`{lock}` ({library}) is held across `{}`, a remote call: every goroutine that needs `{lock}` waits on the network too",
            callee(ctx, first_call.callee)
        ))
        .trigger("the dependency behind the call slows down or hangs (no timeout, a partition, an exhausted pool)")
        .expected("the lock covers only in-memory work; remote calls run before it is taken or after it is released")
        .actual(format!(
            "`{lock}` stays locked for the whole round trip{}, so callers needing it queue behind the slowest request",
            if deferred { " (it is unlocked by a `defer` when the function returns)" } else { "" }
        ));
    if !acquisition.declared {
        builder = builder.confidence(Confidence::Medium);
    }
    builder = evidence(ctx, builder, remote, &calls);
    builder
        .fix(Fix::advice(format!(
            "unlock `{lock}` before the remote call: copy what it needs under the lock, call without it, and re-lock to store the result (or share one in-flight call with `singleflight`)"
        )))
        .emit(sink);
}

fn check_rust<'t>(
    ctx: &RuleContext<'t>,
    acquisition: &Acquisition<'t, '_>,
    remote: &RemoteCalls,
    sink: &mut Vec<Finding>,
) {
    let facts = ctx.facts;
    let Some(library) = acquisition.library() else {
        return;
    };
    let call = &facts.calls[acquisition.call];
    let Some(statement) = acquisition.statement else {
        return;
    };
    let region = match acquisition.handle.as_deref() {
        // `let _ = m.lock()` drops the guard at once.
        Some("_") => return,
        Some(_) if statement.kind() == "let_declaration" => {
            let block = facts.parent(statement).unwrap_or(statement);
            TextRange::new(statement.end_byte(), block.end_byte())
        }
        // A temporary guard lives to the end of its statement (through a `match` or `if let` body), except in an
        // `if`/`while` condition, which drops it before the body.
        _ => TextRange::new(
            call.node.end_byte(),
            temporary_end(facts, call.node, statement),
        ),
    };
    let held = held_calls(ctx, acquisition, region, context_of(ctx, call.node));
    let lock = acquisition.lock.clone().unwrap_or_default();
    let (subject, guard) = match acquisition.handle.as_deref() {
        Some(handle) => (
            format!("{} guard `{handle}` on `{lock}`", library.library),
            format!("guard `{handle}`"),
        ),
        None => (
            format!("a temporary {} guard on `{lock}`", library.library),
            "temporary guard".to_string(),
        ),
    };
    let mut builder = ctx.finding(&LockHeldAcrossRemoteCall::META, TextRange::of(call.callee));
    if library.awaited {
        let calls = remote_calls(remote, &held);
        let Some(first) = calls.first() else { return };
        builder = builder
            .title(format!(
                "{subject} is held across `{}`, a remote call: every task that needs the lock waits on the network",
                callee(ctx, facts.calls[*first].callee)
            ))
            .trigger("the dependency behind the call slows down or hangs (no timeout, a partition, an exhausted pool)")
            .expected("the guard covers only in-memory work and is dropped before remote calls")
            .actual(format!(
                "the {guard} stays alive for the whole round trip, so every task locking `{lock}` queues behind the slowest request"
            ));
        builder = evidence(ctx, builder, remote, &calls);
        builder = builder.fix(Fix::advice(
            "drop the guard before the remote call: copy what it needs, release it (`drop(guard)` or a block), call, then lock again to apply the result",
        ));
    } else {
        let Some(await_at) = first_await(ctx, acquisition, region) else {
            return;
        };
        builder = builder
            .title(format!(
                "{subject} is held across an `.await`: the task can be suspended while holding a blocking lock"
            ))
            .trigger("the task is suspended at the `.await` while another task on the same worker thread blocks on the same lock")
            .expected("a blocking (`std::sync`/parking_lot) guard is dropped before every `.await`")
            .actual(format!(
                "the {guard} is still alive at the `.await`: a task blocking on `{lock}` can stall the worker thread that would resume the holder (a deadlock), and the future is not `Send`"
            ))
            .evidence(await_at, "awaited here while the guard is alive");
        builder = builder.fix(Fix::advice(
            "drop the guard before the `.await` (`drop(guard)`, or a block around its use); if the lock must be held across it, use `tokio::sync::Mutex`",
        ));
    }
    if !acquisition.declared {
        builder = builder.confidence(Confidence::Medium);
    }
    builder.emit(sink);
}

/// Where a temporary made at `call` is dropped: the end of `statement`, or of the `if`/`while` condition it is
/// in.
fn temporary_end<'t>(facts: &FileFacts<'t>, call: Node<'t>, statement: Node<'t>) -> usize {
    let mut current = call;
    while current != statement {
        let Some(parent) = facts.parent(current) else {
            break;
        };
        if matches!(parent.kind(), "if_expression" | "while_expression")
            && parent.child_by_field_name("condition") == Some(current)
            && !matches!(current.kind(), "let_condition" | "let_chain")
        {
            return current.end_byte();
        }
        current = parent;
    }
    statement.end_byte()
}

/// The first `.await` in `region` in the guard's own async context with no release (`drop(guard)`) on its
/// path before it.
fn first_await<'t>(
    ctx: &RuleContext<'t>,
    acquisition: &Acquisition<'t, '_>,
    region: TextRange,
) -> Option<TextRange> {
    let call = ctx.facts.calls[acquisition.call].node;
    let scope = context_of(ctx, call);
    let root = match scope {
        Some(scope) => scope,
        None => ctx.tree?.root_node(),
    };
    let releases: Vec<Node<'_>> = acquisition
        .releases
        .iter()
        .map(|r| ctx.facts.calls[r.call].node)
        .collect();
    node::descendants(root)
        .filter(|n| n.kind() == "await_expression")
        .filter(|n| region.contains_range(TextRange::of(*n)))
        .filter(|n| context_of(ctx, *n) == scope)
        .find(|n| !released_before(ctx.facts, &releases, region.start, n.start_byte()))
        .map(|n| {
            // Point at `.await` itself.
            let end = n.end_byte();
            TextRange::new(end.saturating_sub(5), end)
        })
}

fn check_typescript<'t>(
    ctx: &RuleContext<'t>,
    acquisition: &Acquisition<'t, '_>,
    remote: &RemoteCalls,
    sink: &mut Vec<Finding>,
) {
    let facts = ctx.facts;
    let call = &facts.calls[acquisition.call];
    let (region, scope) = match acquisition.body {
        Some(body) => (TextRange::of(body), Some(body)),
        None => {
            let Some(function) = call.function else {
                return;
            };
            // No release in the function: the release function is handed over.
            if acquisition.releases.is_empty() {
                return;
            }
            let start = acquisition
                .statement
                .map_or(call.node.end_byte(), |s| s.end_byte());
            let end = acquisition
                .releases
                .iter()
                .map(|r| facts.calls[r.call].node.start_byte())
                .filter(|at| *at > start)
                .min()
                .unwrap_or(facts.functions[function].range().end);
            (
                TextRange::new(start, end.max(start)),
                context_of(ctx, call.node),
            )
        }
    };
    let held: Vec<usize> = if acquisition.body.is_some() {
        let outermost = call.function.map(|f| facts.outermost_function(f));
        // The calls in the callback, by binary search: a scan of every call of the file per acquisition was
        // quadratic.
        facts
            .call_indexes_within(region)
            .filter(|i| {
                facts.calls[*i]
                    .function
                    .map(|f| facts.outermost_function(f))
                    == outermost
            })
            .filter(|i| context_of(ctx, facts.calls[*i].node) == scope)
            .collect()
    } else {
        held_calls(ctx, acquisition, region, scope)
    };
    let calls = remote_calls(remote, &held);
    let Some(first) = calls.first() else { return };
    let lock = acquisition.lock.clone().unwrap_or_default();
    let how = if acquisition.body.is_some() {
        "runs `runExclusive` around"
    } else {
        "holds its lock across"
    };
    let mut builder = ctx
        .finding(&LockHeldAcrossRemoteCall::META, TextRange::of(call.callee))
        .open_question()
        .title(format!(
            "async-mutex `{lock}` {how} `{}`, a remote call: should every caller wait for this request, and for as long as it hangs?",
            callee(ctx, facts.calls[*first].callee)
        ))
        .trigger("the request behind the lock slows down or never answers")
        .expected("either the lock exists to serialise this one request (then bound it: `AbortSignal.timeout` on the request, `withTimeout` on the mutex), or the request runs outside the lock")
        .actual(format!(
            "every other caller of `{lock}` waits for the request; with no timeout on it, they wait as long as it hangs"
        ));
    if !acquisition.declared {
        builder = builder.confidence(Confidence::Medium);
    }
    builder = evidence(ctx, builder, remote, &calls);
    builder
        .fix(Fix::advice(
            "release before the request and re-acquire to apply its result; if serialising the request is the point, bound both waits: `AbortSignal.timeout(ms)` on the request and `withTimeout(mutex, ms)`",
        ))
        .emit(sink);
}

fn evidence(
    ctx: &RuleContext<'_>,
    mut builder: dsr_semantic::FindingBuilder,
    remote: &RemoteCalls,
    calls: &[usize],
) -> dsr_semantic::FindingBuilder {
    for call in calls.iter().take(3) {
        let note = match remote.remote(*call).and_then(|r| r.via) {
            Some(via) => format!(
                "remote call while the lock is held, through `{}`",
                ctx.facts.functions[via].name
            ),
            None => "remote call while the lock is held".to_string(),
        };
        builder = builder.evidence(ctx.facts.calls[*call].range(), note);
    }
    builder
}

/// A callee as messages show it: whitespace removed, long builder chains cut to their last link.
fn callee(ctx: &RuleContext<'_>, n: Node<'_>) -> String {
    let text = compact_text(ctx, n);
    if text.chars().count() <= 40 {
        return text.replace('`', "'");
    }
    let head = text.split('(').next().unwrap_or(&text);
    let last = text.rsplit('.').next().unwrap_or(&text);
    format!("{head}(…).{last}").replace('`', "'")
}
