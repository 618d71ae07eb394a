//! What happens to the error a call returns: it leaves the scope (`?`, `return err`, an uncaught exception, a
//! panic), a branch handles it (Go's `if err != nil`, a Rust `Err` arm, a TypeScript `catch`), it is dropped
//! (`_ = f()`, `let _ = f()`, `.ok()`, an empty `.catch`), or the code does not show. The delivery model asks it
//! about the calls that process a message before the ack.

use dsr_syntax::{node, Language};
use tree_sitter::Node;

use crate::facts::{Call, FileFacts};
use crate::models::control_flow::{self, contains};
use crate::models::def_use;
use crate::models::messaging::syntax::same_file_function;

/// Whether a call node hands a failure back to where it came from (a message nack, reject, dead-letter).
pub type HandsBack = fn(Node<'_>, &str) -> bool;

/// What happens to the error a call returns, seen from the code around it (`scope`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorFate<'t> {
    /// The failure leaves the scope: `?`, `return err`, an exception no `catch` stops, a panic.
    Propagated,
    /// A branch handles it: `failure` runs when the call fails (Go's `if err != nil` body, a Rust `Err` arm or
    /// `else`, a TypeScript `catch`); `leaves` says whether it always gets out (return/continue/throw, or a
    /// call the caller counts as handing the failure back, such as a nack).
    Branch {
        check: Node<'t>,
        failure: Option<Node<'t>>,
        leaves: bool,
    },
    /// The error is dropped: `_ = f()`, `let _ = f()`, `.ok()`, `.catch(() => {})`, an `err` never checked, a
    /// call of a same-file function that returns an error, used as a statement.
    Discarded(Node<'t>),
    /// No error to check, or none visible here.
    Unknown,
}

/// What happens to `call`'s error within `scope`. `hands_back` says whether a call node hands the failure
/// back to its source (a message nack): a failure branch that makes one gets out as surely as a `return`.
pub fn error_fate<'t>(
    facts: &FileFacts<'t>,
    call: &Call<'t>,
    scope: Node<'t>,
    source: &str,
    hands_back: HandsBack,
) -> ErrorFate<'t> {
    match facts.language {
        Language::Go => go_error_fate(facts, call, scope, source, hands_back),
        Language::Rust => rust_error_fate(facts, call, scope, source, hands_back),
        _ => ts_error_fate(facts, call, scope, source, hands_back),
    }
}

fn returns_error(facts: &FileFacts<'_>, call: &Call<'_>, source: &str) -> bool {
    let Some(function) = same_file_function(facts, call) else {
        return false;
    };
    let function = facts.functions[function].node;
    let result = function
        .child_by_field_name("result")
        .or_else(|| function.child_by_field_name("return_type"));
    result.is_some_and(|r| {
        let text = node::text(r, source);
        text.contains("error") || text.contains("Result")
    })
}

fn go_error_fate<'t>(
    facts: &FileFacts<'t>,
    call: &Call<'t>,
    scope: Node<'t>,
    source: &str,
    hands_back: HandsBack,
) -> ErrorFate<'t> {
    let mut n = call.node;
    while let Some(parent) = n
        .parent()
        .filter(|p| p.kind() == "parenthesized_expression")
    {
        n = parent;
    }
    let Some(parent) = n.parent() else {
        return ErrorFate::Unknown;
    };
    match parent.kind() {
        "expression_list" => {
            let Some(statement) = parent
                .parent()
                .filter(|s| matches!(s.kind(), "short_var_declaration" | "assignment_statement"))
            else {
                return ErrorFate::Unknown;
            };
            let lefts: Vec<Node<'t>> = statement
                .child_by_field_name("left")
                .map(|l| node::named_children(l).collect())
                .unwrap_or_default();
            let Some(last) = lefts.last() else {
                return ErrorFate::Unknown;
            };
            let name = node::text(*last, source);
            let is_error =
                lefts.len() > 1 || name.to_ascii_lowercase().contains("err") || name == "_";
            if !is_error {
                return ErrorFate::Unknown;
            }
            if name == "_" {
                // `_ = f()` exists to silence an unchecked-error lint: the value dropped is an error.
                return ErrorFate::Discarded(statement);
            }
            // `if err := f(); err != nil {…}`
            if let Some(owner) = statement.parent().filter(|p| {
                p.kind() == "if_statement"
                    && p.child_by_field_name("initializer") == Some(statement)
            }) {
                return go_branch(facts, owner, name, source, hands_back);
            }
            let err = [name.to_string()];
            let check = node::descendants(scope).find(|c| {
                c.start_byte() >= statement.end_byte()
                    && match c.kind() {
                        "if_statement" => c.child_by_field_name("condition").is_some_and(|cond| {
                            node::mentions(cond, &err, source, node::Mention::Variable)
                        }),
                        "expression_switch_statement" => {
                            node::mentions(*c, &err, source, node::Mention::Variable)
                        }
                        _ => false,
                    }
            });
            match check {
                Some(check) if check.kind() == "if_statement" => {
                    go_branch(facts, check, name, source, hands_back)
                }
                // `switch { case err == nil: … }`: decided case by case, not judged here.
                Some(_) => ErrorFate::Unknown,
                // Read on some path (returned, passed on, checked after the branches join): not dropped, but
                // not a branch this model can name either.
                None if def_use::read_later(facts, statement, name, scope, source) => {
                    ErrorFate::Unknown
                }
                None => ErrorFate::Discarded(statement),
            }
        }
        "expression_statement" => {
            if returns_error(facts, call, source) {
                ErrorFate::Discarded(parent)
            } else {
                ErrorFate::Unknown
            }
        }
        "binary_expression" => {
            // `if handle(m) != nil {…}`
            match parent.parent().filter(|p| p.kind() == "if_statement") {
                Some(check) => {
                    let failure = check.child_by_field_name("consequence");
                    ErrorFate::Branch {
                        check,
                        failure,
                        leaves: failure.is_some_and(|f| leaves(f, facts, source, hands_back)),
                    }
                }
                None => ErrorFate::Unknown,
            }
        }
        "return_statement" => ErrorFate::Propagated,
        _ => ErrorFate::Unknown,
    }
}

