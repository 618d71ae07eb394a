//! Which calls of a file reach a remote system — directly (the knowledge base says so) or through a function of
//! the same file whose body does (propagated to a fixed point, so helpers of helpers count) — and what each one
//! does there. One computation answers every rule's question: the kind of system, the library call that does
//! the I/O, the HTTP method where the code shows it, whether the call changes remote state at all (a DB
//! statement that changes rows, a mutating HTTP method, a queue publish: what a lock must fence) and whether it
//! is a non-idempotent write a repeat would duplicate (an HTTP POST/PATCH without an idempotency-key header, an
//! SQL `INSERT` without an upsert clause, a queue publish without a dedup id: what a retry must not repeat).
//!
//! Work started in a goroutine or a spawned task runs on its own: the function that starts it does not wait for
//! it, so a function's summary stops at spawned work.

use dsr_core::http::Method;
use dsr_syntax::{node, Language, TextRange};
use rustc_hash::{FxHashMap, FxHashSet};
use tree_sitter::Node;

use crate::facts::{Call, FileFacts, ANONYMOUS};
pub use crate::index::summary::WriteKind;
use crate::kb::KbMatch;
use dsr_core::kb::{Api, ApiKind, ApiRole, CallKinds, KnowledgeBase};

/// A remote call of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteCall {
    pub kind: ApiKind,
    /// The function of this file the call goes through, when the call is not itself a library call.
    pub via: Option<usize>,
    /// The library call (index into [`FileFacts::calls`]) that does the I/O: the call itself, or the first one
    /// inside the helper it goes through.
    pub call: usize,
    /// The HTTP method, when the code shows it (`POST` for `http.Post`, for a request built with
    /// `http.NewRequest("POST", …)`, for `client.post(url)…send()`, for `fetch(url, { method: "POST" })`).
    pub http_method: Option<String>,
    /// The first library call reached that changes the state of a store other than a cache (any write, safe to
    /// repeat or not).
    pub mutation: Option<usize>,
    /// The write a repeat of this call would duplicate.
    pub write: Option<Write>,
    /// When the call reaches the remote system through a function of another file (the workspace index):
    /// where that file does the I/O (or the write), for evidence.
    pub external: Option<External>,
}

/// Where, in another file, a call's effect happens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct External {
    pub path: std::path::PathBuf,
    pub range: TextRange,
    /// How sure the resolution of the calls on the way is (several candidates lower it).
    pub confidence: dsr_core::finding::Confidence,
    /// How many calls away the effect is.
    pub depth: u8,
}

/// A non-idempotent write: repeating it repeats its effect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Write {
    /// The library call that writes (inside the helper when the write is reached through one).
    pub call: usize,
    pub kind: WriteKind,
}

/// The remote calls of one file, by index into [`FileFacts::calls`], and what each function of the file
/// reaches, by index into [`FileFacts::functions`].
#[derive(Debug, Default)]
pub struct RemoteCalls {
    calls: Vec<Option<RemoteCall>>,
    functions: Vec<Option<RemoteCall>>,
    /// The function of this file each call calls, if any.
    local: Vec<Option<usize>>,
    /// The byte range of each call, in document order (calls are collected in pre-order).
    ranges: Vec<TextRange>,
    by_node: FxHashMap<usize, usize>,
    /// The functions each call counts for: its own and those it is nested in, up to spawned work.
    counted_in: Vec<Vec<usize>>,
}

impl RemoteCalls {
    pub fn compute(facts: &FileFacts<'_>, source: &str, kb: &KnowledgeBase) -> Self {
        Self::compute_with_index(facts, source, kb, None)
    }

