//! `FileFacts`: what one pass over a file's tree learns, shared by every rule — imports and the names they bind,
//! functions with their parameters, calls with their callee resolved through those imports, composite/struct/
//! object literals with their fields, assignments, loops and string literals.
//!
//! Resolved paths are canonical per language so that the knowledge base and rules can name APIs one way:
//! - Go: `<import path>.<Name>[.<Member>]` — `net/http.Get`, `net/http.Client`, `net/http.DefaultClient.Do`;
//! - Rust: `<crate>::<path>` — `reqwest::Client::new`, `tokio::sync::mpsc::unbounded_channel`;
//! - TypeScript/JavaScript: `<module>.<member>` with `node:` dropped — `axios.get`, `https.request`; globals by
//!   name: `fetch`, `AbortSignal.timeout`.

mod go;
pub(crate) mod receiver;
mod rust;
mod typescript;
mod value_flow;

pub use receiver::{ReceiverType, WorkspaceTypes};
pub use value_flow::{Binding, ChainLink, ContextDeadline, Declaration, Origin};

use dsr_core::meta::Evidence;
use dsr_syntax::{node, KindSet, Language, TextRange};
use tree_sitter::{Node, Tree};

/// A name an import binds in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    /// The local name (`nethttp`, `rq`, `axios`, `request`).
    pub local: String,
    /// What it stands for, canonical (`net/http`, `reqwest`, `axios`, `https.request`).
    pub path: String,
    pub range: TextRange,
}

#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    /// The type as written, whitespace removed (`context.Context`, `*http.Request`, `AbortSignal`).
    pub type_text: String,
    /// The type resolved through imports, pointer/reference marks dropped (`context.Context`, `net/http.Request`).
    pub type_path: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Function<'t> {
    pub node: Node<'t>,
    /// `Type.method`, `Type::method`, `Class.method`, a function's name, or `<anonymous>` for literals.
    pub name: String,
    pub params: Vec<Param>,
    pub is_async: bool,
    pub body: Option<Node<'t>>,
    /// The function this one is nested in (closures, func literals, arrow functions).
    pub parent: Option<usize>,
}

impl Function<'_> {
    pub fn range(&self) -> TextRange {
        TextRange::of(self.node)
    }

    pub fn param_of_type(&self, type_path: &str) -> Option<&Param> {
        self.params
            .iter()
            .find(|p| p.type_path.as_deref() == Some(type_path))
    }

    /// The type a method belongs to, as its name writes it (`Type::method` → `Type`, `Class.method` → `Class`,
    /// `Cache<K>::get` → `Cache<K>`); `None` for a plain function.
    pub fn owner(&self) -> Option<&str> {
        self.name
            .rsplit_once("::")
            .or_else(|| self.name.rsplit_once('.'))
            .map(|(owner, _)| owner)
    }
}

/// How the caller's context reaches a function: what to pass on instead of starting a fresh one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextSource {
    /// The function whose parameter carries it: the function asked about or one it is nested in.
    pub function: usize,
    pub kind: ContextKind,
    /// The parameter's local name (`ctx`, `r`, `signal`, `opts`).
    pub param: String,
    /// What to write at a call site to pass it on: `ctx`, `r.Context()`, `signal`, `opts.signal`.
    pub expression: String,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ContextKind {
    /// A Go `context.Context` parameter.
    Context,
    /// A Go `*http.Request` parameter: its context is `r.Context()`.
    Request,
    /// A TS/JS `AbortSignal`: a parameter typed `AbortSignal`, a parameter or destructured field named
    /// `signal`, or an options parameter whose declared type has a `signal` property.
    AbortSignal,
}

#[derive(Clone, Debug)]
pub struct Call<'t> {
    /// The call expression (Go/Rust/TS `call_expression`, TS `new_expression`, Rust `macro_invocation`).
    pub node: Node<'t>,
    /// The callee expression.
    pub callee: Node<'t>,
    /// The callee as written, whitespace removed: `http.Get`, `client.Do`, `reqwest::Client::new`.
    pub callee_text: String,
    /// The callee resolved through imports (or a known global), when its head is an imported name.
    pub path: Option<String>,
    /// For a method/member call, the member's name (`Do`, `timeout`, `get`).
    pub method: Option<String>,
    /// For a method/member call, the receiver expression.
    pub receiver: Option<Node<'t>>,
    pub args: Vec<Node<'t>>,
    pub function: Option<usize>,
    pub is_new: bool,
}

impl<'t> Call<'t> {
    pub fn range(&self) -> TextRange {
        TextRange::of(self.node)
    }

    /// The value of argument `index` when it is a plain string literal (`"SET"`, `` `NX` ``, `'PX'`).
    pub fn string_arg(&self, index: usize, source: &str, language: Language) -> Option<String> {
        node::string_literal_value(*self.args.get(index)?, source, language)
    }

    /// Every argument with its string value when it is a plain string literal.
    pub fn string_args(&self, source: &str, language: Language) -> Vec<(Node<'t>, Option<String>)> {
        self.args
            .iter()
            .map(|a| (*a, node::string_literal_value(*a, source, language)))
            .collect()
    }

    pub fn path_is(&self, path: &str) -> bool {
        self.path.as_deref() == Some(path)
    }
}

#[derive(Clone, Debug)]
pub struct Field<'t> {
    pub name: String,
    /// The whole field (`Timeout: 5`, `timeout: 5`, `timeout`).
    pub node: Node<'t>,
    pub value: Option<Node<'t>>,
}

impl<'t> Field<'t> {
    /// The value's expression: tree-sitter-go wraps a keyed element's value in a `literal_element`.
    pub fn value_expression(&self) -> Option<Node<'t>> {
        self.value.map(|v| match v.kind() {
            "literal_element" => v.named_child(0).unwrap_or(v),
            _ => v,
        })
    }
}

/// A Go composite literal, a Rust struct expression, or a TS object literal.
#[derive(Clone, Debug)]
pub struct Literal<'t> {
    pub node: Node<'t>,
    /// The type as written (empty for TS objects).
    pub type_text: String,
    pub type_path: Option<String>,
    pub fields: Vec<Field<'t>>,
    /// `...spread` (TS) or `..base` (Rust): fields may come from elsewhere.
    pub has_spread: bool,
    pub function: Option<usize>,
}

impl<'t> Literal<'t> {
    pub fn field(&self, name: &str) -> Option<&Field<'t>> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Whether the literal is the body given to `{ … }` directly (the position right before its closing brace).
    pub fn insertion_point(&self) -> usize {
        self.node.end_byte().saturating_sub(1)
    }
}

/// `target = value`, `target := value`, `let target = value`, `const target = value`.
#[derive(Clone, Debug)]
pub struct Assignment<'t> {
    pub node: Node<'t>,
    /// The target as written, whitespace removed (`c`, `c.Timeout`, `client`).
    pub target: String,
    pub value: Option<Node<'t>>,
    pub function: Option<usize>,
    /// A declaration (`:=`, `let`, `const`, `var`) rather than a plain assignment.
    pub declares: bool,
}

#[derive(Clone, Debug)]
pub struct Loop<'t> {
    pub node: Node<'t>,
    pub function: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct StringLiteral {
    pub range: TextRange,
    pub value: String,
    pub function: Option<usize>,
}

