//! What is too big, too slow or not worth analysing: the per-file size limit, the parse deadline, and files that
//! people do not write by hand (generated code, minified bundles, vendored dependencies). Findings in those would
//! be noise the user cannot act on, and they are where the pathological sizes come from.
//!
//! Recognising a file as generated reads its leading comment lines, the way `go vet`, GitHub's linguist and
//! most linters do; it is a classification of the file, not a detector, so it works on text.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use dsr_syntax::Language;

/// Files larger than this are not analysed unless the limit is raised.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 2_000_000;

/// How many leading lines may hold a generated-code marker.
const HEADER_LINES: usize = 50;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes; a larger file is skipped with a note.
    pub max_file_size: u64,
    pub skip_generated: bool,
    pub skip_minified: bool,
    /// Skip `node_modules/` and Go `vendor/` directories when walking a tree.
    pub skip_vendored: bool,
    pub parse_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            skip_generated: true,
            skip_minified: true,
            skip_vendored: true,
            parse_timeout: dsr_syntax::DEFAULT_PARSE_TIMEOUT,
        }
    }
}

/// Why a file is not analysed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    TooLarge {
        size: u64,
        limit: u64,
    },
    /// The marker line (1-based) and its text.
    Generated {
        line: usize,
        marker: String,
    },
    Minified {
        longest_line: usize,
        average_line: usize,
    },
    ParseTimedOut {
        after: Duration,
    },
}

impl Skip {
    /// A stable identifier, for reports.
    pub fn code(&self) -> &'static str {
        match self {
            Skip::TooLarge { .. } => "too-large",
            Skip::Generated { .. } => "generated",
            Skip::Minified { .. } => "minified",
            Skip::ParseTimedOut { .. } => "parse-timeout",
        }
    }

    /// What the user changes to have the file analysed (CLI flag and config key; the LSP adds its setting).
    pub fn remedy(&self) -> &'static str {
        match self {
            Skip::TooLarge { .. } => {
                "raise `max-file-size` under [limits] in distsys-review.toml (or --max-file-size)"
            }
            Skip::Generated { .. } => "set `skip-generated = false` under [limits] to check it",
            Skip::Minified { .. } => "set `skip-minified = false` under [limits] to check it",
            Skip::ParseTimedOut { .. } => "raise `parse-timeout-ms` under [limits]",
        }
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::TooLarge { size, limit } => write!(
                f,
                "{} is over the size limit of {}",
                human_size(*size),
                human_size(*limit)
            ),
            Skip::Generated { line, marker } => {
                write!(f, "generated file (line {line}: `{marker}`)")
            }
            Skip::Minified {
                longest_line,
                average_line,
            } => write!(
                f,
                "minified file (lines average {average_line} characters, the longest has {longest_line})"
            ),
            Skip::ParseTimedOut { after } => {
                write!(f, "parsing took longer than {} ms", after.as_millis())
            }
        }
    }
}

pub fn human_size(bytes: u64) -> String {
    const KB: u64 = 1000;
    const MB: u64 = 1000 * KB;
    #[allow(clippy::cast_precision_loss)]
    match bytes {
        b if b >= MB => format!("{:.1} MB", b as f64 / MB as f64),
        b if b >= KB => format!("{:.1} kB", b as f64 / KB as f64),
        b => format!("{b} bytes"),
    }
}

/// Parses a size: bytes, or with a unit `k`/`kB`, `M`/`MB`, `G`/`GB` (decimal, as `ls -h --si` and cargo show).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, factor) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        None => (text, 1),
        Some((at, _)) => {
            let factor = match text[at..].trim().to_ascii_lowercase().as_str() {
                "k" | "kb" => 1_000,
                "m" | "mb" => 1_000_000,
                "g" | "gb" => 1_000_000_000,
                "b" => 1,
                other => return Err(format!("unknown size unit `{other}` (use k, M or G)")),
            };
            (&text[..at], factor)
        }
    };
    let value: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size (e.g. 2M, 500k, 100000)"))?;
    value
        .checked_mul(factor)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// Generated or minified, per `limits`; the size is the caller's business (it knows it before reading).
pub fn classify(language: Language, path: &Path, text: &str, limits: &Limits) -> Option<Skip> {
    if limits.skip_generated {
        if let Some((line, marker)) = generated_marker(text) {
            return Some(Skip::Generated { line, marker });
        }
    }
    if limits.skip_minified {
        return minified(language, path, text);
    }
    None
}

