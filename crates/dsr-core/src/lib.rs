//! The engine of distsys-review: the [`Finding`] model, the [`Rule`] framework, per-file [`FileFacts`], the
//! library [`KnowledgeBase`], [`Config`]uration, suppressions, and [`Engine::analyze`].
//!
//! Invariant: nothing here knows LSP or any output format; analysis of broken code returns findings, never fails.

pub mod commands;
pub mod config;
pub mod engine;
pub mod facts;
pub mod finding;
pub mod fix;
pub mod incremental;
pub mod kb;
pub mod limits;
pub mod models;
pub mod rule;
pub mod sql;
pub mod suppression;

pub use config::{Config, ConfigError};
pub use dsr_syntax::{self, Language, TextRange};
pub use engine::{Analysis, Engine, RuleFailure};
pub use facts::FileFacts;
pub use finding::{
    Applicability, Confidence, Edit, Evidence, Finding, FindingKind, Fix, Impact, Severity,
};
pub use incremental::{IncrementalCache, IncrementalStats};
pub use kb::KnowledgeBase;
pub use limits::{Limits, Skip};
pub use rule::{Family, FixAvailability, Rule, RuleContext, RuleMeta};
pub use tree_sitter;
