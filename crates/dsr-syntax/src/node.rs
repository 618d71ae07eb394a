//! Small, language-aware helpers over tree-sitter nodes. They never panic on ERROR nodes or missing children.

use tree_sitter::Node;

use crate::Language;

/// The source text of a node; empty when the node's range is not valid UTF-8 boundaries of `source`.
pub fn text<'s>(node: Node<'_>, source: &'s str) -> &'s str {
    source.get(node.start_byte()..node.end_byte()).unwrap_or("")
}

/// The nearest ancestor (or the node itself) whose kind is one of `kinds`.
pub fn enclosing<'t>(node: Node<'t>, kinds: &[&str]) -> Option<Node<'t>> {
    let mut current = Some(node);
    while let Some(candidate) = current {
        if kinds.contains(&candidate.kind()) {
            return Some(candidate);
        }
        current = candidate.parent();
    }
    None
}

/// Ancestors of a node, nearest first, not including the node.
pub fn ancestors(node: Node<'_>) -> impl Iterator<Item = Node<'_>> {
    std::iter::successors(node.parent(), |n| n.parent())
}

/// The named children of a node.
pub fn named_children<'t>(node: Node<'t>) -> impl Iterator<Item = Node<'t>> {
    (0..node.named_child_count()).filter_map(move |i| node.named_child(i as u32))
}

/// Every node in the subtree, in document order (pre-order), the node itself first.
pub fn descendants(node: Node<'_>) -> impl Iterator<Item = Node<'_>> {
    let mut cursor = node.walk();
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let current = cursor.node();
        if cursor.goto_first_child() {
            return Some(current);
        }
        loop {
            if cursor.node() == node {
                done = true;
                return Some(current);
            }
            if cursor.goto_next_sibling() {
                return Some(current);
            }
            if !cursor.goto_parent() {
                done = true;
                return Some(current);
            }
        }
    })
}

/// Node kinds that are function-like scopes (their own `return`, their own parameters) in each grammar.
pub fn function_kinds(language: Language) -> &'static [&'static str] {
    match language {
        Language::Go => &["function_declaration", "method_declaration", "func_literal"],
        Language::Rust => &["function_item", "closure_expression"],
        Language::TypeScript | Language::Tsx => &[
            "function_declaration",
            "function_expression",
            "arrow_function",
            "method_definition",
            "generator_function_declaration",
            "generator_function",
        ],
        Language::Sql => &[],
    }
}

/// Node kinds that loop.
pub fn loop_kinds(language: Language) -> &'static [&'static str] {
    match language {
        Language::Go => &["for_statement"],
        Language::Rust => &["loop_expression", "while_expression", "for_expression"],
        Language::TypeScript | Language::Tsx => &[
            "for_statement",
            "for_in_statement",
            "while_statement",
            "do_statement",
        ],
        Language::Sql => &[],
    }
}

/// The contents of a string literal node with escapes for quotes, backslashes and newlines decoded, or `None`
/// when the node is not a string literal (or is a template with substitutions).
pub fn string_literal_value(node: Node<'_>, source: &str, language: Language) -> Option<String> {
    let raw = text(node, source);
    match (language, node.kind()) {
        (Language::Go, "raw_string_literal") => strip(raw, "`", "`").map(str::to_owned),
        (Language::Go, "interpreted_string_literal") => strip(raw, "\"", "\"").map(unescape),
        (Language::Rust, "string_literal") => {
            let body = raw.trim_start_matches('b');
            strip(body, "\"", "\"").map(unescape)
        }
        (Language::Rust, "raw_string_literal") => {
            let body = raw.trim_start_matches('b').strip_prefix('r')?;
            let hashes = body.len() - body.trim_start_matches('#').len();
            let fence = "#".repeat(hashes);
            strip(body, &format!("{fence}\""), &format!("\"{fence}")).map(str::to_owned)
        }
        (Language::TypeScript | Language::Tsx, "string") => {
            let quote = raw.chars().next()?;
            let quote = quote.to_string();
            strip(raw, &quote, &quote).map(unescape)
        }
        (Language::TypeScript | Language::Tsx, "template_string") => {
            if named_children(node).any(|c| c.kind() == "template_substitution") {
                return None;
            }
            strip(raw, "`", "`").map(unescape)
        }
        _ => None,
    }
}

/// Whether a node is a string literal of its language.
pub fn is_string_literal(node: Node<'_>, language: Language) -> bool {
    is_string_literal_kind(language, node.kind())
}

/// Whether `kind` names a string literal in `language`'s grammar.
pub fn is_string_literal_kind(language: Language, kind: &str) -> bool {
    matches!(
        (language, kind),
        (
            Language::Go,
            "raw_string_literal" | "interpreted_string_literal"
        ) | (Language::Rust, "string_literal" | "raw_string_literal")
            | (
                Language::TypeScript | Language::Tsx,
                "string" | "template_string"
            )
    )
}

fn strip<'a>(raw: &'a str, open: &str, close: &str) -> Option<&'a str> {
    raw.strip_prefix(open)?.strip_suffix(close)
}

fn unescape(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\n') => {}
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_string(language: Language, source: &str) -> Option<String> {
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(&language.grammar().unwrap()).unwrap();
        let tree = parser.parse(source, None).unwrap();
        let value = descendants(tree.root_node())
            .find(|n| is_string_literal(*n, language))
            .and_then(|n| string_literal_value(n, source, language));
        value
    }

    #[test]
    fn decodes_string_literals() {
        assert_eq!(
            first_string(Language::Go, "package a\nvar s = \"a\\\"b\"").as_deref(),
            Some("a\"b")
        );
        assert_eq!(
            first_string(Language::Go, "package a\nvar s = `x\ny`").as_deref(),
            Some("x\ny")
        );
        assert_eq!(
            first_string(Language::Rust, "const S: &str = r#\"a\"b\"#;").as_deref(),
            Some("a\"b")
        );
        assert_eq!(
            first_string(Language::TypeScript, "const s = 'it\\'s';").as_deref(),
            Some("it's")
        );
        assert_eq!(
            first_string(Language::TypeScript, "const s = `a ${b}`;"),
            None
        );
    }

    #[test]
    fn descendants_visits_every_node_once() {
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(&Language::Rust.grammar().unwrap())
            .unwrap();
        let tree = parser.parse("fn a() { b(c, d); }", None).unwrap();
        let kinds: Vec<_> = descendants(tree.root_node()).map(|n| n.kind()).collect();
        assert_eq!(kinds.first(), Some(&"source_file"));
        assert_eq!(kinds.iter().filter(|k| **k == "identifier").count(), 4);
        let body = descendants(tree.root_node())
            .find(|n| n.kind() == "arguments")
            .unwrap();
        assert_eq!(descendants(body).count(), 6); // arguments ( c , d )
    }
}
