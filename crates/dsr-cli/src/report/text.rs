//! The terminal format: one block per finding, like rustc and ruff —
//! `path:line:col: CODE [Severity] title`, the source lines with the finding underlined and the evidence
//! marked, then the fix; a summary line at the end.

use std::io;

use annotate_snippets::{AnnotationKind, Group, Level, Snippet};
use anstyle::{AnsiColor, Style};
use dsr_core::{Finding, FindingKind, Severity};

use super::{fix_note, severity_label, FileReport, Renderer, Report};

pub struct TextRenderer {
    pub color: bool,
}

fn level(finding: &Finding) -> Level<'static> {
    match (finding.kind, finding.severity) {
        (FindingKind::OpenQuestion, _) => Level::NOTE,
        (_, Severity::Critical | Severity::High) => Level::ERROR,
        (_, Severity::Medium) => Level::WARNING,
        (_, Severity::Low) => Level::INFO,
    }
}

fn severity_style(finding: &Finding) -> Style {
    let color = match (finding.kind, finding.severity) {
        (FindingKind::OpenQuestion, _) => AnsiColor::BrightGreen,
        (_, Severity::Critical | Severity::High) => AnsiColor::BrightRed,
        (_, Severity::Medium) => AnsiColor::Yellow,
        (_, Severity::Low) => AnsiColor::BrightBlue,
    };
    Style::new().fg_color(Some(color.into())).bold()
}

impl TextRenderer {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }

    fn header(&self, file: &FileReport, finding: &Finding) -> String {
        let start = file.source.point(finding.range.start);
        let location = format!("{}:{}:{}:", file.path, start.line, start.column);
        let code = format!("{} [{}]", finding.code(), severity_label(finding));
        format!(
            "{} {} {}",
            self.paint(Style::new().bold(), &location),
            self.paint(severity_style(finding), &code),
            finding.title
        )
    }

    fn snippet(&self, report: &Report<'_>, file: &FileReport, finding: &Finding) -> String {
        let source = &file.source;
        let last_line = |range: dsr_core::TextRange| {
            source.line_of(if range.end > range.start {
                range.end - 1
            } else {
                range.start
            })
        };
        let local: Vec<&dsr_core::Evidence> = finding
            .evidence
            .iter()
            .filter(|e| e.path.is_none())
            .collect();
        let first = local
            .iter()
            .map(|e| source.line_of(e.range.start))
            .chain([source.line_of(finding.range.start)])
            .min()
            .unwrap_or(0);
        let last = local
            .iter()
            .map(|e| last_line(e.range))
            .chain([last_line(finding.range)])
            .max()
            .unwrap_or(first);
        // Only the lines the annotations need go to the renderer: rendering is then independent of file size.
        let window = source.line_range(first, last);
        let text = &source.text[window.start..window.end];
        let shift = |range: dsr_core::TextRange| {
            let start = range.start.clamp(window.start, window.end) - window.start;
            let end = range.end.clamp(window.start, window.end) - window.start;
            start..end.max(start)
        };
        let mut snippet = Snippet::source(text)
            .line_start(first + 1)
            .fold(true)
            .annotation(AnnotationKind::Primary.span(shift(finding.range)));
        for evidence in &local {
            snippet = snippet.annotation(
                AnnotationKind::Context
                    .span(shift(evidence.range))
                    .label(evidence.note.as_str()),
            );
        }
        let mut group = Group::with_level(level(finding)).element(snippet);
        for evidence in finding.evidence.iter().filter(|e| e.path.is_some()) {
            let (path, source) = report.evidence_source(file, evidence);
            let location = match source {
                Some(source) => {
                    let start = source.point(evidence.range.start);
                    format!("{path}:{}:{}", start.line, start.column)
                }
                None => path,
            };
            group = group.element(
                Level::NOTE
                    .with_name("evidence")
                    .message(format!("{location}: {}", evidence.note)),
            );
        }
        let fix_text;
        if let Some(fix) = &finding.fix {
            fix_text = match fix_note(fix) {
                Some(note) => format!("{} ({note})", fix.title),
                None => fix.title.clone(),
            };
            group = group.element(Level::HELP.with_name("fix").message(fix_text.as_str()));
        }
        let renderer = if self.color {
            annotate_snippets::Renderer::styled()
        } else {
            annotate_snippets::Renderer::plain()
        };
        renderer.render(&[group])
    }
}

impl Renderer for TextRenderer {
    fn render(&self, report: &Report<'_>, out: &mut dyn io::Write) -> io::Result<()> {
        for (file, finding) in report.findings() {
            writeln!(out, "{}", self.header(file, finding))?;
            writeln!(out, "{}", self.snippet(report, file, finding))?;
            writeln!(out)?;
        }
        writeln!(out, "{}", summary_line(report))
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// `3 findings (1 critical, 1 high, 1 low) and 1 open question in 2 files; 2 skipped; 1 fix applied`.
pub fn summary_line(report: &Report<'_>) -> String {
    let summary = &report.summary;
    let total = summary.findings();
    let mut line = if total == 0 {
        "no findings".to_string()
    } else {
        let counts: Vec<String> = Severity::ALL
            .iter()
            .filter(|s| summary.count(**s) > 0)
            .map(|s| format!("{} {}", summary.count(*s), s.as_str()))
            .collect();
        format!(
            "{} ({})",
            plural(total, "finding", "findings"),
            counts.join(", ")
        )
    };
    if summary.open_questions > 0 {
        line.push_str(&format!(
            " and {}",
            plural(summary.open_questions, "open question", "open questions")
        ));
    }
    line.push_str(&format!(
        " in {}",
        plural(summary.files_scanned, "file", "files")
    ));
    if summary.files_skipped > 0 {
        line.push_str(&format!("; {} skipped", summary.files_skipped));
    }
    if summary.fixed > 0 {
        line.push_str(&format!(
            "; {} applied",
            plural(summary.fixed, "fix", "fixes")
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::super::tests::{render, report, review, skipped};
    use super::super::Format;

    #[test]
    fn text_report() {
        let review = review();
        let skipped = skipped();
        insta::assert_snapshot!(render(Format::Text, &report(&review, &skipped)));
    }

    #[test]
    fn colour_only_when_asked() {
        let review = review();
        let skipped = skipped();
        let report = report(&review, &skipped);
        let mut out = Vec::new();
        super::super::Renderer::render(&super::TextRenderer { color: true }, &report, &mut out)
            .unwrap();
        let coloured = String::from_utf8(out).unwrap();
        assert!(coloured.contains("\x1b["));
        assert!(!render(Format::Text, &report).contains('\x1b'));
    }
}
