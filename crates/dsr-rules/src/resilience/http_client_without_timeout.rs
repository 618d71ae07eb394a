use dsr_core::kb::Api;
use dsr_core::{
    declare_rule, Applicability, Confidence, Edit, Finding, Fix, Language, Rule, RuleMeta,
    TextRange,
};
use dsr_semantic::facts::Call;
use dsr_semantic::models::clients::{self, ClientTimeout, Elsewhere, Site, Subject, Why};
use dsr_semantic::tree_sitter::Node;
use dsr_semantic::{FindingBuilder, Question, RuleContext};
use dsr_syntax::node;

use crate::shared::{go_add_import, go_package_local, indentation_at, members_edit};

declare_rule! {
    /// ## What it finds
    /// An outbound HTTP request that nothing bounds in time. Go's `http.Get/Head/Post/PostForm` and
    /// `http.DefaultClient` (no timeout at all), `http.Client{}` literals without a `Timeout`; Rust's
    /// `reqwest::get`, `reqwest::Client::new()` and `Client::builder()…build()` chains without `.timeout(..)`,
    /// ureq's default agent; TypeScript's `fetch` without a `signal`, axios without a `timeout` on the call or
    /// on its `axios.create` instance, and Node's `http(s).request/get` without a `timeout` option, a `signal`
    /// or `req.setTimeout`.
    ///
    /// A client without a timeout is still judged clean when every request made through it in the file is
    /// bounded on its own: a per-request `.timeout(..)` (Rust), a `timeout` on each axios call, or (Go) a request
    /// built with `http.NewRequestWithContext` on a context from `context.WithTimeout/WithDeadline` in the same
    /// function. When the bound comes from elsewhere — a context parameter, options passed in, a spread — the
    /// rule asks an open question instead of reporting; with the workspace index, a context or options
    /// parameter that every caller in the workspace gives a deadline, a signal that times out or a `timeout`
    /// (also through callers that pass on their own parameter) bounds the request, and nothing is asked.
    ///
    /// What a helper of the same file does is read where it is used: options made by a helper (`fetch(url,
    /// init("GET"))`) are judged by what it returns; a reqwest builder a helper returns unfinished is judged by
    /// what its callers chain on it, and one handed to a closure or function of the file by what that chains on
    /// its parameter. Options a wrapper hands on unchanged (`function get(url, init) { return fetch(url, init) }`)
    /// are judged at the wrapper's calls in the file: a call that passes no `signal`/`timeout` while another
    /// passes one is reported at that call; a wrapper no other file can call is bounded, or not, by its callers.
    /// A Go context a wrapper builds its request with (`NewRequestWithContext(ctx, …)` sent on
    /// `http.DefaultClient`) is judged the same way, by the deadline of the context each call passes.
    ///
    /// ## Why it fails under partial failure
    /// A dependency that accepts connections but stops answering (a stuck GC, a full thread pool, a dropped
    /// packet on a half-open connection) makes each request wait for as long as the client allows. Without a
    /// timeout that is forever (Go's `DefaultClient`, reqwest, axios, ureq) or five minutes (Node's built-in
    /// fetch). Every caller ties up a goroutine, task or socket while it waits; the pool of them runs out and
    /// the service stops answering its own callers, so one slow dependency becomes an outage upstream.
    ///
    /// ## Known false positives
    /// A timeout set somewhere the file does not show — `axios.defaults.timeout` set at start-up in another
    /// module, a wrapper client configured in another package — is not seen: default-instance axios calls are
    /// reported with medium confidence for that reason. Long-lived streams (server-sent events, long polling)
    /// need no overall timeout; suppress them with the reason. `reqwest::blocking` has a 30 s default, so its
    /// uses are open questions (is 30 s inside the caller's budget?), not findings. A Go client literal handed to
    /// function values its caller supplies (functional options: `for _, o := range opts { o(c) }`) is an open
    /// question: which options the callers pass is not followed. A Go client literal with `Timeout: 0` written
    /// out says it has no overall timeout on purpose (a client that carries long-lived streams, often with HTTP/2
    /// pings to find dead peers): it is an open question (are its single requests bounded by their contexts?)
    /// unless the file sends a request through it that nothing bounds, which is a finding.
    ///
    /// Not reported in tool, frontend or build code (code roles): a one-shot CLI or a browser tab has a person
    /// waiting who gives up, and a hung request there holds no service's worker; on eight codebases these findings
    /// were true statements that nobody needed (docs/precision.md, issue 13).
    ///
    /// ## Example
    /// ```go
    /// package billing
    ///
    /// import "net/http"
    ///
    /// func fetchInvoice(url string) (*http.Response, error) {
    /// 	client := &http.Client{}
    /// 	return client.Get(url)
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// package billing
    ///
    /// import (
    /// 	"net/http"
    /// 	"time"
    /// )
    ///
    /// func fetchInvoice(url string) (*http.Response, error) {
    /// 	client := &http.Client{Timeout: 10 * time.Second}
    /// 	return client.Get(url)
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Go client literals get `Timeout: 10 * time.Second` (and the `time` import), reqwest builders get
    /// `.timeout(std::time::Duration::from_secs(10))` before `.build()` (`Client::new()` becomes the builder
    /// form, keeping its panic on a broken TLS backend as `.expect(..)`), `fetch` and `http(s).request` get
    /// `signal: AbortSignal.timeout(10_000)` — or `AbortSignal.any([signal, AbortSignal.timeout(10_000)])`
    /// when the function receives the caller's signal (Node 20.3+) — and axios calls and instances get
    /// `timeout: 10_000` (a signal in a shared instance's config would expire once for all requests). The edits are offered, not applied
    /// unattended: 10 s is a placeholder for the caller's real budget, and it bounds reading the body too, so a
    /// large download or a slow endpoint may need more. Calls whose API has no per-request setting
    /// (`http.Get`, `reqwest::get`, ureq, whose timeout API differs between versions) get advice.
    ///
    /// ## Configuration
    /// Through `[[effects]]` in `distsys-review.toml`: a team's own wrapper declared `remote = true` and
    /// `timeout = "none"` is reported like `http.Get`; an entry with `timeout = "set"` for a path the rule
    /// knows (`net/http.Client`, `reqwest::Client::new`, `axios.get`, …) tells it that calls there are bounded
    /// some way the code does not show.
    ///
    /// ## References
    /// - Go `net/http` documentation, `Client.Timeout`: "A Timeout of zero means no timeout."
    /// - Filippo Valsorda, "The complete guide to Go net/http timeouts" (Cloudflare blog, 2016).
    /// - reqwest documentation, `ClientBuilder::timeout`: "Default is no timeout."
    /// - axios documentation, request config `timeout`: "default is `0` (no timeout)".
    /// - Michael Nygard, *Release It!*, 2nd ed., chapter 5, "Timeouts".
    pub struct HttpClientWithoutTimeout {
        code: "RES001",
        slug: "http-client-without-timeout",
        family: Resilience,
        languages: [Go, Rust, TypeScript],
        severity: High,
        impact: Availability,
        kind: Finding,
        fix: Sometimes,
        scope: File,
        reads: [StoredValues],
        roles: ServiceClients,
    }
}

