use dsr_core::finding::Evidence;
use dsr_core::{declare_rule, Confidence, Finding, Fix, Rule, RuleMeta, TextRange};
use dsr_semantic::models::locks::{
    key_text, Acquisition, Expiry, HandedOver, Mechanism, Purpose, ReleaseKind,
};
use dsr_semantic::tree_sitter::Node;
use dsr_semantic::RuleContext;
use dsr_syntax::node;
use rustc_hash::FxHashSet;

use crate::shared::compact_text;

declare_rule! {
    /// ## What it finds
    /// A Redis lock released with a plain `DEL` that does not check the key still holds this holder's token.
    /// The lock is taken with `SET key token NX PX n` (or `SETNX` plus `EXPIRE`) and given back with a
    /// `DEL`/`UNLINK` of the key, with no compare-and-delete — in any client
    /// (go-redis `Del`, redigo `Do("DEL", …)`, redis-rs `del`/`redis::cmd("DEL")`, fred `del`, ioredis and
    /// node-redis `del`). The release is found in the function that takes the lock (also when deferred) or in
    /// another method of the same type deleting the same key field (`l.key` in `Acquire` and `Release`), also
    /// when that method is in another file of the Go package or Rust crate (with the workspace index; medium
    /// confidence, as the key is matched by its text). A
    /// `GET` followed by a separate `DEL` is reported too, with medium confidence: it checks, but not atomically.
    ///
    /// ## Why it fails under partial failure
    /// The lock's TTL is what frees it when a holder dies; it also frees it when a holder is merely slow — a
    /// GC pause, a slow query, a partition that delays its commands. Then a second worker takes the lock, and
    /// when the first one finishes it deletes the key: the second worker's lock. A third worker now takes it
    /// too, and two holders run the critical section at once, each believing it is alone. Nothing fails
    /// loudly; the data the lock protected is silently written twice or interleaved. Checking the token and
    /// deleting in one atomic step (a Lua script, or `WATCH`/`MULTI`) deletes only the holder's own lock.
    ///
    /// ## Known false positives
    /// A key without any expiry cannot be taken over by someone else, so its plain `DEL` is not reported
    /// (LCK001 reports the missing TTL instead). Keys named like deduplication records (`processed:<id>`,
    /// `idempotency:<key>`) are not locks and are not reported. Releases inside a `Watch(fn, key)` callback,
    /// after a `WATCH` of the key, or in `redis::transaction` are compare-and-delete already. Lock libraries
    /// (redsync, rslock, redlock) release with a script and are never reported.
    ///
    /// ## Example
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
    /// func runExclusive(ctx context.Context, rdb *redis.Client, job, token string, work func() error) error {
    ///     ok, err := rdb.SetNX(ctx, "lock:"+job, token, 30*time.Second).Result()
    ///     if err != nil || !ok {
    ///         return err
    ///     }
    ///     defer rdb.Del(ctx, "lock:"+job)
    ///     return work()
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
    /// // Deletes the key only while it still holds this holder's token.
    /// var unlock = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`)
    ///
    /// func runExclusive(ctx context.Context, rdb *redis.Client, job, token string, work func() error) error {
    ///     ok, err := rdb.SetNX(ctx, "lock:"+job, token, 30*time.Second).Result()
    ///     if err != nil || !ok {
    ///         return err
    ///     }
    ///     defer unlock.Run(ctx, rdb, []string{"lock:" + job}, token)
    ///     return work()
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Advice only: the compare-and-delete script needs the token the holder stored, which is often not in
    /// scope where the key is deleted (a `Release` method, a value that was `1` rather than a unique token).
    /// The advice shows the script for the client in use: go-redis `redis.NewScript(…).Run`, redigo
    /// `redis.NewScript(1, …).Do`, redis-rs `redis::Script::new(…).key(…).arg(…)`, fred `eval`, ioredis `eval`,
    /// node-redis `eval` with `{ keys, arguments }`.
    ///
    /// ## Configuration
    /// None.
    ///
    /// ## References
    /// - Redis documentation, "Distributed Locks with Redis": "remove the key only if it exists and the value
    ///   stored at the key is exactly the one I expect to be".
    /// - Redis documentation, `SET`: the `SET resource-name anystring NX EX max-lock-time` pattern and its
    ///   unlock script.
    /// - Martin Kleppmann, "How to do distributed locking" (2016).
    pub struct UnsafeLockRelease {
        code: "LCK002",
        slug: "unsafe-lock-release",
        family: Coordination,
        languages: [Go, Rust, TypeScript],
        severity: Critical,
        impact: SilentCorruption,
        kind: Finding,
        fix: Never,
        scope: File,
        reads: [Locks],
    }
}

