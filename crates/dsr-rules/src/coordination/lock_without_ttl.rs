use dsr_core::commands::{Options, StoreCommand, TokenStyle};
use dsr_core::tree_sitter::Node;
use dsr_core::{
    declare_rule, Applicability, Confidence, Edit, Finding, Fix, Language, Rule, RuleContext,
    RuleMeta, Severity, TextRange,
};
use dsr_syntax::node;

use crate::shared::{add_member, compact_text, go_add_import};

declare_rule! {
    /// ## What it finds
    /// A key taken "if absent" that never expires. Redis: `SETNX` in any client (go-redis `SetNX(ctx, k, v, 0)`
    /// or with `redis.KeepTTL`, redis-rs `set_nx`, fred `setnx`, ioredis `setnx`, node-redis `setNX`), and
    /// `SET key value NX` with no `EX`/`PX`/`EXAT`/`PXAT` — raw (`Do(ctx, "SET", k, v, "NX")`, redigo
    /// `Do("SET", …)`, ioredis `set(k, v, "NX")` and `call`, node-redis `sendCommand([...])`,
    /// `redis::cmd("SET").arg(k).arg(v).arg("NX")`) or typed (go-redis `SetArgs{Mode: "NX"}` without `TTL`,
    /// node-redis `set(k, v, { NX: true })`, redis-rs `SetOptions` with `ExistenceCheck::NX` and no
    /// `with_expiration`, fred `set(k, v, None, Some(SetOptions::NX), false)`). etcd: a create-if-absent
    /// transaction (`If(Compare(CreateRevision(k), "=", 0)).Then(OpPut(k, v))`) whose `OpPut` has no
    /// `WithLease`.
    ///
    /// ## Why it fails under partial failure
    /// A lock's holder can die between taking it and releasing it: a crash, an OOM kill, a deploy, a partition
    /// that outlasts its retries. Without a TTL the key stays, and every later attempt to take the lock fails
    /// forever — the work it guards stops until a human deletes the key. A TTL turns "the holder vanished" into
    /// "the lock frees itself after n seconds" (size it above the longest critical section, or renew it while
    /// holding it; fencing tokens guard against a holder that outlives its lease — see LCK003). The same command
    /// used for deduplication (`SET processed:<id> 1 NX`) without a TTL keeps one key per message forever, and
    /// Redis's memory grows with traffic until eviction or `maxmemory` errors hit other keys.
    ///
    /// ## Known false positives
    /// `SET NX` is also how a permanent claim is written (reserving a unique user name), where no TTL is the
    /// point. So the rule reports a finding only when the code shows a lock (a key, value, function or reply
    /// variable named like lock/mutex/lease/leader/acquire(d), or a `DEL` of the same key in the same function)
    /// or a deduplication key (named like idempotency/dedup/processed/seen, or a reply named like
    /// `first`/`isNew`); otherwise it asks an open question.
    /// An expiry passed in a variable (`SetNX(ctx, k, v, ttl)`) is trusted. Not checked: etcd's
    /// `concurrency.NewSession` without `WithTTL` is not a finding — its lease defaults to a 60 s TTL (values ≤ 0
    /// keep 60 s), kept alive while the process runs, so a crashed holder's mutex frees itself. Lock rows in a
    /// SQL table are not checked: whether a row expires depends on a column and on the queries that read it,
    /// which a single statement does not show.
    ///
    /// ## Example
    /// ```go
    /// package jobs
    ///
    /// import (
    ///     "context"
    ///
    ///     "github.com/redis/go-redis/v9"
    /// )
    ///
    /// func acquire(ctx context.Context, rdb *redis.Client, job, token string) (bool, error) {
    ///     return rdb.SetNX(ctx, "lock:job:"+job, token, 0).Result()
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// package jobs
    ///
    /// import (
    ///     "context"
    ///     "time"
    ///
    ///     "github.com/redis/go-redis/v9"
    /// )
    ///
    /// func acquire(ctx context.Context, rdb *redis.Client, job, token string) (bool, error) {
    ///     // Freed 30 s after a crashed holder stopped renewing it.
    ///     return rdb.SetNX(ctx, "lock:job:"+job, token, 30*time.Second).Result()
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Where the expiry is one more argument or field, the fix adds a 30 s one (`30*time.Second`, `"PX", 30000`,
    /// `.arg("PX").arg(30_000)`, `PX: 30000`, `SetExpiry::PX(30_000)`, `Expiration::PX(30_000)`), adding Go's
    /// `time` import when missing. It is offered, never applied unattended: a lease shorter than the critical
    /// section lets a second holder in, so the number needs a human. `SETNX` itself has no expiry option and
    /// returns a different reply from `SET … NX`, so switching is advice; so is a `SETNX` followed by a separate
    /// `EXPIRE` (not atomic), and etcd (grant a lease, keep it alive).
    ///
    /// ## Configuration
    /// None.
    ///
    /// ## References
    /// - Redis documentation, `SET` ("The command SET resource-name anystring NX EX max-lock-time is a simple
    ///   way to implement a locking system") and `SETNX` (deprecated pattern).
    /// - etcd documentation, `clientv3/concurrency`: sessions and their lease TTL.
    /// - Martin Kleppmann, "How to do distributed locking" (2016).
    pub struct LockWithoutTtl {
        code: "LCK001",
        slug: "lock-without-ttl",
        family: Coordination,
        languages: [Go, Rust, TypeScript],
        severity: High,
        impact: Availability,
        kind: Finding,
        fix: Sometimes,
    }
}

/// The expiry a fix writes: a lease for a lock, a deduplication window for an idempotency key.
#[derive(Copy, Clone)]
struct Ttl {
    label: &'static str,
    go: &'static str,
    go_spaced: &'static str,
    millis: &'static str,
    rust_millis: &'static str,
}

const LOCK_TTL: Ttl = Ttl {
    label: "30 s",
    go: "30*time.Second",
    go_spaced: "30 * time.Second",
    millis: "30000",
    rust_millis: "30_000",
};

const DEDUP_TTL: Ttl = Ttl {
    label: "24 h",
    go: "24*time.Hour",
    go_spaced: "24 * time.Hour",
    millis: "86400000",
    rust_millis: "86_400_000",
};

/// Words in a key, a value or a function name that say "this is a lock".
const LOCK_WORDS: &[&str] = &[
    "lock",
    "mutex",
    "mtx",
    "lease",
    "leader",
    "semaphore",
    "election",
];
const LOCK_FUNCTION_WORDS: &[&str] = &["lock", "acquire", "mutex", "leader", "lease", "elect"];
const LOCK_VALUE_WORDS: &[&str] = &["token", "owner", "holder", "fencing"];
/// Names of the variable a claim's reply goes to.
const LOCK_RESULT_WORDS: &[&str] = &["lock", "acquired", "got", "held", "owner", "leader"];
const DEDUP_RESULT_WORDS: &[&str] = &["first", "fresh", "new", "dup", "duplicate", "seen"];
/// Words that say "this is a deduplication record".
const DEDUP_WORDS: &[&str] = &[
    "idempot",
    "idem",
    "dedup",
    "dedupe",
    "processed",
    "seen",
    "handled",
    "consumed",
];

impl Rule for LockWithoutTtl {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        if !matches!(
            ctx.language,
            Language::Go | Language::Rust | Language::TypeScript | Language::Tsx
        ) {
            return;
        }
        let commands: Vec<_> = (0..ctx.facts.calls.len())
            .filter_map(|i| StoreCommand::decode(ctx.facts, ctx.kb, ctx.source, i))
            .collect();
        let mut claims: Vec<(Claim<'_>, Analysis)> = Vec::new();
        for command in &commands {
            let Some(claim) = redis_claim(ctx, command, LOCK_TTL) else {
                continue;
            };
            let analysis = analyse(ctx, &claim, &commands);
            let claim = match analysis.purpose {
                Purpose::Dedup => redis_claim(ctx, command, DEDUP_TTL).unwrap_or(claim),
                _ => claim,
            };
            claims.push((claim, analysis));
        }
        if ctx.language == Language::Go {
            for claim in etcd_claims(ctx) {
                let analysis = analyse(ctx, &claim, &commands);
                claims.push((claim, analysis));
            }
        }
        for (claim, analysis) in &claims {
            report(ctx, claim, analysis, sink);
        }
    }
}

/// A key set if absent with no expiry.
struct Claim<'t> {
    call: usize,
    key: Option<Node<'t>>,
    value: Option<Node<'t>>,
    /// How the code does it: "`SETNX`", "`SET … NX` without `EX`/`PX`".
    form: String,
    /// The mechanical fix, when there is one.
    edit: Option<(String, Vec<Edit>)>,
    /// What to do instead, when there is no edit.
    advice: String,
}

