//! The `LanguageServer` implementation: thin handlers over [`State`]. Notification handlers that change
//! documents are plain functions returning a ready future, so their work is done when the framework first polls
//! them, in arrival order, with no `.await` that could let a later message overtake them (DESIGN §9).

use std::future::{ready, Future};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use dsr_syntax::{PositionEncoding, TextChange};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::LanguageServer;

use crate::code_actions::{self, FIX_ALL_KIND};
use crate::convert;
use crate::settings::Scope;
use crate::state::{uri_to_path, ClientCaps, Job, State};
use crate::sync::lock;
use crate::workspace;

pub const EXPLAIN_COMMAND: &str = "distsys-review.explain";
pub const DOCUMENT_STATE_METHOD: &str = "distsys-review/documentState";

pub struct Server {
    pub(crate) state: Arc<State>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentStateParams {
    pub text_document: TextDocumentIdentifier,
    /// `false`: leave the text out (empty). A client polling the state after each edit (the latency benchmark)
    /// would otherwise have the whole file copied and escaped into every answer, on the message path.
    #[serde(default = "with_text")]
    pub text: bool,
}

fn with_text() -> bool {
    true
}

/// What the server holds for a document (a debugging aid, and what the ordering test checks).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentState {
    pub version: i32,
    pub text: String,
    pub desynced: bool,
    pub language: String,
    /// The version of the newest analysis kept, if any.
    pub analyzed_version: Option<i32>,
    /// Whether that analysis is provisional: the previous one moved to this version while it is analysed.
    #[serde(default)]
    pub analyzed_provisional: bool,
    /// Analyses the server has started so far, all documents together (the burst test's coalescing check).
    #[serde(default)]
    pub analyses: u64,
    /// Provisional results published because an analysis overran the edit budget, all documents together.
    #[serde(default)]
    pub provisionals: u64,
    /// Analyses stopped before their end because their document changed again, all documents together.
    #[serde(default)]
    pub cancelled: u64,
    /// Parses of documents' texts run off the message loop, all documents together (the fold test).
    #[serde(default)]
    pub reparses: u64,
    /// Bytes of source the document's last incremental analysis analysed (its slices, or the whole file),
    /// and whether it analysed the whole file (the pause test: a relink that changed nothing the document
    /// reads keeps its slices).
    #[serde(default)]
    pub analyzed_bytes: usize,
    #[serde(default)]
    pub analyzed_whole_file: bool,
}

impl Server {
    pub(crate) fn new(state: Arc<State>) -> Self {
        Self { state }
    }

    /// `distsys-review/documentState`: read before any `.await`, so it sees every earlier edit.
    pub async fn document_state(
        &self,
        params: DocumentStateParams,
    ) -> Result<Option<DocumentState>> {
        let Some(doc) = self.state.doc(&params.text_document.uri) else {
            return Ok(None);
        };
        let d = lock(&doc);
        let stats = d.incremental_stats();
        Ok(Some(DocumentState {
            version: d.document.version(),
            text: if params.text {
                d.document.text()
            } else {
                String::new()
            },
            desynced: d.desynced,
            language: d.document.language().display_name().to_string(),
            analyzed_version: d.analyzed.as_ref().map(|a| a.version),
            analyzed_provisional: d.analyzed.as_ref().is_some_and(|a| a.provisional),
            analyses: self.state.analyses.load(Ordering::Relaxed),
            provisionals: self.state.provisionals.load(Ordering::Relaxed),
            cancelled: self.state.cancelled.load(Ordering::Relaxed),
            reparses: self.state.reparses.load(Ordering::Relaxed),
            analyzed_bytes: stats.bytes_analysed,
            analyzed_whole_file: stats.whole_file,
        }))
    }
}

fn negotiate_encoding(params: &InitializeParams) -> PositionEncoding {
    let offered = params
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_deref())
        .unwrap_or_default();
    if offered.contains(&PositionEncodingKind::UTF8) {
        PositionEncoding::Utf8
    } else {
        PositionEncoding::Utf16
    }
}

