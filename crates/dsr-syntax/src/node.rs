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

/// What counts as naming something, for [`mentions`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Mention {
    /// A variable read: an identifier, or a TS shorthand property (`{ name }`); a field or property name
    /// (`x.name`, `{ name: 1 }`) does not count.
    Variable,
    /// A variable or a field/property name: `x.name` and `{ name: 1 }` mention `name` too.
    VariableOrField,
    /// An identifier or a TS member access written out (`opts.signal`), whitespace ignored; a shorthand property
    /// does not count.
    Expression,
}

/// Whether `n` (or a node inside it) names one of `names`, as `mention` counts names. An empty name is never
/// mentioned: tree-sitter's zero-width MISSING identifiers in broken code have empty text.
pub fn mentions<S: AsRef<str>>(n: Node<'_>, names: &[S], source: &str, mention: Mention) -> bool {
    if names.is_empty() {
        return false;
    }
    descendants(n).any(|d| {
        let counts = match mention {
            Mention::Variable => {
                matches!(d.kind(), "identifier" | "shorthand_property_identifier")
            }
            Mention::VariableOrField => matches!(
                d.kind(),
                "identifier"
                    | "shorthand_property_identifier"
                    | "field_identifier"
                    | "property_identifier"
            ),
            Mention::Expression => matches!(d.kind(), "identifier" | "member_expression"),
        };
        if !counts {
            return false;
        }
        let written = text(d, source);
        if written.is_empty() {
            return false;
        }
        names.iter().any(|name| match mention {
            Mention::Expression => written
                .chars()
                .filter(|c| !c.is_whitespace())
                .eq(name.as_ref().chars()),
            Mention::Variable | Mention::VariableOrField => written == name.as_ref(),
        })
    })
}

/// A set of wrapper expressions for [`strip_wrappers`] to look through. Callers choose the set their question
/// needs: a call chain is the same call through `?` and `.await`, but not through `&` or `as`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Wrappers(u8);

impl Wrappers {
    /// `(x)`.
    pub const PARENS: Wrappers = Wrappers(1);
    /// Rust `x?`.
    pub const TRY: Wrappers = Wrappers(1 << 1);
    /// Rust `x.await`, TS `await x`.
    pub const AWAIT: Wrappers = Wrappers(1 << 2);
    /// TS `x!`.
    pub const NON_NULL: Wrappers = Wrappers(1 << 3);
    /// Rust `&x`, `&mut x`.
    pub const BORROW: Wrappers = Wrappers(1 << 4);
    /// Go `&x`, `*x`; Rust `*x` (unary `&` and `*`; not `-x` or `!x`).
    pub const ADDRESS: Wrappers = Wrappers(1 << 5);
    /// TS `x as T`, `x satisfies T`.
    pub const CAST: Wrappers = Wrappers(1 << 6);
    /// A Go expression list of one expression (`return x`).
    pub const SINGLE_LIST: Wrappers = Wrappers(1 << 7);
    /// A call's result once it is awaited and its error propagated: `(x)`, `x?`, `x.await`, `await x`.
    pub const AWAITED: Wrappers = Self::PARENS.with(Self::TRY).with(Self::AWAIT);
    /// What a value keeps through a call chain: `(x)`, `x?`, `x.await`, `await x`, `x!`.
    pub const CHAIN: Wrappers = Self::AWAITED.with(Self::NON_NULL);
    /// Every wrapper: the place an expression reads, through references, derefs and casts too.
    pub const ALL: Wrappers = Wrappers(u8::MAX);

    /// Both sets.
    pub const fn with(self, other: Wrappers) -> Wrappers {
        Wrappers(self.0 | other.0)
    }

