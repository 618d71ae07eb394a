//! A file cut into top-level chunks, and the names each chunk defines and mentions.
//!
//! A chunk is one top-level declaration, function or statement together with the comments and attributes
//! before it: its range starts where the previous chunk's node ended, so the chunks tile the whole file and
//! every byte (a comment, a suppression directive, trailing whitespace) belongs to exactly one of them.

use std::hash::Hasher;
use std::sync::Arc;

use dsr_core::role::RoleConventions;
use dsr_syntax::{KindSet, Language, TextRange};
use rustc_hash::{FxHashMap, FxHashSet, FxHasher};
use tree_sitter::{Node, Tree};

/// How a chunk takes part in slices (see the module docs of [`super`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Role {
    /// Package clause, imports, `use`, and anything this module does not know how to scope (top-level macro
    /// invocations, ERROR nodes): part of every slice.
    Global,
    /// Types, traits, package-level variables and constants: context for the chunks that mention them, never a
    /// link between two of those chunks (a type every method mentions would otherwise join the whole file).
    Declaration,
    /// Functions, methods, `impl` blocks, classes, and top-level statements.
    Item,
}

/// The hash of an identifier's text.
pub(crate) type Name = u64;

/// Stands for "the module's top-level statements", which run together: every nameless item defines it and
/// calls it, so they all share one slice.
pub(crate) const MODULE_BODY: Name = 0x6d6f_6475_6c65_5f62;

/// What a chunk's text says, independent of where it is: cached by the text's hash.
#[derive(Debug, Default)]
pub(crate) struct ChunkNames {
    pub(crate) role: Option<Role>,
    /// Names the chunk declares at top level (a function, a type, a variable, the methods of an `impl`).
    pub(crate) defines: Vec<Name>,
    /// Names the chunk calls (the last identifier of a callee: `f()`, `s.f()`, `pkg::f()`, `new F()`, `m!()`).
    pub(crate) calls: Vec<Name>,
    /// Every other identifier the chunk mentions.
    pub(crate) values: Vec<Name>,
    /// Fields the chunk assigns to (`s.f = …`, `s.f[k] = …`, `s.f++`): the last identifier of the target. Two
    /// chunks that write the same struct field are analysed together.
    pub(crate) writes: Vec<Name>,
    /// Variables the chunk assigns to (`x = …`, `x[k] = …`, `x++`). Two chunks that write the same package-level
    /// variable are analysed together; a local variable that happens to share a field's name links nothing.
    pub(crate) variable_writes: Vec<Name>,
    /// The struct fields among `defines` (sorted): a write links to a field only through a field target.
    pub(crate) fields: Vec<Name>,
    /// One of the module's top-level statements or variables (TS), which run together as one program.
    pub(crate) module_body: bool,
    /// Functions the chunk names as a command's body (Go `RunE: runStatus`, `Action: runAction`: a keyed
    /// element whose key is a body field of `kb/roles.toml`'s `[[tool.go_command]]`). The named function's code
    /// role depends on the literal, so its slices hold this chunk whatever the rules read.
    pub(crate) role_bodies: Vec<Name>,
    /// A function's top-level statements: a slice that holds this chunk only because it mentions the slice's
    /// owner (a `routes` function registering it) keeps just the statements that matter to the owner.
    pub(crate) statements: Vec<Statement>,
}

/// A top-level statement of a function body, relative to its chunk's start, with every name it mentions.
#[derive(Debug)]
pub(crate) struct Statement {
    pub(crate) range: TextRange,
    pub(crate) names: Vec<Name>,
}

/// One chunk of the current text.
#[derive(Debug, Clone)]
pub(crate) struct Chunk {
    pub(crate) range: TextRange,
    /// The hash of `source[range]`.
    pub(crate) hash: u64,
    pub(crate) names: Arc<ChunkNames>,
    /// For the parts of a class or `impl` block cut into its members: the index of the chunk that opens it
    /// (its head, `class A extends B {`). The head, the closing part and members that define no name form the
    /// container's *shell*, which every slice holding one of its parts holds, so that the slice's text is still
    /// a class with some of its members.
    pub(crate) container: Option<usize>,
}

