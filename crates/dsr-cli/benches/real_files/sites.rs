//! What the real-file benchmarks share: which files of a corpus they edit, and where in a file they type. Used
//! by the LSP benchmark (`real_files`) and by the in-process one (`analyze -- corpus DIR`).

use std::path::{Path, PathBuf};

pub fn language_of(path: &Path) -> Option<&'static str> {
    match path.extension()?.to_str()? {
        "go" => Some("go"),
        "rs" => Some("rust"),
        "ts" => Some("typescript"),
        _ => None,
    }
}

pub fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else if language_of(&path).is_some() {
            out.push(path);
        }
    }
}

const KEYWORDS: &[&str] = &[
    "if",
    "else",
    "for",
    "return",
    "func",
    "fn",
    "let",
    "mut",
    "var",
    "const",
    "match",
    "while",
    "loop",
    "switch",
    "case",
    "default",
    "break",
    "continue",
    "defer",
    "go",
    "select",
    "await",
    "async",
    "new",
    "throw",
    "try",
    "catch",
    "this",
    "self",
    "Self",
    "pub",
    "use",
    "impl",
    "struct",
    "type",
    "interface",
    "import",
    "export",
    "package",
    "static",
    "unsafe",
    "where",
    "in",
    "of",
    "typeof",
    "instanceof",
    "yield",
    "delete",
    "void",
    "class",
    "enum",
    "trait",
    "mod",
    "crate",
    "super",
    "range",
    "chan",
    "map",
    "goto",
    "fallthrough",
    "ref",
    "move",
    "dyn",
    "as",
    "true",
    "false",
    "nil",
    "null",
    "undefined",
    "function",
    "private",
    "public",
    "protected",
    "readonly",
    "declare",
    "namespace",
    "abstract",
    "get",
    "set",
];

/// Where to type near `fraction` of the file: (line, UTF-16 column) just after an identifier (not a keyword)
/// that starts an indented line, i.e. inside a body; and the column where that line's code starts.
pub fn edit_site(lines: &[&str], fraction: f64) -> Option<(usize, usize, usize)> {
    let from = ((lines.len() as f64 * fraction) as usize).min(lines.len().saturating_sub(1));
    let candidates = (from..lines.len()).chain((0..from).rev());
    for line in candidates {
        let text = lines[line];
        let code = text.trim_start();
        let indent = text.len() - code.len();
        if indent == 0 || code.starts_with("//") || code.starts_with('*') || code.starts_with("/*")
        {
            continue;
        }
        let word: String = code
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if word.len() < 2
            || !word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            || KEYWORDS.contains(&word.as_str())
        {
            continue;
        }
        // Only ASCII before the edit, so byte columns are UTF-16 columns.
        if !text[..indent + word.len()].is_ascii() {
            continue;
        }
        return Some((line, indent + word.len(), indent));
    }
    None
}

/// The byte offset of (`line`, `column`) in `text`, the column counted in bytes (what [`edit_site`] returns:
/// only ASCII comes before it on its line).
pub fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    start + column
}
