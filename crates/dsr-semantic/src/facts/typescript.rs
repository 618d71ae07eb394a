//! TypeScript/JavaScript: ES imports and `require`, functions/arrows/methods, calls and `new`, object literals,
//! declarations and assignments.

use dsr_syntax::{field, kind, node, TextRange};
use tree_sitter::Node;

use super::{
    arguments, compact, Assignment, Call, ContextKind, Field, FileFacts, Function, Import, Literal,
    Param, ANONYMOUS,
};

pub(super) fn function<'t>(
    n: Node<'t>,
    source: &str,
    parent: Option<usize>,
    facts: &FileFacts<'t>,
) -> Function<'t> {
    let language = facts.language;
    let own_name = field(language, n, "name").map(|m| node::text(m, source).to_string());
    let name = match (kind(language, n), own_name) {
        ("method_definition", Some(method)) => match class_name(n, source, facts) {
            Some(class) => format!("{class}.{method}"),
            None => method,
        },
        (_, Some(name)) => name,
        // `const handler = async (req) => …`, `export default function (…)`, `{ onMessage: async () => … }`.
        (_, None) => facts
            .parent(n)
            .and_then(|p| match kind(language, p) {
                "variable_declarator" => field(language, p, "name"),
                "pair" => field(language, p, "key"),
                "assignment_expression" => field(language, p, "left"),
                _ => None,
            })
            .map(|x| compact(node::text(x, source)))
            .unwrap_or_else(|| ANONYMOUS.to_string()),
    };
    let is_async = n.child(0).is_some_and(|c| kind(language, c) == "async");
    let mut params = Vec::new();
    let list = field(language, n, "parameters").or_else(|| field(language, n, "parameter"));
    if let Some(list) = list {
        let items: Vec<_> = if kind(language, list) == "formal_parameters" {
            node::named_children(list).collect()
        } else {
            vec![list]
        };
        for p in items {
            let pattern = field(language, p, "pattern").unwrap_or(p);
            let type_text = field(language, p, "type")
                .map(|t| {
                    compact(node::text(t, source))
                        .trim_start_matches(':')
                        .to_string()
                })
                .unwrap_or_default();
            params.push(Param {
                name: compact(node::text(pattern, source)),
                type_text,
                type_path: None,
            });
        }
    }
    Function {
        node: n,
        name,
        params,
        is_async,
        body: field(language, n, "body"),
        parent,
    }
}

/// The function's `AbortSignal`: (kind, parameter name, expression yielding the signal).
pub(super) fn abort_signal_param(
    f: &Function<'_>,
    source: &str,
) -> Option<(ContextKind, String, String)> {
    let list = f
        .node
        .child_by_field_name("parameters")
        .or_else(|| f.node.child_by_field_name("parameter"))?;
    let items: Vec<_> = if list.kind() == "formal_parameters" {
        node::named_children(list).collect()
    } else {
        vec![list]
    };
    for p in items {
        let pattern = p.child_by_field_name("pattern").unwrap_or(p);
        let type_node = p
            .child_by_field_name("type")
            .and_then(|t| node::named_children(t).next());
        let found = match pattern.kind() {
            "identifier" => {
                let name = node::text(pattern, source).to_string();
                // A parameter named `signal` typed as something else (`signal: string`, a Unix signal name)
                // is not an AbortSignal.
                let typed_signal = type_node.is_some_and(|t| names_abort_signal(t, source));
                if typed_signal || (name == "signal" && type_node.is_none()) {
                    Some((name.clone(), name))
                } else if type_node.is_some_and(|t| has_signal_property(t, source)) {
                    Some((name.clone(), format!("{name}.signal")))
                } else {
                    None
                }
            }
            "object_pattern" => destructured_signal(pattern, source),
            _ => None,
        };
        if let Some((param, expression)) = found {
            return Some((ContextKind::AbortSignal, param, expression));
        }
    }
    None
}

/// `AbortSignal`, `AbortSignal | undefined`, `AbortSignal | null`.
fn names_abort_signal(t: Node<'_>, source: &str) -> bool {
    match t.kind() {
        "type_identifier" => node::text(t, source) == "AbortSignal",
        "union_type" | "parenthesized_type" => {
            node::named_children(t).any(|c| names_abort_signal(c, source))
        }
        _ => false,
    }
}

/// `{ signal?: AbortSignal; … }` written out as the parameter's type.
fn has_signal_property(t: Node<'_>, source: &str) -> bool {
    t.kind() == "object_type"
        && node::named_children(t).any(|m| {
            m.kind() == "property_signature"
                && m.child_by_field_name("name")
                    .is_some_and(|n| node::text(n, source) == "signal")
        })
}

