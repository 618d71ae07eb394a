//! RES — failure handling and resilience.

pub mod wait_ignores_cancellation;
