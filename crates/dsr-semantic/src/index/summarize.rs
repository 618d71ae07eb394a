//! Computing a file's [`FileSummary`] from its facts and the shared models (remote calls, locks, messaging,
//! stores, value flow) — never a second matcher.

use dsr_core::kb::{ApiRole, ApiTimeout};
use dsr_syntax::{node, Language, TextRange};

use super::summary::{
    Arg, CallSite, Effect, EffectSite, FileSummary, FunctionSummary, ParamSummary, TypeRef,
    TypeSummary,
};
use crate::facts::{bare_type, Call, FileFacts, ReceiverType, ANONYMOUS};
use crate::kb::KbMatch;
use crate::RuleContext;

impl FileSummary {
    /// The summary of the file `ctx` is over. `ctx` should have no workspace index (a summary says what the
    /// file itself shows, and the index propagates the rest), but its facts may bind receivers through the
    /// workspace's declarations (every file's summary, linked), so that a client declared in another file of
    /// the package is known for what it is.
    pub fn compute(ctx: &RuleContext<'_>) -> FileSummary {
        let facts = ctx.facts;
        let mut summary = FileSummary {
            language: Some(ctx.language),
            package: package_name(ctx),
            imports: facts
                .imports
                .iter()
                .map(|i| (i.local.clone(), i.path.clone()))
                .collect(),
            ..FileSummary::default()
        };
        if ctx.tree.is_none() {
            return summary;
        }
        let named: Vec<usize> = (0..facts.functions.len())
            .filter(|&f| facts.functions[f].name != ANONYMOUS)
            .collect();
        // Summary index of each named function of the file.
        let mut position = vec![None; facts.functions.len()];
        for (i, &f) in named.iter().enumerate() {
            position[f] = Some(i);
        }
        let grouped = Grouped::new(facts);
        let remote = ctx.remote_calls();
        // Locks and store accesses, by the function they are in, found once.
        let mut shared_sites: Vec<Vec<EffectSite>> = vec![Vec::new(); facts.functions.len()];
        lock_effects(ctx, &mut shared_sites);
        store_effects(ctx, &mut shared_sites);
        for &f in &named {
            let function = &facts.functions[f];
            let params: Vec<ParamSummary> = function
                .params
                .iter()
                .map(|p| ParamSummary {
                    name: p.name.clone(),
                    ty: type_ref(facts, &p.type_text),
                })
                .collect();
            let mut effects = Vec::new();
            if let Some(reached) = remote.function(f) {
                let at = &facts.calls[reached.write.as_ref().map_or(reached.call, |w| w.call)];
                effects.push(EffectSite {
                    effect: Effect::Remote {
                        kind: reached.kind,
                        method: reached.http_method.clone(),
                        mutation: reached.mutation.is_some(),
                        duplicate: reached.write.as_ref().map(|w| w.kind.clone()),
                        timeout_inside: sets_timeout(ctx, &grouped, f),
                    },
                    range: at.range(),
                });
            }
            if sets_timeout(ctx, &grouped, f) {
                effects.push(EffectSite {
                    effect: Effect::SetsTimeout,
                    range: TextRange::of(function.node),
                });
            }
            effects.append(&mut shared_sites[f]);
            parameter_effects(ctx, &grouped, f, &mut effects);
            let mut calls = Vec::new();
            for &index in &grouped.calls[f] {
                let call = &facts.calls[index];
                // Work the function starts without waiting for it (a closure it spawns or hands to a timer)
                // is not what a call of the function does.
                let spawn = is_spawn(facts, call);
                if !remote.counts_for(index, f) && !spawn {
                    continue;
                }
                if spawn {
                    effects.push(EffectSite {
                        effect: Effect::Spawn,
                        range: call.range(),
                    });
                    continue;
                }
                if let Some(api) = ctx.kb.call(facts, call) {
                    if api
                        .role
                        .is_some_and(|r| matches!(r, ApiRole::Ack | ApiRole::CommitOffset))
                    {
                        effects.push(EffectSite {
                            effect: Effect::Ack {
                                param: message_param(ctx, f, call, api.message_arg),
                            },
                            range: call.range(),
                        });
                    }
                    continue;
                }
                let local = remote
                    .local_callee(index)
                    .and_then(|c| position[outermost_named(facts, c)]);
                calls.push(CallSite {
                    // A method call resolves by its receiver and method; only a plain call needs its text (a
                    // chain's text repeats the whole chain at every link).
                    callee: if call.method.is_some() {
                        String::new()
                    } else {
                        call.callee_text.clone()
                    },
                    path: call.path.clone(),
                    method: call.method.clone(),
                    receiver: receiver_ref(facts, call),
                    local,
                    range: TextRange::of(call.callee),
                    args: args_of(ctx, &grouped, f, call),
                });
            }
            effects.dedup();
            summary.functions.push(FunctionSummary {
                name: function.name.clone(),
                range: function
                    .node
                    .child_by_field_name("name")
                    .map_or_else(|| TextRange::of(function.node), TextRange::of),
                params,
                returns: return_type(ctx, &grouped, f),
                effects,
                calls,
            });
        }
        declarations(ctx, &grouped, &mut summary);
        summary
    }

