//! The server's state: the session (negotiated encoding, client capabilities, settings, folders), the document
//! index, and the scheduler that analyses snapshots off the message loop and publishes only current results.
//!
//! Ordering invariant (DESIGN §9): tower-lsp-server runs up to four handlers at once, but starts them in arrival
//! order. Every mutation of a document therefore happens synchronously at the start of its handler, before any
//! `.await`, under that document's own `std::sync::Mutex`; no lock is ever held across an `.await`. Requests
//! take their snapshot the same way, so they see every edit that arrived before them.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use dsr_core::limits::Skip;
use dsr_core::suppression::Suppression;
use dsr_core::{Finding, Language, Limits};
use dsr_engine::{
    AnalysisInput, Cancellation, Cancelled, Engine, IncrementalCache, Intake, RuleFailure,
    SkipReason,
};
use dsr_syntax::tree_sitter::Tree;
use dsr_syntax::{
    parse_rope, Document, ParseLimits, ParseOutcome, ParseStop, PendingParse, PositionEncoding,
    Rope,
};
use tower_lsp_server::ls_types::notification::{Notification as _, PublishDiagnostics};
use tower_lsp_server::ls_types::{Diagnostic, MessageType, Uri};
use tower_lsp_server::Client;

use crate::configs::{ConfigKey, ConfigStore, LoadOutcome};
use crate::convert::{self, DiagnosticContext};
use crate::pools::Work;
use crate::queue::CoalescingQueue;
use crate::settings::{Scope, Settings};
use crate::sync::lock;
use crate::timeline;
use crate::transport::Backlog;

/// The edit budget: the moved previous analysis is published when the current one is late.
#[path = "budget.rs"]
mod budget;

/// What the server learnt about the client in `initialize`.
#[derive(Clone, Debug, Default)]
pub struct ClientCaps {
    pub watched_files_dynamic: bool,
    pub work_done_progress: bool,
    pub configuration: bool,
    pub code_action_resolve: bool,
    pub document_changes: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Session {
    pub encoding: PositionEncoding,
    pub caps: ClientCaps,
    pub settings: Arc<Settings>,
    pub folders: Vec<PathBuf>,
}

/// An open document.
pub struct Doc {
    pub uri: Uri,
    pub path: Option<PathBuf>,
    pub document: Document,
    /// Bumped on every change of what the analysis depends on (text, configuration, settings). Unique across
    /// the server's life, so a result can never be mistaken for another document's. Set with
    /// [`Doc::set_seq`].
    pub seq: u64,
    /// `seq`, readable without the document's lock: the publisher checks a result moved to a new version
    /// while the change's handler still holds the lock for the reparse ([`Publish::Moved`]).
    latest_seq: Arc<AtomicU64>,
    /// The client's text and ours have diverged (an edit that could not be applied, a version that went back):
    /// we keep the last good text, publish nothing, and wait for a full-text change or a reopen.
    pub desynced: bool,
    pub config_key: ConfigKey,
    /// An analysis of this document is running; `analysis_queued` asks it to run once more when it ends.
    analysis_running: bool,
    analysis_queued: bool,
    /// Edits are coming faster than analyses finish: each analysis waits for them to pause first ([`settle`], for
    /// a window that follows the document's analysis cost, [`burst_window`]).
    in_burst: bool,
    /// More changes had already been read from the client when the last one was applied.
    more_coming: bool,
    pub analyzed: Option<Arc<Analyzed>>,
    /// What the last published analysis was of: its `seq` and the workspace index's generation, whether it was
    /// the confirming whole-file one, and whether it was provisional (the previous analysis moved to this
    /// version, see [`budget`]). A new index generation republishes the same text: a callee in another file
    /// changed.
    published: (u64, u64, bool, bool),
    /// A timer will publish a provisional analysis if this version's is late ([`budget`]).
    budget_armed: bool,
    /// How long the last [`RECENT_COSTS`] scheduled analyses of this document took (a cancelled one: how long
    /// it ran), newest last: the edit budget's prediction of the next one ([`State::moves_at_once`]).
    recent_costs: Vec<Duration>,
    /// When the text was last set (opened, or a change applied): the first edit after a pause is predicted
    /// late too ([`State::moves_at_once`]), and a burst's quiet window is counted from it ([`settle`]).
    last_change: Option<Instant>,
    /// How long the last analysis of the whole file took (the confirming pass, or an edit's analysis that fell
    /// back to the whole file), and the last [`SLICED_COSTS`] assembled from slices: when the whole file costs
    /// less than the cheapest of those, an edit is analysed as the whole file ([`Doc::edit_snapshot`]), which
    /// also makes its confirming pass unneeded.
    whole_file_cost: Option<Duration>,
    sliced_costs: Vec<Duration>,
    /// Edits analysed whole in a row by that choice: every [`SLICED_RETRY`]th is sliced again, so that the
    /// sliced costs are measured anew (a file that grew, a machine less loaded).
    whole_streak: u32,
    /// What the incremental analysis of this document reuses from one version to the next.
    incremental: Arc<Mutex<IncrementalCache>>,
    /// Rules that panicked on this version of the text: not run again on it, run again after the next edit.
    failed_rules: Option<(i32, Vec<&'static str>)>,
    /// The parse of the current text, while it is pending ([`State::reparse_later`]): the document's tree is
    /// that of an older text until it is installed. Kept in step with the document by [`Doc::sync_parse`].
    parse: Option<Arc<PendingTree>>,
    /// A reparse task runs for this document ([`State::reparse_later`]).
    reparse_running: bool,
}

/// A parse of a document's text left to a blocking thread by the change's handler, so that tower-lsp's serve
/// loop (which also writes every outgoing message) never waits for tree-sitter's error recovery. Whoever needs
/// the tree first runs the parse — the reparse task, or an analysis resolving its snapshot — and the others
/// wait for it ([`OnceLock::get_or_init`]).
pub struct PendingTree {
    parse: PendingParse,
    outcome: OnceLock<ParseOutcome>,
    /// The version of the text, when a change (not an open) left it: for the tests' hold
    /// ([`hold_reparse_until`]).
    changed_to: Option<i32>,
}

impl PendingTree {
    /// The parse's outcome, running it on this thread unless another thread already has (then waiting for it).
    fn outcome(&self, reparses: &AtomicU64) -> &ParseOutcome {
        self.outcome.get_or_init(|| {
            if let Some(version) = self.changed_to {
                hold_reparse_until(version);
            }
            reparses.fetch_add(1, Ordering::Relaxed);
            let started = Instant::now();
            let outcome = self.parse.run();
            tracing::trace!(
                "reparse of {} bytes took {:?}",
                self.parse.rope().len_bytes(),
                started.elapsed()
            );
            outcome
        })
    }
}

impl Doc {
    fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
        self.latest_seq.store(seq, Ordering::SeqCst);
    }

    /// Brings [`Doc::parse`] in step with the document after a change of its text or tree: the document's
    /// pending parse, a new one if the text changed since the last was taken (changes fold into one parse of
    /// the latest text), none once the tree is the text's.
    ///
    /// `changed_to`: the version a change (not an open, not new limits) brought the text to.
    fn sync_parse(&mut self, changed_to: Option<i32>) {
        match self.document.pending_generation() {
            None => self.parse = None,
            Some(generation)
                if self
                    .parse
                    .as_ref()
                    .is_some_and(|p| p.parse.generation() == generation) => {}
            Some(_) => {
                self.parse = self.document.pending_parse().map(|parse| {
                    Arc::new(PendingTree {
                        parse,
                        outcome: OnceLock::new(),
                        changed_to,
                    })
                });
            }
        }
    }

    /// Installs a pending parse's outcome if it is still the text's.
    fn install_parse(&mut self, pending: &PendingTree) {
        if let Some(outcome) = pending.outcome.get() {
            if self.document.install(outcome) {
                self.parse = None;
            }
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            seq: self.seq,
            version: self.document.version(),
            language: self.document.language(),
            rope: self.document.rope().clone(),
            tree: self.document.tree().cloned(),
            pending_tree: self.parse.clone(),
            provisional_tree: self.document.is_provisional(),
            uri: self.uri.clone(),
            path: self.path.clone(),
            config_key: self.config_key.clone(),
            parse_stop: self.document.parse_stop(),
            disabled_rules: match &self.failed_rules {
                Some((version, rules)) if *version == self.document.version() => rules.clone(),
                _ => Vec::new(),
            },
            incremental: Some(self.incremental.clone()),
            latest_seq: Some(self.latest_seq.clone()),
        }
    }

