//! Wall-clock readings and where their values go inside the function that takes them.
//!
//! A reading is a call that asks the operating system for the calendar time: Go `time.Now()`, Rust
//! `SystemTime::now()`, `chrono::Utc::now()`/`Local::now()`, `time::OffsetDateTime::now_utc()`, TS `Date.now()`
//! and `new Date()`. The value is followed through the forms that keep it a wall-clock time (`.Unix()`,
//! `.getTime()`, `.duration_since(UNIX_EPOCH)`, `+ ttl`, `as u64`, `int64(…)`) and through locals of the same
//! function, to the places that matter for distributed systems:
//! - a field, key or column named like a version or sequence number ([`ClockUseKind::OrderingKey`]);
//! - a comparison with a value read from a store or a message ([`ClockUseKind::StoreComparison`]): who wins a
//!   write, whether a lease has expired;
//! - elapsed-time arithmetic between two readings of this process ([`ClockUseKind::Elapsed`]), including a
//!   reading stored in a field of a type (or a map kept in one) by one method and compared by another of the
//!   same type (`this.lastSeen = Date.now()` … `Date.now() - this.lastSeen > ttl`; see `fields`).
//!
//! Monotonic forms are not readings: Rust `Instant`, TS `performance.now()`/`process.hrtime`. A Go `time.Time`
//! from `time.Now()` carries a monotonic reading that `Sub`, `Since`, `Until`, `Before`/`After` use, so Go
//! elapsed arithmetic only counts once the value has been turned into a plain number (`.Unix()`, `.UnixNano()`,
//! `.UnixMilli()`). `.Round(0)`, the documented way to strip the monotonic reading on purpose, ends the trail.

use std::cell::RefCell;

use dsr_core::kb::KnowledgeBase;
use dsr_syntax::{node, Language};
use rustc_hash::FxHashMap;
use tree_sitter::Node;

use crate::facts::FileFacts;
use crate::models::remote::RemoteCalls;

mod fields;

/// Go: the target `value` is assigned to when it stands in the right-hand `list` of an assignment
/// (`a, r.f = x, v` → `r.f`): the left-hand expression at the same position.
fn go_assigned_target<'t>(
    facts: &FileFacts<'t>,
    list: Node<'t>,
    value: Node<'t>,
) -> Option<Node<'t>> {
    let statement = facts.parent(list)?;
    if statement.kind() != "assignment_statement"
        || statement.child_by_field_name("right")?.id() != list.id()
    {
        return None;
    }
    let position = node::named_children(list).position(|c| c.id() == value.id())?;
    node::named_children(statement.child_by_field_name("left")?).nth(position)
}

/// One call that reads the wall clock.
#[derive(Clone, Debug)]
pub struct ClockReading<'t> {
    /// The clock call: `time.Now()`, `SystemTime::now()`, `Date.now()`, `new Date()`.
    pub call: Node<'t>,
    /// The reading with the forms that only change its representation (`new Date().getTime()`, `+new Date()`):
    /// what a fix replaces.
    pub base: Node<'t>,
    /// How the API is usually written, for messages: `time.Now()`, `SystemTime::now()`, `Date.now()`.
    pub api: &'static str,
    /// Whether the API is Rust's `std::time::SystemTime::now` (the one `Instant::now` replaces one for one).
    pub is_system_time: bool,
    pub function: Option<usize>,
    /// The local the value is stored into, and the node that declares it.
    pub binding: Option<(String, Node<'t>)>,
    pub uses: Vec<ClockUse<'t>>,
}

/// A place a reading's value reaches.
#[derive(Clone, Debug)]
pub struct ClockUse<'t> {
    /// The construct: the field initializer, the comparison, the subtraction or `elapsed()` call.
    pub site: Node<'t>,
    pub kind: ClockUseKind<'t>,
}

#[derive(Clone, Debug)]
pub enum ClockUseKind<'t> {
    /// Stored into a field, key or column whose name says it orders writes (`version`, `seq`, `revision`).
    OrderingKey { name: String },
    /// Compared with (or subtracted from) a value read from a store or a message: `origin` is the remote call
    /// or the message parameter it comes from.
    StoreComparison { other: Node<'t>, origin: Node<'t> },
    /// Elapsed time between two readings of this process, on a wall-clock-only form.
    Elapsed {
        form: ElapsedForm,
        /// The other readings involved (indexes into [`TimeModel::readings`]).
        others: Vec<usize>,
        /// Whether the result is compared with something (a timeout, a deadline).
        compared: bool,
        /// The field of the type the other reading was kept in by a method (`lastSeen`), when it was.
        through_field: Option<String>,
    },
    /// Anything else (logged, formatted, passed on): the reading is not only used for durations.
    Other,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ElapsedForm {
    /// `now - start`
    Subtraction,
    /// Rust `now.duration_since(start)`, Go `now.Sub(start)`
    DurationSince,
    /// Rust `start.elapsed()`
    Elapsed,
    /// `now > deadline` where the deadline is a reading plus a duration
    Deadline,
}

impl ElapsedForm {
    pub fn describe(self) -> &'static str {
        match self {
            ElapsedForm::Subtraction => "subtraction",
            ElapsedForm::DurationSince => "duration_since",
            ElapsedForm::Elapsed => "elapsed()",
            ElapsedForm::Deadline => "deadline comparison",
        }
    }
}

/// The wall-clock readings of a file.
#[derive(Debug, Default)]
pub struct TimeModel<'t> {
    pub readings: Vec<ClockReading<'t>>,
}

impl<'t> TimeModel<'t> {
    pub fn compute(facts: &FileFacts<'t>, source: &str, remote: &RemoteCalls) -> Self {
        let mut calls_by_node = FxHashMap::default();
        for (i, c) in facts.calls.iter().enumerate() {
            calls_by_node.insert(c.node.id(), i);
        }
        let mut builder = Builder {
            facts,
            source,
            remote,
            calls_by_node,
            readings: Vec::new(),
            path_nodes: FxHashMap::default(),
            field_stores: RefCell::default(),
            stored_fields: FxHashMap::default(),
            bindings: FxHashMap::default(),
        };
        builder.find_readings();
        builder.classify();
        // Readings stored in fields: a second pass, now that every store is known, pairs them with the
        // readings other methods compare them with. Files that store none (nearly all) take one pass.
        let stored = builder.field_stores.take();
        if !stored.is_empty() {
            builder.stored_fields = stored;
            builder.readings.clear();
            builder.path_nodes.clear();
            // The bindings index the readings being cleared: kept, they point past the new ones (a panic).
            builder.bindings.clear();
            builder.find_readings();
            builder.classify();
            builder.stored_elapsed();
        }
        TimeModel {
            readings: builder.readings,
        }
    }

