//! Intraprocedural def-use over the structured control flow: is the value one statement gives a variable read
//! on some path before it is overwritten or the function ends? Branches join (`if`/`else`, `switch`, `match`:
//! a read in any branch counts, the value dies only when every branch overwrites it or leaves), loops go round
//! (a read earlier in the loop body sees the value on the next iteration), early exits end a path (`return`,
//! `panic`, `throw`), `break`/`continue` go where they lead. Closures that capture the variable may run at any
//! time (a deferred `func() { if err != nil … }()`), so they count as reads.
//!
//! The walk only goes forward from the definition and stops at the first read or at the overwrite on every path,
//! so a typical query (`_, err = f()` then `if err != nil`) looks at one or two statements.

use dsr_syntax::{node, Language};
use rustc_hash::FxHashMap;
use tree_sitter::Node;

use crate::facts::FileFacts;
use crate::models::control_flow::{self, is_case, is_loop, is_sequence, Exit};

/// What one statement does to the value, entered with the value live.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Flow {
    /// Some path through it reads the value.
    Read,
    /// No path gets past it with the value: every path overwrites it or leaves.
    Dead,
    /// Some path gets past it with the value unread and intact.
    Live,
}

/// Whether the value `definition` (a statement assigning `name`) gives the variable is read on some path before
/// it is overwritten or `function` ends. `function` is the function node the definition belongs to.
/// Parents and siblings come from `facts` (tree-sitter computes each from the root, so climbing and stepping
/// through statements that way was quadratic in the file's width).
pub fn read_later<'t>(
    facts: &FileFacts<'t>,
    definition: Node<'t>,
    name: &str,
    function: Node<'t>,
    source: &str,
) -> bool {
    if name.is_empty() || name == "_" {
        return false;
    }
    let mut walk = Walk {
        facts,
        name,
        definition,
        source,
        language: facts.language,
        resumed: FxHashMap::default(),
    };
    if walk.captured(function) {
        return true;
    }
    walk.after(definition)
}

struct Walk<'a, 't> {
    facts: &'a FileFacts<'t>,
    name: &'a str,
    definition: Node<'t>,
    source: &'a str,
    language: Language,
    /// Answers for "is the value read after control leaves this loop", reused by every `break` that leads there.
    resumed: FxHashMap<usize, bool>,
}

