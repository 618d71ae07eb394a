use std::collections::{HashMap, HashSet};

use dsr_core::{declare_rule, Confidence, Finding, Fix, Language, Rule, RuleMeta, TextRange};
use dsr_semantic::models::handlers::Handler;
use dsr_semantic::tree_sitter::Node;
use dsr_semantic::RuleContext;
use dsr_syntax::node;

declare_rule! {
    /// ## What it finds
    /// A request handler that writes to state owned by the process: a package-level map, slice, counter,
    /// `sync.Map` or cache in Go; a `static` (`Mutex<HashMap>`, `DashMap`, an atomic, `OnceLock`/`Lazy`/
    /// `lazy_static!`/`thread_local!` contents) in Rust; a module-level `Map`, `Set`, LRU cache, object, array or
    /// `let` counter in TypeScript/JavaScript. Handlers are Go `func(http.ResponseWriter, *http.Request)`, gin,
    /// echo, chi and fiber handlers; axum, actix-web, warp and tonic handlers; express, fastify, koa, NestJS and
    /// Next.js route handlers (see the handler model). Writes are index assignments, `delete`, `++`/`+=`,
    /// `append`, and the mutating methods of the container (`Store`, `insert`, `fetch_add`, `set`, `push`, …).
    ///
    /// ## Why it fails under partial failure
    /// The moment a second replica runs — a scale-out, a rolling deploy, a restart — each process holds its own
    /// copy. A session stored by one instance is missing on the next request routed to another; a rate limit
    /// counted per process lets N times the traffic through; an ID counter hands out the same ID twice; a cache
    /// invalidated on one instance serves stale data from the others. A restart silently loses all of it. The
    /// code works on a laptop and in a one-replica staging environment, and breaks only in production.
    ///
    /// ## Known false positives
    /// State that is per-process on purpose: a memo of immutable data, a local cache of something with a short
    /// TTL that tolerates staleness, per-instance metrics kept by hand. Reads of module-level maps are not
    /// reported, nor are locals of the handler (a map built and returned per request, a mutex-protected local),
    /// nor fields of a handler struct. Prometheus-style metrics (`Inc`, `Observe`) are not writes. Confidence is
    /// medium: the analysis cannot know how many replicas run.
    ///
    /// ## Example
    /// ```go
    /// package api
    ///
    /// import "net/http"
    ///
    /// var sessions = map[string]string{}
    ///
    /// func login(w http.ResponseWriter, r *http.Request) {
    ///     token := newToken()
    ///     sessions[token] = r.FormValue("user")
    ///     w.Write([]byte(token))
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// package api
    ///
    /// import "net/http"
    ///
    /// func (s *Server) login(w http.ResponseWriter, r *http.Request) {
    ///     token := newToken()
    ///     if err := s.redis.Set(r.Context(), "session:"+token, r.FormValue("user"), time.Hour).Err(); err != nil {
    ///         http.Error(w, "unavailable", http.StatusServiceUnavailable)
    ///         return
    ///     }
    ///     w.Write([]byte(token))
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Advice only: moving state to a shared store (Redis, the database) changes latency and failure modes, and
    /// keeping it per process may be right for a cache; the choice is the team's.
    ///
    /// ## Configuration
    /// None.
    ///
    /// ## References
    /// - The Twelve-Factor App, VI "Processes": "Twelve-factor processes are stateless and share-nothing".
    /// - Kleppmann, *Designing Data-Intensive Applications*, chapter 1 (scalability: scaling out).
    pub struct ProcessLocalStateInHandler {
        code: "STA001",
        slug: "process-local-state-in-handler",
        family: State,
        languages: [Go, Rust, TypeScript],
        severity: Medium,
        impact: Consistency,
        kind: Finding,
        fix: Never,
        scope: Function,
        reads: [Handlers],
        roles: Servers,
    }
}

/// What a module-level variable holds, which decides which writes count.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Holds {
    Map,
    Set,
    List,
    Counter,
    Cache,
    Object,
    /// A Rust static or Go `sync.Map`/struct: any mutating method counts.
    Any,
}

impl Holds {
    fn noun(self, language: Language) -> &'static str {
        match (self, language) {
            (Holds::Map, _) => "map",
            (Holds::Set, _) => "set",
            (Holds::List, Language::Go) => "slice",
            (Holds::List, _) => "array",
            (Holds::Counter, _) => "counter",
            (Holds::Cache, _) => "cache",
            (Holds::Object, _) => "object",
            (Holds::Any, Language::Rust) => "static",
            (Holds::Any, _) => "variable",
        }
    }
}

