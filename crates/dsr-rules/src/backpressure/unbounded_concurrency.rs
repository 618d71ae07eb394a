use dsr_core::{declare_rule, Finding, Fix, Language, Rule, RuleMeta, TextRange};
use dsr_semantic::models::loops::{IterationLoop, Origin, Size, Spawn, SpawnKind};
use dsr_semantic::RuleContext;

declare_rule! {
    /// ## What it finds
    /// Work started per element of a collection whose size comes from outside — a parameter, a request field,
    /// a query result — with nothing that limits how much of it runs at once: a Go `go` statement or
    /// `errgroup.Go` without `SetLimit`, `tokio::spawn`/`task::spawn`/`JoinSet::spawn`/`spawn_blocking` per
    /// element, `join_all(xs.iter().map(…))`, `Promise.all(xs.map(async …))` or a promise per element that
    /// nobody awaits in the loop.
    ///
    /// Bounds the rule recognises: a semaphore acquired per element (`golang.org/x/sync/semaphore`, a buffered
    /// channel used as one, tokio `Semaphore`), `errgroup.SetLimit(n)`, a send into a channel that a fixed
    /// pool of workers drains, `buffer_unordered(n)`/`buffered(n)`/`for_each_concurrent(Some(n))`, p-limit,
    /// waiting for each batch inside the loop, and chunked iteration (`chunks(100)`, `lodash.chunk`).
    ///
    /// ## Why it fails under partial failure
    /// The number of concurrent requests equals the size of the input. A request with 10 000 ids opens 10 000
    /// connections to the same dependency at once: connection pools are exhausted, the dependency sheds load or
    /// falls over, and every other request of the service waits behind this one. When the dependency slows
    /// down, in-flight work piles up in memory (goroutines, tasks, promises) with no backpressure towards the
    /// caller. A limit turns the same input into a queue that drains at a rate the dependency can take.
    ///
    /// ## Known false positives
    /// A collection the caller already bounds (a validated request field with a maximum length, a
    /// configuration list of a few entries) cannot grow; suppress with the reason. Limits applied outside the
    /// loop's function (a pool passed in, a rate limiter inside a client) are not seen. Only work that reaches a
    /// remote system (directly or through a helper of the same file) is reported; collections held in a struct
    /// field (a component's own parts, started once each) and collections computed locally are not.
    ///
    /// ## Example
    /// ```go
    /// package api
    ///
    /// import "net/http"
    ///
    /// func notifyAll(hooks []string) {
    ///     for _, h := range hooks {
    ///         go http.Post(h, "application/json", nil)
    ///     }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// package api
    ///
    /// import (
    ///     "context"
    ///     "net/http"
    ///
    ///     "golang.org/x/sync/errgroup"
    /// )
    ///
    /// func notifyAll(ctx context.Context, hooks []string) error {
    ///     g, ctx := errgroup.WithContext(ctx)
    ///     g.SetLimit(16)
    ///     for _, h := range hooks {
    ///         g.Go(func() error {
    ///             resp, err := http.Post(h, "application/json", nil)
    ///             if err == nil {
    ///                 resp.Body.Close()
    ///             }
    ///             return err
    ///         })
    ///     }
    ///     return g.Wait()
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Advice only: the right limit depends on the dependency's capacity, and the error handling of the
    /// bounded form (`errgroup` cancels the rest on the first error) changes behaviour.
    ///
    /// ## Configuration
    /// None.
    ///
    /// ## References
    /// - `golang.org/x/sync/errgroup`: `Group.SetLimit`.
    /// - futures: `StreamExt::buffer_unordered`; tokio: `sync::Semaphore`.
    /// - p-limit (npm); Michael Nygard, "Release It!", chapter on bulkheads.
    pub struct UnboundedConcurrency {
        code: "BKP002",
        slug: "unbounded-concurrency",
        family: Backpressure,
        languages: [Go, Rust, TypeScript],
        severity: High,
        impact: Availability,
        kind: Finding,
        fix: Never,
        scope: Function,
        reads: [Loops, RemoteCalls],
        roles: Clients,
    }
}

impl Rule<RuleContext<'_>> for UnboundedConcurrency {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        if ctx.tree.is_none() {
            return;
        }
        for lp in ctx.loops().iter() {
            let Size::Unknown(origin) = &lp.size else {
                continue;
            };
            // Fields hold a component's own parts (scrape loops, discoverers, queues), started once each by
            // design; computed collections cannot be judged.
            if lp.retry
                || !lp.limits.is_empty()
                || matches!(origin, Origin::Computed | Origin::Field(_))
            {
                continue;
            }
            for spawn in &lp.spawns {
                report(ctx, lp, origin, spawn, sink);
            }
        }
    }
}