/// The facts of one file. Computed once, in one traversal, and shared by every rule.
#[derive(Debug)]
pub struct FileFacts<'t> {
    pub language: Language,
    pub imports: Vec<Import>,
    pub functions: Vec<Function<'t>>,
    pub calls: Vec<Call<'t>>,
    pub literals: Vec<Literal<'t>>,
    pub assignments: Vec<Assignment<'t>>,
    pub loops: Vec<Loop<'t>>,
    pub strings: Vec<StringLiteral>,
    /// Comment nodes (for suppressions); for SQL, the comments sqlparser's tokenizer finds.
    pub comments: Vec<TextRange>,
    /// Identifier nodes that may name a local (`identifier`, TS `shorthand_property_identifier`) with their
    /// ranges, in document order: where a variable is used, without walking the tree again.
    pub identifiers: Vec<(TextRange, Node<'t>)>,
    /// Component names for byte ranges that are not functions (Rust impl blocks, TS classes).
    containers: Vec<(TextRange, String)>,
    /// Every node of the tree in pre-order (the root first), recorded by the one traversal so that a model or
    /// rule looking for nodes of some kinds filters this list instead of walking the tree again (a tree-sitter
    /// cursor step costs hundreds of instructions; a whole-file walk was a third of a keystroke's analysis).
    nodes: Vec<Node<'t>>,
    /// For each of `nodes`, the index of its parent in `nodes` (`NO_PARENT` for the root).
    parents: Vec<u32>,
    /// For each of `nodes`, its kind id, read once by the traversal: a filter of the nodes by kind compares
    /// these instead of asking tree-sitter for each node's kind (`Node::kind_id` is a call into C that looks
    /// the node's alias up, about 25 instructions, and models and rules filtered every node of the file).
    kind_ids: Vec<u16>,
    /// How many nodes of each kind id the file has: a question about kinds the file lacks is answered without
    /// looking at its nodes (the kind prescan: [`FileFacts::has_kind`]).
    kind_counts: Vec<u32>,
    /// For method chains: the id of a receiver (wrappers stripped) → the index of the call made on it. Built
    /// on first use.
    chain_index: std::sync::OnceLock<rustc_hash::FxHashMap<usize, usize>>,
    /// Declared types of fields and typed variables, and values stored in fields: what receivers are bound to.
    types: receiver::TypeIndex<'t>,
    /// Rust paths written crate-absolute, without a `use` (`reqwest::Client` as a field's type): their crates
    /// are in scope as if imported.
    absolute_paths: Vec<String>,
    /// What other files of the workspace declare, when a workspace index is there to ask.
    workspace: Option<std::sync::Arc<dyn WorkspaceTypes>>,
    /// For `declared_value`: each declared name → the indexes of its declaring assignments. Built on first use.
    declarations: std::sync::OnceLock<rustc_hash::FxHashMap<String, Vec<usize>>>,
    /// For `assignments_to`: each assignment target → the indexes of its assignments. Built on first use.
    assignment_targets: std::sync::OnceLock<rustc_hash::FxHashMap<String, Vec<usize>>>,
    /// For `assignment_with_value`: the id of each assigned value's node → its assignment. Built on first use.
    assignment_values: std::sync::OnceLock<rustc_hash::FxHashMap<usize, usize>>,
    /// For `calls_on`: the last segment of each method call's receiver → the calls. Built on first use.
    receiver_names: std::sync::OnceLock<rustc_hash::FxHashMap<String, Vec<usize>>>,
    /// For `last_made_in`: each target → its top-level assignments. Built on first use.
    top_level_assignments: std::sync::OnceLock<rustc_hash::FxHashMap<String, Vec<usize>>>,
    /// For `calls_named`: the last segment of each callee as written → the calls. Built on first use.
    callee_names: std::sync::OnceLock<rustc_hash::FxHashMap<String, Vec<usize>>>,
    /// Indexes into `identifiers` by the identifier's text, built on first use (`identifiers_named`).
    identifier_names: std::sync::OnceLock<rustc_hash::FxHashMap<String, Vec<usize>>>,
    /// For `functions_named`: the last segment of each function's name → the functions. Built on first use.
    function_names: std::sync::OnceLock<rustc_hash::FxHashMap<String, Vec<usize>>>,
    /// For `function_with_path`: each function's whole name and each of its `::` suffixes of two or more
    /// segments (`a::T::f` → `a::T::f`, `T::f`) → the first function with it. Built on first use.
    function_paths: std::sync::OnceLock<FunctionPaths>,
    /// The container (by index) each container is nested in, built on first use by `component_at`.
    container_parents: std::sync::OnceLock<Vec<Option<usize>>>,
    /// For `import`: each local name → its last import. Built once the walk has found every import (a file put
    /// together from many has as many imports, and a scan of them per name resolved was quadratic).
    import_by_local: rustc_hash::FxHashMap<String, usize>,
    /// For `glob_imports`: the indexes of the glob imports (`use m::*`), built with `import_by_local`.
    glob_imports: Vec<usize>,
    /// For `imports_module`: every import path and absolute path, and each of their prefixes that ends before
    /// a `.`, `:` or `/`. Built on first use, after the facts are complete.
    imported_modules: std::sync::OnceLock<rustc_hash::FxHashSet<String>>,
}

impl<'t> FileFacts<'t> {
    /// Facts for a file with a tree. For SQL (no tree), the whole text is one string literal.
    pub fn compute(language: Language, tree: Option<&'t Tree>, source: &str) -> Self {
        let mut facts = FileFacts {
            language,
            imports: Vec::new(),
            functions: Vec::new(),
            calls: Vec::new(),
            literals: Vec::new(),
            assignments: Vec::new(),
            loops: Vec::new(),
            strings: Vec::new(),
            comments: Vec::new(),
            identifiers: Vec::new(),
            chain_index: std::sync::OnceLock::new(),
            containers: Vec::new(),
            nodes: Vec::new(),
            parents: Vec::new(),
            kind_ids: Vec::new(),
            kind_counts: Vec::new(),
            types: receiver::TypeIndex::default(),
            absolute_paths: Vec::new(),
            workspace: None,
            declarations: std::sync::OnceLock::new(),
            function_names: std::sync::OnceLock::new(),
            function_paths: std::sync::OnceLock::new(),
            container_parents: std::sync::OnceLock::new(),
            assignment_targets: std::sync::OnceLock::new(),
            assignment_values: std::sync::OnceLock::new(),
            receiver_names: std::sync::OnceLock::new(),
            top_level_assignments: std::sync::OnceLock::new(),
            callee_names: std::sync::OnceLock::new(),
            identifier_names: std::sync::OnceLock::new(),
            import_by_local: rustc_hash::FxHashMap::default(),
            glob_imports: Vec::new(),
            imported_modules: std::sync::OnceLock::new(),
        };
        let Some(tree) = tree else {
            facts.strings.push(StringLiteral {
                range: TextRange::new(0, source.len()),
                value: source.to_string(),
                function: None,
            });
            facts.comments = dsr_core::sql::comments(source)
                .into_iter()
                .map(|comment| comment.range)
                .collect();
            return facts;
        };
        let mut collector = Collector {
            facts: &mut facts,
            source,
            function_stack: Vec::new(),
        };
        collector.walk(tree.root_node());
        // Later bindings shadow earlier ones: the last import of each name wins.
        facts.import_by_local = facts
            .imports
            .iter()
            .enumerate()
            .map(|(index, import)| (import.local.clone(), index))
            .collect();
        facts.glob_imports = (0..facts.imports.len())
            .filter(|&index| facts.imports[index].local == "*")
            .collect();
        // Resolution waits for the whole walk: a `use` may come after the code that relies on it.
        facts.resolve_names();
        facts.index_types(source);
        facts
    }

