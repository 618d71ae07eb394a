//! The store access model: every call of a file that reads or writes a shared store — Redis (through the
//! command decoder in [`crate::store_commands`]), SQL databases (statements parsed by sqlparser from string literals,
//! concatenations and format strings), etcd and object stores (S3) — with what it touches (a normalised key
//! expression, or a table and the columns of its `WHERE`), how (read, exists-check, write, delete), and whether
//! the store makes it atomic by itself: one command that reads and writes on the server (`INCR`, `SET … NX`,
//! `UPDATE … SET n = n - 1`, an upsert), a write conditional on the state it replaces (a compare column in the
//! `WHERE`, a conditional object put, an etcd transaction with a compare), or a scope that isolates several
//! commands (Redis WATCH/MULTI and Lua scripts; SQL transactions, with their isolation level).
//!
//! Which library calls are store reads and writes is knowledge-base data (`kb/*-store.toml` and the Redis
//! entries of `kb/<language>.toml`): an entry with a `command` and kind `cache` is Redis, kind `db` etcd, kind
//! `object-store` an object store; a `db` entry without a command runs SQL text.

use dsr_syntax::node::{self, Wrappers};
use dsr_syntax::Language;
use sqlparser::ast::{Expr, SetExpr, Statement, TableFactor};
use sqlparser::tokenizer::{Token, Tokenizer};
use tree_sitter::Node;

use super::control_flow::contains;
use super::messaging::transaction::{Transaction, TxStyle};
use super::messaging::writes::constant_value;
use crate::facts::{compact, Call, FileFacts};
use crate::kb::KbMatch;
use crate::store_commands::{Options, StoreCommands};
use dsr_core::finding::code_span;
use dsr_core::kb::{Api, ApiKind, ApiRole, KnowledgeBase};

/// Stands for a part of an SQL text the code computes (`%s`, `${x}`, `" + x + "`): an identifier, so that the
/// text still parses whether the part is a value or a name.
pub const SQL_HOLE: &str = "dsr_hole";

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Store {
    Redis,
    Sql,
    Etcd,
    ObjectStore,
}

impl Store {
    pub fn name(self) -> &'static str {
        match self {
            Store::Redis => "Redis",
            Store::Sql => "SQL",
            Store::Etcd => "etcd",
            Store::ObjectStore => "object store",
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    /// Asks only whether the key or object exists (`EXISTS`, `HeadObject`).
    Exists,
    Write,
    Delete,
}

impl Access {
    pub fn is_read(self) -> bool {
        matches!(self, Access::Read | Access::Exists)
    }
}

/// What an access touches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A key (Redis key, with `#field` for hash fields; etcd key; object key), normalised: whitespace removed,
    /// borrows, clones and `aws.String(…)` wrappers dropped, a local declared once replaced by its value.
    Key(String),
    /// SQL rows: the table (lower case, unqualified) and the columns its `WHERE` mentions (sorted).
    Rows { table: String, columns: Vec<String> },
}

impl Target {
    pub fn describe(&self) -> String {
        match self {
            Target::Key(key) => code_span(key),
            Target::Rows { table, columns } if columns.is_empty() => code_span(table),
            Target::Rows { table, columns } => format!("`{table}` by `{}`", columns.join("`, `")),
        }
    }
}

/// Why an access is atomic.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Atomic {
    /// One command reads and writes on the server: `INCR`, `SETNX`, `SET … NX`, `GETSET`, an upsert,
    /// `UPDATE … SET n = n - 1`.
    Command,
    /// The write applies only if the state is still what was read: a column both set and compared in the
    /// `WHERE` (a version, a status), `IfMatch`/`IfNoneMatch`, an etcd transaction with a compare.
    Conditional,
}

#[derive(Clone, Debug)]
pub struct StoreAccess<'t> {
    /// Index of the call in [`FileFacts::calls`].
    pub call: usize,
    pub node: Node<'t>,
    pub function: Option<usize>,
    pub store: Store,
    pub access: Access,
    pub target: Target,
    /// The command or statement as messages name it: `GET`, `SELECT`, `UPDATE`, `PutObject`.
    pub operation: String,
    pub atomic: Option<Atomic>,
    /// The key argument (not part of the value written).
    pub key: Option<Node<'t>>,
    /// A write that sets an expiry (`SET … EX`, `Set(ctx, k, v, time.Minute)`): typical of a cache fill.
    pub expires: bool,
    /// SQL: the read locks the rows it returns (`FOR UPDATE`, `FOR NO KEY UPDATE`).
    pub locks_rows: bool,
    /// SQL: the transaction of the file the call runs in (index into the transactions given to `compute`).
    pub transaction: Option<usize>,
    /// SQL: that transaction runs at `SERIALIZABLE` isolation (its begin call or `BEGIN` text says so).
    pub serializable: bool,
}

