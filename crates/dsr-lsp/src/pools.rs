//! Where analyses run: on threads the kernel schedules after the message path.
//!
//! The path from a `didChange` to its first `publishDiagnostics` is a chain of short steps on tokio's workers and
//! blocking threads (read the frame, apply the edit, move the last analysis to the new text, serialize, write).
//! On a machine with two cores, the analysis of the edit and the confirming whole-file pass of an earlier version
//! keep both cores busy, and with every thread at the same priority each step of that chain could wait for a
//! time slice behind them: milliseconds per step, the tail of the first diagnostics. Analyses therefore run on
//! threads of their own with a raised nice value (Linux only: there `setpriority` applies to the calling thread;
//! elsewhere it would lower the whole process, so it is not done), the edit's own analysis a little below the
//! message path, background work (the confirming pass, the workspace index, closed files) further below. The
//! message path keeps tokio's own threads, at the process' priority.

use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};
use tokio::task::JoinHandle;

/// What a piece of blocking work is for, which decides how it is scheduled against the message path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    /// The analysis the editor waits for: an edited version's, a request's.
    Edit,
    /// Work nobody waits on at the moment: the confirming whole-file pass, the workspace index, closed files.
    Background,
}

/// Nice value added for [`Work::Edit`] threads: enough for a waking message-path thread to run first.
const EDIT_NICE: i32 = 4;
/// Nice value added for [`Work::Background`] threads: below the edit's analysis too.
const BACKGROUND_NICE: i32 = 12;

/// Runs `work` on a blocking thread of the pool for `kind`, as `tokio::task::spawn_blocking` does (and with it
/// when the pool could not be made).
pub fn spawn_blocking<F, R>(kind: Work, work: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match pool(kind) {
        Some(runtime) => runtime.spawn_blocking(work),
        None => tokio::task::spawn_blocking(work),
    }
}

fn pool(kind: Work) -> Option<&'static Runtime> {
    static EDIT: OnceLock<Option<Runtime>> = OnceLock::new();
    static BACKGROUND: OnceLock<Option<Runtime>> = OnceLock::new();
    let (slot, name, nice) = match kind {
        Work::Edit => (&EDIT, "dsr-analysis", EDIT_NICE),
        Work::Background => (&BACKGROUND, "dsr-background", BACKGROUND_NICE),
    };
    // Never dropped: a runtime dropped inside another's async context panics, and the pools live as long as
    // the process.
    slot.get_or_init(|| {
        Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(name)
            .enable_time()
            .on_thread_start(move || lower_priority(nice))
            .build()
            .map_err(|err| {
                tracing::warn!("no {name} pool ({err}); analysing on tokio's own threads")
            })
            .ok()
    })
    .as_ref()
}

/// Raises the calling thread's nice value by `by`.
#[cfg(target_os = "linux")]
fn lower_priority(by: i32) {
    // SAFETY: getpriority/setpriority read and set a scheduling attribute of the calling thread (Linux applies
    // PRIO_PROCESS with id 0 to the calling thread only); no memory is shared.
    unsafe {
        *libc::__errno_location() = 0;
        let current = libc::getpriority(libc::PRIO_PROCESS, 0);
        if current == -1 && *libc::__errno_location() != 0 {
            return;
        }
        if libc::setpriority(libc::PRIO_PROCESS, 0, (current + by).min(19)) != 0 {
            tracing::debug!(
                "could not lower an analysis thread's priority: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority(_by: i32) {}

/// The requested time slice of a message-path thread: the kernel's shortest.
#[cfg(target_os = "linux")]
const MESSAGE_PATH_SLICE_NS: u64 = 100_000;

/// Called on each of tokio's own threads (the message path: transport, edits, publication): asks the kernel
/// for a short time slice. On Linux 6.12 and later (EEVDF with custom slices) a waking thread whose slice is
/// shorter than the running one's preempts it at once instead of waiting for the running slice's protected
/// part (up to a few milliseconds behind an analysis); it gets no more CPU than before. Older kernels ignore
/// the request for normal threads; failures are ignored too.
#[cfg(target_os = "linux")]
pub fn message_path_thread() {
    let mut attr = libc::sched_attr {
        size: std::mem::size_of::<libc::sched_attr>() as u32,
        sched_policy: 0,
        sched_flags: 0,
        sched_nice: 0,
        sched_priority: 0,
        sched_runtime: 0,
        sched_deadline: 0,
        sched_period: 0,
    };
    // SAFETY: sched_getattr/sched_setattr read and write the calling thread's (id 0) scheduling attributes
    // through a correctly sized `sched_attr` that outlives the calls.
    unsafe {
        let size = attr.size;
        if libc::syscall(
            libc::SYS_sched_getattr,
            0,
            &mut attr as *mut libc::sched_attr,
            size,
            0,
        ) != 0
            || attr.sched_policy != libc::SCHED_OTHER as u32
        {
            return;
        }
        attr.size = size;
        attr.sched_runtime = MESSAGE_PATH_SLICE_NS;
        let _ = libc::syscall(
            libc::SYS_sched_setattr,
            0,
            &attr as *const libc::sched_attr,
            0,
        );
    }
}

#[cfg(not(target_os = "linux"))]
pub fn message_path_thread() {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn background_work_runs_below_edits_and_edits_below_the_caller() {
        let runtime = Builder::new_current_thread().build().expect("runtime");
        // SAFETY: reads the calling thread's nice value.
        let own = || unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        let caller = own();
        let (edit, background) = runtime.block_on(async {
            let edit = spawn_blocking(Work::Edit, own).await.expect("edit pool");
            let background = spawn_blocking(Work::Background, own)
                .await
                .expect("background pool");
            (edit, background)
        });
        assert_eq!(own(), caller, "the caller's priority is untouched");
        assert!(edit > caller || caller == 19, "{edit} vs {caller}");
        assert!(background > edit || edit == 19, "{background} vs {edit}");
    }
}