    /// A snapshot whose analysis runs to its end even when the document changes meanwhile: a request answers
    /// about the text it was asked on.
    fn uncancellable_snapshot(&self) -> Snapshot {
        Snapshot {
            latest_seq: None,
            ..self.snapshot()
        }
    }

    /// The snapshot an edit is analysed on: incremental, unless the last whole-file analysis of this document
    /// cost no more than the last one assembled from slices (small files, where the plan, the slices and the
    /// confirming pass after them cost more than the file itself).
    /// A single costly sliced edit (a break whose union is most of the file) does not decide it: the cheapest
    /// of the last few does.
    ///
    /// `DISTSYS_REVIEW_INCREMENTAL=0` analyses every edit as the whole file ([`incremental_edits`]).
    fn edit_snapshot(&mut self) -> Snapshot {
        if !incremental_edits() {
            return self.whole_file_snapshot();
        }
        let cheapest_sliced = self.sliced_costs.iter().min().copied();
        let whole_is_cheaper = self.sliced_costs.len() == SLICED_COSTS
            && self
                .whole_file_cost
                .zip(cheapest_sliced)
                .is_some_and(|(whole, sliced)| whole < sliced);
        if whole_is_cheaper && self.whole_streak + 1 < SLICED_RETRY {
            self.whole_streak += 1;
            self.whole_file_snapshot()
        } else {
            self.whole_streak = 0;
            self.snapshot()
        }
    }

    /// What the last incremental analysis of this document analysed (`documentState`).
    pub(crate) fn incremental_stats(&self) -> dsr_engine::IncrementalStats {
        lock(&self.incremental).stats()
    }

    /// Records what a scheduled analysis of this document cost, for the edit budget's prediction.
    fn record_recent_cost(&mut self, cost: Duration) {
        if self.recent_costs.len() == RECENT_COSTS {
            self.recent_costs.remove(0);
        }
        self.recent_costs.push(cost);
    }

    /// Records what an analysis of this document cost, by kind.
    fn record_cost(&mut self, whole_file: bool, cost: Duration) {
        if whole_file {
            self.whole_file_cost = Some(cost);
        } else {
            if self.sliced_costs.len() == SLICED_COSTS {
                self.sliced_costs.remove(0);
            }
            self.sliced_costs.push(cost);
        }
    }

    /// A snapshot analysed as one whole file, without the incremental cache: the confirming pass.
    fn whole_file_snapshot(&self) -> Snapshot {
        Snapshot {
            incremental: None,
            ..self.snapshot()
        }
    }
}

/// An immutable view of a document for analysis: ropes and trees are cheap to clone.
pub struct Snapshot {
    pub seq: u64,
    pub version: i32,
    pub language: Language,
    pub rope: Rope,
    /// `tree` is unset while this is `Some`: the text's parse is pending ([`State::resolve_tree`] waits for it).
    pub tree: Option<Tree>,
    pub pending_tree: Option<Arc<PendingTree>>,
    /// The tree may differ from a parse from scratch ([`Document::is_provisional`]).
    pub provisional_tree: bool,
    pub uri: Uri,
    pub path: Option<PathBuf>,
    pub config_key: ConfigKey,
    pub parse_stop: Option<ParseStop>,
    pub disabled_rules: Vec<&'static str>,
    /// `Some`: analysed incrementally with this cache; `None`: as one whole file.
    pub incremental: Option<Arc<Mutex<IncrementalCache>>>,
    /// `Some`: the document's latest change counter; the analysis stops as soon as it moves past `seq` (its
    /// result would be dropped as stale: [`State::store`] keeps only the current version's). `None`: it runs
    /// to its end (a request's).
    pub latest_seq: Option<Arc<AtomicU64>>,
}

impl Snapshot {
    /// Whether a newer change made this snapshot's analysis useless.
    fn superseded(&self) -> bool {
        self.latest_seq
            .as_ref()
            .is_some_and(|latest| latest.load(Ordering::SeqCst) != self.seq)
    }
}

/// Why an analysis gave no result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// The document changed while it ran: it stopped at its next unit of work ([`dsr_engine::Cancellation`]).
    Cancelled,
    /// It panicked (logged); the document's previous diagnostics stay.
    Panicked,
}

/// The analysis of one snapshot, with everything hovers and code actions need.
pub struct Analyzed {
    pub seq: u64,
    pub version: i32,
    pub language: Language,
    pub uri: Uri,
    pub path: PathBuf,
    /// The path the engine analyses the document under ([`analysis_path`]).
    pub analysed_as: PathBuf,
    pub rope: Rope,
    pub findings: Vec<Finding>,
    pub suppressions: Vec<Suppression>,
    pub diagnostics: Vec<Diagnostic>,
    pub encoding: PositionEncoding,
    pub engine: Arc<Engine>,
    pub failures: Vec<RuleFailure>,
    /// Analysed as one whole file (the confirming pass, or an incremental analysis whose slices would have cost
    /// more), not assembled from slices: on the document's tree, it is what the confirming pass would give.
    pub whole_file: bool,
    /// The previous analysis moved to this version while this version's is under way ([`budget`]).
    pub provisional: bool,
    /// The generation of the workspace index the analysis saw (0 without one).
    pub index_generation: u64,
}

impl Analyzed {
    /// What tells this analysis from the last one published ([`Doc::published`]).
    fn publish_key(&self) -> (u64, u64, bool, bool) {
        (
            self.seq,
            self.index_generation,
            self.whole_file,
            self.provisional,
        )
    }
}

pub enum Publish {
    /// The document's current analysis, if it has not been published yet.
    Document(Uri),
    /// Empty diagnostics (a closed or desynced document, a file no longer checked).
    Clear(Uri),
    /// Diagnostics of a closed file (workspace scope), unless it has been opened since.
    File(Uri, Vec<Diagnostic>),
    /// The document's previous analysis moved to a new version, published while the change's handler reparses
    /// (so without the document's lock), unless the document has changed again since (its latest `seq`).
    /// Queued before that version's own analysis can be stored, so it never goes out after it.
    Moved(Arc<Analyzed>, Arc<AtomicU64>),
}

impl std::fmt::Debug for Publish {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            Publish::Document(_) => "Document",
            Publish::Clear(_) => "Clear",
            Publish::File(..) => "File",
            Publish::Moved(..) => "Moved",
        };
        write!(f, "{kind}({})", self.uri().as_str())
    }
}

impl Publish {
    fn uri(&self) -> &Uri {
        match self {
            Publish::Document(uri) | Publish::Clear(uri) | Publish::File(uri, _) => uri,
            Publish::Moved(analyzed, _) => &analyzed.uri,
        }
    }
}

/// Work that awaits the client: done by one background task, never by handlers (DESIGN §9). Pending jobs of
/// one kind coalesce: a pull or an index started later sees everything that asked for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Job {
    RegisterWatchers,
    PullConfiguration,
    IndexWorkspace,
    /// Build the workspace index (summaries of every file), in the background.
    BuildIndex,
}

pub struct State {
    pub client: Client,
    pub documents: DashMap<Uri, Arc<Mutex<Doc>>>,
    pub session: RwLock<Session>,
    pub configs: ConfigStore,
    pub shutdown_requested: AtomicBool,
    /// Closed files whose diagnostics are published (workspace scope).
    pub workspace_published: DashMap<Uri, ()>,
    /// Bumped to stop a running workspace walk (a newer one, a scope change, shutdown).
    pub index_generation: AtomicU64,
    /// The workspace index analyses see other files through.
    pub index: crate::index_slot::ServerIndex,
    /// Counts index builds, for their progress tokens.
    pub index_builds: AtomicU64,
    next_seq: AtomicU64,
    /// Analyses started (requests' and scheduled ones), for the burst test through `documentState`.
    pub analyses: AtomicU64,
    /// Provisional results published because an analysis overran the edit budget.
    pub provisionals: AtomicU64,
    /// Analyses stopped before their end because their document changed (their result would have been
    /// dropped), for the burst test through `documentState`.
    pub cancelled: AtomicU64,
    /// Parses of documents' texts run off the message loop ([`State::reparse_later`]), for the fold test.
    pub reparses: AtomicU64,
    /// At most one pending publication per document: the publisher reads the newest state when it sends.
    publisher: CoalescingQueue<Uri, Publish>,
    pub jobs: CoalescingQueue<Job, Job>,
    runtime: tokio::runtime::Handle,
    backlog: Arc<Backlog>,
    /// The edit budget's timers ([`budget::BudgetTimers`]).
    budget_timers: Arc<budget::BudgetTimers<Arc<Mutex<Doc>>>>,
}

