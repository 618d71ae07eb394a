//! Client settings: what the editor sends in `initializationOptions` and `workspace/didChangeConfiguration` (or
//! answers to `workspace/configuration`). Parsing is lenient per field: a bad value is reported and that field keeps
//! its default, so one typo does not throw away the rest of the user's settings.

use serde_json::Value;
use tower_lsp_server::ls_types::DiagnosticSeverity;

/// The configuration section clients send settings under (`"distsys-review": { … }`).
pub const SECTION: &str = "distsys-review";

/// Where the repository's rule pages live; `{code}` is replaced by the rule code.
pub const DEFAULT_DOCS_URL: &str = concat!(
    env!("CARGO_PKG_REPOSITORY"),
    "/blob/main/docs/rules/{code}.md"
);

/// Which files get diagnostics.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Scope {
    /// Only documents open in the editor.
    #[default]
    OpenFiles,
    /// Every file of the workspace folders, open or not.
    Workspace,
}

/// How finding severities become diagnostic severities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeverityMap {
    pub critical: DiagnosticSeverity,
    pub high: DiagnosticSeverity,
    pub medium: DiagnosticSeverity,
    pub low: DiagnosticSeverity,
    pub open_question: DiagnosticSeverity,
}

impl Default for SeverityMap {
    fn default() -> Self {
        Self {
            critical: DiagnosticSeverity::ERROR,
            high: DiagnosticSeverity::WARNING,
            medium: DiagnosticSeverity::WARNING,
            low: DiagnosticSeverity::INFORMATION,
            open_question: DiagnosticSeverity::HINT,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Rule selectors layered over the config file's, like `check --select/--ignore`.
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub severity: SeverityMap,
    /// A URL template for rule pages; `{code}` is replaced, otherwise `/<CODE>.md` is appended.
    pub docs_url: String,
    pub scope: Scope,
    /// Override `[limits]` of the configuration file when set.
    pub max_file_size: Option<u64>,
    pub skip_generated: Option<bool>,
    pub skip_minified: Option<bool>,
    /// Build the workspace index (on by default): diagnostics see through calls into other files. Read when
    /// the session starts.
    pub index: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            select: Vec::new(),
            ignore: Vec::new(),
            severity: SeverityMap::default(),
            docs_url: DEFAULT_DOCS_URL.to_string(),
            scope: Scope::default(),
            max_file_size: None,
            skip_generated: None,
            skip_minified: None,
            index: true,
        }
    }
}

impl Settings {
    /// Parses settings, returning them with one message per problem. Accepts the section object itself or an
    /// object holding it under [`SECTION`]; `null` means defaults.
    pub fn from_json(value: &Value) -> (Settings, Vec<String>) {
        let mut settings = Settings::default();
        let mut problems = Vec::new();
        let value = value.get(SECTION).unwrap_or(value);
        let Some(object) = value.as_object() else {
            if !value.is_null() {
                problems.push(format!("settings must be an object, got `{value}`"));
            }
            return (settings, problems);
        };
        for (key, value) in object {
            match key.as_str() {
                "select" => settings.select = string_list(key, value, &mut problems),
                "ignore" => settings.ignore = string_list(key, value, &mut problems),
                "severity" => settings.severity = severity_map(value, &mut problems),
                "docsUrl" | "docsBaseUrl" => match value.as_str() {
                    Some(url)
                        if url.starts_with("http://")
                            || url.starts_with("https://")
                            || url.starts_with("file:") =>
                    {
                        settings.docs_url = url.to_string();
                    }
                    _ => problems.push(format!(
                        "`{key}` must be an http(s) or file URL, got `{value}`"
                    )),
                },
                "diagnostics" => {
                    let scope = value.get("scope").unwrap_or(&Value::Null);
                    match scope.as_str() {
                        Some("openFiles" | "open-files" | "open") => settings.scope = Scope::OpenFiles,
                        Some("workspace") => settings.scope = Scope::Workspace,
                        None if scope.is_null() => {}
                        _ => problems.push(format!(
                            "`diagnostics.scope` must be \"openFiles\" or \"workspace\", got `{scope}`"
                        )),
                    }
                }
                "maxFileSize" => match value {
                    Value::Null => settings.max_file_size = None,
                    Value::Number(n) => match n.as_u64() {
                        Some(bytes) if bytes > 0 => settings.max_file_size = Some(bytes),
                        _ => problems.push(format!(
                            "`maxFileSize` must be a positive number of bytes, got `{n}`"
                        )),
                    },
                    Value::String(text) => match dsr_core::limits::parse_size(text) {
                        Ok(bytes) if bytes > 0 => settings.max_file_size = Some(bytes),
                        Ok(_) => problems.push("`maxFileSize` must be more than 0".into()),
                        Err(message) => problems.push(format!("`maxFileSize`: {message}")),
                    },
                    other => problems.push(format!(
                        "`maxFileSize` must be bytes or a size such as \"2MB\", got `{other}`"
                    )),
                },
                "skipGenerated" | "skipMinified" => match value {
                    Value::Bool(flag) => {
                        if key == "skipGenerated" {
                            settings.skip_generated = Some(*flag);
                        } else {
                            settings.skip_minified = Some(*flag);
                        }
                    }
                    Value::Null => {}
                    other => problems.push(format!("`{key}` must be true or false, got `{other}`")),
                },
                "index" => match value {
                    Value::Bool(flag) => settings.index = *flag,
                    Value::Null => {}
                    other => problems.push(format!("`index` must be true or false, got `{other}`")),
                },
                // Accepted for clients that send a trace level through the same section.
                "trace" => {}
                other => problems.push(format!("unknown setting `{other}`")),
            }
        }
        (settings, problems)
    }