/// The store accesses of a file.
#[derive(Clone, Debug, Default)]
pub struct StoreAccesses<'t> {
    pub accesses: Vec<StoreAccess<'t>>,
    /// Calls that make the store commands around them atomic: Redis `WATCH`/`MULTI`, transaction pipelines,
    /// Lua scripts (indexes into [`FileFacts::calls`]).
    pub atomic_scopes: Vec<usize>,
}

impl<'t> StoreAccesses<'t> {
    pub fn compute(
        facts: &FileFacts<'t>,
        source: &str,
        kb: &KnowledgeBase,
        transactions: &[Transaction<'t>],
        commands: &StoreCommands<'t>,
    ) -> Self {
        let mut model = StoreAccesses::default();
        if facts.language == Language::Sql {
            return model;
        }
        for (index, call) in facts.calls.iter().enumerate() {
            if kb.role_of(facts, call, &[ApiRole::Atomic]).is_some() {
                model.atomic_scopes.push(index);
                continue;
            }
            // A receiver declared with a library's type picks that library's entries (`cli *clientv3.Client` in
            // a file that imports go-redis too): `candidates` lists only those then.
            let candidates: Vec<&Api> = kb.candidates(facts, call).collect();
            let mut found = None;
            for api in candidates {
                found = match (api.kind, api.command.is_some()) {
                    (ApiKind::Cache, _) => match redis_access(facts, kb, source, commands, index) {
                        Some(Redis::Scope) => {
                            model.atomic_scopes.push(index);
                            None
                        }
                        Some(Redis::Access(access)) => Some(access),
                        None => None,
                    },
                    (ApiKind::Db, true) => etcd_access(facts, kb, source, index, api),
                    (ApiKind::ObjectStore, true) => object_access(facts, source, index, api),
                    (ApiKind::Db, false) if api.role.is_none() => {
                        sql_access(facts, source, index, transactions)
                    }
                    _ => None,
                };
                if found.is_some() || api.kind == ApiKind::Cache {
                    break;
                }
            }
            model.accesses.extend(found);
        }
        model
    }

    /// Whether every call of `function` in this file is made by a function that holds a database advisory lock
    /// (`pg_advisory_lock`, `pg_try_advisory_lock`, MySQL `GET_LOCK`), taken in its own SQL or through a helper of
    /// the file it calls: one runner at a time reaches `function`, so its read-then-write cannot race itself.
    /// `false` when nothing in the file calls it.
    pub fn serialised_by_callers(facts: &FileFacts<'_>, function: usize) -> bool {
        let function = facts.outermost_function(function);
        let name = facts.functions[function].name.as_str();
        if name.is_empty() {
            return false;
        }
        // The strings and calls of a function are a binary search away (both are in document order).
        let own_lock = |f: usize| {
            let range = facts.functions[f].range();
            let first = facts
                .strings
                .partition_point(|s| s.range.start < range.start);
            facts.strings[first..]
                .iter()
                .take_while(|s| s.range.start < range.end)
                .any(|s| {
                    s.function.map(|g| facts.outermost_function(g)) == Some(f) && {
                        let text = s.value.to_ascii_lowercase();
                        ADVISORY_LOCKS.iter().any(|lock| text.contains(lock))
                    }
                })
        };
        let named = |callee: &str| {
            let last = dsr_core::kb::last_segment(callee);
            facts
                .functions_named(last)
                .find(|&f| !last.is_empty() && facts.functions[f].name == last)
        };
        let holds_lock = |f: usize| {
            own_lock(f)
                || facts.calls_in(f).any(|c| {
                    c.function.map(|g| facts.outermost_function(g)) == Some(f)
                        && named(&c.callee_text)
                            .is_some_and(|helper| helper != f && own_lock(helper))
                })
        };
        let mut sites = facts
            .calls_named(name)
            .filter(|c| dsr_core::kb::last_segment(&c.callee_text) == name)
            .filter_map(|c| c.function.map(|f| facts.outermost_function(f)))
            .filter(|caller| *caller != function)
            .peekable();
        sites.peek().is_some() && sites.all(holds_lock)
    }

    /// An atomic scope (WATCH/MULTI, Lua) in the outermost function around `function`, if any.
    pub fn atomic_scope_in(&self, facts: &FileFacts<'_>, function: Option<usize>) -> Option<usize> {
        let outer = function.map(|f| facts.outermost_function(f));
        self.atomic_scopes.iter().copied().find(|scope| {
            facts.calls[*scope]
                .function
                .map(|f| facts.outermost_function(f))
                == outer
        })
    }
}

/// SQL functions that take a session- or transaction-wide advisory lock, lower case.
const ADVISORY_LOCKS: &[&str] = &[
    "pg_advisory_lock",
    "pg_try_advisory_lock",
    "pg_advisory_xact_lock",
    "pg_try_advisory_xact_lock",
    "get_lock(",
];

enum Redis<'t> {
    Scope,
    Access(StoreAccess<'t>),
}

fn redis_access<'t>(
    facts: &FileFacts<'t>,
    kb: &KnowledgeBase,
    source: &str,
    commands: &StoreCommands<'t>,
    index: usize,
) -> Option<Redis<'t>> {
    if on_local_collection(facts, source, &facts.calls[index]) {
        return None;
    }
    let command = commands.at(index)?;
    let name = command.name.as_str();
    let (access, mut atomic) = match name {
        "WATCH" | "MULTI" | "EXEC" | "EVAL" | "EVALSHA" | "EVAL_RO" | "EVALSHA_RO" | "FCALL" => {
            return Some(Redis::Scope)
        }
        "GET" | "HGET" | "HGETALL" | "HMGET" | "MGET" | "LRANGE" | "SMEMBERS" | "ZSCORE"
        | "ZRANGE" | "GETRANGE" | "STRLEN" | "LLEN" | "SCARD" | "HLEN" => (Access::Read, None),
        "EXISTS" | "HEXISTS" | "SISMEMBER" => (Access::Exists, None),
        "SET" | "SETEX" | "PSETEX" | "HSET" | "HMSET" | "MSET" | "SETRANGE" => {
            (Access::Write, None)
        }
        "INCR" | "INCRBY" | "DECR" | "DECRBY" | "INCRBYFLOAT" | "HINCRBY" | "HINCRBYFLOAT"
        | "SETNX" | "HSETNX" | "MSETNX" | "GETSET" | "GETEX" => {
            (Access::Write, Some(Atomic::Command))
        }
        "DEL" | "UNLINK" | "HDEL" => (Access::Delete, None),
        "GETDEL" => (Access::Delete, Some(Atomic::Command)),
        _ => return None,
    };
    let call = &facts.calls[index];
    let mut expires = matches!(name, "SETEX" | "PSETEX");
    match &command.options {
        Options::Tokens { tokens, .. } => {
            for token in tokens {
                match token.text.as_deref() {
                    Some("NX" | "XX" | "GET") if name == "SET" => atomic = Some(Atomic::Command),
                    Some("EX" | "PX" | "EXAT" | "PXAT" | "KEEPTTL") => expires = true,
                    _ => {}
                }
            }
        }
        Options::Typed {
            expiration,
            options,
        } => {
            if expiration.is_some_and(|e| {
                let text = node::text(e, source).trim();
                !matches!(text, "0" | "None" | "undefined")
            }) {
                expires = true;
            }
            if let Some(options) = options {
                for word in option_words(*options, source, facts.language) {
                    match word.as_str() {
                        "NX" | "XX" | "GET" => atomic = Some(Atomic::Command),
                        "EX" | "PX" | "EXAT" | "PXAT" | "TTL" | "EXPIREAT" | "KEEPTTL" => {
                            expires = true
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    let key = command.key?;
    let api = kb
        .candidates(facts, call)
        .find(|a| a.command.is_some() && a.kind == ApiKind::Cache);
    let field = api
        .and_then(|a| a.param("field"))
        .and_then(|i| call.args.get(i).copied());
    let mut key_text = normalize_key(facts, source, call.function, key, 0);
    if let Some(field) = field {
        key_text = format!(
            "{key_text}#{}",
            normalize_key(facts, source, call.function, field, 0)
        );
    }
    Some(Redis::Access(StoreAccess {
        call: index,
        node: call.node,
        function: call.function,
        store: Store::Redis,
        access,
        target: Target::Key(key_text),
        operation: name.to_string(),
        atomic,
        key: Some(key),
        expires,
        locks_rows: false,
        transaction: None,
        serializable: false,
    }))
}

/// Whether a method call is made on an in-process collection (`new Map()`, a field or local typed `Map<…>`,
/// `HashMap`), whose `get`/`set` share their names with Redis clients' methods.
fn on_local_collection(facts: &FileFacts<'_>, source: &str, call: &Call<'_>) -> bool {
    let Some(receiver) = call.receiver else {
        return false;
    };
    let collection = |declaration: Node<'_>| {
        let text = compact(node::text(declaration, source));
        [
            "newMap",
            "newWeakMap",
            "newSet",
            "Map<",
            "HashMap",
            "BTreeMap",
            "LRUCache",
            "LruCache",
        ]
        .iter()
        .any(|c| text.contains(c))
    };
    match receiver.kind() {
        "identifier" => {
            let name = node::text(receiver, source);
            let binding = super::messaging::syntax::find_binding(
                facts,
                name,
                call.node,
                call.function,
                source,
            );
            match binding {
                Some(b) => collection(b.node) || b.value.is_some_and(collection),
                // The top-level declarations of the name from their index, not a scan of every top-level
                // assignment per call.
                None => facts
                    .top_level_assignments_to(name)
                    .iter()
                    .map(|&i| &facts.assignments[i])
                    .find(|a| a.declares)
                    .is_some_and(|a| collection(a.node)),
            }
        }
        // `this.cache.get(k)`: the class declares the field.
        "member_expression" => {
            let object = receiver.child_by_field_name("object");
            let property = receiver.child_by_field_name("property");
            let (Some(object), Some(property)) = (object, property) else {
                return false;
            };
            if object.kind() != "this" {
                return false;
            }
            let field = node::text(property, source);
            let Some(class) = facts
                .ancestors(call.node)
                .find(|a| a.kind() == "class_body")
            else {
                return false;
            };
            node::named_children(class)
                .filter(|m| m.kind() == "public_field_definition")
                .filter(|m| {
                    m.child_by_field_name("name")
                        .is_some_and(|n| node::text(n, source) == field)
                })
                .any(|m| {
                    collection(m)
                        || m.child_by_field_name("type")
                            .is_some_and(|t| node::text(t, source).contains("Map"))
                })
        }
        _ => false,
    }
}

/// The words an options value spells, upper case: field names and string/identifier values of go-redis
/// `SetArgs{Mode: "NX", TTL: …}`, node-redis `{ NX: true, EX: 60 }`, redis-rs `ExistenceCheck::NX`.
fn option_words(options: Node<'_>, source: &str, language: Language) -> Vec<String> {
    node::descendants(options)
        .filter_map(|n| {
            if node::is_string_literal(n, language) {
                return node::string_literal_value(n, source, language);
            }
            matches!(
                n.kind(),
                "identifier"
                    | "field_identifier"
                    | "property_identifier"
                    | "shorthand_property_identifier"
            )
            .then(|| node::text(n, source).to_string())
        })
        .map(|w| w.to_ascii_uppercase())
        .collect()
}

fn etcd_access<'t>(
    facts: &FileFacts<'t>,
    kb: &KnowledgeBase,
    source: &str,
    index: usize,
    api: &Api,
) -> Option<StoreAccess<'t>> {
    let call = &facts.calls[index];
    let command = api.command.as_deref()?.to_ascii_uppercase();
    let access = match command.as_str() {
        "GET" => Access::Read,
        "PUT" => Access::Write,
        "DELETE" => Access::Delete,
        _ => return None,
    };
    let key = api.param("key").and_then(|i| call.args.get(i).copied())?;
    let atomic = (access != Access::Read && in_compared_transaction(facts, kb, call))
        .then_some(Atomic::Conditional);
    Some(StoreAccess {
        call: index,
        node: call.node,
        function: call.function,
        store: Store::Etcd,
        access,
        target: Target::Key(normalize_key(facts, source, call.function, key, 0)),
        operation: command,
        atomic,
        key: Some(key),
        expires: false,
        locks_rows: false,
        transaction: None,
        serializable: false,
    })
}

/// Whether an etcd operation is an argument of a transaction whose chain carries a compare with arguments:
/// `Txn(ctx).If(cmp).Then(OpPut(…))`, `Txn::new().when([cmp]).and_then([TxnOp::put(…)])`,
/// `client.if(…).then(client.put(k).value(v))`.
fn in_compared_transaction(facts: &FileFacts<'_>, kb: &KnowledgeBase, call: &Call<'_>) -> bool {
    // The calls around this one: its ancestors that are calls (not a scan of every call of the file).
    let chain_calls: Vec<&Call<'_>> = facts
        .ancestors(call.node)
        .filter_map(|a| facts.call_index(a))
        .map(|index| &facts.calls[index])
        .collect();
    chain_calls.iter().any(|outer| {
        // The operation sits in the outer call's arguments; the compare is a link of the same chain.
        let in_args = outer.args.iter().any(|a| contains(*a, call.node));
        in_args
            && facts.calls_within(outer.range()).any(|c| {
                !c.args.is_empty()
                    && !contains(c.node, call.node)
                    && kb.role_of(facts, c, &[ApiRole::Compare]).is_some()
                    && !c.args.iter().all(|a| is_empty_list(*a))
            })
    })
}

fn is_empty_list(n: Node<'_>) -> bool {
    matches!(n.kind(), "array" | "array_expression") && n.named_child_count() == 0
}

fn object_access<'t>(
    facts: &FileFacts<'t>,
    source: &str,
    index: usize,
    api: &Api,
) -> Option<StoreAccess<'t>> {
    let call = &facts.calls[index];
    let command = api.command.clone()?;
    let access = match command.as_str() {
        "GetObject" => Access::Read,
        "HeadObject" => Access::Exists,
        "PutObject" => Access::Write,
        "DeleteObject" => Access::Delete,
        _ => return None,
    };
    let key_field = api.key_field.as_deref()?;
    let mut key: Option<Node<'t>> = None;
    let mut conditional = false;
    // Go and TS: fields of the input literal; Rust: links of the builder chain.
    let input = api
        .param("options")
        .and_then(|i| call.args.get(i).copied())
        .map(strip_reference)
        .and_then(|n| {
            if n.kind() == "identifier" {
                constant_value(facts, call.function, node::text(n, source), n.start_byte())
                    .map(strip_reference)
            } else {
                Some(n)
            }
        });
    if let Some(literal) = input.and_then(|n| facts.literal_of(n)) {
        if let Some(field) = literal.field(key_field) {
            key = Some(field.value.unwrap_or(field.node));
        }
        conditional = api.conditions.iter().any(|c| literal.field(c).is_some());
    }
    for link in facts.chained_calls(index) {
        let link = &facts.calls[link];
        match link.method.as_deref() {
            Some(m) if m == key_field => key = link.args.first().copied().or(key),
            Some(m) if api.conditions.iter().any(|c| c == m) => conditional = true,
            _ => {}
        }
    }
    let key = key?;
    Some(StoreAccess {
        call: index,
        node: call.node,
        function: call.function,
        store: Store::ObjectStore,
        access,
        target: Target::Key(normalize_key(facts, source, call.function, key, 0)),
        operation: command,
        atomic: (access == Access::Write && conditional).then_some(Atomic::Conditional),
        key: Some(key),
        expires: false,
        locks_rows: false,
        transaction: None,
        serializable: false,
    })
}

