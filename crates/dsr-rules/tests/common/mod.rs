//! Shared by the fixture and docs tests: run the engine on a text with a chosen set of rules.
#![allow(dead_code)] // each test binary uses its own part of this module

use std::path::{Path, PathBuf};

use dsr_core::config::{Scope, Selector};
use dsr_core::{CodeRole, Config, Finding, Language};
use dsr_engine::Engine;

pub fn engine_for(codes: &[&str]) -> Engine {
    engine_for_scope(codes, Scope::default())
}

/// The rules of `codes`, reporting in the code roles of `scope`.
pub fn engine_for_scope(codes: &[&str], scope: Scope) -> Engine {
    let known = dsr_rules::codes();
    let mut config = Config::default();
    config.scope = scope;
    // Fixtures show everything a rule can report, its preview forms too (BKP004's open questions).
    config.preview = true;
    let select = codes
        .iter()
        .map(|code| Selector::parse(code, &known).expect("a known rule code"))
        .collect();
    config.override_selection(select, Vec::new());
    Engine::new(dsr_rules::registry(), config)
}

pub fn all_rules() -> Engine {
    Engine::new(dsr_rules::registry(), Config::default())
}

/// Every rule, reporting in code of every role: for tests that compare findings, which a scope would hide.
pub fn all_rules_in_every_role() -> Engine {
    let mut config = Config::default();
    config.scope = every_role();
    Engine::new(dsr_rules::registry(), config)
}

pub fn every_role() -> Scope {
    Scope {
        roles: CodeRole::ALL.to_vec(),
    }
}

pub fn analyze(engine: &Engine, path: &Path, language: Language, source: &str) -> Vec<Finding> {
    let analysis = engine.analyze_source(path, language, source);
    assert!(
        analysis.failures.is_empty(),
        "{}: rules panicked: {:?}",
        path.display(),
        analysis.failures
    );
    analysis.findings
}

/// Title conventions (STYLE.md §13): lowercase start (or a code span), no final period, specific.
pub fn check_message_conventions(finding: &Finding) -> Result<(), String> {
    let title = &finding.title;
    let first = title
        .chars()
        .next()
        .ok_or_else(|| format!("{}: empty title", finding.code()))?;
    if first.is_uppercase() {
        return Err(format!(
            "{}: title starts with a capital: {title:?}",
            finding.code()
        ));
    }
    if title.ends_with('.') {
        return Err(format!(
            "{}: title ends with a period: {title:?}",
            finding.code()
        ));
    }
    for (field, text) in [
        ("trigger", &finding.trigger),
        ("expected", &finding.expected),
        ("actual", &finding.actual),
    ] {
        if text.trim().is_empty() {
            return Err(format!("{}: empty {field} in {title:?}", finding.code()));
        }
    }
    if finding.fix.is_none() {
        return Err(format!("{}: no fix or advice in {title:?}", finding.code()));
    }
    Ok(())
}

/// The path a test file is analysed under: the one its first line names (`// fixture-path: integration/ping_test.go`,
/// `-- fixture-path: …` in SQL), else its path below `root`. Never the absolute path, whose `tests/` folder would
/// make every fixture test code.
pub fn analysis_path(root: &Path, file: &Path, language: Language, source: &str) -> PathBuf {
    directive(source, language, "fixture-path")
        .map(PathBuf::from)
        .unwrap_or_else(|| file.strip_prefix(root).unwrap_or(file).to_path_buf())
}

/// The value of a `<comment> NAME: value` directive among the file's first lines.
pub fn directive<'s>(source: &'s str, language: Language, name: &str) -> Option<&'s str> {
    source.lines().take(3).find_map(|line| {
        line.trim()
            .strip_prefix(language.line_comment())?
            .trim()
            .strip_prefix(name)?
            .strip_prefix(':')
            .map(str::trim)
    })
}
