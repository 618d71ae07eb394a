//! Small helpers several rules share. Anything that models a distributed-systems construct (a retry loop, a
//! lock, a handler) belongs in dsr-core's facts instead.

use dsr_core::{CodeRole, Edit, Language, TextRange};
use dsr_semantic::tree_sitter::Node;
use dsr_semantic::RuleContext;
use dsr_syntax::node;

/// Test code: a test file (by the conventions of `kb/roles.toml`), or a Rust test function or module. The one
/// test detector is the engine's code roles ([`RuleContext::roles`]); rules ask it only where tests change what
/// a finding means (a server started in a test is a fixture), since the run's `[scope]` already leaves test
/// code out by default.
pub fn in_test_code(ctx: &RuleContext<'_>, node: Node<'_>) -> bool {
    ctx.roles().at(node.start_byte()) == CodeRole::Test
}

/// A test file as a whole: see [`in_test_code`].
pub fn is_test_file(ctx: &RuleContext<'_>) -> bool {
    ctx.roles().file() == CodeRole::Test
}

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

/// The edit that deletes a Go import spec: its whole line inside an `import ( … )` block, or the whole
/// `import "x"` declaration when it stands alone. `spec` is the `import_spec` node.
pub fn go_remove_import(source: &str, spec: Node<'_>) -> Edit {
    let target = match spec.parent() {
        Some(parent) if parent.kind() == "import_declaration" => parent,
        _ => spec,
    };
    let start = source[..target.start_byte()]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let end = source[target.end_byte()..]
        .find('\n')
        .map_or(source.len(), |i| target.end_byte() + i + 1);
    // Only whole lines that hold nothing but the import are removed; otherwise just the node.
    let line_is_only_target = source[start..target.start_byte()].trim().is_empty()
        && source[target.end_byte()..end].trim().is_empty();
    if line_is_only_target {
        Edit::replace(TextRange::new(start, end), "")
    } else {
        Edit::replace(TextRange::of(target), "")
    }
}

/// An edit that adds `import "path"` to a Go file, or `None` when the file imports it already. Inside an
/// `import ( … )` block the spec goes where gofmt's sorting would put it within the first group.
pub fn go_add_import(ctx: &RuleContext<'_>, path: &str) -> Option<Edit> {
    if ctx.facts.imports.iter().any(|i| i.path == path) {
        return None;
    }
    let root = ctx.tree?.root_node();
    let quoted = format!("\"{path}\"");
    // Imports come first in a Go file: stop at the first other declaration (a cursor, not `named_child(i)`,
    // which is linear per call on a file's wide root).
    let mut declarations = Vec::new();
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
    if let Some(list) = declarations
        .iter()
        .find_map(|d| node::named_children(*d).find(|c| c.kind() == "import_spec_list"))
    {
        let specs: Vec<_> = node::named_children(list)
            .filter(|s| s.kind() == "import_spec")
            .collect();
        let first = specs.first()?;
        let mut group = vec![*first];
        for pair in specs.windows(2) {
            if pair[1].start_position().row > pair[0].end_position().row + 1 {
                break;
            }
            group.push(pair[1]);
        }
        let spec_path = |s: &Node<'_>| {
            s.child_by_field_name("path")
                .map(|p| ctx.node_text(p).trim_matches('"').to_string())
                .unwrap_or_default()
        };
        let indent = indentation_at(ctx.source, first.start_byte());
        return Some(match group.iter().find(|s| spec_path(s).as_str() > path) {
            Some(after) => Edit::insert(after.start_byte(), format!("{quoted}\n{indent}")),
            None => {
                let last = group.last()?;
                Edit::insert(last.end_byte(), format!("\n{indent}{quoted}"))
            }
        });
    }
    let anchor = declarations.last().copied().or(package)?;
    let separator = if anchor.kind() == "package_clause" {
        "\n\n"
    } else {
        "\n"
    };
    Some(Edit::insert(
        anchor.end_byte(),
        format!("{separator}import {quoted}"),
    ))
}

/// An edit that adds `property` (`signal`, `PX: 30000`) to a TS/JS object literal, keeping its layout: on a
/// new line after the last member when the object spans lines, inline otherwise.
pub fn ts_add_property(ctx: &RuleContext<'_>, object: Node<'_>, property: &str) -> Edit {
    add_member(ctx, object, property, &format!("{{ {property} }}"))
}

