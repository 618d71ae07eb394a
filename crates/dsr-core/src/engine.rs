//! `analyze(file) -> findings`: facts once, every enabled rule over them (each isolated against panics),
//! configured severities, suppressions.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use dsr_syntax::{Document, Language};
use tree_sitter::Tree;

use crate::config::Config;
use crate::facts::FileFacts;
use crate::finding::Finding;
use crate::kb::KnowledgeBase;
use crate::rule::{Rule, RuleContext};
use crate::suppression::{
    self, LineStarts, Suppression, SuppressionWithoutReason, UnusedSuppression,
};

/// A rule that panicked on a file: logged, and its findings for that file dropped; the other rules still report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleFailure {
    pub rule: &'static str,
    pub message: String,
}

/// What analysing one file gives.
#[derive(Debug, Default)]
pub struct Analysis {
    /// Sorted by position; suppressed findings removed; unused suppressions included (DSR001/DSR002).
    pub findings: Vec<Finding>,
    pub suppressions: Vec<Suppression>,
    pub failures: Vec<RuleFailure>,
}

/// The rules of a run with their configuration and knowledge base. Cheap to share across threads.
pub struct Engine {
    rules: Vec<&'static dyn Rule>,
    all_codes: Vec<&'static str>,
    config: Config,
    kb: KnowledgeBase,
}

impl Engine {
    /// `registry` is every rule there is; the config chooses among them.
    pub fn new(registry: &[&'static dyn Rule], config: Config) -> Self {
        let rules = registry
            .iter()
            .copied()
            .filter(|rule| config.is_enabled(rule.meta().code))
            .collect();
        Self {
            rules,
            all_codes: registry.iter().map(|r| r.meta().code).collect(),
            kb: KnowledgeBase::with_effects(&config.effects),
            config,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn rules(&self) -> &[&'static dyn Rule] {
        &self.rules
    }

    pub fn kb(&self) -> &KnowledgeBase {
        &self.kb
    }

    /// Parses `source` and analyses it.
    pub fn analyze_source(&self, path: &Path, language: Language, source: &str) -> Analysis {
        match Document::new(language, source, 0) {
            Ok(document) => self.analyze(path, language, source, document.tree()),
            Err(err) => {
                tracing::error!("{}: {err}", path.display());
                Analysis::default()
            }
        }
    }

    /// Analyses one file whose tree the caller already has (the LSP keeps it up to date incrementally).
    pub fn analyze(
        &self,
        path: &Path,
        language: Language,
        source: &str,
        tree: Option<&Tree>,
    ) -> Analysis {
        let facts = FileFacts::compute(language, tree, source);
        let ctx = RuleContext::new(path, language, source, tree, &facts, &self.kb);
        let mut findings = Vec::new();
        let mut failures = Vec::new();
        for rule in &self.rules {
            let meta = rule.meta();
            if !meta.applies_to(language) {
                continue;
            }
            let mut out = Vec::new();
            match catch_unwind(AssertUnwindSafe(|| rule.check(&ctx, &mut out))) {
                Ok(()) => findings.append(&mut out),
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
        for finding in &mut findings {
            if let Some(severity) = self.config.severity_for(finding.rule) {
                finding.severity = severity;
            }
        }
        let lines = LineStarts::new(source);
        let mut suppressions = suppression::parse(source, &facts.comments, &lines);
        let mut meta = suppression::apply(
            &mut findings,
            &mut suppressions,
            &lines,
            source,
            |code| self.config.is_enabled(code),
            |code| self.all_codes.contains(&code),
            self.config.suppressions.require_reason,
        );
        meta.retain(|f| match f.rule {
            code if code == UnusedSuppression::META.code
                || code == SuppressionWithoutReason::META.code =>
            {
                self.config.is_enabled(code)
            }
            _ => true,
        });
        for finding in &mut meta {
            if let Some(severity) = self.config.severity_for(finding.rule) {
                finding.severity = severity;
            }
        }
        findings.append(&mut meta);
        findings.sort_by(|a, b| {
            (a.range.start, a.range.end, a.rule).cmp(&(b.range.start, b.range.end, b.rule))
        });
        findings.dedup_by(|a, b| a.rule == b.rule && a.range == b.range && a.title == b.title);
        Analysis {
            findings,
            suppressions,
            failures,
        }
    }
}
