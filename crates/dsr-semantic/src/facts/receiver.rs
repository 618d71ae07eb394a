//! What a method call's receiver is bound to: the declared type of the parameter, variable or field it names,
//! or the constructor or factory whose result it holds. The knowledge base's `[[method]]` entries ask this
//! before a method name may stand for a library's method (`get` on a `Map` is not Redis's `GET`).

use dsr_syntax::{node, Language, TextRange};
use rustc_hash::FxHashMap;
use tree_sitter::Node;

use super::{bare_type, compact, Call, FileFacts, Origin};

/// What a call's receiver is bound to, as far as the file shows.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ReceiverType {
    /// A type or constructor resolved through the imports (`github.com/redis/go-redis/v9.Client`,
    /// `ioredis`, `redis::Client::open`, `std::collections::HashMap::new`).
    Resolved(String),
    /// A type or constructor the imports do not resolve, as written without pointer marks or generic
    /// arguments (`Map`, `HashMap`, `map`, `Store`).
    Written(String),
    /// Nothing in the file binds it: an untyped parameter, a value from an unknown place.
    Unknown,
}

/// What the other files of a workspace declare, asked when this file does not show a receiver's binding: the
/// workspace index implements it for one file (its package, module and imports).
pub trait WorkspaceTypes: Send + Sync + std::fmt::Debug {
    /// The declared type of field `field` of the type `owner` (as this file resolved or wrote it).
    fn field_type(&self, owner: &ReceiverType, field: &str) -> Option<ReceiverType>;
    /// What a type or value this file names stands for in the declaring file: a type alias or re-export
    /// followed to its target (`./redis.Redis` → `ioredis`), an exported value to the constructor that made it
    /// (`./http.api` → `axios.create`), a type of the same Go package (`Server`) to its qualified name.
    fn canonical(&self, ty: &ReceiverType) -> Option<ReceiverType>;
    /// The type a call into another file returns (`newClient()` → `net/http.Client`).
    fn return_type(
        &self,
        callee: &str,
        path: Option<&str>,
        method: Option<&str>,
        receiver: Option<&ReceiverType>,
    ) -> Option<ReceiverType>;
}

/// A type declared for a name: a struct/class field, a `var`/`let` with a type, a constructor parameter
/// property.
#[derive(Clone, Debug)]
pub(crate) struct DeclaredType {
    pub function: Option<usize>,
    pub start: usize,
    pub type_text: String,
    pub type_path: Option<String>,
}

/// The declared types and stored values of fields and typed variables, by name, collected once per file.
#[derive(Debug, Default)]
pub(crate) struct TypeIndex<'t> {
    fields: FxHashMap<String, Vec<DeclaredType>>,
    variables: FxHashMap<String, Vec<DeclaredType>>,
    /// Values stored in a field anywhere in the file (`this.redis = new Redis()`, `Server{rdb: redis.NewClient()}`).
    field_values: FxHashMap<String, Vec<Node<'t>>>,
    /// Assigned values that are another local's name (`let delivery = delivery?;`, `c := client`), by the
    /// value node's id: the name to follow.
    aliases: FxHashMap<usize, String>,
    /// Assigned values that name an imported package's variable (`http.DefaultClient`), resolved, by node id.
    imported_values: FxHashMap<usize, String>,
    /// The names in call receivers (`rdb` and `client` in `s.rdb.client.Get()`), by node id: a receiver's
    /// text may hold comments, so names are read from the nodes once.
    names: FxHashMap<usize, String>,
    /// The receiver's name of each Go method, by function index (`s` in `func (s *Server) …`).
    go_receivers: Vec<Option<String>>,
    /// Each call's receiver type once asked: every model asks the knowledge base about the same calls.
    receivers: Vec<std::sync::OnceLock<ReceiverType>>,
}

/// How many values a receiver's binding is followed through (`conn` ← `client.get_connection()` ← `client` ←
/// `Client::open(url)`).
const MAX_DEPTH: usize = 6;

