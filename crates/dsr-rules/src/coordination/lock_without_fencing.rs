use dsr_core::kb::{ApiKind, LockScope};
use dsr_core::{declare_rule, Finding, Fix, Rule, RuleMeta, TextRange};
use dsr_semantic::models::locks::{self, key_text, words, Acquisition, Expiry, Mechanism, Purpose};
use dsr_semantic::models::remote::RemoteCalls;
use dsr_semantic::RuleContext;
use dsr_syntax::node;

use crate::shared::compact_text;
use dsr_semantic::KbMatch;

declare_rule! {
    /// ## What it finds
    /// Writes to another store made under a distributed lock with no fencing token. The locks: a Redis key
    /// set with `NX` and an expiry and named like a lock, redsync, bsm/redislock, etcd's `concurrency.Mutex`
    /// or a create-if-absent transaction, rslock, redlock-rs, the `redlock` package. The writes: a database
    /// statement that changes rows, an HTTP request with a mutating method, a queue publish (as the knowledge
    /// base and the SQL text say), also through a helper function of the same file, made before the lock is
    /// released. A fencing token is a number that grows with each acquisition (etcd's `Header().Revision`, an
    /// `INCR` counter) and that the other store checks; nothing passed to these writes is one. It is
    /// an open question, asked once per lock: whether the writes can tolerate a second holder is a property of
    /// the store and the data, which the code alone does not show.
    ///
    /// ## Why it fails under partial failure
    /// A lock with a lease expires under a holder that is still running: a stop-the-world GC pause, a slow
    /// disk, a VM migration or a network partition outlasts the TTL, another worker takes the lock and starts
    /// the same work, and then the first one wakes up and finishes its writes — it has no way to notice that it
    /// is no longer the holder between its last check and its write. Both writes land. A fencing token makes
    /// the store the referee: every acquisition gets a larger number, each write carries it, and the store
    /// rejects a write whose token is smaller than one it has already seen. Without one, the lock is an
    /// efficiency optimisation (it usually prevents duplicate work), not a correctness guarantee.
    ///
    /// ## Known false positives
    /// Writes that are idempotent or commutative (setting a value that any holder would set, upserting the same
    /// row) are safe without fencing; answer the question with a suppression saying so. A fencing token is
    /// recognised by name (`fence`, `fencing`, `epoch`, `generation`, `revision`, `term`, `version` in an
    /// argument, identifier or string between the acquisition and the write), by etcd's `Header()`, `Key()` or
    /// `IsOwner()` on the mutex, and by an `INCR` in the function. Writes after the lock is released, reads, and
    /// writes to the cache that holds the lock are not asked about; in-process mutexes are not distributed
    /// locks, and a lock without any expiry cannot change hands while held (LCK001 reports that instead).
    ///
    /// ## Example
    /// ```go
    /// package billing
    ///
    /// import (
    ///     "context"
    ///     "database/sql"
    ///     "time"
    ///
    ///     "github.com/redis/go-redis/v9"
    /// )
    ///
    /// func closeInvoice(ctx context.Context, rdb *redis.Client, db *sql.DB, id, token string) error {
    ///     ok, err := rdb.SetNX(ctx, "lock:invoice:"+id, token, 30*time.Second).Result()
    ///     if err != nil || !ok {
    ///         return err
    ///     }
    ///     _, err = db.ExecContext(ctx, "UPDATE invoices SET status = 'closed' WHERE id = $1", id)
    ///     return err
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// package billing
    ///
    /// import (
    ///     "context"
    ///     "database/sql"
    ///     "time"
    ///
    ///     "github.com/redis/go-redis/v9"
    /// )
    ///
    /// func closeInvoice(ctx context.Context, rdb *redis.Client, db *sql.DB, id, token string) error {
    ///     ok, err := rdb.SetNX(ctx, "lock:invoice:"+id, token, 30*time.Second).Result()
    ///     if err != nil || !ok {
    ///         return err
    ///     }
    ///     // Grows with every acquisition; the row keeps the largest one it has seen.
    ///     fence, err := rdb.Incr(ctx, "fence:invoice:"+id).Result()
    ///     if err != nil {
    ///         return err
    ///     }
    ///     _, err = db.ExecContext(ctx,
    ///         "UPDATE invoices SET status = 'closed', fence = $2 WHERE id = $1 AND fence < $2", id, fence)
    ///     return err
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Advice only: fencing needs the other store's cooperation (a column or header it compares), which is a
    /// schema and protocol change.
    ///
    /// ## Configuration
    /// None.
    ///
    /// ## References
    /// - Martin Kleppmann, "How to do distributed locking" (2016): fencing tokens.
    /// - etcd documentation, `clientv3/concurrency`: a mutex's revision and `IsOwner` for guarded transactions.
    /// - Google, "The Chubby lock service for loosely-coupled distributed systems" (OSDI 2006): sequencers.
    pub struct LockWithoutFencing {
        code: "LCK003",
        slug: "lock-without-fencing",
        family: Coordination,
        languages: [Go, Rust, TypeScript],
        severity: Medium,
        impact: SilentCorruption,
        kind: OpenQuestion,
        fix: Never,
        scope: Function,
        reads: [Locks, RemoteCalls],
    }
}

