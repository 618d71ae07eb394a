//! Small syntax helpers the messaging and transaction models share: names a pattern binds, names an expression
//! mentions, declarations ("binders") and where their names are visible.

use dsr_syntax::node::{self, Mention};
use dsr_syntax::{Language, TextRange};
use tree_sitter::Node;

use crate::facts::{Call, FileFacts};
use crate::models::control_flow;

/// Names too generic to carry a message's data from one statement to another.
const NOT_DATA: &[&str] = &["_", "err", "ok", "ctx", "e", "error", "self", "this"];

/// The names a pattern (a declaration's left side, a parameter, a loop variable) binds.
pub fn pattern_names(pattern: Node<'_>, source: &str) -> Vec<String> {
    let mut names = Vec::new();
    collect_pattern_names(pattern, source, &mut names);
    names
}

fn collect_pattern_names(n: Node<'_>, source: &str, out: &mut Vec<String>) {
    match n.kind() {
        "identifier" | "shorthand_property_identifier_pattern" | "shorthand_field_identifier" => {
            let name = node::text(n, source).to_string();
            if !out.contains(&name) {
                out.push(name);
            }
        }
        // A type annotation, a field being assigned (`h.last = m`) bind no local name.
        "type_identifier"
        | "type_annotation"
        | "property_identifier"
        | "scoped_identifier"
        | "selector_expression"
        | "field_expression"
        | "member_expression"
        | "index_expression"
        | "subscript_expression" => {}
        _ => {
            let mut cursor = n.walk();
            for (i, child) in n.named_children(&mut cursor).enumerate() {
                let field = n.field_name_for_named_child(i as u32);
                if matches!(field, Some("type" | "key")) {
                    continue;
                }
                collect_pattern_names(child, source, out);
            }
        }
    }
}

/// The identifiers an expression reads, callees and property names left out (`Number(message.offset)` reads
/// `message`), in order of appearance.
pub fn read_names(expression: Node<'_>, source: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    // Walked top-down so that a callee is known from its call without asking for parents.
    let mut stack = vec![expression];
    while let Some(n) = stack.pop() {
        if matches!(n.kind(), "identifier" | "shorthand_property_identifier") {
            let name = node::text(n, source);
            if !names.iter().any(|x| x == name) {
                names.push(name.to_string());
            }
            continue;
        }
        let callee = match n.kind() {
            "call_expression" => n.child_by_field_name("function"),
            "new_expression" => n.child_by_field_name("constructor"),
            _ => None,
        };
        let children: Vec<Node<'_>> = node::named_children(n)
            .filter(|c| !(Some(*c) == callee && c.kind() == "identifier"))
            .collect();
        stack.extend(children.into_iter().rev());
    }
    names
}

/// A declaration or assignment: the patterns it binds and the value they are bound to.
pub struct Binder<'t> {
    pub node: Node<'t>,
    pub targets: Vec<Node<'t>>,
    pub value: Option<Node<'t>>,
}

/// `n` as a binder: Go `:=`/`=`/`var`/`range`/`case m := <-ch`, Rust `let`/`if let`/`while let`/`for`/match
/// arms, TS `const`/`let`/`var`/`=`/`for … of`.
pub fn binder(n: Node<'_>) -> Option<Binder<'_>> {
    let field = |name: &str| n.child_by_field_name(name);
    let (targets, value) = match n.kind() {
        "short_var_declaration" | "assignment_statement" | "range_clause" | "receive_statement" => {
            (list(field("left")), field("right"))
        }
        "var_spec" => {
            let mut cursor = n.walk();
            let names = n.children_by_field_name("name", &mut cursor).collect();
            (names, field("value"))
        }
        "let_declaration" | "let_condition" | "for_expression" => {
            (field("pattern").into_iter().collect(), field("value"))
        }
        "match_arm" => {
            let scrutinee = n
                .parent()
                .and_then(|block| block.parent())
                .and_then(|m| m.child_by_field_name("value"));
            (field("pattern").into_iter().collect(), scrutinee)
        }
        "variable_declarator" => (field("name").into_iter().collect(), field("value")),
        "for_in_statement" | "assignment_expression" => {
            (field("left").into_iter().collect(), field("right"))
        }
        _ => return None,
    };
    if targets.is_empty() {
        return None;
    }
    Some(Binder {
        node: n,
        targets,
        value,
    })
}

impl Binder<'_> {
    pub fn names(&self, source: &str) -> Vec<String> {
        self.targets
            .iter()
            .flat_map(|t| pattern_names(*t, source))
            .collect()
    }

    pub fn binds(&self, name: &str, source: &str) -> bool {
        self.names(source).iter().any(|n| n == name)
    }
}

