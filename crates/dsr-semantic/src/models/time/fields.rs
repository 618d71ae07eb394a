//! Wall-clock readings kept in a field of a type, or in a map kept in one, by one method and compared by another
//! method of the same type: a heartbeat's `lastSeen`, a lease's `renewed_at`, a cache's per-key `seen[key]`.
//!
//! A store is an assignment to `this.f`, `self.f` or a Go receiver's `r.f` (or to an element of it: `r.f[k]`),
//! a map insert into such a field (`this.f.set(k, v)`, `self.f.insert(k, v)`), a Rust `Self { f: v }` or a
//! TypeScript class field initializer. A read is the same field, element, or map lookup (`this.f.get(k) ?? 0`,
//! `self.f.get(&k).copied()`), directly or through one local. The type is what the method belongs to (the
//! receiver's type, the `impl` type, the class), so a field of the same name on another type does not pair.

use dsr_core::kb::CallKinds;
use dsr_syntax::{node, Language};
use tree_sitter::Node;

use super::Builder;

/// How many steps (wrappers, one local) a field read is followed through.
const MAX_STEPS: usize = 8;

impl<'t> Builder<'_, 't, '_> {
    /// The type whose method (or class body) holds `n`, and the method's index when it is one.
    fn owner_at(&self, n: Node<'t>) -> Option<(String, Option<usize>)> {
        let mut current = self.facts.function_at(n.start_byte());
        while let Some(index) = current {
            let function = self.facts.functions.get(index)?;
            if let Some(owner) = function.owner().filter(|o| !o.is_empty()) {
                return Some((
                    owner.split('<').next().unwrap_or(owner).to_string(),
                    Some(index),
                ));
            }
            current = function.parent;
        }
        // A TypeScript class field initializer belongs to no method, only to its class.
        if self.language().is_typescript() {
            let class = self.facts.ancestors(n).find(|a| {
                matches!(
                    a.kind(),
                    "class_declaration" | "class" | "abstract_class_declaration"
                )
            })?;
            let name = class.child_by_field_name("name")?;
            return Some((self.text(name).to_string(), None));
        }
        None
    }

    /// How a method names the value it is called on: `this`, `self`, or a Go receiver's parameter name.
    fn receiver_name(&self, method: Option<usize>) -> Option<String> {
        match self.language() {
            Language::Rust => Some("self".to_string()),
            Language::Go => {
                let function = self.facts.functions.get(method?)?;
                let receiver = function.node.child_by_field_name("receiver")?;
                let parameter = node::named_children(receiver).next()?;
                let name = parameter.child_by_field_name("name")?;
                Some(self.text(name).to_string())
            }
            _ => Some("this".to_string()),
        }
    }

    /// The field of the enclosing type that `n` reads or names, with the type: `this.f`, `self.f`, `r.f[k]`,
    /// `this.f.get(k) ?? 0`, `self.f.get(&k).copied()`, or a local holding one of them.
    pub(super) fn receiver_field(&self, n: Node<'t>) -> Option<(String, String)> {
        let (owner, method) = self.owner_at(n)?;
        let receiver = self.receiver_name(method)?;
        let field = self.field_of(n, &receiver, 0)?;
        Some((owner, field))
    }

    fn field_of(&self, n: Node<'t>, receiver: &str, steps: usize) -> Option<String> {
        if steps > MAX_STEPS {
            return None;
        }
        let next = |inner: Node<'t>| self.field_of(inner, receiver, steps + 1);
        match n.kind() {
            "selector_expression" | "field_expression" | "member_expression" => {
                let object = n
                    .child_by_field_name("operand")
                    .or_else(|| n.child_by_field_name("value"))
                    .or_else(|| n.child_by_field_name("object"))?;
                let field = n
                    .child_by_field_name("field")
                    .or_else(|| n.child_by_field_name("property"))?;
                (self.text(object) == receiver).then(|| self.text(field).to_string())
            }
            "index_expression" | "subscript_expression" => {
                let object = n
                    .child_by_field_name("operand")
                    .or_else(|| n.child_by_field_name("object"))?;
                next(object)
            }
            "call_expression" => {
                let call = self.call_at(n)?;
                let read = call.method.as_deref().is_some_and(|m| {
                    CallKinds::builtin()
                        .collections
                        .value_reads
                        .iter()
                        .any(|r| r == m)
                });
                if !read {
                    return None;
                }
                next(call.receiver?)
            }
            "binary_expression" => {
                // `this.seen.get(id) ?? 0`: the stored value, or a default when there is none.
                let operator = super::binary_operator(n, self.source);
                if !matches!(operator, "??" | "||") {
                    return None;
                }
                next(n.child_by_field_name("left")?)
            }
            "parenthesized_expression"
            | "unary_expression"
            | "reference_expression"
            | "non_null_expression"
            | "as_expression"
            | "try_expression"
            | "type_cast_expression" => {
                let inner = n
                    .child_by_field_name("value")
                    .or_else(|| n.child_by_field_name("argument"))
                    .or_else(|| n.child_by_field_name("operand"))
                    .or_else(|| n.named_child(0))?;
                next(inner)
            }
            // A local of the method holding the field's value (`const last = this.seen.get(id) ?? 0`).
            "identifier" => {
                let name = self.text(n);
                let function = self.facts.function_at(n.start_byte());
                function?;
                next(self.facts.declared_value(function, name, n.start_byte())?)
            }
            _ => None,
        }
    }

