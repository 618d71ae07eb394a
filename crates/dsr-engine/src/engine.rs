//! `analyze(file) -> findings`: facts once, every enabled rule over them (each isolated against panics),
//! configured severities, suppressions.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;

use dsr_syntax::{Document, Language};
use tree_sitter::Tree;

use crate::cancel::{Cancellation, Cancelled};
use dsr_core::config::Config;
use dsr_core::finding::Finding;
use dsr_core::kb::KnowledgeBase;
use dsr_core::limits::Skip;
use dsr_core::meta::Evidence;
use dsr_core::suppression::{self, LineStarts, Suppression};
use dsr_core::RuleStatus;
use dsr_semantic::facts::{FileFacts, WorkspaceTypes};
use dsr_semantic::index::{
    AnalysisReads, FileSummary, IndexSnapshot, IndexView, RecordedQuestions,
};
use dsr_semantic::roles::CodeRoles;
use dsr_semantic::{DynRule, RegisteredRule, RuleContext};

/// What a file's summary binds receivers through.
#[derive(Copy, Clone, Debug)]
pub enum IndexPass<'a> {
    /// The workspace's declarations are not known yet: every question about them is answered "nothing" and
    /// recorded, so that indexing can tell afterwards whether the answers they have would change the summary
    /// ([`RecordedQuestions`]).
    Recording(&'a Arc<RecordedQuestions>),
    /// The workspace's declarations (linked), when given.
    Effects(Option<&'a IndexSnapshot>),
}

/// A rule that panicked on a file: logged, and its findings for that file dropped; the other rules still report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleFailure {
    pub rule: &'static str,
    pub message: String,
}

/// What analysing one file gives.
#[derive(Clone, Debug, Default)]
pub struct Analysis {
    /// Sorted by position; suppressed findings removed; unused suppressions included (DSR001/DSR002).
    pub findings: Vec<Finding>,
    pub suppressions: Vec<Suppression>,
    pub failures: Vec<RuleFailure>,
}

static NEXT_ENGINE_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The rules of a run with their configuration and knowledge base. Cheap to share across threads.
pub struct Engine {
    rules: Vec<&'static DynRule>,
    all_codes: Vec<&'static str>,
    /// Rules that run but whose open questions are in preview while `preview = true` is not set: their
    /// questions are dropped with the findings out of scope.
    questions_hidden: Vec<&'static str>,
    config: Config,
    kb: KnowledgeBase,
    /// Tells engines apart: results cached for one engine's rules and configuration are not valid for another.
    id: u64,
    /// The workspace index analyses see other files through (`None`: single-file analysis, `--no-index`).
    index: std::sync::RwLock<Option<IndexSnapshot>>,
}

impl Engine {
    /// `registry` is every rule there is, with its status; the config chooses among them
    /// ([`Config::runs`]).
    pub fn new(registry: &[RegisteredRule], config: Config) -> Self {
        let rules = registry
            .iter()
            .filter(|registered| config.runs(registered.rule.meta().code, registered.status))
            .map(|registered| registered.rule)
            .collect();
        let questions_hidden = registry
            .iter()
            .filter(|registered| registered.questions == RuleStatus::Preview && !config.preview)
            .map(|registered| registered.rule.meta().code)
            .collect();
        Self {
            rules,
            all_codes: registry.iter().map(|r| r.rule.meta().code).collect(),
            questions_hidden,
            kb: KnowledgeBase::with_effects(&config.effects),
            config,
            id: NEXT_ENGINE_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            index: std::sync::RwLock::new(None),
        }
    }

    /// Analyses from now on see other files through `index` (`None`: each file alone).
    pub fn set_index(&self, index: Option<IndexSnapshot>) {
        if let Ok(mut slot) = self.index.write() {
            *slot = index;
        }
    }

    /// The generation of the index analyses use (0 without one): cached results of another are stale.
    pub fn index_generation(&self) -> u64 {
        self.index
            .read()
            .ok()
            .and_then(|slot| slot.as_ref().map(IndexSnapshot::generation))
            .unwrap_or(0)
    }