/// The compare-and-delete script, in single quotes so that it fits every host language's string syntax.
const UNLOCK_LUA: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

impl Rule<RuleContext<'_>> for UnsafeLockRelease {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        let locks = ctx.locks();
        let mut reported = FxHashSet::default();
        for acquisition in &locks.acquisitions {
            if acquisition.mechanism != Mechanism::Redis || acquisition.purpose == Purpose::Dedup {
                continue;
            }
            // Without an expiry nobody else can take the key, so deleting it cannot free another holder's lock.
            if acquisition.expiry == Expiry::None && acquisition.expire.is_none() {
                continue;
            }
            for release in &acquisition.releases {
                let get = match release.kind {
                    ReleaseKind::Delete => None,
                    ReleaseKind::DeleteAfterGet(get) => Some(get),
                    _ => continue,
                };
                if reported.insert(release.call) {
                    report(ctx, acquisition, release.call, get, sink);
                }
            }
        }
        // A `Release` method deleting the key field that another method of the type, in another file, takes.
        let Some(index) = ctx.index else {
            return;
        };
        for handed in &locks.handed_over {
            let get = match handed.kind {
                ReleaseKind::Delete => None,
                ReleaseKind::DeleteAfterGet(get) => Some(get),
                _ => continue,
            };
            let Some((path, claim, true)) = index.lock_taken_by_type(&handed.owner, &handed.key)
            else {
                continue;
            };
            if reported.insert(handed.call) {
                let taken = Evidence {
                    path: Some(path.to_path_buf()),
                    range: claim,
                    note: format!(
                        "lock taken here, with a TTL, by another method of `{}`",
                        handed.owner
                    ),
                };
                report_handed_over(ctx, handed, taken, get, sink);
            }
        }
    }
}

/// A plain `DEL` of a key field whose lock another method of the type takes in another file.
fn report_handed_over(
    ctx: &RuleContext<'_>,
    handed: &HandedOver,
    taken: Evidence,
    get: Option<usize>,
    sink: &mut Vec<Finding>,
) {
    let facts = ctx.facts;
    let call = &facts.calls[handed.call];
    let key = format!("`{}`", shorten(&handed.key));
    let command = ctx
        .store_commands()
        .at(handed.call)
        .map_or_else(|| "DEL".to_string(), |c| c.name.clone());
    let builder = ctx
        .finding(&UnsafeLockRelease::META, TextRange::of(call.callee))
        .trigger("the holder outlives the lock's TTL (a GC pause, a slow dependency, a partition) and another worker takes the lock before this one deletes the key")
        .expected("the key is deleted only while it still holds this holder's token, checked and deleted in one atomic step (a Lua compare-and-delete script, or WATCH/MULTI)")
        .evidence_at(taken)
        // Matched by the key's text across files: as sure as the names are.
        .confidence(Confidence::Medium);
    let builder = match get {
        None => builder
            .title(format!("lock {key} is released with a plain `{command}`: once its TTL has passed this deletes the next holder's lock"))
            .actual(format!("`{command}` removes {key} whoever holds it, so a holder that ran past the TTL frees a lock it no longer owns and lets a third worker in beside the second")),
        Some(get) => builder
            .title(format!("lock {key} is checked with a separate `GET` before `{command}`: the lock can change hands between the two commands"))
            .evidence(facts.calls[get].range(), "the token is read here, in a separate command")
            .actual(format!("the `GET` and the `{command}` are two round trips: if the TTL runs out between them, another worker takes {key} and this `{command}` deletes its lock")),
    };
    builder
        .fix(Fix::advice(format!(
            "release with a compare-and-delete script (`{UNLOCK_LUA}`) given the key and the token the holder stored"
        )))
        .emit(sink);
}

