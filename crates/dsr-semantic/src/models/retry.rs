//! The retry loops of a file: hand-written loops that go round again when a remote call fails, and calls into
//! retry libraries (cenkalti/backoff, retry-go, go-retryablehttp, backoff, backon, tokio-retry, p-retry,
//! async-retry, cockatiel).
//!
//! A loop is a retry loop when its body makes a remote call ([`RemoteCalls`]) and that call's failure leads
//! to the next iteration while its success leaves the loop:
//! - Go: `if err != nil { …; continue }` with a `return`/`break` on success, or `if err == nil { break }` then
//!   falling through to the next iteration;
//! - Rust: `match call { Ok(v) => break v, Err(_) => continue }`, `if let Err(_) = call { continue }`,
//!   `if let Ok(v) = call { return v }`, `while let Err(_) = call { … }`, and the same through a `let`;
//! - TypeScript: the call inside `try { … }` whose `catch` neither rethrows nor leaves the loop, or
//!   `if (res.ok) return …` then falling through.
//!
//! Loops over a collection (`for _, x := range xs`, `for x in xs`, `for (const x of xs)`) are not retries (each
//! iteration does different work), nor are pagination loops (the next request carries a cursor taken from the
//! response), nor loops that go round again on success too (workers, pollers).
//!
//! For each retry the model records its attempt counter, its cap, its deadline or cancellation checks, its
//! delay (and whether that grows with the attempt or has a random part, following local variables and helper
//! functions of the file that receive the counter), and the remote calls that a retry runs again.

use dsr_syntax::node::{self, Mention, Wrappers};
use dsr_syntax::{Language, TextRange};
use std::cell::OnceCell;

use rustc_hash::{FxHashMap, FxHashSet};
use tree_sitter::Node;

use super::control_flow;
use super::remote::RemoteCalls;
use crate::facts::{Call, FileFacts};
use crate::kb::KbMatch;
use dsr_core::kb::{ApiRole, KnowledgeBase, PathGroupKind, RetryEffect, RetryLibrary};

/// Every retry of a file.
#[derive(Debug, Default)]
pub struct Retries<'t> {
    pub loops: Vec<Retry<'t>>,
}

/// A hand-written retry loop or a retry-library call.
#[derive(Debug)]
pub struct Retry<'t> {
    /// The loop, or the library call.
    pub node: Node<'t>,
    /// Where findings about the retry as a whole point: the loop keyword, or the library function's name.
    pub anchor: TextRange,
    pub function: Option<usize>,
    pub kind: RetryKind,
    /// What a retry runs again: the loop body, or the operation callbacks given to the library.
    pub operations: Vec<Node<'t>>,
    /// Remote calls (indices into [`FileFacts::calls`]) whose failure sends the loop round again.
    pub retried: Vec<usize>,
    /// Remote calls a retry runs again: in a loop, every remote call up to the last retried one; in a library
    /// retry, every remote call of the operation.
    pub repeated: Vec<usize>,
    /// What sends a failure round again: the `continue`, the `catch` clause, the `Err` arm, the success check.
    pub retry_edge: Option<TextRange>,
    /// The attempt counter, when the loop keeps one.
    pub attempt: Option<Counter>,
    /// What caps the number of attempts (the loop condition, an `if attempt >= max { return }`).
    pub cap: Option<TextRange>,
    /// A deadline or cancellation check (`ctx.Err()`, `<-ctx.Done()`, `start.elapsed() > max`, `signal.aborted`).
    pub deadline: Option<TextRange>,
    /// The wait between attempts, if any.
    pub delay: Option<Delay<'t>>,
}

#[derive(Debug)]
pub enum RetryKind {
    Loop,
    Library(Box<LibraryRetry>),
    /// A function that calls itself again when its remote call fails: directly (recursion in a `catch` or an
    /// error branch) or, with `timer`, later (`setTimeout`, `time.AfterFunc`, a spawned task that sleeps first).
    /// `node` and `anchor` are the call that restarts it; `function` is the function restarted.
    Reschedule {
        timer: bool,
    },
    /// A function that computes a retry delay from an attempt count (`backoff(attempt)`), with no loop in sight:
    /// `delay` says whether its result grows and has a random part, `cap` whether it is clamped. It retries
    /// nothing itself (`retried` is empty).
    Strategy,
}

impl Retry<'_> {
    pub fn library(&self) -> Option<&LibraryRetry> {
        match &self.kind {
            RetryKind::Library(library) => Some(library),
            RetryKind::Loop | RetryKind::Reschedule { .. } | RetryKind::Strategy => None,
        }
    }

    pub fn is_loop(&self) -> bool {
        matches!(self.kind, RetryKind::Loop)
    }

    /// A retry the code writes itself, as a loop or as a function restarting itself; not a library's, and not
    /// a backoff strategy on its own.
    pub fn is_hand_written(&self) -> bool {
        matches!(self.kind, RetryKind::Loop | RetryKind::Reschedule { .. })
    }

    /// A backoff strategy function judged on its own.
    pub fn is_strategy(&self) -> bool {
        matches!(self.kind, RetryKind::Strategy)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counter {
    pub name: String,
    pub range: TextRange,
}

/// The wait between two attempts of a loop.
#[derive(Debug)]
pub struct Delay<'t> {
    /// The sleep (`time.Sleep(d)`, `tokio::time::sleep(d)`, `setTimeout(r, d)`, `time.After(d)`, a helper).
    pub call: Node<'t>,
    /// The duration expression, when the sleep takes one.
    pub duration: Option<Node<'t>>,
    /// The duration grows with the attempt (multiplied, shifted or raised to a power by the counter, or a
    /// variable multiplied on every iteration).
    pub grows: bool,
    /// The duration has a random part (`rand`, `fastrand`, `Math.random`, a `jitter` helper).
    pub random: bool,
    /// A function of the file that computes the duration from the counter.
    pub helper: Option<usize>,
}

/// A retry library's behaviour at one call: its defaults and the settings the code changes.
#[derive(Debug, Clone)]
pub struct LibraryRetry {
    pub library: String,
    /// The library's defaults, in words.
    pub defaults: String,
    pub jitter: Judged,
    pub grows: Judged,
    pub bounded: Judged,
    /// A cancellation the retries stop on (`backoff.WithContext(b, ctx)`, `retry.Context(ctx)`, `signal`).
    pub cancellation: Option<TextRange>,
    /// Whether all the configuration is visible here; a backoff passed in as a parameter is not.
    pub config_visible: bool,
}

/// A property of a library retry, from the library's default or from a setting in the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    pub value: bool,
    /// The setting that decided it (`None`: the library default), with the knowledge base's note on it.
    pub setting: Option<(TextRange, Option<String>)>,
}

impl<'t> Retries<'t> {
    /// The retries of a file (computes the [`RemoteCalls`] it needs).
    pub fn compute(facts: &FileFacts<'t>, source: &str, kb: &KnowledgeBase) -> Self {
        let effects = RemoteCalls::compute(facts, source, kb);
        Self::compute_with(facts, source, kb, &effects)
    }

    pub fn compute_with(
        facts: &FileFacts<'t>,
        source: &str,
        kb: &KnowledgeBase,
        effects: &RemoteCalls,
    ) -> Self {
        let mut loops = Vec::new();
        if facts.language == Language::Sql {
            return Retries { loops };
        }
        let analyzer = Analyzer {
            facts,
            source,
            kb,
            effects,
            language: facts.language,
            grown_fields: OnceCell::new(),
            bound_values: OnceCell::new(),
        };
        for lp in &facts.loops {
            if let Some(retry) = analyzer.loop_retry(lp.node, lp.function) {
                loops.push(retry);
            }
        }
        loops.extend(analyzer.reschedules());
        loops.extend(analyzer.poll_state_machines());
        for (index, call) in facts.calls.iter().enumerate() {
            if let Some(library) = kb.retry_library(facts, call) {
                if analyzer.never_used_to_retry(call) {
                    continue;
                }
                loops.push(analyzer.library_retry(index, call, library));
            }
        }
        loops.extend(analyzer.strategies());
        loops.sort_by_key(|l| l.node.start_byte());
        Retries { loops }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Retry<'t>> {
        self.loops.iter()
    }

    /// Whether a retry's delay is computed by a backoff strategy function of the file, which is judged where it
    /// is defined (on its own, whoever calls it) rather than at each retry that waits on it.
    pub fn delay_from_strategy(&self, retry: &Retry<'t>) -> bool {
        let Some(helper) = retry.delay.as_ref().and_then(|d| d.helper) else {
            return false;
        };
        self.loops
            .iter()
            .any(|r| r.is_strategy() && r.function == Some(helper))
    }
}

struct Analyzer<'a, 't> {
    facts: &'a FileFacts<'t>,
    source: &'a str,
    kb: &'a KnowledgeBase,
    effects: &'a RemoteCalls,
    language: Language,
    /// The fields the file grows (`field_grows`): asked per delay expression, found on first use by one look at
    /// every assignment to a field.
    grown_fields: OnceCell<FxHashSet<String>>,
    /// The assignment that stores each value (its node, awaits and parentheses stripped): `bound_name`, asked
    /// per retry library call, without a scan of every assignment.
    bound_values: OnceCell<FxHashMap<usize, usize>>,
}

/// The parts of a loop header that matter.
struct Header<'t> {
    body: Node<'t>,
    condition: Option<Node<'t>>,
    /// Counters declared by the header (`attempt := 0`, `for attempt in 0..n`, `let i = 0`).
    counters: Vec<Counter>,
    /// A header that bounds the iterations by itself (`for range 3`, `for _ in 0..n`).
    bounded_by_header: bool,
}

/// How a remote call's failure leads to another iteration.
struct Shape {
    edge: TextRange,
}