    /// What other files' receivers bind to, without what the functions do: signatures, types, re-exports and
    /// values. Linking these answers the questions a file asks of the workspace's declarations, at a fraction
    /// of the memory and none of the call resolution.
    pub fn declarations_only(&self) -> FileSummary {
        FileSummary {
            language: self.language,
            package: self.package.clone(),
            imports: self.imports.clone(),
            functions: self
                .functions
                .iter()
                .map(|f| FunctionSummary {
                    name: f.name.clone(),
                    range: f.range,
                    params: f.params.clone(),
                    returns: f.returns.clone(),
                    effects: Vec::new(),
                    calls: Vec::new(),
                })
                .collect(),
            types: self.types.clone(),
            reexports: self.reexports.clone(),
            values: self.values.clone(),
        }
    }

    /// The function of this file with this name (`Client.Charge`, `Gateway::capture`, `charge`).
    pub fn function(&self, name: &str) -> Option<usize> {
        self.functions.iter().position(|f| f.name == name)
    }
}

fn outermost_named(facts: &FileFacts<'_>, mut index: usize) -> usize {
    // The outermost function: closures count for the declaration they are in.
    while let Some(parent) = facts.functions[index].parent {
        index = parent;
    }
    index
}

fn package_name(ctx: &RuleContext<'_>) -> String {
    if ctx.language != Language::Go {
        return String::new();
    }
    ctx.facts
        .nodes_of_kind(&["package_clause"])
        .next()
        .and_then(|n| node::named_children(n).next())
        .map(|n| ctx.node_text(n).to_string())
        .unwrap_or_default()
}

/// A type as written, resolved through the file's imports (generic wrappers such as `Arc<…>` looked through).
pub(crate) fn type_ref(facts: &FileFacts<'_>, written: &str) -> TypeRef {
    let written = written.trim_start_matches(':').trim();
    let bare = bare_type(written);
    TypeRef {
        written: bare.to_string(),
        resolved: facts.resolve(bare),
        timeout: None,
    }
}

fn receiver_ref(facts: &FileFacts<'_>, call: &Call<'_>) -> Option<TypeRef> {
    call.receiver?;
    match facts.receiver_type(call) {
        // Resolution reads `written` only when nothing is resolved: one copy of the path per call is enough.
        ReceiverType::Resolved(path) => Some(TypeRef {
            written: String::new(),
            resolved: Some(path),
            timeout: None,
        }),
        ReceiverType::Written(name) => Some(TypeRef {
            written: name,
            resolved: None,
            timeout: None,
        }),
        ReceiverType::Unknown => None,
    }
}