    /// Whether every wrapper of `other` is in this set.
    pub const fn contains(self, other: Wrappers) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Wrappers {
    type Output = Wrappers;

    fn bitor(self, other: Wrappers) -> Wrappers {
        self.with(other)
    }
}

/// `n` with the wrappers of `wrappers` around it taken off, outermost first, until a node that is none of them:
/// `strip_wrappers((&x?), Wrappers::ALL)` is `x`. Comments inside a wrapper (`( /* c */ x)`) are skipped.
pub fn strip_wrappers(mut n: Node<'_>, wrappers: Wrappers) -> Node<'_> {
    loop {
        let wrapper = match n.kind() {
            "parenthesized_expression" => Wrappers::PARENS,
            "try_expression" => Wrappers::TRY,
            "await_expression" => Wrappers::AWAIT,
            "non_null_expression" => Wrappers::NON_NULL,
            "reference_expression" => Wrappers::BORROW,
            "as_expression" | "satisfies_expression" => Wrappers::CAST,
            "unary_expression" if n.child(0).is_some_and(|c| matches!(c.kind(), "*" | "&")) => {
                Wrappers::ADDRESS
            }
            "expression_list" if n.named_child_count() == 1 => Wrappers::SINGLE_LIST,
            _ => return n,
        };
        if !wrappers.contains(wrapper) {
            return n;
        }
        let inner = if wrapper == Wrappers::ADDRESS {
            n.child_by_field_name("operand")
                .or_else(|| named_children(n).next())
        } else {
            named_children(n)
                .find(|c| !c.kind().contains("comment") && c.kind() != "mutable_specifier")
        };
        match inner {
            Some(inner) => n = inner,
            None => return n,
        }
    }
}

/// The real callee of a TypeScript call whose `function` field is `callee`. tree-sitter-typescript parses
/// `await f<T>(x)` inside out, as `(await f)<T>(x)` (its issue #282): the callee is then what the `await` holds,
/// and [`awaits_inside_out`] says the call itself is awaited. Every other callee is returned as it is.
pub fn uninvert_await(callee: Node<'_>) -> Node<'_> {
    if callee.kind() == "await_expression" {
        if let Some(inner) = callee.named_child(0) {
            return inner;
        }
    }
    callee
}

/// Whether `call` is a TypeScript call the grammar parsed inside out around its `await` (see
/// [`uninvert_await`]): `await f<T>(x)` is awaited although no `await_expression` is above it.
pub fn awaits_inside_out(call: Node<'_>) -> bool {
    call.kind() == "call_expression"
        && call
            .child_by_field_name("function")
            .is_some_and(|f| f.kind() == "await_expression")
}

/// Rust: the enum variant a pattern matches, by its last name — `Err` for `Err(e)`, `Result::Err(e)` and
/// `std::result::Result::Err(e)`, `None` for `None`, `Ready` for `Poll::Ready(..)` — read through a `match`
/// arm's guard (`Err(e) if …`), a binding (`r @ Err(_)`) and an or-pattern whose alternatives all match the
/// same variant (`Err(A) | Err(B)`). `None` for anything else: a binding (`e`), a wildcard, a tuple.
pub fn rust_variant<'s>(pattern: Node<'_>, source: &'s str) -> Option<&'s str> {
    let last_name = |path: Node<'_>| match path.kind() {
        "scoped_identifier" => path.child_by_field_name("name").map(|n| text(n, source)),
        "identifier" => Some(text(path, source)),
        _ => None,
    };
    match pattern.kind() {
        // A `match` arm's pattern comes wrapped, with its guard, in a `match_pattern`.
        "match_pattern" => rust_variant(pattern.named_child(0)?, source),
        "captured_pattern" => rust_variant(named_children(pattern).last()?, source),
        "tuple_struct_pattern" | "struct_pattern" => {
            last_name(pattern.child_by_field_name("type")?)
        }
        // A bare path is a unit variant (`None`, `Poll::Pending`); a bare lowercase name is a binding.
        "scoped_identifier" => last_name(pattern),
        "identifier" => {
            let name = text(pattern, source);
            name.starts_with(char::is_uppercase).then_some(name)
        }
        "or_pattern" => {
            let mut variants = named_children(pattern).map(|p| rust_variant(p, source));
            let first = variants.next()??;
            variants.all(|v| v == Some(first)).then_some(first)
        }
        _ => None,
    }
}

/// Rust: whether a pattern takes the failure of a `Result`: `Err(..)` (also written `Result::Err(..)`), or a
/// future's failed poll, `Poll::Ready(Err(..))`.
pub fn rust_pattern_is_err(pattern: Node<'_>, source: &str) -> bool {
    match rust_variant(pattern, source) {
        Some("Err") => true,
        Some("Ready") => {
            let pattern = match pattern.kind() {
                "match_pattern" => pattern.named_child(0).unwrap_or(pattern),
                _ => pattern,
            };
            named_children(pattern)
                .nth(1)
                .is_some_and(|inner| rust_variant(inner, source) == Some("Err"))
        }
        _ => false,
    }
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

    /// The variant of each `match` arm's pattern in `fn f() { match x { … } }`, in order.
    fn arm_variants(arms: &str) -> Vec<Option<String>> {
        let source = format!("fn f() {{ match x {{ {arms} }} }}");
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(&Language::Rust.grammar().unwrap())
            .unwrap();
        let tree = parser.parse(&source, None).unwrap();
        descendants(tree.root_node())
            .filter(|n| n.kind() == "match_arm")
            .filter_map(|arm| arm.child_by_field_name("pattern"))
            .map(|p| rust_variant(p, &source).map(str::to_string))
            .collect()
    }

    #[test]
    fn rust_variants_are_read_from_the_pattern() {
        let variant = |s: &str| Some(s.to_string());
        assert_eq!(
            arm_variants(
                "Err(e) if e.is_timeout() => 1, Result::Err(_) => 2, std::result::Result::Ok(v) => 3, \
                 None => 4, r @ Err(_) => 5, Err(A) | Err(B) => 6"
            ),
            vec![
                variant("Err"),
                variant("Err"),
                variant("Ok"),
                variant("None"),
                variant("Err"),
                variant("Err")
            ]
        );
        // A binding, a wildcard, an or-pattern of two variants, and a name that merely starts with `Err`.
        assert_eq!(
            arm_variants("e => 1, _ => 2, Ok(_) | Err(_) => 3, ErrorKind::NotFound => 4"),
            vec![None, None, None, variant("NotFound")]
        );
    }

    #[test]
    fn rust_failure_patterns() {
        let source = "fn f() { match p { Err(_) => 1, Poll::Ready(Err(_)) => 2, Poll::Ready(Ok(_)) => 3, ErrorKind::Other => 4 } }";
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(&Language::Rust.grammar().unwrap())
            .unwrap();
        let tree = parser.parse(source, None).unwrap();
        let failures: Vec<bool> = descendants(tree.root_node())
            .filter(|n| n.kind() == "match_arm")
            .filter_map(|arm| arm.child_by_field_name("pattern"))
            .map(|p| rust_pattern_is_err(p, source))
            .collect();
        assert_eq!(failures, vec![true, true, false, false]);
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

    fn parse(language: Language, source: &str) -> tree_sitter::Tree {
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(&language.grammar().unwrap()).unwrap();
        parser.parse(source, None).unwrap()
    }

    fn first_of_kind<'t>(tree: &'t tree_sitter::Tree, kind: &str) -> Node<'t> {
        descendants(tree.root_node())
            .find(|n| n.kind() == kind)
            .unwrap()
    }

    #[test]
    fn mentions_counts_names_as_asked() {
        let source = "const a = f({ b, c: 1 }, d.e, opts . signal);";
        let tree = parse(Language::TypeScript, source);
        let call = first_of_kind(&tree, "call_expression");
        let variable = |name: &str| mentions(call, &[name], source, Mention::Variable);
        assert!(variable("b"), "a shorthand property reads a variable");
        assert!(variable("d"));
        assert!(!variable("c"), "a property name is not a variable");
        assert!(!variable("e"));
        assert!(!variable(""));
        assert!(mentions(call, &["e"], source, Mention::VariableOrField));
        assert!(mentions(call, &["c"], source, Mention::VariableOrField));
        assert!(mentions(
            call,
            &["opts.signal"],
            source,
            Mention::Expression
        ));
        assert!(!mentions(call, &["b"], source, Mention::Expression));
        let names = vec!["x".to_string(), "d".to_string()];
        assert!(mentions(call, &names, source, Mention::Variable));
        assert!(!mentions(
            call,
            &Vec::<String>::new(),
            source,
            Mention::Variable
        ));
    }

    #[test]
    fn an_awaited_call_with_type_arguments_is_read_right_side_out() {
        let source =
            "async function f() { const a = await api.get<User>(u); const b = await api.get(u); }";
        let tree = parse(Language::TypeScript, source);
        let calls: Vec<Node<'_>> = descendants(tree.root_node())
            .filter(|n| n.kind() == "call_expression")
            .collect();
        assert_eq!(calls.len(), 2);
        let inverted = calls[0];
        let callee = uninvert_await(inverted.child_by_field_name("function").unwrap());
        assert_eq!(text(callee, source), "api.get");
        assert!(awaits_inside_out(inverted));
        // The well-formed parse is left alone.
        let plain = calls[1];
        let callee = plain.child_by_field_name("function").unwrap();
        assert_eq!(uninvert_await(callee), callee);
        assert!(!awaits_inside_out(plain));
    }

    #[test]
    fn strip_wrappers_takes_off_only_the_wrappers_asked_for() {
        let source = "async fn f() { let v = (&(g().await?)); }";
        let tree = parse(Language::Rust, source);
        let value = first_of_kind(&tree, "let_declaration")
            .child_by_field_name("value")
            .unwrap();
        assert_eq!(
            strip_wrappers(value, Wrappers::ALL).kind(),
            "call_expression"
        );
        assert_eq!(
            strip_wrappers(value, Wrappers::CHAIN).kind(),
            "reference_expression"
        );
        assert_eq!(
            strip_wrappers(value, Wrappers::PARENS | Wrappers::BORROW).kind(),
            "try_expression"
        );
        assert_eq!(
            strip_wrappers(value, Wrappers::TRY).kind(),
            "parenthesized_expression"
        );

        let source = "const v = (await (x as Y)!) satisfies Z;";
        let tree = parse(Language::TypeScript, source);
        let value = first_of_kind(&tree, "variable_declarator")
            .child_by_field_name("value")
            .unwrap();
        assert_eq!(text(strip_wrappers(value, Wrappers::ALL), source), "x");
        assert_eq!(
            strip_wrappers(value, Wrappers::CHAIN).kind(),
            "satisfies_expression"
        );

        let source = "package p\nfunc f() { g(&*p, -q) }";
        let tree = parse(Language::Go, source);
        let arguments = first_of_kind(&tree, "argument_list");
        let args: Vec<_> = named_children(arguments).collect();
        assert_eq!(
            text(strip_wrappers(args[0], Wrappers::ADDRESS), source),
            "p"
        );
        assert_eq!(text(strip_wrappers(args[1], Wrappers::ALL), source), "-q");
    }
}
