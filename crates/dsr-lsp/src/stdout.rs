//! The server's output to the client without a thread hand-off per message.
//!
//! tokio's `Stdout` writes on a blocking thread: every frame is copied, handed to that thread, written there,
//! and the writer task is woken again when it is done. The timeline (crates/dsr-lsp/src/timeline.rs) put that
//! hop first among what was left of the late first publications (serialised → written: 3.4 ms median over
//! the late ones on a loaded 2-core machine). When stdout is a pipe or a socket (how editors start a language
//! server), it is made non-blocking and written directly from the writer task; only when the pipe is full
//! (the client is not reading) does a blocking thread wait for it to drain (`poll`), and the write is tried
//! again. A terminal or a file (or a pipe shared with stderr, whose log lines must not meet `EAGAIN`) keeps
//! tokio's `Stdout`.

#[cfg(unix)]
use std::future::Future;
#[cfg(unix)]
use std::io;
#[cfg(unix)]
use std::pin::Pin;
#[cfg(unix)]
use std::task::{ready, Context, Poll};

use tokio::io::AsyncWrite;
#[cfg(unix)]
use tokio::task::JoinHandle;

/// The output for [`crate::run_stdio`].
pub fn output() -> Box<dyn AsyncWrite + Send + Unpin> {
    #[cfg(unix)]
    if let Some(pipe) = PipeOut::stdout() {
        return Box::new(pipe);
    }
    Box::new(tokio::io::stdout())
}

/// Standard output as a non-blocking pipe or socket.
#[cfg(unix)]
struct PipeOut {
    /// A blocking thread waiting for the pipe to have room again.
    drained: Option<JoinHandle<()>>,
}

#[cfg(unix)]
impl PipeOut {
    const FD: libc::c_int = libc::STDOUT_FILENO;

    fn stdout() -> Option<Self> {
        // SAFETY: `fstat` fills the zeroed `stat` structs for the process' own standard descriptors; `fcntl`
        // reads and sets the status flags of standard output, which this process owns for its whole life.
        unsafe {
            let mut out: libc::stat = std::mem::zeroed();
            let mut err: libc::stat = std::mem::zeroed();
            if libc::fstat(Self::FD, &mut out) != 0 {
                return None;
            }
            let kind = out.st_mode & libc::S_IFMT;
            if kind != libc::S_IFIFO && kind != libc::S_IFSOCK {
                return None;
            }
            if libc::fstat(libc::STDERR_FILENO, &mut err) == 0
                && err.st_dev == out.st_dev
                && err.st_ino == out.st_ino
            {
                return None;
            }
            let flags = libc::fcntl(Self::FD, libc::F_GETFL);
            if flags < 0 || libc::fcntl(Self::FD, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
                return None;
            }
        }
        Some(Self { drained: None })
    }
}

/// Waits (on a blocking thread) until standard output can take more bytes, or fails.
#[cfg(unix)]
fn wait_writable() {
    let mut poll = libc::pollfd {
        fd: PipeOut::FD,
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid `pollfd` that outlives the call. An error or a hang-up ends the wait: the next write
    // reports it.
    unsafe {
        libc::poll(&mut poll, 1, -1);
    }
}

#[cfg(unix)]
impl AsyncWrite for PipeOut {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            if let Some(drained) = &mut self.drained {
                let _ = ready!(Pin::new(drained).poll(cx));
                self.drained = None;
            }
            // SAFETY: writes from `buf`, valid for `buf.len()` bytes, to standard output.
            let written = unsafe { libc::write(Self::FD, buf.as_ptr().cast(), buf.len()) };
            if written >= 0 {
                return Poll::Ready(Ok(written as usize));
            }
            let error = io::Error::last_os_error();
            match error.kind() {
                io::ErrorKind::Interrupted => {}
                io::ErrorKind::WouldBlock => {
                    self.drained = Some(tokio::task::spawn_blocking(wait_writable));
                }
                _ => return Poll::Ready(Err(error)),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Nothing is buffered: each write went to the pipe.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
