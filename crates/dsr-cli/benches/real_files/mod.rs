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
//! Each server's workspace folder holds the file on disk before the server starts ([`open_session`]).
//!
//! Per file and per pattern: median and p99 of the time to the *first* diagnostics of each edited version (a
//! provisional publication when the analysis overran the server's edit budget) and to its *final* ones (that
//! version's own analysis).
//!
//! Two comparisons per file, since "per edit never above a from-scratch analysis" can be read two ways:
//!
//! - **fair** (`whole`): a second server, started with `DISTSYS_REVIEW_INCREMENTAL=0`, gets the same edits of
//!   the same file, pattern by pattern interleaved with the incremental server's (each server left to settle —
//!   its confirming pass and reindex done — before the other one's pattern), so both sides pay the same
//!   transport, reparse, scheduling and publication. Every edit there is analysed as the whole file: it is what
//!   falling back would cost. A file whose incremental final p99 is above that server's final p99 is one where
//!   the plan cost more than falling back would have.
//! - **strict** (`scratch`): parse and `Engine::analyze` of the file in this process, run as many times as the
//!   file has timed edits (interleaved with the patterns, while both servers are idle), reported as the same
//!   statistic: median and p99. A file whose final p99 is above the from-scratch p99 is named too, and the
//!   count above the from-scratch median (the figure earlier rounds reported, against a median of three runs)
//!   is kept for comparison.
//!
//! The summary pools each language's files per size class (up to 5,000 lines, up to 20,000), overall and per
//! pattern, for both servers, and names the files of each comparison.
//!
//! `DSR_BENCH_EDITS=N` sets the edits per pattern (20); `DSR_BENCH_ONLY=server.go` keeps the files whose path
//! contains it; `DSR_BENCH_PATTERNS=middle,burst` runs only those patterns; `DSR_BENCH_PATTERN_BUDGET=SECONDS`
//! stops a pattern after that long (60), so a slow server still finishes the run; `DSR_BENCH_SERVER=PATH` drives
//! another build of the server (a baseline copied aside) with the same edits (a build without
//! `DISTSYS_REVIEW_INCREMENTAL` analyses the `whole` side incrementally too); `DSR_BENCH_WHOLE=0` leaves the
//! whole-file server out (half the run time; no fair comparison); `DSR_BENCH_EDIT_BUDGET_MS` sets the
//! servers' edit budget (3; `0` turns provisional results off, so each edit waits for its analysis);
//! `DSR_BENCH_SERVER_LOG=FILTER` (`info`: each reindex; `dsr_lsp=trace`: each analysis) prints the incremental
//! server's log after each file's figures.

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

