//! OPS — operations and deployment.

pub mod unsafe_migration;
pub mod no_graceful_shutdown;
