use dsr_core::kb::ApiKind;
use dsr_core::{declare_rule, Confidence, Fix, Rule, RuleMeta, TextRange};
use dsr_semantic::facts::Call;
use dsr_semantic::models::{Retry, WriteKind};
use dsr_semantic::{Question, RuleContext};
use rustc_hash::FxHashSet;

use crate::shared::call_name;

declare_rule! {
    /// ## What it finds
    /// A retry that repeats a non-idempotent write, so that a lost response becomes a duplicate charge, row or
    /// message. Inside a retry loop (as RES004 defines it: every remote call up to the one whose failure sends
    /// the loop round again) or inside the operation given to a retry library (cenkalti/backoff, retry-go, backoff, backon, tokio-retry, p-retry, async-retry,
    /// cockatiel): an HTTP POST or PATCH with no idempotency-key header (`Idempotency-Key`,
    /// `X-Idempotency-Key`), an SQL `INSERT` with no `ON CONFLICT` / `ON DUPLICATE KEY` / `IGNORE`, or a queue
    /// publish with no deduplication id (SQS `MessageDeduplicationId`, NATS `Nats-Msg-Id`). Writes reached
    /// through a function of the same file count: a helper that posts is a non-idempotent call.
    ///
    /// ## Why it fails under partial failure
    /// A timeout does not mean the request failed: the server may have charged the card, inserted the row or
    /// accepted the message, and only the response was lost. The retry then does it again. Under a partial
    /// outage (a slow database behind the API, a flaky network path) this happens to many requests at once, and
    /// the duplicates — double charges, duplicate orders, messages processed twice — are silent: every call
    /// looked like it succeeded once. An idempotency key fixed before the first attempt lets the server
    /// recognize the repeat; an upsert or a dedup id does the same for rows and messages.
    ///
    /// ## Known false positives
    /// An endpoint that is idempotent by design although it is a POST (a search, a query API) is reported;
    /// suppress it with the reason. A POST made by a function named for a read, a renewal or a move to a named
    /// state (`RenewLease`, `TimeToLiveHTTP`, `promoteMember`, `getStatus`; not `getOrCreate…`) is not: RPC over
    /// HTTP posts every operation, and the name says what it does (`[operations]` in `kb/calls.toml`). A key set on the request by a wrapper in another file is not seen. PUT,
    /// DELETE and GET are idempotent by the HTTP specification and are not reported. A retried request whose
    /// method the file does not show (a `*http.Request` parameter, `fetch(url, init)` with `init` from elsewhere)
    /// is reported as an open question.
    ///
    /// ## Example
    /// ```ts
    /// export async function charge(order: { id: string; cents: number }) {
    ///   for (let attempt = 0; attempt < 3; attempt++) {
    ///     try {
    ///       return await fetch("https://payments.internal/charges", {
    ///         method: "POST",
    ///         body: JSON.stringify(order),
    ///       });
    ///     } catch {
    ///       await new Promise((r) => setTimeout(r, Math.random() * 100 * 2 ** attempt));
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```ts
    /// export async function charge(order: { id: string; cents: number }) {
    ///   // One key for every attempt: the server applies the charge at most once.
    ///   const key = crypto.randomUUID();
    ///   for (let attempt = 0; attempt < 3; attempt++) {
    ///     try {
    ///       return await fetch("https://payments.internal/charges", {
    ///         method: "POST",
    ///         headers: { "Idempotency-Key": key },
    ///         body: JSON.stringify(order),
    ///       });
    ///     } catch {
    ///       await new Promise((r) => setTimeout(r, Math.random() * 100 * 2 ** attempt));
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Advice only: an idempotency key works only if the server stores and honours it, and an upsert needs a
    /// unique key that identifies the logical operation.
    ///
    /// ## Configuration
    /// None.
    ///
    /// ## References
    /// - IETF draft "The Idempotency-Key HTTP Header Field" (draft-ietf-httpapi-idempotency-key-header).
    /// - Stripe API reference, "Idempotent requests".
    /// - RFC 9110 §9.2.2, "Idempotent Methods".
    pub struct NonIdempotentRetry {
        code: "DEL001",
        slug: "non-idempotent-retry",
        family: Delivery,
        languages: [Go, Rust, TypeScript],
        severity: Critical,
        impact: SilentCorruption,
        kind: Finding,
        fix: Never,
        scope: Function,
        reads: [RemoteCalls, Retries],
    }
}

impl Rule<RuleContext<'_>> for NonIdempotentRetry {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<dsr_core::Finding>) {
        let effects = ctx.remote_calls();
        // A call repeated by two nested retries is one problem.
        let mut reported = FxHashSet::default();
        for retry in ctx.retries().iter() {
            for &index in &retry.repeated {
                let Some(remote) = effects.remote(index) else {
                    continue;
                };
                if !reported.insert(index) {
                    continue;
                }
                let call = &ctx.facts.calls[index];
                match &remote.write {
                    Some(write) => report(ctx, retry, call, write.call, &write.kind, sink),
                    // A request built elsewhere: whether a repeat is safe depends on a method the file does
                    // not show.
                    None if remote.kind == ApiKind::Http
                        && remote.http_method.is_none()
                        && remote.via.is_none() =>
                    {
                        ask(ctx, retry, call, sink)
                    }
                    None => {}
                }
            }
        }
    }
}

fn report(
    ctx: &RuleContext<'_>,
    retry: &Retry<'_>,
    call: &Call<'_>,
    write_call: usize,
    kind: &WriteKind,
    sink: &mut Vec<dsr_core::Finding>,
) {
    let name = call_name(&call.callee_text);
    let writer = &ctx.facts.calls[write_call];
    let through = if writer.node.id() == call.node.id() {
        String::new()
    } else {
        format!(" (`{}` inside it)", call_name(&writer.callee_text))
    };
    let retried_by = match retry.library() {
        Some(library) => format!("retried by {}", library.library),
        None => "retried by this loop".to_string(),
    };
    let (title, missing, advice) = match kind {
        WriteKind::Http(method) => (
            format!("`{name}` sends an HTTP {method}{through} that the retry repeats without an idempotency key"),
            "an `Idempotency-Key` header",
            "create an idempotency key once, before the first attempt, and send it with every attempt (`Idempotency-Key` header); the server must store it and answer a repeat with the first result",
        ),
        WriteKind::SqlInsert => (
            format!("`{name}` runs an SQL INSERT{through} that the retry repeats without `ON CONFLICT`"),
            "an `ON CONFLICT`/`ON DUPLICATE KEY` clause",
            "make the insert an upsert keyed by an id fixed before the first attempt (`INSERT … ON CONFLICT (request_id) DO NOTHING`)",
        ),
        WriteKind::Publish => (
            format!("`{name}` publishes a message{through} that the retry repeats without a dedup id"),
            "a deduplication id",
            "give the message an id fixed before the first attempt (SQS `MessageDeduplicationId`, NATS `Nats-Msg-Id`) and deduplicate on it, or make the consumer idempotent",
        ),
    };
    let mut finding = ctx
        .finding(&NonIdempotentRetry::META, anchor(call))
        .title(title)
        .trigger("the write succeeds on the server but the response is lost (timeout, connection reset), and the retry sends it again")
        .expected(format!("{missing}, fixed before the first attempt, so that a repeat is recognized"))
        .actual(format!("each attempt is a new {}: a lost response turns into a duplicate effect", kind.describe()))
        .evidence(retry.anchor, retried_by);
    if writer.node.id() != call.node.id() {
        finding = finding.evidence(
            writer.range(),
            format!("the {} is made here", kind.describe()),
        );
    }
    // A write made in another file (the workspace index): point there, as sure as the resolution on the way.
    if let Some(answer) = ctx.ask(call, Question::NonIdempotentWrite) {
        if let Some(evidence) = answer.evidence {
            finding = finding.evidence_at(evidence).confidence(answer.confidence);
        }
    }
    finding.fix(Fix::advice(advice)).emit(sink);
}

fn ask(
    ctx: &RuleContext<'_>,
    retry: &Retry<'_>,
    call: &Call<'_>,
    sink: &mut Vec<dsr_core::Finding>,
) {
    let name = call_name(&call.callee_text);
    let retried_by = match retry.library() {
        Some(library) => format!("retried by {}", library.library),
        None => "retried by this loop".to_string(),
    };
    ctx.finding(&NonIdempotentRetry::META, anchor(call))
        .open_question()
        .confidence(Confidence::Low)
        .title(format!("`{name}` is retried with a request whose method is not visible here: is a repeat safe?"))
        .trigger("the request succeeds on the server but the response is lost, and the retry sends it again")
        .expected("only idempotent requests (GET, PUT, DELETE, or a POST with an idempotency key) retried")
        .actual(format!("the request `{name}` sends is built elsewhere; if it is a POST or PATCH without an idempotency key, a lost response becomes a duplicate"))
        .evidence(retry.anchor, retried_by)
        .fix(Fix::advice("retry only idempotent requests, or send an idempotency key fixed before the first attempt"))
        .emit(sink);
}

/// The called name: `http.Post`, `c.Do`, or for a builder chain its last method (`send`).
fn anchor(call: &Call<'_>) -> TextRange {
    if call.callee_text.contains('(') {
        if let Some(member) = call
            .callee
            .child_by_field_name("field")
            .or(call.callee.child_by_field_name("property"))
        {
            return TextRange::of(member);
        }
    }
    TextRange::of(call.callee)
}