    /// Whether every use of reading `index` is elapsed-time arithmetic (so a monotonic clock can replace it).
    pub fn only_elapsed(&self, index: usize) -> bool {
        self.readings.get(index).is_some_and(|r| {
            !r.uses.is_empty()
                && r.uses
                    .iter()
                    .all(|u| matches!(u.kind, ClockUseKind::Elapsed { .. }))
        })
    }
}

/// The name words that say a value orders writes. `order` alone is too common a domain noun (an order placed
/// at a time) to count inside longer names.
const ORDERING_WORDS: &[&str] = &[
    "version",
    "seq",
    "sequence",
    "seqno",
    "revision",
    "rev",
    "generation",
    "epoch",
    "ordering",
];

/// Words that make a name a timestamp *of* something (`version_time`, `revisionDate`), or an epoch a unit.
const TIMESTAMP_WORDS: &[&str] = &[
    "time",
    "timestamp",
    "ts",
    "at",
    "date",
    "created",
    "updated",
    "ms",
    "millis",
    "secs",
    "seconds",
    "nanos",
    "ns",
    "us",
    "s",
];

/// Words that make a version name a label rather than a value that is compared (`versionPostFix`,
/// `version_tag`).
const NOT_ORDERING_WORDS: &[&str] = &[
    "postfix", "fix", "suffix", "prefix", "tag", "label", "name", "string", "str", "text",
];

/// Whether a field, key or column name says it orders writes: `Version`, `seq_no`, `revision`, `leaderEpoch`,
/// `order` — but not `version_time`, `epoch_ms` or `orderPlacedAt`.
pub fn is_ordering_name(name: &str) -> bool {
    let words = name_words(name);
    if words.is_empty()
        || words.iter().any(|w| {
            TIMESTAMP_WORDS.contains(&w.as_str()) || NOT_ORDERING_WORDS.contains(&w.as_str())
        })
    {
        return false;
    }
    let joined: String = words.concat();
    if matches!(joined.as_str(), "order" | "sortorder" | "orderkey") {
        return true;
    }
    words.iter().any(|w| ORDERING_WORDS.contains(&w.as_str()))
}

/// `leaderEpoch` → [leader, epoch]; `seq_no` → [seq, no]; `X-Version` → [x, version].
fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Parameter names and type words that say a value came in a message.
const MESSAGE_NAMES: &[&str] = &[
    "msg", "message", "event", "evt", "record", "delivery", "envelope",
];

struct Builder<'f, 't, 's> {
    facts: &'f FileFacts<'t>,
    source: &'s str,
    remote: &'f RemoteCalls,
    calls_by_node: FxHashMap<usize, usize>,
    readings: Vec<ClockReading<'t>>,
    /// Node id → (reading, whether the value at that node has lost Go's monotonic reading).
    path_nodes: FxHashMap<usize, (usize, bool)>,
    /// Readings stored into a field of a type (or a map kept in one) as the uses are found: (type, field) →
    /// readings.
    field_stores: RefCell<FieldStores>,
    /// The stores of the first pass, read by the second.
    stored_fields: FieldStores,
    /// Local name → the readings bound to a local of that name (`ClockReading::binding`), so that a name is
    /// looked up among its own bindings, not every reading of the file.
    bindings: FxHashMap<String, Vec<usize>>,
}

/// (type, field) → the readings stored in that field by the type's methods, each with whether the stored value
/// has lost Go's monotonic reading.
type FieldStores = FxHashMap<(String, String), Vec<(usize, bool)>>;

/// Up to how many locals a value is followed through (`now := …; ts := now.Unix(); e.Version = ts`).
const MAX_DEPTH: usize = 3;

impl<'t> Builder<'_, 't, '_> {
    fn language(&self) -> Language {
        self.facts.language
    }

    fn text(&self, n: Node<'_>) -> &str {
        node::text(n, self.source)
    }

