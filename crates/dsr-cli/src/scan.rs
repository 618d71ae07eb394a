//! Finding the files to check, reading them (skipping what cannot be analysed, with a reason), parsing and
//! analysing them, and `--fix`'s loop to a fixed point.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dsr_core::fix::{apply_edits, collect_fix_edits};
use dsr_core::limits::{self, Limits, Skip};
use dsr_core::{Applicability, Config, Finding, Language};
use dsr_engine::{Analysis, Engine};
use tree_sitter::{Parser, Tree};

/// `--fix` applies fixes, re-analyses and repeats until nothing changes; a pair of rules whose fixes undo each
/// other must not loop forever (ruff caps its loop the same way).
pub const MAX_FIX_ROUNDS: usize = 10;

/// A file the walk found: where it is, how it is shown, and how it is parsed.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// Absolute, lexically normalized.
    pub path: PathBuf,
    /// Relative to the root with `/` separators when under it, otherwise absolute.
    pub display: String,
    pub language: Language,
}

/// A candidate whose text was read.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub display: String,
    pub language: Language,
    pub text: String,
}

/// Why a file was not analysed. Each is one warning line; none changes the exit code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    Unreadable(String),
    Empty,
    /// A NUL byte, at this offset.
    Binary(usize),
    /// The first invalid byte and its 1-based line.
    InvalidUtf8 {
        offset: usize,
        line: usize,
    },
    /// Over the size limit, generated, minified, or too slow to parse (`[limits]`).
    Limit(Skip),
    /// Named on the command line but not in a language we read.
    NotSource,
}

#[derive(Clone, Debug)]
pub struct Skipped {
    pub display: String,
    pub reason: SkipReason,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}; skipped", self.display, self.reason.message())?;
        match &self.reason {
            SkipReason::Limit(
                skip
                @ (Skip::Generated { .. } | Skip::Minified { .. } | Skip::ParseTimedOut { .. }),
            ) => {
                write!(f, " ({})", skip.remedy())
            }
            _ => Ok(()),
        }
    }
}

impl SkipReason {
    /// Why, in words (without the path).
    pub fn message(&self) -> String {
        match self {
            SkipReason::Unreadable(err) => format!("cannot read: {err}"),
            SkipReason::Empty => "empty file".into(),
            SkipReason::Binary(offset) => format!("binary file (NUL byte at offset {offset})"),
            SkipReason::InvalidUtf8 { offset, line } => {
                format!("not valid UTF-8 (invalid byte at offset {offset}, line {line})")
            }
            SkipReason::Limit(skip @ Skip::TooLarge { .. }) => {
                format!("{skip} (--max-file-size, or `max-file-size` under [limits])")
            }
            SkipReason::Limit(skip) => skip.to_string(),
            SkipReason::NotSource => "not a Go, Rust, TypeScript/JavaScript or SQL file".into(),
        }
    }

    /// A stable identifier, for the JSON and SARIF reports.
    pub fn code(&self) -> &'static str {
        match self {
            SkipReason::Unreadable(_) => "unreadable",
            SkipReason::Empty => "empty",
            SkipReason::Binary(_) => "binary",
            SkipReason::InvalidUtf8 { .. } => "invalid-utf8",
            SkipReason::Limit(skip) => skip.code(),
            SkipReason::NotSource => "not-source",
        }
    }
}

pub fn human_size(bytes: u64) -> String {
    limits::human_size(bytes)
}

/// Resolves `.` and `..` without touching the file system, so broken symlinks and missing files keep their
/// names (canonicalize would fail on them, or show the link's target).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// How a path is shown and matched against `exclude`: relative to the root when under it.
pub fn display_path(path: &Path, root: &Path) -> String {
    let shown = path.strip_prefix(root).unwrap_or(path);
    let text = shown.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        text.into_owned()
    } else {
        text.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

fn is_excluded(config: &Config, path: &Path, root: &Path) -> bool {
    config.is_excluded(path.strip_prefix(root).unwrap_or(path))
}

/// Whether a whole directory can be skipped. `vendor/**` does not match `vendor` itself but matches `vendor/`
/// (the `**` may be empty), and whatever matches the directory with an empty rest matches everything below it.
fn is_excluded_dir(config: &Config, path: &Path, root: &Path) -> bool {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let mut with_slash = relative.as_os_str().to_owned();
    with_slash.push("/");
    config.is_excluded(relative) || config.is_excluded(Path::new(&with_slash))
}

/// What the walk found.
#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<Candidate>,
    pub skipped: Vec<Skipped>,
}

