//! Finding the files to check and reading them, with the engine's intake deciding what is skipped and why, and
//! the phase timings of `--timings`.

use std::collections::HashSet;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dsr_core::limits::{self, Skip};
use dsr_core::{Config, Language};
use dsr_engine::Intake;

pub use dsr_engine::SkipReason;

/// A file the walk found: where it is, how it is shown, and how it is parsed.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// Absolute, lexically normalized.
    pub path: PathBuf,
    /// Relative to the root with `/` separators when under it, otherwise absolute.
    pub display: String,
    pub language: Language,
    /// Bytes, as the walk saw them: the scheduler starts the largest files first.
    pub size: u64,
}

/// A candidate whose text was read.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub display: String,
    pub language: Language,
    pub text: String,
}

/// A file not analysed, and why. Each is one warning line; none changes the exit code.
#[derive(Clone, Debug)]
pub struct Skipped {
    pub display: String,
    pub reason: SkipReason,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}; skipped", self.display, self.reason.message())?;
        match &self.reason {
            SkipReason::Limit(
                skip
                @ (Skip::Generated { .. } | Skip::Minified { .. } | Skip::ParseTimedOut { .. }),
            ) => {
                write!(f, " ({})", skip.remedy())
            }
            _ => Ok(()),
        }
    }
}

pub fn human_size(bytes: u64) -> String {
    limits::human_size(bytes)
}

/// Resolves `.` and `..` without touching the file system, so broken symlinks and missing files keep their
/// names (canonicalize would fail on them, or show the link's target).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// How a path is shown and matched against `exclude`: relative to the root when under it.
pub fn display_path(path: &Path, root: &Path) -> String {
    let shown = path.strip_prefix(root).unwrap_or(path);
    let text = shown.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        text.into_owned()
    } else {
        text.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

/// What the walk found.
#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<Candidate>,
    pub skipped: Vec<Skipped>,
}

/// Walks `paths` (absolute) with `.gitignore`, `.ignore` and hidden files respected — also outside a git
/// repository, since a checkout without `.git` (a tarball, a CI cache) should scan the same — and the config's
/// `exclude` globs matched relative to `root`. A file named explicitly is checked even if an ignore file covers
/// it; `exclude` still applies to it, so editor and pre-commit integrations that pass file names get the
/// project's exclusions.
pub fn discover(paths: &[PathBuf], root: &Path, config: &Config) -> Discovery {
    let mut discovery = Discovery::default();
    let mut seen = HashSet::new();
    let intake = Intake::new(config, root);
    let shared = Arc::new((config.clone(), root.to_path_buf()));
    for path in paths {
        if path.is_file() {
            if intake.is_excluded(path) {
                continue;
            }
            let display = display_path(path, root);
            match Intake::language(path) {
                Ok(language) => {
                    if seen.insert(path.clone()) {
                        discovery.files.push(Candidate {
                            path: path.clone(),
                            display,
                            language,
                            size: std::fs::metadata(path).map_or(0, |m| m.len()),
                        });
                    }
                }
                Err(reason) => discovery.skipped.push(Skipped { display, reason }),
            }
            continue;
        }
        let filter = Arc::clone(&shared);
        // The walk streams entries; only the candidates (a path and a name each) are kept.
        let walk = ignore::WalkBuilder::new(path)
            .require_git(false)
            .follow_links(false)
            .filter_entry(move |entry| {
                let (config, root) = &*filter;
                // Pruning excluded directories saves walking `vendor/` or `node_modules/` at all.
                entry.depth() == 0
                    || !entry.file_type().is_some_and(|t| t.is_dir())
                    || Intake::new(config, root).skip_dir(entry.path()).is_none()
            })
            .build();
        for entry in walk {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    discovery.skipped.push(walk_error(&err, root));
                    continue;
                }
            };
            // Symlinks are not followed into directories (cycles), but a link to a file is read like the file.
            if entry.file_type().is_none_or(|t| t.is_dir()) {
                continue;
            }
            let Some(language) = Language::from_path(entry.path()) else {
                continue;
            };
            let path = normalize(entry.path());
            if intake.is_excluded(&path) || !seen.insert(path.clone()) {
                continue;
            }
            discovery.files.push(Candidate {
                display: display_path(&path, root),
                path,
                language,
                size: entry.metadata().map_or(0, |m| m.len()),
            });
        }
    }
    discovery.files.sort_by(|a, b| a.display.cmp(&b.display));
    discovery
}

