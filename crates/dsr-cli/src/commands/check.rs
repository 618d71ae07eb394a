//! `distsys-review check`: walk, read, analyse in parallel (optionally fix), render, and turn the findings into
//! an exit code.

use std::io::{IsTerminal, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{bail, Context};
use dsr_core::config::Selector;
use dsr_core::{Config, FindingKind, Language, Severity};
use dsr_engine::index::AnalysisReads;
use dsr_engine::{AnalysisInput, Engine, FixMode, Intake};
use dsr_semantic::index::Place;
use rayon::prelude::*;

use super::Run;
use crate::cache::{self, Cache, FileKey};
use crate::report::{Format, Report, DEFAULT_DOCS_URL};
use crate::scan::{self, FileCost, LanguageTimings, SkipReason, Skipped, SourceFile, Timings};
use crate::schedule::largest_first;
use crate::terminal::{warn, ColorChoice};
use crate::ExitStatus;

/// `--fail-on`: the least severity that makes the exit code 1.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Critical,
    High,
    Medium,
    Low,
    /// Never fail because of findings (exit 0 unless there is an error).
    None,
}

impl FailOn {
    fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Critical => Some(Severity::Critical),
            FailOn::High => Some(Severity::High),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::Low => Some(Severity::Low),
            FailOn::None => None,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files and directories to check [default: the current directory].
    paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// Exit with 1 when a finding of at least this severity is reported. Low findings are hardening advice and
    /// do not fail by default; open questions never do.
    #[arg(long, value_enum, default_value_t = FailOn::Medium, value_name = "SEVERITY")]
    fail_on: FailOn,

    /// Configuration file [default: distsys-review.toml in the first path or the nearest directory above it].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Rules to run, replacing the config's `select`: codes, families (`RES`) or `ALL`, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    select: Vec<String>,

    /// Rules not to run, added to the config's `ignore`: codes or families, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    ignore: Vec<String>,

    /// Apply the fixes that keep the program's meaning (applicability "always") and report what remains.
    #[arg(long)]
    fix: bool,

    /// With --fix, also apply fixes a reader should confirm (applicability "maybe").
    #[arg(long, requires = "fix")]
    unsafe_fixes: bool,

    /// Number of files analysed in parallel [default: the number of CPUs].
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<NonZeroUsize>,

    /// Skip files larger than this (bytes; suffixes k, M accepted: 500k, 2M) [default: `max-file-size` under
    /// [limits] in the config, else 2M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_file_size: Option<u64>,

    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,

    /// Colour the text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    color: ColorChoice,

    /// Base URL of the rule pages, for links in reports (`{URL}{CODE}.md`).
    #[arg(long, value_name = "URL", default_value = DEFAULT_DOCS_URL)]
    docs_url: String,

    /// Report only findings on lines this unified diff adds or changes; `-` reads it from standard input:
    /// `git diff -U0 origin/main | distsys-review check --diff -`.
    #[arg(long, value_name = "FILE", alias = "changed-lines")]
    diff: Option<PathBuf>,

    /// Do not report the findings recorded in FILE by --write-baseline (matched by rule, file, title and code,
    /// not by line, so findings that only moved stay hidden).
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,

    /// Record every finding of this run in FILE (JSON) as the baseline later runs compare with, and report none
    /// of them.
    #[arg(long, value_name = "FILE", conflicts_with = "diff")]
    write_baseline: Option<PathBuf>,

    /// Print to stderr how long each phase took: files, bytes, parse-only and full-analysis time, throughput.
    /// Analyses every file (the result cache is neither read nor written).
    #[arg(long)]
    timings: bool,

    /// Analyse each file alone, without the workspace index (calls into other files are not followed).
    #[arg(long)]
    no_index: bool,

    /// No progress bar and no closing `checked N files in T s` line (both appear only when stderr is a
    /// terminal anyway); warnings are still printed.
    #[arg(long, short = 'q')]
    quiet: bool,

    /// Analyse every file, without reading or writing the result cache.
    #[arg(long)]
    no_cache: bool,

