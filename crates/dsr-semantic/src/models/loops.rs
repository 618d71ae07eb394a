//! The loops of a file that iterate a collection, and what each one starts per element.
//!
//! Loops are statement loops (Go `for`/`for range`, Rust `for`/`while`/`loop`, TS `for`/`for-of`/`while`) and
//! callback iterations (Rust iterator and stream chains `.iter().map(|x| …)`/`.for_each(…)`, TS
//! `.map(…)`/`.forEach(…)`/`.flatMap(…)`). For each the model records:
//! - what it iterates and whether that collection has a known bound ([`Size`]): a literal, a constant range,
//!   `.take(n)`, a window `xs.slice(i, i + n)`, or a batch of a chunked iteration are bounded; a parameter, a
//!   request field, a query result, a struct field or anything computed are not;
//! - what is started per element and left running concurrently ([`Spawn`]): a Go `go` statement or
//!   `errgroup.Go`, `tokio::spawn`/`task::spawn`/`JoinSet::spawn`/`spawn_blocking`/`thread::spawn`, a future
//!   collected into `join_all`/`FuturesUnordered`, an un-awaited promise, `Promise.all(xs.map(async …))`;
//! - the bounding constructs in effect ([`Limit`]): a semaphore acquired per element (x/sync/semaphore, a
//!   buffered-channel semaphore, tokio `Semaphore`), `errgroup.SetLimit`, a send to a channel that feeds a fixed
//!   pool of workers, `buffer_unordered(n)`/`buffered(n)`/`for_each_concurrent(Some(n))`, p-limit, a wait for the
//!   batch inside the loop;
//! - whether it is a retry loop (from [`Retries`](super::retry::Retries)) or a pagination loop (a cursor, page
//!   or next-token variable assigned in the body and fed back into the call or the loop condition).

use dsr_core::kb::{CallKinds, KnowledgeBase};
use dsr_syntax::node::{self, Mention, Wrappers};
use dsr_syntax::{Language, TextRange};
use rustc_hash::FxHashSet;
use tree_sitter::Node;

use crate::facts::FileFacts;
use crate::models::remote::RemoteCalls;
use crate::models::retry::Retries;

/// Every iteration of a file.
#[derive(Debug, Default)]
pub struct Loops<'t> {
    pub loops: Vec<IterationLoop<'t>>,
    /// For each loop, the nearest loop whose node holds it (loops are sorted by start, outer first): the
    /// loops around a range are found by climbing from the last loop that starts before it, not by a scan of
    /// every loop of the file per question.
    enclosing: Vec<Option<usize>>,
}

/// A statement loop or a callback iteration.
#[derive(Debug, Clone)]
pub struct IterationLoop<'t> {
    /// The loop statement, or the `.map(…)`/`.forEach(…)` call.
    pub node: Node<'t>,
    /// Where to report: the loop keyword with its header, or the iterating method's name.
    pub anchor: TextRange,
    /// The loop body, or the callback.
    pub body: Option<Node<'t>>,
    pub function: Option<usize>,
    /// `map`, `for_each`, `forEach`… for callback iterations; `None` for statement loops.
    pub method: Option<String>,
    /// The iterated expression, when there is one.
    pub collection: Option<Node<'t>>,
    pub size: Size,
    /// Names bound per element: loop variables, the index of a counted loop, callback parameters.
    pub element_names: Vec<String>,
    pub retry: bool,
    pub pagination: bool,
    /// Work started per element and left running while the loop goes on.
    pub spawns: Vec<Spawn<'t>>,
    pub limits: Vec<Limit>,
}

impl IterationLoop<'_> {
    pub fn range(&self) -> TextRange {
        TextRange::of(self.node)
    }

    /// Iterates a collection whose size the code does not bound.
    pub fn is_unbounded_collection(&self) -> bool {
        matches!(self.size, Size::Unknown(_))
    }
}

/// How many elements a loop goes through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Size {
    /// Known to be small: the reason.
    Bounded(Bound),
    /// Batches of a constant size (`chunks(100)`, `lodash.chunk(xs, 50)`, `i += batchSize`): the loop body
    /// handles one batch, however many there are.
    Chunked,
    /// A collection whose size comes from outside the code.
    Unknown(Origin),
    /// Not an iteration over a collection: `loop {}`, `while cond`, a counted loop, a channel or stream drained.
    NotACollection(Source),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// `[]string{"a", "b"}`, `[a, b]`, `vec![a, b]`.
    Literal,
    /// `0..10`, `range 10`, a range up to a constant.
    ConstantRange,
    /// `.take(n)`.
    Take,
    /// `xs.slice(i, i + n)`, `xs[:10]`: a window of a fixed width.
    Window,
    /// One batch of a chunked iteration (`for chunk in xs.chunks(100)` → `chunk`).
    Batch,
}

/// Where a collection of unknown size comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A parameter of the function (or a field of one).
    Parameter(String),
    /// A field of the incoming request (`req.body.items`, `r.Form`, `payload.ids`).
    RequestField(String),
    /// The result of a remote call (a query, a list call), or rows read from one.
    QueryResult,
    /// A field of the receiver (`s.targets`, `self.peers`, `this.items`).
    Field(String),
    /// Computed locally from something the model cannot follow.
    Computed,
}

impl Origin {
    pub fn describe(&self) -> String {
        match self {
            Origin::Parameter(name) => format!("the parameter `{name}`"),
            Origin::RequestField(name) => format!("the request field `{name}`"),
            Origin::QueryResult => "a query result".to_string(),
            Origin::Field(name) => format!("the field `{name}`"),
            Origin::Computed => "a computed collection".to_string(),
        }
    }
}

/// What a loop that is not over a collection goes round on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `loop {}`, `for {}`, `while cond`, a counted loop.
    Condition,
    /// A channel or stream drained as messages arrive (`for x := range ch`, `while let Some(x) = rx.recv()`).
    Stream,
}