/// `&x`, `&mut x`, `*x`, `(x)` → `x`: an argument as the value it points to.
fn strip_reference(n: Node<'_>) -> Node<'_> {
    node::strip_wrappers(n, Wrappers::PARENS | Wrappers::BORROW | Wrappers::ADDRESS)
}

/// A key expression as rules compare it.
fn normalize_key(
    facts: &FileFacts<'_>,
    source: &str,
    function: Option<usize>,
    key: Node<'_>,
    depth: usize,
) -> String {
    let key = unwrap_key(key, source);
    if matches!(key.kind(), "identifier" | "shorthand_property_identifier") && depth < 3 {
        let name = node::text(key, source);
        // Only a local bound once and never reassigned stands for its value everywhere in the function.
        let bindings: Vec<_> = facts
            .assignments
            .iter()
            .filter(|a| a.target == name && a.function == function && function.is_some())
            .collect();
        if let [only] = bindings.as_slice() {
            if let (true, Some(value)) = (only.declares, only.value) {
                return normalize_key(facts, source, function, value, depth + 1);
            }
        }
    }
    node::string_literal_value(key, source, facts.language)
        .unwrap_or_else(|| compact(node::text(key, source)))
}

/// `&key`, `&mut key`, `*key`, `key.clone()`, `key.as_str()`, `key.to_string()`, `aws.String(key)`,
/// `String(key)` → `key`.
fn unwrap_key<'t>(mut n: Node<'t>, source: &str) -> Node<'t> {
    for _ in 0..8 {
        let next = match n.kind() {
            "reference_expression" | "parenthesized_expression" | "literal_element" => {
                node::named_children(n).last()
            }
            "unary_expression" if node::text(n, source).starts_with(['&', '*']) => {
                node::named_children(n).last()
            }
            "call_expression" => {
                let callee = n.child_by_field_name("function");
                let args: Vec<_> = n
                    .child_by_field_name("arguments")
                    .map(|a| node::named_children(a).collect())
                    .unwrap_or_default();
                let callee_text = callee.map(|c| node::text(c, source)).unwrap_or("");
                let method = callee
                    .and_then(|c| {
                        c.child_by_field_name("field")
                            .or(c.child_by_field_name("property"))
                    })
                    .map(|f| node::text(f, source));
                if args.is_empty()
                    && matches!(
                        method,
                        Some("clone" | "as_str" | "to_string" | "to_owned" | "as_ref" | "into")
                    )
                {
                    callee.and_then(|c| {
                        c.child_by_field_name("value")
                            .or(c.child_by_field_name("object"))
                    })
                } else if args.len() == 1 && matches!(callee_text, "aws.String" | "String" | "Some")
                {
                    args.first().copied()
                } else {
                    None
                }
            }
            _ => None,
        };
        match next {
            Some(inner) => n = inner,
            None => break,
        }
    }
    n
}

