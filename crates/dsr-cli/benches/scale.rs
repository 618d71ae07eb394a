//! Cost against file size, per phase, model and rule (`scripts/bench-scale.sh`, or `cargo bench -p dsr-cli
//! --bench scale -- [check] [go|rust|ts] [sizes 1000,10000,50000] [real FILE]... [dir DIR]`).
//!
//! Each file is parsed, its facts computed, each shared model computed on its own (in dependency order, so a
//! model is charged only for itself) and each rule run over the finished models, so a rule is charged only for
//! its own work. Every phase is timed in the calling thread's CPU time, the least of several rounds, so the
//! figures do not count time spent waiting for a core on a loaded machine; only ratios taken within one run are
//! compared.
//!
//! - Generated files: each language's rule fixtures put together (every rule's firing and clean shapes) at each
//!   size, with their top-level names renamed per repetition.
//! - `real FILE`: prefixes of a real file cut at top-level items at each size (the whole file past its end).
//! - `check`: fail (exit 1) when an item's time per KB at the largest size is more than 2× its time per KB at
//!   the smallest, for any file set; items below a noise floor at the largest size are shown but not judged.
//! - `dir DIR`: every Go, Rust and TypeScript file under DIR once, then per item the time per KB of small and
//!   large files and the file it costs most per KB in (a discovery tool, not a check).
//! - `only ITEM`: measure only the named phases, models and rules (`only OBS001 only "model locks"`); a rule
//!   still computes the models it reads, uncharged to it only when they are named too. For profiling one item
//!   under callgrind without paying for the others.
//! - `dump go|rust|ts LINES`: print the generated file of that size and exit (to profile it with the CLI).

mod shapes;

use std::path::{Path, PathBuf};
use std::time::Duration;

use dsr_core::Config;
use dsr_engine::Engine;
use dsr_semantic::{FileFacts, RuleContext};
use dsr_syntax::Language;

/// A model's name and a run of it on a context.
type ModelRun = (&'static str, fn(&RuleContext<'_>));

/// The shared models in an order where each one's inputs come before it, so timing each in turn on one context
/// charges it for its own work only.
const MODELS: &[ModelRun] = &[
    ("roles", |ctx| {
        std::hint::black_box(ctx.roles());
    }),
    ("remote_calls", |ctx| {
        std::hint::black_box(ctx.remote_calls());
    }),
    ("retries", |ctx| {
        std::hint::black_box(ctx.retries());
    }),
    ("loops", |ctx| {
        std::hint::black_box(ctx.loops());
    }),
    ("store_commands", |ctx| {
        std::hint::black_box(ctx.store_commands());
    }),
    ("locks", |ctx| {
        std::hint::black_box(ctx.locks());
    }),
    ("handlers", |ctx| {
        std::hint::black_box(ctx.handlers());
    }),
    ("time", |ctx| {
        std::hint::black_box(ctx.time());
    }),
    ("messaging", |ctx| {
        std::hint::black_box(ctx.messaging());
    }),
    ("transactions", |ctx| {
        std::hint::black_box(ctx.transactions());
    }),
    ("write_sites", |ctx| {
        std::hint::black_box(ctx.write_sites());
    }),
    ("store_accesses", |ctx| {
        std::hint::black_box(ctx.store_accesses());
    }),
];

/// Below this at the largest size an item is too small for its ratio to mean anything on a loaded machine.
const NOISE_FLOOR: Duration = Duration::from_millis(1);

/// Rounds stop after this much measured time (at least `MIN_ROUNDS`, at most `MAX_ROUNDS`).
const ROUND_BUDGET: Duration = Duration::from_millis(400);
const MIN_ROUNDS: usize = 3;
const MAX_ROUNDS: usize = 25;

fn thread_time() -> Duration {
    dsr_engine::cpu::thread().unwrap_or_default()
}

fn timed(f: impl FnOnce()) -> Duration {
    let start = thread_time();
    f();
    thread_time().saturating_sub(start)
}

/// The cost of each phase, model and rule on one file: names in a fixed order, least time over the rounds.
struct Costs {
    items: Vec<(String, Duration)>,
}

