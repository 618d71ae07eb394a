use dsr_core::{declare_rule, Fix, Language, Rule, RuleMeta, TextRange};
use dsr_semantic::models::{Retries, Retry};
use dsr_semantic::{Question, RuleContext};

use crate::shared::{call_name, in_test_code, quote, retry_phrase, short_name};

declare_rule! {
    /// ## What it finds
    /// A retry loop that does not back off. A hand-written retry loop — a loop whose body makes a remote call
    /// and goes round again when that call fails — that waits nothing between attempts, or waits a delay that
    /// does not grow with the attempt (a literal, a constant, a random value from a fixed range). Go `for` loops
    /// that `continue` (or fall through) on `err != nil`, Rust `loop`/`while`/`for` with `Err(_) => continue` or
    /// `if let Ok(v) = … { return v }`, and TypeScript loops whose `catch` neither rethrows nor leaves the loop.
    /// A remote call is one the knowledge base knows (HTTP, RPC, database, cache, queue clients), or a function
    /// of the same file that makes one.
    ///
    /// ## Why it fails under partial failure
    /// A dependency that starts failing is usually overloaded or recovering. Every client of it now turns each
    /// request into a burst of immediate retries, multiplying the load exactly when the dependency has the least
    /// capacity — a retry storm that keeps it down long after the original fault is gone. A fixed delay only
    /// slows the storm: all clients still retry at the same rate, and those that failed together retry together.
    /// Exponential backoff spreads the retries out as the outage lasts; jitter (RES005) de-synchronizes them.
    ///
    /// ## Known false positives
    /// Loops whose iterations do different work are not retries and are not reported: loops over a collection
    /// (`for _, x := range xs`, `for x in xs`, `for (const x of xs)`), pagination loops whose next request
    /// carries a cursor taken from the response, and worker loops that also go round after a success. Retry
    /// libraries (cenkalti/backoff, retry-go, go-retryablehttp, backoff, backon, tokio-retry, p-retry,
    /// async-retry, cockatiel) back off by themselves; RES005 and RES006 judge their configuration. A loop that
    /// waits on something else between attempts (a rate limiter, a condition variable) is reported if it does
    /// not also sleep; suppress it with the reason. Test code (`_test.go`, `.test.`/`.spec.` files, `__tests__`,
    /// Rust `#[test]`/`#[cfg(test)]`) is not reported: a fixed-interval loop there waits for a server the test
    /// itself started, which no other client shares.
    ///
    /// Not reported in tool, frontend or build code (code roles): a developer tool polling a process it just
    /// started, or a one-shot script retrying, is watched by the person who ran it and shares no dependency with a
    /// fleet of callers (docs/precision.md, issue 13).
    ///
    /// ## Example
    /// ```go
    /// package client
    ///
    /// import "net/http"
    ///
    /// func fetch(c *http.Client, req *http.Request) (*http.Response, error) {
    /// 	for attempt := 0; attempt < 5; attempt++ {
    /// 		resp, err := c.Do(req)
    /// 		if err != nil {
    /// 			continue
    /// 		}
    /// 		return resp, nil
    /// 	}
    /// 	return nil, errGaveUp
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// package client
    ///
    /// import (
    /// 	"math/rand/v2"
    /// 	"net/http"
    /// 	"time"
    /// )
    ///
    /// func fetch(c *http.Client, req *http.Request) (*http.Response, error) {
    /// 	for attempt := 0; attempt < 5; attempt++ {
    /// 		resp, err := c.Do(req)
    /// 		if err != nil {
    /// 			// Full jitter: a random wait up to an exponentially growing cap.
    /// 			backoff := min(100*time.Millisecond<<attempt, 10*time.Second)
    /// 			time.Sleep(time.Duration(rand.Int64N(int64(backoff))))
    /// 			continue
    /// 		}
    /// 		return resp, nil
    /// 	}
    /// 	return nil, errGaveUp
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Advice only: the right base delay, cap and number of attempts depend on the dependency and on the
    /// caller's deadline. The advice carries an exponential-backoff-with-full-jitter snippet for the file's
    /// language.
    ///
    /// ## Configuration
    /// None.
    ///
    /// ## References
    /// - Marc Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog (2015).
    /// - Google SRE book, chapter 22 "Addressing Cascading Failures", section "Retries".
    pub struct RetryWithoutBackoff {
        code: "RES004",
        slug: "retry-without-backoff",
        family: Resilience,
        languages: [Go, Rust, TypeScript],
        severity: High,
        impact: Availability,
        kind: Finding,
        fix: Never,
        scope: Function,
        reads: [Retries],
        roles: ServiceClients,
    }
}

