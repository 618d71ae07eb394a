//! The contract of distsys-review: the [`Finding`] every output is made from, fixes and their edits, rule
//! metadata and the [`Rule`] trait, [`Config`]uration, suppressions, [`Limits`] and the knowledge base's data
//! ([`KnowledgeBase`]; matching it against code is dsr-semantic's).
//!
//! Invariant: nothing here knows a syntax tree's meaning, LSP or any output format.

pub mod classification;
pub mod config;
pub mod finding;
pub mod fix;
pub mod http;
pub mod justification;
pub mod kb;
pub mod limits;
pub mod meta;
pub mod role;
pub mod rule;
pub mod sql;
pub mod suppression;

pub use config::{Config, ConfigError};
pub use dsr_syntax::{self, Language, TextRange};
pub use finding::{
    Applicability, Confidence, Edit, Evidence, Finding, FindingKind, Fix, Impact, Severity,
};
pub use kb::KnowledgeBase;
pub use limits::{Limits, Skip};
pub use meta::{
    Family, FixAvailability, Model, Registered, RuleMeta, RuleRoles, RuleScope, RuleStatus,
};
pub use role::CodeRole;
pub use rule::Rule;