fn report(
    ctx: &RuleContext<'_>,
    acquisition: &Acquisition<'_, '_>,
    release: usize,
    get: Option<usize>,
    sink: &mut Vec<Finding>,
) {
    let facts = ctx.facts;
    let call = &facts.calls[release];
    let claim = &facts.calls[acquisition.call];
    let key = acquisition
        .key
        .map(|k| format!("`{}`", shorten(&key_text(ctx.source, ctx.language, k))))
        .unwrap_or_else(|| "the lock key".to_string());
    let command = ctx
        .store_commands()
        .at(release)
        .map_or_else(|| "DEL".to_string(), |c| c.name.clone());
    // A raw token (`"PX"`) says less than the typed expiry (`30*time.Second`), so only the latter is quoted.
    let expiry = match acquisition.expiry {
        Expiry::At(n) if node::string_literal_value(n, ctx.source, ctx.language).is_none() => {
            format!(
                "lock taken here, with a TTL of `{}`",
                shorten(&compact_text(ctx, n))
            )
        }
        _ => "lock taken here, with a TTL".to_string(),
    };
    let mut builder = ctx
        .finding(&UnsafeLockRelease::META, TextRange::of(call.callee))
        .trigger("the holder outlives the lock's TTL (a GC pause, a slow dependency, a partition) and another worker takes the lock before this one deletes the key")
        .expected("the key is deleted only while it still holds this holder's token, checked and deleted in one atomic step (a Lua compare-and-delete script, or WATCH/MULTI)")
        .evidence(claim.range(), expiry);
    if let Some(expire) = acquisition.expire {
        builder = builder.evidence(facts.calls[expire].range(), "the TTL is set here");
    }
    builder = match get {
        None => builder
            .title(format!("lock {key} is released with a plain `{command}`: once its TTL has passed this deletes the next holder's lock"))
            .actual(format!("`{command}` removes {key} whoever holds it, so a holder that ran past the TTL frees a lock it no longer owns and lets a third worker in beside the second")),
        Some(get) => builder
            .title(format!("lock {key} is checked with a separate `GET` before `{command}`: the lock can change hands between the two commands"))
            .confidence(Confidence::Medium)
            .evidence(facts.calls[get].range(), "the token is read here, in a separate command")
            .actual(format!("the `GET` and the `{command}` are two round trips: if the TTL runs out between them, another worker takes {key} and this `{command}` deletes its lock")),
    };
    let token_note = match acquisition.token {
        Some(token) if is_constant(ctx, token) => format!(
            "; the value stored is the constant `{}`, so first store a unique token per holder (a random UUID)",
            compact_text(ctx, token)
        ),
        _ => String::new(),
    };
    let snippet = unlock_snippet(ctx, call, acquisition);
    builder
        .fix(Fix::advice(format!(
            "release with a compare-and-delete script: {snippet}{token_note}"
        )))
        .emit(sink);
}

/// The unlock script written for the client the release goes through, with the code's own names.
fn unlock_snippet(
    ctx: &RuleContext<'_>,
    release: &dsr_semantic::facts::Call<'_>,
    acquisition: &Acquisition<'_, '_>,
) -> String {
    let facts = ctx.facts;
    let key = acquisition
        .key
        .map(|k| compact_text(ctx, k))
        .unwrap_or_else(|| "key".to_string());
    let token = acquisition
        .token
        .filter(|t| !is_constant(ctx, *t))
        .map(|t| compact_text(ctx, t))
        .unwrap_or_else(|| "token".to_string());
    let client = release
        .receiver
        .filter(|r| release.method.is_some() && r.kind() != "call_expression")
        .map(|r| compact_text(ctx, r));
    let Some(script) = ctx
        .kb
        .unlock_script(ctx.language, |module| facts.imports_module(module))
    else {
        return format!("`{UNLOCK_LUA}`");
    };
    let client = client.as_deref().unwrap_or(&script.client);
    // The forms write their own `&`/`&mut` where the client's API wants a reference.
    let bare = |s: &str| s.trim_start_matches('&').to_string();
    let filled = fill_placeholders(
        &script.form,
        &[
            ("script", UNLOCK_LUA.to_string()),
            ("client", bare(client)),
            ("key", bare(&key)),
            ("token", bare(&token)),
        ],
    );
    format!("`{filled}`")
}

