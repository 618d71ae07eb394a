//! How much of a codebase the knowledge base and the models recognise: remote calls (direct library calls and
//! calls reaching one through a same-file helper), retries (hand-written loops and other shapes, retry-library
//! calls), client constructions, wall-clock readings kept in a field and compared by another method
//! (`clock_fields`), and calls of a same-file wrapper whose options miss the bound other calls pass
//! (`wrapper_calls`), per language. A measurement aid for knowledge-base work (issue 15): run it
//! before and after a change on the same trees and compare.
//!
//! ```sh
//! cargo run --release -p dsr-semantic --example recognised -- /work/corpora/jaeger /work/corpora/router
//! ```
//!
//! With `--list` it also prints one line per recognised item (`file:line kind detail`), for diffing two runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dsr_core::kb::{ApiKind, KnowledgeBase};
use dsr_semantic::kb::KbMatch;
use dsr_semantic::models::clients::Subject;
use dsr_semantic::models::time::ClockUseKind::Elapsed as ElapsedUse;
use dsr_semantic::{FileFacts, RuleContext};
use dsr_syntax::{Document, Language};

#[derive(Default)]
struct Counts {
    files: usize,
    remote_direct: usize,
    remote_via_helper: usize,
    retry_loops: usize,
    retry_other: usize,
    retry_library: usize,
    clients: usize,
    clock_fields: usize,
    wrapper_calls: usize,
}

const SKIPPED_DIRS: [&str; 8] = [
    ".git",
    "node_modules",
    "vendor",
    "target",
    "dist",
    "build",
    ".next",
    "third_party",
];

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if !SKIPPED_DIRS.contains(&name) {
                walk(&path, out);
            }
        } else if Language::from_path(&path).is_some_and(|l| l != Language::Sql) {
            out.push(path);
        }
    }
}

fn main() {
    let mut list = false;
    let mut roots = Vec::new();
    for arg in std::env::args().skip(1) {
        if arg == "--list" {
            list = true;
        } else {
            roots.push(PathBuf::from(arg));
        }
    }
    let kb = KnowledgeBase::builtin();
    let mut per_language: BTreeMap<&'static str, Counts> = BTreeMap::new();
    for root in &roots {
        let mut files = Vec::new();
        walk(root, &mut files);
        for path in files {
            let Some(language) = Language::from_path(&path) else {
                continue;
            };
            let Ok(source) = std::fs::read_to_string(&path) else {
                continue;
            };
            if source.len() > 1_000_000 {
                continue;
            }
            let Ok(document) = Document::new(language, &source, 0) else {
                continue;
            };
            let Some(tree) = document.tree() else {
                continue;
            };
            let facts = FileFacts::compute(language, Some(tree), &source);
            let ctx = RuleContext::new(&path, language, &source, Some(tree), &facts, kb);
            let counts = per_language.entry(language.family_name()).or_default();
            counts.files += 1;
            let line = |byte: usize| source[..byte].matches('\n').count() + 1;
            let shown = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            let root_name = root.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let remote = ctx.remote_calls();
            for (index, call) in facts.calls.iter().enumerate() {
                if let Some(r) = remote.remote(index) {
                    if r.via.is_none() {
                        counts.remote_direct += 1;
                        if list {
                            println!(
                                "{root_name}/{shown}:{} remote {:?} {}",
                                line(call.node.start_byte()),
                                r.kind,
                                call.callee_text
                            );
                        }
                    } else {
                        counts.remote_via_helper += 1;
                    }
                }
                let makes_client = kb.call(&facts, call).is_some_and(|api| {
                    api.constructs.is_some()
                        || (!api.remote && api.role.is_none() && api.kind != ApiKind::Local)
                });
                if makes_client {
                    counts.clients += 1;
                    if list {
                        println!(
                            "{root_name}/{shown}:{} client {}",
                            line(call.node.start_byte()),
                            call.callee_text
                        );
                    }
                }
            }
            for reading in &ctx.time().readings {
                for clock_use in &reading.uses {
                    if let ElapsedUse {
                        through_field: Some(field),
                        ..
                    } = &clock_use.kind
                    {
                        counts.clock_fields += 1;
                        if list {
                            println!(
                                "{root_name}/{shown}:{} clock-field {field}",
                                line(clock_use.site.start_byte())
                            );
                        }
                    }
                }
            }
            for site in ctx.clients().sites() {
                if let Subject::ThroughWrapper { request, .. } = site.subject {
                    counts.wrapper_calls += 1;
                    if list {
                        println!(
                            "{root_name}/{shown}:{} wrapper-call {}",
                            line(site.node.start_byte()),
                            request.callee_text
                        );
                    }
                }
            }
            for retry in ctx.retries().iter() {
                if retry.library().is_some() {
                    counts.retry_library += 1;
                } else if retry.is_loop() {
                    counts.retry_loops += 1;
                } else {
                    counts.retry_other += 1;
                }
                if list {
                    println!(
                        "{root_name}/{shown}:{} retry {}",
                        line(retry.anchor.start),
                        match &retry.kind {
                            dsr_semantic::models::RetryKind::Loop => "loop",
                            dsr_semantic::models::RetryKind::Library(l) => l.library.as_str(),
                            dsr_semantic::models::RetryKind::Reschedule { timer: true } =>
                                "reschedule",
                            dsr_semantic::models::RetryKind::Reschedule { timer: false } =>
                                "recursion",
                            dsr_semantic::models::RetryKind::Strategy => "strategy",
                        }
                    );
                }
            }
        }
    }
    println!("language\tfiles\tremote_direct\tremote_via_helper\tretry_loops\tretry_other\tretry_library\tclients\tclock_fields\twrapper_calls");
    for (language, c) in &per_language {
        println!(
            "{language}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            c.files,
            c.remote_direct,
            c.remote_via_helper,
            c.retry_loops,
            c.retry_other,
            c.retry_library,
            c.clients,
            c.clock_fields,
            c.wrapper_calls
        );
    }
}
