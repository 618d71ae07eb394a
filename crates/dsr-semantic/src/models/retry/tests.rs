use dsr_syntax::{Document, Language};

use super::*;

/// What a test checks about one retry, flattened so that expectations read as one line.
#[derive(Debug, PartialEq, Eq)]
struct Summary {
    library: Option<String>,
    retried: Vec<String>,
    attempt: Option<String>,
    cap: bool,
    deadline: bool,
    delay: Option<(bool, bool)>,
}

fn retries(language: Language, source: &str) -> Vec<Summary> {
    let document = Document::new(language, source, 0).expect("grammar loads");
    let facts = FileFacts::compute(language, document.tree(), source);
    let loops = Retries::compute(&facts, source, KnowledgeBase::builtin());
    // Backoff strategy functions are judged on their own (see `strategies_are_judged_where_they_are_defined`).
    loops
        .iter()
        .filter(|l| !l.is_strategy())
        .map(|l| Summary {
            library: l.library().map(|lib| lib.library.clone()),
            retried: l
                .retried
                .iter()
                .map(|i| facts.calls[*i].callee_text.clone())
                .collect(),
            attempt: l.attempt.as_ref().map(|c| c.name.clone()),
            cap: l.cap.is_some(),
            deadline: l.deadline.is_some(),
            delay: l.delay.as_ref().map(|d| (d.grows, d.random)),
        })
        .collect()
}

fn library(language: Language, source: &str) -> LibraryRetry {
    let document = Document::new(language, source, 0).expect("grammar loads");
    let facts = FileFacts::compute(language, document.tree(), source);
    let loops = Retries::compute(&facts, source, KnowledgeBase::builtin());
    let found: Vec<_> = loops.iter().filter_map(|l| l.library().cloned()).collect();
    assert_eq!(found.len(), 1, "expected one library retry, got {found:?}");
    found.into_iter().next().unwrap()
}

fn looped(
    retried: &[&str],
    attempt: Option<&str>,
    cap: bool,
    deadline: bool,
    delay: Option<(bool, bool)>,
) -> Summary {
    Summary {
        library: None,
        retried: retried.iter().map(|s| s.to_string()).collect(),
        attempt: attempt.map(str::to_string),
        cap,
        deadline,
        delay,
    }
}

const GO_HEADER: &str =
    "package p\nimport (\n\t\"context\"\n\t\"math/rand\"\n\t\"net/http\"\n\t\"time\"\n)\n";

#[test]
fn go_counted_loop_with_continue_and_exponential_sleep() {
    let source = format!(
        "{GO_HEADER}func f(c *http.Client, req *http.Request) error {{
	for attempt := 0; attempt < 5; attempt++ {{
		resp, err := c.Do(req)
		if err != nil {{
			time.Sleep(time.Duration(1<<attempt) * 100 * time.Millisecond)
			continue
		}}
		resp.Body.Close()
		return nil
	}}
	return nil
}}
"
    );
    assert_eq!(
        retries(Language::Go, &source),
        [looped(
            &["c.Do"],
            Some("attempt"),
            true,
            false,
            Some((true, false))
        )]
    );
}

#[test]
fn go_success_break_select_on_context_and_doubling_delay() {
    let source = format!(
        "{GO_HEADER}func f(ctx context.Context) {{
	delay := time.Second
	for {{
		if _, err := http.Get(\"u\"); err == nil {{
			break
		}}
		select {{
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}}
		delay *= 2
	}}
}}
"
    );
    assert_eq!(
        retries(Language::Go, &source),
        [looped(
            &["http.Get"],
            None,
            false,
            true,
            Some((true, false))
        )]
    );
}

#[test]
fn go_delay_from_a_helper_that_receives_the_counter() {
    let source = format!(
        "{GO_HEADER}func backoff(n int) time.Duration {{
	base := 100 * time.Millisecond << n
	return base/2 + time.Duration(rand.Int63n(int64(base/2)))
}}
func f() {{
	for i := 0; ; i++ {{
		_, err := http.Post(\"u\", \"\", nil)
		if err == nil {{
			return
		}}
		if i >= 3 {{
			return
		}}
		time.Sleep(backoff(i))
	}}
}}
"
    );
    assert_eq!(
        retries(Language::Go, &source),
        [looped(
            &["http.Post"],
            Some("i"),
            true,
            false,
            Some((true, true))
        )]
    );
}

