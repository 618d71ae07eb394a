use dsr_core::{declare_rule, Finding, Fix, Rule, RuleMeta, TextRange};
use dsr_semantic::models::time::{ClockReading, ClockUse, ClockUseKind};
use dsr_semantic::RuleContext;
use rustc_hash::FxHashSet;

use crate::shared::quote;

declare_rule! {
    /// ## What it finds
    /// A wall-clock reading (Go `time.Now()`, Rust `SystemTime::now()`, `chrono::Utc::now()`,
    /// `OffsetDateTime::now_utc()`, TS `Date.now()`, `new Date()`) that decides the order of events across
    /// processes: stored into a field, key or column named like a version, sequence, revision, generation, epoch or
    /// order, or compared with a time read from a store or a message to decide which write wins or whether a
    /// lease or lock has expired. The value is followed through derived forms (`.UnixNano()`, `.getTime()`,
    /// `+ ttl`) and local variables of the same function.
    ///
    /// ## Why it fails under partial failure
    /// Clocks of different hosts disagree, by milliseconds on a good day and by seconds after an NTP step, a VM
    /// migration or a leap second; a clock can also jump backwards. A version taken from the clock can be smaller
    /// on a later write from another host, so last-write-wins keeps the older value and silently drops the newer
    /// one. A lease judged expired by comparing this host's clock with the expiry another host wrote lets two
    /// holders believe they own it at once. Nothing errors: the data is just wrong.
    ///
    /// ## Known false positives
    /// A value written and read by the same single process, or a store that assigns the ordering itself and only
    /// records the time for display. Comparisons count only when the other side comes from a remote call of the
    /// same function or a parameter named or typed like a message (`msg`, `event`, `record`); names like
    /// `version_time` or `epoch_ms` are timestamps, not versions, and are not reported.
    ///
    /// ## Example
    /// ```go
    /// package orders
    ///
    /// import "time"
    ///
    /// func (s *Store) Save(o Order) error {
    ///     o.Version = time.Now().UnixNano()
    ///     return s.put(o)
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// package orders
    ///
    /// func (s *Store) Save(o Order, expected int64) error {
    ///     // The store assigns the next revision and rejects the write when someone else wrote first.
    ///     return s.putIfVersion(o, expected)
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Advice only: the replacement (a counter the store increments, a compare-and-set on a revision, a hybrid
    /// logical clock, a fencing token from the lock service) changes the data model.
    ///
    /// ## Configuration
    /// None.
    ///
    /// ## References
    /// - Martin Kleppmann, "Designing Data-Intensive Applications", ch. 8 "Unreliable Clocks".
    /// - Kulkarni et al., "Logical Physical Clocks and Consistent Snapshots in Globally Distributed Databases"
    ///   (hybrid logical clocks, 2014).
    /// - Martin Kleppmann, "How to do distributed locking" (2016), on fencing tokens.
    pub struct WallClockOrdering {
        code: "ORD001",
        slug: "wall-clock-ordering",
        family: Ordering,
        languages: [Go, Rust, TypeScript],
        severity: High,
        impact: Consistency,
        kind: Finding,
        fix: Never,
        scope: Function,
        reads: [Time],
        // Every finding is a use of a wall-clock reading.
        requires: [KbClock],
    }
}

impl Rule<RuleContext<'_>> for WallClockOrdering {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        let model = ctx.time();
        let mut seen = FxHashSet::default();
        let mut named = FxHashSet::default();
        for reading in &model.readings {
            for clock_use in &reading.uses {
                if !seen.insert(clock_use.site.id()) {
                    continue;
                }
                // `const version = Date.now(); return { id, version }` is one decision, reported once.
                if let ClockUseKind::OrderingKey { name } = &clock_use.kind {
                    if !named.insert((reading.call.id(), name.to_ascii_lowercase())) {
                        continue;
                    }
                }
                report(ctx, reading, clock_use, sink);
            }
        }
    }
}

/// Words that say a comparison decides whether a lease, lock or entry is still valid.
const EXPIRY_WORDS: &[&str] = &[
    "expir", "lease", "lock", "ttl", "deadline", "until", "valid",
];

fn report(
    ctx: &RuleContext<'_>,
    reading: &ClockReading<'_>,
    clock_use: &ClockUse<'_>,
    sink: &mut Vec<Finding>,
) {
    let api = reading.api;
    match &clock_use.kind {
        ClockUseKind::OrderingKey { name } => {
            ctx.finding(&WallClockOrdering::META, TextRange::of(clock_use.site))
                .title(format!("`{api}` used as `{name}`: another host's clock can be behind, so a later write gets a smaller `{name}`"))
                .trigger("two hosts write the same entity while their clocks disagree (NTP step, VM pause, skew of a few ms)")
                .expected(format!("`{name}` taken from a counter the store assigns or checks (compare-and-set), a hybrid logical clock, or a fencing token"))
                .actual(format!("`{name}` is the local wall-clock time, so last-write-wins can keep the older write and drop the newer one"))
                .evidence(TextRange::of(reading.call), "wall-clock reading")
                .fix(Fix::advice(format!("take `{name}` from a sequence the store assigns (a revision checked with compare-and-set), a hybrid logical clock or a fencing token, not from `{api}`")))
                .emit(sink);
        }
        ClockUseKind::StoreComparison { other, origin } => {
            let other_text = quote(ctx.node_text(*other), 40);
            let lower = ctx.node_text(*other).to_ascii_lowercase();
            let expiry = EXPIRY_WORDS.iter().any(|w| lower.contains(w));
            let (decides, actual) = if expiry {
                ("whether it expired", "a lease or lock is judged expired by this host's clock against a time another host's clock wrote, so two holders can both act")
            } else {
                ("which write wins", "the winner depends on which host's clock runs ahead, so a newer write can be dropped")
            };
            ctx.finding(&WallClockOrdering::META, TextRange::of(clock_use.site))
                .title(format!("`{api}` compared with `{other_text}` from a store or message to decide {decides}"))
                .trigger("the host that wrote the stored time and this host disagree on the time")
                .expected("ordering or expiry decided by the store (revision compare-and-set, server-side TTL) or by fencing tokens, not by comparing clocks of different hosts")
                .actual(actual)
                .evidence(TextRange::of(*origin), "the other time comes from here")
                .evidence(TextRange::of(reading.call), "wall-clock reading")
                .fix(Fix::advice("let the store decide: a revision checked with compare-and-set, a TTL the store enforces, or a fencing token checked by the resource; if times must be compared, use a hybrid logical clock"))
                .emit(sink);
        }
        _ => {}
    }
}
