//! Running per-file work on the worker threads, largest file first.
//!
//! A file's analysis costs roughly its size, and sizes are very uneven (one 26,000-line test file beside
//! hundreds of small ones). Handed out in path order, the largest files of a directory land on one worker at the
//! end of the run while the others idle; rayon's splitting of a list has the same problem at a coarser grain.
//! Here every worker takes the next file from one shared counter over the files sorted by size, largest first
//! (longest-processing-time-first), so the run ends on small files and the workers finish together.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Runs `work` on every item on `pool`'s threads, the items with the largest `size` first, and returns the
/// results in the order of `items`.
pub fn largest_first<T, R>(
    pool: &rayon::ThreadPool,
    items: Vec<T>,
    size: impl Fn(&T) -> u64,
    work: impl Fn(T) -> R + Sync,
) -> Vec<R>
where
    T: Send,
    R: Send,
{
    let mut order: Vec<(u64, usize)> = items.iter().map(&size).zip(0..).collect();
    // Stable: items of one size keep their order.
    order.sort_by_key(|&(size, _)| std::cmp::Reverse(size));
    let count = items.len();
    // Each slot is taken by exactly one worker; the lock is never contended.
    let items: Vec<Mutex<Option<T>>> = items
        .into_iter()
        .map(|item| Mutex::new(Some(item)))
        .collect();
    let next = AtomicUsize::new(0);
    let done: Vec<Vec<(usize, R)>> = pool.broadcast(|_| {
        let mut mine = Vec::new();
        loop {
            let taken = next.fetch_add(1, Ordering::Relaxed);
            let Some(&(_, index)) = order.get(taken) else {
                break;
            };
            let item = items[index]
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            if let Some(item) = item {
                mine.push((index, work(item)));
            }
        }
        mine
    });
    let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None).take(count).collect();
    for (index, result) in done.into_iter().flatten() {
        slots[index] = Some(result);
    }
    slots
        .into_iter()
        .map(|slot| slot.expect("every item was taken by exactly one worker"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_runs_once_and_results_keep_the_input_order() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let items: Vec<u64> = (0..500).map(|i| (i * 7919) % 1000).collect();
        let results = largest_first(&pool, items.clone(), |&s| s, |s| s * 2);
        assert_eq!(results, items.iter().map(|s| s * 2).collect::<Vec<_>>());
    }

    #[test]
    fn one_worker_takes_the_largest_first() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let items = [3u64, 10, 1, 10, 7];
        let started = Mutex::new(Vec::new());
        largest_first(
            &pool,
            items.to_vec(),
            |&s| s,
            |s| started.lock().unwrap().push(s),
        );
        assert_eq!(started.into_inner().unwrap(), [10, 10, 7, 3, 1]);
    }
}