    fn call_at(&self, n: Node<'_>) -> Option<&crate::facts::Call<'t>> {
        self.calls_by_node
            .get(&n.id())
            .map(|i| &self.facts.calls[*i])
    }

    fn find_readings(&mut self) {
        for call in &self.facts.calls {
            let path = call.path.as_deref().unwrap_or("");
            let kb = KnowledgeBase::builtin();
            let language = self.facts.language;
            let reading = if call.is_new {
                kb.clock_reading(language, &call.callee_text)
                    .filter(|r| r.new_without_arguments && call.args.is_empty())
            } else {
                kb.clock_reading(language, path)
                    .filter(|r| !r.new_without_arguments)
            };
            let Some(reading) = reading else {
                continue;
            };
            let (api, is_system_time) = (reading.written.as_str(), reading.system_time);
            let index = self.readings.len();
            // Go `time.Time` keeps its monotonic reading until a wall-clock-only form drops it.
            let mut dropped = self.language() != Language::Go;
            let mut current = call.node;
            let mut base = call.node;
            self.path_nodes.insert(current.id(), (index, dropped));
            for _ in 0..16 {
                let Some((parent, drops)) = self.derive_up(current) else {
                    break;
                };
                dropped |= drops;
                if base == current && self.is_representation(parent, current) {
                    base = parent;
                }
                current = parent;
                self.path_nodes.insert(current.id(), (index, dropped));
            }
            self.readings.push(ClockReading {
                call: call.node,
                base,
                api,
                is_system_time,
                function: call.function,
                binding: None,
                uses: Vec::new(),
            });
        }
    }

    /// `new Date().getTime()`, `new Date().valueOf()`, `+new Date()`: the same number as `Date.now()`.
    fn is_representation(&self, parent: Node<'_>, child: Node<'_>) -> bool {
        if !self.language().is_typescript() {
            return false;
        }
        match parent.kind() {
            "unary_expression" => self.text(parent).starts_with('+'),
            "call_expression" => {
                self.call_at(parent)
                    .and_then(|c| c.method.as_deref())
                    .is_some_and(|m| matches!(m, "getTime" | "valueOf"))
                    && self
                        .call_at(parent)
                        .and_then(|c| c.receiver)
                        .is_some_and(|r| r.id() == child.id())
            }
            _ => false,
        }
    }

    /// The values `n` is a wall-clock-preserving form of, with whether the step drops Go's monotonic reading.
    fn derive_down(&self, n: Node<'t>) -> Vec<(Node<'t>, bool)> {
        let language = self.language();
        match n.kind() {
            "parenthesized_expression" => n
                .named_child(0)
                .map(|inner| vec![(inner, false)])
                .unwrap_or_default(),
            "try_expression" | "await_expression" => n
                .named_child(0)
                .map(|i| vec![(i, false)])
                .unwrap_or_default(),
            "type_cast_expression" => n
                .child_by_field_name("value")
                .map(|v| vec![(v, false)])
                .unwrap_or_default(),
            "unary_expression" if language.is_typescript() && self.text(n).starts_with('+') => n
                .child_by_field_name("argument")
                .map(|a| vec![(a, false)])
                .unwrap_or_default(),
            "binary_expression" => {
                let operator = binary_operator(n, self.source);
                let (Some(left), Some(right)) = (
                    n.child_by_field_name("left"),
                    n.child_by_field_name("right"),
                ) else {
                    return Vec::new();
                };
                match operator {
                    "+" => vec![(left, false), (right, false)],
                    // `now - ttl` (a cutoff) and `now / 1000` (seconds) stay wall-clock times; `now - start` is
                    // elapsed time, decided by the caller.
                    "-" | "/" => vec![(left, false)],
                    _ => Vec::new(),
                }
            }
            "call_expression" | "new_expression" => self.call_derivation(n),
            _ => Vec::new(),
        }
    }

    fn call_derivation(&self, n: Node<'t>) -> Vec<(Node<'t>, bool)> {
        let Some(call) = self.call_at(n) else {
            return Vec::new();
        };
        let language = self.language();
        if let (Some(method), Some(receiver)) = (call.method.as_deref(), call.receiver) {
            let drops = match language {
                Language::Go => match method {
                    "Unix" | "UnixNano" | "UnixMilli" | "UnixMicro" => Some(true),
                    // These strip the monotonic reading too, but they are written to normalise a time for
                    // display or alignment (`Round(0)` on purpose), rarely to time a wait: only the plain
                    // numbers count as lost.
                    "UTC" | "Local" | "In" | "Add" | "AddDate" | "Truncate" => Some(false),
                    _ => None,
                },
                Language::Rust => match method {
                    "duration_since"
                        if call
                            .args
                            .first()
                            .is_some_and(|a| self.text(*a).ends_with("UNIX_EPOCH")) =>
                    {
                        Some(false)
                    }
                    "unwrap"
                    | "expect"
                    | "unwrap_or_default"
                    | "unwrap_or"
                    | "as_secs"
                    | "as_millis"
                    | "as_micros"
                    | "as_nanos"
                    | "as_secs_f64"
                    | "as_secs_f32"
                    | "timestamp"
                    | "timestamp_millis"
                    | "timestamp_micros"
                    | "timestamp_nanos"
                    | "timestamp_nanos_opt"
                    | "unix_timestamp"
                    | "unix_timestamp_nanos"
                    | "naive_utc"
                    | "checked_add"
                    | "checked_sub"
                    | "to_string"
                    | "to_rfc3339"
                    | "into"
                    | "try_into" => Some(false),
                    _ => None,
                },
                _ => match method {
                    "getTime" | "valueOf" | "toISOString" | "toJSON" | "toString" => Some(false),
                    _ => None,
                },
            };
            return match drops {
                Some(drops) => vec![(receiver, drops)],
                None => Vec::new(),
            };
        }
        let callee = call.callee_text.as_str();
        let path = call.path.as_deref().unwrap_or("");
        let converts = match language {
            Language::Go => {
                matches!(
                    callee,
                    "int64" | "uint64" | "int" | "uint" | "int32" | "uint32" | "float64"
                ) || matches!(
                    path,
                    "strconv.FormatInt" | "strconv.FormatUint" | "strconv.Itoa"
                )
            }
            Language::TypeScript | Language::Tsx => {
                matches!(
                    path,
                    "Math.floor" | "Math.round" | "Math.trunc" | "Math.ceil"
                ) || matches!(callee, "String" | "Number" | "BigInt")
                    || (call.is_new && callee == "Date")
            }
            _ => false,
        };
        match (converts, call.args.first()) {
            (true, Some(first)) => vec![(*first, false)],
            _ => Vec::new(),
        }
    }

    /// The form of `n` one step up, when there is one: `(n)`, `n.Unix()`, `n + ttl`, `int64(n)`.
    fn derive_up(&self, n: Node<'t>) -> Option<(Node<'t>, bool)> {
        let mut candidate = self.facts.parent(n);
        for _ in 0..3 {
            let c = candidate?;
            if let Some((_, drops)) = self
                .derive_down(c)
                .into_iter()
                .find(|(inner, _)| inner.id() == n.id())
            {
                // `now - start` is elapsed time, not a derived reading.
                if c.kind() == "binary_expression"
                    && binary_operator(c, self.source) == "-"
                    && c.child_by_field_name("right").is_some_and(|r| {
                        self.clock_value(r, 0).is_some() || self.stored_reading(r).is_some()
                    })
                {
                    return None;
                }
                return Some((c, drops));
            }
            if !matches!(
                c.kind(),
                "selector_expression"
                    | "field_expression"
                    | "member_expression"
                    | "argument_list"
                    | "arguments"
            ) {
                return None;
            }
            candidate = self.facts.parent(c);
        }
        None
    }

    /// The reading a value comes from (directly, through derivations or through a local), with whether it has
    /// lost Go's monotonic reading.
    fn clock_value(&self, n: Node<'t>, depth: usize) -> Option<(usize, bool)> {
        if depth > 8 {
            return None;
        }
        if let Some(found) = self.path_nodes.get(&n.id()) {
            return Some(*found);
        }
        if matches!(n.kind(), "identifier" | "shorthand_property_identifier") {
            let name = self.text(n);
            return self.binding_reading(name, n.start_byte());
        }
        let mut drops_here = false;
        for (inner, drops) in self.derive_down(n) {
            if let Some((reading, dropped)) = self.clock_value(inner, depth + 1) {
                drops_here |= drops;
                return Some((reading, dropped || drops_here));
            }
        }
        None
    }

    /// The reading bound to local `name` visible at `offset` (the latest such binding before it).
    fn binding_reading(&self, name: &str, offset: usize) -> Option<(usize, bool)> {
        let function = self.facts.function_at(offset);
        self.bindings
            .get(name)?
            .iter()
            .map(|&i| (i, &self.readings[i]))
            .filter_map(|(i, r)| {
                let (bound, declaration) = r.binding.as_ref()?;
                let visible = bound == name
                    && declaration.end_byte() <= offset
                    && (r.function == function
                        || function.is_some_and(|f| self.encloses(r.function, f)));
                visible.then_some((i, declaration.start_byte()))
            })
            .max_by_key(|(_, start)| *start)
            .and_then(|(i, _)| {
                let top = self.top_of(i)?;
                self.path_nodes.get(&top.id()).copied()
            })
    }

    /// Whether function `outer` (or the file, for `None`) contains function `inner`.
    fn encloses(&self, outer: Option<usize>, inner: usize) -> bool {
        let Some(outer) = outer else { return true };
        let mut current = Some(inner);
        while let Some(f) = current {
            if f == outer {
                return true;
            }
            current = self.facts.functions.get(f).and_then(|f| f.parent);
        }
        false
    }

    /// The outermost wall-clock form of reading `index`.
    fn top_of(&self, index: usize) -> Option<Node<'t>> {
        let call = self.readings.get(index)?.call;
        let mut current = call;
        for _ in 0..16 {
            match self.derive_up(current) {
                Some((parent, _)) => current = parent,
                None => break,
            }
        }
        Some(current)
    }

