//! In-process keystroke cost (`cargo bench -p dsr-cli --bench analyze [-- go|service|rust|ts] [edits N]`): the same
//! 5,000-line files and one-character edits as the LSP benchmark, without the transport, timing the reparse and
//! the analysis separately. Stable enough under load to compare changes, and small enough to run under
//! `valgrind --tool=callgrind` (instruction counts do not depend on the machine's load): e.g.
//! `valgrind --tool=callgrind target/release/deps/analyze-* go edits 20`.
//!
//! Each edit is analysed incrementally, as the LSP does (`Engine::analyze_incremental` with the document's
//! cache); with `whole`, as one whole file instead. With `breakdown`, also the time of the facts pass and of each
//! rule run alone on the whole file (models are charged to the first rule that asks for them). `file PATH` edits a
//! real file instead; `nofallback` analyses every slice an edit needs even past the cost of the whole file (what
//! it cost before that bound). `corpus DIR` edits every file of the real-file corpus and prints the work per
//! edit (see [`corpus`]).

mod samples;
#[path = "real_files/sites.rs"]
#[allow(dead_code)]
mod sites;

use std::path::Path;
use std::time::{Duration, Instant};

use dsr_core::Config;
use dsr_engine::{AnalysisInput, Engine, IncrementalCache};
use dsr_semantic::{FileFacts, RuleContext};
use dsr_syntax::{Document, Language, ParseLimits};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

#[derive(Clone, Copy)]
struct Options {
    edits: usize,
    /// Also time the facts pass and each rule alone.
    breakdown: bool,
    /// Analyse each edit as one whole file instead of incrementally.
    whole: bool,
    /// Analyse the slices an edit needs even when they cost more than the whole file (the cost before that bound).
    no_fallback: bool,
}

fn run(
    name: &str,
    language: Language,
    file: &str,
    text: &str,
    anchor: &str,
    Options {
        edits,
        breakdown,
        whole,
        no_fallback,
    }: Options,
) {
    let engine = Engine::new(dsr_rules::registry(), Config::default());
    let path = Path::new(file);
    let mut document = Document::with_limits(language, text, 1, unbounded()).expect("grammar");
    assert!(
        !document
            .tree()
            .is_some_and(|tree| tree.root_node().has_error()),
        "the {file} sample has a syntax error"
    );
    let middle = text.len() / 2;
    let at = middle
        + text[middle..]
            .find(anchor)
            .expect("anchor in the second half")
        + anchor.len();
    let mut analyses = Vec::with_capacity(edits);
    let mut reparses = Vec::with_capacity(edits);
    let mut findings = 0;
    let mut cache = if no_fallback {
        IncrementalCache::without_whole_file_fallback()
    } else {
        IncrementalCache::default()
    };
    let mut analysed_bytes = 0;
    let mut slices_analysed = 0;
    let mut whole_file_fallbacks = 0;
    let mut phases = [Duration::ZERO; 4];
    for i in 0..edits {
        let started = Instant::now();
        if i % 2 == 0 {
            document.replace_bytes(at, at, "x").expect("edit");
        } else {
            document.replace_bytes(at, at + 1, "").expect("edit");
        }
        reparses.push(started.elapsed());
        let source = document.text();
        let started = Instant::now();
        let analysis = if whole {
            engine.analyze(AnalysisInput::new(path, language, &source, document.tree()))
        } else {
            engine.analyze_incremental(
                AnalysisInput::new(path, language, &source, document.tree()),
                &mut cache,
            )
        };
        analyses.push(started.elapsed());
        analysed_bytes += cache.stats().bytes_analysed;
        slices_analysed += cache.stats().slices_analysed;
        whole_file_fallbacks += usize::from(cache.stats().whole_file);
        if i > 0 {
            for (total, phase) in phases.iter_mut().zip(cache.stats().phases) {
                *total += phase;
            }
        }
        findings = analysis.findings.len();
    }
    analyses.sort();
    reparses.sort();
    println!(
        "{name:<11} {} lines, {edits} edits, {}: reparse median {}  analysis median {}  p99 {}  max {}  ({findings} findings, {} slices and {} bytes analysed per edit, {whole_file_fallbacks} edits analysed as the whole file)",
        text.lines().count(),
        if whole {
            "whole file"
        } else if no_fallback {
            "incremental, no whole-file fallback"
        } else {
            "incremental"
        },
        ms(percentile(&reparses, 0.5)),
        ms(percentile(&analyses, 0.5)),
        ms(percentile(&analyses, 0.99)),
        ms(*analyses.last().unwrap()),
        slices_analysed / edits.max(1),
        analysed_bytes / edits.max(1),
    );
    if !whole {
        let n = (edits.max(2) - 1) as u32;
        println!(
            "    mean per edit after the first: chunks {}  plan {}  slices {}  assemble {}",
            ms(phases[0] / n),
            ms(phases[1] / n),
            ms(phases[2] / n),
            ms(phases[3] / n)
        );
    }
    if breakdown {
        let source = document.text();
        let tree = document.tree();
        let rounds = 20;
        let started = Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(FileFacts::compute(language, tree, &source));
        }
        println!("    facts            {}", ms(started.elapsed() / rounds));
        let facts = FileFacts::compute(language, tree, &source);
        let mut times: Vec<(Duration, &str)> = Vec::new();
        for rule in engine.rules() {
            if !rule.meta().applies_to(language) {
                continue;
            }
            let started = Instant::now();
            for _ in 0..rounds {
                let ctx = RuleContext::new(path, language, &source, tree, &facts, engine.kb());
                let mut out = Vec::new();
                rule.check(&ctx, &mut out);
                std::hint::black_box(out);
            }
            times.push((started.elapsed() / rounds, rule.meta().code));
        }
        times.sort_by(|a, b| b.cmp(a));
        for (time, code) in times {
            println!("    {code:<16} {}", ms(time));
        }
    }
}

