//! The message-handler model: where a message is received, where it is acknowledged (acked, its offset
//! committed, or handed back with a nack), which calls process it, and whether a processing call's failure can
//! still reach the ack. Also where consumption is set up with auto-ack, and — in the submodules — the transaction
//! model ([`transaction`]) and the classification of a function's writes ([`writes`]) the other delivery rules
//! read.
//!
//! Which call receives, acks, commits or publishes, and how auto-ack is switched on, is library knowledge: it
//! comes from the knowledge base's `role`, `message_arg` and `auto_ack` entries (`kb/*-delivery.toml`).
//!
//! What counts as *processing* a message (the careful part):
//! - a call that takes the message, or data derived from it (its payload, a decoded value, an out-parameter
//!   filled from it), as an argument — except logging, decoding/conversion helpers, and the acks themselves;
//! - between the receive and the ack only: any remote call (per the knowledge base) and any call of a function
//!   defined in the same file, since their failure is a failure to handle the message too.
//!
//! Calls on the message itself (`m.Data()`, `msg.content.toString()`) are reads, not processing.

pub mod syntax;
pub mod transaction;
pub mod writes;

use dsr_syntax::node::{self, Mention};
use dsr_syntax::Language;
use rustc_hash::FxHashMap;
use tree_sitter::Node;

use crate::facts::{Call, FileFacts};
use dsr_core::finding::Evidence;
use dsr_core::kb::{Api, ApiRole, CallKinds, KnowledgeBase};

use self::syntax::{derived_names, find_binding, read_names, same_file_function};
use crate::kb::KbMatch;
use crate::models::control_flow::{self, can_reach, closures_between, contains};
use crate::models::error_fate::{error_fate, ErrorFate};

/// One message and what its handler does with it.
#[derive(Debug)]
pub struct Handler<'t> {
    /// The function the message is bound in (index into `FileFacts::functions`).
    pub function: usize,
    /// The names that stand for the message where it is bound (`m`; `topic, partition, message` for kafkajs).
    pub message: Vec<String>,
    /// The message's names plus every name derived from it in the handler.
    pub derived: Vec<String>,
    pub receive: Receive<'t>,
    /// Acks, offset commits and nacks of the message, in source order.
    pub acks: Vec<Ack<'t>>,
    /// Calls that process the message, in source order.
    pub processing: Vec<Processing<'t>>,
}

/// Where the message comes from.
#[derive(Clone, Copy, Debug)]
pub struct Receive<'t> {
    /// The declaration, loop or parameter that binds the message.
    pub node: Node<'t>,
    pub is_parameter: bool,
    /// The receive or consume call that delivers it (index into `FileFacts::calls`), when visible: the
    /// `FetchMessage` on the right of `:=`, the `Consume` whose channel the loop ranges over, the `consume` a
    /// callback is given to.
    pub call: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct Ack<'t> {
    /// Index into `FileFacts::calls`.
    pub call: usize,
    /// `Ack`, `CommitOffset` or `Nack`.
    pub role: ApiRole,
    /// When the ack goes through a function of this file that acks its parameter, that function's index.
    pub via: Option<usize>,
    /// When the ack goes through a function of another file (the workspace index): where it acks.
    pub elsewhere: Option<Evidence>,
    pub timing: AckTiming<'t>,
}

/// When an ack call runs relative to the code around it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckTiming<'t> {
    /// Where it is written.
    Inline,
    /// When the function returns, whatever happened before: Go `defer`, or a TypeScript `finally` (the node is
    /// the `defer` statement or the `try` statement).
    OnExit(Node<'t>),
    /// Inside a closure given to a call (the call node): when that closure runs is not visible here.
    Callback(Node<'t>),
}

#[derive(Clone, Debug)]
pub struct Processing<'t> {
    /// Index into `FileFacts::calls`.
    pub call: usize,
    /// Takes the message or data derived from it (otherwise: a remote or same-file call between receive and
    /// ack).
    pub uses_message: bool,
    /// Started without being waited for: in a goroutine, a spawned task, or an async function whose promise is
    /// not awaited (the node is the `go` statement, the spawn call, or the call itself).
    pub concurrent: Option<Node<'t>>,
    pub error: ErrorFate<'t>,
}