/// The kinds `index_types` reads a declared type from, whatever the language (its `match` arms).
pub(super) const TYPED_DECLARATIONS: &[&str] = &[
    "field_declaration",
    "var_spec",
    "let_declaration",
    "public_field_definition",
    "property_signature",
    "required_parameter",
    "optional_parameter",
    "variable_declarator",
];

impl<'t> FileFacts<'t> {
    /// Collects the declared types of fields and typed variables, and the values stored in fields.
    pub(crate) fn index_types(&mut self, source: &str) {
        let mut index = TypeIndex::default();
        let language = self.language;
        let typed_declaration = &super::Kinds::of(language).typed_declaration;
        for (n, kind) in self
            .nodes
            .iter()
            .copied()
            .zip(self.kind_ids.iter().copied())
        {
            // A kind-id test first, on the ids the traversal recorded: reading every node's kind name was most
            // of this loop's cost, and asking tree-sitter for its kind id still a call per node.
            if !typed_declaration.contains_id(kind) {
                continue;
            }
            let (is_field, names, type_node): (bool, Vec<Node<'t>>, Option<Node<'t>>) =
                match (language, dsr_syntax::kind(language, n)) {
                    (Language::Go, "field_declaration") => (
                        true,
                        n.children_by_field_name("name", &mut n.walk()).collect(),
                        dsr_syntax::field(language, n, "type"),
                    ),
                    (Language::Go, "var_spec") => (
                        false,
                        n.children_by_field_name("name", &mut n.walk()).collect(),
                        dsr_syntax::field(language, n, "type"),
                    ),
                    (Language::Rust, "field_declaration") => (
                        true,
                        dsr_syntax::field(language, n, "name").into_iter().collect(),
                        dsr_syntax::field(language, n, "type"),
                    ),
                    (Language::Rust, "let_declaration") => (
                        false,
                        dsr_syntax::field(language, n, "pattern")
                            .filter(|p| dsr_syntax::kind(language, *p) == "identifier")
                            .into_iter()
                            .collect(),
                        dsr_syntax::field(language, n, "type"),
                    ),
                    (_, "public_field_definition" | "property_signature") => (
                        true,
                        dsr_syntax::field(language, n, "name").into_iter().collect(),
                        dsr_syntax::field(language, n, "type"),
                    ),
                    // `constructor(private redis: Redis)`: a parameter property is a field too.
                    (_, "required_parameter" | "optional_parameter")
                        if node::named_children(n)
                            .any(|c| c.kind() == "accessibility_modifier") =>
                    {
                        (
                            true,
                            dsr_syntax::field(language, n, "pattern")
                                .into_iter()
                                .collect(),
                            dsr_syntax::field(language, n, "type"),
                        )
                    }
                    (_, "variable_declarator") => (
                        false,
                        dsr_syntax::field(language, n, "name")
                            .filter(|p| dsr_syntax::kind(language, *p) == "identifier")
                            .into_iter()
                            .collect(),
                        dsr_syntax::field(language, n, "type"),
                    ),
                    _ => continue,
                };
            let Some(type_node) = type_node else {
                continue;
            };
            let type_text = compact(node::text(type_node, source))
                .trim_start_matches(':')
                .to_string();
            let type_path = self.resolve(bare_type(&type_text));
            let declared = DeclaredType {
                function: self.function_at(n.start_byte()),
                start: n.start_byte(),
                type_text,
                type_path,
            };
            let table = if is_field {
                &mut index.fields
            } else {
                &mut index.variables
            };
            for name in names {
                table
                    .entry(node::text(name, source).to_string())
                    .or_default()
                    .push(declared.clone());
            }
        }
        for assignment in &self.assignments {
            if let Some(value) = assignment.value {
                let inner = node::strip_wrappers(value, node::Wrappers::ALL);
                if inner.kind() == "identifier" {
                    index
                        .aliases
                        .insert(inner.id(), node::text(inner, source).to_string());
                } else if matches!(inner.kind(), "selector_expression" | "scoped_identifier") {
                    if let Some(path) = self.resolve(&compact(node::text(inner, source))) {
                        index.imported_values.insert(inner.id(), path);
                    }
                }
            }
            if let (Some((_, field)), Some(value)) =
                (assignment.target.rsplit_once('.'), assignment.value)
            {
                index
                    .field_values
                    .entry(field.to_string())
                    .or_default()
                    .push(value);
            }
        }
        for literal in &self.literals {
            for field in &literal.fields {
                if let Some(value) = field.value {
                    index
                        .field_values
                        .entry(field.name.clone())
                        .or_default()
                        .push(value);
                }
            }
        }
        let (member_kind, object_field, property_field) =
            super::value_flow::member_fields(language);
        for call in &self.calls {
            let mut current = call
                .receiver
                .map(|r| node::strip_wrappers(r, node::Wrappers::ALL));
            while let Some(n) = current {
                if dsr_syntax::kind(language, n) == member_kind {
                    if let Some(property) = dsr_syntax::field(language, n, property_field) {
                        index
                            .names
                            .insert(property.id(), node::text(property, source).to_string());
                    }
                    current = dsr_syntax::field(language, n, object_field)
                        .map(|o| node::strip_wrappers(o, node::Wrappers::ALL));
                } else {
                    if dsr_syntax::kind(language, n) == "identifier" {
                        index
                            .names
                            .insert(n.id(), node::text(n, source).to_string());
                    }
                    current = None;
                }
            }
        }
        if language == Language::Rust {
            let declared = index
                .fields
                .values()
                .chain(index.variables.values())
                .flatten()
                .filter_map(|d| super::absolute_crate(bare_type(&d.type_text)))
                .filter(|head| self.import(head).is_none())
                .map(str::to_string)
                .collect::<Vec<_>>();
            self.absolute_paths.extend(declared);
            self.absolute_paths.sort_unstable();
            self.absolute_paths.dedup();
        }
        if language == Language::Go {
            index.go_receivers = self
                .functions
                .iter()
                .map(|f| {
                    f.node
                        .child_by_field_name("receiver")
                        .and_then(|r| node::named_children(r).next())
                        .and_then(|p| p.child_by_field_name("name"))
                        .map(|n| node::text(n, source).to_string())
                })
                .collect();
        }
        index.receivers = (0..self.calls.len())
            .map(|_| std::sync::OnceLock::new())
            .collect();
        self.types = index;
    }