    /// [`RemoteCalls::compute`], with calls into other files of the workspace resolved through the index: a
    /// call the knowledge base does not know and no function of this file defines is remote when the function
    /// it reaches in another file is (directly or through its own callees).
    pub fn compute_with_index(
        facts: &FileFacts<'_>,
        source: &str,
        kb: &KnowledgeBase,
        workspace: Option<&crate::index::IndexView>,
    ) -> Self {
        let by_node = facts
            .calls
            .iter()
            .enumerate()
            .map(|(i, c)| (c.node.id(), i))
            .collect();
        let names = FunctionNames::new(facts);
        let mut model = RemoteCalls {
            calls: vec![None; facts.calls.len()],
            functions: vec![None; facts.functions.len()],
            local: Vec::with_capacity(facts.calls.len()),
            ranges: facts.calls.iter().map(Call::range).collect(),
            by_node,
            counted_in: Vec::new(),
        };
        let mut scopes = ScopeNames::default();
        for (index, call) in facts.calls.iter().enumerate() {
            let api = kb.call(facts, call);
            model.local.push(match api {
                Some(_) => None,
                None => names.callee(facts, source, call),
            });
            if api.is_none() && model.local[index].is_none() {
                if let Some(external) = index_remote(workspace, facts, call, index) {
                    model.calls[index] = Some(external);
                    continue;
                }
            }
            let Some(api) = api
                .filter(|api| api.remote)
                .filter(|api| !model.is_foreign_send(facts, source, kb, call, api))
            else {
                continue;
            };
            let http_method = model.http_method(facts, source, kb, call, api);
            let mutation = model
                .is_mutation(facts, source, call, api, http_method.as_deref())
                .then_some(index);
            let write = classify_write(
                facts,
                source,
                kb,
                call,
                api,
                http_method.as_deref(),
                &mut scopes,
            )
            .map(|kind| Write { call: index, kind });
            model.calls[index] = Some(RemoteCall {
                kind: api.kind,
                via: None,
                call: index,
                http_method,
                mutation,
                write,
                external: None,
            });
        }
        // The functions each call counts for, found once: its own and every function it is nested in, up to
        // spawned work (a `go f()` call counts for no function). Whether a function is spawned is worked out once
        // per function, not once per call nested in it.
        let mut spawned: Vec<Option<bool>> = vec![None; facts.functions.len()];
        let counted_in: Vec<Vec<usize>> = facts
            .calls
            .iter()
            .map(|call| {
                let mut functions = Vec::new();
                if is_spawn_statement(facts, call.node) || model.in_spawned_block(facts, call) {
                    return functions;
                }
                let mut current = call.function;
                while let Some(function) = current {
                    functions.push(function);
                    let is_spawned = *spawned[function].get_or_insert_with(|| {
                        model.is_spawned(facts, facts.functions[function].node)
                    });
                    if is_spawned {
                        break;
                    }
                    current = facts.functions[function].parent;
                }
                functions
            })
            .collect();
        // Monotone (a summary only goes from none to some), so this ends within one pass per function.
        for _ in 0..=facts.functions.len() {
            let mut changed = false;
            for index in 0..facts.calls.len() {
                let Some(callee) = model.local[index] else {
                    continue;
                };
                if let Some(summary) = &model.functions[callee] {
                    let reached = RemoteCall {
                        via: Some(callee),
                        ..summary.clone()
                    };
                    if model.calls[index].as_ref() != Some(&reached) {
                        model.calls[index] = Some(reached);
                        changed = true;
                    }
                }
            }
            // A function reaches what its calls reach; calls come in document order, so the first one found is
            // the function's first remote call.
            let mut summaries: Vec<Option<RemoteCall>> = vec![None; facts.functions.len()];
            for (index, functions) in counted_in.iter().enumerate() {
                let Some(remote) = &model.calls[index] else {
                    continue;
                };
                for function in functions {
                    let summary = summaries[*function].get_or_insert_with(|| RemoteCall {
                        via: None,
                        mutation: None,
                        write: None,
                        ..remote.clone()
                    });
                    if summary.mutation.is_none() {
                        summary.mutation = remote.mutation;
                    }
                    if summary.write.is_none() {
                        summary.write.clone_from(&remote.write);
                    }
                }
            }
            if model.functions != summaries {
                model.functions = summaries;
                changed = true;
            }
            if !changed {
                break;
            }
        }
        model.counted_in = counted_in;
        model
    }

    /// Whether a call counts for `function`: it is made there (or in a closure of it) and not in work the
    /// function spawns without waiting for it (a goroutine, a spawned task, a timer callback).
    pub fn counts_for(&self, call: usize, function: usize) -> bool {
        self.counted_in
            .get(call)
            .is_some_and(|functions| functions.contains(&function))
    }

    /// The function of this file that a call calls, if any.
    pub fn local_callee(&self, call: usize) -> Option<usize> {
        self.local.get(call).copied().flatten()
    }

