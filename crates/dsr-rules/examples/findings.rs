//! Dev tool: prints what the rules report on files, every field of each finding.
//! `cargo run -p dsr-rules --example findings -- [CODE,CODE…] FILE…` (no codes: every rule); `DSR_TIME=1`
//! prints the analysis time of each file.

use std::path::Path;

use dsr_core::config::Selector;
use dsr_core::{Config, Language};
use dsr_engine::Engine;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let known = dsr_rules::codes();
    let mut config = Config::default();
    if let Some(first) = args.first() {
        if !Path::new(first).exists() {
            let select = first
                .split(',')
                .filter_map(|code| Selector::parse(code, &known).ok())
                .collect();
            config.override_selection(select, Vec::new());
            args.remove(0);
        }
    }
    let engine = Engine::new(dsr_rules::registry(), config);
    for file in args {
        let path = Path::new(&file);
        let Some(language) = Language::from_path(path) else {
            eprintln!("{file}: unknown language");
            continue;
        };
        let source = match std::fs::read_to_string(path) {
            Ok(source) => source,
            Err(err) => {
                eprintln!("{file}: {err}");
                continue;
            }
        };
        let started = std::time::Instant::now();
        let analysis = engine.analyze_source(path, language, &source);
        if std::env::var_os("DSR_TIME").is_some() {
            eprintln!("{file}: analysed in {:?}", started.elapsed());
        }
        for failure in &analysis.failures {
            eprintln!("{file}: rule failure {failure:?}");
        }
        for finding in analysis.findings {
            let line = source[..finding.range.start.min(source.len())]
                .matches('\n')
                .count()
                + 1;
            println!(
                "{file}:{line} {} [{:?} {:?} {}] {}\n  component: {}\n  trigger:   {}\n  expected:  {}\n  actual:    {}",
                finding.code(),
                finding.kind,
                finding.severity,
                finding.confidence.as_str(),
                finding.title,
                finding.component,
                finding.trigger,
                finding.expected,
                finding.actual
            );
            for evidence in &finding.evidence {
                let line = source[..evidence.range.start.min(source.len())]
                    .matches('\n')
                    .count()
                    + 1;
                println!("  evidence:  line {line}: {}", evidence.note);
            }
            if let Some(fix) = &finding.fix {
                println!(
                    "  fix ({:?}, {} edits): {}",
                    fix.applicability,
                    fix.edits.len(),
                    fix.title
                );
            }
        }
    }
}