    /// What the receiver of a method call is bound to: a parameter's or variable's declared type, a field's
    /// declared type (or the value stored in it), or the constructor/factory whose result a variable holds.
    pub fn receiver_type(&self, call: &Call<'t>) -> ReceiverType {
        let Some(receiver) = call.receiver else {
            return ReceiverType::Unknown;
        };
        let compute = || self.in_workspace(self.type_of(receiver, call.function, MAX_DEPTH));
        match self
            .call_index_at(call.node)
            .and_then(|i| self.types.receivers.get(i))
        {
            Some(cached) => cached.get_or_init(compute).clone(),
            None => compute(),
        }
    }

    /// A type followed through the workspace's aliases, re-exports and exported values, when this file's own
    /// answer is not a library's.
    fn in_workspace(&self, mut ty: ReceiverType) -> ReceiverType {
        let Some(workspace) = self.workspace.as_deref() else {
            return ty;
        };
        // Bounded: an alias chain (`Redis` → `Client` → `ioredis`) is short, a cycle must end.
        for _ in 0..4 {
            match workspace.canonical(&ty) {
                Some(next) if next != ty => ty = next,
                _ => break,
            }
        }
        ty
    }

    /// The type of `expr` at its place in `function`.
    fn type_of(&self, expr: Node<'t>, function: Option<usize>, depth: usize) -> ReceiverType {
        if depth == 0 {
            return ReceiverType::Unknown;
        }
        let expr = node::strip_wrappers(expr, node::Wrappers::ALL);
        match expr.kind() {
            // The receiver of the Go method (`s` in `func (s *Server) …`): the method's type, which another
            // file of the package may declare.
            "identifier"
                if self.workspace.is_some()
                    && self
                        .types
                        .names
                        .get(&expr.id())
                        .is_some_and(|name| self.is_go_receiver(function, name)) =>
            {
                self.own_type(function)
            }
            "identifier" => match self.types.names.get(&expr.id()) {
                Some(name) => match self.type_of_variable(name, function, expr.start_byte(), depth)
                {
                    // A value imported from another file of the workspace (`import { api } from "./http"`).
                    // A package-level variable of another file of the Go package (`client` with `var client =
                    // &http.Client{…}` beside).
                    ReceiverType::Unknown if self.workspace.is_some() => match self.import(name) {
                        Some(import) => {
                            self.in_workspace(ReceiverType::Resolved(import.path.clone()))
                        }
                        None if self.language == Language::Go => {
                            match self.in_workspace(ReceiverType::Written(name.clone())) {
                                ReceiverType::Written(_) => ReceiverType::Unknown,
                                found => found,
                            }
                        }
                        None => ReceiverType::Unknown,
                    },
                    known => known,
                },
                None => ReceiverType::Unknown,
            },
            "selector_expression" | "field_expression" | "member_expression" => {
                let (_, object_field, property_field) =
                    super::value_flow::member_fields(self.language);
                let Some(field) = expr
                    .child_by_field_name(property_field)
                    .and_then(|p| self.types.names.get(&p.id()))
                else {
                    return ReceiverType::Unknown;
                };
                let of_field = self.type_of_field(field, depth);
                if of_field != ReceiverType::Unknown {
                    return of_field;
                }
                // A field of a type declared in another file (`s.client` with `type Server struct` in the
                // package's other file, `self.http` in an `impl` of a struct another module declares).
                if let (Some(workspace), Some(inner)) = (
                    self.workspace.as_deref(),
                    expr.child_by_field_name(object_field),
                ) {
                    let owner = match inner.kind() {
                        "self" | "this" => self.own_type(function),
                        _ => self.type_of(inner, function, depth.saturating_sub(1)),
                    };
                    let owner = self.in_workspace(owner);
                    if owner != ReceiverType::Unknown {
                        if let Some(found) = workspace.field_type(&owner, field) {
                            return self.in_workspace(found);
                        }
                    }
                }
                // A property of a library's object belongs to the library (`prisma.user.create`,
                // `client.db("app").collection`), when the object is bound and the file declares no such field.
                match expr.child_by_field_name(object_field) {
                    Some(inner) => match self.type_of(inner, function, depth.saturating_sub(1)) {
                        resolved @ ReceiverType::Resolved(_) => resolved,
                        _ => ReceiverType::Unknown,
                    },
                    None => ReceiverType::Unknown,
                }
            }
            _ => self.type_of_value(expr, depth),
        }
    }