impl State {
    /// `me`: the server's own `Arc`, being made (`Arc::new_cyclic`), for the budget's timer thread.
    pub fn new(
        client: Client,
        configs: ConfigStore,
        backlog: Arc<Backlog>,
        me: std::sync::Weak<State>,
    ) -> Self {
        Self {
            client,
            documents: DashMap::new(),
            session: RwLock::new(Session::default()),
            configs,
            shutdown_requested: AtomicBool::new(false),
            workspace_published: DashMap::new(),
            index_generation: AtomicU64::new(0),
            index: crate::index_slot::ServerIndex::default(),
            index_builds: AtomicU64::new(0),
            next_seq: AtomicU64::new(1),
            analyses: AtomicU64::new(0),
            provisionals: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            reparses: AtomicU64::new(0),
            publisher: CoalescingQueue::default(),
            jobs: CoalescingQueue::default(),
            runtime: tokio::runtime::Handle::current(),
            backlog,
            budget_timers: State::budget_timers(me),
        }
    }

    pub fn session(&self) -> Session {
        self.session
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn settings(&self) -> Arc<Settings> {
        self.session
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .settings
            .clone()
    }

    pub fn encoding(&self) -> PositionEncoding {
        self.session
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .encoding
    }

    pub fn next_seq(&self) -> u64 {
        self.next_seq.fetch_add(1, Ordering::Relaxed)
    }

    /// The document, with the map's shard lock released at once.
    pub fn doc(&self, uri: &Uri) -> Option<Arc<Mutex<Doc>>> {
        self.documents.get(uri).map(|entry| entry.value().clone())
    }

    pub fn publish(&self, message: Publish) {
        self.publisher.push(message.uri().clone(), message);
    }

    pub fn job(&self, job: Job) {
        self.jobs.push(job, job);
    }

    /// Stops the publisher and the job runner (the server is done).
    pub fn close_queues(&self) {
        self.publisher.close();
        self.jobs.close();
    }

    /// Sends `window/showMessage` without making the caller wait for the client.
    pub fn show_message(&self, typ: MessageType, message: String) {
        tracing::info!("showMessage: {message}");
        let client = self.client.clone();
        self.runtime
            .spawn(async move { client.show_message(typ, message).await });
    }

    pub fn log_message(&self, typ: MessageType, message: String) {
        let client = self.client.clone();
        self.runtime
            .spawn(async move { client.log_message(typ, message).await });
    }

    // ---- document mutations: synchronous, called before the handler's first `.await` ----

    pub fn open(self: &Arc<Self>, uri: Uri, language_id: &str, version: i32, text: &str) {
        let path = uri_to_path(&uri);
        let language = Language::from_language_id(language_id)
            .or_else(|| path.as_deref().and_then(Language::from_path));
        let Some(language) = language else {
            tracing::debug!("not a language we read: {} ({language_id})", uri.as_str());
            return;
        };
        let folders = self.session().folders;
        let config_key = self.configs.key_for(path.as_deref(), &folders);
        let limits = parse_limits(&self.engine_for(&config_key).config().limits);
        // Over the size limit the text is kept but never parsed. The parse runs on a blocking thread
        // ([`State::reparse_later`]), never on the message loop.
        let document = match Document::unparsed(language, text, version, limits) {
            Ok(document) => document,
            Err(err) => {
                tracing::error!("{}: {err}", uri.as_str());
                return;
            }
        };
        let seq = self.next_seq();
        let doc = Doc {
            uri: uri.clone(),
            config_key,
            path,
            document,
            seq,
            latest_seq: Arc::new(AtomicU64::new(seq)),
            desynced: false,
            analysis_running: false,
            analysis_queued: false,
            in_burst: false,
            more_coming: false,
            analyzed: None,
            published: (0, 0, false, false),
            budget_armed: false,
            recent_costs: Vec::new(),
            last_change: Some(Instant::now()),
            whole_file_cost: None,
            sliced_costs: Vec::new(),
            whole_streak: 0,
            failed_rules: None,
            incremental: Arc::new(Mutex::new(IncrementalCache::default())),
            parse: None,
            reparse_running: false,
        };
        let mut doc = doc;
        doc.sync_parse(None);
        let doc = Arc::new(Mutex::new(doc));
        if self.documents.insert(uri.clone(), doc.clone()).is_some() {
            tracing::warn!(
                "{} opened again without a close: replaced with the new text",
                uri.as_str()
            );
        }
        self.reparse_later(&doc);
        self.schedule(&uri);
    }

    pub fn change(self: &Arc<Self>, uri: &Uri, version: i32, changes: Vec<dsr_syntax::TextChange>) {
        timeline::mark("received", version);
        self.backlog.applied_change();
        // Asked now, not when the analysis starts: by then the client may have answered our diagnostics with the
        // next keystroke, which is no burst.
        let more_coming = self.backlog.changes_pending();
        let Some(doc) = self.doc(uri) else {
            tracing::warn!("change to {} which is not open: ignored", uri.as_str());
            return;
        };
        let encoding = self.encoding();
        let mut d = lock(&doc);
        let current = d.document.version();
        // A full-text change is authoritative whatever came before: it resyncs a diverged document.
        let last_full = changes.iter().rposition(|c| c.range.is_none());
        let applicable: &[dsr_syntax::TextChange] = if version <= current {
            let problem = format!(
                "version {version} of {} does not follow version {current}",
                uri.as_str()
            );
            match last_full {
                Some(index) => {
                    tracing::warn!("{problem}; accepting its full text");
                    &changes[index..]
                }
                None => {
                    tracing::warn!("{problem}; change not applied");
                    drop(d);
                    self.desync(&doc, uri, &problem);
                    return;
                }
            }
        } else if d.desynced {
            match last_full {
                Some(index) => &changes[index..],
                None => {
                    tracing::debug!("{} is out of sync; waiting for a full text", uri.as_str());
                    return;
                }
            }
        } else {
            if version > current + 1 {
                // Neovim's versions (changedtick) jump routinely: worth a debug line, not more.
                tracing::debug!(
                    "{}: version jumped from {current} to {version}",
                    uri.as_str()
                );
            }
            &changes
        };
        // The text and the tree's edits are applied here; the reparse is left to a blocking thread
        // ([`State::reparse_later`]). When this document's analyses overrun the edit budget, its last analysis is
        // moved to the new text and published at once: the first diagnostics of the version need only the text.
        let seq = self.next_seq();
        let previous = self
            .moves_at_once(&d, more_coming)
            .then(|| d.analyzed.clone())
            .flatten();
        let applied = d
            .document
            .apply_changes_deferred(applicable, version, encoding);
        match applied {
            Ok(()) => {
                timeline::mark("applied", version);
                d.sync_parse(Some(version));
                note_change(version);
                d.more_coming = more_coming;
                if d.desynced {
                    tracing::info!("{} is in sync again", uri.as_str());
                    d.desynced = false;
                }
                d.set_seq(seq);
                d.last_change = Some(Instant::now());
                if let Some(previous) = &previous {
                    let moved = Arc::new(budget::provisional(
                        previous,
                        d.document.rope().clone(),
                        seq,
                        version,
                        self,
                    ));
                    self.publish(Publish::Moved(moved.clone(), d.latest_seq.clone()));
                    self.provisionals.fetch_add(1, Ordering::Relaxed);
                    d.published = moved.publish_key();
                    d.analyzed = Some(moved);
                    timeline::mark("moved-at-once", version);
                }
                drop(d);
                self.reparse_later(&doc);
                self.schedule(uri);
                if previous.is_none() {
                    self.arm_edit_budget(&doc);
                }
                self.reindex_later(&doc);
            }
            Err(err) => {
                let problem = format!("an edit to {} could not be applied: {err}", uri.as_str());
                tracing::warn!(
                    "{problem} (version {version}; the text of version {current} is kept)"
                );
                drop(d);
                self.desync(&doc, uri, &problem);
            }
        }
    }

    fn desync(&self, doc: &Mutex<Doc>, uri: &Uri, problem: &str) {
        let mut d = lock(doc);
        if d.desynced {
            return;
        }
        d.desynced = true;
        d.set_seq(self.next_seq());
        drop(d);
        self.publish(Publish::Clear(uri.clone()));
        self.show_message(
            MessageType::WARNING,
            format!(
                "distsys-review: {problem}. The server keeps the last text it could apply and pauses diagnostics \
                 for this file; close and reopen it to resync."
            ),
        );
    }

    pub fn close(self: &Arc<Self>, uri: &Uri) {
        if self.documents.remove(uri).is_none() {
            tracing::warn!("close of {} which is not open", uri.as_str());
            return;
        }
        let path = uri_to_path(uri);
        if self.settings().scope == Scope::Workspace {
            if let Some(path) = path.filter(|p| p.is_file()) {
                // The file goes back to being a closed file of the workspace: show what is on disk.
                let state = self.clone();
                let uri = uri.clone();
                crate::pools::spawn_blocking(Work::Background, move || {
                    state.check_closed_file(&uri, &path, true)
                });
                return;
            }
        }
        self.publish(Publish::Clear(uri.clone()));
    }

    /// Re-analyses every open document (configuration or settings changed).
    pub fn invalidate_all(self: &Arc<Self>) {
        let uris: Vec<Uri> = self.documents.iter().map(|e| e.key().clone()).collect();
        let folders = self.session().folders;
        for uri in uris {
            if let Some(doc) = self.doc(&uri) {
                let path = lock(&doc).path.clone();
                let key = self.configs.key_for(path.as_deref(), &folders);
                // Outside the document's lock: loading a configuration reads a file.
                let limits = parse_limits(&self.engine_for(&key).config().limits);
                let mut d = lock(&doc);
                d.config_key = key;
                d.document.set_limits(limits);
                d.sync_parse(None);
                d.set_seq(self.next_seq());
            }
            self.schedule(&uri);
        }
    }

    // ---- analysis ----

    /// Parses the document's pending text on a blocking thread and installs the tree, unless a task already
    /// does for this document. Changes that come in while it parses fold into one more parse, of the latest
    /// text, when it ends. An analysis that needs the tree meanwhile waits for it or runs it
    /// ([`State::resolve_tree`]). A document closed meanwhile is dropped with its tree.
    fn reparse_later(self: &Arc<Self>, doc: &Arc<Mutex<Doc>>) {
        {
            let mut d = lock(doc);
            if d.reparse_running || d.parse.is_none() {
                return;
            }
            d.reparse_running = true;
        }
        let doc = doc.clone();
        let state = self.clone();
        crate::pools::spawn_blocking(Work::Edit, move || loop {
            let pending = {
                let mut d = lock(&doc);
                match d.parse.clone() {
                    Some(pending) => pending,
                    None => {
                        d.reparse_running = false;
                        return;
                    }
                }
            };
            // A parse that panicked leaves the tree to the analyses (each parses the text itself).
            let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                pending.outcome(&state.reparses);
            }));
            let mut d = lock(&doc);
            if parsed.is_err() {
                tracing::error!("the reparse of {} panicked", d.uri.as_str());
                d.reparse_running = false;
                return;
            }
            d.install_parse(&pending);
        });
    }

    /// Gives `snapshot` the tree of its text: when its parse is pending, runs it or waits for the thread that
    /// does, and installs it in the document if the text is still the same.
    fn resolve_tree(&self, doc: &Mutex<Doc>, snapshot: &mut Snapshot) {
        let Some(pending) = snapshot.pending_tree.take() else {
            return;
        };
        let Ok(outcome) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pending.outcome(&self.reparses)
        })) else {
            // The analysis parses the text itself.
            return;
        };
        snapshot.tree = outcome.tree.clone();
        snapshot.parse_stop = outcome.stop;
        snapshot.provisional_tree = outcome.provisional;
        lock(doc).install_parse(&pending);
    }

    /// Makes sure an analysis of the document's current state will run. At most one scheduled analysis per
    /// document runs at a time; edits that arrive meanwhile make it run once more, on the newest snapshot, when
    /// it ends.
    ///
    /// A keystroke is analysed at once (latency). In a burst (a formatter, a big paste, a replaying client) an
    /// analysis first waits for the edits to pause: for no change during a window that follows what an
    /// analysis of the document costs ([`burst_window`]: 0.3–5 ms), counted from the last change, at most
    /// [`BURST_MAX_WAIT`]. A burst is
    /// when more changes have already been read from the client than applied, or when edits made the last result
    /// stale before it was stored (they come faster than analyses finish); it ends with a current result after a
    /// pause. A burst of 10,000 changes then costs a few hundred analyses at most instead of one per change, and
    /// no analyses of old versions pile up in the blocking pool; while the next keystroke typed after the last
    /// diagnostics went out does not wait.
    ///
    /// An analysis whose document changes while it runs stops at its next unit of work (the snapshot's
    /// `latest_seq`, [`Snapshot::superseded`]): its result would be dropped, and finishing it would keep a core
    /// from the next version's analysis. It is counted (`documentState.cancelled`), never stored, and the loop
    /// goes on with the newest snapshot.
    pub fn schedule(self: &Arc<Self>, uri: &Uri) {
        let Some(doc) = self.doc(uri) else { return };
        {
            let mut d = lock(&doc);
            if d.desynced {
                return;
            }
            d.analysis_queued = true;
            if d.analysis_running {
                return;
            }
            d.analysis_running = true;
        }
        let state = self.clone();
        crate::pools::spawn_blocking(Work::Edit, move || loop {
            let in_burst = {
                let d = lock(&doc);
                d.in_burst || d.more_coming
            };
            let paused = !in_burst || settle(&doc);
            let mut snapshot = {
                let mut d = lock(&doc);
                if !d.analysis_queued || d.desynced {
                    d.analysis_running = false;
                    return;
                }
                d.analysis_queued = false;
                d.edit_snapshot()
            };
            let seq = snapshot.seq;
            let version = snapshot.version;
            timeline::mark("analysis-start", version);
            // The reparse counts in the analysis' cost: the edit budget's estimate is of both.
            let started = Instant::now();
            state.resolve_tree(&doc, &mut snapshot);
            timeline::mark("tree-resolved", version);
            let analyzed = state.analyze_guarded(snapshot);
            let cost = started.elapsed();
            timeline::mark("analysis-end", version);
            let current = match analyzed {
                Ok(analyzed) => {
                    {
                        let mut d = lock(&doc);
                        d.record_recent_cost(cost);
                        d.record_cost(analyzed.whole_file, cost);
                    }
                    let current = state.store(&doc, Arc::new(analyzed));
                    if current {
                        state.confirm_later(&doc, seq);
                    }
                    current
                }
                // Stopped early (or panicked), it would have taken at least this long: counted among the
                // budget's recent costs. A cancellation is not a burst by itself: a superseded analysis stops at its next check, so the newest version is
                // analysed at once rather than after the burst's pause (a burst is still one whose changes were
                // read faster than applied, `more_coming`).
                Err(Stopped::Cancelled | Stopped::Panicked) => {
                    lock(&doc).record_recent_cost(cost);
                    true
                }
            };
            lock(&doc).in_burst = !(current && paused);
        });
    }

    /// The analysis of the document as it is now: the cached one if current, else a fresh one. The snapshot is
    /// taken before the first `.await`, so a request sees every edit that arrived before it.
    pub fn current(
        self: &Arc<Self>,
        uri: &Uri,
    ) -> Option<impl std::future::Future<Output = Option<Arc<Analyzed>>>> {
        let doc = self.doc(uri)?;
        let snapshot = {
            let d = lock(&doc);
            if d.desynced {
                return None;
            }
            match &d.analyzed {
                Some(analyzed) if analyzed.seq == d.seq => Err(analyzed.clone()),
                _ => Ok(d.uncancellable_snapshot()),
            }
        };
        let state = self.clone();
        Some(async move {
            match snapshot {
                Err(cached) => Some(cached),
                Ok(mut snapshot) => crate::pools::spawn_blocking(Work::Edit, move || {
                    state.resolve_tree(&doc, &mut snapshot);
                    let analyzed = Arc::new(state.analyze_guarded(snapshot).ok()?);
                    state.store(&doc, analyzed.clone());
                    Some(analyzed)
                })
                .await
                .ok()
                .flatten(),
            }
        })
    }

    /// Keeps a result if it is still the document's current state, and queues it for publishing; `false` when it
    /// is stale (dropped).
    fn store(&self, doc: &Mutex<Doc>, analyzed: Arc<Analyzed>) -> bool {
        let uri = analyzed.uri.clone();
        {
            let mut d = lock(doc);
            if !analyzed.failures.is_empty() && d.document.version() == analyzed.version {
                let failed = match &mut d.failed_rules {
                    Some((version, rules)) if *version == analyzed.version => rules,
                    slot => &mut slot.insert((analyzed.version, Vec::new())).1,
                };
                for failure in &analyzed.failures {
                    if !failed.contains(&failure.rule) {
                        failed.push(failure.rule);
                    }
                }
            }
            if d.seq != analyzed.seq {
                tracing::trace!("dropping the stale analysis of {}", uri.as_str());
                timeline::mark("stale", analyzed.version);
                return false;
            }
            timeline::mark("stored", analyzed.version);
            d.analyzed = Some(analyzed);
        }
        self.publish(Publish::Document(uri));
        true
    }

    pub fn engine_for(&self, key: &ConfigKey) -> Arc<Engine> {
        let settings = self.settings();
        let (engine, error) = self.configs.engine(key, &settings);
        // Every engine analyses with the newest index (engines are made per configuration, on demand).
        if let Some(snapshot) = self.index.snapshot() {
            if engine.index_generation() != snapshot.generation() {
                engine.set_index(Some(snapshot));
            }
        }
        if let Some(error) = error {
            self.show_message(
                MessageType::ERROR,
                format!(
                    "distsys-review: {error}; using the default configuration until it is fixed"
                ),
            );
        }
        engine
    }

    /// [`State::analyze`], with a panic (rules are isolated by the engine, but fact extraction is not) logged
    /// and the document's previous diagnostics left in place, and cancelled analyses counted.
    fn analyze_guarded(&self, snapshot: Snapshot) -> Result<Analyzed, Stopped> {
        let uri = snapshot.uri.clone();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.analyze(snapshot))) {
            Ok(Ok(analyzed)) => Ok(analyzed),
            Ok(Err(Cancelled)) => {
                self.cancelled.fetch_add(1, Ordering::Relaxed);
                tracing::trace!("analysis of {} cancelled: it changed again", uri.as_str());
                Err(Stopped::Cancelled)
            }
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!("analysis of {} panicked: {message}", uri.as_str());
                Err(Stopped::Panicked)
            }
        }
    }

    /// Runs the rules on a snapshot (on a blocking thread) and converts the findings to diagnostics; stops early
    /// when the snapshot is [superseded](Snapshot::superseded).
    pub fn analyze(&self, snapshot: Snapshot) -> Result<Analyzed, Cancelled> {
        thread_local! {
            /// The text of the document being analysed, kept between analyses on this thread: a new `String`
            /// per keystroke would allocate and release the whole file's size each time.
            static TEXT: RefCell<String> = const { RefCell::new(String::new()) };
        }
        TEXT.with_borrow_mut(|text| {
            text.clear();
            for chunk in snapshot.rope.chunks() {
                text.push_str(chunk);
            }
            self.analyze_text(snapshot, text)
        })
    }

    fn analyze_text(&self, snapshot: Snapshot, text: &str) -> Result<Analyzed, Cancelled> {
        self.analyses.fetch_add(1, Ordering::Relaxed);
        let superseded = || snapshot.superseded();
        let cancel = if snapshot.latest_seq.is_some() {
            hold_until_superseded(&superseded);
            Cancellation::when(&superseded)
        } else {
            Cancellation::NEVER
        };
        let session = self.session();
        let engine = self.engine_for(&snapshot.config_key);
        let path = snapshot
            .path
            .clone()
            .unwrap_or_else(|| PathBuf::from(snapshot.uri.path().as_str()));
        let intake = intake(&engine, &snapshot.config_key);
        let analysed_as = analysis_path(&path, &snapshot.config_key, &session.folders);
        // The document stops its own parse over the size limit or past the deadline; the rest is the intake's.
        let skipped = match snapshot.parse_stop {
            Some(ParseStop::TooLarge { bytes, .. }) => Some(Skip::TooLarge {
                size: bytes as u64,
                limit: intake.limits().max_file_size,
            }),
            Some(ParseStop::TimedOut { after }) => Some(Skip::ParseTimedOut { after }),
            None => intake.skip_text(snapshot.language, &path, text),
        };
        let mut whole_file = snapshot.incremental.is_none();
        let input = AnalysisInput::new(
            &analysed_as,
            snapshot.language,
            text,
            snapshot.tree.as_ref(),
        )
        .except(&snapshot.disabled_rules);
        let analysis = if skipped.is_some() || intake.is_excluded(&path) {
            dsr_engine::Analysis::default()
        } else if let Some(cache) = &snapshot.incremental {
            let mut cache = lock(cache);
            let analysis = engine.analyze_incremental_until(input, &mut cache, cancel)?;
            let stats = cache.stats();
            whole_file = stats.whole_file;
            tracing::trace!(
                "{} v{}: {} of {} slices analysed ({} bytes{}{}), {} chunks; chunk, plan, slices, assembly: {:?}",
                snapshot.uri.as_str(),
                snapshot.version,
                stats.slices_analysed,
                stats.slices,
                stats.bytes_analysed,
                if stats.whole_file { ", the whole file" } else { "" },
                if stats.plan_rebuilt { ", plan rebuilt" } else { "" },
                stats.chunks,
                stats.phases
            );
            analysis
        } else {
            engine.analyze_until(input, cancel)?
        };
        for failure in &analysis.failures {
            // The engine logged it to stderr; the user sees it in the client's log as well.
            self.log_message(
                MessageType::ERROR,
                format!(
                    "distsys-review: rule {} failed on {} (version {}): {}; its findings are missing until the next edit",
                    failure.rule,
                    path.display(),
                    snapshot.version,
                    failure.message
                ),
            );
        }
        let cx = DiagnosticContext {
            uri: &snapshot.uri,
            rope: &snapshot.rope,
            version: snapshot.version,
            encoding: session.encoding,
            settings: &session.settings,
        };
        let diagnostics = match &skipped {
            Some(skip) => vec![skip_diagnostic(skip)],
            None => analysis
                .findings
                .iter()
                .map(|finding| convert::diagnostic(finding, &cx))
                .collect(),
        };
        Ok(Analyzed {
            seq: snapshot.seq,
            version: snapshot.version,
            language: snapshot.language,
            uri: snapshot.uri,
            path,
            analysed_as,
            rope: snapshot.rope,
            findings: analysis.findings,
            suppressions: analysis.suppressions,
            diagnostics,
            encoding: session.encoding,
            index_generation: engine.index_generation(),
            engine,
            failures: analysis.failures,
            whole_file,
            provisional: false,
        })
    }

    /// Once edits pause ([`CONFIRM_AFTER`]), analyses the document as one whole file and publishes that if it
    /// differs from the incremental result of the same version. The incremental result equals the whole-file
    /// one except where a rule's verdict depends on a part of the file no slice link reaches, or a syntax
    /// error is recovered from differently in a slice (see `dsr_engine::incremental`); this pass makes the
    /// editor end up with exactly what `distsys-review check` reports.
    ///
    /// A [provisional](Document::is_provisional) tree (reparsed from one with syntax errors, where tree-sitter
    /// may have kept what a fresh parse would not) is parsed from scratch first, outside the document's lock,
    /// and installed if no edit came in meanwhile.
    fn confirm_later(self: &Arc<Self>, doc: &Arc<Mutex<Doc>>, seq: u64) {
        let state = self.clone();
        let doc = doc.clone();
        self.runtime.spawn(async move {
            tokio::time::sleep(CONFIRM_AFTER).await;
            let (mut snapshot, timeout) = {
                let d = lock(&doc);
                // A whole-file result on a tree a fresh parse would give is already the confirmed one (a tree
                // still being parsed may be provisional: it is known once the parse is done).
                let provisional = d.document.is_provisional() || d.parse.is_some();
                let pending = d.seq == seq
                    && !d.desynced
                    && d.analyzed
                        .as_ref()
                        .is_some_and(|a| a.seq == seq && (!a.whole_file || provisional));
                if !pending {
                    return;
                }
                (d.whole_file_snapshot(), d.document.limits().timeout)
            };
            let _ = crate::pools::spawn_blocking(Work::Background, move || {
                // Edited again while it waited for a background thread: neither the parse from scratch (which
                // cannot stop halfway) nor the analysis is wanted.
                if snapshot.superseded() {
                    state.cancelled.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                state.resolve_tree(&doc, &mut snapshot);
                let settled = snapshot
                    .provisional_tree
                    .then(|| parse_rope(snapshot.language, &snapshot.rope, timeout))
                    .flatten();
                if let Some(tree) = &settled {
                    snapshot.tree = Some(tree.clone());
                }
                let started = Instant::now();
                let Ok(whole) = state.analyze_guarded(snapshot) else {
                    return;
                };
                let cost = started.elapsed();
                let differs = {
                    let mut d = lock(&doc);
                    // On a background thread: an upper bound of what the edit's own would cost.
                    d.record_cost(true, cost);
                    if let Some(tree) = settled.filter(|_| d.seq == seq) {
                        d.document.adopt_settled(tree);
                        d.sync_parse(None);
                    }
                    match &d.analyzed {
                        Some(current) if current.seq == whole.seq => {
                            current.findings != whole.findings
                        }
                        _ => false,
                    }
                };
                if differs {
                    tracing::debug!(
                        "{} v{}: the whole-file analysis differs from the incremental one",
                        whole.uri.as_str(),
                        whole.version
                    );
                    state.store(&doc, Arc::new(whole));
                }
            })
            .await;
        });
    }

    /// Analyses every open document again as a whole file and publishes the result only where it differs
    /// from what was published: what a change outside the documents (the workspace index) needs, without a
    /// notification per unchanged document.
    pub fn refresh(self: &Arc<Self>, only: Option<&[PathBuf]>) {
        self.refresh_with(only, Work::Background);
    }

    /// [`State::refresh`] on the pool for `work`: the open callers of a changed callee are analysed on the
    /// edit pool, since the user waits for them.
    pub fn refresh_with(self: &Arc<Self>, only: Option<&[PathBuf]>, work: Work) {
        let docs: Vec<Arc<Mutex<Doc>>> = self
            .documents
            .iter()
            .map(|entry| entry.value().clone())
            .filter(|doc| {
                only.is_none_or(|paths| lock(doc).path.as_ref().is_some_and(|p| paths.contains(p)))
            })
            .collect();
        for doc in docs {
            let state = self.clone();
            crate::pools::spawn_blocking(work, move || {
                let mut snapshot = {
                    let d = lock(&doc);
                    if d.desynced {
                        return;
                    }
                    d.whole_file_snapshot()
                };
                state.resolve_tree(&doc, &mut snapshot);
                let Ok(whole) = state.analyze_guarded(snapshot) else {
                    return;
                };
                let differs = match &lock(&doc).analyzed {
                    Some(current) => current.seq == whole.seq && current.findings != whole.findings,
                    None => true,
                };
                if differs {
                    state.store(&doc, Arc::new(whole));
                }
            });
        }
    }

    /// Checks a file that is not open, from disk, and publishes its diagnostics (workspace scope). Problems
    /// reading it are logged to the client, never fatal.
    /// `just_closed`: the editor showed the open document's diagnostics, which must be replaced even by none.
    pub fn check_closed_file(&self, uri: &Uri, path: &Path, just_closed: bool) {
        match self.analyze_file(uri, path) {
            Ok(Some(diagnostics)) => {
                // A clean file that never had diagnostics needs no notification (most files of a workspace).
                let worth_sending = if diagnostics.is_empty() {
                    self.workspace_published.remove(uri).is_some()
                } else {
                    self.workspace_published.insert(uri.clone(), ());
                    true
                };
                if worth_sending || just_closed {
                    self.publish(Publish::File(uri.clone(), diagnostics));
                }
            }
            Ok(None) if just_closed => self.publish(Publish::Clear(uri.clone())),
            Ok(None) => {}
            Err(problem) => {
                tracing::warn!("{problem}");
                self.log_message(MessageType::WARNING, format!("distsys-review: {problem}"));
                if self.workspace_published.remove(uri).is_some() {
                    self.publish(Publish::Clear(uri.clone()));
                }
            }
        }
    }

    /// `Ok(None)`: not a file we check.
    fn analyze_file(&self, uri: &Uri, path: &Path) -> Result<Option<Vec<Diagnostic>>, String> {
        let Some(language) = Language::from_path(path) else {
            return Ok(None);
        };
        let folders = self.session().folders;
        let shown = path.display();
        // Closed files are read from disk: only inside a workspace folder, links resolved (a link inside the
        // workspace to a file outside it is not read).
        if !inside_folders(path, &folders) {
            return Err(format!(
                "{shown}: not read, it is outside the workspace folders (or a link to a file outside them)"
            ));
        }
        let key = self.configs.key_for(Some(path), &folders);
        let engine = self.engine_for(&key);
        let intake = intake(&engine, &key);
        if intake.is_excluded(path) {
            return Ok(None);
        }
        let text = match intake.read(path, language) {
            Ok(text) => text,
            // Nothing to report; diagnostics it had are cleared.
            Err(SkipReason::Empty) => String::new(),
            Err(reason @ SkipReason::Unreadable(_)) => return Err(format!("{shown}: {reason}")),
            Err(reason) => return Err(format!("{shown}: skipped, {reason}")),
        };
        let (analysis, _) = engine
            .parse_and_analyze(&analysis_path(path, &key, &folders), language, &text)
            .map_err(|skip| format!("{shown}: skipped, {skip}"))?;
        let session = self.session();
        let rope = Rope::from_str(&text);
        let cx = DiagnosticContext {
            uri,
            rope: &rope,
            version: 0,
            encoding: session.encoding,
            settings: &session.settings,
        };
        Ok(Some(
            analysis
                .findings
                .iter()
                .map(|finding| {
                    let mut diagnostic = convert::diagnostic(finding, &cx);
                    // Edits for closed files would go stale unseen; code actions work once the file is open.
                    diagnostic.data = None;
                    diagnostic
                })
                .collect(),
        ))
    }

    /// A configuration file changed, appeared or went away.
    pub fn config_file_changed(self: &Arc<Self>, path: &Path) {
        let settings = self.settings();
        match self.configs.reload(path, &settings) {
            LoadOutcome::Loaded => {
                tracing::info!("configuration {} reloaded", path.display());
                self.invalidate_all();
                // Summaries depend on the knowledge base, which the configuration's `[[effects]]` extend.
                if settings.index && !self.session().folders.is_empty() {
                    self.job(Job::BuildIndex);
                }
                if settings.scope == Scope::Workspace {
                    self.job(Job::IndexWorkspace);
                }
            }
            LoadOutcome::Failed(error) => self.show_message(
                MessageType::ERROR,
                format!("distsys-review: {error}; keeping the last configuration that loaded"),
            ),
        }
    }

    /// New client settings. Unchanged settings (clients resend them freely) cost nothing.
    pub fn apply_settings(self: &Arc<Self>, value: &serde_json::Value) {
        let (settings, mut problems) = Settings::from_json(value);
        problems.extend(self.configs.invalid_selectors(&settings));
        if !problems.is_empty() {
            self.show_message(
                MessageType::WARNING,
                format!("distsys-review settings: {}", problems.join("; ")),
            );
        }
        let old = {
            let mut session = self.session.write().unwrap_or_else(PoisonError::into_inner);
            if *session.settings == settings {
                return;
            }
            std::mem::replace(&mut session.settings, Arc::new(settings.clone()))
        };
        tracing::info!("settings changed: {settings:?}");
        self.configs.rebuild(&settings);
        self.invalidate_all();
        match (old.scope, settings.scope) {
            (Scope::OpenFiles, Scope::Workspace) => self.job(Job::IndexWorkspace),
            (Scope::Workspace, Scope::OpenFiles) => self.clear_workspace_files(),
            (Scope::Workspace, Scope::Workspace) => self.job(Job::IndexWorkspace),
            (Scope::OpenFiles, Scope::OpenFiles) => {}
        }
    }

    pub fn clear_workspace_files(&self) {
        self.index_generation.fetch_add(1, Ordering::SeqCst);
        let uris: Vec<Uri> = self
            .workspace_published
            .iter()
            .map(|e| e.key().clone())
            .collect();
        self.workspace_published.clear();
        for uri in uris {
            if !self.documents.contains_key(&uri) {
                self.publish(Publish::Clear(uri));
            }
        }
    }

    /// The publisher: one task, so diagnostics for a document go out in the order they were computed, and each
    /// is checked for being current right before it is sent.
    ///
    /// It writes its notifications to the client's output itself (`out`, the writer of
    /// [`crate::transport::write_frames`]), not through tower-lsp's `Client`: that one hands each message to the
    /// framework's single serve loop, which also decodes the client's messages and runs the change handlers, to
    /// be serialised there (after a copy into a `serde_json::Value`) and framed again by the transport's output
    /// pump — a first publication waited behind whatever that loop was doing. Here a publication is serialised
    /// once, straight from the stored analysis (no copy of its diagnostics, none under the document's lock),
    /// and goes to the writer in one step. Only this task publishes diagnostics, so their order is its order.
    pub async fn run_publisher(self: Arc<Self>, out: Frames) {
        while let Some(message) = self.publisher.pop().await {
            let sent = match message {
                Publish::Document(uri) => {
                    let Some(doc) = self.doc(&uri) else { continue };
                    let ready = {
                        let mut d = lock(&doc);
                        match &d.analyzed {
                            Some(a)
                                if a.seq == d.seq
                                    && d.published != a.publish_key()
                                    && !d.desynced =>
                            {
                                let a = a.clone();
                                d.published = a.publish_key();
                                Some(a)
                            }
                            _ => None,
                        }
                    };
                    match ready {
                        Some(analyzed) => {
                            send_diagnostics(
                                &out,
                                &uri,
                                &analyzed.diagnostics,
                                Some(analyzed.version),
                            )
                            .await
                        }
                        None => true,
                    }
                }
                Publish::Clear(uri) => send_diagnostics(&out, &uri, &[], None).await,
                Publish::Moved(analyzed, latest_seq) => {
                    if latest_seq.load(Ordering::SeqCst) == analyzed.seq
                        && self.documents.contains_key(&analyzed.uri)
                    {
                        send_diagnostics(
                            &out,
                            &analyzed.uri,
                            &analyzed.diagnostics,
                            Some(analyzed.version),
                        )
                        .await
                    } else {
                        true
                    }
                }
                Publish::File(uri, diagnostics) => {
                    if self.documents.contains_key(&uri) {
                        true
                    } else {
                        send_diagnostics(&out, &uri, &diagnostics, None).await
                    }
                }
            };
            if !sent {
                // The client's output is closed: nothing more can reach it.
                return;
            }
        }
    }
}

