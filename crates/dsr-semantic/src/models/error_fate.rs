//! What happens to the error a call returns: it leaves the scope (`?`, `return err`, an uncaught exception, a
//! panic), a branch handles it (Go's `if err != nil`, a Rust `Err` arm, a TypeScript `catch`), it is dropped
//! (`_ = f()`, `let _ = f()`, `.ok()`, an empty `.catch`, an `err` never read, a promise nobody awaits), or the
//! code does not show. One computation, read by the delivery model (the calls that process a message before the
//! ack) and by OBS002 (a remote call's failure dropped without a trace); each reads the variants it cares about.

use dsr_core::kb::CallKinds;
use dsr_syntax::{node, Language};
use tree_sitter::Node;

use crate::facts::{Call, FileFacts};
use crate::models::control_flow::{self, contains};
use crate::models::def_use;
use crate::models::messaging::syntax::same_file_function;

/// Whether a call node hands a failure back to where it came from (a message nack, reject, dead-letter).
pub type HandsBack = fn(Node<'_>, &str) -> bool;

/// A [`HandsBack`] for questions with nowhere to hand a failure back to.
pub fn hands_nothing_back(_: Node<'_>, _: &str) -> bool {
    false
}

/// What is asked: the error of `value` (the call itself, or the end of the method chain it starts, see
/// [`chain_top`]), seen from the code of `scope`.
#[derive(Clone, Copy)]
pub struct Question<'t> {
    pub value: Node<'t>,
    pub scope: Node<'t>,
    /// Calls that hand a failure back: a failure branch that makes one gets out as surely as a `return`.
    pub hands_back: HandsBack,
    /// The caller knows the call returns a promise (TypeScript): one used as a bare statement floats.
    pub returns_promise: bool,
}

/// What happens to the error a call returns, seen from the code around it (`scope`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorFate<'t> {
    /// The failure leaves the scope: `?`, `return err`, an exception no `catch` stops, a panic.
    Propagated,
    /// A branch handles it: `failure` runs when the call fails (Go's `if err != nil` body, a Rust `Err` arm or
    /// `else`, a TypeScript `catch`); `leaves` says whether it always gets out (return/continue/throw, or a
    /// call the caller counts as handing the failure back, such as a nack); `empty` that the failure branch
    /// holds nothing but comments; `through` the `let` binding the result was first kept in (Rust), if any.
    Branch {
        check: Node<'t>,
        failure: Option<Node<'t>>,
        leaves: bool,
        empty: bool,
        through: Option<Node<'t>>,
    },
    /// The error is dropped (see [`Dropped`] for how), at `at`.
    Discarded(Discard<'t>),
    /// No error to check, or none visible here.
    Unknown,
}

/// Where and how an error is dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Discard<'t> {
    pub at: Node<'t>,
    pub how: Dropped<'t>,
    /// The `let` binding the result was first kept in (Rust), when it was dropped later through that name.
    pub through: Option<Node<'t>>,
}

