//! The outputs of `check`: every format is a view of the same [`Report`] (the findings, as rules made them, with
//! the sources they point into), written by one [`Renderer`] per format (STYLE.md §12).

mod concise;
mod github;
mod gitlab;
mod json;
mod junit;
mod markdown;
mod rdjson;
mod sarif;
mod text;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use dsr_core::config::Review;
use dsr_core::{Finding, FindingKind, Language, RuleMeta, Severity, TextRange};
use dsr_syntax::position::{offset_to_position, PositionEncoding};
use dsr_syntax::Rope;

use crate::scan::Skipped;

/// Where the rule pages live: `{base}{CODE}.md`. `--docs-url` overrides it (a fork, a pinned tag, an intranet
/// mirror).
pub const DEFAULT_DOCS_URL: &str =
    "https://github.com/distsys-review/distsys-review/blob/main/docs/rules/";

/// `--format`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One block per finding with the source line, like rustc and ruff.
    #[default]
    Text,
    /// A review document: findings in the review template, grouped by severity, then open questions.
    #[value(alias = "md")]
    Markdown,
    /// The findings in a stable, versioned schema (docs/json-output.md).
    Json,
    /// SARIF 2.1.0, for code-scanning services and IDE viewers.
    Sarif,
    /// One line per finding, `path:line:col: CODE message` (ruff's `concise`, golangci-lint's `line-number`).
    Concise,
    /// GitHub Actions workflow commands: each finding annotates its lines in the pull request.
    Github,
    /// GitLab Code Quality (a subset of Code Climate's issue format), with stable fingerprints.
    Gitlab,
    /// reviewdog's Diagnostic Format (`reviewdog -f=rdjson`).
    Rdjson,
    /// JUnit XML: one test case per file, failing when the file has findings at or above `--fail-on`.
    Junit,
}

impl Format {
    pub fn renderer(self, color: bool) -> Box<dyn Renderer> {
        match self {
            Format::Text => Box::new(text::TextRenderer { color }),
            Format::Markdown => Box::new(markdown::MarkdownRenderer),
            Format::Json => Box::new(json::JsonRenderer),
            Format::Sarif => Box::new(sarif::SarifRenderer),
            Format::Concise => Box::new(concise::ConciseRenderer),
            Format::Github => Box::new(github::GithubRenderer),
            Format::Gitlab => Box::new(gitlab::GitlabRenderer),
            Format::Rdjson => Box::new(rdjson::RdjsonRenderer),
            Format::Junit => Box::new(junit::JunitRenderer),
        }
    }

    /// Whether the format names the files without findings too (JUnit's passing test cases), so the scan must
    /// keep their paths.
    pub fn lists_clean_files(self) -> bool {
        self == Format::Junit
    }
}

/// Writes a report in one format.
pub trait Renderer {
    fn render(&self, report: &Report<'_>, out: &mut dyn io::Write) -> io::Result<()>;
}

/// A source text with its line index, for turning byte ranges into lines and columns.
pub struct Source {
    pub text: String,
    rope: Rope,
}

/// A position in every unit an output needs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Point {
    /// 1-based.
    pub line: usize,
    /// 1-based, in Unicode scalar values (characters).
    pub column: usize,
    /// 1-based, in UTF-16 code units (SARIF's default `columnKind`, LSP's default encoding).
    pub column_utf16: usize,
    /// 1-based, in UTF-8 bytes from the start of the line (reviewdog's column).
    pub column_byte: usize,
    /// 0-based byte offset.
    pub offset: usize,
}

impl Source {
    pub fn new(text: String) -> Self {
        let rope = Rope::from_str(&text);
        Self { text, rope }
    }

    pub fn point(&self, offset: usize) -> Point {
        let offset = floor_char_boundary(&self.text, offset);
        let position = |encoding| {
            offset_to_position(&self.rope, offset, encoding)
                .map(|p| (p.line as usize + 1, p.character as usize + 1))
                .unwrap_or((self.rope.byte_to_line(offset) + 1, 1))
        };
        let (line, column) = position(PositionEncoding::Utf32);
        let (_, column_utf16) = position(PositionEncoding::Utf16);
        let (_, column_byte) = position(PositionEncoding::Utf8);
        Point {
            line,
            column,
            column_utf16,
            column_byte,
            offset,
        }
    }