fn return_type(ctx: &RuleContext<'_>, grouped: &Grouped<'_>, f: usize) -> Option<TypeRef> {
    let function = &ctx.facts.functions[f];
    let field = match ctx.language {
        Language::Go => "result",
        _ => "return_type",
    };
    let written = function.node.child_by_field_name(field).map(|r| {
        let text = crate::facts::compact(ctx.node_text(r));
        // Go `(*http.Client, error)` → the first result.
        let text = text.trim_start_matches('(').trim_end_matches(')');
        let first = text.split(',').next().unwrap_or(text);
        // TS `Promise<T>` and Rust `Result<T, E>` wrap what is made.
        first.trim_start_matches("->").to_string()
    });
    let mut ty = written.map(|w| type_ref(ctx.facts, &w));
    // The value returned: a client literal or constructor says whether a timeout is set.
    if let Some(built) = returned_value(ctx, grouped, f) {
        let timeout = Some(sets_timeout(ctx, grouped, f));
        match &mut ty {
            Some(t) if t.resolved.is_some() => t.timeout = timeout,
            _ => {
                ty = Some(TypeRef {
                    written: built.clone(),
                    resolved: Some(built),
                    timeout,
                })
            }
        }
    }
    ty
}

/// The library type or constructor (resolved) of what a function returns, when its return statements show it.
fn returned_value(ctx: &RuleContext<'_>, grouped: &Grouped<'_>, f: usize) -> Option<String> {
    let facts = ctx.facts;
    for &ret in &grouped.returns[f] {
        let Some(value) = node::named_children(ret).next() else {
            continue;
        };
        let value = if value.kind() == "expression_list" {
            node::named_children(value).next()?
        } else {
            value
        };
        let value = node::strip_wrappers(value, node::Wrappers::ALL);
        // `return client` with `client := &http.Client{…}` / a builder chain.
        let value = if value.kind() == "identifier" {
            facts
                .declared_value(Some(f), ctx.node_text(value), ret.start_byte())
                .map(|v| node::strip_wrappers(v, node::Wrappers::ALL))
                .unwrap_or(value)
        } else {
            value
        };
        if let Some(built) = grouped.built(facts, value) {
            return Some(built);
        }
    }
    None
}

/// Whether the function sets a timeout on what it builds or sends: a kb entry that sets one (`.timeout(…)`,
/// `context.WithTimeout`, `AbortSignal.timeout`), or a literal field naming one (`Timeout:`, `timeout:`).
fn sets_timeout(ctx: &RuleContext<'_>, grouped: &Grouped<'_>, f: usize) -> bool {
    let facts = ctx.facts;
    let by_call = grouped.calls[f]
        .iter()
        .any(|&i| call_sets_timeout(ctx, &facts.calls[i]));
    by_call
        || grouped.literals[f]
            .iter()
            .any(|&l| literal_sets_timeout(&facts.literals[l]))
        || grouped.assignments[f]
            .iter()
            .any(|&a| facts.assignments[a].target.rsplit('.').next() == Some("Timeout"))
}

/// A call that sets a timeout on what it makes: a context with a deadline, an abort signal that times out, a kb
/// entry that sets one (`.timeout(…)` on a builder).
fn call_sets_timeout(ctx: &RuleContext<'_>, call: &Call<'_>) -> bool {
    call.path.as_deref().is_some_and(|p| {
        p.ends_with("context.WithTimeout")
            || p.ends_with("context.WithDeadline")
            || p == "AbortSignal.timeout"
    }) || ctx
        .kb
        .candidates(ctx.facts, call)
        .any(|api| api.timeout == Some(ApiTimeout::Set))
}

/// A literal with a `timeout` field (`Timeout:` in Go, `timeout:` in TS options).
fn literal_sets_timeout(literal: &crate::facts::Literal<'_>) -> bool {
    literal
        .fields
        .iter()
        .any(|field| field.name.eq_ignore_ascii_case("timeout"))
}