    fn is_go_receiver(&self, function: Option<usize>, name: &str) -> bool {
        let Some(function) = function.map(|f| self.outermost_function(f)) else {
            return false;
        };
        self.types
            .go_receivers
            .get(function)
            .and_then(Option::as_deref)
            == Some(name)
    }

    /// The type `self`/`this` stands for in `function`: the `impl` or class its method belongs to.
    fn own_type(&self, function: Option<usize>) -> ReceiverType {
        let Some(function) = function.map(|f| self.outermost_function(f)) else {
            return ReceiverType::Unknown;
        };
        let name = &self.functions[function].name;
        let Some((owner, _)) = name.rsplit_once("::").or_else(|| name.rsplit_once('.')) else {
            return ReceiverType::Unknown;
        };
        let owner = bare_type(owner);
        match self.resolve(owner) {
            Some(path) => ReceiverType::Resolved(path),
            None => ReceiverType::Written(owner.to_string()),
        }
    }

    fn type_of_variable(
        &self,
        name: &str,
        function: Option<usize>,
        offset: usize,
        depth: usize,
    ) -> ReceiverType {
        let mut origin = self.origin_of(function, name, offset);
        // `let client = client.clone();`: the name inside the value is the earlier `client`, not the one the
        // statement declares.
        if let Origin::Value(value) = origin {
            if TextRange::of(value).contains(offset) {
                let declared_at = self
                    .assignments
                    .iter()
                    .find(|a| a.value == Some(value))
                    .map_or(value.start_byte(), |a| a.node.start_byte());
                origin = self.origin_of(function, name, declared_at);
            }
        }
        match origin {
            Origin::Parameter { function, index } => {
                let param = &self.functions[function].params[index];
                match declared(&param.type_text, param.type_path.as_deref()) {
                    ReceiverType::Unknown => self.type_of_callback_param(function, depth),
                    known => known,
                }
            }
            origin => {
                // A `var x T` / `let x: T` declaration says more than the value it starts with.
                let typed = self.types.variables.get(name).and_then(|list| {
                    list.iter()
                        .filter(|d| d.start < offset)
                        .filter(|d| d.function.is_none() || d.function == function)
                        .max_by_key(|d| (d.function.is_some(), d.start))
                });
                if let Some(d) = typed {
                    return declared(&d.type_text, d.type_path.as_deref());
                }
                match origin {
                    Origin::Value(value) => self.type_of_value(value, depth.saturating_sub(1)),
                    _ => ReceiverType::Unknown,
                }
            }
        }
    }

