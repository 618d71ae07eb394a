//! Runs the rules, and is the one pipeline both front ends call: [`intake`] (which files are analysed, and why
//! the others are not), [`Engine::analyze`] (facts once, every enabled rule isolated against panics, configured
//! severities, suppressions), [`fix::fix_all`] (fixes to a fixed point, refusing any that breaks the parse), and
//! [`incremental`] analysis of slices of a file for the language server.

pub mod cancel;
pub mod cpu;
pub mod engine;
pub mod fix;
pub mod incremental;
pub mod index;
pub mod intake;
pub mod parse;

pub use cancel::{Cancellation, Cancelled};
pub use engine::{Analysis, AnalysisInput, Engine, IndexPass, RuleFailure};
pub use fix::{fix_all, FixMode, FixProblem, Fixed, MAX_FIX_ROUNDS};
pub use incremental::{IncrementalCache, IncrementalStats};
pub use intake::{Intake, SkipReason};