    /// [`FileFacts::compute`], with the declarations of the workspace's other files to bind receivers to
    /// (a field typed in another file of the package, a factory in another module, an alias re-exported).
    pub fn compute_in_workspace(
        language: Language,
        tree: Option<&'t Tree>,
        source: &str,
        workspace: Option<std::sync::Arc<dyn WorkspaceTypes>>,
    ) -> Self {
        let mut facts = Self::compute(language, tree, source);
        facts.workspace = workspace;
        facts
    }

    /// The workspace's declarations this file's receivers are bound through, if any.
    pub fn workspace(&self) -> Option<&dyn WorkspaceTypes> {
        self.workspace.as_deref()
    }

    /// Every node of the file in pre-order, the root first: `node::descendants(root)` without the walk.
    pub fn nodes(&self) -> &[Node<'t>] {
        &self.nodes
    }

    /// The parent of `node`, from the traversal's record. tree-sitter finds a parent by descending from the root
    /// through every earlier sibling on the way, so `Node::parent` costs as much as the file is wide and a
    /// parent asked per call or per identifier makes a rule quadratic in the file's size; this is a binary
    /// search. A node of another tree is asked of tree-sitter.
    pub fn parent<'n>(&self, node: Node<'n>) -> Option<Node<'n>>
    where
        't: 'n,
    {
        match self.index_of(node) {
            Some(index) => {
                let parent = self.parents[index];
                (parent != NO_PARENT).then(|| self.nodes[parent as usize])
            }
            None => node.parent(),
        }
    }

    /// The ancestors of `node`, nearest first, not including it: [`node::ancestors`] at the cost of one binary
    /// search (see [`FileFacts::parent`]).
    pub fn ancestors<'n>(&self, node: Node<'n>) -> impl Iterator<Item = Node<'n>> + use<'_, 'n, 't>
    where
        't: 'n,
    {
        let mut recorded = self.index_of(node).map(|index| self.parents[index]);
        let mut asked = if recorded.is_none() {
            node.parent()
        } else {
            None
        };
        std::iter::from_fn(move || match &mut recorded {
            Some(index) => {
                let parent = (*index != NO_PARENT).then(|| self.nodes[*index as usize])?;
                *index = self.parents[*index as usize];
                Some(parent)
            }
            None => {
                let parent = asked?;
                asked = parent.parent();
                Some(parent)
            }
        })
    }

    /// The statement `node` is part of (itself when it is one): the outermost node below the nearest block,
    /// statement list or file around it. From the recorded parents, not tree-sitter's climbs from the root.
    pub fn enclosing_statement<'n>(&self, node: Node<'n>) -> Option<Node<'n>>
    where
        't: 'n,
    {
        std::iter::once(node).chain(self.ancestors(node)).find(|n| {
            self.parent(*n).is_some_and(|p| {
                matches!(
                    p.kind(),
                    "block" | "statement_list" | "statement_block" | "source_file" | "program"
                )
            })
        })
    }

    /// The next sibling of `node`, named or not, from the record: the first node after its subtree, when it has
    /// the same parent. `Node::next_sibling` asks tree-sitter for the parent first, which descends from the
    /// root.
    pub fn next_sibling<'n>(&self, node: Node<'n>) -> Option<Node<'n>>
    where
        't: 'n,
    {
        let Some(index) = self.index_of(node) else {
            return node.next_sibling();
        };
        let parent = self.parents[index];
        if parent == NO_PARENT {
            return None;
        }
        let end = node.end_byte();
        let mut next = index + 1;
        next += self.nodes[next..].partition_point(|n| n.start_byte() < end);
        // Zero-width descendants at the very end of `node` come before its sibling.
        while next < self.nodes.len() && self.is_below(next, index) {
            next += 1;
        }
        (next < self.nodes.len() && self.parents[next] == parent).then(|| self.nodes[next])
    }

    /// The next named sibling of `node` ([`FileFacts::next_sibling`], skipping anonymous tokens).
    pub fn next_named_sibling<'n>(&self, node: Node<'n>) -> Option<Node<'n>>
    where
        't: 'n,
    {
        let mut next = self.next_sibling(node)?;
        while !next.is_named() {
            next = self.next_sibling(next)?;
        }
        Some(next)
    }

    /// The previous sibling of `node`, named or not, from the record: the node before it in pre-order is its
    /// parent (then it has none) or lies in its previous sibling's subtree, whose top is found by climbing.
    pub fn prev_sibling<'n>(&self, node: Node<'n>) -> Option<Node<'n>>
    where
        't: 'n,
    {
        let Some(index) = self.index_of(node) else {
            return node.prev_sibling();
        };
        let parent = self.parents[index];
        if parent == NO_PARENT {
            return None;
        }
        let mut current = index.checked_sub(1)?;
        loop {
            if current == parent as usize {
                return None;
            }
            let up = self.parents[current];
            if up == parent {
                return Some(self.nodes[current]);
            }
            if up == NO_PARENT {
                return None;
            }
            current = up as usize;
        }
    }

    /// The previous named sibling of `node` ([`FileFacts::prev_sibling`], skipping anonymous tokens).
    pub fn prev_named_sibling<'n>(&self, node: Node<'n>) -> Option<Node<'n>>
    where
        't: 'n,
    {
        let mut previous = self.prev_sibling(node)?;
        while !previous.is_named() {
            previous = self.prev_sibling(previous)?;
        }
        Some(previous)
    }

    /// Whether `nodes[index]` lies below `nodes[ancestor]` (parents come before their children in pre-order).
    fn is_below(&self, index: usize, ancestor: usize) -> bool {
        let mut current = self.parents[index];
        while current != NO_PARENT && current as usize > ancestor {
            current = self.parents[current as usize];
        }
        current as usize == ancestor
    }

    /// Where `node` is in `nodes`: nodes are in pre-order, so their starts never decrease, and the nodes that
    /// start where it does are few (one per level of nesting).
    fn index_of(&self, node: Node<'_>) -> Option<usize> {
        let start = node.start_byte();
        let first = self.nodes.partition_point(|n| n.start_byte() < start);
        self.nodes[first..]
            .iter()
            .take_while(|n| n.start_byte() == start)
            .position(|n| n.id() == node.id())
            .map(|offset| first + offset)
    }

    /// The nodes whose kind is one of `kinds`, in pre-order. Compares the recorded kind ids, not names, and
    /// looks at no node at all when the file has none of those kinds.
    pub fn nodes_of_kind<'s>(&'s self, kinds: &[&str]) -> impl Iterator<Item = Node<'t>> + 's {
        let set = kind_set(self.language, kinds);
        let nodes: &[Node<'t>] = if self.has_kind_in(&set) {
            &self.nodes
        } else {
            &[]
        };
        nodes
            .iter()
            .zip(&self.kind_ids)
            .filter(move |(_, kind)| set.contains_id(**kind))
            .map(|(node, _)| *node)
    }

    /// Whether the file has a node of one of `kinds` (a kind prescan: from the traversal's counts, no walk).
    pub fn has_kind(&self, kinds: &[&str]) -> bool {
        self.has_kind_in(&kind_set(self.language, kinds))
    }

    /// Whether the file holds one of a rule's declared evidence ([`dsr_core::meta::Evidence`], the rule's
    /// `requires`), or the rule declares none: a prescan from the kind counts and the calls-by-name index, so
    /// that a rule which cannot fire here is not run and the models only it reads are not built.
    pub fn holds_any(&self, requires: &[Evidence], kb: &dsr_core::KnowledgeBase) -> bool {
        requires.is_empty()
            || requires.iter().any(|&evidence| match evidence {
                Evidence::Kind(kind) => self.has_kind(&[kind]),
                Evidence::Callee(last) => self.calls_any_named(&[last]),
                Evidence::KbClock | Evidence::KbUnboundedChannel => self.calls_any_named(
                    kb.evidence_callees(evidence, self.language)
                        .unwrap_or_default(),
                ),
            })
    }

    /// Whether a call's callee, as written, ends in one of `lasts`: from the calls-by-name index when a model
    /// has built it, else a scan of the calls that allocates nothing (building the index for a prescan alone
    /// cost more than the rules it skips on a file that has no use for the index).
    fn calls_any_named<S: AsRef<str>>(&self, lasts: &[S]) -> bool {
        match self.callee_names.get() {
            Some(index) => lasts.iter().any(|last| index.contains_key(last.as_ref())),
            // A byte test first: only a callee ending in one of `lasts`, or in a turbofish's `>`, has its
            // segment worked out.
            None => self.calls.iter().any(|call| {
                let text = call.callee_text.as_str();
                (text.ends_with('>') || lasts.iter().any(|last| text.ends_with(last.as_ref()))) && {
                    let segment = last_callee_segment(text);
                    lasts.iter().any(|last| last.as_ref() == segment)
                }
            }),
        }
    }

    /// How many nodes of the kind `kind` the file has (from the traversal's counts).
    pub fn count_of_kind(&self, kind: &str) -> usize {
        let set = kind_set(self.language, &[kind]);
        self.kind_counts
            .iter()
            .enumerate()
            .filter(|&(id, _)| u16::try_from(id).is_ok_and(|id| set.contains_id(id)))
            .map(|(_, &count)| count as usize)
            .sum()
    }

    fn has_kind_in(&self, set: &KindSet) -> bool {
        self.kind_counts
            .iter()
            .enumerate()
            .any(|(id, &count)| count > 0 && u16::try_from(id).is_ok_and(|id| set.contains_id(id)))
    }

    /// The kind id of each of [`FileFacts::nodes`], in the same order.
    pub fn kind_ids(&self) -> &[u16] {
        &self.kind_ids
    }

    /// The recorded nodes that start inside `range`, in pre-order: a binary search, where a filter of
    /// [`FileFacts::nodes`] per question costs the whole file.
    pub fn nodes_within(&self, range: TextRange) -> &[Node<'t>] {
        within(&self.nodes, range, |n| *n)
    }

    /// What a local name stands for through the file's imports.
    pub fn import(&self, local: &str) -> Option<&Import> {
        self.import_by_local
            .get(local)
            .and_then(|&index| self.imports.get(index))
    }

    /// The glob imports of the file (`use fred::prelude::*`), without a scan of every import.
    pub fn glob_imports(&self) -> impl Iterator<Item = &Import> {
        self.glob_imports.iter().map(|&index| &self.imports[index])
    }

    /// Whether any import of the file is `path` or a sub-path of it (`net/http`, `reqwest`, `axios`).
    pub fn imports_module(&self, path: &str) -> bool {
        // `path` is imported when a written path is it or starts with it followed by a separator: the written
        // paths' prefixes up to each separator, in a set, answer that without a scan of every import.
        let modules = self.imported_modules.get_or_init(|| {
            let mut modules = rustc_hash::FxHashSet::default();
            for written in self
                .imports
                .iter()
                .map(|i| i.path.as_str())
                .chain(self.absolute_paths.iter().map(String::as_str))
            {
                for (end, _) in written.match_indices(['.', ':', '/']) {
                    modules.insert(written[..end].to_string());
                }
                modules.insert(written.to_string());
            }
            modules
        });
        modules.contains(path)
    }

    /// Resolves a dotted (`http.Client`) or `::`-separated (`rq::Client`) name through the imports.
    pub fn resolve(&self, written: &str) -> Option<String> {
        let separator = if self.language == Language::Rust {
            "::"
        } else {
            "."
        };
        // `::reqwest::Client`: crate-absolute.
        let written = written.strip_prefix("::").unwrap_or(written);
        let (head, rest) = match written.split_once(separator) {
            Some((head, rest)) => (head, Some(rest)),
            None => (written, None),
        };
        let base = match self.import(head) {
            Some(import) => import.path.as_str(),
            None => {
                let absolute = (self.language == Language::Rust && is_rust_crate_path(head))
                    || (self.language.is_typescript() && is_ts_global(head));
                if !absolute {
                    return None;
                }
                head
            }
        };
        // One allocation of the path's size (a `format!` here cost more than the lookup: every call's callee is
        // resolved).
        let mut path =
            String::with_capacity(base.len() + rest.map_or(0, |rest| separator.len() + rest.len()));
        path.push_str(base);
        if let Some(rest) = rest {
            path.push_str(separator);
            path.push_str(rest);
        }
        Some(path)
    }

    /// The innermost function containing `offset`.
    pub fn function_at(&self, offset: usize) -> Option<usize> {
        // Functions are collected in pre-order, so their starts never decrease: the innermost function around
        // `offset` is the last one starting at or before it, or one of that one's enclosing functions.
        let after = self
            .functions
            .partition_point(|f| f.node.start_byte() <= offset);
        let mut current = after.checked_sub(1);
        while let Some(index) = current {
            if self.functions[index].range().contains(offset) {
                return Some(index);
            }
            current = self.functions[index].parent;
        }
        None
    }

    /// The outermost named function around `index` (a closure's enclosing declaration), itself if it has none.
    pub fn outermost_function(&self, mut index: usize) -> usize {
        while let Some(parent) = self.functions[index].parent {
            index = parent;
        }
        index
    }

    /// The component path at `offset`: the nearest named function, else the nearest container, else "".
    pub fn component_at(&self, offset: usize) -> String {
        let mut current = self.function_at(offset);
        while let Some(index) = current {
            let function = &self.functions[index];
            if function.name != ANONYMOUS {
                return function.name.clone();
            }
            current = function.parent;
        }
        // Containers are recorded in pre-order, so they nest and their starts never decrease: the innermost one
        // around `offset` is the last one starting at or before it, or one enclosing that one (a scan of every
        // container per finding was quadratic in a file of many classes).
        let parents = self.container_parents.get_or_init(|| {
            let mut parents = Vec::with_capacity(self.containers.len());
            let mut open: Vec<usize> = Vec::new();
            for (range, _) in &self.containers {
                while open
                    .last()
                    .is_some_and(|&o| !self.containers[o].0.contains_range(*range))
                {
                    open.pop();
                }
                parents.push(open.last().copied());
                open.push(parents.len() - 1);
            }
            parents
        });
        let after = self
            .containers
            .partition_point(|(range, _)| range.start <= offset);
        let mut current = after.checked_sub(1);
        while let Some(index) = current {
            let (range, name) = &self.containers[index];
            if range.contains(offset) {
                return name.clone();
            }
            current = parents[index];
        }
        String::new()
    }

    /// Where the function at `function` (or a function it is nested in, whose parameters a closure sees) gets
    /// its caller's context from. A Go `context.Context` wins over an `*http.Request` of the same function;
    /// parameters named `_` cannot be used and do not count. `source` is the file's text.
    pub fn context_source(&self, function: usize, source: &str) -> Option<ContextSource> {
        let mut current = Some(function);
        while let Some(index) = current {
            let f = self.functions.get(index)?;
            let found = match self.language {
                Language::Go => go::context_param(f),
                Language::TypeScript | Language::Tsx => typescript::abort_signal_param(f, source),
                _ => None,
            };
            if let Some((kind, param, expression)) = found {
                return Some(ContextSource {
                    function: index,
                    kind,
                    param,
                    expression,
                });
            }
            current = f.parent;
        }
        None
    }

    /// The method calls made on the result of `calls[index]`, in order: for `redis::cmd("SET").arg(k).arg(v)`
    /// asked about `cmd`, the two `arg` calls. `?`, `.await`, `!` and parentheses between links are looked
    /// through.
    pub fn chained_calls(&self, index: usize) -> Vec<usize> {
        let mut chain = Vec::new();
        let mut current = self.calls.get(index).map(|c| c.node);
        while let Some(next) = current.and_then(|node| self.call_chained_on(node)) {
            chain.push(next);
            current = Some(self.calls[next].node);
        }
        chain
    }

    /// Calls made inside a function (including closures nested in it).
    pub fn calls_in(&self, function: usize) -> impl Iterator<Item = &Call<'t>> {
        self.calls_within(self.functions[function].range())
    }

    /// Calls inside `range`. Calls are in document order, so this is a binary search, not a scan of the file.
    pub fn calls_within(&self, range: TextRange) -> impl Iterator<Item = &Call<'t>> {
        self.call_indexes_within(range)
            .map(|index| &self.calls[index])
    }

    /// The indexes in `calls` of the calls inside `range`, in document order.
    pub fn call_indexes_within(&self, range: TextRange) -> impl Iterator<Item = usize> + '_ {
        let first = self
            .calls
            .partition_point(|c| c.node.start_byte() < range.start);
        let count = within(&self.calls[first..], range, |c| c.node).len();
        (first..first + count).filter(move |&index| range.contains_range(self.calls[index].range()))
    }

    /// The index in `calls` of the call whose node is `node`: a binary search by position.
    pub fn call_index(&self, node: Node<'_>) -> Option<usize> {
        index_by_node(&self.calls, node, |c| c.node)
    }

    /// The index in `functions` of the function whose node is `node` (a declaration, a literal, a closure): a
    /// binary search by position, where `functions.iter().position(|f| f.node == node)` scanned the file.
    pub fn function_index(&self, node: Node<'_>) -> Option<usize> {
        index_by_node(&self.functions, node, |f| f.node)
    }

    /// The literal (composite, struct or object) whose node is `node`: a binary search by position.
    pub fn literal_of(&self, node: Node<'_>) -> Option<&Literal<'t>> {
        index_by_node(&self.literals, node, |l| l.node).map(|index| &self.literals[index])
    }

    /// The functions whose name ends in `last` as its own segment (`h`, `Type.h`, `Type::h`), from an index by
    /// last segment built on first use: a handler or callee named in an argument, looked up without a scan of
    /// every function per question.
    pub fn functions_named<'s>(&'s self, last: &'s str) -> impl Iterator<Item = usize> + 's {
        let index = self.function_names.get_or_init(|| {
            let mut index: rustc_hash::FxHashMap<String, Vec<usize>> =
                rustc_hash::FxHashMap::default();
            for (i, f) in self.functions.iter().enumerate() {
                let segment = dsr_core::kb::last_segment(&f.name);
                index.entry(segment.to_string()).or_default().push(i);
            }
            index
        });
        index
            .get(last)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .copied()
            .filter(move |&i| {
                let name = &self.functions[i].name;
                name == last
                    || name
                        .strip_suffix(last)
                        .is_some_and(|head| head.ends_with('.') || head.ends_with("::"))
            })
    }

    /// The first function whose whole name is `path` (`process`, `T.process`, `T::process`), or, with
    /// `suffix`, whose `::` path ends in `path` at a segment boundary (`T::f` finds `a::T::f`); from an index
    /// built on first use, so a callee the file does not define costs one lookup, not a scan of every function
    /// that shares its last segment.
    pub fn function_with_path(&self, path: &str, suffix: bool) -> Option<usize> {
        let paths = self.function_paths.get_or_init(|| {
            let mut paths = FunctionPaths::default();
            for (i, f) in self.functions.iter().enumerate() {
                paths.whole.entry(f.name.clone()).or_insert(i);
                let mut rest = f.name.as_str();
                while let Some((_, tail)) = rest.split_once("::") {
                    if tail.contains("::") {
                        paths.tails.entry(tail.to_string()).or_insert(i);
                    }
                    rest = tail;
                }
            }
            paths
        });
        let whole = paths.whole.get(path).copied();
        let tail = suffix.then(|| paths.tails.get(path).copied()).flatten();
        whole.into_iter().chain(tail).min()
    }

    /// The calls whose callee, as written, ends in the segment `last` (`helper`, `s.helper`, `pkg::helper`),
    /// from an index built on first use: the call sites of a function of the file, found without a scan of
    /// every call per question.
    pub fn calls_named<'s>(&'s self, last: &str) -> impl Iterator<Item = &'s Call<'t>> + 's {
        let index = self.callee_names.get_or_init(|| {
            let mut index: rustc_hash::FxHashMap<String, Vec<usize>> =
                rustc_hash::FxHashMap::default();
            for (i, call) in self.calls.iter().enumerate() {
                index
                    .entry(last_callee_segment(&call.callee_text).to_string())
                    .or_default()
                    .push(i);
            }
            index
        });
        index
            .get(last)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|&i| &self.calls[i])
    }

    /// The indexes in `identifiers` of those spelled `name`, in document order, from an index built on first
    /// use: the uses of a top-level name, found without a scan of every identifier of the file per question.
    pub fn identifiers_named<'s>(&'s self, name: &str, source: &str) -> &'s [usize] {
        let index = self.identifier_names.get_or_init(|| {
            let mut index: rustc_hash::FxHashMap<String, Vec<usize>> =
                rustc_hash::FxHashMap::default();
            for (i, (range, _)) in self.identifiers.iter().enumerate() {
                if let Some(text) = source.get(range.start..range.end) {
                    index.entry(text.to_string()).or_default().push(i);
                }
            }
            index
        });
        index.get(name).map(Vec::as_slice).unwrap_or_default()
    }

    /// Literals whose node lies inside `range`: a binary search, not a scan of the file.
    pub fn literals_within(&self, range: TextRange) -> impl Iterator<Item = &Literal<'t>> {
        within(&self.literals, range, |l| l.node)
            .iter()
            .filter(move |l| range.contains_range(TextRange::of(l.node)))
    }

    /// Go: byte ranges where the file refers to the package imported as `local` (`context.Background`,
    /// `context.Context`): selector operands and qualified type packages, from the recorded nodes and parents
    /// (no walk of the tree). For deciding whether an edit leaves an import unused.
    pub fn go_package_references(&self, source: &str, local: &str) -> Vec<TextRange> {
        // Identifiers from the recorded ranges (no tree-sitter call per identifier: the text test alone cost
        // most of OBS001 on a large file), package identifiers (imports, qualified types: few) by kind.
        let spelled = |range: TextRange| source.get(range.start..range.end) == Some(local);
        let operands = self
            .identifiers
            .iter()
            .filter(|(range, _)| spelled(*range))
            .map(|(_, n)| *n);
        let packages = self
            .nodes_of_kind(&["package_identifier"])
            .filter(|n| spelled(TextRange::of(*n)));
        let mut references: Vec<TextRange> = operands
            .chain(packages)
            .filter(|n| {
                self.parent(*n).is_some_and(|p| match p.kind() {
                    "selector_expression" => p.child_by_field_name("operand") == Some(*n),
                    "qualified_type" => p.child_by_field_name("package") == Some(*n),
                    _ => false,
                })
            })
            .map(TextRange::of)
            .collect();
        references.sort_by_key(|r| r.start);
        references
    }

    /// Assignments whose statement lies inside `range` (in nested functions too). Assignments are in document
    /// order, so this is a binary search, not a scan of the file.
    pub fn assignments_within(&self, range: TextRange) -> impl Iterator<Item = &Assignment<'t>> {
        within(&self.assignments, range, |a| a.node)
            .iter()
            .filter(move |a| range.contains_range(TextRange::of(a.node)))
    }

    /// Assignments made inside the function `function` (not in nested ones) or at top level when `None`.
    /// Inside a function only its range is looked at (a binary search), not every assignment of the file.
    pub fn assignments_in(&self, function: Option<usize>) -> impl Iterator<Item = &Assignment<'t>> {
        let candidates = match function {
            Some(f) => within(&self.assignments, self.functions[f].range(), |a| a.node),
            None => &self.assignments[..],
        };
        candidates.iter().filter(move |a| a.function == function)
    }

    /// The value last declared for a local name in `function` before `offset` (`c := …`, `let c = …`).
    pub fn declared_value(
        &self,
        function: Option<usize>,
        name: &str,
        offset: usize,
    ) -> Option<Node<'t>> {
        // The latest declaration before `offset`, in `function` if there is one there, else at top level.
        let candidates = self.declarations_before(name, offset);
        self.last_made_in(candidates, function, name, offset, true)
            .or_else(|| self.last_made_in(candidates, None, name, offset, true))
            .and_then(|i| self.assignments[i].value)
    }

    /// Of `candidates` (assignments to `name` starting before `offset`, in document order), the last one made
    /// directly in `function`, or at top level for `None` (declarations only when `declares_only`). Inside a
    /// function only the candidates within its range are looked at, and top-level ones come from their own
    /// index: a name declared in every function of a large file (`err`, `req`, `ctx`) is not scanned whole per
    /// question.
    pub(crate) fn last_made_in(
        &self,
        candidates: &[usize],
        function: Option<usize>,
        name: &str,
        offset: usize,
        declares_only: bool,
    ) -> Option<usize> {
        let starts = |i: &usize| self.assignments[*i].node.start_byte();
        match function {
            Some(f) => {
                let range = self.functions[f].range();
                let from = candidates.partition_point(|i| starts(i) < range.start);
                candidates[from..]
                    .iter()
                    .rev()
                    .find(|&&i| self.assignments[i].function == Some(f))
                    .copied()
            }
            None => {
                let list = self.top_level_assignments_to(name);
                let before = list.partition_point(|i| starts(i) < offset);
                list[..before]
                    .iter()
                    .rev()
                    .find(|&&i| !declares_only || self.assignments[i].declares)
                    .copied()
            }
        }
    }

    /// The indexes of the assignments made outside every function whose target is written `name`, in document
    /// order, from an index built on first use.
    pub(crate) fn top_level_assignments_to(&self, name: &str) -> &[usize] {
        let top_level = self.top_level_assignments.get_or_init(|| {
            let mut index: rustc_hash::FxHashMap<String, Vec<usize>> =
                rustc_hash::FxHashMap::default();
            for (i, a) in self.assignments.iter().enumerate() {
                if a.function.is_none() {
                    index.entry(a.target.clone()).or_default().push(i);
                }
            }
            index
        });
        top_level.get(name).map(Vec::as_slice).unwrap_or_default()
    }

    /// The indexes of the assignments (declarations or not) whose target is written `name`, in document order,
    /// from an index built on first use.
    pub(crate) fn assignments_to(&self, name: &str) -> &[usize] {
        let targets = self.assignment_targets.get_or_init(|| {
            let mut index: rustc_hash::FxHashMap<String, Vec<usize>> =
                rustc_hash::FxHashMap::default();
            for (i, a) in self.assignments.iter().enumerate() {
                index.entry(a.target.clone()).or_default().push(i);
            }
            index
        });
        targets.get(name).map(Vec::as_slice).unwrap_or_default()
    }

    /// The assignment whose value is `value` (`x := value`, `let x = value`), from an index by the value's node
    /// built on first use: where a value goes, asked per call, without a scan of every assignment.
    pub fn assignment_with_value(&self, value: Node<'_>) -> Option<&Assignment<'t>> {
        let by_value = self.assignment_values.get_or_init(|| {
            let mut index = rustc_hash::FxHashMap::default();
            for (i, a) in self.assignments.iter().enumerate() {
                if let Some(v) = a.value {
                    index.entry(v.id()).or_insert(i);
                }
            }
            index
        });
        by_value
            .get(&value.id())
            .map(|&i| &self.assignments[i])
            .filter(|a| a.value == Some(value))
    }

    /// The indexes of the assignments that declare `name` and start before `offset`, in document order, from an
    /// index by name built on first use (a scan of every assignment per question was quadratic).
    pub(crate) fn declarations_before(&self, name: &str, offset: usize) -> &[usize] {
        let declarations = self.declarations.get_or_init(|| {
            let mut index: rustc_hash::FxHashMap<String, Vec<usize>> =
                rustc_hash::FxHashMap::default();
            for (i, a) in self.assignments.iter().enumerate() {
                if a.declares {
                    index.entry(a.target.clone()).or_default().push(i);
                }
            }
            index
        });
        let Some(candidates) = declarations.get(name) else {
            return &[];
        };
        let before =
            candidates.partition_point(|&i| self.assignments[i].node.start_byte() < offset);
        &candidates[..before]
    }

    fn resolve_names(&mut self) {
        let calls: Vec<_> = self
            .calls
            .iter()
            .map(|call| match self.language {
                // `client.get(…)` in Rust is a method call on a value, never an import path.
                Language::Rust
                    if dsr_syntax::kind(self.language, call.callee) == "field_expression" =>
                {
                    None
                }
                Language::Rust
                    if dsr_syntax::kind(self.language, call.node) == "macro_invocation" =>
                {
                    let name = call.callee_text.trim_end_matches('!');
                    Some(self.resolve(name).unwrap_or_else(|| name.to_string()) + "!")
                }
                _ => self.resolve(&call.callee_text),
            })
            .collect();
        for (call, path) in self.calls.iter_mut().zip(calls) {
            call.path = path;
        }
        let literals: Vec<_> = self
            .literals
            .iter()
            .map(|l| self.resolve(&l.type_text))
            .collect();
        for (literal, path) in self.literals.iter_mut().zip(literals) {
            if !literal.type_text.is_empty() {
                literal.type_path = path;
            }
        }
        let params: Vec<Vec<_>> = self
            .functions
            .iter()
            .map(|f| {
                f.params
                    .iter()
                    .map(|p| self.resolve(bare_type(&p.type_text)))
                    .collect()
            })
            .collect();
        if self.language == Language::Rust {
            let mut absolute: Vec<String> = self
                .calls
                .iter()
                .map(|c| c.callee_text.as_str())
                .chain(self.literals.iter().map(|l| l.type_text.as_str()))
                .chain(
                    self.functions
                        .iter()
                        .flat_map(|f| f.params.iter().map(|p| p.type_text.as_str())),
                )
                .filter_map(|written| absolute_crate(bare_type(written)))
                .filter(|head| self.import(head).is_none())
                .map(str::to_string)
                .collect();
            absolute.sort_unstable();
            absolute.dedup();
            self.absolute_paths = absolute;
        }
        for (function, paths) in self.functions.iter_mut().zip(params) {
            for (param, path) in function.params.iter_mut().zip(paths) {
                if !param.type_text.is_empty() {
                    param.type_path = path;
                }
            }
        }
    }
}