    /// The calls (indices into [`FileFacts::calls`]) that lie inside `range`.
    pub fn calls_in_range(&self, range: TextRange) -> impl Iterator<Item = usize> + '_ {
        let first = self.ranges.partition_point(|r| r.start < range.start);
        self.ranges[first..]
            .iter()
            .take_while(move |r| r.start < range.end)
            .enumerate()
            .filter(move |(_, r)| r.end <= range.end)
            .map(move |(i, _)| first + i)
    }

    /// What a call of the file reaches remotely, if anything.
    pub fn remote(&self, call: usize) -> Option<&RemoteCall> {
        self.calls.get(call).and_then(Option::as_ref)
    }

    /// What a function of the file reaches remotely: its first remote call, its first mutation and its first
    /// non-idempotent write.
    pub fn function(&self, function: usize) -> Option<&RemoteCall> {
        self.functions.get(function).and_then(Option::as_ref)
    }

    /// The index in [`FileFacts::calls`] of a call node.
    pub fn call_index(&self, node: Node<'_>) -> Option<usize> {
        self.by_node.get(&node.id()).copied()
    }

    fn http_method(
        &self,
        facts: &FileFacts<'_>,
        source: &str,
        kb: &KnowledgeBase,
        call: &Call<'_>,
        api: &Api,
    ) -> Option<String> {
        if api.kind != ApiKind::Http {
            return None;
        }
        if let Some(method) = &api.http_method {
            return Some(method.to_ascii_uppercase());
        }
        if api.method_field.is_some() {
            return method_of_arguments(facts, source, call, api);
        }
        if let Some(method) = method_of_arguments(facts, source, call, api) {
            return Some(method);
        }
        // A request value built earlier: `req, _ := http.NewRequest("POST", …)` then `client.Do(req)`.
        for arg in &call.args {
            if arg.kind() != "identifier" {
                continue;
            }
            let Some(value) = facts.declared_value(
                call.function,
                node::text(*arg, source),
                call.node.start_byte(),
            ) else {
                continue;
            };
            let Some(built) = self
                .call_index(node::strip_wrappers(value, node::Wrappers::AWAITED))
                .map(|i| &facts.calls[i])
            else {
                continue;
            };
            if let Some(builder) = kb
                .call(facts, built)
                .filter(|a| a.role == Some(ApiRole::Request))
            {
                if let Some(method) = method_of_arguments(facts, source, built, builder) {
                    return Some(method);
                }
            }
        }
        // A builder chain: `client.post(url).json(&body).send()`, or a local built from one
        // (`let req = client.put(url); req.send()`).
        let mut receiver = call.receiver;
        // Bounded: a local may name itself (`let req = req.header(..)`).
        for _ in 0..16 {
            let Some(mut current) =
                receiver.map(|n| node::strip_wrappers(n, node::Wrappers::AWAITED))
            else {
                break;
            };
            if current.kind() == "identifier" {
                match facts.declared_value(
                    call.function,
                    node::text(current, source),
                    call.node.start_byte(),
                ) {
                    Some(value) => current = node::strip_wrappers(value, node::Wrappers::AWAITED),
                    None => break,
                }
            }
            let Some(link) = self.call_index(current).map(|i| &facts.calls[i]) else {
                break;
            };
            if let Some(builder) = kb.http_builder_method(facts, link) {
                if let Some(method) = &builder.http_method {
                    return Some(method.to_ascii_uppercase());
                }
                if let Some(method) = method_of_arguments(facts, source, link, builder) {
                    return Some(method);
                }
            }
            receiver = link.receiver;
        }
        api.default_method.clone()
    }

    /// Rust request builders end in a method whose name other types share: reqwest's `send()` is also a
    /// channel's (`tx.send(x).await`). A call matched by such a method name counts only when its receiver is a
    /// request chain — one that names an HTTP method (`client.post(url).json(&b).send()`) — or a local built
    /// from one.
    fn is_foreign_send(
        &self,
        facts: &FileFacts<'_>,
        source: &str,
        kb: &KnowledgeBase,
        call: &Call<'_>,
        api: &Api,
    ) -> bool {
        if facts.language != Language::Rust || api.kind != ApiKind::Http || call.path.is_some() {
            return false;
        }
        let mut receiver = call
            .receiver
            .map(|n| node::strip_wrappers(n, node::Wrappers::CHAIN));
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
                    .map(|n| node::strip_wrappers(n, node::Wrappers::CHAIN));
                continue;
            }
            let Some(link) = self.call_index(current).map(|i| &facts.calls[i]) else {
                return true;
            };
            let names_method = link.path.is_some() || kb.http_builder_method(facts, link).is_some();
            if names_method {
                return false;
            }
            receiver = link
                .receiver
                .map(|n| node::strip_wrappers(n, node::Wrappers::CHAIN));
        }
        true
    }

    /// Whether a remote library call changes the state of a store other than a cache: the knowledge base marks
    /// it a mutation, or leaves it open and the SQL text or HTTP method shows one.
    fn is_mutation(
        &self,
        facts: &FileFacts<'_>,
        source: &str,
        call: &Call<'_>,
        api: &Api,
        http_method: Option<&str>,
    ) -> bool {
        match api.kind {
            ApiKind::Cache | ApiKind::Local | ApiKind::Lock => false,
            ApiKind::Db => match self.sql_verb(facts, source, call) {
                Some(verb) => is_write_verb(&verb),
                None => api.mutation != Some(false),
            },
            ApiKind::Http => match http_method {
                Some(method) => Method::from_name(method).is_some_and(Method::changes_state),
                None => api.mutation == Some(true),
            },
            ApiKind::Queue | ApiKind::ObjectStore | ApiKind::Rpc | ApiKind::Socket => {
                api.mutation == Some(true)
            }
        }
    }

    /// The first word of the SQL a DB call runs, when an argument (or the local it names, or a `sqlx::query(…)`
    /// its receiver chain starts from) is a string literal.
    fn sql_verb(&self, facts: &FileFacts<'_>, source: &str, call: &Call<'_>) -> Option<String> {
        let mut candidates: Vec<Node<'_>> = call.args.clone();
        let mut receiver = call.receiver;
        while let Some(r) = receiver {
            let Some(link) = self
                .call_index(node::strip_wrappers(r, node::Wrappers::CHAIN))
                .map(|i| &facts.calls[i])
            else {
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

    /// A call inside an `async` block handed to `spawn` (blocks are not functions of their own in the facts).
    fn in_spawned_block<'t>(&self, facts: &FileFacts<'t>, call: &Call<'t>) -> bool {
        if facts.language != Language::Rust {
            return false;
        }
        let function = call.function.map(|f| facts.functions[f].node);
        facts
            .ancestors(call.node)
            .skip(1)
            .take_while(|a| Some(*a) != function)
            .any(|a| {
                dsr_syntax::kind(facts.language, a) == "async_block" && self.is_spawned(facts, a)
            })
    }

    /// A function literal, closure or async block that runs on its own: `go func() {…}()`, or the argument of
    /// a `spawn` (`tokio::spawn(async move {…})`, `std::thread::spawn(move || …)`); or one its enclosing
    /// function returns for later (a dialer or handler factory: `return func(ctx, …) { d.DialContext(…) }`),
    /// which does nothing while the factory runs.
    fn is_spawned<'t>(&self, facts: &FileFacts<'t>, function: Node<'t>) -> bool {
        let Some(parent) = facts.parent(function) else {
            return false;
        };
        // Kind names from the grammar's table (asked of every function of the file).
        let kind = |n: Node<'t>| dsr_syntax::kind(facts.language, n);
        let parent_kind = kind(parent);
        let returned = matches!(parent_kind, "return_statement" | "return_expression")
            || parent_kind == "expression_list"
                && facts
                    .parent(parent)
                    .is_some_and(|p| kind(p) == "return_statement");
        if returned {
            return true;
        }
        if parent_kind == "call_expression" && is_spawn_statement(facts, parent) {
            return true;
        }
        let Some(call) = facts
            .ancestors(function)
            .skip(1)
            .take(3)
            .find(|a| kind(*a) == "call_expression")
            .and_then(|n| self.call_index(n))
            .map(|i| &facts.calls[i])
        else {
            return false;
        };
        let spawner = call
            .method
            .as_deref()
            .or_else(|| call.path.as_deref().and_then(|p| p.rsplit(':').next()));
        let derivation = &CallKinds::builtin().derivation;
        // A TS timer callback runs later, on its own: the function that arms the timer does not wait for it.
        let timer = facts.language.is_typescript()
            && derivation.timer_callbacks.contains(&call.callee_text);
        (timer || spawner.is_some_and(|name| derivation.task_spawns.iter().any(|s| s == name)))
            && call
                .args
                .iter()
                .any(|a| TextRange::of(*a).contains_range(TextRange::of(function)))
    }
}