fn report(
    ctx: &RuleContext<'_>,
    lp: &IterationLoop<'_>,
    origin: &Origin,
    spawn: &Spawn<'_>,
    sink: &mut Vec<Finding>,
) {
    // Concurrency hurts when each unit holds a connection to a dependency; CPU-only goroutines or promises
    // are left alone.
    if !reaches_remote(ctx, spawn, lp) {
        return;
    }
    let what = match &spawn.kind {
        SpawnKind::Goroutine => "a goroutine".to_string(),
        SpawnKind::GroupGo(group) => format!("`{group}.Go` (no `{group}.SetLimit`)"),
        SpawnKind::Task(callee) => format!("`{callee}`"),
        SpawnKind::JoinAll(callee) => format!("a future for `{callee}`"),
        SpawnKind::UnawaitedPromise => "a promise nobody awaits in the loop".to_string(),
        SpawnKind::PromiseAll(callee) => format!("a promise for `{callee}`"),
    };
    let collection = lp
        .collection
        .map(|c| ctx.node_text(c).split_whitespace().collect::<String>())
        .unwrap_or_default();
    let anchor = match &spawn.kind {
        SpawnKind::Goroutine => TextRange::new(
            spawn.node.start_byte(),
            spawn.node.start_byte().saturating_add(2),
        ),
        _ => spawn
            .node
            .child_by_field_name("function")
            .map(TextRange::of)
            .unwrap_or_else(|| TextRange::of(spawn.node)),
    };
    ctx.finding(&UnboundedConcurrency::META, anchor)
        .title(format!(
            "{what} per element of `{collection}`, with no limit on how many run at once"
        ))
        .trigger(format!(
            "{} holds thousands of elements, or the dependency the work calls slows down",
            origin.describe()
        ))
        .expected(
            "at most a fixed number in flight (a semaphore, a worker pool, a concurrency limit)",
        )
        .actual(format!(
            "one concurrent {} per element: as many in flight as `{collection}` is long",
            unit(ctx.language)
        ))
        .evidence(lp.anchor, format!("iterates {}", origin.describe()))
        .fix(Fix::advice(advice(ctx.language, &spawn.kind)))
        .emit(sink);
}

fn unit(language: Language) -> &'static str {
    match language {
        Language::Go => "goroutine",
        Language::Rust => "task",
        _ => "promise",
    }
}

fn reaches_remote(ctx: &RuleContext<'_>, spawn: &Spawn<'_>, lp: &IterationLoop<'_>) -> bool {
    let effects = ctx.remote_calls();
    let scope = match spawn.kind {
        SpawnKind::PromiseAll(_) | SpawnKind::JoinAll(_) | SpawnKind::UnawaitedPromise => {
            lp.body.map(TextRange::of).unwrap_or_else(|| lp.range())
        }
        _ => TextRange::of(spawn.node),
    };
    if effects
        .calls_in_range(scope)
        .any(|i| effects.remote(i).is_some())
    {
        return true;
    }
    // `tokio::spawn(request)` where `request` holds a remote call's future.
    if spawn.node.kind() != "call_expression" {
        return false;
    }
    let function = ctx.facts.function_at(spawn.node.start_byte());
    spawn
        .node
        .child_by_field_name("arguments")
        .map(|a| dsr_syntax::node::named_children(a).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|a| a.kind() == "identifier")
        .filter_map(|a| {
            ctx.facts
                .declared_value(function, ctx.node_text(a), a.start_byte())
        })
        .any(|value| {
            effects
                .calls_in_range(TextRange::of(value))
                .any(|i| effects.remote(i).is_some())
        })
}

fn advice(language: Language, kind: &SpawnKind) -> String {
    match (language, kind) {
        (Language::Go, SpawnKind::GroupGo(group)) => format!(
            "call `{group}.SetLimit(n)` before the loop so that `{group}.Go` blocks while n are running"
        ),
        (Language::Go, _) => "bound the fan-out: `g, ctx := errgroup.WithContext(ctx); g.SetLimit(16)` and `g.Go(…)` per element, or acquire a `semaphore.NewWeighted(n)` (or a `make(chan struct{}, n)` token) before each `go`".to_string(),
        (Language::Rust, _) => "bound the fan-out: `futures::stream::iter(xs).map(|x| async move { … }).buffer_unordered(16)`, or acquire a permit from an `Arc<tokio::sync::Semaphore>` before each `spawn`".to_string(),
        _ => "bound the fan-out: `const limit = pLimit(16); await Promise.all(xs.map((x) => limit(() => work(x))))`, or process `chunk(xs, 16)` batch by batch".to_string(),
    }
}
