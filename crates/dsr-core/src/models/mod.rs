//! Models of distributed-systems constructs built from [`FileFacts`](crate::FileFacts) and the tree, shared by
//! the rules that read them: which calls of a file reach a remote system (directly or through a helper in the
//! same file) and what they write ([`effects`]), and the retry loops and retry-library calls of the file
//! ([`retry`]).
//!
//! Each model is computed at most once per file, on first use, through
//! [`RuleContext::remote_effects`](crate::RuleContext::remote_effects) and
//! [`RuleContext::retry_loops`](crate::RuleContext::retry_loops).

pub mod effects;
pub mod retry;

use std::cell::OnceCell;

pub use effects::{RemoteCall, RemoteEffects, Write, WriteKind};
pub use retry::{Delay, LibraryRetry, RetryKind, RetryLoop, RetryLoops};

/// The lazily computed models of one file.
#[derive(Default)]
pub(crate) struct Models<'t> {
    pub(crate) effects: OnceCell<RemoteEffects>,
    pub(crate) retry: OnceCell<RetryLoops<'t>>,
}