/// The first marker of generated code in the file's leading comments: Go's convention
/// (`// Code generated ... DO NOT EDIT.`, which protoc plugins, buf and others use in every language), the
/// `@generated` tag (Meta's convention, used by prost, Relay, GraphQL codegen, Cargo.lock), or a header comment
/// saying both "generated" and "do not edit", or "automatically generated by" (bindgen, cbindgen).
/// Returns the 1-based line and the trimmed line.
pub fn generated_marker(text: &str) -> Option<(usize, String)> {
    let mut in_block = false;
    for (index, raw) in text.lines().take(HEADER_LINES).enumerate() {
        let line = raw.trim();
        let is_comment = if in_block {
            true
        } else if line.is_empty() {
            continue;
        } else {
            ["//", "/*", "--", "#!", "#"]
                .iter()
                .any(|start| line.starts_with(start))
                && !line.starts_with("#[")
                && !line.starts_with("#![")
        };
        if line.starts_with("/*") && !line.contains("*/") {
            in_block = true;
        } else if in_block && line.contains("*/") {
            in_block = false;
        }
        if !is_comment {
            // Go: "This line must appear before the first non-comment, non-blank text in the file."
            return None;
        }
        if is_generated_line(line) {
            return Some((index + 1, line.chars().take(120).collect()));
        }
    }
    None
}

fn is_generated_line(line: &str) -> bool {
    const GO_START: &str = "// Code generated ";
    const GO_END: &str = " DO NOT EDIT.";
    if line.starts_with(GO_START)
        && line.ends_with(GO_END)
        && line.len() >= GO_START.len() + GO_END.len()
    {
        return true;
    }
    if let Some(at) = line.find("@generated") {
        let after = line[at + "@generated".len()..].chars().next();
        if after.is_none_or(|c| !c.is_alphanumeric() && c != '_') {
            return true;
        }
    }
    let lower = line.to_ascii_lowercase();
    (lower.contains("generated") && lower.contains("do not edit"))
        || lower.contains("automatically generated by")
}

/// JavaScript/TypeScript squeezed onto few, very long lines. Hand-written code, even with long string literals,
/// averages well under 100 characters a line; bundlers' output averages thousands.
///
/// The LSP asks on every keystroke, so the verdict costs one count of the newlines plus a look at the line or two
/// in the middle of the text (a line at least half the text long covers its middle); the full per-line scan runs
/// only for a file found minified, for the numbers in the message. Lines are counted as `str::lines` does.
pub fn minified(language: Language, path: &Path, text: &str) -> Option<Skip> {
    if !matches!(language, Language::TypeScript | Language::Tsx) {
        return None;
    }
    let named_min = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|name| name.contains(".min."));
    let bytes = text.as_bytes();
    let lines = bytes.iter().filter(|&&b| b == b'\n').count()
        + usize::from(bytes.last().is_some_and(|&b| b != b'\n'));
    let average = text.len() / lines.max(1);
    let squeezed = text.len() >= 2048
        && (average > 300 || {
            let middle = text.len() / 2;
            let longest_in_middle =
                line_length_at(bytes, middle).max(line_length_at(bytes, middle - 1));
            longest_in_middle >= 10_000 && longest_in_middle * 2 >= text.len()
        });
    if !(named_min || squeezed) {
        return None;
    }
    let longest = text.lines().map(str::len).max().unwrap_or(0);
    Some(Skip::Minified {
        longest_line: longest,
        average_line: average,
    })
}

/// The length, as `str::lines` yields it (without `\n`, and without a `\r` before it), of the line holding the
/// byte at `offset`; 0 when that byte is the `\n` ending a line.
fn line_length_at(bytes: &[u8], offset: usize) -> usize {
    if bytes.get(offset).is_none_or(|&b| b == b'\n') {
        return 0;
    }
    let start = bytes[..offset]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    match bytes[offset..].iter().position(|&b| b == b'\n') {
        Some(i) => {
            let end = offset + i;
            end - start - usize::from(end > start && bytes[end - 1] == b'\r')
        }
        None => bytes.len() - start,
    }
}

