//! What the code means: the facts pass ([`FileFacts`], one walk of the tree), SQL and key-value store command
//! decoding, the shared models of distributed-systems constructs ([`models`]), matching the knowledge base
//! against calls ([`kb::KbMatch`]) and the [`RuleContext`] every rule reads.
//!
//! Invariant: analysis of broken code gives partial facts, never an error; nothing here runs rules.

pub mod context;
pub mod facts;
pub mod index;
pub mod kb;
pub mod models;
pub mod roles;
pub mod sql;
pub mod sql_dialect;
pub mod store_commands;

pub use context::{Answer, DynRule, FindingBuilder, Question, RegisteredRule, RuleContext};
pub use facts::FileFacts;
pub use kb::KbMatch;
pub use tree_sitter;
