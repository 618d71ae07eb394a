//! HTTP and RPC request handlers of one file, the routes it registers, and the places where it starts a server
//! (with whether a graceful shutdown is wired to it).
//!
//! Same-file analysis: a handler registered in another file is recognised by its shape where the framework gives
//! it one (Go `func(w http.ResponseWriter, r *http.Request)`, `*gin.Context`, `echo.Context`, `*fiber.Ctx`, actix
//! `#[get(..)]`, NestJS `@Get()`, Next.js route files), otherwise only when this file registers it.

use std::path::Path;

use dsr_core::http::Method;
use dsr_core::kb::{KnowledgeBase, PathGroupKind, ServerChain, WebFramework};
use dsr_syntax::{node, Language, TextRange};
use tree_sitter::Node;

use crate::facts::{ContextKind, ContextSource, FileFacts};

/// The knowledge base's web frameworks of a language, with the [`Framework`] each names, in table order.
fn frameworks(language: Language) -> impl Iterator<Item = (&'static WebFramework, Framework)> {
    KnowledgeBase::builtin()
        .web_frameworks(language)
        .filter_map(|entry| Some((entry, Framework::from_name(&entry.framework)?)))
}

/// Whether `method` registers a route (or mounts a group of them) in some web framework of `language`.
fn is_route_method(language: Language, method: &str) -> bool {
    // Asked of every method call: the frameworks' route methods per language family, gathered once.
    type RouteMethods = rustc_hash::FxHashSet<&'static str>;
    static FAMILIES: std::sync::OnceLock<Vec<(&'static str, RouteMethods)>> =
        std::sync::OnceLock::new();
    FAMILIES
        .get_or_init(|| {
            let mut families: Vec<(&'static str, RouteMethods)> = Vec::new();
            for language in Language::ALL {
                let family = language.family_name();
                if families.iter().any(|(f, _)| *f == family) {
                    continue;
                }
                let methods = frameworks(language)
                    .flat_map(|(entry, _)| entry.route_methods.iter().map(String::as_str))
                    .collect();
                families.push((family, methods));
            }
            families
        })
        .iter()
        .find(|(family, _)| *family == language.family_name())
        .is_some_and(|(_, methods)| methods.contains(method))
}

/// The web framework (or server library) a handler, route or server belongs to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Framework {
    NetHttp,
    Gin,
    Echo,
    Chi,
    Fiber,
    /// grpc-go's server (its `GracefulStop` drains it).
    GrpcGo,
    Axum,
    ActixWeb,
    Warp,
    Tonic,
    Hyper,
    Express,
    Fastify,
    Koa,
    Nest,
    /// A file-based route module: Next.js `app/**/route.ts`, Medusa `api/**/route.ts`.
    RouteFile,
    /// A Next.js `pages/api/**` default export.
    NextPagesApi,
    /// Node's `http.createServer` / a framework whose server is a Node server.
    NodeHttp,
}

impl Framework {
    /// Every framework [`Framework::name`] names.
    const ALL: [Framework; 18] = [
        Framework::NetHttp,
        Framework::Gin,
        Framework::Echo,
        Framework::Chi,
        Framework::Fiber,
        Framework::GrpcGo,
        Framework::Axum,
        Framework::ActixWeb,
        Framework::Warp,
        Framework::Tonic,
        Framework::Hyper,
        Framework::Express,
        Framework::Fastify,
        Framework::Koa,
        Framework::Nest,
        Framework::RouteFile,
        Framework::NextPagesApi,
        Framework::NodeHttp,
    ];

    /// The framework a knowledge-base `[[web_framework]]` entry names.
    pub fn from_name(name: &str) -> Option<Framework> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    pub const fn name(self) -> &'static str {
        match self {
            Framework::NetHttp => "net/http",
            Framework::Gin => "gin",
            Framework::Echo => "echo",
            Framework::Chi => "chi",
            Framework::Fiber => "fiber",
            Framework::GrpcGo => "grpc-go",
            Framework::Axum => "axum",
            Framework::ActixWeb => "actix-web",
            Framework::Warp => "warp",
            Framework::Tonic => "tonic",
            Framework::Hyper => "hyper",
            Framework::Express => "express",
            Framework::Fastify => "fastify",
            Framework::Koa => "koa",
            Framework::Nest => "NestJS",
            Framework::RouteFile => "route module",
            Framework::NextPagesApi => "Next.js API route",
            Framework::NodeHttp => "node:http",
        }
    }
}

/// A function that serves requests.
#[derive(Clone, Debug)]
pub struct Handler<'t> {
    /// Index into [`FileFacts::functions`].
    pub function: usize,
    pub node: Node<'t>,
    /// The route it serves when this file says so (`/orders/{id}`).
    pub route: Option<String>,
    pub framework: Framework,
}

/// A route registration (`mux.HandleFunc("/x", h)`, `.route("/x", get(h))`, `app.get("/x", h)`, `@Get("x")`).
#[derive(Clone, Debug)]
pub struct Route {
    pub range: TextRange,
    /// The path literal, method prefix dropped (`GET /x` → `/x`); `None` when not a literal.
    pub path: Option<String>,
    /// The handler's name as written, when it is a name (`healthz`, `h.Health`).
    pub handler_name: Option<String>,
    pub framework: Framework,
}

/// Whether a graceful shutdown is wired to a server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// The file drains the server on a signal; the range shows where.
    Wired(TextRange),
    /// The library drains on SIGTERM by itself; the text says what it does.
    LibraryDefault(&'static str),
    /// Nothing in the file stops the server gracefully.
    Missing,
}

