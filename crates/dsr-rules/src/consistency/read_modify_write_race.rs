use dsr_core::{declare_rule, Confidence, Finding, Fix, Language, Rule, RuleMeta, TextRange};
use dsr_semantic::models::control_flow::contains;
use dsr_semantic::models::messaging::syntax::{binder, derived_names};
use dsr_semantic::models::store::{Access, Store, StoreAccess, StoreAccesses};
use dsr_semantic::tree_sitter::Node;
use dsr_semantic::RuleContext;
use dsr_syntax::node;
use dsr_syntax::node::{mentions, Mention};

declare_rule! {
    /// ## What it finds
    /// A read of a key or row from a shared store followed, in the same function, by a write of the same key or
    /// row whose value or whose execution depends on what was read, with nothing making the pair atomic: Redis
    /// `GET` then `SET` (or `EXISTS` then `SET`) without WATCH/MULTI, a Lua script or an atomic command; SQL
    /// `SELECT` then `UPDATE` of the same table by the same `WHERE` columns without `SELECT … FOR UPDATE`, a
    /// version/compare column in the `UPDATE`'s `WHERE` or a serializable transaction; etcd `Get` then `Put`
    /// outside a `Txn` with a compare; an object-store `GetObject`/`HeadObject` then `PutObject` without
    /// `IfMatch`/`IfNoneMatch`. Go (go-redis, redigo, database/sql, pgx, sqlx, etcd clientv3, aws-sdk-go-v2),
    /// Rust (redis-rs, fred, sqlx, etcd-client, aws-sdk-s3) and TypeScript (ioredis, node-redis, pg, mysql2,
    /// etcd3, @aws-sdk/client-s3).
    ///
    /// ## Why it fails under partial failure
    /// Between the read and the write, another instance of the same code can read the same old value. Both
    /// compute from it and both write: one update is silently lost (a stock decremented once for two orders, a
    /// balance credited once for two deposits), or both callers pass a check that only one should pass (two
    /// reservations of the last seat). Retries, redeliveries and a second replica behind the load balancer make
    /// the interleaving routine rather than rare, and nothing fails: the data is just wrong.
    ///
    /// ## Known false positives
    /// Keys are compared as written (after resolving locals bound once); two different expressions for the same
    /// key are missed rather than guessed. A write whose value does not come from the read and that sets an
    /// expiry is a cache fill (`GET` miss, load, `SET … EX`) and is not reported. A unique constraint or a
    /// single-writer design the code does not show makes the race harmless: suppress with the reason. SQL
    /// `INSERT`s after a `SELECT` are left to the database's constraints and not reported, nor SQL reads and
    /// writes in a function whose every caller in the file holds a database advisory lock (`pg_advisory_lock`,
    /// `pg_try_advisory_lock`, `GET_LOCK`, taken directly or through a helper of the file): one runner at a time.
    ///
    /// ## Example
    /// ```go
    /// package stock
    ///
    /// import (
    ///     "context"
    ///
    ///     "github.com/redis/go-redis/v9"
    /// )
    ///
    /// func reserve(ctx context.Context, rdb *redis.Client, sku string, qty int) error {
    ///     left, err := rdb.Get(ctx, "stock:"+sku).Int()
    ///     if err != nil {
    ///         return err
    ///     }
    ///     return rdb.Set(ctx, "stock:"+sku, left-qty, 0).Err()
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// package stock
    ///
    /// import (
    ///     "context"
    ///
    ///     "github.com/redis/go-redis/v9"
    /// )
    ///
    /// func reserve(ctx context.Context, rdb *redis.Client, sku string, qty int) error {
    ///     // One command: Redis applies concurrent decrements one after the other.
    ///     return rdb.DecrBy(ctx, "stock:"+sku, int64(qty)).Err()
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Advice only: the atomic form depends on what the code computes (a counter becomes `INCRBY`/`DECRBY` or
    /// `SET n = n - $1`; anything else needs WATCH/MULTI, a Lua script, `FOR UPDATE`, a version column or a
    /// conditional put, with a retry when the condition fails).
    ///
    /// ## Configuration
    /// None.
    ///
    /// ## References
    /// - Redis documentation, "Transactions" (WATCH and optimistic locking) and "Scripting with Lua".
    /// - PostgreSQL documentation, "Transaction Isolation" (lost updates at READ COMMITTED) and `SELECT … FOR UPDATE`.
    /// - Martin Kleppmann, *Designing Data-Intensive Applications*, ch. 7, "Preventing Lost Updates".
    /// - Amazon S3 documentation, "Conditional writes" (`If-Match`, `If-None-Match`).
    pub struct ReadModifyWriteRace {
        code: "CON001",
        slug: "read-modify-write-race",
        family: Consistency,
        languages: [Go, Rust, TypeScript],
        severity: High,
        impact: Consistency,
        kind: Finding,
        fix: Never,
        scope: File,
        reads: [Store],
    }
}

impl Rule<RuleContext<'_>> for ReadModifyWriteRace {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        if ctx.language == Language::Sql {
            return;
        }
        let model = ctx.store_accesses();
        let facts = ctx.facts;
        let outer = |a: &StoreAccess<'_>| a.function.map(|f| facts.outermost_function(f));
        for write in &model.accesses {
            // Deletes after a check are LCK002's (lock release) or harmless to repeat; inserts are left to
            // unique constraints.
            if write.access != Access::Write
                || write.atomic.is_some()
                || write.operation == "INSERT"
            {
                continue;
            }
            let Some(function) = outer(write) else {
                continue;
            };
            if write.store == Store::Redis && model.atomic_scope_in(facts, write.function).is_some()
            {
                continue;
            }
            if write.store == Store::Sql
                && (write.serializable || StoreAccesses::serialised_by_callers(facts, function))
            {
                continue;
            }
            let read = model.accesses.iter().find(|read| {
                read.access.is_read()
                    && read.store == write.store
                    && read.target == write.target
                    && outer(read) == Some(function)
                    && read.node.end_byte() <= write.node.start_byte()
                    && !read.locks_rows
            });
            let Some(read) = read else { continue };
            let Some(body) = facts.functions[function].body else {
                continue;
            };
            let names = read_result_names(ctx, read, body);
            let depends = write_mentions(ctx, write, &names);
            let guarded = guarded_by(ctx, read, write, body, &names);
            if !depends && !guarded {
                continue;
            }
            // A value loaded from elsewhere and stored with an expiry after a miss: a cache fill.
            if write.store == Store::Redis
                && read.access == Access::Read
                && write.expires
                && !depends
            {
                continue;
            }
            report(ctx, read, write, depends, sink);
        }
    }
}