    /// Where results are cached between runs [default: .distsys-review-cache in the root: the directory of the
    /// configuration file, else the current directory].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

fn parse_size(text: &str) -> Result<u64, String> {
    match dsr_core::limits::parse_size(text)? {
        0 => Err("the size limit must be more than 0".into()),
        size => Ok(size),
    }
}

/// The result of one file.
struct Checked {
    file: SourceFile,
    findings: Vec<dsr_core::Finding>,
    failures: Vec<dsr_engine::RuleFailure>,
    fixed: usize,
    /// For `--timings`.
    cost: FileCost,
}

impl Run for CheckArgs {
    fn run(self) -> anyhow::Result<ExitStatus> {
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        let paths: Vec<PathBuf> = if self.paths.is_empty() {
            vec![cwd.clone()]
        } else {
            self.paths
                .iter()
                .map(|p| scan::normalize(&cwd.join(p)))
                .collect()
        };
        for (given, path) in self.paths.iter().zip(&paths) {
            if !path.exists() {
                bail!("{}: no such file or directory", given.display());
            }
        }
        // Read before the scan, so that a broken file stops the run at once.
        let changed = self
            .diff
            .as_deref()
            .map(crate::changed_lines::ChangedLines::read)
            .transpose()?;
        let mut baseline = self
            .baseline
            .as_deref()
            .map(crate::baseline::Baseline::read)
            .transpose()?;
        let mut baseline_writer = self
            .write_baseline
            .as_ref()
            .map(|_| crate::baseline::BaselineWriter::default());
        let codes = dsr_rules::codes();
        let config_path = match &self.config {
            Some(path) => Some(path.clone()),
            None => {
                let first = &paths[0];
                let start = if first.is_dir() {
                    first.as_path()
                } else {
                    first.parent().unwrap_or(first)
                };
                Config::discover(start)
            }
        };
        let mut config = match &config_path {
            // Errors name the file as the user would type it: relative to the current directory when under it.
            Some(path) => Config::load(path.strip_prefix(&cwd).unwrap_or(path), &codes)
                .map_err(|err| anyhow::anyhow!("{err}"))?,
            None => Config::default(),
        };
        // The root: where the config lives (its `exclude` globs are relative to it), else the current directory.
        let root = match &config_path {
            Some(path) => scan::normalize(&cwd.join(path))
                .parent()
                .map_or_else(|| cwd.clone(), Path::to_path_buf),
            None => cwd.clone(),
        };
        let selectors = |flag: &str, items: &[String]| -> anyhow::Result<Vec<Selector>> {
            items
                .iter()
                .filter(|item| !item.trim().is_empty())
                .map(|item| {
                    Selector::parse(item, &codes)
                        .map_err(|message| anyhow::anyhow!("--{flag}: {message}"))
                })
                .collect()
        };
        config.override_selection(
            selectors("select", &self.select)?,
            selectors("ignore", &self.ignore)?,
        );
        if let Some(size) = self.max_file_size {
            config.limits.max_file_size = size;
        }
        let pool = {
            let mut builder = rayon::ThreadPoolBuilder::new();
            if let Some(jobs) = self.jobs {
                builder = builder.num_threads(jobs.get());
            }
            builder.build().context("cannot start the worker threads")?
        };
        let jobs = pool.current_num_threads();
        let mut timings = Timings::default();

        let (discovery, walk) = scan::phase(|| scan::discover(&paths, &root, &config));
        timings.walk = walk;
        let engine = Engine::new(dsr_rules::registry(), config);
        let intake = Intake::new(engine.config(), &root);
        let fix_mode = match (self.fix, self.unsafe_fixes) {
            (false, _) => None,
            (true, false) => Some(FixMode::Safe),
            (true, true) => Some(FixMode::Unsafe),
        };
        // Fixing rewrites files: then every file is analysed, and the next run caches the fixed text. Timings
        // analyse every file too.
        let cache = if self.no_cache || fix_mode.is_some() || self.timings {
            None
        } else {
            open_cache(self.cache_dir.as_deref(), &root, &engine, !self.no_index)
        };
        // With the index, an entry holds while the workspace is unchanged (its fingerprint: no index is built
        // when every file hits so), and after a change while the new index answers what the entry's analysis
        // read of it alike.
        let mut workspace = None;
        let mut index_needed = !self.no_index;
        if let (Some(cache), true) = (&cache, index_needed) {
            // Where each file sits, read from the manifests above it as the index reads them (once per
            // directory).
            let layout = dsr_semantic::index::Layout::with_root(root.clone());
            let contents: Vec<(String, cache::Digest, Option<Place>)> = pool.install(|| {
                discovery
                    .files
                    .par_iter()
                    .filter_map(|candidate| {
                        let file = scan::load(candidate, &intake).ok()?;
                        let place = layout.place(Path::new(&file.display), candidate.language);
                        Some((file.display, FileKey::of(&file.text).content(), place))
                    })
                    .collect()
            });
            let mut fingerprint = cache::Workspace::default();
            for (display, content, place) in &contents {
                fingerprint.add(display, *content, place.as_ref());
            }
            let fingerprint = fingerprint.fingerprint();
            index_needed = contents.iter().any(|(display, content, _)| {
                !cache.has(
                    display,
                    FileKey::from_content(*content).with_dependency(fingerprint),
                )
            });
            workspace = Some(fingerprint);
        }
        if index_needed {
            // Every file's summary first, in parallel, so that each analysis sees through calls into the others.
            let (index, phase) = scan::phase(|| {
                // Test files (`_test.go`, `*.test.ts`) are called only by other tests: when the scope reports
                // no test code, no reported finding can depend on their summaries.
                let tests_reported = engine
                    .config()
                    .scope
                    .includes(dsr_core::role::CodeRole::Test);
                let files: Vec<(PathBuf, Language)> = discovery
                    .files
                    .iter()
                    .filter(|c| tests_reported || !is_test_file(&c.display))
                    .map(|c| (PathBuf::from(&c.display), c.language))
                    .collect();
                let candidates: std::collections::HashMap<&Path, &scan::Candidate> = discovery
                    .files
                    .iter()
                    .map(|c| (Path::new(c.display.as_str()), c))
                    .collect();
                let read = |path: &Path, _: Language| {
                    let candidate = candidates.get(path)?;
                    scan::load(candidate, &intake).ok().map(|file| file.text)
                };
                let map: dsr_engine::index::Mapper<'_> = &|task, count| {
                    pool.install(|| {
                        (0..count).into_par_iter().for_each(|i| {
                            task(i);
                        })
                    })
                };
                // Built for this run only: the index keeps no call site it will not need. With the cache, the
                // summaries of unchanged files are taken from it rather than parsed again.
                let summaries = cache.as_ref().map(Cache::summaries);
                let index = dsr_engine::index::build_once(
                    &engine,
                    root.clone(),
                    &files,
                    &read,
                    map,
                    summaries
                        .as_ref()
                        .map(|summaries| summaries as &dyn dsr_engine::index::SummaryStore),
                );
                if let Some(summaries) = &summaries {
                    let (taken, made) = summaries.counts();
                    // Summaries taken as kept against those made (each a parse): for tests and measurements.
                    tracing::info!(
                        target: "dsr_cli",
                        summaries_taken = taken,
                        summaries_made = made,
                        "workspace index summaries"
                    );
                }
                index
            });
            tracing::info!(
                target: "dsr_cli",
                files = index.len(),
                wall_ms = phase.wall.as_millis(),
                "workspace index built"
            );
            timings.index = Some((phase, index.len()));
            engine.set_index(Some(index.snapshot()));
        }
        let counts = Counts::default();
        let limits = intake.limits();
        let mut skipped: Vec<Skipped> = discovery.skipped;
        let mut checked = Vec::with_capacity(discovery.files.len());
        let mut parse_costs = Vec::new();
        // Formats that list every file (JUnit's passing test cases) need the names of files without findings.
        let keep_names = self.format.lists_clean_files();
        let progress = Progress::start(discovery.files.len(), !self.quiet);
        if self.timings {
            // Phases one after the other over files held in memory, so that parse-only and full analysis are
            // timed over the same bytes and neither includes I/O.
            let (loaded, read) = scan::phase(|| {
                pool.install(|| {
                    discovery
                        .files
                        .par_iter()
                        .map(|candidate| scan::load(candidate, &intake))
                        .collect::<Vec<_>>()
                })
            });
            let file_size = |file: &&SourceFile| file.text.len() as u64;
            timings.read = read;
            let mut files = Vec::with_capacity(loaded.len());
            for result in loaded {
                match result {
                    Ok(file) => files.push(file),
                    Err(skip) => skipped.push(skip),
                }
            }
            let (costs, parse) = scan::phase(|| {
                largest_first(&pool, files.iter().collect(), file_size, |file| {
                    let (_, elapsed) = scan::file_time(|| {
                        dsr_engine::parse::parse(file.language, &file.text, limits.parse_timeout)
                    });
                    FileCost {
                        language: file.language,
                        bytes: file.text.len() as u64,
                        elapsed,
                    }
                })
            });
            parse_costs = costs;
            timings.parse = parse;
            let (results, analysis) = scan::phase(|| {
                largest_first(
                    &pool,
                    files,
                    |file| file.text.len() as u64,
                    |file| {
                        let result = check_file(&engine, file, fix_mode, keep_names);
                        progress.tick();
                        result
                    },
                )
            });
            timings.analysis = analysis;
            for result in results {
                match result {
                    Ok(file) => checked.push(file),
                    Err(skip) => skipped.push(skip),
                }
            }
        } else {
            // One pass: each file is read, analysed (or its findings taken from the cache) and, without
            // findings, dropped, so memory follows the findings rather than the size of the tree.
            let results = largest_first(
                &pool,
                discovery.files.iter().collect(),
                |candidate: &&scan::Candidate| candidate.size,
                |candidate| {
                    let result = scan::load(candidate, &intake).and_then(|file| match &cache {
                        Some(cache) => {
                            check_file_cached(&engine, file, cache, workspace, keep_names, &counts)
                        }
                        None => check_file(&engine, file, fix_mode, keep_names),
                    });
                    progress.tick();
                    result
                },
            );
            for result in results {
                match result {
                    Ok(file) => checked.push(file),
                    Err(skip) => skipped.push(skip),
                }
            }
            // Where findings came from: deterministic counts for tests and measurements (`DSR_LOG=info`).
            tracing::info!(
                target: "dsr_cli",
                analysed = counts.analysed.load(Ordering::Relaxed),
                from_cache = counts.from_cache.load(Ordering::Relaxed),
                "files analysed"
            );
            if let Some(cache) = cache {
                let dir = cache.dir().to_path_buf();
                if let Err(err) = cache.save(|display| root.join(display).exists()) {
                    warn(format_args!(
                        "{}: cannot write the result cache: {err}",
                        dir.display()
                    ));
                }
            }
        }
        progress.finish();
        skipped.sort_by(|a, b| a.display.cmp(&b.display));
        for skip in &skipped {
            warn(skip);
        }

