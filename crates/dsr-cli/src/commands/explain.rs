use anyhow::bail;

use super::Run;
use crate::ExitStatus;

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// A rule code (`BKP001`, any case) or name (`unbounded-channel`).
    rule: String,
}

impl Run for ExplainArgs {
    fn run(self) -> anyhow::Result<ExitStatus> {
        let Some(registered) = dsr_rules::find(self.rule.trim()) else {
            bail!("unknown rule `{}` (see `distsys-review rules`)", self.rule);
        };
        print!("{}", dsr_rules::docs::rule_page(registered.rule.meta()));
        Ok(ExitStatus::Success)
    }
}
