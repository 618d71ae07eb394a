//! Retries that are not loops: a function that calls itself again when its remote call fails — directly
//! (`catch { return this.connect() }`, `if err != nil { return c.connect(ctx) }`) or by scheduling itself after
//! a delay (`setTimeout(() => this.connect(), d)`, `time.AfterFunc(d, c.connect)`, `tokio::spawn` of an async
//! block that sleeps and then calls it) — and backoff strategies: functions that compute a delay from an attempt
//! count, with no loop in sight, judged wherever they are defined — and Rust retries written as state machines:
//! a `poll` (`impl Future`/`Stream`) that arms a sleep when its remote future fails and starts the remote call
//! again once the sleep is over.

use dsr_syntax::node::{self, Mention, Wrappers};
use dsr_syntax::{Language, TextRange};
use rustc_hash::FxHashSet;
use tree_sitter::Node;

use super::{Analyzer, Counter, Delay, Retry, RetryKind};
use crate::facts::Call;
use crate::models::error_fate::is_error_name;

/// Parameter names that count attempts (`attempt`, `retryCount`, `num_retries`, `n`); not durations or
/// deadlines that merely mention retries (`retry_after`, `retryDelay`).
fn is_attempt_name(name: &str) -> bool {
    let lower: String = name
        .chars()
        .filter(|c| *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if [
        "after", "delay", "wait", "duration", "timeout", "interval", "base", "at",
    ]
    .iter()
    .any(|w| lower.ends_with(w))
    {
        return false;
    }
    matches!(
        lower.as_str(),
        "n" | "i" | "try" | "tries" | "retry" | "retries" | "failures" | "failurecount"
    ) || lower.contains("attempt")
        || lower.ends_with("retries")
        || lower.ends_with("retrycount")
        || lower.ends_with("tries")
}

impl<'t> Analyzer<'_, 't> {
    /// Every retry of the file made by a function calling itself again on failure.
    pub(super) fn reschedules(&self) -> Vec<Retry<'t>> {
        let mut found = Vec::new();
        let mut seen = FxHashSet::default();
        for (index, call) in self.facts.calls.iter().enumerate() {
            let Some(function) = call.function else {
                continue;
            };
            let Some((target, edge_call, delay_arg, timer_based)) =
                self.calls_itself_again(index, call)
            else {
                continue;
            };
            // The function that retries is the one the call restarts; it must be the one the call sits in (or
            // one it is nested in: a callback of an error handler inside `connect`).
            if !self.nested_in(function, target) || !seen.insert(target) {
                continue;
            }
            if !self.in_failure_path(call.node, target) {
                continue;
            }
            let retried: Vec<usize> = self
                .remote_calls_of(target)
                .into_iter()
                .filter(|i| self.facts.calls[*i].node.start_byte() < call.node.start_byte())
                .collect();
            if retried.is_empty() {
                continue;
            }
            let counters = self.attempt_parameters(target);
            let names: FxHashSet<String> = counters.iter().map(|c| c.name.clone()).collect();
            let delay = match delay_arg {
                Some(duration) => {
                    Some(self.judge_delay(edge_call, Some(duration), Some(target), &names))
                }
                None => self.delay_before(target, call.node, &names),
            };
            let body = self.facts.functions[target].node;
            found.push(Retry {
                node: edge_call,
                anchor: TextRange::of(edge_call),
                function: Some(target),
                kind: RetryKind::Reschedule { timer: timer_based },
                operations: vec![body],
                repeated: retried.clone(),
                retried,
                retry_edge: Some(TextRange::of(edge_call)),
                attempt: counters.into_iter().next(),
                cap: self.parameter_cap(target, &names),
                deadline: self.deadline(body, Some(target)),
                delay,
            });
        }
        found
    }

    /// Rust retries written as state machines: a `poll`/`poll_next` method that makes a remote call (usually in
    /// a future it stores) and, in a failure arm (`Poll::Ready(Err(_)) => …`), arms a sleep after which it polls
    /// a new attempt. The sleep is where the retry waits, so it is what is reported and judged (a stored delay
    /// field grown where it is re-armed counts as growth, as for timers).
    pub(super) fn poll_state_machines(&self) -> Vec<Retry<'t>> {
        if self.language != Language::Rust {
            return Vec::new();
        }
        let mut found = Vec::new();
        for (function, f) in self.facts.functions.iter().enumerate() {
            if !(f.name.ends_with("::poll") || f.name.ends_with("::poll_next")) {
                continue;
            }
            let retried = self.remote_calls_of(function);
            if retried.is_empty() {
                continue;
            }
            let range = f.range();
            let armed = self.facts.calls_within(range).find_map(|call| {
                if !call.function.is_some_and(|c| self.nested_in(c, function)) {
                    return None;
                }
                let duration = self.sleep_duration(call)?;
                self.in_failure_path(call.node, function)
                    .then_some((call.node, duration))
            });
            let Some((sleep, duration)) = armed else {
                continue;
            };
            let names = FxHashSet::default();
            found.push(Retry {
                node: sleep,
                anchor: TextRange::of(sleep),
                function: Some(function),
                kind: RetryKind::Reschedule { timer: true },
                operations: vec![f.node],
                repeated: retried.clone(),
                retried,
                retry_edge: Some(TextRange::of(sleep)),
                attempt: None,
                cap: None,
                deadline: None,
                delay: Some(self.judge_delay(sleep, duration, Some(function), &names)),
            });
        }
        found
    }

    /// When `call` restarts a function of the file: the function, the node to report (the recursive call or
    /// the timer), the delay argument of a timer, and whether a timer (or spawned task) runs it later.
    fn calls_itself_again(
        &self,
        index: usize,
        call: &Call<'t>,
    ) -> Option<(usize, Node<'t>, Option<Node<'t>>, bool)> {
        // A timer (kb `callback_arg`) or a spawned task runs the function again later.
        if let Some((callback_arg, delay_arg)) = crate::kb::timer(self.kb, self.language, call) {
            let callback = *call.args.get(callback_arg)?;
            let target = self.callback_target(callback)?;
            return Some((target, call.node, call.args.get(delay_arg).copied(), true));
        }
        if self.language == Language::Rust && crate::kb::is_free_task_spawn(self.kb, call) {
            let task = *call.args.first()?;
            // The calls inside the task, by a binary search (a scan of every call of the file per spawn was
            // quadratic).
            let target = self
                .facts
                .call_indexes_within(TextRange::of(task))
                .find_map(|i| self.effects.local_callee(i))?;
            let sleep = node::descendants(task).find_map(|d| {
                let inner = self.facts.call_of(d)?;
                self.sleep_duration(inner).flatten()
            });
            return Some((target, call.node, sleep, true));
        }
        let target = self.effects.local_callee(index)?;
        (call.function == Some(target) || self.nested_in(call.function?, target))
            .then_some((target, call.node, None, false))
    }

    /// The function of the file a timer's callback runs: an arrow/closure whose body calls it, a method value
    /// (`c.connect`, `this.connect.bind(this)`), or a function's name.
    fn callback_target(&self, callback: Node<'t>) -> Option<usize> {
        if node::function_kinds(self.language).contains(&callback.kind()) {
            return self
                .facts
                .call_indexes_within(TextRange::of(callback))
                .find_map(|i| self.effects.local_callee(i));
        }
        let written = self.text(callback);
        let written = written.strip_suffix(".bind(this)").unwrap_or(written);
        let name = dsr_core::kb::last_segment(written);
        self.facts.functions_named(name).find(|&f| {
            let function = &self.facts.functions[f].name;
            function == name
                || dsr_core::kb::last_segment(function) == name && written.contains('.')
        })
    }

    /// Whether function `inner` is `outer` or nested in it.
    fn nested_in(&self, inner: usize, outer: usize) -> bool {
        let mut current = Some(inner);
        while let Some(f) = current {
            if f == outer {
                return true;
            }
            current = self.facts.functions[f].parent;
        }
        false
    }

    /// The direct remote calls made in a function (or callbacks nested in it), by index into the calls; a
    /// call of the function itself does not count.
    fn remote_calls_of(&self, function: usize) -> Vec<usize> {
        let range = self.facts.functions[function].range();
        self.effects
            .calls_in_range(range)
            .filter(|i| {
                self.effects.remote(*i).is_some()
                    && self.effects.local_callee(*i) != Some(function)
                    && self.facts.calls[*i]
                        .function
                        .is_some_and(|f| self.nested_in(f, function))
            })
            .collect()
    }

    /// Whether `n` runs only when something failed: in a `catch`, a `.catch(…)` or error-event callback, a Go
    /// `if err != nil` branch, a Rust `Err(..)` arm or `if let Err(..)`.
    fn in_failure_path(&self, n: Node<'t>, function: usize) -> bool {
        let top = self.facts.functions[function].node;
        let mut child = n;
        for ancestor in self.ancestors(n) {
            if ancestor.id() == top.id() {
                return false;
            }
            match ancestor.kind() {
                "catch_clause" => return true,
                "if_statement" | "if_expression" => {
                    let in_consequence = ancestor
                        .child_by_field_name("consequence")
                        .is_some_and(|c| c.id() == child.id());
                    if in_consequence {
                        if let Some(condition) = ancestor.child_by_field_name("condition") {
                            if self.is_failure_condition(condition) {
                                return true;
                            }
                        }
                    }
                }
                // `Err(_)`, and a future's failed poll: `Poll::Ready(Err(_))`.
                "match_arm"
                    if ancestor
                        .child_by_field_name("pattern")
                        .is_some_and(|p| node::rust_pattern_is_err(p, self.source)) =>
                {
                    return true;
                }
                "arguments" => {
                    // `emitter.on("error", () => …)`, `promise.catch(() => …)`.
                    if let Some(call) = self.parent(ancestor).and_then(|c| self.facts.call_of(c)) {
                        let method = call.method.as_deref().unwrap_or("");
                        let event = call.string_arg(0, self.source, self.language);
                        if method == "catch"
                            || matches!(method, "on" | "once" | "addListener")
                                && event.as_deref().is_some_and(|e| {
                                    matches!(e, "error" | "close" | "end" | "disconnect")
                                })
                        {
                            return true;
                        }
                    }
                }
                _ => {}
            }
            child = ancestor;
        }
        false
    }

    /// Whether an `if` condition holds only on failure, read on its tree through parentheses, `&&`, `||` and
    /// Rust let chains: Go `x != nil` where `x` is an error by name (`err`, `dialErr`, a field `c.err`; not
    /// `errCount`), Rust `let Err(_) = …` (also `Result::Err`, nested as `Some(Err(_))`), `.is_err()` and
    /// `matches!(r, Err(..))`, TypeScript `err`/`error`/`e` and `x.error` truthiness and `!res.ok`. A string or
    /// comment that spells one of these is not one.
    fn is_failure_condition(&self, condition: Node<'t>) -> bool {
        let condition = node::strip_wrappers(condition, Wrappers::PARENS);
        let operator = || super::operator(condition, self.source);
        let sides = || {
            [
                condition.child_by_field_name("left"),
                condition.child_by_field_name("right"),
            ]
            .into_iter()
            .flatten()
        };
        let field = |name: &str| {
            condition
                .child_by_field_name(name)
                .map_or("", |f| self.text(f))
        };
        match (self.language, condition.kind()) {
            (_, "binary_expression") if matches!(operator(), "&&" | "||") => {
                sides().any(|side| self.is_failure_condition(side))
            }
            (Language::Go, "binary_expression") => {
                let is_error = |side: Node<'t>| match side.kind() {
                    "identifier" => is_error_name(self.text(side)),
                    "selector_expression" => side
                        .child_by_field_name("field")
                        .is_some_and(|f| is_error_name(self.text(f))),
                    _ => false,
                };
                operator() == "!="
                    && sides().any(|side| side.kind() == "nil")
                    && sides().any(is_error)
            }
            (Language::Rust, "let_chain") => {
                node::named_children(condition).any(|c| self.is_failure_condition(c))
            }
            (Language::Rust, "let_condition") => {
                condition.child_by_field_name("pattern").is_some_and(|p| {
                    node::descendants(p).any(|d| {
                        d.kind() == "tuple_struct_pattern"
                            && node::rust_variant(d, self.source) == Some("Err")
                    })
                })
            }
            (Language::Rust, "call_expression") => {
                let method = condition
                    .child_by_field_name("function")
                    .filter(|f| f.kind() == "field_expression")
                    .and_then(|f| f.child_by_field_name("field"));
                let no_arguments = condition
                    .child_by_field_name("arguments")
                    .is_some_and(|a| a.named_child_count() == 0);
                method.is_some_and(|m| self.text(m) == "is_err") && no_arguments
            }
            // `matches!(result, Err(_))`: the macro's tokens name the variant.
            (Language::Rust, "macro_invocation") => {
                field("macro") == "matches"
                    && node::named_children(condition)
                        .filter(|t| t.kind() == "token_tree")
                        .flat_map(node::named_children)
                        .any(|t| t.kind() == "identifier" && self.text(t) == "Err")
            }
            (Language::TypeScript | Language::Tsx, "identifier") => {
                matches!(self.text(condition), "err" | "error" | "e")
            }
            (Language::TypeScript | Language::Tsx, "member_expression") => {
                field("property") == "error"
            }
            // `!res.ok`: a response whose status is not a success.
            (Language::TypeScript | Language::Tsx, "unary_expression") => {
                operator() == "!"
                    && condition
                        .child_by_field_name("argument")
                        .map(|a| node::strip_wrappers(a, Wrappers::PARENS))
                        .is_some_and(|a| {
                            a.kind() == "member_expression"
                                && a.child_by_field_name("property")
                                    .is_some_and(|p| self.text(p) == "ok")
                        })
            }
            _ => false,
        }
    }

    /// Parameters of a function that count attempts (`attempt`, `retries`), passed on grown by the recursion.
    fn attempt_parameters(&self, function: usize) -> Vec<Counter> {
        self.facts.functions[function]
            .params
            .iter()
            .filter(|p| !p.name.is_empty() && is_attempt_name(&p.name))
            .map(|p| Counter {
                name: p.name.clone(),
                range: self.facts.functions[function].range(),
            })
            .collect()
    }

    /// A comparison of an attempt parameter (`if attempt >= max { return }`) in the function.
    fn parameter_cap(&self, function: usize, names: &FxHashSet<String>) -> Option<TextRange> {
        if names.is_empty() {
            return None;
        }
        let body = self.facts.functions[function].body?;
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        node::descendants(body)
            .find(|d| {
                self.is_comparison(*d) && node::mentions(*d, &names, self.source, Mention::Variable)
            })
            .map(TextRange::of)
    }

    /// A sleep before `edge` in the function's failure path, as the delay of a direct recursion.
    fn delay_before(
        &self,
        function: usize,
        edge: Node<'t>,
        counters: &FxHashSet<String>,
    ) -> Option<Delay<'t>> {
        self.facts
            .calls_in(function)
            .filter(|c| c.node.start_byte() < edge.start_byte())
            .filter(|c| self.in_failure_path(c.node, function))
            .find_map(|c| {
                let duration = self.sleep_duration(c)?;
                Some(self.judge_delay(c.node, duration, Some(function), counters))
            })
    }

    /// Backoff strategies: a function named for a delay or backoff (`backoffDelay(attempt)`, `retry_delay(n)`)
    /// that takes an attempt count and computes its result from it. It is judged as a retry with no remote call
    /// of its own — whether the delay grows, has a random part and is capped — on its own body only, so that its
    /// judgement does not depend on who calls it; a retry loop that waits on it defers to it
    /// ([`super::Retries::delay_from_strategy`]).
    pub(super) fn strategies(&self) -> Vec<Retry<'t>> {
        let mut found = Vec::new();
        for (index, function) in self.facts.functions.iter().enumerate() {
            let short = dsr_core::kb::last_segment(&function.name).to_ascii_lowercase();
            let named_for_delay = [
                "backoff",
                "delay",
                "retrywait",
                "retry_wait",
                "sleepfor",
                "waittime",
                "retryafter",
                "retry_after",
                "retryinterval",
                "retry_interval",
            ]
            .iter()
            .any(|w| short.contains(w));
            if !named_for_delay || short.starts_with("with") || short.starts_with("set") {
                continue;
            }
            let counters = self.attempt_parameters(index);
            let Some(counter) = counters.first() else {
                continue;
            };
            let Some(body) = function.body else {
                continue;
            };
            let names: FxHashSet<String> = counters.iter().map(|c| c.name.clone()).collect();
            let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
            if !node::mentions(body, &name_refs, self.source, Mention::Variable) {
                continue;
            }
            let delay = self.judge_delay(body, Some(body), Some(index), &names);
            found.push(Retry {
                node: function.node,
                anchor: TextRange::of(
                    function
                        .node
                        .child_by_field_name("name")
                        .unwrap_or(function.node),
                ),
                function: Some(index),
                kind: RetryKind::Strategy,
                operations: vec![body],
                retried: Vec::new(),
                repeated: Vec::new(),
                retry_edge: None,
                attempt: Some(counter.clone()),
                cap: self.delay_cap(body, &names),
                deadline: None,
                delay: Some(delay),
            });
        }
        found
    }

    /// `if d > limit { d = limit }`: a comparison whose branch assigns the compared name.
    fn clamps(&self, comparison: Node<'t>) -> bool {
        let Some(left) = comparison.child_by_field_name("left") else {
            return false;
        };
        let name = self.text(left);
        let Some(branch) = self
            .parent(comparison)
            .filter(|p| matches!(p.kind(), "if_statement" | "if_expression"))
            .and_then(|p| p.child_by_field_name("consequence"))
        else {
            return false;
        };
        self.facts
            .assignments_within(TextRange::of(branch))
            .any(|a| a.target == name)
    }

    /// Whether a delay computation is capped: `min(…)`, `Math.min`, `.min(`, `std::cmp::min`, a comparison
    /// against a maximum that clamps it, or a comparison of the attempt count itself (`if n > len(delays)`: a
    /// table of delays with a last entry).
    fn delay_cap(&self, body: Node<'t>, counters: &FxHashSet<String>) -> Option<TextRange> {
        let names: Vec<&str> = counters.iter().map(String::as_str).collect();
        node::descendants(body)
            .find(|d| {
                if let Some(call) = self.facts.call_of(*d) {
                    let callee = call.callee_text.as_str();
                    let last = dsr_core::kb::last_segment(callee);
                    return matches!(last, "min" | "Min" | "clamp");
                }
                if self.is_comparison(*d) {
                    let text = self.text(*d).to_ascii_lowercase();
                    return text.contains("max")
                        || text.contains("cap")
                        || text.contains("limit")
                        || self.clamps(*d)
                        || node::mentions(*d, &names, self.source, Mention::Variable);
                }
                false
            })
            .map(TextRange::of)
    }
}