fn is_write_verb(verb: &str) -> bool {
    matches!(
        verb,
        "INSERT" | "UPDATE" | "DELETE" | "UPSERT" | "MERGE" | "REPLACE" | "TRUNCATE"
    )
}

/// `go f(x)`: the call is the statement's whole expression.
fn is_spawn_statement<'t>(facts: &FileFacts<'t>, call: Node<'t>) -> bool {
    facts
        .parent(call)
        .is_some_and(|p| p.kind() == "go_statement")
}

/// The HTTP method an API's `method_arg` or `method_field` gives for this call.
fn method_of_arguments(
    facts: &FileFacts<'_>,
    source: &str,
    call: &Call<'_>,
    api: &Api,
) -> Option<String> {
    if let Some(arg) = api.method_arg.and_then(|i| call.args.get(i)) {
        return method_name(facts, *arg, source);
    }
    let field = api.method_field.as_deref()?;
    for arg in &call.args {
        let object = if arg.kind() == "identifier" {
            facts.declared_value(
                call.function,
                node::text(*arg, source),
                call.node.start_byte(),
            )
        } else {
            Some(*arg)
        };
        let Some(object) = object else { continue };
        let Some(literal) = facts.literal_of(object) else {
            continue;
        };
        if let Some(value) = literal.field(field).and_then(|f| f.value) {
            return method_name(facts, value, source);
        }
        if literal.has_spread {
            return None;
        }
    }
    // Options handed over as a value the file does not show (`fetch(url, init)`): the method is unknown.
    let options: Vec<&Node<'_>> = call
        .args
        .iter()
        .filter(|a| !node::function_kinds(facts.language).contains(&a.kind()))
        .collect();
    let opaque = options.len() >= 2
        && options.last().is_some_and(|last| {
            !node::is_string_literal(**last, facts.language) && facts.literal_of(**last).is_none()
        });
    if opaque {
        return None;
    }
    api.default_method.clone()
}

/// `"POST"`, `http.MethodPost`, `Method::POST`, `reqwest::Method::PATCH` → the upper-case method name.
fn method_name(facts: &FileFacts<'_>, value: Node<'_>, source: &str) -> Option<String> {
    if let Some(text) = node::string_literal_value(value, source, facts.language) {
        return Some(text.trim().to_ascii_uppercase());
    }
    let text = node::text(value, source);
    let last = dsr_core::kb::last_segment(text).trim();
    let last = last.strip_prefix("Method").unwrap_or(last);
    Method::from_name(last).map(|m| m.as_str().to_string())
}

/// An insert made only when a lookup found nothing: in a Rust `None` / `Ok(None)` match arm, under an
/// `if … .is_none()`, or a Go branch on `sql.ErrNoRows`. A repeat of the function looks again first, finds the
/// row the first attempt wrote, and skips the insert: the write is guarded by its own check.
fn inserts_only_when_absent(facts: &FileFacts<'_>, call: &Call<'_>, source: &str) -> bool {
    let function = call.function;
    let scopes = node::function_kinds(facts.language);
    facts
        .ancestors(call.node)
        .take_while(|a| !scopes.contains(&a.kind()))
        .any(|a| match a.kind() {
            "match_arm" => a
                .child_by_field_name("pattern")
                .is_some_and(|p| matches!(node::text(p, source).trim(), "None" | "Ok(None)")),
            "if_expression" | "if_statement" => {
                a.child_by_field_name("condition").is_some_and(|c| {
                    let text = node::text(c, source);
                    text.contains("is_none()") || text.contains("ErrNoRows")
                }) && a
                    .child_by_field_name("consequence")
                    .is_some_and(|body| TextRange::of(body).contains(call.node.start_byte()))
            }
            _ => false,
        })
        && function.is_some()
}