/// An edit that adds a member to a braced list (a TS object, a Go composite literal's `literal_value`): after
/// the last member, on a line of its own when the list spans lines; `empty` replaces a list with no members.
/// A comment after the last member stays on that member's line.
pub fn add_member(ctx: &RuleContext<'_>, list: Node<'_>, member: &str, empty: &str) -> Edit {
    add_member_edits(ctx, list, member, empty)
        .into_iter()
        .fold(None::<Edit>, |merged, edit| match merged {
            None => Some(edit),
            // Two insertions (a comma after the member, the member after the comment): one replacement.
            Some(first) => Some(Edit::replace(
                TextRange::new(first.range.start, edit.range.end),
                format!(
                    "{}{}{}",
                    first.replacement,
                    ctx.text(TextRange::new(first.range.end, edit.range.start)),
                    edit.replacement
                ),
            )),
        })
        .unwrap_or_else(|| Edit::replace(TextRange::of(list), empty))
}

fn add_member_edits(ctx: &RuleContext<'_>, list: Node<'_>, member: &str, empty: &str) -> Vec<Edit> {
    let members: Vec<_> = node::named_children(list)
        .filter(|m| !m.kind().contains("comment"))
        .collect();
    match members.last() {
        None => vec![Edit::replace(TextRange::of(list), empty)],
        Some(last) if list.start_position().row != list.end_position().row => {
            let indent = indentation_at(ctx.source, last.start_byte());
            let line_end = ctx.source[last.end_byte()..]
                .find('\n')
                .map_or(ctx.source.len(), |i| last.end_byte() + i);
            let rest = &ctx.source[last.end_byte()..line_end];
            let commented = rest.contains("//") || rest.contains("/*");
            if !commented || line_end >= list.end_byte() {
                return vec![Edit::insert(
                    last.end_byte(),
                    format!(",\n{indent}{member}"),
                )];
            }
            let has_comma = rest.trim_start().starts_with(',');
            let trailing = if has_comma { "," } else { "" };
            let mut edits = Vec::new();
            if !has_comma {
                edits.push(Edit::insert(last.end_byte(), ","));
            }
            edits.push(Edit::insert(
                line_end,
                format!("\n{indent}{member}{trailing}"),
            ));
            edits
        }
        Some(last) => vec![Edit::insert(last.end_byte(), format!(", {member}"))],
    }
}

/// [`add_member`] for a rule that falls back to advice: `None` when the list is not a clean `{…}` (an ERROR
/// node inside). `entry` is the member; an empty Go list becomes `{entry}`, an empty TS object `{ entry }`.
pub fn members_edit(
    ctx: &RuleContext<'_>,
    list: Node<'_>,
    language: Language,
    entry: &str,
) -> Option<Vec<Edit>> {
    if list.has_error() {
        return None;
    }
    let empty = if language == Language::Go {
        format!("{{{entry}}}")
    } else {
        format!("{{ {entry} }}")
    };
    Some(vec![add_member(ctx, list, entry, &empty)])
}

/// The name a Go file knows the package at `path` by: its import's local name, else the name an import of
/// it would get (`time`, `http` for `net/http`).
pub fn go_package_local(ctx: &RuleContext<'_>, path: &str) -> String {
    ctx.facts
        .imports
        .iter()
        .find(|i| i.path == path)
        .map(|i| i.local.clone())
        .unwrap_or_else(|| path.rsplit('/').next().unwrap_or(path).to_string())
}

/// Code quoted in a message: whitespace collapsed, cut with `…` past `max` characters.
pub fn quote(text: &str, max: usize) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= max {
        return collapsed;
    }
    let cut: String = collapsed.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

/// The name a call is best known by in a message: the callee as written (`c.Do`, `reqwest::get`), or for a
/// builder chain (`client.post(url).json(&b).send`) its first and last links (`client.post(…).send`).
pub fn call_name(callee_text: &str) -> String {
    if !callee_text.contains('(') {
        return quote(callee_text, 48);
    }
    let head = callee_text.split('(').next().unwrap_or(callee_text);
    let tail = dsr_core::kb::last_segment(callee_text);
    format!("{head}(…).{tail}")
}

/// How a title names a hand-written retry, as its subject: a loop around its call, or the function that
/// restarts itself.
pub fn retry_phrase(
    ctx: &RuleContext<'_>,
    retry: &dsr_semantic::models::Retry<'_>,
    name: &str,
) -> String {
    match (&retry.kind, retry.function) {
        (dsr_semantic::models::RetryKind::Reschedule { timer }, Some(function)) => {
            let restarted = short_name(&ctx.facts.functions[function].name);
            if *timer {
                format!("`{restarted}`, which reschedules itself when `{name}` fails,")
            } else {
                format!("`{restarted}`, which calls itself again when `{name}` fails,")
            }
        }
        _ => format!("retry loop around `{name}`"),
    }
}