#[test]
fn go_near_misses_are_not_retries() {
    let source = format!(
        "{GO_HEADER}func collection(urls []string) {{
	for _, u := range urls {{
		if _, err := http.Get(u); err != nil {{
			continue
		}}
		return
	}}
}}
func worker(c *http.Client, req *http.Request) {{
	for {{
		resp, err := c.Do(req)
		if err != nil {{
			continue
		}}
		handle(resp)
	}}
}}
func gives_up(c *http.Client, req *http.Request) error {{
	for i := 0; i < 3; i++ {{
		_, err := c.Do(req)
		if err != nil {{
			return err
		}}
	}}
	return nil
}}
func pages(c *Client) {{
	token := \"\"
	for {{
		resp, err := http.Get(\"u?page=\" + token)
		if err != nil {{
			continue
		}}
		token = resp.Header.Get(\"Next\")
		if token == \"\" {{
			break
		}}
	}}
}}
func local() {{
	for i := 0; i < 3; i++ {{
		if err := compute(); err == nil {{
			return
		}}
	}}
}}
"
    );
    assert_eq!(retries(Language::Go, &source), []);
}

#[test]
fn go_cenkalti_backoff_settings() {
    let source = format!(
        "{GO_HEADER}import \"github.com/cenkalti/backoff/v4\"
func f() error {{
	b := backoff.NewExponentialBackOff()
	b.RandomizationFactor = 0
	b.MaxElapsedTime = 0
	return backoff.Retry(func() error {{ _, err := http.Get(\"u\"); return err }}, b)
}}
"
    );
    let lib = library(Language::Go, &source);
    assert_eq!(lib.library, "cenkalti/backoff");
    assert!(!lib.jitter.value && lib.jitter.setting.is_some());
    assert!(!lib.bounded.value && lib.bounded.setting.is_some());
    assert!(lib.config_visible);
    let capped = format!(
        "{GO_HEADER}import \"github.com/cenkalti/backoff/v4\"
func f(ctx context.Context) error {{
	b := backoff.NewExponentialBackOff()
	b.MaxElapsedTime = 0
	return backoff.Retry(op, backoff.WithContext(backoff.WithMaxRetries(b, 5), ctx))
}}
func op() error {{ return nil }}
"
    );
    let lib = library(Language::Go, &capped);
    assert!(lib.bounded.value && lib.cancellation.is_some());
    assert!(lib.jitter.value && lib.jitter.setting.is_none());
}

#[test]
fn go_backoff_passed_in_is_not_visible() {
    let source = format!(
        "{GO_HEADER}import \"github.com/cenkalti/backoff/v4\"
func f(b backoff.BackOff) error {{
	return backoff.Retry(func() error {{ return nil }}, b)
}}
"
    );
    assert!(!library(Language::Go, &source).config_visible);
}

#[test]
fn rust_match_with_guarded_err_arm_and_pow_delay() {
    let source = r#"use std::time::Duration;
use reqwest::Client;
async fn f(client: &Client) -> Result<(), E> {
    let mut attempt = 0;
    loop {
        match client.post("u").send().await {
            Ok(_) => return Ok(()),
            Err(e) if attempt < 5 => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(100 * 2u64.pow(attempt))).await;
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
}
"#;
    assert_eq!(
        retries(Language::Rust, source),
        [looped(
            &["client.post(\"u\").send"],
            Some("attempt"),
            true,
            false,
            Some((true, false))
        )]
    );
}

#[test]
fn rust_if_let_ok_in_a_counted_for_with_a_constant_delay() {
    let source = r#"use tokio::time::sleep;
async fn f() -> String {
    for attempt in 0..3 {
        if let Ok(resp) = reqwest::get("u").await {
            return resp;
        }
        sleep(Duration::from_secs(1)).await;
    }
    String::new()
}
async fn g() {
    while let Err(e) = reqwest::get("u").await {
        warn(e);
    }
}
"#;
    assert_eq!(
        retries(Language::Rust, source),
        [
            looped(
                &["reqwest::get"],
                Some("attempt"),
                true,
                false,
                Some((false, false))
            ),
            looped(&["reqwest::get"], None, false, false, None),
        ]
    );
}

#[test]
fn rust_near_misses_are_not_retries() {
    let source = r#"async fn f(items: Vec<String>) -> Result<(), E> {
    for item in items {
        if let Err(e) = reqwest::get(&item).await { continue; }
        return Ok(());
    }
    loop {
        let resp = reqwest::get("u").await?;
        if resp.status().is_success() { break; }
    }
    loop {
        match reqwest::get("u").await {
            Ok(r) => handle(r),
            Err(e) => continue,
        }
    }
    Ok(())
}
"#;
    assert_eq!(retries(Language::Rust, source), []);
}

#[test]
fn rust_let_then_match_and_select_sleep() {
    let source = r#"async fn f(token: CancellationToken) {
    let mut backoff = Duration::from_millis(50);
    loop {
        let result = reqwest::get("u").await;
        match result {
            Ok(_) => break,
            Err(_) => {}
        }
        tokio::select! {
            _ = token.cancelled() => return,
            _ = tokio::time::sleep(backoff + jitter()) => {}
        }
        backoff = backoff * 2;
    }
}
"#;
    assert_eq!(
        retries(Language::Rust, source),
        [looped(
            &["reqwest::get"],
            None,
            false,
            true,
            Some((true, true))
        )]
    );
}

#[test]
fn rust_libraries() {
    let backon = r#"use backon::{ExponentialBuilder, Retryable};
async fn f() {
    let v = (|| async { reqwest::get("u").await }).retry(ExponentialBuilder::default()).await;
}
"#;
    let lib = library(Language::Rust, backon);
    assert_eq!(lib.library, "backon");
    assert!(!lib.jitter.value && lib.jitter.setting.is_none());
    assert!(lib.bounded.value);
    let jittered = backon.replace(
        "::default()",
        "::default().with_jitter().without_max_times()",
    );
    let lib = library(Language::Rust, &jittered);
    assert!(lib.jitter.value && !lib.bounded.value);
    let tokio_retry = r#"use tokio_retry::Retry;
use tokio_retry::strategy::{jitter, ExponentialBackoff};
async fn f() {
    let strategy = ExponentialBackoff::from_millis(10).map(jitter);
    Retry::spawn(strategy, || async { reqwest::get("u").await }).await;
}
"#;
    let lib = library(Language::Rust, tokio_retry);
    assert!(lib.jitter.value && !lib.bounded.value);
    let backoff = r#"use backoff::ExponentialBackoff;
fn f() {
    let b = ExponentialBackoff { max_elapsed_time: None, ..Default::default() };
    backoff::retry(b, || Ok(ureq::get("u").call()?));
}
"#;
    let lib = library(Language::Rust, backoff);
    assert!(!lib.bounded.value && lib.jitter.value);
}

#[test]
fn ts_try_catch_loops() {
    let source = r#"async function f(url: string) {
  for (let i = 0; i < 5; i++) {
    try {
      const res = await fetch(url, { method: "POST" });
      return res;
    } catch (e) {
      await new Promise((r) => setTimeout(r, 2 ** i * 100 + Math.random() * 100));
    }
  }
}
async function g(url: string, signal: AbortSignal) {
  while (true) {
    if (signal.aborted) return;
    try {
      return await fetch(url);
    } catch {}
  }
}
"#;
    assert_eq!(
        retries(Language::TypeScript, source),
        [
            looped(&["fetch"], Some("i"), true, false, Some((true, true))),
            looped(&["fetch"], None, false, true, None),
        ]
    );
}

#[test]
fn ts_status_checks_and_near_misses() {
    let source = r#"import axios from "axios";
async function sleep(ms: number) { return new Promise((r) => setTimeout(r, ms)); }
async function f(url: string) {
  let attempt = 0;
  while (attempt < 3) {
    const res = await fetch(url);
    if (res.ok) return res.json();
    attempt++;
    await sleep(500);
  }
}
async function rethrows(url: string) {
  for (let i = 0; i < 3; i++) {
    try { return await axios.get(url); } catch (e) { throw e; }
  }
}
async function each(urls: string[]) {
  for (const u of urls) {
    try { await fetch(u); } catch {}
  }
}
async function poll(url: string) {
  while (true) {
    try { await fetch(url); } catch {}
  }
}
"#;
    assert_eq!(
        retries(Language::TypeScript, source),
        [looped(
            &["fetch"],
            Some("attempt"),
            true,
            false,
            Some((false, false))
        )]
    );
}

#[test]
fn ts_libraries() {
    let p_retry = r#"import pRetry from "p-retry";
await pRetry(() => fetch("u", { method: "POST" }), { retries: 5 });
"#;
    let lib = library(Language::TypeScript, p_retry);
    assert!(!lib.jitter.value && lib.bounded.value);
    let randomized = p_retry.replace("retries: 5", "retries: Infinity, randomize: true");
    let lib = library(Language::TypeScript, &randomized);
    assert!(lib.jitter.value && !lib.bounded.value);
    let async_retry = r#"const retry = require("async-retry");
async function f() { await retry(async () => fetch("u"), {}); }
"#;
    assert!(library(Language::Tsx, async_retry).jitter.value);
    let cockatiel = r#"import { retry, handleAll, ExponentialBackoff, noJitterGenerator } from "cockatiel";
const policy = retry(handleAll, { backoff: new ExponentialBackoff({ generator: noJitterGenerator }) });
export async function f() { return policy.execute(() => fetch("u", { method: "POST" })); }
"#;
    let lib = library(Language::TypeScript, cockatiel);
    assert!(lib.grows.value && !lib.jitter.value && !lib.bounded.value);
}

#[test]
fn library_operations_repeat_their_remote_calls() {
    let source = r#"import { retry, handleAll } from "cockatiel";
const policy = retry(handleAll, { maxAttempts: 3 });
export async function f() { return policy.execute(() => fetch("u", { method: "POST" })); }
"#;
    let document = Document::new(Language::TypeScript, source, 0).expect("grammar loads");
    let facts = FileFacts::compute(Language::TypeScript, document.tree(), source);
    let loops = Retries::compute(&facts, source, KnowledgeBase::builtin());
    let repeated: Vec<_> = loops
        .iter()
        .flat_map(|l| {
            l.repeated
                .iter()
                .map(|i| facts.calls[*i].callee_text.as_str())
        })
        .collect();
    assert_eq!(repeated, ["fetch"]);
}

#[test]
fn strategies_are_judged_where_they_are_defined() {
    let source = format!(
        "{GO_HEADER}func backoffDelay(attempt int) time.Duration {{
	delays := []time.Duration{{time.Second, 2 * time.Second, 4 * time.Second}}
	if attempt >= len(delays) {{
		return delays[len(delays)-1]
	}}
	return delays[attempt]
}}
func retryAfter(retryAfter time.Duration) time.Duration {{
	return retryAfter
}}
"
    );
    let document = Document::new(Language::Go, &source, 0).expect("grammar loads");
    let facts = FileFacts::compute(Language::Go, document.tree(), &source);
    let found = Retries::compute(&facts, &source, KnowledgeBase::builtin());
    let strategies: Vec<(String, bool, bool, bool)> = found
        .iter()
        .filter(|r| r.is_strategy())
        .map(|r| {
            let delay = r.delay.as_ref().expect("a strategy has a delay");
            (
                facts.functions[r.function.expect("its function")]
                    .name
                    .clone(),
                delay.grows,
                delay.random,
                r.cap.is_some(),
            )
        })
        .collect();
    // A schedule indexed by the attempt grows and is capped by its last entry; a `retryAfter` duration is no
    // attempt count.
    assert_eq!(
        strategies,
        [("backoffDelay".to_string(), true, false, true)]
    );
}
