//! Coarse control flow over syntax trees: which code can run after which, which branches exclude each other,
//! which statements leave a block. Enough to order an ack against the processing of a message, or a rollback
//! against a `return`, without building a control-flow graph. Everything here is structural and errs towards
//! "can reach": a caller that reports a defect when something *cannot* happen must check for itself.
//! Parents come from the file's facts (`FileFacts::parent`): tree-sitter finds a parent by descending from the
//! root, so every climb here would cost as much as the file is wide.

use dsr_core::kb::{KnowledgeBase, PathGroupKind};
use dsr_syntax::{node, Language};
use tree_sitter::Node;

use crate::facts::FileFacts;

/// Node kinds whose named children run one after another.
pub(crate) fn is_sequence(kind: &str) -> bool {
    matches!(
        kind,
        "statement_list" | "block" | "statement_block" | "program" | "source_file" | "switch_case"
    ) || kind == "switch_default"
}

/// Loops, and in Go and TypeScript the `switch`/`select` statements that an unlabelled `break` also leaves.
fn is_break_target(kind: &str) -> bool {
    matches!(
        kind,
        "for_statement"
            | "for_in_statement"
            | "while_statement"
            | "do_statement"
            | "loop_expression"
            | "while_expression"
            | "for_expression"
            | "expression_switch_statement"
            | "type_switch_statement"
            | "select_statement"
            | "switch_statement"
    )
}

pub(crate) fn is_loop(kind: &str) -> bool {
    is_break_target(kind)
        && !matches!(
            kind,
            "expression_switch_statement"
                | "type_switch_statement"
                | "select_statement"
                | "switch_statement"
        )
}

/// Whether `inner` lies within `outer` (a node contains itself).
pub fn contains(outer: Node<'_>, inner: Node<'_>) -> bool {
    outer.start_byte() <= inner.start_byte() && inner.end_byte() <= outer.end_byte()
}

/// The function-like node (function, method, closure, func literal, arrow) nearest around `n`, `n` excluded.
pub fn enclosing_function<'t>(facts: &FileFacts<'t>, n: Node<'t>) -> Option<Node<'t>> {
    let kinds = node::function_kinds(facts.language);
    facts.ancestors(n).find(|a| kinds.contains(&a.kind()))
}

/// The function-like nodes strictly between `n` and `scope` (innermost first): closures `n` runs in.
pub fn closures_between<'t>(facts: &FileFacts<'t>, n: Node<'t>, scope: Node<'t>) -> Vec<Node<'t>> {
    let kinds = node::function_kinds(facts.language);
    facts
        .ancestors(n)
        .take_while(|a| *a != scope)
        .filter(|a| kinds.contains(&a.kind()) || a.kind() == "async_block")
        .collect()
}

/// The ancestor of `n` (or `n`) whose parent is `container`.
pub fn child_toward<'t>(
    facts: &FileFacts<'t>,
    container: Node<'t>,
    n: Node<'t>,
) -> Option<Node<'t>> {
    let mut current = n;
    loop {
        let parent = facts.parent(current)?;
        if parent == container {
            return Some(current);
        }
        current = parent;
    }
}

/// The nearest common ancestor of two nodes.
pub fn common_ancestor<'t>(facts: &FileFacts<'t>, a: Node<'t>, b: Node<'t>) -> Option<Node<'t>> {
    std::iter::once(a)
        .chain(facts.ancestors(a))
        .find(|candidate| contains(*candidate, b))
}

/// Whether `a` and `b` sit in different branches of one `if`, `switch`, `select` or `match`: no single run
/// executes both.
pub fn exclusive<'t>(facts: &FileFacts<'t>, a: Node<'t>, b: Node<'t>) -> bool {
    let Some(lca) = common_ancestor(facts, a, b) else {
        return false;
    };
    let (Some(ca), Some(cb)) = (child_toward(facts, lca, a), child_toward(facts, lca, b)) else {
        return false;
    };
    if ca == cb {
        return false;
    }
    match lca.kind() {
        "if_statement" | "if_expression" => {
            let branch = |c: Node<'_>| {
                lca.child_by_field_name("consequence") == Some(c)
                    || lca.child_by_field_name("alternative") == Some(c)
            };
            branch(ca) && branch(cb)
        }
        "expression_switch_statement"
        | "type_switch_statement"
        | "select_statement"
        | "switch_body"
        | "match_block" => is_case(ca.kind()) && is_case(cb.kind()),
        "ternary_expression" => {
            lca.child_by_field_name("condition") != Some(ca)
                && lca.child_by_field_name("condition") != Some(cb)
        }
        _ => false,
    }
}

