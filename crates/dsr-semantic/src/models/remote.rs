//! Which calls of a file reach a remote system — directly (the knowledge base says so) or through a function of
//! the same file whose body does (propagated to a fixed point, so helpers of helpers count) — and which of them
//! write to a store: a DB statement that changes rows, an HTTP request with a mutating method, a queue publish.
//!
//! Minimal on purpose: the `retry` branch carries a fuller model (`models/effects.rs`, with HTTP methods of
//! request builders and idempotency); the two are meant to be folded into one.

use dsr_syntax::{node, Language, TextRange};
use rustc_hash::FxHashMap;
use tree_sitter::Node;

use crate::facts::{Call, FileFacts, ANONYMOUS};
use crate::kb::KbMatch;
use dsr_core::kb::{Api, ApiKind, KnowledgeBase};

/// What a call reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reach {
    pub kind: ApiKind,
    /// The function of this file the call goes through, when it is not itself a library call.
    pub via: Option<usize>,
    /// The library call (index into [`FileFacts::calls`]) that does the I/O: the call itself, or one inside the
    /// helper it goes through.
    pub call: usize,
    /// The first library call reached that writes to a store other than a cache.
    pub write: Option<usize>,
}

/// The remote calls of one file, by index into [`FileFacts::calls`], and what each function reaches, by index
/// into [`FileFacts::functions`].
#[derive(Debug, Default)]
pub struct RemoteCalls {
    calls: Vec<Option<Reach>>,
    functions: Vec<Option<Reach>>,
}

/// Lookups built once per file: calls by node, functions by short name.
struct Index<'f> {
    by_node: FxHashMap<usize, usize>,
    /// Short name (`save` for `Store.save`) → (function, is a method).
    functions: FxHashMap<&'f str, Vec<(usize, bool)>>,
}

impl<'f> Index<'f> {
    fn new(facts: &'f FileFacts<'_>) -> Self {
        let by_node = facts
            .calls
            .iter()
            .enumerate()
            .map(|(i, c)| (c.node.id(), i))
            .collect();
        let mut functions: FxHashMap<&str, Vec<(usize, bool)>> = FxHashMap::default();
        for (index, f) in facts.functions.iter().enumerate() {
            let name = f.name.as_str();
            let is_method = name.contains('.') || name.contains("::");
            let short = name.rsplit(['.', ':']).next().unwrap_or(name);
            functions.entry(short).or_default().push((index, is_method));
        }
        Index { by_node, functions }
    }

    fn call<'c, 't>(&self, facts: &'c FileFacts<'t>, n: Node<'_>) -> Option<&'c Call<'t>> {
        self.by_node.get(&n.id()).map(|i| &facts.calls[*i])
    }
}

