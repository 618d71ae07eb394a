//! Shared by the fixture and docs tests: run the engine on a text with a chosen set of rules.
#![allow(dead_code)] // each test binary uses its own part of this module

use std::path::Path;

use dsr_core::config::Selector;
use dsr_core::{Config, Finding, Language};
use dsr_engine::Engine;

pub fn engine_for(codes: &[&str]) -> Engine {
    let known = dsr_rules::codes();
    let mut config = Config::default();
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