/// `{ signal }`, `{ signal: s }`, `{ signal = undefined }` → (the pattern, the local name bound).
fn destructured_signal(pattern: Node<'_>, source: &str) -> Option<(String, String)> {
    let whole = compact(node::text(pattern, source));
    node::named_children(pattern).find_map(|member| match member.kind() {
        "shorthand_property_identifier_pattern" if node::text(member, source) == "signal" => {
            Some((whole.clone(), "signal".to_string()))
        }
        "object_assignment_pattern" => member
            .child_by_field_name("left")
            .filter(|l| node::text(*l, source) == "signal")
            .map(|_| (whole.clone(), "signal".to_string())),
        "pair_pattern" => {
            let key = member.child_by_field_name("key")?;
            let value = member.child_by_field_name("value")?;
            (property_name(key, source) == "signal" && value.kind() == "identifier")
                .then(|| (whole.clone(), node::text(value, source).to_string()))
        }
        _ => None,
    })
}

/// The class a method is declared in; its ancestors are read from the traversal's record (see
/// [`FileFacts::ancestors`]), not climbed in tree-sitter.
fn class_name<'t>(n: Node<'t>, source: &str, facts: &FileFacts<'t>) -> Option<String> {
    let class = facts.ancestors(n).find(|a| {
        matches!(
            a.kind(),
            "class_declaration" | "class" | "abstract_class_declaration"
        )
    })?;
    class
        .child_by_field_name("name")
        .map(|c| node::text(c, source).to_string())
}

pub(super) fn visit<'t>(
    n: Node<'t>,
    source: &str,
    function: Option<usize>,
    facts: &mut FileFacts<'t>,
) {
    let language = facts.language;
    match kind(language, n) {
        "import_statement" => import(n, source, facts),
        "call_expression" | "new_expression" => {
            let is_new = kind(language, n) == "new_expression";
            let Some(callee) = field(language, n, if is_new { "constructor" } else { "function" })
            else {
                return;
            };
            let callee = node::uninvert_await(callee);
            let (method, receiver) = if kind(language, callee) == "member_expression" {
                (
                    field(language, callee, "property").map(|p| node::text(p, source).to_string()),
                    field(language, callee, "object"),
                )
            } else {
                (None, None)
            };
            let callee_text = without_optional_chaining(compact(node::text(callee, source)));
            if kind(language, callee) == "identifier" && callee_text == "require" {
                // `require("x")` itself is not a call we reason about; the declaration binds the module.
                return;
            }
            facts.calls.push(Call {
                node: n,
                callee,
                callee_text,
                path: None,
                method,
                receiver,
                args: arguments(field(language, n, "arguments")),
                function,
                is_new,
            });
        }
        "object" => {
            let mut fields = Vec::new();
            let mut has_spread = false;
            for member in node::named_children(n) {
                match kind(language, member) {
                    "pair" => {
                        let key = field(language, member, "key")
                            .map(|k| property_name(k, source))
                            .unwrap_or_default();
                        fields.push(Field {
                            name: key,
                            node: member,
                            value: field(language, member, "value"),
                        });
                    }
                    "shorthand_property_identifier" => fields.push(Field {
                        name: node::text(member, source).to_string(),
                        node: member,
                        value: None,
                    }),
                    "method_definition" => {
                        let key = field(language, member, "name")
                            .map(|k| property_name(k, source))
                            .unwrap_or_default();
                        fields.push(Field {
                            name: key,
                            node: member,
                            value: None,
                        });
                    }
                    "spread_element" => has_spread = true,
                    _ => {}
                }
            }
            facts.literals.push(Literal {
                node: n,
                type_text: String::new(),
                type_path: None,
                fields,
                has_spread,
                function,
            });
        }
        "variable_declarator" => {
            let Some(name) = field(language, n, "name") else {
                return;
            };
            let value = field(language, n, "value");
            if let Some(module) = value.and_then(|v| required_module(v, source)) {
                bind_require(name, &module, source, facts);
                return;
            }
            facts.assignments.push(Assignment {
                node: n,
                target: compact(node::text(name, source)),
                value,
                function,
                declares: true,
            });
        }
        "assignment_expression" => {
            if let Some(left) = field(language, n, "left") {
                facts.assignments.push(Assignment {
                    node: n,
                    target: without_optional_chaining(compact(node::text(left, source))),
                    value: field(language, n, "right"),
                    function,
                    declares: false,
                });
            }
        }
        "class_declaration" | "abstract_class_declaration" => {
            if let Some(name) = field(language, n, "name") {
                facts
                    .containers
                    .push((TextRange::of(n), node::text(name, source).to_string()));
            }
        }
        _ => {}
    }
}

