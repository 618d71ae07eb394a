//! File intake: which files are analysed, and why the others are not. The CLI's walk and the language server
//! (open documents, and closed files when it checks the workspace) ask the same questions here, so a file is
//! skipped for the same reason whichever front end looks at it. The front ends only walk and report.
//!
//! The limits themselves (sizes, what "generated" and "minified" mean) are configuration and live in
//! [`dsr_core::limits`]; this module decides with them.

use std::fmt;
use std::io::Read;
use std::path::Path;

use dsr_core::config::Config;
use dsr_core::limits::{self, Limits, Skip};
use dsr_syntax::Language;

/// Why a file is not analysed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    Unreadable(String),
    Empty,
    /// A NUL byte, at this offset.
    Binary(usize),
    /// The first invalid byte and its 1-based line.
    InvalidUtf8 {
        offset: usize,
        line: usize,
    },
    /// Over the size limit, generated, minified, or too slow to parse (`[limits]`).
    Limit(Skip),
    /// Named on the command line but not in a language we read.
    NotSource,
    /// Matched by the configuration's `exclude` globs. Front ends skip it without a word: the user asked.
    Excluded,
    /// Third-party code checked into the tree (`node_modules/`, Go's `vendor/`), while `skip-vendored` is on.
    Vendored,
}

impl SkipReason {
    /// Why, in words (without the path), with the command-line flag that changes a size limit.
    pub fn message(&self) -> String {
        match self {
            SkipReason::Limit(skip @ Skip::TooLarge { .. }) => {
                format!("{skip} (--max-file-size, or `max-file-size` under [limits])")
            }
            other => other.to_string(),
        }
    }

    /// A stable identifier, for reports.
    pub fn code(&self) -> &'static str {
        match self {
            SkipReason::Unreadable(_) => "unreadable",
            SkipReason::Empty => "empty",
            SkipReason::Binary(_) => "binary",
            SkipReason::InvalidUtf8 { .. } => "invalid-utf8",
            SkipReason::Limit(skip) => skip.code(),
            SkipReason::NotSource => "not-source",
            SkipReason::Excluded => "excluded",
            SkipReason::Vendored => "vendored",
        }
    }
}

/// Why, in words, without a front end's way of changing it.
impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Unreadable(err) => write!(f, "cannot read: {err}"),
            SkipReason::Empty => f.write_str("empty file"),
            SkipReason::Binary(offset) => write!(f, "binary file (NUL byte at offset {offset})"),
            SkipReason::InvalidUtf8 { offset, line } => write!(
                f,
                "not valid UTF-8 (invalid byte at offset {offset}, line {line})"
            ),
            SkipReason::Limit(skip) => skip.fmt(f),
            SkipReason::NotSource => {
                f.write_str("not a Go, Rust, TypeScript/JavaScript or SQL file")
            }
            SkipReason::Excluded => f.write_str("excluded by the configuration"),
            SkipReason::Vendored => f.write_str("vendored third-party code"),
        }
    }
}

/// The intake rules of one configuration: its limits and `exclude` globs, which are relative to `root` (the
/// folder of the configuration file, or where the run started when there is none).
#[derive(Clone, Copy, Debug)]
pub struct Intake<'a> {
    config: &'a Config,
    root: &'a Path,
}

impl<'a> Intake<'a> {
    pub fn new(config: &'a Config, root: &'a Path) -> Self {
        Self { config, root }
    }

