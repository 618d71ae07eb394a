use dsr_core::kb::{Api, ApiTimeout, PathGroupKind};
use dsr_core::{
    declare_rule, Applicability, Edit, Finding, Fix, Language, Rule, RuleMeta, TextRange,
};
use dsr_semantic::facts::{Call, Origin};
use dsr_semantic::tree_sitter::Node;
use dsr_semantic::RuleContext;

use crate::shared::{go_add_import, go_package_local, members_edit};

declare_rule! {
    /// ## What it finds
    /// An HTTP server that lets a client take as long as it likes. Go's `http.ListenAndServe[TLS]` and
    /// `http.Serve[TLS]` package functions (a zero-value `http.Server`), `http.Server{}` literals with neither
    /// `ReadHeaderTimeout` nor `ReadTimeout`; Node servers whose `headersTimeout` or `requestTimeout` is set to
    /// `0`. For Rust, `axum::serve` and hyper servers whose router shows no timeout layer (`TimeoutLayer`,
    /// `ServiceBuilder::timeout`) are open questions: the bound may be applied where the file cannot see.
    ///
    /// A `ReadTimeout` also bounds reading the headers, so either field is enough in Go.
    ///
    /// ## Why it fails under partial failure
    /// A server keeps a goroutine, task or socket for each connection it is reading from. A client that sends
    /// its headers one byte at a time (slowloris), a flaky mobile network, or a misbehaving proxy holds those
    /// for as long as the server waits. Without a bound, a few hundred such connections exhaust file
    /// descriptors or memory and the server stops accepting healthy requests, even though it is not busy.
    ///
    /// ## Known false positives
    /// A server behind a proxy that enforces header and body timeouts itself (nginx, Envoy, a cloud load
    /// balancer) is protected there; suppress with that reason. Rust routers assembled in another file are not
    /// seen, which is why Rust reports are open questions.
    ///
    /// ## Example
    /// ```go
    /// package main
    ///
    /// import "net/http"
    ///
    /// func main() {
    /// 	mux := http.NewServeMux()
    /// 	srv := &http.Server{Addr: ":8080", Handler: mux}
    /// 	srv.ListenAndServe()
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// package main
    ///
    /// import (
    /// 	"net/http"
    /// 	"time"
    /// )
    ///
    /// func main() {
    /// 	mux := http.NewServeMux()
    /// 	srv := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 10 * time.Second}
    /// 	srv.ListenAndServe()
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Go: `ReadHeaderTimeout: 10 * time.Second` is added to the literal (and the `time` import), and
    /// `http.ListenAndServe(addr, h)` becomes `(&http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: …})
    /// .ListenAndServe()`, the same server with a header timeout. Node: the `0` becomes Node's own default
    /// (`60_000` for `headersTimeout`, `300_000` for `requestTimeout`). Both are offered, not applied
    /// unattended: a client that legitimately takes longer (large headers over a slow link, a long upload
    /// under `requestTimeout`) would now be cut off. Rust gets advice.
    ///
    /// ## Configuration
    /// None.
    ///
    /// ## References
    /// - Go `net/http` documentation, `Server.ReadHeaderTimeout` and `Server.ReadTimeout`.
    /// - Node.js documentation, `server.headersTimeout` and `server.requestTimeout`.
    /// - tower-http documentation, `tower_http::timeout::TimeoutLayer`.
    /// - Robert Hansen, "Slowloris HTTP DoS" (2009).
    pub struct ServerWithoutTimeouts {
        code: "RES002",
        slug: "server-without-timeouts",
        family: Resilience,
        languages: [Go, Rust, TypeScript],
        severity: High,
        impact: Availability,
        kind: Finding,
        fix: Sometimes,
        scope: Function,
        reads: [Handlers, StoredValues],
        roles: Servers,
    }
}

const META: &RuleMeta = &ServerWithoutTimeouts::META;

const TRIGGER: &str =
    "clients that send their request slowly or not at all (slowloris, flaky networks, stuck proxies)";

impl Rule<RuleContext<'_>> for ServerWithoutTimeouts {
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
        .unwrap_or("it applies no timeout")
}

mod go {
    use super::*;