/// A call that starts serving (`http.ListenAndServe`, `axum::serve`, `HttpServer::…run()`, `app.listen`).
#[derive(Clone, Debug)]
pub struct ServerStart<'t> {
    /// Index into [`FileFacts::calls`].
    pub call: usize,
    pub node: Node<'t>,
    pub function: Option<usize>,
    /// In the program's entry point: Go/Rust `main` (closures in it included); TS anywhere outside tests.
    pub entry: bool,
    pub framework: Framework,
    pub shutdown: Shutdown,
    /// Serves gRPC, not HTTP (no HTTP health route expected).
    pub rpc: bool,
}

/// The handler model of one file.
#[derive(Debug, Default)]
pub struct Handlers<'t> {
    pub handlers: Vec<Handler<'t>>,
    pub routes: Vec<Route>,
    pub servers: Vec<ServerStart<'t>>,
    /// Routers mounted from elsewhere (`app.use(router)`, `.nest("/api", api())`, `.configure(routes)`,
    /// `mux.Handle("/api/", apiHandler)`): this file does not show every route the server serves.
    pub mounts: Vec<TextRange>,
}

impl<'t> Handlers<'t> {
    pub fn compute(facts: &FileFacts<'t>, source: &str, path: &Path) -> Self {
        let mut model = Handlers::default();
        if facts.functions.is_empty() && facts.calls.is_empty() {
            return model;
        }
        let Some(root) = facts.nodes().first().copied() else {
            return model;
        };
        match facts.language {
            Language::Go => go::collect(&mut model, facts, source),
            Language::Rust => rust::collect(&mut model, facts, source),
            Language::TypeScript | Language::Tsx => {
                typescript::collect(&mut model, facts, source, root, path)
            }
            Language::Sql => {}
        }
        model
            .handlers
            .sort_by_key(|h| (h.function, h.route.is_none()));
        model.handlers.dedup_by_key(|h| h.function);
        model
    }

    /// The handler whose body contains `function` (itself, or a closure nested in it).
    pub fn handler_around(&self, facts: &FileFacts<'_>, function: usize) -> Option<&Handler<'t>> {
        let mut current = Some(function);
        while let Some(index) = current {
            // Sorted by function and one per function (`compute`): a binary search.
            if let Ok(at) = self.handlers.binary_search_by_key(&index, |h| h.function) {
                return Some(&self.handlers[at]);
            }
            current = facts.functions.get(index).and_then(|f| f.parent);
        }
        None
    }

    /// For a TS handler that receives a web `Request` (`Request`, `NextRequest`), the request's own abort
    /// signal: `request.signal` fires when the client disconnects.
    pub fn request_signal(
        &self,
        facts: &FileFacts<'_>,
        source: &str,
        function: usize,
    ) -> Option<ContextSource> {
        let handler = self.handler_around(facts, function)?;
        let f = facts.functions.get(handler.function)?;
        let list = f.node.child_by_field_name("parameters")?;
        let first = node::named_children(list).next()?;
        let pattern = first.child_by_field_name("pattern")?;
        if pattern.kind() != "identifier" {
            return None;
        }
        let type_name = first
            .child_by_field_name("type")
            .and_then(|t| node::named_children(t).next())
            .map(|t| node::text(t, source))?;
        if !matches!(type_name, "Request" | "NextRequest") {
            return None;
        }
        let name = node::text(pattern, source).to_string();
        Some(ContextSource {
            function: handler.function,
            kind: ContextKind::AbortSignal,
            expression: format!("{name}.signal"),
            param: name,
        })
    }

    fn add_handler(
        &mut self,
        function: usize,
        node: Node<'t>,
        route: Option<String>,
        fw: Framework,
    ) {
        self.handlers.push(Handler {
            function,
            node,
            route,
            framework: fw,
        });
    }
}

/// Whether a route path (or a handler's name) names a health, readiness or liveness probe.
pub fn is_health_name(text: &str) -> bool {
    const PROBES: [&str; 6] = ["health", "ready", "readiness", "live", "liveness", "ping"];
    // Every health word starts with a probe: a name holding none (most callees and paths) is answered without
    // splitting it into words.
    let holds = |probe: &str| {
        text.as_bytes()
            .windows(probe.len())
            .any(|w| w.eq_ignore_ascii_case(probe.as_bytes()))
    };
    if !PROBES.iter().any(|probe| holds(probe)) {
        return false;
    }
    // Compared ignoring ASCII case, as the lowercased word was.
    let is_health_word = |word: &str| {
        PROBES.iter().any(|probe| {
            word.len() >= probe.len()
                && word.as_bytes()[..probe.len()].eq_ignore_ascii_case(probe.as_bytes())
                && {
                    // The probe is ASCII, so its length in `word` ends on a character boundary.
                    let rest = &word[probe.len()..];
                    rest.is_empty()
                        || ["z", "y", "check", "checks", "ness"]
                            .iter()
                            .any(|suffix| rest.eq_ignore_ascii_case(suffix))
                }
        })
    };
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .chain(split_camel(text))
        .any(is_health_word)
}

fn split_camel(text: &str) -> impl Iterator<Item = &str> {
    let mut words = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if i > start && c.is_ascii_uppercase() {
            words.push(&text[start..i]);
            start = i;
        }
    }
    words.push(&text[start..]);
    words.into_iter()
}