/// From-scratch analyses of the whole file, in this process: parse and `Engine::analyze`, `runs` times.
fn from_scratch(
    engine: &dsr_engine::Engine,
    path: &Path,
    text: &str,
    runs: usize,
) -> Vec<Duration> {
    let Some(language) = dsr_core::Language::from_path(path) else {
        return Vec::new();
    };
    (0..runs)
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
        .collect()
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

fn pooled(patterns: &[PatternResult], name: Option<&str>, last: bool) -> Vec<Duration> {
    patterns
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

struct FileResult {
    path: String,
    language: &'static str,
    lines: usize,
    /// The from-scratch analyses, in this process, one per timed edit of the incremental server.
    scratch: Vec<Duration>,
    /// The incremental server's patterns.
    patterns: Vec<PatternResult>,
    /// The same patterns through the server that analyses every edit as the whole file (empty when it was
    /// left out).
    whole: Vec<PatternResult>,
}

impl FileResult {
    fn final_p99(&self) -> Duration {
        p99(&pooled(&self.patterns, None, true))
    }

    /// (a): the incremental plan's final p99 above the whole-file server's.
    fn plan_costs_more(&self) -> bool {
        !self.whole.is_empty() && self.final_p99() > p99(&pooled(&self.whole, None, true))
    }

    /// (b): the final p99 above the from-scratch analysis' p99 over as many runs.
    fn above_scratch(&self) -> bool {
        self.final_p99() > p99(&self.scratch)
    }

    /// (b) as earlier rounds counted it: above the from-scratch median.
    fn above_scratch_median(&self) -> bool {
        self.final_p99() > median(&self.scratch)
    }
}

fn p99(samples: &[Duration]) -> Duration {
    quantile(samples, 0.99)
}

fn median(samples: &[Duration]) -> Duration {
    quantile(samples, 0.5)
}

fn quantile(samples: &[Duration], q: f64) -> Duration {
    let mut samples = samples.to_vec();
    samples.sort();
    if samples.is_empty() {
        Duration::ZERO
    } else {
        percentile(&samples, q)
    }
}

/// `first median/p99, final median/p99` of one pattern (or all pooled).
fn first_and_final(label: &str, first: &[Duration], last: &[Duration]) -> String {
    if first.is_empty() {
        return format!("{label}: n/a");
    }
    format!(
        "{label}: first {} / {}, final {} / {} (n={})",
        ms(median(first)),
        ms(p99(first)),
        ms(median(last)),
        ms(p99(last)),
        first.len()
    )
}

/// `final median/p99` of the whole-file server beside the incremental one's figures.
fn whole_final(whole: &[PatternResult], name: Option<&str>) -> String {
    let last = pooled(whole, name, true);
    if last.is_empty() {
        return String::new();
    }
    format!(
        "  | whole-file final {} / {}",
        ms(median(&last)),
        ms(p99(&last))
    )
}

/// One server with one file open. The file is on disk in the server's workspace folder before the server
/// starts, as an editor's files are: its workspace index holds the file from the start, and the first pause's
/// reindex is a change of it, not a file added to the index (which would move every view of the index).
fn open_session(
    server: &Option<PathBuf>,
    env: &[(&str, &str)],
    name: &str,
    language: &str,
    text: &str,
) -> (Session, Duration) {
    let dir = TempDir::new("bench-real");
    dir.write(name, text);
    let mut client = match server {
        Some(binary) => LspClient::spawn_binary(binary, dir.path(), &[], env),
        None => LspClient::spawn_binary(
            Path::new(env!("CARGO_BIN_EXE_distsys-review")),
            dir.path(),
            &[],
            env,
        ),
    };
    init(&mut client, &dir);
    let uri = dir.uri(name);
    let opened = Instant::now();
    client.open(&uri, language, 1, text);
    client.diagnostics(&uri, Some(1));
    let open = opened.elapsed();
    let session = Session {
        client,
        finals: Vec::new(),
        uri,
        version: 1,
        _dir: dir,
    };
    (session, open)
}

/// Leaves a server's background work after a pattern (the confirming pass 300 ms after the last edit, the
/// reindex of the document's text) to finish before anything else is timed: longer than the server's wait
/// plus two whole-file analyses.
fn settle(scratch: Duration) {
    std::thread::sleep(PAUSE + 2 * scratch + Duration::from_millis(50));
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
    let with_whole = std::env::var("DSR_BENCH_WHOLE").map_or(true, |v| v.trim() != "0");
    println!(
        "real files under {}: {} files, {edits} edits per pattern; {}",
        corpus.display(),
        paths.len(),
        if with_whole {
            "each pattern through the incremental server, then through a server analysing every edit as the whole \
             file (DISTSYS_REVIEW_INCREMENTAL=0), then as many from-scratch analyses in this process"
        } else {
            "the incremental server only (DSR_BENCH_WHOLE=0), then as many from-scratch analyses in this process"
        }
    );
    // `DSR_BENCH_SERVER=PATH`: another build of the server (a baseline), instead of this one.
    let server = std::env::var_os("DSR_BENCH_SERVER").map(PathBuf::from);
    // The server's edit budget as a user gets it (the test client turns it off); `DSR_BENCH_EDIT_BUDGET_MS`
    // changes it (`0`: off, every edit waits for its analysis).
    let edit_budget = std::env::var("DSR_BENCH_EDIT_BUDGET_MS").unwrap_or_else(|_| "3".into());
    // `DSR_BENCH_SERVER_LOG=FILTER` (`info`, `dsr_lsp=trace`): the server logs at that level, printed after each
    // file's figures.
    let server_log = std::env::var("DSR_BENCH_SERVER_LOG").unwrap_or_default();
    let mut incremental_env = vec![("DISTSYS_REVIEW_EDIT_BUDGET_MS", edit_budget.as_str())];
    if !server_log.is_empty() {
        incremental_env.push(("DISTSYS_REVIEW_LOG", server_log.as_str()));
    }
    let whole_env = [
        ("DISTSYS_REVIEW_EDIT_BUDGET_MS", edit_budget.as_str()),
        ("DISTSYS_REVIEW_INCREMENTAL", "0"),
    ];
    let engine = dsr_engine::Engine::new(dsr_rules::registry(), dsr_core::Config::default());
    let mut results = Vec::new();
    for path in &paths {
        let Some(language) = language_of(path) else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
        // One warm-up, and the settling time's estimate.
        let warm = median(&from_scratch(&engine, path, &text, 3));
        let (mut session, open) = open_session(&server, &incremental_env, name, language, &text);
        let mut whole_session =
            with_whole.then(|| open_session(&server, &whole_env, name, language, &text).0);
        let (mut results_of_file, mut whole_of_file, mut scratch) =
            (Vec::new(), Vec::new(), Vec::new());
        for &name in &patterns {
            let first = pattern(&mut session, &lines, name, edits, budget);
            let last = std::mem::take(&mut session.finals);
            settle(warm);
            scratch.extend(from_scratch(&engine, path, &text, last.len()));
            results_of_file.push(PatternResult { name, first, last });
            if let Some(whole) = &mut whole_session {
                let first = pattern(whole, &lines, name, edits, budget);
                let last = std::mem::take(&mut whole.finals);
                settle(warm);
                whole_of_file.push(PatternResult { name, first, last });
            }
        }
        let status = session.client.document_status(&session.uri);
        let provisionals = status["provisionals"].as_u64().unwrap_or(0);
        // Analyses the server stopped because the document changed again (0 from a server without cancellation).
        let cancelled = status["cancelled"].as_u64().unwrap_or(0);
        session.client.shutdown_and_exit();
        if let Some(whole) = &mut whole_session {
            whole.client.shutdown_and_exit();
        }
        let server_log = (!server_log.is_empty()).then(|| session.client.stderr());
        let relative = path.strip_prefix(corpus).unwrap_or(path);
        let result = FileResult {
            path: relative.display().to_string(),
            language,
            lines: lines.len(),
            scratch,
            patterns: results_of_file,
            whole: whole_of_file,
        };
        let (first, last) = (
            pooled(&result.patterns, None, false),
            pooled(&result.patterns, None, true),
        );
        let whole_p99 = p99(&pooled(&result.whole, None, true));
        println!(
            "{:<70} {:>6} lines  scratch {:>9} / {:>9}  open {:>9}  {}{}  final p99 / whole-file p99 {}  / scratch p99 {:.2}  ({provisionals} provisional, {cancelled} cancelled){}{}",
            result.path,
            result.lines,
            ms(median(&result.scratch)),
            ms(p99(&result.scratch)),
            ms(open),
            first_and_final("all", &first, &last),
            whole_final(&result.whole, None),
            if result.whole.is_empty() {
                "n/a".to_string()
            } else {
                format!("{:.2}", p99(&last).as_secs_f64() / whole_p99.as_secs_f64().max(1e-9))
            },
            p99(&last).as_secs_f64() / p99(&result.scratch).as_secs_f64().max(1e-9),
            if result.plan_costs_more() { "  [a: plan above whole-file]" } else { "" },
            if result.above_scratch() { "  [b: above from-scratch]" } else { "" },
        );
        for p in &result.patterns {
            println!(
                "    {}{}",
                first_and_final(p.name, &p.first, &p.last),
                whole_final(&result.whole, Some(p.name))
            );
        }
        for line in server_log.iter().flat_map(|log| log.lines()) {
            println!("    | {line}");
        }
        results.push(result);
    }
    println!(
        "\nsummary (all edits of a language pooled; first and final diagnostics, median / p99; \
         `| whole-file`: the same edits through the server that analyses each as the whole file):"
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
            let pooled_incremental = |name: Option<&str>, last: bool| -> Vec<Duration> {
                group
                    .iter()
                    .flat_map(|r| pooled(&r.patterns, name, last))
                    .collect()
            };
            let pooled_whole: Vec<PatternResult> = group
                .iter()
                .flat_map(|r| &r.whole)
                .map(|p| PatternResult {
                    name: p.name,
                    first: p.first.clone(),
                    last: p.last.clone(),
                })
                .collect();
            let count = |f: fn(&FileResult) -> bool| group.iter().filter(|r| f(r)).count();
            println!(
                "{language:<10} {class:<6} {:>3} files  {}{}\n    final p99 above: the whole-file server's (a) {}, from-scratch p99 (b) {}, from-scratch median {}",
                group.len(),
                first_and_final(
                    "all",
                    &pooled_incremental(None, false),
                    &pooled_incremental(None, true)
                ),
                whole_final(&pooled_whole, None),
                if pooled_whole.is_empty() {
                    "n/a".to_string()
                } else {
                    count(FileResult::plan_costs_more).to_string()
                },
                count(FileResult::above_scratch),
                count(FileResult::above_scratch_median),
            );
            for &name in &patterns {
                println!(
                    "    {}{}",
                    first_and_final(
                        name,
                        &pooled_incremental(Some(name), false),
                        &pooled_incremental(Some(name), true)
                    ),
                    whole_final(&pooled_whole, Some(name))
                );
            }
        }
    }
    let named = |label: &str, f: fn(&FileResult) -> bool| {
        let files: Vec<&FileResult> = results.iter().filter(|r| f(r)).collect();
        println!("\n{label}: {} of {}", files.len(), results.len());
        for r in files {
            println!(
                "  {:<70} {:>6} lines  final p99 {:>9}  whole-file p99 {:>9}  from-scratch p99 {:>9} (median {})",
                r.path,
                r.lines,
                ms(r.final_p99()),
                ms(p99(&pooled(&r.whole, None, true))),
                ms(p99(&r.scratch)),
                ms(median(&r.scratch)),
            );
        }
    };
    if with_whole {
        named(
            "(a) fair: files whose incremental final p99 is above the whole-file server's final p99 (the plan cost more than falling back)",
            FileResult::plan_costs_more,
        );
    }
    named(
        "(b) strict: files whose final p99 is above the p99 of as many from-scratch analyses in this process",
        FileResult::above_scratch,
    );
}