const META: &RuleMeta = &HttpClientWithoutTimeout::META;

const TRIGGER: &str =
    "the server accepts the connection but stops answering (overload, a stuck process, a half-open connection)";

impl Rule<RuleContext<'_>> for HttpClientWithoutTimeout {
    fn meta(&self) -> &'static RuleMeta {
        META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        match ctx.language {
            Language::Go => go::check(ctx, sink),
            Language::Rust => rust::check(ctx, sink),
            Language::TypeScript | Language::Tsx => typescript::check(ctx, sink),
            Language::Sql => {}
        }
    }
}

/// A value from a parameter that every caller in the workspace gives a bound in time (a context with a
/// deadline, options with a signal or timeout): the request is bounded, by what the callers pass in.
fn bounded_by_callers(ctx: &RuleContext<'_>, from: Node<'_>) -> bool {
    ctx.bounded_by_callers(from)
        .is_some_and(|answer| answer.holds)
}

fn note(api: Option<&Api>) -> &str {
    api.and_then(|a| a.note.as_deref())
        .unwrap_or("it has no timeout")
}

/// A remote call the knowledge base (typically a team's own `[[effects]]` wrapper) marks `timeout = "none"`.
fn declared_unbounded(ctx: &RuleContext<'_>, site: &Site<'_>, sink: &mut Vec<Finding>) {
    let (Some(call), ClientTimeout::Missing(_)) = (site.call, site.timeout) else {
        return;
    };
    let title = match ctx
        .kb
        .api(ctx.language, site.path)
        .and_then(|a| a.note.as_deref())
    {
        Some(note) => format!("`{}` has no timeout: {note}", call.callee_text),
        None => format!(
            "`{}` has no timeout (declared `timeout = \"none\"` in the knowledge base)",
            call.callee_text
        ),
    };
    ctx.finding(META, TextRange::of(call.callee))
        .title(title)
        .trigger(TRIGGER)
        .expected("a timeout on the call or on the client it goes through")
        .actual("the call waits as long as the other side takes")
        .fix(Fix::advice(
            "bound the call (a client timeout, a deadline on its context, an abort signal)",
        ))
        .emit(sink);
}

/// A call of a same-file wrapper whose options reach a library request without a bound, while another call
/// of the wrapper passes one: the finding is at the call that forgot it.
fn through_wrapper(
    ctx: &RuleContext<'_>,
    call: &Call<'_>,
    request: &Call<'_>,
    bounded_by: Node<'_>,
    option: &str,
    sink: &mut Vec<Finding>,
) {
    let wrapper = &call.callee_text;
    let library = &request.callee_text;
    ctx.finding(META, TextRange::of(call.callee))
        .title(format!("`{wrapper}` is called without a `{option}`, which it hands on to `{library}`; another call of `{wrapper}` passes one"))
        .trigger(TRIGGER)
        .expected(format!("a `{option}`, as the other calls of `{wrapper}` pass"))
        .actual(format!("nothing bounds the `{library}` request this call makes"))
        .evidence(TextRange::of(request.callee), "the request the options reach")
        .evidence(TextRange::of(bounded_by), "a call that passes one")
        .fix(Fix::advice(format!("pass a `{option}` in this call")))
        .emit(sink);
}

/// Emits a finding about a client whose requests wait as long as the server takes: an open question when
/// they may be bounded by what the file does not show.
fn emit_client(
    finding: FindingBuilder,
    question: bool,
    expected: &str,
    fix: Fix,
    sink: &mut Vec<Finding>,
) {
    let finding = if question {
        finding.open_question()
    } else {
        finding
    };
    finding
        .trigger(TRIGGER)
        .expected(expected)
        .actual("requests through this client wait as long as the server takes")
        .fix(fix)
        .emit(sink);
}

mod go {
    use super::*;

    const TIMEOUT_ENTRY: &str = "10 * time.Second";