fn redis_claim<'t>(
    ctx: &RuleContext<'t>,
    command: &StoreCommand<'t>,
    ttl: Ttl,
) -> Option<Claim<'t>> {
    let call = &ctx.facts.calls[command.call];
    let claim = |form: String, edit: Option<(String, Vec<Edit>)>, advice: String| Claim {
        call: command.call,
        key: command.key,
        value: command.value,
        form,
        edit,
        advice,
    };
    let set_nx_advice = match ctx.language {
        Language::Go => "use `SET key value NX PX 30000` (go-redis: `SetNX(ctx, key, value, 30*time.Second)`)",
        Language::Rust => "use `SET key value NX PX 30000`: `redis::cmd(\"SET\").arg(key).arg(value).arg(\"NX\").arg(\"PX\").arg(30_000)` (fred: `set(key, value, Some(Expiration::PX(30_000)), Some(SetOptions::NX), false)`); the reply is `OK`/nil instead of 1/0",
        _ => "use `set(key, value, \"NX\", \"PX\", 30000)` (node-redis: `set(key, value, { NX: true, PX: 30000 })`); the reply is `OK`/null instead of 1/0",
    }
    .to_string();
    match (command.name.as_str(), &command.options) {
        (
            "SETNX",
            Options::Typed {
                expiration: Some(expiration),
                ..
            },
        ) => {
            let no_ttl = if ctx.node_text(*expiration) == "0" {
                "expiration `0` (a plain `SETNX`)"
            } else if is_keep_ttl(ctx, *expiration) {
                "`redis.KeepTTL` (nothing to keep on a new key)"
            } else {
                return None;
            };
            let mut edits = vec![Edit::replace(TextRange::of(*expiration), ttl.go)];
            edits.extend(go_add_import(ctx, "time"));
            Some(claim(
                format!(
                    "`{}` with {no_ttl}",
                    call.method.as_deref().unwrap_or("SetNX")
                ),
                Some((format!("set a {} expiry: `{}`", ttl.label, ttl.go), edits)),
                set_nx_advice,
            ))
        }
        ("SETNX", _) => Some(claim("`SETNX`".to_string(), None, set_nx_advice)),
        ("SET", Options::Tokens { tokens, style, .. }) => {
            let nx = tokens.iter().find(|t| t.text.as_deref() == Some("NX"))?;
            let has_expiry = tokens
                .iter()
                .any(|t| matches!(t.text.as_deref(), Some("EX" | "PX" | "EXAT" | "PXAT")));
            // A token we cannot read (a variable, a spread) may be the expiry.
            let unreadable = tokens.iter().any(|t| t.text.is_none() && !t.is_number);
            if has_expiry || unreadable {
                return None;
            }
            let addition = match style {
                TokenStyle::Arguments => format!(", \"PX\", {}", ttl.millis),
                TokenStyle::Array => format!(", \"PX\", \"{}\"", ttl.millis),
                TokenStyle::Builder => format!(".arg(\"PX\").arg({})", ttl.rust_millis),
            };
            let shown = addition.trim_start_matches(", ");
            Some(claim(
                "`SET … NX` without `EX`/`PX`".to_string(),
                Some((
                    format!("set a {} expiry: `{shown}` after `NX`", ttl.label),
                    vec![Edit::insert(nx.node.end_byte(), addition)],
                )),
                String::new(),
            ))
        }
        (
            "SET",
            Options::Typed {
                expiration,
                options,
            },
        ) => typed_set_claim(ctx, command, *expiration, *options, ttl, claim),
        _ => None,
    }
}

