//! Generated source files of a chosen size for the scaling benchmark: the rule fixtures of a language put
//! together (every rule's firing and clean shapes, not only the fast path), and real files cut at top-level
//! items.

use std::path::{Path, PathBuf};

use dsr_syntax::Language;

/// The extensions of a language's fixtures that its grammar parses.
fn fixture_extensions(language: Language) -> &'static [&'static str] {
    match language {
        Language::Go => &["go"],
        Language::Rust => &["rs"],
        Language::TypeScript => &["ts"],
        Language::Tsx => &["tsx", "js"],
        Language::Sql => &[],
    }
}

/// The rule fixtures of `language` (not the `.fixed` results), in path order.
fn fixture_texts(language: Language) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dsr-rules/tests/fixtures");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("the rule fixtures")
        .flatten()
        .flat_map(|rule| {
            std::fs::read_dir(rule.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|entry| entry.path())
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !name.contains(".fixed.")
                && path
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| fixture_extensions(language).contains(&e))
        })
        .collect();
    paths.sort();
    paths
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .collect()
}

/// The names a chunk declares at top level (free functions and types), which a repetition renames so that a
/// file of many repetitions declares many names, as a large real file does, rather than the same few again.
fn declared_names(language: Language, text: &str) -> Vec<String> {
    let starts: &[&str] = match language {
        Language::Go => &["func ", "type "],
        Language::Rust => &[
            "fn ",
            "pub fn ",
            "async fn ",
            "pub async fn ",
            "struct ",
            "pub struct ",
            "enum ",
            "pub enum ",
            "trait ",
            "pub trait ",
        ],
        _ => &[
            "function ",
            "export function ",
            "async function ",
            "export async function ",
            "class ",
            "export class ",
            "interface ",
            "export interface ",
        ],
    };
    text.lines()
        .filter_map(|line| {
            let rest = starts.iter().find_map(|s| line.strip_prefix(s))?;
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty() && name != "main").then_some(name)
        })
        .collect()
}

/// `text` with every identifier in `names` suffixed with `_{suffix}`.
fn rename(text: &str, names: &[String], suffix: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(word);
        if names.iter().any(|n| n == word) {
            out.push_str(&format!("_{suffix}"));
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Files of about `lines` lines each made of the language's rule fixtures, which together hold every fixture at
/// least once: one file when `lines` reaches a whole set, else the set cut into consecutive files (the last one
/// filled up from the set's start). Within a file a fixture that comes again has its top-level names renamed. Go
/// files keep one `package` clause each; imports stay where each fixture has them (tree-sitter accepts them
/// anywhere at top level, and the facts pass collects them wherever they are).
///
/// Measuring a size over the whole set keeps the mix of code the same at every size, so time per KB compares
/// growth and not content: a single 1k-line file would hold only the first rules' fixtures (a set is 2.7k-7.2k
/// lines), and an item whose fixtures come later would have nothing to do there.
pub fn fixtures_files(language: Language, lines: usize) -> Vec<String> {
    let texts = fixture_texts(language);
    assert!(!texts.is_empty(), "no fixtures for {language:?}");
    let start = || -> (String, usize) {
        if language == Language::Go {
            ("package generated\n\n".to_string(), 2)
        } else {
            (String::new(), 0)
        }
    };
    let mut files = Vec::new();
    let (mut out, mut count) = start();
    // How often each fixture has been placed in the current file, for renaming a repeat.
    let mut repetition = 0;
    let mut placed_all = false;
    'fill: loop {
        for (index, text) in texts.iter().enumerate() {
            let body: String = text
                .lines()
                .filter(|line| !(language == Language::Go && line.starts_with("package ")))
                .map(|line| format!("{line}\n"))
                .collect();
            let body = if repetition == 0 {
                body
            } else {
                rename(&body, &declared_names(language, &body), repetition)
            };
            count += body.lines().count() + 1;
            out.push_str(&body);
            out.push('\n');
            placed_all |= index + 1 == texts.len();
            if count >= lines {
                files.push(std::mem::take(&mut out));
                if placed_all {
                    break 'fill;
                }
                (out, count) = start();
                repetition = 0;
            }
        }
        repetition += 1;
    }
    files
}

/// One file of about `lines` lines made of the rule fixtures: the first of [`fixtures_files`].
pub fn fixtures_file(language: Language, lines: usize) -> String {
    fixtures_files(language, lines).swap_remove(0)
}

/// Prefixes of `text` that end at the end of a top-level item, of about each of `sizes` lines (the whole
/// file for a size it does not reach), smallest first and without repeats.
pub fn real_prefixes(language: Language, text: &str, sizes: &[usize]) -> Vec<String> {
    let document = dsr_syntax::Document::new(language, text, 0).expect("grammar");
    let Some(tree) = document.tree() else {
        return vec![text.to_string()];
    };
    let root = tree.root_node();
    // (end byte, last line) of each top-level item.
    let ends: Vec<(usize, usize)> = (0..root.child_count())
        .filter_map(|i| root.child(i))
        .map(|child| (child.end_byte(), child.end_position().row + 1))
        .collect();
    let total_lines = text.lines().count();
    let mut out: Vec<String> = Vec::new();
    for &size in sizes {
        let end = if size >= total_lines {
            text.len()
        } else {
            ends.iter()
                .take_while(|(_, line)| *line <= size)
                .last()
                .map_or(text.len(), |(end, _)| *end)
        };
        let prefix = format!("{}\n", &text[..end]);
        if out.last().is_none_or(|last| last.len() < prefix.len()) {
            out.push(prefix);
        }
    }
    out
}