    pub(super) fn check(ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        for site in ctx.clients().sites() {
            match site.subject {
                Subject::Declared => declared_unbounded(ctx, site, sink),
                Subject::GoPackageCall | Subject::GoDefaultClientCall { .. } => {
                    default_client_call(ctx, site, sink)
                }
                Subject::GoClientLiteral => client_literal(ctx, site, sink),
                Subject::GoDefaultClientValue => default_client_handed_on(ctx, site, sink),
                Subject::ThroughWrapper {
                    request,
                    bounded_by,
                    option,
                } => {
                    if let Some(call) = site.call {
                        through_wrapper(ctx, call, request, bounded_by, option, sink)
                    }
                }
                _ => {}
            }
        }
    }

    /// `http.Get(…)` and calls on `http.DefaultClient`: `Do(req)` is bounded by the request's context.
    fn default_client_call(ctx: &RuleContext<'_>, site: &Site<'_>, sink: &mut Vec<Finding>) {
        let Some(call) = site.call else {
            return;
        };
        let api = ctx.kb.api(ctx.language, site.path);
        let callee = &call.callee_text;
        let prepared = matches!(
            site.subject,
            Subject::GoDefaultClientCall { prepared: true }
        );
        let mut finding = match site.timeout {
            ClientTimeout::Set(_) => return,
            ClientTimeout::Unknown {
                from: Elsewhere::Value(Some(source)),
                ..
            } if prepared && bounded_by_callers(ctx, source) => return,
            // The wrapper's calls in the file decide it, each judged at the call (a `ThroughWrapper` site).
            ClientTimeout::Unknown {
                from: Elsewhere::Callers,
                ..
            } => return,
            ClientTimeout::Unknown { from, .. } if prepared => {
                let mut question = ctx
                    .finding(META, TextRange::of(call.callee))
                    .open_question()
                    .title(format!("`{callee}` is bounded only by the request's context, which comes from elsewhere: {}", note(api)))
                    .trigger(TRIGGER)
                    .expected("a deadline on the request's context, or a client with a `Timeout`")
                    .actual("the request's context comes from outside this function; `http.DefaultClient` adds no bound");
                if let Elsewhere::Value(Some(source)) = from {
                    question = question.evidence(
                        TextRange::of(source),
                        "the request's context comes from here",
                    );
                }
                question
            }
            ClientTimeout::Missing(why) if prepared => {
                let mut finding = ctx
                    .finding(META, TextRange::of(call.callee))
                    .title(format!("`{callee}` can wait forever: {}", note(api)));
                if let Why::NoDeadline(source) = why {
                    finding = finding.evidence(
                        TextRange::of(source),
                        "the request's context has no deadline",
                    );
                }
                finding
                    .trigger(TRIGGER)
                    .expected("a client with a `Timeout`, or a request context with a deadline")
                    .actual("neither the client nor the request's context bounds the wait")
            }
            _ if matches!(site.subject, Subject::GoDefaultClientCall { .. }) => ctx
                .finding(META, TextRange::of(call.callee))
                .title(format!("`{callee}` can wait forever: {}", note(api)))
                .trigger(TRIGGER)
                .expected("a request through an `http.Client` with a `Timeout`")
                .actual("`http.DefaultClient` waits as long as the server takes"),
            _ => ctx
                .finding(META, TextRange::of(call.callee))
                .title(format!("`{callee}` {}", note(api)))
                .trigger(TRIGGER)
                .expected("a request through an `http.Client` with a `Timeout`")
                .actual("the request waits as long as the server takes"),
        };
        finding = finding.fix(Fix::advice(format!(
            "send it through a client with a timeout (`&http.Client{{Timeout: 10 * time.Second}}`) or build the request with `http.NewRequestWithContext` on a context from `context.WithTimeout`, instead of `{callee}`"
        )));
        finding.emit(sink);
    }

    /// `http.DefaultClient` used as a value — kept in a variable, stored in a field, passed to a function —
    /// rather than called directly: the same client with no timeout, used where this file may not see.
    fn default_client_handed_on(ctx: &RuleContext<'_>, site: &Site<'_>, sink: &mut Vec<Finding>) {
        let question = match site.timeout {
            ClientTimeout::Set(_) => return,
            ClientTimeout::Missing(_) => false,
            ClientTimeout::Unknown { .. } => true,
        };
        let selector = site.node;
        // The note of the client's prepared-request call (`http.DefaultClient.Do`) says what the client lacks.
        let api = ctx
            .kb
            .http_client(ctx.language, site.path)
            .and_then(|c| c.prepared_request_methods.first())
            .and_then(|method| ctx.kb.api(ctx.language, &format!("{}.{method}", site.path)));
        let finding = ctx.finding(META, TextRange::of(selector)).title(format!(
            "requests through `{}` can wait forever: {}",
            ctx.node_text(selector),
            note(api)
        ));
        let fix = Fix::advice(
            "use an `&http.Client{Timeout: 10 * time.Second}` instead of `http.DefaultClient`",
        );
        emit_client(finding, question, "a client with a `Timeout`", fix, sink);
    }