/// How an error is dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dropped<'t> {
    /// Go `_ = f()`, `v, _ := f()`; `every_value` when every target is `_`.
    Blank { every_value: bool },
    /// Go: kept in `variable` and never read before it is assigned again or the function ends.
    /// `named_as_error`: the variable is an identifier named `err` or ending in `err`/`Err`.
    NeverRead {
        variable: Node<'t>,
        named_as_error: bool,
    },
    /// Go: `_ = tx.Rollback()` in a deferred function, a safety net whose error after a commit ("transaction
    /// already done", `sql.ErrTxDone`) is expected and says nothing.
    SafetyNet,
    /// Rust `let _ = f()`; `named` for `let _x = f()`.
    LetBlank { named: bool },
    /// Rust `.ok()`, `.unwrap_or(..)`, `.err()` …: turned into a value without the error; `method` is the method
    /// name node, `as_statement` when that value is dropped too.
    Converted {
        method: Node<'t>,
        as_statement: bool,
    },
    /// A call of a same-file function that returns an error, used as a statement.
    Unchecked,
    /// TypeScript `.catch(handler)` that neither rethrows nor hands the failure back; `silent` when the handler
    /// does nothing (`() => {}`, `() => null`) and the value it gives is not read afterwards. `raced`: the
    /// caught promise is an element of `Promise.race([…])` with a timer (`setTimeout`), the `Promise.race`
    /// call: the caller waits a moment and goes on whatever happens, a fire-and-forget by construction.
    Caught {
        handler: Option<Node<'t>>,
        silent: bool,
        raced: Option<Node<'t>>,
    },
    /// TypeScript: a promise used as a statement: neither awaited, returned nor handled.
    Floating,
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
    fate_of(
        facts,
        call,
        Question {
            value: call.node,
            scope,
            hands_back,
            returns_promise: false,
        },
        source,
    )
}

/// What happens to the error of `question.value`, which `call` starts.
pub fn fate_of<'t>(
    facts: &FileFacts<'t>,
    call: &Call<'t>,
    question: Question<'t>,
    source: &str,
) -> ErrorFate<'t> {
    match facts.language {
        Language::Go => go_error_fate(facts, call, question, source),
        Language::Rust => rust_error_fate(facts, call, question, source),
        _ => ts_error_fate(facts, call, question, source),
    }
}

/// The outermost expression of the method chain a call starts (`rdb.Get(ctx, k).Result()`,
/// `client.get(u).send().await`), looking through `.await` and parentheses. `.ok()`, `.catch()`, `.then()` and
/// `.finally()` end the chain: they decide what happens to the error.
pub fn chain_top<'t>(facts: &FileFacts<'t>, call: Node<'t>, source: &str) -> Node<'t> {
    let mut current = call;
    for _ in 0..16 {
        let Some(parent) = facts.parent(current) else {
            break;
        };
        match parent.kind() {
            "await_expression" | "parenthesized_expression" => current = parent,
            "selector_expression" | "field_expression" | "member_expression" => {
                let Some(outer) = facts
                    .parent(parent)
                    .filter(|p| p.kind() == "call_expression")
                else {
                    break;
                };
                let method = parent
                    .child_by_field_name("field")
                    .or_else(|| parent.child_by_field_name("property"))
                    .map(|f| node::text(f, source))
                    .unwrap_or("");
                if matches!(method, "ok" | "catch" | "then" | "finally") {
                    break;
                }
                current = outer;
            }
            _ => break,
        }
    }
    current
}