type MakeClaim<'c, 't> = dyn Fn(String, Option<(String, Vec<Edit>)>, String) -> Claim<'t> + 'c;

/// `SET` with typed options: go-redis `SetArgs`, node-redis `{ NX: true }`, redis-rs `SetOptions`, fred.
fn typed_set_claim<'t>(
    ctx: &RuleContext<'t>,
    command: &StoreCommand<'t>,
    expiration: Option<Node<'t>>,
    options: Option<Node<'t>>,
    ttl: Ttl,
    claim: impl Fn(String, Option<(String, Vec<Edit>)>, String) -> Claim<'t>,
) -> Option<Claim<'t>> {
    let claim: &MakeClaim<'_, 't> = &claim;
    let options = resolve_local(ctx, command, options?);
    match ctx.language {
        Language::Go => go_set_args(ctx, options, ttl, claim),
        Language::TypeScript | Language::Tsx => node_redis_options(ctx, options, ttl, claim),
        Language::Rust => rust_set_options(ctx, expiration, options, ttl, claim),
        Language::Sql => None,
    }
}

/// An options argument given as a local variable: the value it was declared with.
fn resolve_local<'t>(ctx: &RuleContext<'t>, command: &StoreCommand<'t>, n: Node<'t>) -> Node<'t> {
    if n.kind() != "identifier" {
        return n;
    }
    let call = &ctx.facts.calls[command.call];
    ctx.facts
        .declared_value(call.function, ctx.node_text(n), call.node.start_byte())
        .unwrap_or(n)
}