    pub fn limits(&self) -> &'a Limits {
        &self.config.limits
    }

    /// The language a file is read as, or [`SkipReason::NotSource`].
    pub fn language(path: &Path) -> Result<Language, SkipReason> {
        Language::from_path(path).ok_or(SkipReason::NotSource)
    }

    /// Whether the `exclude` globs cover `path`. A path under the root is matched relative to it; one outside is
    /// matched as it is.
    pub fn is_excluded(&self, path: &Path) -> bool {
        self.config
            .is_excluded(path.strip_prefix(self.root).unwrap_or(path))
    }

    /// Whether a walk can leave out the whole directory `dir`, and why.
    pub fn skip_dir(&self, dir: &Path) -> Option<SkipReason> {
        if self.is_excluded_dir(dir) {
            Some(SkipReason::Excluded)
        } else if self.config.limits.skip_vendored && limits::is_vendored_dir(dir) {
            Some(SkipReason::Vendored)
        } else {
            None
        }
    }

    /// `vendor/**` does not match `vendor` itself but matches `vendor/` (the `**` may be empty), and whatever
    /// matches the directory with an empty rest matches everything below it.
    fn is_excluded_dir(&self, dir: &Path) -> bool {
        let relative = dir.strip_prefix(self.root).unwrap_or(dir);
        let mut with_slash = relative.as_os_str().to_owned();
        with_slash.push("/");
        self.config.is_excluded(relative) || self.config.is_excluded(Path::new(&with_slash))
    }

    /// Reads a file from disk, or says why it is skipped. The size is checked on the metadata before anything is
    /// read, so a 100 MB file over the limit costs one `stat`; the read never takes more than the limit.
    pub fn read(&self, path: &Path, language: Language) -> Result<String, SkipReason> {
        let max_size = self.config.limits.max_file_size;
        let metadata = std::fs::metadata(path).map_err(|err| {
            let message = if is_link_loop(&err) {
                format!("{err} (symbolic link loop)")
            } else if path.is_symlink() {
                format!("{err} (broken symbolic link)")
            } else {
                err.to_string()
            };
            SkipReason::Unreadable(message)
        })?;
        if metadata.is_dir() {
            return Err(SkipReason::Unreadable("is a directory".into()));
        }
        let too_large = |size: u64| {
            SkipReason::Limit(Skip::TooLarge {
                size,
                limit: max_size,
            })
        };
        if metadata.len() > max_size {
            return Err(too_large(metadata.len()));
        }
        // The limit plus one byte, to notice a file that grew between stat and read.
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|file| {
                file.take(max_size.saturating_add(1))
                    .read_to_end(&mut bytes)
            })
            .map_err(|err| SkipReason::Unreadable(err.to_string()))?;
        if bytes.len() as u64 > max_size {
            return Err(too_large(bytes.len() as u64));
        }
        if bytes.is_empty() {
            return Err(SkipReason::Empty);
        }
        if let Some(offset) = bytes.iter().position(|&b| b == 0) {
            return Err(SkipReason::Binary(offset));
        }
        let text = String::from_utf8(bytes).map_err(|err| {
            let offset = err.utf8_error().valid_up_to();
            let line = err.as_bytes()[..offset]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            SkipReason::InvalidUtf8 { offset, line }
        })?;
        match self.skip_text(language, path, &text) {
            Some(skip) => Err(SkipReason::Limit(skip)),
            None => Ok(text),
        }
    }

    /// Why a text already in memory (an open document, a file just read) is not analysed: over the size limit,
    /// generated or minified.
    pub fn skip_text(&self, language: Language, path: &Path, text: &str) -> Option<Skip> {
        let limits = &self.config.limits;
        if text.len() as u64 > limits.max_file_size {
            return Some(Skip::TooLarge {
                size: text.len() as u64,
                limit: limits.max_file_size,
            });
        }
        limits::classify(language, path, text, limits)
    }
}

#[cfg(unix)]
fn is_link_loop(err: &std::io::Error) -> bool {
    err.raw_os_error() == Some(libc::ELOOP)
}