    /// The generation of the index as the analysis of `path` sees it (0 without one): older than
    /// [`Engine::index_generation`] when the index changed since only in that file's own entries, so that results
    /// cached for it stay valid (`IndexSnapshot::view_generation`).
    pub fn index_view_generation(&self, path: &Path) -> u64 {
        self.index
            .read()
            .ok()
            .and_then(|slot| slot.as_ref().map(|index| index.view_generation(path)))
            .unwrap_or(0)
    }

    fn index_view(&self, path: &Path, language: Language) -> Option<Arc<IndexView>> {
        let slot = self.index.read().ok()?;
        slot.as_ref()?.view(path, language)
    }

    /// [`Engine::summarize`] of a text not parsed yet (within the configured parse deadline; an empty summary
    /// when parsing fails or runs out of time).
    pub fn summarize_source(
        &self,
        path: &Path,
        language: Language,
        source: &str,
        pass: IndexPass<'_>,
    ) -> FileSummary {
        match crate::parse::parse(language, source, self.config.limits.parse_timeout) {
            Ok(tree) => self.summarize(path, language, source, tree.as_ref(), pass),
            Err(_) => FileSummary::default(),
        }
    }

    /// What the workspace index keeps of a file: each function's signature, effects and calls, the file's types,
    /// re-exports and top-level values, with receivers bound through the workspace's declarations as `pass`
    /// gives them; effects from this file alone (the index propagates the rest).
    pub fn summarize(
        &self,
        path: &Path,
        language: Language,
        source: &str,
        tree: Option<&Tree>,
        pass: IndexPass<'_>,
    ) -> FileSummary {
        let types = match pass {
            IndexPass::Recording(questions) => Some(questions.clone() as Arc<dyn WorkspaceTypes>),
            IndexPass::Effects(Some(declarations)) => declarations
                .view(path, language)
                .map(|v| v as Arc<dyn WorkspaceTypes>),
            IndexPass::Effects(None) => None,
        };
        let facts = FileFacts::compute_in_workspace(language, tree, source, types);
        self.summarize_facts(path, language, source, tree, &facts)
    }

