use dsr_core::{declare_rule, Fix, Rule, RuleMeta, TextRange};
use dsr_semantic::models::{LibraryRetry, Retry, RetryKind};
use dsr_semantic::RuleContext;

use crate::shared::{call_name, quote};

declare_rule! {
    /// ## What it finds
    /// A retry that never gives up. A hand-written retry loop (as RES004 defines it) with no attempt cap (a
    /// counter compared in the loop condition or in a check that leaves the loop), no deadline (`time.Since`,
    /// `Instant::elapsed`, `Date.now()` compared to a limit) and no cancellation check (`ctx.Err()`,
    /// `<-ctx.Done()`, a cancellation token, `signal.aborted`); and retry libraries set to retry forever —
    /// cenkalti/backoff `MaxElapsedTime = 0` or a `ConstantBackOff` without `WithMaxRetries`/`WithContext`,
    /// retry-go `Attempts(0)`, the backoff crate's `max_elapsed_time: None`, backon `without_max_times()`,
    /// tokio-retry strategies without `.take(n)`, p-retry/async-retry `retries: Infinity`, cockatiel without
    /// `maxAttempts` (its default is `Infinity`).
    ///
    /// ## Why it fails under partial failure
    /// When the dependency stays down — a bad deploy, a revoked credential, a deleted queue — an unbounded retry
    /// holds its request, connection, goroutine or task forever, and every new request adds another. The caller
    /// never hears about the failure, so it cannot fail over, shed load or alert; its own callers time out
    /// instead, and the process slowly fills with stuck work. A cap or a deadline turns the outage into an
    /// error the caller can handle.
    ///
    /// ## Known false positives
    /// Background loops that must keep a connection alive (a consumer reconnecting to its broker) retry forever
    /// on purpose; they still need a cancellation check so that shutdown can stop them. Findings that rest on a
    /// library's default (tokio-retry, cockatiel) have medium confidence.
    ///
    /// Not reported in tool, frontend or build code (code roles): a tool retrying until it succeeds is stopped by
    /// the person or job that runs it; an endless retry matters in a service that nobody watches
    /// (docs/precision.md, issue 13).
    ///
    /// ## Example
    /// ```rust
    /// use reqwest::Client;
    ///
    /// async fn publish(client: &Client, body: String) {
    ///     let mut delay = std::time::Duration::from_millis(100);
    ///     loop {
    ///         match client.put("http://broker/events").body(body.clone()).send().await {
    ///             Ok(_) => break,
    ///             Err(_) => {
    ///                 tokio::time::sleep(delay.mul_f64(rand::random::<f64>())).await;
    ///                 delay = (delay * 2).min(std::time::Duration::from_secs(10));
    ///             }
    ///         }
    ///     }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```rust
    /// use reqwest::Client;
    ///
    /// async fn publish(client: &Client, body: String) -> Result<(), reqwest::Error> {
    ///     let mut delay = std::time::Duration::from_millis(100);
    ///     let mut attempt = 0;
    ///     loop {
    ///         match client.put("http://broker/events").body(body.clone()).send().await {
    ///             Ok(_) => return Ok(()),
    ///             Err(e) if attempt >= 5 => return Err(e),
    ///             Err(_) => {
    ///                 attempt += 1;
    ///                 tokio::time::sleep(delay.mul_f64(rand::random::<f64>())).await;
    ///                 delay = (delay * 2).min(std::time::Duration::from_secs(10));
    ///             }
    ///         }
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Advice only: the right limit (attempts, total time, the caller's deadline) depends on the operation.
    ///
    /// ## Configuration
    /// None.
    ///
    /// ## References
    /// - AWS Builders' Library, "Timeouts, retries, and backoff with jitter".
    /// - Google SRE book, chapter 22 "Addressing Cascading Failures", section "Retries" (retry budgets).
    pub struct UnboundedRetry {
        code: "RES006",
        slug: "unbounded-retry",
        family: Resilience,
        languages: [Go, Rust, TypeScript],
        severity: Medium,
        impact: Availability,
        kind: Finding,
        fix: Never,
        scope: Function,
        reads: [Retries],
        roles: ServiceClients,
    }
}

const ADVICE: &str = "give up after a fixed number of attempts or a total deadline, and check for cancellation (`ctx.Err()`, a cancellation token, an `AbortSignal`) before each retry";

impl Rule<RuleContext<'_>> for UnboundedRetry {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<dsr_core::Finding>) {
        for retry in ctx.retries().iter() {
            match retry.library() {
                Some(library) => check_library(ctx, retry, library, sink),
                None => check_loop(ctx, retry, sink),
            }
        }
    }
}

