//! The fixture harness (STYLE.md §5): every file under `tests/fixtures/<CODE>/` is analysed with that rule alone,
//! and its findings are compared with the inline markers, in both directions.
//!
//! A marker is a comment line under the line it points at: `//    ^^^^^ RES001` (`--` in SQL). The first caret
//! is the column where the finding starts (columns count characters, a tab is one), the carets cover the
//! finding up to the end of that line; `RES001?` expects an open question. Several marker lines may follow one
//! line. A marker line may be indented less than its target (Go indents with tabs: `\t//^^^ CODE` points at
//! the fourth column). A file `NAME.fixed.EXT` beside `NAME.EXT` is the text after applying every fix of the rule (marker
//! lines dropped); it must itself yield no finding of the rule, and must parse if the original did.
//!
//! A fixture is analysed under its path below `tests/fixtures/` (`RES001/fire.go`), with the default `[scope]`:
//! test and example code are not reported. Directives on its first lines change that:
//! `// fixture-path: integration/ping_test.go` analyses it as if it were at that path (`--` in SQL), and
//! `// fixture-scope: production, test` runs with those code roles in scope.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use dsr_core::config::Scope;
use dsr_core::fix::{apply_edits, collect_fix_edits};
use dsr_core::{CodeRole, FindingKind, Language};
use dsr_syntax::position::line_column_1based;
use dsr_syntax::{Document, Rope};

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct Mark {
    line: usize,
    column: usize,
    width: usize,
    open_question: bool,
}

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn is_marker_line(line: &str, leader: &str) -> Option<(usize, usize, String)> {
    let trimmed = line.trim_start();
    let rest = trimmed.strip_prefix(leader)?;
    let after_spaces = rest.trim_start_matches([' ', '\t']);
    if !after_spaces.starts_with('^') {
        return None;
    }
    let caret_start = line.chars().count() - after_spaces.chars().count();
    let carets = after_spaces.chars().take_while(|c| *c == '^').count();
    let code = after_spaces[carets..].trim().to_string();
    Some((caret_start, carets, code))
}

/// Parses the markers of `code` in `source`: (expected marks, source lines that are markers).
fn expected_marks(source: &str, language: Language, code: &str) -> (Vec<Mark>, Vec<usize>) {
    let mut marks = Vec::new();
    let mut marker_lines = Vec::new();
    let mut target: Option<(usize, usize)> = None; // (line index, length in chars)
    for (index, line) in source.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        match is_marker_line(line, language.line_comment()) {
            Some((column, width, marker_code)) => {
                marker_lines.push(index);
                let (marker_code, open_question) = match marker_code.strip_suffix('?') {
                    Some(c) => (c.to_string(), true),
                    None => (marker_code, false),
                };
                assert_eq!(
                    marker_code,
                    code,
                    "marker for another rule on line {}",
                    index + 1
                );
                let (line, _) = target
                    .unwrap_or_else(|| panic!("marker on line {} points at nothing", index + 1));
                marks.push(Mark {
                    line: line + 1,
                    column: column + 1,
                    width,
                    open_question,
                });
            }
            None => target = Some((index, line.chars().count())),
        }
    }
    (marks, marker_lines)
}

fn actual_marks(source: &str, findings: &[dsr_core::Finding]) -> Vec<Mark> {
    let rope = Rope::from_str(source);
    findings
        .iter()
        .map(|finding| {
            let (line, column) = line_column_1based(&rope, finding.range.start);
            let (end_line, end_column) = line_column_1based(&rope, finding.range.end);
            let line_chars = rope
                .line(line - 1)
                .chars()
                .filter(|c| *c != '\n' && *c != '\r')
                .count();
            let end = if end_line == line {
                end_column
            } else {
                line_chars + 1
            };
            Mark {
                line,
                column,
                width: end.saturating_sub(column).max(1),
                open_question: finding.kind == FindingKind::OpenQuestion,
            }
        })
        .collect()
}

fn drop_lines(source: &str, lines: &[usize]) -> String {
    source
        .split_inclusive('\n')
        .enumerate()
        .filter(|(i, _)| !lines.contains(i))
        .map(|(_, l)| l)
        .collect()
}

fn has_parse_errors(language: Language, source: &str) -> bool {
    Document::new(language, source, 0)
        .ok()
        .and_then(|d| d.tree().map(|t| t.root_node().has_error()))
        .unwrap_or(false)
}

fn check_file(code: &str, path: &Path, failures: &mut String) {
    let Some(language) = Language::from_path(path) else {
        return;
    };
    let source =
        std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    let analysed_as = common::analysis_path(&fixtures_root(), path, language, &source);
    let engine = match common::directive(&source, language, "fixture-scope") {
        Some(roles) => common::engine_for_scope(&[code], fixture_scope(roles)),
        None => common::engine_for(&[code]),
    };
    let name = path
        .strip_prefix(fixtures_root())
        .unwrap_or(path)
        .display()
        .to_string();
    check_source(code, &engine, &analysed_as, &name, &source, failures);
}

