//! HTTP clients and requests, and whether each is bounded in time: the one question RES001 (and any rule that
//! needs to know "does this client have a timeout?") asks, [`Clients::timeout_of`], answered for Go, Rust and
//! TypeScript from the knowledge base's `[[http_client]]` tables and `[[api]]` entries. [`Clients::compute`]
//! finds the sites the question is about — a request on a library's default client (`http.Get`,
//! `reqwest::get`, `axios.get`, `http.request`, `fetch`), a client or instance made with defaults, a builder, a
//! Go `http.Client{…}` literal, `http.DefaultClient` handed on as a value, a team's own wrapper declared
//! `timeout = "none"` — and judges each: what a chain of builder calls does to a timeout (sets it, turns it off,
//! bounds only connecting) as the kb's `timeout` entries say, whether every request made through a client
//! binding is bounded on its own while the client goes nowhere else, how a Go request is bounded by the context
//! it was built with, and how an options or config argument bounds a TypeScript request.

use dsr_core::kb::{ApiRole, ApiTimeout, ClientShape, Construct, HttpClient, KnowledgeBase};
use dsr_syntax::{node, Language};
use tree_sitter::Node;

use crate::facts::{
    Binding, Call, ChainLink, ContextDeadline, ContextKind, FileFacts, Literal, Origin,
};
use crate::kb::KbMatch;
use crate::models::callers;

/// The answer to "is this client or request bounded in time?".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientTimeout<'t> {
    /// Bounded: by the node that bounds it when one does (a `Timeout` field, a context with a deadline), else by
    /// what the knowledge base declares, a builder call, a later `setTimeout`, or a bound on every request made
    /// through the client.
    Set(Option<Node<'t>>),
    /// Nothing bounds it, and the library has no bound by default: why.
    Missing(Why<'t>),
    /// Bounded, if at all, by what the file does not show (`from`); `why` says what the client or request itself
    /// lacks.
    Unknown { why: Why<'t>, from: Elsewhere<'t> },
}

/// What a client or request itself says about its bound, when it sets none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why<'t> {
    /// Nothing sets one.
    NoTimeout,
    /// A bound set to `0`, which means none (the value).
    Zero(Node<'t>),
    /// `.timeout(None)`: turned off (the call).
    Disabled(Node<'t>),
    /// Only connecting is bounded (`.connect_timeout(d)`; the call).
    ConnectOnly(Node<'t>),
    /// A Go request built on a context without a deadline (where the context comes from).
    NoDeadline(Node<'t>),
}

/// Where the bound of an [`ClientTimeout::Unknown`] would come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elsewhere<'t> {
    /// A value the file does not show: a context, options or config from a parameter, a spread or a call (the
    /// node it comes from, when one says).
    Value(Option<Node<'t>>),
    /// The requests made through the client are bounded by what their callers pass in.
    Requests,
    /// The library's own default bound (`reqwest::blocking`, 30 s): whether it fits is the caller's budget.
    LibraryDefault,
    /// A builder that leaves the function before it is built.
    UnfinishedBuilder,
    /// Options a wrapper's callers pass it, every caller in the file, some with a bound and some without: each
    /// call without one is a site of its own ([`Subject::ThroughWrapper`]).
    Callers,
}

/// What a site is, with what a finding about it needs to say where a bound would go.
#[derive(Clone, Copy, Debug)]
pub enum Subject<'t> {
    /// A remote call the knowledge base declares `timeout = "none"` that no client library's shape covers (a
    /// team's own wrapper).
    Declared,
    /// Go: a package-level call on the default client (`http.Get`).
    GoPackageCall,
    /// Go: a call on the default client written out (`http.DefaultClient.Get`); `prepared` for one that sends a
    /// request built beforehand (`Do(req)`).
    GoDefaultClientCall { prepared: bool },
    /// Go: the default client used as a value — kept, stored, passed on — rather than called (the selector).
    GoDefaultClientValue,
    /// Go: a client literal (`http.Client{…}`; the literal node).
    GoClientLiteral,
    /// Rust: a request on a default client (`reqwest::get`, `ureq::get`).
    RustRequest,
    /// Rust: a client made with defaults (`reqwest::Client::new()`).
    RustClient,
    /// Rust: a client builder; `build`, the call that finishes it, when the file shows one.
    RustBuilder { build: Option<ChainLink<'t>> },
    /// `fetch(resource, init)`.
    Fetch,
    /// Node's `http(s).request/get`: its URL and options arguments, as far as the file tells them apart.
    NodeRequest {
        url: Option<Node<'t>>,
        options: Option<Node<'t>>,
    },
    /// A request with a config argument on a library's default instance (`axios.get(url, config)`): where the
    /// config goes.
    ConfigRequest { config_index: usize },
    /// An instance made with a config of its own (`axios.create(config)`).
    Instance,
    /// A call of a same-file wrapper that hands one of its parameters, as the options, to a library request
    /// (`request`), passing options without a bound while another call of the wrapper passes one
    /// (`bounded_by`, that call's argument); `option` is the option that bounds the request (`signal`,
    /// `timeout`).
    ThroughWrapper {
        request: &'t Call<'t>,
        bounded_by: Node<'t>,
        option: &'t str,
    },
}

/// One client or request whose bound in time the file decides, and the answer.
#[derive(Clone, Copy, Debug)]
pub struct Site<'t> {
    /// The call, literal or expression the answer is about (what [`Clients::timeout_of`] takes).
    pub node: Node<'t>,
    /// The call, for call sites.
    pub call: Option<&'t Call<'t>>,
    /// The canonical path of the API or type, for its knowledge-base entry.
    pub path: &'t str,
    pub subject: Subject<'t>,
    pub timeout: ClientTimeout<'t>,
    /// The options or config object literal the file shows, where a bound would go.
    pub options: Option<Node<'t>>,
}

/// The clients and requests of a file, each with whether it is bounded in time.
#[derive(Debug, Default)]
pub struct Clients<'t> {
    sites: Vec<Site<'t>>,
    /// The id of each site's node → its first site: `timeout_of` is asked per call.
    by_node: rustc_hash::FxHashMap<usize, usize>,
}

impl<'t> Clients<'t> {
    pub fn compute(facts: &'t FileFacts<'t>, kb: &'t KnowledgeBase, source: &'t str) -> Self {
        let mut judge = Judge {
            facts,
            kb,
            source,
            sites: Vec::new(),
            defaults_bounded: Vec::new(),
        };
        match facts.language {
            Language::Go => judge.go(),
            Language::Rust => judge.rust(),
            Language::TypeScript | Language::Tsx => judge.typescript(),
            Language::Sql => {}
        }
        let mut by_node = rustc_hash::FxHashMap::default();
        for (index, site) in judge.sites.iter().enumerate() {
            by_node.entry(site.node.id()).or_insert(index);
        }
        Clients {
            sites: judge.sites,
            by_node,
        }
    }

    /// Every site, in the order of the file's calls (then Go's literals and default-client values).
    pub fn sites(&self) -> &[Site<'t>] {
        &self.sites
    }

    /// Whether the client or request made at `node` (a call, a Go client literal, `http.DefaultClient` as a
    /// value) is bounded in time; `None` for a node that makes no client or request the knowledge base knows.
    pub fn timeout_of(&self, node: Node<'_>) -> Option<ClientTimeout<'t>> {
        self.by_node
            .get(&node.id())
            .map(|&index| self.sites[index].timeout)
    }
}

struct Judge<'t> {
    facts: &'t FileFacts<'t>,
    kb: &'t KnowledgeBase,
    source: &'t str,
    sites: Vec<Site<'t>>,
    /// Per library client (by address), whether this file sets its defaults' timeout: asked per request on
    /// the default instance, answered by one scan of the assignments.
    defaults_bounded: Vec<(*const HttpClient, bool)>,
}

impl<'t> Judge<'t> {
    fn push(
        &mut self,
        node: Node<'t>,
        call: Option<&'t Call<'t>>,
        path: &'t str,
        subject: Subject<'t>,
        timeout: ClientTimeout<'t>,
    ) {
        self.sites.push(Site {
            node,
            call,
            path,
            subject,
            timeout,
            options: None,
        });
    }

    fn push_call(
        &mut self,
        call: &'t Call<'t>,
        path: &'t str,
        subject: Subject<'t>,
        timeout: ClientTimeout<'t>,
    ) {
        self.push(call.node, Some(call), path, subject, timeout);
    }

    /// The knowledge base (the user's `[[effects]]` first) says the API at `path` sets a timeout itself.
    fn declared_bounded(&self, path: &str) -> bool {
        self.kb
            .api(self.facts.language, path)
            .is_some_and(|a| a.timeout == Some(ApiTimeout::Set))
    }

    /// A remote call the knowledge base marks `timeout = "none"` that no library shape covers.
    fn declared_unbounded(&mut self, call: &'t Call<'t>, path: &'t str) {
        let declared = self
            .kb
            .api(self.facts.language, path)
            .is_some_and(|a| a.remote && a.timeout == Some(ApiTimeout::None));
        if declared {
            self.push_call(
                call,
                path,
                Subject::Declared,
                ClientTimeout::Missing(Why::NoTimeout),
            );
        }
    }
}

/// How the requests made through a client are bounded on their own (weakest first is the largest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RequestBound {
    Bounded,
    /// Bounded by something passed in (a caller's context or options): an open question.
    Elsewhere,
    Unbounded,
}

/// What a chain of builder calls does to a client's or request's timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuilderTimeout<'t> {
    /// A call that bounds the whole response (`.timeout(d)`, `timeout_global(Some(d))`).
    Set,
    /// `.timeout(None)`: explicitly none (the call node).
    Disabled(Node<'t>),
    /// Only connecting is bounded (`.connect_timeout(d)`; the call node).
    ConnectOnly(Node<'t>),
    Absent,
}

/// What the builder `links` of a `module`'s client or request (`reqwest`, `ureq`) do to its timeout: the last
/// call that sets or disables one wins; a connect-only bound counts when nothing else is set.
pub fn builder_timeout<'t>(
    facts: &FileFacts<'t>,
    kb: &KnowledgeBase,
    source: &str,
    module: &str,
    links: &[ChainLink<'t>],
) -> BuilderTimeout<'t> {
    let mut result = BuilderTimeout::Absent;
    for link in links {
        let name = node::text(link.method, source);
        let Some(api) = kb.method_of(facts.language, module, name) else {
            continue;
        };
        match api.timeout {
            Some(ApiTimeout::Set) => {
                let disabled = facts.call_of(link.call).is_some_and(|c| {
                    c.args.len() == 1 && node::text(c.args[0], source).trim() == "None"
                });
                result = if disabled {
                    BuilderTimeout::Disabled(link.call)
                } else {
                    BuilderTimeout::Set
                };
            }
            Some(ApiTimeout::Connect) if result == BuilderTimeout::Absent => {
                result = BuilderTimeout::ConnectOnly(link.call)
            }
            _ => {}
        }
    }
    result
}

/// A client without a timeout of its own is fine when every request made through it in the file is bounded,
/// at least one is, and the client goes nowhere else. `Elsewhere` when the weakest of them depends on callers.
/// `judge` gives `None` for calls on the client that send nothing (`CloseIdleConnections`).
pub fn requests_through<'t>(
    facts: &FileFacts<'t>,
    source: &str,
    binding: Option<&Binding>,
    judge: impl Fn(&Call<'t>) -> Option<RequestBound>,
) -> RequestBound {
    let Some(binding) = binding else {
        return RequestBound::Unbounded;
    };
    let weakest = facts
        .calls_on(binding)
        .filter_map(judge)
        .max()
        .unwrap_or(RequestBound::Unbounded);
    // Whether the client escapes is the costly question (a walk over its scope): ask it last.
    if weakest == RequestBound::Unbounded || facts.escapes(binding, source) {
        return RequestBound::Unbounded;
    }
    weakest
}

/// How a Go request value (the argument of `client.Do(req)`) is bounded by its context, with the node the
/// context comes from: built by a request constructor whose `ctx` argument (kb `params`) has a deadline, from
/// the caller (a parameter), or with none; a constructor the kb declares without a `ctx` gives an unbounded
/// request. `req.WithContext(ctx)` and `req.Clone(ctx)` carry their argument's context.
pub fn go_request_bound<'t>(
    facts: &FileFacts<'t>,
    kb: &KnowledgeBase,
    source: &str,
    request: Option<Node<'t>>,
) -> (RequestBound, Option<Node<'t>>) {
    let mut current = request;
    for _ in 0..8 {
        let Some(expr) = current else {
            break;
        };
        match expr.kind() {
            "identifier" => {
                let function = facts.function_at(expr.start_byte());
                match facts.origin_of(function, node::text(expr, source), expr.start_byte()) {
                    Origin::Value(value) => current = Some(value),
                    Origin::Parameter { .. } => return (RequestBound::Elsewhere, Some(expr)),
                    Origin::Unknown => break,
                }
            }
            "call_expression" => {
                let Some(call) = facts.call_of(expr) else {
                    break;
                };
                let constructor = kb
                    .call(facts, call)
                    .filter(|api| api.role == Some(ApiRole::Request) && !api.params.is_empty());
                let context = match constructor {
                    Some(api) => match api.param("ctx") {
                        Some(at) => call.args.get(at).copied(),
                        None => return (RequestBound::Unbounded, Some(expr)),
                    },
                    None if call.method.as_deref().is_some_and(|m| {
                        kb.http_clients(facts.language)
                            .any(|c| c.context_methods.iter().any(|n| n == m))
                    }) =>
                    {
                        call.args.first().copied()
                    }
                    None => break,
                };
                let Some(context) = context else { break };
                return match facts.go_context_deadline(context, source) {
                    ContextDeadline::Set(at) => (RequestBound::Bounded, Some(at)),
                    ContextDeadline::FromCaller(at) => (RequestBound::Elsewhere, Some(at)),
                    ContextDeadline::Absent(at) => (RequestBound::Unbounded, Some(at)),
                    ContextDeadline::Unknown => (RequestBound::Elsewhere, Some(context)),
                };
            }
            _ => break,
        }
    }
    (RequestBound::Elsewhere, None)
}

