//! `distsys-review.toml`: rule selection, per-rule severity, excluded paths, the team's own wrappers
//! (`[[effects]]`) and the review's boundaries. Unknown keys and bad values are errors naming file, line and key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dsr_syntax::Language;
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use thiserror::Error;
use toml::Spanned;

use crate::finding::Severity;
use crate::kb::{Api, ApiKind};

pub const CONFIG_FILE_NAME: &str = "distsys-review.toml";

/// Longest glob pattern accepted in `exclude`: a guard against pathological patterns.
const MAX_GLOB_LEN: usize = 512;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

impl ConfigError {
    fn at(path: &Path, source: &str, offset: usize, message: impl Into<String>) -> Self {
        let offset = offset.min(source.len());
        let before = &source[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ConfigError::Invalid {
            path: path.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }
}

/// The raw file, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    #[serde(default)]
    select: Vec<Spanned<String>>,
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    effects: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    review: Review,
    #[serde(default)]
    suppressions: SuppressionSettings,
}

/// The review's boundaries, printed at the top of the Markdown review.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Review {
    /// Paths in scope for the review (documentation only; what is scanned is what `check` is given).
    #[serde(default)]
    pub scope: Vec<String>,
    #[serde(default)]
    pub invariants: Vec<String>,
    #[serde(default)]
    pub slos: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SuppressionSettings {
    /// Report suppressions that give no reason.
    #[serde(default = "yes")]
    pub require_reason: bool,
}

impl Default for SuppressionSettings {
    fn default() -> Self {
        Self {
            require_reason: true,
        }
    }
}

fn yes() -> bool {
    true
}

/// A user-declared API: "our `httpx.New` sets timeouts", "`billing.Charge` is a remote non-idempotent call".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effect {
    pub language: Language,
    pub api: Api,
}

/// A rule selector: a full code (`RES001`), a family prefix (`RES`) or `ALL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector(String);

impl Selector {
    pub fn parse(text: &str, known_codes: &[&str]) -> Result<Selector, String> {
        let upper = text.trim().to_ascii_uppercase();
        if upper == "ALL"
            || known_codes
                .iter()
                .any(|code| code.starts_with(upper.as_str()))
                && !upper.is_empty()
        {
            Ok(Selector(upper))
        } else {
            Err(format!(
                "unknown rule or family `{text}` (see `distsys-review rules`)"
            ))
        }
    }

    pub fn matches(&self, code: &str) -> bool {
        self.0 == "ALL" || code.starts_with(&self.0)
    }

    /// How specific the selector is: a full code beats a family, a family beats `ALL` (ruff's precedence).
    fn specificity(&self) -> usize {
        if self.0 == "ALL" {
            0
        } else {
            self.0.len()
        }
    }
}

/// A validated configuration.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
    pub select: Vec<Selector>,
    pub ignore: Vec<Selector>,
    pub severity: BTreeMap<String, Severity>,
    exclude_patterns: Vec<String>,
    exclude: Option<GlobSet>,
    pub effects: Vec<Effect>,
    pub review: Review,
    pub suppressions: SuppressionSettings,
}