/// go-redis `SetArgs{Mode: "NX"}` with no `TTL`/`ExpireAt` (or with `KeepTTL: true`).
fn go_set_args<'t>(
    ctx: &RuleContext<'t>,
    options: Node<'t>,
    ttl: Ttl,
    claim: &MakeClaim<'_, 't>,
) -> Option<Claim<'t>> {
    let options = if options.kind() == "unary_expression" {
        options.named_child(0)?
    } else {
        options
    };
    let literal = ctx.facts.literals.iter().find(|l| l.node == options)?;
    if !literal.type_text.ends_with("SetArgs") {
        return None;
    }
    let value_of = |name: &str| {
        literal.field(name).and_then(|f| f.value).map(|v| {
            let inner = if v.kind() == "literal_element" {
                v.named_child(0).unwrap_or(v)
            } else {
                v
            };
            (inner, ctx.node_text(inner).to_string())
        })
    };
    let mode = value_of("Mode")
        .and_then(|(n, _)| node::string_literal_value(n, ctx.source, ctx.language))?;
    if !mode.eq_ignore_ascii_case("nx") {
        return None;
    }
    let expires = value_of("TTL").is_some_and(|(_, t)| t != "0") || value_of("ExpireAt").is_some();
    if expires {
        return None;
    }
    let body = literal.node.child_by_field_name("body")?;
    let keep_ttl = value_of("KeepTTL").is_some_and(|(_, t)| t == "true");
    let edit = (!keep_ttl && literal.field("TTL").is_none()).then(|| {
        let member = format!("TTL: {}", ttl.go_spaced);
        let mut edits = vec![add_member(ctx, body, &member, &format!("{{{member}}}"))];
        edits.extend(go_add_import(ctx, "time"));
        (format!("set a {} expiry: `{member}`", ttl.label), edits)
    });
    let form = if keep_ttl {
        "`SetArgs{Mode: \"NX\", KeepTTL: true}` (nothing to keep on a new key)"
    } else {
        "`SetArgs{Mode: \"NX\"}` without `TTL`"
    };
    Some(claim(
        form.to_string(),
        edit,
        "set `TTL` in the `SetArgs` (and drop `KeepTTL`, which keeps nothing on a new key)"
            .to_string(),
    ))
}

