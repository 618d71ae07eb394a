//! A queue that holds at most one entry per key: pushing a key that is already waiting replaces its value and
//! keeps its place. The server's internal queues (diagnostics to publish, jobs for the client) are of this kind,
//! so their length is bounded by the number of documents (or job kinds), never by how many messages a client
//! sends: a burst of 10,000 changes leaves one pending publication for the document.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;

use tokio::sync::Notify;

use crate::sync::lock;

pub struct CoalescingQueue<K, V> {
    inner: Mutex<Inner<K, V>>,
    ready: Notify,
}

struct Inner<K, V> {
    order: VecDeque<K>,
    entries: HashMap<K, V>,
    closed: bool,
}

impl<K: Eq + Hash + Clone, V> Default for CoalescingQueue<K, V> {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Inner {
                order: VecDeque::new(),
                entries: HashMap::new(),
                closed: false,
            }),
            ready: Notify::new(),
        }
    }
}

impl<K: Eq + Hash + Clone, V> CoalescingQueue<K, V> {
    pub fn push(&self, key: K, value: V) {
        {
            let mut inner = lock(&self.inner);
            if inner.entries.insert(key.clone(), value).is_none() {
                inner.order.push_back(key);
            }
        }
        self.ready.notify_one();
    }

    /// The oldest waiting entry; `None` once the queue is closed.
    pub async fn pop(&self) -> Option<V> {
        loop {
            {
                let mut inner = lock(&self.inner);
                if inner.closed {
                    return None;
                }
                while let Some(key) = inner.order.pop_front() {
                    if let Some(value) = inner.entries.remove(&key) {
                        return Some(value);
                    }
                }
            }
            // `notify_one` leaves a permit when nobody waits, so a push between the check and here is not lost.
            self.ready.notified().await;
        }
    }

    pub fn close(&self) {
        lock(&self.inner).closed = true;
        self.ready.notify_waiters();
        self.ready.notify_one();
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        lock(&self.inner).entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keeps_one_entry_per_key_in_first_arrival_order() {
        let queue = CoalescingQueue::default();
        for i in 0..10_000 {
            queue.push("a", i);
            queue.push("b", -i);
        }
        queue.push("c", 1);
        assert_eq!(queue.len(), 3);
        assert_eq!(queue.pop().await, Some(9_999));
        assert_eq!(queue.pop().await, Some(-9_999));
        assert_eq!(queue.pop().await, Some(1));
        queue.close();
        assert_eq!(queue.pop().await, None);
    }
}
