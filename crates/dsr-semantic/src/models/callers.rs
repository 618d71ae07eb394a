//! The callers a function has in its own file, and what each passes for one of its parameters.
//!
//! A wrapper that hands a parameter on unchanged (`function get(url, init) { return fetch(url, init) }`) leaves
//! the question "is this request bounded?" to its callers. When they are in the same file, the file answers it:
//! the options each call of the wrapper passes are judged like options written at the library call. The clients
//! model asks this ([`callers_passing`]); a function others may call from elsewhere ([`may_be_called_elsewhere`])
//! keeps its open question even when every caller of the file answers it.

use dsr_syntax::{node, Language};
use tree_sitter::Node;

use crate::facts::{Call, FileFacts};
use crate::models::messaging::syntax::same_file_function;

/// One call of a function of the file, with what it passes for the parameter asked about.
#[derive(Clone, Copy, Debug)]
pub struct CallerArgument<'t> {
    /// The call of the function.
    pub call: &'t Call<'t>,
    /// What it passes for the parameter; `None` when it passes nothing (an optional or defaulted parameter).
    pub argument: Option<Node<'t>>,
}

/// Every call of the file to `function` other than its own recursive ones, with the argument each passes at
/// parameter position `param`. A method counts when called through `this`/`self` from a method of the same type;
/// a plain function when called by its name.
pub fn callers_passing<'t>(
    facts: &'t FileFacts<'t>,
    source: &str,
    function: usize,
    param: usize,
) -> Vec<CallerArgument<'t>> {
    calls_of(facts, source, function)
        .into_iter()
        .map(|call| CallerArgument {
            call,
            argument: call.args.get(param).copied(),
        })
        .collect()
}

/// Every call of the file to `function` other than its own recursive ones: by name for a plain function,
/// through `this`/`self` from a method of the same type for a method.
pub fn calls_of<'t>(facts: &'t FileFacts<'t>, source: &str, function: usize) -> Vec<&'t Call<'t>> {
    let Some(target) = facts.functions.get(function) else {
        return Vec::new();
    };
    let owner = target.owner();
    // Only calls written with the function's last name can resolve to it (`same_file_function`).
    let last = dsr_core::kb::last_segment(&target.name);
    facts
        .calls_named(last)
        .filter(|call| {
            call.function
                .is_none_or(|f| facts.outermost_function(f) != facts.outermost_function(function))
        })
        // The written shape first, the resolution last: a common last name (`get`, `send`) brings many calls,
        // and resolving each of them per question grew with the file.
        .filter(|call| match (call.method.as_deref(), owner) {
            // `this.load(…)` from a method of the same class, `self.load(…)` in the same `impl`.
            (Some(_), Some(owner)) => {
                let receiver = call.receiver.map(|r| node::text(r, source));
                matches!(receiver, Some("this" | "self"))
                    && call
                        .function
                        .map(|f| facts.outermost_function(f))
                        .and_then(|f| facts.functions.get(f))
                        .and_then(|f| f.owner())
                        == Some(owner)
            }
            (None, None) => true,
            _ => false,
        })
        .filter(|call| same_file_function(facts, call) == Some(function))
        .collect()
}

/// The values a function returns: each `return`'s value and a Rust tail expression or a TypeScript arrow
/// function's expression body.
pub fn returned_values<'t>(facts: &FileFacts<'t>, function: usize) -> Vec<Node<'t>> {
    let Some(f) = facts.functions.get(function) else {
        return Vec::new();
    };
    let Some(body) = f.body else {
        return Vec::new();
    };
    if !matches!(body.kind(), "block" | "statement_block") {
        return vec![body];
    }
    let mut values: Vec<Node<'t>> = node::descendants(body)
        .filter(|n| matches!(n.kind(), "return_statement" | "return_expression"))
        .filter(|n| facts.function_at(n.start_byte()) == Some(function))
        .filter_map(|n| n.named_child(0))
        .collect();
    // Rust: the block's last expression, written without a semicolon.
    if facts.language == Language::Rust {
        let last = node::named_children(body)
            .filter(|n| !n.kind().contains("comment"))
            .last();
        if let Some(tail) = last.filter(|n| {
            let kind = n.kind();
            !(kind.ends_with("_statement")
                || kind.ends_with("_declaration")
                || kind.ends_with("_item"))
        }) {
            values.push(tail);
        }
    }
    values
}

/// Whether code outside the file may call `function`: a TypeScript function or `const` that is exported, a class
/// method that is not `private`, a Go name that starts with a capital, a Rust `pub fn`. Such a function's other
/// callers are not all in the file.
pub fn may_be_called_elsewhere(facts: &FileFacts<'_>, source: &str, function: usize) -> bool {
    let Some(f) = facts.functions.get(function) else {
        return true;
    };
    let declaration = f.node;
    match facts.language {
        Language::Go => {
            let name = f.name.rsplit('.').next().unwrap_or(&f.name);
            name.starts_with(|c: char| c.is_uppercase())
        }
        // `pub fn`, `pub(crate) fn`.
        Language::Rust => {
            node::named_children(declaration).any(|c| c.kind() == "visibility_modifier")
        }
        _ => {
            if declaration.kind() == "method_definition" {
                let private = node::named_children(declaration).any(|c| {
                    (c.kind() == "accessibility_modifier" && node::text(c, source) == "private")
                        || c.kind() == "private_property_identifier"
                });
                return !private;
            }
            // `export function f`, `export const f = (…) => …`, `export default function`.
            facts
                .ancestors(declaration)
                .any(|a| a.kind() == "export_statement")
        }
    }
}