#[cfg(not(unix))]
fn is_link_loop(_: &std::io::Error) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(toml: &str) -> Config {
        Config::parse(Path::new("distsys-review.toml"), toml, &[]).expect("a valid configuration")
    }

    #[test]
    fn excluded_directories_are_pruned_only_when_everything_below_is_excluded() {
        let config = config("exclude = [\"vendor/**\", \"**/node_modules\", \"gen/**/*.go\"]");
        let intake = Intake::new(&config, Path::new("/r"));
        assert_eq!(
            intake.skip_dir(Path::new("/r/vendor")),
            Some(SkipReason::Excluded)
        );
        assert_eq!(
            intake.skip_dir(Path::new("/r/web/node_modules")),
            Some(SkipReason::Excluded)
        );
        assert_eq!(intake.skip_dir(Path::new("/r/gen")), None);
        assert_eq!(intake.skip_dir(Path::new("/r/src")), None);
        assert!(intake.is_excluded(Path::new("/r/gen/x/a.go")));
        assert!(!intake.is_excluded(Path::new("/r/gen/x/a.rs")));
    }

    #[test]
    fn files_on_disk_are_skipped_with_a_typed_reason() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).expect("the test file is written");
            path
        };
        let mut config = config("[limits]\nmax-file-size = 100\n");
        let intake = Intake::new(&config, dir.path());
        let go = Language::Go;

        let fine = write("fine.go", b"package a\n");
        assert_eq!(intake.read(&fine, go).as_deref(), Ok("package a\n"));
        let big = write("big.go", &[b'a'; 101]);
        assert_eq!(
            intake.read(&big, go),
            Err(SkipReason::Limit(Skip::TooLarge {
                size: 101,
                limit: 100
            }))
        );
        let empty = write("empty.go", b"");
        assert_eq!(intake.read(&empty, go), Err(SkipReason::Empty));
        let binary = write("binary.go", b"package\0");
        assert_eq!(intake.read(&binary, go), Err(SkipReason::Binary(7)));
        let latin1 = write("latin1.go", b"package a\n// caf\xe9\n");
        assert_eq!(
            intake.read(&latin1, go),
            Err(SkipReason::InvalidUtf8 {
                offset: 16,
                line: 2
            })
        );
        let generated = write(
            "gen.go",
            b"// Code generated by x. DO NOT EDIT.\npackage a\n",
        );
        assert_eq!(
            intake.read(&generated, go).map_err(|r| r.code()),
            Err("generated")
        );
        let missing = dir.path().join("missing.go");
        assert_eq!(
            intake.read(&missing, go).map_err(|r| r.code()),
            Err("unreadable")
        );
        assert_eq!(
            intake.read(dir.path(), go),
            Err(SkipReason::Unreadable("is a directory".into()))
        );
        assert_eq!(
            Intake::language(Path::new("notes.txt")),
            Err(SkipReason::NotSource)
        );

        config.limits.skip_generated = false;
        let intake = Intake::new(&config, dir.path());
        assert!(intake.read(&generated, go).is_ok());
    }

    #[test]
    fn text_in_memory_is_checked_for_size_and_kind() {
        let config = config("[limits]\nmax-file-size = 25\n");
        let intake = Intake::new(&config, Path::new("/r"));
        let path = Path::new("/r/a.go");
        assert_eq!(intake.skip_text(Language::Go, path, "package a\n"), None);
        assert_eq!(
            intake
                .skip_text(Language::Go, path, "package a\nvar x = 1234567\n")
                .map(|s| s.code()),
            Some("too-large")
        );
        assert_eq!(
            intake
                .skip_text(Language::Go, path, "// @generated\npackage a\n")
                .map(|s| s.code()),
            Some("generated")
        );
    }

    #[test]
    fn vendored_directories_follow_the_setting() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let modules = dir.path().join("node_modules");
        std::fs::create_dir(&modules).expect("the directory is created");
        let mut config = Config::default();
        assert_eq!(
            Intake::new(&config, dir.path()).skip_dir(&modules),
            Some(SkipReason::Vendored)
        );
        config.limits.skip_vendored = false;
        assert_eq!(Intake::new(&config, dir.path()).skip_dir(&modules), None);
    }
}