/// The names the read's result is bound to, and the names derived from them after it: `v, err := …`,
/// `.Scan(&stock)`, `let row = …`, `const { rows } = …`.
fn read_result_names(ctx: &RuleContext<'_>, read: &StoreAccess<'_>, body: Node<'_>) -> Vec<String> {
    let mut roots: Vec<String> = Vec::new();
    for ancestor in ctx.facts.ancestors(read.node) {
        if let Some(b) = binder(ancestor) {
            if b.value.is_some_and(|v| contains(v, read.node)) {
                roots = b.names(ctx.source);
            }
            break;
        }
        let kind = ancestor.kind();
        if kind.ends_with("block")
            || kind == "expression_statement"
            || node::function_kinds(ctx.language).contains(&kind)
        {
            break;
        }
    }
    // Out-parameters: `.Scan(&stock)` down the chain, sqlx's `GetContext(ctx, &dest, q)` on the call itself.
    let mut filled = ctx.facts.chained_calls(read.call);
    filled.push(read.call);
    for link in filled {
        for arg in &ctx.facts.calls[link].args {
            if matches!(arg.kind(), "unary_expression" | "reference_expression") {
                if let Some(inner) = node::named_children(*arg).last() {
                    if inner.kind() == "identifier" {
                        roots.push(ctx.node_text(inner).to_string());
                    }
                }
            }
        }
    }
    roots.retain(|n| !matches!(n.as_str(), "_" | "err" | "ok" | "e" | "error" | "ctx"));
    if roots.is_empty() {
        return roots;
    }
    let mut names = derived_names(body, read.node.end_byte(), &roots, ctx.source, ctx.language);
    if ctx.language == Language::Rust {
        // `let renamed = format!("{name} (copy)")`: inline format arguments are text, not identifiers.
        for n in node::descendants(body).filter(|n| n.start_byte() >= read.node.end_byte()) {
            let Some(b) = binder(n) else { continue };
            if b.value.is_some_and(|v| formats_any(ctx, v, &names)) {
                for name in b.names(ctx.source) {
                    if !names.contains(&name) {
                        names.push(name);
                    }
                }
            }
        }
    }
    names
}

/// Whether an expression reads one of `names`, counting Rust's inline format arguments (`"{name}"`).
fn reads_any(ctx: &RuleContext<'_>, expression: Node<'_>, names: &[String]) -> bool {
    mentions(expression, names, ctx.source, Mention::Variable)
        || (ctx.language == Language::Rust && formats_any(ctx, expression, names))
}

fn formats_any(ctx: &RuleContext<'_>, expression: Node<'_>, names: &[String]) -> bool {
    node::descendants(expression)
        .filter(|n| n.kind() == "macro_invocation")
        .flat_map(node::descendants)
        .filter(|n| node::is_string_literal(*n, ctx.language))
        .any(|literal| {
            let text = ctx.node_text(literal);
            names.iter().any(|name| {
                text.contains(&format!("{{{name}}}")) || text.contains(&format!("{{{name}:"))
            })
        })
}

/// Whether the write's arguments (the key left out) or its builder chain carry a value computed from the read.
fn write_mentions(ctx: &RuleContext<'_>, write: &StoreAccess<'_>, names: &[String]) -> bool {
    let call = &ctx.facts.calls[write.call];
    let chain = ctx.facts.chained_calls(write.call);
    call.args
        .iter()
        .chain(chain.iter().flat_map(|l| ctx.facts.calls[*l].args.iter()))
        .filter(|a| Some(**a) != write.key)
        .any(|a| reads_any(ctx, *a, names))
}