    fn client_literal(ctx: &RuleContext<'_>, site: &Site<'_>, sink: &mut Vec<Finding>) {
        let (why, question) = match site.timeout {
            ClientTimeout::Set(_) => return,
            ClientTimeout::Missing(why) => (why, false),
            ClientTimeout::Unknown { why, .. } => (why, true),
        };
        let explicit_zero = match why {
            Why::Zero(zero) => Some(zero),
            _ => None,
        };
        let literal = site.node;
        let api = ctx.kb.api(ctx.language, site.path);
        let type_range = literal
            .child_by_field_name("type")
            .map_or(TextRange::of(literal), TextRange::of);
        let written = ctx.text(type_range);
        let (time, import) = (go_package_local(ctx, "time"), go_add_import(ctx, "time"));
        let value = TIMEOUT_ENTRY.replace("time", &time);
        let edits = match explicit_zero {
            Some(zero) => Some(vec![Edit::replace(TextRange::of(zero), value)]),
            None => literal.child_by_field_name("body").and_then(|body| {
                members_edit(ctx, body, Language::Go, &format!("Timeout: {value}"))
            }),
        };
        let fix = match edits {
            Some(mut edits) => {
                edits.extend(import);
                Fix::edits(
                    "set the client's `Timeout` to 10 s",
                    Applicability::Maybe,
                    edits,
                )
            }
            None => Fix::advice("set the client's `Timeout` to the caller's budget"),
        };
        let title = match (explicit_zero, question) {
            // Written out on purpose (the model asks only when this file sends nothing unbounded through it).
            (Some(_), true) => format!(
                "`{written}` with `Timeout: 0` written out: no overall timeout on purpose (a long-lived stream needs none), so is each request sent through it bounded by its context?"
            ),
            (Some(_), false) => format!("`{written}` with `Timeout: 0`: {}", note(api)),
            (None, _) => format!("`{written}` built without a `Timeout`: {}", note(api)),
        };
        let mut finding = ctx.finding(META, type_range).title(title);
        if question {
            finding = finding.confidence(Confidence::Medium);
        }
        let expected = match (explicit_zero, question) {
            (Some(_), true) => {
                "each single request through the client carries a deadline (its context), and streams detect dead peers (HTTP/2 pings, keepalive)"
            }
            _ => "a client `Timeout` that bounds each request, connection to body",
        };
        emit_client(finding, question, expected, fix, sink);
    }
}

mod rust {
    use super::*;
    use dsr_core::kb::ClientTimeoutFix;

    /// The library's builder method given a 10 s timeout: `.timeout(std::time::Duration::from_secs(10))`.
    fn timeout_call(method: &str) -> String {
        format!(".{method}(std::time::Duration::from_secs(10))")
    }

