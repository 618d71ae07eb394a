use dsr_core::kb::ApiKind;
use dsr_core::{declare_rule, Finding, Fix, Rule, RuleMeta, TextRange};
use dsr_semantic::facts::Call;
use dsr_semantic::models::loops::{IterationLoop, Size};
use dsr_semantic::models::messaging::writes::sql_text;
use dsr_semantic::tree_sitter::Node;
use dsr_semantic::KbMatch;
use dsr_semantic::RuleContext;
use dsr_syntax::node::{self, Mention};

declare_rule! {
    /// ## What it finds
    /// A remote call made once per element of a collection of unknown size, when the system it calls has a
    /// batch form: SQL (`WHERE id = ANY($1)`, `IN (…)`, multi-row `INSERT`), Redis (`MGET`/`MSET`, pipelines),
    /// DynamoDB (`BatchGetItem`/`BatchWriteItem`), Kafka producers (one send with every message). The batch
    /// forms are data in the knowledge base (`kb/*-load.toml`).
    ///
    /// Not reported: retry loops (the same request again), pagination loops (the next page depends on the
    /// previous one), loops over chunks of a constant size or a literal list, calls that do not use the
    /// element, and commands queued on a pipeline or transaction.
    ///
    /// ## Why it fails under partial failure
    /// Latency grows with the input: 2 000 ids at 1 ms each is 2 s of round trips, and when the database or
    /// cache slows to 20 ms the same request takes 40 s, holds its connection all that time and times out
    /// upstream — so the client retries and the load doubles. One batched request costs one round trip whatever
    /// the dependency's latency, and gives the dependency one statement to plan instead of thousands.
    ///
    /// ## Known false positives
    /// Collections that are small by construction (a few configured entries) but come from a parameter; writes
    /// that must be separate for a reason the code does not show (per-row error handling). Suppress with the
    /// reason. Not reported: a loop whose elements are the SQL statements themselves (`sqlx::query(stmt)` over a
    /// list of migration statements): distinct statements have no batch form.
    ///
    /// ## Example
    /// ```go
    /// package api
    ///
    /// import (
    ///     "context"
    ///     "database/sql"
    /// )
    ///
    /// func prices(ctx context.Context, db *sql.DB, ids []int64) (map[int64]int64, error) {
    ///     out := map[int64]int64{}
    ///     for _, id := range ids {
    ///         var cents int64
    ///         if err := db.QueryRowContext(ctx, "SELECT cents FROM prices WHERE id = $1", id).Scan(&cents); err != nil {
    ///             return nil, err
    ///         }
    ///         out[id] = cents
    ///     }
    ///     return out, nil
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// package api
    ///
    /// import (
    ///     "context"
    ///     "database/sql"
    /// )
    ///
    /// func prices(ctx context.Context, db *sql.DB, ids []int64) (map[int64]int64, error) {
    ///     rows, err := db.QueryContext(ctx, "SELECT id, cents FROM prices WHERE id = ANY($1)", pq.Array(ids))
    ///     if err != nil {
    ///         return nil, err
    ///     }
    ///     defer rows.Close()
    ///     out := map[int64]int64{}
    ///     for rows.Next() {
    ///         var id, cents int64
    ///         if err := rows.Scan(&id, &cents); err != nil {
    ///             return nil, err
    ///         }
    ///         out[id] = cents
    ///     }
    ///     return out, rows.Err()
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Advice only: the batch form changes the query and how results are matched back to elements.
    ///
    /// ## Configuration
    /// None. Batch forms of other libraries can be added to the knowledge base.
    ///
    /// ## References
    /// - PostgreSQL documentation, "Row and Array Comparisons" (`= ANY (array)`).
    /// - Redis documentation, "Redis pipelining" and `MGET`.
    /// - AWS DynamoDB Developer Guide, `BatchGetItem` and `BatchWriteItem`.
    pub struct RemoteCallInLoop {
        code: "BKP003",
        slug: "remote-call-in-loop",
        family: Backpressure,
        languages: [Go, Rust, TypeScript],
        severity: Medium,
        impact: Availability,
        kind: Finding,
        fix: Never,
        scope: Function,
        reads: [Loops, RemoteCalls],
        roles: Clients,
    }
}

impl Rule<RuleContext<'_>> for RemoteCallInLoop {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        if ctx.tree.is_none() {
            return;
        }
        let effects = ctx.remote_calls();
        let loops = ctx.loops();
        for (index, call) in ctx.facts.calls.iter().enumerate() {
            let Some(remote) = effects.remote(index) else {
                continue;
            };
            if remote.via.is_some() {
                continue;
            }
            let Some(batch) = ctx.kb.batch_form(ctx.facts, call) else {
                continue;
            };
            let Some(lp) = loops.innermost_at(call.range()) else {
                continue;
            };

            let Size::Unknown(origin) = &lp.size else {
                continue;
            };
            if lp.retry
                || lp.pagination
                || !uses_element(ctx, lp, call)
                || on_pipeline(ctx, call)
                || runs_each_statement(ctx, lp, call)
            {
                continue;
            }
            let collection = lp
                .collection
                .map(|c| ctx.node_text(c).split_whitespace().collect::<String>())
                .unwrap_or_default();
            let collection = collection.trim_start_matches('&');
            let (anchor, shown) = callee_anchor(ctx, call);
            ctx.finding(&RemoteCallInLoop::META, anchor)
                .title(format!(
                    "`{shown}` runs once per element of `{collection}`; {} has a batch form",
                    batch.library
                ))
                .trigger(format!(
                    "{} is large, or the dependency's latency goes up",
                    origin.describe()
                ))
                .expected("one round trip for the whole collection (or per batch of a fixed size)")
                .actual("one round trip per element: the request's latency is the collection's length times the dependency's latency")
                .evidence(lp.anchor, format!("iterates {}", origin.describe()))
                .fix(Fix::advice(format!("use the batch form: {}", batch.batch)))
                .emit(sink);
        }
    }
}