/// Where a call's result, and its error, ends up: in Go and Rust the end of the method chain it starts (see
/// [`chain_top`]); in TypeScript the call itself (a promise's chain is followed to its `.catch` by the model).
pub fn result_value<'t>(facts: &FileFacts<'t>, call: Node<'t>, source: &str) -> Node<'t> {
    match facts.language {
        Language::Go | Language::Rust => chain_top(facts, call, source),
        _ => call,
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

fn discarded<'t>(at: Node<'t>, how: Dropped<'t>) -> ErrorFate<'t> {
    ErrorFate::Discarded(Discard {
        at,
        how,
        through: None,
    })
}

/// A Go error variable by its name: `err`, `…err`, `…Err`.
fn named_as_error(variable: Node<'_>, source: &str) -> bool {
    variable.kind() == "identifier" && is_error_name(node::text(variable, source))
}

/// Whether a Go name is an error's by convention: `err`, `…err`, `…Err` (`dialErr`, not `errCount`).
pub(crate) fn is_error_name(name: &str) -> bool {
    name == "err" || name.ends_with("Err") || name.ends_with("err")
}

/// Whether the Go error variable `name` that `statement` assigns is read on some path before it is assigned
/// again (the shared def-use: an `err` set in each branch of an `if`/`switch` and checked after them is read),
/// or is a named result of the function (which every bare `return` reads).
fn go_error_read(
    facts: &FileFacts<'_>,
    call: &Call<'_>,
    statement: Node<'_>,
    name: &str,
    scope: Node<'_>,
    source: &str,
) -> bool {
    let Some(function) = call.function.map(|f| facts.outermost_function(f)) else {
        return true;
    };
    let named_result = facts.functions[function]
        .node
        .child_by_field_name("result")
        .is_some_and(|r| {
            node::descendants(r).any(|n| n.kind() == "identifier" && node::text(n, source) == name)
        });
    named_result || def_use::read_later(facts, statement, name, scope, source)
}

fn go_error_fate<'t>(
    facts: &FileFacts<'t>,
    call: &Call<'t>,
    question: Question<'t>,
    source: &str,
) -> ErrorFate<'t> {
    let Question {
        scope, hands_back, ..
    } = question;
    let mut n = question.value;
    while let Some(parent) = facts
        .parent(n)
        .filter(|p| p.kind() == "parenthesized_expression")
    {
        n = parent;
    }
    let Some(parent) = facts.parent(n) else {
        return ErrorFate::Unknown;
    };
    match parent.kind() {
        "expression_list" => {
            let Some(statement) = facts
                .parent(parent)
                .filter(|s| matches!(s.kind(), "short_var_declaration" | "assignment_statement"))
            else {
                return ErrorFate::Unknown;
            };
            // `a, err = f(), g()`: each value has its own target; only a single call's results are judged.
            if statement.child_by_field_name("right") != Some(parent)
                || node::named_children(parent).count() != 1
            {
                return ErrorFate::Unknown;
            }
            let lefts: Vec<Node<'t>> = statement
                .child_by_field_name("left")
                .map(|l| node::named_children(l).collect())
                .unwrap_or_default();
            let Some(last) = lefts.last().copied() else {
                return ErrorFate::Unknown;
            };
            let name = node::text(last, source);
            let is_error =
                lefts.len() > 1 || name.to_ascii_lowercase().contains("err") || name == "_";
            if !is_error {
                return ErrorFate::Unknown;
            }
            if name == "_" {
                // `_ = f()` exists to silence an unchecked-error lint: the value dropped is an error.
                let safety_net = call.method.as_deref().is_some_and(|m| {
                    // A transaction's deferred rollback, which fails by design after a commit.
                    CallKinds::builtin()
                        .errors
                        .deferred_safety_nets
                        .iter()
                        .any(|net| net == m)
                }) && facts
                    .ancestors(call.node)
                    .any(|a| a.kind() == "defer_statement");
                let how = if safety_net {
                    Dropped::SafetyNet
                } else {
                    Dropped::Blank {
                        every_value: lefts.iter().all(|t| node::text(*t, source) == "_"),
                    }
                };
                return discarded(statement, how);
            }
            if !go_error_read(facts, call, statement, name, scope, source) {
                return discarded(
                    statement,
                    Dropped::NeverRead {
                        variable: last,
                        named_as_error: named_as_error(last, source),
                    },
                );
            }
            // `if err := f(); err != nil {…}`
            if let Some(owner) = facts.parent(statement).filter(|p| {
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
                // `switch { case err == nil: … }`: decided case by case, not judged here. Read on some other
                // path (returned, passed on, checked after the branches join): not dropped, but not a branch
                // this model can name either.
                _ => ErrorFate::Unknown,
            }
        }
        "expression_statement" => {
            if returns_error(facts, call, source) {
                discarded(parent, Dropped::Unchecked)
            } else {
                ErrorFate::Unknown
            }
        }
        "binary_expression" => {
            // `if handle(m) != nil {…}`
            match facts.parent(parent).filter(|p| p.kind() == "if_statement") {
                Some(check) => branch(
                    facts,
                    check,
                    check.child_by_field_name("consequence"),
                    source,
                    hands_back,
                ),
                None => ErrorFate::Unknown,
            }
        }
        "return_statement" => ErrorFate::Propagated,
        _ => ErrorFate::Unknown,
    }
}

/// A branch whose `failure` side (if any) runs when the call fails; whether it always gets out is judged on
/// `exit` (the side itself, or a match arm's value).
fn branch<'t>(
    facts: &FileFacts<'t>,
    check: Node<'t>,
    failure: Option<Node<'t>>,
    source: &str,
    hands_back: HandsBack,
) -> ErrorFate<'t> {
    branch_exiting(facts, check, failure, failure, source, hands_back)
}

