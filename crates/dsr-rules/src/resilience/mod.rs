//! RES — failure handling and resilience.

pub mod retry_without_backoff;
pub mod retry_without_jitter;
pub mod unbounded_retry;
