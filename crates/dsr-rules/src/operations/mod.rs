//! OPS — operations and deployment.

pub mod unsafe_migration;
