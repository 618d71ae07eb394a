//! OBS — observability.

pub mod context_not_propagated;
pub mod remote_error_swallowed;