    /// [`Engine::summarize`] from facts already computed (indexing keeps a file's facts to summarize it again
    /// once more of the workspace's declarations are known).
    pub fn summarize_facts(
        &self,
        path: &Path,
        language: Language,
        source: &str,
        tree: Option<&Tree>,
        facts: &FileFacts<'_>,
    ) -> FileSummary {
        let ctx = RuleContext::new(path, language, source, tree, facts, &self.kb)
            .with_sql_settings(&self.config.sql);
        FileSummary::compute(&ctx)
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn rules(&self) -> &[&'static DynRule] {
        &self.rules
    }

    pub fn kb(&self) -> &KnowledgeBase {
        &self.kb
    }

    /// Whether the rule with this code is among this run's rules.
    fn runs(&self, code: &str) -> bool {
        self.rules.iter().any(|rule| rule.meta().code == code)
    }

    /// Parses `source` and analyses it.
    pub fn analyze_source(&self, path: &Path, language: Language, source: &str) -> Analysis {
        match Document::new(language, source, 0) {
            Ok(document) => {
                self.analyze(AnalysisInput::new(path, language, source, document.tree()))
            }
            Err(err) => {
                tracing::error!("{}: {err}", path.display());
                Analysis::default()
            }
        }
    }

    /// Parses `source` within the configured parse deadline and analyses it; also returns the tree (fix-all
    /// checks that fixed text still parses). `Err` when the parse ran out of time.
    pub fn parse_and_analyze(
        &self,
        path: &Path,
        language: Language,
        source: &str,
    ) -> Result<(Analysis, Option<Tree>), Skip> {
        let tree = crate::parse::parse(language, source, self.config.limits.parse_timeout)?;
        let analysis = self.analyze(AnalysisInput::new(path, language, source, tree.as_ref()));
        Ok((analysis, tree))
    }

    /// Analyses one file whose tree the caller already has (the LSP keeps it up to date incrementally),
    /// without the rules the input disables.
    pub fn analyze(&self, input: AnalysisInput<'_>) -> Analysis {
        self.analyze_until(input, Cancellation::NEVER)
            .unwrap_or_default()
    }

    /// [`Engine::analyze`] that stops between units of work once `cancel` says so (the language server:
    /// a newer version of the document came in).
    pub fn analyze_until(
        &self,
        input: AnalysisInput<'_>,
        cancel: Cancellation<'_>,
    ) -> Result<Analysis, Cancelled> {
        let raw = self.run_rules(input, cancel, Prescan::OutOfRole)?;
        let roles = raw.roles.clone().unwrap_or_default();
        Ok(self.finish(input.source, raw, || roles))
    }

    /// [`Engine::analyze`], noting everything the analysis reads of the engine's index — the questions its facts
    /// ask of the workspace's declarations, and the calls, callers and locks its rules look up — with the
    /// answers: the findings hold under any index that answers them alike ([`Engine::index_holds`]). `None`
    /// when the file has no view of an index: then nothing is read.
    pub fn analyze_recording(&self, input: AnalysisInput<'_>) -> (Analysis, Option<AnalysisReads>) {
        let snapshot = self.index.read().ok().and_then(|slot| slot.clone());
        let views = snapshot.and_then(|index| {
            let plain = index.view(input.path, input.language)?;
            let record = Arc::new(RecordedQuestions::answering_with(
                plain as Arc<dyn WorkspaceTypes>,
            ));
            let recording = index.recording_view(input.path, input.language, record.clone())?;
            Some((record, recording))
        });
        let Some((record, view)) = views else {
            return (self.analyze(input), None);
        };
        let types = record.clone() as Arc<dyn WorkspaceTypes>;
        let analysis = self
            .run_rules_through(
                input,
                Some(view),
                Some(types),
                Cancellation::NEVER,
                Prescan::OutOfRole,
            )
            .map(|raw| {
                let roles = raw.roles.clone().unwrap_or_default();
                self.finish(input.source, raw, || roles)
            })
            .unwrap_or_default();
        (analysis, Some(record.reads()))
    }

    /// Whether an analysis of the file at `path` that read `reads` of the index (`None`: it had no view of one)
    /// gives the same findings under the engine's index now: the file has a view exactly when it had one, and
    /// the view answers every question alike.
    pub fn index_holds(
        &self,
        path: &Path,
        language: Language,
        reads: Option<&AnalysisReads>,
    ) -> bool {
        match (self.index_view(path, language), reads) {
            (Some(view), Some(reads)) => !reads.answered_differently(&view),
            (None, None) => true,
            _ => false,
        }
    }

    /// The rules' own findings on one text, before severities and suppressions, skipping what `prescan` says
    /// cannot be reported: the part of an analysis that [`crate::incremental`] runs on slices of a file (with
    /// [`Prescan::Nothing`] when the file may hold a suppression directive anywhere, which a slice's comments
    /// do not say; else skipping as the whole-file analysis does).
    pub(crate) fn run_rules(
        &self,
        input: AnalysisInput<'_>,
        cancel: Cancellation<'_>,
        prescan: Prescan,
    ) -> Result<RawAnalysis, Cancelled> {
        let view = self.index_view(input.path, input.language);
        let types = view.clone().map(|v| v as Arc<dyn WorkspaceTypes>);
        self.run_rules_through(input, view, types, cancel, prescan)
    }

    /// [`Engine::run_rules`] seeing the index through `view` (the rules' lookups) and `types` (the facts'
    /// questions about the workspace's declarations).
    fn run_rules_through(
        &self,
        input: AnalysisInput<'_>,
        view: Option<Arc<IndexView>>,
        types: Option<Arc<dyn WorkspaceTypes>>,
        cancel: Cancellation<'_>,
        prescan: Prescan,
    ) -> Result<RawAnalysis, Cancelled> {
        let AnalysisInput {
            path,
            language,
            source,
            tree,
            disabled,
        } = input;
        cancel.check()?;
        let facts = FileFacts::compute_in_workspace(language, tree, source, types);
        let ctx = RuleContext::new(path, language, source, tree, &facts, &self.kb)
            .with_sql_settings(&self.config.sql)
            .with_index(view.as_deref());
        let mut findings = Vec::new();
        let mut failures = Vec::new();
        // The roles some code of the file has, when every finding made outside them would be dropped by
        // `finish` (`keep_in_role`): then a rule that reports in none of them is not run. Not when the file has
        // a suppression directive: one that hides a finding of such a rule still hides something (`finish`
        // matches suppressions before roles), and would be reported unused had the rule not run.
        let reported_roles = (prescan == Prescan::OutOfRole
            && !facts
                .comments
                .iter()
                .any(|&comment| suppression::may_be_directive(source, comment)))
        .then(|| ctx.roles().possible());
        let mut held: Vec<(Evidence, bool)> = Vec::new();
        for rule in &self.rules {
            let meta = rule.meta();
            if !meta.applies_to(language) || disabled.contains(&meta.code) {
                continue;
            }
            if reported_roles
                .as_ref()
                .is_some_and(|roles| !roles.iter().any(|&role| self.reports_in(meta, role)))
            {
                continue;
            }
            // The rule's declared prescan: a file holding none of what its findings start from gives it nothing
            // to find, so it is skipped in every mode (no finding, directive or slice seed is lost). Each
            // evidence is tested once per file (ORD001 and ORD002 declare the same).
            let holds = |evidence: Evidence, held: &mut Vec<(Evidence, bool)>| {
                if let Some(&(_, answer)) = held.iter().find(|(seen, _)| *seen == evidence) {
                    return answer;
                }
                let answer = facts.holds_any(&[evidence], &self.kb);
                held.push((evidence, answer));
                answer
            };
            if !meta.requires.is_empty()
                && !meta
                    .requires
                    .iter()
                    .any(|&evidence| holds(evidence, &mut held))
            {
                continue;
            }
            // Between rules: the facts pass is one unit, each rule another.
            cancel.check()?;
            let mut out = Vec::new();
            match catch_unwind(AssertUnwindSafe(|| rule.check(&ctx, &mut out))) {
                Ok(()) => {
                    for finding in &mut out {
                        finding.role = ctx.roles().at(finding.range.start);
                    }
                    findings.append(&mut out);
                }
                Err(payload) => {
                    let message = payload
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "panic with a non-string payload".into());
                    tracing::error!(rule = meta.code, file = %path.display(), "rule panicked: {message}");
                    failures.push(RuleFailure {
                        rule: meta.code,
                        message,
                    });
                }
            }
        }
        // A finding must point into the file: a rule bug must not become an out-of-range range downstream.
        findings.retain(|f| f.range.start <= f.range.end && f.range.end <= source.len());
        let roles = Some(ctx.roles().clone());
        Ok(RawAnalysis {
            findings,
            comments: facts.comments,
            failures,
            roles,
        })
    }

