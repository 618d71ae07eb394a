//! Rust: `use` trees, functions (with their impl's type), calls and macro calls, struct expressions, `let`s.

use dsr_syntax::{node, TextRange};
use tree_sitter::Node;

use super::{
    arguments, compact, Assignment, Call, Field, FileFacts, Function, Import, Literal, Param,
    ANONYMOUS,
};

pub(super) fn function<'t>(
    n: Node<'t>,
    source: &str,
    parent: Option<usize>,
    _facts: &FileFacts<'t>,
) -> Function<'t> {
    let name = match n.kind() {
        "function_item" => {
            let name = n
                .child_by_field_name("name")
                .map(|m| node::text(m, source))
                .unwrap_or("");
            match node::enclosing(n, &["impl_item", "trait_item"]).and_then(|i| {
                i.child_by_field_name("type")
                    .or(i.child_by_field_name("name"))
            }) {
                Some(owner) => format!("{}::{name}", compact(node::text(owner, source))),
                None => name.to_string(),
            }
        }
        _ => ANONYMOUS.to_string(),
    };
    // `pub async fn`: the modifiers come after the visibility.
    let is_async = n.kind() == "function_item"
        && node::named_children(n)
            .any(|c| c.kind() == "function_modifiers" && node::text(c, source).contains("async"))
        || n.kind() == "closure_expression"
            && node::text(n, source).trim_start().starts_with("async");
    let mut params = Vec::new();
    if let Some(list) = n.child_by_field_name("parameters") {
        for p in node::named_children(list) {
            let (name, type_text) = match p.kind() {
                "parameter" => (
                    p.child_by_field_name("pattern")
                        .map(|x| node::text(x, source).to_string())
                        .unwrap_or_default(),
                    p.child_by_field_name("type")
                        .map(|t| compact(node::text(t, source)))
                        .unwrap_or_default(),
                ),
                "self_parameter" => ("self".to_string(), String::new()),
                "identifier" => (node::text(p, source).to_string(), String::new()),
                _ => continue,
            };
            let type_path = None;
            params.push(Param {
                name,
                type_text,
                type_path,
            });
        }
    }
    Function {
        node: n,
        name,
        params,
        is_async,
        body: n.child_by_field_name("body"),
        parent,
    }
}