/// `a?.b` written as `a.b`: one spelling for a member access. Most texts have no `?.` and are kept as they
/// are, without a copy.
fn without_optional_chaining(text: String) -> String {
    if text.contains("?.") {
        text.replace("?.", ".")
    } else {
        text
    }
}

fn property_name(key: Node<'_>, source: &str) -> String {
    node::string_literal_value(key, source, dsr_syntax::Language::TypeScript)
        .unwrap_or_else(|| node::text(key, source).to_string())
}

/// `node:https` → `https`; everything else as written.
pub(crate) fn module_name(specifier: &str) -> String {
    specifier
        .strip_prefix("node:")
        .unwrap_or(specifier)
        .to_string()
}

fn import(n: Node<'_>, source: &str, facts: &mut FileFacts<'_>) {
    let Some(source_node) = n.child_by_field_name("source") else {
        return;
    };
    let Some(specifier) =
        node::string_literal_value(source_node, source, dsr_syntax::Language::TypeScript)
    else {
        return;
    };
    let module = module_name(&specifier);
    let range = TextRange::of(n);
    let Some(clause) = node::named_children(n).find(|c| c.kind() == "import_clause") else {
        return;
    };
    for part in node::named_children(clause) {
        match part.kind() {
            // Default import: the module's default export, named after the module (`axios`).
            "identifier" => facts.imports.push(Import {
                local: node::text(part, source).to_string(),
                path: module.clone(),
                range,
            }),
            "namespace_import" => {
                if let Some(local) = node::named_children(part).find(|c| c.kind() == "identifier") {
                    facts.imports.push(Import {
                        local: node::text(local, source).to_string(),
                        path: module.clone(),
                        range,
                    });
                }
            }
            "named_imports" => {
                for specifier in
                    node::named_children(part).filter(|s| s.kind() == "import_specifier")
                {
                    let Some(name) = specifier.child_by_field_name("name") else {
                        continue;
                    };
                    let imported = property_name(name, source);
                    let local = specifier
                        .child_by_field_name("alias")
                        .map(|a| node::text(a, source).to_string())
                        .unwrap_or_else(|| imported.clone());
                    let path = if imported == "default" {
                        module.clone()
                    } else {
                        format!("{module}.{imported}")
                    };
                    facts.imports.push(Import { local, path, range });
                }
            }
            _ => {}
        }
    }
}

/// `require("x")`, `await import("x")`, `require("x").default` → `x`.
fn required_module(value: Node<'_>, source: &str) -> Option<String> {
    let mut call = value;
    while matches!(
        call.kind(),
        "await_expression" | "member_expression" | "parenthesized_expression"
    ) {
        call = if call.kind() == "member_expression" {
            call.child_by_field_name("object")?
        } else {
            node::named_children(call).next()?
        };
    }
    if call.kind() != "call_expression" {
        return None;
    }
    let callee = call.child_by_field_name("function")?;
    if !matches!(node::text(callee, source), "require" | "import") {
        return None;
    }
    let first = node::named_children(call.child_by_field_name("arguments")?).next()?;
    node::string_literal_value(first, source, dsr_syntax::Language::TypeScript)
        .map(|s| module_name(&s))
}

fn bind_require(name: Node<'_>, module: &str, source: &str, facts: &mut FileFacts<'_>) {
    let range = TextRange::of(name);
    match name.kind() {
        "identifier" => facts.imports.push(Import {
            local: node::text(name, source).to_string(),
            path: module.to_string(),
            range,
        }),
        "object_pattern" => {
            for member in node::named_children(name) {
                match member.kind() {
                    "shorthand_property_identifier_pattern" => {
                        let local = node::text(member, source).to_string();
                        facts.imports.push(Import {
                            path: format!("{module}.{local}"),
                            local,
                            range,
                        });
                    }
                    "pair_pattern" => {
                        let key = member
                            .child_by_field_name("key")
                            .map(|k| property_name(k, source));
                        let value = member
                            .child_by_field_name("value")
                            .map(|v| node::text(v, source).to_string());
                        if let (Some(key), Some(local)) = (key, value) {
                            facts.imports.push(Import {
                                local,
                                path: format!("{module}.{key}"),
                                range,
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}