fn sql_access<'t>(
    facts: &FileFacts<'t>,
    source: &str,
    index: usize,
    transactions: &[Transaction<'t>],
) -> Option<StoreAccess<'t>> {
    let call = &facts.calls[index];
    let (text, _) = call_sql(facts, source, call)?;
    let statement = parse_sql(&text)?;
    let (access, table, columns, atomic, locks_rows, operation) = classify(&statement)?;
    // A table the code computes could be any table.
    if table == SQL_HOLE {
        return None;
    }
    let transaction = transactions
        .iter()
        .position(|t| t.covers(facts, call, source));
    let serializable = transaction.is_some_and(|t| {
        let tx = &transactions[t];
        let begin = &facts.calls[tx.begin];
        let text = if tx.style == TxStyle::SqlText {
            call_sql(facts, source, begin).map(|(t, _)| t)
        } else {
            Some(node::text(begin.node, source).to_string())
        };
        text.is_some_and(|t| t.to_ascii_lowercase().contains("serializable"))
    });
    Some(StoreAccess {
        call: index,
        node: call.node,
        function: call.function,
        store: Store::Sql,
        access,
        target: Target::Rows { table, columns },
        operation,
        atomic,
        key: None,
        expires: false,
        locks_rows,
        transaction,
        serializable,
    })
}

