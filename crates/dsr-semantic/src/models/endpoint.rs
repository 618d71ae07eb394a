//! Where the server of an outgoing Go HTTP request comes from: an endpoint the client was configured with, or
//! something else (a public host written in the code, an address read from data, a URL handed to a helper).
//!
//! BKP004 asks "is the server trusted to answer with small bodies?" of a response body read whole. The question is
//! worth asking of a third party — GitHub's API at a host written in the code, an OCSP responder named by a
//! certificate, a DNS provider found by a lookup — and has a plain yes for a server the code's owner runs or its
//! operator chose: the Elasticsearch cluster a client's pool points at, the base URL of a client struct set from
//! its configuration when it was built (`baseURL: cfg.BaseURL`), an SDK's server URL. The code tells them apart by
//! where the request's URL comes from ([`configured_response`]):
//!
//! - a path with no host (`"/" + endpoint`): the host is filled in by a client or transport set up elsewhere;
//! - a field of the client (the method's receiver, or a parameter of a type of this package) whose every value
//!   stored in the file comes from a parameter of the function storing it — a constructor's configuration —
//!   or is itself such a path; a field holding a literal host (`baseURL: "https://api.github.com"`) is not.
//!
//! A URL is followed back through locals, `+`, the formats and URL helpers of the knowledge base (`fmt.Sprintf`,
//! `strings.TrimRight`, `url.Parse`: `[[group]]` kinds `string-format` and `url-from-first-arg`), methods of a URL
//! value (`endpoint.String()`, `base.Parse(p)`) and the returns of same-file helpers, their parameters bound to the
//! caller's arguments. A URL that is a parameter of the function making the request (a helper's `url string`) is
//! not configured: each caller may pass another server. Anything the file does not show is not configured either,
//! so the question stays.

use dsr_core::kb::{ApiRole, PathGroupKind};
use dsr_core::KnowledgeBase;
use dsr_syntax::{node, Language};
use tree_sitter::Node;

use crate::facts::{Call, FileFacts, Origin};
use crate::models::callers::returned_values;
use crate::models::messaging::syntax::same_file_function;

/// How deep a URL is followed (locals, helpers, fields): enough for a value built in three or four steps.
const MAX_DEPTH: usize = 12;

/// A same-file helper being followed: its parameters stand for the arguments of the call that entered it.
#[derive(Clone, Copy)]
struct Frame<'a, 't> {
    function: usize,
    call: &'a Call<'t>,
}

struct Walk<'a, 't> {
    facts: &'a FileFacts<'t>,
    kb: &'a KnowledgeBase,
    source: &'a str,
}

/// Go: whether the response `name`, read at `offset` in `function`, comes from a request to a configured
/// endpoint (see the module docs). A response handed in as a parameter is followed to the same-file calls of
/// the function: every one must pass such a response.
pub fn configured_response(
    facts: &FileFacts<'_>,
    kb: &KnowledgeBase,
    source: &str,
    function: Option<usize>,
    name: &str,
    offset: usize,
) -> bool {
    if facts.language != Language::Go {
        return false;
    }
    let walk = Walk { facts, kb, source };
    walk.response(function, name, offset, 0)
}