impl Costs {
    fn total(&self) -> Duration {
        self.items.iter().map(|(_, d)| *d).sum()
    }

    /// Item by item, the costs of several files of one size together.
    fn add(&mut self, other: Costs) {
        for ((_, kept), (_, more)) in self.items.iter_mut().zip(other.items) {
            *kept += more;
        }
    }
}

/// The files measured at one size: their texts are timed one by one and their costs and bytes summed.
struct Sample {
    files: Vec<String>,
}

impl Sample {
    fn bytes(&self) -> usize {
        self.files.iter().map(String::len).sum()
    }

    fn lines_per_file(&self) -> usize {
        self.files
            .iter()
            .map(|f| f.lines().count())
            .max()
            .unwrap_or(0)
    }
}

/// The items `only` names; empty when every item is measured.
static ONLY: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

fn wanted(item: &str) -> bool {
    ONLY.get()
        .is_none_or(|only| only.is_empty() || only.iter().any(|o| o == item))
}

fn measure(engine: &Engine, language: Language, path: &Path, text: &str, rounds: usize) -> Costs {
    let timeout = Duration::from_secs(120);
    let mut best: Vec<(String, Duration)> = Vec::new();
    let mut spent = Duration::ZERO;
    let mut round = 0;
    while round < rounds.min(MIN_ROUNDS) || (round < rounds && spent < ROUND_BUDGET) {
        round += 1;
        let mut items: Vec<(String, Duration)> = Vec::new();
        let mut tree = None;
        items.push((
            "parse".into(),
            timed(|| tree = dsr_engine::parse::parse(language, text, timeout).expect("parse")),
        ));
        let tree = tree.expect("a grammar");
        let mut facts = None;
        items.push((
            "facts".into(),
            timed(|| facts = Some(FileFacts::compute(language, Some(&tree), text))),
        ));
        let facts = facts.expect("facts");
        let ctx = RuleContext::new(path, language, text, Some(&tree), &facts, engine.kb())
            .with_sql_settings(&engine.config().sql);
        for (name, model) in MODELS {
            let item = format!("model {name}");
            if wanted(&item) {
                items.push((item, timed(|| model(&ctx))));
            }
        }
        for rule in engine.rules() {
            let meta = rule.meta();
            if !meta.applies_to(language) || !wanted(meta.code) {
                continue;
            }
            let mut out = Vec::new();
            let elapsed = timed(|| rule.check(&ctx, &mut out));
            std::hint::black_box(out);
            items.push((meta.code.to_string(), elapsed));
        }
        spent += items.iter().map(|(_, d)| *d).sum::<Duration>();
        if best.is_empty() {
            best = items;
        } else {
            for ((_, kept), (_, now)) in best.iter_mut().zip(items) {
                *kept = (*kept).min(now);
            }
        }
    }
    Costs { items: best }
}

fn per_kb(time: Duration, bytes: usize) -> f64 {
    time.as_secs_f64() * 1e6 / (bytes as f64 / 1024.0)
}

