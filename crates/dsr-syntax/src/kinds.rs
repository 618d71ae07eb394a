//! Sets of node kinds tested by numeric kind id instead of by name.
//!
//! A hot loop over every node of a file that asks `node.kind() == "call_expression"` compares strings for each
//! node and each name; a [`KindSet`] answers the same question with one indexed load. It is built by scanning
//! every kind id of the grammar and keeping those whose *name* satisfies the predicate, so `set.contains(node)`
//! is true exactly when the predicate holds for `node.kind()`: every id that shares a name (aliases, a named
//! and an anonymous node of the same spelling) is included.

use tree_sitter::Node;

use crate::Language;

#[derive(Clone, Debug, Default)]
pub struct KindSet {
    ids: Vec<bool>,
}

impl KindSet {
    /// The kinds of `language` whose name satisfies `predicate`. Empty for SQL (no grammar).
    pub fn new(language: Language, predicate: impl Fn(&str) -> bool) -> Self {
        let Some(grammar) = language.grammar() else {
            return Self::default();
        };
        let count = grammar.node_kind_count();
        let ids = (0..count)
            .map(|id| {
                u16::try_from(id)
                    .ok()
                    .and_then(|id| grammar.node_kind_for_id(id))
                    .is_some_and(&predicate)
            })
            .collect();
        Self { ids }
    }

    /// The kinds named exactly one of `names`.
    pub fn of(language: Language, names: &[&str]) -> Self {
        Self::new(language, |name| names.contains(&name))
    }

    pub fn contains(&self, node: Node<'_>) -> bool {
        self.contains_id(node.kind_id())
    }

    pub fn contains_id(&self, id: u16) -> bool {
        self.ids.get(usize::from(id)).copied().unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_kind_names_on_every_node() {
        let source =
            "fn a() { let x = b(\"s\"); // c\n }\nstruct S; impl S { fn m(&self) { (|| 1)(); } }";
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(&Language::Rust.grammar().unwrap())
            .unwrap();
        let tree = parser.parse(source, None).unwrap();
        let names = [
            "function_item",
            "closure_expression",
            "identifier",
            "string_literal",
        ];
        let set = KindSet::of(Language::Rust, &names);
        let comments = KindSet::new(Language::Rust, |n| n.ends_with("comment"));
        for node in crate::node::descendants(tree.root_node()) {
            assert_eq!(
                set.contains(node),
                names.contains(&node.kind()),
                "{}",
                node.kind()
            );
            assert_eq!(comments.contains(node), node.kind().ends_with("comment"));
        }
    }
}