// ----- Rust: reqwest, ureq ----------------------------------------------------------------------------------

impl<'t> Judge<'t> {
    fn rust(&mut self) {
        let (facts, kb, source) = (self.facts, self.kb, self.source);
        for call in &facts.calls {
            let Some(path) = call.path.as_deref() else {
                continue;
            };
            if self.declared_bounded(path) {
                continue;
            }
            let api = kb.api(Language::Rust, path);
            let Some(kind) = api.and_then(|a| a.constructs) else {
                self.declared_unbounded(call, path);
                continue;
            };
            let module = path.split("::").next().unwrap_or(path);
            // The blocking client gives up after 30 s unless told otherwise: bounded, if perhaps not enough.
            let library_default = api
                .and_then(|a| a.timeout.as_ref())
                .is_some_and(ApiTimeout::bounds_by_default);
            let unbounded = |why: Why<'t>, requests: RequestBound| {
                if library_default {
                    ClientTimeout::Unknown {
                        why,
                        from: Elsewhere::LibraryDefault,
                    }
                } else if requests == RequestBound::Elsewhere {
                    ClientTimeout::Unknown {
                        why,
                        from: Elsewhere::Requests,
                    }
                } else {
                    ClientTimeout::Missing(why)
                }
            };
            let chain = facts.method_chain(call.node);
            let (subject, timeout) = match kind {
                Construct::Request => {
                    let timeout = match builder_timeout(facts, kb, source, module, &chain) {
                        BuilderTimeout::Set => ClientTimeout::Set(None),
                        BuilderTimeout::Disabled(at) => ClientTimeout::Missing(Why::Disabled(at)),
                        BuilderTimeout::ConnectOnly(at) => {
                            unbounded(Why::ConnectOnly(at), RequestBound::Unbounded)
                        }
                        BuilderTimeout::Absent => {
                            unbounded(Why::NoTimeout, RequestBound::Unbounded)
                        }
                    };
                    (Subject::RustRequest, timeout)
                }
                Construct::Client => {
                    let client = facts.binding_of(call.node, source);
                    let timeout =
                        match rust_requests_through(facts, kb, source, module, client.as_ref()) {
                            RequestBound::Bounded => ClientTimeout::Set(None),
                            requests => unbounded(Why::NoTimeout, requests),
                        };
                    (Subject::RustClient, timeout)
                }
                Construct::Builder => {
                    let (build, timeout) = self.rust_builder(call, module, &chain);
                    let timeout = match timeout {
                        BuiltTimeout::Judged(timeout) => timeout,
                        BuiltTimeout::Unbounded(why, requests) => unbounded(why, requests),
                    };
                    (Subject::RustBuilder { build }, timeout)
                }
            };
            self.push_call(call, path, subject, timeout);
        }
    }

    /// A client builder: what its chain up to `.build()` does to the timeout, where it is finished (in the chain,
    /// or later through the variable holding the builder), and how the requests through the built client are
    /// bounded.
    fn rust_builder(
        &self,
        call: &'t Call<'t>,
        module: &str,
        chain: &[ChainLink<'t>],
    ) -> (Option<ChainLink<'t>>, BuiltTimeout<'t>) {
        let (facts, kb, source) = (self.facts, self.kb, self.source);
        let is_build = |link: &ChainLink<'_>| node::text(link.method, source) == "build";
        let build = chain.iter().position(is_build);
        let configured = &chain[..build.unwrap_or(chain.len())];
        let why = match builder_timeout(facts, kb, source, module, configured) {
            BuilderTimeout::Set => return (None, BuiltTimeout::Judged(ClientTimeout::Set(None))),
            BuilderTimeout::Disabled(at) => {
                return (
                    None,
                    BuiltTimeout::Judged(ClientTimeout::Missing(Why::Disabled(at))),
                )
            }
            BuilderTimeout::ConnectOnly(at) => Why::ConnectOnly(at),
            BuilderTimeout::Absent => Why::NoTimeout,
        };
        let unfinished = BuiltTimeout::Judged(ClientTimeout::Unknown {
            why,
            from: Elsewhere::UnfinishedBuilder,
        });
        let (build_link, client) = match build {
            Some(index) => (chain[index], facts.binding_of(chain[index].call, source)),
            None => {
                // A builder kept in a variable and configured step by step.
                let end = chain.last().map_or(call.node, |l| l.call);
                let Some(builder) = facts.binding_of(end, source) else {
                    let judged = self
                        .returned_builder(end, module, why)
                        .or_else(|| self.builder_through_closure(end, module, why));
                    return (None, judged.unwrap_or(unfinished));
                };
                let mut later_build = None;
                for step in facts.calls_on(&builder) {
                    let mut links = vec![ChainLink {
                        call: step.node,
                        method: step
                            .callee
                            .child_by_field_name("field")
                            .unwrap_or(step.callee),
                    }];
                    links.extend(facts.method_chain(step.node));
                    if builder_timeout(facts, kb, source, module, &links) == BuilderTimeout::Set {
                        return (None, BuiltTimeout::Judged(ClientTimeout::Set(None)));
                    }
                    if later_build.is_none() {
                        later_build = links.iter().find(|l| is_build(l)).copied();
                    }
                }
                match later_build {
                    Some(link) => (link, facts.binding_of(link.call, source)),
                    None => return (None, unfinished),
                }
            }
        };
        let timeout = match rust_requests_through(facts, kb, source, module, client.as_ref()) {
            RequestBound::Bounded => BuiltTimeout::Judged(ClientTimeout::Set(None)),
            requests => BuiltTimeout::Unbounded(why, requests),
        };
        (Some(build_link), timeout)
    }
}

