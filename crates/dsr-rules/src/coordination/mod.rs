//! LCK — coordination and locking.

pub mod lock_without_ttl;
