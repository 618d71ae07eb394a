use dsr_core::kb::{Api, ApiTimeout, Construct};
use dsr_core::{
    declare_rule, Applicability, Confidence, Edit, Finding, Fix, Language, Rule, RuleMeta,
    TextRange,
};
use dsr_semantic::facts::Literal;
use dsr_semantic::models::clients::{
    self, BuilderTimeout, GoClientTimeout, OptionsBound, RequestBound,
};
use dsr_semantic::tree_sitter::Node;
use dsr_semantic::RuleContext;
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
    /// rule asks an open question instead of reporting.
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
    /// uses are open questions (is 30 s inside the caller's budget?), not findings.
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
        roles: Clients,
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

fn note(api: Option<&Api>) -> &str {
    api.and_then(|a| a.note.as_deref())
        .unwrap_or("it has no timeout")
}

/// Whether the knowledge base (the user's `[[effects]]` first) says the API at `path` sets a timeout itself.
fn declared_bounded(ctx: &RuleContext<'_>, path: &str) -> bool {
    ctx.kb
        .api(ctx.language, path)
        .is_some_and(|a| a.timeout == Some(ApiTimeout::Set))
}

/// A remote call the knowledge base (typically a team's own `[[effects]]` wrapper) marks `timeout = "none"`.
fn declared_unbounded(
    ctx: &RuleContext<'_>,
    call: &dsr_semantic::facts::Call<'_>,
    api: &Api,
    sink: &mut Vec<Finding>,
) {
    let title = match api.note.as_deref() {
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

/// Remote calls with `timeout = "none"` that the language's own checks do not cover.
fn is_declared_unbounded<'k>(ctx: &'k RuleContext<'_>, path: &str) -> Option<&'k Api> {
    ctx.kb
        .api(ctx.language, path)
        .filter(|a| a.remote && a.timeout == Some(ApiTimeout::None))
}

mod go {
    use super::*;

    const TIMEOUT_ENTRY: &str = "10 * time.Second";

    pub(super) fn check(ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        // `http.DefaultClient.Timeout = …` in this file bounds `http.Get` and every `DefaultClient` call.
        let default_client_bounded = clients::go_default_client_bounded(ctx.facts, ctx.source);
        for call in &ctx.facts.calls {
            let Some(path) = call.path.as_deref() else {
                continue;
            };
            let Some(api) = ctx.kb.api(ctx.language, path) else {
                continue;
            };
            if !api.remote || api.timeout != Some(ApiTimeout::None) {
                continue;
            }
            if !path.starts_with("net/http.") {
                declared_unbounded(ctx, call, api, sink);
                continue;
            }
            if default_client_bounded {
                continue;
            }
            let default_client = path.starts_with("net/http.DefaultClient.");
            let callee = &call.callee_text;
            let mut finding = if default_client && call.method.as_deref() == Some("Do") {
                match ctx.go_request_bound(call.args.first().copied()) {
                    (RequestBound::Bounded, _) => continue,
                    (RequestBound::Elsewhere, source) => {
                        let mut question = ctx
                            .finding(META, TextRange::of(call.callee))
                            .open_question()
                            .title(format!("`{callee}` is bounded only by the request's context, which comes from elsewhere: {}", note(Some(api))))
                            .trigger(TRIGGER)
                            .expected("a deadline on the request's context, or a client with a `Timeout`")
                            .actual("the request's context comes from outside this function; `http.DefaultClient` adds no bound");
                        if let Some(source) = source {
                            question = question.evidence(
                                TextRange::of(source),
                                "the request's context comes from here",
                            );
                        }
                        question
                    }
                    (RequestBound::Unbounded, source) => {
                        let mut finding = ctx
                            .finding(META, TextRange::of(call.callee))
                            .title(format!("`{callee}` can wait forever: {}", note(Some(api))));
                        if let Some(source) = source {
                            finding = finding.evidence(
                                TextRange::of(source),
                                "the request's context has no deadline",
                            );
                        }
                        finding
                            .trigger(TRIGGER)
                            .expected(
                                "a client with a `Timeout`, or a request context with a deadline",
                            )
                            .actual("neither the client nor the request's context bounds the wait")
                    }
                }
            } else if default_client {
                ctx.finding(META, TextRange::of(call.callee))
                    .title(format!("`{callee}` can wait forever: {}", note(Some(api))))
                    .trigger(TRIGGER)
                    .expected("a request through an `http.Client` with a `Timeout`")
                    .actual("`http.DefaultClient` waits as long as the server takes")
            } else {
                ctx.finding(META, TextRange::of(call.callee))
                    .title(format!("`{callee}` {}", note(Some(api))))
                    .trigger(TRIGGER)
                    .expected("a request through an `http.Client` with a `Timeout`")
                    .actual("the request waits as long as the server takes")
            };
            finding = finding.fix(Fix::advice(format!(
                "send it through a client with a timeout (`&http.Client{{Timeout: 10 * time.Second}}`) or build the request with `http.NewRequestWithContext` on a context from `context.WithTimeout`, instead of `{callee}`"
            )));
            finding.emit(sink);
        }
        for literal in &ctx.facts.literals {
            if literal.type_path.as_deref() == Some("net/http.Client") {
                client_literal(ctx, literal, sink);
            }
        }
        if !default_client_bounded {
            default_client_handed_on(ctx, sink);
        }
    }

    /// `http.DefaultClient` used as a value — kept in a variable, stored in a field, passed to a function —
    /// rather than called directly: the same client with no timeout, used where this file may not see.
    fn default_client_handed_on(ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        let facts = ctx.facts;
        let Some(package) = facts.imports.iter().find(|i| i.path == "net/http") else {
            return;
        };
        for (range, identifier) in &facts.identifiers {
            if ctx.text(*range) != package.local {
                continue;
            }
            let Some(selector) = identifier
                .parent()
                .filter(|p| p.kind() == "selector_expression")
            else {
                continue;
            };
            let names_default_client = selector
                .child_by_field_name("field")
                .is_some_and(|f| ctx.node_text(f) == "DefaultClient");
            if !names_default_client {
                continue;
            }
            // `http.DefaultClient.Do(…)` is judged as a call; `http.DefaultClient.Timeout = …` configures it.
            if selector
                .parent()
                .is_some_and(|p| p.kind() == "selector_expression")
            {
                continue;
            }
            let binding = facts.binding_of(selector, ctx.source);
            let bound =
                clients::go_requests_through(ctx.facts, ctx.kb, ctx.source, binding.as_ref());
            if bound == RequestBound::Bounded {
                continue;
            }
            let api = ctx.kb.api(ctx.language, "net/http.DefaultClient.Do");
            let mut finding = ctx.finding(META, TextRange::of(selector)).title(format!(
                "requests through `{}` can wait forever: {}",
                ctx.node_text(selector),
                note(api)
            ));
            if bound == RequestBound::Elsewhere {
                finding = finding.open_question();
            }
            finding
                .trigger(TRIGGER)
                .expected("a client with a `Timeout`")
                .actual("requests through this client wait as long as the server takes")
                .fix(Fix::advice(
                    "use an `&http.Client{Timeout: 10 * time.Second}` instead of `http.DefaultClient`",
                ))
                .emit(sink);
        }
    }

    fn client_literal(ctx: &RuleContext<'_>, literal: &Literal<'_>, sink: &mut Vec<Finding>) {
        let facts = ctx.facts;
        if declared_bounded(ctx, "net/http.Client") {
            return;
        }
        let api = ctx.kb.api(ctx.language, "net/http.Client");
        let binding = facts.binding_of(literal.node, ctx.source);
        let explicit_zero = match clients::go_client_literal_timeout(
            facts,
            ctx.source,
            literal,
            binding.as_ref(),
        ) {
            GoClientTimeout::Set => return,
            GoClientTimeout::Zero(zero) => Some(zero),
            GoClientTimeout::Absent => None,
        };
        let bound = clients::go_requests_through(facts, ctx.kb, ctx.source, binding.as_ref());
        if bound == RequestBound::Bounded {
            return;
        }
        let type_range = literal
            .node
            .child_by_field_name("type")
            .map_or(TextRange::of(literal.node), TextRange::of);
        let written = ctx.text(type_range);
        let (time, import) = (go_package_local(ctx, "time"), go_add_import(ctx, "time"));
        let value = TIMEOUT_ENTRY.replace("time", &time);
        let edits = match explicit_zero {
            Some(zero) => Some(vec![Edit::replace(TextRange::of(zero), value)]),
            None => literal.node.child_by_field_name("body").and_then(|body| {
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
        let title = match explicit_zero {
            Some(_) => format!("`{written}` with `Timeout: 0`: {}", note(api)),
            None => format!("`{written}` built without a `Timeout`: {}", note(api)),
        };
        let mut finding = ctx.finding(META, type_range).title(title);
        if bound == RequestBound::Elsewhere {
            finding = finding.open_question().confidence(Confidence::Medium);
        }
        finding
            .trigger(TRIGGER)
            .expected("a client `Timeout` that bounds each request, connection to body")
            .actual("requests through this client wait as long as the server takes")
            .fix(fix)
            .emit(sink);
    }
}

mod rust {
    use super::*;

    const TIMEOUT_CALL: &str = ".timeout(std::time::Duration::from_secs(10))";

    pub(super) fn check(ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        for call in &ctx.facts.calls {
            let Some(path) = call.path.as_deref() else {
                continue;
            };
            if declared_bounded(ctx, path) {
                continue;
            }
            let api = ctx.kb.api(ctx.language, path);
            let Some(kind) = api.and_then(|a| a.constructs) else {
                if let Some(api) = is_declared_unbounded(ctx, path) {
                    declared_unbounded(ctx, call, api, sink);
                }
                continue;
            };
            let module = path.split("::").next().unwrap_or(path);
            // The blocking client gives up after 30 s unless told otherwise: bounded, if perhaps not enough.
            let blocking_default = api
                .and_then(|a| a.timeout.as_ref())
                .is_some_and(ApiTimeout::bounds_by_default);
            let chain = ctx.facts.method_chain(call.node);
            match kind {
                Construct::Request => match ctx.builder_timeout(module, &chain) {
                    BuilderTimeout::Set => continue,
                    BuilderTimeout::Disabled(at) => report_disabled(ctx, call, at, sink),
                    BuilderTimeout::ConnectOnly(_) | BuilderTimeout::Absent => {
                        report(ctx, call, path, api, blocking_default, None, sink)
                    }
                },
                Construct::Client => {
                    let client = ctx.facts.binding_of(call.node, ctx.source);
                    let bound = clients::rust_requests_through(
                        ctx.facts,
                        ctx.kb,
                        ctx.source,
                        module,
                        client.as_ref(),
                    );
                    if bound == RequestBound::Bounded {
                        continue;
                    }
                    let fix = if module == "reqwest" && !blocking_default {
                        client_new_fix(ctx, call)
                    } else {
                        None
                    };
                    report(
                        ctx,
                        call,
                        path,
                        api,
                        blocking_default || bound == RequestBound::Elsewhere,
                        fix,
                        sink,
                    );
                }
                Construct::Builder => {
                    builder(ctx, call, module, api, blocking_default, &chain, sink)
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn builder<'t>(
        ctx: &RuleContext<'t>,
        call: &dsr_semantic::facts::Call<'t>,
        module: &str,
        api: Option<&Api>,
        blocking_default: bool,
        chain: &[dsr_semantic::facts::ChainLink<'t>],
        sink: &mut Vec<Finding>,
    ) {
        let facts = ctx.facts;
        let build = chain
            .iter()
            .position(|l| ctx.node_text(l.method) == "build");
        let configured = &chain[..build.unwrap_or(chain.len())];
        match ctx.builder_timeout(module, configured) {
            BuilderTimeout::Set => return,
            BuilderTimeout::Disabled(at) => return report_disabled(ctx, call, at, sink),
            BuilderTimeout::ConnectOnly(_) | BuilderTimeout::Absent => {}
        }
        let connect_only = match ctx.builder_timeout(module, configured) {
            BuilderTimeout::ConnectOnly(at) => ctx.facts.call_of(at).and_then(|c| c.method.clone()),
            _ => None,
        };
        let (build_link, client) = match build {
            Some(index) => (
                Some(chain[index]),
                facts.binding_of(chain[index].call, ctx.source),
            ),
            None => {
                // A builder kept in a variable and configured step by step.
                let end = chain.last().map_or(call.node, |l| l.call);
                let Some(builder) = facts.binding_of(end, ctx.source) else {
                    return report_elsewhere(ctx, call, api, sink);
                };
                let mut later_build = None;
                for step in facts.calls_on(&builder) {
                    let mut links = vec![dsr_semantic::facts::ChainLink {
                        call: step.node,
                        method: step
                            .callee
                            .child_by_field_name("field")
                            .unwrap_or(step.callee),
                    }];
                    links.extend(facts.method_chain(step.node));
                    if ctx.builder_timeout(module, &links) == BuilderTimeout::Set {
                        return;
                    }
                    if later_build.is_none() {
                        later_build = links
                            .iter()
                            .find(|l| ctx.node_text(l.method) == "build")
                            .copied();
                    }
                }
                match later_build {
                    Some(link) => (Some(link), facts.binding_of(link.call, ctx.source)),
                    None => return report_elsewhere(ctx, call, api, sink),
                }
            }
        };
        let bound =
            clients::rust_requests_through(ctx.facts, ctx.kb, ctx.source, module, client.as_ref());
        if bound == RequestBound::Bounded {
            return;
        }
        let fix = build_link.and_then(|link| {
            let member = link.call.child_by_field_name("function")?;
            let before = member.child_by_field_name("value")?;
            let gap = ctx
                .source
                .get(before.end_byte()..link.method.start_byte())?;
            let text = if gap.contains('\n') {
                format!(
                    "\n{}{TIMEOUT_CALL}",
                    indentation_at(ctx.source, link.method.start_byte())
                )
            } else {
                TIMEOUT_CALL.to_string()
            };
            (module == "reqwest").then(|| {
                Fix::edits(
                    "set a 10 s `.timeout(..)` on the builder",
                    Applicability::Maybe,
                    vec![Edit::insert(before.end_byte(), text)],
                )
            })
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
        let open_question = blocking_default || bound == RequestBound::Elsewhere;
        let mut finding = ctx.finding(META, TextRange::of(call.callee)).title(title);
        if open_question {
            finding = finding.open_question();
        }
        finding
            .trigger(TRIGGER)
            .expected("`.timeout(..)` on the builder, or on every request made through the client")
            .actual("requests through this client wait as long as the server takes")
            .fix(fix.unwrap_or_else(|| advice(module, blocking_default)))
            .emit(sink);
    }

    fn advice(module: &str, blocking: bool) -> Fix {
        Fix::advice(if blocking {
            "give the blocking client an explicit `.timeout(..)` that fits the caller's budget"
        } else if module == "ureq" {
            "configure the agent with an overall timeout (ureq 2: `AgentBuilder::timeout`, ureq 3: `config_builder().timeout_global(Some(..))`)"
        } else {
            "build one `reqwest::Client` with `.timeout(..)` and reuse it for every request"
        })
    }

    /// `Client::new()`/`Client::default()` → `Client::builder().timeout(..).build().expect(..)`: the same
    /// panic on a broken TLS backend that `new()` has.
    fn client_new_fix(ctx: &RuleContext<'_>, call: &dsr_semantic::facts::Call<'_>) -> Option<Fix> {
        let name = call.callee.child_by_field_name("name")?;
        if !matches!(ctx.node_text(name), "new" | "default") || !call.args.is_empty() {
            return None;
        }
        Some(Fix::edits(
            "build the client with a 10 s `.timeout(..)`",
            Applicability::Maybe,
            vec![
                Edit::replace(TextRange::of(name), "builder"),
                Edit::insert(
                    call.node.end_byte(),
                    format!("{TIMEOUT_CALL}.build().expect(\"HTTP client\")"),
                ),
            ],
        ))
    }

    fn report(
        ctx: &RuleContext<'_>,
        call: &dsr_semantic::facts::Call<'_>,
        path: &str,
        api: Option<&Api>,
        open_question: bool,
        fix: Option<Fix>,
        sink: &mut Vec<Finding>,
    ) {
        let module = path.split("::").next().unwrap_or(path);
        let written = &call.callee_text;
        let blocking = api
            .and_then(|a| a.timeout.as_ref())
            .is_some_and(ApiTimeout::bounds_by_default);
        let title = if blocking {
            format!(
                "`{written}()` relies on a default timeout: {}; is that within the caller's budget",
                note(api)
            )
        } else {
            format!("`{written}()` without a timeout: {}", note(api))
        };
        let mut finding = ctx.finding(META, TextRange::of(call.callee)).title(title);
        if open_question {
            finding = finding.open_question();
        }
        finding
            .trigger(TRIGGER)
            .expected("a client or request timeout that bounds the whole exchange")
            .actual(
                "requests wait as long as the server takes, or as long as the library's default",
            )
            .fix(fix.unwrap_or_else(|| advice(module, blocking)))
            .emit(sink);
    }

    fn report_disabled(
        ctx: &RuleContext<'_>,
        call: &dsr_semantic::facts::Call<'_>,
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
        call: &dsr_semantic::facts::Call<'_>,
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

    const SIGNAL_ENTRY: &str = "signal: AbortSignal.timeout(10_000)";

    /// The `signal` to add: the timeout, combined with the caller's signal when the function receives one
    /// (so that the fix does not also drop the caller's cancellation, OBS001's concern). Only a required
    /// parameter typed `AbortSignal` is combined: `AbortSignal.any` throws on `undefined`.
    fn signal_entry(ctx: &RuleContext<'_>, call: &dsr_semantic::facts::Call<'_>) -> String {
        let callers = call
            .function
            .and_then(|f| ctx.facts.context_source(f, ctx.source))
            .filter(|s| {
                s.kind == dsr_semantic::facts::ContextKind::AbortSignal && s.expression == s.param
            })
            .filter(|s| {
                let function = ctx.facts.functions[s.function].node;
                let parameters = function
                    .child_by_field_name("parameters")
                    .map(|list| node::named_children(list).collect::<Vec<_>>())
                    .unwrap_or_default();
                parameters.iter().any(|p| {
                    p.kind() == "required_parameter"
                        && p.child_by_field_name("pattern")
                            .is_some_and(|n| ctx.node_text(n) == s.param)
                        && p.child_by_field_name("type").is_some_and(|t| {
                            ctx.node_text(t).trim_start_matches(':').trim() == "AbortSignal"
                        })
                })
            });
        match callers {
            Some(source) => format!(
                "signal: AbortSignal.any([{}, AbortSignal.timeout(10_000)])",
                source.expression
            ),
            None => SIGNAL_ENTRY.to_string(),
        }
    }
    const AXIOS_ENTRY: &str = "timeout: 10_000";

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
        literal: &Literal<'_>,
        zero: Option<Node<'_>>,
        entry: &str,
    ) -> Option<Vec<Edit>> {
        match zero {
            Some(zero) => {
                let value = entry.split_once(": ").map_or(entry, |(_, v)| v);
                Some(vec![Edit::replace(TextRange::of(zero), value)])
            }
            None => members_edit(ctx, literal.node, ctx.language, entry),
        }
    }

    pub(super) fn check(ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        let defaults_set = clients::axios_defaults_timeout(ctx.facts, ctx.source);
        // A `function fetch` of the file's own shadows the global.
        let fetch_shadowed = ctx
            .facts
            .functions
            .iter()
            .any(|f| f.name == "fetch" && f.node.kind() == "function_declaration");
        for call in &ctx.facts.calls {
            if !fetch_shadowed && clients::is_global_fetch(call) {
                fetch(ctx, call, sink);
                continue;
            }
            let Some(path) = call.path.as_deref() else {
                continue;
            };
            if declared_bounded(ctx, path) {
                continue;
            }
            match path {
                "http.request" | "http.get" | "https.request" | "https.get" => {
                    node_request(ctx, call, path, sink)
                }
                "axios.create" => axios_instance(ctx, call, sink),
                _ if path == "axios" || path.starts_with("axios.") => {
                    let remote = ctx.kb.api(ctx.language, path).is_some_and(|a| a.remote);
                    if remote && !defaults_set {
                        axios_call(ctx, call, path, sink)
                    }
                }
                _ => {
                    if let Some(api) = is_declared_unbounded(ctx, path) {
                        declared_unbounded(ctx, call, api, sink);
                    }
                }
            }
        }
    }

    fn fetch<'t>(
        ctx: &RuleContext<'t>,
        call: &dsr_semantic::facts::Call<'t>,
        sink: &mut Vec<Finding>,
    ) {
        let Some(resource) = call.args.first().copied() else {
            return;
        };
        let api = ctx.kb.api(ctx.language, "fetch");
        let init = clients::fetch_init(ctx.facts, ctx.source, call);
        let written = &call.callee_text;
        let options = clients::judge_options(ctx.facts, ctx.source, init, &["signal"]);
        let range = TextRange::of(call.callee);
        match options {
            OptionsBound::Bounded => {}
            OptionsBound::Unbounded(literal, _) => {
                let edits = match literal {
                    Some(literal) => literal_edits(ctx, literal, None, &signal_entry(ctx, call)),
                    None if call.args.len() == 1 => Some(vec![Edit::insert(
                        resource.end_byte(),
                        format!(", {{ {} }}", signal_entry(ctx, call)),
                    )]),
                    None => None,
                };
                ctx.finding(META, range)
                    .title(format!("`{written}` without a `signal`: {}", note(api)))
                    .trigger(TRIGGER)
                    .expected("a `signal` that aborts the request after the caller's budget")
                    .actual("nothing aborts the request while the server is silent")
                    .fix(signal_fix(edits))
                    .emit(sink);
            }
            OptionsBound::Elsewhere(from) => ctx
                .finding(META, range)
                .open_question()
                .title(format!("`{written}` takes its options from `{}`: do they carry a `signal` with a timeout? {}", describe(ctx, from), note(api)))
                .trigger(TRIGGER)
                .expected("a `signal` that aborts the request after the caller's budget")
                .actual("the options come from outside what this file shows")
                .evidence(TextRange::of(from), "options come from here")
                .fix(Fix::advice(format!("make sure the options include `{SIGNAL_ENTRY}`")))
                .emit(sink),
        }
    }

    fn signal_fix(edits: Option<Vec<Edit>>) -> Fix {
        match edits {
            Some(edits) => Fix::edits(
                "abort after 10 s with `AbortSignal.timeout(10_000)`",
                Applicability::Maybe,
                edits,
            ),
            None => Fix::advice(format!("pass `{{ {SIGNAL_ENTRY} }}` in the options")),
        }
    }

    /// Node's `http(s).request/get(url?, options?, callback?)`.
    fn node_request<'t>(
        ctx: &RuleContext<'t>,
        call: &dsr_semantic::facts::Call<'t>,
        path: &str,
        sink: &mut Vec<Finding>,
    ) {
        let facts = ctx.facts;
        let api = ctx.kb.api(ctx.language, path);
        let Some(first) = call.args.first().copied() else {
            return;
        };
        let (url, options) = match clients::url_or_options(ctx.facts, ctx.source, first) {
            Some(true) => (
                Some(first),
                call.args.get(1).copied().filter(|a| !is_function(*a)),
            ),
            Some(false) => (None, Some(first)),
            None => (None, Some(first)),
        };
        let judged = match (
            options,
            clients::url_or_options(ctx.facts, ctx.source, first),
        ) {
            (_, None) => OptionsBound::Elsewhere(first),
            (options, _) => {
                clients::judge_options(ctx.facts, ctx.source, options, &["timeout", "signal"])
            }
        };
        if matches!(judged, OptionsBound::Bounded) {
            return;
        }
        // `req.setTimeout(..)` on the request, chained or through its variable.
        let chained = facts
            .method_chain(call.node)
            .iter()
            .any(|l| ctx.node_text(l.method) == "setTimeout");
        let later = facts
            .binding_of(call.node, ctx.source)
            .is_some_and(|request| {
                facts
                    .calls_on(&request)
                    .any(|c| c.method.as_deref() == Some("setTimeout"))
            });
        if chained || later {
            return;
        }
        let written = &call.callee_text;
        let range = TextRange::of(call.callee);
        match judged {
            OptionsBound::Bounded => {}
            OptionsBound::Unbounded(literal, _) => {
                // A `timeout: 0` stays: the signal bounds the request whatever the socket timeout says.
                let edits = match (literal, url) {
                    (Some(literal), _) => {
                        literal_edits(ctx, literal, None, &signal_entry(ctx, call))
                    }
                    (None, Some(url)) if options.is_none() => Some(vec![Edit::insert(
                        url.end_byte(),
                        format!(", {{ {} }}", signal_entry(ctx, call)),
                    )]),
                    _ => None,
                };
                ctx.finding(META, range)
                    .title(format!("`{written}` without a `timeout`, `signal` or `setTimeout`: {}", note(api)))
                    .trigger(TRIGGER)
                    .expected("a `signal` (or a `timeout` handled by destroying the request) bounding the request")
                    .actual("the socket stays open while the server is silent")
                    .fix(signal_fix(edits))
                    .emit(sink);
            }
            OptionsBound::Elsewhere(from) => ctx
                .finding(META, range)
                .open_question()
                .title(if from == first && url.is_none() && options == Some(first) && call.args.len() > 1 {
                    format!("`{written}` is given `{}`, a URL or options this file does not show: do they set a `timeout` or `signal`? {}", describe(ctx, from), note(api))
                } else {
                    format!("`{written}` takes its options from `{}`: do they set a `timeout` or `signal`? {}", describe(ctx, from), note(api))
                })
                .trigger(TRIGGER)
                .expected("a `signal` or `timeout` bounding the request")
                .actual("the options come from outside what this file shows")
                .evidence(TextRange::of(from), "options come from here")
                .fix(Fix::advice(format!("make sure the options include `{SIGNAL_ENTRY}`")))
                .emit(sink),
        }
    }

    fn is_function(n: Node<'_>) -> bool {
        matches!(
            n.kind(),
            "arrow_function" | "function_expression" | "function"
        )
    }

    fn axios_fix(
        ctx: &RuleContext<'_>,
        call: &dsr_semantic::facts::Call<'_>,
        index: usize,
        literal: Option<&Literal<'_>>,
        zero: Option<Node<'_>>,
    ) -> Fix {
        let edits = match literal {
            Some(literal) => literal_edits(ctx, literal, zero, AXIOS_ENTRY),
            None if call.args.len() == index && index > 0 => Some(vec![Edit::insert(
                call.args[index - 1].end_byte(),
                format!(", {{ {AXIOS_ENTRY} }}"),
            )]),
            None if call.args.len() + 1 == index && index == 2 => Some(vec![Edit::insert(
                call.args[0].end_byte(),
                format!(", undefined, {{ {AXIOS_ENTRY} }}"),
            )]),
            None if call.args.is_empty() && index == 0 => {
                let arguments = call.node.child_by_field_name("arguments");
                arguments.map(|a| {
                    vec![Edit::insert(
                        a.end_byte().saturating_sub(1),
                        format!("{{ {AXIOS_ENTRY} }}"),
                    )]
                })
            }
            None => None,
        };
        match edits {
            Some(edits) => Fix::edits("set a 10 s `timeout`", Applicability::Maybe, edits),
            None => Fix::advice(format!("pass `{{ {AXIOS_ENTRY} }}` in the config")),
        }
    }

    fn axios_call<'t>(
        ctx: &RuleContext<'t>,
        call: &dsr_semantic::facts::Call<'t>,
        path: &str,
        sink: &mut Vec<Finding>,
    ) {
        let api = ctx.kb.api(ctx.language, path);
        let index = clients::axios_config_index(ctx.facts, ctx.source, call);
        let written = &call.callee_text;
        let range = TextRange::of(call.callee);
        match clients::judge_options(
            ctx.facts,
            ctx.source,
            call.args.get(index).copied(),
            &["timeout", "signal"],
        ) {
            OptionsBound::Bounded => {}
            OptionsBound::Unbounded(literal, zero) => ctx
                .finding(META, range)
                .confidence(Confidence::Medium)
                .title(match zero {
                    Some(_) => format!(
                        "`{written}` with `timeout: 0`, which axios reads as no timeout at all"
                    ),
                    None => format!("`{written}` without a `timeout`: {}", note(api)),
                })
                .trigger(TRIGGER)
                .expected("a `timeout` (or `signal`) in the request config")
                .actual("the default axios instance waits as long as the server takes")
                .fix(axios_fix(ctx, call, index, literal, zero))
                .emit(sink),
            OptionsBound::Elsewhere(from) => ctx
                .finding(META, range)
                .open_question()
                .title(format!(
                    "`{written}` takes its config from `{}`: does it set a `timeout`? {}",
                    describe(ctx, from),
                    note(api)
                ))
                .trigger(TRIGGER)
                .expected("a `timeout` (or `signal`) in the request config")
                .actual("the config comes from outside what this file shows")
                .evidence(TextRange::of(from), "config comes from here")
                .fix(Fix::advice(format!(
                    "make sure the config includes `{AXIOS_ENTRY}`"
                )))
                .emit(sink),
        }
    }

    /// `axios.create(config)`: the instance's timeout bounds every request made through it.
    fn axios_instance<'t>(
        ctx: &RuleContext<'t>,
        call: &dsr_semantic::facts::Call<'t>,
        sink: &mut Vec<Finding>,
    ) {
        let facts = ctx.facts;
        let api = ctx.kb.api(ctx.language, "axios.create");
        let judged = clients::judge_options(
            ctx.facts,
            ctx.source,
            call.args.first().copied(),
            &["timeout"],
        );
        if matches!(judged, OptionsBound::Bounded) {
            return;
        }
        let instance = facts.binding_of(call.node, ctx.source);
        if let Some(instance) = &instance {
            if facts
                .field_assignments(instance, "defaults.timeout")
                .any(|a| a.value.is_some_and(|v| ctx.node_text(v).trim() != "0"))
            {
                return;
            }
        }
        let bound = ctx.requests_through(instance.as_ref(), |request| {
            let sends = request
                .method
                .as_deref()
                .is_some_and(|m| clients::AXIOS_METHODS.contains(&m));
            if !sends {
                return None;
            }
            let config = request
                .args
                .get(clients::axios_config_index(ctx.facts, ctx.source, request))
                .copied();
            Some(
                match clients::judge_options(ctx.facts, ctx.source, config, &["timeout", "signal"])
                {
                    OptionsBound::Bounded => RequestBound::Bounded,
                    OptionsBound::Elsewhere(_) => RequestBound::Elsewhere,
                    OptionsBound::Unbounded(..) => RequestBound::Unbounded,
                },
            )
        });
        if bound == RequestBound::Bounded {
            return;
        }
        let written = &call.callee_text;
        let range = TextRange::of(call.callee);
        match judged {
            OptionsBound::Elsewhere(from) => ctx
                .finding(META, range)
                .open_question()
                .title(format!(
                    "`{written}` takes its config from `{}`: does it set a `timeout`? {}",
                    describe(ctx, from),
                    note(api)
                ))
                .trigger(TRIGGER)
                .expected("a `timeout` in the instance config")
                .actual("the config comes from outside what this file shows")
                .evidence(TextRange::of(from), "config comes from here")
                .fix(Fix::advice(format!(
                    "make sure the config includes `{AXIOS_ENTRY}`"
                )))
                .emit(sink),
            OptionsBound::Unbounded(literal, zero) => {
                let mut finding = ctx.finding(META, range).title(match zero {
                    Some(_) => "axios instance created with `timeout: 0`, which axios reads as no timeout at all".to_string(),
                    None => format!("axios instance created without a `timeout`: {}", note(api)),
                });
                if bound == RequestBound::Elsewhere {
                    finding = finding.open_question();
                }
                finding
                    .trigger(TRIGGER)
                    .expected("a `timeout` in the instance config, bounding every request made through it")
                    .actual("requests through this instance wait as long as the server takes")
                    .fix(axios_fix(ctx, call, 0, literal, zero))
                    .emit(sink)
            }
            OptionsBound::Bounded => {}
        }
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