fn walk_error(err: &ignore::Error, root: &Path) -> Skipped {
    fn path_of(err: &ignore::Error) -> Option<&Path> {
        match err {
            ignore::Error::WithPath { path, .. } => Some(path),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                path_of(err)
            }
            _ => None,
        }
    }
    fn innermost(err: &ignore::Error) -> String {
        match err {
            ignore::Error::WithPath { err, .. }
            | ignore::Error::WithDepth { err, .. }
            | ignore::Error::WithLineNumber { err, .. } => innermost(err),
            other => other.to_string(),
        }
    }
    Skipped {
        display: path_of(err).map_or_else(|| "<walk>".to_string(), |p| display_path(p, root)),
        reason: SkipReason::Unreadable(innermost(err)),
    }
}

/// Reads a candidate, or says why it is skipped.
pub fn load(candidate: &Candidate, intake: &Intake<'_>) -> Result<SourceFile, Skipped> {
    match intake.read(&candidate.path, candidate.language) {
        Ok(text) => Ok(SourceFile {
            path: candidate.path.clone(),
            display: candidate.display.clone(),
            language: candidate.language,
            text,
        }),
        Err(reason) => Err(Skipped {
            display: candidate.display.clone(),
            reason,
        }),
    }
}

/// The phases of a run and per-language totals, for `--timings`.
#[derive(Debug, Default)]
pub struct Timings {
    pub walk: Phase,
    /// Building the workspace index, and the files it holds (`None` with `--no-index`).
    pub index: Option<(Phase, usize)>,
    pub read: Phase,
    pub parse: Phase,
    pub analysis: Phase,
    pub render: Phase,
    pub languages: Vec<LanguageTimings>,
}

/// Wall time of a phase, and the CPU time all threads spent in it (`None` where there is no CPU clock).
#[derive(Clone, Copy, Debug, Default)]
pub struct Phase {
    pub wall: Duration,
    pub cpu: Option<Duration>,
}

#[derive(Clone, Debug, Default)]
pub struct LanguageTimings {
    pub name: &'static str,
    pub files: usize,
    pub bytes: u64,
    /// Summed over files: the time one core spends, whatever the number of jobs.
    pub parse_time: Duration,
    pub analysis_time: Duration,
}

/// Per-file cost of one phase, measured where the work happens (possibly on several threads).
#[derive(Clone, Copy, Debug)]
pub struct FileCost {
    pub language: Language,
    pub bytes: u64,
    pub elapsed: Duration,
}

/// Times `f` in wall time.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

/// Times a phase: wall time, and the process's CPU time over it.
pub fn phase<T>(f: impl FnOnce() -> T) -> (T, Phase) {
    let cpu_before = dsr_engine::cpu::process();
    let (value, wall) = timed(f);
    let cpu = cpu_before
        .zip(dsr_engine::cpu::process())
        .map(|(before, after)| after.saturating_sub(before));
    (value, Phase { wall, cpu })
}

/// Times work on one file: the calling thread's CPU time (wall time where there is no thread clock), so that
/// per-file sums do not count time spent waiting for a core.
pub fn file_time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let cpu_before = dsr_engine::cpu::thread();
    let (value, wall) = timed(f);
    let cpu = cpu_before
        .zip(dsr_engine::cpu::thread())
        .map(|(before, after)| after.saturating_sub(before));
    (value, cpu.unwrap_or(wall))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(normalize(Path::new("a/../../b")), PathBuf::from("../b"));
    }

    #[test]
    fn display_paths_are_relative_to_the_root() {
        assert_eq!(
            display_path(Path::new("/r/src/a.go"), Path::new("/r")),
            "src/a.go"
        );
        assert_eq!(
            display_path(Path::new("/x/a.go"), Path::new("/r")),
            "/x/a.go"
        );
    }
}