/// node-redis `{ NX: true }` / `{ condition: "NX" }` with no `EX`/`PX`/`EXAT`/`PXAT`/`expiration`.
fn node_redis_options<'t>(
    ctx: &RuleContext<'t>,
    options: Node<'t>,
    ttl: Ttl,
    claim: &MakeClaim<'_, 't>,
) -> Option<Claim<'t>> {
    let literal = ctx.facts.literals.iter().find(|l| l.node == options)?;
    if literal.has_spread {
        return None;
    }
    let text_of = |name: &str| {
        literal.field(name).and_then(|f| f.value).map(|v| {
            node::string_literal_value(v, ctx.source, ctx.language)
                .unwrap_or_else(|| compact_text(ctx, v))
        })
    };
    let v5 = text_of("condition").is_some_and(|c| c.eq_ignore_ascii_case("nx"));
    let v4 = text_of("NX").is_some_and(|v| v == "true");
    if !(v4 || v5) {
        return None;
    }
    let expiry = ["EX", "PX", "EXAT", "PXAT"]
        .iter()
        .any(|f| literal.field(f).is_some())
        || text_of("expiration").is_some_and(|e| !e.to_ascii_uppercase().contains("KEEPTTL"));
    if expiry {
        return None;
    }
    let member = if v5 {
        format!("expiration: {{ type: \"PX\", value: {} }}", ttl.millis)
    } else {
        format!("PX: {}", ttl.millis)
    };
    let keep_ttl = literal.field("KEEPTTL").is_some() || literal.field("expiration").is_some();
    let edit = (!keep_ttl).then(|| {
        (
            format!("set a {} expiry: `{member}`", ttl.label),
            vec![add_member(
                ctx,
                literal.node,
                &member,
                &format!("{{ {member} }}"),
            )],
        )
    });
    Some(claim(
        "`SET` with `NX` and no `EX`/`PX`".to_string(),
        edit,
        "replace `KEEPTTL` with an expiry: it keeps nothing on a new key".to_string(),
    ))
}

/// redis-rs `SetOptions::default().conditional_set(ExistenceCheck::NX)` without `with_expiration`, or fred
/// `set(k, v, None, Some(SetOptions::NX), false)`.
fn rust_set_options<'t>(
    ctx: &RuleContext<'t>,
    expiration: Option<Node<'t>>,
    options: Node<'t>,
    ttl: Ttl,
    claim: &MakeClaim<'_, 't>,
) -> Option<Claim<'t>> {
    let within = TextRange::of(options);
    let calls_in_options: Vec<_> = ctx
        .facts
        .calls
        .iter()
        .filter(|c| within.contains_range(c.range()))
        .collect();
    if let Some(condition) = calls_in_options
        .iter()
        .find(|c| c.method.as_deref() == Some("conditional_set"))
    {
        if !compact_text(ctx, options).contains("NX")
            || !condition
                .args
                .iter()
                .any(|a| compact_text(ctx, *a).ends_with("NX"))
        {
            return None;
        }
        let expiry = calls_in_options
            .iter()
            .find(|c| c.method.as_deref() == Some("with_expiration"));
        return match expiry {
            Some(e) if !compact_text(ctx, e.node).contains("KEEPTTL") => None,
            Some(_) => Some(claim(
                "`SetOptions` with `ExistenceCheck::NX` and `SetExpiry::KEEPTTL`".to_string(),
                None,
                "use `SetExpiry::PX(30_000)`: `KEEPTTL` keeps nothing on a new key".to_string(),
            )),
            None => Some(claim(
                "`SetOptions` with `ExistenceCheck::NX` but no `with_expiration`".to_string(),
                Some((
                    format!(
                        "set a {} expiry: `.with_expiration(redis::SetExpiry::PX({}))`",
                        ttl.label, ttl.rust_millis
                    ),
                    vec![Edit::insert(
                        condition.node.end_byte(),
                        format!(
                            ".with_expiration(redis::SetExpiry::PX({}))",
                            ttl.rust_millis
                        ),
                    )],
                )),
                String::new(),
            )),
        };
    }
    // fred: the condition is an enum value in an `Option`, the expiry a separate argument.
    let condition = compact_text(ctx, options);
    if !(condition.contains("::NX") || condition == "Some(NX)") {
        return None;
    }
    let expiration = expiration?;
    let expiry = compact_text(ctx, expiration);
    if expiry == "None" {
        return Some(claim(
            "`SET … NX` with `None` for its expiration".to_string(),
            Some((
                format!(
                    "set a {} expiry: `Some(fred::types::Expiration::PX({}))`",
                    ttl.label, ttl.rust_millis
                ),
                vec![Edit::replace(
                    TextRange::of(expiration),
                    format!("Some(fred::types::Expiration::PX({}))", ttl.rust_millis),
                )],
            )),
            String::new(),
        ));
    }
    expiry.contains("KEEPTTL").then(|| {
        claim(
            "`SET … NX` with `Expiration::KEEPTTL`".to_string(),
            None,
            "use `Expiration::PX(30_000)`: `KEEPTTL` keeps nothing on a new key".to_string(),
        )
    })
}

