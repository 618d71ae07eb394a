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
use crate::kb::{Api, ApiKind, Effect};
use crate::limits::{self, Limits};
use crate::meta::RuleStatus;
use crate::role::CodeRole;

/// The databases `[sql]` names; defined with the SQL layer, which the knowledge base reads too.
pub use crate::sql::SqlDatabase;

pub const CONFIG_FILE_NAME: &str = "distsys-review.toml";

/// Longest glob pattern accepted in `exclude`: a guard against pathological patterns.
const MAX_GLOB_LEN: usize = 512;
/// Most `exclude` patterns accepted: the glob set's size and match time grow with them.
pub const MAX_EXCLUDES: usize = 1000;
/// The short form of an `[[effects]]` entry, rewritten to the knowledge base's: `call` for `path`,
/// `remote = "http"` for `kind = "http"` with `remote = true`, `timeout = true|false` for `timeout = "set"|"none"`.
fn short_effect_form(table: &mut toml::Table) -> Result<(), String> {
    if let Some(call) = table.remove("call") {
        if table.contains_key("path") {
            return Err(
                "[[effects]] entry with both `call` and `path`: they name the same thing".into(),
            );
        }
        table.insert("path".into(), call);
    }
    if let Some(toml::Value::String(kind)) = table.get("remote").cloned() {
        if table.contains_key("kind") {
            return Err(
                "[[effects]] entry with both `remote = \"…\"` and `kind`: write one".into(),
            );
        }
        table.insert("kind".into(), toml::Value::String(kind));
        table.insert("remote".into(), toml::Value::Boolean(true));
    }
    if let Some(toml::Value::Boolean(bounded)) = table.get("timeout").cloned() {
        let written = if bounded { "set" } else { "none" };
        table.insert("timeout".into(), toml::Value::String(written.into()));
    }
    Ok(())
}

/// Most `[[effects]]` entries accepted.
pub const MAX_EFFECTS: usize = 5000;
/// A configuration file larger than this is refused before it is read.
pub const MAX_CONFIG_BYTES: u64 = 1_000_000;
/// Bounds of `parse-timeout-ms`.
const PARSE_TIMEOUT_MS: std::ops::RangeInclusive<u64> = 10..=60_000;

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

/// The raw file, as written. Its doc comments are the descriptions of the JSON Schema editors complete and
/// validate `distsys-review.toml` with (`json_schema`, feature `schema`); docs/configuration.md has the full text.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(
        title = "distsys-review.toml",
        description = "Configuration of distsys-review: https://github.com/distsys-review/distsys-review/blob/main/docs/configuration.md"
    )
)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    /// Also run the selected preview rules (rules not yet judged on real code).
    #[serde(default)]
    preview: bool,
    /// Rules to run: codes (`RES001`), family prefixes (`RES`) or `ALL`. Default: every stable rule.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>"))]
    select: Vec<Spanned<String>>,
    /// Rules to skip: codes or family prefixes. The most specific selector wins.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>"))]
    ignore: Vec<Spanned<String>>,
    /// Per-rule severity: `RES001 = "critical"`.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(schema_with = "schema::severities"))]
    severity: BTreeMap<Spanned<String>, Spanned<String>>,
    /// Paths to skip, as globs relative to the folder of this file (no absolute paths, no `..`).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>", length(max = 1000)))]
    exclude: Vec<Spanned<String>>,
    /// The team's own wrappers, in the knowledge base's format (crates/dsr-core/kb/*.toml) plus `language`.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(schema_with = "schema::effects"))]
    effects: Vec<Spanned<toml::Table>>,
    /// The review's boundaries, printed at the top of the Markdown review.
    #[serde(default)]
    review: Review,
    /// How suppression comments are checked.
    #[serde(default)]
    suppressions: SuppressionSettings,
    /// What is not analysed: size, generated, minified and vendored files, slow parses.
    #[serde(default)]
    limits: RawLimits,
    /// Which database SQL migrations are written for (OPS001).
    #[serde(default)]
    sql: RawSql,
    /// Which code's findings are reported, by code role.
    #[serde(default)]
    scope: RawScope,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSql {
    /// The database of SQL files whose path and syntax do not say (else PostgreSQL).
    // `default` only so that the schema does not require it: an absent option is `None` anyway.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(schema_with = "schema::optional_dialect"))]
    dialect: Option<Spanned<String>>,
    /// Glob (relative to the configuration's folder) → dialect; the first pattern written that matches wins
    /// over every other evidence.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(schema_with = "schema::dialect_paths"))]
    paths: BTreeMap<Spanned<String>, Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawScope {
    /// Code roles whose findings are reported. Default: every role but `test` and `example`.
    // `default` only so that the schema does not require it: an absent option is `None` anyway.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(schema_with = "schema::roles"))]
    roles: Option<Vec<Spanned<String>>>,
}

/// Which code's findings a run reports, by [`CodeRole`]: `[scope] roles = [...]`. By default everything but tests
/// and examples.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    pub roles: Vec<CodeRole>,
}

