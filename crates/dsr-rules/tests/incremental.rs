//! Incremental analysis equals whole-file analysis (see `dsr_engine::incremental`): on every rule fixture and
//! every file of the sample shop, from an empty cache and then after each of a run of random typing edits
//! (a letter added to or removed from an identifier, a space or a line break) that reuse the cache.
//!
//! Two kinds of difference are expected, and the LSP's confirming whole-file pass corrects both once typing
//! pauses: texts with syntax errors (each slice recovers from the error on its own, so those are analysed but
//! not compared), and the findings in [`KNOWN`], whose verdict depends on a chunk that no dependency link
//! reaches. Any other difference fails.
//!
//! `DSR_INCREMENTAL_CORPUS=<paths> cargo test --release -p dsr-rules --test incremental -- --nocapture` runs the
//! same check over files and source trees of your own (`:`-separated: the real-file latency corpus, which
//! scripts/bench-real.sh checks this way first, or the precision corpora) and prints every difference; without
//! the variable that test has nothing to check and passes at once, so CI needs no corpus.
//! `DSR_INCREMENTAL_EDITS=N` sets its edits per file (3).

mod common;

use std::path::{Path, PathBuf};

use dsr_core::{Finding, Language, RuleScope};
use dsr_engine::{AnalysisInput, Engine, IncrementalCache};
use dsr_syntax::Document;

/// A small deterministic generator: the same edits on every run, so a failure is reproducible.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Findings whose verdict depends on a chunk their slice leaves out, by design of their rule: (fixture path
/// suffix, rule, why). Only rules that declare `scope: File` may be here
/// (`known_differences_are_of_file_wide_rules`).
const KNOWN: &[(&str, &str, &str)] = &[
    (
        "LCK002/fire.go",
        "LCK002",
        "the lock's key field is taken in a sibling method (`Acquire`) and deleted in `Release`; only the key field links them",
    ),
    (
        "LCK003/clean.go",
        "LCK002",
        "the lock key is the same string literal in two unrelated functions",
    ),
    (
        "BKP004/clean_limited_by_caller.go",
        "BKP004",
        "the body is capped by the function's caller, which no link from the reading function reaches",
    ),
    (
        "BKP004/clean_configured_endpoint.go",
        "BKP004",
        "the request's URL comes from a client field its constructor sets from configuration, or from the same-file callers a response is handed to (endpoint model), which no link from the reading function reaches",
    ),
    (
        "CON001/clean_advisory_lock.rs",
        "CON001",
        "the advisory lock is taken by the function's caller, which no link from the writing function reaches",
    ),
    (
        "BKP001/clean_counted_capacity.rs",
        "BKP001",
        "the channel is bounded by a counter its owner type checks in another method, which no link from the constructor reaches",
    ),
    (
        "BKP001/clean_counted_capacity_update.rs",
        "BKP001",
        "the channel is bounded by a counter its owner type checks in another method, which no link from the constructor reaches",
    ),
    (
        "OPS002/clean.rs",
        "API002",
        "whether any route of the file serves a health check is a question about the whole file",
    ),
    (
        "ORD002/import.rs",
        "ORD002",
        "the fix edits the `use` line depending on whether other functions still use `SystemTime`",
    ),
    (
        "RES001/clean.rs",
        "RES001",
        "a client stored in a field by one method is bounded by the per-request timeouts of another method of the same `impl`: its users decide",
    ),
    (
        "RES001/clean.ts",
        "RES001",
        "an axios instance without a timeout is clean when every request through it sets one: its users decide",
    ),
    (
        "ORD002/fire_fields.go",
        "ORD002",
        "the earlier reading is stored in a field by another method of the type; only the field links them",
    ),
    (
        "ORD002/fire_fields.rs",
        "ORD002",
        "the earlier reading is stored in a field by another method of the type; only the field links them",
    ),
    (
        "ORD002/fire_fields.ts",
        "ORD002",
        "the earlier reading is stored in a field by another method of the class; only the field links them",
    ),
    (
        "RES001/fire_wrapper.go",
        "RES001",
        "the wrapper's calls decide its request's bound, and a call is reported when another call passes one: its callers decide",
    ),
    (
        "RES001/clean_wrapper.go",
        "RES001",
        "the wrapper's request is bounded by the contexts its callers pass: its callers decide",
    ),
    (
        "RES001/fire_wrapper.ts",
        "RES001",
        "the wrapper's calls decide its request's bound, and a call is reported when another call passes one: its callers decide",
    ),
    (
        "RES001/clean_wrapper.ts",
        "RES001",
        "the wrapper's request is bounded by the options its callers pass: its callers decide",
    ),
    (
        "RES001/fire_helpers.rs",
        "RES001",
        "a builder a helper returns is judged by what the helper's callers chain on it: its callers decide",
    ),
    (
        "RES001/clean_helpers.rs",
        "RES001",
        "a builder a helper returns is judged by what the helper's callers chain on it: its callers decide",
    ),
];

