//! The rule contract: the [`Rule`] trait, over the metadata of [`crate::meta`]. What a detector reads (the
//! `RuleContext` of dsr-semantic) is the trait's parameter, so this crate does not depend on the analysis.

pub use crate::meta::{
    Family, FixAvailability, Model, Registered, RuleMeta, RuleScope, RuleStatus,
};

use crate::finding::Finding;

/// A detector over `Context`, everything it may read about one file (dsr-semantic's `RuleContext`). Rules are
/// stateless.
pub trait Rule<Context: ?Sized>: Send + Sync + 'static {
    fn meta(&self) -> &'static RuleMeta;

    /// Reports findings for one file. Must tolerate ERROR nodes and never panic on any input (a panic is
    /// caught, logged and costs the file this rule's findings, but it is still a bug).
    fn check(&self, ctx: &Context, sink: &mut Vec<Finding>);
}