/// One file set: the same kind of text at growing sizes. Prints each item's time per KB at each size and the
/// ratio of the largest to the smallest; returns the items that fail the check.
fn report(engine: &Engine, name: &str, language: Language, samples: &[Sample]) -> Vec<String> {
    let path = PathBuf::from(match language {
        Language::Go => "scale.go",
        Language::Rust => "scale.rs",
        Language::Tsx => "scale.tsx",
        _ => "scale.ts",
    });
    let costs: Vec<Costs> = samples
        .iter()
        .map(|sample| {
            let mut files = sample.files.iter().map(|text| {
                // Small files get more rounds: their times are short, and the least of many is steadier.
                let rounds = if text.len() < 200_000 {
                    MAX_ROUNDS
                } else {
                    MIN_ROUNDS
                };
                measure(engine, language, &path, text, rounds)
            });
            let mut sum = files.next().expect("a sample has a file");
            files.for_each(|more| sum.add(more));
            sum
        })
        .collect();
    let header: Vec<String> = samples
        .iter()
        .map(|sample| match sample.files.len() {
            1 => format!(
                "{} lines {} KB",
                sample.lines_per_file(),
                sample.bytes() / 1024
            ),
            n => format!(
                "{n} files of ≤ {} lines, {} KB",
                sample.lines_per_file(),
                sample.bytes() / 1024
            ),
        })
        .collect();
    println!("\n{name}: {}", header.join(" | "));
    print!("  {:<22}", "µs per KB at");
    for sample in samples {
        print!(
            " {:>10}",
            format!("{}k", (sample.lines_per_file() + 500) / 1000)
        );
    }
    // The ratio between the two largest sizes too, a second view of growth.
    println!(" {:>9} {:>8} {:>11}", "ratio", "÷ prev", "largest ms");
    let mut failures = Vec::new();
    let (first, last) = (0, samples.len() - 1);
    let totals: Vec<(String, Duration)> = costs
        .iter()
        .map(|c| ("total".to_string(), c.total()))
        .collect();
    let rows = costs[0].items.len();
    for row in 0..=rows {
        let item = |i: usize| -> (String, Duration) {
            if row == rows {
                totals[i].clone()
            } else {
                costs[i].items[row].clone()
            }
        };
        let (label, _) = item(0);
        print!("  {label:<22}");
        for (i, sample) in samples.iter().enumerate() {
            print!(" {:>10.2}", per_kb(item(i).1, sample.bytes()));
        }
        let small = per_kb(item(first).1, samples[first].bytes());
        let large = per_kb(item(last).1, samples[last].bytes());
        let ratio = if small > 0.0 { large / small } else { 0.0 };
        let previous = per_kb(
            item(last.saturating_sub(1)).1,
            samples[last.saturating_sub(1)].bytes(),
        );
        let step = if previous > 0.0 {
            large / previous
        } else {
            0.0
        };
        let largest = item(last).1;
        let judged = last > first && largest >= NOISE_FLOOR;
        let verdict = if judged && ratio > 2.0 {
            failures.push(format!("{name}: {label} {ratio:.2}×"));
            "  FAIL"
        } else if !judged {
            "  (below floor)"
        } else {
            ""
        };
        println!(
            " {:>8.2}× {:>7.2}× {:>11.2}{verdict}",
            ratio,
            step,
            largest.as_secs_f64() * 1e3
        );
    }
    failures
}

fn language_of(path: &Path) -> Option<Language> {
    match Language::from_path(path)? {
        Language::Sql => None,
        language => Some(language),
    }
}

/// The Go, Rust and TypeScript files `check` would scan under `dir` (ignore files respected), in path order.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ignore::WalkBuilder::new(dir)
        .require_git(false)
        .build()
        .flatten()
        .map(ignore::DirEntry::into_path)
        .filter(|path| path.is_file() && language_of(path).is_some())
        .collect();
    files.sort();
    files
}