/// The branch an `if` on `err` takes on failure: the body for `err != nil`, the `else` for `err == nil`.
fn go_branch<'t>(
    facts: &FileFacts<'t>,
    check: Node<'t>,
    err: &str,
    source: &str,
    hands_back: HandsBack,
) -> ErrorFate<'t> {
    let Some(condition) = check.child_by_field_name("condition") else {
        return ErrorFate::Unknown;
    };
    let comparison = std::iter::once(condition)
        .chain(node::descendants(condition))
        .find(|c| {
            c.kind() == "binary_expression"
                && [
                    c.child_by_field_name("left"),
                    c.child_by_field_name("right"),
                ]
                .iter()
                .flatten()
                .any(|side| node::text(*side, source) == err)
                && [
                    c.child_by_field_name("left"),
                    c.child_by_field_name("right"),
                ]
                .iter()
                .flatten()
                .any(|side| side.kind() == "nil")
        });
    let Some(comparison) = comparison else {
        // `errors.Is(err, …)` and friends: a decision about some errors only.
        return ErrorFate::Unknown;
    };
    let operator = comparison
        .child_by_field_name("operator")
        .map(|o| node::text(o, source))
        .unwrap_or("");
    let failure = match operator {
        "!=" => check.child_by_field_name("consequence"),
        "==" => check.child_by_field_name("alternative"),
        _ => return ErrorFate::Unknown,
    };
    ErrorFate::Branch {
        check,
        failure,
        leaves: failure.is_some_and(|f| leaves(f, facts, source, hands_back)),
    }
}

fn rust_error_fate<'t>(
    facts: &FileFacts<'t>,
    call: &Call<'t>,
    scope: Node<'t>,
    source: &str,
    hands_back: HandsBack,
) -> ErrorFate<'t> {
    let mut n = call.node;
    loop {
        let Some(parent) = n.parent() else {
            return ErrorFate::Unknown;
        };
        match parent.kind() {
            "await_expression" | "parenthesized_expression" => n = parent,
            "try_expression" | "return_expression" => return ErrorFate::Propagated,
            "field_expression" => {
                let Some(method_call) = parent.parent().filter(|c| c.kind() == "call_expression")
                else {
                    return ErrorFate::Unknown;
                };
                let method = parent
                    .child_by_field_name("field")
                    .map(|f| node::text(f, source))
                    .unwrap_or("");
                match method {
                    "unwrap" | "expect" => return ErrorFate::Propagated,
                    "ok" | "unwrap_or" | "unwrap_or_default" | "unwrap_or_else" | "err" => {
                        return ErrorFate::Discarded(method_call)
                    }
                    "map_err" | "context" | "with_context" | "inspect_err" | "map" | "await" => {
                        n = method_call
                    }
                    _ => return ErrorFate::Unknown,
                }
            }
            "let_declaration" => {
                let pattern = parent.child_by_field_name("pattern");
                let text = pattern.map(|p| node::text(p, source)).unwrap_or("_");
                if text.starts_with('_') {
                    return ErrorFate::Discarded(parent);
                }
                if parent.child_by_field_name("alternative").is_some() {
                    // `let Ok(x) = f() else { … }`: the else block must diverge.
                    return ErrorFate::Propagated;
                }
                // `let res = f().await;` then `res?`, `match res`, `if let Err(_) = res`.
                let Some(pattern) = pattern.filter(|p| p.kind() == "identifier") else {
                    return ErrorFate::Unknown;
                };
                let name = node::text(pattern, source);
                let later_use = node::descendants(scope).find(|u| {
                    u.kind() == "identifier"
                        && u.start_byte() > parent.end_byte()
                        && node::text(*u, source) == name
                });
                let Some(later_use) = later_use else {
                    return ErrorFate::Discarded(parent);
                };
                n = later_use;
            }
            "let_condition" => return rust_let_branch(facts, parent, source, hands_back),
            "match_expression" => return rust_match_branch(facts, parent, source, hands_back),
            "expression_statement" => {
                return if returns_error(facts, call, source) {
                    ErrorFate::Discarded(parent)
                } else {
                    ErrorFate::Unknown
                }
            }
            _ => return ErrorFate::Unknown,
        }
    }
}