    /// How the site's library gives a client its timeout (kb `[http_client.timeout_fix]`).
    fn timeout_fix<'k>(ctx: &RuleContext<'k>, path: &str) -> Option<&'k ClientTimeoutFix> {
        ctx.kb
            .http_client(ctx.language, path)
            .and_then(|client| client.timeout_fix.as_ref())
    }

    pub(super) fn check(ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        for site in ctx.clients().sites() {
            let Some(call) = site.call else {
                continue;
            };
            let api = ctx.kb.api(ctx.language, site.path);
            match (site.subject, site.timeout) {
                (_, ClientTimeout::Set(_)) => {}
                (Subject::Declared, _) => declared_unbounded(ctx, site, sink),
                (_, ClientTimeout::Missing(Why::Disabled(at))) => {
                    report_disabled(ctx, call, at, sink)
                }
                (Subject::RustRequest, timeout) => {
                    report(ctx, call, site.path, api, timeout, None, sink)
                }
                (Subject::RustClient, timeout) => {
                    let fix = timeout_fix(ctx, site.path)
                        .filter(|_| !library_default(timeout))
                        .and_then(|fix| client_new_fix(ctx, call, fix));
                    report(ctx, call, site.path, api, timeout, fix, sink);
                }
                (
                    Subject::RustBuilder { .. },
                    ClientTimeout::Unknown {
                        from: Elsewhere::UnfinishedBuilder,
                        ..
                    },
                ) => report_elsewhere(ctx, call, api, sink),
                (Subject::RustBuilder { build }, timeout) => {
                    builder(ctx, call, site.path, api, build, timeout, sink)
                }
                _ => {}
            }
        }
    }

    /// The blocking client's 30 s default bounds it: whether that fits is the question.
    fn library_default(timeout: ClientTimeout<'_>) -> bool {
        matches!(
            timeout,
            ClientTimeout::Unknown {
                from: Elsewhere::LibraryDefault,
                ..
            }
        )
    }

    fn builder<'t>(
        ctx: &RuleContext<'t>,
        call: &Call<'t>,
        path: &str,
        api: Option<&Api>,
        build_link: Option<dsr_semantic::facts::ChainLink<'t>>,
        timeout: ClientTimeout<'t>,
        sink: &mut Vec<Finding>,
    ) {
        let library_fix = timeout_fix(ctx, path);
        let blocking_default = library_default(timeout);
        let (why, open_question) = match timeout {
            ClientTimeout::Set(_) => return,
            ClientTimeout::Missing(why) => (why, false),
            ClientTimeout::Unknown { why, .. } => (why, true),
        };
        let connect_only = match why {
            Why::ConnectOnly(at) => ctx.facts.call_of(at).and_then(|c| c.method.clone()),
            _ => None,
        };
        let fix = build_link.and_then(|link| {
            let method = library_fix?.builder_method.as_deref()?;
            let member = link.call.child_by_field_name("function")?;
            let before = member.child_by_field_name("value")?;
            let gap = ctx
                .source
                .get(before.end_byte()..link.method.start_byte())?;
            let text = if gap.contains('\n') {
                format!(
                    "\n{}{}",
                    indentation_at(ctx.source, link.method.start_byte()),
                    timeout_call(method)
                )
            } else {
                timeout_call(method)
            };
            Some(Fix::edits(
                format!("set a 10 s `.{method}(..)` on the builder"),
                Applicability::Maybe,
                vec![Edit::insert(before.end_byte(), text)],
            ))
        });
        let written = &call.callee_text;
        let mut title = format!(
            "client built by `{written}()` without `.timeout(..)`: {}",
            note(api)
        );
        if let Some(method) = connect_only {
            title.push_str(&format!(
                " (`{method}` bounds connecting only, not the response)"
            ));
        }
        let finding = ctx.finding(META, TextRange::of(call.callee)).title(title);
        let expected = "`.timeout(..)` on the builder, or on every request made through the client";
        let fix = fix.unwrap_or_else(|| advice(library_fix, blocking_default));
        emit_client(finding, open_question, expected, fix, sink);
    }

    /// The advice when no edit is made: the library's own (kb `timeout_fix.advice`), or for a client bounded
    /// by its library's default, to make that bound explicit.
    fn advice(library_fix: Option<&ClientTimeoutFix>, blocking: bool) -> Fix {
        Fix::advice(match library_fix {
            _ if blocking => {
                "give the blocking client an explicit `.timeout(..)` that fits the caller's budget"
            }
            Some(fix) => fix.advice.as_str(),
            None => "give the client an overall timeout that fits the caller's budget",
        })
    }

    /// `Client::new()`/`Client::default()` → `Client::builder().timeout(..).build().expect(..)` (the kb's
    /// constructors, builder method and finishing calls): the same panic on a broken TLS backend that `new()`
    /// has.
    fn client_new_fix(
        ctx: &RuleContext<'_>,
        call: &Call<'_>,
        library_fix: &ClientTimeoutFix,
    ) -> Option<Fix> {
        let method = library_fix.builder_method.as_deref()?;
        let builder = library_fix.builder_constructor.as_deref()?;
        let finish = library_fix.finish.as_deref().unwrap_or("");
        let name = call.callee.child_by_field_name("name")?;
        let constructor = ctx.node_text(name);
        if !library_fix
            .default_constructors
            .iter()
            .any(|c| c == constructor)
            || !call.args.is_empty()
        {
            return None;
        }
        Some(Fix::edits(
            format!("build the client with a 10 s `.{method}(..)`"),
            Applicability::Maybe,
            vec![
                Edit::replace(TextRange::of(name), builder),
                Edit::insert(
                    call.node.end_byte(),
                    format!("{}{finish}", timeout_call(method)),
                ),
            ],
        ))
    }

    fn report(
        ctx: &RuleContext<'_>,
        call: &Call<'_>,
        path: &str,
        api: Option<&Api>,
        timeout: ClientTimeout<'_>,
        fix: Option<Fix>,
        sink: &mut Vec<Finding>,
    ) {
        let written = &call.callee_text;
        let blocking = library_default(timeout);
        let title = if blocking {
            format!(
                "`{written}()` relies on a default timeout: {}; is that within the caller's budget",
                note(api)
            )
        } else {
            format!("`{written}()` without a timeout: {}", note(api))
        };
        let mut finding = ctx.finding(META, TextRange::of(call.callee)).title(title);
        if matches!(timeout, ClientTimeout::Unknown { .. }) {
            finding = finding.open_question();
        }
        finding
            .trigger(TRIGGER)
            .expected("a client or request timeout that bounds the whole exchange")
            .actual(
                "requests wait as long as the server takes, or as long as the library's default",
            )
            .fix(fix.unwrap_or_else(|| advice(timeout_fix(ctx, path), blocking)))
            .emit(sink);
    }

    fn report_disabled(
        ctx: &RuleContext<'_>,
        call: &Call<'_>,
        at: Node<'_>,
        sink: &mut Vec<Finding>,
    ) {
        ctx.finding(META, TextRange::of(call.callee))
            .title(format!(
                "`{}` is configured with `.timeout(None)`, which turns the client's timeout off",
                call.callee_text
            ))
            .trigger(TRIGGER)
            .expected("a finite `.timeout(..)`")
            .actual("requests wait as long as the server takes")
            .evidence(TextRange::of(at), "the timeout is switched off here")
            .fix(Fix::advice("pass a finite duration to `.timeout(..)`"))
            .emit(sink);
    }

    fn report_elsewhere(
        ctx: &RuleContext<'_>,
        call: &Call<'_>,
        api: Option<&Api>,
        sink: &mut Vec<Finding>,
    ) {
        ctx.finding(META, TextRange::of(call.callee))
            .open_question()
            .title(format!(
                "the builder from `{}()` is finished elsewhere; does it get a `.timeout(..)`? {}",
                call.callee_text,
                note(api)
            ))
            .trigger(TRIGGER)
            .expected("`.timeout(..)` on the builder before `.build()`")
            .actual("the builder leaves this function without a timeout")
            .fix(Fix::advice(
                "set `.timeout(..)` where the builder is finished",
            ))
            .emit(sink);
    }
}

mod typescript {
    use super::*;
    use dsr_core::kb::{ClientTimeoutFix, HttpClient};

