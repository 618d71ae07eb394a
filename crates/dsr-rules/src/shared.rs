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