/// Walks `paths` (absolute) with `.gitignore`, `.ignore` and hidden files respected — also outside a git
/// repository, since a checkout without `.git` (a tarball, a CI cache) should scan the same — and the config's
/// `exclude` globs matched relative to `root`. A file named explicitly is checked even if an ignore file covers
/// it; `exclude` still applies to it, so editor and pre-commit integrations that pass file names get the
/// project's exclusions.
pub fn discover(paths: &[PathBuf], root: &Path, config: &Config) -> Discovery {
    let mut discovery = Discovery::default();
    let mut seen = HashSet::new();
    let shared = Arc::new((config.clone(), root.to_path_buf()));
    for path in paths {
        if path.is_file() {
            if is_excluded(config, path, root) {
                continue;
            }
            let display = display_path(path, root);
            match Language::from_path(path) {
                Some(language) => {
                    if seen.insert(path.clone()) {
                        discovery.files.push(Candidate {
                            path: path.clone(),
                            display,
                            language,
                        });
                    }
                }
                None => discovery.skipped.push(Skipped {
                    display,
                    reason: SkipReason::NotSource,
                }),
            }
            continue;
        }
        let filter = Arc::clone(&shared);
        // The walk streams entries; only the candidates (a path and a name each) are kept.
        let walk = ignore::WalkBuilder::new(path)
            .require_git(false)
            .follow_links(false)
            .filter_entry(move |entry| {
                let (config, root) = &*filter;
                // Pruning excluded directories saves walking `vendor/` or `node_modules/` at all.
                entry.depth() == 0
                    || !entry.file_type().is_some_and(|t| t.is_dir())
                    || !(is_excluded_dir(config, entry.path(), root)
                        || config.limits.skip_vendored && limits::is_vendored_dir(entry.path()))
            })
            .build();
        for entry in walk {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    discovery.skipped.push(walk_error(&err, root));
                    continue;
                }
            };
            // Symlinks are not followed into directories (cycles), but a link to a file is read like the file.
            if entry.file_type().is_none_or(|t| t.is_dir()) {
                continue;
            }
            let Some(language) = Language::from_path(entry.path()) else {
                continue;
            };
            let path = normalize(entry.path());
            if is_excluded(config, &path, root) || !seen.insert(path.clone()) {
                continue;
            }
            discovery.files.push(Candidate {
                display: display_path(&path, root),
                path,
                language,
            });
        }
    }
    discovery.files.sort_by(|a, b| a.display.cmp(&b.display));
    discovery
}

fn walk_error(err: &ignore::Error, root: &Path) -> Skipped {
    fn path_of(err: &ignore::Error) -> Option<&Path> {
        match err {
            ignore::Error::WithPath { path, .. } => Some(path),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                path_of(err)
            }
            _ => None,
        }
    }
    fn innermost(err: &ignore::Error) -> String {
        match err {
            ignore::Error::WithPath { err, .. }
            | ignore::Error::WithDepth { err, .. }
            | ignore::Error::WithLineNumber { err, .. } => innermost(err),
            other => other.to_string(),
        }
    }
    Skipped {
        display: path_of(err).map_or_else(|| "<walk>".to_string(), |p| display_path(p, root)),
        reason: SkipReason::Unreadable(innermost(err)),
    }
}

#[cfg(unix)]
fn is_link_loop(err: &std::io::Error) -> bool {
    err.raw_os_error() == Some(libc::ELOOP)
}

#[cfg(not(unix))]
fn is_link_loop(_: &std::io::Error) -> bool {
    false
}