/// Third-party code checked into the tree: `node_modules/`, and Go's `vendor/` (beside a `go.mod`, or holding
/// the `modules.txt` that `go mod vendor` writes).
pub fn is_vendored_dir(path: &Path) -> bool {
    match path.file_name().and_then(|n| n.to_str()) {
        Some("node_modules") => true,
        Some("vendor") => {
            path.join("modules.txt").is_file()
                || path.parent().is_some_and(|p| p.join("go.mod").is_file())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_generated_header_follows_the_convention() {
        let text = "// Copyright 2024\n\n// Code generated by protoc-gen-go. DO NOT EDIT.\n// source: a.proto\n\npackage a\n";
        assert_eq!(
            generated_marker(text),
            Some((3, "// Code generated by protoc-gen-go. DO NOT EDIT.".into()))
        );
        // After the package clause it is no longer a header (the convention says so).
        assert_eq!(
            generated_marker("package a\n\n// Code generated by x. DO NOT EDIT.\n"),
            None
        );
        // Near misses: not the exact form.
        assert_eq!(
            generated_marker("// Code generated by hand, edit freely.\npackage a\n"),
            None
        );
    }

    #[test]
    fn other_markers() {
        assert!(
            generated_marker("// This file is @generated by prost-build.\npub struct A;\n")
                .is_some()
        );
        assert!(generated_marker(
            "/**\n * @generated SignedSource<<abc>>\n */\nexport const a = 1;\n"
        )
        .is_some());
        assert!(generated_marker(
            "/* automatically generated by rust-bindgen 0.69.1 */\n\npub const A: u32 = 1;\n"
        )
        .is_some());
        assert!(generated_marker("-- Generated by sqlc. Do not edit.\nSELECT 1;\n").is_some());
        assert!(generated_marker("#![allow(dead_code)]\n// @generated\n").is_none());
        // Words that merely contain the tag, and the tag in code, are not markers.
        assert!(generated_marker("// see @generatedIds\nconst a = 1;\n").is_none());
        assert!(generated_marker("const tag = \"@generated\";\n").is_none());
        assert!(generated_marker("// ids are generated by the database\nconst a = 1;\n").is_none());
    }

    #[test]
    fn minified_bundles_by_line_statistics_or_name() {
        let bundle = format!("!function(){{{}}}();\n", "var a=1;".repeat(2000));
        assert!(minified(Language::TypeScript, Path::new("app.js"), &bundle).is_some());
        let normal = "export function f(a: number): number {\n  return a + 1;\n}\n".repeat(200);
        assert!(minified(Language::TypeScript, Path::new("f.ts"), &normal).is_none());
        // One long data line in an otherwise normal file is not a bundle.
        let data = format!("{normal}const table = \"{}\";\n{normal}", "x".repeat(5000));
        assert!(minified(Language::TypeScript, Path::new("f.ts"), &data).is_none());
        assert!(minified(Language::Tsx, Path::new("vendor.min.js"), "a()").is_some());
        assert!(minified(Language::Go, Path::new("a.go"), &bundle).is_none());
    }

    /// The verdict as it was first written: every line measured.
    fn minified_by_full_scan(text: &str) -> bool {
        let (mut lines, mut longest) = (0usize, 0usize);
        for line in text.lines() {
            lines += 1;
            longest = longest.max(line.len());
        }
        let average = text.len() / lines.max(1);
        text.len() >= 2048 && (average > 300 || (longest >= 10_000 && longest * 2 >= text.len()))
    }

    #[test]
    fn minified_verdict_matches_a_full_scan() {
        let path = Path::new("a.ts");
        let long = |n: usize| "x".repeat(n);
        let mut cases = vec![
            String::new(),
            "\n".repeat(3000),
            format!("{}\n", long(10_000)),
            format!("{}\r\n{}", long(10_000), long(10_000)),
            format!("{}\n{}", long(10_000), long(10_001)),
            format!("{}\n{}", long(10_001), long(10_000)),
            format!("{}\n{}\n", long(10_000), long(9_999)),
            format!("{}\r\n{}\n", long(9_999), long(10_000)),
            format!("{}\n{}\r", long(9_999), long(10_001)),
            format!("{}{}", "a\n".repeat(4_000), long(12_000)),
            format!("{}{}", "a\n".repeat(6_001), long(12_000)),
            format!("{}\n{}", long(12_000), "a\n".repeat(6_000)),
            format!("{}\r\n{}", long(12_000), "a\n".repeat(5_999)),
            format!("{}\n", long(700)).repeat(10),
            format!("{}\r\n", long(300)).repeat(10),
            format!("{}\n", long(301)).repeat(10),
            format!("{}\n", long(302)).repeat(10),
            "é😀\n".repeat(2_000),
        ];
        for split in [0, 1, 2, 4_999, 5_000, 5_001, 9_998, 9_999, 10_000] {
            let mut text = long(10_000);
            text.insert(split, '\n');
            cases.push(text.clone());
            text.insert(split, '\r');
            cases.push(text);
        }
        for text in &cases {
            let fast = minified(Language::TypeScript, path, text);
            assert_eq!(
                fast.is_some(),
                minified_by_full_scan(text),
                "{} bytes, lines {:?}",
                text.len(),
                text.lines().map(str::len).collect::<Vec<_>>()
            );
            if let Some(Skip::Minified { longest_line, .. }) = fast {
                assert_eq!(Some(longest_line), text.lines().map(str::len).max());
            }
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2M"), Ok(2_000_000));
        assert_eq!(parse_size("500 kB"), Ok(500_000));
        assert_eq!(parse_size("1234"), Ok(1234));
        assert!(parse_size("2X").is_err());
        assert!(parse_size("99999999999999G").is_err());
    }
}
