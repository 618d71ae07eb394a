//! DEL — idempotency and delivery semantics.

pub mod ack_before_process;
pub mod dual_write_without_outbox;
pub mod non_idempotent_retry;
pub mod transaction_not_rolled_back;
