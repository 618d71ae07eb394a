//! Where a value goes and where it comes from, within one file: the variable or field an expression is stored
//! in, the calls made through it, the method chain built on a call, the value a local name holds at a point,
//! and (Go) whether a `context.Context` carries a deadline. Rules ask these about clients, builders, servers
//! and requests alike, so they live here rather than in one rule.

use dsr_core::kb::{KnowledgeBase, PathGroupKind};
use dsr_syntax::{node, Language, TextRange};
use tree_sitter::Node;

use super::{Assignment, Call, FileFacts};

/// Where an expression's value is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Binding {
    /// A local or package-level variable (`c := …`, `let c = …`, `const c = …`); `function` is `None` at top
    /// level. `from` is where the declaration starts: uses before it are another variable.
    Variable {
        name: String,
        function: Option<usize>,
        from: usize,
    },
    /// A field of a struct or object (`Server{client: …}`, `Self { client: … }`, `this.client = …`,
    /// `s.client = …`, a class field `client = …`).
    Field { name: String },
}

impl Binding {
    pub fn name(&self) -> &str {
        match self {
            Binding::Variable { name, .. } | Binding::Field { name } => name,
        }
    }
}

/// What a local name holds at a point of a function.
#[derive(Clone, Copy, Debug)]
pub enum Origin<'t> {
    /// The value last assigned to it before that point (in the function or one it is nested in).
    Value(Node<'t>),
    /// It is a parameter of the function (or of one it is nested in): `function`'s `index`th.
    Parameter {
        function: usize,
        index: usize,
    },
    Unknown,
}

/// Where a local name is declared (see [`FileFacts::declaration_of`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Declaration {
    /// A declaring assignment, by index into [`FileFacts::assignments`].
    Assignment(usize),
    Parameter {
        function: usize,
        index: usize,
    },
}