/// [`KindSet::of`], built once per thread for each language and list of kinds: building a set reads the name
/// of every kind of the grammar (70,000 instructions for Rust's), and `nodes_of_kind` is asked per file by
/// many models and rules. The lists asked are a few dozen constants, so a scan finds them.
fn kind_set(language: Language, kinds: &[&str]) -> std::sync::Arc<KindSet> {
    type Sets = Vec<(Language, Vec<String>, std::sync::Arc<KindSet>)>;
    thread_local! {
        static SETS: std::cell::RefCell<Sets> = const { std::cell::RefCell::new(Vec::new()) };
    }
    SETS.with_borrow_mut(|sets| {
        let known = sets.iter().find(|(l, names, _)| {
            *l == language
                && names.len() == kinds.len()
                && names.iter().zip(kinds).all(|(a, b)| a == b)
        });
        if let Some((_, _, set)) = known {
            return set.clone();
        }
        let set = std::sync::Arc::new(KindSet::of(language, kinds));
        let names = kinds.iter().map(|k| (*k).to_string()).collect();
        sets.push((language, names, set.clone()));
        set
    })
}

/// `FileFacts::parents` of the root.
const NO_PARENT: u32 = u32::MAX;

/// The functions of a file by whole name and by proper `::` suffix (`FileFacts::function_with_path`).
#[derive(Debug, Default)]
struct FunctionPaths {
    whole: rustc_hash::FxHashMap<String, usize>,
    tails: rustc_hash::FxHashMap<String, usize>,
}

