//! LCK — coordination and locking.

pub mod lock_without_fencing;
pub mod lock_without_ttl;
pub mod unsafe_lock_release;