/// The calls in the file of the function whose parameter `value` is, with what each passes for it.
fn parameter_callers<'t>(
    facts: &'t FileFacts<'t>,
    source: &str,
    value: Node<'t>,
) -> Option<(usize, Vec<callers::CallerArgument<'t>>)> {
    if value.kind() != "identifier" {
        return None;
    }
    let Origin::Parameter { function, index } = facts.origin_of(
        facts.function_at(value.start_byte()),
        node::text(value, source),
        value.start_byte(),
    ) else {
        return None;
    };
    let callers = callers::callers_passing(facts, source, function, index);
    (!callers.is_empty()).then_some((function, callers))
}

impl<'t> Judge<'t> {
    /// A builder a helper of the file returns unfinished (`fn base() -> ClientBuilder { Client::builder()… }`),
    /// judged at the helper's calls, each of which continues the chain: bounded when every call sets a timeout;
    /// one that turns it off, or builds the client without one, decides it; otherwise (a call that hands the
    /// builder on) the open question stays.
    fn returned_builder(
        &self,
        end: Node<'t>,
        module: &str,
        why: Why<'t>,
    ) -> Option<BuiltTimeout<'t>> {
        let (facts, kb, source) = (self.facts, self.kb, self.source);
        let function = facts.function_at(end.start_byte())?;
        if !callers::returned_values(facts, function)
            .iter()
            .any(|v| v.id() == end.id())
        {
            return None;
        }
        let calls = callers::calls_of(facts, source, function);
        if calls.is_empty() {
            return None;
        }
        let mut every_call_sets = true;
        for call in calls {
            let links = facts.method_chain(call.node);
            let build = links
                .iter()
                .position(|l| node::text(l.method, source) == "build");
            let configured = &links[..build.unwrap_or(links.len())];
            match (
                builder_timeout(facts, kb, source, module, configured),
                build,
            ) {
                (BuilderTimeout::Set, _) => {}
                (BuilderTimeout::Disabled(at), _) => {
                    return Some(BuiltTimeout::Judged(ClientTimeout::Missing(Why::Disabled(
                        at,
                    ))))
                }
                (_, Some(index)) => {
                    let client = facts.binding_of(links[index].call, source);
                    return Some(
                        match rust_requests_through(facts, kb, source, module, client.as_ref()) {
                            RequestBound::Bounded => BuiltTimeout::Judged(ClientTimeout::Set(None)),
                            requests => BuiltTimeout::Unbounded(why, requests),
                        },
                    );
                }
                (_, None) => every_call_sets = false,
            }
        }
        every_call_sets.then_some(BuiltTimeout::Judged(ClientTimeout::Set(None)))
    }

    /// A builder handed to a closure or function of the file that configures it and gives it back
    /// (`let configure = |b: ClientBuilder| b.timeout(d); configure(Client::builder()).build()`): what the
    /// closure chains on its parameter counts with what the caller chains on its result.
    fn builder_through_closure(
        &self,
        end: Node<'t>,
        module: &str,
        why: Why<'t>,
    ) -> Option<BuiltTimeout<'t>> {
        let (facts, kb, source) = (self.facts, self.kb, self.source);
        let arguments = facts.parent(end).filter(|p| p.kind() == "arguments")?;
        let call = facts.call_of(facts.parent(arguments)?)?;
        let position = call.args.iter().position(|a| a.id() == end.id())?;
        let configure = if call.callee.kind() == "identifier" {
            let name = node::text(call.callee, source);
            match facts.declared_value(call.function, name, call.node.start_byte()) {
                Some(closure) if closure.kind() == "closure_expression" => facts
                    .functions
                    .iter()
                    .position(|f| f.node.id() == closure.id()),
                Some(_) => None,
                None => crate::models::messaging::syntax::same_file_function(facts, call),
            }
        } else {
            None
        }?;
        let param = facts.functions.get(configure)?.params.get(position)?;
        let param_name = param.name.split(':').next().unwrap_or(&param.name).trim();
        let mut links = Vec::new();
        for value in callers::returned_values(facts, configure) {
            let mut root = value;
            while let Some(receiver) = facts.call_of(root).and_then(|c| c.receiver) {
                root = node::strip_wrappers(receiver, node::Wrappers::CHAIN);
            }
            if node::text(root, source) == param_name {
                links.extend(facts.method_chain(root));
            }
        }
        let after = facts.method_chain(call.node);
        let build = after
            .iter()
            .position(|l| node::text(l.method, source) == "build");
        links.extend_from_slice(&after[..build.unwrap_or(after.len())]);
        match (builder_timeout(facts, kb, source, module, &links), build) {
            (BuilderTimeout::Set, _) => Some(BuiltTimeout::Judged(ClientTimeout::Set(None))),
            (BuilderTimeout::Disabled(at), _) => Some(BuiltTimeout::Judged(
                ClientTimeout::Missing(Why::Disabled(at)),
            )),
            (_, Some(index)) => {
                let client = facts.binding_of(after[index].call, source);
                Some(
                    match rust_requests_through(facts, kb, source, module, client.as_ref()) {
                        RequestBound::Bounded => BuiltTimeout::Judged(ClientTimeout::Set(None)),
                        requests => BuiltTimeout::Unbounded(why, requests),
                    },
                )
            }
            (_, None) => None,
        }
    }
}

