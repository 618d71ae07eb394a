//! CPU time: `check --timings`, the incremental analysis' learned prices, the benches. Wall time grows when other
//! processes compete for the cores; CPU time does not, so throughput measured in CPU time is comparable between
//! a busy and an idle machine.

use std::time::Duration;

#[cfg(unix)]
fn clock(id: libc::clockid_t) -> Option<Duration> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` only writes the `timespec` we pass, which lives on this stack frame.
    let rc = unsafe { libc::clock_gettime(id, &mut now) };
    if rc != 0 {
        return None;
    }
    Some(Duration::new(
        u64::try_from(now.tv_sec).ok()?,
        u32::try_from(now.tv_nsec).ok()?,
    ))
}

/// CPU time used so far by the calling thread.
pub fn thread() -> Option<Duration> {
    #[cfg(unix)]
    return clock(libc::CLOCK_THREAD_CPUTIME_ID);
    #[cfg(not(unix))]
    return None;
}

/// CPU time used so far by the whole process (every thread).
pub fn process() -> Option<Duration> {
    #[cfg(unix)]
    return clock(libc::CLOCK_PROCESS_CPUTIME_ID);
    #[cfg(not(unix))]
    return None;
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_time_advances_with_work() {
        let Some(before) = super::thread() else {
            return;
        };
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(super::thread().unwrap() > before);
        assert!(super::process().is_some());
    }
}