        let mut status = ExitStatus::Success;
        let mut report = Report::new(
            root.clone(),
            &engine.config().review,
            &skipped,
            &self.docs_url,
        );
        report.rules = engine.rules().iter().map(|r| r.meta()).collect();
        report.threshold = self.fail_on.threshold();
        let mut fixed_files = 0;
        let (mut out_of_diff, mut in_baseline) = (0, 0);
        let mut analysis_costs = Vec::with_capacity(checked.len());
        for checked in checked {
            analysis_costs.push(checked.cost);
            if checked.fixed > 0 {
                if let Err(err) = std::fs::write(&checked.file.path, &checked.file.text) {
                    eprintln!(
                        "error: {}: cannot write the fixes: {err}",
                        checked.file.display
                    );
                    status = ExitStatus::Error;
                    continue;
                }
                fixed_files += 1;
                report.summary.fixed += checked.fixed;
            }
            for failure in checked.failures {
                warn(format_args!(
                    "{}: rule {} failed ({}); its findings for this file are missing",
                    checked.file.display, failure.rule, failure.message
                ));
                report
                    .failures
                    .push((checked.file.display.clone(), failure.rule, failure.message));
            }
            let mut findings = checked.findings;
            let (display, text) = (&checked.file.display, &checked.file.text);
            if let Some(writer) = &mut baseline_writer {
                writer.add(display, text, &findings);
                findings.clear();
            }
            if let Some(changed) = &changed {
                out_of_diff += changed.keep_changed(display, text, &mut findings);
            }
            if let Some(baseline) = &mut baseline {
                in_baseline += baseline.hide(display, text, &mut findings);
            }
            report.add_file(
                checked.file.display,
                checked.file.language,
                checked.file.text,
                findings,
            );
        }
        report.finish();
        if let (Some(writer), Some(path)) = (baseline_writer, &self.write_baseline) {
            let recorded = writer.len();
            writer.write(path)?;
            eprintln!(
                "recorded {} in the baseline {}",
                plural(recorded, "finding", "findings"),
                path.display()
            );
        }
        if changed.is_some() {
            eprintln!(
                "{} outside the lines the diff changes not reported",
                plural(out_of_diff, "finding", "findings")
            );
        }
        if baseline.is_some() {
            eprintln!(
                "{} already in the baseline not reported",
                plural(in_baseline, "finding", "findings")
            );
        }
        if fix_mode.is_some() {
            let remaining = report.summary.findings();
            eprintln!(
                "fixed {} in {} ({} remaining)",
                plural(report.summary.fixed, "finding", "findings"),
                plural(fixed_files, "file", "files"),
                remaining
            );
        }

