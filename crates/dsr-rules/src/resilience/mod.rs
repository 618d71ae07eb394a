//! RES — failure handling and resilience.

pub mod http_client_without_timeout;
pub mod server_without_timeouts;