/// Distributed locks taken and released, by the function each call is in.
fn lock_effects(ctx: &RuleContext<'_>, sites: &mut [Vec<EffectSite>]) {
    let facts = ctx.facts;
    let owner = |call: usize| {
        facts
            .calls
            .get(call)
            .and_then(|c| c.function)
            .map(|c| outermost_named(facts, c))
    };
    for acquisition in &ctx.locks().acquisitions {
        let key = acquisition
            .key
            .map(|k| crate::models::locks::key_text(ctx.source, ctx.language, k));
        let expires = acquisition.expiry != crate::models::locks::Expiry::None
            || acquisition.expire.is_some();
        let taken = std::iter::once((acquisition.call, true));
        let released = acquisition.releases.iter().map(|r| (r.call, false));
        for (call, acquire) in taken.chain(released) {
            if let Some(f) = owner(call) {
                sites[f].push(EffectSite {
                    effect: Effect::Lock {
                        acquire,
                        key: key.clone(),
                        expires,
                    },
                    range: facts.calls[call].range(),
                });
            }
        }
    }
}

/// Shared-store reads and writes, by the function each is in.
fn store_effects(ctx: &RuleContext<'_>, sites: &mut [Vec<EffectSite>]) {
    let facts = ctx.facts;
    for access in &ctx.store_accesses().accesses {
        let Some(f) = access.function.map(|c| outermost_named(facts, c)) else {
            continue;
        };
        sites[f].push(EffectSite {
            effect: Effect::Store {
                write: !access.access.is_read(),
                target: access.target.describe(),
            },
            range: TextRange::of(access.node),
        });
    }
}

/// The file's calls, literals, assignments and return statements by the function they belong to, found once:
/// asking per function would scan the whole file for each, quadratic in a large file.
struct Grouped<'t> {
    /// By the outermost function (a closure's calls count for the declaration it is in).
    calls: Vec<Vec<usize>>,
    literals: Vec<Vec<usize>>,
    /// By the innermost function.
    assignments: Vec<Vec<usize>>,
    returns: Vec<Vec<tree_sitter::Node<'t>>>,
    call_by_node: rustc_hash::FxHashMap<usize, usize>,
    literal_by_node: rustc_hash::FxHashMap<usize, usize>,
}

impl<'t> Grouped<'t> {
    fn new(facts: &FileFacts<'t>) -> Self {
        let count = facts.functions.len();
        let mut grouped = Grouped {
            calls: vec![Vec::new(); count],
            literals: vec![Vec::new(); count],
            assignments: vec![Vec::new(); count],
            returns: vec![Vec::new(); count],
            call_by_node: rustc_hash::FxHashMap::default(),
            literal_by_node: rustc_hash::FxHashMap::default(),
        };
        for (i, call) in facts.calls.iter().enumerate() {
            grouped.call_by_node.insert(call.node.id(), i);
            if let Some(f) = call.function {
                grouped.calls[outermost_named(facts, f)].push(i);
            }
        }
        for (i, literal) in facts.literals.iter().enumerate() {
            grouped.literal_by_node.insert(literal.node.id(), i);
            if let Some(f) = literal.function {
                grouped.literals[outermost_named(facts, f)].push(i);
            }
        }
        for (i, assignment) in facts.assignments.iter().enumerate() {
            if let Some(f) = assignment.function {
                grouped.assignments[f].push(i);
            }
        }
        for ret in facts.nodes_of_kind(&["return_statement", "return_expression"]) {
            if let Some(f) = facts.function_at(ret.start_byte()) {
                grouped.returns[f].push(ret);
            }
        }
        grouped
    }

    /// The library type or constructor a value is made by: a literal's type, a constructor's path.
    fn built(&self, facts: &FileFacts<'t>, value: tree_sitter::Node<'t>) -> Option<String> {
        if let Some(&l) = self.literal_by_node.get(&value.id()) {
            if let Some(path) = &facts.literals[l].type_path {
                return Some(path.clone());
            }
        }
        let &c = self.call_by_node.get(&value.id())?;
        built_by(facts, &facts.calls[c])
    }
}

