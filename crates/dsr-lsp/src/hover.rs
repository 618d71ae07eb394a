//! Hover: the findings under the cursor in the review template, with the rule page's "why it matters".

use dsr_core::{Applicability, CodeRole, Finding, FindingKind};
use dsr_syntax::position::line_column_1based;
use tower_lsp_server::ls_types::{Hover, HoverContents, MarkupContent, MarkupKind, Position};

use crate::convert;
use crate::settings::Settings;
use crate::state::Analyzed;

const WHY: &str = "Why it fails under partial failure";

/// The hover at `position`, or `None` when no finding covers it.
pub fn hover(analyzed: &Analyzed, position: Position, settings: &Settings) -> Option<Hover> {
    let offset = convert::offset(&analyzed.rope, position, analyzed.encoding).ok()?;
    let under: Vec<&Finding> = analyzed
        .findings
        .iter()
        .filter(|f| f.range.contains(offset))
        .collect();
    let first = under.first()?;
    let sections: Vec<String> = under
        .iter()
        .map(|finding| render(finding, analyzed, settings))
        .collect();
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: sections.join("\n\n---\n\n"),
        }),
        range: Some(convert::range(
            &analyzed.rope,
            first.range,
            analyzed.encoding,
        )),
    })
}

/// One finding in the review template.
pub fn render(finding: &Finding, analyzed: &Analyzed, settings: &Settings) -> String {
    let meta = finding.rule;
    let mut out = format!(
        "### [{code}]({href}) {title}\n\n",
        code = meta.code,
        href = settings.docs_href(meta.code),
        title = finding.title,
    );
    let severity = match finding.kind {
        FindingKind::OpenQuestion => "Open question".to_string(),
        FindingKind::Finding => finding.severity.title().to_string(),
    };
    out.push_str(&format!(
        "**Severity:** {severity} · **Impact:** {impact} · **Confidence:** {confidence}",
        impact = finding.impact.as_str(),
        confidence = finding.confidence.as_str(),
    ));
    if !finding.component.is_empty() {
        out.push_str(&format!(" · **Component:** `{}`", finding.component));
    }
    // Production is the default and goes unsaid; other code (a test brought into `[scope]`, a CLI tool) is named,
    // since it changes how much the finding matters.
    if finding.role != CodeRole::Production {
        out.push_str(&format!(" · **Code:** {}", finding.role));
    }
    out.push_str("\n\n");
    field(&mut out, "Trigger", &finding.trigger);
    field(&mut out, "Expected", &finding.expected);
    field(&mut out, "Actual", &finding.actual);
    if !finding.evidence.is_empty() {
        out.push_str("**Evidence:**\n");
        for evidence in &finding.evidence {
            let place = match &evidence.path {
                Some(path) => format!("{}", path.display()),
                None => {
                    let (line, column) = line_column_1based(&analyzed.rope, evidence.range.start);
                    format!("line {line}:{column}")
                }
            };
            out.push_str(&format!("- {place}: {}\n", evidence.note));
        }
        out.push('\n');
    }
    if let Some(fix) = &finding.fix {
        let how = match fix.applicability {
            Applicability::Always => "quick fix, safe",
            Applicability::Maybe => "quick fix, review before applying",
            Applicability::DisplayOnly => "advice",
        };
        out.push_str(&format!("**Fix** ({how}): {}\n\n", fix.title));
    }
    if let Some(why) = meta.doc_section(WHY) {
        out.push_str(&format!("**Why it matters:** {why}\n\n"));
    }
    out.push_str(&format!("*{} {}*", meta.code, meta.slug));
    out
}

fn field(out: &mut String, name: &str, value: &str) {
    if !value.is_empty() {
        out.push_str(&format!("**{name}:** {value}\n\n"));
    }
}