/// Where the publisher writes: the client's output, whole frames at a time ([`crate::transport::write_frames`]).
pub type Frames = tokio::sync::mpsc::Sender<Vec<u8>>;

/// A `textDocument/publishDiagnostics` notification, serialised from borrowed parts (the fields and their order
/// are those of `PublishDiagnosticsParams` in a JSON-RPC notification).
#[derive(serde::Serialize)]
struct DiagnosticsNotification<'a> {
    jsonrpc: &'static str,
    method: &'static str,
    params: DiagnosticsParams<'a>,
}

#[derive(serde::Serialize)]
struct DiagnosticsParams<'a> {
    uri: &'a Uri,
    diagnostics: &'a [Diagnostic],
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<i32>,
}

/// Serialises `diagnostics` of `uri` as a `publishDiagnostics` notification and queues it for the client;
/// `false` when the output is closed.
async fn send_diagnostics(
    out: &Frames,
    uri: &Uri,
    diagnostics: &[Diagnostic],
    version: Option<i32>,
) -> bool {
    let marked = version.unwrap_or(-1);
    timeline::mark("publisher", marked);
    let notification = DiagnosticsNotification {
        jsonrpc: "2.0",
        method: PublishDiagnostics::METHOD,
        params: DiagnosticsParams {
            uri,
            diagnostics,
            version,
        },
    };
    let body = match serde_json::to_vec(&notification) {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(
                "cannot serialise the diagnostics of {}: {err}",
                uri.as_str()
            );
            return true;
        }
    };
    timeline::mark("serialised", marked);
    out.send(crate::transport::frame(&body)).await.is_ok()
}