    /// The page of a rule.
    pub fn docs_href(&self, code: &str) -> String {
        if self.docs_url.contains("{code}") {
            self.docs_url.replace("{code}", code)
        } else {
            format!("{}/{code}.md", self.docs_url.trim_end_matches('/'))
        }
    }
}

fn string_list(key: &str, value: &Value, problems: &mut Vec<String>) -> Vec<String> {
    match value.as_array() {
        Some(items) => items
            .iter()
            .filter_map(|item| match item.as_str() {
                Some(text) => Some(text.to_string()),
                None => {
                    problems.push(format!("`{key}` entries must be strings, got `{item}`"));
                    None
                }
            })
            .collect(),
        None => {
            problems.push(format!("`{key}` must be a list of rule codes or families"));
            Vec::new()
        }
    }
}

fn severity_map(value: &Value, problems: &mut Vec<String>) -> SeverityMap {
    let mut map = SeverityMap::default();
    let Some(object) = value.as_object() else {
        problems.push("`severity` must be an object such as { \"high\": \"error\" }".into());
        return map;
    };
    for (key, level) in object {
        let Some(parsed) = level.as_str().and_then(parse_level) else {
            problems.push(format!(
                "`severity.{key}` must be \"error\", \"warning\", \"information\" or \"hint\", got `{level}`"
            ));
            continue;
        };
        match key.as_str() {
            "critical" => map.critical = parsed,
            "high" => map.high = parsed,
            "medium" => map.medium = parsed,
            "low" => map.low = parsed,
            "openQuestion" | "open-question" => map.open_question = parsed,
            other => problems.push(format!(
                "unknown key `severity.{other}`: expected critical, high, medium, low or openQuestion"
            )),
        }
    }
    map
}

fn parse_level(level: &str) -> Option<DiagnosticSeverity> {
    Some(match level.to_ascii_lowercase().as_str() {
        "error" => DiagnosticSeverity::ERROR,
        "warning" | "warn" => DiagnosticSeverity::WARNING,
        "information" | "info" => DiagnosticSeverity::INFORMATION,
        "hint" => DiagnosticSeverity::HINT,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_every_field_and_reports_bad_ones() {
        let (settings, problems) = Settings::from_json(&json!({
            "distsys-review": {
                "select": ["RES", "BKP001"],
                "ignore": ["OBS"],
                "severity": {"high": "error", "openQuestion": "information", "low": "loud"},
                "docsUrl": "https://example.com/rules/{code}.html",
                "diagnostics": {"scope": "workspace"},
                "colour": "blue"
            }
        }));
        assert_eq!(settings.select, ["RES", "BKP001"]);
        assert_eq!(settings.ignore, ["OBS"]);
        assert_eq!(settings.severity.high, DiagnosticSeverity::ERROR);
        assert_eq!(
            settings.severity.open_question,
            DiagnosticSeverity::INFORMATION
        );
        assert_eq!(settings.severity.low, DiagnosticSeverity::INFORMATION);
        assert_eq!(settings.scope, Scope::Workspace);
        assert_eq!(
            settings.docs_href("RES001"),
            "https://example.com/rules/RES001.html"
        );
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems.iter().any(|p| p.contains("severity.low")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("unknown setting `colour`")),
            "{problems:?}"
        );
    }

    #[test]
    fn defaults_and_base_urls() {
        let (settings, problems) = Settings::from_json(&Value::Null);
        assert!(problems.is_empty());
        assert_eq!(settings, Settings::default());
        assert!(settings
            .docs_href("BKP001")
            .ends_with("/docs/rules/BKP001.md"));
        let (settings, _) = Settings::from_json(&json!({"docsBaseUrl": "https://x.dev/rules/"}));
        assert_eq!(
            settings.docs_href("BKP001"),
            "https://x.dev/rules/BKP001.md"
        );
    }

    #[test]
    fn limits_settings() {
        let (settings, problems) = Settings::from_json(&json!({
            "maxFileSize": "500k", "skipGenerated": false, "skipMinified": "no"
        }));
        assert_eq!(settings.max_file_size, Some(500_000));
        assert_eq!(settings.skip_generated, Some(false));
        assert_eq!(settings.skip_minified, None);
        assert_eq!(
            problems,
            ["`skipMinified` must be true or false, got `\"no\"`"]
        );
        let (settings, problems) = Settings::from_json(&json!({"maxFileSize": 0}));
        assert_eq!(settings.max_file_size, None);
        assert_eq!(problems.len(), 1);
        assert_eq!(
            Settings::from_json(&json!({"maxFileSize": 1234}))
                .0
                .max_file_size,
            Some(1234)
        );
    }
}
