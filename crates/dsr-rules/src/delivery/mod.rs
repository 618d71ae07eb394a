//! DEL — idempotency and delivery semantics.

pub mod non_idempotent_retry;