fn check_loop(ctx: &RuleContext<'_>, retry: &Retry<'_>, sink: &mut Vec<dsr_core::Finding>) {
    if retry.cap.is_some() || retry.deadline.is_some() {
        return;
    }
    match retry.kind {
        // A connection re-established in the background (a timer or a spawned task) holds no caller: retrying
        // it for as long as the process lives is the point. Its backoff is RES004's and RES005's.
        RetryKind::Reschedule { timer: true } => return,
        RetryKind::Strategy => {
            check_strategy(ctx, retry, sink);
            return;
        }
        _ => {}
    }
    let Some(&first) = retry.retried.first() else {
        return;
    };
    let call = &ctx.facts.calls[first];
    let name = call_name(&call.callee_text);
    let mut finding = ctx
        .finding(&UnboundedRetry::META, retry.anchor)
        .title(format!(
            "{} has no attempt cap, deadline or cancellation check",
            crate::shared::retry_phrase(ctx, retry, &name)
        ))
        .trigger("the dependency stays down (bad deploy, revoked credential, deleted resource)")
        .expected("a limit on attempts or total time, and a cancellation check, after which the error goes to the caller")
        .actual(format!(
            "the loop retries `{name}` for as long as it fails, holding its caller and resources with no way to stop it"
        ))
        .evidence(call.range(), "the remote call that is retried");
    if let Some(edge) = retry.retry_edge {
        finding = finding.evidence(edge, "a failure goes round again here");
    }
    finding.fix(Fix::advice(ADVICE)).emit(sink);
}

fn check_library(
    ctx: &RuleContext<'_>,
    retry: &Retry<'_>,
    library: &LibraryRetry,
    sink: &mut Vec<dsr_core::Finding>,
) {
    if library.bounded.value || library.cancellation.is_some() {
        return;
    }
    let entry = quote(ctx.text(retry.anchor), 40);
    let Some((range, title, confidence)) = super::library_setting_site(
        ctx,
        retry,
        library,
        &library.bounded,
        |setting| format!("`{setting}` makes {} retry forever", library.library),
        |options| {
            if options.is_empty() {
                format!("`{entry}` never gives up: {}", library.defaults)
            } else {
                format!(
                    "`{entry}` never gives up: {} sets no limit by default, and the options set here ({}) add none",
                    library.library,
                    super::list_options(options)
                )
            }
        },
    ) else {
        return;
    };
    ctx.finding(&UnboundedRetry::META, range)
        .title(title)
        .confidence(confidence)
        .trigger("the dependency stays down (bad deploy, revoked credential, deleted resource)")
        .expected("a limit on attempts or total time, or a cancellation the retries stop on")
        .actual(format!(
            "{} retries for as long as the operation fails, and nothing cancels it",
            library.library
        ))
        .evidence(TextRange::of(retry.node), "the retry")
        .fix(Fix::advice(format!(
            "set a limit on {}'s attempts or elapsed time, or pass it a context/signal that cancels; {ADVICE}",
            library.library
        )))
        .emit(sink);
}

/// A backoff strategy function whose growing delay has no upper bound: after enough failures one wait outlasts
/// any outage, and the retry that uses it stops trying in practice while still holding its caller.
fn check_strategy(ctx: &RuleContext<'_>, retry: &Retry<'_>, sink: &mut Vec<dsr_core::Finding>) {
    let (Some(delay), Some(function)) = (&retry.delay, retry.function) else {
        return;
    };
    if !delay.grows || crate::shared::in_test_code(ctx, retry.node) {
        return;
    }
    let name = crate::shared::short_name(&ctx.facts.functions[function].name);
    ctx.finding(&UnboundedRetry::META, retry.anchor)
        .title(format!(
            "backoff function `{name}` grows the delay with the attempt without an upper bound"
        ))
        .trigger("the dependency stays down for many attempts")
        .expected("the delay clamped to a maximum (`min(cap, base * 2^attempt)`)")
        .actual(format!(
            "`{name}(…)` doubles without limit: after twenty failures one wait lasts days, and the retry never notices recovery"
        ))
        .fix(Fix::advice(ADVICE))
        .emit(sink);
}
