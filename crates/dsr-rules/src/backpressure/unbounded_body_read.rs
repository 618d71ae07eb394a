use dsr_core::kb::{ApiKind, CallKinds, ClientShape, HttpClient, PathGroupKind};
use dsr_core::{declare_rule, Confidence, Finding, Fix, Language, Rule, RuleMeta, TextRange};
use dsr_semantic::facts::Call;
use dsr_semantic::models::endpoint;
use dsr_semantic::tree_sitter::Node;
use dsr_semantic::RuleContext;
use dsr_syntax::node::{self, Wrappers};

declare_rule! {
    /// ## What it finds
    /// A whole HTTP body read into memory with no size limit:
    /// - Go: `io.ReadAll(r.Body)` / `ioutil.ReadAll(r.Body)` on an incoming request without
    ///   `http.MaxBytesReader` — Go's `net/http` puts no limit on request bodies — and on a response body
    ///   without `io.LimitReader`; a cap of `math.MaxInt64` (`http.MaxBytesReader(w, r.Body, math.MaxInt64)`)
    ///   is a limit that is none;
    /// - Rust: `hyper::body::to_bytes(body)`, axum's `to_bytes(body, usize::MAX)` (a limit that is none), and
    ///   reqwest's `.bytes().await`/`.text().await`/`.json().await` on a response, with no `content_length()`
    ///   check or `http_body_util::Limited` in the function; axum's `DefaultBodyLimit::disable()`, which removes
    ///   axum's default 2 MB limit;
    /// - TS/JS: only explicit opt-outs, since the defaults are safe: `express.json`/`urlencoded`/`text`/`raw`
    ///   and `body-parser` (default limit 100kb) or Fastify's `bodyLimit` (default 1 MiB) set to 100 MB or more.
    ///
    /// Request bodies read in a handler are findings. Response bodies (Go and reqwest) are asked as open
    /// questions — whether that is a risk depends on how far the server is trusted — and so is a Go request body
    /// read in a helper that is not the handler (the handler calling it may have capped the body, perhaps in
    /// another file). Measured on eight codebases (docs/precision.md, issue 13): as findings, these two forms
    /// were right about half the time.
    ///
    /// A Go response is not asked about when the request went to the endpoint the client was configured with
    /// (model `endpoint`): a path with no host (`"/" + endpoint`, the host filled in by a pool or transport set
    /// up elsewhere), or a URL built on a field of the client whose every stored value comes from the
    /// configuration handed to its constructor (`baseURL: cfg.BaseURL`). That server is the operator's own or
    /// one they chose, and "is it trusted?" has a plain yes. A host written in the code
    /// (`"https://api.github.com"`, a package constant), an address read from data (an OCSP responder named by a
    /// certificate) or a URL a helper is handed is still asked about.
    ///
    /// ## Why it fails under partial failure
    /// Memory per request becomes whatever the peer sends. One client (or one misbehaving upstream returning a
    /// multi-gigabyte error page) makes the process allocate until it is OOM-killed, taking every other
    /// in-flight request with it; a few concurrent large bodies do the same to a healthy-looking fleet. A limit
    /// turns that into a 413 or an error for one request.
    ///
    /// ## Known false positives
    /// A limit applied in another file — a middleware that wraps `r.Body` in `http.MaxBytesReader`, a reverse
    /// proxy with `client_max_body_size`, a `RequestBodyLimitLayer` — is not seen; response bodies from a trusted
    /// internal service are asked about with medium confidence when the code does not show that its URL is
    /// configured (a vendor's own host written as a literal, a Rust client's URL). Not reported: a Go read in a function that also reads
    /// the same body through a limit or into a buffer of a chosen size (`io.ReadFull`; on another path: the limit
    /// switched off by configuration); a read in a function whose every caller in the file capped the body
    /// first; the body of a request the function sends itself (`client.Do(req)`) or that a client transport's
    /// `RoundTrip(req)` receives on its way out.
    ///
    /// Not reported in tool, frontend or build code (code roles): a body read whole there costs the memory of one
    /// run of a CLI or one tab, not a service's; the open question "is the server trusted?" is only worth asking of
    /// a service (docs/precision.md, issue 13).
    ///
    /// ## Example
    /// ```go
    /// package api
    ///
    /// import (
    ///     "io"
    ///     "net/http"
    /// )
    ///
    /// func upload(w http.ResponseWriter, r *http.Request) {
    ///     data, err := io.ReadAll(r.Body)
    ///     if err != nil {
    ///         http.Error(w, err.Error(), http.StatusBadRequest)
    ///         return
    ///     }
    ///     store(data)
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// package api
    ///
    /// import (
    ///     "io"
    ///     "net/http"
    /// )
    ///
    /// func upload(w http.ResponseWriter, r *http.Request) {
    ///     r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
    ///     data, err := io.ReadAll(r.Body)
    ///     if err != nil {
    ///         http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
    ///         return
    ///     }
    ///     store(data)
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Advice only: the limit is a product decision, and `io.LimitReader` truncates silently where
    /// `http.MaxBytesReader` fails, so the error path has to be chosen by hand.
    ///
    /// ## Configuration
    /// The open questions (a response read from a server whose trust the code does not show, a body read in a
    /// helper) are in preview: reported only with `preview = true`. On eight real codebases 8 of 11 were worth
    /// asking (docs/precision.md, "Issue 13, fourth pass"), below the 80 % a question must reach; the rest ask about
    /// a server its owner runs, or about code only a command-line tool reaches, which the code roles do not see
    /// across files. The findings (a request body read whole on a server) are reported as usual.
    ///
    /// ## References
    /// - Go `net/http`: `MaxBytesReader`; `io.LimitReader`.
    /// - axum: `extract::DefaultBodyLimit` (2 MB by default).
    /// - Express `express.json([options])`: `limit` (default `'100kb'`); Fastify server option `bodyLimit`.
    pub struct UnboundedBodyRead {
        code: "BKP004",
        slug: "unbounded-body-read",
        family: Backpressure,
        languages: [Go, Rust, TypeScript],
        severity: High,
        impact: Availability,
        kind: Finding,
        fix: Never,
        scope: File,
        reads: [RemoteCalls],
        roles: ServiceClients,
    }
}