impl Chunk {
    pub(crate) fn role(&self) -> Role {
        self.names.role.unwrap_or(Role::Global)
    }
}

pub(crate) fn text_hash(text: &str) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write(text.as_bytes());
    hasher.write_usize(text.len());
    hasher.finish()
}

/// The grammar's kinds this module asks about, looked up once per language.
pub(crate) struct Kinds {
    identifiers: KindSet,
    trivia: KindSet,
    calls: KindSet,
    assignments: KindSet,
    /// Go `Key: value` elements of a composite literal (`RunE: runStatus`).
    keyed_elements: KindSet,
}

impl Kinds {
    pub(crate) fn new(language: Language) -> Self {
        Self {
            // `identifier`, `field_identifier`, `type_identifier`, `property_identifier`,
            // `shorthand_property_identifier`, `package_identifier`, ...
            identifiers: KindSet::new(language, |kind| kind.ends_with("identifier")),
            trivia: KindSet::new(language, |kind| {
                kind.contains("comment") || kind == "attribute_item"
            }),
            calls: KindSet::of(
                language,
                &["call_expression", "new_expression", "macro_invocation"],
            ),
            assignments: KindSet::of(
                language,
                &[
                    "assignment_statement",
                    "inc_statement",
                    "dec_statement",
                    "assignment_expression",
                    "compound_assignment_expr",
                    "augmented_assignment_expression",
                    "update_expression",
                ],
            ),
            keyed_elements: KindSet::of(language, &["keyed_element"]),
        }
    }
}

/// Cuts `tree` into chunks, reusing the names of chunks whose text was seen before.
pub(crate) fn chunk(
    language: Language,
    kinds: &Kinds,
    tree: &Tree,
    source: &str,
    known: &FxHashMap<u64, Arc<ChunkNames>>,
) -> Vec<Chunk> {
    let root = tree.root_node();
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut start = 0;
    let mut cursor = root.walk();
    let mut nodes = Vec::new();
    for child in root.children(&mut cursor) {
        if kinds.trivia.contains(child) || !child.is_named() {
            continue;
        }
        let end = child.end_byte().min(source.len());
        if end <= start {
            continue;
        }
        nodes.push((TextRange::new(start, end), child));
        start = end;
    }
    match nodes.last_mut() {
        Some((range, _)) => range.end = source.len(),
        None => {
            let range = TextRange::new(0, source.len());
            let text = &source[range.start..range.end];
            return vec![Chunk {
                range,
                hash: text_hash(text),
                names: Arc::new(ChunkNames {
                    role: Some(Role::Global),
                    ..ChunkNames::default()
                }),
                container: None,
            }];
        }
    }
    for (range, node) in nodes {
        if let Some((body, members)) = container_members(language, node) {
            split_container(
                language,
                kinds,
                source,
                known,
                range,
                node,
                body,
                &members,
                &mut chunks,
            );
            continue;
        }
        let text = source.get(range.start..range.end).unwrap_or_default();
        let hash = text_hash(text);
        let names = match known.get(&hash) {
            Some(names) => names.clone(),
            None => Arc::new(names_of(language, kinds, node, source, range.start)),
        };
        chunks.push(Chunk {
            range,
            hash,
            names,
            container: None,
        });
    }
    chunks
}

/// Distinguishes the names of a container's part from those of a top-level chunk with the same text.
const PART: u64 = 0x7061_7274_5f6f_665f;