pub(crate) fn is_case(kind: &str) -> bool {
    matches!(
        kind,
        "expression_case"
            | "default_case"
            | "type_case"
            | "communication_case"
            | "switch_case"
            | "switch_default"
            | "match_arm"
    )
}

/// How a statement leaves the code around it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Exit<'t> {
    /// `return`, `throw`, `panic(…)`, `panic!`, `os.Exit`, `log.Fatal…`: the function (or process) is left.
    Function,
    /// `break`/`continue`: the loop (or switch) `target` is left or restarted.
    Loop { target: Option<Node<'t>> },
}

/// Whether the statement `s` itself (not something nested in it) leaves the code around it.
pub fn statement_exit<'t>(facts: &FileFacts<'t>, s: Node<'t>, source: &str) -> Option<Exit<'t>> {
    let language = facts.language;
    let inner = match s.kind() {
        "expression_statement" => node::named_children(s).next().unwrap_or(s),
        _ => s,
    };
    match inner.kind() {
        "return_statement" | "return_expression" | "throw_statement" => Some(Exit::Function),
        "break_statement" | "continue_statement" | "break_expression" | "continue_expression" => {
            let labelled = node::named_children(inner).any(|c| {
                matches!(
                    c.kind(),
                    "label_name" | "label" | "statement_identifier" | "loop_label"
                )
            });
            let continues = inner.kind().starts_with("continue");
            let target = if labelled {
                None
            } else {
                facts.ancestors(inner).find(|a| {
                    if continues {
                        is_loop(a.kind())
                    } else {
                        is_break_target(a.kind())
                    }
                })
            };
            Some(Exit::Loop { target })
        }
        "goto_statement" => Some(Exit::Loop { target: None }),
        "call_expression" => {
            let callee = inner.child_by_field_name("function")?;
            exits_process(node::text(callee, source), language).then_some(Exit::Function)
        }
        "macro_invocation" => {
            let name = inner
                .child_by_field_name("macro")
                .map(|m| node::text(m, source))
                .unwrap_or("");
            exit_macro(name, language).then_some(Exit::Function)
        }
        _ => None,
    }
}

/// Whether a call written `callee` ends the function or process without returning (kb group `process-exit`:
/// `panic`, `os.Exit`, `log.Fatal`, `std::process::exit`, `process.exit`).
pub fn exits_process(callee: &str, language: Language) -> bool {
    KnowledgeBase::builtin().is_in_group(language, callee, PathGroupKind::ProcessExit)
}

/// Whether a Rust macro (by its name as written, `anyhow::bail` counts as `bail`) ends the function (kb group
/// `exit-macro`: `panic!`, `unreachable!`, `todo!`, `bail!`).
pub fn exit_macro(name: &str, language: Language) -> bool {
    let name = name.rsplit("::").next().unwrap_or(name);
    KnowledgeBase::builtin().is_in_group(language, name, PathGroupKind::ExitMacro)
}

/// The statements of a sequence node (a block's statements; Go blocks hold a `statement_list`).
pub fn statements(block: Node<'_>) -> Vec<Node<'_>> {
    let list = if block.kind() == "block" {
        node::named_children(block)
            .find(|c| c.kind() == "statement_list")
            .unwrap_or(block)
    } else {
        block
    };
    node::named_children(list)
        .filter(|c| !c.kind().contains("comment"))
        .collect()
}

/// Whether running `block` always leaves it through an exit somewhere inside (a `return`, `continue`, `break`,
/// `throw` or panic as one of its own statements, or in every branch of an `if`/`else` among them).
pub fn always_exits<'t>(facts: &FileFacts<'t>, block: Node<'t>, source: &str) -> bool {
    statements(block).iter().any(|s| {
        statement_exit(facts, *s, source).is_some() || branches_all_exit(facts, *s, source)
    })
}

fn branches_all_exit<'t>(facts: &FileFacts<'t>, s: Node<'t>, source: &str) -> bool {
    let s = match s.kind() {
        "expression_statement" => node::named_children(s).next().unwrap_or(s),
        _ => s,
    };
    if !matches!(s.kind(), "if_statement" | "if_expression") {
        return false;
    }
    let Some(consequence) = s.child_by_field_name("consequence") else {
        return false;
    };
    let Some(alternative) = s.child_by_field_name("alternative") else {
        return false;
    };
    // `else { … }` is an `else_clause` in Rust and TypeScript, a block (or another `if`) in Go.
    let alternative = match alternative.kind() {
        "else_clause" => node::named_children(alternative)
            .next()
            .unwrap_or(alternative),
        _ => alternative,
    };
    let exits = |n: Node<'t>| {
        if matches!(n.kind(), "if_statement" | "if_expression") {
            branches_all_exit(facts, n, source)
        } else if is_sequence(n.kind()) {
            always_exits(facts, n, source)
        } else {
            statement_exit(facts, n, source).is_some()
        }
    };
    exits(consequence) && exits(alternative)
}