/// The non-idempotent write a remote library call makes, if it makes one and nothing in its function guards it.
fn classify_write(
    facts: &FileFacts<'_>,
    source: &str,
    kb: &KnowledgeBase,
    call: &Call<'_>,
    api: &Api,
    http_method: Option<&str>,
    scopes: &mut ScopeNames,
) -> Option<WriteKind> {
    // A user's `[[effects]]` entry says whether a repeat duplicates the effect.
    match api.idempotent {
        Some(true) => return None,
        Some(false) => {
            return match api.kind {
                ApiKind::Db => Some(WriteKind::SqlInsert),
                ApiKind::Queue => Some(WriteKind::Publish),
                _ => Some(WriteKind::Http(
                    http_method.map_or_else(|| "POST".to_string(), str::to_string),
                )),
            }
        }
        None => {}
    }
    match api.kind {
        ApiKind::Http => {
            let method = http_method?;
            if Method::from_name(method).is_none_or(Method::is_idempotent) {
                return None;
            }
            // RPC over HTTP posts every operation: the function making the request names what it does.
            if named_function(facts, call.function)
                .is_some_and(|name| CallKinds::builtin().operations.repeat_safe(name))
            {
                return None;
            }
            let keys: Vec<String> = kb.idempotency_keys(facts.language).map(normalize).collect();
            if scopes.mentions_any(facts, source, call, &keys) {
                return None;
            }
            Some(WriteKind::Http(method.to_string()))
        }
        ApiKind::Db => {
            let sql = sql_text(facts, source, call)?;
            (sql_insert_without_upsert(&sql) == Some(true)
                && !inserts_only_when_absent(facts, call, source))
            .then_some(WriteKind::SqlInsert)
        }
        ApiKind::Queue if api.role == Some(ApiRole::Publish) => {
            let names: Vec<String> = kb.dedup_names(facts.language).map(normalize).collect();
            if scopes.mentions_any(facts, source, call, &names) {
                return None;
            }
            Some(WriteKind::Publish)
        }
        _ => None,
    }
}

/// The name of the nearest named function around a call (a closure's: the function it is written in).
fn named_function<'f>(facts: &'f FileFacts<'_>, mut function: Option<usize>) -> Option<&'f str> {
    while let Some(f) = function {
        let candidate = &facts.functions[f];
        if candidate.name != ANONYMOUS {
            return Some(&candidate.name);
        }
        function = candidate.parent;
    }
    None
}

/// The SQL a database call runs: a string literal among its arguments (or a constant/variable holding one), or
/// in the call its builder chain starts from (`sqlx::query("…").bind(x).execute(&pool)`).
fn sql_text(facts: &FileFacts<'_>, source: &str, call: &Call<'_>) -> Option<String> {
    let mut current = Some(call.node);
    let mut hops = 0;
    while let Some(n) = current {
        let arguments = n
            .child_by_field_name("arguments")
            .or_else(|| (n.kind() == "macro_invocation").then_some(n));
        if let Some(arguments) = arguments {
            for arg in node::named_children(arguments) {
                if let Some(sql) = string_in(facts, arg, source) {
                    return Some(sql);
                }
                if arg.kind() == "identifier" {
                    let name = node::text(arg, source);
                    let value = facts.declared_value(call.function, name, call.node.start_byte());
                    if let Some(sql) = value.and_then(|v| string_in(facts, v, source)) {
                        return Some(sql);
                    }
                }
            }
        }
        hops += 1;
        if hops > 8 {
            break;
        }
        current = n
            .child_by_field_name("function")
            .and_then(|f| {
                f.child_by_field_name("value")
                    .or(f.child_by_field_name("object"))
                    .or(f.child_by_field_name("operand"))
            })
            .map(|n| node::strip_wrappers(n, node::Wrappers::AWAITED));
    }
    None
}

fn string_in(facts: &FileFacts<'_>, n: Node<'_>, source: &str) -> Option<String> {
    node::descendants(n)
        .filter(|d| node::is_string_literal(*d, facts.language))
        .find_map(|d| node::string_literal_value(d, source, facts.language))
        .filter(|s| !s.trim().is_empty())
}

/// Whether SQL text is an `INSERT` that a repeat would apply twice: `Some(true)` for a plain insert,
/// `Some(false)` for any other statement or an upsert/ignore form, `None` when the text does not tokenize.
pub fn sql_insert_without_upsert(sql: &str) -> Option<bool> {
    use sqlparser::tokenizer::{Token, Tokenizer};
    let dialect = sqlparser::dialect::GenericDialect {};
    let tokens = Tokenizer::new(&dialect, sql).tokenize().ok()?;
    let words: Vec<String> = tokens
        .iter()
        .filter_map(|t| match t {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
            _ => None,
        })
        .collect();
    let Some(insert) = words.iter().position(|w| w == "INSERT") else {
        return Some(false);
    };
    let guarded = words.windows(2).any(|pair| {
        matches!(
            (pair[0].as_str(), pair[1].as_str()),
            ("ON", "CONFLICT")
                | ("ON", "DUPLICATE")
                | ("OR", "IGNORE")
                | ("OR", "REPLACE")
                | ("NOT", "EXISTS")
        )
    }) || words.get(insert + 1).is_some_and(|w| w == "IGNORE");
    Some(!guarded)
}

/// Lower-case, without `-` and `_`: `Idempotency-Key`, `idempotency_key` and `idempotencyKey` compare equal.
fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '-' && *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The names a function mentions in strings, fields, assignments and calls, normalized, cached per function.
#[derive(Default)]
struct ScopeNames {
    cache: FxHashMap<Option<usize>, FxHashSet<String>>,
}