/// A class (TypeScript) or `impl` block (Rust) with at least two methods: its body and its children. Such
/// a block is cut into its members, so that an edit in one method re-analyses that method, not the block (one
/// big class or `impl` is often most of a file).
fn container_members<'t>(language: Language, node: Node<'t>) -> Option<(Node<'t>, Vec<Node<'t>>)> {
    let declaration = match (language, node.kind()) {
        (Language::TypeScript | Language::Tsx, "export_statement") => {
            node.child_by_field_name("declaration")?
        }
        _ => node,
    };
    let is_container = match language {
        Language::TypeScript | Language::Tsx => matches!(
            declaration.kind(),
            "class_declaration" | "abstract_class_declaration"
        ),
        Language::Rust => declaration.kind() == "impl_item",
        _ => false,
    };
    if !is_container {
        return None;
    }
    let body = declaration.child_by_field_name("body")?;
    let mut cursor = body.walk();
    let members: Vec<Node<'t>> = body.children(&mut cursor).collect();
    let methods = members.iter().filter(|m| is_method(**m)).count();
    (methods >= 2).then_some((body, members))
}

fn is_method(member: Node<'_>) -> bool {
    matches!(member.kind(), "method_definition" | "function_item")
}

/// Cuts a container into its head (up to the body's opening brace), one chunk per member (with the comments
/// and attributes before it) and its closing part. Methods are items; the head and every other member are
/// declarations: context for the methods that mention them.
#[allow(clippy::too_many_arguments)]
fn split_container(
    language: Language,
    kinds: &Kinds,
    source: &str,
    known: &FxHashMap<u64, Arc<ChunkNames>>,
    range: TextRange,
    node: Node<'_>,
    body: Node<'_>,
    members: &[Node<'_>],
    chunks: &mut Vec<Chunk>,
) {
    let head = chunks.len();
    // (end, member): the head ends after the body's opening brace, each member where its node ends (so the
    // comments before it are its own), the closing part where the container ends.
    let mut parts: Vec<(usize, Option<Node<'_>>)> = Vec::with_capacity(members.len() + 2);
    let opening = (body.start_byte() + 1).clamp(range.start, range.end);
    parts.push((opening, None));
    let mut end = opening;
    for &member in members {
        if member.end_byte() <= end || member.end_byte() > range.end {
            continue;
        }
        if !member.is_named() {
            // The `;` after a field belongs to it; the braces to the head and the closing part.
            if member.kind() == ";" && parts.len() > 1 {
                end = member.end_byte();
                if let Some(last) = parts.last_mut() {
                    last.0 = end;
                }
            }
            continue;
        }
        if kinds.trivia.contains(member) {
            continue;
        }
        end = member.end_byte();
        parts.push((end, Some(member)));
    }
    parts.push((range.end, None));
    let mut start = range.start;
    for (index, (end, member)) in parts.iter().enumerate() {
        let part = TextRange::new(start, *end);
        let text = source.get(part.start..part.end).unwrap_or_default();
        let hash = text_hash(text) ^ PART;
        let names = match known.get(&hash) {
            Some(names) => names.clone(),
            None => Arc::new(match member {
                Some(member) => member_names(language, kinds, *member, source, part.start),
                None if index == 0 => head_names(kinds, node, body, source),
                None => ChunkNames {
                    role: Some(Role::Declaration),
                    ..ChunkNames::default()
                },
            }),
        };
        chunks.push(Chunk {
            range: part,
            hash,
            names,
            container: Some(head),
        });
        start = part.end;
    }
}

/// A member of a container: a method is an item, any other member (a field, an associated constant or type) a
/// declaration; a TypeScript field's name is a field, written through `this.f = …`.
fn member_names(
    language: Language,
    kinds: &Kinds,
    member: Node<'_>,
    source: &str,
    chunk_start: usize,
) -> ChunkNames {
    let mut names = names_of(language, kinds, member, source, chunk_start);
    names.module_body = false;
    names.defines.retain(|&name| name != MODULE_BODY);
    names.calls.retain(|&name| name != MODULE_BODY);
    if is_method(member) {
        names.role = Some(Role::Item);
    } else {
        names.role = Some(Role::Declaration);
        if member.kind() == "public_field_definition" {
            names.fields = names.defines.clone();
        }
    }
    names
}

/// The names of a container's head: what the block declares and mentions outside its body (`class A<T>
/// extends B implements C`, `impl<T> Trait for Type where …`, decorators).
fn head_names(kinds: &Kinds, node: Node<'_>, body: Node<'_>, source: &str) -> ChunkNames {
    let mut defines = Vec::new();
    let mut calls = Vec::new();
    let mut values = Vec::new();
    let mut outer = node;
    loop {
        let mut cursor = outer.walk();
        for name in outer.children_by_field_name("name", &mut cursor) {
            identifiers_in(name, source, &mut defines);
        }
        let mut cursor = outer.walk();
        let mut inner = None;
        for child in outer.named_children(&mut cursor) {
            if child == body {
                continue;
            }
            if child.end_byte() > body.start_byte() {
                // The class an `export` wraps: its own children are looked at in the next round.
                inner = Some(child);
                continue;
            }
            let found = mentions(kinds, child, source);
            calls.extend(found.calls);
            values.extend(found.values);
        }
        match inner {
            Some(child) => outer = child,
            None => break,
        }
    }
    defines.sort_unstable();
    defines.dedup();
    for list in [&mut calls, &mut values] {
        list.sort_unstable();
        list.dedup();
        list.retain(|name| defines.binary_search(name).is_err());
    }
    ChunkNames {
        role: Some(Role::Declaration),
        defines,
        calls,
        values,
        ..ChunkNames::default()
    }
}

fn names_of(
    language: Language,
    kinds: &Kinds,
    node: Node<'_>,
    source: &str,
    chunk_start: usize,
) -> ChunkNames {
    let role = role_of(language, node, source);
    let mut defines = Vec::new();
    let mut fields = Vec::new();
    defined_names(node, source, &mut defines, &mut fields);
    let Mentions {
        mut calls,
        mut values,
        mut writes,
        mut variable_writes,
        mut role_bodies,
    } = mentions(kinds, node, source);
    let module_body = match language {
        Language::TypeScript | Language::Tsx => {
            (role == Role::Item && defines.is_empty())
                || (role == Role::Declaration && is_variable_declaration(node))
        }
        _ => role == Role::Item && defines.is_empty(),
    };
    if module_body {
        defines.push(MODULE_BODY);
        calls.push(MODULE_BODY);
    }
    defines.sort_unstable();
    defines.dedup();
    for list in [
        &mut calls,
        &mut values,
        &mut writes,
        &mut variable_writes,
        &mut fields,
        &mut role_bodies,
    ] {
        list.sort_unstable();
        list.dedup();
    }
    // A chunk's own names are not a dependency on itself.
    calls.retain(|name| defines.binary_search(name).is_err() || *name == MODULE_BODY);
    values.retain(|name| defines.binary_search(name).is_err());
    values.retain(|name| calls.binary_search(name).is_err());
    ChunkNames {
        role: Some(role),
        defines,
        calls,
        values,
        writes,
        variable_writes,
        fields,
        module_body,
        role_bodies,
        statements: if role == Role::Item {
            body_statements(kinds, node, source, chunk_start)
        } else {
            Vec::new()
        },
    }
}

/// The top-level statements of the body of the function `node` (a Go function or method, a Rust function, a
/// TS function declaration); none for anything else.
fn body_statements(
    kinds: &Kinds,
    node: Node<'_>,
    source: &str,
    chunk_start: usize,
) -> Vec<Statement> {
    if !matches!(
        node.kind(),
        "function_declaration" | "method_declaration" | "function_item"
    ) {
        return Vec::new();
    }
    let Some(body) = node.child_by_field_name("body") else {
        return Vec::new();
    };
    let mut cursor = body.walk();
    let mut list = body;
    if let Some(statement_list) = body
        .named_children(&mut cursor)
        .find(|child| child.kind() == "statement_list")
    {
        list = statement_list;
    }
    let mut cursor = list.walk();
    let statements: Vec<Statement> = list
        .named_children(&mut cursor)
        .filter(|statement| !kinds.trivia.contains(*statement))
        .map(|statement| {
            let Mentions {
                calls,
                values,
                writes,
                variable_writes,
                role_bodies: _,
            } = mentions(kinds, statement, source);
            let mut names: Vec<Name> = calls
                .into_iter()
                .chain(values)
                .chain(writes)
                .chain(variable_writes)
                .collect();
            names.sort_unstable();
            names.dedup();
            Statement {
                range: TextRange::new(
                    statement.start_byte().saturating_sub(chunk_start),
                    statement.end_byte().saturating_sub(chunk_start),
                ),
                names,
            }
        })
        .collect();
    statements
}

fn is_variable_declaration(node: Node<'_>) -> bool {
    match node.kind() {
        "lexical_declaration" | "variable_declaration" => true,
        "export_statement" => node
            .child_by_field_name("declaration")
            .is_some_and(is_variable_declaration),
        _ => false,
    }
}

/// `const x = require("y")` (or `require("y").z`): an import written as a call.
fn is_require(node: Node<'_>, source: &str) -> bool {
    if !matches!(node.kind(), "lexical_declaration" | "variable_declaration") {
        return false;
    }
    let mut cursor = node.walk();
    let declarators: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
    !declarators.is_empty()
        && declarators.iter().all(|declarator| {
            let mut value = declarator.child_by_field_name("value");
            while let Some(v) = value {
                match v.kind() {
                    "member_expression" => value = v.child_by_field_name("object"),
                    "await_expression" => value = v.named_child(0),
                    "call_expression" => {
                        let callee = v.child_by_field_name("function");
                        return callee.is_some_and(|c| {
                            matches!(
                                source.get(c.start_byte()..c.end_byte()),
                                Some("require" | "import")
                            ) || c.kind() == "import"
                        });
                    }
                    _ => return false,
                }
            }
            false
        })
}

fn role_of(language: Language, node: Node<'_>, source: &str) -> Role {
    let kind = node.kind();
    match language {
        Language::Go => match kind {
            // `init` runs before anything else and configures what the rest uses (`http.DefaultClient.Timeout`).
            "function_declaration"
                if node
                    .child_by_field_name("name")
                    .and_then(|name| source.get(name.start_byte()..name.end_byte()))
                    == Some("init") =>
            {
                Role::Global
            }
            "function_declaration" | "method_declaration" => Role::Item,
            "type_declaration" | "var_declaration" | "const_declaration" => Role::Declaration,
            _ => Role::Global,
        },
        Language::Rust => match kind {
            "function_item" | "impl_item" | "macro_definition" => Role::Item,
            "mod_item" if node.child_by_field_name("body").is_some() => Role::Item,
            "struct_item" | "enum_item" | "union_item" | "type_item" | "trait_item"
            | "const_item" | "static_item" => Role::Declaration,
            _ => Role::Global,
        },
        Language::TypeScript | Language::Tsx => ts_role(node, source),
        Language::Sql => Role::Global,
    }
}

fn ts_role(node: Node<'_>, source: &str) -> Role {
    if is_require(node, source) {
        return Role::Global;
    }
    match node.kind() {
        "import_statement" | "ERROR" => Role::Global,
        // A directive (`"use client"`) says where the whole module runs: its code role.
        "expression_statement" if node.named_child(0).is_some_and(|e| e.kind() == "string") => {
            Role::Global
        }
        "export_statement" => {
            if node.child_by_field_name("source").is_some() {
                // `export { a } from './b'`: an import in all but name.
                return Role::Global;
            }
            match node.child_by_field_name("declaration") {
                Some(declaration) => ts_role(declaration, source),
                None => Role::Item,
            }
        }
        "function_declaration"
        | "generator_function_declaration"
        | "class_declaration"
        | "abstract_class_declaration" => Role::Item,
        "interface_declaration"
        | "type_alias_declaration"
        | "enum_declaration"
        | "ambient_declaration"
        | "module"
        | "internal_module" => Role::Declaration,
        "lexical_declaration" | "variable_declaration" => {
            let mut cursor = node.walk();
            let function_valued = node.named_children(&mut cursor).any(|declarator| {
                declarator
                    .child_by_field_name("value")
                    .is_some_and(|value| {
                        matches!(
                            value.kind(),
                            "arrow_function" | "function_expression" | "function" | "class"
                        )
                    })
            });
            if function_valued {
                Role::Item
            } else {
                Role::Declaration
            }
        }
        _ => Role::Item,
    }
}

/// The names a top-level node declares: its `name`, the specs of a Go `var (...)`/`type (...)` group, the
/// declarators of a `const`/`let`, what an `export` wraps, and the members of an `impl`, trait or class (so that
/// `s.member()` elsewhere links to the chunk that defines `member`).
fn defined_names(node: Node<'_>, source: &str, out: &mut Vec<Name>, fields: &mut Vec<Name>) {
    let mut cursor = node.walk();
    for name in node.children_by_field_name("name", &mut cursor) {
        identifiers_in(name, source, out);
    }
    match node.kind() {
        "export_statement" => {
            if let Some(declaration) = node.child_by_field_name("declaration") {
                defined_names(declaration, source, out, fields);
            }
        }
        "type_declaration"
        | "var_declaration"
        | "const_declaration"
        | "lexical_declaration"
        | "variable_declaration"
        | "var_spec_list" => {
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                defined_names(child, source, out, fields);
            }
        }
        // A struct's fields: methods that write the same field are analysed together.
        "type_spec" | "struct_item" | "union_item" => {
            let body = match node.kind() {
                "type_spec" => node.child_by_field_name("type"),
                _ => Some(node),
            }
            .and_then(|n| n.child_by_field_name("body").or_else(|| n.named_child(0)));
            if let Some(body) = body {
                let mut cursor = body.walk();
                for field in body.named_children(&mut cursor) {
                    if field.kind() == "field_declaration" {
                        let mut inner = field.walk();
                        for name in field.children_by_field_name("name", &mut inner) {
                            let before = out.len();
                            identifiers_in(name, source, out);
                            fields.extend_from_slice(&out[before..]);
                        }
                    }
                }
            }
        }
        "impl_item" | "trait_item" | "class_declaration" | "abstract_class_declaration" => {
            if let Some(body) = node.child_by_field_name("body") {
                let mut cursor = body.walk();
                for member in body.named_children(&mut cursor) {
                    let mut inner = member.walk();
                    for name in member.children_by_field_name("name", &mut inner) {
                        identifiers_in(name, source, out);
                    }
                }
            }
        }
        _ => {}
    }
}

fn identifiers_in(node: Node<'_>, source: &str, out: &mut Vec<Name>) {
    if node.child_count() == 0 {
        if let Some(text) = source.get(node.start_byte()..node.end_byte()) {
            out.push(text_hash(text));
        }
        return;
    }
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        identifiers_in(child, source, out);
    }
}