#[derive(Debug, Clone)]
pub struct Spawn<'t> {
    pub node: Node<'t>,
    pub kind: SpawnKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpawnKind {
    /// A Go `go` statement.
    Goroutine,
    /// `g.Go(func() error {…})` (errgroup, conc): the receiver's text.
    GroupGo(String),
    /// A task or thread spawn: the callee as written.
    Task(String),
    /// A future per element collected into a combinator that polls them all at once (`join_all`,
    /// `FuturesUnordered`, `for_each_concurrent(None, …)`).
    JoinAll(String),
    /// A promise per element that nobody awaits inside the loop.
    UnawaitedPromise,
    /// `Promise.all(xs.map(…))` and friends: the combinator as written.
    PromiseAll(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub kind: LimitKind,
    pub range: TextRange,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// `sem.Acquire(ctx, 1)`, `semaphore.acquire().await`, `await sem.acquire()`.
    Semaphore,
    /// A send into a buffered channel per element: blocks when `cap` are in flight, or feeds a worker pool.
    ChannelSemaphore,
    /// `g.SetLimit(n)` on the group whose `Go` starts the work.
    GroupLimit,
    /// `buffer_unordered(n)`, `buffered(n)`, `for_each_concurrent(Some(n))`.
    StreamLimit,
    /// p-limit's `limit(() => …)`.
    PLimit,
    /// The loop waits for what it started every so often (`wg.Wait()`, `await Promise.all(batch)`,
    /// `join_next().await`).
    Batched,
}

/// Methods that iterate with a callback.
const RUST_CALLBACK_METHODS: &[&str] = &[
    "map",
    "for_each",
    "try_for_each",
    "filter_map",
    "flat_map",
    "then",
    "and_then",
    "for_each_concurrent",
    "try_for_each_concurrent",
];
const TS_CALLBACK_METHODS: &[&str] = &["map", "forEach", "flatMap"];

/// Rust adapters a collection goes through unchanged in size.
const RUST_ADAPTERS: &[&str] = &[
    "iter",
    "into_iter",
    "iter_mut",
    "values",
    "values_mut",
    "keys",
    "enumerate",
    "filter",
    "cloned",
    "copied",
    "drain",
    "rev",
    "zip",
    "skip",
    "peekable",
    "into_values",
    "into_keys",
    "map",
    "filter_map",
    "as_slice",
    "clone",
    "to_vec",
    "to_owned",
];
const TS_ADAPTERS: &[&str] = &[
    "filter", "entries", "values", "keys", "concat", "reverse", "sort",
];

/// Names a variable carrying the next page's position tends to have.
const PAGINATION_NAMES: &[&str] = &[
    "cursor",
    "page",
    "token",
    "marker",
    "offset",
    "continuation",
    "after",
    "next",
    "start",
    "skip",
    "from",
];

/// Channel names that say the channel is a semaphore when a goroutine sends on it.
const SEMAPHORE_NAMES: &[&str] = &[
    "sem",
    "limit",
    "token",
    "slot",
    "throttle",
    "concurren",
    "guard",
    "gate",
    "ticket",
    "pool",
];

impl<'t> Loops<'t> {
    pub fn compute(
        facts: &FileFacts<'t>,
        source: &str,
        effects: &RemoteCalls,
        retry: &Retries<'t>,
    ) -> Self {
        let builder = Builder {
            facts,
            source,
            effects,
            language: facts.language,
        };
        let retry_nodes: FxHashSet<usize> = retry
            .iter()
            .filter(|r| r.is_loop())
            .map(|r| r.node.id())
            .collect();
        let mut loops = Vec::new();
        for lp in &facts.loops {
            if let Some(mut found) = builder.statement_loop(lp.node, lp.function) {
                found.retry = retry_nodes.contains(&lp.node.id());
                loops.push(found);
            }
        }
        for call in &facts.calls {
            if let Some(found) = builder.callback_loop(call) {
                loops.push(found);
            }
        }
        loops.sort_by_key(|l| (l.node.start_byte(), std::cmp::Reverse(l.node.end_byte())));
        let enclosing = enclosing_loops(&loops);
        let mut model = Loops { loops, enclosing };
        builder.attach_spawns(&mut model);
        builder.attach_limits(&mut model);
        model
    }

    pub fn iter(&self) -> impl Iterator<Item = &IterationLoop<'t>> {
        self.loops.iter()
    }

    /// The innermost loop whose body holds `range`.
    pub fn innermost_at(&self, range: TextRange) -> Option<&IterationLoop<'t>> {
        self.innermost(range).map(|i| &self.loops[i])
    }

    /// The index of the innermost loop whose body holds `range` (the first of equals). A loop whose body holds
    /// `range` starts at or before it, so it holds the last loop that does: it is that loop or one around it.
    fn innermost(&self, range: TextRange) -> Option<usize> {
        let after = self
            .loops
            .partition_point(|l| l.node.start_byte() <= range.start);
        let mut current = after.checked_sub(1);
        let mut best: Option<(usize, usize)> = None;
        while let Some(index) = current {
            if let Some(body) = self.loops[index].body {
                let body = TextRange::of(body);
                // Climbing outwards the indexes fall, so `<=` keeps the first of equal bodies.
                if body.contains_range(range) && best.is_none_or(|(_, len)| body.len() <= len) {
                    best = Some((index, body.len()));
                }
            }
            current = self.enclosing[index];
        }
        best.map(|(index, _)| index)
    }
}