    /// How the site's library bounds a request (kb `[http_client.timeout_fix]`): the entry the fix adds to its
    /// options or config, and the advice when nothing is edited.
    struct Bound<'k> {
        /// The entry (`signal: AbortSignal.timeout(10_000)`, axios `timeout: 10_000`).
        entry: &'k str,
        /// Its option's name (`signal`, `timeout`).
        option: &'k str,
        fix: &'k ClientTimeoutFix,
        client: &'k HttpClient,
    }

    fn bound<'k>(ctx: &RuleContext<'k>, path: &str) -> Option<Bound<'k>> {
        let client = ctx.kb.http_client(ctx.language, path)?;
        let fix = client.timeout_fix.as_ref()?;
        Some(Bound {
            entry: fix.entry.as_deref()?,
            option: fix.option()?,
            fix,
            client,
        })
    }

    impl Bound<'_> {
        /// The entry to add: combined with the caller's signal when the function receives one
        /// (`clients::caller_signal`, kb `entry_with_signal`), so that the fix does not also drop the caller's
        /// cancellation.
        fn entry_for(&self, ctx: &RuleContext<'_>, call: &Call<'_>) -> String {
            match (
                self.fix.entry_with_signal.as_deref(),
                clients::caller_signal(ctx.facts, ctx.source, call),
            ) {
                (Some(with_signal), Some(signal)) => with_signal.replace("{signal}", &signal),
                _ => self.entry.to_string(),
            }
        }

        /// Every way the library's request is bounded, as a list (`` `timeout`, `signal` or `setTimeout` ``):
        /// its request options, then the request methods that bound it.
        fn every_bound(&self) -> String {
            let names: Vec<&str> = self
                .client
                .request_options
                .iter()
                .chain(&self.client.request_timeout_methods)
                .map(String::as_str)
                .collect();
            either(&names)
        }

        /// The request options that bound it (`` `timeout` or `signal` ``).
        fn options(&self) -> String {
            let names: Vec<&str> = self
                .client
                .request_options
                .iter()
                .map(String::as_str)
                .collect();
            either(&names)
        }
    }

    /// `` `a` ``, `` `a` or `b` ``, `` `a`, `b` or `c` ``.
    fn either(names: &[&str]) -> String {
        let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        match quoted.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }

    /// Options made by a function of the workspace that sets the timeout itself, or a parameter every caller
    /// gives options or a signal with a timeout (the workspace index says so): bounded, though this file does
    /// not show it.
    fn made_with_timeout(ctx: &RuleContext<'_>, from: Node<'_>) -> bool {
        let made = node::strip_wrappers(from, node::Wrappers::AWAITED);
        ctx.facts
            .call_index(made)
            .and_then(|i| ctx.ask(&ctx.facts.calls[i], Question::SetsTimeout))
            .is_some_and(|answer| answer.holds)
            || bounded_by_callers(ctx, from)
    }

    /// A short name for where options come from: the spread in an object, else the expression (shortened).
    fn describe(ctx: &RuleContext<'_>, from: Node<'_>) -> String {
        let spread = (from.kind() == "object")
            .then(|| node::named_children(from).find(|m| m.kind() == "spread_element"))
            .flatten();
        let text = ctx.node_text(spread.unwrap_or(from));
        let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.chars().count() > 40 {
            format!("{}…", text.chars().take(39).collect::<String>())
        } else {
            text
        }
    }

    /// Adds `entry` to an options literal, or replaces the `0` given for it.
    fn literal_edits(
        ctx: &RuleContext<'_>,
        literal: Node<'_>,
        zero: Option<Node<'_>>,
        entry: &str,
    ) -> Option<Vec<Edit>> {
        match zero {
            Some(zero) => {
                let value = entry.split_once(": ").map_or(entry, |(_, v)| v);
                Some(vec![Edit::replace(TextRange::of(zero), value)])
            }
            None => members_edit(ctx, literal, ctx.language, entry),
        }
    }

    /// The zero given for the bound, if that is why the request is unbounded.
    fn zero_of(why: Why<'_>) -> Option<Node<'_>> {
        match why {
            Why::Zero(zero) => Some(zero),
            _ => None,
        }
    }

    pub(super) fn check(ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        for site in ctx.clients().sites() {
            let Some(call) = site.call else {
                continue;
            };
            match site.subject {
                Subject::Fetch => fetch(ctx, site, call, sink),
                Subject::NodeRequest { url, options } => {
                    node_request(ctx, site, call, url, options, sink)
                }
                Subject::ConfigRequest { config_index } => {
                    axios_call(ctx, site, call, config_index, sink)
                }
                Subject::Instance => axios_instance(ctx, site, call, sink),
                Subject::Declared => declared_unbounded(ctx, site, sink),
                Subject::ThroughWrapper {
                    request,
                    bounded_by,
                    option,
                } => through_wrapper(ctx, call, request, bounded_by, option, sink),
                _ => {}
            }
        }
    }

    fn fetch(ctx: &RuleContext<'_>, site: &Site<'_>, call: &Call<'_>, sink: &mut Vec<Finding>) {
        let Some(resource) = call.args.first().copied() else {
            return;
        };
        let Some(bound) = bound(ctx, site.path) else {
            return;
        };
        let api = ctx.kb.api(ctx.language, site.path);
        let written = &call.callee_text;
        let range = TextRange::of(call.callee);
        match site.timeout {
            ClientTimeout::Set(_) => {}
            ClientTimeout::Missing(_) => {
                let entry = bound.entry_for(ctx, call);
                let edits = match site.options {
                    Some(literal) => literal_edits(ctx, literal, None, &entry),
                    None if call.args.len() == 1 => Some(vec![Edit::insert(
                        resource.end_byte(),
                        format!(", {{ {entry} }}"),
                    )]),
                    None => None,
                };
                let option = bound.option;
                ctx.finding(META, range)
                    .title(format!(
                        "`{written}` without a {}: {}",
                        bound.every_bound(),
                        note(api)
                    ))
                    .trigger(TRIGGER)
                    .expected(format!(
                        "a `{option}` that aborts the request after the caller's budget"
                    ))
                    .actual("nothing aborts the request while the server is silent")
                    .fix(entry_fix(&bound, edits))
                    .emit(sink);
            }
            ClientTimeout::Unknown {
                from: Elsewhere::Value(Some(from)),
                ..
            } if !made_with_timeout(ctx, from) => {
                let title = format!("`{written}` takes its options from `{}`: do they carry a `{}` with a timeout? {}", describe(ctx, from), bound.option, note(api));
                let expected = format!(
                    "a `{}` that aborts the request after the caller's budget",
                    bound.option
                );
                options_elsewhere(
                    ctx,
                    range,
                    from,
                    &bound,
                    Given::Options,
                    title,
                    &expected,
                    sink,
                )
            }
            ClientTimeout::Unknown { .. } => {}
        }
    }

    /// What a request's bound is read from: fetch's and Node's options, axios's config.
    #[derive(Clone, Copy)]
    enum Given {
        Options,
        Config,
    }

    /// The question about a request whose options or config come from what the file does not show.
    #[allow(clippy::too_many_arguments)]
    fn options_elsewhere(
        ctx: &RuleContext<'_>,
        range: TextRange,
        from: Node<'_>,
        bound: &Bound<'_>,
        given: Given,
        title: String,
        expected: &str,
        sink: &mut Vec<Finding>,
    ) {
        let (noun, come, include) = match given {
            Given::Options => ("options", "come", "include"),
            Given::Config => ("config", "comes", "includes"),
        };
        ctx.finding(META, range)
            .open_question()
            .title(title)
            .trigger(TRIGGER)
            .expected(expected)
            .actual(format!(
                "the {noun} {come} from outside what this file shows"
            ))
            .evidence(TextRange::of(from), format!("{noun} {come} from here"))
            .fix(Fix::advice(format!(
                "make sure the {noun} {include} `{}`",
                bound.entry
            )))
            .emit(sink)
    }

    /// The fix that adds the library's entry (kb `timeout_fix.entry`), or its advice when no edit is made.
    fn entry_fix(bound: &Bound<'_>, edits: Option<Vec<Edit>>) -> Fix {
        let (option, value) = bound
            .entry
            .split_once(": ")
            .unwrap_or((bound.option, bound.entry));
        match edits {
            Some(edits) => Fix::edits(
                match &bound.fix.title {
                    Some(title) => title.replace("{value}", value),
                    None => format!("set a 10 s `{option}`"),
                },
                Applicability::Maybe,
                edits,
            ),
            None => Fix::advice(bound.fix.advice.as_str()),
        }
    }

    /// Node's `http(s).request/get(url?, options?, callback?)`.
    fn node_request(
        ctx: &RuleContext<'_>,
        site: &Site<'_>,
        call: &Call<'_>,
        url: Option<Node<'_>>,
        options: Option<Node<'_>>,
        sink: &mut Vec<Finding>,
    ) {
        let Some(bound) = bound(ctx, site.path) else {
            return;
        };
        let api = ctx.kb.api(ctx.language, site.path);
        let Some(first) = call.args.first().copied() else {
            return;
        };
        let written = &call.callee_text;
        let range = TextRange::of(call.callee);
        match site.timeout {
            ClientTimeout::Set(_) => {}
            ClientTimeout::Missing(_) => {
                // A `timeout: 0` stays: the signal bounds the request whatever the socket timeout says.
                let entry = bound.entry_for(ctx, call);
                let edits = match (site.options, url) {
                    (Some(literal), _) => literal_edits(ctx, literal, None, &entry),
                    (None, Some(url)) if options.is_none() => Some(vec![Edit::insert(
                        url.end_byte(),
                        format!(", {{ {entry} }}"),
                    )]),
                    _ => None,
                };
                ctx.finding(META, range)
                    .title(format!("`{written}` without a {}: {}", bound.every_bound(), note(api)))
                    .trigger(TRIGGER)
                    .expected("a `signal` (or a `timeout` handled by destroying the request) bounding the request")
                    .actual("the socket stays open while the server is silent")
                    .fix(entry_fix(&bound, edits))
                    .emit(sink);
            }
            ClientTimeout::Unknown {
                from: Elsewhere::Value(Some(from)),
                ..
            } if !made_with_timeout(ctx, from) => {
                let (described, options_list) = (describe(ctx, from), bound.options());
                let title = if from == first
                    && url.is_none()
                    && options == Some(first)
                    && call.args.len() > 1
                {
                    format!("`{written}` is given `{described}`, a URL or options this file does not show: do they set a {options_list}? {}", note(api))
                } else {
                    format!("`{written}` takes its options from `{described}`: do they set a {options_list}? {}", note(api))
                };
                let expected = "a `signal` or `timeout` bounding the request";
                options_elsewhere(
                    ctx,
                    range,
                    from,
                    &bound,
                    Given::Options,
                    title,
                    expected,
                    sink,
                )
            }
            ClientTimeout::Unknown { .. } => {}
        }
    }

    fn axios_fix(
        ctx: &RuleContext<'_>,
        call: &Call<'_>,
        bound: &Bound<'_>,
        index: usize,
        literal: Option<Node<'_>>,
        zero: Option<Node<'_>>,
    ) -> Fix {
        let entry = bound.entry;
        let edits = match literal {
            Some(literal) => literal_edits(ctx, literal, zero, entry),
            None if call.args.len() == index && index > 0 => Some(vec![Edit::insert(
                call.args[index - 1].end_byte(),
                format!(", {{ {entry} }}"),
            )]),
            None if call.args.len() + 1 == index && index == 2 => Some(vec![Edit::insert(
                call.args[0].end_byte(),
                format!(", undefined, {{ {entry} }}"),
            )]),
            None if call.args.is_empty() && index == 0 => {
                let arguments = call.node.child_by_field_name("arguments");
                arguments.map(|a| {
                    vec![Edit::insert(
                        a.end_byte().saturating_sub(1),
                        format!("{{ {entry} }}"),
                    )]
                })
            }
            None => None,
        };
        entry_fix(bound, edits)
    }

    fn axios_call(
        ctx: &RuleContext<'_>,
        site: &Site<'_>,
        call: &Call<'_>,
        index: usize,
        sink: &mut Vec<Finding>,
    ) {
        let Some(bound) = bound(ctx, site.path) else {
            return;
        };
        let api = ctx.kb.api(ctx.language, site.path);
        let written = &call.callee_text;
        let range = TextRange::of(call.callee);
        let option = bound.option;
        match site.timeout {
            ClientTimeout::Set(_) => {}
            ClientTimeout::Missing(why) => ctx
                .finding(META, range)
                .confidence(Confidence::Medium)
                .title(match zero_of(why) {
                    Some(_) => format!(
                        "`{written}` with `{option}: 0`, which axios reads as no timeout at all"
                    ),
                    None => format!("`{written}` without a `{option}`: {}", note(api)),
                })
                .trigger(TRIGGER)
                .expected(format!("a `{option}` (or `signal`) in the request config"))
                .actual("the default axios instance waits as long as the server takes")
                .fix(axios_fix(
                    ctx,
                    call,
                    &bound,
                    index,
                    site.options,
                    zero_of(why),
                ))
                .emit(sink),
            ClientTimeout::Unknown {
                from: Elsewhere::Value(Some(from)),
                ..
            } if !made_with_timeout(ctx, from) => {
                let expected = format!("a `{option}` (or `signal`) in the request config");
                config_elsewhere(ctx, call, from, &bound, note(api), &expected, sink)
            }
            ClientTimeout::Unknown { .. } => {}
        }
    }

    /// An axios call or instance whose config comes from what the file does not show: the question.
    fn config_elsewhere(
        ctx: &RuleContext<'_>,
        call: &Call<'_>,
        from: Node<'_>,
        bound: &Bound<'_>,
        note: &str,
        expected: &str,
        sink: &mut Vec<Finding>,
    ) {
        let title = format!(
            "`{}` takes its config from `{}`: does it set a `{}`? {note}",
            call.callee_text,
            describe(ctx, from),
            bound.option,
        );
        let range = TextRange::of(call.callee);
        options_elsewhere(
            ctx,
            range,
            from,
            bound,
            Given::Config,
            title,
            expected,
            sink,
        );
    }

    /// `axios.create(config)`: the instance's timeout bounds every request made through it.
    fn axios_instance(
        ctx: &RuleContext<'_>,
        site: &Site<'_>,
        call: &Call<'_>,
        sink: &mut Vec<Finding>,
    ) {
        let Some(bound) = bound(ctx, site.path) else {
            return;
        };
        let api = ctx.kb.api(ctx.language, site.path);
        let range = TextRange::of(call.callee);
        let option = bound.option;
        let (why, question) = match site.timeout {
            ClientTimeout::Set(_) => return,
            ClientTimeout::Unknown {
                from: Elsewhere::Value(Some(from)),
                ..
            } if made_with_timeout(ctx, from) => return,
            ClientTimeout::Unknown {
                from: Elsewhere::Value(Some(from)),
                ..
            } => {
                let expected = format!("a `{option}` in the instance config");
                return config_elsewhere(ctx, call, from, &bound, note(api), &expected, sink);
            }
            ClientTimeout::Unknown { why, .. } => (why, true),
            ClientTimeout::Missing(why) => (why, false),
        };
        let zero = zero_of(why);
        let mut finding = ctx.finding(META, range).title(match zero {
            Some(_) => {
                format!("axios instance created with `{option}: 0`, which axios reads as no timeout at all")
            }
            None => format!("axios instance created without a `{option}`: {}", note(api)),
        });
        if question {
            finding = finding.open_question();
        }
        finding
            .trigger(TRIGGER)
            .expected(format!(
                "a `{option}` in the instance config, bounding every request made through it"
            ))
            .actual("requests through this instance wait as long as the server takes")
            .fix(axios_fix(ctx, call, &bound, 0, site.options, zero))
            .emit(sink)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use dsr_core::config::Selector;
    use dsr_core::{Config, Language};
    use dsr_engine::Engine;

    fn findings(config: &str, language: Language, source: &str) -> Vec<String> {
        let known = crate::codes();
        let mut config = Config::parse(Path::new("distsys-review.toml"), config, &known)
            .expect("a valid config");
        config.override_selection(
            vec![Selector::parse("RES001", &known).expect("a known code")],
            Vec::new(),
        );
        let engine = Engine::new(crate::registry(), config);
        engine
            .analyze_source(Path::new("x"), language, source)
            .findings
            .into_iter()
            .map(|f| f.title)
            .collect()
    }

    #[test]
    fn effects_declare_wrappers_unbounded_or_bounded() {
        let go = "package p\nimport (\n\t\"net/http\"\n\t\"example.com/httpx\"\n)\nfunc f() {\n\t_ = &http.Client{}\n\thttpx.Fetch(\"u\")\n}\n";
        assert_eq!(findings("", Language::Go, go).len(), 1);
        let unbounded = "[[effects]]\nlanguage = \"go\"\npath = \"example.com/httpx.Fetch\"\nkind = \"http\"\nremote = true\ntimeout = \"none\"\n";
        let titles = findings(unbounded, Language::Go, go);
        assert_eq!(titles.len(), 2, "{titles:?}");
        assert!(titles
            .iter()
            .any(|t| t.starts_with("`httpx.Fetch` has no timeout")));
        let bounded = "[[effects]]\nlanguage = \"go\"\npath = \"net/http.Client\"\nkind = \"http\"\ntimeout = \"set\"\n";
        assert!(findings(bounded, Language::Go, go).is_empty());
        let ts = "import axios from \"axios\";\naxios.get(\"u\");\n";
        assert_eq!(findings("", Language::TypeScript, ts).len(), 1);
        let axios = "[[effects]]\nlanguage = \"typescript\"\npath = \"axios.get\"\nkind = \"http\"\nremote = true\ntimeout = \"set\"\n";
        assert!(findings(axios, Language::TypeScript, ts).is_empty());
    }
}
