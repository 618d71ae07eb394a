//! RES — failure handling and resilience.

pub mod response_body_not_closed;
pub mod wait_ignores_cancellation;
