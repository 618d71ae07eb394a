//! Every finding every fixture produces, under all rules, reads true: no empty code span (``), no template
//! placeholder left unfilled (`{name}`, `{}`), no empty title, trigger or fix title. A message that says
//! "`` is never closed" tells the reader the tool lost track of the code it is talking about.

mod common;

use std::path::{Path, PathBuf};

use dsr_core::{Finding, Language};

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn fixture_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(rules) = std::fs::read_dir(fixtures_root()) else {
        return files;
    };
    for rule in rules.flatten() {
        if let Ok(entries) = std::fs::read_dir(rule.path()) {
            files.extend(entries.flatten().map(|e| e.path()));
        }
    }
    files.sort();
    files
}

/// A `{…}` with nothing but a name or nothing inside, as `format!` leaves it when a template is not filled.
/// Code in spans (`` `{ a: 1 }` ``, `{}` in a quoted snippet) is skipped.
fn unfilled_placeholder(text: &str) -> Option<&str> {
    let outside_code: Vec<&str> = text.split('`').step_by(2).collect();
    for part in outside_code {
        let mut rest = part;
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            // `${name}` in a template literal and `/orders/{id}` in a route are code, not templates.
            if rest[..open].ends_with(['$', '/']) {
                rest = after;
                continue;
            }
            let Some(close) = after.find('}') else { break };
            let inside = &after[..close];
            if inside
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '?')
            {
                return Some(&rest[open..open + close + 2]);
            }
            rest = &after[close + 1..];
        }
    }
    None
}

/// A pair of backticks that is not the fence of a spaced double-backtick span (`` `a` ``): either nothing was
/// quoted, or quoted code with a backtick in it ended its span early.
fn has_empty_code_span(text: &str) -> bool {
    let mut rest = text;
    while let Some(at) = rest.find("``") {
        let after = &rest[at + 2..];
        // A spaced span of a longer fence: `` `a` `` (its closing fence is " ``").
        let Some(inner) = after.strip_prefix(' ') else {
            return true;
        };
        let Some(close) = inner.find(" ``") else {
            return true;
        };
        rest = &inner[close + 3..];
    }
    false
}

fn problems(finding: &Finding) -> Vec<String> {
    let mut found = Vec::new();
    let mut texts: Vec<(&str, &str)> = vec![
        ("title", &finding.title),
        ("trigger", &finding.trigger),
        ("expected", &finding.expected),
        ("actual", &finding.actual),
    ];
    texts.extend(
        finding
            .evidence
            .iter()
            .map(|e| ("evidence", e.note.as_str())),
    );
    if let Some(fix) = &finding.fix {
        texts.push(("fix", &fix.title));
    }
    for (field, text) in texts {
        if matches!(field, "title" | "trigger" | "fix") && text.trim().is_empty() {
            found.push(format!("empty {field}"));
        }
        // Fenced code blocks (```go … ```) are code, not prose.
        let prose: String = text.split("```").step_by(2).collect::<Vec<_>>().join(" ");
        let text = prose.as_str();
        if has_empty_code_span(text) {
            found.push(format!("empty code span in {field}: {text:?}"));
        }
        if let Some(placeholder) = unfilled_placeholder(text) {
            found.push(format!("unfilled {placeholder} in {field}: {text:?}"));
        }
    }
    found
}

#[test]
fn every_fixture_finding_renders_without_holes() {
    let engine = common::all_rules();
    let mut failures = Vec::new();
    let mut rendered = 0;
    for path in fixture_files() {
        let Some(language) = Language::from_path(&path) else {
            continue;
        };
        let Ok(source) = std::fs::read_to_string(&path) else {
            continue;
        };
        let name = path
            .strip_prefix(fixtures_root())
            .unwrap_or(&path)
            .display()
            .to_string();
        let analysed_as = common::analysis_path(&fixtures_root(), &path, language, &source);
        for finding in common::analyze(&engine, &analysed_as, language, &source) {
            rendered += 1;
            for problem in problems(&finding) {
                failures.push(format!("{name}: {} {problem}", finding.code()));
            }
        }
    }
    assert!(rendered > 0, "no fixture findings rendered");
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn placeholder_detection() {
    assert_eq!(
        unfilled_placeholder("waits {delay} between"),
        Some("{delay}")
    );
    assert_eq!(unfilled_placeholder("retries {} times"), Some("{}"));
    assert_eq!(unfilled_placeholder("passes `{ retries: 3 }` to"), None);
    assert_eq!(unfilled_placeholder("no braces"), None);
    assert_eq!(unfilled_placeholder("routes /orders/{id}"), None);
    assert!(has_empty_code_span("`` is never closed"));
    assert!(has_empty_code_span("``stock:${sku}``"));
    assert!(!has_empty_code_span("`` `stock:${sku}` `` read"));
}

/// A retry library configured in the code is described by the options it is given, not by the library's
/// defaults that those options replace (go-retryablehttp's "4 retries" with `RetryMax = 5` set).
#[test]
fn retry_messages_quote_the_options_passed() {
    let path = fixtures_root().join("RES005/fire.go");
    let source = std::fs::read_to_string(&path).expect("RES005 fixture");
    let engine = common::engine_for(&["RES005"]);
    let analysed_as = common::analysis_path(&fixtures_root(), &path, Language::Go, &source);
    let findings = common::analyze(&engine, &analysed_as, Language::Go, &source);
    let retryable = findings
        .iter()
        .find(|f| f.title.contains("retryablehttp.NewClient"))
        .expect("RES005 on retryablehttp.NewClient");
    assert!(
        retryable.title.contains("`client.RetryMax = 5`") && !retryable.title.contains("4 retries"),
        "{}",
        retryable.title
    );
}