impl Default for Scope {
    fn default() -> Self {
        Scope {
            roles: CodeRole::DEFAULT_SCOPE.to_vec(),
        }
    }
}

impl Scope {
    pub fn includes(&self, role: CodeRole) -> bool {
        self.roles.contains(&role)
    }
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLimits {
    /// Skip larger files: bytes, or a string with a unit ("2MB", "500k"). Default 2 MB.
    // `default` only so that the schema does not require it: an absent option is `None` anyway.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(schema_with = "schema::size"))]
    max_file_size: Option<Spanned<toml::Value>>,
    /// Skip files whose leading comments say they are generated. Default true.
    skip_generated: Option<bool>,
    /// Skip minified JavaScript/TypeScript. Default true.
    skip_minified: Option<bool>,
    /// Do not walk `node_modules/` nor a Go `vendor/`. Default true.
    skip_vendored: Option<bool>,
    /// Abandon a parse that takes longer, and skip the file. Default 2000.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<u64>", range(min = 10, max = 60000))
    )]
    parse_timeout_ms: Option<Spanned<i64>>,
}

/// The review's boundaries, printed at the top of the Markdown review.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Review {
    /// Paths in scope for the review (documentation only; what is scanned is what `check` is given).
    #[serde(default)]
    pub scope: Vec<String>,
    /// What must always hold ("an order is charged at most once").
    #[serde(default)]
    pub invariants: Vec<String>,
    /// Service-level objectives the code must meet ("POST /orders p99 < 800 ms").
    #[serde(default)]
    pub slos: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// Run the preview rules that are selected (ruff's `preview = true`); off, they never run.
    pub preview: bool,
    pub select: Vec<Selector>,
    pub ignore: Vec<Selector>,
    pub severity: BTreeMap<String, Severity>,
    exclude_patterns: Vec<String>,
    exclude: Option<GlobSet>,
    pub effects: Vec<Effect>,
    pub review: Review,
    pub suppressions: SuppressionSettings,
    pub limits: Limits,
    pub scope: Scope,
    pub sql: SqlSettings,
}

/// `[sql]`: which database migrations are written for, when neither their path nor their syntax says.
#[derive(Clone, Debug, Default)]
pub struct SqlSettings {
    /// `dialect = "mysql"`: the database of files with no evidence of their own (else PostgreSQL).
    pub dialect: Option<SqlDatabase>,
    /// `[sql.paths]` `"glob" = "dialect"`, in file order; a match beats every other evidence.
    paths: Vec<(String, SqlDatabase)>,
    path_globs: Option<GlobSet>,
}

impl SqlSettings {
    /// The dialect `[sql.paths]` gives a path relative to the configuration's folder: the first pattern that
    /// matches, in the order written.
    pub fn dialect_for_path(&self, relative: &Path) -> Option<SqlDatabase> {
        let globs = self.path_globs.as_ref()?;
        let first = globs.matches(relative).into_iter().min()?;
        self.paths.get(first).map(|(_, dialect)| *dialect)
    }
}