/// The document's parse bounds from the configuration's limits.
fn parse_limits(limits: &Limits) -> ParseLimits {
    ParseLimits {
        max_bytes: usize::try_from(limits.max_file_size).unwrap_or(usize::MAX),
        timeout: limits.parse_timeout,
    }
}

/// Whether `path`, with every symbolic link resolved, lies inside one of the workspace folders (also resolved).
/// The path a document is analysed under: relative to its project — the folder of its configuration file, else
/// the innermost workspace folder holding it — so that the folders above the project never decide its code role
/// (`~/dev/service/main.go` is not a dev tool, `~/tests/app/` not a test).
pub fn analysis_path(path: &Path, key: &ConfigKey, folders: &[PathBuf]) -> PathBuf {
    let project = key.as_deref().and_then(Path::parent).or_else(|| {
        folders
            .iter()
            .filter(|folder| path.starts_with(folder))
            .max_by_key(|folder| folder.components().count())
            .map(PathBuf::as_path)
    });
    project
        .and_then(|project| path.strip_prefix(project).ok())
        .unwrap_or(path)
        .to_path_buf()
}

pub fn inside_folders(path: &Path, folders: &[PathBuf]) -> bool {
    let Ok(real) = path.canonicalize() else {
        return false;
    };
    folders.iter().any(|folder| {
        folder
            .canonicalize()
            .is_ok_and(|real_folder| real.starts_with(real_folder))
    })
}