fn client_caps(caps: &ClientCapabilities) -> ClientCaps {
    let workspace = caps.workspace.as_ref();
    let code_action = caps
        .text_document
        .as_ref()
        .and_then(|t| t.code_action.as_ref());
    ClientCaps {
        watched_files_dynamic: workspace
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|w| w.dynamic_registration)
            .unwrap_or(false),
        work_done_progress: caps
            .window
            .as_ref()
            .and_then(|w| w.work_done_progress)
            .unwrap_or(false),
        configuration: workspace.and_then(|w| w.configuration).unwrap_or(false),
        code_action_resolve: code_action
            .and_then(|c| c.resolve_support.as_ref())
            .is_some_and(|r| r.properties.iter().any(|p| p == "edit")),
        document_changes: workspace
            .and_then(|w| w.workspace_edit.as_ref())
            .and_then(|e| e.document_changes)
            .unwrap_or(false),
    }
}

fn folders(params: &InitializeParams) -> Vec<PathBuf> {
    match &params.workspace_folders {
        Some(folders) => folders.iter().filter_map(|f| uri_to_path(&f.uri)).collect(),
        #[allow(deprecated)]
        None => params
            .root_uri
            .as_ref()
            .and_then(uri_to_path)
            .into_iter()
            .collect(),
    }
}

fn text_change(change: TextDocumentContentChangeEvent) -> TextChange {
    TextChange {
        range: change
            .range
            .map(|r| (convert::to_syntax(r.start), convert::to_syntax(r.end))),
        text: change.text,
    }
}