impl<'a, 't> Walk<'a, 't> {
    fn text(&self, n: Node<'_>) -> &'a str {
        node::text(n, self.source)
    }

    fn response(&self, function: Option<usize>, name: &str, offset: usize, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        match self.facts.origin_of(function, name, offset) {
            Origin::Value(value) => {
                let Some(call) = self.facts.call_index(value).map(|i| &self.facts.calls[i]) else {
                    return false;
                };
                self.request_url(call)
                    .is_some_and(|(url, f)| self.url(url, f, &[], false, depth + 1))
            }
            Origin::Parameter { function, index } => {
                let callers = self.callers(function);
                !callers.is_empty()
                    && callers.iter().all(|call| {
                        call.args.get(index).is_some_and(|arg| {
                            arg.kind() == "identifier"
                                && self.response(
                                    call.function,
                                    self.text(*arg),
                                    arg.start_byte(),
                                    depth + 1,
                                )
                        })
                    })
            }
            Origin::Unknown => false,
        }
    }

    /// The same-file calls of `function`, by its name (`c.handleFailedRequest(res)`, `decode(res)`), its own
    /// recursive calls left out.
    fn callers(&self, function: usize) -> Vec<&'a Call<'t>> {
        let facts = self.facts;
        let name = &facts.functions[function].name;
        let last = name.rsplit('.').next().unwrap_or(name);
        let own = facts.outermost_function(function);
        facts
            .calls_named(last)
            .filter(|call| {
                call.function
                    .is_some_and(|f| facts.outermost_function(f) != own)
            })
            .filter(|call| same_file_function(facts, call) == Some(function))
            .collect()
    }

    /// The URL a request-sending call sends to, with the function it is written in: an argument with the kb
    /// role `url` (`http.Get(url)`), or the `url` argument of the request constructor a request argument was
    /// built with (`client.Do(req)` after `req, err := http.NewRequestWithContext(ctx, m, url, body)`).
    fn request_url(&self, call: &'a Call<'t>) -> Option<(Node<'t>, Option<usize>)> {
        let facts = self.facts;
        let url_of = |c: &Call<'t>| {
            let api = self.kb.api(facts.language, c.path.as_deref()?)?;
            c.args.get(api.param("url")?).copied()
        };
        if let Some(url) = url_of(call) {
            return Some((url, call.function));
        }
        call.args.iter().find_map(|arg| {
            if arg.kind() != "identifier" {
                return None;
            }
            let Origin::Value(value) =
                facts.origin_of(call.function, self.text(*arg), arg.start_byte())
            else {
                return None;
            };
            let made = &facts.calls[facts.call_index(value)?];
            let api = self.kb.api(facts.language, made.path.as_deref()?)?;
            if api.role != Some(ApiRole::Request) {
                return None;
            }
            url_of(made).map(|url| (url, made.function))
        })
    }