    pub(super) fn check(ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        for call in &ctx.facts.calls {
            let Some(path) = call.path.as_deref() else {
                continue;
            };
            if ctx.kb.is_in_group(ctx.language, path, PathGroupKind::Serve) {
                package_function(ctx, call, path, sink);
            }
        }
        for literal in &ctx.facts.literals {
            if literal.type_path.as_deref() != Some("net/http.Server") {
                continue;
            }
            let zero =
                |value: Option<Node<'_>>| value.is_some_and(|v| ctx.node_text(v).trim() == "0");
            let set = |name: &str| literal.field(name).is_some_and(|f| !zero(f.value));
            if set("ReadHeaderTimeout") || set("ReadTimeout") {
                continue;
            }
            let binding = ctx.facts.binding_of(literal.node, ctx.source);
            let assigned = binding.as_ref().is_some_and(|b| {
                ["ReadHeaderTimeout", "ReadTimeout"].iter().any(|field| {
                    ctx.facts
                        .field_assignments(b, field)
                        .any(|a| !zero(a.value))
                })
            });
            if assigned {
                continue;
            }
            let api = ctx.kb.api(ctx.language, "net/http.Server");
            let type_range = literal
                .node
                .child_by_field_name("type")
                .map_or(TextRange::of(literal.node), TextRange::of);
            let (time, import) = (go_package_local(ctx, "time"), go_add_import(ctx, "time"));
            let value = format!("10 * {time}.Second");
            let edits = match literal.field("ReadHeaderTimeout").and_then(|f| f.value) {
                Some(zero) => Some(vec![Edit::replace(TextRange::of(zero), value)]),
                None => literal.node.child_by_field_name("body").and_then(|body| {
                    members_edit(
                        ctx,
                        body,
                        Language::Go,
                        &format!("ReadHeaderTimeout: {value}"),
                    )
                }),
            };
            let fix = match edits {
                Some(mut edits) => {
                    edits.extend(import);
                    Fix::edits(
                        "set a 10 s `ReadHeaderTimeout`",
                        Applicability::Maybe,
                        edits,
                    )
                }
                None => Fix::advice("set `ReadHeaderTimeout` (and `ReadTimeout`/`WriteTimeout` where requests allow)"),
            };
            ctx.finding(META, type_range)
                .title(format!(
                    "`{}` without `ReadHeaderTimeout` or `ReadTimeout`: {}",
                    ctx.text(type_range),
                    note(api)
                ))
                .trigger(TRIGGER)
                .expected("a `ReadHeaderTimeout` (or `ReadTimeout`) that cuts off a client slow to send its headers")
                .actual("each slow connection holds a goroutine and a file descriptor for as long as the client likes")
                .fix(fix)
                .emit(sink);
        }
    }

    /// `http.ListenAndServe(addr, h)` → `(&http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: …})
    /// .ListenAndServe()`, and the same for the TLS and `Serve` forms.
    fn package_function(
        ctx: &RuleContext<'_>,
        call: &Call<'_>,
        path: &str,
        sink: &mut Vec<Finding>,
    ) {
        let api = ctx.kb.api(ctx.language, path);
        let written = &call.callee_text;
        let args: Vec<&str> = call.args.iter().map(|a| ctx.node_text(*a)).collect();
        let package = call.receiver.map(|r| ctx.node_text(r));
        let (time, import) = (go_package_local(ctx, "time"), go_add_import(ctx, "time"));
        let timeout = format!("ReadHeaderTimeout: 10 * {time}.Second");
        let rewritten = match (package, path.rsplit('.').next(), args.as_slice()) {
            (Some(pkg), Some("ListenAndServe"), [addr, handler]) => Some(format!(
                "(&{pkg}.Server{{Addr: {addr}, Handler: {handler}, {timeout}}}).ListenAndServe()"
            )),
            (Some(pkg), Some("ListenAndServeTLS"), [addr, cert, key, handler]) => Some(format!(
                "(&{pkg}.Server{{Addr: {addr}, Handler: {handler}, {timeout}}}).ListenAndServeTLS({cert}, {key})"
            )),
            (Some(pkg), Some("Serve"), [listener, handler]) => Some(format!(
                "(&{pkg}.Server{{Handler: {handler}, {timeout}}}).Serve({listener})"
            )),
            (Some(pkg), Some("ServeTLS"), [listener, handler, cert, key]) => Some(format!(
                "(&{pkg}.Server{{Handler: {handler}, {timeout}}}).ServeTLS({listener}, {cert}, {key})"
            )),
            _ => None,
        };
        let fix = match rewritten {
            Some(text) => {
                let mut edits = vec![Edit::replace(call.range(), text)];
                edits.extend(import);
                Fix::edits(
                    "serve with an `http.Server` that has a 10 s `ReadHeaderTimeout`",
                    Applicability::Maybe,
                    edits,
                )
            }
            None => Fix::advice("serve with an `http.Server` that sets `ReadHeaderTimeout`"),
        };
        ctx.finding(META, TextRange::of(call.callee))
            .title(format!("`{written}` {}", note(api)))
            .trigger(TRIGGER)
            .expected("an `http.Server` with a `ReadHeaderTimeout` (or `ReadTimeout`)")
            .actual("each slow connection holds a goroutine and a file descriptor for as long as the client likes")
            .fix(fix)
            .emit(sink);
    }
}

