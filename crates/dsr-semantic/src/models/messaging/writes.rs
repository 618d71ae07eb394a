//! What a function writes, and where: database writes (with the table when the SQL text or the ORM call names
//! it) and messages sent to other systems — queue/topic publishes, and HTTP or RPC calls that change state. The
//! SQL statements are classified with sqlparser's tokenizer, so comments, quoting and case do not matter.

use dsr_core::http::Method;
use dsr_syntax::{node, Language};
use tree_sitter::Node;

use crate::facts::{Call, FileFacts};
use crate::kb::KbMatch;
use dsr_core::kb::{ApiKind, ApiRole, KnowledgeBase};

/// Where a write goes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Database,
    /// A queue, topic or subject.
    Queue,
    /// Another service over HTTP or RPC.
    Service,
}

#[derive(Clone, Debug)]
pub struct WriteSite<'t> {
    /// Index into `FileFacts::calls`: the outermost call of the chain that performs the write.
    pub call: usize,
    pub node: Node<'t>,
    pub target: Target,
    /// The table written, when visible (`orders` in `INSERT INTO orders …`, `order` in `tx.order.create(…)`).
    pub table: Option<String>,
    /// How the write reads in a title: "`INSERT INTO orders`", "`WriteMessages`", "`http.Post`".
    pub label: String,
    pub function: Option<usize>,
}

impl WriteSite<'_> {
    /// A write into an outbox table: the event is stored with the data, a relay publishes it later.
    pub fn is_outbox(&self) -> bool {
        self.target == Target::Database
            && self
                .table
                .as_deref()
                .is_some_and(|t| t.to_ascii_lowercase().contains("outbox"))
    }
}

/// The kind of an SQL statement, by its leading keyword.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SqlKind {
    Insert,
    Update,
    Delete,
    Merge,
    Select,
    Begin,
    Commit,
    Rollback,
    /// `SAVEPOINT`, `ROLLBACK TO …`, `RELEASE …`: inside a transaction, ending nothing.
    Savepoint,
    Other,
}

