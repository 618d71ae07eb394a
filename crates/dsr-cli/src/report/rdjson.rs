//! `--format rdjson`: reviewdog's Diagnostic Format (`reviewdog -f=rdjson`), which reviewdog posts as pull
//! request review comments on GitHub, GitLab, Bitbucket and Gitea, with suggested changes from the fixes.
//!
//! One `DiagnosticResult`: `source` names the tool; each diagnostic has the title as `message`, a `location`
//! whose columns are 1-based UTF-8 byte counts (reviewdog's definition; the end is exclusive), `severity`
//! (`ERROR` for Critical and High, `WARNING` for Medium, `INFO` for Low and open questions), `code` with the
//! rule page, `related_locations` from the evidence and, for fixes with edits that `--fix` or
//! `--fix --unsafe-fixes` would apply, `suggestions`.

use std::io;

use dsr_core::{Applicability, FindingKind, Severity, TextRange};
use serde_json::{json, Value};

use super::{Renderer, Report, Source};

pub struct RdjsonRenderer;

fn severity(finding: &dsr_core::Finding) -> &'static str {
    match (finding.kind, finding.severity) {
        (FindingKind::OpenQuestion, _) => "INFO",
        (_, Severity::Critical | Severity::High) => "ERROR",
        (_, Severity::Medium) => "WARNING",
        (_, Severity::Low) => "INFO",
    }
}

fn range(source: &Source, range: TextRange) -> Value {
    let start = source.point(range.start);
    let end = source.point(range.end);
    json!({
        "start": { "line": start.line, "column": start.column_byte },
        "end": { "line": end.line, "column": end.column_byte },
    })
}

fn location(path: &str, source: Option<&Source>, text_range: TextRange) -> Value {
    match source {
        Some(source) => json!({ "path": path, "range": range(source, text_range) }),
        None => json!({ "path": path }),
    }
}

/// The `DiagnosticResult` of a report.
pub fn result(report: &Report<'_>) -> Value {
    let diagnostics: Vec<Value> = report
        .findings()
        .map(|(file, finding)| {
            let mut diagnostic = json!({
                "message": match finding.kind {
                    FindingKind::Finding => finding.title.clone(),
                    FindingKind::OpenQuestion => format!("open question: {}", finding.title),
                },
                "location": location(&file.path, Some(&file.source), finding.range),
                "severity": severity(finding),
                "code": { "value": finding.code(), "url": report.rule_url(finding.code()) },
            });
            let related: Vec<Value> = finding
                .evidence
                .iter()
                .map(|evidence| {
                    let (path, source) = report.evidence_source(file, evidence);
                    json!({
                        "message": evidence.note,
                        "location": location(&path, source, evidence.range),
                    })
                })
                .collect();
            if !related.is_empty() {
                diagnostic["related_locations"] = Value::Array(related);
            }
            if let Some(fix) = finding
                .fix
                .as_ref()
                .filter(|fix| fix.applicability != Applicability::DisplayOnly)
            {
                let suggestions: Vec<Value> = fix
                    .edits
                    .iter()
                    .map(|edit| json!({ "range": range(&file.source, edit.range), "text": edit.replacement }))
                    .collect();
                if !suggestions.is_empty() {
                    diagnostic["suggestions"] = Value::Array(suggestions);
                }
            }
            diagnostic
        })
        .collect();
    json!({
        "source": { "name": "distsys-review", "url": env!("CARGO_PKG_REPOSITORY") },
        "diagnostics": diagnostics,
    })
}

impl Renderer for RdjsonRenderer {
    fn render(&self, report: &Report<'_>, out: &mut dyn io::Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, &result(report)).map_err(io::Error::other)?;
        writeln!(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{rendered, schema_errors, validator};
    use super::super::Format;
    use super::*;

    #[test]
    fn rdjson_report() {
        insta::assert_snapshot!(rendered(Format::Rdjson));
    }

    /// reviewdog's published schema (vendored, see tests/formats/README.md). It requires nothing and allows
    /// any extra property, so the test also checks what reviewdog needs to place a comment.
    #[test]
    fn result_is_valid_against_reviewdogs_schema() {
        let validator = validator(include_str!(
            "../../tests/formats/reviewdog-DiagnosticResult.json"
        ));
        let value: Value = serde_json::from_str(&rendered(Format::Rdjson)).unwrap();
        let errors = schema_errors(&validator, &value);
        assert!(errors.is_empty(), "{errors:#?}");
        let diagnostics = value["diagnostics"].as_array().unwrap();
        assert_eq!(diagnostics.len(), 4);
        for diagnostic in diagnostics {
            assert!(diagnostic["location"]["path"].is_string());
            assert!(
                diagnostic["location"]["range"]["start"]["line"]
                    .as_u64()
                    .unwrap()
                    >= 1
            );
        }
        let mut broken = value.clone();
        broken["diagnostics"][0]["severity"] = json!("FATAL");
        assert!(!validator.is_valid(&broken));
    }

    /// Columns count UTF-8 bytes: the fix of the unused suppression ends after the astral 💳 on the next line,
    /// and the comment line holds `—` (3 bytes) and `💳` (4 bytes).
    #[test]
    fn columns_are_utf8_bytes_and_fixes_are_suggestions() {
        let value: Value = serde_json::from_str(&rendered(Format::Rdjson)).unwrap();
        let diagnostics = value["diagnostics"].as_array().unwrap();
        let low = diagnostics
            .iter()
            .find(|d| d["code"]["value"] == "DSR001")
            .unwrap();
        assert_eq!(low["severity"], "INFO");
        let suggestion = &low["suggestions"][0];
        assert_eq!(
            suggestion["range"]["start"],
            json!({ "line": 3, "column": 1 })
        );
        assert_eq!(
            suggestion["range"]["end"],
            json!({ "line": 4, "column": 1 })
        );
        let critical = diagnostics
            .iter()
            .find(|d| d["severity"] == "ERROR")
            .unwrap();
        assert_eq!(
            critical["related_locations"][0]["message"],
            "the response is awaited here"
        );
        // Advice without edits suggests nothing.
        let advice = diagnostics
            .iter()
            .find(|d| d["message"] == "slice `q` is used as a queue with no bound")
            .unwrap();
        assert!(advice.get("suggestions").is_none());
    }
}