/// The SQL a database call runs, from its first three arguments (after a context and, for sqlx's
/// `GetContext(ctx, &dest, q)`, a destination), with whether parts of it are computed ([`SQL_HOLE`]s).
pub fn call_sql(facts: &FileFacts<'_>, source: &str, call: &Call<'_>) -> Option<(String, bool)> {
    if call.node.kind() == "macro_invocation" {
        let first =
            node::descendants(call.node).find(|n| node::is_string_literal(*n, facts.language))?;
        return sql_expression(facts, source, call.function, first, 0)
            .filter(|(t, _)| looks_like_sql(t));
    }
    call.args
        .iter()
        .take(3)
        .find_map(|arg| sql_expression(facts, source, call.function, *arg, 0))
        .filter(|(t, _)| looks_like_sql(t))
}

/// Whether a text starts like a statement the model reads.
pub fn looks_like_sql(text: &str) -> bool {
    let first = text
        .trim_start_matches(|c: char| c.is_whitespace() || c == '(')
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    matches!(
        first.as_str(),
        "SELECT"
            | "UPDATE"
            | "DELETE"
            | "INSERT"
            | "WITH"
            | "REPLACE"
            | "UPSERT"
            | "BEGIN"
            | "START"
    )
}

/// The SQL text an expression builds: a string literal, a TS template (substitutions become holes), a `+`
/// concatenation, Go `fmt.Sprintf`, Rust `format!`, or a local/constant bound to one of those.
pub fn sql_expression(
    facts: &FileFacts<'_>,
    source: &str,
    function: Option<usize>,
    n: Node<'_>,
    depth: usize,
) -> Option<(String, bool)> {
    if depth > 4 {
        return None;
    }
    let language = facts.language;
    let n = strip_reference(n);
    if let Some(value) = node::string_literal_value(n, source, language) {
        return Some((value, false));
    }
    match n.kind() {
        "template_string" => {
            let mut text = String::new();
            let mut at = n.start_byte() + 1;
            for part in node::named_children(n).filter(|c| c.kind() == "template_substitution") {
                text.push_str(source.get(at..part.start_byte())?);
                text.push_str(SQL_HOLE);
                at = part.end_byte();
            }
            text.push_str(source.get(at..n.end_byte().saturating_sub(1))?);
            Some((text, true))
        }
        "binary_expression" if language != Language::Rust => {
            let operator = n.child_by_field_name("operator")?;
            if node::text(operator, source) != "+" {
                return None;
            }
            let part = |side: &str| {
                let side = n.child_by_field_name(side)?;
                Some(
                    sql_expression(facts, source, function, side, depth + 1)
                        .unwrap_or_else(|| (SQL_HOLE.to_string(), true)),
                )
            };
            let (left, l_holes) = part("left")?;
            let (right, r_holes) = part("right")?;
            // A concatenation of two computed parts says nothing about SQL.
            if l_holes && left == SQL_HOLE && r_holes && right == SQL_HOLE {
                return None;
            }
            Some((left + &right, l_holes || r_holes))
        }
        "call_expression" if language == Language::Go => {
            let callee = n.child_by_field_name("function")?;
            let written = compact(node::text(callee, source));
            if facts.resolve(&written).as_deref() != Some("fmt.Sprintf") {
                return None;
            }
            let format = n
                .child_by_field_name("arguments")
                .and_then(|a| node::named_children(a).next())?;
            let (text, _) = sql_expression(facts, source, function, format, depth + 1)?;
            Some((fill_printf(&text), true))
        }
        "macro_invocation" if language == Language::Rust => {
            let name = n
                .child_by_field_name("macro")
                .map(|m| node::text(m, source));
            if !matches!(name, Some("format" | "std::format")) {
                return None;
            }
            let literal = node::descendants(n).find(|d| node::is_string_literal(*d, language))?;
            let text = node::string_literal_value(literal, source, language)?;
            Some((fill_braces(&text), true))
        }
        "identifier" => {
            let value = constant_value(facts, function, node::text(n, source), n.start_byte())?;
            if value == n {
                return None;
            }
            sql_expression(facts, source, function, value, depth + 1)
        }
        _ => None,
    }
}