impl SqlKind {
    pub fn is_write(self) -> bool {
        matches!(
            self,
            SqlKind::Insert | SqlKind::Update | SqlKind::Delete | SqlKind::Merge
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlStatement {
    pub kind: SqlKind,
    pub table: Option<String>,
}

/// Classifies an SQL text by its first statement's leading keywords (after a `WITH` clause, the keyword that
/// follows it at top level).
pub fn sql_statement(text: &str) -> SqlStatement {
    use sqlparser::tokenizer::{Token, Tokenizer};
    let dialect = sqlparser::dialect::GenericDialect {};
    let Ok(tokens) = Tokenizer::new(&dialect, text).tokenize() else {
        return SqlStatement {
            kind: SqlKind::Other,
            table: None,
        };
    };
    // Words with their parenthesis depth and whether they are bare (unquoted), comments and whitespace dropped;
    // `qualified` marks a word written right after a period (`public.orders`).
    let mut words: Vec<(String, usize, bool)> = Vec::new();
    let mut qualified: Vec<bool> = Vec::new();
    let mut depth = 0usize;
    let mut after_period = false;
    for token in &tokens {
        match token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Word(w) => {
                words.push((w.value.clone(), depth, w.quote_style.is_none()));
                qualified.push(after_period);
            }
            Token::SemiColon if depth == 0 && !words.is_empty() => break,
            _ => {}
        }
        if !matches!(token, Token::Whitespace(_)) {
            after_period = matches!(token, Token::Period);
        }
    }
    let keyword = |i: usize| {
        words
            .get(i)
            .filter(|(_, _, bare)| *bare)
            .map(|(w, _, _)| w.to_ascii_uppercase())
            .unwrap_or_default()
    };
    let mut start = 0;
    if keyword(0) == "WITH" {
        start = words
            .iter()
            .position(|(w, d, bare)| {
                *d == 0
                    && *bare
                    && matches!(
                        w.to_ascii_uppercase().as_str(),
                        "INSERT" | "UPDATE" | "DELETE" | "MERGE" | "SELECT"
                    )
            })
            .unwrap_or(0);
    }
    let table_after = |i: usize| -> Option<String> {
        let (word, _, _) = words.get(i)?;
        // `public.orders` is two words around a period: the last one is the table.
        let mut name = word.clone();
        let mut j = i + 1;
        while let (Some((next, _, _)), Some(true)) = (words.get(j), qualified.get(j)) {
            name = next.clone();
            j += 1;
        }
        Some(name)
    };
    let first = keyword(start);
    let (kind, table) = match first.as_str() {
        "INSERT" | "REPLACE" | "UPSERT" => {
            let at = if keyword(start + 1) == "INTO" || keyword(start + 1) == "IGNORE" {
                if keyword(start + 2) == "INTO" {
                    start + 3
                } else {
                    start + 2
                }
            } else {
                start + 1
            };
            (SqlKind::Insert, table_after(at))
        }
        "UPDATE" => {
            let at = if keyword(start + 1) == "ONLY" {
                start + 2
            } else {
                start + 1
            };
            (SqlKind::Update, table_after(at))
        }
        "DELETE" => {
            let at = if keyword(start + 1) == "FROM" {
                start + 2
            } else {
                start + 1
            };
            (SqlKind::Delete, table_after(at))
        }
        "MERGE" => (SqlKind::Merge, table_after(start + 2)),
        "TRUNCATE" => (SqlKind::Delete, table_after(start + 1)),
        "SELECT" | "VALUES" | "SHOW" | "EXPLAIN" => (SqlKind::Select, None),
        "BEGIN" | "START" => (SqlKind::Begin, None),
        "COMMIT" | "END" => (SqlKind::Commit, None),
        "ROLLBACK" | "ABORT" => {
            if keyword(start + 1) == "TO" || keyword(start + 2) == "TO" {
                (SqlKind::Savepoint, None)
            } else {
                (SqlKind::Rollback, None)
            }
        }
        "SAVEPOINT" | "RELEASE" => (SqlKind::Savepoint, None),
        _ => (SqlKind::Other, None),
    };
    SqlStatement { kind, table }
}

/// The index of the call whose node is `n`.
pub fn call_at(facts: &FileFacts<'_>, n: Node<'_>) -> Option<usize> {
    facts.call_index(n)
}

/// The SQL text a call runs, with the string node it comes from: its first string argument (or a constant bound
/// to one), a `{ text: "…" }` options object, the string inside a macro (`sqlx::query!("…")`), or — for
/// `sqlx::query("…").bind(x).execute(&pool)` — the text of a call down its receiver chain.
pub fn sql_text<'t>(
    facts: &FileFacts<'t>,
    kb: &KnowledgeBase,
    call: &Call<'t>,
    source: &str,
) -> Option<String> {
    if let Some(text) = own_sql_text(facts, call, source) {
        return Some(text);
    }
    let mut receiver = call.receiver;
    for _ in 0..8 {
        let r = receiver?;
        let r = if r.kind() == "await_expression" {
            node::named_children(r).next().unwrap_or(r)
        } else {
            r
        };
        let inner = &facts.calls[call_at(facts, r)?];
        // Only a database call's string is SQL: knex's `db("orders")` names a table.
        if kb.call(facts, inner).is_some_and(|a| a.kind == ApiKind::Db) {
            if let Some(text) = own_sql_text(facts, inner, source) {
                return Some(text);
            }
        }
        receiver = inner.receiver;
    }
    None
}

fn own_sql_text(facts: &FileFacts<'_>, call: &Call<'_>, source: &str) -> Option<String> {
    let string_at = |n: Node<'_>| super::syntax::string_value(facts, n);
    if call.node.kind() == "macro_invocation" {
        let first =
            node::descendants(call.node).find(|n| node::is_string_literal(*n, facts.language))?;
        return string_at(first);
    }
    // The SQL is the first argument, or the second after a context (`ExecContext(ctx, "…")`).
    call.args.iter().take(2).find_map(|arg| {
        if let Some(text) = string_at(*arg) {
            return Some(text);
        }
        match arg.kind() {
            "identifier" => {
                let value = constant_value(
                    facts,
                    call.function,
                    node::text(*arg, source),
                    arg.start_byte(),
                )?;
                string_at(value)
            }
            "object" => {
                let literal = facts.literal_of(*arg)?;
                literal
                    .field("text")
                    .and_then(|f| f.value)
                    .and_then(string_at)
            }
            _ => None,
        }
    })
}

/// The value a name was declared with before `offset`, or by a declaration at the top of the file wherever it is
/// (Go constants may follow their use).
pub fn constant_value<'t>(
    facts: &FileFacts<'t>,
    function: Option<usize>,
    name: &str,
    offset: usize,
) -> Option<Node<'t>> {
    facts.declared_value(function, name, offset).or_else(|| {
        // The top-level declarations of `name` from their index: a scan of every top-level assignment per
        // question was quadratic in a file of many statements.
        facts
            .top_level_assignments_to(name)
            .iter()
            .map(|&i| &facts.assignments[i])
            .find(|a| a.declares)
            .and_then(|a| a.value)
    })
}