impl RemoteCalls {
    pub fn compute(facts: &FileFacts<'_>, source: &str, kb: &KnowledgeBase) -> Self {
        let mut model = RemoteCalls {
            calls: vec![None; facts.calls.len()],
            functions: vec![None; facts.functions.len()],
        };
        let index = Index::new(facts);
        for (at, call) in facts.calls.iter().enumerate() {
            if let Some(api) = kb
                .call(facts, call)
                .filter(|api| api.remote)
                .filter(|api| !is_foreign_send(facts, &index, source, call, api))
            {
                let write = is_write(facts, &index, source, call, api).then_some(at);
                model.calls[at] = Some(Reach {
                    kind: api.kind,
                    via: None,
                    call: at,
                    write,
                });
            }
        }
        let callees: Vec<Option<usize>> = facts
            .calls
            .iter()
            .enumerate()
            .map(|(i, call)| {
                if model.calls[i].is_some() {
                    None
                } else {
                    local_callee(facts, &index, call)
                }
            })
            .collect();
        // Calls by function, computed once: a call belongs to its function and every function it is nested in.
        let mut calls_of: Vec<Vec<usize>> = vec![Vec::new(); facts.functions.len()];
        // Work started in a goroutine or a spawned task runs on its own: the function that starts it does not
        // wait for it, so its calls stop at the spawned function (and a `go f()` call counts for no function).
        for (at, call) in facts.calls.iter().enumerate() {
            if is_spawn_statement(call.node) || in_spawned_block(facts, &index, call) {
                continue;
            }
            let mut current = call.function;
            while let Some(function) = current {
                calls_of[function].push(at);
                if is_spawned(facts, &index, facts.functions[function].node) {
                    break;
                }
                current = facts.functions[function].parent;
            }
        }
        // Summaries only ever go from nothing to something, so this settles within one round per function.
        for _ in 0..=facts.functions.len() {
            let mut changed = false;
            for (function, calls) in calls_of.iter().enumerate() {
                if model.functions[function].is_some() {
                    continue;
                }
                let own: Vec<&Reach> = calls
                    .iter()
                    .filter_map(|i| model.calls[*i].as_ref())
                    .collect();
                if let Some(first) = own.first() {
                    model.functions[function] = Some(Reach {
                        kind: first.kind,
                        via: None,
                        call: first.call,
                        write: own.iter().find_map(|r| r.write),
                    });
                    changed = true;
                }
            }
            for (index, callee) in callees.iter().enumerate() {
                let Some(callee) = *callee else { continue };
                if model.calls[index].is_some() {
                    continue;
                }
                if let Some(summary) = &model.functions[callee] {
                    model.calls[index] = Some(Reach {
                        via: Some(callee),
                        ..summary.clone()
                    });
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        model
    }

    /// What a call reaches remotely, if anything.
    pub fn remote(&self, call: usize) -> Option<&Reach> {
        self.calls.get(call).and_then(Option::as_ref)
    }

    /// What a function reaches remotely: its first remote call and its first write.
    pub fn function(&self, function: usize) -> Option<&Reach> {
        self.functions.get(function).and_then(Option::as_ref)
    }
}

/// The function of this file a call invokes: `helper(x)`, `s.helper()`, `self.helper()`, `this.helper()`,
/// `Self::helper()` — by name, among the file's named functions (methods for receiver calls).
fn local_callee(facts: &FileFacts<'_>, index: &Index<'_>, call: &Call<'_>) -> Option<usize> {
    let written = call.callee_text.as_str();
    let (short, wants_method) = match &call.method {
        // `pkg.Func()`, `axios.get()`: a member of an import is another module's.
        Some(_) if call.path.is_some() => return None,
        Some(method) => (method.as_str(), true),
        None if facts.language == Language::Rust && written.contains("::") => {
            let (head, rest) = written.split_once("::")?;
            match head {
                "Self" => (rest, true),
                "self" | "crate" | "super" => (rest.rsplit("::").next().unwrap_or(rest), false),
                // Another crate's or module's function.
                _ => return None,
            }
        }
        // An imported name (TS `import { save } from "./db"`, Go dot-less names never resolve).
        None if facts.language != Language::Rust && call.path.is_some() => return None,
        None => (written, false),
    };
    if short.is_empty() || short == ANONYMOUS {
        return None;
    }
    index
        .functions
        .get(short)?
        .iter()
        .find(|(_, is_method)| *is_method == wants_method)
        .map(|(f, _)| *f)
}

/// Rust request builders end in a method whose name other types share: reqwest's `send()` is also a channel's
/// (`tx.send(x).await`). A call matched by such a method name counts only when its receiver is a request
/// chain — one that names an HTTP method (`client.post(url).json(&b).send()`) — or a local built from one.
fn is_foreign_send(
    facts: &FileFacts<'_>,
    index: &Index<'_>,
    source: &str,
    call: &Call<'_>,
    api: &Api,
) -> bool {
    if facts.language != Language::Rust || api.kind != ApiKind::Http || call.path.is_some() {
        return false;
    }
    let mut receiver = call
        .receiver
        .map(|r| node::strip_wrappers(r, node::Wrappers::CHAIN));
    for _ in 0..16 {
        let Some(current) = receiver else {
            return true;
        };
        if current.kind() == "identifier" {
            receiver = facts
                .declared_value(
                    call.function,
                    node::text(current, source),
                    call.node.start_byte(),
                )
                .map(|r| node::strip_wrappers(r, node::Wrappers::CHAIN));
            continue;
        }
        let Some(link) = index.call(facts, current) else {
            return true;
        };
        let names_method = link.method.as_deref().is_some_and(|m| {
            matches!(
                m,
                "get" | "post" | "put" | "patch" | "delete" | "head" | "request"
            )
        }) || link.path.is_some();
        if names_method {
            return false;
        }
        receiver = link
            .receiver
            .map(|r| node::strip_wrappers(r, node::Wrappers::CHAIN));
    }
    true
}

/// Whether a library call writes to a store other than a cache: the knowledge base marks it a mutation, or
/// leaves it open and the SQL text or HTTP method shows one.
fn is_write(
    facts: &FileFacts<'_>,
    index: &Index<'_>,
    source: &str,
    call: &Call<'_>,
    api: &Api,
) -> bool {
    match api.kind {
        ApiKind::Cache | ApiKind::Local | ApiKind::Lock => false,
        ApiKind::Db => match sql_verb(facts, index, source, call) {
            Some(verb) => is_write_verb(&verb),
            None => api.mutation != Some(false),
        },
        ApiKind::Http => match http_method(facts, index, source, call, api) {
            Some(method) => matches!(method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE"),
            None => api.mutation == Some(true),
        },
        ApiKind::Queue | ApiKind::ObjectStore | ApiKind::Rpc => api.mutation == Some(true),
    }
}

fn is_write_verb(verb: &str) -> bool {
    matches!(
        verb,
        "INSERT" | "UPDATE" | "DELETE" | "UPSERT" | "MERGE" | "REPLACE" | "TRUNCATE"
    )
}

/// The first word of the SQL a DB call runs, when an argument (or the local it names, or a `sqlx::query(…)`
/// its receiver chain starts from) is a string literal.
fn sql_verb(
    facts: &FileFacts<'_>,
    index: &Index<'_>,
    source: &str,
    call: &Call<'_>,
) -> Option<String> {
    let mut candidates: Vec<Node<'_>> = call.args.clone();
    let mut receiver = call.receiver;
    while let Some(r) = receiver {
        let Some(link) = index.call(facts, node::strip_wrappers(r, node::Wrappers::CHAIN)) else {
            break;
        };
        candidates.extend(link.args.iter().copied());
        receiver = link.receiver;
    }
    candidates.into_iter().find_map(|arg| {
        let value = node::string_literal_value(arg, source, facts.language).or_else(|| {
            (arg.kind() == "identifier")
                .then(|| {
                    facts.declared_value(
                        call.function,
                        node::text(arg, source),
                        call.node.start_byte(),
                    )
                })
                .flatten()
                .and_then(|v| node::string_literal_value(v, source, facts.language))
        })?;
        let verb = value.split_whitespace().next()?.to_ascii_uppercase();
        verb.chars()
            .all(|c| c.is_ascii_alphabetic())
            .then_some(verb)
            .filter(|v| {
                is_write_verb(v) || matches!(v.as_str(), "SELECT" | "WITH" | "SHOW" | "VALUES")
            })
    })
}

/// The HTTP method of a call: the knowledge base's, a `method` field of an options object argument
/// (`fetch(url, { method: "POST" })`), a request built earlier with `http.NewRequest("POST", …)`, or a
/// builder method of the receiver chain (`client.post(url).send()`).
fn http_method(
    facts: &FileFacts<'_>,
    index: &Index<'_>,
    source: &str,
    call: &Call<'_>,
    api: &Api,
) -> Option<String> {
    if let Some(method) = &api.http_method {
        return Some(method.to_ascii_uppercase());
    }
    let language = facts.language;
    for arg in &call.args {
        let value = if arg.kind() == "identifier" {
            facts
                .declared_value(
                    call.function,
                    node::text(*arg, source),
                    call.node.start_byte(),
                )
                .unwrap_or(*arg)
        } else {
            *arg
        };
        if let Some(literal) = facts.literals.iter().find(|l| l.node == value) {
            if let Some(method) = literal.field("method").and_then(|f| f.value) {
                return method_name(method, source, language);
            }
        }
        // Go: `req, _ := http.NewRequest("POST", …)` then `client.Do(req)`.
        if let Some(built) = index.call(facts, value) {
            let index = match built.path.as_deref() {
                Some("net/http.NewRequest") => Some(0),
                Some("net/http.NewRequestWithContext") => Some(1),
                _ => None,
            };
            if let Some(method) = index.and_then(|i| built.args.get(i)) {
                return method_name(*method, source, language);
            }
        }
    }
    let mut receiver = call.receiver;
    for _ in 0..16 {
        let Some(mut r) = receiver.map(|r| node::strip_wrappers(r, node::Wrappers::CHAIN)) else {
            break;
        };
        if r.kind() == "identifier" {
            match facts.declared_value(call.function, node::text(r, source), call.node.start_byte())
            {
                Some(value) => r = node::strip_wrappers(value, node::Wrappers::CHAIN),
                None => break,
            }
        }
        let Some(link) = index.call(facts, r) else {
            break;
        };
        if let Some(method) = link.method.as_deref() {
            let upper = method.to_ascii_uppercase();
            if matches!(
                upper.as_str(),
                "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD"
            ) {
                return Some(upper);
            }
        }
        receiver = link.receiver;
    }
    None
}

/// `"POST"`, `http.MethodPost`, `Method::PUT` → the method, upper case.
fn method_name(value: Node<'_>, source: &str, language: Language) -> Option<String> {
    if let Some(text) = node::string_literal_value(value, source, language) {
        return Some(text.to_ascii_uppercase());
    }
    let text = node::text(value, source);
    let last = text.rsplit(['.', ':']).next()?;
    let last = last.strip_prefix("Method").unwrap_or(last);
    Some(last.to_ascii_uppercase())
}

/// `go f(x)`: the call is the statement's whole expression.
fn is_spawn_statement(call: Node<'_>) -> bool {
    call.parent().is_some_and(|p| p.kind() == "go_statement")
}

/// A call inside an `async` block handed to `spawn` (blocks are not functions of their own in the facts).
fn in_spawned_block(facts: &FileFacts<'_>, index: &Index<'_>, call: &Call<'_>) -> bool {
    if facts.language != Language::Rust {
        return false;
    }
    let function = call.function.map(|f| facts.functions[f].node);
    node::ancestors(call.node)
        .skip(1)
        .take_while(|a| Some(*a) != function)
        .any(|a| a.kind() == "async_block" && is_spawned(facts, index, a))
}

/// A function literal, closure or async block that runs on its own: `go func() {…}()`, or the argument of a
/// `spawn` (`tokio::spawn(async move {…})`, `std::thread::spawn(move || …)`).
fn is_spawned(facts: &FileFacts<'_>, index: &Index<'_>, function: Node<'_>) -> bool {
    let Some(parent) = function.parent() else {
        return false;
    };
    if parent.kind() == "call_expression" && is_spawn_statement(parent) {
        return true;
    }
    let Some(call) = node::ancestors(function)
        .skip(1)
        .take(3)
        .find(|a| a.kind() == "call_expression")
        .and_then(|n| index.call(facts, n))
    else {
        return false;
    };
    let spawner = call
        .method
        .as_deref()
        .or_else(|| call.path.as_deref().and_then(|p| p.rsplit(':').next()));
    spawner.is_some_and(|name| matches!(name, "spawn" | "spawn_blocking"))
        && call
            .args
            .iter()
            .any(|a| TextRange::of(*a).contains_range(TextRange::of(function)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsr_syntax::Document;

    fn remote_calls(language: Language, source: &str) -> Vec<(String, bool, bool)> {
        let document = Document::new(language, source, 0).expect("grammar loads");
        let facts = FileFacts::compute(language, document.tree(), source);
        let model = RemoteCalls::compute(&facts, source, KnowledgeBase::builtin());
        facts
            .calls
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                model
                    .remote(i)
                    .map(|r| (c.callee_text.clone(), r.via.is_some(), r.write.is_some()))
            })
            .collect()
    }

    #[test]
    fn helpers_of_helpers_are_remote_and_carry_their_writes() {
        let source = r#"package p
import (
    "database/sql"
    "net/http"
)
func (s *Store) save(id string) error {
    _, err := s.db.ExecContext(ctx, "UPDATE jobs SET done = true WHERE id = $1", id)
    return err
}
func (s *Store) load(id string) {
    s.db.QueryRowContext(ctx, "SELECT 1")
}
func outer(s *Store) { inner(s) }
func inner(s *Store) { s.save("x") }
func notify(c *http.Client) {
    req, _ := http.NewRequest(http.MethodPost, "http://x", nil)
    c.Do(req)
}
func local() { fmt.Println("x") }
"#;
        assert_eq!(
            remote_calls(Language::Go, source),
            [
                ("s.db.ExecContext".to_string(), false, true),
                ("s.db.QueryRowContext".to_string(), false, false),
                ("inner".to_string(), true, true),
                ("s.save".to_string(), true, true),
                ("c.Do".to_string(), false, true),
            ]
        );
    }

    #[test]
    fn typescript_and_rust_writes() {
        let ts = r#"
import axios from "axios";
async function f() {
  await fetch(url, { method: "PUT" });
  await fetch(url);
  await axios.post(url, body);
}
"#;
        assert_eq!(
            remote_calls(Language::TypeScript, ts),
            [
                ("fetch".to_string(), false, true),
                ("fetch".to_string(), false, false),
                ("axios.post".to_string(), false, true),
            ]
        );
        let rs = r#"
use reqwest::Client;
use sqlx::PgPool;
async fn f(c: &Client) {
    c.post(url).json(&body).send().await?;
    c.get(url).send().await?;
    sqlx::query("DELETE FROM t").execute(&pool).await?;
    let req = c.put(url);
    req.send().await?;
    tx.send(1).await?;
}
"#;
        assert_eq!(
            remote_calls(Language::Rust, rs),
            [
                ("c.post(url).json(&body).send".to_string(), false, true),
                ("c.get(url).send".to_string(), false, false),
                (
                    "sqlx::query(\"DELETEFROMt\").execute".to_string(),
                    false,
                    true
                ),
                ("req.send".to_string(), false, true),
            ]
        );
    }
}