/// `%s`, `%d`, `%v`, `%[1]s`, `%-5d` → a hole; `%%` → `%`.
pub fn fill_printf(format: &str) -> String {
    let mut out = String::with_capacity(format.len());
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        for next in chars.by_ref() {
            if next.is_ascii_alphabetic() {
                break;
            }
        }
        out.push_str(SQL_HOLE);
    }
    out
}

/// `{}`, `{name}`, `{:?}` → a hole; `{{`/`}}` → braces.
pub fn fill_braces(format: &str) -> String {
    let mut out = String::with_capacity(format.len());
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                for next in chars.by_ref() {
                    if next == '}' {
                        break;
                    }
                }
                out.push_str(SQL_HOLE);
            }
            _ => out.push(c),
        }
    }
    out
}

/// The first statement of an SQL text.
pub fn parse_sql(text: &str) -> Option<Statement> {
    crate::sql::parse_script(text)
        .statements
        .into_iter()
        .next()
        .map(|s| s.statement)
}

type Classified = (Access, String, Vec<String>, Option<Atomic>, bool, String);

fn classify(statement: &Statement) -> Option<Classified> {
    match statement {
        Statement::Query(query) => {
            let SetExpr::Select(select) = query.body.as_ref() else {
                return None;
            };
            let table = select.from.first().and_then(|t| table_name(&t.relation))?;
            let locks_rows = query
                .locks
                .iter()
                .any(|l| l.lock_type == sqlparser::ast::LockType::Update);
            let columns = where_columns(select.selection.as_ref());
            Some((
                Access::Read,
                table,
                columns,
                None,
                locks_rows,
                "SELECT".into(),
            ))
        }
        Statement::Update(update) => {
            let table = table_name(&update.table.relation)?;
            let columns = where_columns(update.selection.as_ref());
            let mut relative = false;
            let mut computed_plain = false;
            let mut compared = false;
            for assignment in &update.assignments {
                let targets: Vec<String> = match &assignment.target {
                    sqlparser::ast::AssignmentTarget::ColumnName(name) => {
                        vec![last_part(&name.to_string())]
                    }
                    sqlparser::ast::AssignmentTarget::Tuple(names) => {
                        names.iter().map(|n| last_part(&n.to_string())).collect()
                    }
                };
                let value = expression_words(&assignment.value.to_string());
                if targets.iter().any(|t| value.words.contains(t)) {
                    relative = true;
                } else if value.computed {
                    computed_plain = true;
                }
                if targets.iter().any(|t| columns.contains(t)) {
                    compared = true;
                }
            }
            let atomic = if compared {
                Some(Atomic::Conditional)
            } else if relative && !computed_plain {
                Some(Atomic::Command)
            } else {
                None
            };
            Some((
                Access::Write,
                table,
                columns,
                atomic,
                false,
                "UPDATE".into(),
            ))
        }
        Statement::Delete(delete) => {
            let from = match &delete.from {
                sqlparser::ast::FromTable::WithFromKeyword(t)
                | sqlparser::ast::FromTable::WithoutKeyword(t) => t,
            };
            let table = from.first().and_then(|t| table_name(&t.relation))?;
            let columns = where_columns(delete.selection.as_ref());
            Some((Access::Delete, table, columns, None, false, "DELETE".into()))
        }
        Statement::Insert(insert) => {
            let table = last_part(&insert.table.to_string());
            let atomic = insert.on.is_some().then_some(Atomic::Command);
            Some((
                Access::Write,
                table,
                Vec::new(),
                atomic,
                false,
                "INSERT".into(),
            ))
        }
        _ => None,
    }
}