    fn classify(&mut self) {
        // Bindings first: a use of one reading may compare it with another's local.
        for index in 0..self.readings.len() {
            let Some(top) = self.top_of(index) else {
                continue;
            };
            self.readings[index].binding = self.declared_local(top);
            if let Some((name, _)) = &self.readings[index].binding {
                self.bindings.entry(name.clone()).or_default().push(index);
            }
        }
        for index in 0..self.readings.len() {
            let Some(top) = self.top_of(index) else {
                continue;
            };
            let dropped = self.path_nodes.get(&top.id()).is_some_and(|(_, d)| *d);
            let mut uses = Vec::new();
            self.uses_of_value(index, top, dropped, 0, &mut uses);
            self.readings[index].uses = uses;
        }
    }

    /// The local a value is declared into: `x := v`, `let x = v`, `const x = v`, `x = v`.
    fn declared_local(&self, value: Node<'t>) -> Option<(String, Node<'t>)> {
        let parent = self.facts.parent(value)?;
        match parent.kind() {
            "expression_list" => {
                let statement = self.facts.parent(parent)?;
                if !matches!(
                    statement.kind(),
                    "short_var_declaration" | "assignment_statement"
                ) || statement
                    .child_by_field_name("right")
                    .is_none_or(|r| r.id() != parent.id())
                {
                    return None;
                }
                let position = node::named_children(parent).position(|c| c.id() == value.id())?;
                let left = statement.child_by_field_name("left")?;
                let target = node::named_children(left).nth(position)?;
                (target.kind() == "identifier" && self.text(target) != "_")
                    .then(|| (self.text(target).to_string(), statement))
            }
            "var_spec" => {
                let name = parent.child_by_field_name("name")?;
                Some((self.text(name).to_string(), parent))
            }
            "let_declaration" | "variable_declarator" => {
                let field = if parent.kind() == "let_declaration" {
                    "pattern"
                } else {
                    "name"
                };
                let target = parent.child_by_field_name(field)?;
                (target.kind() == "identifier").then(|| (self.text(target).to_string(), parent))
            }
            "assignment_expression" => {
                let left = parent.child_by_field_name("left")?;
                (left.kind() == "identifier"
                    && parent
                        .child_by_field_name("right")
                        .is_some_and(|r| r.id() == value.id()))
                .then(|| (self.text(left).to_string(), parent))
            }
            _ => None,
        }
    }

    /// Classifies where the wall-clock value `value` (reading `index`) goes; follows locals.
    fn uses_of_value(
        &self,
        index: usize,
        value: Node<'t>,
        dropped: bool,
        depth: usize,
        uses: &mut Vec<ClockUse<'t>>,
    ) {
        if let Some((name, declaration)) = self.declared_local(value) {
            if is_ordering_name(&name) {
                uses.push(ClockUse {
                    site: declaration,
                    kind: ClockUseKind::OrderingKey { name: name.clone() },
                });
            }
            if depth >= MAX_DEPTH {
                return;
            }
            for occurrence in self.occurrences(&name, declaration, value) {
                let mut top = occurrence;
                let mut now_dropped = dropped;
                for _ in 0..16 {
                    match self.derive_up(top) {
                        Some((parent, drops)) => {
                            top = parent;
                            now_dropped |= drops;
                        }
                        None => break,
                    }
                }
                let before = uses.len();
                self.uses_of_value(index, top, now_dropped, depth + 1, uses);
                if uses.len() == before && occurrence.kind() == "shorthand_property_identifier" {
                    uses.push(ClockUse {
                        site: occurrence,
                        kind: ClockUseKind::Other,
                    });
                }
            }
            return;
        }
        uses.push(self.use_at(index, value, dropped));
    }

