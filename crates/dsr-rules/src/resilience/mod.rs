//! RES — failure handling and resilience.

pub mod response_body_not_closed;
pub mod retry_without_backoff;
pub mod retry_without_jitter;
pub mod unbounded_retry;
pub mod wait_ignores_cancellation;