/// The callee, or for a call on a chain (`sqlx::query(…).bind(x).fetch_one`) just the method's name.
fn callee_anchor(_: &RuleContext<'_>, call: &Call<'_>) -> (TextRange, String) {
    let chained = call
        .receiver
        .is_some_and(|r| node::descendants(r).any(|d| d.kind() == "call_expression"));
    let field = call
        .callee
        .child_by_field_name("field")
        .or_else(|| call.callee.child_by_field_name("property"));
    match (chained, field, call.method.as_deref()) {
        (true, Some(field), Some(method)) => (TextRange::of(field), format!(".{method}")),
        _ => (TextRange::of(call.callee), call.callee_text.clone()),
    }
}

/// The call's arguments, receiver chain or key mention an element of the loop, or a local derived from one.
fn uses_element(ctx: &RuleContext<'_>, lp: &IterationLoop<'_>, call: &Call<'_>) -> bool {
    let mut names: Vec<String> = lp.element_names.clone();
    if let Some(body) = lp.body {
        let range = TextRange::of(body);
        // Two rounds follow `key := prefix + id` and then `args := []any{key}`.
        for _ in 0..2 {
            let derived: Vec<String> = ctx
                .facts
                .assignments_within(range)
                .filter(|a| {
                    a.declares
                        && !names.contains(&a.target)
                        && a.value.is_some_and(|v| {
                            node::mentions(v, &names, ctx.source, Mention::Variable)
                        })
                })
                .map(|a| a.target.clone())
                .collect();
            names.extend(derived);
        }
    }
    node::mentions(call.node, &names, ctx.source, Mention::Variable)
}

/// Each element is itself the SQL statement (`for stmt in migration_sql { sqlx::query(stmt).execute(pool) }`):
/// different statements run in order, which no batch form replaces. Seen when the call shows no SQL text of its
/// own and an element is passed where the text goes (first argument, or second after a context), on the call
/// or down its receiver chain.
fn runs_each_statement(ctx: &RuleContext<'_>, lp: &IterationLoop<'_>, call: &Call<'_>) -> bool {
    let facts = ctx.facts;
    if sql_text(facts, ctx.kb, call, ctx.source).is_some() {
        return false;
    }
    let is_element = |a: &Node<'_>| {
        a.kind() == "identifier" && lp.element_names.iter().any(|n| n == ctx.node_text(*a))
    };
    let mut current = Some(call);
    for _ in 0..8 {
        let Some(c) = current else { break };
        if ctx
            .kb
            .call(facts, c)
            .is_some_and(|api| api.kind == ApiKind::Db)
            && c.args.iter().take(2).any(is_element)
        {
            return true;
        }
        current = c.receiver.and_then(|r| {
            let r = if r.kind() == "await_expression" {
                node::named_children(r).next().unwrap_or(r)
            } else {
                r
            };
            facts.call_index(r).map(|inner| &facts.calls[inner])
        });
    }
    false
}

/// Commands queued on a pipeline or transaction go out together: `pipe.Get(…)` inside `Pipelined`,
/// `redis::pipe()`, `redis.pipeline()`/`multi()`.
fn on_pipeline(ctx: &RuleContext<'_>, call: &Call<'_>) -> bool {
    let Some(receiver) = call.receiver else {
        return false;
    };
    let mut head = receiver;
    while let Some(inner) = head
        .child_by_field_name("operand")
        .or_else(|| head.child_by_field_name("value"))
        .or_else(|| head.child_by_field_name("object"))
        .or_else(|| head.child_by_field_name("function"))
    {
        head = inner;
    }
    let text = ctx.node_text(receiver).to_ascii_lowercase();
    if ["pipe", "multi", "batch"].iter().any(|p| text.contains(p)) {
        return true;
    }
    let name = ctx.node_text(head);
    let declared = ctx
        .facts
        .declared_value(call.function, name, call.node.start_byte())
        .map(|v| ctx.node_text(v).to_ascii_lowercase())
        .unwrap_or_default();
    if ["pipe", "multi(", "batch"]
        .iter()
        .any(|p| declared.contains(p))
    {
        return true;
    }
    // A parameter typed as a pipeline (`func(pipe redis.Pipeliner) error`).
    let mut current = call.function;
    while let Some(index) = current {
        let f = &ctx.facts.functions[index];
        if f.params
            .iter()
            .any(|p| p.name == name && p.type_text.to_ascii_lowercase().contains("pipe"))
        {
            return true;
        }
        current = f.parent;
    }
    false
}