impl<'a, 't> Analyzer<'a, 't> {
    fn text(&self, n: Node<'_>) -> &'a str {
        node::text(n, self.source)
    }

    /// The parent of `n`, from the facts (tree-sitter would descend from the root for it).
    fn parent(&self, n: Node<'t>) -> Option<Node<'t>> {
        self.facts.parent(n)
    }

    /// Ancestors of `n`, nearest first.
    fn ancestors(&self, n: Node<'t>) -> impl Iterator<Item = Node<'t>> + '_ {
        self.facts.ancestors(n)
    }

    /// The named siblings after `n`, comments skipped.
    fn following(&self, n: Node<'t>) -> Vec<Node<'t>> {
        std::iter::successors(self.facts.next_named_sibling(n), |s| {
            self.facts.next_named_sibling(*s)
        })
        .filter(|s| !s.kind().contains("comment"))
        .collect()
    }

    // ----- loops -------------------------------------------------------------------------------------------

    fn loop_retry(&self, lp: Node<'t>, function: Option<usize>) -> Option<Retry<'t>> {
        let range = TextRange::of(lp);
        let has_remote = self
            .effects
            .calls_in_range(range)
            .any(|i| self.effects.remote(i).is_some());
        if !has_remote {
            return None;
        }
        if self.handles_local_failure(lp) {
            return None;
        }
        let header = self.header(lp)?;
        let mut retried = Vec::new();
        let mut edge = None;
        for index in self.effects.calls_in_range(range) {
            let call = &self.facts.calls[index];
            if self.effects.remote(index).is_none() {
                continue;
            }
            let shape = if self.directly_in(call.node, lp) {
                self.retry_shape(lp, &header, call)
            } else {
                self.endpoint_shape(lp, call)
            };
            if let Some(shape) = shape {
                if self.is_pagination(lp, call) {
                    return None;
                }
                edge.get_or_insert(shape.edge);
                retried.push(index);
            }
        }
        let last = retried
            .iter()
            .map(|i| self.facts.calls[*i].node.end_byte())
            .max()?;
        let repeated = self
            .effects
            .calls_in_range(range)
            .filter(|i| {
                self.facts.calls[*i].node.start_byte() < last && self.effects.remote(*i).is_some()
            })
            .collect();
        let mut counters = header.counters.clone();
        self.body_counters(lp, &mut counters);
        let names: FxHashSet<String> = counters.iter().map(|c| c.name.clone()).collect();
        let cap = if header.bounded_by_header {
            Some(TextRange::of(header.condition.unwrap_or(lp)))
        } else {
            self.cap(lp, &header, &names)
        };
        let deadline = self.deadline(lp, function);
        let delay = self.delay(lp, function, &names);
        let attempt = counters.into_iter().next();
        Some(Retry {
            node: lp,
            anchor: loop_keyword(lp),
            function,
            kind: RetryKind::Loop,
            operations: vec![header.body],
            retried,
            repeated,
            retry_edge: edge,
            attempt,
            cap,
            deadline,
            delay,
        })
    }

    /// A retry over a nested loop of endpoints: the call sits in a loop over a collection (the endpoints)
    /// directly inside `lp`, a failure moves on to the next endpoint and a success leaves; after the last
    /// endpoint fails, nothing after the inner loop leaves `lp`, so it goes round and tries them all again.
    fn endpoint_shape(&self, lp: Node<'t>, call: &Call<'t>) -> Option<Shape> {
        let loops = node::loop_kinds(self.language);
        let inner = self
            .ancestors(call.node)
            .take_while(|a| a.id() != lp.id())
            .find(|a| loops.contains(&a.kind()))?;
        if !self.directly_in(inner, lp) || !self.directly_in(call.node, inner) {
            return None;
        }
        let over_collection = match inner.kind() {
            "for_statement" => node::named_children(inner).any(|c| {
                c.kind() == "range_clause"
                    && c.child_by_field_name("right")
                        .is_some_and(|right| !self.is_count(right))
            }),
            "for_expression" | "for_in_statement" => true,
            _ => false,
        };
        if !over_collection {
            return None;
        }
        let body = inner.child_by_field_name("body")?;
        let header = self.header(inner).unwrap_or(Header {
            body,
            condition: None,
            counters: Vec::new(),
            bounded_by_header: false,
        });
        let shape = self.retry_shape(inner, &header, call)?;
        let statement = self.statement_of(inner, lp).unwrap_or(inner);
        if self
            .following(statement)
            .iter()
            .any(|s| self.is_exit(unwrap_statement(*s), lp))
        {
            return None;
        }
        Some(shape)
    }

    /// Whether the loop branches on an error a client reports before anything leaves the process (a full
    /// local producer queue, `[local_failures]` in the knowledge base): such a loop waits for room in a local
    /// buffer and sends nothing twice.
    fn handles_local_failure(&self, lp: Node<'t>) -> bool {
        let names: Vec<&str> = self.kb.local_failures(self.language).collect();
        if names.is_empty() {
            return false;
        }
        let nodes = self.facts.nodes();
        let first = nodes.partition_point(|n| n.start_byte() < lp.start_byte());
        nodes[first..]
            .iter()
            .take_while(|n| n.start_byte() < lp.end_byte())
            .filter_map(|n| match n.kind() {
                "if_statement" | "if_expression" => n.child_by_field_name("condition"),
                "expression_case" | "switch_case" => n.child_by_field_name("value"),
                "match_arm" => n.child_by_field_name("pattern"),
                _ => None,
            })
            .any(|condition| {
                let text = node::text(condition, self.source);
                names.iter().any(|name| mentions_word(text, name))
            })
    }

    fn header(&self, lp: Node<'t>) -> Option<Header<'t>> {
        let body = lp.child_by_field_name("body")?;
        let mut header = Header {
            body,
            condition: lp.child_by_field_name("condition"),
            counters: Vec::new(),
            bounded_by_header: false,
        };
        match (self.language, lp.kind()) {
            (Language::Go, "for_statement") => {
                let clause = node::named_children(lp).find(|c| c.id() != body.id());
                match clause.map(|c| (c.kind(), c)) {
                    Some(("for_clause", clause)) => {
                        header.condition = clause.child_by_field_name("condition");
                        if let (Some(init), Some(update)) = (
                            clause.child_by_field_name("initializer"),
                            clause.child_by_field_name("update"),
                        ) {
                            for name in init
                                .child_by_field_name("left")
                                .map(|l| node::named_children(l).collect::<Vec<_>>())
                                .unwrap_or_default()
                            {
                                let text = self.text(name);
                                if node::mentions(update, &[text], self.source, Mention::Variable) {
                                    header.counters.push(Counter {
                                        name: text.to_string(),
                                        range: TextRange::of(name),
                                    });
                                }
                            }
                        }
                    }
                    Some(("range_clause", clause)) => {
                        let right = clause.child_by_field_name("right")?;
                        if !self.is_count(right) {
                            return None;
                        }
                        header.bounded_by_header = true;
                        header.condition = Some(clause);
                        if let Some(name) = clause
                            .child_by_field_name("left")
                            .and_then(|l| node::named_children(l).next())
                        {
                            header.counters.push(Counter {
                                name: self.text(name).to_string(),
                                range: TextRange::of(name),
                            });
                        }
                    }
                    Some((_, condition)) => header.condition = Some(condition),
                    None => {}
                }
            }
            (Language::Rust, "for_expression") => {
                let value = lp
                    .child_by_field_name("value")
                    .map(|v| node::strip_wrappers(v, Wrappers::PARENS))?;
                if value.kind() != "range_expression" {
                    return None;
                }
                // `0..` never ends; `0..n`, `..=n` do.
                let has_end = value
                    .child(value.child_count().saturating_sub(1))
                    .is_some_and(|last| last.is_named());
                header.bounded_by_header = has_end;
                header.condition = Some(value);
                if let Some(pattern) = lp.child_by_field_name("pattern") {
                    if pattern.kind() == "identifier" {
                        header.counters.push(Counter {
                            name: self.text(pattern).to_string(),
                            range: TextRange::of(pattern),
                        });
                    }
                }
            }
            (_, "for_in_statement") => return None,
            // `while let Some(url) = urls.next()`: a walk over a finite collection, each element once (a
            // failover list tried in order), like `for url in urls`.
            (Language::Rust, "while_expression") => {
                let walks = lp
                    .child_by_field_name("condition")
                    .filter(|c| c.kind() == "let_condition")
                    .is_some_and(|c| {
                        let some = c
                            .child_by_field_name("pattern")
                            .is_some_and(|p| self.text(p).starts_with("Some("));
                        let advances = c.child_by_field_name("value").is_some_and(|v| {
                            v.kind() == "call_expression"
                                && v.child_by_field_name("function")
                                    .and_then(|f| f.child_by_field_name("field"))
                                    .is_some_and(|m| {
                                        matches!(
                                            self.text(m),
                                            "next" | "pop" | "pop_front" | "pop_back"
                                        )
                                    })
                        });
                        some && advances
                    });
                if walks {
                    return None;
                }
            }
            (Language::TypeScript | Language::Tsx, "for_statement") => {
                if let (Some(init), Some(increment)) = (
                    lp.child_by_field_name("initializer"),
                    lp.child_by_field_name("increment"),
                ) {
                    for declarator in
                        node::descendants(init).filter(|d| d.kind() == "variable_declarator")
                    {
                        if let Some(name) = declarator.child_by_field_name("name") {
                            let text = self.text(name);
                            if node::mentions(increment, &[text], self.source, Mention::Variable) {
                                header.counters.push(Counter {
                                    name: text.to_string(),
                                    range: TextRange::of(name),
                                });
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        if header
            .condition
            .is_some_and(|c| self.counts_a_collection(c))
        {
            return None;
        }
        Some(header)
    }

    /// A Go `range` over a number: a literal, a constant, or a name that says it counts attempts.
    fn is_count(&self, right: Node<'t>) -> bool {
        if right.kind() == "int_literal" {
            return true;
        }
        if right.kind() != "identifier" {
            return false;
        }
        let name = self.text(right);
        let lower = name.to_ascii_lowercase();
        if ["retr", "attempt", "tries", "max"]
            .iter()
            .any(|w| lower.contains(w))
        {
            return true;
        }
        self.facts.assignments_to(name).iter().any(|&i| {
            self.facts.assignments[i]
                .value
                .is_some_and(|v| v.kind() == "int_literal")
        })
    }

    /// Whether a node belongs to the loop itself: not to a function or another loop nested in it.
    fn directly_in(&self, n: Node<'t>, lp: Node<'t>) -> bool {
        let functions = node::function_kinds(self.language);
        let loops = node::loop_kinds(self.language);
        for ancestor in self.ancestors(n) {
            if ancestor.id() == lp.id() {
                return true;
            }
            if functions.contains(&ancestor.kind()) || loops.contains(&ancestor.kind()) {
                return false;
            }
        }
        false
    }

    /// Whether a node is inside the loop but not inside a function nested in it.
    fn same_function(&self, n: Node<'t>, lp: Node<'t>) -> bool {
        let functions = node::function_kinds(self.language);
        for ancestor in self.ancestors(n) {
            if ancestor.id() == lp.id() {
                return true;
            }
            if functions.contains(&ancestor.kind()) {
                return false;
            }
        }
        false
    }

    fn retry_shape(&self, lp: Node<'t>, header: &Header<'t>, call: &Call<'t>) -> Option<Shape> {
        match self.language {
            Language::Go => self.go_shape(lp, call),
            Language::Rust => self.rust_shape(lp, header, call),
            Language::TypeScript | Language::Tsx => self.ts_shape(lp, call),
            Language::Sql => None,
        }
    }

    /// The statement of a block (Go statement list, Rust/TS block) that contains `n`, below `lp`.
    fn statement_of(&self, n: Node<'t>, lp: Node<'t>) -> Option<Node<'t>> {
        let mut current = n;
        while let Some(parent) = self.parent(current) {
            if current.id() == lp.id() {
                return None;
            }
            if matches!(
                parent.kind(),
                "statement_list" | "block" | "statement_block"
            ) {
                return Some(current);
            }
            current = parent;
        }
        None
    }

    fn go_shape(&self, lp: Node<'t>, call: &Call<'t>) -> Option<Shape> {
        let statement = self.statement_of(call.node, lp)?;
        let (binding, first_check) = if statement.kind() == "if_statement" {
            let init = statement.child_by_field_name("initializer")?;
            if !TextRange::of(init).contains_range(call.range()) {
                return None;
            }
            (init, Some(statement))
        } else {
            (statement, None)
        };
        if !matches!(
            binding.kind(),
            "short_var_declaration" | "assignment_statement"
        ) {
            return None;
        }
        let right = binding.child_by_field_name("right")?;
        if !node::named_children(right)
            .any(|r| node::strip_wrappers(r, Wrappers::AWAITED).id() == call.node.id())
        {
            return None;
        }
        let err = binding
            .child_by_field_name("left")
            .and_then(|l| node::named_children(l).last())
            .map(|e| self.text(e))
            .filter(|e| *e != "_")?;
        let checks: Vec<Node<'t>> = first_check
            .into_iter()
            .chain(self.following(statement))
            .collect();
        self.branch_checks(lp, &checks, &|condition| self.go_polarity(condition, err))
    }

    /// `err != nil` → failure (`Some(false)`), `err == nil` → success (`Some(true)`), through `!`, `&&`, `||`.
    fn go_polarity(&self, condition: Node<'t>, err: &str) -> Option<bool> {
        let condition = node::strip_wrappers(condition, Wrappers::PARENS);
        match condition.kind() {
            "binary_expression" => {
                let op = operator(condition, self.source);
                let left = condition.child_by_field_name("left")?;
                let right = condition.child_by_field_name("right")?;
                match op {
                    "&&" | "||" => self
                        .go_polarity(left, err)
                        .or_else(|| self.go_polarity(right, err)),
                    "!=" | "==" => {
                        let is_err = |n: Node<'t>| self.text(n) == err;
                        let is_nil = |n: Node<'t>| n.kind() == "nil";
                        if (is_err(left) && is_nil(right)) || (is_nil(left) && is_err(right)) {
                            Some(op == "==")
                        } else {
                            None
                        }
                    }
                    _ => None,
                }
            }
            "unary_expression" if operator(condition, self.source) == "!" => condition
                .child_by_field_name("operand")
                .and_then(|o| self.go_polarity(o, err))
                .map(|p| !p),
            _ => None,
        }
    }

    /// Walks the checks after a call (if-statements judged by `polarity`) and decides whether a failure goes
    /// round again while a success leaves the loop.
    fn branch_checks(
        &self,
        lp: Node<'t>,
        checks: &[Node<'t>],
        polarity: &dyn Fn(Node<'t>) -> Option<bool>,
    ) -> Option<Shape> {
        for (position, check) in checks.iter().enumerate() {
            let check = unwrap_statement(*check);
            // An `if`, or a Go `switch { case err != nil: … }` whose arm judged by `polarity` is the branch.
            let (success, consequence, alternative) = match check.kind() {
                "if_statement" | "if_expression" => {
                    let Some(success) = check.child_by_field_name("condition").and_then(polarity)
                    else {
                        continue;
                    };
                    (
                        success,
                        check.child_by_field_name("consequence")?,
                        else_branch(check),
                    )
                }
                "expression_switch_statement" if check.child_by_field_name("value").is_none() => {
                    let arm = case_bodies(check).into_iter().find_map(|case| {
                        let value = case.child_by_field_name("value")?;
                        let condition = node::named_children(value).next().unwrap_or(value);
                        polarity(condition).map(|success| (success, case))
                    });
                    let Some((success, case)) = arm else {
                        continue;
                    };
                    (success, case, None)
                }
                _ => {
                    if self.is_exit(check, lp) {
                        return None;
                    }
                    continue;
                }
            };
            let rest = &checks[position + 1..];
            let (failure, success_branch) = if success {
                (alternative, Some(consequence))
            } else {
                (Some(consequence), alternative)
            };
            if failure.is_some_and(|f| self.definitely_exits(f, lp)) {
                return None;
            }
            // Success must leave the loop for certain: a loop that also goes round after a success (a consumer
            // that stops only on some other condition) is not retrying.
            let success_exits = match success_branch {
                Some(branch) => self.definitely_exits(branch, lp),
                None => rest.iter().any(|s| self.definitely_exits(*s, lp)),
            };
            let failure_continues = failure.and_then(|f| self.ends_with_continue(f, lp));
            let shape = match (failure, failure_continues) {
                (_, Some(edge)) if success_exits => Some(TextRange::of(edge)),
                // The failure falls through past the check: the rest of the body must not leave the loop.
                (None, _)
                    if success_exits
                        && !rest.iter().any(|s| self.is_exit(unwrap_statement(*s), lp)) =>
                {
                    Some(TextRange::of(check))
                }
                (Some(_), None) if success_branch.is_some() && success_exits => {
                    Some(TextRange::of(check))
                }
                _ => None,
            };
            return shape.map(|edge| Shape { edge });
        }
        None
    }

    fn rust_shape(&self, lp: Node<'t>, header: &Header<'t>, call: &Call<'t>) -> Option<Shape> {
        // Climb from the call through `.await`, `?` and method chains to the construct that inspects it.
        let mut current = call.node;
        loop {
            let parent = self.parent(current)?;
            match parent.kind() {
                // `call?` hands the error to the caller: not a retry.
                "try_expression" => return None,
                "await_expression" | "parenthesized_expression" => current = parent,
                "field_expression" | "call_expression"
                    if parent
                        .child_by_field_name("value")
                        .or(parent.child_by_field_name("function"))
                        .is_some_and(|v| v.id() == current.id()) =>
                {
                    current = parent
                }
                "match_expression" => return self.rust_match(lp, parent),
                "let_condition" => {
                    let pattern = parent.child_by_field_name("pattern")?;
                    let success = rust_pattern_polarity(pattern, self.source)?;
                    let construct = self.parent(parent)?;
                    return self.rust_if_let(lp, header, construct, success);
                }
                "let_declaration" => {
                    let pattern = parent.child_by_field_name("pattern")?;
                    let names = identifiers(pattern, self.source);
                    return self.rust_after_let(lp, parent, &names);
                }
                "if_expression" | "while_expression" => {
                    let condition = parent.child_by_field_name("condition")?;
                    let success = self.rust_polarity(condition, &[], Some(call.node))?;
                    return self.rust_condition(lp, parent, success);
                }
                "binary_expression" | "unary_expression" => current = parent,
                _ => return None,
            }
        }
    }

    /// `if let Err(_) = …` / `if let Ok(v) = …` / `while let Err(_) = …`.
    fn rust_if_let(
        &self,
        lp: Node<'t>,
        header: &Header<'t>,
        construct: Node<'t>,
        success: bool,
    ) -> Option<Shape> {
        if construct.kind() == "while_expression" && construct.id() == lp.id() {
            // `while let Err(_) = call { … }`: the loop repeats while the call fails and ends when it succeeds.
            return (!success && !self.definitely_exits(header.body, lp)).then(|| Shape {
                edge: TextRange::of(header.body),
            });
        }
        if construct.kind() != "if_expression" {
            return None;
        }
        self.rust_condition(lp, construct, success)
    }

    fn rust_condition(&self, lp: Node<'t>, construct: Node<'t>, success: bool) -> Option<Shape> {
        if construct.kind() == "while_expression" {
            return (construct.id() == lp.id() && !success)
                .then(|| Shape {
                    edge: TextRange::of(construct),
                })
                .filter(|_| {
                    construct
                        .child_by_field_name("body")
                        .is_some_and(|b| !self.definitely_exits(b, lp))
                });
        }
        let statement = self.statement_of(construct, lp)?;
        let checks: Vec<Node<'t>> = std::iter::once(statement)
            .chain(self.following(statement))
            .collect();
        let target = construct.id();
        self.branch_checks(lp, &checks, &|condition| {
            (self.parent(condition).is_some_and(|p| p.id() == target)).then_some(success)
        })
    }

    fn rust_after_let(&self, lp: Node<'t>, binding: Node<'t>, names: &[&str]) -> Option<Shape> {
        let rest: Vec<Node<'t>> = self.following(binding);
        for (position, statement) in rest.iter().enumerate() {
            let inner = unwrap_statement(*statement);
            match inner.kind() {
                "match_expression"
                    if inner.child_by_field_name("value").is_some_and(|v| {
                        names.contains(&self.text(node::strip_wrappers(v, Wrappers::AWAITED)))
                    }) =>
                {
                    return self.rust_match(lp, inner);
                }
                "if_expression" => {
                    let condition = inner.child_by_field_name("condition")?;
                    let success = if condition.kind() == "let_condition" {
                        let value = condition.child_by_field_name("value")?;
                        if !names
                            .contains(&self.text(node::strip_wrappers(value, Wrappers::AWAITED)))
                        {
                            continue;
                        }
                        condition
                            .child_by_field_name("pattern")
                            .and_then(|p| rust_pattern_polarity(p, self.source))
                    } else {
                        self.rust_polarity(condition, names, None)
                    };
                    let Some(success) = success else { continue };
                    let target = inner.id();
                    return self.branch_checks(lp, &rest[position..], &|condition| {
                        self.parent(condition)
                            .is_some_and(|p| p.id() == target)
                            .then_some(success)
                    });
                }
                _ => {
                    if self.is_exit(inner, lp) {
                        return None;
                    }
                }
            }
        }
        None
    }

    /// `x.is_ok()` / `call.is_ok()` → success; `is_err()` → failure; `resp.status().is_success()` → success.
    fn rust_polarity(
        &self,
        condition: Node<'t>,
        names: &[&str],
        call: Option<Node<'t>>,
    ) -> Option<bool> {
        let condition = node::strip_wrappers(condition, Wrappers::PARENS);
        match condition.kind() {
            "unary_expression" => node::named_children(condition)
                .next()
                .and_then(|o| self.rust_polarity(o, names, call))
                .map(|p| !p),
            "binary_expression" => {
                let op = operator(condition, self.source);
                if op != "&&" && op != "||" {
                    return None;
                }
                let left = condition.child_by_field_name("left")?;
                let right = condition.child_by_field_name("right")?;
                self.rust_polarity(left, names, call)
                    .or_else(|| self.rust_polarity(right, names, call))
            }
            "call_expression" => {
                let function = condition.child_by_field_name("function")?;
                if function.kind() != "field_expression" {
                    return None;
                }
                let method = function
                    .child_by_field_name("field")
                    .map(|f| self.text(f))?;
                let receiver = function.child_by_field_name("value")?;
                let about_result = call
                    .is_some_and(|c| TextRange::of(receiver).contains_range(TextRange::of(c)))
                    || names
                        .iter()
                        .any(|n| node::mentions(receiver, &[n], self.source, Mention::Variable));
                if !about_result {
                    return None;
                }
                match method {
                    "is_ok" | "is_success" | "is_some" => Some(true),
                    "is_err" | "is_none" => Some(false),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn rust_match(&self, lp: Node<'t>, matched: Node<'t>) -> Option<Shape> {
        let block = matched.child_by_field_name("body")?;
        let arms: Vec<Node<'t>> = node::named_children(block)
            .filter(|a| a.kind() == "match_arm")
            .collect();
        let mut failures = Vec::new();
        let mut successes = Vec::new();
        let mut others = Vec::new();
        for arm in &arms {
            let Some(pattern) = arm.child_by_field_name("pattern") else {
                continue;
            };
            let value = arm.child_by_field_name("value");
            match rust_pattern_polarity(pattern, self.source) {
                Some(true) => successes.extend(value),
                Some(false) => failures.extend(value.map(|v| (*arm, v))),
                None => others.extend(value.map(|v| (*arm, v))),
            }
        }
        if failures.is_empty() {
            failures = others;
        } else if successes.is_empty() {
            successes = others.into_iter().map(|(_, v)| v).collect();
        }
        let statement = self.statement_of(matched, lp);
        let rest: Vec<Node<'t>> = statement.map(|s| self.following(s)).unwrap_or_default();
        let success_exits = successes.iter().any(|s| self.definitely_exits(*s, lp));
        for (arm, value) in failures {
            if self.definitely_exits(value, lp) {
                continue;
            }
            if let Some(edge) = self.ends_with_continue(value, lp) {
                let rest_exits = rest.iter().any(|s| self.definitely_exits(*s, lp));
                if success_exits || rest_exits {
                    return Some(Shape {
                        edge: TextRange::of(edge),
                    });
                }
            } else if success_exits && !rest.iter().any(|s| self.is_exit(unwrap_statement(*s), lp))
            {
                return Some(Shape {
                    edge: TextRange::of(arm),
                });
            }
        }
        None
    }

    fn ts_shape(&self, lp: Node<'t>, call: &Call<'t>) -> Option<Shape> {
        // The nearest `try` around the call, inside the loop and the loop's function.
        let mut inner = call.node;
        for ancestor in self.ancestors(call.node) {
            if ancestor.id() == lp.id() {
                break;
            }
            if node::function_kinds(self.language).contains(&ancestor.kind()) {
                return None;
            }
            if ancestor.kind() == "try_statement" {
                let body = ancestor.child_by_field_name("body")?;
                if body.id() != inner.id() {
                    // In the catch or finally clause: not the attempt itself.
                    return None;
                }
                let handler = ancestor.child_by_field_name("handler")?;
                let handler_body = handler.child_by_field_name("body")?;
                if self.definitely_exits(handler_body, lp) {
                    return None;
                }
                let continues = self.ends_with_continue(handler_body, lp);
                let rest: Vec<Node<'t>> = self.following(ancestor);
                let success_exits = self.definitely_exits(body, lp)
                    || self.ts_checked_success(lp, body, call)
                    || (continues.is_some() && rest.iter().any(|s| self.definitely_exits(*s, lp)));
                if !success_exits {
                    return None;
                }
                if continues.is_none() && rest.iter().any(|s| self.is_exit(*s, lp)) {
                    return None;
                }
                return Some(Shape {
                    edge: TextRange::of(handler),
                });
            }
            inner = ancestor;
        }
        // `const res = await fetch(…); if (res.ok) return res;` — a status check instead of an exception.
        let statement = self.statement_of(call.node, lp)?;
        let declarator = node::descendants(statement)
            .find(|d| d.kind() == "variable_declarator")
            .filter(|d| {
                d.child_by_field_name("value").is_some_and(|v| {
                    node::strip_wrappers(v, Wrappers::AWAITED).id() == call.node.id()
                })
            })?;
        let names = identifiers(declarator.child_by_field_name("name")?, self.source);
        let checks: Vec<Node<'t>> = self.following(statement);
        self.branch_checks(lp, &checks, &|condition| {
            ts_polarity(condition, &names, self.source)
        })
    }

    /// `try { const res = await fetch(…); if (res.ok) return res; … }`: the try block leaves the loop when the
    /// response says the call succeeded.
    fn ts_checked_success(&self, lp: Node<'t>, body: Node<'t>, call: &Call<'t>) -> bool {
        let Some(statement) = self.statement_of(call.node, lp) else {
            return false;
        };
        let Some(names) = node::descendants(statement)
            .find(|d| d.kind() == "variable_declarator")
            .and_then(|d| d.child_by_field_name("name"))
            .map(|n| identifiers(n, self.source))
        else {
            return false;
        };
        self.following(statement).iter().any(|s| {
            s.kind() == "if_statement"
                && self.parent(*s).is_some_and(|p| p.id() == body.id())
                && s.child_by_field_name("condition")
                    .and_then(|c| ts_polarity(c, &names, self.source))
                    == Some(true)
                && s.child_by_field_name("consequence")
                    .is_some_and(|c| self.definitely_exits(c, lp))
        })
    }

    /// A loop condition that counts through a collection (`i < len(xs)`, `i < xs.length`, `i < xs.len()`).
    fn counts_a_collection(&self, condition: Node<'t>) -> bool {
        node::descendants(condition).any(|d| match (self.language, d.kind()) {
            (Language::Go, "call_expression") => d
                .child_by_field_name("function")
                .is_some_and(|f| self.text(f) == "len"),
            (Language::Rust, "call_expression") => d
                .child_by_field_name("function")
                .and_then(|f| f.child_by_field_name("field"))
                .is_some_and(|f| self.text(f) == "len"),
            (Language::TypeScript | Language::Tsx, "member_expression") => d
                .child_by_field_name("property")
                .is_some_and(|p| matches!(self.text(p), "length" | "size")),
            // `while let Some(url) = urls.next()`: stepping an iterator (failover through a list).
            (Language::Rust, "let_condition") => d
                .child_by_field_name("value")
                .and_then(|v| v.child_by_field_name("function"))
                .and_then(|f| f.child_by_field_name("field"))
                .is_some_and(|f| matches!(self.text(f), "next" | "pop" | "pop_front" | "pop_back")),
            _ => false,
        })
    }

    /// A later assignment takes a value from the response into something the request uses: paging, not retrying.
    fn is_pagination(&self, lp: Node<'t>, call: &Call<'t>) -> bool {
        let Some(statement) = self.statement_of(call.node, lp) else {
            return false;
        };
        let results: Vec<&str> = match statement.kind() {
            "short_var_declaration" | "assignment_statement" => statement
                .child_by_field_name("left")
                .map(|l| identifiers(l, self.source))
                .unwrap_or_default(),
            "let_declaration" => statement
                .child_by_field_name("pattern")
                .map(|p| identifiers(p, self.source))
                .unwrap_or_default(),
            _ => node::descendants(statement)
                .find(|d| d.kind() == "variable_declarator")
                .and_then(|d| d.child_by_field_name("name"))
                .map(|n| identifiers(n, self.source))
                .unwrap_or_default(),
        };
        let results: Vec<&str> = results
            .into_iter()
            .filter(|r| *r != "_" && *r != "err")
            .collect();
        if results.is_empty() {
            return false;
        }
        let inputs: Vec<Node<'t>> = call.args.iter().copied().chain(call.receiver).collect();
        node::descendants(lp)
            .filter(|d| matches!(d.kind(), "assignment_statement" | "assignment_expression"))
            .any(|assignment| {
                let (Some(left), Some(right)) = (
                    assignment.child_by_field_name("left"),
                    assignment.child_by_field_name("right"),
                ) else {
                    return false;
                };
                if !results
                    .iter()
                    .any(|r| node::mentions(right, &[r], self.source, Mention::Variable))
                {
                    return false;
                }
                let targets = identifiers(left, self.source);
                let Some(head) = targets.first() else {
                    return false;
                };
                inputs
                    .iter()
                    .any(|i| node::mentions(*i, &[head], self.source, Mention::Variable))
                    || self.loop_condition_mentions(lp, head)
            })
    }

    fn loop_condition_mentions(&self, lp: Node<'t>, name: &str) -> bool {
        lp.child_by_field_name("condition")
            .is_some_and(|c| node::mentions(c, &[name], self.source, Mention::Variable))
    }

    // ----- exits ------------------------------------------------------------------------------------------

    /// Whether `n` itself leaves the loop: return, throw, panic, or a break that targets `lp`.
    fn is_exit(&self, n: Node<'t>, lp: Node<'t>) -> bool {
        let n = unwrap_statement(n);
        match n.kind() {
            "return_statement" | "return_expression" | "throw_statement" | "goto_statement" => true,
            "break_statement" | "break_expression" => self.targets(n, lp),
            "call_expression" => n
                .child_by_field_name("function")
                .is_some_and(|f| control_flow::exits_process(self.text(f), self.language)),
            "macro_invocation" => n
                .child_by_field_name("macro")
                .is_some_and(|m| control_flow::exit_macro(self.text(m), self.language)),
            _ => false,
        }
    }

    fn is_continue(&self, n: Node<'t>, lp: Node<'t>) -> bool {
        let n = unwrap_statement(n);
        matches!(n.kind(), "continue_statement" | "continue_expression") && self.targets(n, lp)
    }

    /// Whether a break/continue jumps out of (or round) `lp`: labelled with its label, or unlabelled with `lp`
    /// the nearest enclosing loop (for `break`, also not inside a Go/TS `switch` or Go `select`).
    fn targets(&self, jump: Node<'t>, lp: Node<'t>) -> bool {
        let label = node::named_children(jump)
            .find(|c| {
                matches!(
                    c.kind(),
                    "label_name" | "label" | "statement_identifier" | "loop_label"
                )
            })
            .map(|l| self.text(l).trim_start_matches('\''));
        if let Some(label) = label {
            return loop_label(lp, self.parent(lp), self.source).is_some_and(|own| own == label);
        }
        let is_break = matches!(jump.kind(), "break_statement" | "break_expression");
        let loops = node::loop_kinds(self.language);
        for ancestor in self.ancestors(jump) {
            if ancestor.id() == lp.id() {
                return true;
            }
            if loops.contains(&ancestor.kind()) {
                return false;
            }
            if is_break
                && matches!(
                    ancestor.kind(),
                    "expression_switch_statement"
                        | "type_switch_statement"
                        | "select_statement"
                        | "switch_statement"
                )
            {
                return false;
            }
            if node::function_kinds(self.language).contains(&ancestor.kind()) {
                return false;
            }
        }
        false
    }

    /// Whether some path through `n` leaves the loop.
    fn contains_exit(&self, n: Node<'t>, lp: Node<'t>) -> bool {
        node::descendants(n)
            .any(|d| self.is_exit(d, lp) && (d.id() == n.id() || self.same_function(d, lp)))
    }

    /// Whether every path through a block (or single expression) leaves the loop.
    fn definitely_exits(&self, n: Node<'t>, lp: Node<'t>) -> bool {
        let Some(last) = last_statement(n) else {
            return false;
        };
        let last = unwrap_statement(last);
        if self.is_exit(last, lp) {
            return true;
        }
        match last.kind() {
            "if_statement" | "if_expression" => {
                let Some(consequence) = last.child_by_field_name("consequence") else {
                    return false;
                };
                match else_branch(last) {
                    Some(alternative) => {
                        self.definitely_exits(consequence, lp)
                            && self.definitely_exits(alternative, lp)
                    }
                    None => false,
                }
            }
            "block" | "statement_block" => self.definitely_exits(last, lp),
            _ => false,
        }
    }

    /// The `continue` a block ends with, when it targets `lp`. A block that ends in a `select`, `switch` or
    /// `match` goes round when one of its cases ends with that `continue` and every other case either does too
    /// or leaves the loop (`case <-time.After(d): continue` beside `case <-ctx.Done(): return`).
    fn ends_with_continue(&self, n: Node<'t>, lp: Node<'t>) -> Option<Node<'t>> {
        let last = unwrap_statement(last_statement(n)?);
        if self.is_continue(last, lp) {
            return Some(last);
        }
        if matches!(last.kind(), "block" | "statement_block") {
            return self.ends_with_continue(last, lp);
        }
        let cases = case_bodies(last);
        if cases.is_empty() {
            return None;
        }
        let mut edge = None;
        for case in cases {
            match self.ends_with_continue(case, lp) {
                Some(jump) => {
                    edge.get_or_insert(jump);
                }
                None if self.definitely_exits(case, lp) => {}
                None => return None,
            }
        }
        edge
    }

    // ----- counters, caps, deadlines ------------------------------------------------------------------------

    /// Counters the body steps by one: `attempt++`, `attempts += 1`, `tries = tries + 1`, `retries--`.
    fn body_counters(&self, lp: Node<'t>, counters: &mut Vec<Counter>) {
        for d in node::descendants(lp) {
            let target = match d.kind() {
                "inc_statement" | "dec_statement" => node::named_children(d).next(),
                "update_expression" => d.child_by_field_name("argument"),
                "assignment_statement"
                | "compound_assignment_expr"
                | "augmented_assignment_expression"
                    if matches!(operator(d, self.source), "+=" | "-=")
                        && d.child_by_field_name("right")
                            .is_some_and(|r| crate::facts::compact(self.text(r)) == "1") =>
                {
                    d.child_by_field_name("left").and_then(|l| {
                        if l.kind() == "expression_list" {
                            node::named_children(l).next()
                        } else {
                            Some(l)
                        }
                    })
                }
                _ => None,
            };
            let Some(target) = target.filter(|t| t.kind() == "identifier") else {
                continue;
            };
            if !self.same_function(d, lp) {
                continue;
            }
            let name = self.text(target);
            if !counters.iter().any(|c| c.name == name) {
                counters.push(Counter {
                    name: name.to_string(),
                    range: TextRange::of(target),
                });
            }
        }
    }

    /// A comparison of a counter that bounds the loop: in its condition, in a match guard, or in an `if` that
    /// leaves the loop.
    fn cap(
        &self,
        lp: Node<'t>,
        header: &Header<'t>,
        counters: &FxHashSet<String>,
    ) -> Option<TextRange> {
        if counters.is_empty() {
            return None;
        }
        let names: Vec<&str> = counters.iter().map(String::as_str).collect();
        if let Some(condition) = header.condition {
            if node::descendants(condition).any(|d| {
                self.is_comparison(d) && node::mentions(d, &names, self.source, Mention::Variable)
            }) {
                return Some(TextRange::of(condition));
            }
        }
        for d in node::descendants(header.body) {
            if !self.is_comparison(d)
                || !node::mentions(d, &names, self.source, Mention::Variable)
                || !self.same_function(d, lp)
            {
                continue;
            }
            for ancestor in self.ancestors(d) {
                if ancestor.id() == lp.id() {
                    break;
                }
                match ancestor.kind() {
                    "match_pattern" => return Some(TextRange::of(d)),
                    "if_statement" | "if_expression" => {
                        let in_condition = ancestor
                            .child_by_field_name("condition")
                            .is_some_and(|c| TextRange::of(c).contains_range(TextRange::of(d)));
                        if in_condition && self.contains_exit(ancestor, lp) {
                            return Some(TextRange::of(d));
                        }
                        break;
                    }
                    _ => {}
                }
            }
        }
        None
    }

    fn is_comparison(&self, n: Node<'t>) -> bool {
        n.kind() == "binary_expression"
            && matches!(
                operator(n, self.source),
                "<" | "<=" | ">" | ">=" | "==" | "!=" | "===" | "!=="
            )
    }

    /// A deadline or cancellation check in the loop.
    fn deadline(&self, lp: Node<'t>, function: Option<usize>) -> Option<TextRange> {
        // A backoff helper in the loop's header (dskit's `for boff.Ongoing()`) stops the loop by itself: its
        // library gives up on cancellation or after its retry limit.
        let body_start = node::named_children(lp)
            .last()
            .map_or(lp.end_byte(), |body| body.start_byte());
        let header = TextRange::new(lp.start_byte(), body_start);
        if let Some(index) = self
            .effects
            .calls_in_range(header)
            .find(|i| self.is_backoff(&self.facts.calls[*i]))
        {
            return Some(self.facts.calls[index].range());
        }
        for d in node::descendants(lp) {
            let kind = d.kind();
            let interesting = matches!(
                kind,
                "call_expression"
                    | "identifier"
                    | "field_identifier"
                    | "property_identifier"
                    | "macro_invocation"
            );
            if !interesting || !self.same_function(d, lp) {
                continue;
            }
            match kind {
                "call_expression" => {
                    let Some(callee) = d.child_by_field_name("function") else {
                        continue;
                    };
                    let text = self.text(callee);
                    let method = dsr_core::kb::last_segment(text);
                    let receiver = text.rsplit_once(['.']).map(|(r, _)| r).unwrap_or("");
                    let cancellation = match self.language {
                        Language::Go => {
                            (matches!(method, "Err" | "Done")
                                && self.is_context(receiver, function))
                                || self.resolved(d).is_some_and(|path| {
                                    self.kb.is_in_group(
                                        self.language,
                                        &path,
                                        PathGroupKind::DeadlineCheck,
                                    )
                                })
                                || (matches!(method, "After" | "Before")
                                    && (receiver.contains("Now")
                                        || self.text(d).to_ascii_lowercase().contains("deadline")))
                        }
                        Language::Rust => matches!(
                            method,
                            "elapsed"
                                | "is_cancelled"
                                | "cancelled"
                                | "duration_since"
                                | "saturating_duration_since"
                        ),
                        _ => {
                            matches!(method, "throwIfAborted")
                                || (matches!(text, "Date.now" | "performance.now")
                                    && inside_comparison(self, d, lp))
                        }
                    };
                    if cancellation {
                        return Some(TextRange::of(d));
                    }
                }
                "identifier" | "field_identifier" | "property_identifier" => {
                    let name = self.text(d).to_ascii_lowercase();
                    if name.contains("deadline")
                        || matches!(name.as_str(), "aborted" | "cancelled" | "canceled")
                    {
                        return Some(TextRange::of(d));
                    }
                }
                "macro_invocation" => {
                    if let Some(range) = self.select_macro_cancellation(d) {
                        return Some(range);
                    }
                }
                _ => {}
            }
        }
        None
    }

    fn resolved(&self, call_node: Node<'t>) -> Option<String> {
        self.effects
            .call_index(call_node)
            .and_then(|i| self.facts.calls[i].path.clone())
    }

    /// A Go context: a parameter of type `context.Context`, or a name that says so.
    fn is_context(&self, receiver: &str, function: Option<usize>) -> bool {
        let lower = receiver.to_ascii_lowercase();
        if lower.contains("ctx") || lower.contains("context") {
            return true;
        }
        let mut current = function;
        while let Some(index) = current {
            let f = &self.facts.functions[index];
            if f.params
                .iter()
                .any(|p| p.name == receiver && p.type_path.as_deref() == Some("context.Context"))
            {
                return true;
            }
            current = f.parent;
        }
        false
    }

    fn select_macro_cancellation(&self, mac: Node<'t>) -> Option<TextRange> {
        let name = mac.child_by_field_name("macro").map(|m| self.text(m))?;
        if !name.ends_with("select") {
            return None;
        }
        node::descendants(mac)
            .filter(|d| d.kind() == "identifier")
            .find(|d| {
                let lower = self.text(*d).to_ascii_lowercase();
                [
                    "cancel",
                    "shutdown",
                    "deadline",
                    "stop",
                    "ctrl_c",
                    "terminate",
                ]
                .iter()
                .any(|w| lower.contains(w))
            })
            .map(TextRange::of)
    }

    // ----- delays -----------------------------------------------------------------------------------------

    fn delay(
        &self,
        lp: Node<'t>,
        function: Option<usize>,
        counters: &FxHashSet<String>,
    ) -> Option<Delay<'t>> {
        let mut found: Option<Delay<'t>> = None;
        let range = TextRange::of(lp);
        for index in self.effects.calls_in_range(range) {
            let call = &self.facts.calls[index];
            if !self.same_function(call.node, lp) && !self.in_promise_executor(call.node, lp) {
                continue;
            }
            let delay = if self.is_backoff(call) {
                // A retry library's helper (`b.NextBackOff()`, `boff.Wait()`): its delay grows and is randomized.
                Delay {
                    call: call.node,
                    duration: None,
                    grows: true,
                    random: true,
                    helper: None,
                }
            } else {
                let Some(duration) = self.sleep_duration(call) else {
                    continue;
                };
                self.judge_delay(call.node, duration, function, counters)
            };
            found = Some(match found {
                Some(previous) if previous.grows && (previous.random || !delay.random) => previous,
                _ => delay,
            });
        }
        if found.is_none() && self.language == Language::Rust {
            for mac in node::descendants(lp).filter(|d| d.kind() == "macro_invocation") {
                let Some(duration) = self.select_macro_sleep(mac) else {
                    continue;
                };
                found = Some(self.judge_delay(mac, Some(duration), function, counters));
                break;
            }
        }
        found
    }

    /// `new Promise((r) => setTimeout(r, ms))` in the loop: the executor runs at once, so its sleep counts.
    fn in_promise_executor(&self, n: Node<'t>, lp: Node<'t>) -> bool {
        if !self.language.is_typescript() {
            return false;
        }
        let mut crossed_function = false;
        for ancestor in self.ancestors(n) {
            if ancestor.id() == lp.id() {
                return crossed_function;
            }
            if node::function_kinds(self.language).contains(&ancestor.kind()) {
                let in_new = self
                    .parent(ancestor)
                    .and_then(|args| self.parent(args))
                    .is_some_and(|p| p.kind() == "new_expression");
                if !in_new {
                    return false;
                }
                crossed_function = true;
            }
        }
        false
    }

    /// Whether a field read as a delay (`this.delay`, `c.backoff`, `self.retry_delay`) is grown somewhere in the
    /// file: a retry kept as state, whose stored delay is multiplied or shifted each time it is re-armed
    /// (`this.delay = Math.min(this.delay * 2, max)`, `c.backoff *= 2`, `self.delay = self.delay.saturating_mul(2)`).
    fn field_grows(&self, member: Node<'t>) -> bool {
        let text = self.text(member);
        let Some((_, field)) = text.rsplit_once('.') else {
            return false;
        };
        self.grown_fields
            .get_or_init(|| self.find_grown_fields())
            .contains(field)
    }

    /// The names of the fields the file grows (see `field_grows`), from one look at each assignment to a field:
    /// asking per field name would scan every assignment of the file once per name.
    fn find_grown_fields(&self) -> FxHashSet<String> {
        // The field an assignment target ends with (`c.backoff` → `backoff`), when it is a plain name.
        let field_of = |target: &str| -> Option<String> {
            let (_, field) = target.rsplit_once('.')?;
            let plain = !field.is_empty() && field.chars().all(|c| c.is_alphanumeric() || c == '_');
            plain.then(|| field.to_string())
        };
        let grows = |assignment: Node<'t>, field: &str| {
            let written = self.text(assignment);
            let operator_grows = ["*=", "<<=", "**="].iter().any(|op| written.contains(op));
            let value_grows =
                node::mentions(assignment, &[field], self.source, Mention::VariableOrField)
                    && ["*", "<<", "pow", "saturating_mul", "checked_mul"]
                        .iter()
                        .any(|op| {
                            written
                                .split_once('=')
                                .is_some_and(|(_, right)| right.contains(op))
                        });
            operator_grows || value_grows
        };
        let mut grown = FxHashSet::default();
        let recorded = self
            .facts
            .assignments
            .iter()
            .filter_map(|a| Some((field_of(&a.target)?, a.node)));
        let compound = self
            .facts
            .nodes_of_kind(&[
                "augmented_assignment_expression",
                "compound_assignment_expr",
            ])
            .filter_map(|n| Some((field_of(self.text(n.child_by_field_name("left")?))?, n)));
        for (field, assignment) in recorded.chain(compound) {
            if !grown.contains(&field) && grows(assignment, &field) {
                grown.insert(field);
            }
        }
        grown
    }

    /// Whether a call is a retry library's backoff helper (kb role `backoff`).
    fn is_backoff(&self, call: &Call<'t>) -> bool {
        self.kb
            .role_of(self.facts, call, &[ApiRole::Backoff])
            .is_some()
    }

    /// If the call sleeps, its duration argument (`Some(None)`: a sleep with no visible duration).
    fn sleep_duration(&self, call: &Call<'t>) -> Option<Option<Node<'t>>> {
        if let Some(api) = self.kb.call(self.facts, call) {
            if api.role == Some(ApiRole::Sleep) {
                return Some(api.delay_arg.and_then(|i| call.args.get(i).copied()));
            }
            return None;
        }
        if let Some(helper) = self
            .effects
            .call_index(call.node)
            .and_then(|i| self.effects.local_callee(i))
        {
            let inner = self.facts.calls_in(helper).find(|inner| {
                self.kb
                    .call(self.facts, inner)
                    .is_some_and(|api| api.role == Some(ApiRole::Sleep))
            })?;
            // The argument whose parameter reaches the inner sleep's duration (the first one otherwise).
            let params = &self.facts.functions[helper].params;
            let position = params
                .iter()
                .position(|p| {
                    !p.name.is_empty()
                        && node::mentions(
                            inner.node,
                            &[p.name.as_str()],
                            self.source,
                            Mention::Variable,
                        )
                })
                .unwrap_or(0);
            return Some(call.args.get(position).copied());
        }
        let name = dsr_core::kb::last_segment(&call.callee_text).to_ascii_lowercase();
        (matches!(
            name.as_str(),
            "sleep" | "delay" | "wait" | "pause" | "sleep_ms" | "sleepms"
        ) && !call.args.is_empty())
        .then(|| call.args.first().copied())
    }

    /// `tokio::select! { _ = sleep(d) => {} … }`: macro bodies are token trees, so the duration is the token
    /// tree after a `sleep` identifier.
    fn select_macro_sleep(&self, mac: Node<'t>) -> Option<Node<'t>> {
        let name = mac.child_by_field_name("macro").map(|m| self.text(m))?;
        if !name.ends_with("select") {
            return None;
        }
        node::descendants(mac)
            .find(|d| d.kind() == "identifier" && self.text(*d) == "sleep")
            .and_then(|d| d.next_sibling())
            .filter(|n| n.kind() == "token_tree")
    }

    fn judge_delay(
        &self,
        call: Node<'t>,
        duration: Option<Node<'t>>,
        function: Option<usize>,
        counters: &FxHashSet<String>,
    ) -> Delay<'t> {
        let mut growth = Growth {
            analyzer: self,
            visited: FxHashSet::default(),
            grows: false,
            random: false,
            helper: None,
        };
        if let Some(duration) = duration {
            growth.expression(duration, function, counters, 0);
        }
        Delay {
            call,
            duration,
            grows: growth.grows,
            random: growth.random,
            helper: growth.helper,
        }
    }

    // ----- libraries --------------------------------------------------------------------------------------

    fn library_retry(&self, index: usize, call: &Call<'t>, library: &RetryLibrary) -> Retry<'t> {
        let mut operations = Vec::new();
        let mut config_roots: Vec<Node<'t>> = Vec::new();
        let is_method_entry = call
            .method
            .as_deref()
            .is_some_and(|m| library.methods.iter().any(|x| x == m))
            && !call.path.as_deref().is_some_and(|p| {
                library
                    .calls
                    .iter()
                    .any(|c| !c.is_empty() && p.ends_with(c.as_str()))
            });
        if is_method_entry {
            if let Some(operation) = call.receiver.and_then(|r| self.operation(r, call)) {
                operations.push(operation);
            }
            config_roots.extend(call.args.iter().copied());
        } else {
            for arg in &call.args {
                match self.operation(*arg, call) {
                    Some(operation) if operations.is_empty() => operations.push(operation),
                    _ => config_roots.push(*arg),
                }
            }
        }
        // The value the call returns, when the code keeps it: a client or policy configured afterwards.
        let bound = self.bound_name(call);
        let mut executed_with_signal = None;
        if let (Some(executes), Some(name)) = (&library.executes, &bound) {
            for other in &self.facts.calls {
                if other.method.as_deref() == Some(executes.as_str())
                    && other.receiver.is_some_and(|r| self.text(r) == name)
                {
                    if let Some(operation) =
                        other.args.first().and_then(|a| self.operation(*a, other))
                    {
                        operations.push(operation);
                    }
                    // `policy.execute(fn, signal)`: the signal cancels the retries.
                    if let Some(signal) = other.args.get(1) {
                        executed_with_signal.get_or_insert(TextRange::of(*signal));
                    }
                }
            }
        }
        let mut config = Config::default();
        let mut visible = true;
        let mut seen = FxHashSet::default();
        let mut roots = config_roots.clone();
        if let Some(name) = &bound {
            roots.extend(self.member_assignments(call.function, name));
        } else if operations.is_empty() {
            // A client or policy that is returned or passed on may be configured, and used, elsewhere.
            visible = false;
        }
        let mut depth = 0;
        while !roots.is_empty() && depth < 4 {
            let mut next = Vec::new();
            for root in roots {
                if !seen.insert(root.id()) {
                    continue;
                }
                self.settings_in(root, library, &operations, &mut config);
                for identifier in node::descendants(root).filter(|d| d.kind() == "identifier") {
                    if operations
                        .iter()
                        .any(|o| TextRange::of(*o).contains_range(TextRange::of(identifier)))
                    {
                        continue;
                    }
                    let name = self.text(identifier);
                    if self.facts.import(name).is_some() {
                        continue;
                    }
                    if self.is_parameter(call.function, name)
                        && !self.is_context(name, call.function)
                    {
                        visible = false;
                        continue;
                    }
                    if let Some(value) =
                        self.facts
                            .declared_value(call.function, name, call.node.start_byte())
                    {
                        next.push(value);
                    }
                    next.extend(self.member_assignments(call.function, name));
                }
            }
            roots = next;
            depth += 1;
        }
        // A setting matched on its value (`generator: noJitterGenerator`) overrides one matched on its name
        // alone (`new ExponentialBackoff(…)`); between equals, the safe reading wins.
        let pick = |on: RetryEffect, off: RetryEffect, default: bool| -> Judged {
            match (config.found(on), config.found(off)) {
                (Some(on), Some(off)) if off.2 && !on.2 => Judged {
                    value: false,
                    setting: Some((off.0, off.1)),
                },
                (Some(on), _) => Judged {
                    value: true,
                    setting: Some((on.0, on.1)),
                },
                (None, Some(off)) => Judged {
                    value: false,
                    setting: Some((off.0, off.1)),
                },
                (None, None) => Judged {
                    value: default,
                    setting: None,
                },
            }
        };
        let jitter = pick(
            RetryEffect::JitterOn,
            RetryEffect::JitterOff,
            library.jitter,
        );
        let grows = pick(RetryEffect::Grows, RetryEffect::Constant, library.grows);
        // Any cap bounds the retries, whatever else is unbounded (`WithMaxRetries(NewConstantBackOff(d), 3)`).
        let bounded = match (
            config.found(RetryEffect::Bounded),
            config.found(RetryEffect::Unbounded),
        ) {
            (Some(on), _) => Judged {
                value: true,
                setting: Some((on.0, on.1)),
            },
            (None, Some(off)) => Judged {
                value: false,
                setting: Some((off.0, off.1)),
            },
            (None, None) => Judged {
                value: library.bounded,
                setting: None,
            },
        };
        let cancellation = config
            .found(RetryEffect::Cancellation)
            .map(|(r, _, _)| r)
            .or(executed_with_signal);
        let mut repeated: Vec<usize> = operations
            .iter()
            .flat_map(|o| self.effects.calls_in_range(TextRange::of(*o)))
            .filter(|i| *i != index && self.effects.remote(*i).is_some())
            .collect();
        repeated.sort_unstable();
        repeated.dedup();
        let anchor = if is_method_entry {
            call.callee
                .child_by_field_name("field")
                .or(call.callee.child_by_field_name("property"))
                .map(TextRange::of)
                .unwrap_or_else(|| TextRange::of(call.callee))
        } else {
            TextRange::of(call.callee)
        };
        Retry {
            node: call.node,
            anchor,
            function: call.function,
            kind: RetryKind::Library(Box::new(LibraryRetry {
                library: library.library.clone(),
                defaults: library.defaults.clone(),
                jitter,
                grows,
                bounded,
                cancellation,
                config_visible: visible,
            })),
            operations,
            retried: Vec::new(),
            repeated,
            retry_edge: None,
            attempt: None,
            cap: None,
            deadline: cancellation,
            delay: None,
        }
    }

    /// A function-valued argument: a closure/literal, or a name of a function or closure of the file.
    fn operation(&self, n: Node<'t>, call: &Call<'t>) -> Option<Node<'t>> {
        let n = node::strip_wrappers(n, Wrappers::AWAITED);
        if node::function_kinds(self.language).contains(&n.kind()) {
            return Some(n);
        }
        if !matches!(
            n.kind(),
            "identifier"
                | "scoped_identifier"
                | "field_expression"
                | "member_expression"
                | "selector_expression"
        ) {
            return None;
        }
        let name = self.text(n);
        if let Some(value) = self
            .facts
            .declared_value(call.function, name, call.node.start_byte())
        {
            let value = node::strip_wrappers(value, Wrappers::PARENS);
            return node::function_kinds(self.language)
                .contains(&value.kind())
                .then_some(value);
        }
        let own = dsr_core::kb::last_segment(name);
        self.facts
            .functions_named(own)
            .map(|index| &self.facts.functions[index])
            .find(|f| f.name != crate::facts::ANONYMOUS)
            .map(|f| f.node)
    }

    /// The local name a call's result is stored in (`client := retryablehttp.NewClient()`).
    /// A retrying client kept in a local that the code only configures and reads fields of
    /// (`rc := retryablehttp.NewClient(); rc.RetryMax = 3; use(rc.HTTPClient)`): what is used is the plain
    /// client inside it, so no request ever goes through its retries. Any other use — a method call on it
    /// (`rc.Do`, `rc.StandardClient()`), the local passed, returned or captured whole — is a use.
    fn never_used_to_retry(&self, call: &Call<'t>) -> bool {
        let Some(name) = self.bound_name(call) else {
            return false;
        };
        let Some(function) = call.function else {
            return false;
        };
        let scope = self.facts.functions[self.facts.outermost_function(function)].node;
        let mut uses = node::descendants(scope)
            .filter(|n| n.start_byte() >= call.node.end_byte())
            .filter(|n| n.kind() == "identifier" && self.text(*n) == name)
            .peekable();
        uses.peek().is_some()
            && uses.all(|n| {
                let Some(member) = self.facts.parent(n).filter(|p| {
                    matches!(
                        p.kind(),
                        "selector_expression" | "field_expression" | "member_expression"
                    ) && p
                        .child_by_field_name("operand")
                        .or_else(|| p.child_by_field_name("value"))
                        .or_else(|| p.child_by_field_name("object"))
                        == Some(n)
                }) else {
                    return false;
                };
                // `rc.Do(…)` calls it; `rc.HTTPClient` only reads the plain client inside.
                !self.facts.parent(member).is_some_and(|p| {
                    p.kind() == "call_expression"
                        && p.child_by_field_name("function") == Some(member)
                })
            })
    }

    fn bound_name(&self, call: &Call<'t>) -> Option<String> {
        let bound = self.bound_values.get_or_init(|| {
            let mut by_value = FxHashMap::default();
            for (index, a) in self.facts.assignments.iter().enumerate() {
                if let Some(value) = a.value {
                    by_value
                        .entry(node::strip_wrappers(value, Wrappers::AWAITED).id())
                        .or_insert(index);
                }
            }
            by_value
        });
        bound
            .get(&call.node.id())
            .map(|&index| self.facts.assignments[index].target.clone())
    }

    /// Assignments to members of a local name in a function: `b.MaxElapsedTime = 0`, `client.Backoff = …`.
    fn member_assignments(&self, function: Option<usize>, name: &str) -> Vec<Node<'t>> {
        let prefix = format!("{name}.");
        self.facts
            .assignments_in(function)
            .filter(|a| a.target.starts_with(&prefix))
            .map(|a| a.node)
            .collect()
    }

    fn is_parameter(&self, function: Option<usize>, name: &str) -> bool {
        let mut current = function;
        while let Some(index) = current {
            let f = &self.facts.functions[index];
            if f.params.iter().any(|p| p.name == name) {
                return true;
            }
            current = f.parent;
        }
        false
    }

    /// Settings of `library` in a subtree: option calls, builder methods, fields, assignments, constructed types.
    fn settings_in(
        &self,
        root: Node<'t>,
        library: &RetryLibrary,
        operations: &[Node<'t>],
        config: &mut Config,
    ) {
        for d in node::descendants(root) {
            if operations
                .iter()
                .any(|o| TextRange::of(*o).contains_range(TextRange::of(d)))
            {
                continue;
            }
            let mut range = TextRange::of(d);
            let (names, value): (Vec<String>, Option<Node<'t>>) = match d.kind() {
                "call_expression" => {
                    let Some(callee) = d.child_by_field_name("function") else {
                        continue;
                    };
                    let callee = if callee.kind() == "generic_function" {
                        callee.child_by_field_name("function").unwrap_or(callee)
                    } else {
                        callee
                    };
                    // A method on a value (`builder.with_jitter()`), not a function of an imported package
                    // (`backoff.WithMaxRetries(…)`).
                    let on_package = callee
                        .child_by_field_name("operand")
                        .or(callee.child_by_field_name("object"))
                        .is_some_and(|o| self.facts.import(self.text(o)).is_some());
                    let member = match callee.kind() {
                        "field_expression" | "member_expression" | "selector_expression"
                            if !on_package =>
                        {
                            callee
                                .child_by_field_name("field")
                                .or(callee.child_by_field_name("property"))
                        }
                        _ => None,
                    };
                    let names = match member {
                        Some(member) => {
                            // A builder method: point at `.with_jitter()`, not at the whole chain before it.
                            range = TextRange::new(member.start_byte(), d.end_byte());
                            vec![self.text(member).to_string()]
                        }
                        None => tail_names(&crate::facts::compact(self.text(callee))),
                    };
                    let first = d.child_by_field_name("arguments").and_then(|a| {
                        node::named_children(a).find(|c| !c.kind().contains("comment"))
                    });
                    (names, first)
                }
                "new_expression" => {
                    let Some(constructor) = d.child_by_field_name("constructor") else {
                        continue;
                    };
                    (tail_names(self.text(constructor)), None)
                }
                "composite_literal" | "struct_expression" => {
                    let Some(ty) = d
                        .child_by_field_name("type")
                        .or(d.child_by_field_name("name"))
                    else {
                        continue;
                    };
                    (tail_names(&crate::facts::compact(self.text(ty))), None)
                }
                "keyed_element" => {
                    let Some(key) = d.child_by_field_name("key") else {
                        continue;
                    };
                    (
                        vec![self.text(key).trim().to_string()],
                        d.child_by_field_name("value"),
                    )
                }
                "field_initializer" => {
                    let Some(field) = d.child_by_field_name("field") else {
                        continue;
                    };
                    (
                        vec![self.text(field).to_string()],
                        d.child_by_field_name("value"),
                    )
                }
                "pair" => {
                    let Some(key) = d.child_by_field_name("key") else {
                        continue;
                    };
                    let key = node::string_literal_value(key, self.source, self.language)
                        .unwrap_or_else(|| self.text(key).to_string());
                    (vec![key], d.child_by_field_name("value"))
                }
                "shorthand_property_identifier" | "shorthand_field_initializer" => {
                    (vec![self.text(d).to_string()], None)
                }
                "assignment_statement" | "assignment_expression" => {
                    let Some(left) = d.child_by_field_name("left") else {
                        continue;
                    };
                    let left = crate::facts::compact(self.text(left));
                    let last = dsr_core::kb::last_segment(&left).to_string();
                    let right = d.child_by_field_name("right").map(|r| {
                        if r.kind() == "expression_list" {
                            node::named_children(r).next().unwrap_or(r)
                        } else {
                            r
                        }
                    });
                    (vec![last], right)
                }
                _ => continue,
            };
            if names.is_empty() {
                continue;
            }
            // Call-style settings whose name alone identifies them (`.with_jitter()`, `.take(3)`): the method
            // name is also matched on a field-expression callee (`builder.with_jitter`).
            let value_text = value.map(|v| normalize_value(self.text(v)));
            let matching: Vec<_> = library
                .setting
                .iter()
                .filter(|s| names.contains(&s.name))
                .collect();
            if matching.is_empty() {
                continue;
            }
            let specific: Vec<_> = matching
                .iter()
                .filter(|s| {
                    s.when
                        .as_deref()
                        .is_some_and(|w| value_text.as_deref().is_some_and(|v| same_value(v, w)))
                })
                .collect();
            let is_specific = !specific.is_empty();
            let chosen: Vec<_> = if specific.is_empty() {
                matching.iter().filter(|s| s.when.is_none()).collect()
            } else {
                specific
            };
            for setting in chosen {
                for effect in &setting.effects {
                    config.add(*effect, range, setting.note.clone(), is_specific);
                }
            }
        }
    }
}

/// Settings found: the effect, where, the note that explains it, and whether it matched on its value.
#[derive(Default)]
struct Config {
    found: Vec<(RetryEffect, TextRange, Option<String>, bool)>,
}

impl Config {
    fn add(&mut self, effect: RetryEffect, range: TextRange, note: Option<String>, specific: bool) {
        self.found.push((effect, range, note, specific));
    }

    /// The setting with this effect, one matched on its value first.
    fn found(&self, effect: RetryEffect) -> Option<(TextRange, Option<String>, bool)> {
        self.found
            .iter()
            .filter(|(e, ..)| *e == effect)
            .max_by_key(|(_, range, _, specific)| (*specific, std::cmp::Reverse(range.start)))
            .map(|(_, range, note, specific)| (*range, note.clone(), *specific))
    }
}

/// Follows a delay expression through local variables and helpers to see whether it grows and is random.
struct Growth<'x, 'a, 't> {
    analyzer: &'x Analyzer<'a, 't>,
    visited: FxHashSet<usize>,
    grows: bool,
    random: bool,
    helper: Option<usize>,
}

impl<'t> Growth<'_, '_, 't> {
    fn expression(
        &mut self,
        expression: Node<'t>,
        scope: Option<usize>,
        counters: &FxHashSet<String>,
        depth: usize,
    ) {
        if depth > 5 || !self.visited.insert(expression.id()) {
            return;
        }
        let a = self.analyzer;
        let counter_names: Vec<&str> = counters.iter().map(String::as_str).collect();
        for d in node::descendants(expression) {
            match d.kind() {
                "identifier"
                | "field_identifier"
                | "property_identifier"
                | "shorthand_property_identifier" => {
                    let name = a.text(d);
                    if is_random_name(name) {
                        self.random = true;
                    }
                    if counters.contains(name) || d.kind() != "identifier" {
                        continue;
                    }
                    if self.grows_in_scope(name, scope, counters) {
                        self.grows = true;
                    }
                    // From the index by target, only inside the scope's range, and the top-level ones from their
                    // own index, merged in document order: every assignment of the name in the file per
                    // identifier was quadratic (a generated or large file assigns `delay` in every function).
                    let all = a.facts.assignments_to(name);
                    let in_scope: &[usize] = match scope {
                        Some(f) => {
                            let range = a.facts.functions[f].range();
                            let starts = |i: &usize| a.facts.assignments[*i].node.start_byte();
                            let from = all.partition_point(|i| starts(i) < range.start);
                            let to = all.partition_point(|i| starts(i) < range.end);
                            &all[from..to]
                        }
                        None => &[],
                    };
                    let top_level = a.facts.top_level_assignments_to(name);
                    let mut indexes: Vec<usize> = in_scope
                        .iter()
                        .copied()
                        .filter(|&i| a.facts.assignments[i].function == scope)
                        .chain(top_level.iter().copied())
                        .collect();
                    indexes.sort_unstable();
                    indexes.dedup();
                    let definitions: Vec<Node<'t>> = indexes
                        .into_iter()
                        .filter_map(|i| a.facts.assignments[i].value)
                        .collect();
                    for value in definitions {
                        self.expression(value, scope, counters, depth + 1);
                    }
                }
                "selector_expression" | "field_expression" | "member_expression"
                    if a.field_grows(d) =>
                {
                    self.grows = true;
                }
                // `delays[attempt]`: a schedule of delays indexed by the attempt, written in increasing order.
                "index_expression" | "subscript_expression"
                    if node::mentions(d, &counter_names, a.source, Mention::Variable) =>
                {
                    self.grows = true;
                }
                "binary_expression" => {
                    let op = operator(d, a.source);
                    if matches!(op, "*" | "<<" | "**" | "+")
                        && node::mentions(d, &counter_names, a.source, Mention::Variable)
                    {
                        self.grows = true;
                    }
                }
                "call_expression" => {
                    let Some(callee) = d.child_by_field_name("function") else {
                        continue;
                    };
                    let text = a.text(callee);
                    let last = dsr_core::kb::last_segment(text).to_ascii_lowercase();
                    if matches!(
                        last.as_str(),
                        "pow"
                            | "powi"
                            | "powf"
                            | "checked_pow"
                            | "saturating_pow"
                            | "wrapping_pow"
                            | "exp2"
                            | "checked_shl"
                            | "shl"
                            | "mul_f64"
                            | "mul_f32"
                    ) && node::mentions(d, &counter_names, a.source, Mention::Variable)
                    {
                        self.grows = true;
                    }
                    if let Some(path) = a.resolved(d) {
                        if path
                            .split(['/', '.', ':'])
                            .any(|s| s.starts_with("rand") || s.starts_with("fastrand"))
                        {
                            self.random = true;
                        }
                    }
                    let Some(index) = a.effects.call_index(d) else {
                        continue;
                    };
                    let call = &a.facts.calls[index];
                    let Some(helper) = a.effects.local_callee(index) else {
                        continue;
                    };
                    // Parameters that receive the counter count it inside the helper.
                    let params = &a.facts.functions[helper].params;
                    let inner: FxHashSet<String> = call
                        .args
                        .iter()
                        .enumerate()
                        .filter(|(_, arg)| {
                            node::mentions(**arg, &counter_names, a.source, Mention::Variable)
                        })
                        .filter_map(|(i, _)| params.get(i).map(|p| p.name.clone()))
                        .collect();
                    let before = (self.grows, self.random);
                    if let Some(body) = a.facts.functions[helper].body {
                        self.expression(body, Some(helper), &inner, depth + 1);
                    }
                    if (self.grows, self.random) != before {
                        self.helper = Some(helper);
                    }
                }
                _ => {}
            }
        }
    }

    /// `delay *= 2`, `delay <<= 1`, `delay = delay * 2`, `delay = min(delay*2, max)`, `d = d.saturating_mul(2)`
    /// somewhere in the scope.
    fn grows_in_scope(
        &self,
        name: &str,
        scope: Option<usize>,
        counters: &FxHashSet<String>,
    ) -> bool {
        let a = self.analyzer;
        let root = match scope {
            Some(f) => a.facts.functions[f].node,
            None => return false,
        };
        node::descendants(root).any(|d| {
            if !matches!(
                d.kind(),
                "assignment_statement"
                    | "compound_assignment_expr"
                    | "augmented_assignment_expression"
                    | "assignment_expression"
            ) {
                return false;
            }
            let Some(left) = d.child_by_field_name("left") else {
                return false;
            };
            let left_name = if left.kind() == "expression_list" {
                node::named_children(left)
                    .next()
                    .map(|l| a.text(l))
                    .unwrap_or("")
            } else {
                a.text(left)
            };
            if left_name != name {
                return false;
            }
            let op = operator(d, a.source);
            match d.kind() {
                "assignment_statement"
                | "compound_assignment_expr"
                | "augmented_assignment_expression"
                    if matches!(op, "*=" | "<<=" | "**=" | "+=") =>
                {
                    true
                }
                "assignment_statement" | "assignment_expression" => {
                    let Some(right) = d.child_by_field_name("right") else {
                        return false;
                    };
                    let mut names: Vec<&str> = counters.iter().map(String::as_str).collect();
                    names.push(name);
                    node::descendants(right).any(|r| {
                        (r.kind() == "binary_expression"
                            && matches!(operator(r, a.source), "*" | "<<" | "**")
                            && node::mentions(r, &names, a.source, Mention::Variable))
                            || (r.kind() == "call_expression"
                                && r.child_by_field_name("function").is_some_and(|f| {
                                    let t = a.text(f);
                                    t.contains("mul") || t.ends_with("pow")
                                })
                                && node::mentions(r, &[name], a.source, Mention::Variable))
                    })
                }
                _ => false,
            }
        })
    }
}

fn is_random_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("rand")
        || lower.starts_with("fastrand")
        || lower.contains("random")
        || lower.contains("jitter")
        || lower == "rng"
        || lower.ends_with("_rng")
        || lower.ends_with("rng()")
}

/// `rand.Intn(…)`-style paths become their last segment, numbers their value: `0.0` and `0` compare equal.
fn normalize_value(text: &str) -> String {
    let compact = crate::facts::compact(text);
    if compact.contains('(') || compact.contains('{') {
        return compact;
    }
    compact
        .rsplit(['.', ':'])
        .find(|s| !s.is_empty())
        .map(str::to_string)
        .filter(|_| compact.parse::<f64>().is_err())
        .unwrap_or(compact)
}

fn same_value(value: &str, when: &str) -> bool {
    match (
        value.trim_end_matches(['f', 'u', 'i', '_']).parse::<f64>(),
        when.parse::<f64>(),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => value == when || value.trim_end_matches("f64") == when,
    }
}

/// The names a callee or type can be matched by: its last segment, its last two (`Constant::new`), and the
/// type a constructor belongs to (`FixedInterval` for `FixedInterval::from_millis`).
fn tail_names(text: &str) -> Vec<String> {
    let text = text.split('<').next().unwrap_or(text);
    let separator = if text.contains("::") { "::" } else { "." };
    let parts: Vec<&str> = text.split(separator).filter(|p| !p.is_empty()).collect();
    let mut names = Vec::new();
    if let Some(last) = parts.last() {
        names.push((*last).to_string());
    }
    if parts.len() >= 2 {
        let owner = parts[parts.len() - 2];
        names.push(format!("{owner}{separator}{}", parts[parts.len() - 1]));
        names.push(owner.to_string());
    }
    names
}

/// `Ok(_)`/`Some(_)` → success, `Err(_)`/`None` → failure (the pattern's variant, `Result::Err(_)` included).
fn rust_pattern_polarity(pattern: Node<'_>, source: &str) -> Option<bool> {
    match node::rust_variant(pattern, source)? {
        "Ok" | "Some" => Some(true),
        "Err" | "None" => Some(false),
        _ => None,
    }
}

/// `res.ok` → success, `!res.ok` → failure.
fn ts_polarity(condition: Node<'_>, names: &[&str], source: &str) -> Option<bool> {
    let condition = node::strip_wrappers(condition, Wrappers::PARENS);
    match condition.kind() {
        "unary_expression" => condition
            .child_by_field_name("argument")
            .and_then(|a| ts_polarity(a, names, source))
            .map(|p| !p),
        "member_expression" => {
            let object = condition.child_by_field_name("object")?;
            let property = condition.child_by_field_name("property")?;
            (names.contains(&node::text(object, source)) && node::text(property, source) == "ok")
                .then_some(true)
        }
        "binary_expression" => {
            let op = operator(condition, source);
            if op != "&&" && op != "||" {
                return None;
            }
            ts_polarity(condition.child_by_field_name("left")?, names, source)
                .or_else(|| ts_polarity(condition.child_by_field_name("right")?, names, source))
        }
        _ => None,
    }
}

fn operator<'s>(n: Node<'_>, source: &'s str) -> &'s str {
    n.child_by_field_name("operator")
        .map(|o| node::text(o, source))
        .or_else(|| {
            // Some grammars leave the operator unnamed: the first anonymous child between the operands.
            (0..n.child_count())
                .filter_map(|i| n.child(i))
                .find(|c| !c.is_named())
                .map(|c| node::text(c, source))
        })
        .unwrap_or("")
}

/// `expression_statement(x)` → `x`.
fn unwrap_statement(n: Node<'_>) -> Node<'_> {
    if n.kind() == "expression_statement" {
        if let Some(inner) = node::named_children(n).next() {
            return inner;
        }
    }
    n
}

/// The cases of a `select`, `switch` or `match` (Go, TypeScript, Rust), each a block-like node whose last
/// statement [`last_statement`] finds; empty for anything else.
fn case_bodies(n: Node<'_>) -> Vec<Node<'_>> {
    match n.kind() {
        "select_statement" | "expression_switch_statement" | "type_switch_statement" => {
            node::named_children(n)
                .filter(|c| {
                    matches!(
                        c.kind(),
                        "communication_case" | "default_case" | "expression_case" | "type_case"
                    )
                })
                .collect()
        }
        "switch_statement" => n
            .child_by_field_name("body")
            .map(|body| {
                node::named_children(body)
                    .filter(|c| matches!(c.kind(), "switch_case" | "switch_default"))
                    .collect()
            })
            .unwrap_or_default(),
        "match_expression" => n
            .child_by_field_name("body")
            .map(|body| {
                node::named_children(body)
                    .filter(|c| c.kind() == "match_arm")
                    .filter_map(|arm| arm.child_by_field_name("value"))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The last statement of a block-like node (or the node itself when it is not a block). A case of a `select`
/// or `switch` is block-like: its statements follow its label.
fn last_statement(n: Node<'_>) -> Option<Node<'_>> {
    match n.kind() {
        "communication_case" | "default_case" | "expression_case" | "type_case" | "switch_case"
        | "switch_default" => {
            let label = n
                .child_by_field_name("communication")
                .or_else(|| n.child_by_field_name("value"))
                .or_else(|| n.child_by_field_name("type"));
            let last = node::named_children(n)
                .filter(|c| !c.kind().contains("comment"))
                .filter(|c| label.is_none_or(|l| l.id() != c.id()))
                .last()?;
            if last.kind() == "statement_list" {
                return last_statement(last);
            }
            Some(last)
        }
        "block" | "statement_block" | "statement_list" => {
            let last = node::named_children(n)
                .filter(|c| !c.kind().contains("comment"))
                .last()?;
            if last.kind() == "statement_list" {
                return last_statement(last);
            }
            Some(last)
        }
        _ => Some(n),
    }
}

/// The `else` branch of an if-statement/expression (a block, or a nested `if`).
fn else_branch(n: Node<'_>) -> Option<Node<'_>> {
    let alternative = n.child_by_field_name("alternative")?;
    if alternative.kind() == "else_clause" {
        return node::named_children(alternative).next();
    }
    Some(alternative)
}

/// The identifiers bound by a pattern or listed on an assignment's left side.
fn identifiers<'s>(n: Node<'_>, source: &'s str) -> Vec<&'s str> {
    node::descendants(n)
        .filter(|d| {
            matches!(
                d.kind(),
                "identifier" | "shorthand_property_identifier_pattern"
            )
        })
        .map(|d| node::text(d, source))
        .collect()
}

fn inside_comparison<'t>(analyzer: &Analyzer<'_, 't>, n: Node<'t>, stop: Node<'t>) -> bool {
    for ancestor in analyzer.ancestors(n) {
        if ancestor.id() == stop.id() {
            return false;
        }
        if ancestor.kind() == "binary_expression" {
            return true;
        }
    }
    false
}

/// The loop keyword (`for`, `loop`, `while`, `do`), or the first line of the loop.
fn loop_keyword(lp: Node<'_>) -> TextRange {
    (0..lp.child_count())
        .filter_map(|i| lp.child(i))
        .find(|c| matches!(c.kind(), "for" | "loop" | "while" | "do"))
        .map(TextRange::of)
        .unwrap_or_else(|| TextRange::new(lp.start_byte(), lp.start_byte()))
}

/// The label of a loop: Go/TS `label: for …`, Rust `'label: loop …`.
fn loop_label<'s>(lp: Node<'_>, parent: Option<Node<'_>>, source: &'s str) -> Option<&'s str> {
    if let Some(label) = node::named_children(lp).find(|c| c.kind() == "label") {
        return Some(node::text(label, source).trim_start_matches('\''));
    }
    let parent = parent?;
    if parent.kind() == "labeled_statement" {
        return parent
            .child_by_field_name("label")
            .or_else(|| node::named_children(parent).next())
            .map(|l| node::text(l, source));
    }
    None
}

mod reschedule;

#[cfg(test)]
mod tests;

/// Whether `text` mentions `word` as a whole identifier (`kafka.ErrQueueFull`, not `ErrQueueFullness`).
fn mentions_word(text: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}
