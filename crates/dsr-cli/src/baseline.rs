//! `--write-baseline` / `--baseline`: the findings a project has accepted, so that a scan reports only new ones.
//!
//! A finding is known by its rule, its file and a fingerprint of its title and of the code it covers (whitespace
//! collapsed), not by its line: code added or removed above it moves it without making it new (ruff's and
//! ESLint's baselines work the same way). Equal fingerprints are counted, so a second identical finding in the
//! same file is new. A finding whose code or title changes is new: the change may be what made it.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context};
use dsr_core::Finding;
use serde::{Deserialize, Serialize};

/// The format's version; a file of another version is refused rather than half understood.
const VERSION: u32 = 1;
/// Most characters of code that enter a fingerprint: enough to tell findings apart, bounded for huge ranges.
const MAX_FINGERPRINT_CODE: usize = 4096;
/// A baseline larger than this is refused before it is read.
const MAX_BASELINE_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    version: u32,
    findings: Vec<Entry>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct Entry {
    rule: String,
    path: String,
    fingerprint: String,
    /// For the reader of the file only: matching ignores it.
    line: usize,
    /// For the reader of the file only (it is part of the fingerprint).
    title: String,
}

/// The accepted findings, counted by (rule, path, fingerprint).
#[derive(Debug, Default)]
pub struct Baseline {
    known: HashMap<(String, String, String), usize>,
}

impl Baseline {
    pub fn read(path: &Path) -> anyhow::Result<Baseline> {
        let size = std::fs::metadata(path)
            .with_context(|| format!("cannot read the baseline {}", path.display()))?
            .len();
        if size > MAX_BASELINE_BYTES {
            bail!(
                "{}: the baseline is larger than {} bytes",
                path.display(),
                MAX_BASELINE_BYTES
            );
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the baseline {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("{}: not a baseline", path.display()))
    }

    fn parse(text: &str) -> anyhow::Result<Baseline> {
        // The version first, so that a future format gets a clear message instead of a field error.
        let version: serde_json::Value = serde_json::from_str(text)?;
        match version.get("version").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(VERSION) => {}
            Some(v) => bail!("baseline version {v}, this distsys-review reads version {VERSION}"),
            None => bail!("no `version` field"),
        }
        let file: BaselineFile = serde_json::from_value(version)?;
        let mut baseline = Baseline::default();
        for entry in file.findings {
            *baseline
                .known
                .entry((entry.rule, entry.path, entry.fingerprint))
                .or_default() += 1;
        }
        Ok(baseline)
    }

    /// Drops from `findings` those the baseline holds (each entry hides one finding); returns how many.
    pub fn hide(&mut self, path: &str, text: &str, findings: &mut Vec<Finding>) -> usize {
        let before = findings.len();
        findings.retain(|finding| {
            let key = (
                finding.code().to_string(),
                normal_path(path),
                fingerprint(text, finding),
            );
            match self.known.get_mut(&key) {
                Some(count) if *count > 0 => {
                    *count -= 1;
                    false
                }
                _ => true,
            }
        });
        before - findings.len()
    }
}

/// Collects the findings of a run for `--write-baseline`.
#[derive(Debug, Default)]
pub struct BaselineWriter {
    entries: Vec<Entry>,
}

impl BaselineWriter {
    pub fn add(&mut self, path: &str, text: &str, findings: &[Finding]) {
        for finding in findings {
            self.entries.push(Entry {
                rule: finding.code().to_string(),
                path: normal_path(path),
                fingerprint: fingerprint(text, finding),
                line: line_of(text, finding.range.start),
                title: finding.title.clone(),
            });
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Writes the file, sorted so that it diffs well under version control.
    pub fn write(mut self, path: &Path) -> anyhow::Result<()> {
        self.entries.sort_by(|a, b| {
            (&a.path, a.line, &a.rule, &a.fingerprint).cmp(&(
                &b.path,
                b.line,
                &b.rule,
                &b.fingerprint,
            ))
        });
        let file = BaselineFile {
            version: VERSION,
            findings: self.entries,
        };
        let mut json = serde_json::to_string_pretty(&file)?;
        json.push('\n');
        std::fs::write(path, json)
            .with_context(|| format!("cannot write the baseline {}", path.display()))
    }
}

/// `/`-separated, whatever the platform, so that a baseline written on one works on another.
fn normal_path(path: &str) -> String {
    path.replace('\\', "/")
}

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// FNV-1a (64 bits) of the rule, the title and the finding's code with whitespace collapsed, in hex. FNV is
/// fixed by its definition, so fingerprints stay the same across versions and platforms. The GitLab report
/// builds its fingerprints on this one.
pub fn fingerprint(text: &str, finding: &Finding) -> String {
    let code = text
        .get(finding.range.start..finding.range.end)
        .unwrap_or_default();
    let code: String = code
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_FINGERPRINT_CODE)
        .collect();
    format!("{:016x}", fnv1a(&[finding.code(), &finding.title, &code]))
}

/// FNV-1a (64 bits) of the parts joined by NULs, so that `("ab", "c")` and `("a", "bc")` differ.
pub fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (index, part) in parts.iter().enumerate() {
        let separator: &[u8] = if index == 0 { b"" } else { b"\0" };
        for byte in separator.iter().chain(part.as_bytes()) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_and_foreign_files_are_refused_with_a_reason() {
        let err = |text: &str| format!("{:#}", Baseline::parse(text).unwrap_err());
        assert!(err("{").contains("EOF"));
        assert!(err("{\"findings\": []}").contains("no `version`"));
        assert!(err("{\"version\": 2, \"findings\": []}").contains("version 2"));
        assert!(err("{\"version\": 1, \"findings\": [{\"rule\": 1}]}").contains("invalid type"));
        assert!(Baseline::parse("{\"version\": 1, \"findings\": []}").is_ok());
    }

    /// Baselines written by earlier versions must keep matching: the hash of known parts is pinned.
    #[test]
    fn the_fingerprint_hash_is_fixed() {
        assert_eq!(fnv1a(&[]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(&["a"]), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(fnv1a(&["ab", "c"]), fnv1a(&["a", "bc"]));
    }

    #[test]
    fn lines_count_from_one() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}