impl<'t> Walk<'_, 't> {
    /// The next named sibling of `n`: its parent from the facts, then a cursor over the parent's children.
    fn next_named_sibling(&self, n: Node<'t>) -> Option<Node<'t>> {
        let parent = self.facts.parent(n)?;
        let mut cursor = parent.walk();
        let mut children = parent.named_children(&mut cursor);
        children.find(|child| *child == n)?;
        children.next()
    }

    /// A closure of `function` (not the one holding the definition) that reads the variable and does not declare
    /// its own: it may run later, at any time.
    fn captured(&self, function: Node<'t>) -> bool {
        let kinds = node::function_kinds(self.language);
        node::descendants(function).any(|closure| {
            closure != function
                && kinds.contains(&closure.kind())
                && !control_flow::contains(closure, self.definition)
                && self.reads(closure)
                && !node::descendants(closure).any(|d| self.declares(d))
        })
    }

    /// Whether a path from the end of `from` reads the value: the statements after it, then out through the
    /// blocks, branches and loops around it, up to the end of the function.
    fn after(&mut self, from: Node<'t>) -> bool {
        let mut current = from;
        while let Some(parent) = self.facts.parent(current) {
            let kind = parent.kind();
            if node::function_kinds(self.language).contains(&kind) {
                return false;
            }
            if node::loop_kinds(self.language).contains(&kind) {
                // The body ran to its end (or the header was evaluated): the loop goes round.
                if self.loop_reads(parent) {
                    return true;
                }
            } else if is_branching(kind) && !is_branch(parent, current) {
                // The definition is in an `if`'s initializer or condition, or a `switch`'s header: the
                // branches come next.
                match self.rest_of_branching(parent, current) {
                    Flow::Read => return true,
                    Flow::Dead => return false,
                    Flow::Live => {}
                }
            } else if !is_branching(kind) {
                let mut next = self.next_named_sibling(current);
                while let Some(statement) = next {
                    match self.flow(statement) {
                        Flow::Read => return true,
                        Flow::Dead => return false,
                        Flow::Live => {}
                    }
                    next = self.next_named_sibling(statement);
                }
            }
            current = parent;
        }
        false
    }

    /// Whether anything in a loop (its header, or its body from the start) reads the value on entry.
    fn loop_reads(&mut self, the_loop: Node<'t>) -> bool {
        let body = the_loop.child_by_field_name("body");
        let header_reads = node::named_children(the_loop)
            .filter(|c| Some(*c) != body)
            .any(|c| self.reads(c));
        header_reads || body.is_some_and(|b| self.sequence(b) == Flow::Read)
    }

    /// What a statement does to the value.
    fn flow(&mut self, statement: Node<'t>) -> Flow {
        let kind = statement.kind();
        if kind.contains("comment") {
            return Flow::Live;
        }
        if let Some(exit) = control_flow::statement_exit(self.facts, statement, self.source) {
            if self.reads(statement) {
                return Flow::Read;
            }
            return match exit {
                Exit::Function => Flow::Dead,
                Exit::Loop { target } => self.jump(statement, target),
            };
        }
        if node::loop_kinds(self.language).contains(&kind) {
            return if self.loop_reads(statement) {
                Flow::Read
            } else {
                // It may run zero times, or break out: the value can get past it.
                Flow::Live
            };
        }
        let inner = match kind {
            "expression_statement" | "labeled_statement" => node::named_children(statement)
                .filter(|c| !matches!(c.kind(), "label_name" | "statement_identifier"))
                .last()
                .unwrap_or(statement),
            _ => statement,
        };
        if inner != statement {
            return self.flow(inner);
        }
        if is_branching(kind) {
            return self.rest_of_branching(statement, statement);
        }
        if is_sequence(kind) {
            return self.sequence(statement);
        }
        self.simple(statement)
    }

    /// A statement without control flow of its own: an assignment reads its right side first, then overwrites.
    fn simple(&self, statement: Node<'t>) -> Flow {
        if self.reads(statement) {
            return Flow::Read;
        }
        if self.overwrites(statement) {
            Flow::Dead
        } else {
            Flow::Live
        }
    }

    /// The statements of a block in order.
    fn sequence(&mut self, block: Node<'t>) -> Flow {
        for statement in control_flow::statements(block) {
            match self.flow(statement) {
                Flow::Live => {}
                decided => return decided,
            }
        }
        Flow::Live
    }

    /// An `if`/`switch`/`match`/`select` from the part after `from` (the node itself: from the start): its
    /// header, then the branches, which join.
    fn rest_of_branching(&mut self, branching: Node<'t>, from: Node<'t>) -> Flow {
        let children: Vec<Node<'t>> = node::named_children(branching).collect();
        let start = if from == branching {
            0
        } else {
            children
                .iter()
                .position(|c| *c == from)
                .map_or(children.len(), |p| p + 1)
        };
        let mut branches = Vec::new();
        for child in &children[start..] {
            if is_branch(branching, *child) {
                branches.push(*child);
            } else if is_case_list(child.kind()) {
                branches.extend(node::named_children(*child).filter(|c| is_case(c.kind())));
            } else {
                match self.flow(*child) {
                    Flow::Read => return Flow::Read,
                    // `if err := f(); …`: overwritten in the header, before any branch.
                    Flow::Dead => return Flow::Dead,
                    Flow::Live => {}
                }
            }
        }
        let exhaustive = self.exhaustive(branching, &branches);
        let mut any_live = !exhaustive;
        for branch in branches {
            match self.branch(branch) {
                Flow::Read => return Flow::Read,
                Flow::Live => any_live = true,
                Flow::Dead => {}
            }
        }
        if any_live {
            Flow::Live
        } else {
            Flow::Dead
        }
    }

    /// One branch: an `if` consequence or `else`, a `case`, a `match` arm (its pattern and guard are read first).
    fn branch(&mut self, branch: Node<'t>) -> Flow {
        match branch.kind() {
            "else_clause" => node::named_children(branch)
                .last()
                .map_or(Flow::Live, |b| self.flow(b)),
            kind if is_case(kind) => {
                for part in node::named_children(branch) {
                    match self.flow(part) {
                        Flow::Live => {}
                        decided => return decided,
                    }
                }
                Flow::Live
            }
            _ => self.flow(branch),
        }
    }

    /// Whether one of the branches always runs: an `if` with an `else`, a `switch` with a `default`, a `match`.
    fn exhaustive(&self, branching: Node<'t>, branches: &[Node<'t>]) -> bool {
        match branching.kind() {
            "if_statement" | "if_expression" => {
                branching.child_by_field_name("alternative").is_some()
            }
            "match_expression" => true,
            _ => branches.iter().any(|b| {
                matches!(b.kind(), "default_case" | "switch_default")
                    || (b.kind() == "communication_case"
                        && node::text(*b, self.source)
                            .trim_start()
                            .starts_with("default"))
            }),
        }
    }

    /// Where a `break`/`continue` leads the value: after the loop (or switch) it leaves, or round the loop.
    fn jump(&mut self, statement: Node<'t>, target: Option<Node<'t>>) -> Flow {
        let Some(target) = target else {
            // A labelled jump or `goto`: not followed; assume the value is used there.
            return Flow::Read;
        };
        if !control_flow::contains(target, self.definition) {
            // The loop or switch is inside the statement being judged. A loop's own `flow` lets the value past
            // it; a `break` out of a `switch` case leaves the case with the value, like falling off its end.
            return if is_loop(target.kind()) {
                Flow::Dead
            } else {
                Flow::Live
            };
        }
        let continues = statement.kind().starts_with("continue")
            || node::named_children(statement)
                .next()
                .is_some_and(|c| c.kind().starts_with("continue"));
        if continues && self.loop_reads(target) {
            return Flow::Read;
        }
        let key = target.id();
        let read = match self.resumed.get(&key) {
            Some(read) => *read,
            None => {
                let read = self.after(target);
                self.resumed.insert(key, read);
                read
            }
        };
        if read {
            Flow::Read
        } else {
            Flow::Dead
        }
    }

    /// Whether `n` reads the variable: an occurrence that is not the target of an assignment or declaration.
    fn reads(&self, n: Node<'t>) -> bool {
        std::iter::once(n)
            .chain(node::descendants(n))
            .any(|d| self.is_occurrence(d) && !self.is_target(d))
    }

    fn is_occurrence(&self, d: Node<'t>) -> bool {
        matches!(d.kind(), "identifier" | "shorthand_property_identifier")
            && node::text(d, self.source) == self.name
    }

    /// Whether `ident` is written, not read: `err = …`, `x, err := …`, `let err = …`, `const err = …`.
    fn is_target(&self, ident: Node<'t>) -> bool {
        let Some(parent) = self.facts.parent(ident) else {
            return false;
        };
        let holder = if parent.kind() == "expression_list" {
            match self.facts.parent(parent) {
                Some(p) => (p, parent),
                None => return false,
            }
        } else {
            (parent, ident)
        };
        let (statement, side) = holder;
        match statement.kind() {
            "short_var_declaration" | "assignment_statement" | "assignment_expression" => {
                statement.child_by_field_name("left") == Some(side)
                    && statement
                        .child_by_field_name("operator")
                        .is_none_or(|op| matches!(node::text(op, self.source), "=" | ":="))
            }
            "var_spec" | "const_spec" => statement.child_by_field_name("name") == Some(side),
            "let_declaration" => statement.child_by_field_name("pattern") == Some(side),
            "variable_declarator" => statement.child_by_field_name("name") == Some(side),
            _ => false,
        }
    }

    /// Whether `statement` assigns the variable (after evaluating its right side).
    fn overwrites(&self, statement: Node<'t>) -> bool {
        let same_block = self.facts.parent(statement) == self.facts.parent(self.definition);
        node::descendants(statement).any(|d| {
            self.is_occurrence(d)
                && self.is_target(d)
                // A declaration in another block shadows: the outer variable lives on after that block.
                && (same_block || !self.declaration_of(d))
        })
    }

    /// Whether an occurrence declares a new variable rather than assigning the existing one.
    fn declaration_of(&self, ident: Node<'t>) -> bool {
        node::ancestors(ident).take(3).any(|a| {
            matches!(
                a.kind(),
                "short_var_declaration" | "var_spec" | "let_declaration" | "variable_declarator"
            )
        })
    }

    fn declares(&self, d: Node<'t>) -> bool {
        self.is_occurrence(d) && self.is_target(d) && self.declaration_of(d)
    }
}