    /// Whether the URL expression `url`, written in `function`, names a configured endpoint. `stored` is set
    /// while judging a value stored in a client's field: there a parameter of the storing function is the
    /// client's configuration.
    fn url(
        &self,
        url: Node<'t>,
        function: Option<usize>,
        frames: &[Frame<'a, 't>],
        stored: bool,
        depth: usize,
    ) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let facts = self.facts;
        match url.kind() {
            "parenthesized_expression" => url
                .named_child(0)
                .is_some_and(|inner| self.url(inner, function, frames, stored, depth + 1)),
            "interpreted_string_literal" | "raw_string_literal" => {
                node::string_literal_value(url, self.source, facts.language)
                    .is_some_and(|value| value.starts_with('/'))
            }
            "binary_expression" => {
                let plus = url
                    .child_by_field_name("operator")
                    .is_some_and(|o| self.text(o) == "+");
                plus && url
                    .child_by_field_name("left")
                    .is_some_and(|left| self.url(left, function, frames, stored, depth + 1))
            }
            "call_expression" => {
                let Some(call) = facts.call_index(url).map(|i| &facts.calls[i]) else {
                    return false;
                };
                self.call(call, frames, stored, depth)
            }
            "identifier" => self.name(url, function, frames, stored, depth),
            "selector_expression" => self.field(url, function, stored, depth),
            _ => false,
        }
    }

    fn call(
        &self,
        call: &'a Call<'t>,
        frames: &[Frame<'a, 't>],
        stored: bool,
        depth: usize,
    ) -> bool {
        let facts = self.facts;
        let in_group = |group| {
            call.path
                .as_deref()
                .is_some_and(|p| self.kb.is_in_group(facts.language, p, group))
        };
        let follow = |n: Node<'t>| self.url(n, call.function, frames, stored, depth + 1);
        if in_group(PathGroupKind::StringFormat) {
            let Some(format) = call
                .args
                .first()
                .and_then(|f| node::string_literal_value(*f, self.source, facts.language))
            else {
                return false;
            };
            return if format.starts_with("%s") || format.starts_with("%v") {
                call.args.get(1).is_some_and(|a| follow(*a))
            } else {
                format.starts_with('/')
            };
        }
        if in_group(PathGroupKind::UrlFromFirstArg) {
            return call.args.first().is_some_and(|a| follow(*a));
        }
        if let Some(helper) = same_file_function(facts, call) {
            let mut inner = frames.to_vec();
            inner.push(Frame {
                function: helper,
                call,
            });
            // The values the helper returns on success: an empty string or `nil` goes with an error.
            let values: Vec<Node<'t>> = returned_values(facts, helper)
                .into_iter()
                .filter_map(|v| match v.kind() {
                    "expression_list" => v.named_child(0),
                    _ => Some(v),
                })
                .filter(|v| !matches!(self.text(*v), "\"\"" | "nil"))
                .collect();
            return !values.is_empty()
                && values.iter().all(|v| {
                    self.url(
                        *v,
                        facts.function_at(v.start_byte()),
                        &inner,
                        stored,
                        depth + 1,
                    )
                });
        }
        // A method of a URL value keeps its server: `endpoint.String()`, `base.Parse(p)`, `u.JoinPath(p)`.
        match (call.path.as_deref(), call.receiver) {
            (None, Some(receiver)) if call.method.is_some() => follow(receiver),
            _ => false,
        }
    }

    fn name(
        &self,
        name: Node<'t>,
        function: Option<usize>,
        frames: &[Frame<'a, 't>],
        stored: bool,
        depth: usize,
    ) -> bool {
        let facts = self.facts;
        match facts.origin_of(function, self.text(name), name.start_byte()) {
            Origin::Value(value) => {
                // A range variable takes the elements of a collection: data, not a configured endpoint.
                let ranged = facts
                    .parent(value)
                    .is_some_and(|p| p.kind() == "range_clause");
                !ranged
                    && self.url(
                        value,
                        facts.function_at(value.start_byte()),
                        frames,
                        stored,
                        depth + 1,
                    )
            }
            Origin::Parameter { function, index } => {
                match frames.split_last() {
                    // A helper's parameter is what its caller passed.
                    Some((frame, outer)) if frame.function == function => {
                        frame.call.args.get(index).is_some_and(|arg| {
                            self.url(*arg, frame.call.function, outer, stored, depth + 1)
                        })
                    }
                    _ => stored,
                }
            }
            Origin::Unknown => false,
        }
    }

    /// `c.baseURL`: a field of the client — the method's receiver, or a parameter whose type is declared in this
    /// package — whose every value stored in the file is configured. `cfg.BaseURL` while judging a stored value:
    /// a field of the storing function's parameter, its configuration.
    fn field(
        &self,
        selector: Node<'t>,
        function: Option<usize>,
        stored: bool,
        depth: usize,
    ) -> bool {
        let facts = self.facts;
        let (Some(operand), Some(field)) = (
            selector.child_by_field_name("operand"),
            selector.child_by_field_name("field"),
        ) else {
            return false;
        };
        if operand.kind() != "identifier" {
            return false;
        }
        let operand_name = self.text(operand);
        let parameter = match facts.origin_of(function, operand_name, operand.start_byte()) {
            Origin::Parameter { function, index } => Some((function, index)),
            _ => None,
        };
        if stored && parameter.is_some() {
            return true;
        }
        let of_client = self.is_receiver(function, operand_name)
            || parameter.is_some_and(|(f, i)| {
                facts.functions[f].params.get(i).is_some_and(|p| {
                    let ty = p.type_text.trim_start_matches('*');
                    !ty.is_empty() && !ty.contains('.') && !ty.starts_with('[')
                })
            });
        if !of_client {
            return false;
        }
        let field = self.text(field);
        let values = self.stored_values(field);
        !values.is_empty()
            && values
                .iter()
                .all(|(value, storing)| self.url(*value, *storing, &[], true, depth + 1))
    }

    /// The values stored in fields named `field` anywhere in the file: keyed elements of composite literals
    /// (`baseURL: cfg.BaseURL`) and assignments (`c.baseURL = u`), each with the function it is written in.
    fn stored_values(&self, field: &str) -> Vec<(Node<'t>, Option<usize>)> {
        let facts = self.facts;
        let suffix = format!(".{field}");
        let keyed = facts.literals.iter().flat_map(|literal| {
            literal
                .fields
                .iter()
                .filter(|f| f.name == field)
                .filter_map(|f| f.value_expression())
                .map(|v| (v, literal.function))
        });
        let assigned = facts
            .assignments
            .iter()
            .filter(|a| !a.declares && a.target.ends_with(&suffix))
            .filter_map(|a| a.value.map(|v| (v, a.function)));
        keyed.chain(assigned).collect()
    }

    /// `name` is the receiver of the method `function` is (or is nested in): `func (c *Client) do(…)`.
    fn is_receiver(&self, function: Option<usize>, name: &str) -> bool {
        let Some(function) = function else {
            return false;
        };
        let method = self.facts.functions[self.facts.outermost_function(function)].node;
        method
            .child_by_field_name("receiver")
            .and_then(|list| node::named_children(list).next())
            .and_then(|declaration| declaration.child_by_field_name("name"))
            .is_some_and(|n| self.text(n) == name)
    }
}