/// go-redis `redis.KeepTTL`.
fn is_keep_ttl(ctx: &RuleContext<'_>, n: Node<'_>) -> bool {
    n.kind() == "selector_expression"
        && ctx
            .facts
            .resolve(&compact_text(ctx, n))
            .is_some_and(|p| p.ends_with(".KeepTTL"))
}

/// etcd: `Txn(ctx).If(Compare(CreateRevision(k), "=", 0)).Then(OpPut(k, v))` with no `WithLease` option.
fn etcd_claims<'t>(ctx: &RuleContext<'t>) -> Vec<Claim<'t>> {
    let facts = ctx.facts;
    let is_etcd = |call: &dsr_core::facts::Call<'_>, name: &str| {
        call.path.as_deref().is_some_and(|p| {
            p.ends_with(&format!(".{name}")) && ctx.kb.api(ctx.language, p).is_some()
        })
    };
    let mut claims = Vec::new();
    for (index, call) in facts.calls.iter().enumerate() {
        if !is_etcd(call, "OpPut") {
            continue;
        }
        let leased = call.args.iter().skip(2).any(|option| {
            facts.calls.iter().any(|c| {
                c.node == *option
                    && (is_etcd(c, "WithLease") || c.callee_text.ends_with("WithLease"))
            })
        });
        if leased || !in_create_if_absent_txn(ctx, call.node) {
            continue;
        }
        claims.push(Claim {
            call: index,
            key: call.args.first().copied(),
            value: call.args.get(1).copied(),
            form: "a create-if-absent `Txn` whose `OpPut` has no lease".to_string(),
            edit: None,
            advice: "attach a lease: `lease, err := cli.Grant(ctx, 30)`, keep it alive, and put with `clientv3.WithLease(lease.ID)` — or use `concurrency.NewMutex` on a session, whose lease TTL defaults to 60 s".to_string(),
        });
    }
    claims
}

/// The put is an argument of `.Then(…)` on a `.If(…)` that compares a `CreateRevision`/`Version` (the key
/// does not exist yet).
fn in_create_if_absent_txn(ctx: &RuleContext<'_>, put: Node<'_>) -> bool {
    let facts = ctx.facts;
    let Some(then) = node::ancestors(put).find(|n| {
        n.kind() == "call_expression"
            && facts
                .calls
                .iter()
                .any(|c| c.node == *n && c.method.as_deref() == Some("Then"))
    }) else {
        return false;
    };
    let Some(condition) = facts
        .calls
        .iter()
        .find(|c| c.node == then)
        .and_then(|c| c.receiver)
    else {
        return false;
    };
    let Some(if_call) = facts
        .calls
        .iter()
        .find(|c| c.node == condition && c.method.as_deref() == Some("If"))
    else {
        return false;
    };
    let range = if_call.range();
    facts.calls.iter().any(|c| {
        range.contains_range(c.range())
            && c.path.as_deref().is_some_and(|p| {
                (p.ends_with(".CreateRevision") || p.ends_with(".Version"))
                    && ctx.kb.api(ctx.language, p).is_some()
            })
    })
}

#[derive(PartialEq)]
enum Purpose {
    Lock,
    Dedup,
    Unknown,
}

/// What the surrounding code says about a claim: what the key is for, and the commands that release it or
/// give it an expiry afterwards.
struct Analysis {
    purpose: Purpose,
    release: Option<TextRange>,
    /// A later `EXPIRE` of the same key: (its range, its callee as written).
    expire: Option<(TextRange, String)>,
}