fn table_name(relation: &TableFactor) -> Option<String> {
    match relation {
        TableFactor::Table { name, .. } => Some(last_part(&name.to_string())),
        _ => None,
    }
}

/// `public."Orders"` → `orders`.
fn last_part(name: &str) -> String {
    name.rsplit('.')
        .next()
        .unwrap_or(name)
        .trim_matches(['"', '`', '[', ']'])
        .to_ascii_lowercase()
}

/// The columns a `WHERE` compares, lower case, sorted, holes left out.
fn where_columns(selection: Option<&Expr>) -> Vec<String> {
    let mut columns = Vec::new();
    if let Some(selection) = selection {
        collect_columns(selection, &mut columns, 0);
    }
    columns.retain(|c| c != SQL_HOLE);
    columns.sort();
    columns.dedup();
    columns
}

fn collect_columns(expr: &Expr, out: &mut Vec<String>, depth: usize) {
    if depth > 64 {
        return;
    }
    match expr {
        Expr::Identifier(ident) => out.push(ident.value.to_ascii_lowercase()),
        Expr::CompoundIdentifier(parts) => {
            if let Some(last) = parts.last() {
                out.push(last.value.to_ascii_lowercase());
            }
        }
        Expr::BinaryOp { left, right, .. } => {
            collect_columns(left, out, depth + 1);
            collect_columns(right, out, depth + 1);
        }
        Expr::Nested(inner)
        | Expr::UnaryOp { expr: inner, .. }
        | Expr::IsNull(inner)
        | Expr::IsNotNull(inner)
        | Expr::IsTrue(inner)
        | Expr::IsFalse(inner) => collect_columns(inner, out, depth + 1),
        Expr::In { expr, .. } | Expr::Between { expr, .. } => collect_columns(expr, out, depth + 1),
        Expr::AnyOp { left, .. } | Expr::AllOp { left, .. } => {
            collect_columns(left, out, depth + 1)
        }
        _ => {}
    }
}