/// The one diagnostic of a file that is not analysed: at the top, a hint, saying why and what to change.
fn skip_diagnostic(skip: &Skip) -> Diagnostic {
    let remedy = match skip {
        Skip::TooLarge { .. } => {
            "raise the `maxFileSize` setting, or `max-file-size` under [limits] in distsys-review.toml"
        }
        Skip::Generated { .. } => {
            "set `skipGenerated` to false in the settings, or `skip-generated = false` under [limits] in distsys-review.toml"
        }
        Skip::Minified { .. } => {
            "set `skipMinified` to false in the settings, or `skip-minified = false` under [limits] in distsys-review.toml"
        }
        Skip::ParseTimedOut { .. } => {
            "raise `parse-timeout-ms` under [limits] in distsys-review.toml, then reopen the file"
        }
    };
    Diagnostic {
        range: tower_lsp_server::ls_types::Range::default(),
        severity: Some(tower_lsp_server::ls_types::DiagnosticSeverity::HINT),
        code: Some(tower_lsp_server::ls_types::NumberOrString::String(format!(
            "skipped:{}",
            skip.code()
        ))),
        source: Some(convert::SOURCE.to_string()),
        message: format!(
            "distsys-review did not analyse this file: {skip}. To analyse it, {remedy}."
        ),
        ..Diagnostic::default()
    }
}