fn branch_exiting<'t>(
    facts: &FileFacts<'t>,
    check: Node<'t>,
    failure: Option<Node<'t>>,
    exit: Option<Node<'t>>,
    source: &str,
    hands_back: HandsBack,
) -> ErrorFate<'t> {
    ErrorFate::Branch {
        check,
        failure,
        leaves: exit.is_some_and(|f| leaves(f, facts, source, hands_back)),
        empty: failure.is_some_and(does_nothing),
        through: None,
    }
}

/// A failure side that holds nothing but comments: an empty block, a `catch {}`.
fn does_nothing(failure: Node<'_>) -> bool {
    let body = failure.child_by_field_name("body").unwrap_or(failure);
    matches!(body.kind(), "block" | "statement_block")
        && node::named_children(body).all(|c| c.kind() == "comment")
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
    let sides = |c: Node<'t>| {
        [
            c.child_by_field_name("left"),
            c.child_by_field_name("right"),
        ]
    };
    let comparison = std::iter::once(condition)
        .chain(node::descendants(condition))
        .find(|c| {
            c.kind() == "binary_expression"
                && sides(*c)
                    .iter()
                    .flatten()
                    .any(|side| node::text(*side, source) == err)
                && sides(*c).iter().flatten().any(|side| side.kind() == "nil")
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
    branch(facts, check, failure, source, hands_back)
}

fn rust_error_fate<'t>(
    facts: &FileFacts<'t>,
    call: &Call<'t>,
    question: Question<'t>,
    source: &str,
) -> ErrorFate<'t> {
    let Question {
        scope, hands_back, ..
    } = question;
    let mut n = question.value;
    // The `let` the result was kept in, once the walk follows its name.
    let mut through = None;
    let fate = loop {
        let Some(parent) = facts.parent(n) else {
            break ErrorFate::Unknown;
        };
        match parent.kind() {
            "await_expression" | "parenthesized_expression" => n = parent,
            "try_expression" | "return_expression" => break ErrorFate::Propagated,
            "field_expression" => {
                let Some(method_call) = facts
                    .parent(parent)
                    .filter(|c| c.kind() == "call_expression")
                else {
                    break ErrorFate::Unknown;
                };
                let Some(field) = parent.child_by_field_name("field") else {
                    break ErrorFate::Unknown;
                };
                match node::text(field, source) {
                    "unwrap" | "expect" => break ErrorFate::Propagated,
                    "ok" | "unwrap_or" | "unwrap_or_default" | "unwrap_or_else" | "err" => {
                        let as_statement = facts
                            .parent(method_call)
                            .is_some_and(|s| s.kind() == "expression_statement");
                        break discarded(
                            method_call,
                            Dropped::Converted {
                                method: field,
                                as_statement,
                            },
                        );
                    }
                    "map_err" | "context" | "with_context" | "inspect_err" | "map" | "await" => {
                        n = method_call
                    }
                    _ => break ErrorFate::Unknown,
                }
            }
            "let_declaration" => {
                let pattern = parent.child_by_field_name("pattern");
                let text = pattern.map(|p| node::text(p, source)).unwrap_or("_");
                if text.starts_with('_') {
                    break discarded(parent, Dropped::LetBlank { named: text != "_" });
                }
                if parent.child_by_field_name("alternative").is_some() {
                    // `let Ok(x) = f() else { … }`: the else block must diverge.
                    break ErrorFate::Propagated;
                }
                // `let res = f().await;` then `res?`, `match res`, `if let Err(_) = res`.
                let Some(pattern) = pattern.filter(|p| p.kind() == "identifier") else {
                    break ErrorFate::Unknown;
                };
                let name = node::text(pattern, source);
                let later_use = node::descendants(scope).find(|u| {
                    u.kind() == "identifier"
                        && u.start_byte() > parent.end_byte()
                        && node::text(*u, source) == name
                });
                let Some(later_use) = later_use else {
                    break discarded(
                        parent,
                        Dropped::NeverRead {
                            variable: pattern,
                            named_as_error: false,
                        },
                    );
                };
                through = through.or(Some(parent));
                n = later_use;
            }
            "let_condition" => break rust_let_branch(facts, parent, source, hands_back),
            "match_expression" => break rust_match_branch(facts, parent, source, hands_back),
            "expression_statement" => {
                break if returns_error(facts, call, source) {
                    discarded(parent, Dropped::Unchecked)
                } else {
                    ErrorFate::Unknown
                }
            }
            _ => break ErrorFate::Unknown,
        }
    };
    match fate {
        ErrorFate::Branch {
            check,
            failure,
            leaves,
            empty,
            ..
        } => ErrorFate::Branch {
            check,
            failure,
            leaves,
            empty,
            through,
        },
        ErrorFate::Discarded(discard) => ErrorFate::Discarded(Discard { through, ..discard }),
        other => other,
    }
}