/// How an ack stands to one processing call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation<'t> {
    /// The ack can run before the processing call.
    AckFirst,
    /// The processing runs concurrently (node: the `go`/spawn/un-awaited call) and the ack does not wait for it.
    NotAwaited(Node<'t>),
    /// The ack can run after the processing call failed.
    AckOnFailure(FailurePath<'t>),
    /// The ack runs only once the processing call succeeded.
    AfterSuccess,
    /// The two are never on one path.
    Unrelated,
    /// The ack runs in a callback given to `call`; whether that happens after the processing is not visible.
    Undecided { call: Node<'t> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailurePath<'t> {
    /// The error is dropped where the call is made.
    Discarded(Node<'t>),
    /// The error is checked, but the failure branch falls through to the ack.
    FallsThrough(Node<'t>),
    /// The ack is in the failure branch itself.
    InFailureBranch(Node<'t>),
    /// The ack is deferred (Go) or in `finally` (TypeScript) and runs on the failure path too.
    OnExit(Node<'t>),
}

/// Where consumption is set up so that the broker treats messages as acknowledged on delivery.
#[derive(Clone, Debug)]
pub struct AutoAckSite<'t> {
    /// The consume/receive call (index into `FileFacts::calls`), or `None` for an options literal found by type.
    pub call: Option<usize>,
    /// What turns auto-ack on: the `true` argument, the `noAck: true` field, the `AckNone()` option, the
    /// `GroupID` field.
    pub node: Node<'t>,
    /// `false` when the setting comes from a value the file does not show (an open question).
    pub decided: bool,
    /// The API it was found through (its `note` states the library's behaviour).
    pub api: Api,
    /// The setting as written (`autoAck`, `noAck`, `no_ack`, `AckNone()`, `GroupID`).
    pub setting: String,
}

/// The messaging facts of one file.
#[derive(Debug, Default)]
pub struct MessagingModel<'t> {
    pub handlers: Vec<Handler<'t>>,
    pub auto_acks: Vec<AutoAckSite<'t>>,
}

impl<'t> MessagingModel<'t> {
    pub fn build(facts: &FileFacts<'t>, kb: &KnowledgeBase, source: &str) -> Self {
        Self::build_with(facts, kb, source, &|_| None)
    }

    /// [`MessagingModel::build`], with calls into other files that ack: `acks_elsewhere` says which argument
    /// of a call the callee acknowledges, and where (the workspace index's answer).
    pub fn build_with(
        facts: &FileFacts<'t>,
        kb: &KnowledgeBase,
        source: &str,
        acks_elsewhere: AcksElsewhere<'_>,
    ) -> Self {
        if facts.language == Language::Sql {
            return Self::default();
        }
        let acks = ack_calls(facts, kb, source, acks_elsewhere);
        let mut handlers: Vec<Handler<'t>> = Vec::new();
        for FoundAck {
            call: call_index,
            role,
            message: message_node,
            via,
            elsewhere,
        } in acks
        {
            let call = &facts.calls[call_index];
            let names = read_names(message_node, source);
            let mut bound: Vec<(String, syntax::Binding<'t>)> = Vec::new();
            for name in names {
                if let Some(binding) = find_binding(facts, &name, call.node, call.function, source)
                {
                    bound.push((name, binding));
                }
            }
            // The name the message is read through (`message` in `message.offset`) names it best.
            if let Some(primary) = bound
                .iter()
                .position(|(name, _)| read_through(message_node, name, source))
            {
                let entry = bound.remove(primary);
                bound.insert(0, entry);
            }
            let Some((_, first)) = bound.first().cloned() else {
                continue;
            };
            let scope = facts.functions[first.function].node;
            let ack = Ack {
                call: call_index,
                role,
                via,
                elsewhere,
                timing: ack_timing(facts, call.node, scope),
            };
            if let Some(existing) = handlers
                .iter_mut()
                .find(|h| h.function == first.function && h.receive.node == first.node)
            {
                existing.acks.push(ack);
                continue;
            }
            let message: Vec<String> = bound
                .iter()
                .filter(|(_, b)| b.function == first.function)
                .map(|(name, _)| name.clone())
                .collect();
            let receive = Receive {
                node: first.node,
                is_parameter: first.is_parameter,
                call: receive_call(facts, kb, &first, source),
            };
            handlers.push(Handler {
                function: first.function,
                derived: Vec::new(),
                message,
                receive,
                acks: vec![ack],
                processing: Vec::new(),
            });
        }
        for handler in &mut handlers {
            handler.complete(facts, kb, source);
        }
        MessagingModel {
            handlers,
            auto_acks: auto_ack_sites(facts, kb, source),
        }
    }
}

impl<'t> Handler<'t> {
    /// The body the message is handled in.
    pub fn scope(&self, facts: &FileFacts<'t>) -> Node<'t> {
        facts.functions[self.function].node
    }

    /// Where processing can start: after the binding (the function body for a parameter).
    fn start(&self, facts: &FileFacts<'t>) -> usize {
        if self.receive.is_parameter {
            let function = &facts.functions[self.function];
            function
                .body
                .map_or(function.node.start_byte(), |b| b.start_byte())
        } else {
            // A loop or an arm binds for its body: processing starts after the pattern and the value it
            // ranges over, not after the whole loop.
            match syntax::binder(self.receive.node) {
                Some(b) => b
                    .targets
                    .iter()
                    .chain(
                        b.value
                            .iter()
                            .filter(|v| control_flow::contains(self.receive.node, **v)),
                    )
                    .map(|n| n.end_byte())
                    .max()
                    .unwrap_or(self.receive.node.end_byte()),
                None => self.receive.node.end_byte(),
            }
        }
    }

    fn complete(&mut self, facts: &FileFacts<'t>, kb: &KnowledgeBase, source: &str) {
        self.acks
            .sort_by_key(|a| facts.calls[a.call].node.start_byte());
        let scope = self.scope(facts);
        let start = self.start(facts);
        self.derived = derived_names(scope, start, &self.message, source, facts.language);
        let ack_ranges: Vec<_> = self
            .acks
            .iter()
            .map(|a| facts.calls[a.call].range())
            .collect();
        let last_ack = ack_ranges.iter().map(|r| r.start).max().unwrap_or(start);
        let scope_range = dsr_syntax::TextRange::of(scope);
        for index in syntax::calls_within(facts, scope_range) {
            let call = &facts.calls[index];
            let range = call.range();
            if range.start < start {
                continue;
            }
            if ack_ranges.iter().any(|a| a.contains_range(range)) {
                continue;
            }
            if kb
                .role_of(
                    facts,
                    call,
                    &[ApiRole::Ack, ApiRole::CommitOffset, ApiRole::Nack],
                )
                .is_some()
            {
                continue;
            }
            let uses_message = call
                .node
                .child_by_field_name("arguments")
                .is_some_and(|args| node::mentions(args, &self.derived, source, Mention::Variable))
                || (call.is_new
                    && call
                        .args
                        .iter()
                        .any(|a| node::mentions(*a, &self.derived, source, Mention::Variable)));
            let role = kb.role_of(facts, call, &[ApiRole::Publish]);
            let kind = classify(facts, call, source);
            let counts = if uses_message {
                kind == CallKind::Work || role.is_some()
            } else {
                // Work that does not touch the message matters only before the (last) ack.
                range.start < last_ack
                    && kind == CallKind::Work
                    && (kb.is_remote(facts, call) || same_file_function(facts, call).is_some())
            };
            if !counts {
                continue;
            }
            let concurrent = concurrency(facts, call, scope, source);
            let error = error_fate(facts, call, scope, source, is_nack_like);
            self.processing.push(Processing {
                call: index,
                uses_message,
                concurrent,
                error,
            });
        }
    }

    /// How the ack `ack` stands to the processing call `processing`.
    pub fn relation(
        &self,
        facts: &FileFacts<'t>,
        ack: &Ack<'t>,
        processing: &Processing<'t>,
        source: &str,
    ) -> Relation<'t> {
        let scope = self.scope(facts);
        let a = facts.calls[ack.call].node;
        let p = facts.calls[processing.call].node;
        if contains(p, a) {
            // The ack is inside the processing call's arguments (a callback): its timing is the callee's.
            return Relation::Undecided { call: p };
        }
        if let AckTiming::Callback(call) = ack.timing {
            let closure = closures_between(facts, a, scope)
                .last()
                .copied()
                .unwrap_or(call);
            if !contains(closure, p) {
                if is_then_after(call, p, source) {
                    return Relation::AfterSuccess;
                }
                return Relation::Undecided { call };
            }
        }
        if let Some(started) = processing.concurrent {
            let ack_inside = contains(started, a);
            if !ack_inside
                && started.end_byte() <= a.start_byte()
                && can_reach(facts, started, a, source)
            {
                if !waits_between(started, a, scope, source) {
                    return Relation::NotAwaited(started);
                }
                return Relation::AfterSuccess;
            }
        }
        // Where the ack's effect is decided: a deferred ack is registered by its `defer` statement.
        let ack_point = match ack.timing {
            AckTiming::OnExit(holder) => holder,
            _ => a,
        };
        if let AckTiming::OnExit(holder) = ack.timing {
            if control_flow::is_conditional(facts, a, holder) {
                // `defer func() { if err == nil { m.Ack() } }()`: acked only on the path the code chose.
                return Relation::AfterSuccess;
            }
            let registered_first = holder.start_byte() <= p.start_byte();
            // A `finally` covers what its `try` body runs; a `defer` covers what runs after it.
            let covers = if holder.kind() == "try_statement" {
                holder
                    .child_by_field_name("body")
                    .is_some_and(|body| contains(body, p))
            } else {
                registered_first && can_reach(facts, holder, p, source)
            };
            if covers {
                return match processing.error {
                    ErrorFate::Propagated | ErrorFate::Branch { .. } | ErrorFate::Discarded(..) => {
                        Relation::AckOnFailure(FailurePath::OnExit(holder))
                    }
                    ErrorFate::Unknown => Relation::AfterSuccess,
                };
            }
        }
        if can_reach(facts, ack_point, p, source) {
            return Relation::AckFirst;
        }
        if !can_reach(facts, p, ack_point, source) && !contains(ack_point, p) {
            return Relation::Unrelated;
        }
        match processing.error {
            ErrorFate::Propagated | ErrorFate::Unknown => Relation::AfterSuccess,
            ErrorFate::Discarded(discard) => {
                Relation::AckOnFailure(FailurePath::Discarded(discard.at))
            }
            ErrorFate::Branch {
                check,
                failure,
                leaves,
                ..
            } => {
                if let Some(failure) = failure {
                    if contains(failure, a) {
                        return Relation::AckOnFailure(FailurePath::InFailureBranch(failure));
                    }
                }
                if contains(check, a) {
                    // In the success branch of the check.
                    return Relation::AfterSuccess;
                }
                if check.start_byte() > a.start_byte() {
                    // Checked only after acking.
                    return Relation::AckOnFailure(FailurePath::Discarded(check));
                }
                if leaves {
                    Relation::AfterSuccess
                } else {
                    Relation::AckOnFailure(FailurePath::FallsThrough(failure.unwrap_or(check)))
                }
            }
        }
    }
}

/// Whether `name` is the object of a member access inside `expression` (`message` in `message.offset`).
fn read_through(expression: Node<'_>, name: &str, source: &str) -> bool {
    node::descendants(expression).any(|n| {
        let object = match n.kind() {
            "member_expression" => n.child_by_field_name("object"),
            "selector_expression" => n.child_by_field_name("operand"),
            "field_expression" => n.child_by_field_name("value"),
            _ => None,
        };
        object.is_some_and(|o| o.kind() == "identifier" && node::text(o, source) == name)
    })
}

/// Which argument of a call a function of another file acknowledges, and where it does.
pub type AcksElsewhere<'a> = &'a dyn Fn(&Call<'_>) -> Option<(usize, Evidence)>;

/// An ack call and the expression naming its message.
struct FoundAck<'t> {
    call: usize,
    role: ApiRole,
    message: Node<'t>,
    via: Option<usize>,
    elsewhere: Option<Evidence>,
}

/// Every ack, offset commit and nack call of the file with the expression naming its message; calls of
/// functions that ack their parameter (of this file, or of another as `acks_elsewhere` says) count as acks of
/// the argument in that position.
fn ack_calls<'t>(
    facts: &FileFacts<'t>,
    kb: &KnowledgeBase,
    source: &str,
    acks_elsewhere: AcksElsewhere<'_>,
) -> Vec<FoundAck<'t>> {
    let mut acks = Vec::new();
    for (index, call) in facts.calls.iter().enumerate() {
        // Libraries share ack names (`ack` in amqplib takes the message, in nats.js it is called on it).
        let Some(api) = kb.find_for_call(facts, call, |api| {
            matches!(
                api.role,
                Some(ApiRole::Ack | ApiRole::CommitOffset | ApiRole::Nack)
            ) && api
                .message_arg
                .map_or(call.receiver.is_some(), |i| i < call.args.len())
        }) else {
            continue;
        };
        let Some(role) = api.role else { continue };
        let message = match api.message_arg {
            Some(i) => call.args.get(i).copied(),
            None => call.receiver,
        };
        if let Some(message) = message {
            acks.push(FoundAck {
                call: index,
                role,
                message,
                via: None,
                elsewhere: None,
            });
        }
    }
    wrapped_acks(facts, source, &mut acks);
    // Calls of another file's functions that ack the argument they are given.
    let acked: rustc_hash::FxHashSet<usize> = acks.iter().map(|a| a.call).collect();
    for (index, call) in facts.calls.iter().enumerate() {
        if acked.contains(&index) || same_file_function(facts, call).is_some() {
            continue;
        }
        if let Some((arg, evidence)) = acks_elsewhere(call) {
            if let Some(&message) = call.args.get(arg) {
                acks.push(FoundAck {
                    call: index,
                    role: ApiRole::Ack,
                    message,
                    via: None,
                    elsewhere: Some(evidence),
                });
            }
        }
    }
    acks
}

/// One level of wrappers in this file: `func ackAndLog(m *nats.Msg) { m.Ack(); … }` makes `ackAndLog(msg)` an
/// ack of `msg`.
fn wrapped_acks<'t>(facts: &FileFacts<'t>, source: &str, acks: &mut Vec<FoundAck<'t>>) {
    let mut wrappers: Vec<(usize, usize, ApiRole)> = Vec::new();
    for FoundAck {
        call: call_index,
        role,
        message,
        ..
    } in acks.iter()
    {
        let call = &facts.calls[*call_index];
        let Some(function) = call.function.map(|f| facts.outermost_function(f)) else {
            continue;
        };
        let names = read_names(*message, source);
        let patterns = syntax::parameter_patterns(facts.functions[function].node);
        let position = patterns.iter().position(|p| {
            syntax::pattern_names(*p, source)
                .iter()
                .any(|n| names.first() == Some(n))
        });
        if let Some(position) = position {
            if facts.functions[function].name != crate::facts::ANONYMOUS {
                wrappers.push((function, position, *role));
            }
        }
    }
    if wrappers.is_empty() {
        return;
    }
    let short_names: Vec<&str> = wrappers
        .iter()
        .map(|(f, _, _)| {
            let name = facts.functions[*f].name.as_str();
            dsr_core::kb::last_segment(name)
        })
        .collect();
    for (index, call) in facts.calls.iter().enumerate() {
        let last = call.method.as_deref().unwrap_or(call.callee_text.as_str());
        if !short_names.contains(&last) {
            continue;
        }
        let Some(function) = same_file_function(facts, call) else {
            continue;
        };
        for (wrapper, position, role) in &wrappers {
            if *wrapper == function && facts.functions[function].node != call.node {
                if let Some(arg) = call.args.get(*position) {
                    acks.push(FoundAck {
                        call: index,
                        role: *role,
                        message: *arg,
                        via: Some(function),
                        elsewhere: None,
                    });
                }
            }
        }
    }
}

fn ack_timing<'t>(facts: &FileFacts<'t>, ack: Node<'t>, scope: Node<'t>) -> AckTiming<'t> {
    let language = facts.language;
    let chain: Vec<Node<'t>> = facts.ancestors(ack).take_while(|a| *a != scope).collect();
    if let Some(holder) = chain.iter().find(|a| a.kind() == "defer_statement") {
        return AckTiming::OnExit(*holder);
    }
    if let Some(holder) = chain
        .iter()
        .position(|a| a.kind() == "finally_clause")
        .and_then(|i| chain.get(i + 1))
    {
        return AckTiming::OnExit(*holder);
    }
    let kinds = node::function_kinds(language);
    let Some(closure) = chain
        .iter()
        .rposition(|a| kinds.contains(&a.kind()) || a.kind() == "async_block")
    else {
        return AckTiming::Inline;
    };
    // A closure that is itself the callee (`func() { … }()`) runs in place.
    let invoked_here = chain.get(closure + 1).is_some_and(|p| {
        p.kind() == "call_expression" && p.child_by_field_name("function") == Some(chain[closure])
    });
    if invoked_here {
        return AckTiming::Inline;
    }
    match chain[closure + 1..].iter().find(|a| {
        matches!(
            a.kind(),
            "call_expression" | "new_expression" | "macro_invocation"
        )
    }) {
        Some(call) => AckTiming::Callback(*call),
        None => AckTiming::Inline,
    }
}

/// The receive or consume call that delivers the message bound by `binding`.
fn receive_call(
    facts: &FileFacts<'_>,
    kb: &KnowledgeBase,
    binding: &syntax::Binding<'_>,
    source: &str,
) -> Option<usize> {
    let delivers = |i: &usize| {
        kb.role_of(
            facts,
            &facts.calls[*i],
            &[ApiRole::Receive, ApiRole::Consume],
        )
        .is_some()
    };
    let delivering = |range: dsr_syntax::TextRange| {
        syntax::calls_within(facts, range)
            .into_iter()
            .find(delivers)
    };
    if binding.is_parameter {
        // A callback handed to `consume`/`Subscribe`/`run` (directly, or in an options object).
        let function = facts.functions[binding.function].node;
        return facts
            .ancestors(function)
            .take(4)
            .filter(|a| a.kind() == "call_expression")
            .filter_map(|a| writes::call_at(facts, a))
            .find(delivers);
    }
    let value = binding.value?;
    if let Some(found) = delivering(dsr_syntax::TextRange::of(value)) {
        return Some(found);
    }
    // `for d := range msgs` where `msgs, err := ch.Consume(…)`.
    if value.kind() == "identifier" {
        let name = node::text(value, source);
        let earlier = find_binding(facts, name, binding.node, Some(binding.function), source)?;
        return delivering(dsr_syntax::TextRange::of(earlier.value?));
    }
    None
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum CallKind {
    /// Logging or metrics: looking at the message is not handling it.
    Logging,
    /// Decoding, converting, formatting: derives data, does no work with it.
    Derivation,
    Work,
}

/// Whether a call writes a log line, a metric or a trace event (`console.warn`, `log.Printf`, `logger.info`).
pub(crate) fn is_logging(facts: &FileFacts<'_>, call: &Call<'_>, source: &str) -> bool {
    classify(facts, call, source) == CallKind::Logging
}

fn classify(facts: &FileFacts<'_>, call: &Call<'_>, source: &str) -> CallKind {
    let path = call.path.as_deref().unwrap_or("");
    let callee = call.callee_text.as_str();
    let last = call
        .method
        .as_deref()
        .unwrap_or_else(|| dsr_core::kb::last_segment(callee));
    let receiver = call
        .receiver
        .map(|r| node::text(r, source).to_ascii_lowercase())
        .unwrap_or_default();
    let kinds = CallKinds::builtin();
    let has = |names: &[String], name: &str| names.iter().any(|n| n == name);
    let logging = &kinds.logging;
    let logging_module = logging.modules.iter().any(|m| {
        path.strip_prefix(m.as_str())
            .is_some_and(|rest| rest.starts_with('.'))
    }) || logging
        .path_prefixes
        .iter()
        .any(|p| path.starts_with(p.as_str()))
        || logging
            .callee_prefixes
            .iter()
            .any(|p| callee.starts_with(p.as_str()));
    let metrics = has(&kinds.metrics.label_methods, last)
        || (has(&kinds.metrics.methods, last)
            && kinds
                .metrics
                .receiver_words
                .iter()
                .any(|r| receiver.contains(r.as_str())));
    // A plain function named for logging (`logSlowQuery(…)`, `log_timing(…)`): the project's own logger.
    let logging_function = call.receiver.is_none()
        && (last == "log"
            || last.strip_prefix("log").is_some_and(|rest| {
                rest.starts_with('_') || rest.starts_with(|c: char| c.is_ascii_uppercase())
            }));
    if logging_module
        || metrics
        || logging_function
        || (has(&logging.methods, last)
            && logging
                .receiver_words
                .iter()
                .any(|r| receiver.contains(r.as_str())))
    {
        return CallKind::Logging;
    }
    // Starting a task is not processing; the calls inside it are.
    if has(&kinds.derivation.task_spawns, last) {
        return CallKind::Derivation;
    }
    // Promise plumbing: `.then(…)`/`.catch(…)` chain on the call that does the work.
    if facts.language.is_typescript()
        && matches!(call.method.as_deref(), Some("then" | "catch" | "finally"))
    {
        return CallKind::Derivation;
    }
    let pure = kinds
        .derivation
        .pure_prefixes
        .iter()
        .any(|m| path.starts_with(m.as_str()) || callee.starts_with(m.as_str()));
    if pure || has(&kinds.derivation.methods, last) || is_conversion(facts.language, call) {
        return CallKind::Derivation;
    }
    CallKind::Work
}

/// Go conversions look like calls: `string(b)`, `[]byte(s)`, `int64(n)`.
fn is_conversion(language: Language, call: &Call<'_>) -> bool {
    language == Language::Go
        && (matches!(
            call.callee.kind(),
            "slice_type"
                | "array_type"
                | "map_type"
                | "pointer_type"
                | "parenthesized_type"
                | "generic_type"
        ) || matches!(
            call.callee_text.as_str(),
            "int"
                | "int8"
                | "int16"
                | "int32"
                | "int64"
                | "uint"
                | "uint8"
                | "uint16"
                | "uint32"
                | "uint64"
                | "float32"
                | "float64"
                | "byte"
                | "rune"
                | "bool"
        ))
}

/// Whether `call` is started without being waited for: Go `go f(m)`/`go func(){…}()`, a closure handed to a
/// `spawn` function, or a TypeScript call of a same-file async function whose promise is not awaited.
fn concurrency<'t>(
    facts: &FileFacts<'t>,
    call: &Call<'t>,
    scope: Node<'t>,
    source: &str,
) -> Option<Node<'t>> {
    match facts.language {
        Language::Go => facts
            .ancestors(call.node)
            .take_while(|a| *a != scope)
            .find(|a| a.kind() == "go_statement"),
        Language::Rust => facts
            .ancestors(call.node)
            .take_while(|a| *a != scope)
            .filter(|a| a.kind() == "call_expression")
            .find(|a| {
                a.child_by_field_name("function").is_some_and(|f| {
                    let text = node::text(f, source);
                    let last = text.rsplit("::").next().unwrap_or(text);
                    CallKinds::builtin()
                        .derivation
                        .task_spawns
                        .iter()
                        .any(|spawn| spawn == last)
                })
            }),
        _ => {
            let function = same_file_function(facts, call)?;
            if !facts.functions[function].is_async {
                return None;
            }
            // `await f<T>(m)` is parsed inside out (tree-sitter-typescript #282): no `await` above the call.
            let waited = node::awaits_inside_out(call.node)
                || facts
                    .ancestors(call.node)
                    .take_while(|a| *a != scope)
                    .any(|a| {
                        matches!(
                            a.kind(),
                            "await_expression"
                                | "return_statement"
                                | "arrow_function"
                                | "yield_expression"
                        )
                    })
                || bound_and_awaited(facts, call.node, scope, source);
            (!waited).then_some(call.node)
        }
    }
}