    /// Configured severities, suppressions (with the unused ones reported), the run's scope and the rules'
    /// roles, and the order findings are shown in. `file_roles` gives the roles of the whole file, for the
    /// suppression findings; it is called only when there are some.
    pub(crate) fn finish(
        &self,
        source: &str,
        raw: RawAnalysis,
        file_roles: impl FnOnce() -> CodeRoles,
    ) -> Analysis {
        let RawAnalysis {
            mut findings,
            comments,
            failures,
            roles: _,
        } = raw;
        for finding in &mut findings {
            if let Some(severity) = self.config.severity_for(finding.code()) {
                finding.severity = severity;
            }
        }
        // Most files have no directive: then there is nothing to apply, and no line table of the whole file to
        // build on every keystroke.
        let (suppressions, mut meta) = if comments
            .iter()
            .any(|&comment| suppression::may_be_directive(source, comment))
        {
            let lines = LineStarts::new(source);
            let mut suppressions = suppression::parse(source, &comments, &lines);
            let meta = suppression::apply(
                &mut findings,
                &mut suppressions,
                &lines,
                source,
                |code| self.runs(code),
                |code| self.all_codes.contains(&code),
                self.config.suppressions.require_reason,
            );
            (suppressions, meta)
        } else {
            (Vec::new(), Vec::new())
        };
        // Scope and rule roles are applied after suppressions are matched: a suppression that hides a finding in
        // code out of scope still hides something, and is not reported as unused.
        findings.retain_mut(|finding| self.keep_in_role(finding));
        // Suppression findings are made for every suppression; only those of rules that run are kept.
        meta.retain(|f| self.runs(f.code()));
        if !meta.is_empty() {
            let roles = file_roles();
            for finding in &mut meta {
                finding.role = roles.at(finding.range.start);
                if let Some(severity) = self.config.severity_for(finding.code()) {
                    finding.severity = severity;
                }
            }
            meta.retain_mut(|finding| self.keep_in_role(finding));
        }
        findings.append(&mut meta);
        findings.sort_by(|a, b| {
            (a.range.start, a.range.end, a.code()).cmp(&(b.range.start, b.range.end, b.code()))
        });
        findings.dedup_by(|a, b| a.rule == b.rule && a.range == b.range && a.title == b.title);
        Analysis {
            findings,
            suppressions,
            failures,
        }
    }
}