        let color = self.color.use_color(self.output.is_some());
        let renderer = self.format.renderer(color);
        let (rendered, render) = scan::phase(|| -> anyhow::Result<()> {
            match &self.output {
                Some(path) => {
                    let mut out = std::io::BufWriter::new(
                        std::fs::File::create(path)
                            .with_context(|| format!("cannot create {}", path.display()))?,
                    );
                    renderer.render(&report, &mut out)?;
                    out.flush()?;
                }
                None => {
                    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                    renderer.render(&report, &mut out)?;
                    out.flush()?;
                }
            }
            Ok(())
        });
        match rendered {
            Ok(()) => {}
            // A closed pipe (`| head`) is the reader's choice, not an error worth a message.
            Err(err)
                if err
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) => {}
            Err(err) => return Err(err),
        }
        timings.render = render;
        progress.summary(report.summary.files_scanned);
        if self.timings {
            timings.languages = by_language(&parse_costs, &analysis_costs);
            eprint!("{}", timings_report(&timings, jobs, skipped.len()));
        }

        let failing = match self.fail_on.threshold() {
            None => false,
            Some(threshold) => report
                .findings()
                .any(|(_, f)| f.kind == FindingKind::Finding && f.severity >= threshold),
        };
        if status == ExitStatus::Success && failing {
            status = ExitStatus::Failure;
        }
        Ok(status)
    }
}