/// Nodes that choose one of several branches.
fn is_branching(kind: &str) -> bool {
    matches!(
        kind,
        "if_statement"
            | "if_expression"
            | "expression_switch_statement"
            | "type_switch_statement"
            | "select_statement"
            | "switch_statement"
            | "match_expression"
    )
}

/// Whether `child` of a branching node is one of its branches (not its header).
fn is_branch(branching: Node<'_>, child: Node<'_>) -> bool {
    branching.child_by_field_name("consequence") == Some(child)
        || branching.child_by_field_name("alternative") == Some(child)
        || is_case(child.kind())
        || is_case_list(child.kind())
}

fn is_case_list(kind: &str) -> bool {
    matches!(kind, "switch_body" | "match_block")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the value the `n`-th (0-based) assignment or `:=` of `err` in `source` gives is read later
    /// (`var err error` does not count).
    fn go_read_later(source: &str, n: usize) -> bool {
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(&Language::Go.grammar().expect("Go has a grammar"))
            .expect("grammar loads");
        let tree = parser.parse(source, None).expect("parses");
        let root = tree.root_node();
        let definitions: Vec<Node<'_>> = node::descendants(root)
            .filter(|d| {
                matches!(d.kind(), "short_var_declaration" | "assignment_statement")
                    && d.child_by_field_name("left")
                        .is_some_and(|l| node::text(l, source).contains("err"))
            })
            .collect();
        let definition = definitions[n];
        let function = node::ancestors(definition)
            .find(|a| matches!(a.kind(), "function_declaration" | "method_declaration"))
            .expect("in a function");
        let facts = crate::facts::FileFacts::compute(Language::Go, Some(&tree), source);
        read_later(&facts, definition, "err", function, source)
    }

    #[test]
    fn assignments_in_both_branches_join_before_the_check() {
        let source = "package p\nfunc f(x bool) error {\n\tvar err error\n\tif x {\n\t\t_, err = a()\n\t} else {\n\t\t_, err = b()\n\t}\n\tif err != nil {\n\t\treturn err\n\t}\n\treturn nil\n}\n";
        assert!(go_read_later(source, 0));
        assert!(go_read_later(source, 1));
    }

    #[test]
    fn switch_cases_join_before_the_check() {
        let source = "package p\nfunc f(k int) error {\n\tvar err error\n\tswitch k {\n\tcase 1:\n\t\terr = a()\n\tcase 2:\n\t\terr = b()\n\tdefault:\n\t\treturn nil\n\t}\n\treturn err\n}\n";
        assert!(go_read_later(source, 0));
        assert!(go_read_later(source, 1));
    }

    #[test]
    fn overwritten_before_any_read_is_not_read() {
        let source =
            "package p\nfunc f() error {\n\t_, err := a()\n\t_, err = b()\n\treturn err\n}\n";
        assert!(!go_read_later(source, 0));
        assert!(go_read_later(source, 1));
    }

    #[test]
    fn overwritten_in_every_branch_is_not_read() {
        let source = "package p\nfunc f(x bool) error {\n\terr := a()\n\tif x {\n\t\terr = b()\n\t} else {\n\t\treturn nil\n\t}\n\treturn err\n}\n";
        assert!(!go_read_later(source, 0));
    }

    #[test]
    fn overwritten_in_one_branch_only_is_read_through_the_other() {
        let source = "package p\nfunc f(x bool) error {\n\terr := a()\n\tif x {\n\t\terr = b()\n\t}\n\treturn err\n}\n";
        assert!(go_read_later(source, 0));
    }

    #[test]
    fn early_return_ends_the_path() {
        let source = "package p\nfunc f(x bool) error {\n\terr := a()\n\treturn nil\n\tif err != nil {\n\t\treturn err\n\t}\n\treturn nil\n}\n";
        assert!(!go_read_later(source, 0));
    }

    #[test]
    fn loop_reads_earlier_in_the_body_on_the_next_round() {
        let source = "package p\nfunc f() {\n\tvar err error\n\tfor i := 0; i < 3; i++ {\n\t\tif err != nil {\n\t\t\tlog(err)\n\t\t}\n\t\terr = a()\n\t}\n}\n";
        assert!(go_read_later(source, 0));
    }

    #[test]
    fn never_read_in_a_loop() {
        let source = "package p\nfunc f() {\n\tfor i := 0; i < 3; i++ {\n\t\t_, err := a()\n\t\t_ = i\n\t}\n}\n";
        assert!(!go_read_later(source, 0));
    }

    #[test]
    fn break_leads_to_the_read_after_the_loop() {
        let source = "package p\nfunc f() error {\n\tvar err error\n\tfor {\n\t\terr = a()\n\t\tbreak\n\t}\n\treturn err\n}\n";
        assert!(go_read_later(source, 0));
    }

    #[test]
    fn break_out_of_a_switch_case_keeps_the_value() {
        let source = "package p\nfunc f(k int) error {\n\terr := a()\n\tswitch k {\n\tcase 1:\n\t\tbreak\n\tdefault:\n\t\terr = b()\n\t}\n\treturn err\n}\n";
        assert!(go_read_later(source, 0));
    }

    #[test]
    fn deferred_closure_reads_at_exit() {
        let source = "package p\nfunc f() {\n\tvar err error\n\tdefer func() {\n\t\tif err != nil {\n\t\t\tlog(err)\n\t\t}\n\t}()\n\t_, err = a()\n}\n";
        assert!(go_read_later(source, 0));
    }

    #[test]
    fn shadowing_declaration_in_a_block_keeps_the_outer_value() {
        let source = "package p\nfunc f(x bool) error {\n\t_, err := a()\n\tif x {\n\t\t_, err := b()\n\t\t_ = err\n\t}\n\treturn err\n}\n";
        assert!(go_read_later(source, 0));
    }
}
