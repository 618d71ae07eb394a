//! Fix-all, to a fixed point, for `check --fix` and the language server's `source.fixAll.distsys-review`: take
//! whole fixes in order (an edit two fixes both make is shared, a fix overlapping one already taken waits for
//! the next round), apply them, re-analyse, and repeat up to [`MAX_FIX_ROUNDS`]. A fix that would leave a
//! syntax error in a file that parsed is refused; the others still apply.

use std::path::Path;

use dsr_core::finding::{Applicability, Edit, Finding};
use dsr_core::fix::{apply_edits, collect_fix_edits};
use dsr_core::limits::Skip;
use dsr_syntax::Language;
use tree_sitter::Tree;

use crate::engine::{Analysis, Engine};

/// A pair of rules whose fixes undo each other must not loop forever (ruff caps its loop the same way).
pub const MAX_FIX_ROUNDS: usize = 10;

/// Which fixes are applied.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FixMode {
    /// `Applicability::Always` only.
    Safe,
    /// `Maybe` too (the CLI's `--unsafe-fixes`).
    Unsafe,
}

/// Why fix-all left fixes unapplied: something for the user to see.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FixProblem {
    #[error("the fixed text could not be parsed in time; fixes not applied")]
    ParseTimedOut,
    #[error(
        "fixes of {} would leave a syntax error; not applied (please report this)",
        .rules.join(", ")
    )]
    BreaksSyntax { rules: Vec<&'static str> },
    #[error("fixes did not settle after {MAX_FIX_ROUNDS} rounds; the rest were not applied")]
    DidNotSettle,
}

/// What fix-all did to one text.
#[derive(Debug)]
pub struct Fixed {
    /// The text after the fixes (equal to the input when nothing applied).
    pub text: String,
    /// The analysis of `text`.
    pub analysis: Analysis,
    /// How many fixes were applied, over all rounds.
    pub applied: usize,
    pub problems: Vec<FixProblem>,
}

/// Applies fixes to `text` round after round, re-analysing in between, until none applies or
/// [`MAX_FIX_ROUNDS`] is reached. When the text parsed without errors, a round whose result would not is tried
/// again fix by fix: the fixes that keep it parsing are applied, the others are refused (and not offered again
/// by later rounds). `Err` when `text` itself could not be parsed in time.
pub fn fix_all(
    engine: &Engine,
    path: &Path,
    language: Language,
    text: &str,
    mode: FixMode,
) -> Result<Fixed, Skip> {
    let (mut analysis, tree) = engine.parse_and_analyze(path, language, text)?;
    let guard = ParseGuard {
        engine,
        language,
        active: parses_cleanly(tree.as_ref()),
    };
    let mut text = text.to_string();
    let mut applied = 0;
    let mut refused = Refused::default();
    for _ in 0..MAX_FIX_ROUNDS {
        let candidates = candidates(&analysis, mode, &refused);
        let round = Round::take(&candidates);
        if round.edits.is_empty() {
            return Ok(refused.stop(text, analysis, applied, None));
        }
        let (next, _) = apply_edits(&text, &round.edits);
        if next == text {
            break;
        }
        let Ok((next_analysis, next_tree)) = engine.parse_and_analyze(path, language, &next) else {
            let timed_out = Some(FixProblem::ParseTimedOut);
            return Ok(refused.stop(text, analysis, applied, timed_out));
        };
        if !guard.active || parses_cleanly(next_tree.as_ref()) {
            applied += round.fixes;
            text = next;
            analysis = next_analysis;
            continue;
        }
        // Some fix of the round breaks the parse: keep the ones that do not.
        let mut kept: Vec<&Finding> = Vec::new();
        for &candidate in &candidates {
            let mut trial = kept.clone();
            trial.push(candidate);
            let trial_round = Round::take(&trial);
            if !trial_round.includes(candidate) {
                // It overlaps a fix already kept: it waits for a later round, as usual.
                continue;
            }
            if guard.keeps_parsing(&apply_edits(&text, &trial_round.edits).0) {
                kept.push(candidate);
            } else {
                refused.add(candidate);
            }
        }
        if kept.is_empty() {
            continue;
        }
        let round = Round::take(&kept);
        let (next, _) = apply_edits(&text, &round.edits);
        let Ok((next_analysis, _)) = engine.parse_and_analyze(path, language, &next) else {
            let timed_out = Some(FixProblem::ParseTimedOut);
            return Ok(refused.stop(text, analysis, applied, timed_out));
        };
        applied += round.fixes;
        text = next;
        analysis = next_analysis;
    }
    let unsettled = !Round::take(&candidates(&analysis, mode, &refused))
        .edits
        .is_empty();
    let cause = unsettled.then_some(FixProblem::DidNotSettle);
    Ok(refused.stop(text, analysis, applied, cause))
}

fn parses_cleanly(tree: Option<&Tree>) -> bool {
    tree.is_some_and(|tree| !tree.root_node().has_error())
}