/// The index in `items` (in pre-order of their nodes, as the traversal pushes them) of the item whose node is
/// `node`: a binary search by start, then the few items that start there (one per level of nesting).
fn index_by_node<'n, T>(items: &[T], node: Node<'_>, of: impl Fn(&T) -> Node<'n>) -> Option<usize> {
    let start = node.start_byte();
    let first = items.partition_point(|item| of(item).start_byte() < start);
    items[first..]
        .iter()
        .take_while(|item| of(item).start_byte() == start)
        .position(|item| of(item).id() == node.id())
        .map(|offset| first + offset)
}

/// The items of `items` (in document order of their nodes: the traversal pushes them in pre-order) whose node
/// starts inside `range`: for the range of a node, those inside it and those that start where it starts.
fn within<T>(items: &[T], range: TextRange, node: impl Fn(&T) -> Node<'_>) -> &[T] {
    let start = items.partition_point(|item| node(item).start_byte() < range.start);
    let count = items[start..].partition_point(|item| node(item).start_byte() < range.end);
    &items[start..start + count]
}

/// `*http.Request` → `http.Request`, `&mut Foo<T>` → `Foo`, `Readonly<X>` stays; generic wrappers that hold
/// one value of the type they wrap are looked through (`Arc<Client>`, `Option<Box<reqwest::Client>>`,
/// `Promise<Redis>` → `Client`, `reqwest::Client`, `Redis`), and a crate-absolute `::reqwest::Client`
/// loses its leading `::`.
pub(crate) fn bare_type(written: &str) -> &str {
    let mut bare = written;
    loop {
        let unmarked = bare.trim_start_matches(['*', '&']);
        let referenced = unmarked.len() != bare.len();
        bare = unmarked;
        if let Some(rest) = bare.strip_prefix("'").filter(|_| referenced) {
            // A lifetime: `&'a Client` (`&'aClient` once whitespace is removed: the name follows `_`-free
            // lifetimes only when they were written with a space, so drop the lifetime's first word).
            bare = rest.trim_start_matches(|c: char| c.is_ascii_lowercase() || c == '_');
            continue;
        }
        // `&mut T` (written `&mutT` once whitespace is removed).
        if referenced {
            bare = bare.strip_prefix("mut").unwrap_or(bare);
        }
        bare = bare.strip_prefix("::").unwrap_or(bare);
        let Some((outer, inner)) = bare.split_once('<') else {
            return bare;
        };
        let outer_name = outer.rsplit("::").next().unwrap_or(outer);
        if !WRAPPERS.contains(&outer_name) {
            return outer;
        }
        // The first generic argument, up to its own end.
        let mut depth = 0usize;
        let end = inner
            .char_indices()
            .find(|&(_, c)| {
                match c {
                    '<' => depth += 1,
                    '>' if depth == 0 => return true,
                    '>' => depth -= 1,
                    ',' if depth == 0 => return true,
                    _ => {}
                }
                false
            })
            .map_or(inner.len(), |(i, _)| i);
        bare = &inner[..end];
    }
}