fn known(path: &Path, rule: &str) -> bool {
    KNOWN
        .iter()
        .any(|(suffix, code, _)| *code == rule && path.ends_with(suffix))
}

/// What a finding is, minus nothing: every field must agree.
fn render(findings: &[Finding]) -> Vec<String> {
    findings.iter().map(|f| format!("{f:?}")).collect()
}

fn files_under(root: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if !matches!(name, "node_modules" | "target" | ".git" | "vendor" | "dist") {
                files_under(&path, out);
            }
        } else if Language::from_path(&path).is_some_and(|l| l != Language::Sql) {
            out.push(path);
        }
    }
}

/// Compares incremental and whole-file analysis of `source`; `Err` describes the first difference.
fn compare(
    engine: &Engine,
    path: &Path,
    language: Language,
    source: &str,
    cache: &mut IncrementalCache,
) -> Result<(), String> {
    let Ok(document) = Document::new(language, source, 0) else {
        return Ok(());
    };
    let sliced = engine.analyze_incremental(
        AnalysisInput::new(path, language, source, document.tree()),
        cache,
    );
    if document
        .tree()
        .is_some_and(|tree| tree.root_node().has_error())
    {
        return Ok(());
    }
    let whole = engine.analyze(AnalysisInput::new(path, language, source, document.tree()));
    let keep = |f: &&Finding| !known(path, f.code());
    let whole = render(
        &whole
            .findings
            .iter()
            .filter(keep)
            .cloned()
            .collect::<Vec<_>>(),
    );
    let sliced = render(
        &sliced
            .findings
            .iter()
            .filter(keep)
            .cloned()
            .collect::<Vec<_>>(),
    );
    if whole == sliced {
        return Ok(());
    }
    let missing: Vec<_> = whole.iter().filter(|f| !sliced.contains(f)).collect();
    let extra: Vec<_> = sliced.iter().filter(|f| !whole.contains(f)).collect();
    Err(format!(
        "{}: incremental differs from whole-file analysis\n  missing: {missing:#?}\n  extra: {extra:#?}",
        path.display()
    ))
}

/// Random one-character edits, each checked with the cache of the previous version.
/// `root`: the folder the file is analysed relative to, so that its role is the one its project would give.
fn check_file(engine: &Engine, root: &Path, file: &Path, edits: usize, seed: u64) -> Vec<String> {
    let Some(language) = Language::from_path(file) else {
        return Vec::new();
    };
    let Ok(mut source) = std::fs::read_to_string(file) else {
        return Vec::new();
    };
    let path = &common::analysis_path(root, file, language, &source);
    let mut problems = Vec::new();
    // Slices alone, and a cache seeded from a whole-file analysis as the language server uses it.
    let mut caches = [IncrementalCache::slices_only(), IncrementalCache::default()];
    for cache in &mut caches {
        if let Err(problem) = compare(engine, path, language, &source, cache) {
            problems.push(problem);
        }
    }
    let mut rng = Lcg(seed ^ source.len() as u64);
    for step in 0..edits {
        let bytes = source.as_bytes();
        let mut at = rng.below(source.len() + 1);
        // Typing: next to an identifier character a letter goes in or out; next to whitespace, a space or a
        // line break goes in.
        let word = |i: usize| {
            bytes
                .get(i)
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        };
        let mut tries = 0;
        while !(at > 0 && (word(at - 1) || bytes[at - 1].is_ascii_whitespace())) && tries < 64 {
            at = rng.below(source.len() + 1);
            tries += 1;
        }
        if tries == 64 {
            break;
        }
        if word(at - 1) {
            if rng.below(2) == 0 && word(at) && word(at + 1) {
                source.replace_range(at..at + 1, "");
            } else {
                source.insert(at, 'q');
            }
        } else {
            source.insert(at, if rng.below(2) == 0 { ' ' } else { '\n' });
        }
        let differences: Vec<String> = caches
            .iter_mut()
            .filter_map(|cache| compare(engine, path, language, &source, cache).err())
            .collect();
        if let Some(problem) = differences.into_iter().next() {
            problems.push(format!("after edit {step} at byte {at}: {problem}"));
            // Later edits build on text the first difference already explains.
            break;
        }
    }
    problems
}

