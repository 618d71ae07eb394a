//! Keystroke latency on real source files (`cargo bench -p dsr-cli --bench lsp -- real`, or
//! `scripts/bench-real.sh DIR`): every `.go`, `.rs` and `.ts` file under `DSR_BENCH_CORPUS` (the corpus of
//! docs/latency-corpus.tsv, extracted by scripts/latency-corpus.sh) is opened in the release server and edited
//! with the patterns people produce, each edit timed from writing `didChange` to reading the
//! `publishDiagnostics` of that version:
//!
//! - `start`, `middle`, `end`: typing then deleting a letter at the end of an identifier in a body at 5%, 50%
//!   and 95% of the file, each edit sent once the previous one's diagnostics arrived;
//! - `save`: the middle edits, each followed by `didSave`;
//! - `pause`: the middle edits with a pause long enough for the confirming whole-file pass to run between
//!   them (the next keystroke may land while it runs);
//! - `burst`: ten letters typed without waiting, timed from the last one to its version's diagnostics;
//! - `break-fix`: a `(` typed at the start of a statement (a syntax error), then deleted.
//!
//! Each file's figures are set against a from-scratch analysis of it (parse and `Engine::analyze`, in this
//! process, median of three): `ratio` is the p99 per edit over that. The summary gives each language's median
//! and p99 over all its edits, per pattern and per size class (up to 5,000 lines, up to 20,000).
//!
//! `DSR_BENCH_EDITS=N` sets the edits per pattern (20); `DSR_BENCH_ONLY=server.go` keeps the files whose path
//! contains it; `DSR_BENCH_PATTERNS=middle,burst` runs only those patterns; `DSR_BENCH_PATTERN_BUDGET=SECONDS`
//! stops a pattern after that long (60), so a slow server still finishes the run; `DSR_BENCH_SERVER=PATH` drives
//! another build of the server (a baseline copied aside) with the same edits; `DSR_BENCH_EDIT_BUDGET_MS` sets
//! the server's edit budget (3; `0` turns provisional results off, so each edit waits for its analysis).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::lsp_client::{LspClient, TempDir};
use crate::{init, ms, percentile};

const PATTERNS: [&str; 7] = [
    "start",
    "middle",
    "end",
    "save",
    "pause",
    "burst",
    "break-fix",
];

/// Longer than the server's 300 ms wait before its confirming whole-file pass.
const PAUSE: Duration = Duration::from_millis(400);

fn language_of(path: &Path) -> Option<&'static str> {
    match path.extension()?.to_str()? {
        "go" => Some("go"),
        "rs" => Some("rust"),
        "ts" => Some("typescript"),
        _ => None,
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else if language_of(&path).is_some() {
            out.push(path);
        }
    }
}

const KEYWORDS: &[&str] = &[
    "if",
    "else",
    "for",
    "return",
    "func",
    "fn",
    "let",
    "mut",
    "var",
    "const",
    "match",
    "while",
    "loop",
    "switch",
    "case",
    "default",
    "break",
    "continue",
    "defer",
    "go",
    "select",
    "await",
    "async",
    "new",
    "throw",
    "try",
    "catch",
    "this",
    "self",
    "Self",
    "pub",
    "use",
    "impl",
    "struct",
    "type",
    "interface",
    "import",
    "export",
    "package",
    "static",
    "unsafe",
    "where",
    "in",
    "of",
    "typeof",
    "instanceof",
    "yield",
    "delete",
    "void",
    "class",
    "enum",
    "trait",
    "mod",
    "crate",
    "super",
    "range",
    "chan",
    "map",
    "goto",
    "fallthrough",
    "ref",
    "move",
    "dyn",
    "as",
    "true",
    "false",
    "nil",
    "null",
    "undefined",
    "function",
    "private",
    "public",
    "protected",
    "readonly",
    "declare",
    "namespace",
    "abstract",
    "get",
    "set",
];

