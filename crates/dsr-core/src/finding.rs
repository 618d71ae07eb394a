//! The one type every output is made from. A [`Finding`] is created once, by a rule, and never re-shaped:
//! diagnostics, hovers, code actions and every report format are views of it.

use std::path::PathBuf;

use dsr_syntax::TextRange;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use crate::classification::{Confidence, FindingKind, Impact, Severity};
use crate::meta::RuleMeta;
use crate::role::CodeRole;

/// Whether a fix may be applied without a human reading it (ruff's `Safe | Unsafe | DisplayOnly`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    /// Keeps the program's meaning apart from the defect: applied by fix-all and `check --fix`.
    Always,
    /// Probably right, but changes behaviour a reader should confirm: offered, applied only on request.
    Maybe,
    /// Advice only: the fix is text in the finding, not an edit.
    DisplayOnly,
}

/// Replace `range` (bytes of the file the finding is in) with `replacement`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    pub range: TextRange,
    pub replacement: String,
}

impl Edit {
    pub fn insert(offset: usize, text: impl Into<String>) -> Self {
        Self {
            range: TextRange::new(offset, offset),
            replacement: text.into(),
        }
    }

    pub fn replace(range: TextRange, text: impl Into<String>) -> Self {
        Self {
            range,
            replacement: text.into(),
        }
    }
}

/// The recommended fix: a title (imperative: "add a 10 s `Timeout`"), the edits, and whether they may be
/// applied unattended. `edits` is empty for [`Applicability::DisplayOnly`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    pub title: String,
    pub applicability: Applicability,
    pub edits: Vec<Edit>,
}

impl Fix {
    pub fn advice(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            applicability: Applicability::DisplayOnly,
            edits: Vec::new(),
        }
    }

    pub fn edits(title: impl Into<String>, applicability: Applicability, edits: Vec<Edit>) -> Self {
        Self {
            title: title.into(),
            applicability,
            edits,
        }
    }
}

/// A piece of code the finding rests on, with a note on what it shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// `None`: the file the finding is in.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub path: Option<PathBuf>,
    pub range: TextRange,
    pub note: String,
}

/// One defect (or open question) at one place, in the review template's fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule that made it, so that every view reads the rule's metadata from here instead of looking the
    /// code up. Serialized as the code, e.g. `RES001`; read back only inside [`with_rule_lookup`].
    #[serde(
        serialize_with = "serialize_code",
        deserialize_with = "deserialize_code"
    )]
    pub rule: &'static RuleMeta,
    /// Specific to this instance: "`http.Get` uses `http.DefaultClient`, which has no timeout".
    pub title: String,
    pub severity: Severity,
    pub impact: Impact,
    pub kind: FindingKind,
    pub confidence: Confidence,
    /// Bytes of the file the finding is in.
    pub range: TextRange,
    /// The enclosing type/function path, e.g. `OrderService.Charge`.
    pub component: String,
    /// The failure mode that turns this code into an incident.
    pub trigger: String,
    pub expected: String,
    pub actual: String,
    pub evidence: Vec<Evidence>,
    pub fix: Option<Fix>,
    /// What the code at `range.start` is for (production, test, tool…). Set by the engine when it collects a
    /// rule's findings; the run's `[scope]` drops findings in roles it does not include.
    pub role: CodeRole,
}

impl Finding {
    /// The rule code, e.g. `RES001`.
    pub fn code(&self) -> &'static str {
        self.rule.code
    }

    pub fn is_open_question(&self) -> bool {
        self.kind == FindingKind::OpenQuestion
    }
}

fn serialize_code<S: Serializer>(
    rule: &&'static RuleMeta,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(rule.code)
}

/// Finds a rule's metadata by its code: what a serialized finding's `rule` is read back with.
pub type RuleLookup = fn(&str) -> Option<&'static RuleMeta>;

thread_local! {
    /// The lookup [`with_rule_lookup`] installs for the deserializations it runs.
    static RULE_LOOKUP: std::cell::Cell<Option<RuleLookup>> = const { std::cell::Cell::new(None) };
}

/// Runs `read` with `lookup` as the way a deserialized [`Finding`]'s rule code becomes its metadata (the
/// registry lives above this crate). Outside it, deserializing a finding fails.
pub fn with_rule_lookup<T>(lookup: RuleLookup, read: impl FnOnce() -> T) -> T {
    let previous = RULE_LOOKUP.with(|cell| cell.replace(Some(lookup)));
    let value = read();
    RULE_LOOKUP.with(|cell| cell.set(previous));
    value
}

fn deserialize_code<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<&'static RuleMeta, D::Error> {
    let code = String::deserialize(deserializer)?;
    let lookup = RULE_LOOKUP.with(std::cell::Cell::get).ok_or_else(|| {
        serde::de::Error::custom("findings are read back only with a rule lookup")
    })?;
    lookup(&code).ok_or_else(|| serde::de::Error::custom(format!("unknown rule `{code}`")))
}

/// `text` as a Markdown code span. Code that holds backticks itself (a JS template literal, MySQL's quoted names)
/// needs a longer fence with spaces inside, or the span ends early and renders as an empty one (``).
pub fn code_span(text: &str) -> String {
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    if longest_run == 0 {
        return format!("`{text}`");
    }
    let fence = "`".repeat(longest_run + 1);
    format!("{fence} {text} {fence}")
}

#[cfg(test)]
mod code_span_tests {
    use super::code_span;

    #[test]
    fn fences_code_that_holds_backticks() {
        assert_eq!(code_span("a.b"), "`a.b`");
        assert_eq!(code_span("`stock:${sku}`"), "`` `stock:${sku}` ``");
    }
}