/// A TS body limit at or above this many bytes is an opt-out in all but name.
const HUGE_LIMIT: f64 = 100.0 * 1024.0 * 1024.0;

impl Rule<RuleContext<'_>> for UnboundedBodyRead {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        if ctx.tree.is_none() {
            return;
        }
        for call in &ctx.facts.calls {
            match ctx.language {
                Language::Go => check_go(ctx, call, sink),
                Language::Rust => check_rust(ctx, call, sink),
                Language::TypeScript | Language::Tsx => check_ts(ctx, call, sink),
                Language::Sql => {}
            }
        }
    }
}

fn compact(ctx: &RuleContext<'_>, n: Node<'_>) -> String {
    ctx.node_text(n).split_whitespace().collect()
}

fn function_range(ctx: &RuleContext<'_>, call: &Call<'_>) -> Option<TextRange> {
    call.function
        .map(|f| ctx.facts.functions[ctx.facts.outermost_function(f)].range())
}

// ----- Go ------------------------------------------------------------------------------------------------

fn check_go(ctx: &RuleContext<'_>, call: &Call<'_>, sink: &mut Vec<Finding>) {
    let Some(path) = call.path.as_deref() else {
        return;
    };
    if !ctx
        .kb
        .is_in_group(ctx.language, path, PathGroupKind::ReadAll)
    {
        return;
    }
    let Some(arg) = call.args.first().copied() else {
        return;
    };
    if arg.kind() != "selector_expression" {
        return;
    }
    let (Some(operand), Some(field)) = (
        arg.child_by_field_name("operand"),
        arg.child_by_field_name("field"),
    ) else {
        return;
    };
    if ctx.node_text(field) != "Body" || operand.kind() != "identifier" {
        return;
    }
    let name = ctx.node_text(operand);
    let body = compact(ctx, arg);
    let Some(scope) = function_range(ctx, call) else {
        return;
    };
    // A limit before the read, or on another path of the same function: then the unlimited read is a choice
    // (`if max < 0 { return io.ReadAll(r.Body) }`, the operator turned the limit off), not an oversight.
    let limited = ctx.facts.calls_within(scope).any(|c| {
        c.node.id() != call.node.id()
            && caps_read(ctx, c)
            && c.args.iter().any(|a| compact(ctx, *a) == body)
    });
    if limited || limited_by_caller(ctx, call) {
        return;
    }
    let kind = go_body_kind(ctx, call, name);
    let Some(request) = kind else { return };
    // A response from the endpoint the client was configured with (its base URL set from configuration, a
    // path whose host a pool fills in): whether that server is trusted has a plain yes, so it is not asked.
    if !request
        && endpoint::configured_response(
            ctx.facts,
            ctx.kb,
            ctx.source,
            call.function,
            name,
            call.node.start_byte(),
        )
    {
        return;
    }
    let callee = &call.callee_text;
    let builder = ctx.finding(&UnboundedBodyRead::META, TextRange::of(call.node));
    let builder = if request && !in_handler(ctx, call) {
        // A helper handed the request (`verify(r)`): the handler that calls it, maybe in another file, may
        // have capped the body already.
        builder
            .open_question()
            .title(format!("`{callee}({body})` reads the whole request body with no limit in this function: does the handler that calls it cap the body (`http.MaxBytesReader`)?"))
            .trigger("a client sends a body of several gigabytes (by mistake or on purpose)")
            .expected("the body capped with `http.MaxBytesReader` in the handler or here, so an oversized request fails with 413")
            .actual("unless a caller capped it, the read allocates as much as the client sends")
            .fix(Fix::advice(format!("cap it where the handler receives it: `{name}.Body = http.MaxBytesReader(w, {name}.Body, 1<<20)`, or read through `io.LimitReader` here")))
    } else if request {
        builder
            .title(format!("`{callee}({body})` reads the whole request body into memory; Go's net/http sets no limit on request bodies"))
            .trigger("a client sends a body of several gigabytes (by mistake or on purpose)")
            .expected("the body capped with `http.MaxBytesReader`, so an oversized request fails with 413")
            .actual("the handler allocates as much as the client sends, until the process is OOM-killed")
            .fix(Fix::advice(format!("wrap it first: `{name}.Body = http.MaxBytesReader(w, {name}.Body, 1<<20)` (the limit the endpoint needs), and answer 413 on the error")))
    } else {
        builder
            .open_question()
            .title(format!("`{callee}({body})` reads the whole response body into memory with no size limit: is the server trusted to answer with small bodies, error pages included?"))
            .confidence(Confidence::Medium)
            .trigger("the remote side answers with a huge body (a misrouted download, an error page, a compromised upstream)")
            .expected("the read bounded with `io.LimitReader` (and a check that the limit was not reached)")
            .actual("the client allocates as much as the server sends")
            .fix(Fix::advice(format!("read through `io.LimitReader({body}, maxBytes+1)` and fail when more than `maxBytes` came back")))
    };
    builder.emit(sink);
}

