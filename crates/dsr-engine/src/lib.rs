//! Runs the rules: [`Engine::analyze`] (facts once, every enabled rule isolated against panics, configured
//! severities, suppressions) and [`incremental`] analysis of slices of a file for the language server.

pub mod engine;
pub mod incremental;

pub use engine::{Analysis, Engine, RuleFailure};
pub use incremental::{IncrementalCache, IncrementalStats};
