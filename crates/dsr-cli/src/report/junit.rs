//! `--format junit`: JUnit XML, which CI servers (GitLab's `artifacts: reports: junit:`, Jenkins, Azure
//! Pipelines, CircleCI) show as a test report. One `<testsuite>` named `distsys-review` holds one `<testcase>`
//! per scanned file (`name` and `file` the path, `classname` the path with `/` as `.`, as ruff does):
//!
//! - a file with findings at or above `--fail-on` fails, with one `<failure>` whose text lists them in the
//!   concise format (`path:line:col: CODE [Severity] title`);
//! - findings below the threshold and open questions go to `<system-out>`, and the file passes, so the report
//!   agrees with the exit code;
//! - a file that could not be analysed is `<skipped>` with the reason; a rule that failed on a file is an
//!   `<error>`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;

use dsr_core::{Finding, FindingKind};

use super::{severity_label, FileReport, Renderer, Report};

pub struct JunitRenderer;

/// Text and attribute values, escaped for XML 1.0; characters XML cannot carry at all become U+FFFD.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn classname(path: &str) -> String {
    let (folder, name) = path.rsplit_once('/').unwrap_or(("", path));
    let stem = match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name,
    };
    let joined = if folder.is_empty() {
        stem.to_string()
    } else {
        format!("{folder}/{stem}")
    };
    joined.trim_start_matches('/').replace('/', ".")
}

/// What a test case says.
#[derive(Default)]
struct Case<'r> {
    failing: Vec<&'r Finding>,
    passing: Vec<&'r Finding>,
    file: Option<&'r FileReport>,
    skipped: Option<String>,
    errors: Vec<String>,
}

fn line(file: &FileReport, finding: &Finding) -> String {
    let start = file.source.point(finding.range.start);
    format!(
        "{}:{}:{}: {} [{}] {}",
        file.path,
        start.line,
        start.column,
        finding.code(),
        severity_label(finding),
        super::concise::one_line(&finding.title)
    )
}

impl Renderer for JunitRenderer {
    fn render(&self, report: &Report<'_>, out: &mut dyn io::Write) -> io::Result<()> {
        let mut cases: BTreeMap<&str, Case<'_>> = BTreeMap::new();
        for path in &report.clean_files {
            cases.entry(path).or_default();
        }
        for file in &report.files {
            let case = cases.entry(&file.path).or_default();
            case.file = Some(file);
            for finding in &file.findings {
                let fails = finding.kind == FindingKind::Finding
                    && report.threshold.is_some_and(|t| finding.severity >= t);
                if fails {
                    case.failing.push(finding);
                } else {
                    case.passing.push(finding);
                }
            }
        }
        for skipped in report.skipped {
            cases.entry(&skipped.display).or_default().skipped = Some(skipped.reason.message());
        }
        for (path, rule, message) in &report.failures {
            cases.entry(path).or_default().errors.push(format!(
                "rule {rule} failed on this file ({message}); its findings for it are missing"
            ));
        }
        let failures = cases.values().filter(|c| !c.failing.is_empty()).count();
        let errors = cases.values().filter(|c| !c.errors.is_empty()).count();
        let skipped = cases.values().filter(|c| c.skipped.is_some()).count();
        let counts = format!(
            "tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\"",
            cases.len()
        );
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(xml, "<testsuites name=\"distsys-review\" {counts}>");
        let _ = writeln!(xml, "  <testsuite name=\"distsys-review\" {counts}>");
        for (path, case) in &cases {
            let _ = write!(
                xml,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\"",
                escape(path),
                escape(&classname(path)),
                escape(path)
            );
            let lines = |findings: &[&Finding]| -> String {
                let Some(file) = case.file else {
                    return String::new();
                };
                findings
                    .iter()
                    .map(|f| line(file, f))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let mut body = String::new();
            if let Some(reason) = &case.skipped {
                let _ = writeln!(body, "      <skipped message=\"{}\"/>", escape(reason));
            }
            if !case.failing.is_empty() {
                let count = case.failing.len();
                let _ = writeln!(
                    body,
                    "      <failure message=\"{count} {}\" type=\"distsys-review\">{}</failure>",
                    if count == 1 { "finding" } else { "findings" },
                    escape(&lines(&case.failing))
                );
            }
            for error in &case.errors {
                let _ = writeln!(
                    body,
                    "      <error message=\"{}\" type=\"rule-failure\"/>",
                    escape(error)
                );
            }
            if !case.passing.is_empty() {
                let _ = writeln!(
                    body,
                    "      <system-out>{}</system-out>",
                    escape(&lines(&case.passing))
                );
            }
            if body.is_empty() {
                xml.push_str("/>\n");
            } else {
                xml.push_str(">\n");
                xml.push_str(&body);
                xml.push_str("    </testcase>\n");
            }
        }
        xml.push_str("  </testsuite>\n</testsuites>\n");
        out.write_all(xml.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{render, rendered, report, review, skipped};
    use super::super::Format;
    use super::*;

    #[test]
    fn junit_report() {
        insta::assert_snapshot!(rendered(Format::Junit));
    }

    /// With `--fail-on none` nothing fails; with `critical` only the file with the critical finding does.
    #[test]
    fn failures_follow_the_threshold() {
        let review = review();
        let skipped = skipped();
        let mut report = report(&review, &skipped);
        report.threshold = None;
        let text = render(Format::Junit, &report);
        assert!(text.contains("failures=\"0\""), "{text}");
        assert!(text.contains("<system-out>"));
        report.threshold = Some(dsr_core::Severity::Critical);
        let text = render(Format::Junit, &report);
        assert!(text.contains("<failure message=\"1 finding\""), "{text}");
        // Four cases: the file with findings, the clean file, two skipped files.
        assert!(
            text.contains("tests=\"4\" failures=\"1\" errors=\"0\" skipped=\"2\""),
            "{text}"
        );
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape("a<b & \"c\"\u{1}"),
            "a&lt;b &amp; &quot;c&quot;\u{FFFD}"
        );
        assert_eq!(
            classname("services/billing/charge.go"),
            "services.billing.charge"
        );
        assert_eq!(classname(".github/x"), ".github.x");
        assert_eq!(classname("a/b.c/d"), "a.b.c.d");
        assert_eq!(classname("main.rs"), "main");
    }
}