    /// Where local `name`, declared by `declaration`, is read afterwards in the function, up to the first
    /// statement that assigns it again.
    fn occurrences(&self, name: &str, declaration: Node<'t>, value: Node<'t>) -> Vec<Node<'t>> {
        let function = self.facts.function_at(value.start_byte());
        let scope = match function {
            Some(f) => self.facts.functions[f].range(),
            None => dsr_syntax::TextRange::new(0, self.source.len()),
        };
        let mut found = Vec::new();
        // Identifiers are in document order: from the declaration's end to the end of the scope. In a function,
        // its identifiers; at top level (the scope is the file) only those spelled `name`, from the index by
        // text — a scan of every identifier to the end of the file per top-level reading grew with the square
        // of the file, and the index costs a string per identifier, more than a function's scan.
        let identifiers = &self.facts.identifiers;
        let after_declaration =
            |range: &dsr_syntax::TextRange| range.start < declaration.end_byte();
        let candidates: Vec<&(dsr_syntax::TextRange, Node<'t>)> = match function {
            Some(_) => {
                let first = identifiers.partition_point(|(range, _)| after_declaration(range));
                identifiers[first..]
                    .iter()
                    .take_while(|(range, _)| range.start < scope.end)
                    .filter(|(range, _)| self.source.get(range.start..range.end) == Some(name))
                    .collect()
            }
            None => {
                let named = self.facts.identifiers_named(name, self.source);
                let first = named.partition_point(|&i| after_declaration(&identifiers[i].0));
                named[first..].iter().map(|&i| &identifiers[i]).collect()
            }
        };
        for (range, ident) in candidates {
            if !scope.contains_range(*range) {
                continue;
            }
            if is_assignment_target(self.facts, *ident) {
                break;
            }
            found.push(*ident);
        }
        found
    }

    /// What the construct around the wall-clock value `value` does with it.
    fn use_at(&self, index: usize, value: Node<'t>, dropped: bool) -> ClockUse<'t> {
        let other = |site: Node<'t>| ClockUse {
            site,
            kind: ClockUseKind::Other,
        };
        let Some(parent) = self.facts.parent(value) else {
            return other(value);
        };
        self.record_field_store(index, dropped, value, parent);
        // Field initializers: Go `Version: v`, Rust `version: v`, TS `version: v`.
        let field_name = match parent.kind() {
            "literal_element" => self
                .facts
                .parent(parent)
                .filter(|k| k.kind() == "keyed_element")
                .and_then(|k| {
                    let key = k.child_by_field_name("key")?;
                    (k.child_by_field_name("value")?.id() == parent.id())
                        .then(|| self.key_name(key))
                        .flatten()
                }),
            "field_initializer" | "pair" => parent
                .child_by_field_name(if parent.kind() == "pair" {
                    "key"
                } else {
                    "field"
                })
                .and_then(|k| self.key_name(k)),
            "shorthand_field_initializer" => Some(self.text(value).to_string()),
            "expression_list" | "assignment_expression" => self.assigned_name(parent, value),
            _ => None,
        };
        if let Some(name) = field_name {
            let site = match parent.kind() {
                "literal_element" | "expression_list" => {
                    self.facts.parent(parent).unwrap_or(parent)
                }
                _ => parent,
            };
            return if is_ordering_name(&name) {
                ClockUse {
                    site,
                    kind: ClockUseKind::OrderingKey { name },
                }
            } else {
                other(site)
            };
        }
        if value.kind() == "shorthand_property_identifier" {
            let name = self.text(value).to_string();
            return if is_ordering_name(&name) {
                ClockUse {
                    site: value,
                    kind: ClockUseKind::OrderingKey { name },
                }
            } else {
                other(value)
            };
        }
        // A call argument next to a string that names the key or column (`HSet(ctx, k, "version", now)`).
        if matches!(parent.kind(), "argument_list" | "arguments") {
            if let Some(call) = self.facts.parent(parent).and_then(|c| self.call_at(c)) {
                if let Some(name) = call.args.iter().find_map(|a| self.ordering_key_in(*a)) {
                    return ClockUse {
                        site: call.node,
                        kind: ClockUseKind::OrderingKey { name },
                    };
                }
                return self
                    .comparison_method_use(index, call.node, value, dropped)
                    .unwrap_or(other(call.node));
            }
        }
        // A method called on the value: Go `now.After(x)`, `now.Sub(x)`, Rust `now.duration_since(x)`.
        if matches!(
            parent.kind(),
            "selector_expression" | "field_expression" | "member_expression"
        ) {
            if let Some(call) = self.facts.parent(parent).and_then(|c| self.call_at(c)) {
                if call.receiver.is_some_and(|r| r.id() == value.id()) {
                    return self
                        .comparison_method_use(index, call.node, value, dropped)
                        .unwrap_or(other(call.node));
                }
            }
        }
        if parent.kind() == "binary_expression" {
            return self
                .binary_use(index, parent, value, dropped)
                .unwrap_or(other(parent));
        }
        other(parent)
    }

    /// The name a value is assigned to when the target is a field or a string key (`e.Version = v`,
    /// `m["seq"] = v`, `this.version = v`).
    fn assigned_name(&self, parent: Node<'t>, value: Node<'t>) -> Option<String> {
        let target = if parent.kind() == "expression_list" {
            go_assigned_target(self.facts, parent, value)?
        } else {
            if parent.child_by_field_name("right")?.id() != value.id() {
                return None;
            }
            parent.child_by_field_name("left")?
        };
        match target.kind() {
            "selector_expression" => {
                Some(self.text(target.child_by_field_name("field")?).to_string())
            }
            "field_expression" => Some(self.text(target.child_by_field_name("field")?).to_string()),
            "member_expression" => Some(
                self.text(target.child_by_field_name("property")?)
                    .to_string(),
            ),
            "index_expression" | "subscript_expression" => {
                let index = target.child_by_field_name("index")?;
                node::string_literal_value(index, self.source, self.language())
            }
            _ => None,
        }
    }

    fn key_name(&self, key: Node<'_>) -> Option<String> {
        let key = if key.kind() == "literal_element" {
            key.named_child(0)?
        } else {
            key
        };
        node::string_literal_value(key, self.source, self.language())
            .or_else(|| Some(self.text(key).to_string()))
    }

    /// A string argument that names an ordering key (`"version"`) or an SQL text that sets such a column.
    fn ordering_key_in(&self, arg: Node<'_>) -> Option<String> {
        let value = node::string_literal_value(arg, self.source, self.language())?;
        let trimmed = value.trim();
        if !trimmed.contains(char::is_whitespace) {
            return is_ordering_name(trimmed).then(|| trimmed.to_string());
        }
        // SQL text: a column named like a version being set or inserted (`ORDER BY` is not one).
        let lower = trimmed.to_ascii_lowercase();
        let is_write = ["insert", "update", "upsert", "replace", "merge"]
            .iter()
            .any(|verb| lower.starts_with(verb));
        if !is_write {
            return None;
        }
        lower
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .find(|word| {
                word.contains(['_']) && is_ordering_name(word) && !word.contains("order")
                    || matches!(
                        *word,
                        "version" | "seq" | "sequence" | "revision" | "generation"
                    )
            })
            .map(str::to_string)
    }

    /// `now.After(x)`, `now.Before(x)`, `now.Sub(x)`, `now.duration_since(x)`, `start.elapsed()`, and the value
    /// given as the argument (`deadline.Before(now)`).
    fn comparison_method_use(
        &self,
        index: usize,
        call_node: Node<'t>,
        value: Node<'t>,
        dropped: bool,
    ) -> Option<ClockUse<'t>> {
        let call = self.call_at(call_node)?;
        let method = call.method.as_deref()?;
        let language = self.language();
        let receiver = call.receiver?;
        let counterpart = if receiver.id() == value.id() {
            call.args.first().copied()
        } else {
            Some(receiver)
        };
        let (kind, form) = match (language, method) {
            (Language::Go, "After" | "Before" | "Equal" | "Compare") => {
                ("compare", ElapsedForm::Deadline)
            }
            (Language::Go, "Sub") => ("difference", ElapsedForm::DurationSince),
            (Language::Rust, "duration_since" | "signed_duration_since") => {
                ("difference", ElapsedForm::DurationSince)
            }
            (Language::Rust, "elapsed") if receiver.id() == value.id() => {
                return Some(ClockUse {
                    site: call_node,
                    kind: ClockUseKind::Elapsed {
                        form: ElapsedForm::Elapsed,
                        others: Vec::new(),
                        compared: dropped && self.is_compared(call_node),
                        through_field: None,
                    },
                });
            }
            (Language::Rust, "cmp" | "partial_cmp" | "lt" | "le" | "gt" | "ge") => {
                ("compare", ElapsedForm::Deadline)
            }
            _ => return None,
        };
        let counterpart = counterpart?;
        self.pair_use(index, call_node, (value, dropped), counterpart, kind, form)
    }

    /// `a - b`, `a < b` and the other comparisons.
    fn binary_use(
        &self,
        index: usize,
        binary: Node<'t>,
        value: Node<'t>,
        dropped: bool,
    ) -> Option<ClockUse<'t>> {
        let operator = binary_operator(binary, self.source);
        let left = binary.child_by_field_name("left")?;
        let right = binary.child_by_field_name("right")?;
        let counterpart = if left.id() == value.id() { right } else { left };
        match operator {
            "-" => self.pair_use(
                index,
                binary,
                (value, dropped),
                counterpart,
                "difference",
                ElapsedForm::Subtraction,
            ),
            "<" | ">" | "<=" | ">=" | "==" | "!=" | "===" | "!==" => self.pair_use(
                index,
                binary,
                (value, dropped),
                counterpart,
                "compare",
                ElapsedForm::Deadline,
            ),
            _ => None,
        }
    }

    /// Classifies a reading meeting another value at `site`: another reading of this process (elapsed time),
    /// or a value read from a store or message.
    fn pair_use(
        &self,
        index: usize,
        site: Node<'t>,
        (_, dropped): (Node<'t>, bool),
        counterpart: Node<'t>,
        kind: &str,
        form: ElapsedForm,
    ) -> Option<ClockUse<'t>> {
        let local_or_stored = match self.clock_value(counterpart, 0) {
            Some((other, other_dropped)) => Some((other, other_dropped, None)),
            None => self
                .stored_reading(counterpart)
                .map(|(other, other_dropped, field)| (other, other_dropped, Some(field))),
        };
        if let Some((other, other_dropped, through_field)) = local_or_stored {
            // Go: two `time.Time` values still carrying the monotonic reading compare correctly.
            if self.language() == Language::Go && !(dropped || other_dropped) {
                return None;
            }
            // `for (t = start; t < end; t += step)`: a walk over a time range, not a wait.
            if kind == "compare" && self.steps_through_range(site) {
                return None;
            }
            let compared =
                (kind == "compare" && !self.only_decides_logging(site)) || self.is_compared(site);
            return Some(ClockUse {
                site,
                kind: ClockUseKind::Elapsed {
                    form,
                    others: if other == index {
                        Vec::new()
                    } else {
                        vec![other]
                    },
                    compared,
                    through_field,
                },
            });
        }
        let origin = self.store_origin(counterpart, 0)?;
        // A difference with a stored time only decides something once it is compared.
        if kind == "difference" && !self.is_compared(site) {
            return None;
        }
        Some(ClockUse {
            site,
            kind: ClockUseKind::StoreComparison {
                other: counterpart,
                origin,
            },
        })
    }

    /// Whether the value of `n` (through unwraps, conversions, parentheses, or one local) ends in a comparison.
    fn is_compared(&self, n: Node<'t>) -> bool {
        let mut current = n;
        for _ in 0..8 {
            let Some(parent) = self.facts.parent(current) else {
                return false;
            };
            match parent.kind() {
                "binary_expression" => {
                    return matches!(
                        binary_operator(parent, self.source),
                        "<" | ">" | "<=" | ">=" | "==" | "!=" | "===" | "!=="
                    ) && !self.only_decides_logging(parent);
                }
                "parenthesized_expression" | "try_expression" | "type_cast_expression" => {
                    current = parent;
                }
                "field_expression" | "selector_expression" | "member_expression" => {
                    let Some(call) = self
                        .facts
                        .parent(parent)
                        .filter(|c| self.call_at(*c).is_some())
                    else {
                        return false;
                    };
                    let method = self
                        .call_at(call)
                        .and_then(|c| c.method.clone())
                        .unwrap_or_default();
                    if matches!(
                        method.as_str(),
                        "Seconds" | "Milliseconds" | "Hours" | "Minutes"
                    ) || self
                        .derive_down(call)
                        .iter()
                        .any(|(inner, _)| inner.id() == current.id())
                    {
                        current = call;
                        continue;
                    }
                    // `elapsed > timeout` written as a method: Rust `gt`, `ge`, Go `time.Duration` compare.
                    return matches!(method.as_str(), "gt" | "ge" | "lt" | "le" | "cmp");
                }
                _ => {
                    let Some((name, declaration)) = self.declared_local(current) else {
                        return false;
                    };
                    return self
                        .occurrences(&name, declaration, current)
                        .iter()
                        .any(|o| {
                            self.facts.parent(*o).is_some_and(|p| {
                                p.kind() == "binary_expression"
                                    && matches!(
                                        binary_operator(p, self.source),
                                        "<" | ">" | "<=" | ">=" | "==" | "!=" | "===" | "!=="
                                    )
                                    && !self.only_decides_logging(p)
                            })
                        });
                }
            }
        }
        false
    }

    /// Whether a comparison is the condition of a `for` loop whose update steps a variable of the comparison by
    /// arithmetic (`t += step`, `t++`): the loop walks a range of times (hourly windows of a report, say),
    /// it does not wait for a deadline, since the clock is not read again.
    fn steps_through_range(&self, comparison: Node<'t>) -> bool {
        let mut condition = comparison;
        while let Some(parent) = self
            .facts
            .parent(condition)
            .filter(|p| p.kind() == "parenthesized_expression")
        {
            condition = parent;
        }
        let Some(looped) = self
            .facts
            .parent(condition)
            .filter(|p| matches!(p.kind(), "for_statement" | "for_clause"))
            .filter(|p| {
                p.child_by_field_name("condition")
                    .is_some_and(|c| c.id() == condition.id())
            })
        else {
            return false;
        };
        let Some(update) = looped
            .child_by_field_name("increment")
            .or_else(|| looped.child_by_field_name("update"))
        else {
            return false;
        };
        let stepped: Vec<&str> = node::descendants(update)
            .filter(|n| {
                matches!(
                    n.kind(),
                    "augmented_assignment_expression"
                        | "update_expression"
                        | "inc_statement"
                        | "assignment_statement"
                )
            })
            .filter_map(|n| {
                n.child_by_field_name("left")
                    .or_else(|| n.child_by_field_name("argument"))
                    .or_else(|| n.named_child(0))
            })
            .map(|target| node::text(target, self.source))
            .collect();
        node::descendants(comparison)
            .filter(|n| n.kind() == "identifier")
            .any(|n| stepped.contains(&node::text(n, self.source)))
    }

    /// Whether a comparison only decides whether to log (`if (ms > 1000) console.warn(…)`, with no `else`): a
    /// slow-call report, which a clock step makes wrong once, not a timeout that abandons work.
    fn only_decides_logging(&self, comparison: Node<'t>) -> bool {
        let mut condition = comparison;
        while let Some(parent) = self
            .facts
            .parent(condition)
            .filter(|p| p.kind() == "parenthesized_expression")
        {
            condition = parent;
        }
        let Some(statement) = self.facts.parent(condition).filter(|p| {
            matches!(p.kind(), "if_statement" | "if_expression")
                && p.child_by_field_name("condition")
                    .is_some_and(|c| c.id() == condition.id())
                && p.child_by_field_name("alternative").is_none()
        }) else {
            return false;
        };
        let Some(body) = statement.child_by_field_name("consequence") else {
            return false;
        };
        let statements: Vec<Node<'t>> = if matches!(body.kind(), "statement_block" | "block") {
            let mut cursor = body.walk();
            body.named_children(&mut cursor)
                .filter(|n| !n.kind().contains("comment"))
                .collect()
        } else {
            vec![body]
        };
        !statements.is_empty()
            && statements.iter().all(|statement| {
                let expression = match statement.kind() {
                    "expression_statement" => statement.named_child(0),
                    _ => Some(*statement),
                };
                expression.is_some_and(|e| self.is_logging_expression(e))
            })
    }

    /// A call that logs (`console.warn(…)`, `log.Printf(…)`), or a Rust logging macro (`warn!(…)`,
    /// `tracing::info!(…)`).
    fn is_logging_expression(&self, expression: Node<'t>) -> bool {
        if expression.kind() == "macro_invocation" {
            let name = expression
                .child_by_field_name("macro")
                .map(|m| node::text(m, self.source))
                .unwrap_or_default();
            let last = name.rsplit("::").next().unwrap_or(name);
            return matches!(
                last,
                "trace" | "debug" | "info" | "warn" | "error" | "println" | "eprintln"
            );
        }
        self.call_at(expression)
            .is_some_and(|call| crate::models::messaging::is_logging(self.facts, call, self.source))
    }

    /// The remote call or message parameter a value comes from: `lease.ExpiresAt` where `lease, err :=
    /// store.Get(…)`, `row.get("expires_at")` of a query row, `msg.Timestamp` of a message parameter, a local
    /// filled by `row.Scan(&expires)`.
    fn store_origin(&self, n: Node<'t>, depth: usize) -> Option<Node<'t>> {
        if depth > 8 {
            return None;
        }
        match n.kind() {
            "identifier" | "shorthand_property_identifier" => {
                let name = self.text(n);
                let function = self.facts.function_at(n.start_byte());
                if let Some(f) = function {
                    if self.is_message_param(f, name) {
                        return Some(n);
                    }
                }
                if let Some(value) = self.facts.declared_value(function, name, n.start_byte()) {
                    return self.store_origin(value, depth + 1);
                }
                if let Some(value) = self.destructured_value(function, name, n.start_byte()) {
                    return self.store_origin(value, depth + 1);
                }
                self.scanned_into(function, name, n.start_byte(), depth)
            }
            "selector_expression" | "field_expression" | "member_expression" => {
                let object = n
                    .child_by_field_name("operand")
                    .or_else(|| n.child_by_field_name("value"))
                    .or_else(|| n.child_by_field_name("object"))?;
                self.store_origin(object, depth + 1)
            }
            "subscript_expression" | "index_expression" => {
                let object = n
                    .child_by_field_name("object")
                    .or_else(|| n.child_by_field_name("operand"))?;
                self.store_origin(object, depth + 1)
            }
            "parenthesized_expression"
            | "try_expression"
            | "await_expression"
            | "type_cast_expression"
            | "unary_expression"
            | "reference_expression"
            | "non_null_expression"
            | "as_expression" => {
                let inner = n
                    .child_by_field_name("value")
                    .or_else(|| n.child_by_field_name("argument"))
                    .or_else(|| n.named_child(0))?;
                self.store_origin(inner, depth + 1)
            }
            "call_expression" | "new_expression" => {
                let index = *self.calls_by_node.get(&n.id())?;
                if self.remote.remote(index).is_some() {
                    return Some(n);
                }
                let call = &self.facts.calls[index];
                match call.receiver {
                    Some(receiver) => self.store_origin(receiver, depth + 1),
                    // `new Date(row.expires_at)`, `time.Unix(row.Expires, 0)`, `Number(msg.ts)`.
                    None => call
                        .args
                        .first()
                        .and_then(|a| self.store_origin(*a, depth + 1)),
                }
            }
            _ => None,
        }
    }

    /// `const { rows } = await db.query(…)`, `let (a, b) = …`: the value a destructuring declaration binds.
    fn destructured_value(
        &self,
        function: Option<usize>,
        name: &str,
        offset: usize,
    ) -> Option<Node<'t>> {
        self.facts
            .assignments_in(function)
            .filter(|a| a.declares && a.node.start_byte() < offset)
            .filter(|a| {
                a.target.starts_with(['{', '[', '('])
                    && a.target
                        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .any(|w| w == name)
            })
            .max_by_key(|a| a.node.start_byte())
            .and_then(|a| a.value)
    }

    /// Go `row.Scan(&expires)` / Rust-less: a local filled through a pointer by a row read from a store.
    fn scanned_into(
        &self,
        function: Option<usize>,
        name: &str,
        offset: usize,
        depth: usize,
    ) -> Option<Node<'t>> {
        if self.language() != Language::Go {
            return None;
        }
        let function = function?;
        self.facts.calls_in(function).find_map(|call| {
            if call.node.start_byte() >= offset || call.method.as_deref() != Some("Scan") {
                return None;
            }
            let fills = call.args.iter().any(|a| {
                a.kind() == "unary_expression"
                    && self.text(*a).trim_start_matches('&').trim() == name
            });
            if !fills {
                return None;
            }
            let index = *self.calls_by_node.get(&call.node.id())?;
            if self.remote.remote(index).is_some() {
                return Some(call.node);
            }
            self.store_origin(call.receiver?, depth + 1)
        })
    }

    /// A parameter of `function` (or a function it is nested in) named or typed like a message.
    fn is_message_param(&self, function: usize, name: &str) -> bool {
        let mut current = Some(function);
        while let Some(index) = current {
            let Some(f) = self.facts.functions.get(index) else {
                return false;
            };
            if let Some(param) = f.params.iter().find(|p| p.name == name) {
                let lower_name = param.name.to_ascii_lowercase();
                let words = name_words(&param.type_text);
                return MESSAGE_NAMES.contains(&lower_name.as_str())
                    || words.iter().any(|w| MESSAGE_NAMES.contains(&w.as_str()));
            }
            current = f.parent;
        }
        false
    }
}