    /// The 0-based line index of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        self.rope
            .byte_to_line(floor_char_boundary(&self.text, offset))
    }

    /// Byte range of whole lines `first..=last` (0-based), line breaks included.
    pub fn line_range(&self, first: usize, last: usize) -> TextRange {
        let lines = self.rope.len_lines();
        let start = self.rope.line_to_byte(first.min(lines));
        let end = self.rope.line_to_byte((last + 1).min(lines));
        TextRange::new(start, end)
    }
}

/// Rules may hand out offsets that split a character (a bug, but no reason to crash the report).
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// One scanned file that has findings.
pub struct FileReport {
    /// Relative to the root, `/`-separated (absolute when outside it).
    pub path: String,
    pub language: Language,
    pub source: Source,
    /// Sorted by position.
    pub findings: Vec<Finding>,
}

/// Counts over all findings (open questions apart: they never count as failures).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub files_scanned: usize,
    pub files_skipped: usize,
    /// Fixes applied by `--fix`.
    pub fixed: usize,
    pub by_severity: BTreeMap<Severity, usize>,
    pub open_questions: usize,
}

impl Summary {
    pub fn findings(&self) -> usize {
        self.by_severity.values().sum()
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.by_severity.get(&severity).copied().unwrap_or(0)
    }
}

/// Everything a renderer may show.
pub struct Report<'a> {
    /// Absolute: paths are shown relative to it; SARIF names it as `%SRCROOT%`.
    pub root: PathBuf,
    /// Sorted by path; only files with findings.
    pub files: Vec<FileReport>,
    /// The rules that ran, in code order.
    pub rules: Vec<&'static RuleMeta>,
    pub review: &'a Review,
    pub skipped: &'a [Skipped],
    /// Rules that panicked on a file: (path, rule, message).
    pub failures: Vec<(String, &'static str, String)>,
    pub summary: Summary,
    /// The least severity that fails the run (`--fail-on`); `None` never fails. Formats with a pass/fail per
    /// file (JUnit) use it so that they agree with the exit code.
    pub threshold: Option<Severity>,
    /// Files scanned without findings, sorted, when the format lists them ([`Format::lists_clean_files`]).
    pub clean_files: Vec<String>,
    /// Base URL of the rule pages, ending in `/`.
    pub docs_url: String,
    /// Sources of files that evidence points into but that have no findings of their own.
    pub other_sources: BTreeMap<String, Source>,
}

impl<'a> Report<'a> {
    pub fn new(root: PathBuf, review: &'a Review, skipped: &'a [Skipped], docs_url: &str) -> Self {
        let mut docs_url = docs_url.to_string();
        if !docs_url.ends_with('/') {
            docs_url.push('/');
        }
        Self {
            root,
            files: Vec::new(),
            rules: Vec::new(),
            review,
            skipped,
            failures: Vec::new(),
            summary: Summary::default(),
            threshold: Some(Severity::Medium),
            clean_files: Vec::new(),
            docs_url,
            other_sources: BTreeMap::new(),
        }
    }

