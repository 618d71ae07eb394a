//! Where the server keeps the workspace index: the index itself, updated as files change, and the snapshot
//! analyses read. When and how it is built and updated is `index`'s business.

use std::sync::{Mutex, PoisonError, RwLock};

use dsr_semantic::index::{IndexSnapshot, WorkspaceIndex};

/// The index and the snapshot analyses read (published after each link).
#[derive(Default)]
pub struct ServerIndex {
    pub(crate) index: Mutex<Option<WorkspaceIndex>>,
    snapshot: RwLock<Option<IndexSnapshot>>,
}

impl ServerIndex {
    pub fn snapshot(&self) -> Option<IndexSnapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn publish(&self, index: &WorkspaceIndex) {
        *self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(index.snapshot());
    }
}