/// The leftmost name of an expression: `tx` in `tx.order.create`, `&mut *tx`, `trx("orders").insert`.
pub fn root_name(expression: Node<'_>, source: &str) -> Option<String> {
    let mut n = expression;
    for _ in 0..32 {
        n = match n.kind() {
            "identifier" | "this" | "self" => return Some(node::text(n, source).to_string()),
            "selector_expression" => n.child_by_field_name("operand")?,
            "field_expression" | "reference_expression" => n.child_by_field_name("value")?,
            "member_expression" => n.child_by_field_name("object")?,
            "call_expression" => n.child_by_field_name("function")?,
            "unary_expression" | "pointer_expression" => n
                .child_by_field_name("operand")
                .or_else(|| n.child_by_field_name("argument"))
                .or_else(|| node::named_children(n).last())?,
            "await_expression"
            | "parenthesized_expression"
            | "try_expression"
            | "non_null_expression" => node::named_children(n).next()?,
            _ => return None,
        };
    }
    None
}

/// Every write of the file.
pub fn write_sites<'t>(
    facts: &FileFacts<'t>,
    kb: &KnowledgeBase,
    source: &str,
) -> Vec<WriteSite<'t>> {
    let mut found: Vec<WriteSite<'t>> = Vec::new();
    for (index, call) in facts.calls.iter().enumerate() {
        if let Some(write) = classify(facts, kb, index, call, source) {
            found.push(write);
        }
    }
    // A chain (`sqlx::query("INSERT …").execute(&pool)`) is one write: keep its outermost call. The calls a
    // write's receiver chain can belong to contain it: its ancestors, not every write of the file.
    let by_call: rustc_hash::FxHashMap<usize, usize> =
        found.iter().enumerate().map(|(i, w)| (w.call, i)).collect();
    let inner: Vec<bool> = found
        .iter()
        .map(|w| {
            facts
                .ancestors(w.node)
                .filter_map(|a| facts.call_index(a))
                .filter_map(|c| by_call.get(&c))
                .any(|&o| {
                    let outer = &found[o];
                    outer.call != w.call
                        && outer.target == w.target
                        && in_receiver_chain(facts, outer.call, w.node)
                })
        })
        .collect();
    let mut inner = inner.into_iter();
    found.retain(|_| !inner.next().unwrap_or(false));
    found
}

/// Whether `n` is the receiver of the call `outer` (or the receiver's receiver …), not one of its arguments.
fn in_receiver_chain(facts: &FileFacts<'_>, outer: usize, n: Node<'_>) -> bool {
    let mut receiver = facts.calls[outer].receiver;
    for _ in 0..8 {
        let Some(r) = receiver else { return false };
        if r == n {
            return true;
        }
        if !crate::models::control_flow::contains(r, n) {
            return false;
        }
        receiver = match r.kind() {
            "await_expression" => node::named_children(r)
                .next()
                .and_then(|c| call_at(facts, c))
                .and_then(|i| facts.calls[i].receiver),
            _ => call_at(facts, r).and_then(|i| facts.calls[i].receiver),
        };
    }
    false
}

