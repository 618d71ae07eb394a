//! Prints the handler model of each file given: `cargo run -p dsr-core --example handlers -- FILE…`.

use std::path::Path;

use dsr_semantic::models::handlers::Handlers;
use dsr_semantic::FileFacts;
use dsr_syntax::{Document, Language};

fn main() {
    for arg in std::env::args().skip(1) {
        let path = Path::new(&arg);
        let Some(language) = Language::from_path(path) else {
            continue;
        };
        let Ok(source) = std::fs::read_to_string(path) else {
            continue;
        };
        let Ok(document) = Document::new(language, &source, 0) else {
            continue;
        };
        let facts = FileFacts::compute(language, document.tree(), &source);
        let model = Handlers::compute(&facts, &source, path);
        if model.handlers.is_empty() && model.servers.is_empty() && model.routes.is_empty() {
            continue;
        }
        println!("{arg}");
        for h in &model.handlers {
            let line = h.node.start_position().row + 1;
            println!(
                "  handler {} :{line} {:?} {}",
                facts.functions[h.function].name,
                h.route,
                h.framework.name()
            );
        }
        println!(
            "  routes {} mounts {}",
            model.routes.len(),
            model.mounts.len()
        );
        for s in &model.servers {
            let line = s.node.start_position().row + 1;
            println!(
                "  server :{line} {} entry={} {:?}",
                s.framework.name(),
                s.entry,
                s.shutdown
            );
        }
    }
}