/// The index of the loop whose node is `n`: a binary search by start (loops are sorted by it), not a scan.
fn loop_of(loops: &[IterationLoop<'_>], n: Node<'_>) -> Option<usize> {
    let first = loops.partition_point(|l| l.node.start_byte() < n.start_byte());
    loops[first..]
        .iter()
        .take_while(|l| l.node.start_byte() == n.start_byte())
        .position(|l| l.node.id() == n.id())
        .map(|offset| first + offset)
}

/// The nearest enclosing loop of each loop of `loops` (sorted by start, outer first), by a stack of the open
/// loops.
fn enclosing_loops(loops: &[IterationLoop<'_>]) -> Vec<Option<usize>> {
    let mut enclosing = Vec::with_capacity(loops.len());
    let mut open: Vec<usize> = Vec::new();
    for (index, lp) in loops.iter().enumerate() {
        let range = TextRange::of(lp.node);
        while let Some(&top) = open.last() {
            if TextRange::of(loops[top].node).contains_range(range) {
                break;
            }
            open.pop();
        }
        enclosing.push(open.last().copied());
        open.push(index);
    }
    enclosing
}

struct Builder<'a, 't> {
    facts: &'a FileFacts<'t>,
    source: &'a str,
    effects: &'a RemoteCalls,
    language: Language,
}

impl<'t> Builder<'_, 't> {
    fn text(&self, n: Node<'_>) -> &str {
        node::text(n, self.source)
    }

    fn new_loop(
        &self,
        n: Node<'t>,
        anchor: TextRange,
        function: Option<usize>,
    ) -> IterationLoop<'t> {
        IterationLoop {
            node: n,
            anchor,
            body: None,
            function,
            method: None,
            collection: None,
            size: Size::NotACollection(Source::Condition),
            element_names: Vec::new(),
            retry: false,
            pagination: false,
            spawns: Vec::new(),
            limits: Vec::new(),
        }
    }

    // ----- statement loops ---------------------------------------------------------------------------------

    fn statement_loop(&self, n: Node<'t>, function: Option<usize>) -> Option<IterationLoop<'t>> {
        let body = n.child_by_field_name("body");
        let header_end = body.map_or(n.end_byte(), |b| b.start_byte());
        let anchor_end = self.source[n.start_byte()..header_end].trim_end().len() + n.start_byte();
        let mut found = self.new_loop(n, TextRange::new(n.start_byte(), anchor_end), function);
        found.body = body;
        match (self.language, n.kind()) {
            (Language::Go, "for_statement") => self.go_header(n, function, &mut found),
            (Language::Rust, "for_expression") => {
                found.element_names = n
                    .child_by_field_name("pattern")
                    .map(|p| self.identifiers(p))
                    .unwrap_or_default();
                if let Some(value) = n.child_by_field_name("value") {
                    found.collection = Some(value);
                    found.size = self.size_of(value, function, 0);
                    if let Some((collection, index)) = self.counted_range(value) {
                        found.collection = Some(collection);
                        found.size = self.size_of(collection, function, 0);
                        found.element_names = vec![index];
                    }
                }
            }
            (Language::Rust, "while_expression") => {
                if let Some(condition) = n.child_by_field_name("condition") {
                    if condition.kind() == "let_condition"
                        || self.text(condition).starts_with("let")
                    {
                        found.size = Size::NotACollection(Source::Stream);
                    }
                }
            }
            (Language::TypeScript | Language::Tsx, "for_in_statement") => {
                found.element_names = n
                    .child_by_field_name("left")
                    .map(|p| self.identifiers(p))
                    .unwrap_or_default();
                if let Some(right) = n.child_by_field_name("right") {
                    found.collection = Some(right);
                    found.size = self.size_of(right, function, 0);
                }
            }
            (Language::TypeScript | Language::Tsx, "for_statement") => {
                self.counted_loop(n, function, &mut found);
            }
            _ => {}
        }
        found.pagination = self.is_pagination(n, body, &found.element_names);
        Some(found)
    }

    fn go_header(&self, n: Node<'t>, function: Option<usize>, found: &mut IterationLoop<'t>) {
        let Some(header) =
            node::named_children(n).find(|c| c.kind() != "block" && c.kind() != "comment")
        else {
            return;
        };
        match header.kind() {
            "range_clause" => {
                found.element_names = header
                    .child_by_field_name("left")
                    .map(|l| self.identifiers(l))
                    .unwrap_or_default();
                if let Some(right) = header.child_by_field_name("right") {
                    found.collection = Some(right);
                    found.size = if self.is_go_channel(right, function) {
                        Size::NotACollection(Source::Stream)
                    } else if self.is_go_count(right, function) {
                        // `for i := range workers`: Go 1.22 ranges over an integer, a counted loop.
                        Size::NotACollection(Source::Condition)
                    } else {
                        self.size_of(right, function, 0)
                    };
                }
            }
            "for_clause" => self.counted_loop(header, function, found),
            // `for rows.Next() { … }`: the rows of a query, one per iteration.
            "call_expression" => {
                let method = header
                    .child_by_field_name("function")
                    .filter(|f| f.kind() == "selector_expression")
                    .and_then(|f| {
                        Some((
                            f.child_by_field_name("field")?,
                            f.child_by_field_name("operand")?,
                        ))
                    });
                if let Some((field, operand)) = method {
                    if self.text(field) == "Next" {
                        // The row's values are what `rows.Scan(&a, &b)` fills in.
                        let rows = self.text(operand);
                        // The calls inside the loop by a binary search, not a scan of the file's.
                        found.element_names = self
                            .facts
                            .calls_within(TextRange::of(n))
                            .filter(|c| {
                                c.method.as_deref() == Some("Scan")
                                    && c.receiver.is_some_and(|r| self.text(r) == rows)
                            })
                            .flat_map(|c| c.args.iter().flat_map(|a| self.identifiers(*a)))
                            .collect();
                        found.collection = Some(operand);
                        found.size = match self.size_of(operand, function, 0) {
                            Size::Unknown(Origin::QueryResult) => {
                                Size::Unknown(Origin::QueryResult)
                            }
                            _ => Size::NotACollection(Source::Stream),
                        };
                    }
                }
            }
            _ => {}
        }
    }

    /// `for i := 0; i < len(xs); i++` / `for (let i = 0; i < xs.length; i++)`: iterates `xs` by index; a step
    /// other than one (`i += batch`) walks it in chunks.
    fn counted_loop(
        &self,
        clause: Node<'t>,
        function: Option<usize>,
        found: &mut IterationLoop<'t>,
    ) {
        let Some(condition) = clause.child_by_field_name("condition") else {
            return;
        };
        let condition = if condition.kind() == "expression_statement" {
            node::named_children(condition).next().unwrap_or(condition)
        } else {
            condition
        };
        found.element_names = clause
            .child_by_field_name("initializer")
            .map(|i| {
                let target = i.child_by_field_name("left").or_else(|| {
                    node::named_children(i)
                        .next()
                        .and_then(|d| d.child_by_field_name("name"))
                });
                target.map(|t| self.identifiers(t)).unwrap_or_default()
            })
            .unwrap_or_default();
        let Some(collection) = self.length_operand(condition) else {
            // `i < n`, `i < 10`: a count, bounded when it is a constant.
            if let Some(limit) = condition.child_by_field_name("right") {
                if self.is_constant(limit, function) {
                    found.size = Size::Bounded(Bound::ConstantRange);
                }
            }
            return;
        };
        found.collection = Some(collection);
        let step = clause
            .child_by_field_name("update")
            .or_else(|| clause.child_by_field_name("increment"));
        let chunked = step.is_some_and(|s| {
            matches!(
                s.kind(),
                "assignment_statement" | "augmented_assignment_expression"
            ) && s
                .child_by_field_name("right")
                .is_some_and(|r| self.text(r).trim() != "1")
        });
        found.size = if chunked {
            Size::Chunked
        } else {
            self.size_of(collection, function, 0)
        };
    }

    /// `len(xs)` / `xs.length` / `xs.len()` in a loop condition → `xs`.
    fn length_operand(&self, condition: Node<'t>) -> Option<Node<'t>> {
        node::descendants(condition).find_map(|d| match (self.language, d.kind()) {
            (Language::Go, "call_expression") => {
                let f = d.child_by_field_name("function")?;
                (self.text(f) == "len")
                    .then(|| d.child_by_field_name("arguments"))
                    .flatten()
                    .and_then(|a| node::named_children(a).next())
            }
            (Language::TypeScript | Language::Tsx, "member_expression") => {
                let p = d.child_by_field_name("property")?;
                (matches!(self.text(p), "length" | "size"))
                    .then(|| d.child_by_field_name("object"))
                    .flatten()
            }
            _ => None,
        })
    }

    /// Rust `for i in 0..xs.len()` → (`xs`, `i`).
    fn counted_range(&self, value: Node<'t>) -> Option<(Node<'t>, String)> {
        if value.kind() != "range_expression" {
            return None;
        }
        let end = node::named_children(value).last()?;
        let (receiver, method) = rust_method(end)?;
        if self.text(method) != "len" {
            return None;
        }
        let pattern = self.facts.parent(value)?.child_by_field_name("pattern")?;
        Some((receiver, self.text(pattern).to_string()))
    }

    // ----- callback iterations -----------------------------------------------------------------------------

    fn callback_loop(&self, call: &crate::facts::Call<'t>) -> Option<IterationLoop<'t>> {
        let method = call.method.as_deref()?;
        let receiver = call.receiver?;
        let callback = *call.args.iter().rev().find(|a| {
            matches!(
                a.kind(),
                "closure_expression" | "arrow_function" | "function_expression" | "function"
            )
        })?;
        let iterates = match self.language {
            Language::Rust => {
                RUST_CALLBACK_METHODS.contains(&method) && self.rust_chain_iterates(receiver)
            }
            Language::TypeScript | Language::Tsx => TS_CALLBACK_METHODS.contains(&method),
            _ => false,
        };
        if !iterates {
            return None;
        }
        let name = call
            .callee
            .child_by_field_name("field")
            .or_else(|| call.callee.child_by_field_name("property"))
            .unwrap_or(call.callee);
        let mut found = self.new_loop(call.node, TextRange::of(name), call.function);
        found.method = Some(method.to_string());
        found.body = Some(callback);
        found.element_names = callback
            .child_by_field_name("parameters")
            .or_else(|| callback.child_by_field_name("parameter"))
            .map(|p| self.identifiers(p))
            .unwrap_or_default();
        let collection = self.chain_root(receiver);
        found.collection = Some(collection);
        found.size = self.size_of(receiver, call.function, 0);
        Some(found)
    }

    /// A Rust receiver chain that goes through an iterator or stream (`xs.iter()`, `stream::iter(xs)`).
    fn rust_chain_iterates(&self, receiver: Node<'t>) -> bool {
        let mut current = node::strip_wrappers(receiver, Wrappers::ALL);
        for _ in 0..16 {
            if current.kind() != "call_expression" {
                return false;
            }
            if let Some((inner, method)) = rust_method(current) {
                let name = self.text(method);
                if matches!(
                    name,
                    "iter"
                        | "into_iter"
                        | "iter_mut"
                        | "values"
                        | "keys"
                        | "drain"
                        | "chunks"
                        | "chunks_exact"
                        | "into_values"
                        | "into_keys"
                ) {
                    return true;
                }
                current = node::strip_wrappers(inner, Wrappers::ALL);
                continue;
            }
            let callee = current
                .child_by_field_name("function")
                .map(|f| self.text(f))
                .unwrap_or("");
            return callee.ends_with("stream::iter")
                || callee == "iter"
                || callee.ends_with("iter::from_fn");
        }
        false
    }

    /// The collection at the root of a method chain: `xs` for `xs.iter().filter(..)`.
    fn chain_root(&self, receiver: Node<'t>) -> Node<'t> {
        let mut current = node::strip_wrappers(receiver, Wrappers::ALL);
        for _ in 0..16 {
            let next = match self.language {
                Language::Rust => rust_method(current).map(|(r, _)| r),
                Language::TypeScript | Language::Tsx => ts_method(current).map(|(r, _)| r),
                _ => None,
            };
            match next {
                Some(inner) => current = node::strip_wrappers(inner, Wrappers::ALL),
                None => break,
            }
        }
        current
    }

    // ----- sizes -------------------------------------------------------------------------------------------

    fn size_of(&self, expression: Node<'t>, function: Option<usize>, depth: usize) -> Size {
        let e = node::strip_wrappers(expression, Wrappers::ALL);
        if depth > 4 {
            return Size::Unknown(Origin::Computed);
        }
        match e.kind() {
            "composite_literal" | "array_expression" => return Size::Bounded(Bound::Literal),
            "array" => {
                return if node::named_children(e).any(|c| c.kind() == "spread_element") {
                    Size::Unknown(Origin::Computed)
                } else {
                    Size::Bounded(Bound::Literal)
                };
            }
            "macro_invocation" => {
                let name = e
                    .child_by_field_name("macro")
                    .map(|m| self.text(m))
                    .unwrap_or("");
                return if name == "vec" && !self.text(e).contains(';') {
                    Size::Bounded(Bound::Literal)
                } else {
                    Size::Unknown(Origin::Computed)
                };
            }
            "int_literal" | "integer_literal" | "number" => {
                return Size::Bounded(Bound::ConstantRange)
            }
            "range_expression" => {
                let end = node::named_children(e).last();
                return match end {
                    Some(end) if self.is_constant(end, function) => {
                        Size::Bounded(Bound::ConstantRange)
                    }
                    _ => Size::NotACollection(Source::Condition),
                };
            }
            "slice_expression" => {
                // `xs[:10]`, `xs[i:i+10]`: a window of constant width.
                if let Some(end) = e.child_by_field_name("end") {
                    if self.is_constant(end, function) || self.text(end).contains('+') {
                        return Size::Bounded(Bound::Window);
                    }
                }
                if let Some(operand) = e.child_by_field_name("operand") {
                    return self.size_of(operand, function, depth + 1);
                }
            }
            "call_expression" => return self.size_of_call(e, function, depth),
            "identifier" => return self.size_of_name(e, function, depth),
            "selector_expression"
            | "field_expression"
            | "member_expression"
            | "subscript_expression"
            | "index_expression" => return self.size_of_field(e, function, depth),
            "self" | "this" => return Size::Unknown(Origin::Field(self.text(e).to_string())),
            _ => {}
        }
        Size::Unknown(Origin::Computed)
    }

    fn size_of_call(&self, e: Node<'t>, function: Option<usize>, depth: usize) -> Size {
        if let Some(index) = self.effects.call_index(e) {
            if self.effects.remote(index).is_some() {
                return Size::Unknown(Origin::QueryResult);
            }
        }
        let method = match self.language {
            Language::Rust => rust_method(e),
            Language::TypeScript | Language::Tsx => ts_method(e),
            _ => None,
        };
        if let Some((receiver, method)) = method {
            let name = self.text(method);
            let args = call_arguments(e);
            match name {
                "take" => return Size::Bounded(Bound::Take),
                "chunks" | "chunks_exact" | "array_chunks" => return Size::Chunked,
                "slice" if args.len() == 2 && !self.text(args[1]).contains("length") => {
                    return Size::Bounded(Bound::Window)
                }
                _ => {}
            }
            let adapters = if self.language == Language::Rust {
                RUST_ADAPTERS
            } else {
                TS_ADAPTERS
            };
            if adapters.contains(&name) {
                return self.size_of(receiver, function, depth + 1);
            }
            return Size::Unknown(Origin::Computed);
        }
        let callee = e
            .child_by_field_name("function")
            .map(|f| self.text(f))
            .unwrap_or("");
        let args = call_arguments(e);
        let last = dsr_core::kb::last_segment(callee);
        if matches!(
            last,
            "chunk" | "Chunk" | "chunks" | "batch" | "batches" | "splitEvery"
        ) {
            return Size::Chunked;
        }
        // `Object.values(x)`, `stream::iter(x)`, `Array.from(x)`: the argument's size.
        if matches!(
            callee,
            "Object.values" | "Object.keys" | "Object.entries" | "Array.from"
        ) || callee.ends_with("stream::iter")
            || callee == "iter"
        {
            if let Some(first) = args.first() {
                return self.size_of(*first, function, depth + 1);
            }
        }
        Size::Unknown(Origin::Computed)
    }

    fn size_of_name(&self, e: Node<'t>, function: Option<usize>, depth: usize) -> Size {
        let name = self.text(e);
        if let Some(batch) = self.enclosing_batch_variable(e, name, depth) {
            return batch;
        }
        if self.is_param(function, name) {
            return Size::Unknown(if is_request_name(name) {
                Origin::RequestField(name.to_string())
            } else {
                Origin::Parameter(name.to_string())
            });
        }
        if let Some(value) = self.facts.declared_value(function, name, e.start_byte()) {
            if value.id() != e.id() && !TextRange::of(value).contains(e.start_byte()) {
                return self.size_of(value, function, depth + 1);
            }
        }
        if self.language == Language::Rust
            && name.chars().all(|c| c.is_ascii_uppercase() || c == '_')
        {
            return Size::Bounded(Bound::Literal);
        }
        Size::Unknown(Origin::Computed)
    }

    fn size_of_field(&self, e: Node<'t>, function: Option<usize>, depth: usize) -> Size {
        let text: String = self
            .text(e)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let mut head = e;
        while let Some(inner) = head
            .child_by_field_name("operand")
            .or_else(|| head.child_by_field_name("value"))
            .or_else(|| head.child_by_field_name("object"))
        {
            head = node::strip_wrappers(inner, Wrappers::ALL);
        }
        let head_text = self.text(head);
        if matches!(head.kind(), "self" | "this") || self.is_go_receiver(function, head_text) {
            return Size::Unknown(Origin::Field(text));
        }
        if head.kind() != "identifier" {
            return Size::Unknown(Origin::Computed);
        }
        let request_like = is_request_name(head_text)
            || text.contains(".body.")
            || text.contains(".query.")
            || text.contains(".Form")
            || text.contains(".URL.Query");
        if self.is_param(function, head_text) {
            return Size::Unknown(if request_like {
                Origin::RequestField(text)
            } else {
                Origin::Parameter(text)
            });
        }
        match self.size_of_name(head, function, depth + 1) {
            Size::Unknown(Origin::QueryResult) => Size::Unknown(Origin::QueryResult),
            Size::Unknown(Origin::Parameter(_) | Origin::RequestField(_)) => {
                Size::Unknown(Origin::Parameter(text))
            }
            _ => Size::Unknown(Origin::Computed),
        }
    }

    /// A name bound by an enclosing loop over chunks (`for chunk in xs.chunks(100)` seen from inside).
    fn enclosing_batch_variable(&self, e: Node<'t>, name: &str, depth: usize) -> Option<Size> {
        for ancestor in self.facts.ancestors(e) {
            let batch = match (self.language, ancestor.kind()) {
                (Language::Rust, "for_expression") => {
                    let pattern = ancestor.child_by_field_name("pattern")?;
                    let value = ancestor.child_by_field_name("value")?;
                    (self.identifiers(pattern).iter().any(|n| n == name)
                        && matches!(self.size_of(value, None, depth + 1), Size::Chunked))
                    .then_some(Size::Bounded(Bound::Batch))
                }
                (Language::TypeScript | Language::Tsx, "for_in_statement") => {
                    let left = ancestor.child_by_field_name("left")?;
                    let right = ancestor.child_by_field_name("right")?;
                    (self.identifiers(left).iter().any(|n| n == name)
                        && matches!(self.size_of(right, None, depth + 1), Size::Chunked))
                    .then_some(Size::Bounded(Bound::Batch))
                }
                (Language::Go, "for_statement") => {
                    let clause =
                        node::named_children(ancestor).find(|c| c.kind() == "range_clause")?;
                    let left = clause.child_by_field_name("left")?;
                    let right = clause.child_by_field_name("right")?;
                    (self.identifiers(left).last().is_some_and(|n| n == name)
                        && matches!(self.size_of(right, None, depth + 1), Size::Chunked))
                    .then_some(Size::Bounded(Bound::Batch))
                }
                _ => None,
            };
            if batch.is_some() {
                return batch;
            }
        }
        None
    }

    fn is_param(&self, function: Option<usize>, name: &str) -> bool {
        let mut current = function;
        while let Some(index) = current {
            let Some(f) = self.facts.functions.get(index) else {
                return false;
            };
            if f.params.iter().any(|p| p.name == name) {
                return true;
            }
            current = f.parent;
        }
        false
    }

    /// The receiver name of a Go method (`s` in `func (s *Store) …`).
    fn is_go_receiver(&self, function: Option<usize>, name: &str) -> bool {
        if self.language != Language::Go {
            return false;
        }
        let Some(index) = function.map(|f| self.facts.outermost_function(f)) else {
            return false;
        };
        self.facts.functions[index]
            .node
            .child_by_field_name("receiver")
            .and_then(|r| node::named_children(r).next())
            .and_then(|p| p.child_by_field_name("name"))
            .is_some_and(|n| self.text(n) == name)
    }

    fn is_constant(&self, n: Node<'t>, function: Option<usize>) -> bool {
        let n = node::strip_wrappers(n, Wrappers::ALL);
        match n.kind() {
            "int_literal" | "integer_literal" | "number" => true,
            "identifier" => {
                let name = self.text(n);
                if name.len() > 1
                    && name
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
                {
                    return true;
                }
                self.facts
                    .declared_value(function, name, n.start_byte())
                    .is_some_and(|v| {
                        matches!(v.kind(), "int_literal" | "integer_literal" | "number")
                    })
            }
            "binary_expression" => node::named_children(n).all(|c| self.is_constant(c, function)),
            _ => false,
        }
    }

    fn is_go_count(&self, n: Node<'t>, function: Option<usize>) -> bool {
        let n = node::strip_wrappers(n, Wrappers::ALL);
        let last = match n.kind() {
            "identifier" => self.text(n),
            "selector_expression" => n
                .child_by_field_name("field")
                .map(|f| self.text(f))
                .unwrap_or(""),
            "call_expression" => {
                let callee = n
                    .child_by_field_name("function")
                    .map(|f| self.text(f))
                    .unwrap_or("");
                return matches!(
                    callee,
                    "runtime.NumCPU" | "runtime.GOMAXPROCS" | "min" | "max"
                );
            }
            "binary_expression" => return true,
            _ => return false,
        };
        let lower = last.to_ascii_lowercase();
        if matches!(lower.as_str(), "n" | "m" | "k" | "count" | "size")
            || [
                "concurrency",
                "parallelism",
                "workers",
                "count",
                "num",
                "shards",
                "retries",
                "attempts",
                "cap",
                "len",
            ]
            .iter()
            .any(|w| lower.contains(w))
        {
            return true;
        }
        let mut current = function;
        while let Some(index) = current {
            let f = &self.facts.functions[index];
            if let Some(p) = f.params.iter().find(|p| p.name == last) {
                return matches!(
                    p.type_text.as_str(),
                    "int" | "int64" | "int32" | "uint" | "uint64" | "uint32"
                );
            }
            current = f.parent;
        }
        false
    }

    fn is_go_channel(&self, n: Node<'t>, function: Option<usize>) -> bool {
        let n = node::strip_wrappers(n, Wrappers::ALL);
        if n.kind() == "unary_expression" || self.text(n).starts_with("<-") {
            return true;
        }
        if n.kind() == "call_expression" {
            // `range time.Tick(d)`, `range sub.Chan()`, `range ctx.Done()`: a channel returned by a call.
            let callee = n
                .child_by_field_name("function")
                .map(|f| self.text(f))
                .unwrap_or("");
            return callee.ends_with("Chan")
                || callee.ends_with("Tick")
                || callee.ends_with("C")
                || callee.ends_with("Done");
        }
        if n.kind() == "identifier" {
            let name = self.text(n);
            if let Some(value) = self.facts.declared_value(function, name, n.start_byte()) {
                return self.text(value).starts_with("make(chan")
                    || self.text(value).starts_with("make(<-chan");
            }
            let mut current = function;
            while let Some(index) = current {
                let f = &self.facts.functions[index];
                if let Some(p) = f.params.iter().find(|p| p.name == name) {
                    return p.type_text.contains("chan");
                }
                current = f.parent;
            }
        }
        false
    }

    // ----- pagination --------------------------------------------------------------------------------------

    /// A variable assigned in the loop body from something the body computed, and read by a remote call of
    /// the body or by the loop condition; or a pagination-named variable advanced in the body.
    fn is_pagination(&self, lp: Node<'t>, body: Option<Node<'t>>, elements: &[String]) -> bool {
        let Some(body) = body else { return false };
        let remote_calls: Vec<usize> = self
            .effects
            .calls_in_range(TextRange::of(body))
            .filter(|i| self.effects.remote(*i).is_some())
            .collect();
        if remote_calls.is_empty() {
            return false;
        }
        let condition = lp.child_by_field_name("condition");
        node::descendants(body)
            .filter(|d| {
                matches!(
                    d.kind(),
                    "assignment_statement"
                        | "assignment_expression"
                        | "augmented_assignment_expression"
                        | "compound_assignment_expr"
                        | "inc_statement"
                        | "update_expression"
                )
            })
            .any(|assignment| {
                let target = assignment
                    .child_by_field_name("left")
                    .or_else(|| assignment.child_by_field_name("argument"))
                    .or_else(|| node::named_children(assignment).next());
                let Some(mut target) = target else {
                    return false;
                };
                if target.kind() == "expression_list" && target.named_child_count() == 1 {
                    target = target.named_child(0).unwrap_or(target);
                }
                // `out[id] = v` stores a result; paging state is a variable (or a field) carried across iterations.
                if matches!(
                    target.kind(),
                    "index_expression" | "subscript_expression" | "expression_list"
                ) {
                    return false;
                }
                let names = self.identifiers(target);
                let Some(head) = names.last() else {
                    return false;
                };
                if elements.contains(head) || self.declared_in(body, head) {
                    return false;
                }
                let lower = head.to_ascii_lowercase();
                let paging_name = PAGINATION_NAMES.iter().any(|p| lower.contains(p));
                let fed_back = remote_calls.iter().any(|i| {
                    let call = &self.facts.calls[*i];
                    call.args
                        .iter()
                        .chain(call.receiver.iter())
                        .any(|a| node::mentions(*a, &[head], self.source, Mention::VariableOrField))
                }) || condition.is_some_and(|c| {
                    node::mentions(c, &[head], self.source, Mention::VariableOrField)
                });
                fed_back
                    && (paging_name
                        || assignment
                            .child_by_field_name("right")
                            .is_some_and(|r| self.mentions_body_local(r, body)))
            })
    }

    fn declared_in(&self, body: Node<'t>, name: &str) -> bool {
        let range = TextRange::of(body);
        self.facts
            .assignments
            .iter()
            .any(|a| a.declares && a.target == name && range.contains_range(TextRange::of(a.node)))
    }

    /// The expression reads a name declared inside `body` (a response read in this iteration).
    fn mentions_body_local(&self, expression: Node<'t>, body: Node<'t>) -> bool {
        let range = TextRange::of(body);
        self.facts
            .assignments
            .iter()
            .filter(|a| a.declares && range.contains_range(TextRange::of(a.node)))
            .any(|a| {
                let head = a.target.split(['.', '[']).next().unwrap_or(&a.target);
                node::mentions(expression, &[head], self.source, Mention::VariableOrField)
            })
    }

    // ----- spawns ------------------------------------------------------------------------------------------

    fn attach_spawns(&self, model: &mut Loops<'t>) {
        let mut spawns: Vec<(TextRange, Spawn<'t>, Option<usize>)> = Vec::new();
        // The recorded nodes are the tree's, in document order: no climb to the root and walk down again.
        if !self.facts.functions.is_empty() && self.language == Language::Go {
            // By kind id: a kind name read per node of the file cost more than the rest of the model.
            for d in self.facts.nodes_of_kind(&["go_statement"]) {
                spawns.push((
                    TextRange::of(d),
                    Spawn {
                        node: d,
                        kind: SpawnKind::Goroutine,
                    },
                    None,
                ));
            }
        }
        for (index, call) in self.facts.calls.iter().enumerate() {
            if let Some(kind) = self.spawn_kind(call) {
                spawns.push((
                    call.range(),
                    Spawn {
                        node: call.node,
                        kind,
                    },
                    None,
                ));
            }
            // Combinators over a per-element callback: the spawn belongs to the callback loop inside.
            if let Some((kind, target)) = self.combinator(index, &model.loops) {
                spawns.push((
                    TextRange::of(model.loops[target].node),
                    Spawn {
                        node: call.node,
                        kind,
                    },
                    Some(target),
                ));
            }
        }
        if self.language.is_typescript() {
            for (i, lp) in model.loops.iter().enumerate() {
                for spawn in self.unawaited_promises(lp) {
                    spawns.push((
                        TextRange::of(spawn),
                        Spawn {
                            node: spawn,
                            kind: SpawnKind::UnawaitedPromise,
                        },
                        Some(i),
                    ));
                }
            }
        }
        for (range, spawn, target) in spawns {
            let index = target.or_else(|| model.innermost(range));
            if let Some(index) = index {
                let spawns = &mut model.loops[index].spawns;
                if !spawns.iter().any(|s| s.node.id() == spawn.node.id()) {
                    spawns.push(spawn);
                }
            }
        }
    }

    fn spawn_kind(&self, call: &crate::facts::Call<'t>) -> Option<SpawnKind> {
        match self.language {
            Language::Go => {
                let is_group = call.method.as_deref() == Some("Go")
                    && call.args.first().is_some_and(|a| {
                        a.kind() == "func_literal"
                            || a.kind() == "identifier"
                            || a.kind() == "selector_expression"
                    });
                is_group.then(|| {
                    SpawnKind::GroupGo(
                        call.receiver
                            .map(|r| self.text(r).to_string())
                            .unwrap_or_default(),
                    )
                })
            }
            Language::Rust => {
                if crate::kb::is_free_task_spawn(KnowledgeBase::builtin(), call) {
                    return Some(SpawnKind::Task(call.callee_text.clone()));
                }
                let method = call.method.as_deref()?;
                let spawns = &CallKinds::builtin().derivation;
                let is_method_spawn = spawns.task_spawns.iter().any(|s| s == method)
                    && !call.args.is_empty()
                    && !self.facts.imports_module("rayon");
                is_method_spawn.then(|| SpawnKind::Task(call.callee_text.clone()))
            }
            _ => None,
        }
    }

    /// `join_all(xs.iter().map(…))`, `Promise.all(xs.map(…))`, a `map` collected into `FuturesUnordered`, or a
    /// variable holding the mapped futures handed to one: (the spawn, the callback loop it belongs to).
    fn combinator(&self, index: usize, loops: &[IterationLoop<'t>]) -> Option<(SpawnKind, usize)> {
        let call = &self.facts.calls[index];
        let callee = call.callee_text.as_str();
        let last = dsr_core::kb::last_segment(callee);
        let combinator = match self.language {
            Language::Rust => {
                matches!(
                    last,
                    "join_all" | "try_join_all" | "select_all" | "from_iter"
                ) && (last != "from_iter"
                    || callee.contains("FuturesUnordered")
                    || callee.contains("FuturesOrdered"))
            }
            Language::TypeScript | Language::Tsx => {
                matches!(
                    callee,
                    "Promise.all" | "Promise.allSettled" | "Promise.any" | "Promise.race"
                ) || matches!(last, "promiseAll" | "allSettled")
            }
            _ => false,
        };
        if combinator {
            let first = node::strip_wrappers(*call.args.first()?, Wrappers::ALL);
            let mapped = self.mapped_callback(first, call.function, loops)?;
            return Some((self.combinator_kind(callee), mapped));
        }
        // `.map(|x| async …).collect::<FuturesUnordered<_>>()`, `.for_each_concurrent(None, …)`.
        if self.language == Language::Rust {
            let method = call.method.as_deref()?;
            let text = self.text(call.callee);
            let collects_futures = method == "collect"
                && (text.contains("FuturesUnordered")
                    || text.contains("FuturesOrdered")
                    || text.contains("JoinSet"));
            let buffered = matches!(
                method,
                "buffer_unordered" | "buffered" | "try_buffer_unordered" | "try_buffered"
            );
            if buffered {
                let mapped = self.mapped_callback(call.receiver?, call.function, loops)?;
                return Some((SpawnKind::JoinAll(method.to_string()), mapped));
            }
            let concurrent_unbounded =
                matches!(method, "for_each_concurrent" | "try_for_each_concurrent")
                    && call.args.first().is_some_and(|a| self.text(*a) == "None");
            if concurrent_unbounded {
                let own = loop_of(loops, call.node)?;
                return Some((SpawnKind::JoinAll(method.to_string()), own));
            }
            if collects_futures {
                let mapped = self.mapped_callback(call.receiver?, call.function, loops)?;
                return Some((SpawnKind::JoinAll("FuturesUnordered".to_string()), mapped));
            }
        }
        None
    }

    fn combinator_kind(&self, callee: &str) -> SpawnKind {
        match self.language {
            Language::Rust => SpawnKind::JoinAll(callee.to_string()),
            _ => SpawnKind::PromiseAll(callee.to_string()),
        }
    }

    /// The callback loop a `xs.map(…)` expression (or a variable declared from one) is.
    fn mapped_callback(
        &self,
        expression: Node<'t>,
        function: Option<usize>,
        loops: &[IterationLoop<'t>],
    ) -> Option<usize> {
        let mut e = node::strip_wrappers(expression, Wrappers::ALL);
        if e.kind() == "identifier" {
            e = node::strip_wrappers(
                self.facts
                    .declared_value(function, self.text(e), e.start_byte())?,
                Wrappers::ALL,
            );
        }
        // Look through adapters after the map (`.collect::<Vec<_>>()`, `.filter(Boolean)`).
        for _ in 0..4 {
            if let Some(i) = loop_of(loops, e).filter(|&i| {
                loops[i].method.as_deref().is_some_and(|m| {
                    matches!(m, "map" | "flatMap" | "flat_map" | "filter_map" | "then")
                })
            }) {
                return Some(i);
            }
            let inner = match self.language {
                Language::Rust => rust_method(e).map(|(r, _)| r),
                _ => ts_method(e).map(|(r, _)| r),
            };
            e = node::strip_wrappers(inner?, Wrappers::ALL);
        }
        None
    }

    /// TS statement loops: a promise started per element and not awaited in the iteration (`void send(x)`,
    /// `send(x);`, `promises.push(send(x))`), when the call reaches a remote system or is an async function of
    /// the file; and `forEach(async …)`, whose callbacks nobody awaits.
    fn unawaited_promises(&self, lp: &IterationLoop<'t>) -> Vec<Node<'t>> {
        let mut found = Vec::new();
        let Some(body) = lp.body else { return found };
        if lp.method.as_deref() == Some("forEach") {
            if self.text(body).starts_with("async") && self.has_remote_in(body) {
                found.push(lp.node);
            }
            return found;
        }
        if lp.method.is_some() {
            return found;
        }
        for index in self.effects.calls_in_range(TextRange::of(body)) {
            let call = &self.facts.calls[index];
            if self.facts.function_at(call.node.start_byte()) != lp.function {
                continue;
            }
            let promise = self.effects.remote(index).is_some()
                || self
                    .effects
                    .local_callee(index)
                    .is_some_and(|f| self.facts.functions[f].is_async);
            if !promise {
                continue;
            }
            let Some(parent) = self.facts.parent(call.node) else {
                continue;
            };
            let pushed = parent.kind() == "arguments"
                && self
                    .facts
                    .parent(parent)
                    .and_then(|p| p.child_by_field_name("function"))
                    .and_then(|f| f.child_by_field_name("property"))
                    .is_some_and(|p| self.text(p) == "push");
            let dropped = parent.kind() == "expression_statement"
                || (parent.kind() == "unary_expression" && self.text(parent).starts_with("void"));
            if pushed || dropped {
                found.push(call.node);
            }
        }
        found
    }

    fn has_remote_in(&self, n: Node<'t>) -> bool {
        self.effects
            .calls_in_range(TextRange::of(n))
            .any(|i| self.effects.remote(i).is_some())
    }

    // ----- limits ------------------------------------------------------------------------------------------

    fn attach_limits(&self, model: &mut Loops<'t>) {
        for index in 0..model.loops.len() {
            if model.loops[index].spawns.is_empty() {
                continue;
            }
            let limits = self.limits_of(&model.loops[index]);
            model.loops[index].limits = limits;
        }
    }

    fn limits_of(&self, lp: &IterationLoop<'t>) -> Vec<Limit> {
        let mut limits = Vec::new();
        let Some(body) = lp.body else { return limits };
        let body_range = TextRange::of(body);
        let first_spawn = lp
            .spawns
            .iter()
            .map(|s| s.node.start_byte())
            .min()
            .unwrap_or(body_range.end);
        for call in self.facts.calls_within(body_range) {
            let Some(method) = call.method.as_deref() else {
                if self.language.is_typescript() && self.is_plimit(call, lp.function) {
                    limits.push(Limit {
                        kind: LimitKind::PLimit,
                        range: call.range(),
                    });
                }
                continue;
            };
            let kind = match (self.language, method) {
                (Language::Go, "Acquire") if call.args.len() == 2 => Some(LimitKind::Semaphore),
                (Language::Go, "Wait")
                    if call.args.is_empty() && !self.inside_spawn(lp, call.node) =>
                {
                    Some(LimitKind::Batched)
                }
                (
                    Language::Rust,
                    "acquire" | "acquire_owned" | "acquire_many" | "acquire_many_owned",
                ) => Some(LimitKind::Semaphore),
                (Language::Rust, "join_next" | "join_next_with_id") => Some(LimitKind::Batched),
                (
                    Language::TypeScript | Language::Tsx,
                    "acquire" | "runExclusive" | "waitForUnlock",
                ) => Some(LimitKind::Semaphore),
                _ => None,
            };
            if let Some(kind) = kind {
                limits.push(Limit {
                    kind,
                    range: call.range(),
                });
            }
            if self.language.is_typescript() && self.is_plimit(call, lp.function) {
                limits.push(Limit {
                    kind: LimitKind::PLimit,
                    range: call.range(),
                });
            }
        }
        match self.language {
            Language::Go => {
                for send in node::descendants(body).filter(|d| d.kind() == "send_statement") {
                    let channel = send
                        .child_by_field_name("channel")
                        .map(|c| self.text(c).to_ascii_lowercase())
                        .unwrap_or_default();
                    let before_spawn =
                        send.start_byte() < first_spawn && !self.inside_spawn(lp, send);
                    let named = SEMAPHORE_NAMES.iter().any(|n| channel.contains(n));
                    if before_spawn || named {
                        limits.push(Limit {
                            kind: LimitKind::ChannelSemaphore,
                            range: TextRange::of(send),
                        });
                    }
                }
                // `g.SetLimit(n)` on the group whose `Go` starts the work, anywhere in the function.
                for spawn in &lp.spawns {
                    let SpawnKind::GroupGo(group) = &spawn.kind else {
                        continue;
                    };
                    let scope = lp
                        .function
                        .map(|f| self.facts.functions[self.facts.outermost_function(f)].range());
                    // The function's calls (a binary search), not every call of the file per spawn.
                    let candidates: Box<dyn Iterator<Item = &crate::facts::Call<'t>>> = match scope
                    {
                        Some(scope) => Box::new(self.facts.calls_within(scope)),
                        None => Box::new(self.facts.calls.iter()),
                    };
                    let set = candidates.into_iter().find(|c| {
                        c.method.as_deref() == Some("SetLimit")
                            && c.receiver.is_some_and(|r| self.text(r) == group)
                    });
                    if let Some(set) = set {
                        limits.push(Limit {
                            kind: LimitKind::GroupLimit,
                            range: set.range(),
                        });
                    }
                }
            }
            Language::Rust => {
                // Stream adapters after the per-element map: `.buffer_unordered(n)`, `.for_each_concurrent(Some(n), …)`.
                if lp.method.is_some() {
                    let mut current = lp.node;
                    for _ in 0..8 {
                        let Some(next) = self.chained_call(current) else {
                            break;
                        };
                        let name = next.method.as_deref().unwrap_or("");
                        let bounded =
                            matches!(
                                name,
                                "buffer_unordered"
                                    | "buffered"
                                    | "try_buffer_unordered"
                                    | "try_buffered"
                            ) || (matches!(
                                name,
                                "for_each_concurrent" | "try_for_each_concurrent"
                            ) && next.args.first().is_some_and(|a| self.text(*a) != "None"));
                        if bounded {
                            limits.push(Limit {
                                kind: LimitKind::StreamLimit,
                                range: next.range(),
                            });
                        }
                        current = next.node;
                    }
                    if matches!(
                        lp.method.as_deref(),
                        Some("for_each_concurrent" | "try_for_each_concurrent")
                    ) {
                        let own = self.facts.call_index(lp.node).map(|i| &self.facts.calls[i]);
                        if let Some(own) =
                            own.filter(|c| c.args.first().is_some_and(|a| self.text(*a) != "None"))
                        {
                            limits.push(Limit {
                                kind: LimitKind::StreamLimit,
                                range: own.range(),
                            });
                        }
                    }
                }
            }
            Language::TypeScript | Language::Tsx => {
                // `if (batch.length >= n) await Promise.all(batch)` inside the loop: waits per batch.
                if lp.method.is_none() {
                    for d in node::descendants(body).filter(|d| d.kind() == "await_expression") {
                        if self.text(d).contains("Promise.all")
                            || self.text(d).contains("Promise.allSettled")
                        {
                            limits.push(Limit {
                                kind: LimitKind::Batched,
                                range: TextRange::of(d),
                            });
                        }
                    }
                }
            }
            Language::Sql => {}
        }
        limits
    }

    fn chained_call(&self, n: Node<'t>) -> Option<&crate::facts::Call<'t>> {
        let index = self.effects.call_index(n)?;
        let next = self.facts.chained_calls(index).into_iter().next()?;
        self.facts.calls.get(next)
    }

    fn inside_spawn(&self, lp: &IterationLoop<'t>, n: Node<'t>) -> bool {
        lp.spawns
            .iter()
            .any(|s| TextRange::of(s.node).contains_range(TextRange::of(n)))
    }

    /// `limit(() => …)` where `limit` came from `pLimit(n)` (or another call named like a limiter).
    fn is_plimit(&self, call: &crate::facts::Call<'t>, function: Option<usize>) -> bool {
        if call.method.is_some() || call.args.is_empty() {
            return false;
        }
        let name = call.callee_text.as_str();
        let Some(value) = self
            .facts
            .declared_value(function, name, call.node.start_byte())
            .or_else(|| {
                self.facts
                    .assignments
                    .iter()
                    .find(|a| a.declares && a.target == name)
                    .and_then(|a| a.value)
            })
        else {
            return false;
        };
        let value = node::strip_wrappers(value, Wrappers::ALL);
        let callee = value
            .child_by_field_name("function")
            .map(|f| self.text(f))
            .unwrap_or("");
        let resolved = self.facts.resolve(callee).unwrap_or_default();
        resolved == "p-limit"
            || callee.eq_ignore_ascii_case("plimit")
            || callee.to_ascii_lowercase().contains("limit")
    }

    // ----- names -------------------------------------------------------------------------------------------

    fn identifiers(&self, n: Node<'t>) -> Vec<String> {
        if n.kind() == "identifier" || n.kind() == "shorthand_property_identifier_pattern" {
            let t = self.text(n);
            return if t == "_" {
                Vec::new()
            } else {
                vec![t.to_string()]
            };
        }
        node::descendants(n)
            .filter(|d| {
                matches!(
                    d.kind(),
                    "identifier" | "shorthand_property_identifier_pattern"
                )
            })
            .filter(|d| {
                // Type annotations and field names are not bindings.
                !self
                    .facts
                    .ancestors(*d)
                    .take_while(|a| a.id() != n.id())
                    .any(|a| {
                        matches!(
                            a.kind(),
                            "type_annotation" | "scoped_identifier" | "field_pattern"
                        ) && a
                            .child_by_field_name("pattern")
                            .is_none_or(|p| p.id() != d.id())
                    })
            })
            .map(|d| self.text(d).to_string())
            .filter(|t| t != "_")
            .collect()
    }
}

fn is_request_name(name: &str) -> bool {
    matches!(
        name,
        "r" | "req" | "request" | "body" | "payload" | "input" | "dto" | "data"
    )
}

/// Rust `recv.method(args)` → (recv, method name node).
fn rust_method(n: Node<'_>) -> Option<(Node<'_>, Node<'_>)> {
    if n.kind() != "call_expression" {
        return None;
    }
    let function = n.child_by_field_name("function")?;
    let function = if function.kind() == "generic_function" {
        function.child_by_field_name("function")?
    } else {
        function
    };
    if function.kind() != "field_expression" {
        return None;
    }
    Some((
        function.child_by_field_name("value")?,
        function.child_by_field_name("field")?,
    ))
}

/// TS `recv.method(args)` → (recv, property node).
fn ts_method(n: Node<'_>) -> Option<(Node<'_>, Node<'_>)> {
    if n.kind() != "call_expression" {
        return None;
    }
    let function = n.child_by_field_name("function")?;
    if function.kind() != "member_expression" {
        return None;
    }
    Some((
        function.child_by_field_name("object")?,
        function.child_by_field_name("property")?,
    ))
}

/// A call's arguments, without the comments between them.
fn call_arguments(call: Node<'_>) -> Vec<Node<'_>> {
    call.child_by_field_name("arguments")
        .map(|a| {
            node::named_children(a)
                .filter(|n| !n.kind().contains("comment"))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
