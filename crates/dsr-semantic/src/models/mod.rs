//! Models of distributed-systems constructs built from [`FileFacts`](crate::FileFacts) and the tree, shared by
//! the rules that read them: which calls of a file reach a remote system (directly or through a helper in the
//! same file) and what they write ([`effects`]), the retry loops and retry-library calls of the file
//! ([`retry`]), message handlers, transactions and the state a function writes ([`messaging`]),
//! distributed and in-process locks ([`locks`], with the any-mutation view of remote calls in [`remote`]),
//! reads and writes of shared stores with their atomicity ([`store`]), HTTP/RPC request handlers, routes
//! and server entry points ([`handlers`]), the loops that iterate collections with what they start per
//! element ([`loops`]), wall-clock readings with where their values go ([`time`]), what happens to a call's
//! error ([`error_fate`]), how HTTP clients and their requests are bounded in time ([`clients`], which
//! asks [`callers`] what the same-file callers of a wrapper pass it) and whether an outgoing request goes to the
//! endpoint its client was configured with ([`endpoint`], a question asked per response rather than a model
//! computed per file).
//!
//! Each model is computed at most once per file, on first use, through
//! [`RuleContext::remote_calls`](crate::RuleContext::remote_calls),
//! [`RuleContext::retries`](crate::RuleContext::retries),
//! [`RuleContext::messaging`](crate::RuleContext::messaging),
//! [`RuleContext::transactions`](crate::RuleContext::transactions),
//! [`RuleContext::handlers`](crate::RuleContext::handlers),
//! [`RuleContext::loops`](crate::RuleContext::loops),
//! [`RuleContext::time`](crate::RuleContext::time),
//! [`RuleContext::write_sites`](crate::RuleContext::write_sites),
//! [`RuleContext::clients`](crate::RuleContext::clients) and
//! [`RuleContext::store_accesses`](crate::RuleContext::store_accesses).

pub mod callers;
pub mod clients;
pub mod control_flow;
pub mod def_use;
pub mod endpoint;
pub mod error_fate;
pub mod handlers;
pub mod locks;
pub mod loops;
pub mod messaging;
pub mod remote;
pub mod retry;
pub mod store;
pub mod time;

use std::cell::OnceCell;

pub use remote::{RemoteCall, RemoteCalls, Write, WriteKind};
pub use retry::{Delay, LibraryRetry, Retries, Retry, RetryKind};

/// The lazily computed models of one file.
#[derive(Default)]
pub(crate) struct Models<'t> {
    pub(crate) retry: OnceCell<Retries<'t>>,
    pub(crate) messaging: OnceCell<messaging::MessagingModel<'t>>,
    pub(crate) transactions: OnceCell<Vec<messaging::transaction::Transaction<'t>>>,
    pub(crate) write_sites: OnceCell<Vec<messaging::writes::WriteSite<'t>>>,
    pub(crate) locks: OnceCell<locks::Locks<'t, 't>>,
    pub(crate) remote_calls: OnceCell<RemoteCalls>,
    pub(crate) store: OnceCell<store::StoreAccesses<'t>>,
    pub(crate) handlers: OnceCell<handlers::Handlers<'t>>,
    pub(crate) loops: OnceCell<loops::Loops<'t>>,
    pub(crate) time: OnceCell<time::TimeModel<'t>>,
    pub(crate) store_commands: OnceCell<crate::store_commands::StoreCommands<'t>>,
    pub(crate) roles: OnceCell<crate::roles::CodeRoles>,
    pub(crate) clients: OnceCell<clients::Clients<'t>>,
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use dsr_syntax::{Document, Language};

    use crate::{FileFacts, RuleContext};
    use dsr_core::KnowledgeBase;

    #[test]
    fn rules_of_a_file_share_one_computation() {
        let source = "package p\nimport \"net/http\"\nfunc f() {\n\tfor {\n\t\tif _, err := http.Get(\"u\"); err == nil {\n\t\t\treturn\n\t\t}\n\t}\n}\n";
        let document = Document::new(Language::Go, source, 0).expect("grammar loads");
        let facts = FileFacts::compute(Language::Go, document.tree(), source);
        let ctx = RuleContext::new(
            Path::new("a.go"),
            Language::Go,
            source,
            document.tree(),
            &facts,
            KnowledgeBase::builtin(),
        );
        let first: *const _ = ctx.retries();
        let second: *const _ = ctx.retries();
        assert_eq!(first, second);
        assert_eq!(ctx.retries().loops.len(), 1);
        let remote: *const _ = ctx.remote_calls();
        assert_eq!(remote, ctx.remote_calls() as *const _);
    }
}