/// No parse deadline: under `valgrind` a parse takes fifty times as long, and a document whose parse timed
/// out has no tree (and is analysed without one).
fn unbounded() -> ParseLimits {
    ParseLimits {
        timeout: Duration::from_secs(3600),
        ..ParseLimits::default()
    }
}

/// One edit's work in the corpus mode.
struct EditCost {
    pattern: &'static str,
    /// The document's reparse after the edit (what the server does before anything is published, unless the
    /// last analysis overran the edit budget).
    reparse: Duration,
    time: Duration,
    /// The same version analysed as the whole file on the document's tree, right after: what the server's
    /// fallback (or `DISTSYS_REVIEW_INCREMENTAL=0`) costs for it.
    whole: Duration,
    /// `time` and `whole` as this thread's CPU time: what the machine's load does not change.
    cpu: Duration,
    whole_cpu: Duration,
    bytes: usize,
    slices: usize,
    whole_file: bool,
    /// Slices analysed together as their union (0: none).
    union_of: usize,
    /// The incremental analysis's phases: chunking, planning, analysing, assembling (wall time).
    phases: [Duration; 4],
    plan_rebuilt: bool,
}

/// `corpus DIR [edits N]`: every file of the real-file corpus (docs/latency-corpus.tsv) opened and edited in
/// process with the LSP benchmark's patterns (a letter typed then deleted at 5%, 50% and 95% of the file; a `(`
/// typed at the start of a statement then deleted), each edit analysed incrementally with the document's cache
/// as the server does. Per file: what each edit analysed (bytes of slices, as a multiple of the file: a measure
/// of work that does not depend on the machine's load), how many edits fell back to the whole file or rebuilt
/// the plan, and the time per edit against a from-scratch analysis (parse and analysis) of the file and against
/// the same version analysed as the whole file on the document's tree right after it (what falling back costs).
fn corpus(dir: &Path, edits: usize) {
    let mut paths = Vec::new();
    sites::files(dir, &mut paths);
    let only = std::env::var("DSR_BENCH_ONLY").unwrap_or_default();
    paths.retain(|p| p.to_string_lossy().contains(&only));
    let engine = Engine::new(dsr_rules::registry(), Config::default());
    let mut rows = Vec::new();
    for path in &paths {
        let Some(language) = Language::from_path(path) else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        let mut scratch: Vec<Duration> = (0..3)
            .map(|_| {
                let started = Instant::now();
                let document =
                    Document::with_limits(language, &text, 1, unbounded()).expect("grammar");
                std::hint::black_box(engine.analyze(AnalysisInput::new(
                    path,
                    language,
                    &text,
                    document.tree(),
                )));
                started.elapsed()
            })
            .collect();
        scratch.sort();
        let scratch = scratch[1];
        let mut document = Document::with_limits(language, &text, 1, unbounded()).expect("grammar");
        let mut cache = IncrementalCache::default();
        engine.analyze_incremental(
            AnalysisInput::new(path, language, &text, document.tree()),
            &mut cache,
        );
        let mut costs = Vec::new();
        for (pattern, fraction) in [
            ("start", 0.05),
            ("middle", 0.5),
            ("end", 0.95),
            ("break-fix", 0.5),
        ] {
            let Some((line, column, indent)) = sites::edit_site(&lines, fraction) else {
                continue;
            };
            let source = document.text();
            let (at, letter) = if pattern == "break-fix" {
                (sites::byte_offset(&source, line, indent), "(")
            } else {
                (sites::byte_offset(&source, line, column), "x")
            };
            for i in 0..edits {
                let reparsing = Instant::now();
                if i % 2 == 0 {
                    document.replace_bytes(at, at, letter).expect("edit");
                } else {
                    document.replace_bytes(at, at + 1, "").expect("edit");
                }
                let reparse = reparsing.elapsed();
                let source = document.text();
                let (started, cpu) = (Instant::now(), thread_cpu());
                engine.analyze_incremental(
                    AnalysisInput::new(path, language, &source, document.tree()),
                    &mut cache,
                );
                let (time, cpu) = (started.elapsed(), thread_cpu().saturating_sub(cpu));
                let stats = cache.stats();
                let (started, whole_cpu) = (Instant::now(), thread_cpu());
                std::hint::black_box(engine.analyze(AnalysisInput::new(
                    path,
                    language,
                    &source,
                    document.tree(),
                )));
                let (whole, whole_cpu) =
                    (started.elapsed(), thread_cpu().saturating_sub(whole_cpu));
                costs.push(EditCost {
                    pattern,
                    reparse,
                    time,
                    whole,
                    cpu,
                    whole_cpu,
                    bytes: stats.bytes_analysed,
                    slices: stats.slices_analysed,
                    whole_file: stats.whole_file,
                    union_of: stats.union_of,
                    plan_rebuilt: stats.plan_rebuilt,
                    phases: stats.phases,
                });
            }
            if edits % 2 == 1 {
                document.replace_bytes(at, at + 1, "").expect("edit");
            }
        }
        let relative = path.strip_prefix(dir).unwrap_or(path);
        let work = |c: &EditCost| c.bytes as f64 / text.len().max(1) as f64;
        let mut works: Vec<f64> = costs.iter().map(work).collect();
        works.sort_by(f64::total_cmp);
        let mut times: Vec<Duration> = costs.iter().map(|c| c.time).collect();
        times.sort();
        let (median_work, max_work) = (works[works.len() / 2], works[works.len() - 1]);
        let max_time = times[times.len() - 1];
        let mut wholes: Vec<Duration> = costs.iter().map(|c| c.whole).collect();
        wholes.sort();
        // Edits dearer than the whole file on the document's tree, same version, measured right after, in this
        // thread's CPU time (wall time on a loaded machine moves by whole scheduler slices).
        let dearer = costs.iter().filter(|c| c.cpu > c.whole_cpu).count();
        let most_cpu = costs.iter().map(|c| c.cpu).max().unwrap_or_default();
        let mut whole_cpus: Vec<Duration> = costs.iter().map(|c| c.whole_cpu).collect();
        whole_cpus.sort();
        println!(
            "{:<64} {:>6} lines  scratch {:>10}  edit median {:>10} max {:>10} ({:.2}x)  whole on tree median {:>10}  CPU: edit max {:>10}, whole on tree median {:>10}, edits above it {dearer} of {}  work median {:.3} max {:.3} of the file  slices/edit {:.1}  whole-file {}  union {}  plan rebuilt {}",
            relative.display(),
            lines.len(),
            ms(scratch),
            ms(times[times.len() / 2]),
            ms(max_time),
            max_time.as_secs_f64() / scratch.as_secs_f64().max(1e-9),
            ms(wholes[wholes.len() / 2]),
            ms(most_cpu),
            ms(whole_cpus[whole_cpus.len() / 2]),
            costs.len(),
            median_work,
            max_work,
            costs.iter().map(|c| c.slices).sum::<usize>() as f64 / costs.len().max(1) as f64,
            costs.iter().filter(|c| c.whole_file).count(),
            costs.iter().filter(|c| c.union_of > 0).count(),
            costs.iter().filter(|c| c.plan_rebuilt).count(),
        );
        if std::env::var_os("DSR_BENCH_VERBOSE").is_some() {
            for c in &costs {
                println!(
                    "    {:<10} {:>10}  (reparse {:>10}, whole on tree {:>10}; CPU {:>10} against {:>10})  {:.3} of the file, {} slices{}{}{}  phases {} / {} / {} / {}",
                    c.pattern,
                    ms(c.time),
                    ms(c.reparse),
                    ms(c.whole),
                    ms(c.cpu),
                    ms(c.whole_cpu),
                    work(c),
                    c.slices,
                    if c.whole_file { ", whole file" } else { "" },
                    if c.union_of > 0 {
                        format!(", {} together", c.union_of)
                    } else {
                        String::new()
                    },
                    if c.plan_rebuilt { ", plan rebuilt" } else { "" },
                    ms(c.phases[0]),
                    ms(c.phases[1]),
                    ms(c.phases[2]),
                    ms(c.phases[3]),
                );
            }
        }
        rows.push((relative.display().to_string(), max_work, median_work));
    }
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    println!("\nmost work per edit (bytes analysed as a multiple of the file, max / median):");
    for (file, max, median) in rows.iter().take(10) {
        println!("  {max:.3} / {median:.3}  {file}");
    }
    let total: f64 = rows.iter().map(|r| r.2).sum();
    println!(
        "files whose median edit analysed less than the whole file: {} of {}",
        rows.iter().filter(|r| r.2 < 1.0).count(),
        rows.len()
    );
    println!(
        "mean over {} files of the median work per edit: {:.3} of the file",
        rows.len(),
        total / rows.len().max(1) as f64
    );
}

