//! How a finding is classified: severity, impact, kind and confidence. Its own module because both a rule's
//! metadata (its defaults) and the finding use them.

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