struct State {
    holds: Holds,
    range: TextRange,
}

impl Rule<RuleContext<'_>> for ProcessLocalStateInHandler {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        let handlers = &ctx.handlers().handlers;
        if handlers.is_empty() {
            return;
        }
        let Some(tree) = ctx.tree else {
            return;
        };
        let root = tree.root_node();
        let state = match ctx.language {
            Language::Go => go_state(ctx, root),
            Language::Rust => rust_state(ctx, root),
            Language::TypeScript | Language::Tsx => ts_state(ctx, root),
            Language::Sql => return,
        };
        if state.is_empty() {
            return;
        }
        let mut seen = HashSet::new();
        for handler in handlers {
            let locals = locals_of(ctx, handler.node);
            let mut reported = HashSet::new();
            for (name, write) in writes(ctx, handler.node, &state) {
                if locals.contains(name.as_str()) || !seen.insert(write.start_byte()) {
                    continue;
                }
                if !reported.insert(name.clone()) {
                    continue;
                }
                if let Some(s) = state.get(&name) {
                    report(ctx, handler, &name, s, write, sink);
                }
            }
        }
    }
}

fn report(
    ctx: &RuleContext<'_>,
    handler: &Handler<'_>,
    name: &str,
    state: &State,
    write: Node<'_>,
    sink: &mut Vec<Finding>,
) {
    let function = &ctx.facts.functions[handler.function];
    let who = match (function.name.as_str(), &handler.route) {
        ("<anonymous>", Some(route)) => format!("the `{route}` handler"),
        ("<anonymous>", None) => "a request handler".to_string(),
        (name, _) => format!("handler `{name}`"),
    };
    let scope = match ctx.language {
        Language::Go => "package-level",
        Language::Rust => "process-wide",
        _ => "module-level",
    };
    let noun = state.holds.noun(ctx.language);
    ctx.finding(&ProcessLocalStateInHandler::META, TextRange::of(write))
        .title(format!(
            "{who} writes the {scope} {noun} `{name}`: each replica keeps its own copy, lost on restart"
        ))
        .confidence(Confidence::Medium)
        .trigger("the service runs more than one replica (scale-out, rolling deploy) or restarts")
        .expected("state that every instance sees, in a shared store (database, Redis), or a cache that tolerates being per instance")
        .actual(format!(
            "`{name}` lives in this process only: requests routed to another instance do not see this write"
        ))
        .evidence(state.range, format!("`{name}` declared here"))
        .fix(Fix::advice(
            "keep request-spanning state in a shared store (Redis, the database); if this is a cache, give it a TTL and make sure a stale or missing entry is harmless",
        ))
        .emit(sink);
}

/// The identifier an expression is rooted at: `m` for `m[k]`, `s.hits`, `&m`, `M.lock().unwrap()`.
fn root_name<'s>(ctx: &RuleContext<'s>, mut n: Node<'_>) -> Option<&'s str> {
    loop {
        let next = match n.kind() {
            "identifier" => return Some(ctx.node_text(n)),
            "index_expression" => n
                .child_by_field_name("operand")
                .or_else(|| n.named_child(0)),
            "selector_expression" => n.child_by_field_name("operand"),
            "field_expression" => n.child_by_field_name("value"),
            "member_expression" | "subscript_expression" => n.child_by_field_name("object"),
            "unary_expression" => n
                .child_by_field_name("operand")
                .or_else(|| n.child_by_field_name("argument")),
            "reference_expression" => n.child_by_field_name("value"),
            "parenthesized_expression"
            | "try_expression"
            | "await_expression"
            | "non_null_expression" => n.named_child(0),
            // Rust `STATE.lock().unwrap()`, TS `cache.get(k)`: the value the call is made on.
            "call_expression" if ctx.language != Language::Go => {
                let function = n.child_by_field_name("function")?;
                match function.kind() {
                    "field_expression" | "member_expression" => Some(function),
                    _ => None,
                }
            }
            _ => return None,
        };
        n = next?;
    }
}