/// The "still parses" check, on when the original text parsed without errors (a file that was already broken
/// cannot be judged by its parse; SQL has no tree).
struct ParseGuard<'a> {
    engine: &'a Engine,
    language: Language,
    active: bool,
}

impl ParseGuard<'_> {
    fn keeps_parsing(&self, text: &str) -> bool {
        let timeout = self.engine.config().limits.parse_timeout;
        !self.active
            || crate::parse::parse(self.language, text, timeout)
                .is_ok_and(|tree| parses_cleanly(tree.as_ref()))
    }
}

/// Fixes refused because they broke the parse, by rule and fix title: the same fix reported again in a later
/// round (at a shifted position) is not tried again.
#[derive(Default)]
struct Refused {
    fixes: Vec<(&'static str, String)>,
}

impl Refused {
    /// The loop's result where it stops: the refused fixes, then why it stopped, if it did early.
    fn stop(
        &self,
        text: String,
        analysis: Analysis,
        applied: usize,
        cause: Option<FixProblem>,
    ) -> Fixed {
        Fixed {
            text,
            analysis,
            applied,
            problems: self.problem().into_iter().chain(cause).collect(),
        }
    }

    fn add(&mut self, finding: &Finding) {
        if let Some(key) = refusal_key(finding) {
            if !self.fixes.contains(&key) {
                self.fixes.push(key);
            }
        }
    }

    fn contains(&self, finding: &Finding) -> bool {
        refusal_key(finding).is_some_and(|key| self.fixes.contains(&key))
    }

    fn problem(&self) -> Option<FixProblem> {
        let mut rules: Vec<&'static str> = self.fixes.iter().map(|(rule, _)| *rule).collect();
        rules.dedup();
        (!rules.is_empty()).then_some(FixProblem::BreaksSyntax { rules })
    }
}

fn refusal_key(finding: &Finding) -> Option<(&'static str, String)> {
    let fix = finding.fix.as_ref()?;
    Some((finding.code(), fix.title.clone()))
}

/// The findings whose fixes fix-all may apply, in order.
fn candidates<'a>(analysis: &'a Analysis, mode: FixMode, refused: &Refused) -> Vec<&'a Finding> {
    analysis
        .findings
        .iter()
        .filter(|finding| {
            finding.fix.as_ref().is_some_and(|fix| {
                !fix.edits.is_empty()
                    && match fix.applicability {
                        Applicability::Always => true,
                        Applicability::Maybe => mode == FixMode::Unsafe,
                        Applicability::DisplayOnly => false,
                    }
            }) && !refused.contains(finding)
        })
        .collect()
}

/// The edits one round applies, and how many fixes they make whole.
struct Round {
    edits: Vec<Edit>,
    fixes: usize,
}

impl Round {
    /// `candidates` are applicable already, so `Maybe` fixes among them are meant to be taken.
    fn take(candidates: &[&Finding]) -> Self {
        let edits = collect_fix_edits(candidates.iter().copied(), true);
        let mut round = Self { edits, fixes: 0 };
        round.fixes = candidates.iter().filter(|f| round.includes(f)).count();
        round
    }

    fn includes(&self, finding: &Finding) -> bool {
        finding
            .fix
            .as_ref()
            .is_some_and(|fix| fix.edits.iter().all(|edit| self.edits.contains(edit)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsr_core::config::{Config, Selector};
    use dsr_core::finding::Fix;
    use dsr_core::rule::{Rule, RuleMeta};
    use dsr_core::{Registered, TextRange};
    use dsr_semantic::{DynRule, RegisteredRule, RuleContext};

    dsr_core::declare_rule! {
        /// Test rule: every `old` becomes `new`, with the applicability the file's first line names.
        pub struct Rename {
            code: "TST001",
            slug: "rename",
            family: Meta,
            languages: [Go],
            severity: Low,
            impact: Operability,
            kind: Finding,
            fix: Always,
            scope: Function,
            reads: [],
        }
    }

    impl Rule<RuleContext<'_>> for Rename {
        fn meta(&self) -> &'static RuleMeta {
            &Self::META
        }

        fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
            let applicability = if ctx.source.starts_with("// maybe") {
                Applicability::Maybe
            } else {
                Applicability::Always
            };
            for (start, _) in ctx.source.match_indices("old") {
                let range = TextRange::new(start, start + 3);
                ctx.finding(&Self::META, range)
                    .title("`old` is old")
                    .fix(Fix::edits(
                        "rename",
                        applicability,
                        vec![Edit::replace(range, "new")],
                    ))
                    .emit(sink);
            }
        }
    }

    dsr_core::declare_rule! {
        /// Test rule whose fix never settles: it always wants one more `x`.
        pub struct Grow {
            code: "TST002",
            slug: "grow",
            family: Meta,
            languages: [Go],
            severity: Low,
            impact: Operability,
            kind: Finding,
            fix: Always,
            scope: Function,
            reads: [],
        }
    }