fn analyse(ctx: &RuleContext<'_>, claim: &Claim<'_>, commands: &[StoreCommand<'_>]) -> Analysis {
    let facts = ctx.facts;
    let call = &facts.calls[claim.call];
    let claimed_key = claim.key.map(|k| key_text(ctx, k));
    let scope = call.function.map(|f| facts.outermost_function(f));
    let same_key = |other: &StoreCommand<'_>| {
        scope.is_some()
            && other
                .key
                .is_some_and(|k| Some(key_text(ctx, k)) == claimed_key)
            && facts.calls[other.call]
                .function
                .map(|f| facts.outermost_function(f))
                == scope
    };
    let release = commands
        .iter()
        .find(|c| matches!(c.name.as_str(), "DEL" | "UNLINK") && same_key(c))
        .map(|c| facts.calls[c.call].range());
    let expire = commands
        .iter()
        .find(|c| {
            matches!(
                c.name.as_str(),
                "EXPIRE" | "PEXPIRE" | "EXPIREAT" | "PEXPIREAT"
            ) && same_key(c)
                && facts.calls[c.call].node.start_byte() > call.node.end_byte()
        })
        .map(|c| {
            (
                facts.calls[c.call].range(),
                facts.calls[c.call].callee_text.clone(),
            )
        });
    let function_words = words(&facts.component_at(call.node.start_byte()));
    let key_words = claim
        .key
        .map(|k| described_words(ctx, claim.call, k))
        .unwrap_or_default();
    let value_words = claim
        .value
        .map(|v| described_words(ctx, claim.call, v))
        .unwrap_or_default();
    // `first := conn.set_nx(…)`, `acquired, err := rdb.SetNX(…)`.
    let result_words: Vec<String> = facts
        .assignments
        .iter()
        .filter(|a| {
            a.value
                .is_some_and(|v| TextRange::of(v).contains_range(call.range()))
        })
        .flat_map(|a| words(&a.target))
        .collect();
    // The key's own name decides first; the code around it (function, reply, value) only when the key is silent.
    let purpose = if release.is_some() || has_word(&key_words, LOCK_WORDS) {
        Purpose::Lock
    } else if has_word(&key_words, DEDUP_WORDS) {
        Purpose::Dedup
    } else if has_word(&function_words, LOCK_FUNCTION_WORDS)
        || has_word(&result_words, LOCK_RESULT_WORDS)
        || has_word(&value_words, LOCK_VALUE_WORDS)
    {
        Purpose::Lock
    } else if has_word(&function_words, DEDUP_WORDS) || has_word(&result_words, DEDUP_RESULT_WORDS)
    {
        Purpose::Dedup
    } else {
        Purpose::Unknown
    };
    Analysis {
        purpose,
        release,
        expire,
    }
}

/// The words of an expression, and of the value a local it names was declared with (`key :=
/// fmt.Sprintf("lease:%s", id)` makes `key` a lease).
fn described_words(ctx: &RuleContext<'_>, call: usize, n: Node<'_>) -> Vec<String> {
    let mut out = words(&key_text(ctx, n));
    let name = compact_text(ctx, n);
    let name = name.trim_start_matches('&');
    if name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        let call = &ctx.facts.calls[call];
        if let Some(value) = ctx
            .facts
            .declared_value(call.function, name, call.node.start_byte())
        {
            out.extend(words(ctx.node_text(value)));
        }
    }
    out
}

