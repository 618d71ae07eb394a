//! OPS — operations and deployment.

pub mod no_graceful_shutdown;
pub mod unsafe_migration;