/// A call of the kb's `read-limit` group (`http.MaxBytesReader`, `io.LimitReader`) that caps what it reads: a
/// cap written as its type's largest value (`math.MaxInt64`, calls.toml's `[limits] unbounded`) caps nothing.
fn caps_read(ctx: &RuleContext<'_>, call: &Call<'_>) -> bool {
    call.path.as_deref().is_some_and(|path| {
        ctx.kb
            .is_in_group(ctx.language, path, PathGroupKind::ReadLimit)
    }) && !call.args.iter().any(|arg| {
        CallKinds::builtin()
            .limits
            .is_unbounded(&compact(ctx, *arg))
    })
}

/// The read runs in an HTTP handler: a function of the same nesting that receives the response writer too
/// (`func(w http.ResponseWriter, r *http.Request)`), where the body is the client's as it arrived.
fn in_handler(ctx: &RuleContext<'_>, call: &Call<'_>) -> bool {
    let mut current = call.function;
    while let Some(index) = current {
        let f = &ctx.facts.functions[index];
        if f.params
            .iter()
            .any(|p| p.type_path.as_deref() == Some("net/http.ResponseWriter"))
        {
            return true;
        }
        current = f.parent;
    }
    false
}

/// Every call of the read's function in this file comes after a limit on a body in the caller
/// (`r.Body = http.MaxBytesReader(w, r.Body, n)` then `verify(r)`): the caller bounded what the callee reads.
fn limited_by_caller(ctx: &RuleContext<'_>, call: &Call<'_>) -> bool {
    let facts = ctx.facts;
    let Some(function) = call.function.map(|f| facts.outermost_function(f)) else {
        return false;
    };
    let name = facts.functions[function].name.as_str();
    if name.is_empty() {
        return false;
    }
    let mut callers = facts
        .calls_named(name)
        .filter(|c| c.function.is_some() && c.callee_text.rsplit('.').next() == Some(name))
        .peekable();
    callers.peek().is_some()
        && callers.all(|site| {
            // The calls of the site's own function: a binary search, not every call of the file per site.
            let mut site_calls = site
                .function
                .map(|f| facts.calls_in(f))
                .into_iter()
                .flatten();
            site_calls.any(|limit| {
                limit.function == site.function
                    && limit.node.end_byte() <= site.node.start_byte()
                    && caps_read(ctx, limit)
                    && limit
                        .args
                        .iter()
                        .any(|a| compact(ctx, *a).ends_with(".Body"))
            })
        })
}