impl Config {
    /// Reads and validates a config file. `known_codes` are the registry's rule codes.
    pub fn load(path: &Path, known_codes: &[&str]) -> Result<Config, ConfigError> {
        let read_error = |source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        };
        let size = std::fs::metadata(path).map_err(read_error)?.len();
        if size > MAX_CONFIG_BYTES {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                line: 1,
                column: 1,
                message: format!(
                    "{} is larger than the {} a configuration may have",
                    limits::human_size(size),
                    limits::human_size(MAX_CONFIG_BYTES)
                ),
            });
        }
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

    /// Like [`Config::discover`], but only in `root` and the folders below it, and only a file that really is
    /// inside `root` (a symbolic link to a file elsewhere is not read): the language server reads nothing outside
    /// the workspace folders.
    pub fn discover_within(start: &Path, root: &Path) -> Option<PathBuf> {
        let real_root = root.canonicalize().ok()?;
        start
            .ancestors()
            .take_while(|dir| dir.starts_with(root))
            .map(|dir| dir.join(CONFIG_FILE_NAME))
            .find(|candidate| {
                candidate.is_file()
                    && candidate
                        .canonicalize()
                        .is_ok_and(|real| real.starts_with(&real_root))
            })
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
        if let Some(extra) = raw.exclude.get(MAX_EXCLUDES) {
            return Err(ConfigError::at(
                path,
                source,
                extra.span().start,
                format!("more than {MAX_EXCLUDES} exclude patterns"),
            ));
        }
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
            if let Some(problem) = escapes_root(text) {
                return Err(ConfigError::at(
                    path,
                    source,
                    pattern.span().start,
                    format!("exclude pattern `{text}` {problem}: patterns are relative to the folder of the configuration file"),
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
        if let Some(extra) = raw.effects.get(MAX_EFFECTS) {
            return Err(ConfigError::at(
                path,
                source,
                extra.span().start,
                format!("more than {MAX_EFFECTS} [[effects]] entries"),
            ));
        }
        let limits = parse_limits(path, source, raw.limits)?;
        let sql = parse_sql(path, source, raw.sql)?;
        let scope = match raw.scope.roles {
            None => Scope::default(),
            Some(names) => {
                let mut roles = Vec::new();
                for name in names {
                    let role = CodeRole::parse(name.get_ref()).ok_or_else(|| {
                        let known: Vec<&str> = CodeRole::ALL.iter().map(|r| r.as_str()).collect();
                        ConfigError::at(
                            path,
                            source,
                            name.span().start,
                            format!(
                                "unknown code role `{}` in [scope] roles: expected one of {}",
                                name.get_ref(),
                                known.join(", ")
                            ),
                        )
                    })?;
                    if !roles.contains(&role) {
                        roles.push(role);
                    }
                }
                Scope { roles }
            }
        };
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
            short_effect_form(&mut table)
                .map_err(|message| ConfigError::at(path, source, span.start, message))?;
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
            preview: raw.preview,
            select,
            ignore,
            severity,
            exclude_patterns,
            exclude: Some(exclude),
            effects,
            review: raw.review,
            suppressions: raw.suppressions,
            limits,
            sql,
            scope,
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

    /// Whether a rule of this status runs: [`Config::is_enabled`], and for a preview rule `preview = true`, for a
    /// deprecated one a selector naming its full code.
    pub fn runs(&self, code: &str, status: RuleStatus) -> bool {
        match status {
            RuleStatus::Stable => self.is_enabled(code),
            RuleStatus::Preview => self.preview && self.is_enabled(code),
            RuleStatus::Deprecated => {
                self.is_enabled(code) && self.select.iter().any(|s| s.0 == code)
            }
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

/// The JSON Schema (draft-07) of `distsys-review.toml`, generated from the types the file is read into, for
/// editors (taplo / Even Better TOML, the VS Code extension). Values the types hold as plain strings (severities,
/// roles, dialects, effect kinds) are listed from the same tables their parsers use.
#[cfg(feature = "schema")]
pub fn json_schema() -> schemars::Schema {
    schemars::generate::SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<RawConfig>()
}

/// The parts of the schema the derive cannot see: values read from strings by the parsers below.
#[cfg(feature = "schema")]
mod schema {
    use schemars::{json_schema, Schema, SchemaGenerator};

    use crate::finding::Severity;
    use crate::role::CodeRole;

    /// Every name `SqlDatabase::parse` accepts.
    pub const DIALECT_NAMES: [&str; 9] = [
        "postgres",
        "postgresql",
        "pg",
        "mysql",
        "mariadb",
        "sqlite",
        "sqlite3",
        "clickhouse",
        "other",
    ];

    /// Every kind of remote system a knowledge-base entry names (`crate::kb::ApiKind`, kebab-case).
    pub const EFFECT_KINDS: [&str; 8] = [
        "http",
        "rpc",
        "db",
        "cache",
        "queue",
        "object-store",
        "lock",
        "local",
    ];

    fn dialect() -> Schema {
        json_schema!({ "type": "string", "enum": DIALECT_NAMES })
    }

    pub fn optional_dialect(_: &mut SchemaGenerator) -> Schema {
        dialect()
    }

    pub fn dialect_paths(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "object", "additionalProperties": dialect() })
    }

    pub fn severities(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
        json_schema!({
            "type": "object",
            "propertyNames": { "pattern": "^[A-Za-z]{3}[0-9]{3}$" },
            "additionalProperties": { "type": "string", "enum": names },
        })
    }

    pub fn roles(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = CodeRole::ALL.iter().map(|r| r.as_str()).collect();
        json_schema!({ "type": "array", "items": { "type": "string", "enum": names } })
    }

    pub fn size(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                { "type": "integer", "minimum": 1 },
                { "type": "string", "pattern": "^\\s*[0-9]+\\s*([kKmMgG][bB]?|[bB])?\\s*$" },
            ],
        })
    }

    pub fn effects(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "array",
            "maxItems": crate::config::MAX_EFFECTS,
            "items": {
                "type": "object",
                "required": ["language"],
                "allOf": [
                    // `call` is the short form's `path`; `remote = "http"` its `kind = "http"`.
                    { "oneOf": [{ "required": ["path"] }, { "required": ["call"] }] },
                    { "anyOf": [
                        { "required": ["kind"] },
                        { "required": ["remote"], "properties": { "remote": { "type": "string" } } },
                    ] },
                ],
                "properties": {
                    "language": {
                        "type": "string",
                        "enum": ["go", "rust", "typescript", "javascript", "ts", "js"],
                    },
                    "path": {
                        "type": "string",
                        "minLength": 1,
                        "description": "The API's canonical path (`example.com/platform/httpx.New`), or with `module` a method name",
                    },
                    "call": {
                        "type": "string",
                        "minLength": 1,
                        "description": "The short form of `path`: the end of the function's or method's qualified name (`billing.Client.Charge`)",
                    },
                    "kind": { "type": "string", "enum": EFFECT_KINDS },
                    "module": { "type": "string", "description": "For a method name: the module whose import makes it count" },
                    "remote": {
                        "oneOf": [
                            { "type": "boolean" },
                            { "type": "string", "enum": EFFECT_KINDS },
                        ],
                        "description": "Does network I/O; a kind (`\"http\"`) is the short form of `kind` with `remote = true`",
                    },
                    "mutation": { "type": "boolean", "description": "Changes state on the remote side" },
                    "idempotent": { "type": "boolean", "description": "Whether repeating the call has the effect of making it once" },
                    "timeout": {
                        "oneOf": [{ "type": "string" }, { "type": "boolean" }],
                        "description": "none, set, connect, client, or a library default in words (\"30 s\"); `true`/`false` for set/none",
                    },
                    "note": { "type": "string" },
                },
                "additionalProperties": true,
            },
        })
    }
}