/// A builder's answer, or what it lacks and how its requests are bounded (which the library's default
/// decides between).
enum BuiltTimeout<'t> {
    Judged(ClientTimeout<'t>),
    Unbounded(Why<'t>, RequestBound),
}

/// How the requests made through a Rust `module` client binding (`reqwest`, `ureq`) are bounded: each of its
/// request methods (kb `[[http_client]]`) needs its own `.timeout(..)`; any other call on the client
/// (`client.clone()`) hands it on.
fn rust_requests_through(
    facts: &FileFacts<'_>,
    kb: &KnowledgeBase,
    source: &str,
    module: &str,
    client: Option<&Binding>,
) -> RequestBound {
    let request_methods = kb
        .http_client(Language::Rust, module)
        .map_or(&[][..], |c| c.request_methods.as_slice());
    requests_through(facts, source, client, |request| {
        let sends = request
            .method
            .as_deref()
            .is_some_and(|m| request_methods.iter().any(|r| r == m));
        if !sends {
            return Some(RequestBound::Unbounded);
        }
        Some(
            match builder_timeout(facts, kb, source, module, &facts.method_chain(request.node)) {
                BuilderTimeout::Set => RequestBound::Bounded,
                _ => RequestBound::Unbounded,
            },
        )
    })
}

// ----- Go: net/http clients ---------------------------------------------------------------------------------

impl<'t> Judge<'t> {
    fn go(&mut self) {
        let (facts, kb, source) = (self.facts, self.kb, self.source);
        let client = kb.http_client_shaped(Language::Go, ClientShape::ClientField);
        // `http.DefaultClient.Timeout = …` in this file bounds `http.Get` and every `DefaultClient` call.
        let default_bounded = client.is_some_and(|c| go_default_client_bounded(facts, source, c));
        for call in &facts.calls {
            let Some(path) = call.path.as_deref() else {
                continue;
            };
            let Some(api) = kb.api(Language::Go, path) else {
                continue;
            };
            if !api.remote || api.timeout != Some(ApiTimeout::None) {
                continue;
            }
            let Some(client) = kb
                .http_client(Language::Go, path)
                .filter(|c| c.shape == ClientShape::ClientField)
            else {
                self.declared_unbounded(call, path);
                continue;
            };
            if default_bounded {
                self.push_call(call, path, Subject::GoPackageCall, ClientTimeout::Set(None));
                continue;
            }
            let default_client = client
                .default_client
                .as_deref()
                .and_then(|d| path.strip_prefix(d))
                .is_some_and(|rest| rest.starts_with('.'));
            let prepared = default_client
                && call
                    .method
                    .as_deref()
                    .is_some_and(|m| client.prepared_request_methods.iter().any(|p| p == m));
            let (subject, timeout) = if prepared {
                let timeout = match go_request_bound(facts, kb, source, call.args.first().copied())
                {
                    (RequestBound::Bounded, at) => ClientTimeout::Set(at),
                    (RequestBound::Elsewhere, at) => at
                        .and_then(|context| self.go_context_through_callers(call, path, context))
                        .unwrap_or(ClientTimeout::Unknown {
                            why: Why::NoTimeout,
                            from: Elsewhere::Value(at),
                        }),
                    (RequestBound::Unbounded, at) => {
                        ClientTimeout::Missing(at.map_or(Why::NoTimeout, Why::NoDeadline))
                    }
                };
                (Subject::GoDefaultClientCall { prepared: true }, timeout)
            } else if default_client {
                (
                    Subject::GoDefaultClientCall { prepared: false },
                    ClientTimeout::Missing(Why::NoTimeout),
                )
            } else {
                (
                    Subject::GoPackageCall,
                    ClientTimeout::Missing(Why::NoTimeout),
                )
            };
            self.push_call(call, path, subject, timeout);
        }
        let Some(client) = client else {
            return;
        };
        for literal in &facts.literals {
            let Some(path) = literal.type_path.as_deref() else {
                continue;
            };
            if client.client_type.as_deref() == Some(path) {
                self.go_client_literal(client, literal, path);
            }
        }
        if !default_bounded {
            self.go_default_client_values(client);
        }
    }

    /// A `http.Client{…}` literal: bounded by its `Timeout`, or by every request made through it.
    fn go_client_literal(
        &mut self,
        client: &'t HttpClient,
        literal: &'t Literal<'t>,
        path: &'t str,
    ) {
        let (facts, source) = (self.facts, self.source);
        let subject = Subject::GoClientLiteral;
        if self.declared_bounded(path) {
            return self.push(literal.node, None, path, subject, ClientTimeout::Set(None));
        }
        let binding = facts.binding_of(literal.node, source);
        let why = match go_client_literal_timeout(facts, source, client, literal, binding.as_ref())
        {
            GoClientTimeout::Set(at) => {
                return self.push(literal.node, None, path, subject, ClientTimeout::Set(at))
            }
            GoClientTimeout::Zero(zero) => Why::Zero(zero),
            GoClientTimeout::Absent => Why::NoTimeout,
        };
        // Functional options: `for _, o := range opts { o(c) }` lets the caller's closures set the timeout.
        if let (Why::NoTimeout, Some(configured)) = (
            why,
            go_configured_by_caller(facts, source, binding.as_ref()),
        ) {
            let timeout = ClientTimeout::Unknown {
                why,
                from: Elsewhere::Value(Some(configured)),
            };
            return self.push(literal.node, None, path, subject, timeout);
        }
        let timeout = match go_requests_through(facts, self.kb, source, client, binding.as_ref()) {
            RequestBound::Bounded => ClientTimeout::Set(None),
            RequestBound::Elsewhere => ClientTimeout::Unknown {
                why,
                from: Elsewhere::Requests,
            },
            // `Timeout: 0` written out is a decision, not an omission: the client is meant to have no overall
            // bound (it carries long-lived streams, with HTTP/2 pings to find dead peers). Its single requests
            // may still be unbounded, but unless this file sends one that is, that is decided where they are
            // made (by their contexts): an open question (docs/precision.md, issue 13, fourth pass).
            RequestBound::Unbounded
                if matches!(why, Why::Zero(_))
                    && !go_sends_unbounded(facts, self.kb, source, client, binding.as_ref()) =>
            {
                ClientTimeout::Unknown {
                    why,
                    from: Elsewhere::Requests,
                }
            }
            RequestBound::Unbounded => ClientTimeout::Missing(why),
        };
        self.push(literal.node, None, path, subject, timeout);
    }

    /// `http.DefaultClient` used as a value — kept in a variable, stored in a field, passed to a function —
    /// rather than called directly: the same client with no timeout, used where this file may not see.
    fn go_default_client_values(&mut self, client: &'t HttpClient) {
        let (facts, source) = (self.facts, self.source);
        let Some(default_client) = client.default_client.as_deref() else {
            return;
        };
        let Some((module, name)) = default_client.rsplit_once('.') else {
            return;
        };
        let Some(package) = facts.imports.iter().find(|i| i.path == module) else {
            return;
        };
        for (range, identifier) in &facts.identifiers {
            if source.get(range.start..range.end) != Some(package.local.as_str()) {
                continue;
            }
            let Some(selector) = facts
                .parent(*identifier)
                .filter(|p| p.kind() == "selector_expression")
            else {
                continue;
            };
            let names_default_client = selector
                .child_by_field_name("field")
                .is_some_and(|f| node::text(f, source) == name);
            if !names_default_client {
                continue;
            }
            // `http.DefaultClient.Do(…)` is judged as a call; `http.DefaultClient.Timeout = …` configures it.
            if facts
                .parent(selector)
                .is_some_and(|p| p.kind() == "selector_expression")
            {
                continue;
            }
            let binding = facts.binding_of(selector, source);
            let timeout =
                match go_requests_through(facts, self.kb, source, client, binding.as_ref()) {
                    RequestBound::Bounded => ClientTimeout::Set(None),
                    RequestBound::Elsewhere => ClientTimeout::Unknown {
                        why: Why::NoTimeout,
                        from: Elsewhere::Requests,
                    },
                    RequestBound::Unbounded => ClientTimeout::Missing(Why::NoTimeout),
                };
            self.push(
                selector,
                None,
                default_client,
                Subject::GoDefaultClientValue,
                timeout,
            );
        }
    }
}

/// What a Go `http.Client{…}` literal says about its timeout, with the `Timeout` field assignments made to
/// the binding it is kept in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoClientTimeout<'t> {
    /// A non-zero `Timeout` in the literal (its value) or assigned later (`c.Timeout = …`).
    Set(Option<Node<'t>>),
    /// `Timeout: 0`, which means none (the value node).
    Zero(Node<'t>),
    Absent,
}

/// Whether the literal `http.Client{…}` (kept in `binding`, if it is) gets a timeout.
pub fn go_client_literal_timeout<'t>(
    facts: &FileFacts<'t>,
    source: &str,
    client: &HttpClient,
    literal: &Literal<'t>,
    binding: Option<&Binding>,
) -> GoClientTimeout<'t> {
    let Some(field_name) = client.timeout_field.as_deref() else {
        return GoClientTimeout::Absent;
    };
    let zero = |value: Option<Node<'_>>| value.is_some_and(|v| is_zero(v, source));
    let explicit_zero = match literal.field(field_name) {
        Some(field) if zero(field.value) => field.value,
        Some(field) => return GoClientTimeout::Set(field.value),
        None => None,
    };
    if binding.is_some_and(|b| {
        facts
            .field_assignments(b, field_name)
            .any(|a| !zero(a.value))
    }) {
        return GoClientTimeout::Set(None);
    }
    explicit_zero.map_or(GoClientTimeout::Absent, GoClientTimeout::Zero)
}