    /// An untyped parameter of a callback passed to a library's call is the library's handle
    /// (`prisma.$transaction(async (tx) => …)`, `knex.transaction(trx => …)`, `pool.get(|conn| …)`).
    fn type_of_callback_param(&self, function: usize, depth: usize) -> ReceiverType {
        let callback = self.functions[function].node;
        let Some(call_node) = callback
            .parent()
            .filter(|p| p.kind() == "arguments")
            .and_then(|arguments| arguments.parent())
        else {
            return ReceiverType::Unknown;
        };
        match self.type_of_value(call_node, depth.saturating_sub(1)) {
            resolved @ ReceiverType::Resolved(_) => resolved,
            _ => ReceiverType::Unknown,
        }
    }

    fn type_of_field(&self, field: &str, depth: usize) -> ReceiverType {
        if let Some(d) = self.types.fields.get(field).and_then(|l| l.first()) {
            return declared(&d.type_text, d.type_path.as_deref());
        }
        // The fields of one file's types share names rarely; the first stored value that says something wins.
        self.types
            .field_values
            .get(field)
            .into_iter()
            .flatten()
            .map(|value| self.type_of_value(*value, depth.saturating_sub(1)))
            .find(|t| *t != ReceiverType::Unknown)
            .unwrap_or(ReceiverType::Unknown)
    }