/// Why an exclude pattern points outside the root, if it does: an absolute path or a `..` segment. Such a
/// pattern could never match a path relative to the root, so it is a mistake, and it must not become a way to
/// name files elsewhere.
fn escapes_root(pattern: &str) -> Option<&'static str> {
    if pattern.starts_with('/')
        || pattern.starts_with('\\')
        || pattern.get(1..3) == Some(":\\")
        || pattern.get(1..3) == Some(":/")
    {
        return Some("is an absolute path");
    }
    pattern
        .split(['/', '\\'])
        .any(|segment| segment == "..")
        .then_some("goes up with `..`")
}

fn parse_sql(path: &Path, source: &str, raw: RawSql) -> Result<SqlSettings, ConfigError> {
    let dialect = |name: &Spanned<String>| {
        SqlDatabase::parse(name.get_ref()).ok_or_else(|| {
            ConfigError::at(
                path,
                source,
                name.span().start,
                format!(
                    "unknown SQL dialect `{}`: expected postgres, mysql, sqlite, clickhouse or other",
                    name.get_ref()
                ),
            )
        })
    };
    let mut settings = SqlSettings {
        dialect: raw.dialect.as_ref().map(dialect).transpose()?,
        ..SqlSettings::default()
    };
    // TOML tables do not keep their order through serde's map; sort by position in the file so that the first
    // pattern written wins.
    let mut entries: Vec<_> = raw.paths.into_iter().collect();
    entries.sort_by_key(|(pattern, _)| pattern.span().start);
    let mut builder = GlobSetBuilder::new();
    for (pattern, name) in &entries {
        let text = pattern.get_ref();
        let at = pattern.span().start;
        if text.len() > MAX_GLOB_LEN {
            return Err(ConfigError::at(
                path,
                source,
                at,
                format!("[sql.paths] pattern longer than {MAX_GLOB_LEN} characters"),
            ));
        }
        if let Some(problem) = escapes_root(text) {
            return Err(ConfigError::at(
                path,
                source,
                at,
                format!("[sql.paths] pattern `{text}` {problem}: patterns are relative to the folder of the configuration file"),
            ));
        }
        let glob = Glob::new(text).map_err(|err| {
            ConfigError::at(
                path,
                source,
                at,
                format!("invalid [sql.paths] pattern: {err}"),
            )
        })?;
        builder.add(glob);
        settings.paths.push((text.clone(), dialect(name)?));
    }
    if !settings.paths.is_empty() {
        settings.path_globs = Some(builder.build().map_err(|err| {
            ConfigError::at(
                path,
                source,
                0,
                format!("invalid [sql.paths] patterns: {err}"),
            )
        })?);
    }
    Ok(settings)
}