/// Reads a candidate, or says why it is skipped. The size is checked on the metadata before anything is read, so
/// a 100 MB file over the limit costs one `stat`.
pub fn load(candidate: &Candidate, limits: &Limits) -> Result<SourceFile, Skipped> {
    let max_size = limits.max_file_size;
    let skip = |reason| Skipped {
        display: candidate.display.clone(),
        reason,
    };
    let metadata = std::fs::metadata(&candidate.path).map_err(|err| {
        let message = if is_link_loop(&err) {
            format!("{err} (symbolic link loop)")
        } else if candidate.path.is_symlink() {
            format!("{err} (broken symbolic link)")
        } else {
            err.to_string()
        };
        skip(SkipReason::Unreadable(message))
    })?;
    if metadata.is_dir() {
        return Err(skip(SkipReason::Unreadable("is a directory".into())));
    }
    let too_large = |size: u64| {
        SkipReason::Limit(Skip::TooLarge {
            size,
            limit: max_size,
        })
    };
    if metadata.len() > max_size {
        return Err(skip(too_large(metadata.len())));
    }
    // Never more than the limit (plus one byte, to notice a file that grew between stat and read).
    let mut bytes = Vec::new();
    std::fs::File::open(&candidate.path)
        .and_then(|file| {
            std::io::Read::read_to_end(&mut std::io::Read::take(file, max_size + 1), &mut bytes)
        })
        .map_err(|err| skip(SkipReason::Unreadable(err.to_string())))?;
    if bytes.len() as u64 > max_size {
        return Err(skip(too_large(bytes.len() as u64)));
    }
    if bytes.is_empty() {
        return Err(skip(SkipReason::Empty));
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(skip(SkipReason::Binary(offset)));
    }
    let text = String::from_utf8(bytes).map_err(|err| {
        let offset = err.utf8_error().valid_up_to();
        let line = err.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        skip(SkipReason::InvalidUtf8 { offset, line })
    })?;
    if let Some(reason) = limits::classify(candidate.language, &candidate.path, &text, limits) {
        return Err(skip(SkipReason::Limit(reason)));
    }
    Ok(SourceFile {
        path: candidate.path.clone(),
        display: candidate.display.clone(),
        language: candidate.language,
        text,
    })
}

thread_local! {
    /// One parser per language per thread: creating a parser costs more than parsing a small file.
    static PARSERS: RefCell<Vec<(Language, Parser)>> = const { RefCell::new(Vec::new()) };
}

/// Parses `text` with the language's tree-sitter grammar, giving up after `timeout`; `Ok(None)` for SQL (no
/// grammar) or a grammar that fails to load.
pub fn parse(language: Language, text: &str, timeout: Duration) -> Result<Option<Tree>, Skip> {
    PARSERS.with_borrow_mut(|parsers| {
        let index = match parsers.iter().position(|(l, _)| *l == language) {
            Some(index) => index,
            None => {
                let Some(grammar) = language.grammar() else {
                    return Ok(None);
                };
                let mut parser = Parser::new();
                if let Err(err) = parser.set_language(&grammar) {
                    tracing::error!("{language}: cannot load the grammar: {err}");
                    return Ok(None);
                }
                parsers.push((language, parser));
                parsers.len() - 1
            }
        };
        match dsr_core::dsr_syntax::parse_str_bounded(&mut parsers[index].1, text, timeout) {
            Some(tree) => Ok(Some(tree)),
            None => Err(Skip::ParseTimedOut { after: timeout }),
        }
    })
}

/// Parses and analyses one text; also returns the tree, for `--fix`'s "still parses" check.
pub fn analyze(
    engine: &Engine,
    path: &Path,
    language: Language,
    text: &str,
) -> Result<(Analysis, Option<Tree>), Skip> {
    let tree = parse(language, text, engine.config().limits.parse_timeout)?;
    let analysis = engine.analyze(path, language, text, tree.as_ref());
    Ok((analysis, tree))
}

/// Which fixes `--fix` applies.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FixMode {
    /// `Applicability::Always` only.
    Safe,
    /// `--unsafe-fixes`: `Maybe` too.
    Unsafe,
}

/// What `--fix` did to one file.
#[derive(Debug)]
pub struct Fixed {
    /// The text after the fixes (equal to the input when nothing applied).
    pub text: String,
    /// The analysis of `text`.
    pub analysis: Analysis,
    /// How many fixes were applied, over all rounds.
    pub applied: usize,
    /// Why the loop stopped early, if it did: a problem for the user to see.
    pub problem: Option<String>,
}

fn is_applicable(finding: &Finding, mode: FixMode) -> bool {
    finding.fix.as_ref().is_some_and(|fix| {
        !fix.edits.is_empty()
            && match fix.applicability {
                Applicability::Always => true,
                Applicability::Maybe => mode == FixMode::Unsafe,
                Applicability::DisplayOnly => false,
            }
    })
}

