use std::io::Write;

use dsr_core::FindingKind;
use dsr_semantic::RegisteredRule;

use super::Run;
use crate::ExitStatus;

/// Summaries longer than this are cut in the table; `explain CODE` prints the whole page.
const SUMMARY_WIDTH: usize = 100;

#[derive(Debug, clap::Args)]
pub struct RulesArgs {}

impl Run for RulesArgs {
    fn run(self) -> anyhow::Result<ExitStatus> {
        let mut out = std::io::stdout().lock();
        out.write_all(table(dsr_rules::registry()).as_bytes())?;
        out.flush()?;
        Ok(ExitStatus::Success)
    }
}

/// The catalog as an aligned plain-text table. A rule that is not stable says its status after its name.
fn table(registry: &[RegisteredRule]) -> String {
    let header = ["CODE", "NAME", "FAMILY", "SEVERITY", "LANGUAGES", "SUMMARY"].map(String::from);
    let mut rows = vec![header];
    for registered in registry {
        let meta = registered.rule.meta();
        let languages: Vec<&str> = meta.languages.iter().map(|l| l.display_name()).collect();
        let severity = match meta.kind {
            FindingKind::OpenQuestion => "open question".to_string(),
            FindingKind::Finding => meta.severity.as_str().to_string(),
        };
        rows.push([
            meta.code.to_string(),
            dsr_rules::docs::listed_name(registered),
            format!("{:?}", meta.family).to_ascii_lowercase(),
            severity,
            languages.join(", "),
            truncate(&meta.summary(), SUMMARY_WIDTH),
        ]);
    }
    let mut widths = [0usize; 6];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(widths[i] - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let cut: String = text.chars().take(width - 1).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_a_row_and_columns_align() {
        let metas: Vec<&dsr_core::RuleMeta> = dsr_rules::registry()
            .iter()
            .map(|r| r.rule.meta())
            .collect();
        let table = table(dsr_rules::registry());
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), metas.len() + 1);
        let slug_column = lines[0].find("NAME").unwrap();
        for (line, meta) in lines[1..].iter().zip(&metas) {
            assert!(line.starts_with(meta.code), "{line}");
            assert_eq!(line[slug_column..].split(' ').next(), Some(meta.slug));
        }
    }

    #[test]
    fn long_summaries_are_cut_on_a_character() {
        assert_eq!(truncate("héllo wörld", 7), "héllo…");
        assert_eq!(truncate("short", 7), "short");
    }
}