struct Mentions {
    calls: Vec<Name>,
    values: Vec<Name>,
    writes: Vec<Name>,
    variable_writes: Vec<Name>,
    role_bodies: Vec<Name>,
}

/// The identifiers under `node`, split into callee names and the rest, and the names assigned to.
fn mentions(kinds: &Kinds, node: Node<'_>, source: &str) -> Mentions {
    let mut found = Mentions {
        calls: Vec::new(),
        values: Vec::new(),
        writes: Vec::new(),
        variable_writes: Vec::new(),
        role_bodies: Vec::new(),
    };
    // End offsets of the callees of the calls seen so far: a callee's last identifier ends where it ends.
    let mut callee_ends: FxHashSet<usize> = FxHashSet::default();
    let mut cursor = node.walk();
    loop {
        let current = cursor.node();
        if kinds.calls.contains(current) {
            let callee = ["function", "constructor", "macro"]
                .iter()
                .find_map(|field| current.child_by_field_name(field));
            if let Some(callee) = callee {
                callee_ends.insert(callee.end_byte());
            }
        } else if kinds.assignments.contains(current) {
            let target = ["left", "argument"]
                .iter()
                .find_map(|field| current.child_by_field_name(field))
                .or_else(|| current.named_child(0));
            if let Some(target) = target {
                written_names(target, source, &mut found);
            }
        } else if kinds.keyed_elements.contains(current) {
            found
                .role_bodies
                .extend(command_body_named(current, source));
        } else if current.child_count() == 0 && kinds.identifiers.contains(current) {
            if let Some(text) = source.get(current.start_byte()..current.end_byte()) {
                let name = text_hash(text);
                if callee_ends.contains(&current.end_byte()) {
                    found.calls.push(name);
                } else {
                    found.values.push(name);
                }
            }
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() || cursor.node() == node {
                return found;
            }
        }
    }
}