/// Whether the write runs only because of what was read: inside a condition on it, or after a condition on it
/// between the read and the write (`if left < qty { return … }`).
fn guarded_by(
    ctx: &RuleContext<'_>,
    read: &StoreAccess<'_>,
    write: &StoreAccess<'_>,
    body: Node<'_>,
    names: &[String],
) -> bool {
    fn condition_of(n: Node<'_>) -> Option<Node<'_>> {
        match n.kind() {
            "if_statement" | "if_expression" | "ternary_expression" | "conditional_expression" => {
                n.child_by_field_name("condition")
            }
            "expression_switch_statement" | "switch_statement" | "match_expression" => {
                n.child_by_field_name("value")
            }
            _ => None,
        }
    }
    for ancestor in ctx.facts.ancestors(write.node) {
        if !contains(body, ancestor) {
            break;
        }
        if ancestor.start_byte() >= read.node.end_byte() {
            if let Some(condition) = condition_of(ancestor) {
                if reads_any(ctx, condition, names) {
                    return true;
                }
            }
        }
        for sibling in node::named_children(ancestor) {
            if sibling.start_byte() < read.node.end_byte()
                || sibling.end_byte() > write.node.start_byte()
            {
                continue;
            }
            let statement = match sibling.kind() {
                "expression_statement" => node::named_children(sibling).next().unwrap_or(sibling),
                _ => sibling,
            };
            if let Some(condition) = condition_of(statement) {
                if reads_any(ctx, condition, names) {
                    return true;
                }
            }
        }
    }
    false
}

fn report(
    ctx: &RuleContext<'_>,
    read: &StoreAccess<'_>,
    write: &StoreAccess<'_>,
    depends: bool,
    sink: &mut Vec<Finding>,
) {
    let target = write.target.describe();
    let (missing, advice) = match (write.store, read.access) {
        (Store::Redis, Access::Exists) => (
            "`SET … NX`",
            "use `SET key value NX` (with `EX`/`PX`) and act only when it returns OK".to_string(),
        ),
        (Store::Redis, _) => (
            "WATCH/MULTI, a Lua script or an atomic command",
            "make it one step on the server: `INCRBY`/`DECRBY`/`HINCRBY` for counters, otherwise WATCH the key and write in MULTI/EXEC (go-redis `Watch` + `TxPipelined`, ioredis `watch`/`multi`, redis-rs `redis::transaction`) or a Lua script".to_string(),
        ),
        (Store::Sql, _) if write.transaction.is_some() => (
            "`SELECT … FOR UPDATE` or a version check in the `UPDATE`",
            "lock the row with `SELECT … FOR UPDATE` in this transaction, or put the change in one statement (`SET n = n - $1 WHERE id = $2 AND n >= $1`), or compare a version column in the `UPDATE`'s `WHERE` and retry when no row changed".to_string(),
        ),
        (Store::Sql, _) => (
            "a transaction with `SELECT … FOR UPDATE` or a version check in the `UPDATE`",
            "put the change in one statement (`SET n = n - $1 WHERE id = $2 AND n >= $1`), or compare a version column in the `UPDATE`'s `WHERE` and retry when no row changed, or read with `SELECT … FOR UPDATE` inside a transaction".to_string(),
        ),
        (Store::Etcd, _) => (
            "a `Txn` comparing the key's revision",
            "write through a transaction that compares the revision the read returned (`Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), \"=\", rev)).Then(clientv3.OpPut(…))`) and retry when it fails".to_string(),
        ),
        (Store::ObjectStore, _) => (
            "`IfMatch`/`IfNoneMatch`",
            "make the put conditional: `IfMatch` with the ETag the read returned (`IfNoneMatch: \"*\"` to create only), and retry on 412 Precondition Failed".to_string(),
        ),
    };
    let what = if depends {
        "a concurrent update between them is lost"
    } else {
        "two callers can both pass the check"
    };
    let isolation = if write.store == Store::Sql {
        " (the default isolation, READ COMMITTED in PostgreSQL and REPEATABLE READ in MySQL, allows it)"
    } else {
        ""
    };
    ctx.finding(&ReadModifyWriteRace::META, TextRange::of(write.node))
        .title(format!(
            "{target} read with `{}` then written with `{}` without {missing}: {what}",
            read.operation, write.operation
        ))
        .confidence(if depends { Confidence::High } else { Confidence::Medium })
        .trigger("two requests (or a retry and the original) for the same key run this function at the same time")
        .expected(format!("the {} applies the change atomically, or rejects it when the value changed since the read", write.store.name()))
        .actual(format!("both read the same old value and both write{isolation}: {what}"))
        .evidence(TextRange::of(read.node), format!("`{}` of {target} read here", read.operation))
        .fix(Fix::advice(advice))
        .emit(sink);
}