/// Applies fixes, re-analyses, and repeats until no fix applies or [`MAX_FIX_ROUNDS`] is reached. A round whose
/// edits would leave syntax errors in a file that had none is not applied. `Err` when the file itself could not
/// be parsed in time.
pub fn fix(engine: &Engine, file: &SourceFile, mode: FixMode) -> Result<Fixed, Skip> {
    let path = Path::new(&file.display);
    let mut text = file.text.clone();
    let mut applied = 0;
    let (mut analysis, tree) = analyze(engine, path, file.language, &text)?;
    let parsed_cleanly = tree.as_ref().is_some_and(|t| !t.root_node().has_error());
    for _ in 0..MAX_FIX_ROUNDS {
        let edits = collect_fix_edits(&analysis.findings, mode == FixMode::Unsafe);
        if edits.is_empty() {
            return Ok(Fixed {
                text,
                analysis,
                applied,
                problem: None,
            });
        }
        let taken = analysis
            .findings
            .iter()
            .filter(|f| is_applicable(f, mode))
            .filter(|f| {
                f.fix
                    .as_ref()
                    .is_some_and(|fix| fix.edits.iter().all(|e| edits.contains(e)))
            })
            .count();
        let (next, _) = apply_edits(&text, &edits);
        if next == text {
            break;
        }
        let Ok((next_analysis, next_tree)) = analyze(engine, path, file.language, &next) else {
            return Ok(Fixed {
                text,
                analysis,
                applied,
                problem: Some(
                    "the fixed text could not be parsed in time; fixes not applied".into(),
                ),
            });
        };
        if parsed_cleanly && next_tree.is_some_and(|t| t.root_node().has_error()) {
            let mut rules: Vec<&str> = analysis
                .findings
                .iter()
                .filter(|f| is_applicable(f, mode))
                .map(Finding::code)
                .collect();
            rules.dedup();
            return Ok(Fixed {
                text,
                analysis,
                applied,
                problem: Some(format!(
                    "fixes of {} would leave a syntax error; not applied (please report this)",
                    rules.join(", ")
                )),
            });
        }
        applied += taken;
        text = next;
        analysis = next_analysis;
    }
    let still_fixable = !collect_fix_edits(&analysis.findings, mode == FixMode::Unsafe).is_empty();
    Ok(Fixed {
        text,
        analysis,
        applied,
        problem: still_fixable.then(|| {
            format!("fixes did not settle after {MAX_FIX_ROUNDS} rounds; the rest were not applied")
        }),
    })
}

/// The phases of a run and per-language totals, for `--timings`.
#[derive(Debug, Default)]
pub struct Timings {
    pub walk: Phase,
    pub read: Phase,
    pub parse: Phase,
    pub analysis: Phase,
    pub render: Phase,
    pub languages: Vec<LanguageTimings>,
}

/// Wall time of a phase, and the CPU time all threads spent in it (`None` where there is no CPU clock).
#[derive(Clone, Copy, Debug, Default)]
pub struct Phase {
    pub wall: Duration,
    pub cpu: Option<Duration>,
}

#[derive(Clone, Debug, Default)]
pub struct LanguageTimings {
    pub name: &'static str,
    pub files: usize,
    pub bytes: u64,
    /// Summed over files: the time one core spends, whatever the number of jobs.
    pub parse_time: Duration,
    pub analysis_time: Duration,
}

/// Per-file cost of one phase, measured where the work happens (possibly on several threads).
#[derive(Clone, Copy, Debug)]
pub struct FileCost {
    pub language: Language,
    pub bytes: u64,
    pub elapsed: Duration,
}

/// Times `f` in wall time.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

/// Times a phase: wall time, and the process's CPU time over it.
pub fn phase<T>(f: impl FnOnce() -> T) -> (T, Phase) {
    let cpu_before = crate::cpu::process();
    let (value, wall) = timed(f);
    let cpu = cpu_before
        .zip(crate::cpu::process())
        .map(|(before, after)| after.saturating_sub(before));
    (value, Phase { wall, cpu })
}