/// How many scheduled analyses' costs the edit budget predicts the next one's from ([`State::moves_at_once`]).
const RECENT_COSTS: usize = 4;

/// Whether edits are analysed incrementally: `DISTSYS_REVIEW_INCREMENTAL=0` turns it off, so that every edit is
/// analysed as the whole file (on the document's tree; no confirming pass follows). The real-file benchmark
/// drives a second server so, to set the incremental plan against falling back to the whole file on the same
/// edits through the same transport.
fn incremental_edits() -> bool {
    static INCREMENTAL: OnceLock<bool> = OnceLock::new();
    *INCREMENTAL.get_or_init(|| {
        std::env::var("DISTSYS_REVIEW_INCREMENTAL").map_or(true, |value| value.trim() != "0")
    })
}

/// How many sliced analyses' costs [`Doc::edit_snapshot`] compares the whole file's with.
const SLICED_COSTS: usize = 4;
/// Every this many edits analysed whole by [`Doc::edit_snapshot`]'s choice, one is sliced again.
const SLICED_RETRY: u32 = 8;

/// How long a document must go without an edit before the confirming whole-file analysis runs.
const CONFIRM_AFTER: Duration = Duration::from_millis(300);
/// The longest quiet a rerun during a burst waits for before it takes its snapshot ([`burst_window`]).
const BURST_SETTLE: Duration = Duration::from_millis(5);
/// The shortest: below it, changes written back to back by a client (a formatter's edits, a paste, a replay)
/// would each be read after the window closed, and each would start an analysis.
const BURST_QUIET_AT_LEAST: Duration = Duration::from_micros(300);
/// The longest a rerun waits for a burst to pause: diagnostics keep coming during an endless stream of edits.
const BURST_MAX_WAIT: Duration = Duration::from_millis(50);

