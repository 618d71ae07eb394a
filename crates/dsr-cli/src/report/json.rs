//! `--format json`: a stable schema, documented field by field in docs/json-output.md. These types are the
//! schema: they are separate from [`dsr_core::Finding`] so that the engine's model can change without
//! breaking consumers. Bump [`JSON_VERSION`] on any incompatible change (a removed or renamed field, a changed
//! meaning); adding a field is compatible.

use std::io;

use dsr_core::{Applicability, FindingKind, Language, Severity, TextRange};
use serde::Serialize;

use super::{Renderer, Report, Source};

/// The `version` field of the JSON output.
pub const JSON_VERSION: u32 = 1;

pub struct JsonRenderer;

#[derive(Serialize)]
struct Output<'a> {
    version: u32,
    tool: Tool,
    summary: Summary,
    findings: Vec<JsonFinding<'a>>,
    skipped: Vec<JsonSkipped<'a>>,
    failures: Vec<JsonFailure<'a>>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Summary {
    files_scanned: usize,
    files_skipped: usize,
    fixes_applied: usize,
    findings: usize,
    by_severity: BySeverity,
    open_questions: usize,
}

#[derive(Serialize)]
struct BySeverity {
    critical: usize,
    high: usize,
    medium: usize,
    low: usize,
}

#[derive(Serialize)]
struct Point {
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
    offset: usize,
}

#[derive(Serialize)]
struct Range {
    start: Point,
    end: Point,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    name: &'a str,
    url: String,
    kind: &'static str,
    severity: &'static str,
    impact: &'static str,
    confidence: &'static str,
    title: &'a str,
    path: &'a str,
    language: &'static str,
    range: Range,
    role: &'static str,
    component: &'a str,
    trigger: &'a str,
    expected: &'a str,
    actual: &'a str,
    evidence: Vec<JsonEvidence<'a>>,
    fix: Option<JsonFix<'a>>,
}

#[derive(Serialize)]
struct JsonEvidence<'a> {
    path: String,
    range: Range,
    note: &'a str,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    title: &'a str,
    applicability: &'static str,
    edits: Vec<JsonEdit<'a>>,
}

#[derive(Serialize)]
struct JsonEdit<'a> {
    range: Range,
    replacement: &'a str,
}

#[derive(Serialize)]
struct JsonSkipped<'a> {
    path: &'a str,
    reason: &'static str,
    message: String,
}

#[derive(Serialize)]
struct JsonFailure<'a> {
    path: &'a str,
    rule: &'a str,
    message: &'a str,
}

fn language_id(language: Language) -> &'static str {
    match language {
        Language::Rust => "rust",
        Language::Go => "go",
        Language::TypeScript => "typescript",
        Language::Tsx => "tsx",
        Language::Sql => "sql",
    }
}

fn range(source: Option<&Source>, range: TextRange) -> Range {
    let point = |offset: usize| match source {
        Some(source) => {
            let p = source.point(offset);
            Point {
                line: Some(p.line),
                column: Some(p.column),
                offset: p.offset,
            }
        }
        None => Point {
            line: None,
            column: None,
            offset,
        },
    };
    Range {
        start: point(range.start),
        end: point(range.end),
    }
}

impl Renderer for JsonRenderer {
    fn render(&self, report: &Report<'_>, out: &mut dyn io::Write) -> io::Result<()> {
        let summary = &report.summary;
        let findings = report
            .findings()
            .map(|(file, finding)| JsonFinding {
                rule: finding.code(),
                name: finding.rule.slug,
                url: report.rule_url(finding.code()),
                kind: match finding.kind {
                    FindingKind::Finding => "finding",
                    FindingKind::OpenQuestion => "open-question",
                },
                severity: finding.severity.as_str(),
                impact: finding.impact.as_str(),
                confidence: finding.confidence.as_str(),
                title: &finding.title,
                path: &file.path,
                language: language_id(file.language),
                range: range(Some(&file.source), finding.range),
                role: finding.role.as_str(),
                component: &finding.component,
                trigger: &finding.trigger,
                expected: &finding.expected,
                actual: &finding.actual,
                evidence: finding
                    .evidence
                    .iter()
                    .map(|evidence| {
                        let (path, source) = report.evidence_source(file, evidence);
                        JsonEvidence {
                            path,
                            range: range(source, evidence.range),
                            note: &evidence.note,
                        }
                    })
                    .collect(),
                fix: finding.fix.as_ref().map(|fix| JsonFix {
                    title: &fix.title,
                    applicability: match fix.applicability {
                        Applicability::Always => "always",
                        Applicability::Maybe => "maybe",
                        Applicability::DisplayOnly => "display-only",
                    },
                    edits: fix
                        .edits
                        .iter()
                        .map(|edit| JsonEdit {
                            range: range(Some(&file.source), edit.range),
                            replacement: &edit.replacement,
                        })
                        .collect(),
                }),
            })
            .collect();
        let output = Output {
            version: JSON_VERSION,
            tool: Tool {
                name: "distsys-review",
                version: env!("CARGO_PKG_VERSION"),
            },
            summary: Summary {
                files_scanned: summary.files_scanned,
                files_skipped: summary.files_skipped,
                fixes_applied: summary.fixed,
                findings: summary.findings(),
                by_severity: BySeverity {
                    critical: summary.count(Severity::Critical),
                    high: summary.count(Severity::High),
                    medium: summary.count(Severity::Medium),
                    low: summary.count(Severity::Low),
                },
                open_questions: summary.open_questions,
            },
            findings,
            skipped: report
                .skipped
                .iter()
                .map(|s| JsonSkipped {
                    path: &s.display,
                    reason: s.reason.code(),
                    message: s.reason.message(),
                })
                .collect(),
            failures: report
                .failures
                .iter()
                .map(|(path, rule, message)| JsonFailure {
                    path,
                    rule,
                    message,
                })
                .collect(),
        };
        serde_json::to_writer_pretty(&mut *out, &output).map_err(io::Error::other)?;
        writeln!(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{render, report, review, skipped};
    use super::super::Format;

    #[test]
    fn json_report() {
        let review = review();
        let skipped = skipped();
        let text = render(Format::Json, &report(&review, &skipped));
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["version"], super::JSON_VERSION);
        insta::assert_snapshot!(text);
    }
}