/// Whether a Go `context.Context` value carries a deadline, as far as the file shows.
#[derive(Clone, Copy, Debug)]
pub enum ContextDeadline<'t> {
    /// `context.WithTimeout/WithDeadline(...)` (the call), directly or through `WithCancel`/`WithValue`.
    Set(Node<'t>),
    /// A parameter (a `context.Context`, or the `Context()` of a parameter such as an `*http.Request`): the
    /// caller decides.
    FromCaller(Node<'t>),
    /// `context.Background()`, `context.TODO()` or `context.WithoutCancel(...)` (the call): no deadline.
    Absent(Node<'t>),
    Unknown,
}

/// Wrappers a value passes through on its way to a variable without changing what it is: parentheses, `&`,
/// Rust `?`, `.await`, `.unwrap()`/`.expect(..)`, TS `await`, `!`, `as T`, `satisfies T`.
fn is_transparent_wrapper(facts: &FileFacts<'_>, parent: Node<'_>, child: Node<'_>) -> bool {
    match (facts.language, parent.kind()) {
        (_, "parenthesized_expression") => true,
        (Language::Go, "unary_expression") => parent.child(0).is_some_and(|op| op.kind() == "&"),
        (Language::Rust, "try_expression" | "await_expression" | "reference_expression") => true,
        (Language::Rust, "field_expression") => {
            // `x.unwrap()`: the field expression is the callee of a call with no other role for `x`.
            parent.child_by_field_name("value") == Some(child)
                && facts
                    .parent(parent)
                    .is_some_and(|call| call.child_by_field_name("function") == Some(parent))
        }
        (Language::TypeScript | Language::Tsx, kind) => matches!(
            kind,
            "await_expression" | "non_null_expression" | "as_expression" | "satisfies_expression"
        ),
        _ => false,
    }
}

/// The last `.`-separated segment of a name (`client` for `s.client`).
fn last_segment(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// Rust's `.unwrap()`/`.expect(..)` keep the value; any other method makes a new one.
fn rust_keeps_value(method: &str) -> bool {
    matches!(method, "unwrap" | "expect")
}

/// The member-access node kind and its (object, property) field names per language.
pub(super) fn member_fields(language: Language) -> (&'static str, &'static str, &'static str) {
    match language {
        Language::Go => ("selector_expression", "operand", "field"),
        Language::Rust => ("field_expression", "value", "field"),
        _ => ("member_expression", "object", "property"),
    }
}

/// One link of a method chain: `.timeout(d)` in `builder.timeout(d).build()`.
#[derive(Clone, Copy, Debug)]
pub struct ChainLink<'t> {
    pub call: Node<'t>,
    pub method: Node<'t>,
}

impl<'t> FileFacts<'t> {
    /// The fact for a call node.
    pub fn call_of(&self, call: Node<'t>) -> Option<&Call<'t>> {
        self.call_index(call).map(|index| &self.calls[index])
    }

    /// Climbs from `expr` through wrappers that keep its value (see [`is_transparent_wrapper`]); for Rust also
    /// through `.unwrap()`/`.expect(..)`.
    pub fn value_carrier(&self, expr: Node<'t>, source: &str) -> Node<'t> {
        let mut current = expr;
        while let Some(parent) = self.parent(current) {
            if !is_transparent_wrapper(self, parent, current) {
                break;
            }
            if self.language == Language::Rust && parent.kind() == "field_expression" {
                let keeps = parent
                    .child_by_field_name("field")
                    .is_some_and(|f| rust_keeps_value(node::text(f, source)));
                if !keeps {
                    break;
                }
                match self.parent(parent) {
                    Some(call) => current = call,
                    None => break,
                }
                continue;
            }
            current = parent;
        }
        current
    }

    /// The calls chained onto `expr`, innermost first: for `Client::builder()` in
    /// `Client::builder().timeout(d).build()?`, the `.timeout(d)` and `.build()` calls. Looks through `?`,
    /// `.await` and `!` between links.
    pub fn method_chain(&self, expr: Node<'t>) -> Vec<ChainLink<'t>> {
        let (_, _, property_field) = member_fields(self.language);
        let mut links = Vec::new();
        let mut current = expr;
        while let Some(next) = self.call_chained_on(current) {
            let next = &self.calls[next];
            let Some(method) = next.callee.child_by_field_name(property_field) else {
                break;
            };
            links.push(ChainLink {
                call: next.node,
                method,
            });
            current = next.node;
        }
        links
    }

    /// The index of the method call made on `value` (`value.m(..)`, `value?.m(..)`, `(value).m(..)`).
    pub(crate) fn call_chained_on(&self, value: Node<'t>) -> Option<usize> {
        let index = self.chain_index.get_or_init(|| {
            let mut index = rustc_hash::FxHashMap::default();
            for (i, call) in self.calls.iter().enumerate() {
                if let Some(receiver) = call.receiver {
                    index
                        .entry(node::strip_wrappers(receiver, node::Wrappers::CHAIN).id())
                        .or_insert(i);
                }
            }
            index
        });
        index.get(&value.id()).copied()
    }

    /// The innermost expression a method chain starts from: `ServiceBuilder::new()` for
    /// `ServiceBuilder::new().layer(a).timeout(d)`, `client` for `client.get(u).send()`. Looks through `?`,
    /// `.await` and parentheses between links.
    pub fn chain_root(&self, expr: Node<'t>) -> Node<'t> {
        let (member_kind, object_field, _) = member_fields(self.language);
        let mut current = expr;
        loop {
            let inner = match current.kind() {
                "parenthesized_expression"
                | "try_expression"
                | "await_expression"
                | "non_null_expression" => node::named_children(current).next(),
                "call_expression" => current
                    .child_by_field_name("function")
                    .filter(|f| f.kind() == member_kind)
                    .and_then(|f| f.child_by_field_name(object_field)),
                _ => None,
            };
            match inner {
                Some(inner) => current = inner,
                None => return current,
            }
        }
    }

    /// The variable or field the value of `expr` is stored in, looking through wrappers that keep the value.
    pub fn binding_of(&self, expr: Node<'t>, source: &str) -> Option<Binding> {
        let carrier = self.value_carrier(expr, source);
        if let Some(assignment) = self.assignment_with_value(carrier) {
            return Some(binding_of_assignment(assignment));
        }
        let parent = self.parent(carrier)?;
        let field_name = |n: Option<Node<'_>>| n.map(|n| node::text(n, source).to_string());
        let name = match (self.language, parent.kind()) {
            // Go `Server{client: …}`: the value sits in a `literal_element` of a `keyed_element`.
            (Language::Go, "literal_element") => {
                let keyed = self
                    .parent(parent)
                    .filter(|k| k.kind() == "keyed_element")?;
                if keyed.child_by_field_name("value") != Some(parent) {
                    return None;
                }
                field_name(keyed.child_by_field_name("key"))
            }
            (Language::Rust, "field_initializer") => {
                field_name(parent.child_by_field_name("field"))
            }
            (Language::TypeScript | Language::Tsx, "pair") => {
                field_name(parent.child_by_field_name("key"))
            }
            (Language::TypeScript | Language::Tsx, "public_field_definition") => {
                field_name(parent.child_by_field_name("name"))
            }
            _ => None,
        }?;
        Some(Binding::Field { name })
    }

    /// Whether `reference` (an expression) refers to `binding`: the variable's name, or `x.<field>`, possibly
    /// in parentheses or behind `&`/`*`. Compares the node's text: this runs for every call and identifier
    /// of a scope, where asking tree-sitter for node kinds would dominate.
    pub fn refers_to(&self, reference: Node<'t>, binding: &Binding, source: &str) -> bool {
        let written = node::text(reference, source);
        let compacted;
        let written = if written.contains(char::is_whitespace) {
            compacted = super::compact(written);
            compacted.as_str()
        } else {
            written
        };
        self.names(written, binding) && self.in_scope(reference, binding)
    }

    /// Whether compact expression text names `binding` (see [`FileFacts::refers_to`]).
    fn names(&self, written: &str, binding: &Binding) -> bool {
        let bare = self.bare_receiver(written);
        match binding {
            Binding::Variable { name, .. } => bare == name,
            Binding::Field { name } => bare
                .strip_suffix(name.as_str())
                .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
        }
    }

    /// A receiver as written without the parentheses, `&`, `&mut` and `*` around it.
    fn bare_receiver<'w>(&self, written: &'w str) -> &'w str {
        let mut bare = written.trim_start_matches(['(', '&', '*']);
        if self.language == Language::Rust && written.starts_with('&') {
            bare = bare.strip_prefix("mut").unwrap_or(bare);
        }
        bare.trim_end_matches(')')
    }

    fn in_scope(&self, reference: Node<'t>, binding: &Binding) -> bool {
        match binding {
            Binding::Variable { function, from, .. } => {
                reference.start_byte() >= *from
                    && function.is_none_or(|f| {
                        self.functions[f]
                            .range()
                            .contains_range(TextRange::of(reference))
                    })
            }
            Binding::Field { .. } => true,
        }
    }

    /// Method calls made directly on `binding` (`c.Do(req)`, `self.client.get(url)`, `api.post(...)`).
    pub fn calls_on<'a>(&'a self, binding: &'a Binding) -> impl Iterator<Item = &'a Call<'t>> + 'a {
        let scope = match binding {
            Binding::Variable {
                function: Some(f),
                from,
                ..
            } => {
                let range = self.functions[*f].range();
                TextRange::new(range.start.max(*from), range.end)
            }
            Binding::Variable { from, .. } => TextRange::new(*from, usize::MAX),
            Binding::Field { .. } => TextRange::new(0, usize::MAX),
        };
        // Calls are collected in pre-order: their starts never decrease. A binding of one function looks at that
        // function's calls; a top-level variable or a field at the calls whose receiver ends in its name (an
        // index), not at every call of the file per binding.
        let candidates: Box<dyn Iterator<Item = &'a Call<'t>> + 'a> = match binding {
            Binding::Variable {
                function: Some(_), ..
            } => {
                let first = self
                    .calls
                    .partition_point(|c| c.node.start_byte() < scope.start);
                Box::new(
                    self.calls[first..]
                        .iter()
                        .take_while(move |c| c.node.start_byte() < scope.end),
                )
            }
            Binding::Variable { name, .. } | Binding::Field { name } => Box::new(
                self.calls_on_receiver_named(last_segment(name))
                    .iter()
                    .map(|&i| &self.calls[i])
                    .filter(move |c| {
                        c.node.start_byte() >= scope.start && c.node.start_byte() < scope.end
                    }),
            ),
        };
        candidates.filter(move |call| {
            // The receiver's text is the callee's without `.method`: no need to ask the tree.
            let (Some(method), Some(receiver)) = (call.method.as_deref(), call.receiver) else {
                return false;
            };
            let written = call
                .callee_text
                .strip_suffix(method)
                .and_then(|r| r.strip_suffix(['.', ':']))
                .map(|r| r.trim_end_matches(':').trim_end_matches('?'));
            written.is_some_and(|w| self.names(w, binding)) && self.in_scope(receiver, binding)
        })
    }

    /// The method calls whose receiver, as [`FileFacts::calls_on`] reads it, ends in the segment `last`
    /// (`c`, `s.client` → `client`), from an index built on first use.
    fn calls_on_receiver_named(&self, last: &str) -> &[usize] {
        let index = self.receiver_names.get_or_init(|| {
            let mut index: rustc_hash::FxHashMap<String, Vec<usize>> =
                rustc_hash::FxHashMap::default();
            for (i, call) in self.calls.iter().enumerate() {
                let (Some(method), Some(_)) = (call.method.as_deref(), call.receiver) else {
                    continue;
                };
                let Some(written) = call
                    .callee_text
                    .strip_suffix(method)
                    .and_then(|r| r.strip_suffix(['.', ':']))
                    .map(|r| r.trim_end_matches(':').trim_end_matches('?'))
                else {
                    continue;
                };
                let bare = self.bare_receiver(written);
                index
                    .entry(last_segment(bare).to_string())
                    .or_default()
                    .push(i);
            }
            index
        });
        index.get(last).map(Vec::as_slice).unwrap_or_default()
    }

    /// Assignments to `<binding>.<field>` (`c.Timeout = …`, `srv.ReadHeaderTimeout = …`,
    /// `server.requestTimeout = …`); `field` may itself be dotted (`defaults.timeout`).
    pub fn field_assignments<'a>(
        &'a self,
        binding: &'a Binding,
        field: &'a str,
    ) -> impl Iterator<Item = &'a Assignment<'t>> + 'a {
        // A variable's field is assigned by its exact target (`c.Timeout`): the index by target, not every
        // assignment of the file per question.
        let candidates: Box<dyn Iterator<Item = &'a Assignment<'t>> + 'a> = match binding {
            Binding::Variable { name, .. } => Box::new(
                self.assignments_to(&format!("{name}.{field}"))
                    .iter()
                    .map(|&i| &self.assignments[i]),
            ),
            Binding::Field { .. } => Box::new(self.assignments.iter()),
        };
        candidates.filter(move |a| {
            if a.declares {
                return false;
            }
            match binding {
                Binding::Variable {
                    name,
                    function,
                    from,
                } => {
                    a.node.start_byte() >= *from
                        && a.target
                            .strip_prefix(name.as_str())
                            .and_then(|rest| rest.strip_prefix('.'))
                            == Some(field)
                        && function.is_none_or(|f| {
                            self.functions[f]
                                .range()
                                .contains_range(TextRange::of(a.node))
                        })
                }
                Binding::Field { name } => a
                    .target
                    .strip_suffix(field)
                    .and_then(|rest| rest.strip_suffix('.'))
                    .is_some_and(|rest| rest.ends_with(&format!(".{name}"))),
            }
        })
    }

    /// Whether a variable's value may be used outside what the file shows: the name appears other than as the
    /// receiver of a member access (`c.Do`, `c.Timeout = …`) after its declaration — passed as an argument,
    /// returned, stored, captured by name — or it is a top-level variable other files can see (Go and Rust
    /// package/crate items, exported TS declarations). A Go field is visible to the whole package, in other
    /// files too, so it escapes; Rust and TS fields are taken as seen whole in the file (a module's private
    /// field, a class's member), so they do not.
    pub fn escapes(&self, binding: &Binding, source: &str) -> bool {
        let Binding::Variable {
            name,
            function,
            from,
        } = binding
        else {
            return self.language == Language::Go;
        };
        let scope = match function {
            Some(f) => self.functions[*f].range(),
            None if self.language.is_typescript() => {
                let exported = self.assignments.iter().any(|a| {
                    a.declares
                        && a.function.is_none()
                        && a.target == *name
                        && self
                            .ancestors(a.node)
                            .any(|n| n.kind() == "export_statement")
                });
                if exported {
                    return true;
                }
                TextRange::new(0, source.len())
            }
            None => return true,
        };
        let (member_kind, object_field, _) = member_fields(self.language);
        // The identifiers spelled `name` (an index by text), in the scope after the binding: a top-level
        // binding's scope is the whole file, which a scan per question made quadratic.
        let start = scope.start.max(*from);
        let named = self.identifiers_named(name, source);
        let first = named.partition_point(|&i| self.identifiers[i].0.start < start);
        named[first..]
            .iter()
            .map(|&i| &self.identifiers[i])
            .take_while(|(range, _)| range.start < scope.end)
            .filter(|(_, n)| self.in_scope(*n, binding))
            .any(|(_, n)| {
                let is_receiver = self.parent(*n).is_some_and(|parent| {
                    parent.kind() == member_kind
                        && parent.child_by_field_name(object_field) == Some(*n)
                });
                // The declarations of `name` that start before it (an index by name), one of them around it.
                let in_declaration = self
                    .declarations_before(name, n.start_byte() + 1)
                    .iter()
                    .map(|&i| &self.assignments[i])
                    .any(|a| {
                        TextRange::of(a.node).contains_range(TextRange::of(*n))
                            && a.value
                                .is_none_or(|v| !TextRange::of(v).contains_range(TextRange::of(*n)))
                    });
                !is_receiver && !in_declaration
            })
    }

    /// What the local `name` holds at `offset` inside `function`: the value of its last assignment before
    /// `offset` in that function or the functions it is nested in, else the parameter of that name.
    pub fn origin_of(&self, function: Option<usize>, name: &str, offset: usize) -> Origin<'t> {
        let mut scope = function;
        loop {
            // The last assignment to `name` (an index by target, in document order) before `offset` in this
            // scope.
            let to_name = self.assignments_to(name);
            let before =
                to_name.partition_point(|&i| self.assignments[i].node.start_byte() < offset);
            let assigned = self
                .last_made_in(&to_name[..before], scope, name, offset, false)
                .map(|i| &self.assignments[i]);
            if let Some(assignment) = assigned {
                return assignment.value.map_or(Origin::Unknown, Origin::Value);
            }
            let Some(index) = scope else {
                return Origin::Unknown;
            };
            let function = &self.functions[index];
            if let Some(position) = function.params.iter().position(|p| p.name == name) {
                return Origin::Parameter {
                    function: index,
                    index: position,
                };
            }
            scope = function.parent;
        }
    }

    /// Which declaration the local `name` at `offset` inside `function` refers to: its `:=`/`let`/`var`
    /// (an index into [`FileFacts::assignments`]) or a parameter, searched from the innermost function
    /// outwards. Two uses of one name are the same variable only when this is the same for both.
    pub fn declaration_of(
        &self,
        function: Option<usize>,
        name: &str,
        offset: usize,
    ) -> Option<Declaration> {
        let mut scope = function;
        let candidates = self.declarations_before(name, offset);
        loop {
            // The latest declaration in this scope: candidates are in document order.
            let declared = self.last_made_in(candidates, scope, name, offset, true);
            if let Some(index) = declared {
                return Some(Declaration::Assignment(index));
            }
            let index = scope?;
            let function = &self.functions[index];
            if let Some(position) = function.params.iter().position(|p| p.name == name) {
                return Some(Declaration::Parameter {
                    function: index,
                    index: position,
                });
            }
            scope = function.parent;
        }
    }

    /// Go: where the context `expr` evaluates to comes from — a deadline set in this function, a parameter,
    /// a context with no deadline, or something the file does not show.
    pub fn go_context_deadline(&self, expr: Node<'t>, source: &str) -> ContextDeadline<'t> {
        self.go_context_deadline_within(expr, source, 8)
    }

    fn go_context_deadline_within(
        &self,
        expr: Node<'t>,
        source: &str,
        depth: usize,
    ) -> ContextDeadline<'t> {
        if depth == 0 {
            return ContextDeadline::Unknown;
        }
        match expr.kind() {
            "parenthesized_expression" => match node::named_children(expr).next() {
                Some(inner) => self.go_context_deadline_within(inner, source, depth - 1),
                None => ContextDeadline::Unknown,
            },
            "identifier" => {
                let function = self.function_at(expr.start_byte());
                match self.origin_of(function, node::text(expr, source), expr.start_byte()) {
                    Origin::Value(value) => {
                        self.go_context_deadline_within(value, source, depth - 1)
                    }
                    Origin::Parameter { .. } => ContextDeadline::FromCaller(expr),
                    Origin::Unknown => ContextDeadline::Unknown,
                }
            }
            "call_expression" => {
                let Some(call) = self.call_of(expr) else {
                    return ContextDeadline::Unknown;
                };
                let derived_from_parent = |call: &Call<'t>| match call.args.first() {
                    Some(parent) => self.go_context_deadline_within(*parent, source, depth - 1),
                    None => ContextDeadline::Unknown,
                };
                let in_group = |kind: PathGroupKind| {
                    call.path.as_deref().is_some_and(|path| {
                        KnowledgeBase::builtin().is_in_group(Language::Go, path, kind)
                    })
                };
                match call.path.as_deref() {
                    _ if in_group(PathGroupKind::ContextWithDeadline) => ContextDeadline::Set(expr),
                    _ if in_group(PathGroupKind::ContextDerived) => derived_from_parent(call),
                    _ if in_group(PathGroupKind::ContextWithoutDeadline) => {
                        ContextDeadline::Absent(expr)
                    }
                    // `r.Context()` of a parameter (an `*http.Request`): the caller's context.
                    _ if call.method.as_deref() == Some("Context") && call.args.is_empty() => {
                        match call.receiver {
                            Some(receiver) if receiver.kind() == "identifier" => {
                                let function = self.function_at(receiver.start_byte());
                                match self.origin_of(
                                    function,
                                    node::text(receiver, source),
                                    receiver.start_byte(),
                                ) {
                                    Origin::Parameter { .. } => ContextDeadline::FromCaller(expr),
                                    _ => ContextDeadline::Unknown,
                                }
                            }
                            _ => ContextDeadline::Unknown,
                        }
                    }
                    _ => ContextDeadline::Unknown,
                }
            }
            _ => ContextDeadline::Unknown,
        }
    }
}