/// Where to type near `fraction` of the file: (line, UTF-16 column) just after an identifier (not a keyword)
/// that starts an indented line, i.e. inside a body; and the column where that line's code starts.
fn edit_site(lines: &[&str], fraction: f64) -> Option<(usize, usize, usize)> {
    let from = ((lines.len() as f64 * fraction) as usize).min(lines.len().saturating_sub(1));
    let candidates = (from..lines.len()).chain((0..from).rev());
    for line in candidates {
        let text = lines[line];
        let code = text.trim_start();
        let indent = text.len() - code.len();
        if indent == 0 || code.starts_with("//") || code.starts_with('*') || code.starts_with("/*")
        {
            continue;
        }
        let word: String = code
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if word.len() < 2
            || !word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            || KEYWORDS.contains(&word.as_str())
        {
            continue;
        }
        // Only ASCII before the edit, so byte columns are UTF-16 columns.
        if !text[..indent + word.len()].is_ascii() {
            continue;
        }
        return Some((line, indent + word.len(), indent));
    }
    None
}

/// From-scratch analysis of the whole file, in this process: parse and `Engine::analyze`, median of three.
fn from_scratch(path: &Path, text: &str) -> Duration {
    let Some(language) = dsr_core::Language::from_path(path) else {
        return Duration::ZERO;
    };
    let engine = dsr_engine::Engine::new(dsr_rules::registry(), dsr_core::Config::default());
    let mut times: Vec<Duration> = (0..3)
        .map(|_| {
            let started = Instant::now();
            if let Ok(document) = dsr_syntax::Document::new(language, text, 1) {
                std::hint::black_box(engine.analyze(path, language, text, document.tree()));
            }
            started.elapsed()
        })
        .collect();
    times.sort();
    times[1]
}

struct Session {
    client: LspClient,
    /// Per timed edit, the time to its final (not provisional) diagnostics.
    finals: Vec<Duration>,
    uri: String,
    version: i64,
    _dir: TempDir,
}

impl Session {
    fn change(&mut self, line: usize, from: usize, to: usize, text: &str) -> i64 {
        self.version += 1;
        let range = json!({"start": {"line": line, "character": from}, "end": {"line": line, "character": to}});
        self.client.change(
            &self.uri,
            self.version,
            json!([{"range": range, "text": text}]),
        );
        self.version
    }

    /// Waits for `version`'s diagnostics; if they were provisional (the previous analysis moved there while the
    /// server finishes this one), records how long after `sent` the final ones came.
    fn wait(&mut self, version: i64) {
        self.client.diagnostics(&self.uri, Some(version));
        let state = self.client.document_state(&self.uri);
        if state["analyzedProvisional"] == true && state["analyzedVersion"] == version {
            self.client.diagnostics(&self.uri, Some(version));
        }
    }

    /// One timed edit: the change, then its version's first diagnostics (and, into `finals`, its final ones).
    fn timed(&mut self, line: usize, from: usize, to: usize, text: &str) -> Duration {
        let sent = Instant::now();
        let version = self.change(line, from, to, text);
        self.client.diagnostics(&self.uri, Some(version));
        let first = sent.elapsed();
        let state = self.client.document_state(&self.uri);
        if state["analyzedProvisional"] == true && state["analyzedVersion"] == version {
            self.client.diagnostics(&self.uri, Some(version));
        }
        self.finals.push(sent.elapsed());
        first
    }

    fn wait_final(&mut self, version: i64, sent: Instant) {
        let state = self.client.document_state(&self.uri);
        if state["analyzedProvisional"] == true && state["analyzedVersion"] == version {
            self.client.diagnostics(&self.uri, Some(version));
        }
        self.finals.push(sent.elapsed());
    }

    fn save(&mut self) {
        self.client.notify(
            "textDocument/didSave",
            json!({"textDocument": {"uri": self.uri}}),
        );
    }
}