/// The function a handler argument names: a literal written in place, or a function of this file by name
/// (`h`, `orders.PlaceOrder` → a method `PlaceOrder`).
fn function_named(facts: &FileFacts<'_>, arg: Node<'_>, source: &str) -> Option<usize> {
    if let Some(index) = facts.function_index(arg) {
        return Some(index);
    }
    // A handler wrapped once: `wrap(api.query)`, `http.HandlerFunc(h)`, `SeqHandler(list)`, `asyncHandler(h)`.
    if matches!(arg.kind(), "call_expression" | "call") {
        let args = arg.child_by_field_name("arguments")?;
        let mut inner = node::named_children(args).filter(|n| !n.kind().contains("comment"));
        let first = inner.next()?;
        return if inner.next().is_none() {
            function_named(facts, first, source)
        } else {
            None
        };
    }
    let text = node::text(arg, source);
    let last = text
        .rsplit(['.', ':'])
        .next()
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_'))?;
    let mut found = facts.functions_named(last);
    let first = found.next()?;
    // Two methods of the same name on different types: the name does not say which.
    found.next().is_none().then_some(first)
}

/// Whether `function` runs as part of `main`: `main` itself, a closure in it, or a function of this file that
/// `main` calls (directly or through other functions of the file). `entries` holds the answer for every
/// top-level function, found on the first question (one walk from `main` for the file, not one per server).
fn is_entry(
    facts: &FileFacts<'_>,
    entries: &mut Option<Vec<bool>>,
    function: Option<usize>,
) -> bool {
    let Some(function) = function else {
        return false;
    };
    let entries = entries.get_or_insert_with(|| entry_functions(facts));
    entries[facts.outermost_function(function)]
}

/// For each function of the file, whether it is a top-level function reached from a top-level `main` through
/// plain calls (`f()`, not methods) of functions of the file.
fn entry_functions(facts: &FileFacts<'_>) -> Vec<bool> {
    let mut top_level: rustc_hash::FxHashMap<&str, Vec<usize>> = rustc_hash::FxHashMap::default();
    for (index, f) in facts.functions.iter().enumerate() {
        if f.parent.is_none() {
            top_level.entry(f.name.as_str()).or_default().push(index);
        }
    }
    let mut entry = vec![false; facts.functions.len()];
    let mut reached: Vec<usize> = top_level.get("main").cloned().unwrap_or_default();
    for &index in &reached {
        entry[index] = true;
    }
    let mut next = 0;
    while let Some(&current) = reached.get(next) {
        next += 1;
        for call in facts.calls_in(current) {
            if call.method.is_some() {
                continue;
            }
            for &index in top_level
                .get(call.callee_text.as_str())
                .into_iter()
                .flatten()
            {
                if !entry[index] {
                    entry[index] = true;
                    reached.push(index);
                }
            }
        }
    }
    entry
}

/// The calls chained on `calls[index]` (`Server::builder().add_service(s).serve(addr)` from `builder`).
fn chain<'a, 't>(facts: &'a FileFacts<'t>, index: usize) -> Vec<&'a crate::facts::Call<'t>> {
    facts
        .chained_calls(index)
        .into_iter()
        .map(|i| &facts.calls[i])
        .collect()
}

mod go {
    use super::*;

    fn framework_of(path: &str) -> Option<Framework> {
        frameworks(Language::Go)
            .find(|(entry, _)| entry.paths.iter().any(|p| path.starts_with(p.as_str())))
            .map(|(_, fw)| fw)
    }

    /// The framework a handler's parameter types say it belongs to.
    fn handler_shape(f: &crate::facts::Function<'_>) -> Option<Framework> {
        let types: Vec<&str> = f
            .params
            .iter()
            .filter_map(|p| p.type_path.as_deref())
            .collect();
        let two_parameters = frameworks(Language::Go).find(|(entry, _)| {
            !entry.handler_params.is_empty()
                && entry
                    .handler_params
                    .iter()
                    .all(|t| types.contains(&t.as_str()))
        });
        if let Some((_, fw)) = two_parameters {
            return Some(fw);
        }
        if f.params.len() != 1 {
            return None;
        }
        let t = types.first()?;
        let (entry, fw) = frameworks(Language::Go)
            .find(|(entry, _)| entry.paths.iter().any(|p| t.starts_with(p.as_str())))?;
        let context = entry.handler_context.as_deref()?;
        t.strip_suffix(context)
            .is_some_and(|head| head.ends_with('.'))
            .then_some(fw)
    }

    fn imports_web(facts: &FileFacts<'_>) -> Option<Framework> {
        frameworks(Language::Go).find_map(|(entry, fw)| {
            entry
                .imports
                .iter()
                .any(|path| {
                    facts
                        .imports
                        .iter()
                        .any(|i| i.path.starts_with(path.as_str()))
                })
                .then_some(fw)
        })
    }

