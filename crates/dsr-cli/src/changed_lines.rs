//! `--diff FILE` (`-` for standard input): keep only the findings on lines a unified diff adds or changes.
//!
//! The diff comes from the user (`git diff -U0 origin/main | distsys-review check --diff -`) because
//! distsys-review runs no other program (docs/security.md): it cannot call git itself. Any unified diff works —
//! git's, `diff -u`'s, with or without context lines, with or without the `a/`/`b/` prefixes.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context};
use dsr_core::Finding;

use crate::baseline::line_of;

/// A diff larger than this is refused: no review is that large, and it is read whole into memory.
const MAX_DIFF_BYTES: u64 = 512 * 1024 * 1024;

/// The lines each file gained, by the file's path in the diff's new version.
#[derive(Debug, Default)]
pub struct ChangedLines {
    files: HashMap<String, BTreeSet<usize>>,
}

impl ChangedLines {
    /// Reads a diff from a file, or from standard input for `-`.
    pub fn read(source: &Path) -> anyhow::Result<ChangedLines> {
        let mut bytes = Vec::new();
        if source == Path::new("-") {
            std::io::stdin()
                .lock()
                .take(MAX_DIFF_BYTES + 1)
                .read_to_end(&mut bytes)
                .context("cannot read the diff from standard input")?;
        } else {
            std::fs::File::open(source)
                .and_then(|file| file.take(MAX_DIFF_BYTES + 1).read_to_end(&mut bytes))
                .with_context(|| format!("cannot read the diff {}", source.display()))?;
        }
        if bytes.len() as u64 > MAX_DIFF_BYTES {
            bail!("the diff is larger than {MAX_DIFF_BYTES} bytes");
        }
        // A diff may hold bytes of files in other encodings; lines and paths are all this needs.
        Self::parse(&String::from_utf8_lossy(&bytes))
    }

    pub fn parse(diff: &str) -> anyhow::Result<ChangedLines> {
        let mut changed = ChangedLines::default();
        let mut file: Option<String> = None;
        let mut seen_header = false;
        let mut hunk: Option<Hunk> = None;
        for (index, line) in diff.lines().enumerate() {
            if let Some(current) = hunk.as_mut() {
                // Inside a hunk every line is content, even one that looks like a header (`---x` is a deleted
                // line `--x`); the counts of the header say where the hunk ends.
                match line.as_bytes().first() {
                    Some(b'+') => {
                        if let Some(file) = &file {
                            changed
                                .files
                                .entry(file.clone())
                                .or_default()
                                .insert(current.next);
                        }
                        current.next += 1;
                        current.new_left = current.new_left.saturating_sub(1);
                    }
                    Some(b'-') => current.old_left = current.old_left.saturating_sub(1),
                    Some(b'\\') => {}
                    // A context line (an empty one may have lost its space).
                    _ => {
                        current.next += 1;
                        current.new_left = current.new_left.saturating_sub(1);
                        current.old_left = current.old_left.saturating_sub(1);
                    }
                }
                if current.new_left == 0 && current.old_left == 0 {
                    hunk = None;
                }
                continue;
            }
            if let Some(path) = line.strip_prefix("+++ ") {
                seen_header = true;
                file = new_path(path);
            } else if line.starts_with("@@") {
                if !seen_header {
                    bail!("line {}: a hunk before any `+++` file header", index + 1);
                }
                let Some(header) = Hunk::parse(line) else {
                    bail!("line {}: unreadable hunk header `{line}`", index + 1);
                };
                hunk = (header.new_left > 0 || header.old_left > 0).then_some(header);
            }
        }
        Ok(changed)
    }

    /// Drops the findings of `path` that touch no added line; returns how many.
    pub fn keep_changed(&self, path: &str, text: &str, findings: &mut Vec<Finding>) -> usize {
        let before = findings.len();
        let lines = self.lines_of(path);
        findings.retain(|finding| {
            let Some(lines) = lines else { return false };
            let first = line_of(text, finding.range.start);
            let last = line_of(text, finding.range.end.max(finding.range.start));
            lines.range(first..=last).next().is_some()
        });
        before - findings.len()
    }

