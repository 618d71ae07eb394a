//! API — API and protocol design.

pub mod missing_health_endpoint;
pub mod offset_pagination;
