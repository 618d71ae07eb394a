use dsr_core::{
    declare_rule, Applicability, Confidence, Edit, Finding, Fix, Language, Rule, RuleMeta,
    Severity, TextRange,
};
use dsr_semantic::store_commands::{Options, StoreCommand, TokenStyle};
use dsr_semantic::tree_sitter::Node;
use dsr_semantic::RuleContext;
use dsr_syntax::node;

use dsr_semantic::models::locks::{self, classify, Acquisition, Expiry, Locks, Mechanism, Purpose};

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
        scope: Function,
        reads: [Locks],
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

impl Rule<RuleContext<'_>> for LockWithoutTtl {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        let locks = ctx.locks();
        let mut claims: Vec<(Claim<'_>, Analysis)> = Vec::new();
        for command in ctx.store_commands().all() {
            let Some(claim) = redis_claim(ctx, command, LOCK_TTL) else {
                continue;
            };
            let analysis = analyse(ctx, &claim, locks);
            let claim = match analysis.purpose {
                Purpose::Dedup => redis_claim(ctx, command, DEDUP_TTL).unwrap_or(claim),
                _ => claim,
            };
            claims.push((claim, analysis));
        }
        for acquisition in &locks.acquisitions {
            if acquisition.mechanism == Mechanism::EtcdTxn && acquisition.expiry == Expiry::None {
                let claim = etcd_claim(acquisition);
                let analysis = analyse(ctx, &claim, locks);
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
    let literal = ctx.facts.literal_of(options)?;
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
    let literal = ctx.facts.literal_of(options)?;
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
    // A binary search for the calls inside the options, not a scan of every call of the file per claim.
    let calls_in_options: Vec<_> = ctx.facts.calls_within(within).collect();
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

/// etcd: a create-if-absent `Txn(ctx).If(Compare(CreateRevision(k), "=", 0)).Then(OpPut(k, v))` whose `OpPut`
/// has no `WithLease` option.
fn etcd_claim<'t>(acquisition: &Acquisition<'t, '_>) -> Claim<'t> {
    Claim {
        call: acquisition.call,
        key: acquisition.key,
        value: acquisition.token,
        form: "a create-if-absent `Txn` whose `OpPut` has no lease".to_string(),
        edit: None,
        advice: "attach a lease: `lease, err := cli.Grant(ctx, 30)`, keep it alive, and put with `clientv3.WithLease(lease.ID)` — or use `concurrency.NewMutex` on a session, whose lease TTL defaults to 60 s".to_string(),
    }
}

/// What the lock model says about a claim: what the key is for, and the commands that release it or give it an
/// expiry afterwards.
struct Analysis {
    purpose: Purpose,
    release: Option<TextRange>,
    /// A later `EXPIRE` of the same key: (its range, its callee as written).
    expire: Option<(TextRange, String)>,
}

fn analyse(ctx: &RuleContext<'_>, claim: &Claim<'_>, locks: &Locks<'_, '_>) -> Analysis {
    let facts = ctx.facts;
    let Some(acquisition) = locks.at_call(claim.call) else {
        return Analysis {
            purpose: classify(facts, ctx.source, claim.call, claim.key, claim.value, false),
            release: None,
            expire: None,
        };
    };
    Analysis {
        purpose: acquisition.purpose,
        release: acquisition
            .releases
            .first()
            .map(|r| facts.calls[r.call].range()),
        expire: acquisition.expire.map(|e| {
            let call = &facts.calls[e];
            (call.range(), call.callee_text.clone())
        }),
    }
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

fn key_text(ctx: &RuleContext<'_>, key: Node<'_>) -> String {
    locks::key_text(ctx.source, ctx.language, key)
}

fn shorten(text: &str) -> String {
    const MAX: usize = 48;
    if text.chars().count() <= MAX {
        return text.replace('`', "'");
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("{}…", cut.replace('`', "'"))
}