/// Generic types that hold one value of their first type argument: a method called on them is a method of
/// that value (through `Deref`, or after an `.unwrap()`/`.lock()`/`await` that the receiver binding looks
/// through).
const WRAPPERS: &[&str] = &[
    "Arc", "Rc", "Box", "Option", "Result", "Mutex", "RwLock", "Pin", "Cow", "RefCell", "Promise",
    "Readonly",
];

pub(crate) const ANONYMOUS: &str = "<anonymous>";

/// The crate of a Rust path written crate-absolute (`reqwest` for `reqwest::Client`), if it is one.
pub(crate) fn absolute_crate(written: &str) -> Option<&str> {
    let (head, _) = written.split_once("::")?;
    is_rust_crate_path(head).then_some(head)
}

/// Crate-absolute paths written without a `use`: `reqwest::get`, `std::sync::mpsc::channel`.
fn is_rust_crate_path(head: &str) -> bool {
    !matches!(head, "self" | "super" | "crate" | "Self")
        && head.chars().next().is_some_and(|c| c.is_ascii_lowercase())
}

fn is_ts_global(head: &str) -> bool {
    matches!(
        head,
        "fetch"
            | "AbortSignal"
            | "AbortController"
            | "Promise"
            | "setTimeout"
            | "Date"
            | "performance"
            | "process"
            | "Math"
            | "crypto"
            | "require"
            | "WebSocket"
            | "XMLHttpRequest"
    )
}

