//! RES — failure handling and resilience.

pub mod http_client_without_timeout;
pub mod response_body_not_closed;
pub mod retry_without_backoff;
pub mod retry_without_jitter;
pub mod server_without_timeouts;
pub mod unbounded_retry;
pub mod wait_ignores_cancellation;

use dsr_core::{Confidence, TextRange};
use dsr_semantic::models::retry::{Judged, LibraryRetry, Retry};
use dsr_semantic::tree_sitter::Node;
use dsr_semantic::RuleContext;
use dsr_syntax::node;

use crate::shared::quote;

/// The options a library retry is given in the code, as written: the constructor's or retry call's arguments
/// other than the operation (`retry.Attempts(5)`), the builder methods chained on it (`.with_max_times(3)`), and
/// Go fields set on the variable holding it (`rc.RetryMax = 3`). A message that quotes the library's defaults
/// while the code sets its own would contradict the code, so the retry rules name these instead.
pub(crate) fn retry_options_passed(ctx: &RuleContext<'_>, call: Node<'_>) -> Vec<String> {
    let mut options = Vec::new();
    let is_operation = |n: Node<'_>| {
        matches!(
            n.kind(),
            "func_literal" | "closure_expression" | "arrow_function" | "function_expression"
        ) || n.kind() == "identifier"
    };
    if let Some(arguments) = call.child_by_field_name("arguments") {
        options.extend(
            node::named_children(arguments)
                .filter(|a| !is_operation(*a) && !a.kind().contains("comment"))
                .map(|a| ctx.node_text(a).to_string()),
        );
    }
    // Builder methods chained on the call: `ExponentialBuilder::default().with_max_times(3)`.
    let mut current = call;
    let facts = ctx.facts;
    while let Some(method) = facts
        .parent(current)
        .filter(|p| {
            matches!(
                p.kind(),
                "field_expression" | "member_expression" | "selector_expression"
            )
        })
        .and_then(|p| facts.parent(p))
        .filter(|c| c.kind() == "call_expression")
    {
        let name = method
            .child_by_field_name("function")
            .and_then(|f| {
                f.child_by_field_name("field")
                    .or_else(|| f.child_by_field_name("property"))
            })
            .map(|f| ctx.node_text(f))
            .unwrap_or("");
        let arguments = method
            .child_by_field_name("arguments")
            .map(|a| ctx.node_text(a))
            .unwrap_or("()");
        options.push(format!(".{name}{arguments}"));
        current = method;
    }
    // Go: `rc := retryablehttp.NewClient()` then `rc.RetryMax = 3`.
    let holder = facts
        .parent(current)
        .filter(|p| p.kind() == "expression_list")
        .and_then(|l| facts.parent(l))
        .filter(|s| matches!(s.kind(), "short_var_declaration" | "assignment_statement"));
    if let Some(statement) = holder {
        let variable = statement
            .child_by_field_name("left")
            .and_then(|l| node::named_children(l).next())
            .map(|v| ctx.node_text(v))
            .unwrap_or("");
        let function = facts
            .ancestors(statement)
            .find(|a| node::function_kinds(ctx.language).contains(&a.kind()));
        if let (false, Some(function)) = (variable.is_empty(), function) {
            options.extend(
                node::descendants(function)
                    .filter(|s| {
                        s.kind() == "assignment_statement" && s.start_byte() > statement.end_byte()
                    })
                    .filter(|s| {
                        s.child_by_field_name("left")
                            .and_then(|l| node::named_children(l).next())
                            .filter(|t| t.kind() == "selector_expression")
                            .and_then(|t| t.child_by_field_name("operand"))
                            .is_some_and(|o| ctx.node_text(o) == variable)
                    })
                    .map(|s| ctx.node_text(s).to_string()),
            );
        }
    }
    options
        .into_iter()
        .map(|o| format!("`{}`", quote(&o, 40)))
        .collect()
}

/// How a retry library's call is reported when one property (jitter, a limit) is missing: at the setting that
/// turned it off, with the knowledge base's note or `explicit(setting text)`, at High confidence; or, when the
/// library's default decides it and the whole configuration is visible here, at the call with `implicit(options)`
/// (the options passed, possibly none), at Medium confidence. `None` when the configuration is not all visible
/// (a backoff passed in as a parameter): the property may be set where the code does not show.
pub(crate) fn library_setting_site(
    ctx: &RuleContext<'_>,
    retry: &Retry<'_>,
    library: &LibraryRetry,
    judged: &Judged,
    explicit: impl FnOnce(&str) -> String,
    implicit: impl FnOnce(&[String]) -> String,
) -> Option<(TextRange, String, Confidence)> {
    match &judged.setting {
        Some((range, note)) => Some((
            *range,
            note.clone()
                .unwrap_or_else(|| explicit(&quote(ctx.text(*range), 40))),
            Confidence::High,
        )),
        None if library.config_visible => Some((
            retry.anchor,
            implicit(&retry_options_passed(ctx, retry.node)),
            Confidence::Medium,
        )),
        None => None,
    }
}

/// "`a`, `b` and 2 more": the options passed, short enough for a title.
pub(crate) fn list_options(options: &[String]) -> String {
    const SHOWN: usize = 3;
    let shown = options[..options.len().min(SHOWN)].join(", ");
    match options.len().saturating_sub(SHOWN) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}