/// What the function does with its parameters: closes a response body it is given, passes on the context
/// or abort signal it receives.
fn parameter_effects(
    ctx: &RuleContext<'_>,
    grouped: &Grouped<'_>,
    f: usize,
    effects: &mut Vec<EffectSite>,
) {
    let facts = ctx.facts;
    let calls_in = || grouped.calls[f].iter().map(|&i| &facts.calls[i]);
    let function = &facts.functions[f];
    for (index, param) in function.params.iter().enumerate() {
        if param.name.is_empty() || param.name == "_" {
            continue;
        }
        // `resp.Body.Close()`, `body.Close()`, `io.Copy(io.Discard, resp.Body)` then close.
        let closes = calls_in().find(|call| {
            call.method.as_deref() == Some("Close")
                && call.receiver.is_some_and(|r| {
                    let text = crate::facts::compact(ctx.node_text(r));
                    text == param.name || text == format!("{}.Body", param.name)
                })
        });
        if let Some(call) = closes {
            effects.push(EffectSite {
                effect: Effect::ClosesBody { param: index },
                range: call.range(),
            });
        }
    }
    let context = facts.context_source(f, ctx.source);
    // A fresh context only drops a caller's deadline where the function does work a deadline would stop: it
    // reaches a remote system. A supervisor's own cancellation root (`context.WithCancel(context.Background())`
    // stored for `Wait(ctx)`), a local compile or a drain after cancel does not (issue 13, seed 21 sample).
    if context.is_none() && ctx.language == Language::Go && ctx.remote_calls().function(f).is_some()
    {
        let fresh = calls_in().find(|call| {
            call.args.iter().any(|a| {
                matches!(
                    facts.go_context_deadline(*a, ctx.source),
                    crate::facts::ContextDeadline::Absent(_)
                )
            })
        });
        if let Some(call) = fresh {
            effects.push(EffectSite {
                effect: Effect::DropsCtx,
                range: call.range(),
            });
        }
    }
    if let Some(source) = context.filter(|s| s.function == f) {
        let names = [source.param.as_str()];
        let passes = calls_in().find(|call| {
            call.args
                .iter()
                .any(|a| node::mentions(*a, &names, ctx.source, node::Mention::VariableOrField))
        });
        if let (Some(call), Some(param)) = (
            passes,
            function.params.iter().position(|p| p.name == source.param),
        ) {
            effects.push(EffectSite {
                effect: Effect::PropagatesCtx { param },
                range: call.range(),
            });
        }
    }
}

fn message_param(
    ctx: &RuleContext<'_>,
    f: usize,
    call: &Call<'_>,
    message_arg: Option<usize>,
) -> Option<usize> {
    let message = match message_arg {
        Some(i) => call.args.get(i).copied(),
        None => call.receiver,
    }?;
    let text = ctx.node_text(node::strip_wrappers(message, node::Wrappers::ALL));
    ctx.facts.functions[f]
        .params
        .iter()
        .position(|p| p.name == text)
}

/// What each argument of a call is, up to the last one that is not [`Arg::Other`] (an argument past the end
/// reads as `Other`): most calls pass nothing a callee's effects care about, and keep no list.
fn args_of<'t>(
    ctx: &RuleContext<'t>,
    grouped: &Grouped<'t>,
    f: usize,
    call: &Call<'t>,
) -> Vec<Arg> {
    let mut args: Vec<Arg> = call
        .args
        .iter()
        .map(|a| arg_of(ctx, grouped, f, *a))
        .collect();
    while args.last() == Some(&Arg::Other) {
        args.pop();
    }
    args.shrink_to_fit();
    args
}

fn arg_of<'t>(
    ctx: &RuleContext<'t>,
    grouped: &Grouped<'t>,
    f: usize,
    arg: tree_sitter::Node<'t>,
) -> Arg {
    let inner = node::strip_wrappers(arg, node::Wrappers::ALL);
    let text = crate::facts::compact(ctx.node_text(inner));
    if let Some(index) = ctx.facts.functions[f]
        .params
        .iter()
        .position(|p| p.name == text)
    {
        return Arg::Param(index);
    }
    if ctx.language == Language::Go {
        match ctx.facts.go_context_deadline(inner, ctx.source) {
            crate::facts::ContextDeadline::Absent(_) => return Arg::FreshContext,
            crate::facts::ContextDeadline::Set(_) => return Arg::Bounded,
            _ => {}
        }
    }
    if bounds_time(ctx, grouped, f, inner) {
        return Arg::Bounded;
    }
    Arg::Other
}

