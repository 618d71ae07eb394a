//! Locking shared state. A panic while a lock is held (a rule's panic is caught further down, but any other
//! bug) poisons a `std::sync::Mutex`; the data behind the server's locks stays consistent between statements, so
//! the server takes the lock anyway rather than failing every later request.

use std::sync::{Mutex, MutexGuard, PoisonError};

pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