/// Names the handler declares itself (parameters, `:=`, `let`, `const`): a local that shadows module state.
fn locals_of<'s>(ctx: &RuleContext<'s>, handler: Node<'_>) -> HashSet<&'s str> {
    let mut names = HashSet::new();
    for n in node::descendants(handler) {
        let targets: Vec<Node<'_>> = match dsr_syntax::kind(ctx.language, n) {
            "short_var_declaration" | "range_clause" => n
                .child_by_field_name("left")
                .map(|l| node::named_children(l).collect())
                .unwrap_or_default(),
            "var_spec" | "parameter_declaration" | "const_spec" => {
                let mut cursor = n.walk();
                n.children_by_field_name("name", &mut cursor).collect()
            }
            "let_declaration" | "parameter" => n
                .child_by_field_name("pattern")
                .map(|p| {
                    node::descendants(p)
                        .filter(|d| d.kind() == "identifier")
                        .collect()
                })
                .unwrap_or_default(),
            "closure_parameters" => node::descendants(n)
                .filter(|d| d.kind() == "identifier")
                .collect(),
            "variable_declarator" => ts_bound_names(n, "name"),
            "required_parameter" | "optional_parameter" => ts_bound_names(n, "pattern"),
            _ => continue,
        };
        for t in targets {
            if t.kind() == "identifier" || t.kind() == "shorthand_property_identifier_pattern" {
                names.insert(ctx.node_text(t));
            }
        }
    }
    names
}

