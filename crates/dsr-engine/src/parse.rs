//! Parsing a whole text within the configured deadline, with one parser per language per thread.

use std::cell::RefCell;
use std::time::Duration;

use dsr_core::limits::Skip;
use dsr_syntax::Language;
use tree_sitter::{Parser, Tree};

thread_local! {
    /// One parser per language per thread: creating a parser costs more than parsing a small file.
    static PARSERS: RefCell<Vec<(Language, Parser)>> = const { RefCell::new(Vec::new()) };
}

/// Parses `text` with the language's tree-sitter grammar, giving up after `timeout`; `Ok(None)` for SQL (no
/// grammar) or a grammar that fails to load. Never inlined: `scripts/bench-instructions.sh` reads the parse's
/// instructions off this function's name in callgrind's output.
#[inline(never)]
pub fn parse(language: Language, text: &str, timeout: Duration) -> Result<Option<Tree>, Skip> {
    PARSERS.with_borrow_mut(|parsers| {
        let index = match parsers.iter().position(|(l, _)| *l == language) {
            Some(index) => index,
            None => {
                let Some(grammar) = language.grammar() else {
                    return Ok(None);
                };
                let mut parser = Parser::new();
                if let Err(err) = parser.set_language(&grammar) {
                    tracing::error!("{language}: cannot load the grammar: {err}");
                    return Ok(None);
                }
                parsers.push((language, parser));
                parsers.len() - 1
            }
        };
        match dsr_syntax::parse_str_bounded(&mut parsers[index].1, text, timeout) {
            Some(tree) => Ok(Some(tree)),
            None => Err(Skip::ParseTimedOut { after: timeout }),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers_are_reused_per_language() {
        let timeout = Duration::from_secs(2);
        for _ in 0..3 {
            assert!(parse(Language::Go, "package a\n", timeout)
                .unwrap()
                .is_some());
            assert!(parse(Language::Rust, "fn main() {}\n", timeout)
                .unwrap()
                .is_some());
        }
        assert!(parse(Language::Sql, "select 1", timeout).unwrap().is_none());
        let nested = format!("package a\nvar x = {}\n", "([{".repeat(50_000));
        assert_eq!(
            parse(Language::Go, &nested, Duration::ZERO)
                .unwrap_err()
                .code(),
            "parse-timeout"
        );
        // The cancelled parse left nothing behind in the thread's parser.
        let tree = parse(Language::Go, "package a\n", timeout)
            .unwrap()
            .unwrap();
        assert!(!tree.root_node().has_error());
    }
}