/// Go functional options: the call, in the client's function, that hands the client to a function value the
/// caller supplies (`o(c)` for `o` ranging over an `opts ...Option` parameter, or a `configure func(*Client)`
/// parameter), which may set its timeout.
fn go_configured_by_caller<'t>(
    facts: &'t FileFacts<'t>,
    source: &str,
    binding: Option<&Binding>,
) -> Option<Node<'t>> {
    let Some(Binding::Variable {
        name,
        function: Some(function),
        from,
    }) = binding
    else {
        return None;
    };
    facts.calls_in(*function).find_map(|call| {
        if call.node.start_byte() < *from
            || call.callee.kind() != "identifier"
            || !call.args.iter().any(|a| node::text(*a, source) == name)
        {
            return None;
        }
        let callee = node::text(call.callee, source);
        let is_parameter = |n: Node<'t>| {
            n.kind() == "identifier"
                && matches!(
                    facts.origin_of(call.function, node::text(n, source), n.start_byte()),
                    Origin::Parameter { .. }
                )
        };
        // A `range` variable over a parameter (`for _, o := range opts`).
        // Only a `for` statement holds a range clause: asking every ancestor for its children reached the
        // file's root, whose children tree-sitter finds one by one from the first (quadratic in its items).
        let ranges_over_parameter = facts.ancestors(call.node).any(|a| {
            if a.kind() != "for_statement" {
                return false;
            }
            let Some(clause) = node::named_children(a).find(|c| c.kind() == "range_clause") else {
                return false;
            };
            let names = clause
                .child_by_field_name("left")
                .map(|l| node::text(l, source));
            names.is_some_and(|l| l.split(',').any(|n| n.trim() == callee))
                && clause
                    .child_by_field_name("right")
                    .is_some_and(is_parameter)
        });
        (is_parameter(call.callee) || ranges_over_parameter).then_some(call.node)
    })
}

/// `http.DefaultClient.Timeout = …` (not zero) somewhere in the file: it bounds `http.Get` and every
/// `DefaultClient` call.
fn go_default_client_bounded(facts: &FileFacts<'_>, source: &str, client: &HttpClient) -> bool {
    let (Some(default_client), Some(field)) = (&client.default_client, &client.timeout_field)
    else {
        return false;
    };
    let target = format!("{default_client}.{field}");
    facts.assignments.iter().any(|a| {
        facts.resolve(&a.target).as_deref() == Some(target.as_str())
            && a.value.is_some_and(|v| !is_zero(v, source))
    })
}

/// How the requests made through a Go client binding are bounded: a prepared request (`Do(req)`) by its
/// request's context, the other request methods (`Get`, `Post`) not at all; other methods send nothing.
fn go_requests_through(
    facts: &FileFacts<'_>,
    kb: &KnowledgeBase,
    source: &str,
    client: &HttpClient,
    binding: Option<&Binding>,
) -> RequestBound {
    requests_through(facts, source, binding, |call| {
        go_request_through(facts, kb, source, client, call)
    })
}

/// How a call on a Go client bounds the request it sends: by the context of a prepared request (`Do(req)`),
/// never for a plain `Get`; `None` when the call sends nothing.
fn go_request_through(
    facts: &FileFacts<'_>,
    kb: &KnowledgeBase,
    source: &str,
    client: &HttpClient,
    call: &Call<'_>,
) -> Option<RequestBound> {
    let method = call.method.as_deref()?;
    if client.prepared_request_methods.iter().any(|m| m == method) {
        Some(go_request_bound(facts, kb, source, call.args.first().copied()).0)
    } else if client.request_methods.iter().any(|m| m == method) {
        Some(RequestBound::Unbounded)
    } else {
        None
    }
}

/// Whether this file sends a request through the Go client kept in `binding` that nothing bounds (a plain
/// `Get`, or `Do` of a request whose context has no deadline).
fn go_sends_unbounded(
    facts: &FileFacts<'_>,
    kb: &KnowledgeBase,
    source: &str,
    client: &HttpClient,
    binding: Option<&Binding>,
) -> bool {
    binding.is_some_and(|binding| {
        facts.calls_on(binding).any(|call| {
            go_request_through(facts, kb, source, client, call) == Some(RequestBound::Unbounded)
        })
    })
}

// ----- TypeScript: fetch, axios, Node's http(s).request -------------------------------------------------------

