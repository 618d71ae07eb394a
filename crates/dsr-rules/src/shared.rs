//! Small helpers several rules share. Anything that models a distributed-systems construct (a retry loop, a
//! lock, a handler) belongs in dsr-core's facts instead.

use dsr_core::tree_sitter::Node;
use dsr_core::{Edit, Language, RuleContext, TextRange};
use dsr_syntax::node;

/// The text of a node with whitespace removed, for comparing expressions written differently.
pub fn compact_text(ctx: &RuleContext<'_>, node: Node<'_>) -> String {
    ctx.node_text(node)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The indentation of the line `offset` is on.
pub fn indentation_at(source: &str, offset: usize) -> &str {
    let line_start = source[..offset.min(source.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let rest = &source[line_start..];
    let width = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    &rest[..width]
}

/// The edits that add `entry` (`Timeout: 10 * time.Second`, `signal: AbortSignal.timeout(10_000)`) as the last
/// element of a brace-delimited list — a Go literal body, a TS object — in the list's own layout: on a line of
/// its own in a multi-line list, after `, ` in a one-line list. Go wants a comma after every element of a
/// multi-line list; TS keeps the style of the last element. `None` when the list is not a well-formed `{…}`
/// (an ERROR node, comments where the entry would go): the caller falls back to advice.
pub fn append_to_braces(
    source: &str,
    list: Node<'_>,
    language: Language,
    entry: &str,
) -> Option<Vec<Edit>> {
    let open = list.start_byte();
    let close = list.end_byte().checked_sub(1)?;
    if list.has_error()
        || source.as_bytes().get(open) != Some(&b'{')
        || source.as_bytes().get(close) != Some(&b'}')
    {
        return None;
    }
    let elements: Vec<Node<'_>> = node::named_children(list)
        .filter(|n| !n.kind().contains("comment"))
        .collect();
    let Some(last) = elements.last() else {
        let inner = source.get(open + 1..close)?;
        if !inner.trim().is_empty() {
            return None;
        }
        let padded = if language == Language::Go {
            entry.to_string()
        } else {
            format!(" {entry} ")
        };
        return Some(vec![Edit::replace(TextRange::new(open + 1, close), padded)]);
    };
    let between = source.get(last.end_byte()..close)?;
    let has_comma = between.trim_start().starts_with(',');
    let close_line_start = source[..close].rfind('\n').map_or(0, |i| i + 1);
    let brace_on_own_line =
        between.contains('\n') && source[close_line_start..close].trim().is_empty();
    if brace_on_own_line {
        let indent = indentation_at(source, last.start_byte());
        let trailing = if has_comma || language == Language::Go {
            ","
        } else {
            ""
        };
        let mut edits = Vec::new();
        if !has_comma {
            edits.push(Edit::insert(last.end_byte(), ","));
        }
        edits.push(Edit::insert(
            close_line_start,
            format!("{indent}{entry}{trailing}\n"),
        ));
        return Some(edits);
    }
    if between.contains("//") || between.contains("/*") {
        return None;
    }
    Some(vec![if has_comma {
        let comma = last.end_byte() + between.find(',')? + 1;
        Edit::insert(comma, format!(" {entry}"))
    } else {
        Edit::insert(last.end_byte(), format!(", {entry}"))
    }])
}

/// Go: the name the file knows the standard package `path` (`time`) by, and the edit that imports it when the
/// file does not: into the first import group in sorted position among the standard-library imports, else as a
/// declaration of its own after the last import or the package clause.
pub fn go_package_name(ctx: &RuleContext<'_>, path: &str) -> (String, Option<Edit>) {
    if let Some(import) = ctx.facts.imports.iter().find(|i| i.path == path) {
        return (import.local.clone(), None);
    }
    let name = path.rsplit('/').next().unwrap_or(path).to_string();
    let Some(tree) = ctx.tree else {
        return (name, None);
    };
    let root = tree.root_node();
    // Imports come first in a Go file: stop at the first other declaration (a cursor, not `named_child(i)`,
    // which is linear per call on a file's wide root).
    let mut declarations: Vec<Node<'_>> = Vec::new();
    let mut package = None;
    let mut cursor = root.walk();
    for child in root.named_children(&mut cursor) {
        match child.kind() {
            "import_declaration" => declarations.push(child),
            "package_clause" => package = Some(child),
            "comment" => {}
            _ => break,
        }
    }
    let quoted = format!("\"{path}\"");
    let grouped = declarations
        .iter()
        .find_map(|d| node::named_children(*d).find(|n| n.kind() == "import_spec_list"));
    if let Some(list) = grouped {
        let specs: Vec<(Node<'_>, String)> = node::named_children(list)
            .filter(|n| n.kind() == "import_spec")
            .filter_map(|spec| {
                let written = spec.child_by_field_name("path")?;
                Some((spec, ctx.node_text(written).trim_matches('"').to_string()))
            })
            .collect();
        let standard = |p: &str| !p.split('/').next().unwrap_or(p).contains('.');
        if let Some((spec, _)) = specs.iter().find(|(_, p)| standard(p) && p.as_str() > path) {
            let indent = indentation_at(ctx.source, spec.start_byte());
            return (
                name,
                Some(Edit::insert(
                    spec.start_byte(),
                    format!("{quoted}\n{indent}"),
                )),
            );
        }
        if let Some((spec, _)) = specs.iter().rev().find(|(_, p)| standard(p)) {
            let indent = indentation_at(ctx.source, spec.start_byte());
            return (
                name,
                Some(Edit::insert(spec.end_byte(), format!("\n{indent}{quoted}"))),
            );
        }
    }
    let anchor = declarations.last().copied().or(package);
    let edit = anchor.map(|a| {
        let separator = if a.kind() == "package_clause" {
            "\n\n"
        } else {
            "\n"
        };
        Edit::insert(a.end_byte(), format!("{separator}import {quoted}"))
    });
    (name, edit)
}
