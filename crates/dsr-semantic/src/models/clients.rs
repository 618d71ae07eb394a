//! HTTP clients and how the requests made through them are bounded in time: what a chain of builder calls does
//! to a client's timeout (sets it, turns it off, bounds only connecting, leaves it out) as the knowledge base's
//! `timeout` entries say, and whether every request made through a client binding is bounded on its own while
//! the client goes nowhere else. RES001 reads it; any rule that asks "does this client have a timeout?" can.

use dsr_core::kb::{ApiTimeout, KnowledgeBase};
use dsr_syntax::node;
use tree_sitter::Node;

use crate::facts::{Binding, Call, ChainLink, FileFacts};

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