/// Whether a value passed to a callee bounds how long it waits, as the caller's code shows it: made (directly
/// or through a local of the function) by a call that sets a timeout, or a literal with a `timeout` field.
/// Functions and closures passed on are code, not values: what they contain says nothing of the argument.
fn bounds_time<'t>(
    ctx: &RuleContext<'t>,
    grouped: &Grouped<'t>,
    f: usize,
    value: tree_sitter::Node<'t>,
) -> bool {
    let facts = ctx.facts;
    let value = match value.kind() {
        "identifier" => {
            match facts.declared_value(Some(f), ctx.node_text(value), value.start_byte()) {
                Some(declared) => node::strip_wrappers(declared, node::Wrappers::ALL),
                None => return false,
            }
        }
        // Literals of text and numbers bound nothing; most arguments are these.
        "interpreted_string_literal"
        | "raw_string_literal"
        | "string_literal"
        | "string"
        | "template_string"
        | "int_literal"
        | "integer_literal"
        | "number"
        | "true"
        | "false"
        | "nil"
        | "null"
        | "undefined" => return false,
        _ => value,
    };
    if matches!(
        value.kind(),
        "func_literal"
            | "closure_expression"
            | "arrow_function"
            | "function_expression"
            | "function"
    ) {
        return false;
    }
    let range = TextRange::of(value);
    let outer = outermost_named(facts, f);
    facts
        .calls_within(range)
        .any(|call| call_sets_timeout(ctx, call))
        || grouped.literals[outer].iter().any(|&l| {
            let literal = &facts.literals[l];
            range.contains_range(TextRange::of(literal.node)) && literal_sets_timeout(literal)
        })
}

fn is_spawn(facts: &FileFacts<'_>, call: &Call<'_>) -> bool {
    // The facts' record of parents: tree-sitter's `Node::parent` descends from the root.
    facts
        .parent(call.node)
        .is_some_and(|p| p.kind() == "go_statement")
        || call
            .path
            .as_deref()
            .is_some_and(|p| p.ends_with("::spawn") || p.ends_with("::spawn_blocking"))
        || (facts.language == Language::Rust && call.callee_text == "tokio::spawn")
}

