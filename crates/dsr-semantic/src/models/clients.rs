//! HTTP clients and how the requests made through them are bounded in time: what a chain of builder calls does
//! to a client's timeout (sets it, turns it off, bounds only connecting, leaves it out) as the knowledge base's
//! `timeout` entries say, and whether every request made through a client binding is bounded on its own while
//! the client goes nowhere else, and how a Go request is bounded by the context it was built with. RES001 reads it; any rule that asks "does this client have a timeout?" can.

use dsr_core::kb::{ApiRole, ApiTimeout, KnowledgeBase};
use dsr_syntax::node;
use tree_sitter::Node;

use crate::facts::{Binding, Call, ChainLink, ContextDeadline, FileFacts, Literal, Origin};
use crate::kb::KbMatch;

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
                    None if matches!(call.method.as_deref(), Some("WithContext" | "Clone")) => {
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

/// Methods that send a request through a Rust client or agent.
const RUST_REQUEST_METHODS: &[&str] = &[
    "get", "post", "put", "patch", "delete", "head", "request", "options",
];

/// How the requests made through a Rust `module` client binding (`reqwest`, `ureq`) are bounded: each needs its
/// own `.timeout(..)`; any other call on the client (`client.clone()`) hands it on.
pub fn rust_requests_through(
    facts: &FileFacts<'_>,
    kb: &KnowledgeBase,
    source: &str,
    module: &str,
    client: Option<&Binding>,
) -> RequestBound {
    requests_through(facts, source, client, |request| {
        let sends = request
            .method
            .as_deref()
            .is_some_and(|m| RUST_REQUEST_METHODS.contains(&m));
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

/// What a Go `http.Client{…}` literal says about its timeout, with the `Timeout` field assignments made to
/// the binding it is kept in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoClientTimeout<'t> {
    /// A non-zero `Timeout` in the literal or assigned later (`c.Timeout = …`).
    Set,
    /// `Timeout: 0`, which means none (the value node).
    Zero(Node<'t>),
    Absent,
}

/// Whether the literal `http.Client{…}` (kept in `binding`, if it is) gets a timeout.
pub fn go_client_literal_timeout<'t>(
    facts: &FileFacts<'t>,
    source: &str,
    literal: &Literal<'t>,
    binding: Option<&Binding>,
) -> GoClientTimeout<'t> {
    let zero = |value: Option<Node<'_>>| value.is_some_and(|v| is_zero(v, source));
    let explicit_zero = match literal.field("Timeout") {
        Some(field) if zero(field.value) => field.value,
        Some(_) => return GoClientTimeout::Set,
        None => None,
    };
    if binding.is_some_and(|b| {
        facts
            .field_assignments(b, "Timeout")
            .any(|a| !zero(a.value))
    }) {
        return GoClientTimeout::Set;
    }
    explicit_zero.map_or(GoClientTimeout::Absent, GoClientTimeout::Zero)
}

/// `http.DefaultClient.Timeout = …` (not zero) somewhere in the file: it bounds `http.Get` and every
/// `DefaultClient` call.
pub fn go_default_client_bounded(facts: &FileFacts<'_>, source: &str) -> bool {
    facts.assignments.iter().any(|a| {
        facts.resolve(&a.target).as_deref() == Some("net/http.DefaultClient.Timeout")
            && a.value.is_some_and(|v| !is_zero(v, source))
    })
}

/// How the requests made through a Go client binding are bounded: `Do(req)` by its request's context,
/// `Get`/`Head`/`Post`/`PostForm` not at all; other methods send nothing.
pub fn go_requests_through(
    facts: &FileFacts<'_>,
    kb: &KnowledgeBase,
    source: &str,
    binding: Option<&Binding>,
) -> RequestBound {
    requests_through(facts, source, binding, |call| {
        match call.method.as_deref() {
            Some("Do") => Some(go_request_bound(facts, kb, source, call.args.first().copied()).0),
            Some("Get" | "Head" | "Post" | "PostForm") => Some(RequestBound::Unbounded),
            _ => None,
        }
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

/// The request methods of an axios instance.
pub const AXIOS_METHODS: &[&str] = &[
    "request",
    "get",
    "delete",
    "head",
    "options",
    "post",
    "put",
    "patch",
    "postForm",
    "putForm",
    "patchForm",
];

/// Judges an options expression: an object literal (possibly through a local variable) with one of
/// `fields` bounds the request — unless the field is `0`.
pub fn judge_options<'f, 't>(
    facts: &'f FileFacts<'t>,
    source: &str,
    expr: Option<Node<'t>>,
    fields: &[&str],
) -> OptionsBound<'f, 't> {
    let Some(mut e) = expr else {
        return OptionsBound::Unbounded(None, None);
    };
    for _ in 0..8 {
        match e.kind() {
            "object" => {
                let Some(literal) = facts.literals.iter().find(|l| l.node == e) else {
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
            _ => return OptionsBound::Elsewhere(e),
        }
    }
    OptionsBound::Elsewhere(e)
}

fn is_zero(value: Node<'_>, source: &str) -> bool {
    node::text(value, source).trim() == "0"
}

/// The global `fetch` (also as `globalThis.fetch` / `window.fetch`).
pub fn is_global_fetch(call: &Call<'_>) -> bool {
    let global = match call.callee_text.as_str() {
        "fetch" => call.path.as_deref() == Some("fetch"),
        "globalThis.fetch" | "window.fetch" | "self.fetch" => true,
        _ => false,
    };
    global && !call.is_new
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

/// `axios.defaults.timeout = n` in this file bounds every call on the default instance.
pub fn axios_defaults_timeout(facts: &FileFacts<'_>, source: &str) -> bool {
    facts.assignments.iter().any(|a| {
        a.target
            .strip_suffix(".defaults.timeout")
            .is_some_and(|head| facts.resolve(head).as_deref() == Some("axios"))
            && a.value.is_some_and(|v| node::text(v, source).trim() != "0")
    })
}

/// Where an axios method takes its config: `get(url, config)`, `post(url, data, config)`,
/// `request(config)`, `axios(config)` / `axios(url, config)`.
pub fn axios_config_index(facts: &FileFacts<'_>, source: &str, call: &Call<'_>) -> usize {
    match call.method.as_deref() {
        Some("post" | "put" | "patch" | "postForm" | "putForm" | "patchForm") => 2,
        Some("request") => 0,
        Some(_) => 1,
        None => match call.args.first() {
            Some(first) if url_or_options(facts, source, *first) == Some(false) => 0,
            _ => 1,
        },
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
}