/// Words that name a fencing token (stems) or a counter compared by the store (whole words).
const FENCE_STEMS: &[&str] = &["fenc", "epoch", "generation", "revision"];
const FENCE_WORDS: &[&str] = &["term", "version", "rev", "gen"];

impl Rule<RuleContext<'_>> for LockWithoutFencing {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        let locks = ctx.locks();
        if !locks
            .acquisitions
            .iter()
            .any(|a| a.scope == LockScope::Distributed)
        {
            return;
        }
        let remote = ctx.remote_calls();
        for acquisition in &locks.acquisitions {
            if acquisition.scope != LockScope::Distributed || acquisition.purpose != Purpose::Lock {
                continue;
            }
            // A lock that never expires cannot pass to a second holder mid-operation (LCK001 reports it).
            if acquisition.expiry == Expiry::None && acquisition.expire.is_none() {
                continue;
            }
            let Some(region) = held_region(ctx, acquisition) else {
                continue;
            };
            // The calls inside the region (a binary search), not every call of the file per acquisition.
            let writes: Vec<usize> = ctx
                .facts
                .call_indexes_within(region)
                // The cheap test first: most calls write nothing.
                .filter(|i| remote.remote(*i).is_some_and(|r| r.mutation.is_some()))
                .filter(|i| {
                    *i != acquisition.call && !acquisition.releases.iter().any(|r| r.call == *i)
                })
                .collect();
            if writes.is_empty() || is_fenced(ctx, acquisition, region) {
                continue;
            }
            report(ctx, acquisition, &writes, remote, sink);
        }
    }
}

/// Where the lock is held: a scoped callback's body, else from the acquisition to its first release in the
/// function (a deferred release holds it to the end).
fn held_region(ctx: &RuleContext<'_>, acquisition: &Acquisition<'_, '_>) -> Option<TextRange> {
    let facts = ctx.facts;
    if let Some(body) = acquisition.body {
        return Some(TextRange::of(body));
    }
    let call = &facts.calls[acquisition.call];
    let function = facts.outermost_function(call.function?);
    let end_of_function = facts.functions[function].range().end;
    let start = acquisition.statement.map_or(call.node.end_byte(), |s| {
        s.end_byte().max(call.node.end_byte())
    });
    let end = acquisition
        .releases
        .iter()
        .filter(|r| !r.deferred)
        .map(|r| facts.calls[r.call].node.start_byte())
        .filter(|at| *at > start)
        .min()
        .unwrap_or(end_of_function);
    (start < end).then(|| TextRange::new(start, end))
}

/// A fencing token in sight: the library's fencing methods on the lock, an `INCR` in the function, or a name
/// saying so between the acquisition and the end of the region.
fn is_fenced(ctx: &RuleContext<'_>, acquisition: &Acquisition<'_, '_>, region: TextRange) -> bool {
    let facts = ctx.facts;
    let call = &facts.calls[acquisition.call];
    let scope = call
        .function
        .map(|f| facts.functions[facts.outermost_function(f)].range())
        .unwrap_or(region);
    if let (Some(library), Some(lock)) = (acquisition.library(), acquisition.lock.as_deref()) {
        let fencing = facts.calls_within(scope).any(|c| {
            c.method
                .as_deref()
                .is_some_and(|m| library.fencing.iter().any(|f| f == m))
                && scope.contains_range(c.range())
                && c.receiver.is_some_and(|r| compact_text(ctx, r) == lock)
        });
        if fencing {
            return true;
        }
    }
    let function = call.function.map(|f| facts.outermost_function(f));
    let counter = locks::calls_in_scope(facts, function)
        .filter_map(|i| ctx.store_commands().at(i))
        .any(|c| matches!(c.name.as_str(), "INCR" | "INCRBY"));
    if counter {
        return true;
    }
    let root = match call.function {
        Some(f) => facts.functions[facts.outermost_function(f)].node,
        None => match ctx.tree {
            Some(tree) => tree.root_node(),
            None => return false,
        },
    };
    let named = |n: dsr_semantic::tree_sitter::Node<'_>| {
        let text = if node::is_string_literal(n, ctx.language) {
            node::string_literal_value(n, ctx.source, ctx.language).unwrap_or_default()
        } else if n.kind().ends_with("identifier") {
            ctx.node_text(n).to_string()
        } else {
            return false;
        };
        words(&text).iter().any(|w| {
            FENCE_STEMS.iter().any(|s| w.starts_with(s)) || FENCE_WORDS.contains(&w.as_str())
        })
    };
    let start = call.node.start_byte();
    node::descendants(root)
        .filter(|n| n.start_byte() >= start && n.end_byte() <= region.end)
        .any(named)
}