fn assert_no_differences(problems: &[String], files: usize) {
    assert!(
        problems.is_empty(),
        "{} of {files} files differ:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn incremental_analysis_equals_whole_file_analysis_on_fixtures_and_the_shop() {
    // Every role in scope, so that findings in tests and examples are compared too, and roles with them.
    let engine = common::all_rules_in_every_role();
    let crate_root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = Vec::new();
    let mut count = 0;
    let fixtures = crate_root.join("tests/fixtures");
    let repository = crate_root.join("../..");
    for (root, folder) in [
        (&fixtures, fixtures.clone()),
        (&repository, repository.join("examples")),
    ] {
        let mut files = Vec::new();
        files_under(&folder, &mut files);
        count += files.len();
        for path in &files {
            problems.extend(check_file(&engine, root, path, 16, 7));
        }
    }
    assert!(count > 250, "found only {count} files");
    assert_no_differences(&problems, count);
}

/// A rule that may depend on a chunk no link reaches must say so: `scope: File`.
#[test]
fn known_differences_are_of_file_wide_rules() {
    for (fixture, code, why) in KNOWN {
        let registered = dsr_rules::find(code).expect("a rule of the codes table");
        assert_eq!(
            registered.rule.meta().scope,
            RuleScope::File,
            "{fixture}: {code} differs by design ({why}) but declares `scope: Function`"
        );
    }
}

/// The slices follow only the links the enabled rules' models need (`reads` in `declare_rule!`): each
/// function-scoped rule alone, so with no other rule's links to lean on, is exact on its own fixtures. A rule that
/// reads a model it does not declare fails here.
#[test]
fn each_function_scoped_rule_alone_is_exact_on_its_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut problems = Vec::new();
    let mut count = 0;
    for registered in dsr_rules::registry() {
        let meta = registered.rule.meta();
        if meta.scope == RuleScope::File {
            continue;
        }
        let engine = common::engine_for_scope(&[meta.code], common::every_role());
        let mut files = Vec::new();
        files_under(&root.join(meta.code), &mut files);
        count += files.len();
        for path in &files {
            problems.extend(check_file(&engine, &root, path, 4, 5));
        }
    }
    assert_no_differences(&problems, count);
}

/// The files and trees named by `DSR_INCREMENTAL_CORPUS` (none: nothing to check).
#[test]
fn incremental_analysis_equals_whole_file_analysis_on_a_corpus() {
    let Some(paths) = std::env::var_os("DSR_INCREMENTAL_CORPUS") else {
        eprintln!("DSR_INCREMENTAL_CORPUS is not set: no corpus to check");
        return;
    };
    let edits = std::env::var("DSR_INCREMENTAL_EDITS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let engine = common::all_rules_in_every_role();
    let mut problems = Vec::new();
    let mut count = 0;
    for root in std::env::split_paths(&paths) {
        let mut files = Vec::new();
        if root.is_dir() {
            files_under(&root, &mut files);
        } else {
            files.push(root.clone());
        }
        let folder = if root.is_dir() {
            root.clone()
        } else {
            root.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        for path in &files {
            let started = std::time::Instant::now();
            let found = check_file(&engine, &folder, path, edits, 11);
            eprintln!(
                "{} {} ({:.1} s)",
                if found.is_empty() { "same" } else { "DIFFERS" },
                path.display(),
                started.elapsed().as_secs_f64()
            );
            problems.extend(found);
        }
        count += files.len();
    }
    assert!(count > 0, "DSR_INCREMENTAL_CORPUS names no source file");
    assert_no_differences(&problems, count);
}
