//! The rule catalog. One rule per file under `src/<family>/`, its doc comment the rule's documentation page;
//! fixtures in `tests/fixtures/<CODE>/`. [`registry`] is the one table of codes.

pub mod backpressure;
pub mod coordination;
pub mod docs;
pub mod observability;
pub mod operations;
pub mod resilience;
pub mod shared;
pub mod sql;

use dsr_core::suppression::{SuppressionWithoutReason, UnusedSuppression};
use dsr_core::{Finding, Rule, RuleContext, RuleMeta};

/// Every rule, in code order. Codes are never reused: a removed rule keeps its row as deprecated.
pub fn registry() -> &'static [&'static dyn Rule] {
    &[
        &resilience::http_client_without_timeout::HttpClientWithoutTimeout,
        &resilience::server_without_timeouts::ServerWithoutTimeouts,
        &backpressure::unbounded_channel::UnboundedChannel,
        &coordination::lock_without_ttl::LockWithoutTtl,
        &observability::context_not_propagated::ContextNotPropagated,
        &operations::unsafe_migration::UnsafeMigration,
        &MetaRule(&UnusedSuppression::META),
        &MetaRule(&SuppressionWithoutReason::META),
    ]
}

/// Looks a rule up by code (case-insensitive) or slug.
pub fn find(code_or_slug: &str) -> Option<&'static dyn Rule> {
    registry().iter().copied().find(|rule| {
        let meta = rule.meta();
        meta.code.eq_ignore_ascii_case(code_or_slug) || meta.slug == code_or_slug
    })
}

/// The rule codes, for configuration validation.
pub fn codes() -> Vec<&'static str> {
    registry().iter().map(|rule| rule.meta().code).collect()
}

/// Rules whose findings the engine produces itself (suppression bookkeeping): their `check` does nothing.
struct MetaRule(&'static RuleMeta);

impl Rule for MetaRule {
    fn meta(&self) -> &'static RuleMeta {
        self.0
    }

    fn check(&self, _: &RuleContext<'_>, _: &mut Vec<Finding>) {}
}