impl Config {
    /// Reads and validates a config file. `known_codes` are the registry's rule codes.
    pub fn load(path: &Path, known_codes: &[&str]) -> Result<Config, ConfigError> {
        let source = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &source, known_codes)
    }

    /// Looks for `distsys-review.toml` in `start` and its ancestors.
    pub fn discover(start: &Path) -> Option<PathBuf> {
        start
            .ancestors()
            .map(|dir| dir.join(CONFIG_FILE_NAME))
            .find(|candidate| candidate.is_file())
    }

    pub fn parse(path: &Path, source: &str, known_codes: &[&str]) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(source).map_err(|err| {
            let offset = err.span().map_or(0, |span| span.start);
            ConfigError::at(path, source, offset, err.message().trim().to_string())
        })?;
        let selectors = |items: Vec<Spanned<String>>| -> Result<Vec<Selector>, ConfigError> {
            items
                .into_iter()
                .map(|item| {
                    Selector::parse(item.get_ref(), known_codes).map_err(|message| {
                        ConfigError::at(path, source, item.span().start, message)
                    })
                })
                .collect()
        };
        let select = selectors(raw.select)?;
        let ignore = selectors(raw.ignore)?;
        let mut severity = BTreeMap::new();
        for (code, level) in raw.severity {
            let upper = code.get_ref().to_ascii_uppercase();
            if !known_codes.contains(&upper.as_str()) {
                return Err(ConfigError::at(
                    path,
                    source,
                    code.span().start,
                    format!("unknown rule `{}` in [severity]", code.get_ref()),
                ));
            }
            let Some(level_value) = Severity::parse(level.get_ref()) else {
                return Err(ConfigError::at(
                    path,
                    source,
                    level.span().start,
                    format!(
                        "invalid severity `{}` for {upper}: expected critical, high, medium or low",
                        level.get_ref()
                    ),
                ));
            };
            severity.insert(upper, level_value);
        }
        let mut builder = GlobSetBuilder::new();
        let mut exclude_patterns = Vec::new();
        for pattern in &raw.exclude {
            let text = pattern.get_ref();
            if text.len() > MAX_GLOB_LEN {
                return Err(ConfigError::at(
                    path,
                    source,
                    pattern.span().start,
                    format!("exclude pattern longer than {MAX_GLOB_LEN} characters"),
                ));
            }
            let glob = Glob::new(text).map_err(|err| {
                ConfigError::at(
                    path,
                    source,
                    pattern.span().start,
                    format!("invalid exclude pattern: {err}"),
                )
            })?;
            builder.add(glob);
            exclude_patterns.push(text.clone());
        }
        let exclude = builder.build().map_err(|err| {
            ConfigError::at(path, source, 0, format!("invalid exclude patterns: {err}"))
        })?;
        let mut effects = Vec::new();
        for effect in raw.effects {
            let span = effect.span();
            let mut table = effect.into_inner();
            // `language` is ours; the rest is a knowledge-base entry, validated by its own (strict) schema.
            let language =
                match table.remove("language") {
                    Some(toml::Value::String(language)) => language,
                    _ => return Err(ConfigError::at(
                        path,
                        source,
                        span.start,
                        "[[effects]] entry needs `language = \"go\" | \"rust\" | \"typescript\"`",
                    )),
                };
            let api = Api::deserialize(toml::Value::Table(table)).map_err(|err| {
                ConfigError::at(
                    path,
                    source,
                    span.start,
                    format!("invalid [[effects]] entry: {}", err.message().trim()),
                )
            })?;
            let language = match language.to_ascii_lowercase().as_str() {
                "go" => Language::Go,
                "rust" => Language::Rust,
                "typescript" | "javascript" | "ts" | "js" => Language::TypeScript,
                other => return Err(ConfigError::at(path, source, span.start, format!("unknown language `{other}` in [[effects]]: expected go, rust or typescript"))),
            };
            if api.path.trim().is_empty() {
                return Err(ConfigError::at(
                    path,
                    source,
                    span.start,
                    "[[effects]] entry with an empty `path`",
                ));
            }
            if api.kind == ApiKind::Local && api.remote {
                return Err(ConfigError::at(
                    path,
                    source,
                    span.start,
                    "[[effects]] entry is both `kind = \"local\"` and `remote = true`",
                ));
            }
            effects.push(Effect { language, api });
        }
        Ok(Config {
            path: Some(path.to_path_buf()),
            select,
            ignore,
            severity,
            exclude_patterns,
            exclude: Some(exclude),
            effects,
            review: raw.review,
            suppressions: raw.suppressions,
        })
    }

    /// Whether a rule is enabled: the most specific matching selector decides; with no `select`, all rules are.
    pub fn is_enabled(&self, code: &str) -> bool {
        let best = |selectors: &[Selector]| {
            selectors
                .iter()
                .filter(|s| s.matches(code))
                .map(Selector::specificity)
                .max()
        };
        let selected = if self.select.is_empty() {
            Some(0)
        } else {
            best(&self.select)
        };
        match (selected, best(&self.ignore)) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(select), Some(ignore)) => select > ignore,
        }
    }

    /// Adds command-line selectors on top of the file's (they take precedence by coming later and being explicit).
    pub fn override_selection(&mut self, select: Vec<Selector>, ignore: Vec<Selector>) {
        if !select.is_empty() {
            self.select = select;
        }
        self.ignore.extend(ignore);
    }

    pub fn severity_for(&self, code: &str) -> Option<Severity> {
        self.severity.get(code).copied()
    }

    /// Whether a path (relative to the scanned root) is excluded.
    pub fn is_excluded(&self, relative: &Path) -> bool {
        self.exclude
            .as_ref()
            .is_some_and(|set| set.is_match(relative))
    }

    pub fn exclude_patterns(&self) -> &[String] {
        &self.exclude_patterns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODES: &[&str] = &["RES001", "RES002", "OBS001", "LCK001"];

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("distsys-review.toml"), text, CODES)
    }

    #[test]
    fn selection_follows_the_most_specific_selector() {
        let config = parse("select = [\"RES\", \"OBS001\"]\nignore = [\"RES002\"]\n").unwrap();
        assert!(config.is_enabled("RES001"));
        assert!(!config.is_enabled("RES002"));
        assert!(config.is_enabled("OBS001"));
        assert!(!config.is_enabled("LCK001"));
        let config = parse("ignore = [\"RES\"]\nselect = [\"RES001\"]").unwrap();
        assert!(config.is_enabled("RES001"));
        assert!(!config.is_enabled("RES002"));
    }

    #[test]
    fn errors_name_line_and_key() {
        let err = parse("select = [\"RES001\"]\n\n[severity]\nRES001 = \"urgent\"\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "distsys-review.toml:4:10: invalid severity `urgent` for RES001: expected critical, high, medium or low"
        );
        let err = parse("selct = []\n").unwrap_err().to_string();
        assert!(
            err.starts_with("distsys-review.toml:1:1: unknown field `selct`"),
            "{err}"
        );
        let err = parse("ignore = [\"XYZ9\"]").unwrap_err().to_string();
        assert!(
            err.contains(":1:11: unknown rule or family `XYZ9`"),
            "{err}"
        );
        let err = parse("exclude = [\"a/[\"]").unwrap_err().to_string();
        assert!(err.contains(":1:12: invalid exclude pattern"), "{err}");
    }

    #[test]
    fn effects_and_excludes() {
        let config = parse(
            "exclude = [\"vendor/**\"]\n[[effects]]\nlanguage = \"go\"\npath = \"example.com/httpx.New\"\nkind = \"http\"\ntimeout = \"set\"\n",
        )
        .unwrap();
        assert!(config.is_excluded(Path::new("vendor/a/b.go")));
        assert!(!config.is_excluded(Path::new("src/b.go")));
        assert_eq!(config.effects[0].api.timeout.as_deref(), Some("set"));
        let err = parse("[[effects]]\nlanguage = \"cobol\"\npath = \"x\"\nkind = \"http\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown language `cobol`"), "{err}");
    }
}