/// Whether an exit statement of the sequence `container` placed after `after` and before `before` (by position)
/// keeps the code that follows it from reaching `goal`.
fn exit_between<'t>(
    facts: &FileFacts<'t>,
    container: Node<'t>,
    after: usize,
    before: usize,
    goal: Node<'t>,
    source: &str,
) -> bool {
    let list = statements(container);
    list.iter()
        .filter(|s| s.start_byte() >= after && s.end_byte() <= before)
        .any(|s| {
            let exit = statement_exit(facts, *s, source)
                .or_else(|| branches_all_exit(facts, *s, source).then_some(Exit::Function));
            match exit {
                Some(Exit::Function) => true,
                // A `break`/`continue` stops this iteration; code after the loop (or switch) still runs.
                Some(Exit::Loop {
                    target: Some(target),
                }) => contains(target, goal),
                Some(Exit::Loop { target: None }) => true,
                None => false,
            }
        })
}

/// Whether, in one run, `b` can execute after `a` has: `a` comes first, they are not in exclusive branches, and
/// no statement after `a` leaves the blocks around `a` before control gets to `b`.
pub fn can_reach<'t>(facts: &FileFacts<'t>, a: Node<'t>, b: Node<'t>, source: &str) -> bool {
    if a.end_byte() > b.start_byte() || exclusive(facts, a, b) {
        return false;
    }
    let mut current = a;
    while let Some(parent) = facts.parent(current) {
        if contains(parent, b) {
            // The level where both meet: exits between the two statements count.
            if is_sequence(parent.kind()) || parent.kind() == "block" {
                let end_a = child_toward(facts, parent, a).map_or(a.end_byte(), |c| c.end_byte());
                let start_b =
                    child_toward(facts, parent, b).map_or(b.start_byte(), |c| c.start_byte());
                return !exit_between(facts, parent, end_a, start_b, b, source);
            }
            return true;
        }
        if is_sequence(parent.kind()) || parent.kind() == "block" {
            let end_a = child_toward(facts, parent, a).map_or(a.end_byte(), |c| c.end_byte());
            if exit_between(facts, parent, end_a, parent.end_byte(), b, source) {
                return false;
            }
        }
        current = parent;
    }
    true
}

/// The `defer` statement `n` belongs to (Go), within `scope`.
pub fn deferred_by<'t>(facts: &FileFacts<'t>, n: Node<'t>, scope: Node<'t>) -> Option<Node<'t>> {
    facts
        .ancestors(n)
        .take_while(|a| *a != scope)
        .find(|a| a.kind() == "defer_statement")
}

/// The `try` statement whose `finally` block holds `n` (TypeScript), within `scope`.
pub fn finally_of<'t>(facts: &FileFacts<'t>, n: Node<'t>, scope: Node<'t>) -> Option<Node<'t>> {
    facts
        .ancestors(n)
        .take_while(|a| *a != scope)
        .find(|a| a.kind() == "finally_clause")
        .and_then(|f| facts.parent(f))
}

/// Whether `n` runs only when a condition holds, between itself and `scope`: inside an `if`, a `match` arm, a
/// `case`, a `catch`, a `&&`/`||` operand.
pub fn is_conditional<'t>(facts: &FileFacts<'t>, n: Node<'t>, scope: Node<'t>) -> bool {
    let mut current = n;
    while let Some(parent) = facts.parent(current) {
        if parent == scope {
            return false;
        }
        let conditional = match parent.kind() {
            "if_statement" | "if_expression" => {
                parent.child_by_field_name("condition") != Some(current)
                    && parent.child_by_field_name("initializer") != Some(current)
            }
            "match_arm" | "expression_case" | "default_case" | "type_case"
            | "communication_case" | "switch_case" | "switch_default" | "catch_clause"
            | "ternary_expression" => true,
            "binary_expression" => parent.child_by_field_name("right") == Some(current),
            _ => false,
        };
        if conditional {
            return true;
        }
        current = parent;
    }
    false
}