fn pattern(
    session: &mut Session,
    lines: &[&str],
    name: &str,
    edits: usize,
    budget: Duration,
) -> Vec<Duration> {
    let fraction = match name {
        "start" => 0.05,
        "end" => 0.95,
        _ => 0.5,
    };
    let Some((line, column, indent)) = edit_site(lines, fraction) else {
        return Vec::new();
    };
    let started = Instant::now();
    let mut samples = Vec::new();
    for i in 0..edits {
        if started.elapsed() > budget {
            break;
        }
        let typing = i % 2 == 0;
        match name {
            "burst" => {
                if !typing {
                    // Delete what the burst typed, untimed.
                    let version = session.change(line, column, column + 10, "");
                    session.wait(version);
                    continue;
                }
                let sent = Instant::now();
                let mut version = 0;
                for k in 0..10 {
                    version = session.change(line, column + k, column + k, "x");
                }
                session.client.diagnostics(&session.uri, Some(version));
                samples.push(sent.elapsed());
                session.wait_final(version, sent);
            }
            "break-fix" => {
                let sample = if typing {
                    session.timed(line, indent, indent, "(")
                } else {
                    session.timed(line, indent, indent + 1, "")
                };
                samples.push(sample);
            }
            _ => {
                if name == "pause" {
                    std::thread::sleep(PAUSE);
                }
                let sample = if typing {
                    session.timed(line, column, column, "x")
                } else {
                    session.timed(line, column, column + 1, "")
                };
                if name == "save" {
                    session.save();
                }
                samples.push(sample);
            }
        }
    }
    // Leave the file as it was for the next pattern (an odd edit count leaves a letter in).
    if name != "burst" && samples.len() % 2 == 1 {
        let version = if name == "break-fix" {
            session.change(line, indent, indent + 1, "")
        } else {
            session.change(line, column, column + 1, "")
        };
        session.wait(version);
    }
    samples
}

