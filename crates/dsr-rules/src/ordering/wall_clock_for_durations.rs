use dsr_core::{
    declare_rule, Applicability, Edit, Finding, Fix, Language, Rule, RuleMeta, TextRange,
};
use dsr_semantic::models::time::{ClockUseKind, ElapsedForm, TimeModel};
use dsr_semantic::tree_sitter::Node;
use dsr_semantic::RuleContext;
use dsr_syntax::node;
use rustc_hash::FxHashSet;

declare_rule! {
    /// ## What it finds
    /// Elapsed time or a timeout measured with the wall clock and compared with a limit: in Rust, a
    /// `SystemTime::now()` (or `chrono` time) whose `elapsed()` / `duration_since(start)` is compared with a
    /// timeout; in TypeScript/JavaScript, `Date.now() - start` (or `new Date().getTime()`) compared with a
    /// timeout, or a loop waiting until `Date.now()` passes a deadline; in Go, readings turned into plain numbers
    /// (`time.Now().Unix()`, `UnixNano()`, `UnixMilli()`) and then subtracted or compared.
    ///
    /// ## Why it fails under partial failure
    /// The wall clock is not monotonic: NTP steps it, an operator or a VM resume sets it, and it can go backwards.
    /// A timeout measured with it fires early (the clock jumped forward: a healthy request is abandoned, a lease
    /// is renewed too late) or never (the clock jumped back: a hung call is waited on for as long as the jump).
    /// Rust's `SystemTime::elapsed` even returns an error when the clock went backwards, which usually ends in an
    /// `unwrap()` panic. A monotonic clock (`Instant`, `performance.now()`, Go's `time.Since` on a `time.Time`)
    /// is immune.
    ///
    /// ## Known false positives
    /// Durations that are only logged or exported as metrics are not reported (only comparisons are), nor a
    /// comparison that only decides whether to log (`if (ms > 1000) console.warn(…)`, or a function of the project
    /// named `log…`), nor a `for` loop that steps through a range of times (`for (t = start; t < end; t += hour)`:
    /// the clock is read once, nothing waits). Go
    /// `time.Time` values still carry a monotonic reading, so `time.Since(start)`, `now.Sub(start)` and
    /// `now.After(deadline)` are clean; `.UTC()` and `.Round(0)` strip it, but are written to normalise or align a
    /// time on purpose and are not reported. A reading kept in a field of a type (or a map kept in one:
    /// `this.lastSeen.set(id, Date.now())`, `t.seen[k] = time.Now().Unix()`, `self.renewed_at = SystemTime::now()`)
    /// and compared by another method of the same type is followed; one handed through other objects, or kept by
    /// another type, is not.
    ///
    /// ## Example
    /// ```typescript
    /// export async function waitReady(check: () => Promise<boolean>, timeoutMs: number) {
    ///   const start = Date.now();
    ///   while (!(await check())) {
    ///     if (Date.now() - start > timeoutMs) throw new Error("not ready");
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```typescript
    /// export async function waitReady(check: () => Promise<boolean>, timeoutMs: number) {
    ///   const start = performance.now();
    ///   while (!(await check())) {
    ///     if (performance.now() - start > timeoutMs) throw new Error("not ready");
    ///   }
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Rust: `SystemTime::now()` becomes `Instant::now()` (and the `unwrap()`/`?` after `elapsed()` or
    /// `duration_since()` goes, since `Instant`'s never fail; `Instant` is imported), only when the readings
    /// involved are used for nothing else. TypeScript: `Date.now()` / `new Date().getTime()` become
    /// `performance.now()` under the same condition. Both are applied by fix-all. Otherwise, and for Go, the fix is
    /// advice (Go: keep the `time.Time` and use `time.Since(start)`).
    ///
    /// ## Configuration
    /// None.
    ///
    /// ## References
    /// - Rust documentation, `std::time::SystemTime`: "not monotonic"; `std::time::Instant`.
    /// - Go documentation, package `time`, "Monotonic Clocks".
    /// - MDN, `performance.now()`.
    pub struct WallClockForDurations {
        code: "ORD002",
        slug: "wall-clock-for-durations",
        family: Ordering,
        languages: [Rust, TypeScript, Go],
        severity: Medium,
        impact: Availability,
        kind: Finding,
        fix: Sometimes,
        scope: File,
        reads: [Time],
        // Every finding is a use of a wall-clock reading.
        requires: [KbClock],
    }
}

impl Rule<RuleContext<'_>> for WallClockForDurations {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        let model = ctx.time();
        let mut seen = FxHashSet::default();
        for (index, reading) in model.readings.iter().enumerate() {
            for clock_use in &reading.uses {
                let ClockUseKind::Elapsed {
                    form,
                    others,
                    compared: true,
                    through_field,
                } = &clock_use.kind
                else {
                    continue;
                };
                if !seen.insert(clock_use.site.id()) {
                    continue;
                }
                let mut involved = vec![index];
                involved.extend(others.iter().copied());
                let api = reading.api;
                let what = match form {
                    ElapsedForm::Deadline => "a deadline",
                    _ => "elapsed time",
                };
                let fix = fix(ctx, model, &involved);
                let kept = through_field
                    .as_ref()
                    .map(|field| format!(", the earlier reading kept in field `{field}`"))
                    .unwrap_or_default();
                let mut builder = ctx
                    .finding(&WallClockForDurations::META, TextRange::of(clock_use.site))
                    .title(format!("{what} measured with the wall clock (`{api}`, {}{kept}); a clock step makes the timeout fire early or never", form.describe()))
                    .trigger("NTP steps the clock, a VM resumes, or an operator sets the time while the wait is running")
                    .expected("durations measured with a monotonic clock")
                    .actual(format!("{what} comes from `{api}`, which can jump forwards or backwards"));
                for other in &involved {
                    if let Some(r) = model.readings.get(*other) {
                        builder = builder.evidence(TextRange::of(r.call), "wall-clock reading");
                    }
                }
                builder.fix(fix).emit(sink);
            }
        }
    }
}

fn fix(ctx: &RuleContext<'_>, model: &TimeModel<'_>, involved: &[usize]) -> Fix {
    let edits = match ctx.language {
        Language::Rust => rust_edits(ctx, model, involved),
        Language::TypeScript | Language::Tsx => ts_edits(model, involved),
        _ => None,
    };
    match (edits, ctx.language) {
        (Some(edits), Language::Rust) => Fix::edits("use `Instant::now()` and its infallible `elapsed()`/`duration_since()`", Applicability::Always, edits),
        (Some(edits), _) => Fix::edits("use `performance.now()`", Applicability::Always, edits),
        (None, Language::Go) => Fix::advice("keep the `time.Time` from `time.Now()` and measure with `time.Since(start)` / `time.Until(deadline)`, which use its monotonic reading"),
        (None, Language::Rust) => Fix::advice("measure with `std::time::Instant::now()` and `.elapsed()`"),
        (None, _) => Fix::advice("measure with `performance.now()`"),
    }
}

/// Every reading involved, and every other use of them, must be elapsed arithmetic on the reading itself.
fn readings_replaceable(model: &TimeModel<'_>, involved: &[usize]) -> bool {
    involved.iter().all(|i| model.only_elapsed(*i))
}

fn ts_edits(model: &TimeModel<'_>, involved: &[usize]) -> Option<Vec<Edit>> {
    if !readings_replaceable(model, involved) {
        return None;
    }
    let mut edits = Vec::new();
    for i in involved {
        let reading = model.readings.get(*i)?;
        // A bare `new Date()` is a Date object; later `.getTime()` calls on it would break on a number.
        if reading.base == reading.call && reading.api == "new Date()" {
            return None;
        }
        edits.push(Edit::replace(
            TextRange::of(reading.base),
            "performance.now()",
        ));
    }
    Some(edits)
}

fn rust_edits(
    ctx: &RuleContext<'_>,
    model: &TimeModel<'_>,
    involved: &[usize],
) -> Option<Vec<Edit>> {
    if !readings_replaceable(model, involved) {
        return None;
    }
    let mut edits = Vec::new();
    let mut needs_import = false;
    let mut replaced_calls = Vec::new();
    for i in involved {
        let reading = model.readings.get(*i)?;
        if !reading.is_system_time {
            return None;
        }
        for clock_use in &reading.uses {
            let ClockUseKind::Elapsed { form, .. } = clock_use.kind else {
                return None;
            };
            if !matches!(form, ElapsedForm::Elapsed | ElapsedForm::DurationSince) {
                return None;
            }
            edits.push(drop_fallibility(ctx, clock_use.site)?);
        }
        let callee = reading.call.child_by_field_name("function")?;
        let written = ctx.node_text(callee);
        let replacement = match written.strip_suffix("SystemTime::now") {
            Some("") => {
                needs_import = true;
                "Instant::now".to_string()
            }
            Some(prefix) => format!("{prefix}Instant::now"),
            None => return None,
        };
        replaced_calls.push(TextRange::of(callee));
        edits.push(Edit::replace(TextRange::of(callee), replacement));
    }
    if needs_import {
        edits.extend(instant_import(ctx, &replaced_calls)?);
    }
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    edits.dedup();
    Some(edits)
}

/// `start.elapsed().unwrap()` → `start.elapsed()`: `Instant`'s `elapsed`/`duration_since` return a `Duration`.
fn drop_fallibility(ctx: &RuleContext<'_>, site: Node<'_>) -> Option<Edit> {
    let parent = site.parent()?;
    match parent.kind() {
        "try_expression" => Some(Edit::replace(
            TextRange::new(site.end_byte(), parent.end_byte()),
            "",
        )),
        "field_expression" => {
            let call = parent.parent().filter(|c| c.kind() == "call_expression")?;
            let method = ctx.node_text(parent.child_by_field_name("field")?);
            matches!(
                method,
                "unwrap" | "expect" | "unwrap_or_default" | "unwrap_or"
            )
            .then(|| Edit::replace(TextRange::new(site.end_byte(), call.end_byte()), ""))
        }
        _ => None,
    }
}

/// `Instant` in scope: already imported, or the `SystemTime` of the `use` renamed when nothing else names it, or a
/// new `use std::time::Instant;` line.
fn instant_import(ctx: &RuleContext<'_>, replaced: &[TextRange]) -> Option<Option<Edit>> {
    if ctx
        .facts
        .import("Instant")
        .is_some_and(|i| i.path == "std::time::Instant")
    {
        return Some(None);
    }
    let import = ctx
        .facts
        .import("SystemTime")
        .filter(|i| i.path == "std::time::SystemTime")?;
    let root = ctx.tree?.root_node();
    let declaration = node::descendants(root).find(|n| {
        n.kind() == "use_declaration" && TextRange::of(*n).contains_range(import.range)
    })?;
    let other_references = node::descendants(root).any(|n| {
        matches!(n.kind(), "identifier" | "type_identifier")
            && ctx.node_text(n) == "SystemTime"
            && !TextRange::of(declaration).contains_range(TextRange::of(n))
            && !replaced.iter().any(|r| r.contains_range(TextRange::of(n)))
    });
    if !other_references {
        let name = node::descendants(declaration)
            .find(|n| n.kind() == "identifier" && ctx.node_text(*n) == "SystemTime")?;
        return Some(Some(Edit::replace(TextRange::of(name), "Instant")));
    }
    let line_start = ctx.source[..declaration.start_byte()]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let indent = &ctx.source[line_start..declaration.start_byte()];
    Some(Some(Edit::insert(
        line_start,
        format!("{indent}use std::time::Instant;\n"),
    )))
}