/// `form` with each `{name}` replaced by its value, in one pass, so a value that itself contains `{…}` stays as
/// written; other braces are kept.
fn fill_placeholders(form: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(form.len() + 64);
    let mut rest = form;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            values
                .iter()
                .find(|(name, _)| *name == &after[..close])
                .map(|(name, value)| (name.len(), value))
        });
        match value {
            Some((len, value)) => {
                out.push_str(value);
                rest = &after[len + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A literal value (`1`, `"locked"`, `true`): the same for every holder, so no token at all.
fn is_constant(ctx: &RuleContext<'_>, n: Node<'_>) -> bool {
    node::string_literal_value(n, ctx.source, ctx.language).is_some()
        || matches!(
            n.kind(),
            "int_literal" | "integer_literal" | "number" | "true" | "false" | "boolean_literal"
        )
}

fn shorten(text: &str) -> String {
    const MAX: usize = 48;
    if text.chars().count() <= MAX {
        return text.replace('`', "'");
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("{}…", cut.replace('`', "'"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use dsr_core::config::Selector;
    use dsr_core::{Config, Language};
    use dsr_engine::Engine;

    use super::fill_placeholders;

    /// The fix titles LCK002 gives for a fixture: each names the script call of the client the file uses.
    fn fixes(language: Language, source: &str) -> Vec<String> {
        let known = crate::codes();
        let mut config = Config::default();
        config.scope.roles = dsr_core::CodeRole::ALL.to_vec();
        config.override_selection(
            vec![Selector::parse("LCK002", &known).expect("a known code")],
            Vec::new(),
        );
        Engine::new(crate::registry(), config)
            .analyze_source(Path::new("x"), language, source)
            .findings
            .into_iter()
            .filter_map(|f| f.fix.map(|fix| fix.title))
            .collect()
    }

    #[test]
    fn the_fix_runs_the_script_through_the_client_in_use() {
        let cases: [(Language, &str, &str); 6] = [
            (
                Language::Go,
                include_str!("../../tests/fixtures/LCK002/fire.go"),
                "redis.NewScript(\"if redis.call",
            ),
            (
                Language::Go,
                include_str!("../../tests/fixtures/LCK002/fire_redigo.go"),
                "redis.NewScript(1, \"if redis.call",
            ),
            (
                Language::Rust,
                include_str!("../../tests/fixtures/LCK002/fire.rs"),
                "redis::Script::new(\"if redis.call",
            ),
            (
                Language::Rust,
                include_str!("../../tests/fixtures/LCK002/fire_fred.rs"),
                ".eval::<i64, _, _, _>(\"if redis.call",
            ),
            (
                Language::TypeScript,
                include_str!("../../tests/fixtures/LCK002/fire.ts"),
                ".eval(\"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end\", 1, ",
            ),
            (
                Language::TypeScript,
                include_str!("../../tests/fixtures/LCK002/fire.js"),
                "{ keys: [",
            ),
        ];
        for (language, source, form) in cases {
            let fixes = fixes(language, source);
            assert!(!fixes.is_empty(), "{language:?}: no LCK002 fix");
            for fix in &fixes {
                assert!(fix.contains(form), "{language:?}: {fix}");
                // `{key}` can be code here (Go's `[]string{key}` with the default name): not checked.
                for placeholder in ["{script}", "{client}", "{token}"] {
                    assert!(!fix.contains(placeholder), "{fix}");
                }
            }
        }
    }

    #[test]
    fn placeholders_are_filled_once_and_other_braces_kept() {
        let values = [("key", "k".to_string()), ("token", "{token}".to_string())];
        assert_eq!(
            fill_placeholders("[]string{{key}}, {token}, { keys: [{key}] }", &values),
            "[]string{k}, {token}, { keys: [k] }"
        );
    }
}