/// Removes whitespace (and Go/Rust/TS line breaks) so that `a .\n b` and `a.b` compare equal.
pub fn compact(text: &str) -> String {
    // Most texts compacted (callees, types, targets) are ASCII without whitespace: copied whole rather than
    // rebuilt a char at a time. ASCII whitespace is `\t`..=`\r` and space; a text with any non-ASCII byte
    // takes the long way, which knows the rest of Unicode's.
    if text
        .bytes()
        .all(|b| b.is_ascii() && !matches!(b, b'\t'..=b'\r' | b' '))
    {
        return text.to_string();
    }
    // ASCII with whitespace (a method chain over several lines): bytes kept or dropped, not chars decoded.
    if text.is_ascii() {
        let mut compacted = String::with_capacity(text.len());
        compacted.extend(
            text.bytes()
                .filter(|b| !matches!(b, b'\t'..=b'\r' | b' '))
                .map(char::from),
        );
        return compacted;
    }
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The last segment of a callee as written (`helper` of `s.helper`, `pkg::helper`): `x.collect::<Vec<_>>` is a
/// call of `collect` (the turbofish is not a segment).
fn last_callee_segment(callee_text: &str) -> &str {
    dsr_core::kb::last_segment(callee_text.split("::<").next().unwrap_or_default())
}

/// The single traversal; language specifics live in the submodules.
struct Collector<'f, 't, 's> {
    facts: &'f mut FileFacts<'t>,
    source: &'s str,
    function_stack: Vec<usize>,
}