    /// Records where reading `index` is stored, when `value` (whose parent is `parent`) goes into a field of the
    /// enclosing type: `this.f = v`, `r.f[k] = v`, `self.f.insert(k, v)`, `Self { f: v }`, `f = v` in a class.
    /// `dropped` says whether the stored value has lost Go's monotonic reading.
    pub(super) fn record_field_store(
        &self,
        index: usize,
        dropped: bool,
        value: Node<'t>,
        parent: Node<'t>,
    ) {
        let Some(key) = self.stored_into(value, parent) else {
            return;
        };
        let mut stores = self.field_stores.borrow_mut();
        let readings = stores.entry(key).or_default();
        if !readings.iter().any(|(i, _)| *i == index) {
            readings.push((index, dropped));
        }
    }

    fn stored_into(&self, value: Node<'t>, parent: Node<'t>) -> Option<(String, String)> {
        match parent.kind() {
            // Go `r.f = v`, `r.f[k] = v`.
            "expression_list" => {
                self.receiver_field(super::go_assigned_target(self.facts, parent, value)?)
            }
            "assignment_expression" => {
                if parent.child_by_field_name("right")?.id() != value.id() {
                    return None;
                }
                self.receiver_field(parent.child_by_field_name("left")?)
            }
            // `this.f.set(k, v)`, `self.f.insert(k, v)`: a map kept in a field.
            "argument_list" | "arguments" => {
                let call = self.call_at(self.facts.parent(parent)?)?;
                let inserts = call.method.as_deref().is_some_and(|m| {
                    CallKinds::builtin()
                        .collections
                        .map_inserts
                        .iter()
                        .any(|i| i == m)
                });
                if !inserts || call.args.last().is_none_or(|a| a.id() != value.id()) {
                    return None;
                }
                self.receiver_field(call.receiver?)
            }
            // Rust `Self { renewed_at: SystemTime::now(), .. }` inside the type's `impl`.
            "field_initializer" => {
                let structure = parent.parent()?.parent()?;
                let name = structure.child_by_field_name("name")?;
                let (owner, _) = self.owner_at(parent)?;
                let named = self.text(name);
                (named == "Self" || named.split('<').next() == Some(owner.as_str()))
                    .then(|| parent.child_by_field_name("field"))
                    .flatten()
                    .map(|field| (owner, self.text(field).to_string()))
            }
            // TypeScript `private lastSeen = Date.now();` in a class body.
            "public_field_definition" | "field_definition" => {
                if parent.child_by_field_name("value")?.id() != value.id() {
                    return None;
                }
                let name = parent
                    .child_by_field_name("name")
                    .or_else(|| parent.child_by_field_name("property"))?;
                let (owner, _) = self.owner_at(parent)?;
                Some((owner, self.text(name).to_string()))
            }
            _ => None,
        }
    }

    /// The reading stored (by the first pass) in the field of the enclosing type that `n` reads, with whether
    /// the stored value has lost Go's monotonic reading, and the field.
    pub(super) fn stored_reading(&self, n: Node<'t>) -> Option<(usize, bool, String)> {
        if self.stored_fields.is_empty() {
            return None;
        }
        let key = self.receiver_field(n)?;
        let (index, dropped) = *self.stored_fields.get(&key)?.first()?;
        Some((index, dropped, key.1))
    }

    /// Rust `self.renewed_at.elapsed()` on a field that holds a `SystemTime` reading: elapsed time measured with
    /// the wall clock, recorded as a use of the stored reading.
    pub(super) fn stored_elapsed(&mut self) {
        if self.language() != Language::Rust {
            return;
        }
        let mut found = Vec::new();
        for call in &self.facts.calls {
            if call.method.as_deref() != Some("elapsed") || !call.args.is_empty() {
                continue;
            }
            let Some(receiver) = call.receiver else {
                continue;
            };
            let Some((index, _, field)) = self.stored_reading(receiver) else {
                continue;
            };
            found.push((index, call.node, self.is_compared(call.node), field));
        }
        for (index, site, compared, field) in found {
            if let Some(reading) = self.readings.get_mut(index) {
                reading.uses.push(super::ClockUse {
                    site,
                    kind: super::ClockUseKind::Elapsed {
                        form: super::ElapsedForm::Elapsed,
                        others: Vec::new(),
                        compared,
                        through_field: Some(field),
                    },
                });
            }
        }
    }
}