    /// The type of a value: the constructor or factory that made it, the literal's type, or (for a value
    /// returned by a method) the type of that method's receiver, since a connection, transaction or command
    /// made from a client belongs to the client's library.
    fn type_of_value(&self, value: Node<'t>, depth: usize) -> ReceiverType {
        if depth == 0 {
            return ReceiverType::Unknown;
        }
        let value = node::strip_wrappers(value, node::Wrappers::ALL);
        if let Some(path) = self.types.imported_values.get(&value.id()) {
            return ReceiverType::Resolved(path.clone());
        }
        if let Some(name) = self.types.aliases.get(&value.id()) {
            let function = self.function_at(value.start_byte());
            return self.type_of_variable(
                name,
                function,
                value.start_byte(),
                depth.saturating_sub(1),
            );
        }
        // `const seen = {}`, `const queue = []`: plain objects and arrays, whose methods are local.
        match (self.language.is_typescript(), value.kind()) {
            (true, "object") => return ReceiverType::Written("Object".to_string()),
            (true, "array") => return ReceiverType::Written("Array".to_string()),
            _ => {}
        }
        if let Some(literal) = self.literal_at(value) {
            return declared(&literal.type_text, literal.type_path.as_deref());
        }
        let Some(call) = self.call_at(value) else {
            return ReceiverType::Unknown;
        };
        // A factory or constructor in another file of the workspace.
        if let Some(workspace) = self.workspace.as_deref() {
            let receiver =
                match (call.receiver, call.method.as_deref()) {
                    (Some(receiver), Some(_)) if call.path.is_none() => Some(self.in_workspace(
                        self.type_of(receiver, call.function, depth.saturating_sub(1)),
                    )),
                    _ => None,
                };
            if let Some(made) = workspace.return_type(
                &call.callee_text,
                call.path.as_deref(),
                call.method.as_deref(),
                receiver.as_ref(),
            ) {
                return self.in_workspace(made);
            }
        }
        if let Some(path) = &call.path {
            return ReceiverType::Resolved(path.clone());
        }
        match (call.receiver, call.method.as_deref()) {
            (Some(receiver), Some(_)) => {
                self.type_of(receiver, call.function, depth.saturating_sub(1))
            }
            // `make(map[string]int)`, `new Map()`, `HashMap::new()` without a `use`.
            _ => {
                let callee = call.callee_text.as_str();
                if self.language == Language::Go && callee == "make" {
                    let made = call.args.first().map(|a| a.kind());
                    return match made {
                        Some("map_type") => ReceiverType::Written("map".to_string()),
                        _ => ReceiverType::Unknown,
                    };
                }
                // `db("orders")` with `const db = knex(…)`: a call of a local that holds the library's function.
                if !call.is_new && !callee.contains(['.', ':']) {
                    return self.type_of_variable(
                        callee,
                        call.function,
                        call.node.start_byte(),
                        depth.saturating_sub(1),
                    );
                }
                let head = callee.split("::").next().unwrap_or(callee);
                if callee.contains("::") || call.is_new {
                    ReceiverType::Written(bare_type(head).to_string())
                } else {
                    ReceiverType::Unknown
                }
            }
        }
    }

    /// The call whose node is `n`: calls are recorded in pre-order, so their starts never decrease.
    fn call_at(&self, n: Node<'t>) -> Option<&Call<'t>> {
        self.call_index_at(n).map(|i| &self.calls[i])
    }

    fn call_index_at(&self, n: Node<'t>) -> Option<usize> {
        let first = self
            .calls
            .partition_point(|c| c.node.start_byte() < n.start_byte());
        self.calls[first..]
            .iter()
            .take_while(|c| c.node.start_byte() == n.start_byte())
            .position(|c| c.node == n)
            .map(|offset| first + offset)
    }

    fn literal_at(&self, n: Node<'t>) -> Option<&super::Literal<'t>> {
        let first = self
            .literals
            .partition_point(|l| l.node.start_byte() < n.start_byte());
        self.literals[first..]
            .iter()
            .take_while(|l| l.node.start_byte() == n.start_byte())
            .find(|l| l.node == n)
    }
}

/// A declared type: resolved through the imports when it can be, else as written.
fn declared(type_text: &str, type_path: Option<&str>) -> ReceiverType {
    if let Some(path) = type_path {
        return ReceiverType::Resolved(path.to_string());
    }
    let bare = bare_type(type_text);
    // Go `map[string]int` → `map`; `[]T` and TS `T[]` are slices/arrays.
    let bare = bare.split('[').next().unwrap_or(bare);
    if bare.is_empty() {
        ReceiverType::Unknown
    } else {
        ReceiverType::Written(bare.to_string())
    }
}