struct ExpressionWords {
    /// Bare words, lower case.
    words: Vec<String>,
    /// A bind parameter or a computed part.
    computed: bool,
}

/// The words and placeholders of an SQL expression, through sqlparser's tokenizer.
fn expression_words(text: &str) -> ExpressionWords {
    let dialect = sqlparser::dialect::GenericDialect {};
    let tokens = Tokenizer::new(&dialect, text)
        .tokenize()
        .unwrap_or_default();
    let mut words = Vec::new();
    let mut computed = false;
    for token in tokens {
        match token {
            Token::Word(w) if w.value == SQL_HOLE => computed = true,
            Token::Word(w) => words.push(w.value.to_ascii_lowercase()),
            Token::Placeholder(_) => computed = true,
            _ => {}
        }
    }
    ExpressionWords { words, computed }
}

/// The computed value of a query's `OFFSET` when it is not a literal: (the statement's OFFSET text, as
/// written by sqlparser). `None` for no offset or a literal one.
pub fn computed_offset(statement: &Statement) -> Option<String> {
    let Statement::Query(query) = statement else {
        return None;
    };
    let offset = match query.limit_clause.as_ref()? {
        sqlparser::ast::LimitClause::LimitOffset { offset, .. } => offset.as_ref()?.value.clone(),
        sqlparser::ast::LimitClause::OffsetCommaLimit { offset, .. } => offset.clone(),
    };
    if matches!(offset, Expr::Value(ref v) if matches!(v.value, sqlparser::ast::Value::Number(..)))
    {
        return None;
    }
    Some(offset.to_string())
}

#[cfg(test)]
mod tests;