pub(super) fn visit<'t>(
    n: Node<'t>,
    source: &str,
    function: Option<usize>,
    facts: &mut FileFacts<'t>,
) {
    match n.kind() {
        "use_declaration" => {
            if let Some(argument) = n.child_by_field_name("argument") {
                use_tree(argument, "", source, TextRange::of(n), facts);
            }
        }
        "call_expression" => {
            let Some(callee) = n.child_by_field_name("function") else {
                return;
            };
            let (method, receiver) = match callee.kind() {
                "field_expression" => (
                    callee
                        .child_by_field_name("field")
                        .map(|f| node::text(f, source).to_string()),
                    callee.child_by_field_name("value"),
                ),
                _ => (None, None),
            };
            let callee_text = match callee.kind() {
                "generic_function" => callee
                    .child_by_field_name("function")
                    .map(|f| compact(node::text(f, source)))
                    .unwrap_or_default(),
                _ => compact(node::text(callee, source)),
            };
            facts.calls.push(Call {
                node: n,
                callee,
                callee_text,
                path: None,
                method,
                receiver,
                args: arguments(n.child_by_field_name("arguments")),
                function,
                is_new: false,
            });
        }
        "macro_invocation" => {
            let Some(callee) = n.child_by_field_name("macro") else {
                return;
            };
            facts.calls.push(Call {
                node: n,
                callee,
                callee_text: format!("{}!", compact(node::text(callee, source))),
                path: None,
                method: None,
                receiver: None,
                args: Vec::new(),
                function,
                is_new: false,
            });
        }
        "struct_expression" => {
            let type_text = n
                .child_by_field_name("name")
                .map(|t| compact(node::text(t, source)))
                .unwrap_or_default();
            let mut fields = Vec::new();
            let mut has_spread = false;
            if let Some(body) = n.child_by_field_name("body") {
                for f in node::named_children(body) {
                    match f.kind() {
                        "field_initializer" => {
                            let name = f
                                .child_by_field_name("field")
                                .map(|x| node::text(x, source).to_string())
                                .unwrap_or_default();
                            fields.push(Field {
                                name,
                                node: f,
                                value: f.child_by_field_name("value"),
                            });
                        }
                        "shorthand_field_initializer" => fields.push(Field {
                            name: node::text(f, source).to_string(),
                            node: f,
                            value: None,
                        }),
                        "base_field_initializer" => has_spread = true,
                        _ => {}
                    }
                }
            }
            facts.literals.push(Literal {
                node: n,
                type_path: None,
                type_text,
                fields,
                has_spread,
                function,
            });
        }
        "let_declaration" => {
            if let Some(pattern) = n.child_by_field_name("pattern") {
                let target = compact(node::text(pattern, source));
                let target = target.strip_prefix("mut").unwrap_or(&target).to_string();
                facts.assignments.push(Assignment {
                    node: n,
                    target,
                    value: n.child_by_field_name("value"),
                    function,
                    declares: true,
                });
            }
        }
        "assignment_expression" => {
            if let Some(left) = n.child_by_field_name("left") {
                facts.assignments.push(Assignment {
                    node: n,
                    target: compact(node::text(left, source)),
                    value: n.child_by_field_name("right"),
                    function,
                    declares: false,
                });
            }
        }
        "static_item" | "const_item" => {
            if let Some(name) = n.child_by_field_name("name") {
                facts.assignments.push(Assignment {
                    node: n,
                    target: node::text(name, source).to_string(),
                    value: n.child_by_field_name("value"),
                    function,
                    declares: true,
                });
            }
        }
        "impl_item" | "trait_item" => {
            if let Some(owner) = n
                .child_by_field_name("type")
                .or(n.child_by_field_name("name"))
            {
                facts
                    .containers
                    .push((TextRange::of(n), compact(node::text(owner, source))));
            }
        }
        _ => {}
    }
}

/// Flattens a `use` tree into imports: `use a::{b as c, d::*}` binds `c` → `a::b` (globs bind nothing).
fn use_tree(n: Node<'_>, prefix: &str, source: &str, range: TextRange, facts: &mut FileFacts<'_>) {
    let join = |path: &str| {
        if prefix.is_empty() {
            path.to_string()
        } else {
            format!("{prefix}::{path}")
        }
    };
    match n.kind() {
        "identifier" | "scoped_identifier" | "crate" | "self" => {
            let path = join(&compact(node::text(n, source)));
            let path = path
                .strip_suffix("::self")
                .map(str::to_string)
                .unwrap_or(path);
            let local = path.rsplit("::").next().unwrap_or(&path).to_string();
            if local != "self" {
                facts.imports.push(Import { local, path, range });
            }
        }
        "use_as_clause" => {
            let path = n
                .child_by_field_name("path")
                .map(|p| join(&compact(node::text(p, source))));
            let alias = n
                .child_by_field_name("alias")
                .map(|a| node::text(a, source).to_string());
            if let (Some(path), Some(local)) = (path, alias) {
                if local != "_" {
                    facts.imports.push(Import { local, path, range });
                }
            }
        }
        "scoped_use_list" => {
            let inner_prefix = n
                .child_by_field_name("path")
                .map(|p| join(&compact(node::text(p, source))))
                .unwrap_or_else(|| prefix.to_string());
            if let Some(list) = n.child_by_field_name("list") {
                for item in node::named_children(list) {
                    use_tree(item, &inner_prefix, source, range, facts);
                }
            }
        }
        "use_list" => {
            for item in node::named_children(n) {
                use_tree(item, prefix, source, range, facts);
            }
        }
        // `use fred::prelude::*;` binds no name we can resolve, but the module is in scope: trait methods
        // from it (`client.set(…)`) are the module's.
        "use_wildcard" => {
            let path = node::named_children(n)
                .next()
                .map(|p| join(&compact(node::text(p, source))))
                .unwrap_or_else(|| prefix.to_string());
            if !path.is_empty() {
                facts.imports.push(Import {
                    local: "*".to_string(),
                    path,
                    range,
                });
            }
        }
        _ => {}
    }
}