    pub(super) fn collect<'t>(model: &mut Handlers<'t>, facts: &FileFacts<'t>, source: &str) {
        for (index, f) in facts.functions.iter().enumerate() {
            if let Some(fw) = handler_shape(f) {
                model.add_handler(index, f.node, None, fw);
            }
        }
        let Some(web) = imports_web(facts) else {
            return;
        };
        for call in &facts.calls {
            let Some(method) = call.method.as_deref() else {
                continue;
            };
            if !is_route_method(Language::Go, method) || call.args.len() < 2 {
                continue;
            }
            let Some(raw) = call.string_arg(0, source, Language::Go) else {
                continue;
            };
            let path = raw
                .split_once(' ')
                .filter(|(m, _)| Method::from_token(m).is_some())
                .map(|(_, p)| p.trim().to_string())
                .unwrap_or(raw);
            if !path.starts_with('/') {
                continue;
            }
            let fw = call.path.as_deref().and_then(framework_of).unwrap_or(web);
            let handler_arg = call.args.last().copied();
            let handler = handler_arg.and_then(|a| function_named(facts, a, source));
            model.routes.push(Route {
                range: call.range(),
                path: Some(path.clone()),
                handler_name: handler_arg
                    .filter(|a| a.kind() != "func_literal")
                    .map(|a| node::text(a, source).to_string()),
                framework: fw,
            });
            let subtree = matches!(method, "Group" | "Route" | "Mount")
                || (matches!(method, "Handle" | "HandleFunc")
                    && path.ends_with('/')
                    && handler.is_none());
            if subtree {
                model.mounts.push(call.range());
            }
            if let Some(h) = handler {
                if !matches!(method, "Group" | "Route" | "Mount") {
                    model.add_handler(h, facts.functions[h].node, Some(path), fw);
                }
            }
        }
        health_registrations(model, facts, source, web);
        servers(model, facts, source);
    }

    /// A call named for a probe that is handed a router of this file (`runner.RegisterHealth(mux)`,
    /// `addReadiness(r)`): it registers the probe routes elsewhere. Recorded as a route whose path the file does
    /// not show, named by the call.
    fn health_registrations(
        model: &mut Handlers<'_>,
        facts: &FileFacts<'_>,
        source: &str,
        web: Framework,
    ) {
        let routers: rustc_hash::FxHashSet<&str> = facts
            .calls
            .iter()
            .filter(|c| {
                c.method
                    .as_deref()
                    .is_some_and(|m| is_route_method(Language::Go, m))
            })
            .filter_map(|c| c.receiver.map(|r| node::text(r, source)))
            .collect();
        for call in &facts.calls {
            let name = call
                .method
                .as_deref()
                .unwrap_or_else(|| call.callee_text.rsplit('.').next().unwrap_or_default());
            if is_route_method(Language::Go, name) || !is_health_name(name) {
                continue;
            }
            let hands_router = call
                .args
                .iter()
                .any(|a| a.kind() == "identifier" && routers.contains(node::text(*a, source)));
            if hands_router {
                model.routes.push(Route {
                    range: call.range(),
                    path: None,
                    handler_name: Some(call.callee_text.clone()),
                    framework: web,
                });
            }
        }
    }

    fn servers<'t>(model: &mut Handlers<'t>, facts: &FileFacts<'t>, source: &str) {
        let drains = |method: &str| {
            frameworks(Language::Go)
                .any(|(entry, _)| entry.shutdown_methods.iter().any(|m| m == method))
        };
        let shutdown = facts
            .calls
            .iter()
            .find(|c| c.method.as_deref().is_some_and(drains))
            .map(|c| Shutdown::Wired(c.range()))
            .unwrap_or(Shutdown::Missing);
        let mut entries = None;
        for (index, call) in facts.calls.iter().enumerate() {
            let serves = call.path.as_deref().is_some_and(|path| {
                KnowledgeBase::builtin().is_in_group(Language::Go, path, PathGroupKind::Serve)
            });
            let fw = match (call.path.as_deref(), call.method.as_deref()) {
                // `http.ListenAndServe` and the other package functions of the kb's `serve` group.
                (Some(_), _) if serves => Framework::NetHttp,
                (None, Some(method)) => {
                    let listed = |names: &[String]| names.iter().any(|n| n == method);
                    let server = frameworks(Language::Go).find(|(entry, _)| {
                        listed(&entry.serve_any)
                            || listed(&entry.serve_methods)
                                && entry.server.as_deref().is_some_and(|server| {
                                    receiver_built_by(facts, call, source, server)
                                })
                    });
                    match server {
                        Some((_, fw)) => fw,
                        None => continue,
                    }
                }
                _ => continue,
            };
            model.servers.push(ServerStart {
                call: index,
                node: call.node,
                function: call.function,
                entry: is_entry(facts, &mut entries, call.function),
                framework: fw,
                shutdown: shutdown.clone(),
                rpc: false,
            });
        }
    }

    /// The receiver is a local whose value was built by an API under `prefix` (`gin.Default()`,
    /// `&http.Server{…}`).
    fn receiver_built_by(
        facts: &FileFacts<'_>,
        call: &crate::facts::Call<'_>,
        source: &str,
        prefix: &str,
    ) -> bool {
        let Some(receiver) = call.receiver else {
            return false;
        };
        if receiver.kind() != "identifier" {
            return false;
        }
        let name = node::text(receiver, source);
        let Some(value) = facts.declared_value(call.function, name, call.node.start_byte()) else {
            return false;
        };
        let range = TextRange::of(value);
        facts
            .calls_within(range)
            .any(|c| c.path.as_deref().is_some_and(|p| p.starts_with(prefix)))
            || facts.literals_within(range).any(|l| {
                l.type_path
                    .as_deref()
                    .is_some_and(|p| p.starts_with(prefix))
            })
    }
}

mod rust {
    use super::*;

    fn web_framework(facts: &FileFacts<'_>) -> Option<Framework> {
        frameworks(Language::Rust).find_map(|(entry, fw)| {
            entry
                .imports
                .iter()
                .any(|m| facts.imports_module(m))
                .then_some(fw)
        })
    }

