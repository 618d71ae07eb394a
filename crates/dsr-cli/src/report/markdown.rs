//! `--format markdown`: a review document. The config's `[review]` boundaries head it; findings follow grouped
//! by severity, each in the review template (Severity, Rule, Impact, Component, Location, Trigger, Expected vs
//! actual, Evidence with code excerpts, Fix, Confidence); open questions come in their own section, since they
//! ask for an answer rather than a change.

use std::fmt::Write as _;
use std::io;

use dsr_core::{Finding, FindingKind, Severity, TextRange};

use super::{fence_language, fix_note, FileReport, Renderer, Report, Source};

/// Longest code excerpt, in lines; longer ranges are cut with a marker.
const MAX_EXCERPT_LINES: usize = 8;

pub struct MarkdownRenderer;

impl Renderer for MarkdownRenderer {
    fn render(&self, report: &Report<'_>, out: &mut dyn io::Write) -> io::Result<()> {
        out.write_all(document(report).as_bytes())
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn document(report: &Report<'_>) -> String {
    let mut doc = String::new();
    let name = report
        .root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    match name {
        Some(name) => writeln!(doc, "# Distributed-systems review of `{name}`"),
        None => writeln!(doc, "# Distributed-systems review"),
    }
    .ok();
    doc.push('\n');
    boundaries(report, &mut doc);
    summary(report, &mut doc);
    let findings: Vec<_> = report
        .findings()
        .filter(|(_, f)| f.kind == FindingKind::Finding)
        .collect();
    if findings.is_empty() {
        doc.push_str("## Findings\n\nNo findings.\n\n");
    }
    for severity in Severity::ALL {
        let group: Vec<_> = findings
            .iter()
            .filter(|(_, f)| f.severity == severity)
            .collect();
        if group.is_empty() {
            continue;
        }
        writeln!(doc, "## {} ({})\n", severity.title(), group.len()).ok();
        for (file, finding) in group {
            entry(report, file, finding, &mut doc);
        }
    }
    let questions: Vec<_> = report
        .findings()
        .filter(|(_, f)| f.kind == FindingKind::OpenQuestion)
        .collect();
    if !questions.is_empty() {
        doc.push_str("## Open questions\n\n");
        doc.push_str(
            "The code does not show enough to decide these; they need an answer from the people who know the \
             system, and are not counted as findings.\n\n",
        );
        for (file, finding) in questions {
            entry(report, file, finding, &mut doc);
        }
    }
    not_analysed(report, &mut doc);
    while doc.ends_with("\n\n") {
        doc.pop();
    }
    doc
}

fn boundaries(report: &Report<'_>, doc: &mut String) {
    let review = report.review;
    if review.scope.is_empty() && review.invariants.is_empty() && review.slos.is_empty() {
        return;
    }
    doc.push_str("## Review boundaries\n\n");
    for (title, items) in [
        ("Scope", &review.scope),
        ("Invariants", &review.invariants),
        ("SLOs", &review.slos),
    ] {
        if items.is_empty() {
            continue;
        }
        writeln!(doc, "**{title}**\n").ok();
        for item in items {
            writeln!(doc, "- {}", one_line(item)).ok();
        }
        doc.push('\n');
    }
}

fn summary(report: &Report<'_>, doc: &mut String) {
    let summary = &report.summary;
    doc.push_str("## Summary\n\n| Severity | Findings |\n|---|---|\n");
    for severity in Severity::ALL {
        writeln!(
            doc,
            "| {} | {} |",
            severity.title(),
            summary.count(severity)
        )
        .ok();
    }
    writeln!(doc, "| Open questions | {} |\n", summary.open_questions).ok();
    let mut facts = vec![format!(
        "{} {} scanned",
        summary.files_scanned,
        if summary.files_scanned == 1 {
            "file"
        } else {
            "files"
        }
    )];
    if summary.files_skipped > 0 {
        facts.push(format!("{} skipped", summary.files_skipped));
    }
    if summary.fixed > 0 {
        facts.push(format!(
            "{} {} applied",
            summary.fixed,
            if summary.fixed == 1 { "fix" } else { "fixes" }
        ));
    }
    writeln!(doc, "{}.\n", facts.join(", ")).ok();
}

fn location(path: &str, source: Option<&Source>, offset: usize) -> String {
    match source {
        Some(source) => {
            let point = source.point(offset);
            format!("{path}:{}:{}", point.line, point.column)
        }
        None => path.to_string(),
    }
}

/// The whole lines a range covers, as a fenced block indented by `indent` (to sit inside a list item).
fn excerpt(source: &Source, range: TextRange, language: &str, indent: &str) -> String {
    let first = source.line_of(range.start);
    let last = source.line_of(if range.end > range.start {
        range.end - 1
    } else {
        range.start
    });
    let cut = last - first + 1 > MAX_EXCERPT_LINES;
    let shown_last = if cut {
        first + MAX_EXCERPT_LINES - 1
    } else {
        last
    };
    let lines = source.line_range(first, shown_last);
    let text = &source.text[lines.start..lines.end];
    // A fence longer than any backtick run inside, so the excerpt cannot close it.
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run.max(2) + 1);
    let mut block = format!("{indent}{fence}{language}\n");
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            block.push('\n');
        } else {
            writeln!(block, "{indent}{line}").ok();
        }
    }
    if cut {
        writeln!(block, "{indent}// … {} more lines", last - shown_last).ok();
    }
    writeln!(block, "{indent}{fence}").ok();
    block
}