impl ScopeNames {
    /// Whether the outermost function around `call` (the whole file at top level) mentions one of `names`:
    /// a header set on the request, a dedup id on the message, an idempotency key passed as an option.
    fn mentions_any(
        &mut self,
        facts: &FileFacts<'_>,
        source: &str,
        call: &Call<'_>,
        names: &[String],
    ) -> bool {
        let scope = call.function.map(|f| facts.outermost_function(f));
        let mentioned = self
            .cache
            .entry(scope)
            .or_insert_with(|| scope_names(facts, source, scope));
        names.iter().any(|name| mentioned.contains(name))
    }
}

fn scope_names(facts: &FileFacts<'_>, source: &str, scope: Option<usize>) -> FxHashSet<String> {
    let range = scope.map_or(TextRange::new(0, source.len()), |f| {
        facts.functions[f].range()
    });
    let mut names = FxHashSet::default();
    // Everything below is in document order: each kind is a binary search for the scope, not a scan of the
    // file per scope.
    let first = facts
        .strings
        .partition_point(|s| s.range.start < range.start);
    for string in facts.strings[first..]
        .iter()
        .take_while(|s| s.range.start < range.end)
        .filter(|s| range.contains_range(s.range))
    {
        names.insert(normalize(string.value.trim()));
    }
    for literal in facts.literals_within(range) {
        for field in &literal.fields {
            names.insert(normalize(&field.name));
        }
    }
    for assignment in facts.assignments_within(range) {
        let last = dsr_core::kb::last_segment(&assignment.target);
        names.insert(normalize(last));
    }
    for call in facts.calls_within(range) {
        if let Some(method) = &call.method {
            names.insert(normalize(method));
        }
        let last = dsr_core::kb::last_segment(&call.callee_text);
        names.insert(normalize(last));
    }
    names
}

/// The named functions of a file by their own name (`send` for `Client.send`, `Client::send`, `send`).
struct FunctionNames {
    by_name: FxHashMap<String, Vec<usize>>,
}

impl FunctionNames {
    fn new(facts: &FileFacts<'_>) -> Self {
        let mut by_name: FxHashMap<String, Vec<usize>> = FxHashMap::default();
        for (index, function) in facts.functions.iter().enumerate() {
            if function.name == ANONYMOUS {
                continue;
            }
            let own = dsr_core::kb::last_segment(&function.name);
            by_name.entry(own.to_string()).or_default().push(index);
        }
        FunctionNames { by_name }
    }

    /// The function of this file a call that the knowledge base does not know calls: `helper(…)`,
    /// `s.helper(…)` on the method's own receiver, `self.helper(…)`, `Self::helper(…)`, `this.helper(…)`, or
    /// a method name only this file defines.
    fn callee(&self, facts: &FileFacts<'_>, source: &str, call: &Call<'_>) -> Option<usize> {
        if call.is_new {
            return None;
        }
        let text = call.callee_text.as_str();
        // A byte scan: `str::contains` with a `&str` pattern builds a searcher per call of the file.
        let path_call = text.as_bytes().windows(2).any(|pair| pair == b"::");
        let (qualifier, name) = match path_call.then(|| text.rsplit_once("::")).flatten() {
            Some((q, n)) => (Some(q), n),
            None => match text.rsplit_once('.') {
                Some((q, n)) => (Some(q), n),
                None => (None, text),
            },
        };
        if name.is_empty() || name.ends_with('!') {
            return None;
        }
        let candidates = self.by_name.get(name)?;
        let is_method = |i: &usize| facts.functions[*i].name.contains(['.', ':']);
        match qualifier {
            None => candidates.iter().copied().find(|i| !is_method(i)),
            Some(qualifier) => {
                let head = qualifier.split(['.', ':']).next().unwrap_or(qualifier);
                let own_receiver = matches!(head, "self" | "this" | "Self")
                    || (facts.language == Language::Go
                        && is_go_receiver(facts, source, call, head));
                if facts.import(head).is_some() && !own_receiver {
                    return None;
                }
                // A path call names its type (`std::path::Path::new`, `Poller::new`): only a method of that
                // type is it, never another type's method of the same name (router's `Path::new` was taken
                // for the file's own remote `new`).
                let type_name = |path: &str| {
                    let path = path.split('<').next().unwrap_or(path);
                    path.trim_end_matches(':')
                        .rsplit("::")
                        .next()
                        .unwrap_or(path)
                        .to_string()
                };
                let named_type = (path_call && !own_receiver).then(|| type_name(qualifier));
                let of_named_type = |i: &usize| {
                    named_type.as_deref().is_none_or(|ty| {
                        facts.functions[*i]
                            .name
                            .rsplit_once("::")
                            .is_some_and(|(owner, _)| type_name(owner) == ty)
                    })
                };
                let methods: Vec<usize> = candidates
                    .iter()
                    .copied()
                    .filter(is_method)
                    .filter(of_named_type)
                    .collect();
                if !own_receiver && methods.len() != 1 {
                    return None;
                }
                // Prefer a method of the same type as the caller's.
                let caller_type =
                    call.function
                        .map(|f| facts.outermost_function(f))
                        .and_then(|f| {
                            let name = &facts.functions[f].name;
                            name.rsplit_once(['.', ':'])
                                .map(|(t, _)| t.trim_end_matches(':').to_string())
                        });
                let same_type = methods.iter().copied().find(|i| {
                    caller_type
                        .as_deref()
                        .is_some_and(|t| facts.functions[*i].name.starts_with(t))
                });
                same_type.or_else(|| methods.first().copied())
            }
        }
    }
}