fn rust_let_branch<'t>(
    facts: &FileFacts<'t>,
    condition: Node<'t>,
    source: &str,
    hands_back: HandsBack,
) -> ErrorFate<'t> {
    let Some(check) = condition.parent().filter(|p| p.kind() == "if_expression") else {
        return ErrorFate::Unknown;
    };
    let pattern = condition
        .child_by_field_name("pattern")
        .map(|p| node::text(p, source))
        .unwrap_or("");
    let failure = if pattern.starts_with("Err") {
        check.child_by_field_name("consequence")
    } else if pattern.starts_with("Ok") {
        check.child_by_field_name("alternative")
    } else {
        return ErrorFate::Unknown;
    };
    ErrorFate::Branch {
        check,
        failure,
        leaves: failure.is_some_and(|f| leaves(f, facts, source, hands_back)),
    }
}

fn rust_match_branch<'t>(
    facts: &FileFacts<'t>,
    check: Node<'t>,
    source: &str,
    hands_back: HandsBack,
) -> ErrorFate<'t> {
    let arms: Vec<Node<'t>> = check
        .child_by_field_name("body")
        .map(|b| {
            node::named_children(b)
                .filter(|a| a.kind() == "match_arm")
                .collect()
        })
        .unwrap_or_default();
    let failure = arms.iter().find(|arm| {
        arm.child_by_field_name("pattern")
            .is_some_and(|p| node::text(p, source).starts_with("Err"))
    });
    let Some(failure) = failure else {
        return ErrorFate::Unknown;
    };
    ErrorFate::Branch {
        check,
        failure: Some(*failure),
        leaves: failure
            .child_by_field_name("value")
            .is_some_and(|v| leaves(v, facts, source, hands_back)),
    }
}

fn ts_error_fate<'t>(
    facts: &FileFacts<'t>,
    call: &Call<'t>,
    scope: Node<'t>,
    source: &str,
    hands_back: HandsBack,
) -> ErrorFate<'t> {
    // `process(msg).catch(() => …)`: the rejection is handled right there.
    if let Some(member) = call
        .node
        .parent()
        .filter(|p| p.kind() == "member_expression")
        .filter(|m| {
            m.child_by_field_name("property")
                .is_some_and(|p| node::text(p, source) == "catch")
        })
    {
        if let Some(catch_call) = member.parent().filter(|c| c.kind() == "call_expression") {
            let handler = catch_call
                .child_by_field_name("arguments")
                .and_then(|a| node::named_children(a).next());
            let rethrows = handler.is_some_and(|h| {
                node::descendants(h).any(|n| n.kind() == "throw_statement")
                    || node::descendants(h).any(|n| hands_back(n, source))
            });
            return if rethrows {
                ErrorFate::Propagated
            } else {
                ErrorFate::Discarded(catch_call)
            };
        }
    }
    let awaited = node::ancestors(call.node)
        .take_while(|a| *a != scope)
        .take_while(|a| !node::function_kinds(facts.language).contains(&a.kind()))
        .any(|a| matches!(a.kind(), "await_expression" | "return_statement"));
    let async_callee = same_file_function(facts, call).is_some_and(|f| facts.functions[f].is_async);
    if !awaited && async_callee {
        return ErrorFate::Unknown;
    }
    for t in node::ancestors(call.node).take_while(|a| *a != scope) {
        if node::function_kinds(facts.language).contains(&t.kind()) {
            break;
        }
        if t.kind() != "try_statement" {
            continue;
        }
        let in_body = t
            .child_by_field_name("body")
            .is_some_and(|b| contains(b, call.node));
        if !in_body {
            continue;
        }
        if let Some(handler) = t.child_by_field_name("handler") {
            let body = handler.child_by_field_name("body");
            return ErrorFate::Branch {
                check: t,
                failure: Some(handler),
                leaves: body.is_some_and(|b| leaves(b, facts, source, hands_back)),
            };
        }
    }
    ErrorFate::Propagated
}

/// Whether a block contains a way out for the failure path: an exit statement or a call that hands the failure back, outside nested
/// functions.
fn leaves(block: Node<'_>, facts: &FileFacts<'_>, source: &str, hands_back: HandsBack) -> bool {
    let language = facts.language;
    let kinds = node::function_kinds(language);
    let mut stack = vec![block];
    while let Some(n) = stack.pop() {
        if n != block && kinds.contains(&n.kind()) {
            continue;
        }
        if control_flow::statement_exit(n, source, language).is_some()
            || n.kind() == "try_expression"
            || hands_back(n, source)
        {
            return true;
        }
        stack.extend(node::named_children(n));
    }
    false
}