/// The run's result cache, or `None` (with a warning) when its directory cannot be made.
fn open_cache(dir: Option<&Path>, root: &Path, engine: &Engine, index: bool) -> Option<Cache> {
    let dir = dir.map_or_else(|| root.join(cache::DEFAULT_DIR), Path::to_path_buf);
    // Everything that can change a finding besides the file: every setting (the configuration whole) and the
    // rules it enables, and whether the workspace index is used. The tool's identity covers the rules' code and
    // the knowledge base.
    let rules: Vec<&str> = engine.rules().iter().map(|r| r.meta().code).collect();
    let configuration = format!("{:?} {rules:?} index={index}", engine.config());
    let key = cache::BucketKey::new(&cache::tool_identity(), &configuration, root);
    match Cache::open(&dir, &key) {
        Ok(cache) => Some(cache),
        Err(err) => {
            warn(format_args!(
                "{}: cannot use the result cache: {err}",
                dir.display()
            ));
            None
        }
    }
}

/// How many files a run analysed, and how many it took from the result cache.
#[derive(Default)]
struct Counts {
    analysed: AtomicUsize,
    from_cache: AtomicUsize,
}

/// [`check_file`] through the result cache: a file whose key matches an entry is not analysed, nor one whose
/// entry is of the same text and read what the index answers alike now (the workspace changed elsewhere).
fn check_file_cached(
    engine: &Engine,
    file: SourceFile,
    cache: &Cache,
    workspace: Option<cache::Digest>,
    keep_names: bool,
    counts: &Counts,
) -> Result<Checked, Skipped> {
    let content = FileKey::of(&file.text);
    let key = workspace.map_or(content, |fingerprint| content.with_dependency(fingerprint));
    let bytes = file.text.len() as u64;
    let language = file.language;
    let path = Path::new(&file.display);
    let hit = cache
        .get(&file.display, key)
        .map(|f| (f, None))
        .or_else(|| {
            // The workspace changed: the entry holds if what its analysis read is answered alike. Written again
            // under the new fingerprint, so that the next run over the same tree takes it at once.
            let (findings, reads) = cache.get_if(&file.display, content, |reads| {
                workspace.is_some() && engine.index_holds(path, language, reads)
            })?;
            Some((findings, Some(reads)))
        });
    if let Some((findings, reads)) = hit {
        counts.from_cache.fetch_add(1, Ordering::Relaxed);
        if let Some(reads) = reads {
            cache.put_held(&file.display, key, reads, findings.clone());
        }
        return Ok(Checked::new(
            file,
            findings,
            Vec::new(),
            0,
            FileCost {
                language,
                bytes,
                elapsed: Duration::ZERO,
            },
            keep_names,
        ));
    }
    counts.analysed.fetch_add(1, Ordering::Relaxed);
    let display = file.display.clone();
    let (checked, reads) = check_file_recording(engine, file, keep_names)?;
    // A rule that failed is reported again next time rather than remembered as no findings.
    if checked.failures.is_empty() {
        cache.put_read(&display, key, reads.as_ref(), &checked.findings);
    }
    Ok(checked)
}