fn binding_of_assignment(assignment: &Assignment<'_>) -> Binding {
    match assignment.target.rsplit_once('.') {
        Some((_, field)) if !assignment.declares => Binding::Field {
            name: field.to_string(),
        },
        _ => Binding::Variable {
            name: assignment.target.clone(),
            function: assignment.function,
            // A top-level variable is visible to functions written above its declaration.
            from: if assignment.function.is_some() {
                assignment.node.start_byte()
            } else {
                0
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use dsr_syntax::{Document, Language};

    use super::*;

    fn with_facts(language: Language, source: &str, check: impl FnOnce(&FileFacts<'_>, Node<'_>)) {
        let document = Document::new(language, source, 0).expect("grammar loads");
        let tree = document.tree().expect("a tree");
        let facts = FileFacts::compute(language, Some(tree), source);
        check(&facts, tree.root_node());
    }

    fn call<'a, 't>(facts: &'a FileFacts<'t>, callee: &str) -> &'a Call<'t> {
        facts
            .calls
            .iter()
            .find(|c| c.callee_text == callee)
            .unwrap_or_else(|| panic!("no call to {callee}"))
    }

    #[test]
    fn function_at_finds_the_innermost_function() {
        let source = r#"
function outer(a) {
  const f = (x) => { return () => x; };
  function inner() { return 1; }
  return f(a) + inner();
}
const top = 1;
class C { m() { return [1].map((v) => v + 1); } }
"#;
        with_facts(Language::TypeScript, source, |facts, _| {
            for offset in 0..=source.len() {
                let naive = facts
                    .functions
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.range().contains(offset))
                    .min_by_key(|(_, f)| f.range().len())
                    .map(|(i, _)| i);
                assert_eq!(facts.function_at(offset), naive, "offset {offset}");
            }
        });
    }

    #[test]
    fn go_bindings_field_assignments_and_escapes() {
        let source = r#"package main
import "net/http"
var shared = &http.Client{}
func f() {
	c := &http.Client{}
	c.Timeout = 5
	c.Do(req)
	s := Server{client: &http.Client{}}
	s.client.Do(req)
	keep(c)
}
"#;
        with_facts(Language::Go, source, |facts, _| {
            let bindings: Vec<_> = facts
                .literals
                .iter()
                .filter(|l| l.type_text == "http.Client")
                .map(|l| facts.binding_of(l.node, source))
                .collect();
            let [Some(shared), Some(local), Some(field)] = &bindings[..] else {
                panic!("{bindings:?}");
            };
            assert!(
                matches!(shared, Binding::Variable { name, function: None, from: 0 } if name == "shared")
            );
            assert!(
                matches!(local, Binding::Variable { name, function: Some(_), .. } if name == "c")
            );
            assert_eq!(
                field,
                &Binding::Field {
                    name: "client".into()
                }
            );
            assert_eq!(facts.field_assignments(local, "Timeout").count(), 1);
            assert_eq!(facts.field_assignments(field, "Timeout").count(), 0);
            assert_eq!(facts.calls_on(local).count(), 1);
            assert_eq!(facts.calls_on(field).count(), 1);
            // `keep(c)` hands the client on; a package-level variable is visible to the whole package.
            assert!(facts.escapes(local, source));
            assert!(facts.escapes(shared, source));
            assert!(facts.escapes(field, source));
        });
    }

    #[test]
    fn go_context_deadlines() {
        let source = r#"package main
import (
	"context"
	"net/http"
)
func f(parent context.Context, r *http.Request) {
	a, cancel := context.WithTimeout(parent, 5)
	b, _ := context.WithCancel(a)
	c := context.WithValue(b, k, v)
	use(c, parent, r.Context(), context.Background(), context.WithoutCancel(a), other())
}
"#;
        with_facts(Language::Go, source, |facts, _| {
            let args = &call(facts, "use").args;
            let sources: Vec<_> = args
                .iter()
                .map(|a| match facts.go_context_deadline(*a, source) {
                    ContextDeadline::Set(_) => "deadline",
                    ContextDeadline::FromCaller(_) => "parameter",
                    ContextDeadline::Absent(_) => "none",
                    ContextDeadline::Unknown => "unknown",
                })
                .collect();
            assert_eq!(
                sources,
                [
                    "deadline",
                    "parameter",
                    "parameter",
                    "none",
                    "none",
                    "unknown"
                ]
            );
        });
    }

    #[test]
    fn rust_chains_and_bindings_look_through_wrappers() {
        let source = r#"
struct Api { client: reqwest::Client }
async fn f() -> Result<()> {
    let client = reqwest::Client::builder().connect_timeout(d).build()?;
    let plain = reqwest::Client::new().clone();
    let api = Api { client: reqwest::Client::new() };
    client.get(u).timeout(d).send().await?;
    api.client.get(u).send().await?;
}
"#;
        with_facts(Language::Rust, source, |facts, _| {
            let builder = call(facts, "reqwest::Client::builder");
            let chain: Vec<_> = facts
                .method_chain(builder.node)
                .iter()
                .map(|l| dsr_syntax::node::text(l.method, source))
                .collect();
            assert_eq!(chain, ["connect_timeout", "build"]);
            let end = facts.method_chain(builder.node)[1].call;
            assert_eq!(facts.chain_root(end), builder.node);
            let client = facts
                .binding_of(facts.method_chain(builder.node)[1].call, source)
                .unwrap();
            assert_eq!(client.name(), "client");
            assert!(!facts.escapes(&client, source));
            let request = facts.calls_on(&client).next().unwrap();
            assert_eq!(request.method.as_deref(), Some("get"));
            // `.clone()` makes a new value: not a binding of the `new()` call.
            let news: Vec<_> = facts
                .calls
                .iter()
                .filter(|c| c.callee_text == "reqwest::Client::new")
                .map(|c| facts.binding_of(c.node, source))
                .collect();
            assert_eq!(news[0], None);
            let field = news[1].clone().unwrap();
            assert_eq!(
                field,
                Binding::Field {
                    name: "client".into()
                }
            );
            assert_eq!(facts.calls_on(&field).count(), 1);
        });
    }

    #[test]
    fn typescript_origins_and_exports() {
        let source = r#"
export const api = axios.create({});
const local = axios.create({});
class C { private http = axios.create(); go() { this.http.get(u); } }
function f(opts) {
  const init = { method: "POST" };
  fetch(u, init);
  fetch(u, opts);
}
"#;
        with_facts(Language::TypeScript, source, |facts, _| {
            let creates: Vec<_> = facts
                .calls
                .iter()
                .filter(|c| c.callee_text == "axios.create")
                .map(|c| facts.binding_of(c.node, source).unwrap())
                .collect();
            assert!(facts.escapes(&creates[0], source));
            assert!(!facts.escapes(&creates[1], source));
            assert_eq!(
                creates[2],
                Binding::Field {
                    name: "http".into()
                }
            );
            assert_eq!(facts.calls_on(&creates[2]).count(), 1);
            let fetches: Vec<_> = facts
                .calls
                .iter()
                .filter(|c| c.callee_text == "fetch")
                .collect();
            let origin = |call: &Call<'_>| {
                let arg = call.args[1];
                facts.origin_of(
                    call.function,
                    dsr_syntax::node::text(arg, source),
                    arg.start_byte(),
                )
            };
            assert!(matches!(origin(fetches[0]), Origin::Value(v) if v.kind() == "object"));
            assert!(matches!(
                origin(fetches[1]),
                Origin::Parameter { index: 0, .. }
            ));
        });
    }
}