/// Times work on one file: the calling thread's CPU time (wall time where there is no thread clock), so that
/// per-file sums do not count time spent waiting for a core.
pub fn file_time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let cpu_before = crate::cpu::thread();
    let (value, wall) = timed(f);
    let cpu = cpu_before
        .zip(crate::cpu::thread())
        .map(|(before, after)| after.saturating_sub(before));
    (value, cpu.unwrap_or(wall))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsr_core::{Edit, Fix, Rule, RuleMeta, TextRange};
    use dsr_semantic::RuleContext;

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(normalize(Path::new("a/../../b")), PathBuf::from("../b"));
    }

    #[test]
    fn excluded_directories_are_pruned_only_when_everything_below_is_excluded() {
        let config = Config::parse(
            Path::new("distsys-review.toml"),
            "exclude = [\"vendor/**\", \"**/node_modules\", \"gen/**/*.go\"]",
            &[],
        )
        .unwrap();
        let root = Path::new("/r");
        assert!(is_excluded_dir(&config, Path::new("/r/vendor"), root));
        assert!(is_excluded_dir(
            &config,
            Path::new("/r/web/node_modules"),
            root
        ));
        assert!(!is_excluded_dir(&config, Path::new("/r/gen"), root));
        assert!(!is_excluded_dir(&config, Path::new("/r/src"), root));
    }

    #[test]
    fn display_paths_are_relative_to_the_root() {
        assert_eq!(
            display_path(Path::new("/r/src/a.go"), Path::new("/r")),
            "src/a.go"
        );
        assert_eq!(
            display_path(Path::new("/x/a.go"), Path::new("/r")),
            "/x/a.go"
        );
    }

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

    fn file(text: &str) -> SourceFile {
        SourceFile {
            path: PathBuf::from("/r/a.go"),
            display: "a.go".into(),
            language: Language::Go,
            text: text.into(),
        }
    }

    fn engine(rule: &'static dsr_semantic::DynRule) -> Engine {
        let mut config = Config::default();
        // The meta rules would report nothing here; keep the run to the test rule.
        config.override_selection(
            vec![dsr_core::config::Selector::parse(rule.meta().code, &[rule.meta().code]).unwrap()],
            Vec::new(),
        );
        Engine::new(&[dsr_core::Registered::stable(rule)], config)
    }

    #[test]
    fn fixes_are_applied_to_a_fixed_point() {
        let engine = engine(&Rename);
        let fixed = fix(&engine, &file("package a\nvar old = old\n"), FixMode::Safe).unwrap();
        assert_eq!(fixed.text, "package a\nvar new = new\n");
        assert_eq!(fixed.applied, 2);
        assert!(fixed.analysis.findings.is_empty());
        assert_eq!(fixed.problem, None);
    }

    #[test]
    fn maybe_fixes_need_unsafe_fixes() {
        let engine = engine(&Rename);
        let source = "// maybe\npackage a\nvar old = 1\n";
        let safe = fix(&engine, &file(source), FixMode::Safe).unwrap();
        assert_eq!(safe.text, source);
        assert_eq!(safe.analysis.findings.len(), 1);
        let unsafe_ = fix(&engine, &file(source), FixMode::Unsafe).unwrap();
        assert_eq!(unsafe_.text, "// maybe\npackage a\nvar new = 1\n");
    }

    #[test]
    fn a_fix_that_never_settles_stops_at_the_cap() {
        let engine = engine(&Grow);
        let fixed = fix(&engine, &file("package a\n"), FixMode::Safe).unwrap();
        assert_eq!(fixed.applied, MAX_FIX_ROUNDS);
        assert_eq!(fixed.text.matches("// x\n").count(), MAX_FIX_ROUNDS);
        assert!(fixed.problem.unwrap().contains("did not settle"));
    }

    #[test]
    fn a_fix_that_breaks_the_syntax_is_not_applied() {
        let engine = engine(&Break);
        let source = "package a\nfunc f() {}\n";
        let fixed = fix(&engine, &file(source), FixMode::Safe).unwrap();
        assert_eq!(fixed.text, source);
        assert_eq!(fixed.applied, 0);
        assert!(fixed.problem.unwrap().contains("syntax error"));
    }

    #[test]
    fn parsers_are_reused_per_language() {
        let timeout = Duration::from_secs(2);
        for _ in 0..3 {
            assert!(parse(Language::Go, "package a\n", timeout)
                .unwrap()
                .is_some());
            assert!(parse(Language::Rust, "fn main() {}\n", timeout)
                .unwrap()
                .is_some());
        }
        assert!(parse(Language::Sql, "select 1", timeout).unwrap().is_none());
        let nested = format!("package a\nvar x = {}\n", "([{".repeat(50_000));
        assert_eq!(
            parse(Language::Go, &nested, Duration::ZERO)
                .unwrap_err()
                .code(),
            "parse-timeout"
        );
        // The cancelled parse left nothing behind in the thread's parser.
        let tree = parse(Language::Go, "package a\n", timeout)
            .unwrap()
            .unwrap();
        assert!(!tree.root_node().has_error());
    }
}