/// Every file under `dir` once: per item, the time per KB in files under 2,000 lines and in files of 10,000
/// lines or more, and the file with the highest time per KB.
fn survey(engine: &Engine, dir: &Path) {
    let files = files_under(dir);
    // item → (small time, small bytes, large time, large bytes, worst (µs/KB, file))
    let mut rows: Vec<(String, Duration, usize, Duration, usize, f64, String)> = Vec::new();
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let Some(language) = language_of(path) else {
            continue;
        };
        if text.len() < 2_000 || text.len() > 10_000_000 {
            continue;
        }
        let lines = text.lines().count();
        let costs = measure(engine, language, path, &text, 1);
        for (name, time) in costs.items {
            let index = match rows.iter().position(|r| r.0 == name) {
                Some(index) => index,
                None => {
                    rows.push((
                        name,
                        Duration::ZERO,
                        0,
                        Duration::ZERO,
                        0,
                        0.0,
                        String::new(),
                    ));
                    rows.len() - 1
                }
            };
            let row = &mut rows[index];
            if lines < 2_000 {
                row.1 += time;
                row.2 += text.len();
            } else if lines >= 10_000 {
                row.3 += time;
                row.4 += text.len();
            }
            let cost = per_kb(time, text.len());
            if text.len() > 20_000 && cost > row.5 {
                row.5 = cost;
                row.6 = format!("{} ({lines} lines)", path.display());
            }
        }
    }
    println!("{}: {} files", dir.display(), files.len());
    println!(
        "  {:<22} {:>12} {:>12} {:>7}  worst file (µs/KB)",
        "µs per KB in files", "< 2k lines", "≥ 10k lines", "ratio"
    );
    for (name, small, small_bytes, large, large_bytes, worst, file) in rows {
        let small = if small_bytes > 0 {
            per_kb(small, small_bytes)
        } else {
            0.0
        };
        let large = if large_bytes > 0 {
            per_kb(large, large_bytes)
        } else {
            0.0
        };
        let ratio = if small > 0.0 { large / small } else { 0.0 };
        println!("  {name:<22} {small:>12.2} {large:>12.2} {ratio:>6.2}×  {worst:.1} {file}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let value_after = |key: &str| -> Vec<&String> {
        args.windows(2)
            .filter(|w| w[0] == key)
            .map(|w| &w[1])
            .collect()
    };
    let _ = ONLY.set(value_after("only").into_iter().cloned().collect());
    let dump = args.iter().position(|a| a == "dump");
    if let Some([language, lines]) = dump.and_then(|at| args.get(at + 1..at + 3)) {
        let language = match language.as_str() {
            "go" => Language::Go,
            "rust" => Language::Rust,
            _ => Language::TypeScript,
        };
        let lines = lines.parse().unwrap_or(1_000);
        print!("{}", shapes::fixtures_file(language, lines));
        return;
    }
    let sizes: Vec<usize> = value_after("sizes")
        .first()
        .map(|s| s.split(',').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000, 50_000]);
    let mut config = Config::default();
    // Every rule, preview ones included: a rule not on by default still must not be superlinear.
    config.override_selection(
        vec![dsr_core::config::Selector::parse("ALL", &dsr_rules::codes()).expect("ALL")],
        Vec::new(),
    );
    config.preview = true;
    // Every role in scope: the generated files are the rules' fixtures, tests among them, and a Go file that
    // imports `testing` is test code; with tests out of scope the engine would skip the rules there.
    config.scope.roles = dsr_core::CodeRole::ALL.to_vec();
    let engine = Engine::new(dsr_rules::registry(), config);
    let dirs = value_after("dir");
    if !dirs.is_empty() {
        for dir in dirs {
            survey(&engine, Path::new(dir));
        }
        return;
    }
    let mut failures = Vec::new();
    let reals = value_after("real");
    let languages: Vec<(&str, Language)> = [
        ("go", Language::Go),
        ("rust", Language::Rust),
        ("ts", Language::TypeScript),
    ]
    .into_iter()
    .filter(|(name, _)| {
        !args
            .iter()
            .any(|a| matches!(a.as_str(), "go" | "rust" | "ts"))
            || args.contains(&name.to_string())
    })
    .collect();
    if reals.is_empty()
        || args
            .iter()
            .any(|a| matches!(a.as_str(), "go" | "rust" | "ts"))
    {
        for (name, language) in &languages {
            let samples: Vec<Sample> = sizes
                .iter()
                .map(|&lines| Sample {
                    files: shapes::fixtures_files(*language, lines),
                })
                .collect();
            failures.extend(report(
                &engine,
                &format!("{name} fixtures"),
                *language,
                &samples,
            ));
        }
    }
    for real in reals {
        let path = Path::new(real);
        let Some(language) = language_of(path) else {
            eprintln!("{real}: not a Go, Rust or TypeScript file");
            continue;
        };
        let Ok(text) = std::fs::read_to_string(path) else {
            eprintln!("{real}: cannot read");
            continue;
        };
        let samples: Vec<Sample> = shapes::real_prefixes(language, &text, &sizes)
            .into_iter()
            .map(|prefix| Sample {
                files: vec![prefix],
            })
            .collect();
        failures.extend(report(&engine, real, language, &samples));
    }
    if args.iter().any(|a| a == "check") {
        if failures.is_empty() {
            println!("\ncheck: no item's time per KB grows more than 2× from the smallest to the largest size");
        } else {
            println!("\ncheck FAILED: time per KB grows more than 2× with the file size:");
            for failure in &failures {
                println!("  {failure}");
            }
            std::process::exit(1);
        }
    }
}
