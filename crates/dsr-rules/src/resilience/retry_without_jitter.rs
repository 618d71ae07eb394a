use dsr_core::{declare_rule, Fix, Rule, RuleMeta, TextRange};
use dsr_semantic::models::{LibraryRetry, Retry};
use dsr_semantic::RuleContext;

use crate::shared::{call_name, quote};

declare_rule! {
    /// ## What it finds
    /// A retry whose delay grows with the attempt but has no random part. A hand-written retry loop (as RES004
    /// defines it) sleeping `base << attempt` or a doubling variable with no `rand`, `fastrand`,
    /// `Math.random` or `jitter` in it (followed through local variables and through a helper of the same file
    /// that receives the attempt counter), and retry libraries whose jitter is turned off — cenkalti/backoff
    /// `RandomizationFactor = 0`, retry-go `DelayType(retry.BackOffDelay)`, the backoff crate's
    /// `randomization_factor: 0.0`, p-retry `randomize: false`, cockatiel `noJitterGenerator` — or off by
    /// default and not turned on: go-retryablehttp's `DefaultBackoff`, backon without `.with_jitter()`,
    /// tokio-retry strategies without `.map(jitter)`, p-retry without `randomize: true`.
    ///
    /// ## Why it fails under partial failure
    /// Clients that failed together — because the dependency dropped them all at the same moment — back off
    /// by the same schedule and come back together: 100 ms, 200 ms, 400 ms later the dependency receives the
    /// whole fleet's retries in synchronized waves. Backoff lowers the average rate but keeps the peaks, and
    /// the peaks are what keep a recovering service down. A random part (full jitter: a uniformly random wait
    /// up to the backoff cap) spreads each wave over the whole interval.
    ///
    /// ## Known false positives
    /// A single process retrying a dependency nobody else calls gains little from jitter. Findings that rest on
    /// a library's default (not on a setting in the code) have medium confidence: the client may be configured
    /// where this file cannot see it, and a library configured through a value passed in from elsewhere is not
    /// reported.
    ///
    /// ## Example
    /// ```ts
    /// export async function charge(url: string) {
    ///   for (let attempt = 0; attempt < 5; attempt++) {
    ///     try {
    ///       return await fetch(url);
    ///     } catch {
    ///       await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```ts
    /// export async function charge(url: string) {
    ///   for (let attempt = 0; attempt < 5; attempt++) {
    ///     try {
    ///       return await fetch(url);
    ///     } catch {
    ///       const cap = Math.min(10_000, 100 * 2 ** attempt);
    ///       await new Promise((resolve) => setTimeout(resolve, Math.random() * cap));
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Advice only: where the random part goes (full jitter, equal jitter, decorrelated jitter) is a choice;
    /// full jitter is the usual default.
    ///
    /// ## Configuration
    /// None.
    ///
    /// ## References
    /// - Marc Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog (2015).
    /// - AWS Builders' Library, "Timeouts, retries, and backoff with jitter".
    pub struct RetryWithoutJitter {
        code: "RES005",
        slug: "retry-without-jitter",
        family: Resilience,
        languages: [Go, Rust, TypeScript],
        severity: Medium,
        impact: Availability,
        kind: Finding,
        fix: Never,
        scope: Function,
        reads: [Retries],
        roles: Clients,
    }
}

const ADVICE: &str = "add full jitter: wait a uniformly random time between 0 and the backoff cap, `sleep(random(0, min(maxDelay, base * 2^attempt)))`";

impl Rule<RuleContext<'_>> for RetryWithoutJitter {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<dsr_core::Finding>) {
        for retry in ctx.retries().iter() {
            match retry.library() {
                Some(library) => check_library(ctx, retry, library, sink),
                None if ctx.retries().delay_from_strategy(retry) => {}
                None => check_loop(ctx, retry, sink),
            }
        }
    }
}

fn check_loop(ctx: &RuleContext<'_>, retry: &Retry<'_>, sink: &mut Vec<dsr_core::Finding>) {
    let Some(delay) = retry.delay.as_ref().filter(|d| d.grows && !d.random) else {
        return;
    };
    if retry.is_strategy() {
        check_strategy(ctx, retry, sink);
        return;
    }
    let Some(&first) = retry.retried.first() else {
        return;
    };
    let call = &ctx.facts.calls[first];
    let name = call_name(&call.callee_text);
    let expression = delay
        .duration
        .map(|d| format!("`{}`", quote(ctx.node_text(d), 48)))
        .unwrap_or_else(|| "the delay".to_string());
    let mut finding = ctx
        .finding(&RetryWithoutJitter::META, TextRange::of(delay.call))
        .title(format!(
            "retry delay {expression} grows with the attempt but has no random part"
        ))
        .trigger("many clients see the same failure at the same moment and back off on the same schedule")
        .expected("a random part in every wait (full jitter) so that the fleet's retries spread out")
        .actual(format!(
            "every client retrying `{name}` waits exactly the same time, so their retries arrive in synchronized waves"
        ))
        .evidence(call.range(), "the remote call that is retried");
    if let Some(helper) = delay.helper {
        finding = finding.evidence(
            ctx.facts.functions[helper].range(),
            "the delay is computed here",
        );
    }
    finding.fix(Fix::advice(ADVICE)).emit(sink);
}

fn check_library(
    ctx: &RuleContext<'_>,
    retry: &Retry<'_>,
    library: &LibraryRetry,
    sink: &mut Vec<dsr_core::Finding>,
) {
    if !library.grows.value || library.jitter.value {
        return;
    }
    let entry = quote(ctx.text(retry.anchor), 40);
    let Some((range, title, confidence)) = super::library_setting_site(
        ctx,
        retry,
        library,
        &library.jitter,
        |setting| format!("`{setting}` turns off {}'s jitter", library.library),
        |options| {
            if options.is_empty() {
                format!("`{entry}` backs off without jitter: {}", library.defaults)
            } else {
                format!(
                    "`{entry}` backs off without jitter: {} adds none by default, and the options set here ({}) do not turn it on",
                    library.library,
                    super::list_options(options)
                )
            }
        },
    ) else {
        return;
    };
    ctx.finding(&RetryWithoutJitter::META, range)
        .title(title)
        .confidence(confidence)
        .trigger("many clients see the same failure at the same moment and back off on the same schedule")
        .expected("randomized delays (jitter) so that the fleet's retries spread out")
        .actual(format!(
            "{} waits the same growing delays in every client, so their retries arrive in synchronized waves",
            library.library
        ))
        .evidence(TextRange::of(retry.node), "the retry")
        .fix(Fix::advice(format!(
            "turn {}'s jitter on; {ADVICE}",
            library.library
        )))
        .emit(sink);
}

/// A backoff strategy function whose delay grows with the attempt and has no random part.
fn check_strategy(ctx: &RuleContext<'_>, retry: &Retry<'_>, sink: &mut Vec<dsr_core::Finding>) {
    let Some(function) = retry.function else {
        return;
    };
    if crate::shared::in_test_code(ctx, retry.node) {
        return;
    }
    let name = crate::shared::short_name(&ctx.facts.functions[function].name);
    ctx.finding(&RetryWithoutJitter::META, retry.anchor)
        .title(format!(
            "backoff function `{name}` grows the delay with the attempt but has no random part"
        ))
        .trigger("many clients see the same failure at the same moment and back off on the same schedule")
        .expected("a random part in every wait (full jitter) so that the fleet's retries spread out")
        .actual(format!(
            "every client whose retries wait `{name}(…)` waits exactly the same time, so their retries arrive in synchronized waves"
        ))
        .fix(Fix::advice(ADVICE))
        .emit(sink);
}