    /// Adds a file's findings (files without findings only count as scanned).
    pub fn add_file(
        &mut self,
        path: String,
        language: Language,
        text: String,
        mut findings: Vec<Finding>,
    ) {
        self.summary.files_scanned += 1;
        if findings.is_empty() {
            if !path.is_empty() {
                self.clean_files.push(path);
            }
            return;
        }
        // Renderers slice the text by these ranges: a rule bug must not become a panic here.
        let fit = |range: &mut TextRange| {
            let start = floor_char_boundary(&text, range.start);
            let end = floor_char_boundary(&text, range.end).max(start);
            *range = TextRange::new(start, end);
        };
        for finding in &mut findings {
            fit(&mut finding.range);
            for evidence in finding.evidence.iter_mut().filter(|e| e.path.is_none()) {
                fit(&mut evidence.range);
            }
            if let Some(fix) = &mut finding.fix {
                fix.edits.iter_mut().for_each(|edit| fit(&mut edit.range));
            }
        }
        for finding in &findings {
            match finding.kind {
                FindingKind::Finding => {
                    *self
                        .summary
                        .by_severity
                        .entry(finding.severity)
                        .or_default() += 1;
                }
                FindingKind::OpenQuestion => self.summary.open_questions += 1,
            }
        }
        self.files.push(FileReport {
            path,
            language,
            source: Source::new(text),
            findings,
        });
    }

    /// Sorts files and loads the sources evidence points into. Call once all files are added.
    pub fn finish(&mut self) {
        self.files.sort_by(|a, b| a.path.cmp(&b.path));
        self.clean_files.sort();
        self.summary.files_skipped = self.skipped.len();
        let mut wanted = Vec::new();
        for file in &self.files {
            for finding in &file.findings {
                for evidence in &finding.evidence {
                    if let Some(path) = &evidence.path {
                        let shown = self.display(path);
                        if self.file(&shown).is_none() {
                            wanted.push((shown, path.clone()));
                        }
                    }
                }
            }
        }
        for (shown, path) in wanted {
            let absolute = if path.is_absolute() {
                path
            } else {
                self.root.join(path)
            };
            if let Ok(text) = std::fs::read_to_string(&absolute) {
                self.other_sources.insert(shown, Source::new(text));
            }
        }
    }

    /// How a path from a finding is shown.
    pub fn display(&self, path: &Path) -> String {
        crate::scan::display_path(path, &self.root)
    }

    fn file(&self, path: &str) -> Option<&FileReport> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The source a displayed path refers to, if it was read.
    pub fn source(&self, path: &str) -> Option<&Source> {
        self.file(path)
            .map(|f| &f.source)
            .or_else(|| self.other_sources.get(path))
    }

    /// Every finding with its file, in path then position order.
    pub fn findings(&self) -> impl Iterator<Item = (&FileReport, &Finding)> {
        self.files
            .iter()
            .flat_map(|file| file.findings.iter().map(move |f| (file, f)))
    }

    pub fn rule_url(&self, code: &str) -> String {
        format!("{}{code}.md", self.docs_url)
    }

    /// Where an evidence item is: its displayed path and source (the finding's file when it names none).
    pub fn evidence_source<'s>(
        &'s self,
        file: &'s FileReport,
        evidence: &dsr_core::Evidence,
    ) -> (String, Option<&'s Source>) {
        match &evidence.path {
            None => (file.path.clone(), Some(&file.source)),
            Some(path) => {
                let shown = self.display(path);
                let source = self.source(&shown);
                (shown, source)
            }
        }
    }
}

/// The label of a finding's severity in human-readable outputs.
pub fn severity_label(finding: &Finding) -> &'static str {
    match finding.kind {
        FindingKind::OpenQuestion => "Open question",
        FindingKind::Finding => finding.severity.title(),
    }
}

/// The fenced-code language tag of a file.
pub fn fence_language(language: Language) -> &'static str {
    match language {
        Language::Rust => "rust",
        Language::Go => "go",
        Language::TypeScript => "ts",
        Language::Tsx => "tsx",
        Language::Sql => "sql",
    }
}