mod rust {
    use super::*;

    pub(super) fn check(ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        for call in &ctx.facts.calls {
            let Some(path) = call.path.as_deref() else {
                continue;
            };
            if !ctx.kb.is_in_group(ctx.language, path, PathGroupKind::Serve) {
                continue;
            }
            let chain = ctx.facts.method_chain(call.node);
            let header_timeout = chain.iter().any(|link| {
                ctx.kb
                    .method_of(ctx.language, "hyper", ctx.node_text(link.method))
                    .is_some_and(|api| api.timeout == Some(ApiTimeout::Set))
            });
            if header_timeout || timeout_layer_in_reach(ctx, call) {
                continue;
            }
            let api = ctx.kb.api(ctx.language, path);
            ctx.finding(META, TextRange::of(call.callee))
                .open_question()
                .title(format!(
                    "`{}` with no timeout layer in sight ({}): is one applied elsewhere, by a proxy or a layer built in another file?",
                    call.callee_text,
                    note(api)
                ))
                .trigger(TRIGGER)
                .expected("a `TimeoutLayer` (tower-http) or `ServiceBuilder::timeout` on the router, or a proxy in front that enforces timeouts")
                .actual("no timeout layer is applied in the code that builds and serves this router, so a slow client or handler holds its connection for as long as it takes")
                .fix(Fix::advice(if path.starts_with("axum") {
                    "add `.layer(tower_http::timeout::TimeoutLayer::new(Duration::from_secs(10)))` to the router"
                } else {
                    "set a header read timeout on the hyper builder and add a `tower_http::timeout::TimeoutLayer` to the service"
                }))
                .emit(sink);
        }
    }

    /// Whether a timeout layer appears in the function that serves, or in a function of this file it calls
    /// (directly or a few calls deep) — where routers are usually put together.
    fn timeout_layer_in_reach(ctx: &RuleContext<'_>, serve: &Call<'_>) -> bool {
        let facts = ctx.facts;
        let Some(start) = serve.function.map(|f| facts.outermost_function(f)) else {
            return false;
        };
        let mut scopes = vec![start];
        let mut next = 0;
        while next < scopes.len() && scopes.len() < 16 {
            let scope = scopes[next];
            next += 1;
            for call in facts.calls_in(scope) {
                if is_timeout_layer(ctx, call) {
                    return true;
                }
                let name = call.callee_text.rsplit("::").next().unwrap_or_default();
                // The functions of that name, from the facts' index by name (not every function per call).
                for index in facts.functions_named(name) {
                    let function = &facts.functions[index];
                    let own = function.name.rsplit("::").next().unwrap_or_default();
                    if function.parent.is_none() && own == name && !scopes.contains(&index) {
                        scopes.push(index);
                    }
                }
            }
        }
        false
    }