/// `const done = process(msg); …; await done;`
fn bound_and_awaited(facts: &FileFacts<'_>, call: Node<'_>, scope: Node<'_>, source: &str) -> bool {
    let Some(declarator) = facts
        .parent(call)
        .filter(|p| p.kind() == "variable_declarator")
    else {
        return false;
    };
    let Some(name) = declarator.child_by_field_name("name") else {
        return false;
    };
    let name = node::text(name, source);
    node::descendants(scope).any(|n| {
        n.kind() == "await_expression"
            && n.start_byte() > call.end_byte()
            && node::descendants(n)
                .any(|i| i.kind() == "identifier" && node::text(i, source) == name)
    })
}

/// Between a started goroutine/task and the ack, something waits: `wg.Wait()`, `<-done`, `handle.await`,
/// `join!`, `await`.
fn waits_between(started: Node<'_>, ack: Node<'_>, scope: Node<'_>, source: &str) -> bool {
    node::descendants(scope).any(|n| {
        if n.start_byte() < started.end_byte() || n.end_byte() > ack.start_byte() {
            return false;
        }
        match n.kind() {
            "unary_expression" => n.child(0).is_some_and(|op| op.kind() == "<-"),
            "await_expression" => true,
            "call_expression" => n.child_by_field_name("function").is_some_and(|f| {
                let text = node::text(f, source);
                text.ends_with(".Wait") || text.ends_with(".join") || text.ends_with("join_all")
            }),
            "macro_invocation" => {
                node::text(n, source).starts_with("join!")
                    || node::text(n, source).contains("::join!")
            }
            _ => false,
        }
    })
}