/// What `--fix` would do with a finding's fix, for the outputs that say so.
pub fn fix_note(fix: &dsr_core::Fix) -> Option<&'static str> {
    if fix.edits.is_empty() {
        return None;
    }
    match fix.applicability {
        dsr_core::Applicability::Always => Some("applied by --fix"),
        dsr_core::Applicability::Maybe => Some("applied by --fix --unsafe-fixes"),
        dsr_core::Applicability::DisplayOnly => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! A synthetic report covering what the fixtures cannot show yet: every severity, an open question, a fix
    //! with edits, evidence, non-ASCII text before a finding (UTF-16 columns), and skipped files.

    use super::*;
    use dsr_core::{Applicability, Confidence, Edit, Evidence, Fix, Impact};

    use crate::scan::{SkipReason, Skipped};

    pub const GO: &str = "package billing\n\n// Zahlungsdienst — 💳 charges cards\nfunc Charge(c *Client) error {\n\tresp, err := http.Get(url)\n\tq = append(q, job)\n\treturn err\n}\n";

    fn range_of(text: &str, needle: &str) -> TextRange {
        let start = text.find(needle).expect(needle);
        TextRange::new(start, start + needle.len())
    }

    fn finding(code: &str, severity: Severity, range: TextRange, title: &str) -> Finding {
        Finding {
            rule: dsr_rules::find(code).unwrap().rule.meta(),
            title: title.into(),
            severity,
            impact: Impact::Availability,
            kind: FindingKind::Finding,
            confidence: Confidence::High,
            range,
            component: "billing.Charge".into(),
            trigger: "the payment provider stops answering".into(),
            expected: "every remote call has a deadline".into(),
            actual: "`http.Get` uses `http.DefaultClient`, which waits forever".into(),
            evidence: Vec::new(),
            fix: None,
            role: dsr_core::CodeRole::Production,
        }
    }

    /// A High finding of `code` over `start..end`, for tests of one format.
    pub fn finding_at(code: &str, start: usize, end: usize) -> Finding {
        finding(code, Severity::High, TextRange::new(start, end), "finding")
    }

    pub fn skipped() -> Vec<Skipped> {
        vec![
            Skipped {
                display: "blob.go".into(),
                reason: SkipReason::Binary(3),
            },
            Skipped {
                display: "empty.rs".into(),
                reason: SkipReason::Empty,
            },
        ]
    }

    pub fn review() -> Review {
        Review {
            scope: vec!["services/billing".into()],
            invariants: vec!["a card is charged at most once per order".into()],
            slos: vec!["checkout p99 < 800 ms".into()],
        }
    }

    pub fn report<'a>(review: &'a Review, skipped: &'a [Skipped]) -> Report<'a> {
        let mut report = Report::new(PathBuf::from("/project"), review, skipped, DEFAULT_DOCS_URL);
        // Only the rules the findings name, so that rules added to the registry do not change the snapshots.
        report.rules = ["BKP001", "DSR001"]
            .iter()
            .filter_map(|code| dsr_rules::find(code))
            .map(|r| r.rule.meta())
            .collect();
        let get = range_of(GO, "http.Get(url)");
        let mut critical = finding(
            "BKP001",
            Severity::Critical,
            get,
            "`http.Get` has no timeout",
        );
        critical.evidence.push(Evidence {
            path: None,
            range: range_of(GO, "resp, err"),
            note: "the response is awaited here".into(),
        });
        critical.fix = Some(Fix::edits(
            "use a client with a 10 s `Timeout`",
            Applicability::Maybe,
            vec![Edit::replace(
                range_of(GO, "http.Get"),
                "(&http.Client{Timeout: 10 * time.Second}).Get",
            )],
        ));
        let mut high = finding(
            "BKP001",
            Severity::High,
            range_of(GO, "q = append(q, job)"),
            "slice `q` is used as a queue with no bound",
        );
        high.confidence = Confidence::Medium;
        high.fix = Some(Fix::advice("use a buffered channel"));
        let mut low = finding(
            "DSR001",
            Severity::Low,
            range_of(GO, "// Zahlungsdienst"),
            "suppression of RES001 suppresses nothing",
        );
        low.fix = Some(Fix::edits(
            "remove the unused suppression",
            Applicability::Always,
            vec![Edit::replace(
                range_of(GO, "// Zahlungsdienst — 💳 charges cards\n"),
                "",
            )],
        ));
        let mut question = finding(
            "BKP001",
            Severity::Medium,
            range_of(GO, "return err"),
            "is the charge retried by the caller",
        );
        question.kind = FindingKind::OpenQuestion;
        question.confidence = Confidence::Low;
        let mut findings = vec![critical, high, low, question];
        findings.sort_by_key(|f| f.range.start);
        report.add_file(
            "services/billing/charge.go".into(),
            Language::Go,
            GO.into(),
            findings,
        );
        report.add_file(
            "services/billing/clean.go".into(),
            Language::Go,
            "package billing\n".into(),
            Vec::new(),
        );
        report.summary.fixed = 1;
        report.finish();
        report
    }

    pub fn render(format: Format, report: &Report<'_>) -> String {
        let mut out = Vec::new();
        format.renderer(false).render(report, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The synthetic report in one format.
    pub fn rendered(format: Format) -> String {
        let review = review();
        let skipped = skipped();
        render(format, &report(&review, &skipped))
    }

    /// The validator of a vendored schema (tests/formats, tests/sarif).
    pub fn validator(schema: &str) -> jsonschema::Validator {
        let schema: serde_json::Value = serde_json::from_str(schema).unwrap();
        jsonschema::validator_for(&schema).unwrap()
    }

    /// What the validator finds wrong in a value, with where.
    pub fn schema_errors(
        validator: &jsonschema::Validator,
        value: &serde_json::Value,
    ) -> Vec<String> {
        validator
            .iter_errors(value)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect()
    }

    #[test]
    fn points_count_characters_and_utf16_units() {
        let source = Source::new(GO.to_string());
        let card = GO.find("charges").unwrap();
        let point = source.point(card);
        assert_eq!(point.line, 3);
        // "// Zahlungsdienst — 💳 " is 22 characters, 23 UTF-16 units (the card is astral).
        assert_eq!(point.column, 23);
        assert_eq!(point.column_utf16, 24);
        assert_eq!(point.offset, card);
        // An offset inside a character is floored to its start.
        let dash = GO.find('—').unwrap();
        assert_eq!(source.point(dash + 1).offset, dash);
    }

    /// Odd ranges a rule might hand out: empty at the end of the file, across lines, across CRLF, inside a
    /// multi-byte character, over a whole file without a final newline. No format may panic on them.
    #[test]
    fn every_format_renders_odd_ranges() {
        let texts = [
            "package a\n",
            "package a\r\nfunc f() {\r\n}\r\n",
            "package a // é",
            "x",
        ];
        for text in texts {
            let len = text.len();
            let ranges = [
                TextRange::new(len, len),
                TextRange::new(0, len),
                TextRange::new(0, 0),
                TextRange::new(len.saturating_sub(1), len),
                TextRange::new(1, len.min(14)),
            ];
            for range in ranges {
                let review = Review::default();
                let mut report = Report::new(PathBuf::from("/r"), &review, &[], DEFAULT_DOCS_URL);
                let mut f = finding("BKP001", Severity::Medium, range, "odd");
                f.evidence.push(Evidence {
                    path: None,
                    range: TextRange::new(range.end, range.end),
                    note: "here".into(),
                });
                f.evidence.push(Evidence {
                    path: Some(PathBuf::from("elsewhere/missing.go")),
                    range,
                    note: "there".into(),
                });
                f.fix = Some(Fix::edits(
                    "x",
                    Applicability::Always,
                    vec![Edit::replace(range, "y")],
                ));
                report.add_file("a.go".into(), Language::Go, text.into(), vec![f]);
                report.finish();
                for format in <Format as clap::ValueEnum>::value_variants() {
                    let format = *format;
                    let out = render(format, &report);
                    assert!(out.contains("odd"), "{format:?} {range:?} {text:?}: {out}");
                }
            }
        }
    }

    #[test]
    fn summary_counts_open_questions_apart() {
        let review = review();
        let skipped = skipped();
        let report = report(&review, &skipped);
        assert_eq!(report.summary.findings(), 3);
        assert_eq!(report.summary.open_questions, 1);
        assert_eq!(report.summary.files_scanned, 2);
        assert_eq!(report.summary.files_skipped, 2);
        assert_eq!(report.files.len(), 1);
    }
}