    fn is_timeout_layer(ctx: &RuleContext<'_>, call: &Call<'_>) -> bool {
        let by_path = call
            .path
            .as_deref()
            .and_then(|p| ctx.kb.api(ctx.language, p))
            .is_some_and(|api| api.timeout == Some(ApiTimeout::Set));
        // `use tower_http::timeout::*;` leaves `TimeoutLayer::new` unresolved: its name is enough then.
        let by_name = (call.callee_text.ends_with("TimeoutLayer::new")
            || call.callee_text.ends_with("TimeoutLayer::with_status_code"))
            && (ctx.facts.imports_module("tower_http") || ctx.facts.imports_module("tower"));
        // `ServiceBuilder::new().timeout(d)`.
        let builder_timeout = call.method.as_deref().is_some_and(|method| {
            let root = ctx.facts.chain_root(call.node);
            ctx.facts
                .call_of(root)
                .and_then(|r| r.path.as_deref())
                .is_some_and(|root_path| {
                    let module = root_path.split("::").next().unwrap_or(root_path);
                    ctx.kb
                        .method_of(ctx.language, module, method)
                        .is_some_and(|api| api.timeout == Some(ApiTimeout::Set))
                        && root_path.ends_with("ServiceBuilder::new")
                })
        });
        by_path || by_name || builder_timeout
    }
}

mod typescript {
    use super::*;

    /// The Node server settings that 0 turns off, with Node's own default to restore.
    const SETTINGS: &[(&str, &str)] =
        &[("headersTimeout", "60_000"), ("requestTimeout", "300_000")];

    pub(super) fn check(ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        let facts = ctx.facts;
        for call in &facts.calls {
            let Some(api) = server_api(ctx, call) else {
                continue;
            };
            if let Some(options) = call.args.first().filter(|a| a.kind() == "object") {
                if let Some(literal) = facts.literal_of(*options) {
                    for (name, default) in SETTINGS {
                        if let Some(value) = literal
                            .field(name)
                            .and_then(|f| f.value)
                            .filter(|v| ctx.node_text(*v).trim() == "0")
                        {
                            report(ctx, TextRange::of(value), name, default, api, sink);
                        }
                    }
                }
            }
            let Some(server) = facts.binding_of(call.node, ctx.source) else {
                continue;
            };
            for (name, default) in SETTINGS {
                for assignment in facts.field_assignments(&server, name) {
                    if let Some(value) =
                        assignment.value.filter(|v| ctx.node_text(*v).trim() == "0")
                    {
                        report(ctx, TextRange::of(value), name, default, api, sink);
                    }
                }
            }
        }
    }

    /// `http(s).createServer(...)`, or `app.listen(...)` on an express app (which returns the server).
    fn server_api<'k>(ctx: &'k RuleContext<'_>, call: &Call<'_>) -> Option<&'k Api> {
        let facts = ctx.facts;
        if let Some(path @ ("http.createServer" | "https.createServer")) = call.path.as_deref() {
            return ctx.kb.api(ctx.language, path);
        }
        if call.method.as_deref() != Some("listen") {
            return None;
        }
        let receiver = call.receiver.filter(|r| r.kind() == "identifier")?;
        let origin = facts.origin_of(
            facts.function_at(receiver.start_byte()),
            ctx.node_text(receiver),
            receiver.start_byte(),
        );
        let Origin::Value(value) = origin else {
            return None;
        };
        let app = facts.call_of(value)?;
        (app.path.as_deref() == Some("express"))
            .then(|| ctx.kb.api(ctx.language, "http.createServer"))?
    }

    fn report(
        ctx: &RuleContext<'_>,
        range: TextRange,
        name: &str,
        default: &str,
        api: &Api,
        sink: &mut Vec<Finding>,
    ) {
        ctx.finding(META, range)
            .title(format!(
                "`{name}` set to 0 turns Node's limit off: {}",
                note(Some(api))
            ))
            .trigger(TRIGGER)
            .expected(format!(
                "a finite `{name}` (Node's default is {default} ms)"
            ))
            .actual("a client may hold its connection and socket for as long as it likes")
            .fix(Fix::edits(
                format!("restore Node's default `{name}` of {default} ms"),
                Applicability::Maybe,
                vec![Edit::replace(range, default)],
            ))
            .emit(sink);
    }
}