/// `process(msg).then(() => channel.ack(msg))`: the ack's callback is chained on the processing call.
fn is_then_after(callback_call: Node<'_>, processing: Node<'_>, source: &str) -> bool {
    callback_call
        .child_by_field_name("function")
        .filter(|f| f.kind() == "member_expression")
        .is_some_and(|f| {
            f.child_by_field_name("property")
                .is_some_and(|p| node::text(p, source) == "then")
                && f.child_by_field_name("object")
                    .is_some_and(|o| contains(o, processing))
        })
}

/// A call whose method names a nack, reject, requeue or dead-letter: the failure is handed back.
fn is_nack_like(n: Node<'_>, source: &str) -> bool {
    if n.kind() != "call_expression" {
        return false;
    }
    let Some(callee) = n.child_by_field_name("function") else {
        return false;
    };
    let text = node::text(callee, source);
    let last = dsr_core::kb::last_segment(text).to_ascii_lowercase();
    matches!(
        last.as_str(),
        "nack"
            | "nak"
            | "nakwithdelay"
            | "reject"
            | "basic_nack"
            | "basic_reject"
            | "term"
            | "requeue"
    ) || last.contains("deadletter")
        || last.contains("dead_letter")
        || last.contains("dlq")
}

/// Auto-ack settings: consume/receive calls configured by argument, options field or option call; literals of
/// option types that switch it on; receive calls that commit by themselves under a visible configuration.
fn auto_ack_sites<'t>(
    facts: &FileFacts<'t>,
    kb: &KnowledgeBase,
    source: &str,
) -> Vec<AutoAckSite<'t>> {
    let mut sites: Vec<AutoAckSite<'t>> = Vec::new();
    // The literals of each resolved type, grouped on first use: asked per consume call, a scan of every
    // literal each time was quadratic.
    let literals_by_type = std::cell::OnceCell::new();
    let literals_of_type = |config: &str| -> Vec<usize> {
        let by_type: &FxHashMap<&str, Vec<usize>> = literals_by_type.get_or_init(|| {
            let mut by_type: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
            for (index, literal) in facts.literals.iter().enumerate() {
                if let Some(path) = literal.type_path.as_deref() {
                    by_type.entry(path).or_default().push(index);
                }
            }
            by_type
        });
        by_type.get(config).cloned().unwrap_or_default()
    };
    for (index, call) in facts.calls.iter().enumerate() {
        let Some(api) = kb.role_of(facts, call, &[ApiRole::Consume, ApiRole::Receive]) else {
            continue;
        };
        let Some(auto) = api.auto_ack.as_ref() else {
            continue;
        };
        let mut push = |node: Node<'t>, decided: bool, setting: String| {
            sites.push(AutoAckSite {
                call: Some(index),
                node,
                decided,
                api: api.clone(),
                setting,
            })
        };
        if let Some(config) = auto.config.as_deref() {
            let field = auto.field.as_deref().unwrap_or("");
            let literals: Vec<_> = literals_of_type(config)
                .into_iter()
                .map(|i| &facts.literals[i])
                .collect();
            if literals.is_empty() {
                push(call.callee, false, field.to_string());
            } else if let Some(f) = literals.iter().find_map(|l| l.field(field)) {
                push(f.node, true, field.to_string());
            }
            continue;
        }
        if let Some(position) = auto.arg {
            if let Some(arg) = call.args.get(position) {
                match bool_value(facts, *arg, source) {
                    Some(true) => push(*arg, true, "autoAck".to_string()),
                    Some(false) => {}
                    None => push(*arg, false, node::text(*arg, source).to_string()),
                }
            }
        }
        if let Some(field) = auto.field.as_deref() {
            for arg in &call.args {
                let literal_node = match arg.kind() {
                    "identifier" => facts.declared_value(
                        call.function,
                        node::text(*arg, source),
                        arg.start_byte(),
                    ),
                    _ => Some(*arg),
                };
                let Some(literal) = literal_node.and_then(|n| facts.literal_of(n)) else {
                    continue;
                };
                if let Some(f) = literal.field(field) {
                    match field_on(facts, f, auto.value.as_deref(), source) {
                        Some(true) => push(f.node, true, field.to_string()),
                        Some(false) => {}
                        None => push(f.node, false, field.to_string()),
                    }
                }
            }
        }
        if let Some(option) = auto.option.as_deref() {
            for arg in &call.args {
                let is_option = arg.kind() == "call_expression"
                    && arg.child_by_field_name("function").is_some_and(|f| {
                        let text = node::text(f, source);
                        dsr_core::kb::last_segment(text) == option
                    });
                if is_option {
                    push(*arg, true, format!("{option}()"));
                }
            }
        }
    }
    for api in kb.auto_ack_types(facts.language) {
        let Some(auto) = api.auto_ack.as_ref() else {
            continue;
        };
        let Some(field) = auto.field.as_deref() else {
            continue;
        };
        let separator = if facts.language == Language::Rust {
            "::"
        } else {
            "."
        };
        let short = api.path.rsplit(separator).next().unwrap_or(&api.path);
        let module = api
            .path
            .strip_suffix(short)
            .map(|m| m.trim_end_matches(separator))
            .unwrap_or("");
        for literal in &facts.literals {
            let matches = literal.type_path.as_deref() == Some(api.path.as_str())
                || (literal.type_path.is_none()
                    && literal.type_text.rsplit(separator).next() == Some(short)
                    && facts.imports_module(module.split(separator).next().unwrap_or(module)));
            if !matches {
                continue;
            }
            let Some(f) = literal.field(field) else {
                continue;
            };
            if sites.iter().any(|s| s.node == f.node) {
                continue;
            }
            match field_on(facts, f, auto.value.as_deref(), source) {
                Some(true) => sites.push(AutoAckSite {
                    call: None,
                    node: f.node,
                    decided: true,
                    api: api.clone(),
                    setting: field.to_string(),
                }),
                Some(false) => {}
                None => sites.push(AutoAckSite {
                    call: None,
                    node: f.node,
                    decided: false,
                    api: api.clone(),
                    setting: field.to_string(),
                }),
            }
        }
    }
    sites.sort_by_key(|s| s.node.start_byte());
    sites
}