/// [`check_file`] (no fixes) noting what the analysis read of the index, for the result cache (`None`: no
/// index, or none the file's analysis could see).
fn check_file_recording(
    engine: &Engine,
    file: SourceFile,
    keep_names: bool,
) -> Result<(Checked, Option<AnalysisReads>), Skipped> {
    let bytes = file.text.len() as u64;
    let language = file.language;
    let limit = engine.config().limits.parse_timeout;
    let (result, elapsed) = scan::file_time(|| {
        let tree = dsr_engine::parse::parse(language, &file.text, limit)?;
        Ok(engine.analyze_recording(AnalysisInput::new(
            Path::new(&file.display),
            language,
            &file.text,
            tree.as_ref(),
        )))
    });
    let (analysis, reads) = result.map_err(|skip| Skipped {
        display: file.display.clone(),
        reason: SkipReason::Limit(skip),
    })?;
    let checked = Checked::new(
        file,
        analysis.findings,
        analysis.failures,
        0,
        FileCost {
            language,
            bytes,
            elapsed,
        },
        keep_names,
    );
    Ok((checked, reads))
}

fn check_file(
    engine: &Engine,
    file: SourceFile,
    fix_mode: Option<FixMode>,
    keep_names: bool,
) -> Result<Checked, Skipped> {
    let bytes = file.text.len() as u64;
    let language = file.language;
    let (result, elapsed) = scan::file_time(|| match fix_mode {
        None => {
            let (analysis, _) = engine
                .parse_and_analyze(Path::new(&file.display), file.language, &file.text)
                .map_err(|skip| (file.display.clone(), skip))?;
            Ok((file, analysis.findings, analysis.failures, 0))
        }
        Some(mode) => {
            let fixed = dsr_engine::fix_all(
                engine,
                Path::new(&file.display),
                file.language,
                &file.text,
                mode,
            )
            .map_err(|skip| (file.display.clone(), skip))?;
            for problem in &fixed.problems {
                warn(format_args!("{}: {problem}", file.display));
            }
            let file = SourceFile {
                text: fixed.text,
                ..file
            };
            Ok((
                file,
                fixed.analysis.findings,
                fixed.analysis.failures,
                fixed.applied,
            ))
        }
    });
    let (file, findings, failures, fixed) = result.map_err(|(display, skip)| Skipped {
        display,
        reason: SkipReason::Limit(skip),
    })?;
    Ok(Checked::new(
        file,
        findings,
        failures,
        fixed,
        FileCost {
            language,
            bytes,
            elapsed,
        },
        keep_names,
    ))
}

