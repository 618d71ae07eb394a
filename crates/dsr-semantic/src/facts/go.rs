//! Go: imports, functions and methods, calls, composite literals, assignments.

use dsr_syntax::{kind, node, Language, TextRange};
use tree_sitter::Node;

use super::{
    arguments, compact, Assignment, Call, ContextKind, Field, FileFacts, Function, Import, Literal,
    Param, ANONYMOUS,
};

/// `Node::child_by_field_name` of a Go node, without tree-sitter's scan of the grammar's field names.
fn field<'t>(n: Node<'t>, name: &'static str) -> Option<Node<'t>> {
    dsr_syntax::field(Language::Go, n, name)
}

pub(super) fn function<'t>(
    n: Node<'t>,
    source: &str,
    parent: Option<usize>,
    _facts: &FileFacts<'t>,
) -> Function<'t> {
    let name = match kind(Language::Go, n) {
        "method_declaration" => {
            let receiver = field(n, "receiver")
                .and_then(|r| node::named_children(r).next())
                .and_then(|p| field(p, "type"))
                .map(|t| {
                    compact(node::text(t, source))
                        .trim_start_matches('*')
                        .to_string()
                })
                .map(|t| t.split('[').next().unwrap_or_default().to_string())
                .unwrap_or_default();
            let method = field(n, "name")
                .map(|m| node::text(m, source))
                .unwrap_or("");
            if receiver.is_empty() {
                method.to_string()
            } else {
                format!("{receiver}.{method}")
            }
        }
        "function_declaration" => field(n, "name")
            .map(|m| node::text(m, source).to_string())
            .unwrap_or_else(|| ANONYMOUS.to_string()),
        _ => ANONYMOUS.to_string(),
    };
    let mut params = Vec::new();
    if let Some(list) = field(n, "parameters") {
        for declaration in node::named_children(list) {
            let type_text = field(declaration, "type")
                .map(|t| compact(node::text(t, source)))
                .unwrap_or_default();
            let type_path = None;
            let mut cursor = declaration.walk();
            let names: Vec<_> = declaration
                .children_by_field_name("name", &mut cursor)
                .map(|n| node::text(n, source).to_string())
                .collect();
            if names.is_empty() {
                params.push(Param {
                    name: String::new(),
                    type_text: type_text.clone(),
                    type_path: type_path.clone(),
                });
            }
            for name in names {
                params.push(Param {
                    name,
                    type_text: type_text.clone(),
                    type_path: type_path.clone(),
                });
            }
        }
    }
    Function {
        node: n,
        name,
        params,
        is_async: false,
        body: field(n, "body"),
        parent,
    }
}

/// The function's own `ctx context.Context` parameter, else its `r *http.Request` (whose context is
/// `r.Context()`): (kind, parameter name, expression yielding the context).
pub(super) fn context_param(f: &Function<'_>) -> Option<(ContextKind, String, String)> {
    let usable = |p: &&Param| !p.name.is_empty() && p.name != "_";
    if let Some(p) = f
        .params
        .iter()
        .filter(usable)
        .find(|p| p.type_path.as_deref() == Some("context.Context"))
    {
        return Some((ContextKind::Context, p.name.clone(), p.name.clone()));
    }
    f.params
        .iter()
        .filter(usable)
        .find(|p| {
            p.type_path.as_deref() == Some("net/http.Request") && p.type_text.starts_with('*')
        })
        .map(|p| {
            (
                ContextKind::Request,
                p.name.clone(),
                format!("{}.Context()", p.name),
            )
        })
}