impl<'t> Collector<'_, 't, '_> {
    fn walk(&mut self, root: Node<'t>) {
        let kinds = Kinds::of(self.facts.language);
        // The tree knows how many nodes it has (tree-sitter keeps the count per subtree): no regrowing.
        let count = root.descendant_count();
        self.facts.nodes.reserve_exact(count);
        self.facts.parents.reserve_exact(count);
        self.facts.kind_ids.reserve_exact(count);
        self.facts.kind_counts = vec![
            0;
            self.facts
                .language
                .grammar()
                .map_or(0, |grammar| grammar.node_kind_count())
        ];
        let mut cursor = root.walk();
        let mut exits: Vec<bool> = Vec::new();
        // The indexes (in `nodes`) of the nodes from the root down to the cursor's parent.
        let mut path: Vec<u32> = Vec::new();
        // For each node of `path`, how many of its children the walk has yet to step to: after the last one
        // the walk goes up without asking for a next sibling. A failed `goto_next_sibling` costs as much as a
        // step (tree-sitter looks through the hidden nodes around the cursor for one), and there is one per
        // node with children.
        let mut remaining: Vec<u32> = Vec::new();
        'outer: loop {
            let current = cursor.node();
            let index = self.facts.nodes.len() as u32;
            self.facts.nodes.push(current);
            self.facts
                .parents
                .push(path.last().copied().unwrap_or(NO_PARENT));
            let kind = current.kind_id();
            self.facts.kind_ids.push(kind);
            if let Some(count) = self.facts.kind_counts.get_mut(usize::from(kind)) {
                *count += 1;
            }
            let is_function = kinds.function.contains_id(kind);
            if is_function {
                let index = self.facts.functions.len();
                let parent = self.function_stack.last().copied();
                let function = match self.facts.language {
                    Language::Go => go::function(current, self.source, parent, self.facts),
                    Language::Rust => rust::function(current, self.source, parent, self.facts),
                    _ => typescript::function(current, self.source, parent, self.facts),
                };
                self.facts.functions.push(function);
                self.function_stack.push(index);
            } else {
                if kinds.loops.contains_id(kind) {
                    self.facts.loops.push(Loop {
                        node: current,
                        function: self.function_stack.last().copied(),
                    });
                }
                if kinds.interesting.contains_id(kind) {
                    self.visit(current, kind, kinds);
                }
            }
            exits.push(is_function);
            // Most nodes are leaves: their child count is one load, where the cursor's failed descent into
            // them is a hundred instructions.
            let children = current.child_count();
            if children > 0 && cursor.goto_first_child() {
                path.push(index);
                remaining.push(children - 1);
                continue;
            }
            loop {
                if exits.pop() == Some(true) {
                    self.function_stack.pop();
                }
                match remaining.last_mut() {
                    // The root: nothing after it.
                    None => break 'outer,
                    Some(left) if *left > 0 => {
                        *left -= 1;
                        if cursor.goto_next_sibling() {
                            continue 'outer;
                        }
                    }
                    Some(_) => {}
                }
                if !cursor.goto_parent() {
                    break 'outer;
                }
                path.pop();
                remaining.pop();
            }
        }
    }

    fn visit(&mut self, current: Node<'t>, kind: u16, kinds: &Kinds) {
        let function = self.function_stack.last().copied();
        if kinds.identifier.contains_id(kind) {
            self.facts
                .identifiers
                .push((TextRange::of(current), current));
        }
        if kinds.comment.contains_id(kind) {
            self.facts.comments.push(TextRange::of(current));
            return;
        }
        if kinds.string.contains_id(kind) {
            if let Some(value) =
                node::string_literal_value(current, self.source, self.facts.language)
            {
                self.facts.strings.push(StringLiteral {
                    range: TextRange::of(current),
                    value,
                    function,
                });
            }
            return;
        }
        if !kinds.language_specific.contains_id(kind) {
            return;
        }
        match self.facts.language {
            Language::Go => go::visit(current, self.source, function, self.facts),
            Language::Rust => rust::visit(current, self.source, function, self.facts),
            Language::TypeScript | Language::Tsx => {
                typescript::visit(current, self.source, function, self.facts)
            }
            Language::Sql => {}
        }
    }
}

/// The node kinds the traversal stops at, per language, as kind-id sets: the walk visits every node of the
/// file, and comparing kind names there dominated the cost of the facts.
pub(crate) struct Kinds {
    function: KindSet,
    loops: KindSet,
    identifier: KindSet,
    comment: KindSet,
    string: KindSet,
    /// The kinds the language's `visit` handles (its `match` arms); the others it ignores.
    language_specific: KindSet,
    /// The union of the four above: a node of any other kind needs no visit at all.
    interesting: KindSet,
    /// The declarations `index_types` reads a declared type from (fields, typed variables, parameter
    /// properties): the other nodes it skips on their kind id.
    typed_declaration: KindSet,
}

impl Kinds {
    pub(crate) fn of(language: Language) -> &'static Kinds {
        static CACHE: std::sync::OnceLock<Vec<(Language, Kinds)>> = std::sync::OnceLock::new();
        let all = CACHE.get_or_init(|| {
            [
                Language::Go,
                Language::Rust,
                Language::TypeScript,
                Language::Tsx,
                Language::Sql,
            ]
            .into_iter()
            .map(|l| (l, Kinds::build(l)))
            .collect()
        });
        all.iter()
            .find(|(l, _)| *l == language)
            .map(|(_, k)| k)
            .unwrap_or(&all[0].1)
    }

    fn build(language: Language) -> Kinds {
        let specific: &[&str] = match language {
            Language::Go => &[
                "import_spec",
                "call_expression",
                "composite_literal",
                "short_var_declaration",
                "assignment_statement",
                "var_spec",
                "const_spec",
            ],
            Language::Rust => &[
                "use_declaration",
                "call_expression",
                "macro_invocation",
                "struct_expression",
                "let_declaration",
                "assignment_expression",
                "static_item",
                "const_item",
                "impl_item",
                "trait_item",
            ],
            Language::TypeScript | Language::Tsx => &[
                "import_statement",
                "call_expression",
                "new_expression",
                "object",
                "variable_declarator",
                "assignment_expression",
                "class_declaration",
                "abstract_class_declaration",
            ],
            Language::Sql => &[],
        };
        let identifier = |k: &str| matches!(k, "identifier" | "shorthand_property_identifier");
        let comment = |k: &str| k.ends_with("comment");
        let string = |k: &str| node::is_string_literal_kind(language, k);
        Kinds {
            function: KindSet::of(language, node::function_kinds(language)),
            loops: KindSet::of(language, node::loop_kinds(language)),
            identifier: KindSet::new(language, identifier),
            comment: KindSet::new(language, comment),
            string: KindSet::new(language, string),
            language_specific: KindSet::of(language, specific),
            interesting: KindSet::new(language, |k| {
                identifier(k) || comment(k) || string(k) || specific.contains(&k)
            }),
            typed_declaration: KindSet::of(language, receiver::TYPED_DECLARATIONS),
        }
    }
}

/// The arguments of an argument-list node, skipping punctuation and comments.
pub(crate) fn arguments(list: Option<Node<'_>>) -> Vec<Node<'_>> {
    // Comments are extras in every grammar read here: only an extra's kind name is worth reading.
    list.map(|list| {
        node::named_children(list)
            .filter(|n| !(n.is_extra() && n.kind().contains("comment")))
            .collect()
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests;