/// `Some(true)` for an incoming request, `Some(false)` for a response of a remote call, `None` when unknown —
/// also for a request the function sends itself (`client.Do(req)`): its body is the caller's own data.
fn go_body_kind(ctx: &RuleContext<'_>, call: &Call<'_>, name: &str) -> Option<bool> {
    let mut current = call.function;
    while let Some(index) = current {
        let f = &ctx.facts.functions[index];
        if let Some(p) = f.params.iter().find(|p| p.name == name) {
            let client = ctx
                .kb
                .http_client_shaped(ctx.language, ClientShape::ClientField)?;
            let typed = |t: &Option<String>| p.type_path.is_some() && p.type_path == *t;
            return match () {
                _ if typed(&client.request_type) && !outgoing(ctx, index, name, client) => {
                    Some(true)
                }
                _ if typed(&client.response_type) => Some(false),
                _ => None,
            };
        }
        current = f.parent;
    }
    let value = ctx
        .facts
        .declared_value(call.function, name, call.node.start_byte())?;
    let effects = ctx.remote_calls();
    let index = effects.call_index(value)?;
    if effects
        .remote(index)
        .is_some_and(|r| r.kind == ApiKind::Http)
    {
        return Some(false);
    }
    // `client.Get(url)` on a `*http.Client` parameter.
    let made = &ctx.facts.calls[index];
    let receiver = made.receiver.filter(|r| r.kind() == "identifier")?;
    let receiver = ctx.node_text(receiver);
    let mut current = made.function;
    while let Some(function) = current {
        let f = &ctx.facts.functions[function];
        if let Some(p) = f.params.iter().find(|p| p.name == receiver) {
            let client = ctx
                .kb
                .http_client_shaped(ctx.language, ClientShape::ClientField)?;
            let sends = made
                .method
                .as_deref()
                .is_some_and(|m| client.request_methods.iter().any(|r| r == m));
            return (p.type_path.is_some() && p.type_path == client.client_type && sends)
                .then_some(false);
        }
        current = f.parent;
    }
    None
}

/// The request `name` is one the code sends: the function is a client transport's method that receives it on
/// its way out (`RoundTrip(req)`, kb `transport_methods`), or it hands the request to an HTTP call
/// (`client.Do(req)`).
fn outgoing(ctx: &RuleContext<'_>, function: usize, name: &str, client: &HttpClient) -> bool {
    let method = ctx.facts.functions[function].name.rsplit('.').next();
    if method.is_some_and(|m| client.transport_methods.iter().any(|t| t == m)) {
        return true;
    }
    let effects = ctx.remote_calls();
    let outermost = ctx.facts.outermost_function(function);
    ctx.facts
        .call_indexes_within(ctx.facts.functions[outermost].range())
        .any(|i| {
            let c = &ctx.facts.calls[i];
            c.function.is_some()
                && c.args
                    .iter()
                    .any(|a| a.kind() == "identifier" && ctx.node_text(*a) == name)
                && effects.remote(i).is_some_and(|r| r.kind == ApiKind::Http)
        })
}

// ----- Rust ----------------------------------------------------------------------------------------------

