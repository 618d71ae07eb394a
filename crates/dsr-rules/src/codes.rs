//! The codes table (ruff's `codes.rs`): every rule, in code order, with its status. The one place that says
//! whether a rule is stable, preview or deprecated; codes are never reused, a removed rule keeps its row as
//! deprecated.

use dsr_core::rule::Registered;
use dsr_core::suppression;
use dsr_semantic::RegisteredRule;

use crate::{
    api, backpressure, consistency, coordination, delivery, observability, operations, ordering,
    resilience, state,
};

const fn stable(rule: &'static dsr_semantic::DynRule) -> RegisteredRule {
    Registered::stable(rule)
}

pub(crate) static CODES: &[RegisteredRule] = &[
    stable(&api::offset_pagination::OffsetPagination),
    stable(&api::missing_health_endpoint::MissingHealthEndpoint),
    stable(&backpressure::unbounded_channel::UnboundedChannel),
    stable(&backpressure::unbounded_concurrency::UnboundedConcurrency),
    stable(&backpressure::remote_call_in_loop::RemoteCallInLoop),
    // Its findings are precise on real code; its "is the server trusted?" questions were worth asking in 8 of 11
    // (seeds 21 and 55, docs/precision.md "Issue 13, fourth pass"), below DESIGN §8's 80 %: in preview.
    stable(&backpressure::unbounded_body_read::UnboundedBodyRead).questions_in_preview(),
    stable(&consistency::read_modify_write_race::ReadModifyWriteRace),
    stable(&delivery::non_idempotent_retry::NonIdempotentRetry),
    stable(&delivery::ack_before_process::AckBeforeProcess),
    stable(&delivery::dual_write_without_outbox::DualWriteWithoutOutbox),
    stable(&delivery::transaction_not_rolled_back::TransactionNotRolledBack),
    stable(&suppression::UnusedSuppression),
    stable(&suppression::SuppressionWithoutReason),
    stable(&coordination::lock_without_ttl::LockWithoutTtl),
    stable(&coordination::unsafe_lock_release::UnsafeLockRelease),
    stable(&coordination::lock_without_fencing::LockWithoutFencing),
    stable(&coordination::lock_held_across_remote_call::LockHeldAcrossRemoteCall),
    stable(&observability::context_not_propagated::ContextNotPropagated),
    stable(&observability::remote_error_swallowed::RemoteErrorSwallowed),
    stable(&operations::unsafe_migration::UnsafeMigration),
    stable(&operations::no_graceful_shutdown::NoGracefulShutdown),
    stable(&ordering::wall_clock_ordering::WallClockOrdering),
    stable(&ordering::wall_clock_for_durations::WallClockForDurations),
    stable(&resilience::http_client_without_timeout::HttpClientWithoutTimeout),
    stable(&resilience::server_without_timeouts::ServerWithoutTimeouts),
    stable(&resilience::wait_ignores_cancellation::WaitIgnoresCancellation),
    stable(&resilience::retry_without_backoff::RetryWithoutBackoff),
    stable(&resilience::retry_without_jitter::RetryWithoutJitter),
    stable(&resilience::unbounded_retry::UnboundedRetry),
    stable(&resilience::response_body_not_closed::ResponseBodyNotClosed),
    stable(&state::process_local_state_in_handler::ProcessLocalStateInHandler),
];
