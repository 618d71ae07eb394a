//! RES — failure handling and resilience.

pub mod http_client_without_timeout;
pub mod response_body_not_closed;
pub mod retry_without_backoff;
pub mod retry_without_jitter;
pub mod server_without_timeouts;
pub mod unbounded_retry;
pub mod wait_ignores_cancellation;
