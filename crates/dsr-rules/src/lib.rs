//! The rule catalog. One rule per file under `src/<family>/`, its doc comment the rule's documentation page;
//! fixtures in `tests/fixtures/<CODE>/`. [`registry`] is the one table of codes.

pub mod api;
pub mod backpressure;
pub mod consistency;
pub mod coordination;
pub mod delivery;
pub mod docs;
pub mod observability;
pub mod operations;
pub mod ordering;
pub mod resilience;
pub mod shared;
pub use dsr_semantic::sql;
use dsr_semantic::DynRule;
pub mod state;

use dsr_core::suppression::{SuppressionWithoutReason, UnusedSuppression};
use dsr_core::{Finding, Rule, RuleMeta};
use dsr_semantic::RuleContext;

/// Every rule, in code order. Codes are never reused: a removed rule keeps its row as deprecated.
pub fn registry() -> &'static [&'static DynRule] {
    &[
        &api::offset_pagination::OffsetPagination,
        &api::missing_health_endpoint::MissingHealthEndpoint,
        &backpressure::unbounded_channel::UnboundedChannel,
        &backpressure::unbounded_concurrency::UnboundedConcurrency,
        &backpressure::remote_call_in_loop::RemoteCallInLoop,
        &backpressure::unbounded_body_read::UnboundedBodyRead,
        &consistency::read_modify_write_race::ReadModifyWriteRace,
        &delivery::non_idempotent_retry::NonIdempotentRetry,
        &delivery::ack_before_process::AckBeforeProcess,
        &delivery::dual_write_without_outbox::DualWriteWithoutOutbox,
        &delivery::transaction_not_rolled_back::TransactionNotRolledBack,
        &MetaRule(&UnusedSuppression::META),
        &MetaRule(&SuppressionWithoutReason::META),
        &coordination::lock_without_ttl::LockWithoutTtl,
        &coordination::unsafe_lock_release::UnsafeLockRelease,
        &coordination::lock_without_fencing::LockWithoutFencing,
        &coordination::lock_held_across_remote_call::LockHeldAcrossRemoteCall,
        &observability::context_not_propagated::ContextNotPropagated,
        &observability::remote_error_swallowed::RemoteErrorSwallowed,
        &operations::unsafe_migration::UnsafeMigration,
        &operations::no_graceful_shutdown::NoGracefulShutdown,
        &ordering::wall_clock_ordering::WallClockOrdering,
        &ordering::wall_clock_for_durations::WallClockForDurations,
        &resilience::http_client_without_timeout::HttpClientWithoutTimeout,
        &resilience::server_without_timeouts::ServerWithoutTimeouts,
        &resilience::wait_ignores_cancellation::WaitIgnoresCancellation,
        &resilience::retry_without_backoff::RetryWithoutBackoff,
        &resilience::retry_without_jitter::RetryWithoutJitter,
        &resilience::unbounded_retry::UnboundedRetry,
        &resilience::response_body_not_closed::ResponseBodyNotClosed,
        &state::process_local_state_in_handler::ProcessLocalStateInHandler,
    ]
}

/// Looks a rule up by code (case-insensitive) or slug.
pub fn find(code_or_slug: &str) -> Option<&'static DynRule> {
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

impl Rule<RuleContext<'_>> for MetaRule {
    fn meta(&self) -> &'static RuleMeta {
        self.0
    }

    fn check(&self, _: &RuleContext<'_>, _: &mut Vec<Finding>) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One table, in code order, codes unique: merges of parallel rule work keep it that way.
    #[test]
    fn registry_is_sorted_by_code_and_codes_are_unique() {
        let codes = codes();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted);
    }

    #[test]
    fn slugs_are_unique_and_name_the_defect() {
        let mut slugs: Vec<&str> = registry().iter().map(|r| r.meta().slug).collect();
        let count = slugs.len();
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), count);
        for slug in slugs {
            assert!(
                slug.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit()),
                "{slug}"
            );
        }
    }
}