struct FileResult {
    language: &'static str,
    lines: usize,
    scratch: Duration,
    samples: Vec<(&'static str, Vec<Duration>)>,
    finals: Vec<Duration>,
}

fn summary(label: &str, samples: &mut [Duration]) -> String {
    if samples.is_empty() {
        return format!("{label}: n/a");
    }
    samples.sort();
    format!(
        "{label}: median {} p99 {} (n={})",
        ms(percentile(samples, 0.5)),
        ms(percentile(samples, 0.99)),
        samples.len()
    )
}

pub fn run(corpus: &Path) {
    let mut paths = Vec::new();
    files(corpus, &mut paths);
    let only = std::env::var("DSR_BENCH_ONLY").unwrap_or_default();
    paths.retain(|p| p.to_string_lossy().contains(&only));
    let edits: usize = std::env::var("DSR_BENCH_EDITS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let budget = Duration::from_secs_f64(
        std::env::var("DSR_BENCH_PATTERN_BUDGET")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(60.0),
    );
    let wanted = std::env::var("DSR_BENCH_PATTERNS").unwrap_or_default();
    let patterns: Vec<&'static str> = PATTERNS
        .into_iter()
        .filter(|p| wanted.is_empty() || wanted.split(',').any(|w| w == *p))
        .collect();
    println!(
        "real files under {}: {} files, {edits} edits per pattern",
        corpus.display(),
        paths.len()
    );
    // `DSR_BENCH_SERVER=PATH`: another build of the server (a baseline), instead of this one.
    let server = std::env::var_os("DSR_BENCH_SERVER").map(PathBuf::from);
    // The server's edit budget as a user gets it (the test client turns it off); `DSR_BENCH_EDIT_BUDGET_MS`
    // changes it (`0`: off, every edit waits for its analysis).
    let edit_budget = std::env::var("DSR_BENCH_EDIT_BUDGET_MS").unwrap_or_else(|_| "3".into());
    let budget_env = [("DISTSYS_REVIEW_EDIT_BUDGET_MS", edit_budget.as_str())];
    let mut results = Vec::new();
    for path in &paths {
        let Some(language) = language_of(path) else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        let scratch = from_scratch(path, &text);
        let dir = TempDir::new("bench-real");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
        let mut client = match &server {
            Some(binary) => LspClient::spawn_binary(binary, dir.path(), &[], &budget_env),
            None => LspClient::spawn_binary(
                Path::new(env!("CARGO_BIN_EXE_distsys-review")),
                dir.path(),
                &[],
                &budget_env,
            ),
        };
        init(&mut client, &dir);
        let uri = dir.uri(name);
        let opened = Instant::now();
        client.open(&uri, language, 1, &text);
        client.diagnostics(&uri, Some(1));
        let open = opened.elapsed();
        let mut session = Session {
            client,
            finals: Vec::new(),
            uri,
            version: 1,
            _dir: dir,
        };
        let mut samples = Vec::new();
        for &name in &patterns {
            samples.push((name, pattern(&mut session, &lines, name, edits, budget)));
        }
        let provisionals = session.client.document_state(&session.uri)["provisionals"]
            .as_u64()
            .unwrap_or(0);
        let mut finals = std::mem::take(&mut session.finals);
        session.client.shutdown_and_exit();
        let relative = path.strip_prefix(corpus).unwrap_or(path);
        let mut all: Vec<Duration> = samples.iter().flat_map(|(_, s)| s.clone()).collect();
        all.sort();
        let p99 = if all.is_empty() {
            Duration::ZERO
        } else {
            percentile(&all, 0.99)
        };
        println!(
            "{:<70} {:>6} lines  scratch {:>9}  open {:>9}  median {:>9}  p99 {:>9}  ratio {:.2}",
            relative.display(),
            lines.len(),
            ms(scratch),
            ms(open),
            ms(if all.is_empty() {
                Duration::ZERO
            } else {
                percentile(&all, 0.5)
            }),
            ms(p99),
            p99.as_secs_f64() / scratch.as_secs_f64().max(1e-9),
        );
        let per_pattern: Vec<String> = samples
            .iter()
            .map(|(name, s)| {
                let mut s = s.clone();
                summary(name, &mut s)
            })
            .collect();
        println!("    {}", per_pattern.join("; "));
        println!(
            "    {provisionals} provisional publications; {}",
            summary("time to the final diagnostics", &mut finals)
        );
        results.push(FileResult {
            language,
            lines: lines.len(),
            scratch,
            samples,
            finals,
        });
    }
    println!("\nsummary (all edits of a language pooled):");
    for language in ["go", "rust", "typescript"] {
        for (class, range) in [("<=5k", 0..=5_000), ("<=20k", 5_001..=20_000)] {
            let group: Vec<&FileResult> = results
                .iter()
                .filter(|r| r.language == language && range.contains(&r.lines))
                .collect();
            if group.is_empty() {
                continue;
            }
            let mut line = format!("{language:<10} {class:<6} {:>3} files", group.len());
            let mut all: Vec<Duration> = group
                .iter()
                .flat_map(|r| r.samples.iter().flat_map(|(_, s)| s.clone()))
                .collect();
            line += &format!("  {}", summary("all", &mut all));
            let over = group
                .iter()
                .filter(|r| {
                    let mut all: Vec<Duration> =
                        r.samples.iter().flat_map(|(_, s)| s.clone()).collect();
                    all.sort();
                    !all.is_empty() && percentile(&all, 0.99) > r.scratch
                })
                .count();
            line += &format!("  files with p99 above from-scratch: {over}");
            println!("{line}");
            let mut finals: Vec<Duration> = group.iter().flat_map(|r| r.finals.clone()).collect();
            println!("    {}", summary("final diagnostics", &mut finals));
            for &name in &patterns {
                let mut pooled: Vec<Duration> = group
                    .iter()
                    .flat_map(|r| {
                        r.samples
                            .iter()
                            .filter(|(n, _)| *n == name)
                            .flat_map(|(_, s)| s.clone())
                    })
                    .collect();
                println!("    {}", summary(name, &mut pooled));
            }
        }
    }
}
