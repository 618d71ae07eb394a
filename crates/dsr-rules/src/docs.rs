//! Rendering of rule pages (`docs/rules/<CODE>.md`), the same text `explain`, hovers and `codeDescription` use.

use dsr_core::{FixAvailability, RuleMeta, RuleStatus};
use dsr_semantic::RegisteredRule;

/// The sections every rule's doc comment has, in order (STYLE.md §1).
pub const SECTIONS: [&str; 8] = [
    "What it finds",
    "Why it fails under partial failure",
    "Known false positives",
    "Example",
    "Use instead",
    "Fix safety",
    "Configuration",
    "References",
];

/// The full page of a rule, in Markdown.
pub fn rule_page(meta: &RuleMeta) -> String {
    let languages: Vec<&str> = meta.languages.iter().map(|l| l.display_name()).collect();
    let kind = match meta.kind {
        dsr_core::FindingKind::Finding => "finding",
        dsr_core::FindingKind::OpenQuestion => "open question",
    };
    let fix = match meta.fix {
        FixAvailability::Always => "edits",
        FixAvailability::Sometimes => "edits where safe, advice otherwise",
        FixAvailability::Never => "advice",
    };
    format!(
        "# {code} {slug}\n\n| | |\n|---|---|\n| Family | {family} ({prefix}) |\n| Default severity | {severity} |\n| Impact | {impact} |\n| Reported as | {kind} |\n| Languages | {languages} |\n| Fix | {fix} |\n| Code roles | {roles} |\n\n{doc}",
        code = meta.code,
        slug = meta.slug,
        family = meta.family.title(),
        prefix = meta.family.prefix(),
        severity = meta.severity.title(),
        impact = meta.impact.as_str(),
        languages = languages.join(", "),
        roles = meta.roles.describe(),
        doc = meta.doc(),
    )
}

/// A rule's name in a listing: its slug, with its status after it unless it is stable
/// (`retry-storm (preview)`).
pub fn listed_name(registered: &RegisteredRule) -> String {
    let slug = registered.rule.meta().slug;
    match registered.status {
        RuleStatus::Stable => slug.to_string(),
        status => format!("{slug} ({})", status.as_str()),
    }
}

/// The index page: one row per rule.
pub fn index_page(rules: &[RegisteredRule]) -> String {
    let mut page = String::from(
        "# Rules\n\nGenerated from the rules' doc comments by `cargo test -p dsr-rules --test docs` \
         (run with `UPDATE_DOCS=1` to rewrite). Each page is also printed by `distsys-review explain CODE`.\n\n\
         | Code | Name | Severity | Impact | Languages | Summary |\n|---|---|---|---|---|---|\n",
    );
    for registered in rules {
        let meta = registered.rule.meta();
        let languages: Vec<&str> = meta.languages.iter().map(|l| l.display_name()).collect();
        page.push_str(&format!(
            "| [{code}]({code}.md) | {slug} | {severity} | {impact} | {languages} | {summary} |\n",
            code = meta.code,
            slug = listed_name(registered),
            severity = if meta.kind == dsr_core::FindingKind::OpenQuestion {
                "Open question".to_string()
            } else {
                meta.severity.title().to_string()
            },
            impact = meta.impact.as_str(),
            languages = languages.join(", "),
            summary = meta.summary().replace('|', "\\|"),
        ));
    }
    page
}