/// `if let Err(e) = f()` (the body handles the failure) or `if let Ok(v) = f()` (the `else`, if any, does),
/// also written `Result::Err(e)`; read on the pattern's tree, so `if let ErrorKind::X = …` is neither.
fn rust_let_branch<'t>(
    facts: &FileFacts<'t>,
    condition: Node<'t>,
    source: &str,
    hands_back: HandsBack,
) -> ErrorFate<'t> {
    let Some(check) = facts
        .parent(condition)
        .filter(|p| p.kind() == "if_expression")
    else {
        return ErrorFate::Unknown;
    };
    let variant = condition
        .child_by_field_name("pattern")
        .and_then(|p| node::rust_variant(p, source));
    let failure = match variant {
        Some("Err") => check.child_by_field_name("consequence"),
        Some("Ok") => check.child_by_field_name("alternative"),
        _ => return ErrorFate::Unknown,
    };
    branch(facts, check, failure, source, hands_back)
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
            .is_some_and(|p| node::rust_variant(p, source) == Some("Err"))
    });
    let Some(failure) = failure else {
        return ErrorFate::Unknown;
    };
    branch_exiting(
        facts,
        check,
        Some(*failure),
        failure.child_by_field_name("value"),
        source,
        hands_back,
    )
}

fn ts_error_fate<'t>(
    facts: &FileFacts<'t>,
    call: &Call<'t>,
    question: Question<'t>,
    source: &str,
) -> ErrorFate<'t> {
    let Question {
        scope, hands_back, ..
    } = question;
    // `process(msg).catch(() => …)`, also further down a chain (`fetch(u).then(…).catch(…)`): the rejection is
    // handled right there.
    if let Some(catch_call) = catching_call(facts, question.value, source) {
        let handler = catch_call
            .child_by_field_name("arguments")
            .and_then(|a| node::named_children(a).next());
        let rethrows = handler.is_some_and(|h| {
            node::descendants(h).any(|n| n.kind() == "throw_statement")
                || node::descendants(h).any(|n| hands_back(n, source))
        });
        if rethrows {
            return ErrorFate::Propagated;
        }
        let silent = handler.is_some_and(|h| {
            is_empty_handler(h, source) && !failure_value_is_read(facts, catch_call, h, source)
        });
        let raced = raced_against_timer(facts, catch_call, source);
        return discarded(
            catch_call,
            Dropped::Caught {
                handler,
                silent,
                raced,
            },
        );
    }
    if question.returns_promise
        && facts
            .parent(question.value)
            .is_some_and(|p| p.kind() == "expression_statement")
    {
        return discarded(question.value, Dropped::Floating);
    }
    let awaited = node::awaits_inside_out(call.node)
        || facts
            .ancestors(call.node)
            .take_while(|a| *a != scope)
            .take_while(|a| !node::function_kinds(facts.language).contains(&a.kind()))
            .any(|a| matches!(a.kind(), "await_expression" | "return_statement"));
    let async_callee = same_file_function(facts, call).is_some_and(|f| facts.functions[f].is_async);
    if !awaited && async_callee {
        return ErrorFate::Unknown;
    }
    for t in facts.ancestors(call.node).take_while(|a| *a != scope) {
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
            return branch_exiting(
                facts,
                t,
                Some(handler),
                handler.child_by_field_name("body"),
                source,
                hands_back,
            );
        }
    }
    ErrorFate::Propagated
}

