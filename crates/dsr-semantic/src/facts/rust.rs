//! Rust: `use` trees, functions (with their impl's type), calls and macro calls, struct expressions, `let`s.

use dsr_syntax::{kind, node, Language, TextRange};
use tree_sitter::Node;

use super::{
    arguments, compact, Assignment, Call, Field, FileFacts, Function, Import, Literal, Param,
    ANONYMOUS,
};

/// `Node::child_by_field_name` of a Rust node, without tree-sitter's scan of the grammar's field names.
fn field<'t>(n: Node<'t>, name: &'static str) -> Option<Node<'t>> {
    dsr_syntax::field(Language::Rust, n, name)
}

pub(super) fn function<'t>(
    n: Node<'t>,
    source: &str,
    parent: Option<usize>,
    facts: &FileFacts<'t>,
) -> Function<'t> {
    let name = match kind(Language::Rust, n) {
        "function_item" => {
            let name = field(n, "name")
                .map(|m| node::text(m, source))
                .unwrap_or("");
            // The impl or trait from the traversal's record of ancestors, not climbed in tree-sitter.
            let owner = facts
                .ancestors(n)
                .find(|a| matches!(kind(Language::Rust, *a), "impl_item" | "trait_item"));
            match owner.and_then(|i| field(i, "type").or(field(i, "name"))) {
                Some(owner) => format!("{}::{name}", compact(node::text(owner, source))),
                None => name.to_string(),
            }
        }
        _ => ANONYMOUS.to_string(),
    };
    // `pub async fn`: the modifiers come after the visibility.
    let is_async = kind(Language::Rust, n) == "function_item"
        && node::named_children(n).any(|c| {
            kind(Language::Rust, c) == "function_modifiers"
                && node::text(c, source).contains("async")
        })
        || kind(Language::Rust, n) == "closure_expression"
            && node::text(n, source).trim_start().starts_with("async");
    let mut params = Vec::new();
    if let Some(list) = field(n, "parameters") {
        for p in node::named_children(list) {
            let (name, type_text) = match kind(Language::Rust, p) {
                "parameter" => (
                    field(p, "pattern")
                        .map(|x| node::text(x, source).to_string())
                        .unwrap_or_default(),
                    field(p, "type")
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
        body: field(n, "body"),
        parent,
    }
}

pub(super) fn visit<'t>(
    n: Node<'t>,
    source: &str,
    function: Option<usize>,
    facts: &mut FileFacts<'t>,
) {
    match kind(Language::Rust, n) {
        "use_declaration" => {
            if let Some(argument) = field(n, "argument") {
                use_tree(argument, "", source, TextRange::of(n), facts);
            }
        }
        "call_expression" => {
            let Some(callee) = field(n, "function") else {
                return;
            };
            let (method, receiver) = match kind(Language::Rust, callee) {
                "field_expression" => (
                    field(callee, "field").map(|f| node::text(f, source).to_string()),
                    field(callee, "value"),
                ),
                _ => (None, None),
            };
            let callee_text = match kind(Language::Rust, callee) {
                "generic_function" => field(callee, "function")
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
                args: arguments(field(n, "arguments")),
                function,
                is_new: false,
            });
        }
        "macro_invocation" => {
            let Some(callee) = field(n, "macro") else {
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
            let type_text = field(n, "name")
                .map(|t| compact(node::text(t, source)))
                .unwrap_or_default();
            let mut fields = Vec::new();
            let mut has_spread = false;
            if let Some(body) = field(n, "body") {
                for f in node::named_children(body) {
                    match kind(Language::Rust, f) {
                        "field_initializer" => {
                            let name = field(f, "field")
                                .map(|x| node::text(x, source).to_string())
                                .unwrap_or_default();
                            fields.push(Field {
                                name,
                                node: f,
                                value: field(f, "value"),
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
            if let Some(pattern) = field(n, "pattern") {
                let target = compact(node::text(pattern, source));
                let target = target.strip_prefix("mut").unwrap_or(&target).to_string();
                facts.assignments.push(Assignment {
                    node: n,
                    target,
                    value: field(n, "value"),
                    function,
                    declares: true,
                });
            }
        }
        "assignment_expression" => {
            if let Some(left) = field(n, "left") {
                facts.assignments.push(Assignment {
                    node: n,
                    target: compact(node::text(left, source)),
                    value: field(n, "right"),
                    function,
                    declares: false,
                });
            }
        }
        "static_item" | "const_item" => {
            if let Some(name) = field(n, "name") {
                facts.assignments.push(Assignment {
                    node: n,
                    target: node::text(name, source).to_string(),
                    value: field(n, "value"),
                    function,
                    declares: true,
                });
            }
        }
        "impl_item" | "trait_item" => {
            if let Some(owner) = field(n, "type").or(field(n, "name")) {
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
    match kind(Language::Rust, n) {
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
            let path = field(n, "path").map(|p| join(&compact(node::text(p, source))));
            let alias = field(n, "alias").map(|a| node::text(a, source).to_string());
            if let (Some(path), Some(local)) = (path, alias) {
                if local != "_" {
                    facts.imports.push(Import { local, path, range });
                }
            }
        }
        "scoped_use_list" => {
            let inner_prefix = field(n, "path")
                .map(|p| join(&compact(node::text(p, source))))
                .unwrap_or_else(|| prefix.to_string());
            if let Some(list) = field(n, "list") {
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
