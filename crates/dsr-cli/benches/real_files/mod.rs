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
//! Per file and per pattern: median and p99 of the time to the *first* diagnostics of each edited version (a
//! provisional publication when the analysis overran the server's edit budget) and to its *final* ones (that
//! version's own analysis), and the final p99 set against a from-scratch analysis of the file (parse and
//! `Engine::analyze`, in this process, median of three). The summary pools each language's files per size class
//! (up to 5,000 lines, up to 20,000), overall and per pattern, and names the files whose final p99 is above their
//! from-scratch analysis.
//!
//! `DSR_BENCH_EDITS=N` sets the edits per pattern (20); `DSR_BENCH_ONLY=server.go` keeps the files whose path
//! contains it; `DSR_BENCH_PATTERNS=middle,burst` runs only those patterns; `DSR_BENCH_PATTERN_BUDGET=SECONDS`
//! stops a pattern after that long (60), so a slow server still finishes the run; `DSR_BENCH_SERVER=PATH` drives
//! another build of the server (a baseline copied aside) with the same edits; `DSR_BENCH_EDIT_BUDGET_MS` sets
//! the server's edit budget (3; `0` turns provisional results off, so each edit waits for its analysis);
//! `DSR_BENCH_SERVER_LOG=FILTER` (`info`: each reindex; `dsr_lsp=trace`: each analysis) prints the server's
//! log after each file's figures.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::lsp_client::{LspClient, TempDir};
use crate::{init, ms, percentile};
use sites::{edit_site, files, language_of};

#[allow(dead_code)] // `byte_offset` is for the in-process benchmark
mod sites;

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
                std::hint::black_box(engine.analyze(dsr_engine::AnalysisInput::new(
                    path,
                    language,
                    text,
                    document.tree(),
                )));
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
        let state = self.client.document_status(&self.uri);
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
        let state = self.client.document_status(&self.uri);
        if state["analyzedProvisional"] == true && state["analyzedVersion"] == version {
            self.client.diagnostics(&self.uri, Some(version));
        }
        self.finals.push(sent.elapsed());
        first
    }

    fn wait_final(&mut self, version: i64, sent: Instant) {
        let state = self.client.document_status(&self.uri);
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

/// One pattern's timed edits on one file: the time to the first diagnostics of each edited version, and to
/// its final ones (the same unless the first were provisional).
struct PatternResult {
    name: &'static str,
    first: Vec<Duration>,
    last: Vec<Duration>,
}

struct FileResult {
    language: &'static str,
    lines: usize,
    scratch: Duration,
    patterns: Vec<PatternResult>,
}

impl FileResult {
    fn pooled(&self, name: Option<&str>, last: bool) -> Vec<Duration> {
        self.patterns
            .iter()
            .filter(|p| name.is_none_or(|n| n == p.name))
            .flat_map(|p| {
                if last {
                    p.last.clone()
                } else {
                    p.first.clone()
                }
            })
            .collect()
    }
}

fn p99(samples: &[Duration]) -> Duration {
    let mut samples = samples.to_vec();
    samples.sort();
    if samples.is_empty() {
        Duration::ZERO
    } else {
        percentile(&samples, 0.99)
    }
}

/// `first median/p99, final median/p99` of one pattern (or all pooled).
fn first_and_final(label: &str, first: &mut [Duration], last: &mut [Duration]) -> String {
    if first.is_empty() {
        return format!("{label}: n/a");
    }
    first.sort();
    last.sort();
    format!(
        "{label}: first {} / {}, final {} / {} (n={})",
        ms(percentile(first, 0.5)),
        ms(percentile(first, 0.99)),
        ms(percentile(last, 0.5)),
        ms(percentile(last, 0.99)),
        first.len()
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
    // `DSR_BENCH_SERVER_LOG=FILTER` (`info`, `dsr_lsp=trace`): the server logs at that level, printed after each
    // file's figures.
    let server_log = std::env::var("DSR_BENCH_SERVER_LOG").unwrap_or_default();
    let mut budget_env = vec![("DISTSYS_REVIEW_EDIT_BUDGET_MS", edit_budget.as_str())];
    if !server_log.is_empty() {
        budget_env.push(("DISTSYS_REVIEW_LOG", server_log.as_str()));
    }
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
        let mut results_of_file = Vec::new();
        for &name in &patterns {
            let first = pattern(&mut session, &lines, name, edits, budget);
            let last = std::mem::take(&mut session.finals);
            results_of_file.push(PatternResult { name, first, last });
        }
        let status = session.client.document_status(&session.uri);
        let provisionals = status["provisionals"].as_u64().unwrap_or(0);
        // Analyses the server stopped because the document changed again (0 from a server without cancellation).
        let cancelled = status["cancelled"].as_u64().unwrap_or(0);
        session.client.shutdown_and_exit();
        let server_log = (!server_log.is_empty()).then(|| session.client.stderr());
        let relative = path.strip_prefix(corpus).unwrap_or(path);
        let result = FileResult {
            language,
            lines: lines.len(),
            scratch,
            patterns: results_of_file,
        };
        let (mut first, mut last) = (result.pooled(None, false), result.pooled(None, true));
        println!(
            "{:<70} {:>6} lines  scratch {:>9}  open {:>9}  {}  final p99 / scratch {:.2}  ({provisionals} provisional, {cancelled} cancelled)",
            relative.display(),
            lines.len(),
            ms(scratch),
            ms(open),
            first_and_final("all", &mut first, &mut last),
            p99(&last).as_secs_f64() / scratch.as_secs_f64().max(1e-9),
        );
        for p in &result.patterns {
            let (mut first, mut last) = (p.first.clone(), p.last.clone());
            println!("    {}", first_and_final(p.name, &mut first, &mut last));
        }
        for line in server_log.iter().flat_map(|log| log.lines()) {
            println!("    | {line}");
        }
        results.push(result);
    }
    println!(
        "\nsummary (all edits of a language pooled; first and final diagnostics, median / p99):"
    );
    for language in ["go", "rust", "typescript"] {
        for (class, range) in [("<=5k", 0..=5_000), ("<=20k", 5_001..=20_000)] {
            let group: Vec<&FileResult> = results
                .iter()
                .filter(|r| r.language == language && range.contains(&r.lines))
                .collect();
            if group.is_empty() {
                continue;
            }
            let pooled = |name: Option<&str>, last: bool| -> Vec<Duration> {
                group.iter().flat_map(|r| r.pooled(name, last)).collect()
            };
            let over: Vec<String> = group
                .iter()
                .filter(|r| p99(&r.pooled(None, true)) > r.scratch)
                .map(|r| format!("{} lines", r.lines))
                .collect();
            println!(
                "{language:<10} {class:<6} {:>3} files  {}  files whose final p99 is above their from-scratch analysis: {} {over:?}",
                group.len(),
                first_and_final("all", &mut pooled(None, false), &mut pooled(None, true)),
                over.len()
            );
            for &name in &patterns {
                println!(
                    "    {}",
                    first_and_final(
                        name,
                        &mut pooled(Some(name), false),
                        &mut pooled(Some(name), true)
                    )
                );
            }
        }
    }
}
