//! The one type every output is made from. A [`Finding`] is created once, by a rule, and never re-shaped:
//! diagnostics, hovers, code actions and every report format are views of it.

use std::path::PathBuf;

use dsr_syntax::TextRange;
use serde::{Deserialize, Serialize};

/// How bad the worst realistic outcome is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Hardening.
    Low,
    /// Bounded blast radius.
    Medium,
    /// Major availability loss or persistent wrong behaviour.
    High,
    /// A realistic path to data loss, silent corruption or unrecoverable inconsistency.
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub const fn title(self) -> &'static str {
        match self {
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
        }
    }

    pub fn parse(value: &str) -> Option<Severity> {
        Some(match value.to_ascii_lowercase().as_str() {
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
}

/// What goes wrong for the users of the system.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Impact {
    DataLoss,
    SilentCorruption,
    Consistency,
    Availability,
    Operability,
}

impl Impact {
    pub const fn as_str(self) -> &'static str {
        match self {
            Impact::DataLoss => "data loss",
            Impact::SilentCorruption => "silent corruption",
            Impact::Consistency => "consistency",
            Impact::Availability => "availability",
            Impact::Operability => "operability",
        }
    }
}

/// A finding states a defect; an open question says the code does not show enough to decide.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    Finding,
    OpenQuestion,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub const fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

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
    /// The rule code, e.g. `RES001`.
    pub rule: &'static str,
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
}

impl Finding {
    pub fn is_open_question(&self) -> bool {
        self.kind == FindingKind::OpenQuestion
    }
}