/// The writes inside `handler` to a name of `state`, with the node to report.
fn writes<'t>(
    ctx: &RuleContext<'_>,
    handler: Node<'t>,
    state: &HashMap<String, State>,
) -> Vec<(String, Node<'t>)> {
    let mut found = Vec::new();
    let mut guards: HashMap<String, String> = HashMap::new();
    for n in node::descendants(handler) {
        let hit = match ctx.language {
            Language::Go => go_write(ctx, n, state),
            Language::Rust => rust_write(ctx, n, state, &mut guards),
            _ => ts_write(ctx, n, state),
        };
        if let Some(name) = hit {
            found.push((name, n));
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------- Go

fn go_state(ctx: &RuleContext<'_>, root: Node<'_>) -> HashMap<String, State> {
    let mut state = HashMap::new();
    // The root's children by a cursor: `named_child(i)` steps from the first child each time, which is
    // quadratic in a file's top-level items.
    let mut cursor = root.walk();
    for declaration in root
        .named_children(&mut cursor)
        .filter(|n| n.kind() == "var_declaration")
    {
        for spec in node::descendants(declaration).filter(|n| n.kind() == "var_spec") {
            let type_node = spec.child_by_field_name("type");
            let value = spec
                .child_by_field_name("value")
                .and_then(|v| v.named_child(0));
            let holds = go_holds(ctx, type_node, value);
            let mut cursor = spec.walk();
            for name in spec.children_by_field_name("name", &mut cursor) {
                let text = ctx.node_text(name);
                if text != "_" {
                    state.insert(
                        text.to_string(),
                        State {
                            holds,
                            range: TextRange::of(spec),
                        },
                    );
                }
            }
        }
    }
    state
}

fn go_holds(ctx: &RuleContext<'_>, type_node: Option<Node<'_>>, value: Option<Node<'_>>) -> Holds {
    let type_text = type_node.map(|t| ctx.node_text(t)).unwrap_or("");
    let value_text = value.map(|v| ctx.node_text(v)).unwrap_or("");
    let is_type = |k: &str| type_node.is_some_and(|t| t.kind() == k);
    if is_type("map_type") || value_text.starts_with("map[") || value_text.starts_with("make(map[")
    {
        Holds::Map
    } else if is_type("slice_type") || value_text.starts_with("[]") {
        Holds::List
    } else if matches!(
        type_text,
        "int" | "int32" | "int64" | "uint" | "uint32" | "uint64"
    ) || type_text.starts_with("atomic.")
    {
        Holds::Counter
    } else if type_text == "sync.Map" {
        Holds::Map
    } else if value.is_some_and(|v| {
        v.kind() == "call_expression" && {
            let callee = v
                .child_by_field_name("function")
                .map(|f| ctx.node_text(f).to_ascii_lowercase())
                .unwrap_or_default();
            callee.contains("cache") || callee.contains("lru") || callee.contains("ristretto")
        }
    }) {
        Holds::Cache
    } else {
        Holds::Object
    }
}

fn go_write(ctx: &RuleContext<'_>, n: Node<'_>, state: &HashMap<String, State>) -> Option<String> {
    let known = |name: &str| state.contains_key(name).then(|| name.to_string());
    match dsr_syntax::kind(ctx.language, n) {
        // `m[k] = v`, `m[k] += 1`, `s.hits[k] = v`, `counter += 1`, `list = append(list, x)`.
        "assignment_statement" => {
            let left = n.child_by_field_name("left")?;
            let operator = n.child(1).map(|o| ctx.node_text(o)).unwrap_or("=");
            for target in node::named_children(left) {
                let Some(name) = root_name(ctx, target) else {
                    continue;
                };
                let Some(holds) = state.get(name).map(|s| s.holds) else {
                    continue;
                };
                let indexed = node::descendants(target).any(|d| d.kind() == "index_expression");
                let counting = operator != "=" && matches!(holds, Holds::Counter | Holds::Object);
                let appending = target.kind() == "identifier"
                    && n.child_by_field_name("right")
                        .is_some_and(|r| ctx.node_text(r).starts_with("append("));
                if indexed || counting || appending {
                    return known(name);
                }
            }
            None
        }
        "inc_statement" | "dec_statement" => {
            let target = n.named_child(0)?;
            let name = root_name(ctx, target)?;
            let holds = state.get(name)?.holds;
            (matches!(holds, Holds::Counter | Holds::Object | Holds::Map)).then(|| name.to_string())
        }
        "call_expression" => {
            let function = n.child_by_field_name("function")?;
            let args: Vec<_> = n
                .child_by_field_name("arguments")
                .map(|a| node::named_children(a).collect())
                .unwrap_or_default();
            let callee = ctx.node_text(function);
            if callee == "delete" {
                return known(root_name(ctx, *args.first()?)?);
            }
            // `atomic.AddInt64(&hits, 1)`.
            if let Some(op) = callee.strip_prefix("atomic.") {
                if op.starts_with("Add") || op.starts_with("Store") || op.starts_with("Swap") {
                    return known(root_name(ctx, *args.first()?)?);
                }
                return None;
            }
            if function.kind() != "selector_expression" {
                return None;
            }
            let operand = function.child_by_field_name("operand")?;
            let method = ctx.node_text(function.child_by_field_name("field")?);
            let name = root_name(ctx, operand)?;
            let holds = state.get(name)?.holds;
            let mutating = match holds {
                Holds::Map => matches!(
                    method,
                    "Store"
                        | "LoadOrStore"
                        | "LoadAndDelete"
                        | "Delete"
                        | "Swap"
                        | "CompareAndSwap"
                        | "CompareAndDelete"
                        | "Clear"
                ),
                Holds::Counter => matches!(method, "Add" | "Store" | "Swap" | "CompareAndSwap"),
                Holds::Cache => matches!(
                    method,
                    "Add"
                        | "Set"
                        | "SetWithTTL"
                        | "Put"
                        | "Remove"
                        | "Delete"
                        | "Store"
                        | "ContainsOrAdd"
                        | "Purge"
                ),
                _ => false,
            };
            mutating.then(|| name.to_string())
        }
        _ => None,
    }
}

// -------------------------------------------------------------------------------------------- Rust

fn rust_state(ctx: &RuleContext<'_>, root: Node<'_>) -> HashMap<String, State> {
    let mut state = HashMap::new();
    for n in node::descendants(root) {
        match dsr_syntax::kind(ctx.language, n) {
            "static_item" => {
                // Only interior mutability or `static mut` can be written.
                let type_text = n
                    .child_by_field_name("type")
                    .map(|t| ctx.node_text(t))
                    .unwrap_or("");
                let is_mut = (0..n.child_count())
                    .filter_map(|i| n.child(i))
                    .any(|c| c.kind() == "mutable_specifier");
                if is_mut || mutable_type(type_text) {
                    if let Some(name) = n.child_by_field_name("name") {
                        state.insert(
                            ctx.node_text(name).to_string(),
                            State {
                                holds: Holds::Any,
                                range: TextRange::of(n),
                            },
                        );
                    }
                }
            }
            "macro_invocation" => {
                let macro_name = n
                    .child_by_field_name("macro")
                    .map(|m| ctx.node_text(m))
                    .unwrap_or("");
                let macro_name = macro_name.rsplit("::").next().unwrap_or(macro_name);
                if !matches!(macro_name, "lazy_static" | "thread_local") {
                    continue;
                }
                let Some(tokens) = node::named_children(n).find(|c| c.kind() == "token_tree")
                else {
                    continue;
                };
                let children: Vec<_> = (0..tokens.child_count())
                    .filter_map(|i| tokens.child(i))
                    .collect();
                for (i, c) in children.iter().enumerate() {
                    if ctx.node_text(*c) != "static" {
                        continue;
                    }
                    let name = children[i + 1..].iter().find(|t| {
                        t.kind() == "identifier" && !matches!(ctx.node_text(**t), "ref" | "mut")
                    });
                    let type_text = children[i + 1..]
                        .iter()
                        .take_while(|t| ctx.node_text(**t) != "=")
                        .map(|t| ctx.node_text(*t))
                        .collect::<String>();
                    if let Some(name) = name {
                        if mutable_type(&type_text) {
                            state.insert(
                                ctx.node_text(*name).to_string(),
                                State {
                                    holds: Holds::Any,
                                    range: TextRange::of(n),
                                },
                            );
                        }
                    }
                }
            }
            _ => {}
        }
    }
    state
}

/// Types whose contents change behind a shared reference.
fn mutable_type(type_text: &str) -> bool {
    [
        "Mutex", "RwLock", "HashMap", "BTreeMap", "HashSet", "DashMap", "DashSet", "Atomic",
        "RefCell", "Cell<", "Vec<", "VecDeque", "LruCache", "Cache<", "SkipMap",
    ]
    .iter()
    .any(|t| type_text.contains(t))
}

const RUST_MUTATING: &[&str] = &[
    "insert",
    "remove",
    "push",
    "push_back",
    "push_front",
    "pop",
    "pop_front",
    "pop_back",
    "entry",
    "clear",
    "extend",
    "retain",
    "drain",
    "truncate",
    "append",
    "fetch_add",
    "fetch_sub",
    "fetch_or",
    "fetch_and",
    "fetch_max",
    "fetch_min",
    "fetch_update",
    "store",
    "swap",
    "compare_exchange",
    "compare_exchange_weak",
    "put",
    "get_or_insert_with",
    "or_insert",
    "or_insert_with",
    "or_default",
];

fn rust_write(
    ctx: &RuleContext<'_>,
    n: Node<'_>,
    state: &HashMap<String, State>,
    guards: &mut HashMap<String, String>,
) -> Option<String> {
    let resolve = |name: &str, guards: &HashMap<String, String>| {
        if state.contains_key(name) {
            Some(name.to_string())
        } else {
            guards.get(name).cloned()
        }
    };
    match dsr_syntax::kind(ctx.language, n) {
        // `let mut sessions = SESSIONS.lock().unwrap();`: later writes through `sessions` are writes to the static.
        "let_declaration" => {
            let pattern = n.child_by_field_name("pattern")?;
            let value = n.child_by_field_name("value")?;
            let root = root_name(ctx, value)?;
            let owner = resolve(root, guards)?;
            if value.kind() == "identifier" || !ctx.node_text(value).contains('(') {
                return None;
            }
            let local = node::descendants(pattern).find(|d| d.kind() == "identifier")?;
            guards.insert(ctx.node_text(local).to_string(), owner);
            None
        }
        "call_expression" => {
            let function = n.child_by_field_name("function")?;
            if function.kind() != "field_expression" {
                return None;
            }
            let method = ctx.node_text(function.child_by_field_name("field")?);
            if !RUST_MUTATING.contains(&method) {
                return None;
            }
            let root = root_name(ctx, function.child_by_field_name("value")?)?;
            resolve(root, guards)
        }
        "assignment_expression" | "compound_assignment_expr" => {
            let left = n.child_by_field_name("left")?;
            let root = root_name(ctx, left)?;
            let owner = resolve(root, guards)?;
            // Assigning a guard local itself (`g = …`) rebinds it; through `*g`, `g[k]`, `g.f` writes the static.
            (left.kind() != "identifier" || state.contains_key(root)).then_some(owner)
        }
        _ => None,
    }
}

// -------------------------------------------------------------------------------------- TypeScript

fn ts_state(ctx: &RuleContext<'_>, root: Node<'_>) -> HashMap<String, State> {
    let mut state = HashMap::new();
    // By a cursor, as in `go_state`.
    let mut cursor = root.walk();
    for top in root.named_children(&mut cursor) {
        let declaration = if top.kind() == "export_statement" {
            match top.child_by_field_name("declaration") {
                Some(d) => d,
                None => continue,
            }
        } else {
            top
        };
        if !matches!(
            declaration.kind(),
            "lexical_declaration" | "variable_declaration"
        ) {
            continue;
        }
        let is_const = declaration
            .child(0)
            .is_some_and(|c| ctx.node_text(c) == "const");
        for declarator in
            node::named_children(declaration).filter(|d| d.kind() == "variable_declarator")
        {
            let Some(name) = declarator
                .child_by_field_name("name")
                .filter(|n| n.kind() == "identifier")
            else {
                continue;
            };
            let Some(value) = declarator.child_by_field_name("value") else {
                continue;
            };
            let holds = match value.kind() {
                "new_expression" => {
                    let constructor = value
                        .child_by_field_name("constructor")
                        .map(|c| ctx.node_text(c))
                        .unwrap_or("");
                    match constructor {
                        "Map" | "WeakMap" => Holds::Map,
                        "Set" | "WeakSet" => Holds::Set,
                        "LRUCache" | "LRU" | "QuickLRU" | "NodeCache" | "TTLCache" | "Keyv" => {
                            Holds::Cache
                        }
                        _ => continue,
                    }
                }
                "object" => Holds::Object,
                "array" => Holds::List,
                "number" if !is_const => Holds::Counter,
                _ => continue,
            };
            state.insert(
                ctx.node_text(name).to_string(),
                State {
                    holds,
                    range: TextRange::of(declarator),
                },
            );
        }
    }
    state
}

fn ts_write(ctx: &RuleContext<'_>, n: Node<'_>, state: &HashMap<String, State>) -> Option<String> {
    match dsr_syntax::kind(ctx.language, n) {
        "call_expression" => {
            let function = n.child_by_field_name("function")?;
            if function.kind() != "member_expression" {
                return None;
            }
            let object = function.child_by_field_name("object")?;
            let method = ctx.node_text(function.child_by_field_name("property")?);
            let name = root_name(ctx, object)?;
            let holds = state.get(name)?.holds;
            // Through `.get(k)`: an element of the map is mutated (`cache.get(k).push(v)`).
            let direct = object.kind() == "identifier";
            let mutating = match holds {
                Holds::Map | Holds::Cache if direct => matches!(method, "set" | "delete" | "clear"),
                Holds::Set if direct => matches!(method, "add" | "delete" | "clear"),
                Holds::List if direct => {
                    matches!(method, "push" | "unshift" | "splice" | "pop" | "shift")
                }
                Holds::Map | Holds::Cache | Holds::Object | Holds::List => {
                    matches!(method, "push" | "unshift" | "splice" | "set" | "add")
                }
                _ => false,
            };
            mutating.then(|| name.to_string())
        }
        "assignment_expression" | "augmented_assignment_expression" => {
            let left = n.child_by_field_name("left")?;
            let name = root_name(ctx, left)?;
            let holds = state.get(name)?.holds;
            let ok = match left.kind() {
                "identifier" => holds == Holds::Counter,
                "member_expression" | "subscript_expression" => {
                    matches!(holds, Holds::Object | Holds::List)
                }
                _ => false,
            };
            ok.then(|| name.to_string())
        }
        "update_expression" => {
            let argument = n
                .child_by_field_name("argument")
                .or_else(|| n.named_child(0))?;
            let name = root_name(ctx, argument)?;
            let holds = state.get(name)?.holds;
            matches!(holds, Holds::Counter | Holds::Object).then(|| name.to_string())
        }
        "unary_expression" => {
            let operator = n
                .child_by_field_name("operator")
                .map(|o| ctx.node_text(o))?;
            if operator != "delete" {
                return None;
            }
            let name = root_name(ctx, n.child_by_field_name("argument")?)?;
            (state.get(name)?.holds == Holds::Object).then(|| name.to_string())
        }
        _ => None,
    }
}

/// The names a TypeScript declarator or parameter binds through its `field` pattern (`x`, `{ a, b }`, `[c]`).
fn ts_bound_names<'t>(n: Node<'t>, field: &str) -> Vec<Node<'t>> {
    n.child_by_field_name(field)
        .map(|pattern| {
            node::descendants(pattern)
                .filter(|d| {
                    matches!(
                        d.kind(),
                        "identifier" | "shorthand_property_identifier_pattern"
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