/// What an analysis is of: a file's text (inside the engine, also one slice of it), its tree when the caller
/// has one, and the rules to leave out.
#[derive(Copy, Clone)]
pub struct AnalysisInput<'a> {
    /// Where the file is: its code roles and the workspace index's view depend on it.
    pub path: &'a Path,
    pub language: Language,
    pub source: &'a str,
    /// The tree of `source` (the LSP keeps it up to date incrementally); `None` analyses nothing that needs one.
    pub tree: Option<&'a Tree>,
    /// Rule codes not to run: the LSP passes the rules that panicked on this version of the document, so a
    /// crashing rule is not run again on the same text (it would crash again, and log again, on every hover and
    /// code action) but gets another chance with the next edit.
    pub disabled: &'a [&'a str],
}

impl<'a> AnalysisInput<'a> {
    /// Every rule on `source`.
    pub fn new(
        path: &'a Path,
        language: Language,
        source: &'a str,
        tree: Option<&'a Tree>,
    ) -> Self {
        AnalysisInput {
            path,
            language,
            source,
            tree,
            disabled: &[],
        }
    }

    /// The same input without the rules in `disabled`.
    pub fn except(self, disabled: &'a [&'a str]) -> Self {
        AnalysisInput { disabled, ..self }
    }
}

/// What [`Engine::run_rules`] may leave out, knowing that `finish` would drop its findings. (A rule whose
/// declared evidence, `RuleMeta::requires`, the file lacks is left out in both: it has no findings to drop.)
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Prescan {
    /// Every rule that can fire runs.
    Nothing,
    /// Rules whose findings no role of the file's code would keep (`[scope]` and the rule's declared roles):
    /// a test file, with tests out of scope, runs no rule at all.
    OutOfRole,
}

impl Engine {
    /// Whether a finding of the rule `meta` in code of `role` can be reported: [`Engine::keep_in_role`]
    /// without the finding (the severity a rule's roles give never decides whether it is kept).
    fn reports_in(&self, meta: &dsr_core::RuleMeta, role: dsr_core::role::CodeRole) -> bool {
        self.config.scope.includes(role) && meta.roles.severity_in(role, meta.severity).is_some()
    }

    /// Whether a finding is reported in the code it is in: its role is in the run's `[scope]` and the rule's
    /// declared roles apply there; then at the severity the rule has in that role.
    fn keep_in_role(&self, finding: &mut Finding) -> bool {
        if !self.config.scope.includes(finding.role) {
            return false;
        }
        if finding.is_open_question() && self.questions_hidden.contains(&finding.code()) {
            return false;
        }
        match finding
            .rule
            .roles
            .severity_in(finding.role, finding.severity)
        {
            Some(severity) => {
                finding.severity = severity;
                true
            }
            None => false,
        }
    }
}