/// The last segment of a function's name (`Client.connect` → `connect`).
pub fn short_name(name: &str) -> &str {
    dsr_core::kb::last_segment(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    use dsr_core::fix::apply_edits;
    use dsr_core::{KnowledgeBase, Language};
    use dsr_semantic::facts::FileFacts;
    use dsr_syntax::Document;
    use std::path::Path;

    fn with_go(source: &str, check: impl FnOnce(&RuleContext<'_>)) {
        let document = Document::new(Language::Go, source, 0).expect("grammar loads");
        let facts = FileFacts::compute(Language::Go, document.tree(), source);
        let ctx = RuleContext::new(
            Path::new("x.go"),
            Language::Go,
            source,
            document.tree(),
            &facts,
            KnowledgeBase::builtin(),
        );
        check(&ctx);
    }

    fn added(source: &str) -> String {
        let mut out = String::new();
        with_go(source, |ctx| {
            let edits: Vec<_> = go_add_import(ctx, "time").into_iter().collect();
            out = apply_edits(source, &edits).0;
        });
        out
    }

    #[test]
    fn go_imports_are_added_where_gofmt_would_sort_them() {
        assert_eq!(
            added("package p\n\nimport (\n\t\"context\"\n\t\"unicode\"\n\n\t\"github.com/x/y\"\n)\n"),
            "package p\n\nimport (\n\t\"context\"\n\t\"time\"\n\t\"unicode\"\n\n\t\"github.com/x/y\"\n)\n"
        );
        assert_eq!(
            added("package p\n\nimport \"context\"\n"),
            "package p\n\nimport \"context\"\nimport \"time\"\n"
        );
        assert_eq!(added("package p\n"), "package p\n\nimport \"time\"\n");
        let present = "package p\n\nimport \"time\"\n";
        assert_eq!(added(present), present);
    }

    #[test]
    fn members_are_added_after_a_trailing_comment() {
        let source = "package p\n\nvar c = &http.Client{\n\tTransport: t, // shared\n}\nvar d = &http.Client{\n\tJar: j,\n}\n";
        with_go(source, |ctx| {
            let root = ctx.tree.expect("tree").root_node();
            let lists: Vec<_> = node::descendants(root)
                .filter(|n| n.kind() == "literal_value")
                .collect();
            let edits: Vec<_> = lists
                .iter()
                .map(|l| add_member(ctx, *l, "Timeout: 5", "{Timeout: 5}"))
                .collect();
            assert_eq!(
                apply_edits(source, &edits).0,
                "package p\n\nvar c = &http.Client{\n\tTransport: t, // shared\n\tTimeout: 5,\n}\nvar d = &http.Client{\n\tJar: j,\n\tTimeout: 5,\n}\n"
            );
        });
        let ts = "const o = {\n  a: 1 // first\n};\n";
        let document = Document::new(Language::TypeScript, ts, 0).expect("grammar loads");
        let facts = FileFacts::compute(Language::TypeScript, document.tree(), ts);
        let ctx = RuleContext::new(
            Path::new("x.ts"),
            Language::TypeScript,
            ts,
            document.tree(),
            &facts,
            KnowledgeBase::builtin(),
        );
        let object = facts.literals[0].node;
        assert_eq!(
            apply_edits(ts, &[ts_add_property(&ctx, object, "b: 2")]).0,
            "const o = {\n  a: 1, // first\n  b: 2\n};\n"
        );
    }

    #[test]
    fn go_imports_are_removed_with_their_line() {
        let source = "package p\n\nimport (\n\t\"context\"\n\t\"net/http\"\n)\n\nimport \"time\"\n";
        with_go(source, |ctx| {
            let root = ctx.tree.expect("tree").root_node();
            let specs: Vec<_> = node::descendants(root)
                .filter(|n| n.kind() == "import_spec")
                .collect();
            let removed = |spec| apply_edits(source, &[go_remove_import(source, spec)]).0;
            assert_eq!(
                removed(specs[0]),
                "package p\n\nimport (\n\t\"net/http\"\n)\n\nimport \"time\"\n"
            );
            assert_eq!(
                removed(specs[2]),
                "package p\n\nimport (\n\t\"context\"\n\t\"net/http\"\n)\n\n"
            );
        });
    }
}