/// How an options or config argument bounds a TypeScript request (`fetch`'s init, an axios config, the options
/// of Node's `http.request`).
#[derive(Clone, Copy, Debug)]
pub enum OptionsBound<'f, 't> {
    Bounded,
    /// Options the file shows, without a bound: the object literal (to add one), if any, and the value of
    /// a bounding field set to `0` (which means none), if any.
    Unbounded(Option<&'f Literal<'t>>, Option<Node<'t>>),
    /// Options from a parameter, a spread or a call: the node they come from.
    Elsewhere(Node<'t>),
}

/// Judges an options expression: an object literal (possibly through a local variable) with one of
/// `fields` bounds the request — unless the field is `0`.
pub fn judge_options<'f, 't>(
    facts: &'f FileFacts<'t>,
    source: &str,
    expr: Option<Node<'t>>,
    fields: &[String],
) -> OptionsBound<'f, 't> {
    judge_options_at(facts, source, expr, fields, 0)
}

/// How many same-file helpers deep options are followed (`init()` returning `defaults()`).
const MAX_HELPER_DEPTH: usize = 3;

fn judge_options_at<'f, 't>(
    facts: &'f FileFacts<'t>,
    source: &str,
    expr: Option<Node<'t>>,
    fields: &[String],
    depth: usize,
) -> OptionsBound<'f, 't> {
    let Some(mut e) = expr else {
        return OptionsBound::Unbounded(None, None);
    };
    for _ in 0..8 {
        match e.kind() {
            "object" => {
                let Some(literal) = facts.literal_of(e) else {
                    return OptionsBound::Elsewhere(e);
                };
                let mut zero = None;
                for field in fields.iter().filter_map(|name| literal.field(name)) {
                    match field.value {
                        Some(value) if is_zero(value, source) => zero = Some(value),
                        _ => return OptionsBound::Bounded,
                    }
                }
                return if literal.has_spread && zero.is_none() {
                    OptionsBound::Elsewhere(e)
                } else {
                    OptionsBound::Unbounded(Some(literal), zero)
                };
            }
            "identifier" => {
                if node::text(e, source) == "undefined" {
                    return OptionsBound::Unbounded(None, None);
                }
                let function = facts.function_at(e.start_byte());
                match facts.origin_of(function, node::text(e, source), e.start_byte()) {
                    Origin::Value(value) => e = value,
                    Origin::Parameter { .. } | Origin::Unknown => {
                        return OptionsBound::Elsewhere(e)
                    }
                }
            }
            "undefined" | "null" => return OptionsBound::Unbounded(None, None),
            "parenthesized_expression" | "as_expression" | "satisfies_expression" => {
                match node::named_children(e).next() {
                    Some(inner) => e = inner,
                    None => return OptionsBound::Elsewhere(e),
                }
            }
            "call_expression" if depth < MAX_HELPER_DEPTH => {
                return helper_options(facts, source, e, fields, depth)
            }
            _ => return OptionsBound::Elsewhere(e),
        }
    }
    OptionsBound::Elsewhere(e)
}

/// Options made by a helper of the same file (`fetch(url, init("GET"))`): judged by what it returns, the
/// weakest of its returns winning; a helper the file does not show, or one that returns a value from
/// elsewhere, leaves them `Elsewhere`.
fn helper_options<'f, 't>(
    facts: &'f FileFacts<'t>,
    source: &str,
    made: Node<'t>,
    fields: &[String],
    depth: usize,
) -> OptionsBound<'f, 't> {
    let Some(call) = facts.call_of(made) else {
        return OptionsBound::Elsewhere(made);
    };
    let plain = call.method.is_none()
        || call
            .receiver
            .is_some_and(|r| matches!(node::text(r, source), "this" | "self"));
    let helper = crate::models::messaging::syntax::same_file_function(facts, call);
    let Some(helper) = helper.filter(|_| plain) else {
        return OptionsBound::Elsewhere(made);
    };
    let returned = callers::returned_values(facts, helper);
    if returned.is_empty() {
        return OptionsBound::Elsewhere(made);
    }
    let mut weakest = OptionsBound::Bounded;
    for value in returned {
        match judge_options_at(facts, source, Some(value), fields, depth + 1) {
            OptionsBound::Bounded => {}
            OptionsBound::Elsewhere(_) => return OptionsBound::Elsewhere(made),
            unbounded @ OptionsBound::Unbounded(..) => weakest = unbounded,
        }
    }
    weakest
}

fn is_zero(value: Node<'_>, source: &str) -> bool {
    node::text(value, source).trim() == "0"
}

/// The global `fetch` (also as `globalThis.fetch` / `window.fetch`).
pub fn is_global_fetch(call: &Call<'_>) -> bool {
    crate::kb::path_through_globals(Language::TypeScript, call) == Some("fetch") && !call.is_new
}

/// The init a `fetch(resource, init)` call is given: its second argument, or for `fetch(new Request(url, init))`
/// the request's own init.
pub fn fetch_init<'t>(facts: &FileFacts<'t>, source: &str, call: &Call<'t>) -> Option<Node<'t>> {
    if let Some(init) = call.args.get(1) {
        return Some(*init);
    }
    let resource = *call.args.first()?;
    let request = match resource.kind() {
        "new_expression" => resource,
        "identifier" => match facts.origin_of(
            facts.function_at(resource.start_byte()),
            node::text(resource, source),
            resource.start_byte(),
        ) {
            Origin::Value(v) if v.kind() == "new_expression" => v,
            _ => return None,
        },
        _ => return None,
    };
    let constructed = facts.call_of(request)?;
    (constructed.callee_text == "Request")
        .then(|| constructed.args.get(1).copied())
        .flatten()
}

/// Whether the first argument of `http.request` is a URL (`Some(true)`), an options object
/// (`Some(false)`), or cannot be told (`None`).
pub fn url_or_options(facts: &FileFacts<'_>, source: &str, first: Node<'_>) -> Option<bool> {
    let mut current = first;
    for _ in 0..8 {
        match current.kind() {
            "string" | "template_string" => return Some(true),
            "object" => return Some(false),
            "new_expression" => {
                return facts
                    .call_of(current)
                    .map(|c| c.callee_text == "URL")
                    .filter(|url| *url)
            }
            "identifier" => {
                let function = facts.function_at(current.start_byte());
                match facts.origin_of(function, node::text(current, source), current.start_byte()) {
                    Origin::Value(v) => current = v,
                    Origin::Parameter { function, index } => {
                        let param = &facts.functions[function].params[index];
                        return matches!(param.type_text.as_str(), "string" | "URL")
                            .then_some(true);
                    }
                    Origin::Unknown => return None,
                }
            }
            _ => return None,
        }
    }
    None
}

/// `axios.defaults.timeout = n` (the library's `defaults_option`, not zero) in this file bounds every call on
/// the default instance.
fn defaults_bounded(facts: &FileFacts<'_>, source: &str, client: &HttpClient) -> bool {
    let Some(option) = client.defaults_option.as_deref() else {
        return false;
    };
    facts.assignments.iter().any(|a| {
        a.target
            .strip_suffix(option)
            .and_then(|head| head.strip_suffix('.'))
            .and_then(|head| facts.resolve(head))
            .is_some_and(|module| client.modules.contains(&module))
            && a.value.is_some_and(|v| !is_zero(v, source))
    })
}

/// Where a config-taking request method takes its config: `get(url, config)`, after a body for
/// `post(url, data, config)`, alone for `request(config)`; the library called as a function takes
/// `(config)` or `(url, config)`.
fn config_index(
    facts: &FileFacts<'_>,
    source: &str,
    client: &HttpClient,
    call: &Call<'_>,
) -> usize {
    let listed = |names: &[String], method: &str| names.iter().any(|n| n == method);
    match call.method.as_deref() {
        Some(m) if listed(&client.body_methods, m) => 2,
        Some(m) if listed(&client.config_methods, m) => 0,
        Some(_) => 1,
        None => match call.args.first() {
            Some(first) if url_or_options(facts, source, *first) == Some(false) => 0,
            _ => 1,
        },
    }
}

/// The caller's `signal` a request's own bound should be combined with (so that bounding the request does not
/// drop the caller's cancellation, OBS001's concern): a required parameter typed `AbortSignal` of the
/// function around the call (`AbortSignal.any` throws on `undefined`), as the code names it.
pub fn caller_signal(facts: &FileFacts<'_>, source: &str, call: &Call<'_>) -> Option<String> {
    let context = call
        .function
        .and_then(|f| facts.context_source(f, source))
        .filter(|s| s.kind == ContextKind::AbortSignal && s.expression == s.param)?;
    let function = facts.functions[context.function].node;
    let parameters = function.child_by_field_name("parameters")?;
    let required = node::named_children(parameters).any(|p| {
        p.kind() == "required_parameter"
            && p.child_by_field_name("pattern")
                .is_some_and(|n| node::text(n, source) == context.param)
            && p.child_by_field_name("type").is_some_and(|t| {
                node::text(t, source).trim_start_matches(':').trim() == "AbortSignal"
            })
    });
    required.then_some(context.expression)
}

impl<'t> Judge<'t> {
    fn typescript(&mut self) {
        let (facts, kb) = (self.facts, self.kb);
        let language = facts.language;
        // A `function fetch` of the file's own shadows the global.
        let fetch_shadowed = facts
            .functions
            .iter()
            .any(|f| f.name == "fetch" && f.node.kind() == "function_declaration");
        let fetch = kb.http_client_shaped(language, ClientShape::Init);
        for call in &facts.calls {
            if let Some(fetch) = fetch.filter(|_| !fetch_shadowed && is_global_fetch(call)) {
                self.fetch(fetch, call);
                continue;
            }
            let Some(path) = call.path.as_deref() else {
                continue;
            };
            if self.declared_bounded(path) {
                continue;
            }
            let remote = || kb.api(language, path).is_some_and(|a| a.remote);
            match kb.http_client(language, path) {
                Some(client) if client.instance.as_deref() == Some(path) => {
                    self.instance(client, call, path)
                }
                Some(client) if client.shape == ClientShape::UrlOrOptions && remote() => {
                    self.node_request(client, call, path)
                }
                Some(client) if client.shape == ClientShape::Config => {
                    if remote() {
                        self.config_request(client, call, path)
                    }
                }
                _ => self.declared_unbounded(call, path),
            }
        }
    }

    fn push_options(
        &mut self,
        call: &'t Call<'t>,
        path: &'t str,
        subject: Subject<'t>,
        timeout: ClientTimeout<'t>,
        options: Option<&'t Literal<'t>>,
    ) {
        self.push_call(call, path, subject, timeout);
        if let Some(site) = self.sites.last_mut() {
            site.options = options.map(|l| l.node);
        }
    }

    /// `fetch(resource, init)`, bounded by a `signal` in its init.
    fn fetch(&mut self, client: &'t HttpClient, call: &'t Call<'t>) {
        if call.args.is_empty() {
            return;
        }
        let init = fetch_init(self.facts, self.source, call);
        let judged = judge_options(self.facts, self.source, init, &client.request_options);
        let Some(path) = client.modules.first() else {
            return;
        };
        let (timeout, literal) = self.options_or_callers(call, path, judged, client);
        self.push_options(call, path, Subject::Fetch, timeout, literal);
    }

    /// An options verdict as the answer; options from a parameter of a function whose callers are in the file
    /// are judged at those calls. A caller that passes no bound while another passes one is a site of its own
    /// ([`Subject::ThroughWrapper`]); when the file shows every caller, they decide the request's answer.
    fn options_or_callers(
        &mut self,
        call: &'t Call<'t>,
        path: &'t str,
        judged: OptionsBound<'t, 't>,
        client: &'t HttpClient,
    ) -> (ClientTimeout<'t>, Option<&'t Literal<'t>>) {
        let (timeout, literal) = options_timeout(judged);
        match judged {
            OptionsBound::Elsewhere(from) => match self.through_callers(call, path, from, client) {
                Some(decided) => (decided, literal),
                None => (timeout, literal),
            },
            _ => (timeout, literal),
        }
    }

    fn through_callers(
        &mut self,
        call: &'t Call<'t>,
        path: &'t str,
        from: Node<'t>,
        client: &'t HttpClient,
    ) -> Option<ClientTimeout<'t>> {
        let (facts, source) = (self.facts, self.source);
        let (function, callers) = parameter_callers(facts, source, from)?;
        let fields = &client.request_options;
        let option = fields.first()?.as_str();
        let judged = callers
            .iter()
            .map(|caller| {
                let bound = match judge_options(facts, source, caller.argument, fields) {
                    OptionsBound::Bounded => (RequestBound::Bounded, None),
                    OptionsBound::Unbounded(literal, _) => (RequestBound::Unbounded, literal),
                    OptionsBound::Elsewhere(_) => (RequestBound::Elsewhere, None),
                };
                (*caller, bound.0, bound.1)
            })
            .collect();
        self.callers_decide(call, path, function, option, judged)
    }

    /// Go: a request whose context is a parameter of its function (`NewRequestWithContext(ctx, …)` then
    /// `http.DefaultClient.Do(req)`), judged at the function's calls in the file by the deadline of the context
    /// each passes.
    fn go_context_through_callers(
        &mut self,
        call: &'t Call<'t>,
        path: &'t str,
        context: Node<'t>,
    ) -> Option<ClientTimeout<'t>> {
        let (facts, source) = (self.facts, self.source);
        let (function, callers) = parameter_callers(facts, source, context)?;
        let judged = callers
            .iter()
            .map(|caller| {
                let bound = match caller
                    .argument
                    .map(|a| facts.go_context_deadline(a, source))
                {
                    Some(ContextDeadline::Set(_)) => RequestBound::Bounded,
                    Some(ContextDeadline::Absent(_)) => RequestBound::Unbounded,
                    _ => RequestBound::Elsewhere,
                };
                (*caller, bound, None)
            })
            .collect();
        self.callers_decide(call, path, function, "context deadline", judged)
    }

