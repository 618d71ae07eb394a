//! `--format github`: GitHub Actions workflow commands, one per finding, which the runner turns into
//! annotations on the pull request's changed files (ruff's and golangci-lint's `github-actions` output):
//!
//! `::error file=api/orders.go,line=94,col=15,endLine=94,endColumn=24,title=RES001 http-client-without-timeout::…`
//!
//! Critical and High findings are `error`, Medium `warning`, Low and open questions `notice`. Values are escaped
//! as the Actions toolkit does (`%`, CR and LF everywhere; `:` and `,` in properties too), so a title cannot end
//! the command early. GitHub shows at most 10 annotations of each level per step and 50 per job; SARIF uploaded
//! to code scanning has no such cap (docs/ci.md). Paths are relative to the root, so run from the repository's
//! root (or keep `distsys-review.toml` there).

use std::io;

use dsr_core::{FindingKind, Severity};

use super::{severity_label, Renderer, Report};

pub struct GithubRenderer;

/// The workflow command of a finding.
fn command(finding: &dsr_core::Finding) -> &'static str {
    match (finding.kind, finding.severity) {
        (FindingKind::OpenQuestion, _) => "notice",
        (_, Severity::Critical | Severity::High) => "error",
        (_, Severity::Medium) => "warning",
        (_, Severity::Low) => "notice",
    }
}

/// A command's message (`escapeData` in @actions/core).
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A command's property value (`escapeProperty` in @actions/core).
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

impl Renderer for GithubRenderer {
    fn render(&self, report: &Report<'_>, out: &mut dyn io::Write) -> io::Result<()> {
        for (file, finding) in report.findings() {
            let start = file.source.point(finding.range.start);
            let end = file.source.point(finding.range.end);
            let mut message = format!("[{}] {}", severity_label(finding), finding.title);
            if let Some(fix) = &finding.fix {
                message.push_str(&format!("\n\nfix: {}", fix.title));
            }
            message.push_str(&format!("\n\n{}", report.rule_url(finding.code())));
            writeln!(
                out,
                "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}",
                command(finding),
                escape_property(&file.path),
                start.line,
                start.column,
                end.line,
                end.column,
                escape_property(&format!("{} {}", finding.code(), finding.rule.slug)),
                escape_data(&message),
            )?;
        }
        writeln!(out, "{}", super::text::summary_line(report))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::rendered;
    use super::super::Format;
    use super::*;

    #[test]
    fn github_report() {
        insta::assert_snapshot!(rendered(Format::Github));
    }

    /// The runner splits a command at the first `::` after its properties and the properties at `,` and `=`:
    /// after escaping, a hostile title or path comes back whole.
    #[test]
    fn values_cannot_break_out_of_the_command() {
        let path = "a,b:c%/x.go";
        let title = "line one\nline two :: 100% ,done";
        let line = format!(
            "::error file={},title={}::{}",
            escape_property(path),
            escape_property(title),
            escape_data(title)
        );
        assert_eq!(line.lines().count(), 1);
        let body = line.strip_prefix("::error ").unwrap();
        let (properties, message) = body.split_once("::").unwrap();
        let unescape = |s: &str| {
            s.replace("%0A", "\n")
                .replace("%0D", "\r")
                .replace("%3A", ":")
                .replace("%2C", ",")
                .replace("%25", "%")
        };
        let fields: Vec<(&str, &str)> = properties
            .split(',')
            .map(|p| p.split_once('=').unwrap())
            .collect();
        assert_eq!(fields.len(), 2);
        assert_eq!(unescape(fields[0].1), path);
        assert_eq!(unescape(fields[1].1), title);
        assert_eq!(unescape(message), title);
    }

    #[test]
    fn levels_follow_severity() {
        let text = rendered(Format::Github);
        let commands: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("::"))
            .map(|l| l.split(' ').next().unwrap())
            .collect();
        // Critical, High, Low, and the open question, in position order.
        assert_eq!(commands, ["notice", "error", "error", "notice"]);
    }
}