fn list(f: Option<Node<'_>>) -> Vec<Node<'_>> {
    match f {
        Some(l) if l.kind() == "expression_list" => node::named_children(l).collect(),
        Some(l) => vec![l],
        None => Vec::new(),
    }
}

/// Where the names a binder declares are visible: the block around it, or the loop, `if let` or match arm it
/// belongs to.
pub fn binder_scope(n: Node<'_>) -> Option<Node<'_>> {
    if matches!(
        n.kind(),
        "match_arm" | "for_in_statement" | "for_expression"
    ) {
        return Some(n);
    }
    node::ancestors(n).find(|a| {
        !matches!(
            a.kind(),
            "expression_list"
                | "var_declaration"
                | "var_spec_list"
                | "lexical_declaration"
                | "variable_declaration"
                | "let_chain"
        )
    })
}

/// The patterns of a function's parameters (`m` in `func(m *nats.Msg)`, `{ message }` in `async ({ message }) =>`).
pub fn parameter_patterns<'t>(function: Node<'t>) -> Vec<Node<'t>> {
    let list = function
        .child_by_field_name("parameters")
        .or_else(|| function.child_by_field_name("parameter"));
    let Some(list) = list else {
        return Vec::new();
    };
    if list.kind() == "identifier" {
        return vec![list];
    }
    let mut patterns = Vec::new();
    for p in node::named_children(list) {
        match p.kind() {
            "parameter_declaration" | "variadic_parameter_declaration" => {
                let mut cursor = p.walk();
                patterns.extend(p.children_by_field_name("name", &mut cursor));
            }
            "parameter" | "required_parameter" | "optional_parameter" => {
                patterns.extend(p.child_by_field_name("pattern"));
            }
            "self_parameter" | "comment" => {}
            _ => patterns.push(p),
        }
    }
    patterns
}

/// Where a name used at `at` was bound: a declaration before it whose scope covers it, or a parameter of a
/// function around it, starting from `function` (the innermost function around `at`) outwards.
#[derive(Clone, Copy, Debug)]
pub struct Binding<'t> {
    /// The binder (declaration, loop, arm) or the parameter's pattern.
    pub node: Node<'t>,
    /// The function (index into `FileFacts::functions`) the name belongs to.
    pub function: usize,
    pub is_parameter: bool,
    /// The bound value, for declarations.
    pub value: Option<Node<'t>>,
}

pub fn find_binding<'t>(
    facts: &FileFacts<'t>,
    name: &str,
    at: Node<'t>,
    function: Option<usize>,
    source: &str,
) -> Option<Binding<'t>> {
    let mut current = function;
    while let Some(index) = current {
        let function = &facts.functions[index];
        let mut best: Option<Binding<'t>> = None;
        // The function's own body: nested functions are scopes of their own (and were searched first when `at`
        // is inside one).
        let kinds = node::function_kinds(facts.language);
        let mut stack = vec![function.node];
        while let Some(n) = stack.pop() {
            if n.start_byte() >= at.start_byte()
                || (n != function.node && kinds.contains(&n.kind()))
            {
                continue;
            }
            stack.extend(node::named_children(n));
            let Some(b) = binder(n) else { continue };
            if !b.binds(name, source) {
                continue;
            }
            // `x := f(x)` binds the new `x` only after its right side; loops and arms cover their bodies.
            let visible = binder_scope(n).is_some_and(|scope| {
                control_flow::contains(scope, at)
                    && b.value.is_none_or(|v| !control_flow::contains(v, at))
            });
            let later = best.is_none_or(|x| x.node.start_byte() < n.start_byte());
            if visible && later {
                best = Some(Binding {
                    node: n,
                    function: index,
                    is_parameter: false,
                    value: b.value,
                });
            }
        }
        if best.is_some() {
            return best;
        }
        for pattern in parameter_patterns(function.node) {
            if pattern_names(pattern, source).iter().any(|n| n == name) {
                return Some(Binding {
                    node: pattern,
                    function: index,
                    is_parameter: true,
                    value: None,
                });
            }
        }
        current = function.parent;
    }
    None
}