pub(super) fn visit<'t>(
    n: Node<'t>,
    source: &str,
    function: Option<usize>,
    facts: &mut FileFacts<'t>,
) {
    match kind(Language::Go, n) {
        "import_spec" => import(n, source, facts),
        "call_expression" => {
            let Some(callee) = field(n, "function") else {
                return;
            };
            let (method, receiver) = if kind(Language::Go, callee) == "selector_expression" {
                (
                    field(callee, "field").map(|f| node::text(f, source).to_string()),
                    field(callee, "operand"),
                )
            } else {
                (None, None)
            };
            facts.calls.push(Call {
                node: n,
                callee,
                callee_text: compact(node::text(callee, source)),
                path: None,
                method,
                receiver,
                args: arguments(field(n, "arguments")),
                function,
                is_new: false,
            });
        }
        "composite_literal" => {
            let type_text = field(n, "type")
                .map(|t| compact(node::text(t, source)))
                .unwrap_or_default();
            let mut fields = Vec::new();
            if let Some(body) = field(n, "body") {
                for element in
                    node::named_children(body).filter(|e| kind(Language::Go, *e) == "keyed_element")
                {
                    let key =
                        field(element, "key").map(|k| node::text(k, source).trim().to_string());
                    let value = field(element, "value");
                    if let Some(name) = key {
                        fields.push(Field {
                            name,
                            node: element,
                            value,
                        });
                    }
                }
            }
            facts.literals.push(Literal {
                node: n,
                type_path: None,
                type_text,
                fields,
                has_spread: false,
                function,
            });
        }
        "short_var_declaration" | "assignment_statement" => {
            let declares = kind(Language::Go, n) == "short_var_declaration";
            let lefts: Vec<_> = field(n, "left")
                .map(|l| node::named_children(l).collect())
                .unwrap_or_default();
            let rights: Vec<_> = field(n, "right")
                .map(|r| node::named_children(r).collect())
                .unwrap_or_default();
            for (i, left) in lefts.iter().enumerate() {
                // `resp, err := f()` binds every name to the one call.
                let value = rights
                    .get(i)
                    .or(if rights.len() == 1 {
                        rights.first()
                    } else {
                        None
                    })
                    .copied();
                facts.assignments.push(Assignment {
                    node: n,
                    target: compact(node::text(*left, source)),
                    value,
                    function,
                    declares,
                });
            }
        }
        "var_spec" | "const_spec" => {
            let values: Vec<_> = field(n, "value")
                .map(|v| node::named_children(v).collect())
                .unwrap_or_default();
            let mut cursor = n.walk();
            let names: Vec<_> = n.children_by_field_name("name", &mut cursor).collect();
            for (i, name) in names.iter().enumerate() {
                let value = values
                    .get(i)
                    .or(if values.len() == 1 {
                        values.first()
                    } else {
                        None
                    })
                    .copied();
                facts.assignments.push(Assignment {
                    node: n,
                    target: node::text(*name, source).to_string(),
                    value,
                    function,
                    declares: true,
                });
            }
        }
        _ => {}
    }
}

fn import(n: Node<'_>, source: &str, facts: &mut FileFacts<'_>) {
    let Some(path_node) = field(n, "path") else {
        return;
    };
    let path = node::text(path_node, source)
        .trim_matches(['"', '`'])
        .to_string();
    let local = match field(n, "name") {
        Some(name) => node::text(name, source).to_string(),
        None => default_package_name(&path),
    };
    if local == "_" || local == "." {
        return;
    }
    facts.imports.push(Import {
        local,
        path,
        range: TextRange::of(n),
    });
}

/// Well-known import paths whose package name differs from what the path suggests.
const PACKAGE_NAMES: &[(&str, &str)] = &[("go.etcd.io/etcd/client/v3", "clientv3")];

/// The package name Go gives an import without an explicit name, guessed as goimports does: the last path element,
/// skipping a major-version suffix (`go-redis/v9` → `redis`), without a `go-` prefix, cut at the first character
/// that cannot be in an identifier (`kafka-go` → `kafka`, `retry-go/v4` → `retry`, `nats.go` → `nats`, `yaml.v3` → `yaml`).
pub(crate) fn default_package_name(path: &str) -> String {
    // Packages whose name is not their directory's: the import binds the `package` clause's name.
    if let Some((_, name)) = PACKAGE_NAMES.iter().find(|(p, _)| *p == path) {
        return (*name).to_string();
    }
    let mut parts = path.rsplit('/');
    let mut last = parts.next().unwrap_or(path);
    if last.len() > 1 && last.starts_with('v') && last[1..].chars().all(|c| c.is_ascii_digit()) {
        last = parts.next().unwrap_or(last);
    }
    let last = last.strip_prefix("go-").unwrap_or(last);
    let end = last
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(last.len());
    last[..end].to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_package_names_follow_goimports() {
        for (path, name) in [
            ("net/http", "http"),
            ("github.com/redis/go-redis/v9", "redis"),
            ("github.com/segmentio/kafka-go", "kafka"),
            ("github.com/rabbitmq/amqp091-go", "amqp091"),
            ("github.com/nats-io/nats.go", "nats"),
            ("gopkg.in/yaml.v3", "yaml"),
            ("github.com/jackc/pgx/v5", "pgx"),
        ] {
            assert_eq!(super::default_package_name(path), name, "{path}");
        }
    }
}