/// The `.catch(…)` call a promise's rejection reaches: up the chain of calls made on it (`.then`, `.finally`
/// and any other method pass a rejection on), through `await` and parentheses.
fn catching_call<'t>(facts: &FileFacts<'t>, value: Node<'t>, source: &str) -> Option<Node<'t>> {
    let mut current = value;
    for _ in 0..16 {
        let parent = facts.parent(current)?;
        match parent.kind() {
            "await_expression" | "parenthesized_expression" => current = parent,
            "member_expression" if parent.child_by_field_name("object") == Some(current) => {
                let outer = facts
                    .parent(parent)
                    .filter(|p| p.kind() == "call_expression")?;
                let property = parent.child_by_field_name("property")?;
                if node::text(property, source) == "catch" {
                    return Some(outer);
                }
                current = outer;
            }
            _ => return None,
        }
    }
    None
}

/// `Promise.race([promise, new Promise((resolve) => setTimeout(resolve, 150))])`: the `Promise.race` call when
/// `promise` is one of its elements and another element waits on `setTimeout`.
fn raced_against_timer<'t>(
    facts: &FileFacts<'t>,
    promise: Node<'t>,
    source: &str,
) -> Option<Node<'t>> {
    let array = facts.parent(promise).filter(|p| p.kind() == "array")?;
    let race = facts
        .parent(array)
        .filter(|p| p.kind() == "arguments")
        .and_then(|arguments| facts.parent(arguments))
        .filter(|call| call.kind() == "call_expression")?;
    let callee = race.child_by_field_name("function")?;
    if node::text(callee, source) != "Promise.race" {
        return None;
    }
    let timer = node::named_children(array)
        .filter(|element| *element != promise)
        .any(|element| {
            node::descendants(element).any(|n| {
                n.kind() == "call_expression"
                    && n.child_by_field_name("function")
                        .is_some_and(|f| node::text(f, source) == "setTimeout")
            })
        });
    timer.then_some(race)
}

/// `() => {}`, `() => undefined`, `() => null`, `function () {}`.
fn is_empty_handler(handler: Node<'_>, source: &str) -> bool {
    if !matches!(
        handler.kind(),
        "arrow_function" | "function_expression" | "function"
    ) {
        return false;
    }
    let Some(body) = handler.child_by_field_name("body") else {
        return false;
    };
    match body.kind() {
        "statement_block" => node::named_children(body).all(|c| c.kind() == "comment"),
        _ => matches!(
            node::text(body, source).trim(),
            "undefined" | "null" | "void 0" | "{}"
        ),
    }
}