    /// What the calls of a wrapper decide about the request it makes with what they pass: each call that passes
    /// no bound while another passes one is a site of its own; when no other file can call the wrapper and
    /// every call's argument is judged, they decide the request's answer.
    fn callers_decide(
        &mut self,
        call: &'t Call<'t>,
        path: &'t str,
        function: usize,
        option: &'t str,
        judged: Vec<(
            callers::CallerArgument<'t>,
            RequestBound,
            Option<&'t Literal<'t>>,
        )>,
    ) -> Option<ClientTimeout<'t>> {
        let (facts, source) = (self.facts, self.source);
        let mut bounded_by = None;
        let mut unbounded = Vec::new();
        let mut unknown = false;
        for (caller, bound, literal) in judged {
            match bound {
                RequestBound::Bounded => {
                    bounded_by = bounded_by.or(Some(caller.argument.unwrap_or(caller.call.node)))
                }
                RequestBound::Unbounded => unbounded.push((caller.call, literal)),
                RequestBound::Elsewhere => unknown = true,
            }
        }
        if let Some(bounded_by) = bounded_by {
            for (caller, literal) in &unbounded {
                if self.sites.iter().any(|s| s.node.id() == caller.node.id()) {
                    continue;
                }
                let subject = Subject::ThroughWrapper {
                    request: call,
                    bounded_by,
                    option,
                };
                let missing = ClientTimeout::Missing(Why::NoTimeout);
                self.push_options(caller, path, subject, missing, *literal);
            }
        }
        if unknown || callers::may_be_called_elsewhere(facts, source, function) {
            return None;
        }
        Some(match (bounded_by, unbounded.is_empty()) {
            (Some(by), true) => ClientTimeout::Set(Some(by)),
            (None, _) => ClientTimeout::Missing(Why::NoTimeout),
            (Some(_), false) => ClientTimeout::Unknown {
                why: Why::NoTimeout,
                from: Elsewhere::Callers,
            },
        })
    }

    /// Node's `http(s).request/get(url?, options?, callback?)`, bounded by its options or by
    /// `req.setTimeout(..)` on the request, chained or through its variable.
    fn node_request(&mut self, client: &'t HttpClient, call: &'t Call<'t>, path: &'t str) {
        let (facts, source) = (self.facts, self.source);
        let Some(first) = call.args.first().copied() else {
            return;
        };
        let is_function = |n: Node<'_>| {
            matches!(
                n.kind(),
                "arrow_function" | "function_expression" | "function"
            )
        };
        let (url, options, judged) = match url_or_options(facts, source, first) {
            Some(true) => {
                let options = call.args.get(1).copied().filter(|a| !is_function(*a));
                let judged = judge_options(facts, source, options, &client.request_options);
                (Some(first), options, judged)
            }
            Some(false) => (
                None,
                Some(first),
                judge_options(facts, source, Some(first), &client.request_options),
            ),
            None => (None, Some(first), OptionsBound::Elsewhere(first)),
        };
        let subject = Subject::NodeRequest { url, options };
        let times_out = |c: &Call<'_>| {
            c.method
                .as_deref()
                .is_some_and(|m| client.request_timeout_methods.iter().any(|t| t == m))
        };
        let bounded_later = !matches!(judged, OptionsBound::Bounded)
            && (facts.method_chain(call.node).iter().any(|l| {
                let method = node::text(l.method, source);
                client.request_timeout_methods.iter().any(|t| t == method)
            }) || facts
                .binding_of(call.node, source)
                .is_some_and(|request| facts.calls_on(&request).any(times_out)));
        if bounded_later {
            return self.push_call(call, path, subject, ClientTimeout::Set(None));
        }
        let (timeout, literal) = options_timeout(judged);
        self.push_options(call, path, subject, timeout, literal);
    }

    /// A request on the library's default instance (`axios.get(url, config)`), bounded by its config or by the
    /// library's defaults set in this file.
    fn config_request(&mut self, client: &'t HttpClient, call: &'t Call<'t>, path: &'t str) {
        let (facts, source) = (self.facts, self.source);
        let config_index = config_index(facts, source, client, call);
        let subject = Subject::ConfigRequest { config_index };
        let key: *const HttpClient = client;
        let bounded = match self.defaults_bounded.iter().find(|(c, _)| *c == key) {
            Some((_, bounded)) => *bounded,
            None => {
                let bounded = defaults_bounded(facts, source, client);
                self.defaults_bounded.push((key, bounded));
                bounded
            }
        };
        if bounded {
            return self.push_call(call, path, subject, ClientTimeout::Set(None));
        }
        let config = call.args.get(config_index).copied();
        let judged = judge_options(facts, source, config, &client.request_options);
        let (timeout, literal) = self.options_or_callers(call, path, judged, client);
        self.push_options(call, path, subject, timeout, literal);
    }

    /// `axios.create(config)`: bounded by its config, by `instance.defaults.timeout = …`, or by a bound on
    /// every request made through the instance while it stays in the file.
    fn instance(&mut self, client: &'t HttpClient, call: &'t Call<'t>, path: &'t str) {
        let (facts, source) = (self.facts, self.source);
        let judged = judge_options(
            facts,
            source,
            call.args.first().copied(),
            &client.instance_options,
        );
        if matches!(judged, OptionsBound::Bounded) {
            return self.push_call(call, path, Subject::Instance, ClientTimeout::Set(None));
        }
        let instance = facts.binding_of(call.node, source);
        if let (Some(instance), Some(option)) = (&instance, client.defaults_option.as_deref()) {
            if facts
                .field_assignments(instance, option)
                .any(|a| a.value.is_some_and(|v| !is_zero(v, source)))
            {
                return self.push_call(call, path, Subject::Instance, ClientTimeout::Set(None));
            }
        }
        let requests = requests_through(facts, source, instance.as_ref(), |request| {
            let method = request.method.as_deref()?;
            if !client.request_methods.iter().any(|m| m == method) {
                return None;
            }
            let config = request
                .args
                .get(config_index(facts, source, client, request))
                .copied();
            Some(
                match judge_options(facts, source, config, &client.request_options) {
                    OptionsBound::Bounded => RequestBound::Bounded,
                    OptionsBound::Elsewhere(_) => RequestBound::Elsewhere,
                    OptionsBound::Unbounded(..) => RequestBound::Unbounded,
                },
            )
        });
        let (timeout, literal) = match (judged, requests) {
            (_, RequestBound::Bounded) => (ClientTimeout::Set(None), None),
            (OptionsBound::Unbounded(literal, zero), RequestBound::Elsewhere) => (
                ClientTimeout::Unknown {
                    why: zero.map_or(Why::NoTimeout, Why::Zero),
                    from: Elsewhere::Requests,
                },
                literal,
            ),
            (judged, _) => options_timeout(judged),
        };
        self.push_options(call, path, Subject::Instance, timeout, literal);
    }
}