/// How long a document must go without a change, counted from the last change's arrival, before a rerun during
/// a burst takes its snapshot.
///
/// What waiting can save is the analysis of a version the burst's next change supersedes; an analysis of a
/// superseded version stops at its next unit of work, so it never wastes more than it would cost. A quiet
/// window longer than the document's predicted analysis cost ([`budget::predicted_cost`], from its recent
/// analyses) would therefore delay the last version's diagnostics by more than it can ever save: a file whose
/// edits are analysed in half a millisecond waits half a millisecond, not the 5 ms a whole file of a few
/// thousand lines may take. Clamped to [[`BURST_QUIET_AT_LEAST`], [`BURST_SETTLE`]]; the longest when more
/// changes had already been read when the last one was applied (`more_coming`: the next one is on its way).
fn burst_window(recent_costs: &[Duration], more_coming: bool) -> Duration {
    if more_coming {
        return BURST_SETTLE;
    }
    budget::predicted_cost(recent_costs).clamp(BURST_QUIET_AT_LEAST, BURST_SETTLE)
}

/// Waits (on the analysis thread) until the document has gone its [`burst_window`] without a change, counted
/// from the last change's arrival (`true`), or for [`BURST_MAX_WAIT`] (`false`: the edits go on). A window
/// that has already passed when the rerun comes costs no wait at all.
fn settle(doc: &Mutex<Doc>) -> bool {
    let started = Instant::now();
    loop {
        let quiet_left = {
            let d = lock(doc);
            let window = burst_window(&d.recent_costs, d.more_coming);
            let quiet = d.last_change.map_or(window, |at| at.elapsed());
            window.saturating_sub(quiet)
        };
        if quiet_left.is_zero() {
            return true;
        }
        let waited = started.elapsed();
        if waited >= BURST_MAX_WAIT {
            return false;
        }
        std::thread::sleep(quiet_left.min(BURST_MAX_WAIT - waited));
    }
}

/// For the tests: `DISTSYS_REVIEW_HOLD_ANALYSES=N` makes the first `N` cancellable analyses of the server wait,
/// before they start, until a newer change supersedes them (at most [`HOLD_AT_MOST`]), so that a test can
/// make an analysis be cancelled without depending on timing. Unset (always, outside the tests), nothing waits.
fn hold_until_superseded(superseded: &dyn Fn() -> bool) {
    static HOLDS_LEFT: OnceLock<AtomicU64> = OnceLock::new();
    let holds = HOLDS_LEFT.get_or_init(|| {
        AtomicU64::new(
            std::env::var("DISTSYS_REVIEW_HOLD_ANALYSES")
                .ok()
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or(0),
        )
    });
    let took = holds.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
        left.checked_sub(1)
    });
    if took.is_err() {
        return;
    }
    let started = Instant::now();
    while !superseded() && started.elapsed() < HOLD_AT_MOST {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The version of the last change applied, for [`hold_reparse_until`] (the tests' documents are one at a time).
static LAST_CHANGED_TO: AtomicI64 = AtomicI64::new(i64::MIN);

fn note_change(version: i32) {
    LAST_CHANGED_TO.store(i64::from(version), Ordering::SeqCst);
}

/// For the tests: `DISTSYS_REVIEW_HOLD_REPARSES=V` makes the parse of a text changed to a version below `V`
/// wait, before it starts, until the change to version `V` (or a later one) is applied (at most
/// [`HOLD_AT_MOST`]): a slow reparse, without depending on timing. Unset (always, outside the tests), nothing
/// waits.
fn hold_reparse_until(version: i32) {
    static HOLD_BELOW: OnceLock<Option<i64>> = OnceLock::new();
    let hold_below = HOLD_BELOW.get_or_init(|| {
        std::env::var("DISTSYS_REVIEW_HOLD_REPARSES")
            .ok()
            .and_then(|value| value.trim().parse().ok())
    });
    let Some(until) = *hold_below else { return };
    if i64::from(version) >= until {
        return;
    }
    let started = Instant::now();
    while LAST_CHANGED_TO.load(Ordering::SeqCst) < until && started.elapsed() < HOLD_AT_MOST {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The longest a held analysis ([`hold_until_superseded`]) waits for the change that supersedes it.
const HOLD_AT_MOST: Duration = Duration::from_secs(20);

/// The engine's intake for files under the configuration `key`: its `exclude` globs are relative to the
/// configuration file's folder. Without a file there are no globs to match, so no folder is needed.
pub(crate) fn intake<'a>(engine: &'a Engine, key: &'a ConfigKey) -> Intake<'a> {
    let root = key
        .as_deref()
        .and_then(Path::parent)
        .unwrap_or(Path::new(""));
    Intake::new(engine.config(), root)
}

pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    if !uri.scheme().as_str().eq_ignore_ascii_case("file") {
        return None;
    }
    uri.to_file_path().map(|p| p.into_owned())
}

#[cfg(test)]
mod analysis_path_tests {
    use super::*;

    #[test]
    fn documents_are_analysed_relative_to_their_project() {
        let folders = vec![
            PathBuf::from("/home/me/dev"),
            PathBuf::from("/home/me/dev/shop"),
        ];
        let file = Path::new("/home/me/dev/shop/cmd/api/main.go");
        assert_eq!(
            analysis_path(file, &None, &folders),
            Path::new("cmd/api/main.go")
        );
        let config = Some(PathBuf::from("/home/me/dev/shop/cmd/distsys-review.toml"));
        assert_eq!(
            analysis_path(file, &config, &folders),
            Path::new("api/main.go")
        );
        let outside = Path::new("/tmp/x.go");
        assert_eq!(analysis_path(outside, &None, &folders), outside);
    }
}

#[cfg(test)]
mod burst_tests {
    use super::*;

    fn ms(millis: f64) -> Duration {
        Duration::from_secs_f64(millis / 1000.0)
    }

    #[test]
    fn a_burst_waits_no_longer_than_an_analysis_of_the_document_costs() {
        // Cheap slices: the window is the dearest recent analysis, not a fixed 5 ms.
        assert_eq!(burst_window(&[ms(0.4), ms(0.1), ms(0.9)], false), ms(0.9));
        // A letter deleted back to a kept result is nearly free: the dearest of the last few still counts.
        assert_eq!(burst_window(&[ms(1.2), ms(0.02)], false), ms(1.2));
        // Never below the floor (back-to-back changes must still coalesce), never above the ceiling.
        assert_eq!(burst_window(&[ms(0.01)], false), BURST_QUIET_AT_LEAST);
        assert_eq!(burst_window(&[], false), BURST_QUIET_AT_LEAST);
        assert_eq!(burst_window(&[ms(30.0), ms(2.0)], false), BURST_SETTLE);
        // More changes already read: the next is on its way, the longest window whatever the cost.
        assert_eq!(burst_window(&[ms(0.4)], true), BURST_SETTLE);
    }
}