fn check_rust(ctx: &RuleContext<'_>, call: &Call<'_>, sink: &mut Vec<Finding>) {
    let path = call.path.as_deref().unwrap_or("");
    // A framework's default body limit removed (kb group `body-limit-off`; its `[[api]]` note says which).
    if ctx
        .kb
        .is_in_group(ctx.language, path, PathGroupKind::BodyLimitOff)
    {
        let written = path.rsplitn(3, "::").collect::<Vec<_>>();
        let short = match written.as_slice() {
            [method, owner, ..] => format!("{owner}::{method}"),
            _ => path.to_string(),
        };
        let note = ctx
            .kb
            .api(ctx.language, path)
            .and_then(|api| api.note.as_deref())
            .unwrap_or("removes the framework's default request body limit");
        ctx.finding(&UnboundedBodyRead::META, TextRange::of(call.node))
            .title(format!("`{short}()` {note}"))
            .trigger("a client sends a body of several gigabytes to a route whose extractor buffers it (`Bytes`, `String`, `Json`)")
            .expected("a limit sized for the route: `DefaultBodyLimit::max(n)` or tower-http's `RequestBodyLimitLayer`")
            .actual("extractors buffer as much as the client sends")
            .fix(Fix::advice("use `DefaultBodyLimit::max(bytes)` with the largest body the route needs, on that route only"))
            .emit(sink);
        return;
    }
    // A whole-body read of the kb's `read-all` group (`hyper::body::to_bytes(body)`), unless its `limit`
    // argument bounds it (`axum::body::to_bytes(body, 1 << 20)`; `usize::MAX` is none).
    let limits = &CallKinds::builtin().limits;
    let whole_read = ctx
        .kb
        .is_in_group(ctx.language, path, PathGroupKind::ReadAll)
        .then(|| limit_arg(ctx, call))
        .filter(|limit| limit.is_none_or(|l| limits.is_unbounded(&compact(ctx, l))));
    // A response method that buffers the whole body (kb `[[http_client]]` `body_read_methods`), and its library.
    let buffering_method = call
        .method
        .as_deref()
        .filter(|_| call.args.is_empty())
        .and_then(|m| {
            let client = ctx
                .kb
                .http_clients(ctx.language)
                .find(|c| c.body_read_methods.iter().any(|b| b == m))?;
            Some((
                m,
                client.modules.first().map_or("the library", String::as_str),
            ))
        });
    // Candidates first: the size-check scan below looks at every call of the function.
    if whole_read.is_none() && buffering_method.is_none() {
        return;
    }
    let Some(scope) = function_range(ctx, call) else {
        return;
    };
    // A size check, a chunked read (`calls.toml` `[limits] size_checks`), or a limit of the kb's `read-limit`
    // group (`http_body_util::Limited::new`).
    let checked = ctx.facts.calls_within(scope).any(|c| {
        c.method
            .as_deref()
            .is_some_and(|m| limits.size_checks.iter().any(|s| s == m))
            || c.path.as_deref().is_some_and(|p| {
                ctx.kb
                    .is_in_group(ctx.language, p, PathGroupKind::ReadLimit)
            })
    });
    if checked {
        return;
    }
    if let Some(limit) = whole_read {
        let finding = ctx.finding(&UnboundedBodyRead::META, TextRange::of(call.callee));
        let finding = match limit {
            Some(limit) => {
                let written = ctx.node_text(limit);
                finding
                    .title(format!("`{path}` buffers the whole body with no size limit: a limit of `{written}` is none"))
                    .trigger("the peer sends (or a misbehaving upstream returns) a body of several gigabytes")
                    .expected("a limit sized for the largest body the caller accepts")
                    .actual("the body is buffered in memory whatever its size")
                    .fix(Fix::advice(format!("pass the largest body you accept (`1 << 20`, say) instead of `{written}`, and handle the error past it")))
            }
            None => finding
                .title(format!("`{path}` buffers the whole body with no size limit"))
                .trigger("the peer sends (or a misbehaving upstream returns) a body of several gigabytes")
                .expected("a size check first (`size_hint().upper()`/`content-length`) or `http_body_util::Limited`")
                .actual("the body is buffered in memory whatever its size")
                .fix(Fix::advice("wrap the body in `http_body_util::Limited::new(body, max)` before collecting it, or reject when `size_hint().upper()` exceeds the limit")),
        };
        finding.emit(sink);
        return;
    }
    let Some((method, library)) = buffering_method else {
        return;
    };
    if !is_awaited(ctx, call.node) || !is_reqwest_response(ctx, call) {
        return;
    }
    ctx.finding(&UnboundedBodyRead::META, TextRange::of(call.callee))
        .open_question()
        .title(format!("`.{method}().await` buffers the whole response body with no size limit ({library} sets none): is the server trusted to answer with small bodies, error pages included?"))
        .confidence(Confidence::Medium)
        .trigger("the server answers with a huge body (a misrouted download, an error page, a compromised upstream)")
        .expected("`content_length()` checked against a limit, or the body read chunk by chunk with a running total")
        .actual("the client allocates as much as the server sends")
        .fix(Fix::advice("check `resp.content_length()` against a limit and read with `resp.chunk().await` while counting, failing past the limit"))
        .emit(sink);
}

/// The argument a whole-body read takes its size limit from (kb `params` role `limit`), `None` when the API
/// takes none (`hyper::body::to_bytes(body)`).
fn limit_arg<'t>(ctx: &RuleContext<'_>, call: &Call<'t>) -> Option<Node<'t>> {
    let path = call.path.as_deref()?;
    let at = ctx.kb.api(ctx.language, path)?.param("limit")?;
    call.args.get(at).copied()
}