fn report(ctx: &RuleContext<'_>, claim: &Claim<'_>, analysis: &Analysis, sink: &mut Vec<Finding>) {
    let facts = ctx.facts;
    let call = &facts.calls[claim.call];
    let key = claim
        .key
        .map(|k| format!("`{}`", shorten(&key_text(ctx, k))))
        .unwrap_or_else(|| "the key".to_string());
    let form = &claim.form;
    let mut builder = ctx
        .finding(&LockWithoutTtl::META, TextRange::of(call.callee))
        .trigger("the process holding the key crashes, is OOM-killed or redeployed, or is cut off, before it deletes the key")
        .expected("a key taken if absent carries a TTL (a lease): it frees itself when its holder disappears, sized above the longest critical section or renewed while held");
    if let Some(release) = analysis.release {
        builder = builder.evidence(release, "released here: the key is a lock");
    }
    let title = match (&analysis.purpose, &analysis.expire) {
        (Purpose::Lock, Some((_, expire))) => format!("lock {key} is taken with {form} and expired by a separate `{expire}`: a crash in between keeps the lock forever"),
        (Purpose::Lock, None) => format!("lock {key} is taken with {form} and never expires: a holder that crashes keeps it forever"),
        (Purpose::Dedup, _) => format!("idempotency key {key} is written with {form} and never expires: one key per message piles up forever"),
        (Purpose::Unknown, _) => format!("{form} on {key} sets no expiry: if this is a lock, a holder that crashes keeps it forever"),
    };
    let actual = match analysis.purpose {
        Purpose::Lock => format!("{form} leaves {key} without a TTL: once its holder dies nobody can take the lock again until someone deletes the key by hand, and the work it guards stops"),
        Purpose::Dedup => format!("{form} leaves every {key} without a TTL: deduplication records accumulate with traffic until Redis evicts other keys or refuses writes at `maxmemory`; and when the claim is made before the work, a crash in between makes every redelivery skip that message forever"),
        Purpose::Unknown => format!("{form} leaves {key} without a TTL; if it guards work, a crash leaves it set forever (if it is a permanent claim, such as a unique name, this is intended)"),
    };
    builder = builder.title(title).actual(actual);
    if let Some((range, _)) = &analysis.expire {
        builder = builder.evidence(*range, "the expiry is set here, in a second command");
    }
    builder = match analysis.purpose {
        Purpose::Lock => builder,
        Purpose::Dedup => builder.severity(Severity::Medium),
        Purpose::Unknown => builder.open_question().confidence(Confidence::Medium),
    };
    let sizing = match analysis.purpose {
        Purpose::Dedup => "size it above the longest window in which a duplicate can arrive",
        _ => "size it above the longest critical section, or renew it while held",
    };
    let fix = match (&claim.edit, &analysis.expire) {
        (Some((title, edits)), None) => Fix::edits(
            format!("{title} ({sizing})"),
            Applicability::Maybe,
            edits.clone(),
        ),
        (_, Some((_, expire))) => Fix::advice(format!(
            "set the expiry in the same command as the claim and drop the separate `{expire}` (which, when the claim failed, extends another holder's key)"
        )),
        (None, None) => Fix::advice(claim.advice.clone()),
    };
    builder.fix(fix).emit(sink);
}

/// The key as the reader knows it: a string literal's contents, else the expression without `&`.
fn key_text(ctx: &RuleContext<'_>, key: Node<'_>) -> String {
    node::string_literal_value(key, ctx.source, ctx.language)
        .unwrap_or_else(|| compact_text(ctx, key).trim_start_matches('&').to_string())
}

fn shorten(text: &str) -> String {
    const MAX: usize = 48;
    if text.chars().count() <= MAX {
        return text.replace('`', "'");
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("{}…", cut.replace('`', "'"))
}

/// Lower-case words of an identifier-ish text: `acquireLock("lock:job:"+id)` → acquire, lock, lock, job, id.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for ch in text.chars() {
        if !ch.is_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if ch.is_uppercase() && previous_lower && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        previous_lower = ch.is_lowercase() || ch.is_ascii_digit();
        current.extend(ch.to_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// A word that is, or starts with, one of `stems` (`locks`, `locked`, `idempotency`).
fn has_word(words: &[String], stems: &[&str]) -> bool {
    words.iter().any(|w| stems.iter().any(|s| w.starts_with(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_identifiers_and_keys() {
        assert_eq!(
            words("acquireLock(\"lock:job:\"+jobID)"),
            ["acquire", "lock", "lock", "job", "job", "id"]
        );
        assert!(has_word(&words("orderLocks"), LOCK_WORDS));
        assert!(!has_word(&words("blocklist:user"), LOCK_WORDS));
        assert!(!has_word(&words("releaseOrder"), LOCK_FUNCTION_WORDS));
        assert!(has_word(&words("processed:msg"), DEDUP_WORDS));
    }
}