/// This thread's CPU time so far (zero where it cannot be read).
fn thread_cpu() -> Duration {
    dsr_engine::cpu::thread().unwrap_or_default()
}

/// The fixed cost of one analysis: a file of one function (what a slice holds after a one-character edit).
fn small(name: &str, language: Language, text: &str, rounds: u32) {
    let engine = Engine::new(dsr_rules::registry(), Config::default());
    let document = Document::new(language, text, 1).expect("grammar");
    let source = document.text();
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(engine.analyze(AnalysisInput::new(
            Path::new("small"),
            language,
            &source,
            document.tree(),
        )));
    }
    println!(
        "{name:<11} {} lines, whole-file analysis: mean {}",
        text.lines().count(),
        ms(started.elapsed() / rounds)
    );
}

/// The text up to the end of the first identifier that starts an indented line in the second half of `text`
/// (the edit happens right after it).
fn real_file_anchor(text: &str) -> Option<String> {
    let middle = text.len() / 2;
    let start = middle + text[middle..].find('\n')? + 1;
    text[start..].lines().find_map(|line| {
        let code = line.trim_start();
        let word: String = code
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        (line.len() > code.len()
            && word.len() >= 3
            && word.starts_with(|c: char| c.is_ascii_alphabetic())
            && !matches!(
                word.as_str(),
                "for" | "return" | "let" | "var" | "const" | "func" | "defer"
            ))
        .then(|| line[..line.len() - code.len() + word.len()].to_string())
    })
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let edits = args
        .iter()
        .position(|a| a == "edits")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(200);
    let breakdown = args.iter().any(|a| a == "breakdown");
    let whole = args.iter().any(|a| a == "whole");
    let no_fallback = args.iter().any(|a| a == "nofallback");
    let options = Options {
        edits,
        breakdown,
        whole,
        no_fallback,
    };
    if let Some(dir) = args
        .iter()
        .position(|a| a == "corpus")
        .and_then(|i| args.get(i + 1))
    {
        corpus(
            Path::new(dir),
            if args.iter().any(|a| a == "edits") {
                edits
            } else {
                4
            },
        );
        return;
    }
    // `file PATH`: a real file, edited after the first identifier that starts an indented line past its middle.
    if let Some(file) = args
        .iter()
        .position(|a| a == "file")
        .and_then(|i| args.get(i + 1))
    {
        let path = Path::new(file);
        let language = Language::from_path(path).expect("a known extension");
        let text = std::fs::read_to_string(path).expect("a readable UTF-8 file");
        let anchor = real_file_anchor(&text).expect("an indented identifier past the middle");
        run(file, language, file, &text, &anchor, options);
        return;
    }
    if args.iter().any(|a| a == "small") {
        let head =
            |text: String, lines: usize| text.lines().take(lines).collect::<Vec<_>>().join("\n");
        small("Go", Language::Go, &head(samples::go_file(30), 21), 2000);
        small(
            "Rust",
            Language::Rust,
            &head(samples::rust_file(30), 15),
            2000,
        );
        small(
            "TypeScript",
            Language::TypeScript,
            &head(samples::ts_file(30), 16),
            2000,
        );
        let padded = |text: String| format!("{}{}", "\n".repeat(2500), text);
        small(
            "Go padded",
            Language::Go,
            &padded(head(samples::go_file(30), 21)),
            1000,
        );
        small(
            "Rust padded",
            Language::Rust,
            &padded(head(samples::rust_file(30), 15)),
            1000,
        );
        small(
            "TS padded",
            Language::TypeScript,
            &padded(head(samples::ts_file(30), 16)),
            1000,
        );
        return;
    }
    let wanted = |l: &str| {
        !args
            .iter()
            .any(|a| matches!(a.as_str(), "go" | "service" | "rust" | "ts"))
            || args.iter().any(|a| a == l)
    };
    if wanted("go") {
        run(
            "Go",
            Language::Go,
            "big.go",
            &samples::go_file(5_000),
            "req",
            options,
        );
    }
    if wanted("service") {
        run(
            "Go service",
            Language::Go,
            "service.go",
            &samples::go_service_file(5_000),
            "var total",
            options,
        );
    }
    if wanted("rust") {
        run(
            "Rust",
            Language::Rust,
            "big.rs",
            &samples::rust_file(5_000),
            "let body",
            options,
        );
    }
    if wanted("ts") {
        run(
            "TypeScript",
            Language::TypeScript,
            "big.ts",
            &samples::ts_file(5_000),
            "const controller",
            options,
        );
    }
}
