//! Small helpers several rules share. Anything that models a distributed-systems construct (a retry loop, a
//! lock, a handler) belongs in dsr-core's facts instead.

use dsr_core::tree_sitter::Node;
use dsr_core::RuleContext;

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
    let tail = callee_text.rsplit(['.', ':']).next().unwrap_or(callee_text);
    format!("{head}(…).{tail}")
}