fn entry(report: &Report<'_>, file: &FileReport, finding: &Finding, doc: &mut String) {
    let language = fence_language(file.language);
    writeln!(doc, "### {}\n", one_line(&finding.title)).ok();
    let severity = match finding.kind {
        FindingKind::Finding => finding.severity.title().to_string(),
        FindingKind::OpenQuestion => {
            format!("open question ({} if confirmed)", finding.severity.title())
        }
    };
    writeln!(doc, "- **Severity:** {severity}").ok();
    writeln!(
        doc,
        "- **Rule:** [{} {}]({})",
        finding.code(),
        finding.rule.slug,
        report.rule_url(finding.code())
    )
    .ok();
    writeln!(doc, "- **Impact:** {}", finding.impact.as_str()).ok();
    if !finding.component.is_empty() {
        writeln!(doc, "- **Component:** `{}`", finding.component).ok();
    }
    writeln!(
        doc,
        "- **Location:** `{}`\n",
        location(&file.path, Some(&file.source), finding.range.start)
    )
    .ok();
    doc.push_str(&excerpt(&file.source, finding.range, language, "  "));
    doc.push('\n');
    if !finding.trigger.is_empty() {
        writeln!(doc, "- **Trigger:** {}", one_line(&finding.trigger)).ok();
    }
    if !finding.expected.is_empty() || !finding.actual.is_empty() {
        writeln!(doc, "- **Expected vs actual:**").ok();
        writeln!(doc, "  - expected: {}", one_line(&finding.expected)).ok();
        writeln!(doc, "  - actual: {}", one_line(&finding.actual)).ok();
    }
    if !finding.evidence.is_empty() {
        writeln!(doc, "- **Evidence:**").ok();
        let primary_lines = (
            file.source.line_of(finding.range.start),
            file.source.line_of(finding.range.end),
        );
        for evidence in &finding.evidence {
            let (path, source) = report.evidence_source(file, evidence);
            writeln!(
                doc,
                "  - `{}`: {}",
                location(&path, source, evidence.range.start),
                one_line(&evidence.note)
            )
            .ok();
            let Some(source) = source else { continue };
            let same_lines = evidence.path.is_none()
                && (
                    source.line_of(evidence.range.start),
                    source.line_of(evidence.range.end),
                ) == primary_lines;
            // The location's excerpt already shows these lines.
            if !same_lines {
                doc.push('\n');
                doc.push_str(&excerpt(source, evidence.range, language, "    "));
                doc.push('\n');
            }
        }
    }
    if let Some(fix) = &finding.fix {
        let note = fix_note(fix).map(|n| format!(" ({n})")).unwrap_or_default();
        writeln!(doc, "- **Fix:** {}{note}", one_line(&fix.title)).ok();
    }
    writeln!(doc, "- **Confidence:** {}\n", finding.confidence.as_str()).ok();
}

fn not_analysed(report: &Report<'_>, doc: &mut String) {
    if report.skipped.is_empty() && report.failures.is_empty() {
        return;
    }
    doc.push_str("## Not analysed\n\n");
    for skipped in report.skipped {
        writeln!(doc, "- `{}`: {}", skipped.display, skipped.reason.message()).ok();
    }
    for (path, rule, message) in &report.failures {
        writeln!(
            doc,
            "- `{path}`: rule {rule} failed ({}); its findings for this file are missing",
            one_line(message)
        )
        .ok();
    }
    doc.push('\n');
}

#[cfg(test)]
mod tests {
    use super::super::tests::{render, report, review, skipped};
    use super::super::Format;

    #[test]
    fn markdown_report() {
        let review = review();
        let skipped = skipped();
        insta::assert_snapshot!(render(Format::Markdown, &report(&review, &skipped)));
    }

    #[test]
    fn fences_outgrow_backticks_in_the_excerpt() {
        let source = super::Source::new("let s = ```x```;\n".into());
        let block = super::excerpt(&source, dsr_core::TextRange::new(4, 5), "ts", "");
        assert!(block.starts_with("````ts\n"), "{block}");
    }
}