/// A boolean argument's value: a literal, or a local/package constant bound to one.
fn bool_value(facts: &FileFacts<'_>, n: Node<'_>, source: &str) -> Option<bool> {
    match node::text(n, source) {
        "true" => return Some(true),
        "false" => return Some(false),
        _ => {}
    }
    if n.kind() == "identifier" {
        let function = facts.function_at(n.start_byte());
        let value = writes::constant_value(facts, function, node::text(n, source), n.start_byte())?;
        return match node::text(value, source) {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        };
    }
    // `cfg.AutoAck`: a literal of the file that sets that field decides it.
    let field = match n.kind() {
        "selector_expression" => n.child_by_field_name("field"),
        "field_expression" => n.child_by_field_name("field"),
        "member_expression" => n.child_by_field_name("property"),
        _ => None,
    }?;
    let name = node::text(field, source);
    let set: Vec<bool> = facts
        .literals
        .iter()
        .filter_map(|l| l.field(name))
        .filter_map(|f| f.value)
        .filter_map(|v| match node::text(v, source) {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        })
        .collect();
    if set.contains(&true) {
        Some(true)
    } else if !set.is_empty() {
        Some(false)
    } else {
        None
    }
}

/// Whether an options field switches auto-ack on: `true`, or a value ending in `wanted` (`AckNonePolicy`).
fn field_on(
    facts: &FileFacts<'_>,
    field: &crate::facts::Field<'_>,
    wanted: Option<&str>,
    source: &str,
) -> Option<bool> {
    let Some(value) = field.value else {
        // `{ noAck }` shorthand: the value is a variable of the same name.
        return bool_value(facts, field.node, source);
    };
    match wanted {
        Some(wanted) => {
            let text = node::text(value, source);
            if text.ends_with(wanted) {
                Some(true)
            } else if text.contains('.') || text.contains("::") {
                Some(false)
            } else {
                None
            }
        }
        None => bool_value(facts, value, source),
    }
}

#[cfg(test)]
mod tests;