fn parse_limits(path: &Path, source: &str, raw: RawLimits) -> Result<Limits, ConfigError> {
    let mut limits = Limits::default();
    if let Some(size) = raw.max_file_size {
        let at = size.span().start;
        let bytes = match size.get_ref() {
            toml::Value::Integer(n) => u64::try_from(*n).map_err(|_| "a negative size".to_string()),
            toml::Value::String(text) => limits::parse_size(text),
            other => Err(format!(
                "expected bytes or a size such as \"2MB\", got {}",
                other.type_str()
            )),
        };
        match bytes {
            Ok(0) => {
                return Err(ConfigError::at(
                    path,
                    source,
                    at,
                    "`max-file-size` must be more than 0",
                ))
            }
            Ok(bytes) => limits.max_file_size = bytes,
            Err(message) => {
                return Err(ConfigError::at(
                    path,
                    source,
                    at,
                    format!("invalid `max-file-size`: {message}"),
                ))
            }
        }
    }
    if let Some(ms) = raw.parse_timeout_ms {
        match u64::try_from(*ms.get_ref()) {
            Ok(ms) if PARSE_TIMEOUT_MS.contains(&ms) => {
                limits.parse_timeout = std::time::Duration::from_millis(ms);
            }
            _ => {
                return Err(ConfigError::at(
                    path,
                    source,
                    ms.span().start,
                    format!(
                        "`parse-timeout-ms` must be between {} and {}",
                        PARSE_TIMEOUT_MS.start(),
                        PARSE_TIMEOUT_MS.end()
                    ),
                ))
            }
        }
    }
    limits.skip_generated = raw.skip_generated.unwrap_or(limits.skip_generated);
    limits.skip_minified = raw.skip_minified.unwrap_or(limits.skip_minified);
    limits.skip_vendored = raw.skip_vendored.unwrap_or(limits.skip_vendored);
    Ok(limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODES: &[&str] = &["RES001", "RES002", "OBS001", "LCK001"];

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("distsys-review.toml"), text, CODES)
    }

    /// The schema lists names from tables of its own: each must still be accepted by the parser it stands for.
    #[cfg(feature = "schema")]
    #[test]
    fn schema_names_are_the_parsers_names() {
        for name in schema::DIALECT_NAMES {
            assert!(SqlDatabase::parse(name).is_some(), "{name}");
        }
        for kind in schema::EFFECT_KINDS {
            let parsed: Result<ApiKind, _> = ApiKind::deserialize(toml::Value::String(kind.into()));
            assert!(parsed.is_ok(), "{kind}");
        }
    }

    #[test]
    fn sql_dialects_by_default_and_by_path() {
        let config = parse(
            "[sql]\ndialect = \"mysql\"\n[sql.paths]\n\"db/lite/**\" = \"sqlite\"\n\"db/**\" = \"postgres\"\n",
        )
        .unwrap();
        assert_eq!(config.sql.dialect, Some(SqlDatabase::MySql));
        let at = |p: &str| config.sql.dialect_for_path(Path::new(p));
        assert_eq!(at("db/lite/001.sql"), Some(SqlDatabase::Sqlite));
        assert_eq!(at("db/001.sql"), Some(SqlDatabase::PostgreSql));
        assert_eq!(at("other/001.sql"), None);
        let err = parse("[sql]\ndialect = \"oracle\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown SQL dialect `oracle`"), "{err}");
        let err = parse("[sql.paths]\n\"../x/**\" = \"mysql\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("goes up"), "{err}");
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
    fn preview_rules_need_preview_and_deprecated_ones_their_full_code() {
        let config = parse("select = [\"RES\"]\n").unwrap();
        assert!(config.runs("RES001", RuleStatus::Stable));
        assert!(!config.runs("RES001", RuleStatus::Preview));
        assert!(!config.runs("RES001", RuleStatus::Deprecated));
        let config = parse("preview = true\nselect = [\"RES\", \"RES002\"]\n").unwrap();
        assert!(config.runs("RES001", RuleStatus::Preview));
        assert!(
            !config.runs("OBS001", RuleStatus::Preview),
            "still selected first"
        );
        assert!(!config.runs("RES001", RuleStatus::Deprecated));
        assert!(config.runs("RES002", RuleStatus::Deprecated));
        let config = parse("select = [\"RES002\"]\nignore = [\"RES002\"]\n").unwrap();
        assert!(!config.runs("RES002", RuleStatus::Deprecated));
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
        assert_eq!(
            config.effects[0].api.timeout,
            Some(crate::kb::ApiTimeout::Set)
        );
        let err = parse("[[effects]]\nlanguage = \"cobol\"\npath = \"x\"\nkind = \"http\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown language `cobol`"), "{err}");
    }

    #[test]
    fn effects_have_a_short_form() {
        let config = parse(
            "[[effects]]\nlanguage = \"go\"\ncall = \"billing.Client.Charge\"\nremote = \"http\"\nidempotent = false\ntimeout = true\n",
        )
        .unwrap();
        let api = &config.effects[0].api;
        assert_eq!(api.path, "billing.Client.Charge");
        assert_eq!((api.kind, api.remote), (ApiKind::Http, true));
        assert_eq!(api.idempotent, Some(false));
        assert_eq!(api.timeout, Some(crate::kb::ApiTimeout::Set));
        let err = parse(
            "[[effects]]\nlanguage = \"go\"\ncall = \"a.B\"\npath = \"a.B\"\nremote = \"http\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("both `call` and `path`"), "{err}");
    }

    #[test]
    fn excludes_cannot_point_outside_the_root() {
        for (pattern, problem) in [
            ("../secrets/**", "goes up with `..`"),
            ("src/../../x", "goes up with `..`"),
            ("/etc/**", "is an absolute path"),
            ("C:/Users/**", "is an absolute path"),
        ] {
            let err = parse(&format!("select = [\"RES\"]\nexclude = [\"{pattern}\"]\n"))
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("distsys-review.toml:2:12: exclude pattern")
                    && err.contains(problem),
                "{pattern}: {err}"
            );
        }
        // `..` inside a name is not a parent reference.
        assert!(parse("exclude = [\"a..b/**\"]").is_ok());
    }

    #[test]
    fn counts_and_sizes_are_bounded() {
        let many: Vec<String> = (0..=MAX_EXCLUDES).map(|i| format!("\"d{i}/**\"")).collect();
        let err = parse(&format!("exclude = [{}]", many.join(", ")))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("more than {MAX_EXCLUDES} exclude patterns")),
            "{err}"
        );
        let long = format!("exclude = [\"{}\"]", "a".repeat(MAX_GLOB_LEN + 1));
        assert!(parse(&long)
            .unwrap_err()
            .to_string()
            .contains("longer than"));
        let dir = std::env::temp_dir().join(format!("dsr-config-size-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(CONFIG_FILE_NAME);
        std::fs::write(
            &file,
            "#".repeat(usize::try_from(MAX_CONFIG_BYTES).unwrap() + 1),
        )
        .unwrap();
        let err = Config::load(&file, CODES).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(err.contains("larger than"), "{err}");
    }

    #[test]
    fn limits_table() {
        let config = parse(
            "[limits]\nmax-file-size = \"500k\"\nskip-generated = false\nparse-timeout-ms = 250\n",
        )
        .unwrap();
        assert_eq!(config.limits.max_file_size, 500_000);
        assert!(!config.limits.skip_generated);
        assert!(config.limits.skip_minified);
        assert_eq!(
            config.limits.parse_timeout,
            std::time::Duration::from_millis(250)
        );
        assert_eq!(
            parse("[limits]\nmax-file-size = 1234\n")
                .unwrap()
                .limits
                .max_file_size,
            1234
        );
        assert_eq!(
            Config::default().limits.max_file_size,
            crate::limits::DEFAULT_MAX_FILE_SIZE
        );
        let err = parse("[limits]\nmax-file-size = \"2X\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("distsys-review.toml:2:17: invalid `max-file-size`"),
            "{err}"
        );
        let err = parse("[limits]\nparse-timeout-ms = 0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("between 10 and 60000"), "{err}");
        let err = parse("[limits]\nmax-size = 1\n").unwrap_err().to_string();
        assert!(err.contains(":2:1: unknown field `max-size`"), "{err}");
    }

    #[test]
    fn discovery_within_a_root_stops_at_the_root_and_at_links_out_of_it() {
        let base = std::env::temp_dir().join(format!("dsr-discover-{}", std::process::id()));
        let root = base.join("ws");
        let outside = base.join("elsewhere");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(base.join(CONFIG_FILE_NAME), "").unwrap();
        assert_eq!(Config::discover_within(&root.join("a/b"), &root), None);
        assert!(
            Config::discover(&root.join("a/b")).is_some(),
            "the CLI still looks up"
        );
        std::fs::write(outside.join(CONFIG_FILE_NAME), "").unwrap();
        std::os::unix::fs::symlink(
            outside.join(CONFIG_FILE_NAME),
            root.join("a").join(CONFIG_FILE_NAME),
        )
        .unwrap();
        assert_eq!(Config::discover_within(&root.join("a/b"), &root), None);
        std::fs::write(root.join(CONFIG_FILE_NAME), "").unwrap();
        assert_eq!(
            Config::discover_within(&root.join("a/b"), &root),
            Some(root.join(CONFIG_FILE_NAME))
        );
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn scope_defaults_to_everything_but_tests_and_examples() {
        let config = parse("").unwrap();
        assert!(config.scope.includes(CodeRole::Production));
        assert!(config.scope.includes(CodeRole::Tool));
        assert!(!config.scope.includes(CodeRole::Test));
        assert!(!config.scope.includes(CodeRole::Example));
        let config = parse("[scope]\nroles = [\"production\", \"test\", \"test\"]\n").unwrap();
        assert_eq!(config.scope.roles, [CodeRole::Production, CodeRole::Test]);
        let err = parse("[scope]\nroles = [\"tests\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("distsys-review.toml:2:10: unknown code role `tests` in [scope] roles"),
            "{err}"
        );
    }
}