    /// The module a framework's items come from (`actix_web`), when the knowledge base names one.
    fn module_of(fw: Framework) -> Option<&'static str> {
        frameworks(Language::Rust)
            .find(|(_, f)| *f == fw)
            .and_then(|(entry, _)| entry.imports.first())
            .map(String::as_str)
    }

    pub(super) fn collect<'t>(model: &mut Handlers<'t>, facts: &FileFacts<'t>, source: &str) {
        attributes(model, facts, source);
        if let Some(fw) = web_framework(facts) {
            for call in &facts.calls {
                route_call(model, facts, source, call, fw);
            }
        }
        servers(model, facts, source);
    }

    /// actix `#[get("/x")] async fn h(..)` and tonic `#[tonic::async_trait] impl Greeter for G { .. }`.
    fn attributes<'t>(model: &mut Handlers<'t>, facts: &FileFacts<'t>, source: &str) {
        // `#[tonic::async_trait]` (or `#[async_trait]` in a file importing tonic) marks a service's handlers.
        let trait_attributes: Vec<(&str, bool, Framework)> = frameworks(Language::Rust)
            .filter_map(|(entry, fw)| {
                let attribute = entry.trait_attribute.as_deref()?;
                let (module, _) = attribute.rsplit_once("::")?;
                Some((attribute, facts.imports_module(module), fw))
            })
            .collect();
        let actix = module_of(Framework::ActixWeb);
        let imports_actix = actix.is_some_and(|m| facts.imports_module(m));
        for item in facts.nodes_of_kind(&["attribute_item"]) {
            let Some(attribute) = node::named_children(item).next() else {
                continue;
            };
            let name_node = node::named_children(attribute).next();
            let name = name_node.map(|n| node::text(n, source)).unwrap_or("");
            let Some(target) = next_item(facts, item) else {
                continue;
            };
            let short = name.rsplit("::").next().unwrap_or(name);
            if target.kind() == "function_item"
                && (imports_actix
                    || actix.is_some_and(|m| {
                        name.strip_prefix(m)
                            .is_some_and(|rest| rest.starts_with("::"))
                    }))
                && matches!(
                    short,
                    "get" | "post" | "put" | "patch" | "delete" | "head" | "options" | "route"
                )
            {
                let path = attribute
                    .child_by_field_name("arguments")
                    .and_then(|args| {
                        node::named_children(args).find(|n| n.kind() == "string_literal")
                    })
                    .and_then(|s| node::string_literal_value(s, source, Language::Rust));
                if let Some(index) = facts.function_index(target) {
                    if let Some(p) = &path {
                        model.routes.push(Route {
                            range: TextRange::of(item),
                            path: Some(p.clone()),
                            handler_name: Some(facts.functions[index].name.clone()),
                            framework: Framework::ActixWeb,
                        });
                    }
                    model.add_handler(index, target, path, Framework::ActixWeb);
                }
            }
            let service_trait = trait_attributes.iter().find(|(attribute, imported, _)| {
                name == *attribute || (*imported && attribute.rsplit("::").next() == Some(name))
            });
            if let Some((_, _, fw)) = service_trait.filter(|_| {
                target.kind() == "impl_item" && target.child_by_field_name("trait").is_some()
            }) {
                let Some(body) = target.child_by_field_name("body") else {
                    continue;
                };
                for f in node::named_children(body).filter(|n| n.kind() == "function_item") {
                    if let Some(index) = facts.function_index(f) {
                        model.add_handler(index, f, None, *fw);
                    }
                }
            }
        }
    }

    /// The item an attribute is attached to: the next sibling that is neither an attribute nor a comment.
    fn next_item<'t>(facts: &FileFacts<'t>, item: Node<'t>) -> Option<Node<'t>> {
        let mut next = facts.next_named_sibling(item);
        while let Some(n) = next {
            if n.kind() != "attribute_item" && !n.kind().contains("comment") {
                return Some(n);
            }
            next = facts.next_named_sibling(n);
        }
        None
    }

    fn route_call<'t>(
        model: &mut Handlers<'t>,
        facts: &FileFacts<'t>,
        source: &str,
        call: &crate::facts::Call<'t>,
        fw: Framework,
    ) {
        let name = call.method.clone().unwrap_or_else(|| {
            call.callee_text
                .rsplit("::")
                .next()
                .unwrap_or("")
                .to_string()
        });
        let mounts_elsewhere = match name.as_str() {
            "nest" | "nest_service" | "merge" | "configure" | "fallback_service" => true,
            "service" => call.args.first().is_some_and(|a| {
                function_named(facts, *a, source).is_none() && !is_local_scope(*a, source)
            }),
            _ => false,
        };
        if mounts_elsewhere && call.method.is_some() {
            model.mounts.push(call.range());
            return;
        }
        let (path, handlers_in): (Option<String>, Vec<Node<'t>>) = match name.as_str() {
            // axum `.route("/x", get(h))`, actix `.route("/x", web::get().to(h))`.
            "route" if call.args.len() >= 2 => (
                call.string_arg(0, source, Language::Rust),
                call.args[1..].to_vec(),
            ),
            // actix `web::resource("/x").route(web::get().to(h))`.
            "resource" if call.method.is_none() => {
                let index = facts.call_index(call.node);
                let chained: Vec<Node<'t>> = index
                    .map(|i| {
                        chain(facts, i)
                            .iter()
                            .flat_map(|c| c.args.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                (call.string_arg(0, source, Language::Rust), chained)
            }
            // warp `warp::path("health")`.
            "path" if fw == Framework::Warp && call.method.is_none() => {
                if let Some(segment) = call.string_arg(0, source, Language::Rust) {
                    model.routes.push(Route {
                        range: call.range(),
                        path: Some(format!("/{segment}")),
                        handler_name: None,
                        framework: fw,
                    });
                }
                return;
            }
            "and_then" if fw == Framework::Warp => {
                if let Some(h) = call
                    .args
                    .first()
                    .and_then(|a| function_named(facts, *a, source))
                {
                    model.add_handler(h, facts.functions[h].node, None, fw);
                }
                return;
            }
            _ => return,
        };
        // actix resources inside a `web::scope` are relative ("", "{id}").
        let Some(path) = path.filter(|p| p.starts_with('/') || name == "resource") else {
            return;
        };
        let mut names = Vec::new();
        for arg in handlers_in {
            for inner in node::descendants(arg).filter(|n| n.kind() == "call_expression") {
                let Some(callee) = inner.child_by_field_name("function") else {
                    continue;
                };
                let last = match callee.kind() {
                    "field_expression" => callee.child_by_field_name("field"),
                    "scoped_identifier" => callee.child_by_field_name("name"),
                    _ => Some(callee),
                };
                // `use axum::routing::post as axum_post`: the name the import stands for.
                let method = last.map(|l| {
                    let written = node::text(l, source);
                    facts
                        .import(written)
                        .and_then(|i| i.path.rsplit("::").next())
                        .unwrap_or(written)
                });
                if !method.is_some_and(|m| is_route_method(Language::Rust, m)) {
                    continue;
                }
                let args = inner.child_by_field_name("arguments");
                for a in args.iter().flat_map(|a| node::named_children(*a)) {
                    names.push(node::text(a, source).to_string());
                    if let Some(h) = function_named(facts, a, source) {
                        model.add_handler(h, facts.functions[h].node, Some(path.clone()), fw);
                    }
                }
            }
        }
        model.routes.push(Route {
            range: call.range(),
            path: Some(path),
            handler_name: names.into_iter().next(),
            framework: fw,
        });
    }

    /// actix `web::scope("/api").route(…)` / `web::resource(…)` written in place: its routes are in this file.
    fn is_local_scope(arg: Node<'_>, source: &str) -> bool {
        node::descendants(arg).any(|n| {
            n.kind() == "call_expression"
                && n.child_by_field_name("function").is_some_and(|f| {
                    let text = node::text(f, source);
                    text.ends_with("scope") || text.ends_with("resource")
                })
        })
    }

    fn servers<'t>(model: &mut Handlers<'t>, facts: &FileFacts<'t>, _source: &str) {
        let mut entries = None;
        for (index, call) in facts.calls.iter().enumerate() {
            let Some(path) = call.path.as_deref() else {
                continue;
            };
            let Some((fw, start)) = frameworks(Language::Rust).find_map(|(entry, fw)| {
                let start = entry
                    .server_chain
                    .iter()
                    .find(|start| start.starts_at(path))?;
                Some((fw, start))
            }) else {
                continue;
            };
            let links = chain(facts, index);
            let on_chain = |names: &[String]| {
                links.iter().find(|c| {
                    c.method
                        .as_deref()
                        .is_some_and(|m| ServerChain::names(names, m))
                })
            };
            if !start.serves_with.is_empty() && on_chain(&start.serves_with).is_none() {
                continue;
            }
            let shutdown = match (on_chain(&start.shutdown), &start.default_shutdown) {
                (Some(wired), _) => Shutdown::Wired(wired.range()),
                (None, Some(default)) if on_chain(&start.default_off).is_none() => {
                    Shutdown::LibraryDefault(default)
                }
                (None, _) => Shutdown::Missing,
            };
            let rpc = start.rpc;
            model.servers.push(ServerStart {
                call: index,
                node: call.node,
                function: call.function,
                entry: is_entry(facts, &mut entries, call.function),
                framework: fw,
                shutdown,
                rpc,
            });
        }
    }
}

mod typescript {
    use super::*;

    /// Modules whose import makes `x.get("/path", handler)` a route registration: the first of the
    /// knowledge base's modules, in table order, that the file imports.
    fn web_framework(facts: &FileFacts<'_>) -> Option<Framework> {
        frameworks(Language::TypeScript)
            .flat_map(|(entry, fw)| entry.imports.iter().map(move |m| (m, fw)))
            .find(|(m, _)| facts.imports_module(m))
            .map(|(_, fw)| fw)
    }

    pub(super) fn collect<'t>(
        model: &mut Handlers<'t>,
        facts: &FileFacts<'t>,
        source: &str,
        root: Node<'t>,
        path: &Path,
    ) {
        route_file(model, facts, source, root, path);
        nest(model, facts, source);
        let Some(fw) = web_framework(facts) else {
            return;
        };
        for call in &facts.calls {
            let Some(method) = call.method.as_deref() else {
                continue;
            };
            if !is_route_method(Language::TypeScript, method) {
                continue;
            }
            if method == "route" {
                fastify_route(model, facts, source, call, fw);
                continue;
            }
            // `app.use(router)`, `app.use("/api", api)`: routes defined elsewhere. `app.use(cors())` is middleware.
            if method == "use"
                && call
                    .args
                    .iter()
                    .any(|a| matches!(a.kind(), "identifier" | "member_expression"))
            {
                model.mounts.push(call.range());
            }
            // fastify `app.register(plugin, { prefix })`: a plugin's routes live where it is written.
            if method == "register" {
                if call
                    .args
                    .first()
                    .is_some_and(|a| function_named(facts, *a, source).is_none())
                {
                    model.mounts.push(call.range());
                }
                continue;
            }
            if call.args.len() < 2 {
                continue;
            }
            let Some(route) = call.string_arg(0, source, Language::TypeScript) else {
                continue;
            };
            if !route.starts_with('/') {
                continue;
            }
            let handler_args = &call.args[1..];
            if !handler_args.iter().any(|a| {
                matches!(
                    a.kind(),
                    "arrow_function"
                        | "function_expression"
                        | "function"
                        | "identifier"
                        | "member_expression"
                        | "call_expression"
                )
            }) {
                continue;
            }
            model.routes.push(Route {
                range: call.range(),
                path: Some(route.clone()),
                handler_name: handler_args
                    .last()
                    .filter(|a| matches!(a.kind(), "identifier" | "member_expression"))
                    .map(|a| node::text(*a, source).to_string()),
                framework: fw,
            });
            if method == "use" {
                continue;
            }
            // The last function is the handler; the ones before it are middleware.
            if let Some(h) = handler_args
                .iter()
                .rev()
                .find_map(|a| function_named(facts, *a, source))
            {
                model.add_handler(h, facts.functions[h].node, Some(route.clone()), fw);
            }
        }
        servers(model, facts, source, fw);
    }

    /// fastify `app.route({ method: "GET", url: "/x", handler })`.
    fn fastify_route<'t>(
        model: &mut Handlers<'t>,
        facts: &FileFacts<'t>,
        source: &str,
        call: &crate::facts::Call<'t>,
        fw: Framework,
    ) {
        let Some(object) = call.args.first() else {
            return;
        };
        let Some(literal) = facts.literal_of(*object) else {
            return;
        };
        let Some(url) = literal
            .field("url")
            .or_else(|| literal.field("path"))
            .and_then(|f| f.value)
            .and_then(|v| node::string_literal_value(v, source, Language::TypeScript))
        else {
            return;
        };
        let handler = literal.field("handler");
        model.routes.push(Route {
            range: call.range(),
            path: Some(url.clone()),
            handler_name: handler
                .and_then(|f| f.value)
                .filter(|v| v.kind() == "identifier")
                .map(|v| node::text(v, source).to_string()),
            framework: fw,
        });
        let target = handler.and_then(|f| f.value.or(Some(f.node)));
        if let Some(h) = target.and_then(|v| function_named(facts, v, source)) {
            model.add_handler(h, facts.functions[h].node, Some(url), fw);
        }
    }

    /// Next.js `app/**/route.ts` (and Medusa `api/**/route.ts`): exported functions named like HTTP methods;
    /// Next.js `pages/api/**`: the default export.
    fn route_file<'t>(
        model: &mut Handlers<'t>,
        facts: &FileFacts<'t>,
        source: &str,
        root: Node<'t>,
        path: &Path,
    ) {
        let components: Vec<String> = path
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let is_route_file = stem == "route";
        let pages_api = components
            .windows(2)
            .position(|w| w[0] == "pages" && w[1] == "api");
        if !is_route_file && pages_api.is_none() {
            return;
        }
        let route = if is_route_file {
            let start = components
                .iter()
                .rposition(|c| c == "app" || c == "api")
                .map(|i| if components[i] == "api" { i } else { i + 1 })
                .unwrap_or(0);
            let dirs = &components[start..components.len().saturating_sub(1)];
            format!("/{}", dirs.join("/"))
        } else {
            let start = pages_api.unwrap_or(0) + 1;
            let mut parts: Vec<String> = components[start..].to_vec();
            if let Some(last) = parts.last_mut() {
                *last = stem.to_string();
            }
            format!("/{}", parts.join("/"))
        };
        // The root's children by a cursor (`named_child(i)` steps from the first child each time).
        let mut cursor = root.walk();
        for export in root
            .named_children(&mut cursor)
            .filter(|n| n.kind() == "export_statement")
        {
            let is_default = (0..export.child_count())
                .filter_map(|i| export.child(i))
                .any(|c| c.kind() == "default");
            let declaration = export
                .child_by_field_name("declaration")
                .or_else(|| export.child_by_field_name("value"));
            let Some(declaration) = declaration else {
                continue;
            };
            let mut targets: Vec<(Option<String>, Node<'t>)> = Vec::new();
            match declaration.kind() {
                "function_declaration" | "function_expression" | "arrow_function" => {
                    let name = declaration
                        .child_by_field_name("name")
                        .map(|n| node::text(n, source).to_string());
                    targets.push((name, declaration));
                }
                "lexical_declaration" | "variable_declaration" => {
                    for declarator in node::named_children(declaration) {
                        let name = declarator
                            .child_by_field_name("name")
                            .map(|n| node::text(n, source).to_string());
                        if let Some(value) = declarator.child_by_field_name("value") {
                            targets.push((name, value));
                        }
                    }
                }
                "identifier" if is_default => {
                    targets.push((None, declaration));
                }
                _ => {}
            }
            for (name, target) in targets {
                let wanted = if is_route_file {
                    name.as_deref().and_then(Method::from_token).is_some()
                } else {
                    is_default
                };
                if !wanted {
                    continue;
                }
                let Some(index) = function_named(facts, target, source) else {
                    continue;
                };
                let fw = if is_route_file {
                    Framework::RouteFile
                } else {
                    Framework::NextPagesApi
                };
                model.routes.push(Route {
                    range: TextRange::of(export),
                    path: Some(route.clone()),
                    handler_name: name.clone(),
                    framework: fw,
                });
                model.add_handler(index, facts.functions[index].node, Some(route.clone()), fw);
            }
        }
    }

    /// NestJS: methods decorated `@Get()`/`@Post(':id')`/… in a class decorated `@Controller(prefix)`.
    fn nest<'t>(model: &mut Handlers<'t>, facts: &FileFacts<'t>, source: &str) {
        // The decorators come from the framework's first module (`@nestjs/common`).
        let decorators = frameworks(Language::TypeScript)
            .find(|(_, fw)| *fw == Framework::Nest)
            .and_then(|(entry, _)| entry.imports.first());
        if !decorators.is_some_and(|m| facts.imports_module(m)) {
            return;
        }
        for class in facts.nodes_of_kind(&["class_declaration"]) {
            let mut cursor = class.walk();
            let controller = class
                .children_by_field_name("decorator", &mut cursor)
                .find_map(|d| decorator(d, source).filter(|(name, _)| name == "Controller"));
            let controller = controller.or_else(|| {
                // `export @Controller() class …` / decorators before `export`.
                facts
                    .parent(class)
                    .filter(|p| p.kind() == "export_statement")
                    .and_then(|p| {
                        let mut c = p.walk();
                        let found = p.children_by_field_name("decorator", &mut c).find_map(|d| {
                            decorator(d, source).filter(|(name, _)| name == "Controller")
                        });
                        found
                    })
            });
            let Some((_, prefix)) = controller else {
                continue;
            };
            let Some(body) = class.child_by_field_name("body") else {
                continue;
            };
            let mut pending: Option<String> = None;
            for member in node::named_children(body) {
                match member.kind() {
                    "decorator" => {
                        if let Some((name, arg)) = decorator(member, source) {
                            if Method::from_name(&name).is_some() || name == "All" {
                                pending = Some(join_route(prefix.as_deref(), arg.as_deref()));
                            }
                        }
                    }
                    "method_definition" => {
                        if let Some(route) = pending.take() {
                            if let Some(index) = facts.function_index(member) {
                                model.routes.push(Route {
                                    range: TextRange::of(member),
                                    path: Some(route.clone()),
                                    handler_name: Some(facts.functions[index].name.clone()),
                                    framework: Framework::Nest,
                                });
                                model.add_handler(index, member, Some(route), Framework::Nest);
                            }
                        }
                    }
                    _ => pending = None,
                }
            }
        }
    }

    fn join_route(prefix: Option<&str>, path: Option<&str>) -> String {
        let parts: Vec<&str> = [prefix, path]
            .into_iter()
            .flatten()
            .map(|p| p.trim_matches('/'))
            .filter(|p| !p.is_empty())
            .collect();
        format!("/{}", parts.join("/"))
    }

    /// `@Name('arg')` / `@Name()` / `@Name` → (name, first string argument).
    fn decorator(d: Node<'_>, source: &str) -> Option<(String, Option<String>)> {
        let inner = node::named_children(d).next()?;
        match inner.kind() {
            "identifier" => Some((node::text(inner, source).to_string(), None)),
            "call_expression" => {
                let name = node::text(inner.child_by_field_name("function")?, source).to_string();
                let arg = inner
                    .child_by_field_name("arguments")
                    .and_then(|a| node::named_children(a).next())
                    .and_then(|a| node::string_literal_value(a, source, Language::TypeScript));
                Some((name, arg))
            }
            _ => None,
        }
    }

    fn servers<'t>(model: &mut Handlers<'t>, facts: &FileFacts<'t>, source: &str, fw: Framework) {
        let shutdown = shutdown(facts, source);
        for (index, call) in facts.calls.iter().enumerate() {
            let starts = call.method.as_deref() == Some("listen")
                || call
                    .path
                    .as_deref()
                    .is_some_and(|p| p == "@hono/node-server.serve");
            if !starts {
                continue;
            }
            // `emitter.listen("event")`, `socket.listen()` without a port are not servers.
            if call.args.is_empty() && call.method.is_some() {
                continue;
            }
            model.servers.push(ServerStart {
                call: index,
                node: call.node,
                function: call.function,
                entry: true,
                framework: fw,
                shutdown: shutdown.clone(),
                rpc: false,
            });
        }
    }

    /// `process.on("SIGTERM", () => server.close(…))`, NestJS `app.enableShutdownHooks()`, or a graceful
    /// shutdown library (`@godaddy/terminus`, `http-terminator`, `stoppable`, `close-with-grace`,
    /// `http-graceful-shutdown`).
    fn shutdown(facts: &FileFacts<'_>, source: &str) -> Shutdown {
        for call in &facts.calls {
            let callee = call.callee_text.as_str();
            if call.method.as_deref() == Some("enableShutdownHooks")
                || matches!(
                    callee,
                    "createTerminus"
                        | "createHttpTerminator"
                        | "stoppable"
                        | "closeWithGrace"
                        | "gracefulShutdown"
                )
            {
                return Shutdown::Wired(call.range());
            }
            let on_signal = matches!(
                call.path.as_deref(),
                Some("process.on" | "process.once" | "process.addListener")
            ) && call
                .string_arg(0, source, Language::TypeScript)
                .is_some_and(|s| s == "SIGTERM" || s == "SIGINT");
            if !on_signal {
                continue;
            }
            let Some(listener) = call.args.get(1) else {
                continue;
            };
            let range = TextRange::of(*listener);
            let closes = facts.calls_within(range).any(|c| {
                matches!(
                    c.method.as_deref(),
                    Some("close" | "stop" | "shutdown" | "terminate" | "closeAllConnections")
                )
            });
            // A listener that is a named function of the file: look inside it (any of that name, as
            // `const gracefulShutdown = …` may be declared once per branch).
            let listener_name = node::text(*listener, source);
            let named = listener.kind() == "identifier"
                && facts.functions_named(listener_name).any(|f| {
                    facts.functions[f].name == listener_name
                        && facts.calls_in(f).any(|c| {
                            matches!(
                                c.method.as_deref(),
                                Some("close" | "stop" | "shutdown" | "terminate")
                            )
                        })
                });
            if closes || named {
                return Shutdown::Wired(call.range());
            }
        }
        Shutdown::Missing
    }
}

#[cfg(test)]
mod tests;