/// Whether an identifier is (one of) the targets of an assignment or declaration.
fn is_assignment_target(facts: &FileFacts<'_>, ident: Node<'_>) -> bool {
    let Some(parent) = facts.parent(ident) else {
        return false;
    };
    match parent.kind() {
        "expression_list" => facts.parent(parent).is_some_and(|s| {
            matches!(s.kind(), "short_var_declaration" | "assignment_statement")
                && s.child_by_field_name("left")
                    .is_some_and(|l| l.id() == parent.id())
        }),
        "assignment_expression" | "let_declaration" | "variable_declarator" => {
            let field = match parent.kind() {
                "let_declaration" => "pattern",
                "variable_declarator" => "name",
                _ => "left",
            };
            parent
                .child_by_field_name(field)
                .is_some_and(|l| l.id() == ident.id())
        }
        _ => false,
    }
}

/// The operator token of a binary expression.
pub(crate) fn binary_operator<'s>(n: Node<'_>, source: &'s str) -> &'s str {
    if let Some(op) = n.child_by_field_name("operator") {
        return node::text(op, source);
    }
    let mut cursor = n.walk();
    let found = n
        .children(&mut cursor)
        .find(|c| !c.is_named())
        .map(|c| node::text(c, source))
        .unwrap_or("");
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsr_core::kb::KnowledgeBase;
    use dsr_syntax::Document;

    /// (api, binding, use kinds as short strings) per reading.
    fn model(language: Language, source: &str) -> Vec<(String, Option<String>, Vec<String>)> {
        let document = Document::new(language, source, 0).expect("grammar loads");
        let facts = FileFacts::compute(language, document.tree(), source);
        let remote = RemoteCalls::compute(&facts, source, KnowledgeBase::builtin());
        let model = TimeModel::compute(&facts, source, &remote);
        model
            .readings
            .iter()
            .map(|r| {
                (
                    r.api.to_string(),
                    r.binding.as_ref().map(|(n, _)| n.clone()),
                    r.uses
                        .iter()
                        .map(|u| match &u.kind {
                            ClockUseKind::OrderingKey { name } => format!("order:{name}"),
                            ClockUseKind::StoreComparison { .. } => "store".to_string(),
                            ClockUseKind::Elapsed { form, compared, .. } => {
                                format!("elapsed:{}:{compared}", form.describe())
                            }
                            ClockUseKind::Other => "other".to_string(),
                        })
                        .collect(),
                )
            })
            .collect()
    }

    fn kinds(language: Language, source: &str) -> Vec<Vec<String>> {
        model(language, source)
            .into_iter()
            .map(|(_, _, k)| k)
            .collect()
    }

    #[test]
    fn ordering_names() {
        for yes in [
            "Version",
            "seq",
            "seq_no",
            "revision",
            "leaderEpoch",
            "order",
            "X-Version",
            "generation",
        ] {
            assert!(is_ordering_name(yes), "{yes}");
        }
        for no in [
            "versionPostFix",
            "version_time",
            "epoch_ms",
            "orderPlacedAt",
            "OrderID",
            "updatedAt",
            "createdAt",
            "ts",
            "EpochMillis",
        ] {
            assert!(!is_ordering_name(no), "{no}");
        }
    }

    #[test]
    fn go_version_fields_and_locals() {
        let source = r#"package p
import "time"
func f(e *Event) {
	x := Event{Version: time.Now().UnixNano(), Name: "a"}
	now := time.Now()
	e.Seq = now.UnixNano()
	y := Event{CreatedAt: time.Now()}
}
"#;
        assert_eq!(
            kinds(Language::Go, source),
            [
                vec!["order:Version".to_string()],
                vec!["order:Seq".to_string()],
                vec!["other".to_string()],
            ]
        );
    }

    #[test]
    fn go_lease_expiry_against_a_stored_value_and_monotonic_elapsed() {
        let source = r#"package p
import (
	"time"
	"github.com/redis/go-redis/v9"
)
func f(ctx context.Context, rdb *redis.Client, timeout time.Duration) {
	lease, err := rdb.Get(ctx, "lease").Result()
	if time.Now().After(lease.ExpiresAt) {
	}
	start := time.Now()
	if time.Since(start) > timeout {
	}
	if time.Now().Sub(start) > timeout {
	}
	begin := time.Now().Unix()
	if time.Now().Unix()-begin > 30 {
	}
}
"#;
        let got = kinds(Language::Go, source);
        assert_eq!(got[0], ["store"]);
        // `time.Since(start)` and `Sub` on time.Time values keep the monotonic reading.
        assert!(got[1].iter().all(|k| k == "other"), "{got:?}");
        assert!(got[2].iter().all(|k| k == "other"), "{got:?}");
        assert_eq!(got[3], ["elapsed:subtraction:true"]);
        assert_eq!(got[4], ["elapsed:subtraction:true"]);
    }

    /// A file that stores a reading in a field is analysed twice; the second pass must not look up the
    /// first pass's bindings (here `start` of `g`, a later reading than the one `f` is deriving from).
    #[test]
    fn go_second_pass_after_a_field_store_keeps_bindings_in_range() {
        let source = r#"package p
import "time"
type S struct{ last time.Time }
func (s *S) touch() { s.last = time.Now() }
func f() time.Duration {
	start := time.Now()
	return time.Now().Sub(start)
}
func g() time.Duration {
	start := time.Now()
	return time.Now().Sub(start)
}
"#;
        let got = model(Language::Go, source);
        assert_eq!(got.len(), 5, "{got:?}");
        assert_eq!(got[1].1.as_deref(), Some("start"), "{got:?}");
    }

    #[test]
    fn rust_elapsed_and_timestamps() {
        let source = r#"
use std::time::{SystemTime, UNIX_EPOCH, Instant};
fn f(timeout: Duration) {
    let start = SystemTime::now();
    if start.elapsed().unwrap() > timeout {}
    let ts = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let ev = Event { version: ts, name: 1 };
    let i = Instant::now();
}
"#;
        let got = model(Language::Rust, source);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1.as_deref(), Some("start"));
        assert_eq!(got[0].2, ["elapsed:elapsed():true"]);
        assert_eq!(got[1].2, ["order:version"]);
    }

    #[test]
    fn typescript_elapsed_and_store_comparison() {
        let source = r#"
import { Pool } from "pg";
async function f(pool: Pool, timeoutMs: number) {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {}
  const t0 = performance.now();
  const { rows } = await pool.query("SELECT expires_at FROM leases WHERE id = $1", [id]);
  if (rows[0].expires_at < Date.now()) {}
  const e = { version: new Date().getTime() };
}
"#;
        let got = kinds(Language::TypeScript, source);
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(got[0], ["elapsed:subtraction:true"]);
        assert_eq!(got[1], ["elapsed:subtraction:true"]);
        assert_eq!(got[2], ["store"]);
        assert_eq!(got[3], ["order:version"]);
    }

    #[test]
    fn typescript_message_timestamp_decides_the_winner() {
        let source = r#"
function apply(msg: OrderEvent) {
  const now = Date.now();
  if (msg.timestamp > now) { save(msg); }
}
"#;
        assert_eq!(
            kinds(Language::TypeScript, source),
            [vec!["store".to_string()]]
        );
    }
}
