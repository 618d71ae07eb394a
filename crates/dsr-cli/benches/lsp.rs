//! LSP latency and memory through the real binary over stdio (`cargo bench -p dsr-cli --bench lsp`, or
//! `scripts/bench-lsp.sh`).
//!
//! - Keystroke latency: a 5,000-line Go, Rust and TypeScript file; one-character edits (typing, then deleting,
//!   a letter inside an identifier in the middle of the file), each sent after the previous one's diagnostics
//!   arrived; the time from writing `didChange` to reading the `publishDiagnostics` of that version. Median, p99
//!   and the server's CPU time per edit (from /proc, so contention from other processes does not count).
//! - Overhead (`-- overhead`, or `-- norules` / `-- excluded` for one half): the same keystrokes with a workspace `distsys-review.toml` that selects no rule
//!   (what is left is the engine's per-file work without rules, facts and suppressions, and the server around
//!   it), then with one that excludes the file, so the engine is not called at all and what is measured is the
//!   server's own path: transport, JSON decoding, the edit and the incremental reparse, scheduling, the checks
//!   before analysis, publishing. Also prints what the engine alone costs with no rule, in this process.
//! - Memory: resident set size of the server with 200 open documents of 2,000 lines each, and with 1,000 open
//!   documents of 500 lines each.
//! - Burst: 10,000 `didChange` notifications written at once to a 5,000-line Rust file; the time from the last
//!   byte written to the `publishDiagnostics` of the final version ("time to recover"), and how many analyses
//!   the server ran for the burst.
//!
//! - Index (`-- index`, only when asked): the workspace index in the server, on a generated Go workspace: its
//!   build, keystrokes with it on, and the time from a callee's edit to its open caller's republished
//!   diagnostics (module `index_edits`).
//!
//! `DSR_BENCH_EDITS=N` sets the edits per file; `DSR_BENCH_ONLY=rust` keeps the files whose name contains it;
//! `DSR_BENCH_TAIL=1` prints more percentiles and which edits were slowest.

mod index_edits;
#[path = "../tests/lsp_client/mod.rs"]
mod lsp_client;
mod real_files;
mod samples;

use samples::{go_file, go_service_file, rust_file, ts_file};

use std::time::{Duration, Instant};

use lsp_client::{LspClient, TempDir};
use serde_json::json;