    impl Rule<RuleContext<'_>> for Grow {
        fn meta(&self) -> &'static RuleMeta {
            &Self::META
        }

        fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
            ctx.finding(&Self::META, TextRange::new(0, 0))
                .title("one more")
                .fix(Fix::edits(
                    "grow",
                    Applicability::Always,
                    vec![Edit::insert(0, "// x\n")],
                ))
                .emit(sink);
        }
    }

    dsr_core::declare_rule! {
        /// Test rule whose fix breaks the syntax.
        pub struct Break {
            code: "TST003",
            slug: "break",
            family: Meta,
            languages: [Go],
            severity: Low,
            impact: Operability,
            kind: Finding,
            fix: Always,
            scope: Function,
            reads: [],
        }
    }

    impl Rule<RuleContext<'_>> for Break {
        fn meta(&self) -> &'static RuleMeta {
            &Self::META
        }

        fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
            if let Some(start) = ctx.source.find("func") {
                let range = TextRange::new(start, start + 4);
                ctx.finding(&Self::META, range)
                    .title("breaks")
                    .fix(Fix::edits(
                        "break it",
                        Applicability::Always,
                        vec![Edit::replace(range, "fun(")],
                    ))
                    .emit(sink);
            }
        }
    }

    fn engine(rules: &[&'static DynRule]) -> Engine {
        let codes: Vec<&str> = rules.iter().map(|rule| rule.meta().code).collect();
        let mut config = Config::default();
        // The meta rules would report nothing here; keep the run to the test rules.
        config.override_selection(
            vec![Selector::parse("TST", &codes).expect("the test rules are selectable")],
            Vec::new(),
        );
        let rows: Vec<RegisteredRule> =
            rules.iter().map(|rule| Registered::stable(*rule)).collect();
        Engine::new(&rows, config)
    }

    fn fix(engine: &Engine, text: &str, mode: FixMode) -> Fixed {
        fix_all(engine, Path::new("a.go"), Language::Go, text, mode)
            .expect("the text parses in time")
    }

    #[test]
    fn fixes_are_applied_to_a_fixed_point() {
        let fixed = fix(
            &engine(&[&Rename]),
            "package a\nvar old = old\n",
            FixMode::Safe,
        );
        assert_eq!(fixed.text, "package a\nvar new = new\n");
        assert_eq!(fixed.applied, 2);
        assert!(fixed.analysis.findings.is_empty());
        assert_eq!(fixed.problems, []);
    }

    #[test]
    fn maybe_fixes_need_the_unsafe_mode() {
        let engine = engine(&[&Rename]);
        let source = "// maybe\npackage a\nvar old = 1\n";
        let safe = fix(&engine, source, FixMode::Safe);
        assert_eq!(safe.text, source);
        assert_eq!(safe.analysis.findings.len(), 1);
        let unsafe_ = fix(&engine, source, FixMode::Unsafe);
        assert_eq!(unsafe_.text, "// maybe\npackage a\nvar new = 1\n");
    }

    #[test]
    fn a_fix_that_never_settles_stops_at_the_cap() {
        let fixed = fix(&engine(&[&Grow]), "package a\n", FixMode::Safe);
        assert_eq!(fixed.applied, MAX_FIX_ROUNDS);
        assert_eq!(fixed.text.matches("// x\n").count(), MAX_FIX_ROUNDS);
        assert_eq!(fixed.problems, [FixProblem::DidNotSettle]);
        assert!(fixed.problems[0].to_string().contains("did not settle"));
    }

    #[test]
    fn a_fix_that_breaks_the_syntax_is_not_applied() {
        let source = "package a\nfunc f() {}\n";
        let fixed = fix(&engine(&[&Break]), source, FixMode::Safe);
        assert_eq!(fixed.text, source);
        assert_eq!(fixed.applied, 0);
        assert_eq!(
            fixed.problems,
            [FixProblem::BreaksSyntax {
                rules: vec!["TST003"]
            }]
        );
        assert!(fixed.problems[0].to_string().contains("syntax error"));
    }

    #[test]
    fn the_fixes_that_keep_the_parse_still_apply_beside_a_refused_one() {
        let source = "package a\nvar old = 1\nfunc f() {}\n";
        let fixed = fix(&engine(&[&Rename, &Break]), source, FixMode::Safe);
        assert_eq!(fixed.text, "package a\nvar new = 1\nfunc f() {}\n");
        assert_eq!(fixed.applied, 1);
        assert_eq!(
            fixed.problems,
            [FixProblem::BreaksSyntax {
                rules: vec!["TST003"]
            }]
        );
        let rules: Vec<&str> = fixed.analysis.findings.iter().map(|f| f.code()).collect();
        assert_eq!(rules, ["TST003"], "the refused fix's finding remains");
    }

    #[test]
    fn a_text_that_did_not_parse_is_not_guarded() {
        // Already broken: its parse cannot tell a fix that breaks it, so the fixes apply as they are.
        let source = "package a\nfunc f() {\nvar old = 1\n";
        let fixed = fix(&engine(&[&Rename]), source, FixMode::Safe);
        assert_eq!(fixed.text, "package a\nfunc f() {\nvar new = 1\n");
        assert_eq!(fixed.problems, []);
    }
}
