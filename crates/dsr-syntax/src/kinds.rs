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

    // Inlined across crates: asked once per node of every traversal.
    #[inline]
    pub fn contains(&self, node: Node<'_>) -> bool {
        self.contains_id(node.kind_id())
    }

    #[inline]
    pub fn contains_id(&self, id: u16) -> bool {
        self.ids.get(usize::from(id)).copied().unwrap_or(false)
    }
}

/// The kind name of `node` (`Node::kind`) from a table of the grammar's names built once per language:
/// `Node::kind` turns a C string into a checked `&str` on every call (about 200 instructions; the kind id is
/// about 25), and a traversal asks it of every node it handles.
#[inline]
pub fn kind<'t>(language: Language, node: Node<'t>) -> &'t str {
    kind_name(language, node.kind_id()).unwrap_or_else(|| node.kind())
}

/// The name of the kind with id `id` in `language`'s grammar (the table of [`kind`]); `None` for an id past
/// the grammar's kinds (tree-sitter's `ERROR` has the largest id) or for SQL.
pub fn kind_name(language: Language, id: u16) -> Option<&'static str> {
    static TABLES: std::sync::OnceLock<Vec<(Language, Vec<String>)>> = std::sync::OnceLock::new();
    let tables = TABLES.get_or_init(|| {
        [
            Language::Go,
            Language::Rust,
            Language::TypeScript,
            Language::Tsx,
        ]
        .into_iter()
        .filter_map(|language| {
            let grammar = language.grammar()?;
            let names = (0..grammar.node_kind_count())
                .map(|id| {
                    u16::try_from(id)
                        .ok()
                        .and_then(|id| grammar.node_kind_for_id(id))
                        .unwrap_or_default()
                        .to_string()
                })
                .collect();
            Some((language, names))
        })
        .collect()
    });
    let (_, names) = tables.iter().find(|(l, _)| *l == language)?;
    names.get(usize::from(id)).map(String::as_str)
}

/// The child of `node` in the grammar field `name` (`Node::child_by_field_name` of a node of `language`'s
/// grammar) without tree-sitter's lookup of the name: it compares the name with every field name of the
/// grammar in turn, about three quarters of a `child_by_field_name`'s instructions, and a traversal that asks
/// a few fields of every call, literal and declaration paid that on each. A name the grammar does not have
/// gives `None`.
pub fn field<'t>(language: Language, node: Node<'t>, name: &'static str) -> Option<Node<'t>> {
    node.child_by_field_id(field_id(language, name)?)
}

/// The grammar's id of the field `name`. Found once per thread for each name (by a binary search of the
/// grammar's field names, sorted once per language) and then by the name's address: a `&'static str` is never
/// freed, so its address and length stand for its text for the whole run.
pub fn field_id(language: Language, name: &'static str) -> Option<u16> {
    /// (address, length, language, id + 1; 0 when the grammar has no such field)
    type Slot = (usize, usize, Language, u32);
    const SLOTS: usize = 128;
    thread_local! {
        static RECENT: std::cell::RefCell<[Slot; SLOTS]> =
            const { std::cell::RefCell::new([(0, 0, Language::Sql, 0); SLOTS]) };
    }
    let address = name.as_ptr() as usize;
    // String constants are at least byte-aligned and rarely share a cache line: the low bits past the
    // alignment spread them over the slots.
    let slot = ((address >> 2) ^ (address >> 9) ^ usize::from(language as u8)) % SLOTS;
    RECENT.with_borrow_mut(|recent| {
        let (known, length, known_language, id) = recent[slot];
        if known == address && length == name.len() && known_language == language {
            return u16::try_from(id.checked_sub(1)?).ok();
        }
        let found = lookup_field_id(language, name);
        recent[slot] = (
            address,
            name.len(),
            language,
            found.map_or(0, |id| u32::from(id) + 1),
        );
        found
    })
}

/// The grammar's id of the field `name`, by a binary search of its field names sorted once per language.
fn lookup_field_id(language: Language, name: &str) -> Option<u16> {
    static TABLES: [std::sync::OnceLock<Vec<(String, u16)>>; Language::ALL.len()] =
        [const { std::sync::OnceLock::new() }; Language::ALL.len()];
    let slot = Language::ALL.iter().position(|l| *l == language)?;
    let table = TABLES[slot].get_or_init(|| {
        let Some(grammar) = language.grammar() else {
            return Vec::new();
        };
        let count = u16::try_from(grammar.field_count()).unwrap_or(u16::MAX);
        let mut names: Vec<(String, u16)> = (1..=count)
            .filter_map(|id| {
                grammar
                    .field_name_for_id(id)
                    .map(|name| (name.to_string(), id))
            })
            .collect();
        names.sort_unstable();
        names
    });
    let found = table
        .binary_search_by(|(known, _)| known.as_str().cmp(name))
        .ok()?;
    Some(table[found].1)
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

    #[test]
    fn kind_names_from_the_table_agree_with_tree_sitter() {
        let samples = [
            (
                Language::Go,
                "package a\nfunc F() { x := <-c; go f(x); select {} }\nfunc ( {",
            ),
            (
                Language::Rust,
                "fn a() { let x = b!(1); S { k: 2 }; } impl {",
            ),
            (
                Language::TypeScript,
                "class A { m() { return { k: 2 }; } } const = ;",
            ),
            (Language::Tsx, "const f = async (x) => <div>{g(x)}</div>;"),
        ];
        for (language, source) in samples {
            let mut parser = tree_sitter::Parser::new();
            parser.set_language(&language.grammar().unwrap()).unwrap();
            let tree = parser.parse(source, None).unwrap();
            for node in crate::node::descendants(tree.root_node()) {
                assert_eq!(kind(language, node), node.kind(), "{language:?} {source}");
            }
        }
        assert_eq!(kind_name(Language::Sql, 1), None);
    }

    #[test]
    fn fields_by_id_agree_with_fields_by_name() {
        let samples = [
            (
                Language::Go,
                "package a\nfunc (s *S) F(ctx context.Context) { x := b.C(1); s.d = T{K: 2} }",
            ),
            (
                Language::Rust,
                "fn a(c: &Client) { let x: u8 = b::c(1); S { k: 2 }; c.get(); }",
            ),
            (
                Language::TypeScript,
                "class A { m(x: number) { const y = b.c(1); return { k: 2 }; } }",
            ),
            (Language::Tsx, "const f = async (x) => <div>{g(x)}</div>;"),
        ];
        let names = [
            "name",
            "type",
            "body",
            "function",
            "arguments",
            "left",
            "right",
            "value",
            "field",
            "operand",
            "pattern",
            "key",
            "receiver",
            "parameters",
            "object",
            "property",
            "no_such_field",
        ];
        for (language, source) in samples {
            let mut parser = tree_sitter::Parser::new();
            parser.set_language(&language.grammar().unwrap()).unwrap();
            let tree = parser.parse(source, None).unwrap();
            for node in crate::node::descendants(tree.root_node()) {
                for name in names {
                    assert_eq!(
                        field(language, node, name).map(|n| n.id()),
                        node.child_by_field_name(name).map(|n| n.id()),
                        "{language:?} {} {name}",
                        node.kind()
                    );
                }
            }
        }
    }
}