/// A multi-file fixture: a folder under `tests/fixtures/<CODE>/` holding a small workspace (with its `go.mod`,
/// `Cargo.toml` or `tsconfig.json`). It is copied to a temporary folder (whose path has no `tests/` in it, so
/// that its code is production code), indexed as a workspace, and each of its files is checked against its
/// markers with the index. A file whose first lines say `// fixture-evidence-in: billing/gateway.go` expects
/// every finding of the rule in it to have evidence in that file; that one and `// fixture-needs-index: why`
/// expect other findings when the file is analysed alone.
fn check_workspace(code: &str, dir: &Path, failures: &mut String) {
    let temp = tempfile::tempdir().expect("a temporary folder");
    let root = temp.path().join(dir.file_name().expect("a folder name"));
    copy_tree(dir, &root);
    let engine = common::engine_for(&[code]);
    let files = source_files(&root);
    let read = |path: &Path, _: Language| std::fs::read_to_string(path).ok();
    let index = dsr_engine::index::build(
        &engine,
        root.clone(),
        &files,
        &read,
        &dsr_engine::index::sequential,
    );
    if std::env::var_os("DSR_DEBUG_INDEX").is_some() {
        for (path, _) in &files {
            eprintln!("{}: {:#?}", path.display(), index.summary(path));
        }
    }
    if std::env::var_os("DSR_DEBUG_INDEX").is_some() {
        for (path, _) in &files {
            eprintln!("{}: {:#?}", path.display(), index.effects_of(path));
        }
    }
    engine.set_index(Some(index.snapshot()));
    for (path, language) in &files {
        let source = std::fs::read_to_string(path).expect("a fixture file");
        let name = format!(
            "{}/{}",
            dir.strip_prefix(fixtures_root()).unwrap_or(dir).display(),
            path.strip_prefix(&root).unwrap_or(path).display()
        );
        let findings = check_source(code, &engine, path, &name, &source, failures);
        let evidence_in = common::directive(&source, *language, "fixture-evidence-in");
        if evidence_in.is_some()
            || common::directive(&source, *language, "fixture-needs-index").is_some()
        {
            // The index is what makes the difference: the file alone gives other findings.
            engine.set_index(None);
            let alone: Vec<_> = common::analyze(&engine, path, *language, &source)
                .into_iter()
                .filter(|f| f.code() == code)
                .map(|f| (f.range, f.kind))
                .collect();
            engine.set_index(Some(index.snapshot()));
            let with: Vec<_> = findings.iter().map(|f| (f.range, f.kind)).collect();
            if alone == with {
                let _ = writeln!(
                    failures,
                    "{name}: the same findings without the index: the fixture does not need it"
                );
            }
        }
        if let Some(wanted) = evidence_in {
            for finding in &findings {
                let elsewhere = finding
                    .evidence
                    .iter()
                    .any(|e| e.path.as_deref().is_some_and(|p| p.ends_with(wanted)));
                if !elsewhere {
                    let _ = writeln!(
                        failures,
                        "{name}: {} has no evidence in {wanted}: {:?}",
                        finding.title, finding.evidence
                    );
                }
            }
        }
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a folder");
    for entry in std::fs::read_dir(from).expect("a fixture folder").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("a copied file");
        }
    }
}

/// The source files below `root`, sorted.
fn source_files(root: &Path) -> Vec<(PathBuf, Language)> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("a folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Some(language) = Language::from_path(&path) {
                files.push((path, language));
            }
        }
    }
    files.sort();
    files
}