fn is_awaited(ctx: &RuleContext<'_>, n: Node<'_>) -> bool {
    ctx.facts
        .parent(n)
        .is_some_and(|p| p.kind() == "await_expression")
}

/// The receiver is a reqwest response: the chain goes through a remote HTTP `send()`, or a local declared
/// from one.
fn is_reqwest_response(ctx: &RuleContext<'_>, call: &Call<'_>) -> bool {
    let effects = ctx.remote_calls();
    let Some(receiver) = call.receiver else {
        return false;
    };
    let is_http = |n: Node<'_>| {
        node::descendants(n).any(|d| {
            effects
                .call_index(d)
                .and_then(|i| effects.remote(i))
                .is_some_and(|r| r.kind == ApiKind::Http)
        })
    };
    if is_http(receiver) {
        return true;
    }
    let head = node::strip_wrappers(receiver, Wrappers::TRY | Wrappers::AWAIT);
    if head.kind() != "identifier" {
        return false;
    }
    ctx.facts
        .declared_value(call.function, ctx.node_text(head), call.node.start_byte())
        .is_some_and(is_http)
}

// ----- TypeScript ----------------------------------------------------------------------------------------

fn check_ts(ctx: &RuleContext<'_>, call: &Call<'_>, sink: &mut Vec<Finding>) {
    let Some(path) = call.path.as_deref() else {
        return;
    };
    let Some(parser) = ctx.kb.body_parser(ctx.language, path) else {
        return;
    };
    let (option, default) = (parser.option.as_str(), parser.default.as_str());
    let Some(options) = call.args.first() else {
        return;
    };
    let Some(literal) = ctx.facts.literal_of(*options) else {
        return;
    };
    let Some(value) = literal.field(option).and_then(|f| f.value) else {
        return;
    };
    let Some(bytes) = size_in_bytes(ctx, value) else {
        return;
    };
    if bytes < HUGE_LIMIT {
        return;
    }
    let written = ctx.node_text(value);
    ctx.finding(&UnboundedBodyRead::META, TextRange::of(value))
        .title(format!(
            "`{path}` body limit raised to {written} (default {default}): every request may buffer that much"
        ))
        .trigger("clients send bodies of that size, a few at a time")
        .expected(format!(
            "the default ({default}) or a limit sized for the largest legitimate body, on the routes that need it"
        ))
        .actual(format!(
            "each request may hold {written} in memory before the handler runs"
        ))
        .evidence(call.range(), "parser configured here")
        .fix(Fix::advice(format!(
            "keep `{option}` near the largest legitimate body; stream large uploads to storage instead of buffering them"
        )))
        .emit(sink);
}

/// `'500mb'`, `1024 * 1024 * 500`, `Infinity`, `Number.MAX_SAFE_INTEGER` → bytes.
fn size_in_bytes(ctx: &RuleContext<'_>, value: Node<'_>) -> Option<f64> {
    let text = ctx.node_text(value).trim();
    if CallKinds::builtin()
        .limits
        .is_unbounded(&compact(ctx, value))
    {
        return Some(f64::INFINITY);
    }
    if let Some(s) = node::string_literal_value(value, ctx.source, ctx.language) {
        let s = s.trim().to_ascii_lowercase();
        let digits_end = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let number: f64 = s[..digits_end].parse().ok()?;
        let unit = match s[digits_end..].trim() {
            "" | "b" => 1.0,
            "kb" => 1024.0,
            "mb" => 1024.0 * 1024.0,
            "gb" => 1024.0 * 1024.0 * 1024.0,
            "tb" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
            _ => return None,
        };
        return Some(number * unit);
    }
    match value.kind() {
        "number" => text.replace('_', "").parse().ok(),
        "binary_expression" => {
            let left = value.child_by_field_name("left")?;
            let right = value.child_by_field_name("right")?;
            let op = value
                .child_by_field_name("operator")
                .map(|o| ctx.node_text(o));
            let (l, r) = (size_in_bytes(ctx, left)?, size_in_bytes(ctx, right)?);
            match op {
                Some("*") => Some(l * r),
                Some("+") => Some(l + r),
                _ => None,
            }
        }
        "parenthesized_expression" => size_in_bytes(ctx, value.named_child(0)?),
        _ => None,
    }
}
