//! The rule pages in docs/rules/ are generated from the rules' doc comments; this test fails when they are stale
//! (`UPDATE_DOCS=1 cargo test -p dsr-rules --test docs` rewrites them), when a section is missing, or when a
//! page's Example does not yield exactly one finding of its rule or its Use instead yields any (STYLE.md §7).

mod common;

use std::path::{Path, PathBuf};

use dsr_core::Language;
use dsr_rules::docs::{index_page, rule_page, SECTIONS};

fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules")
}

fn check_or_update(path: &Path, wanted: &str, stale: &mut Vec<String>) {
    let current = std::fs::read_to_string(path).unwrap_or_default();
    if current == wanted {
        return;
    }
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(path.parent().expect("docs dir")).expect("create docs/rules");
        std::fs::write(path, wanted).expect("write rule page");
    } else {
        stale.push(path.display().to_string());
    }
}

#[test]
fn rule_pages_are_up_to_date() {
    let mut stale = Vec::new();
    for rule in dsr_rules::registry() {
        let meta = rule.rule.meta();
        check_or_update(
            &docs_dir().join(format!("{}.md", meta.code)),
            &rule_page(meta),
            &mut stale,
        );
    }
    check_or_update(
        &docs_dir().join("README.md"),
        &index_page(dsr_rules::registry()),
        &mut stale,
    );
    assert!(
        stale.is_empty(),
        "stale docs (run `UPDATE_DOCS=1 cargo test -p dsr-rules --test docs`):\n{}",
        stale.join("\n")
    );
}

#[test]
fn every_rule_doc_has_every_section_in_order() {
    let mut problems = Vec::new();
    for rule in dsr_rules::registry() {
        let meta = rule.rule.meta();
        let doc = meta.doc();
        let mut last = 0;
        for section in SECTIONS {
            match doc.find(&format!("## {section}\n")) {
                Some(at) if at >= last => last = at,
                Some(_) => {
                    problems.push(format!("{}: section `{section}` out of order", meta.code))
                }
                None => problems.push(format!("{}: no `## {section}` section", meta.code)),
            }
        }
        if meta.summary().is_empty() {
            problems.push(format!("{}: empty summary", meta.code));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The code blocks of a section: (language, code).
fn code_blocks(section: &str) -> Vec<(Language, String)> {
    let mut blocks = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.trim().strip_prefix("```") else {
            continue;
        };
        let language = match info.trim() {
            "go" => Language::Go,
            "rust" | "rs" => Language::Rust,
            "ts" | "typescript" => Language::TypeScript,
            "tsx" | "js" | "javascript" => Language::Tsx,
            "sql" => Language::Sql,
            other => panic!("code block with unknown language `{other}`"),
        };
        let code: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.trim().starts_with("```"))
            .collect();
        blocks.push((language, code.join("\n") + "\n"));
    }
    blocks
}

#[test]
fn doc_examples_fire_and_use_instead_is_clean() {
    let engine = common::all_rules();
    let mut problems = Vec::new();
    for rule in dsr_rules::registry() {
        let meta = rule.rule.meta();
        for (section, wanted) in [("Example", true), ("Use instead", false)] {
            let blocks = code_blocks(&meta.doc_section(section).unwrap_or_default());
            if blocks.is_empty() {
                problems.push(format!("{}: `{section}` has no code block", meta.code));
            }
            for (language, code) in blocks {
                let path = PathBuf::from(format!(
                    "example.{}",
                    match language {
                        Language::Go => "go",
                        Language::Rust => "rs",
                        Language::TypeScript => "ts",
                        Language::Tsx => "tsx",
                        Language::Sql => "sql",
                    }
                ));
                let count = common::analyze(&engine, &path, language, &code)
                    .iter()
                    .filter(|f| f.code() == meta.code)
                    .count();
                if wanted && count != 1 {
                    problems.push(format!(
                        "{}: {section} ({language}) yields {count} findings, not 1",
                        meta.code
                    ));
                }
                if !wanted && count != 0 {
                    problems.push(format!(
                        "{}: {section} ({language}) yields {count} findings",
                        meta.code
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
