//! The rule contract: the metadata every rule declares and the [`Rule`] trait. What a detector reads (the
//! `RuleContext` of dsr-semantic) is the trait's parameter, so this crate does not depend on the analysis.

use dsr_syntax::Language;

use crate::finding::{Finding, FindingKind, Impact, Severity};

/// The review checklist's families; the code prefix names the family.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Resilience,
    Delivery,
    Consistency,
    Ordering,
    State,
    Coordination,
    Backpressure,
    Observability,
    Api,
    Operations,
    /// About the tool's own comments (unused suppressions).
    Meta,
}

impl Family {
    pub const fn prefix(self) -> &'static str {
        match self {
            Family::Resilience => "RES",
            Family::Delivery => "DEL",
            Family::Consistency => "CON",
            Family::Ordering => "ORD",
            Family::State => "STA",
            Family::Coordination => "LCK",
            Family::Backpressure => "BKP",
            Family::Observability => "OBS",
            Family::Api => "API",
            Family::Operations => "OPS",
            Family::Meta => "DSR",
        }
    }

    pub const fn title(self) -> &'static str {
        match self {
            Family::Resilience => "failure handling and resilience",
            Family::Delivery => "idempotency and delivery semantics",
            Family::Consistency => "consistency and correctness",
            Family::Ordering => "ordering, causality and time",
            Family::State => "state ownership",
            Family::Coordination => "coordination and locking",
            Family::Backpressure => "backpressure and load",
            Family::Observability => "observability",
            Family::Api => "API and protocol design",
            Family::Operations => "operations and deployment",
            Family::Meta => "suppressions",
        }
    }
}

/// Whether a rule can offer edits.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FixAvailability {
    /// Every finding carries edits.
    Always,
    /// Some findings carry edits, others advice.
    Sometimes,
    /// Advice only.
    Never,
}

/// A rule's life cycle; codes are never reused, removed rules keep their row.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RuleStatus {
    Stable,
    Preview,
    Deprecated,
}

/// What a rule declares about itself (see [`declare_rule!`](crate::declare_rule)).
#[derive(Debug)]
pub struct RuleMeta {
    pub code: &'static str,
    pub slug: &'static str,
    pub family: Family,
    /// `TypeScript` covers TSX and JavaScript too.
    pub languages: &'static [Language],
    pub severity: Severity,
    pub impact: Impact,
    /// `OpenQuestion` for rules that only ever ask.
    pub kind: FindingKind,
    pub fix: FixAvailability,
    pub status: RuleStatus,
    /// The doc comment, one entry per line, each still with the space that follows `///`.
    pub doc_lines: &'static [&'static str],
}

impl RuleMeta {
    pub fn applies_to(&self, language: Language) -> bool {
        self.languages.iter().any(|declared| {
            *declared == language || (declared.is_typescript() && language.is_typescript())
        })
    }

    /// The rule's documentation page, in Markdown.
    pub fn doc(&self) -> String {
        let mut doc = String::new();
        for line in self.doc_lines {
            doc.push_str(line.strip_prefix(' ').unwrap_or(line));
            doc.push('\n');
        }
        doc
    }

    /// One section of the doc (`## Why it fails under partial failure` → its body), trimmed.
    pub fn doc_section(&self, heading: &str) -> Option<String> {
        let doc = self.doc();
        let marker = format!("## {heading}");
        let start = doc.find(&marker)? + marker.len();
        let body = &doc[start..];
        let end = body.find("\n## ").unwrap_or(body.len());
        Some(body[..end].trim().to_string())
    }

    /// The first sentence of "What it finds", for tables and SARIF short descriptions.
    pub fn summary(&self) -> String {
        let what = self.doc_section("What it finds").unwrap_or_default();
        let paragraph = what
            .split("\n\n")
            .next()
            .unwrap_or_default()
            .replace('\n', " ");
        match paragraph.find(". ") {
            Some(end) => paragraph[..=end].trim().to_string(),
            None => paragraph.trim().to_string(),
        }
    }
}

/// A detector over `Context`, everything it may read about one file (dsr-semantic's `RuleContext`). Rules are
/// stateless.
pub trait Rule<Context: ?Sized>: Send + Sync + 'static {
    fn meta(&self) -> &'static RuleMeta;

    /// Reports findings for one file. Must tolerate ERROR nodes and never panic on any input (a panic is
    /// caught, logged and costs the file this rule's findings, but it is still a bug).
    fn check(&self, ctx: &Context, sink: &mut Vec<Finding>);
}

/// Declares a rule: a unit struct whose doc comment is the rule's documentation page, and its [`RuleMeta`] as
/// `Self::META`. The doc comment must have the sections STYLE.md names; a test in dsr-rules checks that.
///
/// ```ignore
/// declare_rule! {
///     /// ## What it finds
///     /// ...
///     pub struct HttpClientWithoutTimeout {
///         code: "RES001",
///         slug: "http-client-without-timeout",
///         family: Resilience,
///         languages: [Go, Rust, TypeScript],
///         severity: High,
///         impact: Availability,
///         kind: Finding,
///         fix: Sometimes,
///     }
/// }
/// ```
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $name:ident {
            code: $code:literal,
            slug: $slug:literal,
            family: $family:ident,
            languages: [$($language:ident),* $(,)?],
            severity: $severity:ident,
            impact: $impact:ident,
            kind: $kind:ident,
            fix: $fix:ident $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Default, Clone, Copy)]
        $vis struct $name;

        impl $name {
            pub const META: $crate::rule::RuleMeta = $crate::rule::RuleMeta {
                code: $code,
                slug: $slug,
                family: $crate::rule::Family::$family,
                languages: &[$($crate::Language::$language),*],
                severity: $crate::finding::Severity::$severity,
                impact: $crate::finding::Impact::$impact,
                kind: $crate::finding::FindingKind::$kind,
                fix: $crate::rule::FixAvailability::$fix,
                status: $crate::rule::RuleStatus::Stable,
                doc_lines: &[$($doc),*],
            };
        }
    };
}