impl Checked {
    fn new(
        mut file: SourceFile,
        findings: Vec<dsr_core::Finding>,
        failures: Vec<dsr_engine::RuleFailure>,
        fixed: usize,
        cost: FileCost,
        keep_names: bool,
    ) -> Self {
        if findings.is_empty() && fixed == 0 {
            // Kept until the report only to be counted: free its text and, without failures to name it (or a
            // format that lists clean files), its names, so that memory follows the findings rather than the
            // number of files.
            file.text = String::new();
            if failures.is_empty() && !keep_names {
                file.path = PathBuf::new();
                file.display = String::new();
            }
        }
        Self {
            file,
            findings,
            failures,
            fixed,
            cost,
        }
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

fn by_language(parse: &[FileCost], analysis: &[FileCost]) -> Vec<LanguageTimings> {
    let mut rows: Vec<LanguageTimings> = Vec::new();
    let row = |rows: &mut Vec<LanguageTimings>, language: Language| -> usize {
        let name = language.display_name();
        match rows.iter().position(|r| r.name == name) {
            Some(index) => index,
            None => {
                rows.push(LanguageTimings {
                    name,
                    ..LanguageTimings::default()
                });
                rows.len() - 1
            }
        }
    };
    for cost in analysis {
        let index = row(&mut rows, cost.language);
        rows[index].files += 1;
        rows[index].bytes += cost.bytes;
        rows[index].analysis_time += cost.elapsed;
    }
    for cost in parse {
        let index = row(&mut rows, cost.language);
        rows[index].parse_time += cost.elapsed;
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.bytes));
    rows
}

#[allow(clippy::cast_precision_loss)]
fn throughput(bytes: u64, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    if seconds == 0.0 {
        return "-".into();
    }
    format!("{:.1} MB/s", bytes as f64 / 1e6 / seconds)
}

#[allow(clippy::cast_precision_loss)]
fn timings_report(timings: &Timings, jobs: usize, skipped: usize) -> String {
    let bytes: u64 = timings.languages.iter().map(|l| l.bytes).sum();
    let files: usize = timings.languages.iter().map(|l| l.files).sum();
    let ms = |d: Option<Duration>| {
        d.map_or_else(
            || "-".into(),
            |d| format!("{:.1} ms", d.as_secs_f64() * 1e3),
        )
    };
    let rate = |d: Option<Duration>| d.map_or_else(|| "-".into(), |d| throughput(bytes, d));
    let mut out = format!(
        "timings ({jobs} {}): {files} files, {} ({skipped} skipped)\n",
        if jobs == 1 { "job" } else { "jobs" },
        scan::human_size(bytes)
    );
    out.push_str(&format!(
        "  {:<11} {:>11} {:>11} {:>13} {:>13}\n",
        "phase", "wall", "cpu", "rate (wall)", "rate (cpu)"
    ));
    for (name, phase, with_rate) in [
        ("walk", timings.walk, false),
        ("read", timings.read, false),
        ("parse only", timings.parse, true),
        ("analysis", timings.analysis, true),
        ("render", timings.render, false),
    ] {
        let (wall_rate, cpu_rate) = if with_rate {
            (rate(Some(phase.wall)), rate(phase.cpu))
        } else {
            (String::new(), String::new())
        };
        out.push_str(&format!(
            "  {name:<11} {:>11} {:>11} {wall_rate:>13} {cpu_rate:>13}\n",
            ms(Some(phase.wall)),
            ms(phase.cpu),
        ));
    }
    if let Some((phase, indexed)) = timings.index {
        out.push_str(&format!(
            "  {:<11} {:>11} {:>11}   ({indexed} files indexed)\n",
            "index",
            ms(Some(phase.wall)),
            ms(phase.cpu),
        ));
    }
    let ratio = |a: Duration, b: Duration| {
        if b.is_zero() {
            "-".to_string()
        } else {
            format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64())
        }
    };
    out.push_str(&format!(
        "  analysis / parse only: {} wall",
        ratio(timings.analysis.wall, timings.parse.wall)
    ));
    if let (Some(analysis), Some(parse)) = (timings.analysis.cpu, timings.parse.cpu) {
        out.push_str(&format!(", {} cpu", ratio(analysis, parse)));
    }
    out.push('\n');
    out.push_str("  per language, one core (per-file time summed):\n");
    for row in &timings.languages {
        out.push_str(&format!(
            "    {:<15} {:>12} {:>10}  parse {:>12}  analysis {:>12}\n",
            row.name,
            plural(row.files, "file", "files"),
            scan::human_size(row.bytes),
            throughput(row.bytes, row.parse_time),
            throughput(row.bytes, row.analysis_time),
        ));
    }
    out
}