/// Types (fields, aliases), re-exports and top-level values of the file.
fn declarations(ctx: &RuleContext<'_>, grouped: &Grouped<'_>, summary: &mut FileSummary) {
    let facts = ctx.facts;
    let kinds: &[&str] = match ctx.language {
        Language::Go => &["type_spec", "type_alias"],
        Language::Rust => &["struct_item", "type_item", "use_declaration"],
        _ => &[
            "class_declaration",
            "abstract_class_declaration",
            "interface_declaration",
            "type_alias_declaration",
            "export_statement",
        ],
    };
    for n in facts.nodes_of_kind(kinds) {
        // Only top-level declarations are visible to other files.
        if facts.function_at(n.start_byte()).is_some() {
            continue;
        }
        match n.kind() {
            "type_spec"
            | "type_alias"
            | "struct_item"
            | "type_item"
            | "class_declaration"
            | "abstract_class_declaration"
            | "interface_declaration"
            | "type_alias_declaration" => {
                let Some(name) = n.child_by_field_name("name") else {
                    continue;
                };
                let name = ctx.node_text(name).to_string();
                let mut ty = TypeSummary {
                    name,
                    ..TypeSummary::default()
                };
                let target = n
                    .child_by_field_name("type")
                    .or_else(|| n.child_by_field_name("value"));
                let is_alias = matches!(
                    n.kind(),
                    "type_alias" | "type_item" | "type_alias_declaration"
                ) || target.is_some_and(|t| {
                    !matches!(t.kind(), "struct_type" | "interface_type" | "object_type")
                });
                if is_alias {
                    if let Some(target) = target {
                        ty.alias_of = Some(type_ref(
                            facts,
                            &crate::facts::compact(ctx.node_text(target)),
                        ));
                    }
                }
                // Fields, and TS parameter properties (`constructor(private readonly redis: Redis)`).
                let members = node::descendants(n).filter_map(|d| match d.kind() {
                    "field_declaration" | "public_field_definition" | "property_signature" => {
                        Some((d, "name"))
                    }
                    "required_parameter" | "optional_parameter"
                        if node::named_children(d)
                            .any(|c| c.kind() == "accessibility_modifier") =>
                    {
                        Some((d, "pattern"))
                    }
                    _ => None,
                });
                for (member, name_field) in members {
                    let (Some(name), Some(t)) = (
                        member.child_by_field_name(name_field),
                        member.child_by_field_name("type"),
                    ) else {
                        continue;
                    };
                    let written = crate::facts::compact(ctx.node_text(t));
                    ty.fields
                        .push((ctx.node_text(name).to_string(), type_ref(facts, &written)));
                }
                summary.types.push(ty);
            }
            // `pub use crate::x::Y;` — the imports of the file already hold the path.
            "use_declaration" => {
                let public = node::named_children(n).any(|c| c.kind() == "visibility_modifier");
                if !public {
                    continue;
                }
                let range = TextRange::of(n);
                for import in facts.imports.iter().filter(|i| i.range == range) {
                    summary.reexports.push((
                        import.local.clone(),
                        TypeRef {
                            written: import.path.clone(),
                            resolved: Some(import.path.clone()),
                            timeout: None,
                        },
                    ));
                }
            }
            // `export { Y } from "./x"`, `export { Y as Z } from "x"`.
            "export_statement" => {
                let Some(module) = n
                    .child_by_field_name("source")
                    .and_then(|s| node::string_literal_value(s, ctx.source, ctx.language))
                else {
                    continue;
                };
                for specifier in node::descendants(n).filter(|d| d.kind() == "export_specifier") {
                    let Some(name) = specifier.child_by_field_name("name") else {
                        continue;
                    };
                    let name = ctx.node_text(name).to_string();
                    let local = specifier
                        .child_by_field_name("alias")
                        .map_or_else(|| name.clone(), |a| ctx.node_text(a).to_string());
                    let path = if name == "default" {
                        module.clone()
                    } else {
                        format!("{module}.{name}")
                    };
                    summary.reexports.push((
                        local,
                        TypeRef {
                            written: path.clone(),
                            resolved: Some(path),
                            timeout: None,
                        },
                    ));
                }
            }
            _ => {}
        }
    }
    // Top-level values: `var Client = &http.Client{…}`, `export const api = axios.create({ timeout })`,
    // `static CLIENT: …`.
    for assignment in facts.assignments_in(None).filter(|a| a.declares) {
        let Some(value) = assignment.value else {
            continue;
        };
        let value = node::strip_wrappers(value, node::Wrappers::ALL);
        let Some(built) = grouped.built(facts, value) else {
            continue;
        };
        // Top-level items are few and those made by a constructor fewer: a scan each is fine.
        let range = TextRange::of(value);
        let timeout = facts
            .literals
            .iter()
            .filter(|l| l.function.is_none() && range.contains_range(TextRange::of(l.node)))
            .any(literal_sets_timeout)
            || facts
                .calls
                .iter()
                .filter(|c| c.function.is_none() && range.contains_range(c.range()))
                .any(|c| call_sets_timeout(ctx, c));
        summary.values.push((
            assignment.target.clone(),
            TypeRef {
                written: built.clone(),
                resolved: Some(built),
                timeout: Some(timeout),
            },
        ));
    }
}

/// The library constructor a value made by `call` comes from: the call's own path (`axios.create`,
/// `net/http.NewRequest`) or the path of the call its builder chain starts with
/// (`reqwest::Client::builder` for `reqwest::Client::builder().timeout(t).build()`).
fn built_by(facts: &FileFacts<'_>, call: &Call<'_>) -> Option<String> {
    if let Some(path) = &call.path {
        return Some(path.clone());
    }
    let root = facts.chain_root(call.node);
    facts
        .calls
        .iter()
        .find(|c| c.node == root)
        .and_then(|c| c.path.clone())
}