/// A call the workspace index resolves to a function of another file that reaches a remote system: the
/// most telling of its remote effects (a write a repeat duplicates, then a mutation, then any).
fn index_remote(
    workspace: Option<&crate::index::IndexView>,
    facts: &FileFacts<'_>,
    call: &Call<'_>,
    index: usize,
) -> Option<RemoteCall> {
    use crate::index::Effect;
    let (best, path) = workspace?.remote_effect(facts, call)?;
    let Effect::Remote {
        kind,
        method,
        mutation,
        duplicate,
        ..
    } = &best.effect
    else {
        return None;
    };
    Some(RemoteCall {
        kind: *kind,
        via: None,
        call: index,
        http_method: method.clone(),
        mutation: mutation.then_some(index),
        write: duplicate.clone().map(|kind| Write { call: index, kind }),
        external: Some(External {
            path: path.to_path_buf(),
            range: best.range,
            confidence: best.confidence,
            depth: best.depth,
        }),
    })
}

/// Whether `name` is the receiver of the Go method the call is in (`s` in `func (s *Server) …`).
fn is_go_receiver(facts: &FileFacts<'_>, source: &str, call: &Call<'_>, name: &str) -> bool {
    let Some(function) = call.function.map(|f| facts.outermost_function(f)) else {
        return false;
    };
    let declaration = facts.functions[function].node;
    declaration
        .child_by_field_name("receiver")
        .and_then(|r| node::named_children(r).next())
        .and_then(|p| p.child_by_field_name("name"))
        .is_some_and(|n| node::text(n, source) == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsr_syntax::Document;

    fn with_effects(
        language: Language,
        source: &str,
        check: impl FnOnce(&FileFacts<'_>, &RemoteCalls),
    ) {
        with_kb(language, source, KnowledgeBase::builtin(), check)
    }

    /// The model of `source` computed with `kb`, handed to `check`.
    fn with_kb<T>(
        language: Language,
        source: &str,
        kb: &KnowledgeBase,
        check: impl FnOnce(&FileFacts<'_>, &RemoteCalls) -> T,
    ) -> T {
        let document = Document::new(language, source, 0).expect("grammar loads");
        let facts = FileFacts::compute(language, document.tree(), source);
        let effects = RemoteCalls::compute(&facts, source, kb);
        check(&facts, &effects)
    }

    /// The builtin knowledge base with one user `[[effects]]` entry, written as TOML.
    fn kb_with_effect(language: Language, entry: &str) -> KnowledgeBase {
        let effects = vec![dsr_core::kb::Effect {
            language,
            api: toml::from_str(entry).expect("a valid entry"),
        }];
        KnowledgeBase::with_effects(&effects)
    }

    fn remote_of<'a>(
        facts: &FileFacts<'_>,
        effects: &'a RemoteCalls,
        callee: &str,
    ) -> Option<&'a RemoteCall> {
        let index = facts.calls.iter().position(|c| c.callee_text == callee)?;
        effects.remote(index)
    }

    #[test]
    fn user_effects_declare_remote_writes() {
        let kb = kb_with_effect(
            Language::TypeScript,
            "path = \"@acme/billing.charge\"\nkind = \"http\"\nremote = true\nhttp_method = \"POST\"",
        );
        let source = "import { charge } from \"@acme/billing\";\nexport async function f() { await charge(1); }\n";
        with_kb(Language::TypeScript, source, &kb, |_, remote| {
            let charge = remote.remote(0).expect("the wrapper is remote");
            assert!(
                matches!(&charge.write, Some(Write { kind: WriteKind::Http(m), .. }) if m == "POST")
            );
        });
    }

    #[test]
    fn user_effects_name_methods_of_generated_clients_by_the_end_of_their_name() {
        let kb = kb_with_effect(
            Language::Go,
            "path = \"billing.Client.Charge\"\nkind = \"http\"\nremote = true\nidempotent = false",
        );
        let source = "package p\nimport \"github.com/acme/billing\"\nfunc f(c *billing.Client) { c.Charge(1); c.Refund(1) }\n";
        with_kb(Language::Go, source, &kb, |_, remote| {
            let charge = remote.remote(0).expect("the declared method is remote");
            assert!(matches!(
                &charge.write,
                Some(Write {
                    kind: WriteKind::Http(_),
                    ..
                })
            ));
            assert!(remote.remote(1).is_none(), "only the declared method");
        });
    }

    #[test]
    fn sql_inserts_are_told_from_upserts() {
        assert_eq!(
            sql_insert_without_upsert("INSERT INTO t (a) VALUES ($1)"),
            Some(true)
        );
        assert_eq!(
            sql_insert_without_upsert("insert into t (a) values (?) on conflict (a) do nothing"),
            Some(false)
        );
        assert_eq!(
            sql_insert_without_upsert("INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a = 1"),
            Some(false)
        );
        assert_eq!(
            sql_insert_without_upsert("INSERT IGNORE INTO t VALUES (1)"),
            Some(false)
        );
        assert_eq!(sql_insert_without_upsert("UPDATE t SET a = 1"), Some(false));
    }

    #[test]
    fn go_helpers_propagate_remote_posts() {
        let source = r#"package p
import "net/http"
func notify(url string) error {
	req, _ := http.NewRequest(http.MethodPost, url, nil)
	_, err := http.DefaultClient.Do(req)
	return err
}
func wrapper(url string) error { return notify(url) }
func keyed(url, key string) error {
	req, _ := http.NewRequest("POST", url, nil)
	req.Header.Set("Idempotency-Key", key)
	_, err := http.DefaultClient.Do(req)
	return err
}
func put(url string) error {
	req, _ := http.NewRequest("PUT", url, nil)
	_, err := http.DefaultClient.Do(req)
	return err
}
func main() { wrapper("x"); keyed("x", "k"); put("x"); local() }
func local() {}
"#;
        with_effects(Language::Go, source, |facts, effects| {
            let wrapper = remote_of(facts, effects, "wrapper").expect("wrapper is remote");
            assert!(wrapper.via.is_some());
            assert!(
                matches!(&wrapper.write, Some(Write { kind: WriteKind::Http(m), .. }) if m == "POST")
            );
            let keyed = remote_of(facts, effects, "keyed").expect("keyed is remote");
            assert_eq!(keyed.write, None);
            let put = remote_of(facts, effects, "put").expect("put is remote");
            assert_eq!(put.write, None);
            assert!(remote_of(facts, effects, "local").is_none());
        });
    }

    #[test]
    fn rust_builder_chains_and_sql_strings() {
        let source = r#"use reqwest::Client;
use sqlx::PgPool;
async fn create(client: &Client) { client.post("u").json(&1).send().await; }
async fn replace(client: &Client) { client.put("u").send().await; }
async fn save(pool: &PgPool) { sqlx::query("INSERT INTO t VALUES ($1)").bind(1).execute(pool).await; }
async fn upsert(pool: &PgPool) { sqlx::query("INSERT INTO t VALUES ($1) ON CONFLICT DO NOTHING").execute(pool).await; }
"#;
        with_effects(Language::Rust, source, |facts, effects| {
            let sends: Vec<_> = facts
                .calls
                .iter()
                .enumerate()
                .filter(|(_, c)| c.method.as_deref() == Some("send"))
                .map(|(i, _)| effects.remote(i).and_then(|r| r.http_method.clone()))
                .collect();
            assert_eq!(sends, [Some("POST".to_string()), Some("PUT".to_string())]);
            let executes: Vec<_> = facts
                .calls
                .iter()
                .enumerate()
                .filter(|(_, c)| c.method.as_deref() == Some("execute"))
                .map(|(i, _)| {
                    effects
                        .remote(i)
                        .and_then(|r| r.write.clone())
                        .map(|w| w.kind)
                })
                .collect();
            assert_eq!(executes, [Some(WriteKind::SqlInsert), None]);
        });
    }

    #[test]
    fn a_path_call_is_only_a_method_of_the_type_it_names() {
        let source = r#"use reqwest::Client;
struct Poller { client: Client }
impl Poller {
    async fn new(client: Client) -> Poller { client.get("u").send().await; Poller { client } }
}
fn open(name: &str) -> std::path::PathBuf { std::path::Path::new(name).to_path_buf() }
async fn start(client: Client) -> Poller { Poller::new(client).await }
"#;
        with_effects(Language::Rust, source, |facts, effects| {
            let remote_of = |callee: &str| {
                let index = facts
                    .calls
                    .iter()
                    .position(|c| c.callee_text == callee)
                    .expect("call in source");
                effects.remote(index).is_some()
            };
            assert!(!remote_of("std::path::Path::new"));
            assert!(remote_of("Poller::new"));
        });
    }

    #[test]
    fn typescript_fetch_methods_and_this_helpers() {
        let source = r#"class Api {
  async create(body) { return fetch("/orders", { method: "POST", body }); }
  async keyed(body, key) { return fetch("/orders", { method: "POST", headers: { "Idempotency-Key": key } }); }
  async run(init) { await this.create(1); await this.keyed(1, "k"); await fetch("/y", init); await fetch("/x"); }
}
"#;
        with_effects(Language::TypeScript, source, |facts, effects| {
            let create = remote_of(facts, effects, "this.create").expect("helper is remote");
            assert!(
                matches!(&create.write, Some(Write { kind: WriteKind::Http(m), .. }) if m == "POST")
            );
            let keyed = remote_of(facts, effects, "this.keyed").expect("helper is remote");
            assert_eq!(keyed.write, None);
            let plain = facts
                .calls
                .iter()
                .rposition(|c| c.callee_text == "fetch")
                .and_then(|i| effects.remote(i))
                .expect("fetch is remote");
            assert_eq!(plain.http_method.as_deref(), Some("GET"));
            let opaque = facts
                .calls
                .iter()
                .position(|c| {
                    c.callee_text == "fetch"
                        && c.args.len() == 2
                        && c.args[1].kind() == "identifier"
                })
                .and_then(|i| effects.remote(i))
                .expect("fetch is remote");
            assert_eq!(opaque.http_method, None);
        });
    }

    fn remote_calls(language: Language, source: &str) -> Vec<(String, bool, bool)> {
        with_kb(
            language,
            source,
            KnowledgeBase::builtin(),
            |facts, model| {
                facts
                    .calls
                    .iter()
                    .enumerate()
                    .filter_map(|(i, c)| {
                        model
                            .remote(i)
                            .map(|r| (c.callee_text.clone(), r.via.is_some(), r.mutation.is_some()))
                    })
                    .collect()
            },
        )
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