/// Progress on long scans, for a person at a terminal: a bar on stderr while files are analysed (from
/// [`Progress::MIN_FILES`] files on), then one line with the rate — `checked 1,204 files in 2.3 s (523 files/s)`.
/// Nothing at all when stderr is not a terminal (CI logs, pipes, editors) or with `--quiet`.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    enabled: bool,
    started: std::time::Instant,
}

impl Progress {
    /// Below this many files a run is too short for a bar to help.
    const MIN_FILES: usize = 200;

    fn start(total: usize, wanted: bool) -> Self {
        let enabled = wanted && std::io::stderr().is_terminal();
        let bar = (enabled && total >= Self::MIN_FILES).then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(total as u64),
                indicatif::ProgressDrawTarget::stderr(),
            );
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "checking {bar:30} {human_pos}/{human_len} files, {per_sec}, {eta} left",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            // Drawn once now: later draws are rate-limited, and a fast scan may end before the first of them.
            bar.tick();
            bar
        });
        Self {
            bar,
            enabled,
            started: std::time::Instant::now(),
        }
    }

    fn tick(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// Clears the bar, so that warnings and the report start on a clean line.
    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// The closing line, once the report is out.
    fn summary(&self, files: usize) {
        if self.enabled {
            eprintln!("{}", rate_line(files, self.started.elapsed()));
        }
    }
}

/// `checked 1,204 files in 2.3 s (523 files/s)`.
#[allow(clippy::cast_precision_loss)]
fn rate_line(files: usize, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        format!(
            " ({} files/s)",
            thousands((files as f64 / seconds).round() as usize)
        )
    } else {
        String::new()
    };
    let noun = if files == 1 { "file" } else { "files" };
    format!(
        "checked {} {noun} in {seconds:.1} s{rate}",
        thousands(files)
    )
}

/// `12345` → `12,345`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    // Groups of three from the right; the digits are ASCII, so every chunk is a str.
    let mut groups: Vec<&str> = digits
        .as_bytes()
        .rchunks(3)
        .map(|group| std::str::from_utf8(group).unwrap_or_default())
        .collect();
    groups.reverse();
    groups.join(",")
}

/// A file that only tests can call, by its name: Go's toolchain builds `_test.go` files into tests only, and a
/// `*.test.ts`/`*.spec.ts` module is imported by test runners, not by the code under test.
fn is_test_file(path: &str) -> bool {
    let name = Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    dsr_core::role::RoleConventions::builtin()
        .test
        .file_name_parts
        .iter()
        .any(|part| name.contains(part.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_units() {
        assert_eq!(parse_size("2M"), Ok(2_000_000));
        assert_eq!(parse_size("500k"), Ok(500_000));
        assert_eq!(parse_size("1234"), Ok(1234));
        assert_eq!(parse_size("1kb"), Ok(1000));
        assert!(parse_size("2X").is_err());
        assert!(parse_size("M").is_err());
    }

    #[test]
    fn the_rate_line_reads_well() {
        assert_eq!(
            rate_line(1204, Duration::from_millis(2300)),
            "checked 1,204 files in 2.3 s (523 files/s)"
        );
        assert_eq!(rate_line(1, Duration::ZERO), "checked 1 file in 0.0 s");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn thresholds_order_by_severity() {
        assert_eq!(FailOn::Medium.threshold(), Some(Severity::Medium));
        assert!(Severity::High >= FailOn::Medium.threshold().unwrap());
        assert!(Severity::Low < FailOn::Medium.threshold().unwrap());
        assert_eq!(FailOn::None.threshold(), None);
    }
}
