//! `--format concise`: one line per finding, `path:line:col: CODE message`, the shape of ruff's `concise`
//! output and golangci-lint's `line-number` format, which editors' quickfix lists, reviewdog's `-efm` and most
//! CI log parsers read (`%f:%l:%c: %m`). Open questions say so before their title; the summary line of the text
//! format ends the output, as ruff's "Found N errors." does.

use std::io;

use dsr_core::FindingKind;

use super::{Renderer, Report};

pub struct ConciseRenderer;

impl Renderer for ConciseRenderer {
    fn render(&self, report: &Report<'_>, out: &mut dyn io::Write) -> io::Result<()> {
        for (file, finding) in report.findings() {
            let start = file.source.point(finding.range.start);
            let kind = match finding.kind {
                FindingKind::Finding => "",
                FindingKind::OpenQuestion => "open question: ",
            };
            writeln!(
                out,
                "{}:{}:{}: {} {kind}{}",
                file.path,
                start.line,
                start.column,
                finding.code(),
                one_line(&finding.title)
            )?;
        }
        writeln!(out, "{}", super::text::summary_line(report))
    }
}

/// A title on one line: a line break would start what a line parser takes for another finding.
pub fn one_line(text: &str) -> String {
    text.split(['\n', '\r'])
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::super::tests::rendered;
    use super::super::Format;

    #[test]
    fn concise_report() {
        insta::assert_snapshot!(rendered(Format::Concise));
    }

    /// Every finding line parses with the `%f:%l:%c: %m` pattern editors and reviewdog use.
    #[test]
    fn every_line_but_the_summary_is_file_line_column_message() {
        let text = rendered(Format::Concise);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        for line in &lines[..4] {
            let mut parts = line.splitn(4, ':');
            let path = parts.next().unwrap();
            let row: usize = parts.next().unwrap().parse().unwrap();
            let column: usize = parts.next().unwrap().parse().unwrap();
            let message = parts.next().unwrap();
            assert_eq!(path, "services/billing/charge.go");
            assert!(row >= 1 && column >= 1);
            assert!(
                message.starts_with(" BKP001 ") || message.starts_with(" DSR001 "),
                "{line}"
            );
        }
        assert!(lines[4].starts_with("3 findings"));
    }

    #[test]
    fn titles_stay_on_one_line() {
        assert_eq!(super::one_line("a\nb\r\nc"), "a b c");
    }
}
