//! HTTP clients and how the requests made through them are bounded in time: what a chain of builder calls does
//! to a client's timeout (sets it, turns it off, bounds only connecting, leaves it out) as the knowledge base's
//! `timeout` entries say, and whether every request made through a client binding is bounded on its own while
//! the client goes nowhere else, and how a Go request is bounded by the context it was built with. RES001 reads it; any rule that asks "does this client have a timeout?" can.

use dsr_core::kb::{ApiRole, ApiTimeout, KnowledgeBase};
use dsr_syntax::node;
use tree_sitter::Node;

use crate::facts::{Binding, Call, ChainLink, ContextDeadline, FileFacts, Origin};
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