fn report(
    ctx: &RuleContext<'_>,
    acquisition: &Acquisition<'_, '_>,
    writes: &[usize],
    remote: &RemoteCalls,
    sink: &mut Vec<Finding>,
) {
    let facts = ctx.facts;
    let call = &facts.calls[acquisition.call];
    let lock = match (acquisition.key, acquisition.library()) {
        (Some(key), _) => format!(
            "lock `{}`",
            key_text(ctx.source, ctx.language, key).replace('`', "'")
        ),
        (None, Some(library)) => format!("{} lock", library.library),
        (None, None) => "the lock".to_string(),
    };
    let expiry = match (acquisition.expiry, acquisition.library()) {
        (Expiry::At(n), _) if node::string_literal_value(n, ctx.source, ctx.language).is_none() => {
            format!("its lease (`{}`)", compact_text(ctx, n))
        }
        (Expiry::Default, Some(library)) => format!(
            "its lease ({})",
            library.default_expiry.as_deref().unwrap_or("the default")
        ),
        _ => "its lease".to_string(),
    };
    let mut kinds: Vec<&str> = Vec::new();
    for write in writes {
        let kind = remote
            .remote(*write)
            .and_then(|r| r.mutation)
            .and_then(|w| ctx.kb.call(facts, &facts.calls[w]))
            .map_or("write", |api| describe(api.kind));
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    let what = kinds.join(" and ");
    let guarded = kinds
        .iter()
        .map(|k| {
            let article = if k.starts_with(['a', 'e', 'i', 'o', 'u', 'H']) {
                "an"
            } else {
                "a"
            };
            format!("{article} {k}")
        })
        .collect::<Vec<_>>()
        .join(" and ");
    let carry = if kinds.len() > 1 { "carry" } else { "carries" };
    let mut builder = ctx
        .finding(&LockWithoutFencing::META, TextRange::of(call.callee))
        .title(format!(
            "{lock} guards {guarded} that {carry} no fencing token: what if the lease expires mid-operation (GC pause, partition)?"
        ))
        .trigger(format!(
            "the holder stalls past {expiry} — a GC pause, a slow dependency, a partition — another worker takes the lock, and then the first one resumes its writes"
        ))
        .expected("each write carries a token that grows with every acquisition (an `INCR` counter, etcd's revision) and the other store rejects writes with an older token; or the writes are safe to apply twice")
        .actual(format!(
            "nothing passed to {} identifies which holder is writing, so the stalled holder and the new one both write, and the store accepts both",
            if kinds.len() > 1 { "these writes".to_string() } else { format!("the {what}") }
        ));
    for write in writes.iter().take(3) {
        let reached = remote.remote(*write);
        let note = match reached.and_then(|r| r.via) {
            Some(via) => format!(
                "written while the lock is held, through `{}`",
                facts.functions[via].name
            ),
            None => "written while the lock is held".to_string(),
        };
        builder = builder.evidence(facts.calls[*write].range(), note);
    }
    let token_source = match acquisition.mechanism {
        Mechanism::Library(library) if !library.fencing.is_empty() => {
            "the mutex's `Header().Revision` (or guard an etcd `Txn` with `If(m.IsOwner())`)"
        }
        _ => "a counter taken with the lock (`INCR fence:<key>`)",
    };
    builder
        .fix(Fix::advice(format!(
            "pass a fencing token with each write — {token_source} — and make the store reject stale ones (`UPDATE … WHERE fence < $token`, a version column, a conditional put); or suppress with the reason the writes are safe to repeat"
        )))
        .emit(sink);
}

fn describe(kind: ApiKind) -> &'static str {
    match kind {
        ApiKind::Db => "database write",
        ApiKind::Http => "HTTP mutation",
        ApiKind::Queue => "queue publish",
        ApiKind::ObjectStore => "object-store write",
        ApiKind::Rpc => "remote call",
        _ => "write",
    }
}
