//! OBS — observability.

pub mod context_not_propagated;