/// What the rules report on one text, with the comments suppressions are read from.
#[derive(Debug, Default)]
pub(crate) struct RawAnalysis {
    pub(crate) findings: Vec<Finding>,
    pub(crate) comments: Vec<dsr_syntax::TextRange>,
    pub(crate) failures: Vec<RuleFailure>,
    /// The roles of the text analysed as a whole (`None` for results put together from slices).
    pub(crate) roles: Option<CodeRoles>,
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use dsr_core::config::Selector;
    use dsr_core::finding::Finding;
    use dsr_core::rule::{Registered, Rule, RuleMeta};
    use dsr_core::TextRange;

    static PANICS: AtomicUsize = AtomicUsize::new(0);

    dsr_core::declare_rule! {
        /// Test rule that panics on every file.
        pub struct Panics {
            code: "TST101",
            slug: "panics",
            family: Meta,
            languages: [Go],
            severity: Low,
            impact: Operability,
            kind: Finding,
            fix: Never,
            scope: Function,
            reads: [],
        }
    }

    impl Rule<RuleContext<'_>> for Panics {
        fn meta(&self) -> &'static RuleMeta {
            &Self::META
        }

        fn check(&self, _: &RuleContext<'_>, _: &mut Vec<Finding>) {
            PANICS.fetch_add(1, Ordering::SeqCst);
            let empty: Vec<u8> = Vec::new();
            // An out-of-bounds index: the kind of bug a rule could really have.
            let _ = empty[usize::from(empty.is_empty())];
        }
    }

    dsr_core::declare_rule! {
        /// Test rule that reports the start of every file.
        pub struct Reports {
            code: "TST102",
            slug: "reports",
            family: Meta,
            languages: [Go],
            severity: Low,
            impact: Operability,
            kind: Finding,
            fix: Never,
            scope: Function,
            reads: [],
        }
    }

    impl Rule<RuleContext<'_>> for Reports {
        fn meta(&self) -> &'static RuleMeta {
            &Self::META
        }

        fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
            ctx.finding(&Self::META, TextRange::new(0, 7))
                .title("reported")
                .emit(sink);
        }
    }

    #[test]
    fn a_panicking_rule_is_isolated_and_can_be_disabled_per_run() {
        let mut config = Config::default();
        config.override_selection(
            vec![Selector::parse("TST1", &["TST101", "TST102"]).unwrap()],
            Vec::new(),
        );
        let engine = Engine::new(
            &[Registered::stable(&Panics), Registered::stable(&Reports)],
            config,
        );
        let before = PANICS.load(Ordering::SeqCst);
        let analysis = engine.analyze_source(Path::new("a.go"), Language::Go, "package a\n");
        assert_eq!(PANICS.load(Ordering::SeqCst), before + 1);
        assert_eq!(analysis.failures.len(), 1);
        assert_eq!(analysis.failures[0].rule, "TST101");
        assert!(
            analysis.failures[0].message.contains("index out of bounds"),
            "{:?}",
            analysis.failures
        );
        let rules: Vec<&str> = analysis.findings.iter().map(Finding::code).collect();
        assert_eq!(rules, ["TST102"], "the other rule still reports");

        let document = Document::new(Language::Go, "package a\n", 0).unwrap();
        let again = engine.analyze(
            AnalysisInput::new(
                Path::new("a.go"),
                Language::Go,
                "package a\n",
                document.tree(),
            )
            .except(&["TST101"]),
        );
        assert_eq!(PANICS.load(Ordering::SeqCst), before + 1, "not run again");
        assert!(again.failures.is_empty());
        assert_eq!(again.findings.len(), 1);
    }

    /// `TST102` and the unused-suppression rule, with `scope` as the run's `[scope]`.
    fn reporting_engine(scope: &[dsr_core::CodeRole]) -> Engine {
        let mut config = Config::default();
        config.override_selection(
            vec![
                Selector::parse("TST102", &["TST102", "DSR001"]).unwrap(),
                Selector::parse("DSR001", &["TST102", "DSR001"]).unwrap(),
            ],
            Vec::new(),
        );
        config.scope.roles = scope.to_vec();
        Engine::new(
            &[
                Registered::stable(&Reports),
                Registered::stable(&dsr_core::suppression::UnusedSuppression),
            ],
            config,
        )
    }

    #[test]
    fn findings_out_of_scope_are_dropped_after_suppressions_are_matched() {
        use dsr_core::CodeRole;
        let source = "package a // distsys-review: ignore[TST102] a fixture\n";
        let default = reporting_engine(&CodeRole::DEFAULT_SCOPE);
        let codes = |engine: &Engine, path: &str, source: &str| -> Vec<(&'static str, CodeRole)> {
            engine
                .analyze_source(Path::new(path), Language::Go, source)
                .findings
                .iter()
                .map(|f| (f.code(), f.role))
                .collect()
        };
        assert_eq!(
            codes(&default, "a.go", "package a\n"),
            [("TST102", CodeRole::Production)]
        );
        assert_eq!(codes(&default, "a_test.go", "package a\n"), []);
        // The suppression hid a finding in test code, out of scope: it was used, so no DSR001.
        assert_eq!(codes(&default, "a_test.go", source), []);
        // A suppression that hides nothing, in test code: its DSR001 is out of scope too.
        let unused = "package a\n\n// distsys-review: ignore[TST102] stale\nvar x = 1\n";
        assert_eq!(codes(&default, "a_test.go", unused), []);
        assert_eq!(
            codes(&default, "a.go", unused),
            [
                ("TST102", CodeRole::Production),
                ("DSR001", CodeRole::Production)
            ]
        );
        // With tests in scope, the same files report.
        let with_tests = reporting_engine(&[CodeRole::Production, CodeRole::Test]);
        assert_eq!(
            codes(&with_tests, "a_test.go", "package a\n"),
            [("TST102", CodeRole::Test)]
        );
        assert_eq!(
            codes(&with_tests, "a_test.go", unused),
            [("TST102", CodeRole::Test), ("DSR001", CodeRole::Test)]
        );
    }

    static COUNTED: AtomicUsize = AtomicUsize::new(0);

    dsr_core::declare_rule! {
        /// Test rule that counts the files it runs on and reports nothing.
        pub struct Counts {
            code: "TST103",
            slug: "counts",
            family: Meta,
            languages: [Go],
            severity: Low,
            impact: Operability,
            kind: Finding,
            fix: Never,
            scope: Function,
            reads: [],
            roles: Servers,
        }
    }

    impl Rule<RuleContext<'_>> for Counts {
        fn meta(&self) -> &'static RuleMeta {
            &Self::META
        }

        fn check(&self, _: &RuleContext<'_>, _: &mut Vec<Finding>) {
            COUNTED.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A rule none of whose findings the file's roles would keep is not run, unless a suppression directive
    /// in the file could be matched against its findings.
    #[test]
    fn rules_reporting_in_none_of_the_files_roles_are_not_run() {
        let mut config = Config::default();
        config.override_selection(
            vec![Selector::parse("TST103", &["TST103"]).unwrap()],
            Vec::new(),
        );
        let engine = Engine::new(&[Registered::stable(&Counts)], config);
        let runs = |path: &str, source: &str| {
            let before = COUNTED.load(Ordering::SeqCst);
            engine.analyze_source(Path::new(path), Language::Go, source);
            COUNTED.load(Ordering::SeqCst) - before
        };
        assert_eq!(runs("a.go", "package a\n"), 1);
        // Tests are out of the default scope; a server rule does not report in tools.
        assert_eq!(runs("a_test.go", "package a\n"), 0);
        assert_eq!(runs("cmd/dev/github/setup.go", "package a\n"), 0);
        let directive = "package a // distsys-review: ignore[TST103] a fixture\n";
        assert_eq!(runs("a_test.go", directive), 1);
    }
}