impl LanguageServer for Server {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let encoding = negotiate_encoding(&params);
        let caps = client_caps(&params.capabilities);
        let folders = folders(&params);
        tracing::info!(
            "initialize from {}: encoding {encoding:?}, folders {folders:?}, {caps:?}",
            params
                .client_info
                .as_ref()
                .map_or("an unnamed client", |c| c.name.as_str())
        );
        {
            let mut session = self
                .state
                .session
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            session.encoding = encoding;
            session.caps = caps;
            session.folders = folders;
        }
        if let Some(options) = &params.initialization_options {
            self.state.apply_settings(options);
        }
        if let Some(pid) = params.process_id {
            crate::watch_client_process(pid);
        }
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(convert::encoding_kind(encoding)),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                            include_text: Some(false),
                        })),
                        ..TextDocumentSyncOptions::default()
                    },
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![
                            CodeActionKind::QUICKFIX,
                            CodeActionKind::new(FIX_ALL_KIND),
                        ]),
                        resolve_provider: Some(true),
                        work_done_progress_options: WorkDoneProgressOptions::default(),
                    },
                )),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: vec![EXPLAIN_COMMAND.to_string()],
                    work_done_progress_options: WorkDoneProgressOptions::default(),
                }),
                workspace: Some(WorkspaceServerCapabilities {
                    workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                        supported: Some(true),
                        change_notifications: Some(OneOf::Left(true)),
                    }),
                    file_operations: None,
                }),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "distsys-review".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            offset_encoding: None,
        })
    }

    fn initialized(&self, _: InitializedParams) -> impl Future<Output = ()> + Send {
        let session = self.state.session();
        if session.caps.watched_files_dynamic {
            self.state.job(Job::RegisterWatchers);
        }
        if !session.folders.is_empty() && session.settings.index {
            self.state.job(Job::BuildIndex);
        }
        if session.settings.scope == Scope::Workspace {
            self.state.job(Job::IndexWorkspace);
        }
        ready(())
    }

    async fn shutdown(&self) -> Result<()> {
        tracing::info!("shutdown requested");
        self.state.shutdown_requested.store(true, Ordering::SeqCst);
        self.state.index_generation.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn did_open(&self, params: DidOpenTextDocumentParams) -> impl Future<Output = ()> + Send {
        let document = params.text_document;
        self.state.open(
            document.uri,
            &document.language_id,
            document.version,
            &document.text,
        );
        ready(())
    }

    fn did_change(&self, params: DidChangeTextDocumentParams) -> impl Future<Output = ()> + Send {
        let changes = params
            .content_changes
            .into_iter()
            .map(text_change)
            .collect();
        self.state.change(
            &params.text_document.uri,
            params.text_document.version,
            changes,
        );
        ready(())
    }

    fn did_save(&self, params: DidSaveTextDocumentParams) -> impl Future<Output = ()> + Send {
        // Clients without file watching still tell us when the configuration file is saved in the editor.
        if let Some(path) = uri_to_path(&params.text_document.uri) {
            if workspace::is_config_file(&path) && !self.state.session().caps.watched_files_dynamic
            {
                self.state.config_file_changed(&path);
            }
        }
        ready(())
    }

    fn did_close(&self, params: DidCloseTextDocumentParams) -> impl Future<Output = ()> + Send {
        self.state.close(&params.text_document.uri);
        ready(())
    }

    fn did_change_configuration(
        &self,
        params: DidChangeConfigurationParams,
    ) -> impl Future<Output = ()> + Send {
        let empty = match &params.settings {
            Value::Null => true,
            Value::Object(map) => map.is_empty(),
            _ => false,
        };
        if empty && self.state.session().caps.configuration {
            // The pull model: the notification only says "ask me".
            self.state.job(Job::PullConfiguration);
        } else {
            self.state.apply_settings(&params.settings);
        }
        ready(())
    }

    fn did_change_watched_files(
        &self,
        params: DidChangeWatchedFilesParams,
    ) -> impl Future<Output = ()> + Send {
        workspace::watched_files_changed(&self.state, params.changes);
        ready(())
    }

    fn did_change_workspace_folders(
        &self,
        params: DidChangeWorkspaceFoldersParams,
    ) -> impl Future<Output = ()> + Send {
        let removed: Vec<PathBuf> = params
            .event
            .removed
            .iter()
            .filter_map(|f| uri_to_path(&f.uri))
            .collect();
        let added: Vec<PathBuf> = params
            .event
            .added
            .iter()
            .filter_map(|f| uri_to_path(&f.uri))
            .collect();
        {
            let mut session = self
                .state
                .session
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            session.folders.retain(|f| !removed.contains(f));
            session.folders.extend(added);
        }
        if self.state.settings().index {
            self.state.job(Job::BuildIndex);
        }
        if self.state.settings().scope == Scope::Workspace {
            self.state.clear_workspace_files();
            self.state.job(Job::IndexWorkspace);
        }
        ready(())
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let position = params.text_document_position_params.position;
        let uri = &params.text_document_position_params.text_document.uri;
        let Some(analysis) = self.state.current(uri) else {
            return Ok(None);
        };
        let settings = self.state.settings();
        let Some(analyzed) = analysis.await else {
            return Ok(None);
        };
        Ok(crate::hover::hover(&analyzed, position, &settings))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let Some(analysis) = self.state.current(&params.text_document.uri) else {
            return Ok(None);
        };
        let caps = self.state.session().caps;
        let Some(analyzed) = analysis.await else {
            return Ok(None);
        };
        let actions = code_actions::code_actions(&analyzed, &params, &caps);
        Ok((!actions.is_empty()).then_some(actions))
    }

    async fn code_action_resolve(&self, action: CodeAction) -> Result<CodeAction> {
        let Some(uri) = code_actions::resolve_target(&action) else {
            return Ok(action);
        };
        let Some(analysis) = self.state.current(&uri) else {
            return Err(Error::invalid_params(format!(
                "{} is not open (or out of sync)",
                uri.as_str()
            )));
        };
        let caps = self.state.session().caps;
        let Some(analyzed) = analysis.await else {
            return Err(Error::internal_error());
        };
        // Fix-all re-analyses between rounds: keep it off the async workers.
        crate::pools::spawn_blocking(crate::pools::Work::Edit, move || {
            code_actions::resolve(&analyzed, action, &caps)
        })
        .await
        .map_err(|_| Error::internal_error())
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        if params.command != EXPLAIN_COMMAND {
            return Err(Error::invalid_params(format!(
                "unknown command `{}`",
                params.command
            )));
        }
        let code = params
            .arguments
            .first()
            .and_then(|argument| match argument {
                Value::String(code) => Some(code.clone()),
                Value::Object(object) => {
                    object.get("code").and_then(Value::as_str).map(String::from)
                }
                _ => None,
            });
        let Some(code) = code else {
            return Err(Error::invalid_params(
                "distsys-review.explain takes a rule code, e.g. [\"BKP001\"]",
            ));
        };
        match dsr_rules::find(&code) {
            Some(registered) => Ok(Some(Value::String(dsr_rules::docs::rule_page(
                registered.rule.meta(),
            )))),
            None => Err(Error::invalid_params(format!("no rule `{code}`"))),
        }
    }
}