impl Rule<RuleContext<'_>> for RetryWithoutBackoff {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<dsr_core::Finding>) {
        let retries: &Retries<'_> = ctx.retries();
        for retry in retries.iter() {
            if retry.is_hand_written() && !retries.delay_from_strategy(retry) {
                check_loop(ctx, retry, sink);
            } else if retry.is_strategy() {
                check_strategy(ctx, retry, sink);
            }
        }
    }
}

/// A backoff strategy function whose delay ignores how many attempts failed: it computes from the attempt
/// count but does not grow with it.
fn check_strategy(ctx: &RuleContext<'_>, retry: &Retry<'_>, sink: &mut Vec<dsr_core::Finding>) {
    let (Some(delay), Some(function)) = (&retry.delay, retry.function) else {
        return;
    };
    if delay.grows || in_test_code(ctx, retry.node) {
        return;
    }
    let name = short_name(&ctx.facts.functions[function].name);
    ctx.finding(&RetryWithoutBackoff::META, retry.anchor)
        .title(format!(
            "backoff function `{name}` computes a delay that does not grow with the attempt"
        ))
        .trigger("the dependency slows down or fails for many clients at once (overload, deploy, failover)")
        .expected("a delay that grows exponentially with the attempt, randomized, up to a cap")
        .actual(format!(
            "every retry that waits `{name}(…)` waits about as long on the tenth attempt as on the first"
        ))
        .fix(Fix::advice(format!(
            "grow the delay with the attempt and randomize it (full jitter), up to a cap:\n{}",
            backoff_snippet(ctx.language)
        )))
        .emit(sink);
}

fn check_loop(ctx: &RuleContext<'_>, retry: &Retry<'_>, sink: &mut Vec<dsr_core::Finding>) {
    let Some(&first) = retry.retried.first() else {
        return;
    };
    let call = &ctx.facts.calls[first];
    // A test polling the server it just started: there is no shared dependency for its retries to overload.
    if in_test_code(ctx, call.node) {
        return;
    }
    let name = call_name(&call.callee_text);
    let what = retry_phrase(ctx, retry, &name);
    let (title, actual) = match &retry.delay {
        None => (
            format!("{what} retries with no delay between attempts"),
            format!("when `{name}` fails the loop goes straight round again, so every client hammers the failing dependency as fast as it answers"),
        ),
        Some(delay) if !delay.grows => {
            let phrase = what;
            let what = match delay.duration {
                Some(_) if delay.random => "a random delay that does not grow".to_string(),
                Some(duration) => format!("a fixed `{}`", quote(ctx.node_text(duration), 40)),
                None => "a fixed delay".to_string(),
            };
            (
                format!("{phrase} waits {what} between attempts"),
                format!("the wait between attempts of `{name}` stays the same however long the outage lasts, so the retry rate never drops"),
            )
        }
        Some(_) => return,
    };
    let mut finding = ctx
        .finding(&RetryWithoutBackoff::META, retry.anchor)
        .title(title)
        .trigger("the dependency slows down or fails for many clients at once (overload, deploy, failover)")
        .expected("waits that grow exponentially with the attempt, randomized (full jitter), up to a cap")
        .actual(actual)
        .evidence(call.range(), "the remote call that is retried");
    // The I/O is in another file (the workspace index): point there too.
    if let Some(evidence) = ctx.ask(call, Question::Remote).and_then(|a| a.evidence) {
        finding = finding.evidence_at(evidence);
    }
    if let Some(edge) = retry.retry_edge {
        finding = finding.evidence(edge, "a failure goes round again here");
    }
    if let Some(delay) = &retry.delay {
        finding = finding.evidence(TextRange::of(delay.call), "the wait between attempts");
    }
    finding
        .fix(Fix::advice(format!(
            "wait a random time up to an exponentially growing cap before each retry (full jitter), and cap the attempts:\n{}",
            backoff_snippet(ctx.language)
        )))
        .emit(sink);
}

/// Exponential backoff with full jitter, in the file's language.
fn backoff_snippet(language: Language) -> &'static str {
    match language {
        Language::Go => {
            "```go\nbackoff := min(baseDelay<<attempt, maxDelay) // e.g. 100 * time.Millisecond, 10 * time.Second\nselect {\ncase <-ctx.Done():\n\treturn ctx.Err()\ncase <-time.After(time.Duration(rand.Int64N(int64(backoff)))):\n}\n```"
        }
        Language::Rust => {
            "```rust\nlet cap = BASE_DELAY.saturating_mul(1 << attempt.min(16)).min(MAX_DELAY);\ntokio::time::sleep(cap.mul_f64(rand::random::<f64>())).await;\n```"
        }
        _ => {
            "```ts\nconst cap = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);\nawait new Promise((resolve) => setTimeout(resolve, Math.random() * cap));\n```"
        }
    }
}