fn classify<'t>(
    facts: &FileFacts<'t>,
    kb: &KnowledgeBase,
    index: usize,
    call: &Call<'t>,
    source: &str,
) -> Option<WriteSite<'t>> {
    let write = |target: Target, table: Option<String>, label: String| WriteSite {
        call: index,
        node: call.node,
        target,
        table,
        label,
        function: call.function,
    };
    if kb.role_of(facts, call, &[ApiRole::Publish]).is_some() {
        return Some(write(
            Target::Queue,
            None,
            format!("`{}`", short_callee(call)),
        ));
    }
    let api = kb.call(facts, call);
    if let Some(api) = api.filter(|a| a.kind == ApiKind::Db) {
        if matches!(
            api.role,
            Some(ApiRole::TxBegin | ApiRole::TxCommit | ApiRole::TxRollback | ApiRole::Release)
        ) {
            return None;
        }
        if let Some(sql) = sql_text(facts, kb, call, source) {
            let statement = sql_statement(&sql);
            if !statement.kind.is_write() {
                return None;
            }
            let label = match &statement.table {
                Some(table) => format!("`{} {}`", verb(statement.kind), table),
                None => format!("`{}`", verb(statement.kind)),
            };
            return Some(write(Target::Database, statement.table, label));
        }
        if api.mutation == Some(true) {
            let table = orm_table(facts, call, source);
            let label = orm_label(call, table.as_deref());
            return Some(write(Target::Database, table, label));
        }
        // `diesel::insert_into(orders::table).values(&o).execute(conn)`: the statement is built down the chain.
        let mut receiver = call.receiver;
        for _ in 0..8 {
            let Some(inner) = receiver.and_then(|r| call_at(facts, r)) else {
                break;
            };
            let inner_call = &facts.calls[inner];
            if kb
                .call(facts, inner_call)
                .is_some_and(|a| a.kind == ApiKind::Db && a.mutation == Some(true))
            {
                let table = orm_table(facts, inner_call, source);
                let label = orm_label(inner_call, table.as_deref());
                return Some(write(Target::Database, table, label));
            }
            receiver = inner_call.receiver;
        }
        return None;
    }
    let service = match api {
        Some(api) if matches!(api.kind, ApiKind::Http | ApiKind::Rpc) && api.remote => {
            api.mutation == Some(true)
                || api
                    .http_method
                    .as_deref()
                    .and_then(Method::from_name)
                    .is_some_and(Method::changes_state)
                || writes_by_options(facts, call, source)
                || writes_by_builder(facts, call, source)
        }
        _ => false,
    };
    service.then(|| write(Target::Service, None, format!("`{}`", short_callee(call))))
}

fn orm_label(call: &Call<'_>, table: Option<&str>) -> String {
    match table {
        Some(table) => format!("`{}` on `{table}`", short_callee(call)),
        None => format!("`{}`", short_callee(call)),
    }
}

fn verb(kind: SqlKind) -> &'static str {
    match kind {
        SqlKind::Insert => "INSERT INTO",
        SqlKind::Update => "UPDATE",
        SqlKind::Delete => "DELETE FROM",
        SqlKind::Merge => "MERGE INTO",
        _ => "",
    }
}

/// The callee as a short label: `w.WriteMessages`, `channel.publish`, `http.Post`.
pub fn short_callee(call: &Call<'_>) -> String {
    let text = call.callee_text.as_str();
    if text.len() <= 40 {
        return text.to_string();
    }
    call.method.clone().unwrap_or_else(|| text.to_string())
}

/// `fetch(url, { method: "POST" })`.
fn writes_by_options(facts: &FileFacts<'_>, call: &Call<'_>, source: &str) -> bool {
    // The argument's literal by a binary search: a scan of every literal of the file per argument of every
    // remote call grew with the square of the file (TS write sites 10k → 50k lines: 1.8× the instructions per KB).
    call.args.iter().any(|arg| {
        facts
            .literal_of(*arg)
            .and_then(|l| l.field("method"))
            .and_then(|f| f.value)
            .and_then(|v| node::string_literal_value(v, source, facts.language))
            .and_then(|m| Method::from_name(&m))
            .is_some_and(Method::changes_state)
    })
}

/// `client.post(url).json(&body).send()`: the method is chosen down the builder chain.
fn writes_by_builder(facts: &FileFacts<'_>, call: &Call<'_>, _source: &str) -> bool {
    if facts.language != Language::Rust {
        return false;
    }
    let mut receiver = call.receiver;
    for _ in 0..8 {
        let Some(inner) = receiver.and_then(|r| call_at(facts, r)) else {
            return false;
        };
        let inner = &facts.calls[inner];
        if matches!(
            inner.method.as_deref(),
            Some("post" | "put" | "patch" | "delete")
        ) {
            return true;
        }
        receiver = inner.receiver;
    }
    false
}

/// The table an ORM/query-builder write names: diesel `insert_into(orders::table)`, knex `trx("orders").insert`,
/// prisma `tx.order.create`.
fn orm_table(facts: &FileFacts<'_>, call: &Call<'_>, source: &str) -> Option<String> {
    if let Some(first) = call.args.first() {
        let text = node::text(*first, source);
        if let Some((path, _)) = text.split_once("::table") {
            return Some(path.rsplit("::").next().unwrap_or(path).to_string());
        }
    }
    let receiver = call.receiver?;
    match receiver.kind() {
        "member_expression" => receiver
            .child_by_field_name("property")
            .map(|p| node::text(p, source).to_string()),
        "call_expression" => {
            let inner = call_at(facts, receiver)?;
            let first = *facts.calls[inner].args.first()?;
            node::string_literal_value(first, source, facts.language)
        }
        _ => None,
    }
}