/// Checks one text's findings of `code` against its markers (and its `.fixed` twin when there is one);
/// returns the findings.
fn check_source(
    code: &str,
    engine: &dsr_engine::Engine,
    analysed_as: &Path,
    name: &str,
    source: &str,
    failures: &mut String,
) -> Vec<dsr_core::Finding> {
    let Some(language) = Language::from_path(analysed_as) else {
        return Vec::new();
    };
    let path = analysed_as;
    let findings: Vec<_> = common::analyze(engine, analysed_as, language, source)
        .into_iter()
        .filter(|f| f.code() == code)
        .collect();
    let (mut expected, marker_lines) = expected_marks(source, language, code);
    let mut actual = actual_marks(source, &findings);
    expected.sort();
    actual.sort();
    for finding in &findings {
        if let Err(message) = common::check_message_conventions(finding) {
            let _ = writeln!(failures, "{name}: {message}");
        }
    }
    if expected != actual {
        let _ = writeln!(failures, "{name}: markers and findings differ");
        for mark in expected.iter().filter(|m| !actual.contains(m)) {
            let _ = writeln!(
                failures,
                "  missing:    {}:{} width {}{}",
                mark.line,
                mark.column,
                mark.width,
                if mark.open_question {
                    " (open question)"
                } else {
                    ""
                }
            );
        }
        for (mark, finding) in actual
            .iter()
            .zip(&findings)
            .filter(|(m, _)| !expected.contains(m))
        {
            let _ = writeln!(
                failures,
                "  unexpected: {}:{} width {}{} — {}",
                mark.line,
                mark.column,
                mark.width,
                if mark.open_question {
                    " (open question)"
                } else {
                    ""
                },
                finding.title
            );
        }
        let _ = writeln!(
            failures,
            "  (all findings: {:?})",
            findings
                .iter()
                .map(|f| (&f.title, actual_marks(source, std::slice::from_ref(f))))
                .collect::<Vec<_>>()
        );
    }
    let fixed_path = path.with_extension(format!(
        "fixed.{}",
        path.extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
    ));
    if fixed_path.exists() {
        let edits = collect_fix_edits(&findings, true);
        let (fixed, _) = apply_edits(source, &edits);
        let fixed_without_markers = drop_lines(
            &fixed,
            &marker_lines_after_fix(source, &fixed, &marker_lines, language),
        );
        let wanted = std::fs::read_to_string(&fixed_path).unwrap_or_default();
        if fixed_without_markers != wanted {
            let _ = writeln!(failures, "{name}: fixed text differs from {}:\n--- got ---\n{fixed_without_markers}--- want ---\n{wanted}", fixed_path.display());
        }
        if !has_parse_errors(language, &drop_lines(source, &marker_lines))
            && has_parse_errors(language, &wanted)
        {
            let _ = writeln!(failures, "{name}: the fixed text does not parse");
        }
        let again: Vec<_> = common::analyze(engine, analysed_as, language, &wanted)
            .into_iter()
            .filter(|f| f.code() == code)
            .collect();
        if !again.is_empty() {
            let _ = writeln!(
                failures,
                "{name}: {code} still fires after its fixes: {:?}",
                again.iter().map(|f| &f.title).collect::<Vec<_>>()
            );
        }
    }
    findings
}

/// `production, test`: the code roles a `fixture-scope:` directive puts in the run's scope.
fn fixture_scope(roles: &str) -> Scope {
    Scope {
        roles: roles
            .split(',')
            .map(|name| {
                CodeRole::parse(name.trim())
                    .unwrap_or_else(|| panic!("unknown code role {name:?} in fixture-scope"))
            })
            .collect(),
    }
}

/// Marker lines are whole comment lines; after the fix they are found again by content.
fn marker_lines_after_fix(_: &str, fixed: &str, _: &[usize], language: Language) -> Vec<usize> {
    fixed
        .lines()
        .enumerate()
        .filter(|(_, line)| is_marker_line(line, language.line_comment()).is_some())
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn fixtures_match_their_markers() {
    let mut failures = String::new();
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(fixtures_root())
        .expect("fixtures folder")
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.path());
    for dir in entries {
        let code = dir.file_name().to_string_lossy().to_string();
        assert!(
            dsr_rules::find(&code).is_some(),
            "fixtures for unknown rule {code}"
        );
        let mut files: Vec<_> = std::fs::read_dir(dir.path())
            .expect("rule fixture folder")
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        for file in files
            .iter()
            .filter(|f| !f.to_string_lossy().contains(".fixed."))
        {
            if file.is_dir() {
                check_workspace(&code, file, &mut failures);
            } else {
                check_file(&code, file, &mut failures);
            }
            checked += 1;
        }
    }
    assert!(checked > 0, "no fixtures found");
    assert!(failures.is_empty(), "\n{failures}");
}

/// Every rule has fire and clean fixtures in each of its languages (clippy's "a rule lacks its test file").
#[test]
fn every_rule_has_fire_and_clean_fixtures_in_each_language() {
    let mut missing = Vec::new();
    for rule in dsr_rules::registry() {
        let meta = rule.rule.meta();
        if meta.family == dsr_core::Family::Meta {
            continue;
        }
        let dir = fixtures_root().join(meta.code);
        let files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        for language in meta.languages {
            let of_language: Vec<&PathBuf> = files
                .iter()
                .filter(|f| {
                    Language::from_path(f).is_some_and(|l| {
                        l == *language || (l.is_typescript() && language.is_typescript())
                    })
                })
                .filter(|f| !f.to_string_lossy().contains(".fixed."))
                .collect();
            let has_markers = |f: &&&PathBuf| {
                let text = std::fs::read_to_string(f).unwrap_or_default();
                expected_marks(
                    &text,
                    Language::from_path(f).unwrap_or(*language),
                    meta.code,
                )
                .0
                .len()
            };
            let fire = of_language.iter().filter(|f| has_markers(f) > 0).count();
            let clean = of_language.iter().filter(|f| has_markers(f) == 0).count();
            if fire == 0 || clean == 0 {
                missing.push(format!(
                    "{} {language}: {fire} fire, {clean} clean fixture(s)",
                    meta.code
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "rules without fixtures:\n{}",
        missing.join("\n")
    );
}