/// `RunE: runStatus` (Go): the function a keyed element names as a command's body, when its key is one of the
/// body fields of `kb/roles.toml`. Any composite literal's element counts, whatever its type: a link too many
/// only makes a slice bigger, while one too few would give the function another role than the whole file does.
fn command_body_named(element: Node<'_>, source: &str) -> Option<Name> {
    fn unwrap(n: Node<'_>) -> Option<Node<'_>> {
        match n.kind() {
            "literal_element" => n.named_child(0),
            _ => Some(n),
        }
    }
    let key = unwrap(element.child_by_field_name("key")?)?;
    let value = unwrap(element.child_by_field_name("value")?)?;
    if value.kind() != "identifier" {
        return None;
    }
    let key = source.get(key.start_byte()..key.end_byte())?;
    let body_fields = || {
        RoleConventions::builtin()
            .tool
            .go_command
            .iter()
            .flat_map(|command| &command.body_fields)
    };
    if !body_fields().any(|field| field == key) {
        return None;
    }
    source
        .get(value.start_byte()..value.end_byte())
        .map(text_hash)
}

/// The name an assignment target stores into: the variable `x`, the field `f` of `s.f`, `s.f[k]`, `*s.f`,
/// `(a, b)`'s each.
fn written_names(target: Node<'_>, source: &str, out: &mut Mentions) {
    match target.kind() {
        "expression_list" | "tuple_expression" | "array_pattern" | "parenthesized_expression" => {
            let mut cursor = target.walk();
            for child in target.named_children(&mut cursor) {
                written_names(child, source, out);
            }
        }
        "selector_expression" | "field_expression" | "member_expression" => {
            if let Some(field) = target
                .child_by_field_name("field")
                .or_else(|| target.child_by_field_name("property"))
            {
                identifiers_in(field, source, &mut out.writes);
            }
        }
        "index_expression" | "subscript_expression" => {
            if let Some(operand) = target
                .child_by_field_name("operand")
                .or_else(|| target.child_by_field_name("object"))
                .or_else(|| target.named_child(0))
            {
                written_names(operand, source, out);
            }
        }
        "unary_expression" | "pointer_expression" | "reference_expression" => {
            if let Some(operand) = target
                .child_by_field_name("operand")
                .or_else(|| target.child_by_field_name("argument"))
                .or_else(|| target.named_child(0))
            {
                written_names(operand, source, out);
            }
        }
        _ if target.child_count() == 0 => identifiers_in(target, source, &mut out.variable_writes),
        _ => {}
    }
}