/// An options verdict as the answer, with the literal a bound would go in.
fn options_timeout<'f, 't>(
    judged: OptionsBound<'f, 't>,
) -> (ClientTimeout<'t>, Option<&'f Literal<'t>>) {
    match judged {
        OptionsBound::Bounded => (ClientTimeout::Set(None), None),
        OptionsBound::Unbounded(literal, zero) => (
            ClientTimeout::Missing(zero.map_or(Why::NoTimeout, Why::Zero)),
            literal,
        ),
        OptionsBound::Elsewhere(from) => (
            ClientTimeout::Unknown {
                why: Why::NoTimeout,
                from: Elsewhere::Value(Some(from)),
            },
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use dsr_syntax::{Document, Language};

    use super::*;

    #[test]
    fn go_requests_are_bounded_by_the_context_they_are_built_with() {
        let source = r#"package p
import (
    "context"
    "net/http"
    "time"
)
func f(parent context.Context) {
    ctx, cancel := context.WithTimeout(context.Background(), time.Second)
    defer cancel()
    bounded, _ := http.NewRequestWithContext(ctx, "GET", "u", nil)
    http.DefaultClient.Do(bounded)
    plain, _ := http.NewRequest("GET", "u", nil)
    http.DefaultClient.Do(plain)
    inherited, _ := http.NewRequestWithContext(parent, "GET", "u", nil)
    http.DefaultClient.Do(inherited)
}
"#;
        let document = Document::new(Language::Go, source, 0).expect("grammar loads");
        let facts = FileFacts::compute(Language::Go, document.tree(), source);
        let bounds: Vec<RequestBound> = facts
            .calls
            .iter()
            .filter(|c| c.method.as_deref() == Some("Do"))
            .map(|c| {
                go_request_bound(
                    &facts,
                    KnowledgeBase::builtin(),
                    source,
                    c.args.first().copied(),
                )
                .0
            })
            .collect();
        assert_eq!(
            bounds,
            [
                RequestBound::Bounded,
                RequestBound::Unbounded,
                RequestBound::Elsewhere
            ]
        );
    }

    #[test]
    fn builder_chains_set_disable_or_bound_only_connecting() {
        let source = "fn f() {\n\
            let a = reqwest::Client::builder().timeout(d).build();\n\
            let b = reqwest::blocking::Client::builder().timeout(None).build();\n\
            let c = reqwest::Client::builder().connect_timeout(d).build();\n\
            let e = reqwest::Client::builder().build();\n}\n";
        let document = Document::new(Language::Rust, source, 0).expect("grammar loads");
        let facts = FileFacts::compute(Language::Rust, document.tree(), source);
        let timeouts: Vec<&str> = facts
            .calls
            .iter()
            .filter(|c| c.path.as_deref().is_some_and(|p| p.ends_with("builder")))
            .map(|c| {
                let module = c
                    .path
                    .as_deref()
                    .map_or("", |p| p.strip_suffix("::Client::builder").unwrap_or(p));
                let chain = facts.method_chain(c.node);
                match builder_timeout(&facts, KnowledgeBase::builtin(), source, module, &chain) {
                    BuilderTimeout::Set => "set",
                    BuilderTimeout::Disabled(_) => "disabled",
                    BuilderTimeout::ConnectOnly(_) => "connect",
                    BuilderTimeout::Absent => "absent",
                }
            })
            .collect();
        assert_eq!(timeouts, ["set", "disabled", "connect", "absent"]);
    }

    /// `timeout_of` for the call or literal that makes the client or request at `marker` in `source`.
    fn timeout_at(language: Language, source: &str, marker: &str) -> Option<String> {
        let document = Document::new(language, source, 0).expect("grammar loads");
        let facts = FileFacts::compute(language, document.tree(), source);
        let clients = Clients::compute(&facts, KnowledgeBase::builtin(), source);
        let at = source.find(marker).expect("marker in source");
        let site = clients.sites().iter().find(|s| s.node.start_byte() == at)?;
        Some(match clients.timeout_of(site.node)? {
            ClientTimeout::Set(_) => "set".to_string(),
            ClientTimeout::Missing(why) => {
                format!("missing {why:?}").split('(').next()?.to_string()
            }
            ClientTimeout::Unknown { from, .. } => {
                format!("unknown {from:?}").split('(').next()?.to_string()
            }
        })
    }

    #[test]
    fn one_question_for_every_language() {
        let go = "package p\nimport \"net/http\"\nfunc f() {\n\ta := &http.Client{}\n\tb := http.Client{Timeout: 0}\n\tc := http.Client{Timeout: d}\n\t_, _ = a, b\n\t_ = c\n\thttp.Get(\"u\")\n\tb.Get(\"v\")\n}\nfunc streams() *http.Client { return &http.Client{Timeout: 0 } }\n";
        let rust = "fn f() {\n    let a = reqwest::blocking::Client::new();\n    let b = reqwest::Client::builder().timeout(None).build();\n}\n";
        let ts = "import axios from \"axios\";\nexport function f(opts) {\n  fetch(\"u\", { signal: s });\n  axios.get(\"u\", opts);\n  axios.post(\"u\", body, { timeout: 0 });\n}\n";
        let cases = [
            (Language::Go, go, "http.Client{}", "missing NoTimeout"),
            (Language::Go, go, "http.Client{Timeout: 0}", "missing Zero"),
            // Written out on purpose, and nothing unbounded sent through it here.
            (
                Language::Go,
                go,
                "http.Client{Timeout: 0 }",
                "unknown Requests",
            ),
            (Language::Go, go, "http.Client{Timeout: d", "set"),
            (Language::Go, go, "http.Get", "missing NoTimeout"),
            (
                Language::Rust,
                rust,
                "reqwest::blocking",
                "unknown LibraryDefault",
            ),
            (
                Language::Rust,
                rust,
                "reqwest::Client::builder",
                "missing Disabled",
            ),
            (Language::TypeScript, ts, "fetch", "set"),
            (Language::TypeScript, ts, "axios.get", "unknown Value"),
            (Language::TypeScript, ts, "axios.post", "missing Zero"),
        ];
        for (language, source, marker, expected) in cases {
            assert_eq!(
                timeout_at(language, source, marker).as_deref(),
                Some(expected),
                "{marker}"
            );
        }
    }
}