/// Edits per file; `DSR_BENCH_EDITS` changes it (more, to profile the steady state).
fn edits() -> usize {
    std::env::var("DSR_BENCH_EDITS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(600)
}

/// User + system CPU time of a process, from /proc/<pid>/stat.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_micros(ticks * 1_000_000 / per_second))
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn init(client: &mut LspClient, dir: &TempDir) {
    client.initialize(json!({
        "processId": null,
        "capabilities": {"general": {"positionEncodings": ["utf-16"]}},
        "workspaceFolders": [{"uri": dir.uri(""), "name": "bench"}],
    }));
}

/// A configuration that turns every rule off, the meta-rules on suppressions included.
const NO_RULES: &str = "ignore = [\"ALL\"]\n";
/// A configuration under which the benchmark's files are not analysed (but still opened, edited, reparsed and
/// published for).
const EXCLUDED: &str = "exclude = [\"big.*\"]\n";

fn keystrokes(
    name: &str,
    language: &str,
    file: &str,
    text: &str,
    anchor: &str,
    config: Option<&str>,
) {
    let dir = TempDir::new("bench");
    if let Some(config) = config {
        dir.write("distsys-review.toml", config);
    }
    let mut client = LspClient::spawn(dir.path());
    init(&mut client, &dir);
    let uri = dir.uri(file);
    client.open(&uri, language, 1, text);
    let started = Instant::now();
    let initial = client.diagnostics(&uri, Some(1));
    let open_time = started.elapsed();
    let lines: Vec<&str> = text.lines().collect();
    let edits = edits();
    let cpu_before = cpu_time(client.pid());
    let mut latencies = type_and_delete(&mut client, &uri, text, anchor, edits);
    let cpu = cpu_before
        .zip(cpu_time(client.pid()))
        .map(|(a, b)| b.saturating_sub(a));
    // Which edits were slowest (their index), to tell a periodic cost from noise.
    let mut by_index: Vec<(Duration, usize)> =
        latencies.iter().enumerate().map(|(i, d)| (*d, i)).collect();
    by_index.sort();
    let slowest: Vec<usize> = by_index.iter().rev().take(8).map(|(_, i)| *i).collect();
    latencies.sort();
    if config.is_some() {
        assert!(
            initial.is_empty(),
            "no rule is selected, yet there are diagnostics: {initial:?}"
        );
    }
    println!(
        "{name:<11} {:>6} lines {:>4} KiB  open {:>10}  edits {edits}: median {:>9}  p99 {:>9}  max {:>9}  server CPU/edit {:>9}  ({} diagnostics)",
        lines.len(),
        text.len() / 1024,
        ms(open_time),
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(*latencies.last().unwrap()),
        cpu.map(|c| ms(c / edits as u32)).unwrap_or_else(|| "n/a".into()),
        initial.len(),
    );
    if std::env::var_os("DSR_BENCH_TAIL").is_some() {
        let at = |p: f64| ms(percentile(&latencies, p));
        println!(
            "{:<11} p75 {}  p90 {}  p95 {}  p98 {}; slowest edits: {:?}",
            "",
            at(0.75),
            at(0.90),
            at(0.95),
            at(0.98),
            slowest
        );
    }
    client.shutdown_and_exit();
}

/// `edits` one-character edits (typing, then deleting, a letter after the occurrence of `anchor` nearest the
/// middle of the open document `text`, versions from 2), each sent after the previous one's diagnostics; the
/// time from each `didChange` to that version's `publishDiagnostics`, in order.
fn type_and_delete(
    client: &mut LspClient,
    uri: &str,
    text: &str,
    anchor: &str,
    edits: usize,
) -> Vec<Duration> {
    let lines: Vec<&str> = text.lines().collect();
    let line = (lines.len() / 2..lines.len())
        .find(|&l| lines[l].contains(anchor))
        .expect("anchor in the second half");
    let column = lines[line][..lines[line].find(anchor).unwrap() + anchor.len()]
        .encode_utf16()
        .count();
    let at = json!({"line": line, "character": column});
    let after = json!({"line": line, "character": column + 1});
    let mut latencies = Vec::with_capacity(edits);
    for i in 0..edits {
        let version = i as i64 + 2;
        let change = if i % 2 == 0 {
            json!([{"range": {"start": at, "end": at}, "text": "x"}])
        } else {
            json!([{"range": {"start": at, "end": after}, "text": ""}])
        };
        let sent = Instant::now();
        client.change(uri, version, change);
        client.diagnostics(uri, Some(version));
        latencies.push(sent.elapsed());
    }
    latencies
}

/// What `Engine::analyze` costs with no rule selected (facts and suppressions), in this process: the share of
/// the overhead figures that belongs to the engine rather than to the server around it.
fn engine_floor(name: &str, file: &str, text: &str) {
    let path = std::path::Path::new(file);
    let language = dsr_core::Language::from_path(path).expect("a known extension");
    let registry = dsr_rules::registry();
    let codes: Vec<&str> = registry.iter().map(|r| r.rule.meta().code).collect();
    let config = dsr_core::Config::parse(
        std::path::Path::new("distsys-review.toml"),
        NO_RULES,
        &codes,
    )
    .expect("the config parses");
    let engine = dsr_engine::Engine::new(registry, config);
    let document = dsr_syntax::Document::new(language, text, 1).expect("grammar");
    let mut times: Vec<Duration> = (0..50)
        .map(|_| {
            let started = Instant::now();
            let analysis = engine.analyze(dsr_engine::AnalysisInput::new(
                path,
                language,
                text,
                document.tree(),
            ));
            let elapsed = started.elapsed();
            assert!(analysis.findings.is_empty());
            elapsed
        })
        .collect();
    times.sort();
    println!(
        "{name:<11} engine with no rule, in-process: median {:>9}  min {:>9}",
        ms(percentile(&times, 0.5)),
        ms(times[0])
    );
}

fn memory(documents: usize, lines: usize) {
    let dir = TempDir::new("bench-rss");
    let mut client = LspClient::spawn(dir.path());
    init(&mut client, &dir);
    let baseline = rss_kib(client.pid()).unwrap_or(0);
    let started = Instant::now();
    let mut bytes = 0;
    let mut uris = Vec::new();
    for i in 0..documents {
        let (language, extension, text) = match i % 3 {
            0 => ("rust", "rs", rust_file(lines)),
            1 => ("go", "go", go_file(lines)),
            _ => ("typescript", "ts", ts_file(lines)),
        };
        bytes += text.len();
        let uri = dir.uri(&format!("doc{i}.{extension}"));
        client.open(&uri, language, 1, &text);
        uris.push(uri);
    }
    for uri in &uris {
        client.diagnostics(uri, Some(1));
    }
    let elapsed = started.elapsed();
    let loaded = rss_kib(client.pid()).unwrap_or(0);
    println!(
        "memory: {documents} documents x {lines} lines ({} MiB of text) opened and analysed in {:.1} s; RSS {} MiB (idle after initialize {} MiB)",
        bytes >> 20,
        elapsed.as_secs_f64(),
        loaded / 1024,
        baseline / 1024
    );
    client.shutdown_and_exit();
}

fn burst() {
    const CHANGES: usize = 10_000;
    let dir = TempDir::new("bench-burst");
    let mut client = LspClient::spawn(dir.path());
    init(&mut client, &dir);
    let text = rust_file(5_000);
    let uri = dir.uri("burst.rs");
    client.open(&uri, "rust", 1, &text);
    client.diagnostics(&uri, Some(1));
    let before = client.document_state(&uri)["analyses"]
        .as_u64()
        .unwrap_or(0);
    // Typing then deleting a letter in the middle of the file, 10,000 times, in one write.
    let line = text
        .lines()
        .position(|l| l.contains("let body"))
        .unwrap_or(0)
        + 2_400 / 12 * 12;
    let at = json!({"line": line, "character": 8});
    let after = json!({"line": line, "character": 9});
    let mut bytes = Vec::new();
    for i in 0..CHANGES {
        let change = if i % 2 == 0 {
            json!([{"range": {"start": at, "end": at}, "text": "x"}])
        } else {
            json!([{"range": {"start": at, "end": after}, "text": ""}])
        };
        let message = json!({"jsonrpc": "2.0", "method": "textDocument/didChange",
            "params": {"textDocument": {"uri": uri, "version": i + 2}, "contentChanges": change}});
        bytes.extend(lsp_client::frame(message.to_string().as_bytes()));
    }
    let cpu_before = cpu_time(client.pid());
    let started = Instant::now();
    client.send_raw(&bytes);
    let written = started.elapsed();
    let sent = Instant::now();
    let final_version = serde_json::Value::from(CHANGES as i64 + 1);
    // Every change is reparsed as it arrives, so a slow (debug) build needs longer than the client's default.
    client
        .try_wait_for(Duration::from_secs(1_800), &|m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri.as_str()
                && m["params"]["version"] == final_version
        })
        .expect("diagnostics for the final version");
    let recovered = sent.elapsed();
    let cpu = cpu_before
        .zip(cpu_time(client.pid()))
        .map(|(a, b)| b.saturating_sub(a));
    let analyses = client.document_state(&uri)["analyses"]
        .as_u64()
        .unwrap_or(0)
        - before;
    println!(
        "burst: {CHANGES} didChange ({} KiB) to a 5,000-line Rust file written in {}; last byte written -> final \
         diagnostics {}; total {}; server CPU {}; {analyses} analyses",
        bytes.len() / 1024,
        ms(written),
        ms(recovered),
        ms(written + recovered),
        cpu.map(ms).unwrap_or_else(|| "n/a".into()),
    );
    client.shutdown_and_exit();
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument selects parts.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let wanted = |part: &str| {
        !matches!(filter.as_deref(), Some("real" | "index" | "index-off"))
            && filter.as_deref().is_none_or(|f| part.contains(f))
    };
    println!(
        "distsys-review LSP benchmark (release binary, {} CPUs)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let files = [
        ("Go", "go", "big.go", go_file(5_000), "req"),
        (
            "Go service",
            "go",
            "service.go",
            go_service_file(5_000),
            "var total",
        ),
        ("Rust", "rust", "big.rs", rust_file(5_000), "let body"),
        (
            "TypeScript",
            "typescript",
            "big.ts",
            ts_file(5_000),
            "const controller",
        ),
    ];
    // `DSR_BENCH_ONLY=rust` keeps the files whose name contains it (to profile one language).
    let only = std::env::var("DSR_BENCH_ONLY")
        .unwrap_or_default()
        .to_lowercase();
    let files: Vec<_> = files
        .into_iter()
        .filter(|(name, ..)| name.to_lowercase().contains(&only))
        .collect();
    if wanted("latency") {
        for (name, language, file, text, anchor) in &files {
            keystrokes(name, language, file, text, anchor, None);
        }
    }
    if wanted("overhead norules") || wanted("overhead excluded") {
        for (part, config) in [
            ("overhead norules", NO_RULES),
            ("overhead excluded", EXCLUDED),
        ] {
            if !wanted(part) {
                continue;
            }
            println!("overhead, with distsys-review.toml {config:?}:");
            for (name, language, file, text, anchor) in &files {
                keystrokes(name, language, file, text, anchor, Some(config));
            }
        }
        if wanted("overhead norules") {
            for (name, _, file, text, _) in &files {
                engine_floor(name, file, text);
            }
        }
    }
    if wanted("memory") {
        memory(200, 2_000);
        memory(1_000, 500);
    }
    if wanted("burst") {
        burst();
    }
    if let Some(part @ ("index" | "index-off")) = filter.as_deref() {
        index_edits::run(part == "index");
    }
    // Real files only when asked for, with the corpus to read.
    if filter.as_deref() == Some("real") {
        match std::env::var_os("DSR_BENCH_CORPUS") {
            Some(corpus) => real_files::run(std::path::Path::new(&corpus)),
            None => eprintln!(
                "real: set DSR_BENCH_CORPUS to the corpus directory (scripts/latency-corpus.sh)"
            ),
        }
    }
}