    /// The diff's path is relative to the repository's root, the scanned path to the configuration's folder or
    /// the current directory: the same file when they are equal or one ends with the other at a `/`.
    fn lines_of(&self, path: &str) -> Option<&BTreeSet<usize>> {
        let path = path.replace('\\', "/");
        let path = path.trim_start_matches("./");
        self.files.iter().find_map(|(file, lines)| {
            let same = file == path
                || file.ends_with(&format!("/{path}"))
                || path.ends_with(&format!("/{file}"));
            same.then_some(lines)
        })
    }
}

/// The path of a `+++` header: without the `b/` prefix, a trailing tab and timestamp (`diff -u`), or quotes;
/// `None` for a deleted file.
fn new_path(header: &str) -> Option<String> {
    let path = header.split('\t').next().unwrap_or(header).trim_end();
    let path = path
        .strip_prefix('"')
        .and_then(|p| p.strip_suffix('"'))
        .unwrap_or(path);
    if path == "/dev/null" {
        return None;
    }
    let path = path.strip_prefix("b/").unwrap_or(path);
    Some(path.trim_start_matches("./").to_string())
}

/// Where a hunk is in the new version and how many of its lines are still to come.
struct Hunk {
    next: usize,
    new_left: usize,
    old_left: usize,
}

impl Hunk {
    /// `@@ -a,b +c,d @@`; a count left out is 1.
    fn parse(header: &str) -> Option<Hunk> {
        let range = |prefix: char| -> Option<(usize, usize)> {
            let part = header
                .split_whitespace()
                .skip(1)
                .find(|part| part.starts_with(prefix))?;
            let part = &part[1..];
            match part.split_once(',') {
                Some((start, count)) => Some((start.parse().ok()?, count.parse().ok()?)),
                None => Some((part.parse().ok()?, 1)),
            }
        };
        let (_, old_left) = range('-')?;
        let (next, new_left) = range('+')?;
        Some(Hunk {
            next,
            new_left,
            old_left,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(diff: &str, path: &str) -> Vec<usize> {
        ChangedLines::parse(diff)
            .unwrap()
            .lines_of(path)
            .map(|l| l.iter().copied().collect())
            .unwrap_or_default()
    }

    #[test]
    fn zero_context_diffs_give_the_added_lines() {
        let diff = "diff --git a/db/1.sql b/db/1.sql\n--- a/db/1.sql\n+++ b/db/1.sql\n@@ -3,0 +4,2 @@\n+a\n+b\n@@ -10 +12 @@\n-x\n+y\n";
        assert_eq!(lines(diff, "db/1.sql"), [4, 5, 12]);
        assert_eq!(lines(diff, "repo/db/1.sql"), [4, 5, 12]);
        assert!(lines(diff, "db/2.sql").is_empty());
    }

    #[test]
    fn context_lines_move_the_count_without_counting_as_changed() {
        let diff = "--- a/x.go\n+++ b/x.go\n@@ -1,3 +1,4 @@\n package x\n-old\n+new\n+more\n \n";
        assert_eq!(lines(diff, "x.go"), [2, 3]);
    }

    #[test]
    fn deleted_files_and_file_headers_inside_hunks_are_not_confused() {
        let diff = "--- a/gone.go\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n---b\n--- a/y.go\n+++ b/y.go\n@@ -0,0 +1 @@\n++++x\n";
        assert_eq!(lines(diff, "y.go"), [1]);
        assert!(lines(diff, "gone.go").is_empty());
    }

    #[test]
    fn a_hunk_without_a_file_is_an_error() {
        assert!(ChangedLines::parse("@@ -1 +1 @@\n+x\n").is_err());
        assert!(ChangedLines::parse("+++ b/x\n@@ nonsense @@\n").is_err());
    }
}