/// Names bound, in `scope` after `from`, from values that read one of `roots` (directly or through names already
/// derived): the payload, the decoded order, the items of a batch. Out-parameters count too
/// (`json.Unmarshal(m.Value, &order)` derives `order`).
pub fn derived_names(
    scope: Node<'_>,
    from: usize,
    roots: &[String],
    source: &str,
    language: Language,
) -> Vec<String> {
    let mut names: Vec<String> = roots.to_vec();
    let add = |names: &mut Vec<String>, new: Vec<String>| {
        for name in new {
            if !NOT_DATA.contains(&name.as_str()) && !names.contains(&name) {
                names.push(name);
            }
        }
    };
    for n in node::descendants(scope) {
        if n.start_byte() < from {
            continue;
        }
        if let Some(b) = binder(n) {
            if b.value
                .is_some_and(|v| node::mentions(v, &names, source, Mention::Variable))
            {
                let new = b.names(source);
                add(&mut names, new);
            }
            continue;
        }
        if n.kind() == "call_expression" {
            let Some(args) = n.child_by_field_name("arguments") else {
                continue;
            };
            if !node::mentions(args, &names, source, Mention::Variable) {
                continue;
            }
            let outs: Vec<String> = node::named_children(args)
                .filter_map(|a| out_parameter(a, language))
                .map(|a| node::text(a, source).to_string())
                .collect();
            add(&mut names, outs);
        }
    }
    names
}

/// `&x` (Go) or `&mut x` (Rust) passed to a call: the callee may fill `x`.
fn out_parameter(argument: Node<'_>, language: Language) -> Option<Node<'_>> {
    match (language, argument.kind()) {
        (Language::Go, "unary_expression") => argument
            .child_by_field_name("operand")
            .filter(|o| o.kind() == "identifier")
            .filter(|_| argument.child(0).is_some_and(|op| op.kind() == "&")),
        (Language::Rust, "reference_expression") => {
            let mutable = node::named_children(argument).any(|c| c.kind() == "mutable_specifier");
            argument
                .child_by_field_name("value")
                .filter(|v| mutable && v.kind() == "identifier")
        }
        _ => None,
    }
}

/// The indexes of the calls inside `range`. Calls are recorded in document order (pre-order), so their start
/// bytes never decrease and the candidates are found by binary search.
pub fn calls_within(facts: &FileFacts<'_>, range: TextRange) -> Vec<usize> {
    facts.call_indexes_within(range).collect()
}

/// The decoded value of the string literal `n`, from the facts (strings are recorded in document order).
pub fn string_value(facts: &FileFacts<'_>, n: Node<'_>) -> Option<String> {
    let range = TextRange::of(n);
    let at = facts
        .strings
        .partition_point(|s| s.range.start < range.start);
    facts
        .strings
        .get(at)
        .filter(|s| s.range == range)
        .map(|s| s.value.clone())
}

/// The function of the file a call invokes, by name: `process(m)` → `process`, `h.process(m)` → `T.process`,
/// `self.process(m)` → `T::process`, `this.process(m)` → `Class.process`.
pub fn same_file_function(facts: &FileFacts<'_>, call: &Call<'_>) -> Option<usize> {
    let callee = call.callee_text.as_str();
    if callee.is_empty() || call.is_new {
        return None;
    }
    // Candidates by the last segment of their name (an index), not a scan of every function per call.
    if let Some(method) = call.method.as_deref() {
        // `T.method` or `T::method`: tested on the name's text, with no string made per call.
        return facts.functions_named(method).find(|&f| {
            facts.functions[f]
                .name
                .strip_suffix(method)
                .is_some_and(|owner| owner.ends_with('.') || owner.ends_with("::"))
        });
    }
    // `T::f` written in Rust also names `a::T::f`.
    let suffix = facts.language == Language::Rust && callee.contains("::");
    facts.function_with_path(callee, suffix)
}
