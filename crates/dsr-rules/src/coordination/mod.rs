//! LCK — coordination and locking.

pub mod lock_held_across_remote_call;
pub mod lock_without_fencing;
pub mod lock_without_ttl;
pub mod unsafe_lock_release;