/// `const row = await call().catch(() => null)` with `row` read later (`if (!row) throw …`): the handler turns
/// the failure into a value the code goes on to look at, so the failure is not dropped.
fn failure_value_is_read(
    facts: &FileFacts<'_>,
    catch_call: Node<'_>,
    handler: Node<'_>,
    source: &str,
) -> bool {
    let returns_value = handler
        .child_by_field_name("body")
        .is_some_and(|b| b.kind() != "statement_block");
    if !returns_value {
        return false;
    }
    let mut value = catch_call;
    while let Some(parent) = facts
        .parent(value)
        .filter(|p| matches!(p.kind(), "await_expression" | "parenthesized_expression"))
    {
        value = parent;
    }
    let Some(declarator) = facts
        .parent(value)
        .filter(|p| p.kind() == "variable_declarator")
        .filter(|d| d.child_by_field_name("value") == Some(value))
    else {
        return false;
    };
    let Some(name) = declarator
        .child_by_field_name("name")
        .filter(|n| n.kind() == "identifier")
    else {
        return false;
    };
    let Some(statement) = facts.parent(declarator) else {
        return false;
    };
    let Some(function) = facts
        .ancestors(statement)
        .find(|a| node::function_kinds(facts.language).contains(&a.kind()))
        .or_else(|| facts.ancestors(statement).last())
    else {
        return false;
    };
    def_use::read_later(facts, statement, node::text(name, source), function, source)
}

/// Whether a block contains a way out for the failure path: an exit statement or a call that hands the failure
/// back, outside nested functions.
fn leaves(block: Node<'_>, facts: &FileFacts<'_>, source: &str, hands_back: HandsBack) -> bool {
    let language = facts.language;
    let kinds = node::function_kinds(language);
    let mut stack = vec![block];
    while let Some(n) = stack.pop() {
        if n != block && kinds.contains(&n.kind()) {
            continue;
        }
        if control_flow::statement_exit(facts, n, source).is_some()
            || n.kind() == "try_expression"
            || hands_back(n, source)
        {
            return true;
        }
        stack.extend(node::named_children(n));
    }
    false
}

/// Whether the statement `s` runs on a path that is already failing: the rest of its block leaves the function
/// with an error (`return Err(e)`, Go `return …, err` with a non-`nil` error, `throw`). A failure dropped there
/// is secondary — best-effort bookkeeping of the first failure (`let _ = record_error(…)` before `return
/// Err(e)`), which the caller learns of anyway.
pub fn on_failure_path(facts: &FileFacts<'_>, s: Node<'_>, source: &str) -> bool {
    let language = facts.language;
    let mut next = facts.next_named_sibling(s);
    while let Some(current) = next {
        let inner = match current.kind() {
            "expression_statement" => node::named_children(current).next().unwrap_or(current),
            _ => current,
        };
        let fails = match inner.kind() {
            "throw_statement" => true,
            "return_expression" => node::named_children(inner)
                .next()
                .is_some_and(|value| is_rust_err(value, source)),
            "return_statement" if language == Language::Go => node::named_children(inner)
                .flat_map(|list| {
                    if list.kind() == "expression_list" {
                        node::named_children(list).collect::<Vec<_>>()
                    } else {
                        vec![list]
                    }
                })
                .last()
                .is_some_and(|value| value.kind() != "nil" && node::text(value, source) != "nil"),
            // A block's tail expression is its value: `Err(e)` ends a Rust function with an error.
            _ if language == Language::Rust && facts.next_named_sibling(current).is_none() => {
                is_rust_err(inner, source)
            }
            _ => false,
        };
        if fails {
            return true;
        }
        if control_flow::statement_exit(facts, current, source).is_some() {
            return false;
        }
        next = facts.next_named_sibling(current);
    }
    false
}

fn is_rust_err(value: Node<'_>, source: &str) -> bool {
    value.kind() == "call_expression"
        && value
            .child_by_field_name("function")
            .is_some_and(|f| node::text(f, source) == "Err")
}
