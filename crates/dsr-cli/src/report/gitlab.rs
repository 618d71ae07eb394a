//! `--format gitlab`: a GitLab Code Quality report (`artifacts: reports: codequality:`), the subset of Code
//! Climate's issue format that GitLab reads: `description`, `check_name`, `fingerprint`, `severity` and
//! `location` (`path` and `lines.begin`), plus `type` and `categories` from the Code Climate spec.
//!
//! Fingerprints decide which findings a merge request introduced or resolved, so they must not change when code
//! moves: each is FNV-1a of the path and the baseline's fingerprint of the finding (rule, title and the code it
//! covers, not its line; see `crate::baseline`), and a second identical finding in the same file gets the next
//! occurrence number, so every fingerprint of a report is unique, as GitLab requires.
//!
//! Severities: Critical → `critical`, High → `major`, Medium → `minor`, Low and open questions → `info`.

use std::collections::HashMap;
use std::io;

use dsr_core::{FindingKind, Severity};
use serde_json::{json, Value};

use super::{Renderer, Report};
use crate::baseline::{fingerprint, fnv1a};

pub struct GitlabRenderer;

fn severity(finding: &dsr_core::Finding) -> &'static str {
    match (finding.kind, finding.severity) {
        (FindingKind::OpenQuestion, _) => "info",
        (_, Severity::Critical) => "critical",
        (_, Severity::High) => "major",
        (_, Severity::Medium) => "minor",
        (_, Severity::Low) => "info",
    }
}

/// The issues of a report, in report order.
pub fn issues(report: &Report<'_>) -> Vec<Value> {
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    report
        .findings()
        .map(|(file, finding)| {
            let base = fingerprint(&file.source.text, finding);
            let occurrence = seen.entry((file.path.clone(), base.clone())).or_default();
            let unique = fnv1a(&[&file.path, &base, &occurrence.to_string()]);
            *occurrence += 1;
            let start = file.source.point(finding.range.start);
            let end = file.source.point(finding.range.end);
            let label = match finding.kind {
                FindingKind::Finding => "",
                FindingKind::OpenQuestion => "open question: ",
            };
            json!({
                "type": "issue",
                "check_name": finding.code(),
                // GitLab's widget shows the description, not `check_name`: the code leads it (as ruff does).
                "description": format!("{}: {label}{}", finding.code(), finding.title),
                "content": { "body": format!("{}\n\n{}", finding.trigger, report.rule_url(finding.code())) },
                "categories": ["Bug Risk"],
                "severity": severity(finding),
                "fingerprint": format!("{unique:016x}"),
                "location": {
                    "path": file.path,
                    "lines": { "begin": start.line, "end": end.line },
                },
            })
        })
        .collect()
}

impl Renderer for GitlabRenderer {
    fn render(&self, report: &Report<'_>, out: &mut dyn io::Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, &issues(report)).map_err(io::Error::other)?;
        writeln!(out)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use dsr_core::config::Review;
    use dsr_core::Language;

    use super::super::tests::{rendered, schema_errors, validator};
    use super::super::{Format, Report, DEFAULT_DOCS_URL};
    use super::*;

    #[test]
    fn gitlab_report() {
        insta::assert_snapshot!(rendered(Format::Gitlab));
    }

    /// GitLab's own schema for a Code Quality issue (vendored, see tests/formats/README.md), applied to every
    /// issue; then what GitLab's documentation asks beyond it: a severity it knows, a line, unique fingerprints.
    #[test]
    fn issues_are_valid_against_gitlabs_schema() {
        let validator = validator(include_str!("../../tests/formats/gitlab-codeclimate.json"));
        let issues: Value = serde_json::from_str(&rendered(Format::Gitlab)).unwrap();
        let issues = issues.as_array().unwrap();
        assert_eq!(issues.len(), 4);
        for issue in issues {
            let errors = schema_errors(&validator, issue);
            assert!(errors.is_empty(), "{errors:#?}");
            assert!(["info", "minor", "major", "critical", "blocker"]
                .contains(&issue["severity"].as_str().unwrap()));
            assert!(issue["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
        }
        let mut fingerprints: Vec<&str> = issues
            .iter()
            .map(|i| i["fingerprint"].as_str().unwrap())
            .collect();
        fingerprints.sort_unstable();
        fingerprints.dedup();
        assert_eq!(fingerprints.len(), 4);
        // The schema does reject what it should.
        let mut broken = issues[0].clone();
        broken.as_object_mut().unwrap().remove("fingerprint");
        assert!(!validator.is_valid(&broken));
    }

    /// Code added above a finding moves it without changing its fingerprint; two identical findings in one
    /// file get different ones.
    #[test]
    fn fingerprints_survive_moves_and_tell_twins_apart() {
        let review = Review::default();
        let build = |text: &str| {
            let mut report = Report::new(PathBuf::from("/r"), &review, &[], DEFAULT_DOCS_URL);
            let findings = text
                .match_indices("http.Get(u)")
                .map(|(at, needle)| {
                    let mut f = super::super::tests::finding_at("BKP001", at, at + needle.len());
                    f.title = "no timeout".into();
                    f
                })
                .collect();
            report.add_file("a.go".into(), Language::Go, text.into(), findings);
            report.finish();
            issues(&report)
                .iter()
                .map(|i| i["fingerprint"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        let before = build("package a\nfunc f() { http.Get(u) }\n");
        let after = build("package a\n\n// moved down\nfunc f() { http.Get(u) }\n");
        assert_eq!(before, after);
        let twins = build("package a\nfunc f() { http.Get(u); http.Get(u) }\n");
        assert_eq!(twins.len(), 2);
        assert_ne!(twins[0], twins[1]);
        assert_eq!(twins[0], before[0]);
    }
}
